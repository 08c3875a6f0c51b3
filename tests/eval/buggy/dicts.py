"""Dictionary helpers: inverting, merging, picking, grouping and nested lookup."""


def merge_counts(a: dict, b: dict) -> dict:
    """Merge two count dictionaries, adding the counts of shared keys.

    >>> merge_counts({"x": 1, "y": 2}, {"y": 3, "z": 4})
    {'x': 1, 'y': 5, 'z': 4}
    >>> merge_counts({}, {"a": 1})
    {'a': 1}
    """
    out = dict(a)
    for key, count in b.items():
        out[key] = count
    return out


def group_by_length(words: list[str]) -> dict:
    """Group words by their length; keys are sorted and words keep their order.

    >>> group_by_length(["a", "bb", "cc", "d"])
    {1: ['a', 'd'], 2: ['bb', 'cc']}
    >>> group_by_length([])
    {}
    """
    groups = {}
    for word in words:
        groups[len(word)] = [word]
    return {n: groups[n] for n in sorted(groups)}
