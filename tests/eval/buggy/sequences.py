"""Sequence helpers: sliding windows, differences, running totals, runs and splitting."""


def sliding_window(items: list, n: int) -> list[list]:
    """Return every contiguous window of n items, in order.

    >>> sliding_window([1, 2, 3, 4], 2)
    [[1, 2], [2, 3], [3, 4]]
    >>> sliding_window([1, 2, 3], 3)
    [[1, 2, 3]]
    >>> sliding_window([1, 2], 5)
    []
    """
    if n <= 0:
        raise ValueError("n must be positive")
    out = []
    for i in range(len(items) - n):
        out.append(items[i:i + n])
    return out


def pairwise_diffs(nums: list[int]) -> list[int]:
    """Return the differences between each number and the one before it.

    >>> pairwise_diffs([1, 4, 9, 16])
    [3, 5, 7]
    >>> pairwise_diffs([5, 5])
    [0]
    """
    diffs = []
    for i in range(1, len(nums)):
        diffs.append(nums[i - 1] - nums[i])
    return diffs


def longest_run(items: list) -> int:
    """Return the length of the longest run of equal adjacent items.

    >>> longest_run([1, 1, 2, 2, 2, 3])
    3
    >>> longest_run(["a", "b"])
    1
    >>> longest_run([7])
    1
    """
    best = 0
    current = 0
    for i, x in enumerate(items):
        if i > 0 and x == items[i - 1]:
            current += 1
        else:
            current = 0
        best = max(best, current)
    return best
