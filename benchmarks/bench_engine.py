"""One epoch of the engine against a minimal numpy loop, and against PyTorch on the CPU.

    python benchmarks/bench_engine.py [--rounds 7] [--round-seconds 0.2] [--json] [--check] [--no-torch]

For each network, ``Run.train_epoch`` (batch update, momentum) is timed side by side
with the plainest numpy loop a competent person would write for the SAME network and
data: forward with matmul and the activation, the loss, backward, gradients summed over
the patterns, momentum update. The networks:

  (a) xor:    the shipped 2-2-1 XOR scenario, 4 patterns (sigmoid, 1/2 SSE);
  (b) random: 36-12-24, 104 patterns of random binary inputs and targets (sigmoid, 1/2 SSE);
  (c) digits: the shipped digits scenario, 64-32-10, 1,438 training images, sigmoid
      hidden units, softmax outputs and the cross-entropy (the loop's output delta is
      simply a - t);
  (d) wide:   256-256-10, 2,000 random patterns with random one-hot targets, as (c):
      only for the sweep against PyTorch (and, for information, against the loop).

Before any timing, the loop is started from the engine's starting weights and both
must report the same loss for the first 5 epochs (to within 1e-12, relative to the
loss for the bigger ones): the timings are of the same computation. Timings are
interleaved in rounds (each round times N epochs of the engine and N of the other, in
alternating order, N chosen so a round takes about ``--round-seconds``), so machine
noise hits both alike; the per-epoch time reported is the median over rounds.
Target: engine at most 1.5x the loop on (a), (b) and (c).

PyTorch, when it is installed (an optional extra; skipped, and said so, otherwise):
the same networks as a plain ``nn.Module`` (``nn.Linear`` layers, ``torch.sigmoid``;
``0.5 * ((y - t) ** 2).sum()`` or ``F.cross_entropy(..., reduction="sum")``), trained
full-batch as a user would write it: ``zero_grad``, ``loss.backward()``,
``torch.optim.SGD(lr, momentum)`` and ``loss.item()``, from the engine's starting
weights in float64 (its losses are checked against the engine's like the loop's), and
for information in float32, torch's default. torch.optim.SGD's momentum
(buf = m buf + g; w -= lr buf) is bptui's rule dw = -lr g + m dw with a constant
learning rate. Threads match: bptui runs numpy on one BLAS thread (bptui/__init__.py),
so torch gets ``torch.set_num_threads(1)``. Target: bptui at least 5x faster on XOR;
the sweep over (a) to (d) shows where PyTorch catches up as the network grows.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python benchmarks/bench_engine.py` from a checkout
    sys.path.insert(0, str(ROOT))

import bptui  # noqa: E402,F401  first, before numpy: it sets one BLAS thread, as the app and the CLI run
import numpy as np  # noqa: E402

from bptui.core.scenario import load_scenario, parse_scenario  # noqa: E402
from bptui.core.training import Run  # noqa: E402

TARGET = 1.5  # engine / loop, at most
TORCH_TARGET = 5.0  # torch / engine on XOR, at least
CHECK_EPOCHS = 5
TOLERANCE = 1e-12  # |difference| of the losses, relative to max(1, |loss|)
TORCH32_TOLERANCE = 1e-4  # float32 rounds differently: only a sanity check


# --- the scenarios -------------------------------------------------------------------

def xor_scenario():
    return load_scenario(ROOT / "scenarios" / "xor.toml")


def layered_text(n_in: int, n_hidden: int, n_out: int, output: str, data: str, loss: str,
                 learning_rate: float, weight_init: float, summary: str) -> str:
    """A scenario file: n_in inputs, n_hidden sigmoid units and n_out outputs, batch
    training with momentum 0.9 that never stops by itself (a benchmark times epochs)."""
    return f"""
format = 1

[scenario]
title = "benchmark {n_in}-{n_hidden}-{n_out}"
summary = "{summary}"
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
activation = "{output}"

[[connections]]
from = "input"
to = "hidden"

[[connections]]
from = "hidden"
to = "output"

[data]
{data}

