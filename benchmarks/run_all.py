"""Every benchmark in one run: writes docs/performance.md.

    python benchmarks/run_all.py [--quick] [--out docs/performance.md] [--json FILE] [--only engine,sweep,app,long]

Runs, each in fresh processes, and in this order:

  engine  benchmarks/bench_engine.py: the engine against a minimal numpy loop, and against
          PyTorch when it is installed (XOR, 36-12-24, the digits, 256-256-10);
  sweep   benchmarks/bench_sweep.py: 200 XOR seeds at once against one by one;
  app     benchmarks/bench_app.py: the app on a pseudo-terminal (XOR at 80x24 and 120x40,
          the digits at 80x24): first frame, bytes per second, the delay from a key to the
          screen while training, epochs per second against headless;
  long    benchmarks/bench_long_session.py: memory over a long session in the app;
  big     benchmarks/bench_big.py: networks up to the loader's limit of 10 million weights:
          first frame in the app, epoch time, memory against the network's own arrays.

Every number is a ratio or a median of several runs (and each run's number is itself a
median of interleaved rounds, see each script), with its range; the machine, the versions,
the commit and the load average go at the top. Nothing here is a timed test: a missed
target is reported, not failed. ``--quick`` runs each once, with fewer rounds (about 3
minutes instead of about 10 on 2 cores). ``--only`` runs some sections and leaves the others out of
the file (say so in a commit). Exit code 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PY = sys.executable

FULL = {"engine_runs": 3, "engine_rounds": 7, "round_seconds": 0.2, "sweep_rounds": 5, "app_runs": 3,
        "presses": 10, "slow_presses": 6, "rate_rounds": 3, "long_epochs": 1_000_000}
QUICK = {"engine_runs": 1, "engine_rounds": 5, "round_seconds": 0.1, "sweep_rounds": 2, "app_runs": 1,
         "presses": 8, "slow_presses": 4, "rate_rounds": 2, "long_epochs": 200_000}
APP_SESSIONS = (("xor", "80x24"), ("xor", "120x40"), ("digits", "80x24"))
NETWORK_ORDER = ("xor", "random", "digits", "wide")
SECTIONS = ("engine", "sweep", "app", "long", "big")
# The budgets (issue 13): a missed one is reported, not failed.
SWEEP_TARGET = 15  # the sweep against single runs, at least (x)
FIRST_FRAME_TARGET = 0.5  # seconds, at most
PAUSED_TARGET = 1000  # bytes a second while paused, at most
TRAINING_TARGET = 10_000  # bytes a second while training at 80x24, at most ...
LARGE_TRAINING_TARGET = 40_000  # ... and in a larger window
KEY_TARGET = 0.050  # seconds, key to screen while training, median at most


def training_target(name: str) -> int:
    """The output budget while training of a session ("xor 80x24"): 80x24 is the budget's window."""
    return TRAINING_TARGET if name.endswith(" 80x24") else LARGE_TRAINING_TARGET


# --- running ---------------------------------------------------------------------------

def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}"


def run_json(argv: list[str], what: str):
    """Run a benchmark script with --json; its last stdout line that parses as JSON (or the
    whole output), or None when it failed."""
    start = time.perf_counter()
    proc = subprocess.run([PY, *argv], capture_output=True, text=True, cwd=str(ROOT))
    seconds = time.perf_counter() - start
    out = proc.stdout.strip()
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        data = None
        for line in reversed(out.splitlines()):
            try:
                data = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
    if data is None:
        print(f"run_all: {what} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    else:
        print(f"run_all: {what}: {seconds:.0f} s", file=sys.stderr, flush=True)
    return data


def run_engine(cfg: dict) -> dict:
    before = load()
    runs = [run_json([str(BENCH / "bench_engine.py"), "--json", "--rounds", str(cfg["engine_rounds"]),
                      "--round-seconds", str(cfg["round_seconds"])], f"engine run {k + 1}")
            for k in range(cfg["engine_runs"])]
    return {"runs": [r for r in runs if r is not None], "load_before": before, "load_after": load()}


def run_sweep(cfg: dict) -> dict:
    before = load()
    data = run_json([str(BENCH / "bench_sweep.py"), "--json", "--rounds", str(cfg["sweep_rounds"])], "sweep")
    return {"result": data, "load_before": before, "load_after": load()}


def run_app(cfg: dict) -> dict:
    before = load()
    sessions = {}
    for scenario, size in APP_SESSIONS:
        runs = []
        for k in range(cfg["app_runs"]):
            data = run_json([str(BENCH / "bench_app.py"), "--json", "--scenario", scenario, "--sizes", size,
                             "--presses", str(cfg["presses"]), "--slow-presses", str(cfg["slow_presses"]),
                             "--rate-rounds", str(cfg["rate_rounds"])], f"app {scenario} {size} run {k + 1}")
            if data is not None:
                runs += data["results"]
        sessions[f"{scenario} {size}"] = runs
    return {"sessions": sessions, "load_before": before, "load_after": load()}


def run_big(cfg: dict) -> dict:
    before = load()
    data = run_json([str(BENCH / "bench_big.py"), "--json"], "big networks") or {"results": [], "largest_interactive": None}
    return {**data, "load_before": before, "load_after": load()}


def run_long(cfg: dict) -> dict:
    before = load()
    data = run_json([str(BENCH / "bench_long_session.py"), "--json", "--epochs", str(cfg["long_epochs"])],
                    "long session")
    return {"samples": data, "load_before": before, "load_after": load()}


# --- the machine -----------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(module: str) -> str | None:
    try:
        from importlib.metadata import version as v
        return v(module)
    except Exception:
        return None


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> dict:
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu_model(),
            "cores": os.cpu_count(), "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "numpy": version("numpy"), "textual": version("textual"),
            "torch": version("torch"), "commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "dirty": bool(dirty)}


# --- numbers ---------------------------------------------------------------------------

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values) -> tuple[float, float] | None:
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else None


