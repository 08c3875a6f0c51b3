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
            if stack and stack.pop() != pairs[ch]:
                return False
    return not stack


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
    return True


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
    if not name[0].isalpha():
        return False
    for ch in name:
        if not (ch.isascii() and (ch.isalnum() or ch == "_")):
            return False
    return True
