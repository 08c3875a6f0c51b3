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
    for i in range(0, len(items) - 1, size):
        out.append(items[i:i + size])
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
        if item not in seen[-1:]:
            seen.append(item)
            out.append(item)
    return out
