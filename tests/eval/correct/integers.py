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
        return high
    return value


def digit_sum(n: int) -> int:
    """Return the sum of the decimal digits of n, ignoring its sign.

    >>> digit_sum(1234)
    10
    >>> digit_sum(9)
    9
    >>> digit_sum(505)
    10
    """
    n = abs(n)
    total = 0
    while n > 0:
        total += n % 10
        n //= 10
    return total


def is_prime(n: int) -> bool:
    """Check whether n is a prime number.

    >>> is_prime(2)
    True
    >>> is_prime(17)
    True
    >>> is_prime(21)
    False
    """
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


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
        while n >= value:
            out += numeral
            n -= value
    return out


def percent_of(part: int, whole: int) -> int:
    """Return part as a whole-number percentage of whole, rounded down; 0 when whole is 0.

    >>> percent_of(1, 4)
    25
    >>> percent_of(2, 3)
    66
    >>> percent_of(5, 5)
    100
    """
    if whole == 0:
        return 0
    return part * 100 // whole
