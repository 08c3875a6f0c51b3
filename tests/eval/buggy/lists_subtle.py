"""List helpers: chunking, flattening, de-duplication, rotation and interleaving."""


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
    return out
