"""The 1986 paper's experiments in bptui, beside the paper's own numbers: writes docs/paper.md.

Every shipped scenario that replays an experiment of Rumelhart, Hinton & Williams (Nature 1986, and their
chapter 8 of *Parallel Distributed Processing*) is trained over fixed seeds 1..N with the scenario's own
settings. Most run as one vectorized sweep; the family-trees scenarios run seed by seed, because they are
judged by the training and held-out questions they get right. The paper's numbers and their confidence tags
come from the research notes (shared/research/paper-1986-and-pdp.md, sections 0-2 and 5).

    python benchmarks/paper.py [--seeds N] [--tree-seeds M] [--out docs/paper.md]

Deterministic: the same seeds give the same numbers; only the machine/date/run-time line changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bptui.core.catalog import resolve  # noqa: E402
from bptui.core.meaning import best_match, codes, ratios  # noqa: E402
from bptui.core.report import pattern_results  # noqa: E402
from bptui.core.scenario import load_scenario  # noqa: E402
from bptui.core.sweep import Sweep  # noqa: E402
from bptui.core.training import Run  # noqa: E402

Z = 1.96

# The paper's side of the table. "conf" is the research notes' tag: [P] checked against the primary text,
# [S1] one secondary source that read the primary, [M] memory only.
PAPER = {
    "symmetry": {
        "task": "Mirror symmetry, 6-2-1",
        "paper": "1,425 sweeps (ε 0.1, α 0.9, init ±0.3, batch); failure rate not reported",
        "source": "Nature p.534, Fig. 1 caption", "conf": "[P]",
    },
    "xor": {
        "task": "XOR, 2-2-1",
        "paper": "no sweep count for this net at η 0.5; local minimum in 2 of \"hundreds\" of XOR runs, "
                 "both 2-2-1 (one stuck after 6,587 presentations at η 0.25); ≈245 presentations at H = 2, η 0.25 (Chauvin)",
        "source": "PDP ch. 8 pp.331-333", "conf": "[S1]",
    },
    "xor-2-1-1": {
        "task": "XOR, 2-1-1 + direct links",
        "paper": "558 sweeps (η 0.5)",
        "source": "PDP ch. 8 p.331", "conf": "[S1]",
    },
    "encoder-4-2-4": {
        "task": "Encoder 4-2-4",
        "paper": "no number reported (a `bp` Handbook exercise: lrate 0.5, online, ecrit 0.04, 500 epochs)",
        "source": "renewedPDP bp/424.*", "conf": "[P] setup",
    },
    "encoder-8-3-8": {
        "task": "Encoder 8-3-8",
        "paper": "no number or settings found; learns a roughly binary 3-bit code",
        "source": "PDP ch. 8 pp.335-337", "conf": "[S1]",
    },
    "parity-4": {
        "task": "4-bit parity, 4-4-1",
        "paper": "2,825 presentations (η 0.5)",
        "source": "PDP ch. 8 pp.334-335", "conf": "[S1]",
    },
    "negation": {
        "task": "Negation, 4-?-3",
        "paper": "solved; no sweeps, η or hidden size found (3 hidden units is [M])",
        "source": "PDP ch. 8", "conf": "[S1]/[M]",
    },
    "family-trees": {
        "task": "Family trees (bptui's recipe)",
        "paper": "1,500 sweeps; 100 of 100 training cases; 4 of 4 held out right (one run). "
                 "Later retellings: \"about 3/4\" [S1]",
        "source": "Nature pp.534-535, Fig. 4", "conf": "[P]",
    },
    "family-trees-1986": {
        "task": "Family trees (the paper's recipe)",
        "paper": "as above: 1,500 sweeps, 100/100 training, 4/4 held out",
        "source": "Nature pp.534-535, Fig. 4", "conf": "[P] (ε 0.01 after sweep 20 is [S2+])",
    },
    "t-c-problem": {
        "task": "T-C problem, 3×3 receptive fields sharing one weight set",
        "paper": "learned; several kinds of translation-invariant detector in different runs (compactness, "
                 "bars); no retina size, sweep count or settings found: bptui's 4×4 wrapping retina, one detector "
                 "per place and all settings are guessed",
        "source": "PDP ch. 8 p.348", "conf": "[S1]/[M]",
    },
    "fig5-remember": {
        "task": "Recurrent net unrolled into a layered net with shared weights (Fig. 5), 2 units, 3 steps",
        "paper": "no experiment: the figure draws the unrolling, not a run; the task (hold 2 bits for 3 steps) and "
                 "every setting are guessed",
        "source": "Nature, Fig. 5", "conf": "(not in the research notes)",
    },
    "rotate-3bit": {
        "task": "3-bit rotate, 3 units unrolled over 2 steps (bp's REC)",
        "paper": "a Handbook exercise with no reported result; bp's files give lr 0.25, lgrain epoch, 200 epochs, "
                 "ecrit 0.04 (without the ½); momentum (bp's default 0.9) and the bias range are guessed",
        "source": "renewedPDP bp/REC.NET, REC.PAT, REC.STR", "conf": "[P]",
    },
    "shift-register": {
        "task": "Shift register, recurrent",
        "paper": "\"learned in under 200 sweeps\"; net, task and settings not found: all guessed",
        "source": "PDP ch. 8 pp.357-359", "conf": "[S1]",
    },
    "sequence-completion": {
        "task": "Sequence completion, 5-30-3 recurrent, 25 sequences",
        "paper": "260 sweeps (α 0.9; \"decay 0.2\" in the record, meaning unclear); bptui's sequences, η, "
                 "init and stopping rule are guessed, and its loss is cross-entropy, not the chapter's squared error",
        "source": "PDP ch. 8 pp.357-359", "conf": "[S1]",
    },
}

SWEPT = ["symmetry", "xor", "xor-2-1-1", "encoder-4-2-4", "encoder-8-3-8", "parity-4", "negation", "t-c-problem",
         "fig5-remember", "rotate-3bit", "shift-register", "sequence-completion"]
TREES = ["family-trees", "family-trees-1986"]


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * (p * (1 - p) / n + Z * Z / (4 * n * n)) ** 0.5 / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def epochs_text(epochs: list[int]) -> str:
    if not epochs:
        return "none converged"
    med = statistics.median(epochs)
    med = f"{med:,.0f}" if med == int(med) else f"{med:,.1f}"
    return f"median {med} (range {min(epochs):,}-{max(epochs):,})"


def sweep_experiment(name: str, n: int) -> dict:
    scenario = load_scenario(resolve(name))
    start = time.perf_counter()
    result = Sweep(scenario, list(range(1, n + 1))).run()
    seconds = time.perf_counter() - start
    fail, fail_low, fail_high = result.failure_interval()
    done = [e for e in result.epochs if e is not None]
    stuck = [s for s, e in zip(result.seeds, result.epochs) if e is None]
    return {"name": name, "scenario": scenario, "n": n, "k": result.converged, "epochs": done,
            "low": 1 - fail_high, "high": 1 - fail_low, "stuck": stuck,
            "max_epochs": result.max_epochs, "seconds": seconds, "status": result.status}


def tree_experiment(name: str, n: int) -> dict:
    scenario = load_scenario(resolve(name))
    start = time.perf_counter()
    rows = []
    held_names = None
    for seed in range(1, n + 1):
        run = Run(scenario, seed=seed)
        status = run.train()
        marks = pattern_results(run)
        train = [p["correct"] for p in marks if p["set"] == "train"]
        test = [(p["name"], p["correct"]) for p in marks if p["set"] == "test"]
        held_names = [t[0] for t in test]
        rows.append({"seed": seed, "status": status, "epoch": run.epoch, "train": sum(train),
                     "n_train": len(train), "test": sum(c for _, c in test), "n_test": len(test),
                     "test_marks": [c for _, c in test], "features": person_features(run)})
    seconds = time.perf_counter() - start
    k = sum(r["status"] == "converged" for r in rows)
    low, high = wilson(k, n)
    per_case = {h: sum(r["test_marks"][i] for r in rows) for i, h in enumerate(held_names or [])}
    return {"name": name, "scenario": scenario, "n": n, "k": k, "low": low, "high": high, "rows": rows,
            "epochs": [r["epoch"] for r in rows if r["status"] == "converged"],
            "per_case": per_case, "max_epochs": scenario.training.epochs, "seconds": seconds}


def person_features(run: Run) -> dict[str, float]:
    """Each named feature of person 1 that some person-code unit's weights follow (|r| of
    at least 0.5, its closest feature), with the largest |r| found."""
    features = run.scenario.layer("person 1").features
    found: dict[str, float] = {}
    for w in run.network.layer("person 1 code").incoming[0].w:
        match = best_match(w, features)
        if match is not None:
            found[match.feature] = max(found.get(match.feature, 0.0), abs(match.r))
    return found


def is_mirror_detector(w: np.ndarray) -> bool:
    """The Nature paper's Fig. 1 reading of one hidden unit's six weights: mirrored with
    opposite signs (w_i = -w_7-i within 10%), in sizes 1 : 2 : 4 (within 15%)."""
    r = ratios(w)
    return bool(np.allclose(r, -r[::-1], rtol=0.1) and np.allclose(np.sort(np.abs(r)), [1, 1, 2, 2, 4, 4], rtol=0.15))


def representation_experiment(n: int) -> dict:
    """Seeds 1..n of symmetry and encoder-8-3-8, one by one: what their hidden units became."""
    start = time.perf_counter()
    out = {}
    scenario = load_scenario(resolve("symmetry"))
    learned = detectors = 0
    for seed in range(1, n + 1):
        run = Run(scenario, seed=seed)
        if run.train() == "converged":
            learned += 1
            detectors += all(is_mirror_detector(w) for w in run.network.layer("hidden").incoming[0].w)
    out["symmetry"] = (learned, detectors)
    scenario = load_scenario(resolve("encoder-8-3-8"))
    learned = binary = apart = 0
    for seed in range(1, n + 1):
        run = Run(scenario, seed=seed)
        if run.train() == "converged":
            learned += 1
            a = run.inspect().a[run.network.layer("hidden").index]
            binary += len(set(codes(a))) == 8
            apart += min(np.abs(a[i] - a[j]).max() for i in range(8) for j in range(i)) > 0.4
    out["encoder-8-3-8"] = (learned, binary, apart)
    out["seconds"] = time.perf_counter() - start
    return out


def representation_section(rep: dict, trees: dict) -> list[str]:
    learned, detectors = rep["symmetry"]
    e_learned, binary, apart = rep["encoder-8-3-8"]
    rows = trees["rows"]
    n = len(rows)
    seen = {f: [r["features"][f] for r in rows if f in r["features"]] for f in ("tree", "generation", "branch", "male")}

    def found(f: str) -> str:
        values = seen[f]
        return (f"{len(values)} of {n} runs" + (f" (\\|r\\| {min(values):.2f}-{max(values):.2f})" if values else ""))

    return ["## What the hidden units came to mean", "",
            "The paper's claim is about representations: hidden units come to stand for features nobody put in. "
            "bptui reads them from the trained weights and activations (`bptui/core/meaning.py`; the app's "
            "hidden-units panel, `h`, shows the same readings), over the same seeds:", "",
            "| Experiment | The paper | bptui |", "|---|---|---|",
            f"| Mirror symmetry | each of the two hidden units has mirrored weights of opposite sign, in sizes "
            f"1 : 2 : 4 (Fig. 1) | both units read so (mirrored within 10%, sizes within 15%) in {detectors} of "
            f"the {learned} runs that learned |",
            f"| Encoder 8-3-8 | the 3 hidden units form a roughly binary code of the 8 patterns | all 8 patterns "
            f"told apart (some unit differs by more than 0.4) in {apart} of the {e_learned} runs that learned; 8 "
            f"different codes when read as bits (on at 0.5) in {binary} |",
            f"| Family trees | person-code units stand for nationality (unit 1), generation (unit 2), branch "
            f"(unit 6) (Fig. 4, one run) | some unit's weights follow, closest of the four named features with "
            f"\\|r\\| at least 0.5: the tree in {found('tree')}, the generation in {found('generation')}, "
            f"the branch in {found('branch')}, the sex in {found('male')} |", "",
            "The family trees' four features are given in the scenario (`features` of the \"person 1\" layer); "
            "the sex of person 1 never changes an answer (Colin's and Charlotte's father are the same man), so "
            "there is nothing for a unit to learn from it, and the row shows whether one does anyway. "
            f"Time: {rep['seconds']:.0f} s for the symmetry and encoder runs.", ""]


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def bptui_cell(r: dict) -> str:
    text = f"{r['k']} of {r['n']} converged (95% CI {pct(r['low'])}-{pct(r['high'])})"
    if r["epochs"]:
        text += f"; epochs {epochs_text(r['epochs'])}"
    if "rows" in r:
        rows = r["rows"]
        n_train, n_test = rows[0]["n_train"], rows[0]["n_test"]
        train = [x["train"] for x in rows]
        test = [x["test"] for x in rows]
        full = sum(t == n_train for t in train)
        text += (f"; training cases right: median {statistics.median(train):g} of {n_train} "
                 f"(range {min(train)}-{max(train)}; all {n_train} in {full} of {len(rows)} runs); "
                 f"held out right: mean {np.mean(test):.2f} of {n_test} (range {min(test)}-{max(test)})")
    return text


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{today}; {cpu}, {platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"NumPy {np.__version__}; bptui at commit {commit} (plus any uncommitted changes)")


def training_text(s) -> str:
    t = s.training
    text = f"η {t.learning_rate:g}, α {t.momentum:g}"
    for stage in t.schedule:
        changes = [f"η {stage.learning_rate:g}" if stage.learning_rate is not None else "",
                   f"α {stage.momentum:g}" if stage.momentum is not None else "",
                   f"decay {stage.weight_decay:g}" if stage.weight_decay is not None else ""]
        text += f" (from epoch {stage.from_epoch}: {', '.join(c for c in changes if c)})"
    text += f", {t.update}, init ±{t.weight_init:g}"
    if t.loss != "sse":
        text += f", {t.loss.replace('_', '-')} loss"
    if t.weight_decay:
        text += f", decay {t.weight_decay:g}/epoch"
    if t.margin:
        text += f", margin {t.margin:g}"
    if t.error_criterion <= 0:
        return text + f", no early stop: all {t.epochs:,} epochs"
    return text + f", stop at loss < {t.error_criterion:g} or {t.epochs:,} epochs"


def within(epochs: list[int], lo: float, hi: float) -> int:
    return sum(lo <= e <= hi for e in epochs)


def sections(res: dict) -> list[str]:
    out = []
    s = res["symmetry"]
    e = s["epochs"]
    out += ["### Symmetry (6-2-1)", "",
            f"The paper's 1,425 sweeps is one run; it does not say when it stopped counting, nor how often runs "
            f"failed. bptui uses the paper's ε, α, initial range and batch update, and stops at loss < 0.04 (every "
            f"output within 0.28 of its target): a choice of ours, so the epoch counts are comparable only roughly. "
            f"{s['k']} of {s['n']} seeds learned within {s['max_epochs']:,} epochs; the others (seeds "
            f"{', '.join(map(str, s['stuck'])) or 'none'}) did not; seeds 4 and 7, as the scenario's story shows, "
            f"stay on the \"always say not symmetric\" plateau (loss 4) throughout. "
            f"Epochs to learn: {epochs_text(e)}, a median above the paper's 1,425, and a wide spread: "
            f"{within(e, 0, 1425)} of the {len(e)} runs that learned did so in 1,425 epochs or fewer. "
            f"A published reproduction (research notes, §2) reports 18 of 20 and a median of 2,208 sweeps, in line "
            f"with this. The paper's single run looks like a typical-to-lucky seed, not a guarantee.", ""]
    s = res["xor"]
    out += ["### XOR (2-2-1)", "",
            f"Neither paper gives a sweep count for this exact setup. The chapter says local minima were rare (2 "
            f"of \"hundreds\" of XOR runs, both with this 2-2-1 net) and Chauvin's curve gives about 245 "
            f"presentations at H = 2, but at η 0.25, not bptui's 0.5, with a stopping rule we do not know. "
            f"bptui: {s['k']} of {s['n']} seeds learned, {epochs_text(s['epochs'])}. "
            f"{'Seeds that did not learn: ' + ', '.join(map(str, s['stuck'])) + '. ' if s['stuck'] else ''}"
            f"A failure rate of {pct(1 - s['k'] / s['n'])} is higher than \"2 in hundreds\"; the chapter's runs "
            f"used other settings (η, initial range, perhaps per-pattern updates), so this is not a direct contradiction, "
            f"but bptui does not show local minima as that rare here.", ""]
    s = res["xor-2-1-1"]
    e = s["epochs"]
    out += ["### XOR with one hidden unit and direct links (2-1-1)", "",
            f"The chapter's 558 sweeps at η 0.5 is one run, from a secondary record [S1]. The momentum, initial "
            f"range and stopping rule are not known; bptui assumes α 0.9, ±0.5 and loss < 0.04. "
            f"bptui: {s['k']} of {s['n']} learned, {epochs_text(e)}; {within(e, 0, 558)} of {len(e)} took 558 "
            f"epochs or fewer. So 558 is well inside bptui's range, slower than bptui's median "
            f"({statistics.median(e):,.0f}) with bptui's stopping rule.", ""]
    s = res["encoder-4-2-4"]
    out += ["### Encoder 4-2-4", "",
            f"No epoch count to compare: the Handbook exercise gives settings (lrate 0.5, per-pattern updates, "
            f"ecrit 0.04 without the ½, so loss < 0.02 here, 500 epochs), not a result. With those settings, "
            f"bptui: {s['k']} of {s['n']} learned within {s['max_epochs']} epochs, {epochs_text(s['epochs'])}.", ""]
    s = res["encoder-8-3-8"]
    out += ["### Encoder 8-3-8", "",
            f"The chapter reports the learned, roughly binary hidden code, not a sweep count or its settings. "
            f"bptui borrows the 4-2-4 exercise's settings (online updates at η 0.5: with batch updates at η 0.5 "
            f"every seed tried got stuck, see the scenario's story). bptui: {s['k']} of {s['n']} learned, "
            f"{epochs_text(s['epochs'])}. The numbers describe bptui's choices, not a replication.", ""]
    s = res["parity-4"]
    e = s["epochs"]
    out += ["### 4-bit parity (4-4-1)", "",
            f"The chapter's 2,825 presentations [S1] is one run. \"Presentations of each pattern\" is one pass "
            f"over the 16 patterns, so it counts like bptui's epochs; but whether the chapter changed weights "
            f"after each pattern or once per sweep, its momentum, initial range and stopping rule are not known. "
            f"bptui chose online updates, α 0.9, ±1 and loss < 0.04 because other choices failed more often (see "
            f"the scenario's story). bptui: {s['k']} of {s['n']} learned within {s['max_epochs']:,} epochs, "
            f"{epochs_text(e)}; {within(e, 0, 2825)} of {len(e)} in 2,825 epochs or fewer. The paper's figure is "
            f"on the fast side of bptui's spread; the spread itself (more than a factor of 10) is not something "
            f"one reported run can show.", ""]
    s = res["negation"]
    out += ["### Negation", "",
            f"The chapter reports that it was solved, but our sources give neither its hidden-layer size nor its "
            f"η nor a sweep count. bptui uses 6 hidden units and no direct links (3 or 4 never learned in its "
            f"tests), η 0.1, α 0.9, batch: {s['k']} of {s['n']} learned within {s['max_epochs']:,} epochs, "
            f"{epochs_text(s['epochs'])}. Nothing here can be checked against the paper beyond \"it learns\".", ""]
    s = res["t-c-problem"]
    out += ["### The T-C problem", "",
            f"The chapter gives the problem (a T or a C of 5 squares in a 3×3 block, 4 rotations, any position; hidden "
            f"units with 3×3 receptive fields whose weights are linked across positions; one output) and what was "
            f"learned, but our sources give no retina size, sweep count or settings. All of these are guessed: a "
            f"4×4 retina that wraps around (so every position looks alike; without wrapping, on a 5×5 retina, far "
            f"fewer runs learned in our trials, not measured over {s['n']} seeds), one detector unit per position "
            f"(16), squared error, η 0.05, α 0.9, batch, init ±0.5, stop at loss < 0.04. bptui's format joins whole "
            f"layers, so each receptive field is an input layer of its own (9 units) and each pixel is given once per "
            f"field that sees it; the 16 field-to-detector connections share one matrix (`share`), the detectors one "
            f"bias (`bias_share`). bptui: {s['k']} of {s['n']} learned within {s['max_epochs']:,} epochs, "
            f"{epochs_text(s['epochs'])}"
            f"{'; seeds that did not: ' + ', '.join(map(str, s['stuck'])) if s['stuck'] else ''}. "
            f"Only \"it learns, with a detector shared across positions\" can be compared with the chapter.", ""]
    s = res["fig5-remember"]
    out += ["### A recurrent net as a layered net (Fig. 5)", "",
            f"The paper's Fig. 5 shows how a recurrent net run for a few steps is a layered net whose layers share "
            f"one set of weights; it reports no run. `fig5-remember` is that idea at its smallest, and nothing in it "
            f"comes from the paper but the idea: two units, three steps, the task of holding two bits, η 0.25, α 0.9, "
            f"batch, init ±0.5, stop at loss < 0.04, all guessed. bptui: {s['k']} of {s['n']} learned within "
            f"{s['max_epochs']:,} epochs, {epochs_text(s['epochs'])}. There is nothing to compare with.", ""]
    s = res["rotate-3bit"]
    out += ["### Rotate three bits (bp's REC)", "",
            f"The Handbook's `REC` files (renewedPDP `bp/REC.*`) [P]: three units unrolled over two steps, the same "
            f"nine weights (and three biases) from step 0 to 1 and from 1 to 2, the eight 3-bit patterns in at step 0 "
            f"and rotated one place to the left at step 2, lr 0.25, weights changed once per epoch, at most 200 "
            f"epochs, stop when bp's error (without the ½) is below 0.04: below 0.02 here. Guessed: momentum 0.9 "
            f"(bp's default; the script does not set it) and the starting biases (bp drew linked biases below zero, "
            f"bptui from -0.5 to 0.5). No result was reported to compare with. bptui: {s['k']} of {s['n']} learned "
            f"within {s['max_epochs']:,} epochs, {epochs_text(s['epochs'])}.", ""]
    s = res["shift-register"]
    e = s["epochs"]
    out += ["### Shift register", "",
            f"All we have is that the chapter's shift register \"reportedly learned in under 200 sweeps\" [S1]. The "
            f"net (one input unit and three register units, fully connected from each step to the next), the task "
            f"(read 4 bits from an empty register, hold the last 3 at the end), η 0.5, α 0.9, batch, init ±0.5 and "
            f"the stop at loss < 0.04 are guessed; the 200-epoch limit is the chapter's figure. bptui: {s['k']} of "
            f"{s['n']} learned within {s['max_epochs']:,} epochs, {epochs_text(e)}: {within(e, 0, 199)} of "
            f"{len(e)} under 200, in line with the chapter, but our register may well be easier than the "
            f"chapter's.", ""]
    s = res["sequence-completion"]
    out += ["### Sequence completion", "",
            f"The chapter's net [S1]: 5 input, 30 hidden and 3 output units run recurrently, 25 sequences, 260 "
            f"sweeps, α 0.9 (the record's \"decay 0.2\" is not used: we cannot tell what it means). The full size is "
            f"practical, so bptui keeps it; the rest is guessed: the first two letters (A-E, one unit each) are given "
            f"at steps 1 and 2, the 30 context units feed themselves, and the four following letters (X, Y or Z, "
            f"drawn at random once per start, NumPy seed 1986) are the targets at steps 3-6; η 0.01, batch, init "
            f"±0.5. One change departs from the chapter: the loss is cross-entropy, stopped below 0.2 (every output "
            f"within 0.19 of its target), because with squared error the runs we tried stalled with an output "
            f"saturated at the wrong end (the scenario's story shows seed 1). bptui: {s['k']} of {s['n']} learned "
            f"within {s['max_epochs']:,} epochs, {epochs_text(s['epochs'])}, a median about "
            f"{statistics.median(s['epochs']) / 260:.0f} times the chapter's 260 sweeps; with a different loss, "
            f"η and stopping rule, only the order of magnitude compares.", ""]
    t = res["family-trees"]
    rows = t["rows"]
    n_test = rows[0]["n_test"]
    counts = {c: sum(r["test"] == c for r in rows) for c in range(n_test + 1)}
    dist = ", ".join(f"{c} right in {counts[c]}" for c in range(n_test, -1, -1) if counts[c])
    cases = ", ".join(f"{h} {v} of {t['n']}" for h, v in t["per_case"].items())
    out += ["### Family trees (bptui's recipe)", "",
            f"The paper: one run, 1,500 sweeps, all 100 training questions and all 4 held-out questions right. "
            f"bptui cannot learn with the paper's recipe (next section), so this scenario changes four things: "
            f"initial weights ±1.5, η 0.05 after epoch 20, decay 0.1% per epoch, up to 5,000 epochs with a stop "
            f"at loss < 0.1. \"Converged\" means reaching that loss; most runs do not and use all 5,000 epochs, "
            f"which is why the training-case accuracy is the number to read. Over seeds 1-{t['n']}: "
            f"{bptui_cell(t)}. Held-out scores: {dist}. Per held-out question: {cases}. ",
            "",
            "The paper did not say which 4 questions it held out, only that they were chosen at random. A pure "
            "random draw can make 4 of 4 impossible: bptui's first draw (seed 1986, among all 96 one-answer "
            "questions) held out Margaret.husband, which this network cannot infer. Its description of Margaret is "
            "learned only from the questions that start with her, and with that one held out they are her nephew "
            "and niece, the same answers as Jennifer's, Arthur's and Charles's. It was right in 0 of 100 runs, and "
            "the mean was 1.90 of 4. So bptui now draws 4 at random, with the same seed, only among the questions "
            "that pass a rule that looks at the data, never at scores (`scenarios/make_family_trees.py`): the "
            "inverse fact stays trained (Lucia.father held out needs Roberto.daughter = Lucia trained); the person "
            "asked about keeps at least 2 training questions, and no one else has all their answers; the answer's "
            "output unit is still trained to come on without each other person's; and no two held-out questions "
            "share a person. 76 of the 96 pass, and the draw is "
            f"{', '.join(t['per_case'])}. "
            "This departs from the paper's pure random draw, to make the score measure generalisation and not the "
            "luck of the draw; the paper's own 4 of 4 shows that its four could be worked out. In fairness: the "
            "output-side condition was added after a first version of the rule, without it, drew Alfonso.father, "
            "Arthur.wife, Emilio.sister and Jennifer.niece and scored 1.85 of 4 over seeds 1-100, with Arthur.wife "
            "right in none (held out, it leaves Margaret's output unit trained only together with Jennifer's: the "
            "mirror image of Margaret.husband). The rule was then completed on that ground, the draw made once, "
            "and it is reported as it scored.",
            "",
            f"With this split the held-out mean is {np.mean([r['test'] for r in rows]):.2f} of {n_test}, "
            f"{'below' if np.mean([r['test'] for r in rows]) < 2 else 'at or above'} bptui's target of 2; "
            f"{counts[n_test]} of {t['n']} runs match the paper's one run (4 of 4). That is close to later "
            "reproductions (research notes §5: 1.9/4 mean in one, about 45% in another) and to Hinton's later "
            "\"about 3/4\". The scenario's story reports the same over seeds 1-100.", ""]
    t = res["family-trees-1986"]
    out += ["### Family trees (the paper's recipe)", "",
            f"With the paper's settings as far as they are known (batch, ε 0.005/α 0.5 then ε 0.01/α 0.9, decay "
            f"0.2% per sweep, 0.2 margin, 1,500 sweeps) and initial weights ±0.3 (not given for this net; the "
            f"paper's symmetry range), bptui learns nothing: {bptui_cell(t)}. Every output settles near 0.2, "
            f"inside the margin, so answering \"nobody\" costs little, and the decay wins over the weak gradient "
            f"that reaches the person code through three layers of small weights. This is a real disagreement with "
            f"the paper. We cannot tell what its simulator did differently (initial range, how the decay was "
            f"applied, the exact ε: one transcription reads 0.001), because the paper does not give enough to "
            f"replay the run; reproductions report the same failure without larger initial weights (research "
            f"notes §5, item 3).", ""]
    out += readings_section()
    return out


READINGS = ROOT / "benchmarks" / "family_trees_readings" / "results.jsonl"


def trees_scenario():
    return load_scenario(resolve("family-trees-1986"))


def readings_section() -> list[str]:
    """The paper's recipe, reading by reading: each way of reading what it leaves open, over
    100 seeds and 1,500 sweeps (benchmarks/family_trees_readings: run.py final writes the
    file this reads; its trainer is bptui's network, checked equal to Run by the tests)."""
    rows = [json.loads(line) for line in READINGS.read_text(encoding="utf-8").splitlines() if line.strip()]
    latest = {row["reading"]["name"]: row for row in rows if row["group"] == "final"}
    out = ["#### The paper's recipe, reading by reading", "",
           "What the paper leaves open, each reading tried over seeds 1-100 and 1,500 sweeps (batch; ε 0.005, α 0.5, "
           "then from sweep 21 ε 0.01, α 0.9; decay 0.002 and margin 0.2 as bptui reads them unless the row says "
           "otherwise). Margin \"bptui\": no error inside it, the full a - t outside; \"edge\": the error measured "
           "from the margin's edge (a - 0.8 for an on-unit below 0.8). Decay \"mult\": every weight times 0.998 "
           "after each change (bptui); \"grad\": 0.002 w added to the gradient, so scaled by ε. Right: bptui's rule, "
           "every output within 0.5 of its target. `benchmarks/family_trees_readings/` has the trainer (bptui's "
           "network, stacked over seeds) and `run.py final` measures this table again.", "",
           "| reading | training cases right: median (range) | seeds with all 100 | held out right: mean of 4 | "
           "seeds with 100 and 4 of 4 |", "|---|---|---|---|---|"]
    for name, row in latest.items():
        train, test = np.array(row["train"]), np.array(row["test"])
        out.append(f"| {name} | {statistics.median(train.tolist()):g} ({train.min()}-{train.max()}) | "
                   f"{int((train == 100).sum())} | {test.mean():.2f} | {int(((train == 100) & (test == 4)).sum())} |")
    by_code = {name.split()[0]: row for name, row in latest.items()}
    first = np.array(by_code["F30"]["first_all_train"])
    closest = by_code["F27"]
    learning = [row for row in latest.values() if statistics.median(row["train"]) >= 95]
    matches = [int(((np.array(r["train"]) == 100) & (np.array(r["test"]) == 4)).sum()) for r in learning]
    held_out = [name for name, test in zip(trees_scenario().data.names, trees_scenario().data.test) if test]
    per_case = np.concatenate([np.array(r["per_test"]) for r in learning]).mean(axis=0)
    hardest = int(per_case.argmin())
    out += ["", f"No reading reproduces the paper at its printed ε. Two causes, each alone enough: 1,500 sweeps are "
                f"too few at ε 0.01 (without any decay, the median run first has all 100 right at sweep "
                f"{statistics.median(first[first > 0].tolist()):,.0f}, F30), and the decay, read as bptui reads it, "
                f"outweighs the gradient (with it, {int((np.array(by_code['F31']['train']) == 100).sum())} of 100 runs "
                f"learn every case even in 6,000 sweeps, F31); readings that scale the decay by ε make it weak enough, "
                f"and meet the first cause. What comes closest needs ε {closest['reading']['lr2']:g} from sweep 21, "
                f"{closest['reading']['lr2'] / 0.01:.0f} times the printed 0.01 (F27: "
                f"{int((np.array(closest['train']) == 100).sum())} of 100 runs learn every training case). Held out "
                f"4 of 4 stays rare in every reading that learns (median training cases right 95 or more: "
                f"{min(matches)} to {max(matches)} runs in 100): {held_out[hardest]} is answered right in "
                f"{per_case[hardest]:.0%} of their runs. The paper's 4 of 4 looks like a lucky run, or a lucky choice "
                f"of the four; no reading of its recipe explains it, so `family-trees-1986` keeps the reading bptui "
                f"has always used and reports the failure.", ""]
    return out


def render(res: dict, args, seconds: float) -> str:
    lines = ["# The 1986 experiments: the paper's numbers beside bptui's", "",
             "Written by `benchmarks/paper.py`; do not edit by hand. Rerun with", "",
             "    python benchmarks/paper.py [--seeds N] [--tree-seeds M]", "",
             f"This run: seeds 1-{args.seeds} for the swept scenarios, 1-{args.tree_seeds} for the family trees "
             f"(single runs, because they are judged by the questions they get right). "
             f"Total run time {seconds:.0f} s.", "",
             f"Machine and date: {machine_line()}.", "",
             "The paper's numbers and confidence tags come from the research notes "
             "(`paper-1986-and-pdp.md`, §0-2 and §5): **[P]** checked against the primary text, **[S1]** one "
             "secondary source that read it, **[S2+]** several agreeing secondary sources, **[M]** memory only. "
             "\"Sweep\", \"epoch\" and the chapter's \"presentations (of each pattern)\" all mean one pass over "
             "the training cases. Each paper number is **one run**; bptui's are over many seeds, so they show a "
             "spread the paper cannot. bptui's epoch counts depend on its stopping rule (below, per scenario), "
             "which the papers do not give: compare them as orders of magnitude, not digit by digit. "
             "\"Converged\" is a loss below the scenario's `error_criterion` within its `epochs`; the 95% "
             "interval is Wilson's; median and range are over the runs that converged.", "",
             "| Experiment | Paper | Source (conf.) | bptui scenario and settings | bptui |",
             "|---|---|---|---|---|"]
    for name in SWEPT + TREES:
        r, p = res[name], PAPER[name]
        lines.append(f"| {p['task']} | {p['paper']} | {p['source']} {p['conf']} | `{name}`: "
                     f"{training_text(r['scenario'])} | {bptui_cell(r)} |")
    lines += ["", "Per-experiment time (s): " + ", ".join(f"`{n}` {res[n]['seconds']:.1f}" for n in SWEPT + TREES),
              "", "## Where bptui differs from the paper, and why", ""]
    lines += sections(res)
    lines += representation_section(res["representations"], res["family-trees"])
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="seeds 1..N for the swept scenarios (default 100)")
    parser.add_argument("--tree-seeds", type=int, default=100,
                        help="seeds 1..M for the family-trees scenarios, run one by one (default 100)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "paper.md")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    res = {}
    for name in SWEPT:
        res[name] = sweep_experiment(name, args.seeds)
        print(f"{name}: {res[name]['k']}/{args.seeds} in {res[name]['seconds']:.1f} s", flush=True)
    for name in TREES:
        res[name] = tree_experiment(name, args.tree_seeds)
        print(f"{name}: {res[name]['k']}/{args.tree_seeds} in {res[name]['seconds']:.1f} s", flush=True)
    res["representations"] = representation_experiment(args.seeds)
    print(f"representations in {res['representations']['seconds']:.1f} s", flush=True)
    seconds = time.perf_counter() - start
    args.out.write_text(render(res, args, seconds))
    print(f"wrote {args.out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