[training]
loss = "{loss}"
learning_rate = {learning_rate}
momentum = 0.9
update = "batch"
epochs = 1000000000
error_criterion = 0.0
weight_init = {weight_init}
seed = 7
"""


def random_scenario(n_in=36, n_hidden=12, n_out=24, n_patterns=104, seed=20240601):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n_patterns, n_in))
    t = rng.integers(0, 2, size=(n_patterns, n_out))

    def rows(a):
        return "[\n" + ",\n".join("  [" + ", ".join(str(int(v)) for v in row) + "]" for row in a) + "\n]"

    text = layered_text(n_in, n_hidden, n_out, "sigmoid", f"inputs = {rows(x)}\ntargets = {rows(t)}", "sse",
                        0.02, 0.5, "random binary patterns")
    return parse_scenario(text, "<benchmark 36-12-24>")


def digits_scenario():
    return load_scenario(ROOT / "scenarios" / "digits.toml")


def wide_scenario(n_in=256, n_hidden=256, n_out=10, n_patterns=2000, seed=20240602):
    """Random inputs in [0, 1) and random one-hot targets, softmax and cross-entropy, as the digits."""
    rng = np.random.default_rng(seed)
    x = rng.random((n_patterns, n_in)).round(4)
    t = np.eye(n_out)[rng.integers(0, n_out, size=n_patterns)]
    with tempfile.TemporaryDirectory(prefix="bptui-bench-") as folder:
        header = ",".join([f"x{i}" for i in range(n_in)] + [f"y{k}" for k in range(n_out)])
        rows = "\n".join(",".join(f"{v:g}" for v in row) for row in np.hstack([x, t]))
        (Path(folder) / "wide.csv").write_text(header + "\n" + rows + "\n")
        text = layered_text(n_in, n_hidden, n_out, "softmax", 'file = "wide.csv"', "cross_entropy",
                            0.001, 0.1, "random patterns, random classes")
        return parse_scenario(text, f"<benchmark {n_in}-{n_hidden}-{n_out}>", base=Path(folder))


# --- the minimal loop ----------------------------------------------------------------

def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class Loop:
    """A 1-hidden-layer sigmoid net, batch backprop with momentum, written plainly: sigmoid
    outputs and 1/2 SSE, or (``softmax=True``) softmax outputs and the cross-entropy."""

    def __init__(self, W1, b1, W2, b2, X, T, lr, momentum, softmax=False):
        self.W1, self.b1, self.W2, self.b2 = (np.array(a, dtype=np.float64) for a in (W1, b1, W2, b2))
        self.V1, self.c1, self.V2, self.c2 = (np.zeros_like(a) for a in (self.W1, self.b1, self.W2, self.b2))
        self.X, self.T = X, T
        self.lr, self.momentum = lr, momentum
        self.softmax = softmax

    def epoch(self):
        X, T, lr, mu = self.X, self.T, self.lr, self.momentum
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        # forward
        h = sigmoid(X @ W1.T + b1)
        z = h @ W2.T + b2
        if self.softmax:
            # softmax and the cross-entropy: E = -sum t log y, and the output delta is y - t
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            y = e / s
            E = -np.sum(T * (z - np.log(s)))
            d2 = y - T
        else:
            y = sigmoid(z)
            err = y - T
            E = 0.5 * np.sum(err * err)
            d2 = err * y * (1.0 - y)
        # backward
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


def two_layers(net):
    """The hidden and the output layer of a one-hidden-layer network."""
    (inputs,), (hidden, output) = net.inputs, net.computed
    assert [link.sender for link in hidden.incoming] == [inputs]
    assert [link.sender for link in output.incoming] == [hidden]
    return hidden, output


def loop_from_run(run: Run) -> Loop:
    """A Loop with the engine run's current weights, data and settings."""
    net = run.network
    hidden, output = two_layers(net)
    (l1,), (l2,) = hidden.incoming, output.incoming
    lr, momentum, decay = run.settings(run.epoch + 1)
    tr = run.training
    assert (tr.update, decay, tr.margin, run.care, tr.schedule) == ("batch", 0.0, 0.0, None, ())
    assert hidden.f.name == "sigmoid"
    assert (tr.loss, output.f.name) in (("sse", "sigmoid"), ("cross_entropy", "softmax"))
    return Loop(l1.w, hidden.b.reshape(-1), l2.w, output.b.reshape(-1),
                np.array(run.x, dtype=np.float64), np.array(run.t, dtype=np.float64), lr, momentum,
                softmax=output.f.name == "softmax")


# --- PyTorch, as a user would write it -----------------------------------------------

def torch_or_none():
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


