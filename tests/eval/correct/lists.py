"""List helpers: chunking, flattening, de-duplication, rotation and interleaving."""


def chunk(items: list, size: int) -> list[list]:
    """Split items into consecutive chunks of the given size; the last may be shorter.

    >>> chunk([1, 2, 3, 4, 5], 2)
    [[1, 2], [3, 4], [5]]
    >>> chunk([1, 2, 3], 3)
    [[1, 2, 3]]
    >>> chunk([], 4)
    []
    """
    if size <= 0:
        raise ValueError("size must be positive")
    out = []
    for i in range(0, len(items), size):
        out.append(items[i:i + size])
    return out


def flatten(nested: list) -> list:
    """Flatten arbitrarily nested lists into one flat list, keeping order.

    >>> flatten([1, [2, 3], [4, [5]]])
    [1, 2, 3, 4, 5]
    >>> flatten([[], [1]])
    [1]
    """
    out = []
    for item in nested:
        if isinstance(item, list):
            out.extend(flatten(item))
        else:
            out.append(item)
    return out


def unique(items: list) -> list:
    """Remove duplicates, keeping the first occurrence of each item in order.

    >>> unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    >>> unique(["a", "b", "a"])
    ['a', 'b']
    """
    seen = []
    out = []
    for item in items:
        if item not in seen:
            seen.append(item)
            out.append(item)
    return out


def rotate(items: list, k: int) -> list:
    """Rotate items left by k positions; k may exceed the length or be negative.

    >>> rotate([1, 2, 3, 4, 5], 2)
    [3, 4, 5, 1, 2]
    >>> rotate([1, 2, 3], 4)
    [2, 3, 1]
    >>> rotate([1, 2, 3], -1)
    [3, 1, 2]
    """
    n = len(items)
    if n == 0:
        return []
    k %= n
    return items[k:] + items[:k]


def interleave(a: list, b: list) -> list:
    """Alternate elements of a and b, appending the leftovers of the longer list.

    >>> interleave([1, 2, 3], ["a", "b", "c"])
    [1, 'a', 2, 'b', 3, 'c']
    >>> interleave([1, 2, 3, 4], [9])
    [1, 9, 2, 3, 4]
    """
    out = []
    for x, y in zip(a, b):
        out.append(x)
        out.append(y)
    out.extend(a[len(b):])
    out.extend(b[len(a):])
    return out