def fmt(x, digits=2, unit="") -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}{unit}"


def with_range(m, r, digits=2, unit="") -> str:
    if m is None:
        return "n/a"
    if r is None or (round(r[0], digits) == round(r[1], digits)):
        return f"{fmt(m, digits)}{unit}"
    return f"{fmt(m, digits)}{unit} ({fmt(r[0], digits)}{unit} to {fmt(r[1], digits)}{unit})"


def yes(flag) -> str:
    return "n/a" if flag is None else ("**yes**" if flag else "**NO**")


def engine_numbers(engine: dict) -> dict:
    """Per network: medians over the runs of each run's medians, and the range over the runs
    (over the rounds, when there is one run)."""
    runs = engine["runs"]
    out = {}
    if not runs:
        return out
    for key in NETWORK_ORDER:
        per = [r["networks"][key] for r in runs if key in r["networks"]]
        if not per:
            continue
        row = {"label": per[0]["label"], "runs": len(per)}
        for part, ratio in (("loop", "ratio"), ("torch", "speedup"), ("torch32", "speedup")):
            if part not in per[0]:
                continue
            values = [p[part][ratio] for p in per]
            if len(per) > 1:
                rng = spread(values)
            elif ratio == "ratio":
                rng = (per[0][part]["ratio_rounds_min"], per[0][part]["ratio_rounds_max"])
            else:  # a speedup is 1 / ratio
                rng = (1 / per[0][part]["ratio_rounds_max"], 1 / per[0][part]["ratio_rounds_min"])
            row[part] = {"value": med(values), "range": rng,
                         "engine_us": med(p[part]["engine_s_per_epoch"] * 1e6 for p in per),
                         "other_us": med(p[part]["other_s_per_epoch"] * 1e6 for p in per),
                         "check": max(p[part]["check_max_rel_loss_diff"] for p in per)}
        out[key] = row
    return out


def app_numbers(runs: list[dict]) -> dict:
    if not runs:
        return {}
    keys = [x for r in runs for x in r.get("key_latencies_s", [])]
    slow = [x for r in runs for x in r.get("slow_key_latencies_s", [])]
    answered = [x for x in keys if x is not None]
    slow_answered = [x for x in slow if x is not None]
    rates = [x for r in runs for x in r.get("rate_rounds", [])]
    out = {"runs": len(runs)}
    for name in ("first_frame_s", "paused_Bps", "training_Bps", "training_cpu", "training_cpu_ui_thread"):
        values = [r.get(name) for r in runs]
        out[name] = (med(values), spread(values))
    out["keys"] = (med(answered), spread(answered), len(keys) - len(answered), len(keys))
    out["slow_keys"] = (med(slow_answered), spread(slow_answered), len(slow) - len(slow_answered), len(slow))
    out["rate"] = (med(rates), spread(rates), len(rates))
    out["app_eps"] = med(x for r in runs for x in r.get("app_rounds", []))
    out["headless_eps"] = med(x for r in runs for x in r.get("headless_rounds", []))
    out["status_eps"] = med(r.get("status_line_epochs_per_s") for r in runs)
    out["quit"] = all(r["ok"]["quit"] for r in runs)
    out["trained"] = all(r.get("trained") for r in runs)
    return out


# --- the document ----------------------------------------------------------------------

ENGINE_TEXT = """\
`benchmarks/bench_engine.py` times one training epoch (batch update, momentum) of bptui's
engine (`Run.train_epoch`) against the plainest hand-written numpy loop for the same
network: forward with two matrix products, the loss, backward, summed gradients, momentum
update. The digits loop uses softmax outputs and the cross-entropy, so its output delta is
simply a - t. Before timing, it checks that both compute the same losses for five epochs
from the same starting weights (the largest relative difference is in the table), so the
comparison is of the same computation. Both run numpy on one BLAS thread, as bptui always
does (`bptui/__init__.py`: for networks this small a second thread costs more than it
saves)."""

