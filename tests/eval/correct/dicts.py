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
    for value in out:
        out[value].sort()
    return out


def merge_counts(a: dict, b: dict) -> dict:
    """Merge two count dictionaries, adding the counts of shared keys.

    >>> merge_counts({"x": 1, "y": 2}, {"y": 3, "z": 4})
    {'x': 1, 'y': 5, 'z': 4}
    >>> merge_counts({}, {"a": 1})
    {'a': 1}
    """
    out = dict(a)
    for key, count in b.items():
        out[key] = out.get(key, 0) + count
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
        if key in mapping:
            out[key] = mapping[key]
    return out


def group_by_length(words: list[str]) -> dict:
    """Group words by their length; keys are sorted and words keep their order.

    >>> group_by_length(["a", "bb", "cc", "d"])
    {1: ['a', 'd'], 2: ['bb', 'cc']}
    >>> group_by_length([])
    {}
    """
    groups = {}
    for word in words:
        groups.setdefault(len(word), []).append(word)
    return {n: groups[n] for n in sorted(groups)}


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
        if not isinstance(current, dict) or key not in current:
            return default
        current = current[key]
    return current
