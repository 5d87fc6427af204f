"""One epoch of the engine against a minimal hand-written numpy loop.

    python benchmarks/bench_engine.py [--rounds 7] [--round-seconds 0.2] [--json] [--check]

For each network, ``Run.train_epoch`` (batch update, momentum, sse, sigmoid) is timed
side by side with the plainest numpy loop a competent person would write for the SAME
network and data: forward with matmul + sigmoid, 1/2 SSE, backward, gradients summed
over the patterns, momentum update. The two networks:

  (a) xor:    the shipped 2-2-1 XOR scenario, 4 patterns;
  (b) random: 36-12-24, 104 patterns of random binary inputs and targets (fixed seed).

Before any timing, the loop is started from the engine's starting weights and both
must report the same loss, to within 1e-12, for the first 5 epochs: the timings are of
the same computation. Timings are interleaved in rounds (each round times N epochs of
the engine and N of the loop, in alternating order, N chosen so a round takes about
``--round-seconds``), so machine noise hits both alike; the per-epoch time reported
is the median over rounds. Target: engine at most 1.5x the loop on both networks.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python benchmarks/bench_engine.py` from a checkout
    sys.path.insert(0, str(ROOT))

from bptui.core.scenario import load_scenario, parse_scenario  # noqa: E402
from bptui.core.training import Run  # noqa: E402

TARGET = 1.5
CHECK_EPOCHS = 5
TOLERANCE = 1e-12


# --- the scenarios -------------------------------------------------------------------

def xor_scenario():
    return load_scenario(ROOT / "scenarios" / "xor.toml")


def random_scenario(n_in=36, n_hidden=12, n_out=24, n_patterns=104, seed=20240601):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n_patterns, n_in))
    t = rng.integers(0, 2, size=(n_patterns, n_out))

    def rows(a):
        return "[\n" + ",\n".join("  [" + ", ".join(str(int(v)) for v in row) + "]" for row in a) + "\n]"

    text = f"""
format = 1

[scenario]
title = "benchmark {n_in}-{n_hidden}-{n_out}"
summary = "random binary patterns"
story = "benchmark"

[[layers]]
name = "input"
size = {n_in}

[[layers]]
name = "hidden"
size = {n_hidden}
activation = "sigmoid"

[[layers]]
name = "output"
size = {n_out}
activation = "sigmoid"

[[connections]]
from = "input"
to = "hidden"

[[connections]]
from = "hidden"
to = "output"

[data]
inputs = {rows(x)}
targets = {rows(t)}

[training]
loss = "sse"
learning_rate = 0.02
momentum = 0.9
update = "batch"
epochs = 1000000000
error_criterion = 0.0
weight_init = 0.5
seed = 7
"""
    return parse_scenario(text, "<benchmark 36-12-24>")


# --- the minimal loop ----------------------------------------------------------------

def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class Loop:
    """A 1-hidden-layer sigmoid net, batch backprop with momentum, written plainly."""

    def __init__(self, W1, b1, W2, b2, X, T, lr, momentum):
        self.W1, self.b1, self.W2, self.b2 = (np.array(a, dtype=np.float64) for a in (W1, b1, W2, b2))
        self.V1, self.c1, self.V2, self.c2 = (np.zeros_like(a) for a in (self.W1, self.b1, self.W2, self.b2))
        self.X, self.T = X, T
        self.lr, self.momentum = lr, momentum

    def epoch(self):
        X, T, lr, mu = self.X, self.T, self.lr, self.momentum
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        # forward
        h = sigmoid(X @ W1.T + b1)
        y = sigmoid(h @ W2.T + b2)
        # loss and backward
        err = y - T
        E = 0.5 * np.sum(err * err)
        d2 = err * y * (1.0 - y)
        d1 = (d2 @ W2) * h * (1.0 - h)
        # momentum update with the gradients summed over the patterns
        self.V2 = mu * self.V2 - lr * (d2.T @ h)
        self.c2 = mu * self.c2 - lr * d2.sum(axis=0)
        self.V1 = mu * self.V1 - lr * (d1.T @ X)
        self.c1 = mu * self.c1 - lr * d1.sum(axis=0)
        W2 += self.V2
        b2 += self.c2
        W1 += self.V1
        b1 += self.c1
        return float(E)


def loop_from_run(run: Run) -> Loop:
    """A Loop with the engine run's current weights, data and settings."""
    net = run.network
    hidden, output = net.layer("hidden"), net.layer("output")
    (l1,), (l2,) = hidden.incoming, output.incoming
    lr, momentum, decay = run.settings(run.epoch + 1)
    tr = run.training
    assert (tr.update, tr.loss, decay, tr.margin, run.care) == ("batch", "sse", 0.0, 0.0, None)
    assert hidden.f.name == output.f.name == "sigmoid"
    return Loop(l1.w, hidden.b.reshape(-1), l2.w, output.b.reshape(-1),
                np.array(run.x, dtype=np.float64), np.array(run.t, dtype=np.float64), lr, momentum)


