"""Parsers for small textual formats: int lists, key=value pairs, ranges, booleans, camelCase."""


def parse_ranges(spec: str) -> list[int]:
    """Expand a spec like "1-3,5" into the list of integers it names (ranges inclusive).

    >>> parse_ranges("1-3,5")
    [1, 2, 3, 5]
    >>> parse_ranges("10-12")
    [10, 11, 12]
    >>> parse_ranges("4")
    [4]
    """
    out = []
    for part in spec.split(","):
        if "-" in part:
            start, end = part.split("-")
            out.extend(range(int(start), int(end)))
        else:
            out.append(int(part))
    return out


def parse_bool(text: str) -> bool:
    """Parse yes/no style text into a bool, case-insensitively; raise ValueError otherwise.

    >>> parse_bool("Yes")
    True
    >>> parse_bool(" off ")
    False
    >>> parse_bool("1")
    True
    """
    value = text.strip()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def split_camel(name: str) -> list[str]:
    """Split a camelCase or PascalCase identifier into its words.

    >>> split_camel("camelCaseString")
    ['camel', 'Case', 'String']
    >>> split_camel("Single")
    ['Single']
    """
    words = []
    current = ""
    for ch in name:
        if ch.isupper():
            words.append(current)
            current = ch
        else:
            current += ch
    if current:
        words.append(current)
    return words
