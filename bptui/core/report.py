"""The JSON of SPEC section 5: what ``inspect`` and ``train`` print.

Numbers are written at full precision, so a script sees exactly what the engine
computed; values that are not finite (a diverged run, a don't-care target) are null.
"""

from __future__ import annotations

import json
import math

import numpy as np

from bptui.core.blame import contributions, first_order, knockouts, link_factors, own_input, shares_of
from bptui.core.health import run_warnings
from bptui.core.meaning import representations
from bptui.core.network import Pass
from bptui.core.responsibility import responsibility
from bptui.core.training import CONVERGED, Run


def plain(x):
    """numpy arrays and numbers (also inside dicts and lists) as JSON-ready lists and floats;
    non-finite as None."""
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return plain(x.item())
        if x.dtype.kind == "f":  # whole: element by element, 8.75 million weights took 48 s
            finite = np.isfinite(x)
            return x.tolist() if finite.all() else np.where(finite, x.astype(object), None).tolist()
        return [plain(v) for v in x]
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    return x


def dumps(report: dict) -> str:
    return json.dumps(report, allow_nan=False)


def inspect_report(run: Run) -> dict:
    """One forward and backward pass over all training patterns at the current weights."""
    net = run.network
    p: Pass = run.inspect()
    terms = first_order(net, p)
    c = contributions(terms)
    shares = shares_of(c)
    margin = run.training.margin
    knocked = knockouts(net, run.x, run.t, run.care, margin)
    resp = responsibility(net, run.x, run.t, run.care, margin)
    layers = {}
    for layer in run.scenario.layers:  # declaration order: the order the file uses
        unit = net.layer(layer.name)
        i = unit.index
        if unit.is_input:
            layers[unit.name] = {"units": list(unit.units), "activation": plain(p.a[i])}
            continue
        has_bias = unit.b is not None
        layers[unit.name] = {
            "units": list(unit.units),
            "net": plain(p.net[i]),
            "activation": plain(p.a[i]),
            "delta": plain(p.delta[i]),
            "bias": plain(unit.b[0]) if has_bias else None,
            # null for a frozen bias too, as a frozen connection's "gradient" is
            "bias_gradient": plain(unit.b_grad[0]) if unit.b_grad is not None else None,
            "bias_trainable": unit.bias_trainable if has_bias else None,
            # gradient x input (docs/blame.md): own part, its first-order effect on E
            # per pattern and summed, the signed share, and the real effect of removing it
            "own": plain(own_input(p, unit)),
            "first_order": plain(terms[unit.name]),
            "contribution": plain(c[unit.name]),
            "share": plain(shares[unit.name]),
            "knockout": None if knocked is None else plain(knocked[unit.name]),
            "responsibility": None if resp is None else plain(resp.values[unit.name]),
        }
        if resp is not None and resp.standard_error is not None:
            layers[unit.name]["responsibility_error"] = plain(resp.standard_error[unit.name])
    connections = []
    for link in net.links:
        factors = link_factors(p, link)
        connections.append({
            "from": link.sender.name,
            "to": link.receiver.name,
            "weights": plain(link.w),
            "gradient": plain(link.grad) if link.grad is not None else None,
            "trainable": link.trainable,
            "link": None if factors is None else plain(factors),
        })
    return {
        "scenario": run.scenario.title,
        "seed": run.seed,
        "patterns": list(run.scenario.data.train_names),
        "loss": plain(p.E),
        # share: c_j / sum |c_k|, c_j = sum over patterns of delta_j own_j (docs/blame.md)
        "share_method": "gradient x input: first-order, signed, patterns summed",
        "reference": None if resp is None else {
            "loss": plain(resp.reference_loss),
            "excess": plain(resp.loss - resp.reference_loss),
            "method": "shapley, exact" if resp.exact else f"shapley, sampled over {resp.orders} orders",
            "players": [{"layer": name, "unit": net.layer(name).units[k]} for name, k in resp.players],
        },
        "layers": layers,
        "connections": connections,
        # What each hidden unit came to mean (bptui/core/meaning.py): more keys are allowed.
        "representations": plain(representations(run.scenario, net, p)),
    }


