"""The scenarios that ship with bptui, found by name (``xor``) or by path."""

from __future__ import annotations

from pathlib import Path

from bptui.core.errors import InputError, input_error
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


def builtin() -> dict[str, Path]:
    """name -> path of every built-in scenario, sorted by name."""
    return {p.stem: p for p in sorted(builtin_dir().glob("*.toml"), key=lambda p: p.stem)}


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
    path = Path(name_or_path)
    if path.exists():
        return path
    scenarios = builtin()
    if name_or_path in scenarios:
        return scenarios[name_or_path]
    known = ", ".join(scenarios) or "none"
    raise input_error(name_or_path, f"no such file, nor a built-in scenario (built-in: {known})")
