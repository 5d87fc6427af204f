"""The command line: ``bptui list | check | inspect | train | sweep | serve``, thin over bptui.core.

Exit codes (docs/errors.md): 0 success, 2 bad input, 1 a bug. Bad input is reported
as ``bptui: PATH:LINE: what is wrong``, one line per problem, never as a traceback.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import math
import os
import shlex
import signal
import socket
import sys
import threading
import time
import traceback
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from pathlib import Path

from bptui import __version__
from bptui.core import catalog
from bptui.core.atomic import NotSaved, check_target
from bptui.core.errors import PATH_EXCERPT, InputError, Problem, excerpt, printable, printable_lines
from bptui.core.health import run_warnings
from bptui.core.ledger import Trace
from bptui.core.plots import histogram
from bptui.core.report import (classifier, dumps, final_loss, inspect_report, pattern_results,
                               train_report)
from bptui.core.save import save_scenario, size_problem
from bptui.core.scenario import MAX_EPOCHS, MAX_SEED, load_scenario
from bptui.core.sweep import Sweep
from bptui.core.training import CONVERGED, DIVERGED, Run
from bptui.text import (PATTERNS_LISTED, accuracy_lines, confusion_lines, inspect_text, pattern_lines,
                        warning_lines)

COMMANDS = ("list", "check", "inspect", "train", "sweep", "serve")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every other bad input
        raise InputError(self.prog.removeprefix("bptui").strip() or "usage",
                         [Problem(f"{message} (see '{self.prog} --help')")])


def _whole(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({low} to {high})")
        return value
    return parse


SCENARIO = "a scenario file, or the name of a built-in one (xor; 'bptui list' names them all)"
APP = ("bptui [PATH] opens the app on a scenario: PATH is a scenario file or the name of a built-in "
       "one, as in 'bptui xor' ('bptui list' names them all); 'bptui' alone opens the gallery to "
       "choose one.")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bptui", usage="%(prog)s [PATH] [--seed S]\n       %(prog)s COMMAND ...",
                     description=f"Watch backpropagation happen. {APP} The commands below work "
                                 "without the app.")
    parser.add_argument("--version", action="version", version=f"bptui {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, prog="bptui")
    sub.add_parser("list", help="list the built-in scenarios")
    check = sub.add_parser("check", help="validate scenario files")
    check.add_argument("paths", nargs="+", metavar="PATH", help=SCENARIO)
    inspect = sub.add_parser("inspect", help="one forward and backward pass at the starting weights")
    inspect.add_argument("path", metavar="PATH", help=SCENARIO)
    inspect.add_argument("--json", action="store_true",
                         help="print every number as JSON: the loss, and per layer and connection the "
                              "pass's values (net, activation, delta, share, gradients; docs/blame.md "
                              "defines the blame numbers)")
    train = sub.add_parser("train", help="train headless")
    train.add_argument("path", metavar="PATH", help=SCENARIO)
    train.add_argument("--epochs", type=_whole(0, MAX_EPOCHS), help="the most epochs to run")
    train.add_argument("--seed", type=_whole(0, MAX_SEED), help="seed for the starting weights")
    train.add_argument("--json", action="store_true",
                       help="print JSON: status (converged, max_epochs or diverged), epochs, the loss "
                            "of every epoch, final_loss, the final weights and each pattern's output "
                            "(docs/errors.md tells the outcomes)")
    train.add_argument("--patterns", action="store_true",
                       help=f"list every pattern with its output and target (without it: the first "
                            f"{PATTERNS_LISTED}; for a classifier with more, none; --json lists all)")
    train.add_argument("--save-as", metavar="OUT.toml", type=Path,
                       help="also write the trained state as a scenario file")
    train.add_argument("--trace", metavar="FILE.jsonl", type=Path,
                       help="also write every weight change as a line of JSON (docs/trace.md)")
    sweep = sub.add_parser("sweep", help="train many seeds at once: how often, how fast it learns")
    sweep.add_argument("path", metavar="PATH", help=SCENARIO)
    sweep.add_argument("--seeds", type=_whole(1, 100_000), required=True,
                       help="how many seeds (from --seed on, else from the file's seed)")
    # The range train --seed takes: without this option, argparse read --seed as --seeds.
    sweep.add_argument("--seed", type=_whole(0, MAX_SEED), help="the first seed (default: the file's seed)")
    sweep.add_argument("--epochs", type=_whole(0, MAX_EPOCHS), help="the most epochs each run takes")
    sweep.add_argument("--json", action="store_true",
                       help="print JSON: seeds, max_epochs, each seed's epochs to converge (null: it "
                            "did not) and how many converged")
    serve = sub.add_parser("serve", help="the app in a web browser (needs the optional extra 'serve')")
    serve.add_argument("path", nargs="?", metavar="PATH", help=f"{SCENARIO} (default: the gallery)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_whole(1, 65535), default=8000, help="the port to listen on (default 8000)")
    return parser


def _load(name_or_path: str):
    return load_scenario(catalog.resolve(name_or_path), display=name_or_path)


def cmd_list(args) -> int:
    summaries = catalog.summaries()
    width = max(len(name) for name in summaries)
    for name, summary in summaries.items():
        print(f"{printable(name):<{width}}  {printable(summary)}")
    return 0


def cmd_check(args) -> int:
    status = 0
    for name in args.paths:
        try:
            _load(name)
            print(f"ok: {printable(name)}")
        except InputError as e:
            for line in e.lines():
                print(line, file=sys.stderr)
            status = 2
    return status


def cmd_inspect(args) -> int:
    run = Run(_load(args.path))
    report = inspect_report(run)
    if args.json:
        print(dumps(report))
        return 0
    print("\n".join(inspect_text(run, report, args.path)))
    return 0


class _Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, total: int):
        self.total = max(total, 1)
        self.last = 0.0

    def __call__(self, run) -> None:
        """Called after each epoch of a Run (or a Sweep)."""
        now = time.monotonic()
        if now - self.last < 0.1 and getattr(run, "status", None) is None:
            return
        self.last = now
        self.draw(run)
        if getattr(run, "status", None) is not None:
            sys.stderr.write("\n")

    def draw(self, run) -> None:
        bar = "#" * int(30 * run.epoch / self.total)
        if isinstance(run, Run):
            what = f"loss {run.history.last:.4g}"
        else:
            what = f"{len(run.seeds) - len(run.runs)} of {len(run.seeds)} runs done"
        sys.stderr.write(f"\r[{bar:<30}] epoch {run.epoch}/{self.total}  {what} ")
        sys.stderr.flush()

    def done(self, run) -> None:
        self.draw(run)
        sys.stderr.write("\n")


def cmd_train(args) -> int:
    scenario = _load(args.path)
    run = Run(scenario, seed=args.seed, max_epochs=args.epochs)
    progress = _Progress(run.max_epochs) if sys.stderr.isatty() else None
    if args.save_as is not None:  # a path bptui will not write, or a network too big to save, costs no training
        try:
            check_target(args.save_as)
            problem = size_problem(run)  # builds the file's text: after the quick check
            if problem is not None:
                raise NotSaved(problem)
        except OSError as e:
            raise _not_written(args.save_as, e) from None
    with _sigterm_cleans_up():
        if args.trace is None:
            run.train(on_epoch=progress)
        else:
            run.keep_last_change = True
            try:
                with Trace(args.trace) as trace:  # opened first: a bad path costs no training
                    run.train(on_epoch=progress, on_change=trace.write)
            except OSError as e:
                raise _not_written(args.trace, e) from None
        if args.save_as is not None:
            if run.status == DIVERGED:
                print(f"bptui: {excerpt(str(args.save_as), PATH_EXCERPT)}: not written: the run diverged, so its "
                      f"weights are not finite numbers", file=sys.stderr)
            else:
                try:
                    save_scenario(run, args.save_as)
                except OSError as e:
                    raise _not_written(args.save_as, e) from None
    if args.json:
        print(dumps(train_report(run)))
        return 0
    last = run.history.last if run.history.count else float("nan")
    outcome = {
        CONVERGED: f"converged after {run.epoch} epochs (loss {last:.4g} < {scenario.training.error_criterion:g})",
        DIVERGED: f"diverged at epoch {run.epoch}: the loss or a weight is no longer a finite number; "
                  f"a smaller learning_rate may help",
    }.get(run.status, f"stopped after {run.epoch} epochs without converging (loss {last:.4g})"
          if run.epoch else f"no epoch run (loss at the starting weights {run.start_loss:.4g})")
    print(f"{printable(scenario.title)}: {outcome}; seed {run.seed}")
    if run.epoch:
        E = final_loss(run)
        print(f"loss at the final weights: {E:.4g} (an epoch's loss is read before its change)"
              if math.isfinite(E) else "loss at the final weights: not a finite number")
    patterns = pattern_results(run)
    classes = classifier(run)
    if classes is not None:  # a classifier: how many are right, and what is taken for what
        print("\n".join(accuracy_lines(patterns) + confusion_lines(patterns, classes)))
        listed = patterns if args.patterns or len(patterns) <= PATTERNS_LISTED else []
    else:
        listed = patterns if args.patterns else patterns[:PATTERNS_LISTED]
        if len(listed) < len(patterns):
            print("\n".join(accuracy_lines(patterns)))
    if listed:
        print("\n".join(pattern_lines(listed)))
    if len(listed) < len(patterns):
        what = f"{len(patterns) - len(listed):,} more" if listed else f"the {len(patterns):,}"
        print(f"  ({what} patterns not listed: --patterns lists every one)")
    warnings = warning_lines(run_warnings(run))
    if warnings:
        print("\n".join(warnings))
    if args.save_as is not None and run.status != DIVERGED:
        print(f"saved: {excerpt(str(args.save_as), PATH_EXCERPT)}")
    return 0


def _not_written(path, error: OSError) -> InputError:
    """A file train could not write: why bptui refused it (NotSaved), or the system's reason."""
    reason = error.strerror if isinstance(error, NotSaved) else f"cannot write: {error.strerror or error}"
    return InputError(str(path), [Problem(reason)])