def engine_why(eng: dict) -> str:
    small = [eng[k]["loop"]["value"] for k in ("xor", "random") if k in eng and "loop" in eng[k]]
    text = ["On the small networks the engine costs no more than the minimal loop"
            + (f" (it is even {(1 - min(small)) * 100:.0f}% faster on one)" if small and min(small) < 0.95 else "")
            + ", because it runs the same numpy calls with less overhead: the graph is compiled once into a "
            "plan, every weight and bias lives in one vector (so the update is three numpy calls whatever the "
            "network's shape), constants are 0-d arrays, and steps that a scenario does not use (margin, "
            "don't-care targets, weight decay) are skipped. At these sizes an epoch is dominated by the fixed "
            "cost of numpy calls (about 1 us each), not by arithmetic."]
    digits = eng.get("digits", {}).get("loop")
    if digits is not None and digits["value"] > 1.05:
        text.append(f"On the digits the engine is {(digits['value'] - 1) * 100:.0f}% slower than the loop: it "
                    "takes the exponentials of the softmax twice, once for the activations in the forward pass "
                    "and again for the log-probabilities of the loss (`output_error` in `bptui/core/functions.py`), "
                    "about 110 us of an epoch's 670 when this was written, where the loop reuses the first.")
    return " ".join(text)


TORCH_TEXT = """\
The same script trains the same networks with PyTorch on the CPU, as a user would write
them: an `nn.Module` of two `nn.Linear` layers and `torch.sigmoid`, the loss
`0.5 * ((y - t) ** 2).sum()` (or `F.cross_entropy(..., reduction="sum")` with class
indices for the softmax networks), and per epoch `zero_grad()`, `loss.backward()`,
`torch.optim.SGD(lr, momentum).step()` and `loss.item()`, full batch. SGD's momentum
(buf = m buf + g; w -= lr buf) is bptui's rule dw = -lr g + m dw with a constant learning
rate. Torch starts from the engine's weights in float64 and must give the same losses for
five epochs, like the loop; float32, torch's default, is shown too (its losses are checked
to 1e-4). Threads match: `torch.set_num_threads(1)`, as bptui's one BLAS thread. The
number is torch's time per epoch over bptui's: above 1, bptui is faster."""


def engine_section(eng: dict, engine: dict, cfg: dict) -> list[str]:
    runs = engine["runs"]
    lines = ["## The engine against a minimal numpy loop", "", ENGINE_TEXT, ""]
    if not runs:
        return lines + ["*Not measured in this run: bench_engine.py failed (see the run's output).*", ""]
    n_runs = len(runs)
    rng = f"the range over the {n_runs} runs" if n_runs > 1 else f"the range over the {cfg['engine_rounds']} rounds"
    lines += [f"Median of {n_runs} run{'s' if n_runs > 1 else ''} of the script, each the median of "
              f"{cfg['engine_rounds']} interleaved rounds; {rng} in brackets. Target: at most "
              f"{runs[0]['target_ratio']}x on XOR, 36-12-24 and the digits.", "",
              "| network | engine | minimal loop | engine / loop | at most 1.5x | losses agree to |",
              "|---|---|---|---|---|---|"]
    for key in NETWORK_ORDER:
        row = eng.get(key)
        if row is None or "loop" not in row:
            continue
        loop = row["loop"]
        target = yes(loop["value"] <= runs[0]["target_ratio"]) if key != "wide" else "(info)"
        lines.append(f"| {row['label']} | {fmt(loop['engine_us'], 1)} us/epoch | {fmt(loop['other_us'], 1)} us/epoch "
                     f"| {with_range(loop['value'], loop['range'])} | {target} | {loop['check']:.0e} |")
    lines += ["", engine_why(eng), ""]

    lines += ["## The engine against PyTorch", "", TORCH_TEXT, ""]
    if runs[0].get("torch") is None:
        lines += [f"*PyTorch: skipped in this run, {runs[0].get('torch_skipped')}.* It is an optional extra "
                  "for this measurement only: `pip install torch==2.13.0` (the CPU wheel).", ""]
        return lines
    lines += [f"PyTorch {runs[0]['torch']} on {runs[0]['torch_threads']} thread. Same runs and rounds as above; "
              f"torch time / bptui time per epoch, {rng} in brackets. Target: at least "
              f"{runs[0]['torch_target']:g}x on XOR.", "",
              "| network | bptui | torch float64 | torch / bptui | torch float32 | torch32 / bptui |",
              "|---|---|---|---|---|---|"]
    for key in NETWORK_ORDER:
        row = eng.get(key)
        if row is None or "torch" not in row:
            continue
        t64, t32 = row["torch"], row["torch32"]
        lines.append(f"| {row['label']} | {fmt(t64['engine_us'], 1)} us | {fmt(t64['other_us'], 1)} us | "
                     f"{with_range(t64['value'], t64['range'])} | {fmt(t32['other_us'], 1)} us | "
                     f"{with_range(t32['value'], t32['range'])} |")
    lines += ["", crossover_text(eng), ""]
    return lines


