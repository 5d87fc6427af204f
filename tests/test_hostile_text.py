"""Text from a scenario file reaches no terminal raw, and is never read as markup (issue 14).

A scenario file, the CSV it names and the paths of both are untrusted. Every string from
them passes through ``bptui.core.errors.printable`` (one line) or ``printable_lines``
(a story, a card, a goal) before it is shown: a control code (ESC, BEL, a C1 control,
DEL, a bidirectional override) is shown escaped, never sent. The loader refuses such a
code in a title, a summary or a name outright (tests/test_malformed.py). In the app, file
text is built as ``rich.text.Text`` (or escaped), never parsed as Textual markup, and a
story's links open only http and https addresses.

The app test runs ``python -m bptui FILE`` on a pseudo-terminal, presses every panel's
key and reads every byte the app writes: the only escape sequences in it are Textual's.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Input, Markdown, Static

from bptui.app.app import BptuiApp
from bptui.app.screens.gallery import GalleryScreen
from bptui.app.widgets.network import NetworkView
from bptui.app.widgets.story import StoryText, story_parser
from bptui.core.errors import InputError, printable, printable_lines
from bptui.core.report import dumps
from bptui.core.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

# What a hostile file holds: a CSI that clears the screen, an OSC 52 that writes the
# clipboard, an OSC 0 that sets the terminal's title, the one-byte C1 CSI, DEL, and the
# bidirectional overrides that make a terminal show text in another order.
CLEAR = "\x1b[2J"
CLIPBOARD = "\x1b]52;c;SE9TVElMRQ==\x07"  # base64 of "HOSTILE"
TITLE = "\x1b]0;PWNED\x07"
CONTROLS = CLEAR + CLIPBOARD + TITLE + "\x9b31m\x7f\u202eevil\u202c\u2066x\u2069"
MARKUP = "[red]x[/] [/] [/y] [link=file:///etc/passwd]x[/link]"
# Bytes that must never reach the terminal from the file, as the terminal would get them.
FORBIDDEN = (b"\x1b[2J", b"\x1b]52", b"\x1b]0;", b"PWNED\x07", "\x9b".encode(), "\u202e".encode(),
             "\u2066".encode(), b"\x7f")


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: anything but printable ASCII as a \\u escape."""
    return '"' + "".join(c if " " <= c < "\x7f" and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'


STORY = (f"# Story {CONTROLS}\n\n{MARKUP}\n\n"
         "[a file](file:///etc/passwd) [a script](javascript:alert(1)) [relative](evil.desktop) "
         "[a scheme](x-scheme-handler://run) <file:///etc/passwd> ![an image](file:///etc/passwd) "
         "[the paper](https://www.nature.com/articles/323533a0)\n\n"
         f"```\ncode {CONTROLS}\n```\n\n\ttabbed\r\nline\rreturn")

# Everything a loadable file can hold: markup in every name, control codes in every text
# of many lines (a story, a card, a goal), and in the file's own name.
LOADABLE = f"""\
format = 1

[scenario]
title = {toml_string("Hostile " + MARKUP)}
summary = {toml_string("Summary " + MARKUP)}
card = {toml_string("Card " + CONTROLS + MARKUP + " press space")}
story = {toml_string(STORY)}

[lesson]
goal = {toml_string("Goal " + CONTROLS + MARKUP)}
steps = 100000

[[layers]]
name = "[red]in[/]"
units = ["[/y]", "[b]x2[/b]"]
features = {{ "[/]gen" = [1, 2] }}

[[layers]]
name = "[/]hid"
size = 2

[[layers]]
name = "[link=file:///etc/passwd]out[/link]"
units = ["[red]y[/]"]
too_high = "[/]too [red]salty"
too_low = "[link=x]bland[/link]"

[[connections]]
from = "[red]in[/]"
to = "[/]hid"

[[connections]]
from = "[/]hid"
to = "[link=file:///etc/passwd]out[/link]"

[[reference.layers]]
name = "[/]hid"
bias = [0.0, 0.0]

[data]
file = "d[red]ata[b].csv"

[training]
epochs = 300
learning_rate = 2.0
"""
CSV = "pattern,x1,x2,y\n[red]p1[/],0,0,0\n[/],0,1,1\n[/y],1,0,1\n[link=file:///etc/passwd]p4[/link],1,1,0\n"
FILE_NAME = f"h{CLEAR}{TITLE}[red]ostile[b].toml"  # a legal file name on POSIX (a slash is not: no [/])

# A file whose every string holds control codes: refused, each problem quoted escaped.
REFUSED = f"""\
format = 1

[scenario]
title = {toml_string("T" + CONTROLS)}
summary = {toml_string("S" + CONTROLS)}
story = {toml_string(STORY)}

[[layers]]
name = {toml_string("in" + CONTROLS)}
units = [{toml_string("u" + CONTROLS)}]

[[layers]]
name = "out"
units = ["y"]
too_high = {toml_string("up" + CLEAR)}

[[connections]]
from = {toml_string("in" + CONTROLS)}
to = "out"

[data]
patterns = [{toml_string("p" + CONTROLS)}]
inputs = [[0]]
targets = [[0]]
"""

posix_only = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals and such file names are POSIX")


@pytest.fixture
def hostile(tmp_path) -> Path:
    (tmp_path / "d[red]ata[b].csv").write_text(CSV, encoding="utf-8")
    path = tmp_path / (FILE_NAME if os.name == "posix" else "hostile.toml")
    path.write_text(LOADABLE, encoding="utf-8")
    return path


@pytest.fixture
def refused(tmp_path) -> Path:
    path = tmp_path / "refused.toml"
    path.write_text(REFUSED, encoding="utf-8")
    return path


# --- The one way out ------------------------------------------------------------------------

def test_printable_escapes_every_control_and_keeps_the_rest():
    assert printable(CONTROLS) == (r"\x1b[2J\x1b]52;c;SE9TVElMRQ==\x07\x1b]0;PWNED\x07\x9b31m\x7f\u202eevil\u202c"
                                   r"\u2066x\u2069")
    for c in [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xa0)), *map(chr, range(0x202a, 0x202f)),
              *map(chr, range(0x2066, 0x206a)), "\u200e", "\u200f", "\u061c", "\u2028", "\u2029"]:
        assert printable(c) != c and printable(c).isprintable() and printable(c).isascii(), repr(c)
    text = "Café, Priya → Sunita: δ = 0.5 [red]x[/] 日本 \U0001f600"
    assert printable(text) is text  # printable text is given back as it is


