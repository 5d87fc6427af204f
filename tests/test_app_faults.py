"""Faults a shared server over SSH brings: the terminal goes away, the window shrinks."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest
from textual.widgets import ContentSwitcher

from bptui.app.app import BptuiApp
from bptui.core.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def spawn_app(ignore_hangup: bool, rows: int = 24, columns: int = 80) -> tuple[int, int]:
    """bptui xor on a pseudo-terminal; returns (pid, the terminal's other end)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the app
        try:
            if ignore_hangup:  # as under nohup: only noticing the terminal is gone can end it
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
            os.environ.update(TERM="xterm-256color", PYTHONPATH=str(ROOT))
            os.execv(sys.executable, [sys.executable, "-m", "bptui", "xor"])
        finally:
            os._exit(127)
    return pid, fd


def read_for(fd: int, seconds: float) -> bytes:
    seen, end = b"", time.monotonic() + seconds
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def read_until(fd: int, wanted: bytes, seconds: float = 60.0) -> bytes:
    """What the app writes until ``wanted`` appears: a loaded machine draws late, not never."""
    seen, end = b"", time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def wait_exit(pid: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False


@pytest.mark.parametrize("ignore_hangup", [False, True], ids=["sighup", "nohup"])
def test_the_app_ends_when_the_terminal_goes_away_while_training(ignore_hangup):
    pid, fd = spawn_app(ignore_hangup)
    assert b"epoch" in read_until(fd, b"epoch")  # the first frame arrived
    os.write(fd, b" ")  # train, so an orphan would keep a core busy
    read_for(fd, 0.5)
    os.close(fd)  # the SSH connection drops
    assert wait_exit(pid, 10.0), "the app kept running after its terminal went away"


async def test_resizing_at_any_moment_never_crashes(variant):
    app = BptuiApp(load_scenario(variant("xor", "forever")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        for size in [(1, 1), (200, 60), (59, 15), (10, 3), (2, 40), (120, 2), (80, 24), (1, 1), (120, 40)]:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.05)
            await pilot.press("b")
            await pilot.pause(0.05)
        await pilot.press("full_stop")
        await pilot.pause()
        assert app.query_one("#aside", ContentSwitcher).current == "blame"
        assert app.snapshot.phase == "forward" and not app.running


def test_a_terminal_that_reports_no_size_still_gets_an_app():
    """Some terminals say 0 x 0: the app must draw, answer keys and quit, not spin."""
    pid, fd = spawn_app(False, rows=0, columns=0)
    assert b"epoch" in read_until(fd, b"epoch")
    os.write(fd, b"q")
    read_for(fd, 0.5)
    assert wait_exit(pid, 10.0), "the app did not quit"
    os.close(fd)


async def test_what_comes_after_the_app_has_ended_does_nothing(shipped):
    """The redraw timer can fire once more while the app shuts down, after its widgets
    are gone (seen once in CI, at the end of the resizing test), and the messages of the
    training, sweep and gradient-check threads still queued are handled then too: none
    of them may raise."""
    from bptui.app.app import Progress, Stopped, SweepDone, SweepProgress
    from bptui.core.sweep import Sweep

    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await pilot.pause(0.3)
        snapshot, generation = app.snapshot, app._generation
    app._dirty = True
    app._redraw()
    app.on_progress(Progress(generation, snapshot, 1.0, ["a line of the ledger"]))
    app.on_stopped(Stopped(generation))
    app.on_sweep_progress(SweepProgress("Sweeping"))
    app.on_sweep_done(SweepDone(Sweep(load_scenario(shipped["xor"]), [1], max_epochs=2).run(), "XOR"))