def crossover_text(eng: dict) -> str:
    order = [k for k in NETWORK_ORDER if k in eng and "torch" in eng[k]]

    def first_slower(part):
        return next((k for k in order if eng[k][part]["value"] < 1.0), None)

    xor = eng.get("xor", {}).get("torch")
    text = []
    if xor is not None:
        text.append(f"On XOR bptui is {xor['value']:.1f}x faster than PyTorch: an epoch of a 2-2-1 network is "
                    "a few dozen tiny array operations, and bptui's are plain numpy calls of about 1 us each, "
                    "where each of torch's goes through the dispatcher and autograd's bookkeeping (a forward "
                    "op records a node, `backward()` walks the graph, the optimizer loops over the parameters).")
    for part, name in (("torch", "in float64"), ("torch32", "in float32")):
        k = first_slower(part)
        if k is None:
            text.append(f"PyTorch {name} is slower than bptui on every network measured, up to "
                        f"{eng[order[-1]]['label']} ({eng[order[-1]][part]['value']:.2f}x).")
        else:
            before = order[order.index(k) - 1] if order.index(k) else None
            after = "; ".join(f"{eng[j][part]['value']:.2f}x on {eng[j]['label']}" for j in order[order.index(k):])
            text.append(f"PyTorch {name} is faster than bptui from {eng[k]['label']} on ({after})"
                        + (f", where on {eng[before]['label']} it was still {eng[before][part]['value']:.2f}x "
                           "slower." if before else "."))
    text.append("The crossover lies where the arithmetic, which both hand to a BLAS library, outweighs the fixed "
                "cost per operation. float32 halves the memory traffic and doubles the width of the vector "
                "instructions, so there PyTorch pulls ahead sooner; bptui computes in float64 throughout, because "
                "it shows the numbers and checks them against finite differences.")
    return " ".join(text)


SWEEP_TEXT = """\
`benchmarks/bench_sweep.py` trains 200 XOR seeds with `bptui sweep`'s engine (every
run's weights stacked in one array, runs that stop dropped from the stack) and the same
200 seeds one by one, checks that both give the same epochs seed by seed, and compares
net-epochs per second (epochs run, summed over the runs). After an untimed warm-up it
times the two in interleaved rounds and reports the median ratio and its range."""

def sweep_why(model: dict) -> list[str]:
    """Why the ratio is what it is, from bench_sweep.py's cost model of a stacked epoch."""
    if not model:
        return []
    costs = ", ".join(f"{r} run{'s' * (r != '1')} {t:.1f} us" for r, t in model["costs_us"].items())
    runs, c1 = model["mean_runs"], model["single_epoch_us"]
    wide = c1 * runs / (model["fixed_us"] + 0.8 + (model["per_run_us"] - 0.10) * runs)
    return [
        "What sets the ratio. An epoch of a stack of R runs costs about f + s R: f, the fixed cost "
        "of its few dozen numpy calls, paid once whatever R is; s, the work per run inside them "
        f"(measured, the first 120 epochs: {costs}; fitted, f = {model['fixed_us']} us and "
        f"s = {model['per_run_us']} us). A single run's epoch costs {model['single_epoch_us']} us, about f: it "
        "makes the same calls. The sweep runs 5,000 epochs of its stack (the 12 seeds that never converge "
        f"run them all) and {model['mean_runs']} runs are in it on average, so the ratio is "
        f"c1 R / (f + s R) = {model['predicted_ratio']}x predicted (what the model leaves out, building the "
        "stack and shrinking it as runs stop, is the rest). Were a run in the stack free (s = 0), the "
        f"ratio would be {model['ceiling_ratio']}x; 20x would need s at most {model['per_run_us_for_20x']} us.",
        "",
        "Most of s is the matrix products. numpy multiplies a stack run by run, one BLAS call per run "
        "for each of an epoch's five products: about 0.16 of the 0.28 us (timed product by product at 100 "
        "runs, 2026-11-28). Only the two products with the inputs could be one call for every run, as the "
        "runs share the inputs: about 0.10 us off s, for two more calls an epoch (about 0.8 us more f, to "
        f"gather the weights and scatter the gradients), which the model puts at {wide:.1f}x. The other "
        "three multiply each run's own numbers and stay run by run: OpenBLAS sums with fused "
        "multiply-adds, so multiplying another way rounds differently in the last bit, and a seed could "
        "converge an epoch earlier or later than `bptui train --seed` makes it. And f cannot fall much "
        "below a single run's epoch: single runs use the very pass the sweep uses, and the sweep's own "
        "bookkeeping is already down to the update (four calls), checking which runs ended only every "
        "64 epochs (that took 7% off the sweep). What is left is a second pass written for stacks only "
        "(runs innermost, so that the per-run work inside the elementwise calls also shrinks, and the "
        "input products one call), for a ratio the model puts at 19x to 21x; we judged that not worth "
        "keeping two passes bit for bit alike. Or the sweep could give up being bit for bit the single "
        "runs, or single runs could be made slower. The target was 20x, and met (20.8x), before single "
        "runs took the sweep's pass and became 25% faster; it is now 15x (issue 13): keeping every sweep "
        "bit for bit the single runs matters more than the last 3x.",
        ""]


