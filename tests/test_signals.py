"""Signals at any moment give the terminal back and end the process; a crash exits 1.

Each test runs the app on a pseudo-terminal of 80 x 24, as a user's terminal would, reads
everything it writes, and replays the terminal modes it sets from that stream."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bptui.app.terminal import GRACE, exit_status

ROOT = Path(__file__).resolve().parent.parent
START = 60.0  # seconds to the first frame, or to a state: the machine may be loaded
END = 15.0  # seconds the process may take to end after the signal, before the test fails
MODE = re.compile(rb"\x1b\[\?([\d;]+)([hl])")
MOUSE = (1000, 1002, 1003, 1006, 1015)


class Terminal:
    """A program on a pseudo-terminal, and all it has written there."""

    def __init__(self, argv: list[str], rows: int = 24, columns: int = 80) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.attrs = termios.tcgetattr(self.slave)  # the settings the program must leave
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TEXTUAL_ALLOW_SIGNALS")}
        env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT))
        self.output = bytearray()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                                     cwd=ROOT, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        # The program blocks once the pseudo-terminal's buffer is full: read all the time.
        while not self._done.is_set():
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                with self._lock:
                    self.output += data

    def seen(self, since: int = 0) -> bytes:
        with self._lock:
            return bytes(self.output[since:])

    def wait_for(self, text: bytes, since: int = 0, timeout: float = START) -> int:
        """Wait until ``text`` has been written after byte ``since``; the length then."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if text in self.output[since:]:
                    return len(self.output)
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"{text!r} never came (exit {self.proc.poll()}); the end of what came: "
                             f"{self.seen()[-1500:]!r}")

    def press(self, keys: bytes) -> int:
        """Type ``keys``; the length of the output before them."""
        mark = len(self.seen())
        os.write(self.master, keys)
        return mark

    def ended_within(self, seconds: float) -> float | None:
        """Seconds the process took to end, or None if it did not within ``seconds``."""
        start = time.monotonic()
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return None
        took = time.monotonic() - start
        # What it wrote last is still in the pseudo-terminal: read until it is empty.
        end = time.monotonic() + 5
        last = -1
        while time.monotonic() < end and last != len(self.seen()):
            last = len(self.seen())
            time.sleep(0.1)
        return took

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._done.set()
        self._reader.join()
        os.close(self.master)
        os.close(self.slave)


def modes(stream: bytes) -> dict[int, bool]:
    """The private modes (DECSET / DECRST) as the stream leaves them: True for set."""
    state: dict[int, bool] = {}
    for numbers, action in MODE.findall(stream):
        for number in numbers.split(b";"):
            if number:
                state[int(number)] = action == b"h"
    return state


def assert_given_back(term: Terminal, mark: int) -> None:
    """The terminal as the program found it: main screen, no mouse reports, no bracketed
    paste, the cursor shown, the settings (echo, line editing) restored."""
    before, after = modes(term.seen()[:mark]), modes(term.seen())
    # The app was in application mode when the signal came...
    assert before.get(1049) and before.get(25) is False and any(before.get(m) for m in MOUSE), before
    # ...and what it wrote after gave the terminal back.
    assert after.get(1049) is False, "still in the alternate screen"
    assert not any(after.get(m) for m in MOUSE), f"mouse reporting still on: {after}"
    assert not after.get(2004), "bracketed paste still on"
    assert after.get(25) is True, "the cursor is still hidden"
    assert termios.tcgetattr(term.slave) == term.attrs, "the terminal settings were not restored"


@pytest.fixture
def forever(variant):
    return variant("xor", "forever")  # trains until stopped: a signal always finds it training


def app_terminal(path: Path) -> Terminal:
    term = Terminal([sys.executable, "-m", "bptui", str(path)])
    term.wait_for(b"epoch")  # the status line: the first frame is drawn
    return term


