"""Integer helpers: clamping, digit sums, primality, roman numerals and percentages."""


def digit_sum(n: int) -> int:
    """Return the sum of the decimal digits of n, ignoring its sign.

    >>> digit_sum(1234)
    10
    >>> digit_sum(9)
    9
    >>> digit_sum(505)
    10
    """
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
    while i * i < n:
        if n % i == 0:
            return False
        i += 1
    return True