def sweep_section(sweep: dict) -> list[str]:
    lines = ["## Sweeps: many seeds at once", "", SWEEP_TEXT, ""]
    r = sweep["result"]
    if r is None:
        return lines + ["*Not measured in this run: bench_sweep.py failed (see the run's output).*", ""]
    met = r["ratio"] >= SWEEP_TARGET
    lines += [f"{r['seeds']} seeds of `{r['scenario']}`, {r['net_epochs']:,} net-epochs, {r['converged']} converged; "
              f"medians of {r['rounds']} interleaved rounds (load average {sweep['load_before']} before, "
              f"{sweep['load_after']} after):", "",
              f"| sweep | one by one | ratio | at least {SWEEP_TARGET}x |", "|---|---|---|---|",
              f"| {r['sweep_seconds']:.2f} s ({r['sweep_net_epochs_per_s']:,} net-epochs/s) | "
              f"{r['single_seconds']:.2f} s ({r['single_net_epochs_per_s']:,} net-epochs/s) | "
              f"{with_range(r['ratio'], (r.get('ratio_min', r['ratio']), r.get('ratio_max', r['ratio'])), 1, 'x')} | "
              f"{yes(met)} |", ""] + sweep_why(r.get("model"))
    return lines


APP_TEXT = """\
`benchmarks/bench_app.py` runs `bptui` on a pseudo-terminal as over SSH
(`TERM=xterm-256color`, no `COLORTERM`, so 256 colours), on a copy of the scenario set
never to stop, and reads everything the app writes. Each run is a fresh process. It
measures the first frame; the bytes written while paused and while training; the CPU of
the process and of its interface thread; the delay from a key to the screen while
training: `s` and `b` in turn (the story and the blame panel), from writing the key to
the arrival of the output that draws the new panel's title, 0.3 to 0.6 s apart so the
keys fall at every phase of the redraw timer (and, for information, `u`, the updates
panel, which lists every weight); and the epochs per second the app trains, read from
the epoch on its status line over 4 s, against a fresh headless process running
`Run.train_epoch` on the same file for 4 s while the app is paused, in interleaved
rounds."""

