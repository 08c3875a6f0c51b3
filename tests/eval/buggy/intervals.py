"""Interval helpers over (start, end) pairs: merging, overlap, coverage, intersection, gaps."""


def merge_intervals(intervals: list[list[int]]) -> list[list[int]]:
    """Merge overlapping or touching closed intervals, returning them sorted.

    >>> merge_intervals([[1, 3], [2, 6], [8, 10]])
    [[1, 6], [8, 10]]
    >>> merge_intervals([[5, 7], [1, 2]])
    [[1, 2], [5, 7]]
    >>> merge_intervals([[1, 4], [4, 5]])
    [[1, 5]]
    """
    merged = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Check whether two closed intervals share at least one point.

    >>> overlaps((1, 5), (4, 8))
    True
    >>> overlaps((1, 2), (3, 4))
    False
    >>> overlaps((1, 3), (3, 6))
    True
    """
    a_start, a_end = a
    b_start, b_end = b
    return a_start < b_end and b_start < a_end
