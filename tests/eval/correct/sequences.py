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
    for i in range(len(items) - n + 1):
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
        diffs.append(nums[i] - nums[i - 1])
    return diffs


def running_total(nums: list[int]) -> list[int]:
    """Return the cumulative sums of nums.

    >>> running_total([1, 2, 3, 4])
    [1, 3, 6, 10]
    >>> running_total([5])
    [5]
    """
    if not nums:
        return []
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
    best = 0
    current = 0
    for i, x in enumerate(items):
        if i > 0 and x == items[i - 1]:
            current += 1
        else:
            current = 1
        best = max(best, current)
    return best


def split_on(items: list, sep: object) -> list[list]:
    """Split a list on every occurrence of sep, like str.split for lists.

    >>> split_on([1, 0, 2, 3, 0, 4], 0)
    [[1], [2, 3], [4]]
    >>> split_on([1, 2], 0)
    [[1, 2]]
    >>> split_on([0], 0)
    [[], []]
    """
    groups = [[]]
    for x in items:
        if x == sep:
            groups.append([])
        else:
            groups[-1].append(x)
    return groups