APP_WHY = """\
Training runs in a thread worker that posts snapshots; the text panels redraw at most 4
times a second and the loss plot once, each text panel repaints only the lines that
changed (`bptui/app/widgets/textview.py`), and the loss plot and the status line only the
cells that changed (`bptui/app/widgets/cells.py`). Textual sends a dirty region of a line
from the widget's left edge on that line to the region's right end, each cell with its
whole style: about 9 bytes a cell in 256 colours. The first version sent 35 KB/s at 80x24
and 58 KB/s at 120x40 while training; before issue 13, 13.6 KB/s at 80x24, mostly the
loss plot, which was repainted whole (about 3 KB each time). What is sent now is mostly
the numbers that change at every redraw while training (2026-12-03, XOR at 80x24): the
flow's weights, activations and deltas (about 1.7 KB a redraw), the cursor's line under
the network (0.5 KB) and the status line's epoch and loss (0.15 KB); the loss plot sends
its axis's last epoch and, as the axis rescales, the cells of the curve's steep start
(0.4 to 2.3 KB a redraw). The status line's epochs/s has two significant digits, so it
is not sent again at every redraw.

**First frame.** The app runs from compiled bytecode, as installed; bptui's own modules
compiled anew would add about 0.1 s. Most of the first frame is importing Python, NumPy
and Textual and Textual's styling of the widgets; plotext is imported only for the first
curve, as the story card holds the plot's place until the first epoch.

**Training speed in the app.** The worker trains in chunks and posts a snapshot after
each, with ledger lines for the last update. Against headless training it also copies
each update for the ledger and the explanations (`keep_last_change`: about 3 us, 15% of
an XOR epoch, 1% of a digits epoch) and keeps a time-travel checkpoint per epoch
(`History.record`: under 1 us on the epochs it does not keep). What cost most was
elsewhere. With 30 ms chunks, the snapshot and the ledger lines of the digits (20 to 40
ms: held-out results, blame shares, copies of the activations of 1,438 images, and the
ledger's ordering of 2,410 weights) took more time than the training, and the digits
trained at 140 to 230 epochs a second in the app against about 1,450 headless (0.10 to
0.16). A chunk now lasts at least 9 times as long as its snapshot took (up to 0.25 s;
still 30 ms for XOR), and halting still waits for one epoch at most. What is left of the
gap is the interface thread: Python runs one thread at a time. Textual renders a
widget's text whole (styled cells for every line, in sight or not) whenever any of it
changed: the digits' network (its 2,368 weights) took about 100 ms a redraw, which kept
the interface thread busy for a third of a core, and the app trained at half the
headless speed. Now the text panels render only the lines in sight
(`TextView.render_line`), and the network panel draws only the weights in sight (blanks
of the same width elsewhere, drawn again when it scrolls): about 11 ms a redraw, and the
interface thread takes a tenth of a core. The status line's epochs/s counts the
snapshot's time too.

**Keys while training.** A key is read by Textual's input thread and handled by the
interface thread, and each time one of them waits for anything, it must win the
interpreter back from the training thread, which for XOR runs Python without a pause and
gives it up only when asked, after 5 ms (`sys.getswitchinterval`). A key passes many
such waits, and took 70 to 200 ms (median; up to 1 s) to reach the screen while XOR
trained. The worker now sleeps 0.2 ms every 5 ms of training, which lets the waiting
threads in: about 20 ms, for a few % of training time. The digits are different: numpy
lets go of the interpreter in their large matrix products, and a key is slow only when
it arrives during a redraw. The updates panel of the digits is the slowest to redraw
(about 115 ms): it formats all 2,410 weights, and splitting that text into lines to
compare them with the last takes half of it."""


def app_section(app: dict, cfg: dict) -> tuple[list[str], dict]:
    lines = ["## The app on a pseudo-terminal", "", APP_TEXT, ""]
    nums = {name: app_numbers(runs) for name, runs in app["sessions"].items()}
    names = [n for n in nums if nums[n]]
    if not names:
        return lines + ["*Not measured in this run: bench_app.py failed (see the run's output).*", ""], nums
    n_runs = max(nums[n]["runs"] for n in names)
    lines += [f"Medians of {n_runs} run{'s' if n_runs > 1 else ''} per column (keys and rate rounds pooled over "
              f"the runs), the range in brackets; load average {app['load_before']} before, {app['load_after']} "
              "after.", "",
              "| | " + " | ".join(names) + " | target |", "|---|" + "---|" * len(names) + "---|"]

    def row(label, cells, target):
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")

    row("first frame after the command", [with_range(*nums[n]["first_frame_s"], 2, " s") for n in names],
        f"{FIRST_FRAME_TARGET:g} s")
    row("output while paused", [with_range(*nums[n]["paused_Bps"], 0, " B/s") for n in names],
        f"{PAUSED_TARGET / 1000:g} KB/s")
    row("output while training", [with_range(nums[n]["training_Bps"][0] / 1000,
                                             tuple(x / 1000 for x in nums[n]["training_Bps"][1]), 1, " KB/s")
                                  for n in names],
        f"{TRAINING_TARGET / 1000:g} KB/s at 80x24, {LARGE_TRAINING_TARGET / 1000:g} KB/s larger")
    row("CPU while training (of one core)", [with_range(*nums[n]["training_cpu"], 2) for n in names], "")
    row("... of it the interface thread", [with_range(*nums[n]["training_cpu_ui_thread"], 2) for n in names], "")
    row("key to screen while training, median (range)",
        [f"{fmt(nums[n]['keys'][0] * 1000 if nums[n]['keys'][0] is not None else None, 0)} ms "
         f"({fmt(nums[n]['keys'][1][0] * 1000, 0)} to {fmt(nums[n]['keys'][1][1] * 1000, 0)} ms, "
         f"{nums[n]['keys'][3]} keys{', ' + str(nums[n]['keys'][2]) + ' unanswered' if nums[n]['keys'][2] else ''})"
         if nums[n]["keys"][1] else "n/a" for n in names], f"{KEY_TARGET * 1000:g} ms")
    row("... opening the updates panel (`u`)",
        [f"{fmt(nums[n]['slow_keys'][0] * 1000, 0)} ms ({fmt(nums[n]['slow_keys'][1][0] * 1000, 0)} to "
         f"{fmt(nums[n]['slow_keys'][1][1] * 1000, 0)} ms)" if nums[n]["slow_keys"][1] else "n/a" for n in names],
        "")
    row("epochs/s in the app / headless", [with_range(nums[n]["rate"][0], nums[n]["rate"][1]) for n in names],
        "at least 0.5")
    row("... in the app, headless", [f"{fmt(nums[n]['app_eps'], 0)}, {fmt(nums[n]['headless_eps'], 0)}"
                                     for n in names], "")
    row("... the status line's epochs/s", [fmt(nums[n]["status_eps"], 0) for n in names], "")
    lines += ["", APP_WHY, ""]
    return lines, nums


