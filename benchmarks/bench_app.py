"""The terminal app over a pseudo-terminal, as over SSH: first frame, bytes per second,
how fast a key is answered while training, and how fast it trains against headless.

    python benchmarks/bench_app.py [--sizes 80x24,120x40] [--scenario xor] [--presses 10]
                                   [--rate-rounds 3] [--json] [--sync] [--dump DIR]

For each window size, in its own fresh process, the app is started on a pty
(``os.openpty`` + ``TIOCSWINSZ``, the pty as the controlling terminal) with
TERM=xterm-256color and COLORTERM unset, so Textual picks 256 colours as it usually
does over ssh, on a copy of scenarios/xor.toml (or --scenario: a shipped scenario's
name or a path) that never stops training (``error_criterion = 0``,
``epochs = 100000000``). A thread reads the master side all the time (a full pty
buffer would block the app) and time-stamps every chunk. Measured:

  1. first frame: seconds from spawning the command to the first time the screen
     text (escape sequences removed) shows "epoch 0" and "loss"; target <= 0.5 s;
  2. paused: after the first frame, 2 s to settle, then bytes over 5 s with no input;
     target <= 1 KB/s (1000 bytes/s);
  3. training: send a space, discard 1 s, then bytes over 5 s; target <= 10 KB/s
     (10000 bytes/s) at 80x24, the budget's window, and <= 40 KB/s in larger ones;
  4. CPU of the app process over the training window (utime + stime from
     /proc/PID/stat) as a fraction of one core, and of its main (UI) thread alone;
     for information. The training thread trains as fast as it can, so the process
     total is about one core by design; the UI thread's share is the drawing cost;
  5. key latency while training: ``u`` and ``b`` in turn (the updates panel, the blame
     panel), each press timed from writing the key to the pty to the arrival of the
     output that draws the new panel's title (``─ updates ─``, ``─ blame ─``), with a
     pause of 0.3 to 0.6 s between presses so they fall at every phase of the redraw
     timer; median and worst of --presses; target: median <= 50 ms;
  6. epochs per second in the app against headless, in --rate-rounds interleaved
     rounds: the app trains for 4 s (after 1 s to get going), its rate read from the
     screen (the epoch shown on the status line, first and last in the window, over
     the time between them); then the app is paused and a fresh headless process runs
     ``Run.train_epoch`` on the same scenario file for 4 s (after 0.3 s of warm-up).
     The ratio app / headless per round; median over rounds; target >= 0.5. The
     status line's own "N epochs/s" is reported too, for information.

The app runs from compiled bytecode, as an installed copy does: PYTHONDONTWRITEBYTECODE
is dropped and the bytecode goes to a directory of its own (PYTHONPYCACHEPREFIX, under
the temporary directory, not in the tree), filled by an untimed import of the app before
the first run; else the first frame would include compiling bptui's modules (about
0.1 s).

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
import random
import re
import shutil
import signal
import statistics
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

FIRST_FRAME_TARGET = 0.5  # seconds
PAUSED_TARGET = 1000.0  # bytes/s
TRAINING_TARGET = 10000.0  # bytes/s at 80x24 ...
LARGE_TRAINING_TARGET = 40000.0  # ... and in a larger window
SETTLE = 2.0
WINDOW = 5.0
DISCARD = 1.0
QUIT_GRACE = 3.0
FIRST_FRAME_TIMEOUT = 20.0
KEY_TARGET = 0.050  # seconds, median key press to screen
KEY_TIMEOUT = 3.0
RATE_TARGET = 0.5  # app epochs/s over headless, at least
RATE_WINDOW = 4.0
# Keys pressed in turn while training, and the text that shows each was answered: the
# panel's title. The story and the blame panel cost little to draw; the updates panel
# lists every weight, which for the digits (2,410 of them) is slow to draw.
KEYS = ((b"s", "─ story ─"), (b"b", "─ blame ─"))
SLOW_KEYS = ((b"u", "─ updates ─"), (b"b", "─ blame ─"))
EPOCH = re.compile(r"epoch (\d+)")
STATUS_RATE = re.compile(r"([\d,]+) epochs/s")

# A fresh process trains the scenario headless for a while and prints epochs per second.
HEADLESS = """
import sys, time
sys.path.insert(0, sys.argv[1])
import bptui  # first: one BLAS thread, as the app
import numpy as np
from bptui.core.scenario import load_scenario
from bptui.core.training import Run
run = Run(load_scenario(sys.argv[2]))
seconds, warm = float(sys.argv[3]), float(sys.argv[4])
with np.errstate(all="ignore"):
    end = time.perf_counter() + warm
    while time.perf_counter() < end:
        run.train_epoch()
    epoch, start = run.epoch, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run.train_epoch()
    print((run.epoch - epoch) / (time.perf_counter() - start))
