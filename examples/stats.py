"""Small statistics helpers, with docstring examples that plumb runs in its sandbox."""


def mean(values):
    """Arithmetic mean of a non-empty list.

    >>> mean([1, 2, 3, 4])
    2.5
    >>> mean([])
    Traceback (most recent call last):
        ...
    ValueError: mean of an empty list
    """
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(values)


def median(values):
    """Middle value of a list (the mean of the two middle values for even lengths).

    >>> median([3, 1, 2])
    2
    >>> median([4, 1, 3, 2])
    2.5
    """
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle] + ordered[middle + 1]) / 2


def mode(values):
    """Most common value; the smallest one on ties.

    >>> mode([1, 2, 2, 3, 3])
    2
    >>> mode(["b", "a", "a"]) == "a"
    """
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)


def variance(values):
    # No examples: plumb reports this function as unverified.
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)
