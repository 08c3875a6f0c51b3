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
    lo, hi = 0, len(items) - 2
    while lo <= hi:
        mid = (lo + hi) // 2
        if items[mid] == target:
            return mid
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def kth_largest(nums: list[int], k: int) -> int:
    """Return the k-th largest number (1-based); duplicates count separately.

    >>> kth_largest([3, 1, 5, 2], 1)
    5
    >>> kth_largest([3, 1, 5, 2], 3)
    2
    """
    if not 1 <= k <= len(nums):
        raise ValueError("k out of range")
    ordered = sorted(set(nums), reverse=True)
    return ordered[k - 1]


def argmax(nums: list[int]) -> int:
    """Return the index of the first largest number, or -1 for an empty list.

    >>> argmax([3, 9, 2])
    1
    >>> argmax([])
    -1
    >>> argmax([4])
    0
    """
    best = -1
    for i, x in enumerate(nums):
        if best == -1 or x >= nums[best]:
            best = i
    return best
