"""The core never imports Textual (SPEC section 7), and neither does the CLI's import.

Two proofs: importing every core module (and bptui.cli) in a fresh interpreter leaves
no ``textual`` in ``sys.modules``, even when an importable textual is planted on the
path (so a guarded ``try: import textual`` would be caught too); and no source file
under bptui/core mentions an import of textual.
"""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bptui.core

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "bptui" / "core"


def core_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(bptui.core.__path__, "bptui.core.")]
    assert "bptui.core.network" in names and "bptui.core.training" in names
    return ["bptui", "bptui.core"] + sorted(names) + ["bptui.cli"]


def run_python(code: str, tmp_path: Path, plant_textual: bool) -> subprocess.CompletedProcess:
    path = [str(ROOT)]
    if plant_textual:
        # A stand-in textual: importing it succeeds, so only sys.modules can tell.
        fake = tmp_path / "planted"
        for package in ("textual", "textual_plotext"):
            (fake / package).mkdir(parents=True, exist_ok=True)
            (fake / package / "__init__.py").write_text("PLANTED = True\n")
        path.insert(0, str(fake))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)


def _textual_loaded() -> str:
    return "sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'textual_')))"


@pytest.mark.parametrize("plant_textual", [False, True], ids=["as-installed", "textual-importable"])
def test_importing_core_and_cli_does_not_import_textual(tmp_path, plant_textual):
    modules = core_modules()
    code = textwrap.dedent(f"""
        import importlib, sys
        for name in {modules!r}:
            importlib.import_module(name)
        loaded = {_textual_loaded()}
        assert not loaded, f"textual was imported: {{loaded}}"
        import bptui.core.network, bptui.cli
        print("imported", len({modules!r}))
    """)
    if plant_textual:
        # The planted package really is importable, so the check above could catch it.
        probe = run_python("import textual, sys; assert textual.PLANTED; print('planted')", tmp_path, True)
        assert probe.returncode == 0 and "planted" in probe.stdout, probe.stderr
    done = run_python(code, tmp_path, plant_textual)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"imported {len(modules)}"


def test_headless_commands_do_not_import_textual(tmp_path):
    """inspect and train are the headless commands: they run without Textual loaded."""
    code = textwrap.dedent(f"""
        import contextlib, io, sys
        from bptui.cli import main
        for argv in (["list"], ["check", "xor"], ["inspect", "xor", "--json"],
                     ["train", "xor", "--epochs", "3", "--json"]):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = main(argv)
            assert status == 0, (argv, status)
            assert out.getvalue().strip(), argv
        loaded = {_textual_loaded()}
        assert not loaded, f"textual was imported: {{loaded}}"
        print("ok")
    """)
    done = run_python(code, tmp_path, plant_textual=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def _is_textual(name: str | None) -> bool:
    return bool(name) and (name == "textual" or name.startswith(("textual.", "textual_")))


def textual_imports(source: str, filename: str = "<source>") -> list[str]:
    """Every import of textual in a module: import statements and dynamic imports by name."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if _is_textual(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _is_textual(node.module):
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str) \
                    and _is_textual(node.args[0].value):
                found.append(f"line {node.lineno}: {name}({node.args[0].value!r})")
    return found


def test_the_static_check_finds_textual_imports():
    """The checker itself works, so the check below cannot pass by finding nothing."""
    source = textwrap.dedent("""
        import os
        import textual
        import textual.app as app
        from textual.widgets import Static
        from textual_plotext import PlotextPlot
        def later():
            import importlib
            importlib.import_module("textual.app")
            __import__("textual")
        try:
            import textual
        except ImportError:
            pass
        from . import textualish
        import textualize
    """)
    found = textual_imports(source)
    assert len(found) == 7, found


def test_no_core_source_imports_textual():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 8  # the core's modules are where the test expects them
    assert CORE / "network.py" in files and CORE / "training.py" in files
    problems = {}
    for path in files:
        found = textual_imports(path.read_text(encoding="utf-8"), str(path))
        if found:
            problems[str(path.relative_to(ROOT))] = found
    assert not problems, f"the core imports Textual: {problems}"