"""

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
PYCACHE = Path(tempfile.gettempdir()) / f"bptui-bench-pycache-{os.getuid()}"
SYNC_REPLY = b"\x1b[?2026;2$y"  # "mode 2026 known, currently reset": Textual then uses it
SYNC_BEGIN = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"


def screen_text(data: bytes) -> str:
    return _ESCAPES.sub("", data.decode("utf-8", "replace"))


def scenario_path(name_or_path: str | Path) -> Path:
    """A path, or the name of a shipped scenario."""
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml":
        return path
    return ROOT / "scenarios" / f"{name_or_path}.toml"


def never_ending_scenario(directory: str, source: Path = XOR) -> Path:
    text = source.read_text(encoding="utf-8")
    text, n1 = re.subn(r"(?m)^error_criterion\s*=.*$", "error_criterion = 0", text)
    text, n2 = re.subn(r"(?m)^epochs\s*=.*$", "epochs = 100000000", text)
    if n1 != 1 or n2 != 1:
        raise SystemExit(f"bench_app: could not find error_criterion/epochs in {source}")
    for data in re.findall(r'(?m)^(?:test_)?file\s*=\s*"([^"]+)"', text):  # its CSV files, beside it
        shutil.copy(source.parent / data, Path(directory) / Path(data).name)
        text = text.replace(f'"{data}"', f'"{Path(data).name}"')
    path = Path(directory) / f"{source.stem}-forever.toml"
    path.write_text(text, encoding="utf-8")
    return path


def app_environment() -> dict[str, str]:
    """The app's environment: no TEXTUAL settings, no colour or size hints (the size comes
    from the pty only), and bytecode written to and read from PYCACHE."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    for name in ("COLORTERM", "NO_COLOR", "COLUMNS", "LINES", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def compile_app() -> None:
    """Import the app once, untimed, so that its modules' bytecode is in PYCACHE."""
    env = app_environment()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    subprocess.run([sys.executable, "-c", "import bptui.cli, bptui.app.app"], env=env, cwd=str(ROOT), check=True)


