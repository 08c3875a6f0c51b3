"""Text layout helpers: word wrapping, centering, word frequencies, comments and acronyms."""


def wrap_words(text: str, width: int) -> list[str]:
    """Greedily wrap words into lines of at most width characters; longer words get their own line.

    >>> wrap_words("the quick brown fox", 10)
    ['the quick', 'brown fox']
    >>> wrap_words("a b c", 3)
    ['a b', 'c']
    >>> wrap_words("", 5)
    []
    """
    lines = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) >= width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def center_text(text: str, width: int, fill: str) -> str:
    """Center text in width characters using fill; the extra fill character goes on the right.

    >>> center_text("ab", 6, "*")
    '**ab**'
    >>> center_text("abc", 6, "-")
    '-abc--'
    >>> center_text("long", 2, ".")
    'long'
    """
    if len(text) >= width:
        return text
    total = width - len(text)
    left = total - total // 2
    right = total - left
    return fill * left + text + fill * right
