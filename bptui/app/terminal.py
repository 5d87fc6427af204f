"""The terminal given back however the app ends: a key, an internal error or a signal.

Textual restores the terminal when the app exits by itself, but installs no handler for
SIGINT, SIGTERM or SIGHUP: SIGTERM and SIGHUP killed the process in application mode
(alternate screen, mouse reporting on, cursor hidden, no echo), and SIGINT ended the
interface while the training thread, which nothing told to stop, went on.

``run`` runs the app with a handler for each of them that asks the app to exit, as the
quit key does (the training thread halted, the others cancelled), with exit status 128 +
the signal's number. Should that not finish within GRACE seconds (the interface thread
stuck in a long computation, an epoch of a huge network in the training thread, a hung-up
terminal that blocks Textual's output), a watcher thread writes the sequences that undo
application mode, puts back the terminal settings saved at the start and ends the process.

A signal ignored when the app starts (SIGHUP under nohup, SIGINT in a background job)
stays ignored: the app then ends when the terminal goes, by noticing it.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import termios
import threading
from collections.abc import Callable

from textual.app import App

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE = 1.5  # seconds the app has to exit by itself after a signal

# What Textual's driver turns on, turned off, in the order it turns them off itself: the
# mouse, bracketed paste, focus and in-band resize reports; the kitty keyboard protocol
# popped before the alternate screen is left (each screen keeps its own); a synchronized
# update cut short ended; line wrap, colours and the cursor given back.
RESET = ("\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?1004l\x1b[?2048l"
         "\x1b[?2026l\x1b[<u\x1b[0m\x1b[?1049l\x1b[?7h\x1b[?25h").encode()


def exit_status(return_code: int | None, signum: int | None) -> int:
    """The process's exit status: 1 after an internal error, 128 + the signal's number
    after a signal, else the app's return code (0 normally)."""
    code = return_code or 0
    if signum is not None and code in (0, 128 + signum):
        return 128 + signum
    return code


class _Guard:
    """The handlers of one run of the app, and the watcher thread they wake."""

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
        self.app, self.loop, self.stop = app, loop, stop
        self.signum: int | None = None
        self.restored = False  # the app has exited and Textual has given the terminal back
        self.finished = threading.Event()
        self.tty_in = _fileno(sys.__stdin__)
        self.tty_out = _fileno(sys.__stderr__)  # where Textual's driver writes
        try:
            self.saved = termios.tcgetattr(self.tty_in) if self.tty_in is not None else None
        except termios.error:
            self.saved = None
        # Python runs a signal's handler in the interface thread, and only once that thread
        # runs Python again, which one stuck in a long computation does not: the signal's
        # number, which the interpreter writes at once to this pipe (its wakeup fd), wakes
        # the watcher instead. Other signals with handlers (Textual's SIGWINCH) write too.
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.write_end, False)
        self.previous: dict[int, object] = {}
        self.previous_wakeup = -1

    def install(self) -> None:
        for signum in SIGNALS:
            previous = signal.getsignal(signum)
            if previous == signal.SIG_IGN:
                continue
            self.previous[signum] = previous
            signal.signal(signum, self._handler)
        self.previous_wakeup = signal.set_wakeup_fd(self.write_end, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="bptui-signals", daemon=True).start()

    def uninstall(self) -> None:
        signal.set_wakeup_fd(self.previous_wakeup)
        for signum, previous in self.previous.items():
            signal.signal(signum, previous)
        self.finished.set()
        os.close(self.write_end)  # the watcher reads the end of the pipe and returns

    def _handler(self, signum: int, frame) -> None:
        # Replaces the default action (the end, in application mode); the watcher acts.
        if self.signum is None:
            self.signum = signum

    def _watch(self) -> None:
        try:
            ours = b""
            while not ours:
                received = os.read(self.read_end, 64)
                if not received:
                    return  # uninstalled: the app ended without a signal
                ours = bytes(number for number in received if number in self.previous)
            if self.signum is None:
                self.signum = ours[0]
            try:
                self.loop.call_soon_threadsafe(self._ask_exit, self.signum)
            except RuntimeError:  # the loop has closed: the app has exited already
                pass
            if not self.finished.wait(GRACE):
                self.force(exit_status(self.app.return_code, self.signum))
        finally:
            os.close(self.read_end)

    def _ask_exit(self, signum: int) -> None:
        """In the interface thread: leave as the quit key does."""
        self.stop()
        self.app.exit(return_code=128 + signum)

    def force(self, status: int) -> None:
        """The last resort, in the watcher thread: give the terminal back and end now."""
        try:
            self.stop()  # a training thread stops at once, whatever else is stuck
        except Exception:
            pass
        if not self.restored and self.tty_out is not None and os.isatty(self.tty_out):
            try:
                # Not blocking for long on a terminal that reads nothing more (gone, or stalled).
                if select.select([], [self.tty_out], [], 0.5)[1]:
                    os.write(self.tty_out, RESET)
            except OSError:
                pass
        if self.saved is not None:
            try:
                termios.tcsetattr(self.tty_in, termios.TCSANOW, self.saved)
                termios.tcflush(self.tty_in, termios.TCIFLUSH)  # mouse reports not yet read
            except termios.error:
                pass
        os._exit(status)


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, ValueError, OSError):
        return None


def run(app: App, stop: Callable[[], None]) -> int:
    """Run the app in the main thread and return the process's exit status (see
    ``exit_status``). ``stop`` asks the app's own threads to stop, without waiting: it is
    called on a signal, and when the app has exited, before the worker threads are joined
    (an internal error while training must not leave the process waiting for them)."""
    guard = None
    try:
        with asyncio.Runner() as runner:
            guard = _Guard(app, runner.get_loop(), stop)
            guard.install()
            try:
                runner.run(app.run_async())
            finally:
                guard.restored = True
                stop()
            # Leaving the runner joins the worker threads: still guarded while it does.
    finally:
        if guard is not None:
            guard.uninstall()
    return exit_status(app.return_code, guard.signum)
