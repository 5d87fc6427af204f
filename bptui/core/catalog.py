"""The scenarios that ship with bptui, found by name (``xor``) or by path."""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from pathlib import Path

from bptui.core.errors import NUL_IN_PATH, InputError, input_error
from bptui.core.scenario import load_scenario

# Installed, they are the package bptui.scenarios; in a source checkout they sit at the
# top of the repository, beside the package.
_PLACES = (
    Path(__file__).resolve().parent.parent / "scenarios",
    Path(__file__).resolve().parent.parent.parent / "scenarios",
)


def builtin_dir() -> Path:
    for place in _PLACES:
        if place.is_dir():
            return place
    raise FileNotFoundError("the built-in scenarios are missing from this installation")


# The order in which the gallery and `bptui list` offer the built-in scenarios: a learning
# path. The stories first, where blame has a meaning anyone knows; then the experiments of
# the 1986 paper and the PDP handbook; then real data and exercises. A name may be a
# pattern (lesson-*): new lessons join their group, by name, without an edit here.
LEARNING_PATH: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("stories", ("biscuit-factory", "biscuit-factory-preservative", "biscuit-factory-baking", "tutoring-chain",
                 "xor", "xor-2-1-1")),
    ("the 1986 paper's experiments", ("encoder-4-2-4", "encoder-8-3-8", "negation", "parity-4", "symmetry",
                                      "t-c-problem", "family-trees-1986", "family-trees")),
    ("networks through time", ("fig5-remember", "rotate-3bit", "shift-register", "sequence-completion")),
    ("digits and lessons", ("digits", "lesson-*")),
)
# The heading of the files that are not on the path (a scenario added to the folder, but
# not to LEARNING_PATH): they come last, by name, so none is ever hidden.
OTHERS = "more"


def _place(name: str) -> tuple[int, int, str]:
    for group, (_, members) in enumerate(LEARNING_PATH):
        for place, member in enumerate(members):
            if fnmatchcase(name, member):
                return group, place, name
    return len(LEARNING_PATH), 0, name


def learning_path(names) -> list[tuple[str, list[str]]]:
    """(heading, names) in the order of LEARNING_PATH; groups without a name are left out."""
    headings = [heading for heading, _ in LEARNING_PATH] + [OTHERS]
    groups: dict[int, list[str]] = {}
    for name in sorted(names, key=_place):
        groups.setdefault(_place(name)[0], []).append(name)
    return [(headings[group], members) for group, members in groups.items()]


def builtin() -> dict[str, Path]:
    """name -> path of every built-in scenario, in the order of the learning path."""
    paths = {p.stem: p for p in builtin_dir().glob("*.toml")}
    return {name: paths[name] for _, names in learning_path(paths) for name in names}


def summaries() -> dict[str, str]:
    """name -> one-line summary of every built-in scenario (the error, if one is broken)."""
    out = {}
    for name, path in builtin().items():
        try:
            out[name] = load_scenario(path).summary
        except InputError as e:
            out[name] = e.lines()[0]
    return out


def resolve(name_or_path: str) -> Path:
    """A scenario path from a path or a built-in name; a path wins if both exist."""
    if "\0" in name_or_path:  # typed in the app's box, or from a script: the system refuses it
        raise input_error(name_or_path, NUL_IN_PATH)
    path = Path(name_or_path)
    try:
        path.stat()
        return path
    except (FileNotFoundError, NotADirectoryError):
        unreadable = None
    except OSError as e:  # a name too long, a folder that may not be searched, a loop of links
        unreadable = e
    scenarios = builtin()
    if name_or_path in scenarios:
        return scenarios[name_or_path]
    if unreadable is not None:
        raise input_error(name_or_path, f"cannot read: {unreadable.strerror or unreadable}")
    known = ", ".join(scenarios) or "none"
    raise input_error(name_or_path, f"no such file, nor a built-in scenario (built-in: {known})")


def user_path(text: str) -> Path:
    """A path as typed: ``~`` for the home folder, or kept as typed where it cannot be
    expanded (``~nosuchuser``: the error then names the path as typed)."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)


def exists(path: Path) -> bool:
    """Whether anything is at ``path``; False for a name no file can have (too long, NUL)."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True
