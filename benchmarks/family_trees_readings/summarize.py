"""Summarize results.jsonl (or FILE): one line per reading (the last run of each name).

    python benchmarks/family_trees_readings/summarize.py [FILE [GROUP]]
"""

import json
import sys
from pathlib import Path

import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parent / "results.jsonl")
group = sys.argv[2] if len(sys.argv) > 2 else None
rows = {}
for line in open(path):
    d = json.loads(line)
    if group and d["group"] != group:
        continue
    rows[(d["group"], d["reading"]["name"])] = d
for (g, name), d in rows.items():
    tr, te = np.array(d["train"]), np.array(d["test"])
    fa = np.array(d["first_all_train"])
    match = int(np.sum((tr == 100) & (te == 4)))
    first = f"{int(np.median(fa[fa > 0]))}" if (fa > 0).any() else "-"
    print(f"{g:8s} | {name:62s} | {d['seeds']:3d} | med {np.median(tr):5.1f} [{tr.min():3d}-{tr.max():3d}] | "
          f"100/100 {int(np.sum(tr == 100)):3d} | ho {te.mean():.2f} | 4/4 {int(np.sum(te == 4)):3d} | "
          f"match {match:3d} | first100 med {first}")