def get_to(term: Terminal, state: str) -> None:
    if state in ("training", "dialog", "paused"):
        term.wait_for(b"running", since=term.press(b" "))
    if state == "paused":
        term.wait_for(b"paused", since=term.press(b" "))
    elif state == "dialog":
        term.wait_for(b"escape to close", since=term.press(b"?"))  # the help screen, over the training
    elif state == "sweep":
        term.wait_for(b"of at most", since=term.press(b"S"))  # "Sweeping 100 seeds: epoch 1 of at most..."


SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP}


@pytest.mark.parametrize("state", ["training", "paused", "dialog", "sweep"])
@pytest.mark.parametrize("name", list(SIGNALS))
def test_a_signal_gives_the_terminal_back_and_ends_the_app(forever, name, state):
    signum = SIGNALS[name]
    term = app_terminal(forever)
    try:
        get_to(term, state)
        mark = len(term.seen())
        term.proc.send_signal(signum)
        took = term.ended_within(END)
        assert took is not None, f"{name} while {state}: still running {END} s later"
        print(f"{name} while {state}: ended in {took:.2f} s")
        assert term.proc.returncode == 128 + signum
        assert_given_back(term, mark)
    finally:
        term.close()


def run_script(tmp_path: Path, body: str, scenario: Path) -> Terminal:
    """A program that changes the app the way the test needs, then runs it as bptui does."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""\
        import os, sys, time
        from bptui.app.app import BptuiApp, run_app
        from bptui.core.scenario import load_scenario
        """) + textwrap.dedent(body) + "sys.exit(run_app(load_scenario(sys.argv[1])))\n")
    term = Terminal([sys.executable, str(script), str(scenario)])
    term.wait_for(b"epoch")
    return term


def test_an_internal_error_while_training_exits_1_with_its_traceback(tmp_path, forever):
    term = run_script(tmp_path, """\
        def fail(self):
            raise RuntimeError("an injected fault")
        BptuiApp.action_log_scale = fail
        """, forever)
    try:
        get_to(term, "training")
        mark = term.press(b"L")
        assert term.ended_within(END) is not None, "the app did not end after the error"
        assert term.proc.returncode == 1
        assert b"an injected fault" in term.seen(mark)  # the traceback, on the main screen
        assert_given_back(term, mark)
    finally:
        term.close()


@pytest.mark.parametrize("name, in_c", [("SIGINT", False), ("SIGINT", True), ("SIGTERM", True), ("SIGHUP", True)],
                         ids=["SIGINT-sleeping", "SIGINT-in-C", "SIGTERM-in-C", "SIGHUP-in-C"])
def test_a_stuck_app_is_ended_and_the_terminal_given_back_all_the_same(tmp_path, forever, name, in_c):
    """The interface thread never comes back (here, an action that sleeps): the clean exit
    cannot happen, and the watcher restores the terminal itself after GRACE seconds. In C
    code (a long numpy call) it does not even run the signal's Python handler: blocking the
    signals in that thread and sleeping does the same, as another thread then receives them."""
    signum = SIGNALS[name]
    block = "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])"
    term = run_script(tmp_path, f"""\
        import signal
        def hang(self):
            {block if in_c else "pass"}
            os.write(2, b"[the interface is stuck]")
            time.sleep(600)
        BptuiApp.action_log_scale = hang
        """, forever)
    try:
        get_to(term, "training")
        term.wait_for(b"[the interface is stuck]", since=term.press(b"L"))
        mark = len(term.seen())
        term.proc.send_signal(signum)
        took = term.ended_within(END)
        assert took is not None, f"{name}: a stuck app was still running {END} s later"
        print(f"{name}, interface stuck{' in C' if in_c else ''}: ended in {took:.2f} s")
        assert took >= GRACE * 0.9  # it was given its chance to exit by itself first
        assert term.proc.returncode == 128 + signum
        assert_given_back(term, mark)
    finally:
        term.close()


def test_exit_status():
    assert exit_status(None, None) == 0
    assert exit_status(0, None) == 0
    assert exit_status(1, None) == 1  # an internal error
    assert exit_status(0, signal.SIGTERM) == 143
    assert exit_status(128 + signal.SIGINT, signal.SIGINT) == 130
    assert exit_status(1, signal.SIGHUP) == 1  # the error says more than the signal that followed it
