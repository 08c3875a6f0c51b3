"""Validators: brackets, sortedness, IPv4 addresses, Luhn checksums and identifiers."""


def balanced(text: str) -> bool:
    """Check that (), [] and {} in text are properly nested and closed; other characters are ignored.

    >>> balanced("([]{})")
    True
    >>> balanced("([)]")
    False
    >>> balanced("((")
    False
    """
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack


def is_sorted(items: list, strict: bool = False) -> bool:
    """Check that items are in non-decreasing order, or increasing order when strict.

    >>> is_sorted([1, 2, 2, 5])
    True
    >>> is_sorted([1, 2, 2, 5], strict=True)
    False
    >>> is_sorted([3, 1, 2])
    False
    """
    for i in range(1, len(items)):
        if strict and items[i - 1] >= items[i]:
            return False
        if not strict and items[i - 1] > items[i]:
            return False
    return True


def is_valid_ipv4(text: str) -> bool:
    """Check for a dotted-quad IPv4 address: four decimal parts 0-255 without leading zeros.

    >>> is_valid_ipv4("192.168.0.1")
    True
    >>> is_valid_ipv4("256.1.1.1")
    False
    >>> is_valid_ipv4("1.2.3")
    False
    """
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part.isdigit() or int(part) > 255:
            return False
        if len(part) > 1 and part[0] == "0":
            return False
    return True


def luhn_check(number: str) -> bool:
    """Validate a card number with the Luhn checksum; spaces are ignored and empty input is invalid.

    >>> luhn_check("4539 1488 0343 6467")
    True
    >>> luhn_check("8273 1232 7352 0569")
    False
    >>> luhn_check("79927398713")
    True
    """
    digits = [int(ch) for ch in number if ch.isdigit()]
    if not digits:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_identifier(name: str) -> bool:
    """Check for an ASCII identifier: letters, digits and underscores, not starting with a digit.

    >>> is_identifier("snake_case")
    True
    >>> is_identifier("2fast")
    False
    >>> is_identifier("has-dash")
    False
    """
    if not name:
        return False
    if name[0].isdigit():
        return False
    for ch in name:
        if not (ch.isascii() and (ch.isalnum() or ch == "_")):
            return False
    return True
