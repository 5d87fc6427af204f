"""Hostile files and paths (issue 14): what bptui writes, what it reads back, what it quotes.

Saving (``--save-as``, ``--trace``, the app's save) replaces only a regular file, follows a
symbolic link as editors do, and never leaves its temporary file behind on a way out it
sees; a stale one from a killed save is taken over by the next save of that file. Every
file bptui saves it can read again. A message quotes at most a short excerpt of a value,
and quotes a data file's text only when the file is named as CSV. A path no file can have
(a NUL character, a name too long) is a one-line error, exit 2, never a traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bptui.cli import main
from bptui.core import catalog, save
from bptui.core.atomic import NotSaved, check_target, temp_name, write_atomic
from bptui.core.controller import Controller
from bptui.core.errors import EXCERPT, InputError, Problem, excerpt
from bptui.core.ledger import Trace
from bptui.core.scenario import MAX_FILE_BYTES, load_scenario, parse_scenario
from bptui.core.training import Run

from conftest import AND_TOML

ROOT = Path(__file__).resolve().parent.parent
posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, sockets, locks and signals are POSIX")


def bptui(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bptui", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single problem line of a command that refused its input: exit 2, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("bptui: "), lines
    return lines[0]


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- Saving writes only over a regular file -----------------------------------------------

@posix_only
@pytest.mark.parametrize("option", ["--save-as", "--trace"])
def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path, option):
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    line = one_error_line(bptui("train", "xor", "--epochs", "5", option, str(fifo)))
    assert line == (f"bptui: {fifo}: is a pipe (FIFO), not a regular file: bptui saves only over a regular "
                    "file or as a new file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert temporaries(tmp_path) == []


@posix_only
def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        line = one_error_line(bptui("train", "xor", "--epochs", "5", "--save-as", str(path)))
    assert "is a socket, not a regular file" in line
    assert temporaries(tmp_path) == []


def test_a_folder_is_refused_before_training(tmp_path, capsys):
    # A million epochs of XOR would take minutes: the path is refused first.
    assert main(["train", "xor", "--epochs", "1000000", "--save-as", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"bptui: {tmp_path}: is a folder: name a file in it\n"
    with pytest.raises(NotSaved, match="not a file name: it names a folder"):
        check_target(str(tmp_path / "new") + os.sep)
    # So is a folder that is not there.
    assert main(["train", "xor", "--epochs", "1000000", "--save-as", str(tmp_path / "no" / "out.toml")]) == 2
    assert capsys.readouterr().err.endswith("out.toml: cannot write: No such file or directory\n")
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_a_device_is_refused_without_touching_it():
    # Checked, never written: as root, the old save replaced /dev/null with a regular file.
    with pytest.raises(NotSaved) as raised:
        check_target("/dev/null")
    assert raised.value.strerror.startswith("is a device, not a regular file")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@posix_only
def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path, capsys):
    real = tmp_path / "real.toml"
    real.write_text("old\n")
    link = tmp_path / "link.toml"
    link.symlink_to("real.toml")
    assert main(["train", "xor", "--epochs", "5", "--save-as", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == "real.toml"
    assert load_scenario(link).title == load_scenario(real).title == "XOR"
    # A link to a name not yet taken creates the file it names.
    dangling = tmp_path / "dangling.toml"
    dangling.symlink_to("made.toml")
    assert main(["train", "xor", "--epochs", "5", "--trace", str(dangling)]) == 0
    assert dangling.is_symlink() and (tmp_path / "made.toml").stat().st_size > 0
    assert temporaries(tmp_path) == []


@posix_only
def test_a_link_to_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to("fifo")
    with pytest.raises(NotSaved, match="is a pipe"):
        write_atomic(tmp_path / "link", "text")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)


def test_the_app_says_why_it_did_not_save(tmp_path, shipped):
    c = Controller()
    c.load(load_scenario(shipped["xor"]))
    said = []
    c.say = lambda text, *args, **kwargs: said.append(text)
    c.save(tmp_path)
    c.save(Path("out\0.toml"))
    assert said == [f"Not saved: {tmp_path}: is a folder: name a file in it",
                    "Not saved: out\\x00.toml: not a possible file name: it has a NUL character (\\x00), which no "
                    "file name can have"]
    c.save(tmp_path / "ok.toml")
    assert said[-1] == f"Saved: {tmp_path / 'ok.toml'}" and load_scenario(tmp_path / "ok.toml").title == "XOR"


# --- The temporary file: named, removed, taken over ---------------------------------------

def test_the_temporary_file_says_what_it_is(tmp_path):
    assert temp_name(tmp_path / "out.toml", "save").name == ".out.toml.bptui-save.tmp"
    assert temp_name(tmp_path / "t.jsonl", "trace").name == ".t.jsonl.bptui-trace.tmp"
    # A name near the system's limit of 255 bytes still has a temporary file, and saves.
    long = tmp_path / ("n" * 250)
    assert len(os.fsencode(temp_name(long, "save").name)) <= 255
    write_atomic(long, "text\n")
    assert long.read_text() == "text\n" and temporaries(tmp_path) == []


def test_a_stale_temporary_file_is_taken_over(tmp_path, capsys):
    """A save killed outright (kill -9, a power cut) leaves its temporary file: the next
    save of the same file reuses and renames it, so none is left."""
    out = tmp_path / "out.toml"
    stale = tmp_path / ".out.toml.bptui-save.tmp"
    stale.write_bytes(b"half a file from a killed save " * 10_000)
    assert main(["train", "xor", "--epochs", "5", "--save-as", str(out)]) == 0
    assert temporaries(tmp_path) == [] and load_scenario(out).title == "XOR"


@posix_only
def test_two_saves_of_one_file_do_not_mix(tmp_path):
    import fcntl

    out = tmp_path / "out.toml"
    out.write_text("old\n")
    with open(tmp_path / ".out.toml.bptui-save.tmp", "w") as busy:  # as another bptui holds it
        fcntl.flock(busy, fcntl.LOCK_EX)
        with pytest.raises(NotSaved, match="another bptui is saving this file right now"):
            write_atomic(out, "new\n")
    assert out.read_text() == "old\n"


@posix_only
def test_something_else_in_the_temporary_files_place_is_named(tmp_path):
    (tmp_path / "elsewhere").write_text("not to be written\n")
    (tmp_path / ".out.toml.bptui-save.tmp").symlink_to("elsewhere")
    with pytest.raises(NotSaved) as raised:
        write_atomic(tmp_path / "out.toml", "new\n")
    assert raised.value.strerror == (".out.toml.bptui-save.tmp is in the way (a symbolic link, where bptui puts "
                                     "its temporary file): remove it")
    assert (tmp_path / "elsewhere").read_text() == "not to be written\n"


def test_an_interrupted_trace_leaves_nothing(tmp_path, shipped):
    run = Run(load_scenario(shipped["xor"]))
    run.keep_last_change = True
    path = tmp_path / "t.jsonl"
    path.write_text("old\n")

    def interrupt(r):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with Trace(path) as trace:
            run.train(on_change=lambda r: (trace.write(r), interrupt(r)))
    assert path.read_text() == "old\n" and temporaries(tmp_path) == []


@posix_only
def test_sigterm_during_training_removes_the_temporary_trace(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "bptui", "train", "digits", "--epochs", "1000000", "--trace",
                             "t.jsonl"], cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        tmp = tmp_path / ".t.jsonl.bptui-trace.tmp"
        deadline = time.monotonic() + 60
        while not (tmp.exists() and tmp.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tmp.exists(), "training never started"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in proc.stderr.read().decode()
    assert list(tmp_path.iterdir()) == []


# --- Whatever bptui saves, it reads back --------------------------------------------------

def _dense(n: int, name: str = "in") -> str:
    return (f'format = 1\n[scenario]\ntitle = "Dense"\n[[layers]]\nname = "{name}"\nsize = {n}\n'
            f'[[layers]]\nname = "out"\nsize = {n}\nactivation = "linear"\n'
            f'[[connections]]\nfrom = "{name}"\nto = "out"\n'
            f'[data]\ninputs = [[{", ".join(["0.5"] * n)}]]\ntargets = [[{", ".join(["0"] * n)}]]\n')


def test_a_scenario_too_big_to_read_back_is_not_written(tmp_path):
    # 900 x 900 weights are about 17 MB as saved, over the 16 MiB bptui reads: refused
    # before a million epochs are spent, and nothing written.
    (tmp_path / "big.toml").write_text(_dense(900))
    started = time.monotonic()
    line = one_error_line(bptui("train", "big.toml", "--epochs", "1000000", "--save-as", "out.toml", cwd=tmp_path))
    assert line.startswith("bptui: out.toml: not written: the scenario file would be ")
    assert line.endswith(f" bytes, more than the {MAX_FILE_BYTES:,} bytes bptui reads, so it could not be "
                         "opened again")
    assert time.monotonic() - started < 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.toml"]


def test_the_size_is_checked_on_the_trained_weights(tmp_path, shipped, monkeypatch):
    run = Run(load_scenario(shipped["xor"]))
    run.train()
    text = save.scenario_toml(run, tmp_path / "out.toml")
    monkeypatch.setattr(save, "MAX_FILE_BYTES", len(text.encode()) - 1)
    with pytest.raises(NotSaved, match=f"would be {len(text.encode()):,} bytes"):
        save.save_scenario(run, tmp_path / "out.toml")
    monkeypatch.setattr(save, "MAX_FILE_BYTES", len(text.encode()))
    save.save_scenario(run, tmp_path / "out.toml")
    assert (tmp_path / "out.toml").read_text() == text


def test_a_network_of_too_many_numbers_is_refused_without_building_its_text(shipped, monkeypatch):
    run = Run(load_scenario(shipped["xor"]))  # 9 weights and biases: at least 45 bytes of numbers
    monkeypatch.setattr(save, "MAX_FILE_BYTES", 44)
    monkeypatch.setattr(save, "scenario_toml", None)  # never called
    assert save.size_problem(run) == ("not written: the scenario file would be at least 45 bytes (9 weights and "
                                      "biases), more than the 44 bytes bptui reads, so it could not be opened again")


def test_a_big_network_round_trips_bit_for_bit(tmp_path):
    path = tmp_path / "dense.toml"
    path.write_text(_dense(120, name="a layer with a long name " * 4))
    run = Run(load_scenario(path))
    run.train()
    out = tmp_path / "saved.toml"
    save.save_scenario(run, out)
    text = out.read_text()
    # Units named after their layer are saved as a size, not as a name per unit.
    assert "size = 120" in text and "[119]" not in text
    again = Run(load_scenario(out))
    assert np.array_equal(again.network.theta, run.network.theta)
    assert [layer.units for layer in again.scenario.layers] == [layer.units for layer in run.scenario.layers]


def test_a_feature_name_that_needs_quoting_saves_as_valid_toml(tmp_path):
    text = AND_TOML.replace('units = ["x1", "x2"]', 'units = ["x1", "x2"]\nfeatures = { "two \\"quoted\\" \\\\ = [lines]" = [1, 2] }')
    run = Run(parse_scenario(text, base=tmp_path))
    saved = parse_scenario(save.scenario_toml(run, tmp_path / "out.toml"), base=tmp_path)
    assert saved.layers[0].features == (('two "quoted" \\ = [lines]', (1.0, 2.0)),)
    # A line break or a control code in a name is refused on reading (tests/test_malformed.py).
    with pytest.raises(InputError, match="has a line break or a control character"):
        parse_scenario(text.replace("quoted", "two\\nlines"), base=tmp_path)


# --- Messages quote a short excerpt -------------------------------------------------------

def test_excerpt():
    assert excerpt("short") == "short"
    assert excerpt("tab\there") == "tab\\there"
    cut = excerpt("a" * 30 + "b" * 1000 + "c" * 30)
    assert len(cut) == EXCERPT and cut == "a" * 30 + "\u2026" + "c" * 29
    # An escape is kept whole or left out, never cut in two.
    assert excerpt("\x1b" * 100, 10) == "\\x1b\u2026\\x1b"
    started = time.monotonic()
    assert len(excerpt("x" * 50_000_000)) == EXCERPT  # only the two ends are read
    assert time.monotonic() - started < 1
    # Every part of a problem line is bounded.
    line = Problem("m" * 10_000, "w" * 10_000, 3).format("p" * 10_000)
    assert len(line) < 2400 and line.count("\u2026") == 3


def _csv_scenario(tmp_path: Path, data_name: str, data: bytes, test_name: str | None = None,
                  test_data: bytes = b"") -> Path:
    (tmp_path / data_name).write_bytes(data)
    extra = ""
    if test_name is not None:
        (tmp_path / test_name).write_bytes(test_data)
        extra = f'test_file = "{test_name}"\n'
    text = AND_TOML[: AND_TOML.index("[data]")] + f'[data]\nfile = "{data_name}"\n{extra}'
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


SECRET = b"S3CRET-4f9a0c1e7d2b"


@pytest.mark.parametrize("name, data, expected", [
    ("id_rsa", b"x1,x2,y\n" + SECRET + b",1,0\n", "id_rsa:2: column 1 is not a number (its text is not shown, "
                                                   "since the file's name does not end in .csv)"),
    (".env", b"pattern,x1,x2,y\n" + SECRET + b",0,0,0\n" + SECRET + b",1,1,1\n",
     ".env:3: the pattern name is also on line 2 (its text is not shown"),
    ("data.CSV", b"x1,x2,y\n" + SECRET + b",1,0\n", "data.CSV:2: column 1 ('S3CRET-4f9a0c1e7d2b') is not a number"),
])
def test_a_data_file_is_quoted_only_when_named_as_csv(tmp_path, name, data, expected):
    line = one_error_line(bptui("check", str(_csv_scenario(tmp_path, name, data))))
    assert expected in line
    assert (SECRET.decode() in line) == name.endswith("CSV")


def test_a_test_file_not_named_csv_is_not_quoted(tmp_path):
    path = _csv_scenario(tmp_path, "d.csv", b"pattern,x1,x2,y\nS3CRET,0,0,0\nb,1,1,1\n",
                         "held-out", b"pattern,x1,x2,y\nS3CRET,0,1,0\n")
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    assert raised.value.lines() == [f"bptui: {path}:20: data.test_file: a pattern name is also in the training "
                                    "patterns (its text is not shown, since the file's name does not end in .csv)"]


def test_a_huge_key_gives_a_short_message(tmp_path):
    path = tmp_path / "key.toml"
    path.write_text(AND_TOML.replace('title = "AND"', 'title = "AND"\n' + "k" * 5_000_000 + " = 1"))
    result = bptui("check", str(path))
    line = one_error_line(result)
    assert len(line) < 300 and line.count("\u2026") == 2


# --- Paths no file can have ---------------------------------------------------------------

def test_a_nul_in_a_data_file_path_is_one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(AND_TOML[: AND_TOML.index("[data]")] + '[data]\nfile = "a\\u0000b.csv"\n')
    line = one_error_line(bptui("check", str(path)))
    assert line == (f"bptui: {path}:19: data.file: {tmp_path}/a\\x00b.csv: not a possible file name: it has a NUL "
                    "character (\\x00), which no file name can have")


def test_a_path_too_long_on_the_command_line_is_one_line(tmp_path):
    for path in ("a" * 300, "a/" * 3000):
        line = one_error_line(bptui("check", path, cwd=tmp_path))
        assert line.endswith(": cannot read: File name too long") and len(line) < 400


def test_the_apps_open_box_refuses_impossible_paths():
    # What the app's open box passes on: typed text, which can hold anything.
    with pytest.raises(InputError) as raised:
        catalog.resolve("xor\0.toml")
    assert raised.value.lines() == ["bptui: xor\\x00.toml: not a possible file name: it has a NUL character (\\x00), "
                                    "which no file name can have"]
    with pytest.raises(InputError, match="cannot read: File name too long"):
        catalog.resolve("x" * 5000)
    assert catalog.resolve("xor").name == "xor.toml"  # a built-in name still wins over nothing
