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
    return [[matrix[r][c] for r in range(rows)] for c in range(cols)]


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
        out.append([matrix[r][c] for r in range(rows - 1, -1, -1)])
    return out


def spiral_order(matrix: list[list[int]]) -> list[int]:
    """List the elements of a rectangular matrix in clockwise spiral order from the top-left.

    >>> spiral_order([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    [1, 2, 3, 6, 9, 8, 7, 4, 5]
    >>> spiral_order([[1, 2], [3, 4]])
    [1, 2, 4, 3]
    """
    out = []
    top, bottom = 0, len(matrix) - 1
    left, right = 0, (len(matrix[0]) - 1) if matrix else -1
    while top <= bottom and left <= right:
        for c in range(left, right + 1):
            out.append(matrix[top][c])
        for r in range(top + 1, bottom + 1):
            out.append(matrix[r][right])
        if top < bottom and left < right:
            for c in range(right - 1, left - 1, -1):
                out.append(matrix[bottom][c])
            for r in range(bottom - 1, top, -1):
                out.append(matrix[r][left])
        top, bottom, left, right = top + 1, bottom - 1, left + 1, right - 1
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
            if dr == 0 and dc == 0:
                continue
            nr, nc = r + dr, c + dc
            if 0 <= nr < len(grid) and 0 <= nc < len(grid[0]):
                total += grid[nr][nc]
    return total


def diagonal_sum(matrix: list[list[int]]) -> int:
    """Sum both diagonals of a square matrix, counting a shared centre cell once.

    >>> diagonal_sum([[1, 2], [3, 4]])
    10
    >>> diagonal_sum([[1, 0, 0, 2], [0, 1, 2, 0], [0, 2, 1, 0], [2, 0, 0, 1]])
    12
    """
    n = len(matrix)
    total = 0
    for i in range(n):
        total += matrix[i][i]
        if i != n - 1 - i:
            total += matrix[i][n - 1 - i]
    return total
