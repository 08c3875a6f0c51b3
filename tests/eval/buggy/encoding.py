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
        out = out + digits[n % base]
        n //= base
    return sign + out