class TorchLoop:
    """The same network as a normal nn.Module, trained full-batch with torch.optim.SGD."""

    def __init__(self, run: Run, dtype: str = "float64"):
        import torch
        import torch.nn.functional as F
        from torch import nn

        net = run.network
        hidden, output = two_layers(net)
        (l1,), (l2,) = hidden.incoming, output.incoming
        lr, momentum, _ = run.settings(run.epoch + 1)
        softmax = output.f.name == "softmax"
        dt = getattr(torch, dtype)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.Linear(l1.w.shape[1], l1.w.shape[0], dtype=dt)
                self.output = nn.Linear(l2.w.shape[1], l2.w.shape[0], dtype=dt)

            def forward(self, x):
                return self.output(torch.sigmoid(self.hidden(x)))  # the output's net input

        model = Net()
        with torch.no_grad():  # the engine's starting weights
            model.hidden.weight.copy_(torch.from_numpy(l1.w.copy()))
            model.hidden.bias.copy_(torch.from_numpy(hidden.b.reshape(-1).copy()))
            model.output.weight.copy_(torch.from_numpy(l2.w.copy()))
            model.output.bias.copy_(torch.from_numpy(output.b.reshape(-1).copy()))
        X = torch.from_numpy(np.array(run.x, dtype=np.float64)).to(dt)
        if softmax:
            T = torch.from_numpy(np.asarray(run.t).argmax(axis=1))  # class indices, as usual
            assert np.array_equal(np.eye(run.t.shape[1])[T.numpy()], run.t), "one-hot targets"

            def loss_fn(z):
                return F.cross_entropy(z, T, reduction="sum")
        else:
            T = torch.from_numpy(np.array(run.t, dtype=np.float64)).to(dt)

            def loss_fn(z):
                return 0.5 * ((torch.sigmoid(z) - T) ** 2).sum()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

        def epoch():
            optimizer.zero_grad()
            loss = loss_fn(model(X))
            loss.backward()
            optimizer.step()
            return loss.item()

        self.epoch = epoch


# --- checking and timing -------------------------------------------------------------

def check_same(scenario, make_other=loop_from_run, tolerance=TOLERANCE, what="loop") -> float:
    """Both from the same starting weights: the first epochs' losses must agree (the
    difference relative to max(1, |loss|)). Returns the worst difference seen."""
    run = Run(scenario)
    other = make_other(run)
    worst = 0.0
    with np.errstate(all="ignore"):
        for k in range(CHECK_EPOCHS):
            e_engine, e_other = run.train_epoch(), other.epoch()
            diff = abs(e_engine - e_other) / max(1.0, abs(e_engine))
            worst = max(worst, diff)
            if not diff <= tolerance:
                raise SystemExit(f"engine and {what} disagree at epoch {k + 1} on {scenario.title}: "
                                 f"{e_engine!r} vs {e_other!r} (relative difference {diff:.3g} > {tolerance})")
    return worst


