"""Sequence helpers: sliding windows, differences, running totals, runs and splitting."""


def running_total(nums: list[int]) -> list[int]:
    """Return the cumulative sums of nums.

    >>> running_total([1, 2, 3, 4])
    [1, 3, 6, 10]
    >>> running_total([5])
    [5]
    """
    totals = [nums[0]]
    for x in nums[1:]:
        totals.append(totals[-1] + x)
    return totals


def longest_run(items: list) -> int:
    """Return the length of the longest run of equal adjacent items.

    >>> longest_run([1, 1, 2, 2, 2, 3])
    3
    >>> longest_run(["a", "b"])
    1
    >>> longest_run([7])
    1
    """
    best = 1
    current = 0
    for i, x in enumerate(items):
        if i > 0 and x == items[i - 1]:
            current += 1
        else:
            current = 1
        best = max(best, current)
    return best
