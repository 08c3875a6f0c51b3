"""String helpers: slugs, casing, truncation, prefixes and palindromes."""


def slugify(text: str) -> str:
    """Convert text to a lowercase URL slug whose words are joined by hyphens.

    >>> slugify("Hello World")
    'hello-world'
    >>> slugify("  Rust & Python!  ")
    'rust-python'
    >>> slugify("already-a-slug")
    'already-a-slug'
    """
    parts = []
    word = ""
    for ch in text.lower():
        if ch.isalpha():
            word += ch
        elif word:
            parts.append(word)
            word = ""
    if word:
        parts.append(word)
    return "-".join(parts)


def truncate(text: str, width: int, suffix: str = "...") -> str:
    """Shorten text to at most width characters, ending with suffix when cut.

    >>> truncate("hello world", 8)
    'hello...'
    >>> truncate("short", 10)
    'short'
    >>> truncate("exactly", 7)
    'exactly'
    """
    if len(text) <= width:
        return text
    return text[:width - len(suffix)] + suffix
