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
        if merged and start <= merged[-1][1]:
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
    return a_start <= b_end and b_start <= a_end


def total_covered(intervals: list[tuple[int, int]]) -> int:
    """Return the total length covered by the union of half-open intervals.

    >>> total_covered([(0, 5), (3, 8)])
    8
    >>> total_covered([(0, 2), (4, 6)])
    4
    >>> total_covered([(1, 10), (2, 3)])
    9
    """
    total = 0
    current_end = None
    for start, end in sorted(intervals):
        if current_end is None or start >= current_end:
            total += end - start
            current_end = end
        elif end > current_end:
            total += end - current_end
            current_end = end
    return total


def intersect(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    """Return the intersection of two closed intervals, or None if they are disjoint.

    >>> intersect((1, 5), (3, 9))
    (3, 5)
    >>> intersect((0, 10), (2, 3))
    (2, 3)
    >>> intersect((1, 2), (5, 6)) is None
    True
    """
    start = max(a[0], b[0])
    end = min(a[1], b[1])
    if start > end:
        return None
    return (start, end)


def gaps(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Return the parts of [lo, hi) not covered by sorted, disjoint half-open intervals.

    >>> gaps([(2, 4), (6, 7)], 0, 10)
    [(0, 2), (4, 6), (7, 10)]
    >>> gaps([(0, 5)], 0, 5)
    []
    """
    out = []
    cursor = lo
    for start, end in intervals:
        if start > cursor:
            out.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < hi:
        out.append((cursor, hi))
    return out