@contextmanager
def _sigterm_cleans_up():
    """SIGTERM (``kill``, a closing session) ends training with its usual exit code (143),
    but through the code that removes a half-written file's temporary file, instead of on the spot."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread takes signals
        yield
        return

    def interrupt(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_sweep(args) -> int:
    scenario = _load(args.path)
    first = scenario.training.seed if args.seed is None else args.seed
    if first > MAX_SEED - (args.seeds - 1):  # every seed of the sweep one that train --seed takes
        raise InputError("sweep", [Problem(f"seeds {first} to {first + args.seeds - 1} go past the largest "
                                           f"seed, {MAX_SEED}: start at {MAX_SEED - args.seeds + 1} or lower "
                                           f"with --seed")])
    try:
        sweep = Sweep(scenario, list(range(first, first + args.seeds)), max_epochs=args.epochs)
    except ValueError as e:  # too many runs to hold in memory
        raise InputError("sweep", [Problem(str(e))]) from None
    progress = _Progress(sweep.max_epochs) if sys.stderr.isatty() else None
    result = sweep.run(on_epoch=progress)
    if progress is not None:
        progress.done(sweep)
    if args.json:
        print(json.dumps(result.report()))
        return 0
    print("\n".join(result.summary(printable(scenario.title))))
    epochs = [e for e in result.epochs if e is not None]
    if epochs:
        print(histogram(epochs))
    return 0


SERVE_EXTRA = "bptui: serve needs the optional extra: pip install 'bptui[serve]' (from a clone: pip install '.[serve]')"


def cmd_serve(args) -> int:
    """The app in a web browser: textual-serve runs ``bptui [PATH]`` for each browser tab."""
    if args.path:
        _load(args.path)  # a bad file is reported before the server starts
    try:
        from bptui.serve import serve  # textual-serve, an optional extra: only when it is wanted
    except ImportError:
        print(SERVE_EXTRA, file=sys.stderr)
        return 2
    _check_listen(args.host, args.port)  # before the server prints that it is serving
    if not _is_loopback(args.host):
        # Plain http: the token and the app's screens cross the network unencrypted, and the
        # token is all it takes to open and save files with this user's rights.
        print(f"bptui: serve: warning: listening on {printable(args.host)}, not this machine only: the page, its token "
              f"and the app travel unencrypted (http), and whoever has the token can open and save files as you",
              file=sys.stderr)
    words = [sys.executable, "-m", "bptui"] + ([args.path] if args.path else [])
    command = " ".join(shlex.quote(word) for word in words)  # run by a shell, one app per browser tab
    try:
        serve(command, host=args.host, port=args.port, title=f"bptui {args.path or ''}".strip())
    except OSError as e:  # taken in the moment since _check_listen
        raise InputError("serve", [Problem(_listen_problem(args.host, args.port, e))]) from None
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_listen(host: str, port: int) -> None:
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as e:
        raise InputError("serve", [Problem(_listen_problem(host, port, e))]) from None


def _listen_problem(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"cannot listen on {host} port {port}: the port is in use (choose another with --port)"
    reason = str(error.strerror or error).split(" (while attempting")[0]  # socket.create_server adds the address
    return f"cannot listen on {host} port {port}: {reason}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
            return _app(argv)
        args = _parser().parse_args(argv)
        if args.command is None:
            return _app([])
        commands = {"list": cmd_list, "check": cmd_check, "inspect": cmd_inspect, "train": cmd_train,
                    "sweep": cmd_sweep, "serve": cmd_serve}
        return commands[args.command](args)
    except InputError as e:
        for line in e.lines():
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception:
        # A bug's message may quote a file's text: escaped, as everything else printed.
        print(printable_lines(traceback.format_exc()), end="", file=sys.stderr)
        print("bptui: internal error (a bug in bptui): please report it with the lines above", file=sys.stderr)
        return 1


def _app(argv: list[str]) -> int:
    """``bptui`` (the gallery) or ``bptui PATH``: the terminal app."""
    parser = _Parser(prog="bptui", description=f"Watch backpropagation happen. {APP} Commands: "
                     + ", ".join(COMMANDS) + " ('bptui --help' tells them)")
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help=f"{SCENARIO}; without it, the gallery")
    parser.add_argument("--seed", type=_whole(0, MAX_SEED), help="seed for the starting weights")
    args = parser.parse_args(argv)
    # A bad file is reported before the app starts; one that takes long to read (megabytes
    # of data), as soon as it is read: the app shows a first frame meanwhile (issue 14).
    # It is read while the app's modules load.
    big = args.path is not None and _size(args.path) > READ_LATER
    future = _read_in_thread(args.path) if args.path and not big else None
    from bptui.app.app import Reading, run_app  # the app (and Textual) only when it is wanted

    scenario = reading = None
    if big:  # read by the app after its first frame: a read now would slow that frame down
        reading = Reading(args.path, None)
    elif future is not None:
        try:
            scenario = future.result(timeout=READ_HERE)
        except FutureTimeout:
            reading = Reading(args.path, future)
    return run_app(scenario, args.seed, reading=reading)


READ_HERE = 0.3  # seconds: a file read by then opens at once; a slower one behind a first frame
READ_LATER = 64 * 1024  # bytes: a bigger scenario file takes a tenth of a second or more to read (0.35 s for 175 KB)


def _size(path: str) -> int:
    """The scenario file's size in bytes; 0 when it cannot be told (a shipped name, a bad
    path: _load says what is wrong with it)."""
    try:
        return os.stat(catalog.resolve(path)).st_size
    except (OSError, ValueError, InputError):
        return 0


def _read_in_thread(path: str) -> Future:
    """``_load(path)`` in a daemon thread: quitting the app never waits for a read to end."""
    future: Future = Future()

    def read() -> None:
        try:
            future.set_result(_load(path))
        except BaseException as e:  # the InputError of a bad file, or a bug: for the waiter to raise
            future.set_exception(e)

    threading.Thread(target=read, name="read", daemon=True).start()
    return future
