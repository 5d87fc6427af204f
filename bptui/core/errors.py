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
        place = f"{path}:{self.line}" if self.line else path
        key = f" {self.where}:" if self.where else ""
        return printable(f"bptui: {place}:{key} {self.message}")


def printable(text: str) -> str:
    """Text with each unprintable character escaped as Python writes it (\\n, \\x85, \\u2028).

    Keys, values and file names are echoed in messages; one with a newline in it must
    not break a problem over two lines, nor a terminal control code reach the terminal.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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
