"""The command line: ``bptui list | check | inspect | train | sweep | serve``, thin over bptui.core.

Exit codes (SPEC section 2): 0 success, 2 bad input, 1 a bug. Bad input is reported
as ``bptui: PATH:LINE: what is wrong``, one line per problem, never as a traceback.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import math
import shlex
import socket
import sys
import time
import traceback
from pathlib import Path

from bptui import __version__
from bptui.core import catalog
from bptui.core.errors import InputError, Problem, printable
from bptui.core.ledger import Trace
from bptui.core.report import (classifier, dumps, final_loss, inspect_report, pattern_results,
                               train_report)
from bptui.core.save import scenario_toml, write_atomic
from bptui.core.scenario import MAX_EPOCHS, MAX_SEED, load_scenario
from bptui.core.sweep import Sweep, histogram
from bptui.core.training import CONVERGED, DIVERGED, Run
from bptui.text import PATTERNS_LISTED, accuracy_lines, confusion_lines, inspect_text, pattern_lines

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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bptui", description="Watch backpropagation happen.")
    parser.add_argument("--version", action="version", version=f"bptui {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("list", help="list the built-in scenarios")
    check = sub.add_parser("check", help="validate scenario files")
    check.add_argument("paths", nargs="+", metavar="PATH")
    inspect = sub.add_parser("inspect", help="one forward and backward pass at the starting weights")
    inspect.add_argument("path", metavar="PATH")
    inspect.add_argument("--json", action="store_true", help="print JSON (SPEC section 5)")
    train = sub.add_parser("train", help="train headless")
    train.add_argument("path", metavar="PATH")
    train.add_argument("--epochs", type=_whole(0, MAX_EPOCHS), help="the most epochs to run")
    train.add_argument("--seed", type=_whole(0, MAX_SEED), help="seed for the starting weights")
    train.add_argument("--json", action="store_true", help="print JSON (SPEC section 5)")
    train.add_argument("--patterns", action="store_true",
                       help=f"list every pattern with its output and target (without it: the first "
                            f"{PATTERNS_LISTED}; for a classifier with more, none; --json lists all)")
    train.add_argument("--save-as", metavar="OUT.toml", type=Path,
                       help="also write the trained state as a scenario file")
    train.add_argument("--trace", metavar="FILE.jsonl", type=Path,
                       help="also write every weight change as a line of JSON (docs/trace.md)")
    sweep = sub.add_parser("sweep", help="train many seeds at once: how often, how fast it learns")
    sweep.add_argument("path", metavar="PATH")
    sweep.add_argument("--seeds", type=_whole(1, 100_000), required=True, help="how many seeds (from the file's seed on)")
    sweep.add_argument("--epochs", type=_whole(0, MAX_EPOCHS), help="the most epochs each run takes")
    sweep.add_argument("--json", action="store_true", help="print JSON (SPEC section 2)")
    serve = sub.add_parser("serve", help="the app in a web browser (needs the optional extra 'serve')")
    serve.add_argument("path", nargs="?", metavar="PATH", help="a scenario file or built-in name (default: the gallery)")
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
        print(f"{name:<{width}}  {summary}")
    return 0


def cmd_check(args) -> int:
    status = 0
    for name in args.paths:
        try:
            _load(name)
            print(f"ok: {name}")
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
    if args.trace is None:
        run.train(on_epoch=progress)
    else:
        run.keep_last_change = True
        try:
            with Trace(args.trace) as trace:  # opened first: a bad path costs no training
                run.train(on_epoch=progress, on_change=trace.write)
        except OSError as e:
            raise InputError(str(args.trace), [Problem(f"cannot write: {e.strerror or e}")]) from None
    if args.save_as is not None:
        if run.status == DIVERGED:
            print(f"bptui: {args.save_as}: not written: the run diverged, so its weights are not "
                  f"finite numbers", file=sys.stderr)
        else:
            try:
                write_atomic(args.save_as, scenario_toml(run, args.save_as))
            except OSError as e:
                raise InputError(str(args.save_as), [Problem(f"cannot write: {e.strerror or e}")]) from None
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
    if args.save_as is not None and run.status != DIVERGED:
        print(f"saved: {args.save_as}")
    return 0


def cmd_sweep(args) -> int:
    scenario = _load(args.path)
    first = scenario.training.seed
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
    print("\n".join(result.summary(scenario.title)))
    epochs = [e for e in result.epochs if e is not None]
    if epochs:
        print(histogram(epochs, color=sys.stdout.isatty()))
    return 0


SERVE_EXTRA = "bptui: serve needs the optional extra: pip install 'bptui[serve]' (from a clone: pip install '.[serve]')"


def cmd_serve(args) -> int:
    """The app in a web browser: textual-serve runs ``bptui [PATH]`` for each browser tab."""
    if args.path:
        _load(args.path)  # a bad file is reported before the server starts
    try:
        from textual_serve.server import Server  # an optional extra: only when it is wanted
    except ImportError:
        print(SERVE_EXTRA, file=sys.stderr)
        return 2
    _check_listen(args.host, args.port)  # before the server prints that it is serving
    if not _is_loopback(args.host):
        # textual-serve has no login, and the app opens and saves files with this user's rights.
        print(f"bptui: serve: warning: listening on {args.host}, not this machine only: anyone who can "
              f"reach port {args.port} can use the app, with no password, and open and save files as you",
              file=sys.stderr)
    words = [sys.executable, "-m", "bptui"] + ([args.path] if args.path else [])
    command = " ".join(shlex.quote(word) for word in words)  # run by a shell, one app per browser tab
    server = Server(command, host=args.host, port=args.port, title=f"bptui {args.path or ''}".strip())
    try:
        server.serve()
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
        traceback.print_exc()
        print("bptui: internal error (a bug in bptui): please report it with the lines above", file=sys.stderr)
        return 1


def _app(argv: list[str]) -> int:
    """``bptui`` (the gallery) or ``bptui PATH``: the terminal app."""
    parser = _Parser(prog="bptui", description="Watch backpropagation happen. Commands: " + ", ".join(COMMANDS))
    parser.add_argument("path", nargs="?", metavar="PATH", help="a scenario file or built-in name")
    parser.add_argument("--seed", type=_whole(0, MAX_SEED), help="seed for the starting weights")
    args = parser.parse_args(argv)
    scenario = _load(args.path) if args.path else None  # a bad file is reported before the app starts
    from bptui.app.app import run_app  # the app (and Textual) only when it is wanted

    return run_app(scenario, args.seed)
