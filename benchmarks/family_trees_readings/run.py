"""Run named groups of readings over seeds; append one JSON line per reading to results.jsonl.

    python benchmarks/family_trees_readings/run.py GROUP [--seeds N] [--part K/M] [--out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ftlib import Reading, train  # noqa: E402

B = Reading()


def R(name, **kw):
    return dataclasses.replace(B, name=name, **kw)


def groups():
    g = {}
    inits = [0.3, 0.5, 1.0, 1.5, 2.0]
    # 1. sum vs mean
    g["sum_mean"] = [R(f"mean of the error over cases, init {i}", mean=True, init=i) for i in (0.3, 1.0, 1.5)]
    # 2. decay readings x init (margin as bptui)
    dec = [("mult", True, "decay w*=(1-.002) after change [bptui]"),
           ("mult", False, "decay w*=(1-.002), weights only (no biases)"),
           ("grad", True, "decay in gradient: dw=-eps(g+.002w)+a dw"),
           ("grad", False, "decay in gradient, weights only"),
           ("grad_nomom", True, "decay -eps*.002*w, outside momentum"),
           ("mom", True, "decay -.002w inside dw (through momentum)"),
           ("none", True, "no decay")]
    g["decay"] = [R(f"{label}, init {i}", decay_mode=m, decay_biases=b, decay=0.0 if m == "none" else 0.002, init=i)
                  for m, b, label in dec for i in inits]
    # 3. margin readings x init x decay (bptui decay, gradient decay, none)
    mar = [("bptui", 0.2, "margin bptui (0 inside, full a-t outside)"),
           ("edge", 0.2, "margin to edge (err = a-0.8 / a-0.2 outside)"),
           ("bptui", 0.0, "no margin")]
    g["margin"] = [R(f"{ml}; decay {dm}; init {i}", margin_mode=mm, margin=m, decay_mode=dm,
                     decay=0.0 if dm == "none" else 0.002, init=i)
                   for mm, m, ml in mar[1:] for dm in ("mult", "grad", "none") for i in inits]
    # 5. encodings
    enc = [((0.1, 0.9), "targets 0.1/0.9, no margin"), ((0.2, 0.8), "targets 0.2/0.8, no margin")]
    g["encoding"] = [R(f"{el}; decay {dm}; init {i}", targets=t, margin=0.0, decay_mode=dm,
                       decay=0.0 if dm == "none" else 0.002, init=i)
                     for t, el in enc for dm in ("mult", "grad", "none") for i in inits]
    # 6. lr after sweep 20, momentum switch
    g["lr"] = ([R(f"eps2 0.001; decay {dm}; init {i}", lr2=0.001, decay_mode=dm, decay=0.0 if dm == "none" else 0.002,
                  init=i) for dm in ("mult", "grad") for i in (0.3, 1.0, 1.5)]
               + [R(f"no switch: eps 0.01 a 0.9 from sweep 1; decay {dm}; init {i}", lr1=0.01, mom1=0.9,
                    decay_mode=dm, decay=0.0 if dm == "none" else 0.002, init=i)
                  for dm in ("mult", "grad") for i in (0.3, 1.0, 1.5)]
               + [R(f"bias init 0; decay {dm}; init {i}", bias_init="zero", decay_mode=dm,
                    decay=0.0 if dm == "none" else 0.002, init=i)
                  for dm in ("mult", "grad") for i in (0.3, 1.0, 1.5)])
    # 7. other readings
    g["extra"] = ([R(f"online (per case, in order), decay {dm}; init {i}", update="online", decay_mode=dm,
                     decay=0.0 if dm == "none" else 0.002, init=i) for dm in ("grad", "mult") for i in (0.5, 1.0)]
                  + [R(f"no biases; margin {mm}; decay {dm}; init {i}", biases=False, margin_mode=mm, decay_mode=dm,
                       decay=0.0 if dm == "none" else 0.002, init=i)
                     for mm in ("bptui", "edge") for dm in ("mult", "grad") for i in (0.5, 1.0, 1.5)])
    # how large a step after sweep 20 would be needed (not a reading of the text: a measure)
    g["lrscan"] = [R(f"eps2 {lr}; margin {mm}; decay {dm}; init {i}", lr2=lr, margin_mode=mm, decay_mode=dm,
                     decay=0.0 if dm == "none" else 0.002, init=i)
                   for lr in (0.02, 0.05, 0.1) for mm in ("bptui", "edge") for dm in ("mult", "grad")
                   for i in (0.5, 1.0, 1.5)]
    # at the paper's eps, how many sweeps would it take? (first sweep, checked every 50, with 100/100)
    g["long"] = [R(f"6000 sweeps; margin {mm}; decay {dm}; init {i}", sweeps=6000, margin_mode=mm, decay_mode=dm,
                   decay=0.0 if dm == "none" else 0.002, init=i)
                 for mm, dm, i in (("edge", "none", 1.5), ("edge", "mult", 1.5), ("edge", "mult", 1.0),
                                   ("bptui", "none", 1.0), ("bptui", "mult", 1.5), ("edge", "grad", 1.0))]
    g["fine"] = ([R(f"eps2 {lr}; margin edge; decay mult; init {i}", lr2=lr, margin_mode="edge", init=i)
                  for lr in (0.03, 0.07) for i in (1.0, 1.5, 2.0)]
                 + [R(f"eps2 {lr}; margin edge; decay mult weights only; init 1.5", lr2=lr, margin_mode="edge",
                      decay_biases=False, init=1.5) for lr in (0.05, 0.1)]
                 + [R(f"eps2 {lr}; margin edge; decay mult; init 0.3", lr2=lr, margin_mode="edge", init=0.3)
                    for lr in (0.1, 0.2)]
                 + [R("eps2 0.1; margin edge; decay mult; init 2.0", lr2=0.1, margin_mode="edge", init=2.0)])
    g["case"] = [R(f"margin per case (0 if all outputs inside, else full a-t); eps2 {lr}; decay {dm}; init {i}",
                   margin_mode="case", lr2=lr, decay_mode=dm, decay=0.0 if dm == "none" else 0.002, init=i)
                 for lr in (0.01, 0.05) for dm in ("mult", "none") for i in (1.0, 1.5)]
    def D(dm):
        return dict(decay_mode=dm, decay=0.0 if dm == "none" else 0.002)

    g["final"] = [
        R("F00 shipped: margin bptui, decay mult (biases too), init 0.3"),
        R("F01 mean over cases (not sum), init 1.0", mean=True, init=1.0),
        R("F02 decay mult, init 1.0", init=1.0),
        R("F03 decay mult, init 1.5", init=1.5),
        R("F04 decay mult on weights only, init 1.0", decay_biases=False, init=1.0),
        R("F05 decay in gradient eps(g+.002w) via momentum, init 1.0", init=1.0, **D("grad")),
        R("F06 decay eps*.002*w outside momentum, init 1.0", init=1.0, **D("grad_nomom")),
        R("F07 decay .002*w inside momentum (unscaled), init 1.0", init=1.0, **D("mom")),
        R("F08 no decay, init 0.3", init=0.3, **D("none")),
        R("F09 no decay, init 1.0", init=1.0, **D("none")),
        R("F10 no decay, init 1.5", init=1.5, **D("none")),
        R("F11 margin edge, decay mult, init 1.5", margin_mode="edge", init=1.5),
        R("F12 margin edge, decay in gradient, init 1.0", margin_mode="edge", init=1.0, **D("grad")),
        R("F13 margin edge, no decay, init 1.5", margin_mode="edge", init=1.5, **D("none")),
        R("F14 no margin, no decay, init 1.5", margin=0.0, init=1.5, **D("none")),
        R("F15 margin per case, no decay, init 1.5", margin_mode="case", init=1.5, **D("none")),
        R("F16 targets 0.1/0.9 no margin, no decay, init 1.0", targets=(0.1, 0.9), margin=0.0, init=1.0, **D("none")),
        R("F17 targets 0.2/0.8 no margin, no decay, init 1.0", targets=(0.2, 0.8), margin=0.0, init=1.0, **D("none")),
        R("F18 targets 0.1/0.9 no margin, decay mult, init 2.0", targets=(0.1, 0.9), margin=0.0, init=2.0),
        R("F19 eps2 0.001, decay in gradient, init 1.0", lr2=0.001, init=1.0, **D("grad")),
        R("F20 eps 0.01/a 0.9 from sweep 1, decay in gradient, init 1.0", lr1=0.01, mom1=0.9, init=1.0, **D("grad")),
        R("F21 no biases, decay in gradient, init 1.0", biases=False, init=1.0, **D("grad")),
        R("F22 online per case, decay in gradient, init 1.0", update="online", init=1.0, **D("grad")),
        R("F23 bias init 0, decay in gradient, init 1.0", bias_init="zero", init=1.0, **D("grad")),
        R("F24 eps2 0.05, margin bptui, decay mult, init 1.5", lr2=0.05, init=1.5),
        R("F25 eps2 0.1, margin bptui, decay mult, init 1.5", lr2=0.1, init=1.5),
        R("F26 eps2 0.05, margin edge, decay mult, init 1.5", lr2=0.05, margin_mode="edge", init=1.5),
        R("F27 eps2 0.1, margin edge, decay mult, init 1.5", lr2=0.1, margin_mode="edge", init=1.5),
        R("F28 eps2 0.1, margin edge, decay mult, init 2.0", lr2=0.1, margin_mode="edge", init=2.0),
        R("F29 eps2 0.1, margin edge, decay in gradient, init 1.5", lr2=0.1, margin_mode="edge", init=1.5,
          **D("grad")),
        R("F30 6000 sweeps, margin edge, no decay, init 1.5", sweeps=6000, margin_mode="edge", init=1.5, **D("none")),
        R("F31 6000 sweeps, margin edge, decay mult, init 1.5", sweeps=6000, margin_mode="edge", init=1.5),
    ]
    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("group")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--part", default="1/1")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results.jsonl"))
    a = ap.parse_args()
    k, m = map(int, a.part.split("/"))
    readings = groups()[a.group][k - 1::m]
    seeds = list(range(1, a.seeds + 1))
    for r in readings:
        res = train(r, seeds, check_every=50)
        print(res.line(), flush=True)
        with open(a.out, "a") as f:
            f.write(json.dumps({"group": a.group, "reading": dataclasses.asdict(r), "seeds": len(seeds),
                                "train": res.train.tolist(), "test": res.test.tolist(),
                                "per_test": res.per_test.astype(int).tolist(),
                                "argmax_test": res.argmax_test.tolist(),
                                "first_all_train": res.first_all_train.tolist(),
                                "final_E": [float(e) for e in res.final_E], "seconds": res.seconds}) + "\n")


if __name__ == "__main__":
    main()
