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
    digits = str(n)
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + ",".join(groups)


def ordinal(n: int) -> str:
    """Return n with its English ordinal suffix (st, nd, rd, th).

    >>> ordinal(1)
    '1st'
    >>> ordinal(22)
    '22nd'
    >>> ordinal(13)
    '13th'
    >>> ordinal(104)
    '104th'
    """
    if 10 <= n <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


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
    if count <= 1:
        return f"{count} {word}"
    if word.endswith(("s", "x", "ch", "sh")):
        return f"{count} {word}es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return f"{count} {word[:-1]}ies"
    return f"{count} {word}s"


def format_bytes(n: int) -> str:
    """Format a byte count using binary units (B, KiB, MiB, GiB) with one decimal above bytes.

    >>> format_bytes(512)
    '512 B'
    >>> format_bytes(1536)
    '1.5 KiB'
    >>> format_bytes(3145728)
    '3.0 MiB'
    """
    units = ["B", "KiB", "MiB", "GiB"]
    value = n
    unit = 0
    while value > 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{n} B"
    return f"{value:.1f} {units[unit]}"
