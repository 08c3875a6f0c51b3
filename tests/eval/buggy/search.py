"""Searching helpers: binary search, substring positions, missing numbers, ranks and argmax."""


def binary_search(items: list[int], target: int) -> int:
    """Return the index of target in the sorted list items, or -1 if it is absent.

    >>> binary_search([1, 3, 5, 7, 9], 7)
    3
    >>> binary_search([1, 3, 5, 7, 9], 4)
    -1
    >>> binary_search([2, 4, 6], 2)
    0
    """
    lo, hi = 0, len(items) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] == target:
            return mid
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def find_all(text: str, sub: str) -> list[int]:
    """Return the start index of every (possibly overlapping) occurrence of sub in text.

    >>> find_all("abcabc", "bc")
    [1, 4]
    >>> find_all("aaaa", "aa")
    [0, 1, 2]
    >>> find_all("abc", "z")
    []
    """
    if not sub:
        return []
    out = []
    start = text.find(sub)
    while start != -1:
        out.append(start)
        start = text.find(sub, start + len(sub))
    return out


def first_missing_positive(nums: list[int]) -> int:
    """Return the smallest positive integer that does not occur in nums.

    >>> first_missing_positive([3, 4, -1, 1])
    2
    >>> first_missing_positive([1, 2, 0])
    3
    >>> first_missing_positive([7, 8])
    1
    """
    present = set(nums)
    n = 0
    while n in present:
        n += 1
    return n
