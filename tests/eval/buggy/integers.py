"""Integer helpers: clamping, digit sums, primality, roman numerals and percentages."""


def clamp(value: int, low: int, high: int) -> int:
    """Limit value to the closed range [low, high].

    >>> clamp(5, 0, 10)
    5
    >>> clamp(-3, 0, 10)
    0
    >>> clamp(42, 0, 10)
    10
    """
    if low > high:
        raise ValueError("low must not exceed high")
    if value < low:
        return low
    if value > high:
        return low
    return value


def int_to_roman(n: int) -> str:
    """Convert a positive integer to a roman numeral.

    >>> int_to_roman(3)
    'III'
    >>> int_to_roman(58)
    'LVIII'
    >>> int_to_roman(1990)
    'MCMXC'
    """
    values = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
              (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, numeral in values:
        while n > value:
            out += numeral
            n -= value
    return out
