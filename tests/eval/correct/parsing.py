"""Parsers for small textual formats: int lists, key=value pairs, ranges, booleans, camelCase."""


def parse_int_list(text: str) -> list[int]:
    """Parse comma-separated integers, ignoring whitespace and empty fields.

    >>> parse_int_list("1, 2,3")
    [1, 2, 3]
    >>> parse_int_list("4,,5, ")
    [4, 5]
    >>> parse_int_list("")
    []
    """
    out = []
    for part in text.split(","):
        part = part.strip()
        if part:
            out.append(int(part))
    return out


def parse_kv(text: str) -> dict[str, str]:
    """Parse "key=value" pairs separated by semicolons, splitting each at its first "="; later keys win.

    >>> parse_kv("a=1; b = two")
    {'a': '1', 'b': 'two'}
    >>> parse_kv("x=1;;x=2;")
    {'x': '2'}
    """
    out = {}
    for pair in text.split(";"):
        if not pair.strip():
            continue
        key, _, value = pair.partition("=")
        out[key.strip()] = value.strip()
    return out


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
            out.extend(range(int(start), int(end) + 1))
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
    value = text.strip().lower()
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
        if ch.isupper() and current:
            words.append(current)
            current = ch
        else:
            current += ch
    if current:
        words.append(current)
    return words