def long_section(long: dict) -> list[str]:
    lines = ["## A long session", ""]
    samples = long["samples"]
    if not samples:
        return lines + ["*Not measured in this run.*", ""]
    first, last = samples[0], samples[-1]
    kept = [s["losses_kept"] for s in samples]
    lines += [f"`benchmarks/bench_long_session.py` trains XOR inside the app (Textual's headless driver) for "
              f"{last['epoch']:,} epochs and samples its memory {len(samples)} times: "
              f"{first['rss_mib']} MiB at {first['epoch']:,} epochs, {last['rss_mib']} MiB at {last['epoch']:,} "
              f"({last['rss_mib'] - first['rss_mib']:+.1f} MiB), with between {min(kept):,} and {max(kept):,} "
              "loss points kept. The loss history is bounded (every other point dropped when it is full), the "
              "time-travel checkpoints too (docs/app.md), and snapshots copy only what a view draws.", ""]
    return lines


def big_section(big: dict) -> list[str]:
    lines = ["## Big networks", "",
             "`benchmarks/bench_big.py`: inputs x hidden x outputs, sigmoid units with biases, 10 random "
             "patterns, batch updates, up to the loader's limit of 10 million weights. Build: the run the "
             "app shows, with its first checkpoint and snapshot (the app builds it in a thread, the first "
             "frame saying so). Epoch: the median of 5. Memory: the peak of a 3 s training session like "
             "the app's (snapshots, checkpoints, ledger), over the network's own arrays (theta, its gradient "
             "and its last change: 24 bytes a weight). First frame: the app at 80x24 on a pseudo-terminal, "
             "the first screen that shows the run or says it is being built; run shown: when the run is.",
             f"Load average {big['load_before']} before, {big['load_after']} after.", "",
             "| network | weights and biases | build | epoch | memory (peak, x own arrays) | first frame | run shown |",
             "|---|---|---|---|---|---|---|"]
    for r in big["results"]:
        lines.append(f"| {r['size']} | {r['weights']:,} | {r['build_s']:.2f} s | {r['epoch_s'] * 1000:.0f} ms | "
                     f"{r['peak_bytes'] / 2**20:,.0f} MB ({r['memory_ratio']:.1f}x) | "
                     f"{fmt(r.get('first_frame_s'), 2, ' s')} | {fmt(r.get('shown_s'), 2, ' s')} |")
    largest = big.get("largest_interactive")
    lines += ["", f"The largest network here that trains at interactive speed (an epoch in at most 0.25 s: four "
                  f"epochs a second, a step answered within a quarter second) is **{largest or 'none'}**. The "
                  "memory of small networks is mostly the app's fixed 64 MB for time travel's checkpoints; from "
                  "about a million weights the checkpoints are two, and the rest is the run (theta, grad, dw), "
                  "the last change kept for the ledger and `e` (5 arrays), and a snapshot or two (3 each).", ""]
    return lines


