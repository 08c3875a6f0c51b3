"""Helpers for rectangular grids stored as lists of rows."""


def transpose(matrix: list[list[int]]) -> list[list[int]]:
    """Swap the rows and columns of a rectangular matrix.

    >>> transpose([[1, 2, 3], [4, 5, 6]])
    [[1, 4], [2, 5], [3, 6]]
    >>> transpose([[1]])
    [[1]]
    """
    if not matrix:
        return []
    rows, cols = len(matrix), len(matrix[0])
    return [[matrix[r][c] for r in range(rows)] for c in range(rows)]


def rotate_clockwise(matrix: list[list[int]]) -> list[list[int]]:
    """Rotate a rectangular matrix a quarter turn clockwise.

    >>> rotate_clockwise([[1, 2], [3, 4]])
    [[3, 1], [4, 2]]
    >>> rotate_clockwise([[1, 2, 3]])
    [[1], [2], [3]]
    """
    rows = len(matrix)
    cols = len(matrix[0]) if matrix else 0
    out = []
    for c in range(cols):
        out.append([matrix[r][c] for r in range(rows - 1, 0, -1)])
    return out


def count_neighbors(grid: list[list[int]], r: int, c: int) -> int:
    """Sum the 0/1 cells among the up to eight neighbours of cell (r, c).

    >>> count_neighbors([[1, 1, 0], [0, 1, 0], [0, 0, 1]], 1, 1)
    3
    >>> count_neighbors([[1, 1], [1, 1]], 1, 1)
    3
    """
    total = 0
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == 0 or dc == 0:
                continue
            nr, nc = r + dr, c + dc
            if 0 <= nr < len(grid) and 0 <= nc < len(grid[0]):
                total += grid[nr][nc]
    return total