def headless_rate(scenario: Path, seconds: float = RATE_WINDOW, warm: float = 0.3) -> float:
    """Epochs per second of Run.train_epoch on the scenario, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", HEADLESS, str(ROOT), str(scenario), str(seconds), str(warm)],
                         capture_output=True, text=True, check=True, cwd=str(ROOT))
    return float(out.stdout.strip())


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
        env = app_environment()
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

    def since(self, start: float) -> list[tuple[float, bytes]]:
        with self.lock:
            return [(t, c) for t, c in self.chunks if t >= start]

    def wait_for(self, text: str, start: float, timeout: float) -> float | None:
        """The arrival time of the first output after ``start`` that completes ``text``
        on the screen text, or None after ``timeout`` seconds."""
        seen = 0
        data = b""
        deadline = time.monotonic() + timeout
        while True:
            chunks = self.since(start)
            for t, c in chunks[seen:]:
                data += c
                if text in screen_text(data):
                    return t
            seen = len(chunks)
            if time.monotonic() > deadline or self.eof.is_set():
                return None
            time.sleep(0.002)

    def epochs_between(self, start: float, end: float) -> list[tuple[float, int]]:
        """(arrival time, epoch) of every chunk in the window that shows an epoch."""
        points = []
        with self.lock:
            chunks = [(t, c) for t, c in self.chunks if start <= t < end]
        for t, c in chunks:
            epochs = [int(e) for e in EPOCH.findall(screen_text(c))]
            if epochs:
                points.append((t, max(epochs)))
        return points

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


def training_target(columns: int, rows: int) -> float:
    return TRAINING_TARGET if columns <= 80 and rows <= 24 else LARGE_TRAINING_TARGET


def frames(data: bytes) -> int:
    return data.count(SYNC_BEGIN)


def key_latencies(term: Terminal, presses: int, keys=KEYS, seed: int = 1) -> list[float | None]:
    """Seconds from each key to the output that answers it (None: no answer in time)."""
    pause = random.Random(seed)
    out = []
    for k in range(presses):
        key, answer = keys[k % len(keys)]
        time.sleep(pause.uniform(0.3, 0.6))
        start = time.monotonic()
        term.send(key)
        seen = term.wait_for(answer, start, KEY_TIMEOUT)
        out.append(None if seen is None else seen - start)
    return out


def app_rate(term: Terminal, seconds: float) -> tuple[float | None, list[float]]:
    """Epochs per second shown by the app over ``seconds`` of training, from the epoch on
    the screen; and the rates its status line showed."""
    start = time.monotonic()
    time.sleep(seconds)
    end = time.monotonic()
    points = term.epochs_between(start, end)
    shown = [float(r.replace(",", "")) for r in STATUS_RATE.findall(screen_text(term.between(start, end)))]
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None, shown
    (t0, e0), (t1, e1) = points[0], points[-1]
    return (e1 - e0) / (t1 - t0), shown


def rates(term: Terminal, scenario: Path, rounds: int) -> dict:
    """Interleaved rounds: the app training, then (the app paused) headless."""
    app, headless, ratios, shown = [], [], [], []
    for _ in range(rounds):
        term.send(b" ")  # run
        time.sleep(DISCARD)
        a, s = app_rate(term, RATE_WINDOW)
        shown += s
        term.send(b" ")  # pause
        time.sleep(0.5)
        h = headless_rate(scenario)
        if a is not None:
            app.append(a)
            headless.append(h)
            ratios.append(a / h)
    if not ratios:
        return {"rate_ratio": None}
    return {"app_epochs_per_s": statistics.median(app), "headless_epochs_per_s": statistics.median(headless),
            "rate_ratio": statistics.median(ratios), "rate_ratio_min": min(ratios),
            "rate_ratio_max": max(ratios), "rate_rounds": ratios, "app_rounds": app, "headless_rounds": headless,
            "status_line_epochs_per_s": statistics.median(shown) if shown else None}


def measure(scenario: Path, columns: int, rows: int, answer_sync: bool, dump: Path | None,
            presses: int = 10, rate_rounds: int = 3, slow_presses: int = 6) -> dict:
    argv = [sys.executable, "-m", "bptui", str(scenario)]
    term = Terminal(argv, columns, rows, answer_sync)
    result: dict = {"size": f"{columns}x{rows}", "columns": columns, "rows": rows,
                    "scenario": scenario.stem.removesuffix("-forever")}
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

        # still training: keys, then the rate against headless (which pauses and resumes)
        if presses:
            latencies = key_latencies(term, presses)
            answered = [x for x in latencies if x is not None]
            result["key_latencies_s"] = latencies
            result["key_unanswered"] = len(latencies) - len(answered)
            result["key_latency_s"] = statistics.median(answered) if answered else None
            result["key_latency_max_s"] = max(answered) if answered else None
        if slow_presses:  # for information: keys that open the updates panel
            latencies = key_latencies(term, slow_presses, SLOW_KEYS)
            answered = [x for x in latencies if x is not None]
            result["slow_key_latencies_s"] = latencies
            result["slow_key_unanswered"] = len(latencies) - len(answered)
            result["slow_key_latency_s"] = statistics.median(answered) if answered else None
            result["slow_key_latency_max_s"] = max(answered) if answered else None
        term.send(b" ")  # pause, so the rounds start alike
        time.sleep(0.5)
        if rate_rounds:
            result.update(rates(term, scenario, rate_rounds))
    finally:
        clean, code = term.close()
    result["quit_cleanly"] = clean
    result["exit_code"] = code
    result["ok"] = {
        "first_frame": result["first_frame_s"] <= FIRST_FRAME_TARGET,
        "paused": result["paused_Bps"] <= PAUSED_TARGET,
        "training": result["training_Bps"] <= training_target(columns, rows) and result["trained"],
        "quit": clean and code == 0,
    }
    if presses:
        result["ok"]["keys"] = (result["key_unanswered"] == 0 and result["key_latency_s"] is not None
                                and result["key_latency_s"] <= KEY_TARGET)
    if rate_rounds:
        result["ok"]["rate"] = result["rate_ratio"] is not None and result["rate_ratio"] >= RATE_TARGET
    return result


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def table(results: list[dict]) -> str:
    lines = [f"{'size':<8} {'measure':<22} {'value':>12} {'target':>12}  ok"]
    for r in results:
        s = r["size"]
        lines.append(f"{s:<8} {'first frame':<22} {r['first_frame_s']:>10.3f} s {f'<= {FIRST_FRAME_TARGET:g} s':>12}  "
                     f"{yes(r['ok']['first_frame'])}")
        lines.append(f"{s:<8} {'paused output':<22} {r['paused_Bps']:>8.0f} B/s {'<= 1000 B/s':>12}  {yes(r['ok']['paused'])}")
        budget = f"<= {training_target(r['columns'], r['rows']):.0f} B/s"
        lines.append(f"{s:<8} {'training output':<22} {r['training_Bps']:>8.0f} B/s {budget:>12}  "
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
        if "keys" in r["ok"]:
            median = r["key_latency_s"]
            lines.append(f"{s:<8} {'key to screen, median':<22} {(median or 0) * 1000:>9.0f} ms "
                         f"{f'<= {KEY_TARGET * 1000:.0f} ms':>12}  "
                         f"{yes(r['ok']['keys'])}  (worst {(r['key_latency_max_s'] or 0) * 1000:.0f} ms, "
                         f"{r['key_unanswered']} unanswered of {len(r['key_latencies_s'])})")
        if r.get("slow_key_latency_s") is not None:
            lines.append(f"{s:<8} {'key: updates panel':<22} {r['slow_key_latency_s'] * 1000:>9.0f} ms {'(info)':>12}"
                         f"  (worst {r['slow_key_latency_max_s'] * 1000:.0f} ms, {r['slow_key_unanswered']} "
                         f"unanswered of {len(r['slow_key_latencies_s'])})")
        if "rate" in r["ok"]:
            if r["rate_ratio"] is None:
                lines.append(f"{s:<8} {'app / headless':<22} {'?':>12} {'>= 0.5':>12}  NO (no epochs read)")
            else:
                lines.append(f"{s:<8} {'app / headless epochs':<22} {r['rate_ratio']:>12.2f} {'>= 0.5':>12}  "
                             f"{yes(r['ok']['rate'])}  ({r['app_epochs_per_s']:,.0f} against "
                             f"{r['headless_epochs_per_s']:,.0f} epochs/s; rounds {r['rate_ratio_min']:.2f} "
                             f"to {r['rate_ratio_max']:.2f})")
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
    parser.add_argument("--scenario", default="xor", metavar="NAME|TOML",
                        help="scenario to copy (default xor); it is made to train forever")
    parser.add_argument("--presses", type=int, default=10, help="keys timed while training (0: none)")
    parser.add_argument("--slow-presses", type=int, default=6,
                        help="keys timed while training that open the updates panel, for information (0: none)")
    parser.add_argument("--rate-rounds", type=int, default=3,
                        help="interleaved rounds of the app's epochs/s against headless (0: none)")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="write the raw output of each window here")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("bench_app: needs Linux (/proc and a pty)", file=sys.stderr)
        return 2

    results = []
    with tempfile.TemporaryDirectory(prefix="bptui-bench-") as directory:
        scenario = never_ending_scenario(directory, scenario_path(args.scenario))
        compile_app()
        for size in args.sizes.split(","):
            columns, rows = parse_size(size)
            try:
                results.append(measure(scenario, columns, rows, args.sync, args.dump, args.presses,
                                       args.rate_rounds, args.slow_presses))
            except RuntimeError as error:
                print(f"bench_app: {columns}x{rows}: {error}", file=sys.stderr)
                return 2
    ok = all(all(r["ok"].values()) for r in results)
    if args.json:
        print(json.dumps({"targets": {"first_frame_s": FIRST_FRAME_TARGET, "paused_Bps": PAUSED_TARGET,
                                      "training_Bps": TRAINING_TARGET, "large_training_Bps": LARGE_TRAINING_TARGET,
                                      "key_latency_s": KEY_TARGET,
                                      "rate_ratio": RATE_TARGET},
                          "term": "xterm-256color", "colorterm": None, "sync_answered": args.sync,
                          "results": results, "ok": ok}, indent=2))
    else:
        print(table(results))
        print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
