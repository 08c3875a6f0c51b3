"""Dictionary helpers: inverting, merging, picking, grouping and nested lookup."""


def invert_multi(mapping: dict) -> dict:
    """Map each value to the sorted list of keys that had that value.

    >>> invert_multi({"a": 1, "b": 2, "c": 1})
    {1: ['a', 'c'], 2: ['b']}
    >>> invert_multi({})
    {}
    """
    out = {}
    for key, value in mapping.items():
        out.setdefault(value, []).append(key)
    return out


def pick(mapping: dict, keys: list) -> dict:
    """Return a new dict with only the listed keys that exist, in the order of keys.

    >>> pick({"a": 1, "b": 2, "c": 3}, ["c", "a"])
    {'c': 3, 'a': 1}
    >>> pick({"a": 1}, ["a", "z"])
    {'a': 1}
    """
    out = {}
    for key in keys:
        if mapping.get(key):
            out[key] = mapping[key]
    return out


def get_path(data: dict, path: str, default: object = None) -> object:
    """Look up a dotted path such as "a.b.c" in nested dicts, returning default if absent.

    >>> get_path({"a": {"b": {"c": 1}}}, "a.b.c")
    1
    >>> get_path({"a": {"b": 2}}, "a.x", "none")
    'none'
    >>> get_path({"a": {"b": 2}}, "a")
    {'b': 2}
    """
    current = data
    for key in path.split("."):
        if key not in current:
            return default
        current = current[key]
    return current
