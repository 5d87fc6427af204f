"""The terminal app over a pseudo-terminal, as over SSH: first frame and bytes per second.

    python benchmarks/bench_app.py [--sizes 80x24,120x40] [--json] [--sync] [--dump DIR] [--scenario TOML]

For each window size, in its own fresh process, the app is started on a pty
(``os.openpty`` + ``TIOCSWINSZ``, the pty as the controlling terminal) with
TERM=xterm-256color and COLORTERM unset, so Textual picks 256 colours as it usually
does over ssh, on a copy of scenarios/xor.toml (or --scenario) that never stops training
(``error_criterion = 0``, ``epochs = 100000000``). A thread reads the master side all
the time (a full pty buffer would block the app) and time-stamps every chunk. Measured:

  1. first frame: seconds from spawning the command to the first time the screen
     text (escape sequences removed) shows "epoch 0" and "loss"; target <= 1 s;
  2. paused: after the first frame, 2 s to settle, then bytes over 5 s with no input;
     target <= 1 KB/s (1000 bytes/s);
  3. training: send a space, discard 1 s, then bytes over 5 s; target <= 40 KB/s
     (40000 bytes/s);
  4. CPU of the app process over the training window (utime + stime from
     /proc/PID/stat) as a fraction of one core, and of its main (UI) thread alone;
     for information. The training thread trains as fast as it can, so the process
     total is about one core by design; the UI thread's share is the drawing cost.

Then ``q`` is sent; the process must exit within 3 s (else it is killed and the run
reported as not quitting). Exit code 0 when every target is met, 1 otherwise.

A plain pty does not answer Textual's query for synchronized output (``ESC[?2026$p``),
so frames are not bracketed, as with a terminal that lacks the mode. ``--sync`` answers
the query as a modern terminal would (Textual then wraps each frame in
``ESC[?2026h ... ESC[?2026l``) and also reports frames/s and bytes per frame.
``--dump DIR`` writes the raw bytes of each window for inspection.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
XOR = ROOT / "scenarios" / "xor.toml"

FIRST_FRAME_TARGET = 1.0  # seconds
PAUSED_TARGET = 1000.0  # bytes/s
TRAINING_TARGET = 40000.0  # bytes/s
SETTLE = 2.0
WINDOW = 5.0
DISCARD = 1.0
QUIT_GRACE = 3.0
FIRST_FRAME_TIMEOUT = 20.0

# CSI, OSC, DCS/APC/PM/SOS strings, two-character escapes
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[PX^_][^\x1b]*\x1b\\"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b[ -/][0-~]"
)
FIRST_FRAME = re.compile(r"epoch 0(?!\d)")
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"  # "mode 2026 known, currently reset": Textual then uses it
SYNC_BEGIN = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"


def screen_text(data: bytes) -> str:
    return _ESCAPES.sub("", data.decode("utf-8", "replace"))


def never_ending_scenario(directory: str, source: Path = XOR) -> Path:
    text = source.read_text(encoding="utf-8")
    text, n1 = re.subn(r"(?m)^error_criterion\s*=.*$", "error_criterion = 0", text)
    text, n2 = re.subn(r"(?m)^epochs\s*=.*$", "epochs = 100000000", text)
    if n1 != 1 or n2 != 1:
        raise SystemExit(f"bench_app: could not find error_criterion/epochs in {source}")
    path = Path(directory) / f"{source.stem}-forever.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """utime + stime of the process (all its threads), or of one thread, in seconds."""
    with open(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    # after the ")": state is field 3, utime field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Terminal:
    """The app on a pty, with a thread that reads everything it writes."""

    def __init__(self, argv: list[str], columns: int, rows: int, answer_sync: bool) -> None:
        self.columns, self.rows = columns, rows
        self.answer_sync = answer_sync
        self.chunks: list[tuple[float, bytes]] = []  # (monotonic time, bytes)
        self.lock = threading.Lock()
        self.first_frame: float | None = None
        self.found = threading.Event()
        self.eof = threading.Event()
        self._scan = b""

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        for name in ("COLORTERM", "NO_COLOR", "COLUMNS", "LINES"):  # the size comes from the pty only
            env.pop(name, None)
        env.update(TERM="xterm-256color",
                   PYTHONPATH=os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])))

        def controlling_tty() -> None:  # runs in the child before exec
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.master = master
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=str(ROOT), preexec_fn=controlling_tty, close_fds=True)
        os.close(slave)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the slave side
                break
            if not data:
                break
            now = time.monotonic()
            with self.lock:
                self.chunks.append((now, data))
            if self.answer_sync and SYNC_QUERY in data:
                self.send(SYNC_REPLY)
            if self.first_frame is None:
                self._scan += data
                text = screen_text(self._scan)
                if FIRST_FRAME.search(text) and "loss" in text:
                    self.first_frame = now - self.t0
                    self._scan = b""
                    self.found.set()
        self.eof.set()

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def total(self) -> int:
        with self.lock:
            return sum(len(c) for _, c in self.chunks)

    def between(self, start: float, end: float) -> bytes:
        with self.lock:
            return b"".join(c for t, c in self.chunks if start <= t < end)

    def everything(self) -> bytes:
        with self.lock:
            return b"".join(c for _, c in self.chunks)

    def close(self) -> tuple[bool, int | None]:
        """Send q; True if the app exited by itself within the grace period."""
        clean = False
        if self.proc.poll() is None:
            try:
                self.send(b"q")
            except OSError:
                pass
            try:
                self.proc.wait(QUIT_GRACE)
                clean = True
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.eof.wait(1.0)
        try:
            os.close(self.master)
        except OSError:
            pass
        return clean, self.proc.returncode


def frames(data: bytes) -> int:
    return data.count(SYNC_BEGIN)


def measure(scenario: Path, columns: int, rows: int, answer_sync: bool, dump: Path | None) -> dict:
    argv = [sys.executable, "-m", "bptui", str(scenario)]
    term = Terminal(argv, columns, rows, answer_sync)
    result: dict = {"size": f"{columns}x{rows}", "columns": columns, "rows": rows}
    try:
        deadline = term.t0 + FIRST_FRAME_TIMEOUT
        while not term.found.wait(0.05) and time.monotonic() < deadline and not term.eof.is_set():
            pass
        if not term.found.is_set():
            try:
                term.proc.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
            tail = screen_text(term.everything())[-600:]
            raise RuntimeError(f"no first frame within {FIRST_FRAME_TIMEOUT:.0f} s or the app ended "
                               f"(exit code {term.proc.poll()}); screen text ends: {tail!r}")
        result["first_frame_s"] = term.first_frame
        result["startup_bytes"] = term.total()

        time.sleep(SETTLE)
        start, cpu0 = time.monotonic(), cpu_seconds(term.proc.pid)
        time.sleep(WINDOW)
        end, cpu1 = time.monotonic(), cpu_seconds(term.proc.pid)
        paused = term.between(start, end)
        result["paused_bytes"] = len(paused)
        result["paused_Bps"] = len(paused) / (end - start)
        result["paused_cpu"] = (cpu1 - cpu0) / (end - start)

        term.send(b" ")
        time.sleep(DISCARD)
        pid = term.proc.pid
        start, cpu0, ui0 = time.monotonic(), cpu_seconds(pid), cpu_seconds(pid, pid)
        time.sleep(WINDOW)
        end, cpu1, ui1 = time.monotonic(), cpu_seconds(pid), cpu_seconds(pid, pid)
        training = term.between(start, end)
        result["training_bytes"] = len(training)
        result["training_Bps"] = len(training) / (end - start)
        result["training_cpu"] = (cpu1 - cpu0) / (end - start)
        result["training_cpu_ui_thread"] = (ui1 - ui0) / (end - start)  # the event loop: drawing, messages
        epochs = [int(e) for e in re.findall(r"epoch (\d+)", screen_text(training))]
        result["epoch_at_end"] = max(epochs) if epochs else None
        result["trained"] = bool(epochs) and max(epochs) > 0 and "running" in screen_text(training)
        if answer_sync:
            result["paused_frames_per_s"] = frames(paused) / WINDOW
            result["training_frames_per_s"] = frames(training) / WINDOW
            n = frames(training)
            result["training_bytes_per_frame"] = len(training) / n if n else None
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            (dump / f"{columns}x{rows}-paused.bin").write_bytes(paused)
            (dump / f"{columns}x{rows}-training.bin").write_bytes(training)
            (dump / f"{columns}x{rows}-all.bin").write_bytes(term.everything())
    finally:
        clean, code = term.close()
    result["quit_cleanly"] = clean
    result["exit_code"] = code
    result["ok"] = {
        "first_frame": result["first_frame_s"] <= FIRST_FRAME_TARGET,
        "paused": result["paused_Bps"] <= PAUSED_TARGET,
        "training": result["training_Bps"] <= TRAINING_TARGET and result["trained"],
        "quit": clean and code == 0,
    }
    return result


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def table(results: list[dict]) -> str:
    lines = [f"{'size':<8} {'measure':<22} {'value':>12} {'target':>12}  ok"]
    for r in results:
        s = r["size"]
        lines.append(f"{s:<8} {'first frame':<22} {r['first_frame_s']:>10.3f} s {'<= 1 s':>12}  {yes(r['ok']['first_frame'])}")
        lines.append(f"{s:<8} {'paused output':<22} {r['paused_Bps']:>8.0f} B/s {'<= 1000 B/s':>12}  {yes(r['ok']['paused'])}")
        lines.append(f"{s:<8} {'training output':<22} {r['training_Bps']:>8.0f} B/s {'<= 40000 B/s':>12}  "
                     f"{yes(r['ok']['training'])}{'' if r['trained'] else ' (did not train!)'}")
        lines.append(f"{s:<8} {'training CPU':<22} {r['training_cpu']:>8.2f} core {'(info)':>12}"
                     f"  (UI thread {r['training_cpu_ui_thread']:.2f})")
        lines.append(f"{s:<8} {'paused CPU':<22} {r['paused_cpu']:>8.2f} core {'(info)':>12}")
        if "training_frames_per_s" in r:
            per = r["training_bytes_per_frame"]
            lines.append(f"{s:<8} {'training frames/s':<22} {r['training_frames_per_s']:>10.1f}   "
                         f"{'(info)':>12}  ({per or 0:.0f} B/frame)")
        lines.append(f"{s:<8} {'quits on q':<22} {'':>12} {'<= 3 s':>12}  {yes(r['ok']['quit'])}")
        lines.append(f"{s:<8} {'epochs trained':<22} {r['epoch_at_end'] or 0:>12} {'(info)':>12}")
    return "\n".join(lines)


def parse_size(text: str) -> tuple[int, int]:
    columns, rows = text.lower().split("x")
    return int(columns), int(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="80x24,120x40", help="comma-separated COLSxROWS")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--sync", action="store_true",
                        help="answer Textual's synchronized-output query, and count frames")
    parser.add_argument("--scenario", type=Path, default=XOR, metavar="TOML",
                        help="scenario to copy (default scenarios/xor.toml); it is made to train forever")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="write the raw output of each window here")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("bench_app: needs Linux (/proc and a pty)", file=sys.stderr)
        return 2

    results = []
    with tempfile.TemporaryDirectory(prefix="bptui-bench-") as directory:
        scenario = never_ending_scenario(directory, args.scenario)
        for size in args.sizes.split(","):
            columns, rows = parse_size(size)
            try:
                results.append(measure(scenario, columns, rows, args.sync, args.dump))
            except RuntimeError as error:
                print(f"bench_app: {columns}x{rows}: {error}", file=sys.stderr)
                return 2
    ok = all(all(r["ok"].values()) for r in results)
    if args.json:
        print(json.dumps({"targets": {"first_frame_s": FIRST_FRAME_TARGET, "paused_Bps": PAUSED_TARGET,
                                      "training_Bps": TRAINING_TARGET},
                          "term": "xterm-256color", "colorterm": None, "sync_answered": args.sync,
                          "results": results, "ok": ok}, indent=2))
    else:
        print(table(results))
        print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