# --- checking and timing -------------------------------------------------------------

def check_same(scenario) -> float:
    """Both from the same starting weights: the first epochs' losses must agree."""
    run = Run(scenario)
    loop = loop_from_run(run)
    worst = 0.0
    for k in range(CHECK_EPOCHS):
        e_engine, e_loop = run.train_epoch(), loop.epoch()
        diff = abs(e_engine - e_loop)
        worst = max(worst, diff)
        if not diff <= TOLERANCE:
            raise SystemExit(f"engine and loop disagree at epoch {k + 1}: "
                             f"{e_engine!r} vs {e_loop!r} (|diff| = {diff:.3g} > {TOLERANCE})")
    return worst


def _time(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def bench(scenario, rounds: int, round_seconds: float) -> dict:
    worst = check_same(scenario)
    run = Run(scenario)
    loop = loop_from_run(run)  # same starting weights: both follow the same trajectory
    engine_epoch, loop_epoch = run.train_epoch, loop.epoch

    # Warm up, then pick N so one round (N engine epochs + N loop epochs) takes ~round_seconds.
    n = 1
    while True:
        spent = _time(engine_epoch, n) + _time(loop_epoch, n)
        if spent > 0.02 or n >= 1 << 20:
            break
        n *= 2
    n = max(1, round(n * round_seconds / spent))

    t_engine, t_loop = [], []
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            if r % 2 == 0:
                te = _time(engine_epoch, n)
                tl = _time(loop_epoch, n)
            else:
                tl = _time(loop_epoch, n)
                te = _time(engine_epoch, n)
            t_engine.append(te / n)
            t_loop.append(tl / n)
    finally:
        if gc_was_enabled:
            gc.enable()

    engine_med, loop_med = statistics.median(t_engine), statistics.median(t_loop)
    return {
        "epochs_per_round": n,
        "rounds": rounds,
        "check_epochs": CHECK_EPOCHS,
        "check_max_abs_loss_diff": worst,
        "engine_s_per_epoch": engine_med,
        "loop_s_per_epoch": loop_med,
        "ratio": engine_med / loop_med,
        "ratio_median_of_rounds": statistics.median(te / tl for te, tl in zip(t_engine, t_loop)),
        "engine_s_per_epoch_rounds": t_engine,
        "loop_s_per_epoch_rounds": t_loop,
        "within_target": engine_med / loop_med <= TARGET,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--round-seconds", type=float, default=0.2)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if the engine is over {TARGET}x the loop on any network")
    args = parser.parse_args(argv)

    networks = {
        "xor 2-2-1 (4 patterns)": xor_scenario(),
        "random 36-12-24 (104 patterns)": random_scenario(),
    }
    results = {name: bench(s, args.rounds, args.round_seconds) for name, s in networks.items()}

    if args.json:
        print(json.dumps({"target_ratio": TARGET, "numpy": np.__version__,
                          "python": sys.version.split()[0], "networks": results}, indent=2))
    else:
        print(f"{'network':32} {'engine us/epoch':>16} {'loop us/epoch':>14} {'ratio':>6}  "
              f"{'<= ' + str(TARGET):>7}  check")
        for name, r in results.items():
            print(f"{name:32} {r['engine_s_per_epoch'] * 1e6:16.2f} {r['loop_s_per_epoch'] * 1e6:14.2f} "
                  f"{r['ratio']:6.2f}  {'yes' if r['within_target'] else 'NO':>7}  "
                  f"{r['check_epochs']} epochs, max |dE| {r['check_max_abs_loss_diff']:.1e}")
        print(f"(median of {args.rounds} interleaved rounds; numpy {np.__version__}, "
              f"python {sys.version.split()[0]})")
    if args.check and not all(r["within_target"] for r in results.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
