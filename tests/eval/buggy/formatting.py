"""Human-readable formatting: thousands separators, ordinals, plurals, durations and sizes."""


def format_thousands(n: int) -> str:
    """Format an integer with commas between groups of three digits.

    >>> format_thousands(1234567)
    '1,234,567'
    >>> format_thousands(999)
    '999'
    >>> format_thousands(1000)
    '1,000'
    """
    sign = "-" if n < 0 else ""
    digits = str(abs(n))
    groups = []
    while len(digits) >= 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + ",".join(groups)


def pluralize(word: str, count: int) -> str:
    """Prefix word with count, using a simple English plural unless count is exactly 1.

    >>> pluralize("cat", 1)
    '1 cat'
    >>> pluralize("box", 3)
    '3 boxes'
    >>> pluralize("city", 2)
    '2 cities'
    >>> pluralize("key", 2)
    '2 keys'
    """
    if count == 1:
        return f"{count} {word}"
    if word.endswith(("s", "x", "ch", "sh")):
        return f"{count} {word}es"
    if word.endswith("y"):
        return f"{count} {word[:-1]}ies"
    return f"{count} {word}s"
