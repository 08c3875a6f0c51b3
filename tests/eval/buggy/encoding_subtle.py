"""Encoders and decoders: run-length encoding, integer bases and the Caesar cipher."""


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
            digits = ch
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
    sign = "-" if n < 0 else ""
    n = abs(n)
    out = ""
    while n > 0:
        out = digits[n % base] + out
        n //= base
    return sign + out


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
            out.append(chr((ord(ch) - ord("A") + shift) + ord("A")))
        else:
            out.append(ch)
    return "".join(out)
