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
        if len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def word_frequencies(text: str) -> list[tuple[str, int]]:
    """Count lowercase words, most frequent first and ties in alphabetical order.

    >>> word_frequencies("b a b c a b")
    [('b', 3), ('a', 2), ('c', 1)]
    >>> word_frequencies("The the THE")
    [('the', 3)]
    """
    counts = {}
    for word in text.lower().split():
        counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])


def strip_comments(line: str) -> str:
    """Remove a trailing # comment that is not inside single or double quotes.

    >>> strip_comments("x = 1  # set x")
    'x = 1'
    >>> strip_comments("s = '#not'")
    "s = '#not'"
    >>> strip_comments("# only")
    ''
    """
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch == "'":
            quote = ch
        elif ch == "#":
            return line[:i].rstrip()
    return line.rstrip()
