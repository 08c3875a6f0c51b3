"""Encoders and decoders: run-length encoding, integer bases and the Caesar cipher."""


def rle_encode(text: str) -> str:
    """Run-length encode text as count-then-character pairs.

    >>> rle_encode("aaabcc")
    '3a1b2c'
    >>> rle_encode("x")
    '1x'
    """
    if not text:
        return ""
    out = []
    current, count = text[0], 1
    for ch in text[1:]:
        if ch == current:
            count += 1
        else:
            out.append(f"{count}{current}")
            current, count = ch, 1
    out.append(f"{count}{current}")
    return "".join(out)


def rle_decode(encoded: str) -> str:
    """Decode count-then-character pairs produced by rle_encode; counts may have several digits.

    >>> rle_decode("3a1b2c")
    'aaabcc'
    >>> rle_decode("2x")
    'xx'
    """
    out = []
    digits = ""
    for ch in encoded:
        if ch.isdigit():
            digits += ch
        else:
            out.append(ch * int(digits))
            digits = ""
    return "".join(out)


def to_base(n: int, base: int) -> str:
    """Write the integer n in the given base (2 to 16) using lowercase digits.

    >>> to_base(10, 2)
    '1010'
    >>> to_base(255, 16)
    'ff'
    >>> to_base(-8, 8)
    '-10'
    """
    digits = "0123456789abcdef"
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    out = ""
    while n > 0:
        out = digits[n % base] + out
        n //= base
    return sign + out


def from_base(text: str, base: int) -> int:
    """Parse a non-negative integer written in the given base (2 to 16), case-insensitively.

    >>> from_base("1010", 2)
    10
    >>> from_base("FF", 16)
    255
    >>> from_base("777", 8)
    511
    """
    digits = "0123456789abcdef"
    value = 0
    for ch in text.lower():
        d = digits.index(ch)
        if d >= base:
            raise ValueError(f"digit {ch!r} out of range for base {base}")
        value = value * base + d
    return value


def caesar(text: str, shift: int) -> str:
    """Shift ASCII letters by shift places, wrapping around and keeping case; other characters stay.

    >>> caesar("abc", 1)
    'bcd'
    >>> caesar("Hello, World!", 3)
    'Khoor, Zruog!'
    """
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - ord("a") + shift) % 26 + ord("a")))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - ord("A") + shift) % 26 + ord("A")))
        else:
            out.append(ch)
    return "".join(out)
