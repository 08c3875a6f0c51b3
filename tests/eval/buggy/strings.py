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
        if ch.isalnum():
            word += ch
        elif word:
            parts.append(word)
            word = ""
    return "-".join(parts)


def title_words(text: str) -> str:
    """Uppercase the first letter of every space-separated word, keeping the rest as is.

    >>> title_words("hello world")
    'Hello World'
    >>> title_words("the iPhone case")
    'The IPhone Case'
    """
    out = []
    prev = ""
    for ch in text:
        out.append(ch.upper() if prev == " " else ch)
        prev = ch
    return "".join(out)


def truncate(text: str, width: int, suffix: str = "...") -> str:
    """Shorten text to at most width characters, ending with suffix when cut.

    >>> truncate("hello world", 8)
    'hello...'
    >>> truncate("short", 10)
    'short'
    >>> truncate("exactly", 7)
    'exactly'
    """
    if len(text) < width:
        return text
    if width < len(suffix):
        return suffix[:max(width, 0)]
    return text[:width - len(suffix)] + suffix


def is_palindrome(text: str) -> bool:
    """Check whether text reads the same backwards, ignoring case and punctuation.

    >>> is_palindrome("A man, a plan, a canal: Panama")
    True
    >>> is_palindrome("hello")
    False
    >>> is_palindrome("No 'x' in Nixon")
    True
    """
    chars = [c for c in text if c.isalnum()]
    i, j = 0, len(chars) - 1
    while i < j:
        if chars[i] != chars[j]:
            return False
        i += 1
        j -= 1
    return True