def render(data: dict, cfg: dict, quick: bool, seconds: float) -> tuple[str, bool]:
    m = data["machine"]
    lines = ["# Performance", "",
             "Written by `python benchmarks/run_all.py`" + (" --quick" if quick else "") +
             "; do not edit by hand: the explanations live in that script. Speed is measured as ratios of two "
             "things timed side by side in one run (interleaved rounds, medians), so the noise of a shared "
             "machine hits both alike, and as medians of several runs with their range. Nothing here is a "
             "timed test.", "",
             f"Measured on {m['date']}: {m['cpu']}, {m['cores']} cores, {m['os']}; Python {m['python']}, "
             f"NumPy {m['numpy']}, Textual {m['textual']}, PyTorch {m['torch'] or 'not installed'}; bptui at "
             f"commit {m['commit']}{' with uncommitted changes' if m['dirty'] else ''}. "
             f"{'Quick run (--quick): one run of each, fewer rounds. ' if quick else ''}"
             f"The machine was shared with other work; the load average (1 minute) is given per section. "
             f"Total run time {seconds / 60:.1f} min.", ""]
    targets: list[tuple[str, str, bool | None]] = []
    body: list[str] = []
    if "engine" in data:
        eng = engine_numbers(data["engine"])
        body += engine_section(eng, data["engine"], cfg)
        for key in ("xor", "random", "digits"):
            if key in eng and "loop" in eng[key]:
                v = eng[key]["loop"]
                targets.append((f"engine / minimal loop, {eng[key]['label']}: at most 1.5x",
                                with_range(v["value"], v["range"], 2, "x"), v["value"] <= 1.5))
        if "xor" in eng and "torch" in eng["xor"]:
            v = eng["xor"]["torch"]
            targets.append(("bptui against PyTorch (CPU, float64) on XOR: at least 5x faster",
                            with_range(v["value"], v["range"], 2, "x"), v["value"] >= 5))
        elif data["engine"]["runs"]:
            targets.append(("bptui against PyTorch on XOR: at least 5x faster", "skipped: PyTorch not installed",
                            None))
    if "sweep" in data:
        body += sweep_section(data["sweep"])
        r = data["sweep"]["result"]
        if r is not None:
            targets.append((f"sweep against single runs, {r['seeds']} XOR seeds: at least {SWEEP_TARGET}x",
                            with_range(r["ratio"], (r.get("ratio_min", r["ratio"]), r.get("ratio_max", r["ratio"])), 1,
                                       "x"), r["ratio"] >= SWEEP_TARGET))
    if "app" in data:
        app_lines, nums = app_section(data["app"], cfg)
        body += app_lines
        for name, n in nums.items():
            if not n:
                continue
            if name.startswith("xor"):
                targets.append((f"app {name}: first frame at most {FIRST_FRAME_TARGET:g} s",
                                with_range(*n["first_frame_s"], 2, " s"), n["first_frame_s"][1][1] <= FIRST_FRAME_TARGET))
                budget = training_target(name)
                targets.append((f"app {name}: at most {PAUSED_TARGET / 1000:g} KB/s paused, {budget / 1000:g} KB/s "
                                "training",
                                f"{fmt(n['paused_Bps'][0], 0)} B/s, {fmt(n['training_Bps'][0] / 1000, 1)} KB/s",
                                n["paused_Bps"][1][1] <= PAUSED_TARGET and n["training_Bps"][1][1] <= budget))
            if n["keys"][0] is not None:
                targets.append((f"app {name}: key to screen while training, median at most {KEY_TARGET * 1000:g} ms",
                                f"{n['keys'][0] * 1000:.0f} ms ({n['keys'][1][0] * 1000:.0f} to "
                                f"{n['keys'][1][1] * 1000:.0f} ms)", n["keys"][0] <= KEY_TARGET and not n["keys"][2]))
            if n["rate"][0] is not None:
                targets.append((f"app {name}: epochs/s at least half of headless",
                                with_range(n["rate"][0], n["rate"][1]), n["rate"][0] >= 0.5))
    if "long" in data:
        body += long_section(data["long"])
    if "big" in data:
        body += big_section(data["big"])
        results = data["big"]["results"]
        frames = [r["first_frame_s"] for r in results if r.get("first_frame_s") is not None]
        if frames:
            targets.append(("big networks, up to 10 million weights: first frame at most 1 s",
                            f"{max(frames):.2f} s at most", max(frames) <= 1.0))
        big_ones = [r["memory_ratio"] for r in results if r["weights"] >= 1_000_000]
        if big_ones:
            targets.append(("big networks (a million weights or more): peak memory at most 8x their own arrays",
                            f"{max(big_ones):.1f}x at most", max(big_ones) <= 8.0))
    lines += ["## Targets", "", "| target | measured (median, range) | met |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {yes(ok)} |" for t, v, ok in targets]
    lines += [""] + body
    text = "\n".join(lines).rstrip() + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text, all(ok is not False for _, _, ok in targets)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of each, fewer rounds")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every raw number here")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated, from {', '.join(SECTIONS)}")
    parser.add_argument("--render", type=Path, metavar="FILE",
                        help="measure nothing: write the document again from a --json FILE of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        data = json.loads(args.render.read_text(encoding="utf-8"))
        text, ok = render(data, data["config"], data["quick"], data.get("seconds", 0.0))
        args.out.write_text(text, encoding="utf-8")
        print(f"run_all: wrote {args.out} from {args.render}", file=sys.stderr)
        return 0 if ok else 1
    cfg = QUICK if args.quick else FULL
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    start = time.perf_counter()
    data: dict = {"machine": machine(), "config": cfg, "quick": args.quick}
    steps = {"engine": run_engine, "sweep": run_sweep, "app": run_app, "long": run_long, "big": run_big}
    for name in SECTIONS:
        if name in only:
            data[name] = steps[name](cfg)
    seconds = data["seconds"] = time.perf_counter() - start
    text, ok = render(data, cfg, args.quick, seconds)
    args.out.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(f"run_all: wrote {args.out} in {seconds / 60:.1f} min; "
          f"{'every target met' if ok else 'SOME TARGETS MISSED'}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
