"""Big networks, up to the loader's limit of 10 million weights: how soon the app shows a
first frame, how fast they train, and how much memory they take against their own arrays.

    python benchmarks/bench_big.py [--sizes 100x100x10,...] [--patterns 10] [--json] [--no-app]

For each size (inputs x hidden x outputs, sigmoid units, biases, ``--patterns`` random
patterns), a scenario file is written to a temporary directory, and then, each in a
fresh process:

  1. headless: the time to build the run the app shows (``controller.build``: the run,
     its first checkpoint and its first snapshot), the median time of an epoch over 5
     (``Run.train_epoch``, batch updates, after one untimed), and the peak memory of a
     session like the app's: the controller builds the run and trains it in its thread
     (snapshots, checkpoints, ledger lines, as in the app) for 3 s, then stops and rests.
     Memory is the peak resident set (``ru_maxrss``) less the process's size before the
     scenario was loaded, over the network's own arrays: theta, its gradient and the last
     change, 3 x 8 bytes a weight and bias;
  2. the app on a pseudo-terminal at 80x24 (bench_app.Terminal): the first frame, the
     first screen output that shows either the run ("epoch 0" and "loss") or the line
     that says the network is being built; and the time until the run is shown.

Targets (issue 14): a first frame within 1 s for any network the loader accepts, and
memory within a small multiple of the network's own arrays (here: at most 8 times).
A network trains "at interactive speed" when an epoch takes at most 0.25 s: four
epochs a second while training, and a step (n) answered within a quarter of a second.
The largest size that does is reported. Exit code 0 when every target is met.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import ROOT, Terminal, compile_app  # noqa: E402

SIZES = ("100x100x10", "300x300x100", "1000x1000x100", "1500x1500x500", "2000x2000x1000",
         "2500x2500x1000", "2500x2500x1498")
FIRST_FRAME_TARGET = 1.0  # seconds, at most
MEMORY_TARGET = 8.0  # peak memory over the network's own arrays, at most
INTERACTIVE_EPOCH = 0.25  # seconds an epoch, at most
APP_TIMEOUT = 60.0

HEADLESS = r"""
import json, resource, sys, threading, time
sys.path.insert(0, sys.argv[1])
import bptui  # first: one BLAS thread, as the app
import numpy as np
from bptui.core.controller import Controller, build
from bptui.core.scenario import load_scenario

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

before = rss()
scenario = load_scenario(sys.argv[2])
start = time.perf_counter()
built = build(scenario, None, False)
build_s = time.perf_counter() - start
run = built.run
own = 3 * 8 * run.network.theta.size
times = []
with np.errstate(all="ignore"):
    for _ in range(6):
        t = time.perf_counter()
        run.train_epoch()
        times.append(time.perf_counter() - t)
epoch_s = sorted(times[1:])[len(times[1:]) // 2]
del built, run

c = Controller()
c.load(scenario)
generation, budget = c.start()
reports = []
thread = threading.Thread(target=c.train, args=(generation, budget, lambda g, s, r, l: reports.append(r)))
thread.start()
time.sleep(3.0)
c.stop()
c.rest()
thread.join()
print(json.dumps({"weights": c.run.network.theta.size, "build_s": build_s, "epoch_s": epoch_s,
                  "epochs_in_session": c.run.epoch, "peak_bytes": rss() - before, "own_bytes": own}))
"""


def scenario_text(inputs: int, hidden: int, outputs: int, patterns: int, seed: int = 1) -> str:
    import numpy as np

    rng = np.random.default_rng(seed)

    def names(prefix: str, n: int) -> str:
        return "[" + ", ".join(f'"{prefix}{k}"' for k in range(n)) + "]"

    def rows(a) -> str:
        return "[" + ",\n  ".join("[" + ", ".join(f"{v:g}" for v in row) + "]" for row in a) + "]"

    x = rng.integers(0, 2, (patterns, inputs))
    t = rng.integers(0, 2, (patterns, outputs))
    return f"""format = 1
[scenario]
title = "{inputs}-{hidden}-{outputs}"
[[layers]]
name = "in"
units = {names("i", inputs)}
[[layers]]
name = "hidden"
units = {names("h", hidden)}
activation = "sigmoid"
[[layers]]
name = "out"
units = {names("o", outputs)}
activation = "sigmoid"
[[connections]]
from = "in"
to = "hidden"
[[connections]]
from = "hidden"
to = "out"
[data]
patterns = {names("p", patterns)}
inputs = {rows(x)}
targets = {rows(t)}
[training]
learning_rate = 0.01
momentum = 0.9
update = "batch"
epochs = 100000000
error_criterion = 0.0
"""


def headless(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", HEADLESS, str(ROOT), str(path)], capture_output=True, text=True,
                         check=True, cwd=str(ROOT))
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_app(path: Path) -> dict:
    term = Terminal([sys.executable, "-m", "bptui", str(path)], 80, 24, answer_sync=False)
    try:
        building = term.wait_for("building the network", term.t0, APP_TIMEOUT)
        term.found.wait(APP_TIMEOUT)
        shown = term.first_frame
        first = shown if building is None else building - term.t0
        return {"first_frame_s": first if shown is None else min(first, shown), "shown_s": shown}
    finally:
        term.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated INxHIDDENxOUT")
    parser.add_argument("--patterns", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-app", action="store_true", help="headless measures only")
    args = parser.parse_args()
    compile_app()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            inputs, hidden, outputs = (int(v) for v in size.split("x"))
            path = Path(tmp) / f"big-{size}.toml"
            path.write_text(scenario_text(inputs, hidden, outputs, args.patterns))
            r = {"size": size, **headless(path)}
            r["memory_ratio"] = r["peak_bytes"] / r["own_bytes"]
            if not args.no_app:
                r.update(in_app(path))
            results.append(r)
            if not args.json:
                print(line(r), flush=True)
    interactive = [r for r in results if r["epoch_s"] <= INTERACTIVE_EPOCH]
    largest = max(interactive, key=lambda r: r["weights"], default=None)
    met = all(r["memory_ratio"] <= MEMORY_TARGET and r.get("first_frame_s", 0) is not None
              and (r.get("first_frame_s") or 0) <= FIRST_FRAME_TARGET for r in results)
    if args.json:
        print(json.dumps({"results": results, "largest_interactive": largest and largest["size"],
                          "targets_met": met}, indent=1))
    else:
        print(f"largest at interactive speed (an epoch <= {INTERACTIVE_EPOCH} s): "
              f"{largest['size'] if largest else 'none'} ({largest['weights']:,} weights and biases)" if largest else
              "none at interactive speed")
    return 0 if met else 1


def line(r: dict) -> str:
    app = (f"  first frame {r['first_frame_s']:.2f} s, run shown {r['shown_s']:.2f} s"
           if r.get("first_frame_s") is not None else "")
    return (f"{r['size']:>16} {r['weights']:>11,}  build {r['build_s']:.2f} s  epoch {r['epoch_s'] * 1000:.0f} ms  "
            f"memory {r['memory_ratio']:.1f} x own ({r['peak_bytes'] / 2**20:.0f} MB)" + app)


if __name__ == "__main__":
    sys.exit(main())