def is_correct(run: Run, output: np.ndarray, target: np.ndarray) -> bool:
    """Each softmax output layer's largest output is where its target's largest is, and
    every other output that has a target is closer than 0.5 to it (SPEC section 5)."""
    for unit in run.network.outputs:
        o, t = output[unit.columns], target[unit.columns]
        known = ~np.isnan(t)
        if not known.any():
            continue
        if unit.f.name == "softmax":
            if t[np.argmax(o)] != np.nanmax(t):
                return False
        elif not np.all(np.abs(o[known] - t[known]) < 0.5):
            return False
    return True


def pattern_results(run: Run, held_out_only: bool = False) -> list[dict]:
    """Every pattern's outputs at the current weights, its target and whether it is
    right; or (``held_out_only``) only the held-out ones, as a view redrawn while
    training needs them, without a pass over the training set."""
    data = run.scenario.data
    rows = np.flatnonzero(data.test) if held_out_only else np.arange(len(data.names))
    outputs = run.outputs(data.inputs[rows])
    return [
        {"name": data.names[k], "set": "test" if data.test[k] else "train", "output": plain(out),
         "target": plain(data.targets[k]), "correct": is_correct(run, out, data.targets[k])}
        for k, out in zip(rows, outputs)
    ]


def weights_report(run: Run) -> tuple[dict, list]:
    net = run.network
    layers = {layer.name: {"bias": plain(net.layer(layer.name).b[0]) if layer.bias else None}
              for layer in run.scenario.layers if layer.activation is not None}
    connections = [{"from": link.sender.name, "to": link.receiver.name, "weights": plain(link.w)}
                   for link in net.links]
    return layers, connections


def classifier(run: Run) -> tuple[str, ...] | None:
    """The class names when the network is a classifier (one softmax output layer): its
    units. None otherwise."""
    outputs = run.network.outputs
    if len(outputs) == 1 and outputs[0].f.name == "softmax":
        return outputs[0].units
    return None


def confusion(patterns: list[dict], classes: int) -> np.ndarray:
    """How often each class (row: the target's largest) was answered as each class
    (column: the output's largest), over ``patterns`` (as ``pattern_results`` lists them)."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    for p in patterns:
        target = np.array([np.nan if v is None else v for v in p["target"]], dtype=np.float64)
        output = np.array([np.nan if v is None else v for v in p["output"]], dtype=np.float64)
        if np.isnan(target).all() or np.isnan(output).any():
            continue
        counts[int(np.nanargmax(target)), int(np.argmax(output))] += 1
    return counts


def final_loss(run: Run) -> float:
    """E over the training patterns at the run's current weights: the E of ``Run.inspect()``
    (the scenario's loss, care mask and margin), without a backward pass, so the gradient
    the run holds is left as it was. The epoch losses of ``run.losses`` are read before
    each epoch's change (SPEC section 4), so after the last change this one may differ."""
    with np.errstate(all="ignore"):  # at diverged weights the numbers overflow: an outcome
        p = run.network.forward(run.x)
        run.network.output_error(p, run.t, run.care, run.training.margin)
    return float(p.E)


def train_report(run: Run) -> dict:
    layers, connections = weights_report(run)
    patterns = pattern_results(run)
    accuracy = {}
    for which in ("train", "test"):
        marks = [p["correct"] for p in patterns if p["set"] == which]
        if marks:
            accuracy[which] = sum(marks) / len(marks)
    report = {
        "scenario": run.scenario.title,
        "seed": run.seed,
        "epochs": run.epoch,
        "converged": run.status == CONVERGED,
        "status": run.status,
        "loss": plain(np.array(run.losses)),
        "final_loss": plain(final_loss(run)),  # at the weights returned; null if not finite
        # finite yet not learning (runaway weights, saturated units): bptui/core/health.py
        "warnings": plain(run_warnings(run)),
        "accuracy": accuracy,
        "layers": layers,
        "connections": connections,
        "patterns": patterns,
    }
    classes = classifier(run)
    if classes is not None:  # rows: the right class; columns: the answer given
        report["confusion"] = {"classes": list(classes), **{
            which: plain(confusion([p for p in patterns if p["set"] == which], len(classes)))
            for which in ("train", "test") if any(p["set"] == which for p in patterns)}}
    return report
