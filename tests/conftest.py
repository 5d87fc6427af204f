"""Shared fixtures: scenarios written on the fly, and the shipped ones by name."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bptui.core.catalog import builtin


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write TOML text (dedented) to a file and return its path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def shipped() -> dict[str, Path]:
    return builtin()