def _time(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def bench(scenario, rounds: int, round_seconds: float, make_other=loop_from_run,
          tolerance=TOLERANCE, what="loop") -> dict:
    """The engine against ``make_other(run)`` (the loop, or torch): seconds per epoch of
    each, medians over interleaved rounds, and engine / other."""
    worst = check_same(scenario, make_other, tolerance, what)
    run = Run(scenario)
    other = make_other(run)  # same starting weights: both follow the same trajectory
    engine_epoch, other_epoch = run.train_epoch, other.epoch

    # Warm up, then pick N so one round (N engine epochs + N other epochs) takes ~round_seconds.
    n = 1
    while True:
        spent = _time(engine_epoch, n) + _time(other_epoch, n)
        if spent > 0.02 or n >= 1 << 20:
            break
        n *= 2
    n = max(1, round(n * round_seconds / spent))

    t_engine, t_other = [], []
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            if r % 2 == 0:
                te = _time(engine_epoch, n)
                to = _time(other_epoch, n)
            else:
                to = _time(other_epoch, n)
                te = _time(engine_epoch, n)
            t_engine.append(te / n)
            t_other.append(to / n)
    finally:
        if gc_was_enabled:
            gc.enable()

    engine_med, other_med = statistics.median(t_engine), statistics.median(t_other)
    ratios = [te / to for te, to in zip(t_engine, t_other)]
    return {
        "epochs_per_round": n,
        "rounds": rounds,
        "check_epochs": CHECK_EPOCHS,
        "check_max_rel_loss_diff": worst,
        "engine_s_per_epoch": engine_med,
        "other_s_per_epoch": other_med,
        "ratio": engine_med / other_med,  # engine / other: below 1, the engine is faster
        "ratio_rounds_min": min(ratios),
        "ratio_rounds_max": max(ratios),
        "engine_s_per_epoch_rounds": t_engine,
        "other_s_per_epoch_rounds": t_other,
    }


NETWORKS = {  # name: (scenario factory, against the loop (with the target), against torch)
    "xor": ("XOR 2-2-1, 4 patterns", xor_scenario),
    "random": ("36-12-24, 104 patterns", random_scenario),
    "digits": ("digits 64-32-10, 1,438 patterns", digits_scenario),
    "wide": ("256-256-10, 2,000 patterns", wide_scenario),
}
LOOP_TARGETED = ("xor", "random", "digits")


def blas_threads() -> str:
    return os.environ.get("OPENBLAS_NUM_THREADS", "?")


def measure(rounds: int = 7, round_seconds: float = 0.2, torch_wanted: bool = True,
            networks=tuple(NETWORKS)) -> dict:
    """Every comparison, as a JSON-ready dict."""
    torch = torch_or_none() if torch_wanted else None
    out = {"target_ratio": TARGET, "torch_target": TORCH_TARGET, "numpy": np.__version__,
           "python": sys.version.split()[0], "blas_threads": blas_threads(), "networks": {}}
    if torch is None:
        out["torch"] = None
        out["torch_skipped"] = ("not installed (pip install torch, an optional extra)" if torch_wanted
                                else "not asked for (--no-torch)")
    else:
        torch.set_num_threads(1)  # bptui's numpy runs on one BLAS thread
        out["torch"] = torch.__version__
        out["torch_threads"] = torch.get_num_threads()
    for key in networks:
        label, make = NETWORKS[key]
        scenario = make()
        r = {"label": label, "loop": bench(scenario, rounds, round_seconds)}
        if key in LOOP_TARGETED:
            r["loop"]["within_target"] = r["loop"]["ratio"] <= TARGET
        if torch is not None:
            r["torch"] = bench(scenario, rounds, round_seconds, TorchLoop, TOLERANCE, "torch (float64)")
            r["torch"]["speedup"] = 1 / r["torch"]["ratio"]  # torch / engine: above 1, bptui is faster
            r["torch32"] = bench(scenario, rounds, round_seconds, lambda run: TorchLoop(run, "float32"),
                                 TORCH32_TOLERANCE, "torch (float32)")
            r["torch32"]["speedup"] = 1 / r["torch32"]["ratio"]
        out["networks"][key] = r
    if torch is not None and "xor" in out["networks"]:
        out["torch_within_target"] = out["networks"]["xor"]["torch"]["speedup"] >= TORCH_TARGET
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--round-seconds", type=float, default=0.2)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    parser.add_argument("--networks", default=",".join(NETWORKS),
                        help=f"comma-separated, from {', '.join(NETWORKS)}")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if the engine is over {TARGET}x the loop on any network")
    args = parser.parse_args(argv)
    results = measure(args.rounds, args.round_seconds, not args.no_torch, tuple(args.networks.split(",")))

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'network':34} {'engine us':>10} {'loop us':>10} {'ratio':>6}  {'<= ' + str(TARGET):>7}  check")
        for r in results["networks"].values():
            loop = r["loop"]
            ok = {True: "yes", False: "NO"}.get(loop.get("within_target"), "(info)")
            print(f"{r['label']:34} {loop['engine_s_per_epoch'] * 1e6:10.2f} {loop['other_s_per_epoch'] * 1e6:10.2f} "
                  f"{loop['ratio']:6.2f}  {ok:>7}  {loop['check_epochs']} epochs, "
                  f"max rel. |dE| {loop['check_max_rel_loss_diff']:.1e}")
        if results["torch"] is None:
            print(f"PyTorch: skipped, {results['torch_skipped']}")
        else:
            print(f"\nPyTorch {results['torch']} on {results['torch_threads']} thread(s): "
                  f"torch time / bptui time per epoch (above 1: bptui is faster)")
            print(f"{'network':34} {'bptui us':>10} {'torch64 us':>11} {'x':>6} {'torch32 us':>11} {'x':>6}")
            for r in results["networks"].values():
                t64, t32 = r["torch"], r["torch32"]
                print(f"{r['label']:34} {t64['engine_s_per_epoch'] * 1e6:10.1f} {t64['other_s_per_epoch'] * 1e6:11.1f} "
                      f"{t64['speedup']:6.2f} {t32['other_s_per_epoch'] * 1e6:11.1f} {t32['speedup']:6.2f}")
        print(f"(median of {args.rounds} interleaved rounds; numpy {np.__version__} on "
              f"{results['blas_threads']} BLAS thread(s), python {results['python']})")
    loops = [r["loop"]["within_target"] for r in results["networks"].values() if "within_target" in r["loop"]]
    if args.check and not all(loops):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
