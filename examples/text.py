"""String helpers."""


def slugify(title):
    """Lower-case words joined by hyphens.

    >>> slugify("Hello, World!")
    'hello-world'
    >>> slugify("  many   spaces ")
    'many-spaces'
    """
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)


def initials(name):
    """First letter of every word, upper-cased.

    >>> initials("ada lovelace")
    'AL'
    >>> initials("grace brewster murray hopper")
    'GBMH'
    >>> initials("alan  turing")
    'AT'
    """
    return "".join(word[0].upper() for word in name.split(" "))


class Counter:
    def __init__(self):
        self.n = 0

    def bump(self, by=1):
        """Adds `by` and returns the new count.

        >>> c = Counter()
        >>> c.bump()
        1
        >>> c.bump(2)
        3
        """
        self.n += by
        return self.n
