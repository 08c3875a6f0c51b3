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
        if part.isdigit():
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
        key, _, value = pair.rpartition("=")
        out[key.strip()] = value.strip()
    return out


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
    words.append(current)
    return words
