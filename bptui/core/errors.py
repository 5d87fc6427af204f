"""Problems with a user's input, collected and reported one line each.

A scenario file can be wrong in several places at once; a learner fixes them faster
when all of them are listed, so loaders collect problems and raise them together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    ``where`` is the key path (``layers[2].size``, counted from 1) and ``line`` the
    line number when it is known.
    """

    message: str
    where: str = ""
    line: int | None = None

    def format(self, path: str) -> str:
        path = excerpt(path, PATH_EXCERPT)
        place = f"{path}:{self.line}" if self.line else path
        key = f" {excerpt(self.where)}:" if self.where else ""
        return f"bptui: {place}:{key} {excerpt(self.message, MESSAGE_EXCERPT)}"


# How much of a value from a file a message quotes: enough to recognize it, never the
# whole of a megabyte key or a secret cell. A path is allowed more, since a person must
# find that file, and real paths are often longer than a value; a whole message is capped
# too, as a last guard for a value quoted without an excerpt.
EXCERPT = 60
PATH_EXCERPT = 240
MESSAGE_EXCERPT = 2000
ELLIPSIS = "\u2026"
# A path with NUL in it: the system refuses it before it looks for a file (Python raises ValueError).
NUL_IN_PATH = "not a possible file name: it has a NUL character (\\x00), which no file name can have"


def excerpt(text, limit: int = EXCERPT) -> str:
    """``text`` (a key, a value, a cell, a name, a path) as a message may quote it: printable,
    and at most ``limit`` characters, cut in the middle with an ellipsis when longer.

    Only the two ends are looked at, so a value of many megabytes costs no more than a short one.
    """
    text = str(text)
    if len(text) <= limit:
        whole = printable(text)
        if len(whole) <= limit:
            return whole
    room = max(limit - 1, 2)
    head = _fit(text[:room], room - room // 2)
    tail = _fit(text[-room:][::-1], room // 2)  # read from the end
    return "".join(head) + ELLIPSIS + "".join(reversed(tail))


def _fit(chars: str, room: int) -> list[str]:
    """The first of ``chars``, each escaped as ``printable`` does, that fit in ``room``
    characters: an escape (``\\x1b``) is kept whole or left out, never cut."""
    pieces, size = [], 0
    for c in chars:
        piece = c if c.isprintable() else repr(c)[1:-1]
        size += len(piece)
        if size > room:
            break
        pieces.append(piece)
    return pieces


def printable(text: str) -> str:
    """Text with each unprintable character escaped as Python writes it (\\n, \\x85, \\u2028).

    The one way out for text from a file or a path (titles, names, paths, messages that
    quote them), to the terminal or into the app: a scenario file is untrusted, and a
    control code in it must be seen, never obeyed. Unprintable, as ``str.isprintable``
    says, covers every C0 and C1 control (ESC, BEL, the C1 CSI \\x9b), DEL, the
    bidirectional controls (U+202A to U+202E, U+2066 to U+2069: format characters that
    would reorder what a person reads), line and paragraph separators, and spaces other
    than the ASCII one, so a look-alike shows as what it is. One line in, one line out:
    a newline is escaped too, so a value never breaks a message over two lines.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


TAB = 4  # columns a tab stands for in multi-line text


def printable_lines(text: str) -> str:
    """``printable`` for text of many lines (a story, a card, a lesson's goal, a traceback):
    each line escaped as ``printable`` does, kept on lines of its own.

    Only ``\\n`` ends a line (``\\r\\n`` too, as Windows editors write it); a lone ``\\r``,
    which would move the cursor back over what is already drawn, is escaped. A tab
    becomes spaces: the app lays text out by columns, which a raw tab would upset.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(printable(line.expandtabs(TAB) if "\t" in line else line) for line in lines)


class InputError(Exception):
    """Bad input from the user: exit code 2, one line per problem, no traceback."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [p.format(self.path) for p in self.problems]


def input_error(path: str, message: str, where: str = "", line: int | None = None) -> InputError:
    return InputError(path, [Problem(message, where, line)])
