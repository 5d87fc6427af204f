"""Check ftlib against bptui itself on a reading bptui can express (its own margin and decay):
the family-trees-1986 scenario with init 1.5 and eps 0.05 after sweep 20. Trains seeds with
bptui's Run and scores them with bptui's pattern_results (as benchmarks/paper.py does), and
compares with ftlib's vectorized trainer and scoring."""

import dataclasses
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from ftlib import Reading, scenario, train, check_equivalence  # noqa: E402

from bptui.core.report import pattern_results  # noqa: E402
from bptui.core.training import Run  # noqa: E402

print("max |theta - Run's theta| after 60 sweeps, shipped recipe:", check_equivalence())

s = scenario()
t = s.training
stage = dataclasses.replace(t.schedule[0], learning_rate=0.05)
s2 = dataclasses.replace(s, training=dataclasses.replace(t, weight_init=1.5, schedule=(stage,)))
seeds = list(range(1, 9))
r = Reading(init=1.5, lr2=0.05)
res = train(r, seeds, s2)
for i, seed in enumerate(seeds):
    run = Run(s2, seed=seed)
    run.train()
    marks = pattern_results(run)
    tr = sum(p["correct"] for p in marks if p["set"] == "train")
    te = sum(p["correct"] for p in marks if p["set"] == "test")
    print(f"seed {seed}: bptui Run+pattern_results train {tr} test {te} | ftlib train {res.train[i]} test {res.test[i]}")