def test_printable_lines_keeps_lines_and_escapes_the_rest():
    assert printable_lines("one\x1b[2J\r\ntwo\tthree\rfour\n\u2028five") == \
        "one\\x1b[2J\ntwo three\\rfour\n\\u2028five"
    assert all(line.isprintable() for line in printable_lines(STORY).split("\n"))


# --- The loader: what it refuses -------------------------------------------------------------

def test_a_control_code_in_any_name_or_title_is_refused_and_quoted_escaped(refused, capsys):
    with pytest.raises(InputError) as raised:
        load_scenario(refused)
    lines = raised.value.lines()
    assert all(line.isprintable() for line in lines), lines
    said = "\n".join(lines)
    for where in ("scenario.title", "scenario.summary", "layers[1].name"):
        assert f"{where}: " in said and "has a line break or a control character" in said, said
    assert r"scenario.title: 'T\x1b[2J\x1b]52;c;SE9T" in said  # a long value is quoted in part
    # The story may hold control codes: it is shown escaped, not refused.
    assert "scenario.story" not in said


# --- The command line --------------------------------------------------------------------------

def bptui(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bptui", *args], capture_output=True, cwd=cwd, env=env,
                          timeout=300, check=False)


def no_control_bytes(result: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    for stream in (result.stdout, result.stderr):
        text = stream.decode("utf-8")  # and valid UTF-8
        bad = [c for c in text if not (c.isprintable() or c == "\n")]
        assert not bad, (bad, text[:2000])


def test_every_command_prints_file_text_escaped(hostile, refused):
    cwd = hostile.parent
    runs = {
        "list": bptui("list", cwd=cwd),
        "check": bptui("check", hostile.name, refused.name, cwd=cwd),
        "inspect": bptui("inspect", hostile.name, cwd=cwd),
        "train": bptui("train", hostile.name, "--epochs", "20", "--patterns", "--save-as",
                       f"out{CLEAR}[red].toml", cwd=cwd),
        "sweep": bptui("sweep", hostile.name, "--seeds", "3", "--epochs", "20", cwd=cwd),
        "refused": bptui("inspect", refused.name, cwd=cwd),
        "missing": bptui("train", f"no{CLIPBOARD}.toml", cwd=cwd),
    }
    for name, result in runs.items():
        no_control_bytes(result)
        assert result.returncode == (2 if name in ("check", "refused", "missing") else 0), (name, result.stderr)
    assert f"ok: {printable(hostile.name)}\n".encode() in runs["check"].stdout
    assert rb"scenario.title: 'T\x1b[2J\x1b]52;c;SE9T" in runs["check"].stderr
    assert rb"no\x1b]52;c;SE9TVElMRQ==\x07.toml" in runs["missing"].stderr
    assert b"[red]p1[/]" in runs["train"].stdout and b"Hostile [red]x[/]" in runs["sweep"].stdout
    assert rb"saved: out\x1b[2J[red].toml" in runs["train"].stdout
    assert (cwd / f"out{CLEAR}[red].toml").exists()  # the file is saved under the name given
    assert b"[/]hid" in runs["inspect"].stdout


def test_json_escapes_control_codes(hostile):
    result = bptui("inspect", hostile.name, "--json", cwd=hostile.parent)
    assert result.returncode == 0 and b"\x1b" not in result.stdout
    report = json.loads(result.stdout)
    assert report["patterns"][0] == "[red]p1[/]" and "[/]hid" in report["layers"]
    # JSON is ASCII: a control code (should a scenario hold one) is written \u001b, never sent.
    assert dumps({"name": CONTROLS}) == json.dumps({"name": CONTROLS})
    assert "\\u001b" in dumps({"name": CONTROLS}) and dumps({"name": CONTROLS}).isascii()


# --- The app -------------------------------------------------------------------------------

async def until(pilot, condition, seconds: float = 60.0, what=None) -> None:
    """Wait for ``condition()`` (the screen or a thread catching up), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert condition(), what


def test_a_story_links_only_to_the_web():
    links = [child.attrs["href"] for token in story_parser().parse(STORY) if token.children
             for child in token.children if child.type == "link_open"]
    assert links == ["https://www.nature.com/articles/323533a0"]


async def test_every_panel_shows_hostile_text_as_text(hostile, monkeypatch):
    opened = []
    app = BptuiApp(load_scenario(hostile))
    monkeypatch.setattr(app, "open_url", lambda url, **kwargs: opened.append(url))
    async with app.run_test(size=(120, 40)) as pilot:
        network = app.query_one(NetworkView)
        await until(pilot, lambda: network.border_title is not None)
        for k, name in enumerate(["[red]p1[/]", "[/]", "[/y]", "[link=file:///etc/passwd]p4[/link]"]):
            shown = f"network · pattern {name} ({k + 1}/4)"
            await until(pilot, lambda shown=shown: network._pattern_title == shown,
                        what=network._pattern_title)
            assert network.border_title == Text(network._pattern_title).markup  # shown as written, not styled
            await pilot.press("p")
        story = app.query_one("#story-text", Markdown)
        assert isinstance(story, StoryText) and "\x1b" not in story.source and r"\x1b]52" in story.source
        for key in "lbuhsmejvv":
            await pilot.press(key)
            await pilot.pause()
        # A click on a link: only the web page opens; a file or a script does not.
        for href in ("file:///etc/passwd", "javascript:alert(1)", "evil.desktop", "https://example.org/"):
            story.post_message(Markdown.LinkClicked(story, href))
        await until(pilot, lambda: opened == ["https://example.org/"])
        for keys, screen in ((["o"], "GalleryScreen"), (["question_mark"], "HelpScreen"),
                             (["enter"], "EditScreen"), (["t"], "EditScreen"), (["k", "n"], "QuizScreen"),
                             (["w"], "SaveScreen")):
            await pilot.press(*keys)
            await until(pilot, lambda screen=screen: type(app.screen).__name__ == screen,
                        what=(keys, type(app.screen).__name__))
            if screen == "EditScreen":  # a value that is not a number: the warning quotes it
                app.screen.query_one(Input).value = "[/]"
                await pilot.press("enter")
                await until(pilot, lambda: "'[/]' is not a number" in str(app.screen.query_one("#edit-warning",
                                                                                            Static).render()))
            await pilot.press("escape")
            await until(pilot, lambda: type(app.screen).__name__ == "Screen")
        await pilot.press("k")  # quiz off
        await pilot.press("S")
        await until(pilot, lambda: "seeds converged" in " ".join(app.query_one("#sweep").query_one(
            "TextView")._text.plain.split()), seconds=240)
        await pilot.press("g", "G")
        await until(pilot, lambda: app.checker.result is not None)
        app.controller.save(hostile.parent / f"saved{CLEAR}[red].toml")
        await pilot.press("ctrl+r")
        await pilot.pause()
    assert app.return_code in (0, None)


async def test_the_gallery_quotes_a_refused_file_escaped(refused):
    app = BptuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        box = app.screen.query_one(Input)
        box.focus()
        box.value = str(refused)
        await pilot.press("enter")
        error = app.screen.query_one("#gallery-error", Static)
        await until(pilot, lambda: "control character" in str(error.render()))
        shown = str(error.render())
        assert r"'T\x1b[2J\x1b]52;c;SE9T" in shown and "\x1b" not in shown


# --- The app on a real terminal: every byte it writes -----------------------------------------

# Textual's own sequences: CSI (cursor, colours, modes, its queries), its OSC 2 window
# title and OSC 22 pointer shape. Anything else starting with ESC came from elsewhere.
CSI = rb"\x1b\[[0-9;?<>=:$]*[ -/]*[@-~]"
OSC = rb"\x1b\](?:2|22);[^\x07\x1b]*\x07"


class Terminal:
    """``python -m bptui ARGS`` on a pseudo-terminal of ``columns`` x ``rows``; ``out`` holds
    every byte it has written, read by a thread so the app never waits on its terminal."""

    def __init__(self, args: list[str], cwd: Path, columns: int = 120, rows: int = 40):
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TEXTUAL", "NO_COLOR")}
        env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen([sys.executable, "-m", "bptui", *args], stdin=slave, stdout=slave,
                                        stderr=slave, cwd=cwd, env=env, start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.out = bytearray()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the app has gone: the terminal is hung up
                    return
                if not data:
                    return
                with self.lock:
                    self.out.extend(data)
            elif self.process.poll() is not None:
                return

    def bytes(self) -> bytes:
        with self.lock:
            return bytes(self.out)

    def wait_for(self, *wanted: bytes, since: int = 0, seconds: float = 120) -> None:
        """Until each of ``wanted`` has been written (after byte ``since``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            out = self.bytes()[since:]
            if all(w in out for w in wanted):
                return
            assert self.process.poll() is None, f"the app has exited: {self.bytes()[-3000:]!r}"
            time.sleep(0.05)
        pytest.fail(f"not written within {seconds} s: {[w for w in wanted if w not in self.bytes()[since:]]}")

    def settle(self, quiet: float = 0.6, seconds: float = 30) -> None:
        """Until the app has written nothing for ``quiet`` seconds: the screen has been drawn."""
        deadline = time.monotonic() + seconds
        size, since = len(self.bytes()), time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - since < quiet:
            time.sleep(0.05)
            if len(self.bytes()) != size:
                size, since = len(self.bytes()), time.monotonic()

    def press(self, keys: bytes, *wanted: bytes, seconds: float = 120) -> None:
        since = len(self.bytes())
        os.write(self.master, keys)
        if wanted:
            self.wait_for(*wanted, since=since, seconds=seconds)
        self.settle()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self.reader.join(timeout=10)
        os.close(self.master)


def only_textuals_sequences(out: bytes) -> None:
    for sequence in FORBIDDEN:
        assert sequence not in out, (sequence, out[max(0, out.find(sequence) - 200):out.find(sequence) + 200])
    rest = re.sub(OSC, b"", re.sub(CSI, b"", out))
    at = rest.find(b"\x1b")
    assert at < 0, f"an escape sequence that is not Textual's: {rest[max(0, at - 100):at + 100]!r}"
    assert b"\x07" not in rest  # BEL only ends Textual's OSC; the app rings no bell here
    for title in re.findall(OSC, out):  # the window's title: the scenario's, escaped
        assert title.decode("utf-8").isprintable() or title.endswith(b"\x07")


@posix_only
def test_the_app_writes_no_escape_sequence_from_the_file(hostile):
    terminal = Terminal([hostile.name], cwd=hostile.parent)
    try:
        # The first screen: the card, escaped; the window title, the scenario's title.
        terminal.wait_for(b"Card", rb"\x1b]52;c;SE9T", b"\x1b]2;bptui \xc2\xb7 Hostile [red]x[/]")
        terminal.settle()
        for key in b"lbuhm":
            terminal.press(bytes([key]))
        terminal.press(b"s", b"Story")
        for key in b"ejvvpppPP":
            terminal.press(bytes([key]))
        # Dialogs and screens, each closed with escape.
        terminal.press(b"o", b"open a scenario")
        terminal.press(b"\x1b")
        terminal.press(b"?", b"bptui keys")
        terminal.press(b"\x1b")
        terminal.press(b"\r", b"edit ")
        terminal.press(b"\x1b")
        terminal.press(b"t", b"settings from epoch")
        terminal.press(b"\x1b")
        terminal.press(b"k")
        terminal.press(b"n", b"quiz")
        terminal.press(b"\x1b")
        terminal.press(b"k")
        # Save under the name offered (the file's own), then reload.
        terminal.press(b"w", b"save the current state")
        terminal.press(b"\r", b"Saved")
        terminal.press(b"\x12")
        terminal.press(b"S", b"converged", seconds=300)
        terminal.press(b"g", b"gradient check")
        terminal.press(b"G")
        terminal.press(b"n")
        terminal.press(b"q")
        assert terminal.process.wait(timeout=60) == 0, terminal.bytes()[-3000:]
    finally:
        terminal.close()
    out = terminal.bytes()
    assert b"Traceback" not in out
    only_textuals_sequences(out)
    # The name offered for the save is the file's own, escaped (an Input draws its value raw).
    assert any(p.name.startswith(r"h\x1b[2J\x1b]0;PWNED\x07[red]ostile[b]-epoch") for p in hostile.parent.iterdir())
