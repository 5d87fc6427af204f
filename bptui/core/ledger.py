"""The ledger: every weight change written down, as JSON (a trace file) or as text.

A trace (``bptui train PATH --trace FILE.jsonl``, format in ``docs/trace.md``) has one
JSON object per line, one line per weight change, built by ``ledger_record`` from
``Run.last_change``. Numbers are written at full precision and in a fixed order, so
the same scenario and seed give the same file byte for byte. ``Trace`` writes the file
atomically: it appears whole when training ends, and not at all when it fails.

``ledger_lines`` is the same change for a person: one line per weight, the biggest
changes first, with the arithmetic of the update rule (``explain_change``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bptui.core.atomic import AtomicFile
from bptui.core.explain import explain_change, number, param_at, param_name, share_of
from bptui.core.training import Change, Run


def _plain(x):
    """An array as nested lists of floats, non-finite numbers as None (JSON null)."""
    if isinstance(x, np.ndarray):
        return [_plain(v) for v in x]
    x = float(x)
    return x if math.isfinite(x) else None


def _change(run: Run) -> Change:
    if run.last_change is None:
        raise ValueError("no weight change was kept: set run.keep_last_change = True before training")
    return run.last_change


def ledger_record(run: Run) -> dict:
    """The last weight change of ``run`` (``run.keep_last_change`` must be on) as a
    JSON-ready dict: see docs/trace.md."""
    ch = _change(run)
    net = run.network
    p = ch.pass_
    names = run.scenario.data.train_names
    grad, dw = net.views(ch.grad), net.views(ch.dw)
    layers = {}
    for layer in run.scenario.layers:  # declaration order, as the scenario file has them
        unit = net.layer(layer.name)
        if unit.is_input:
            continue
        i = unit.index
        learns = unit.b_grad is not None  # no bias, or a frozen one: no gradient, no change
        layers[unit.name] = {
            "delta": _plain(p.delta[i]),
            "bias_gradient": _plain(grad.biases[i][0]) if learns else None,
            "bias_change": _plain(dw.biases[i][0]) if learns else None,
        }
    # Connections that share their weights view one matrix: each lists the shared
    # gradient (the sum over its uses) and the one change it made.
    connections = [{
        "from": link.sender.name,
        "to": link.receiver.name,
        "gradient": _plain(grad.weights[link.index]) if link.trainable else None,
        "change": _plain(dw.weights[link.index]) if link.trainable else None,
    } for link in net.links]
    return {
        "epoch": ch.epoch,
        "update": ch.update,
        "patterns": [names[r] for r in ch.rows],
        "learning_rate": ch.learning_rate,
        "momentum": ch.momentum,
        "weight_decay": ch.weight_decay,
        "E": _plain(np.float64(ch.E)),
        "layers": layers,
        "connections": connections,
    }


def ledger_line(record: dict) -> str:
    """One record as one line of JSON (no NaN: non-finite numbers are already null)."""
    return json.dumps(record, allow_nan=False)


def ledger_lines(run: Run, k: int = 5, digits: int = 3) -> list[str]:
    """The last weight change as at most ``k`` lines, the biggest changes |dw| first:

        epoch 3 · pattern 01 · w(h1<-x1) -0.5 x 0.052 x 0.73 + 0.9 x (-0.011) = -0.029

    A batch change names its number of patterns ("4 patterns") and shows dE/dw summed.
    A shared weight is one line, named by its group's first connection and the group
    (``w(h2[0]<-h1[1]) (shared 'tied')``), its dE/dw summed over its uses.
    """
    ch = _change(run)
    net = run.network
    where = (f"pattern {run.scenario.data.train_names[ch.rows[0]]}" if len(ch.rows) == 1
             else f"{len(ch.rows)} patterns")
    lines = []
    # Biggest first; ties (and nan, put last) in theta's order, so the lines are stable.
    for n in largest(magnitude(ch.dw), k):
        param = param_at(net, int(n))
        d = explain_change(run, param, digits=digits)
        share = share_of(net, param)
        name = param_name(net, param) + (f" (shared '{share}')" if share is not None else "")
        lines.append(f"epoch {ch.epoch} · {where} · {name} {d.arithmetic} = {number(d.value, digits)}")
    return lines


class Trace:
    """A trace file being written, atomically: use as a context manager, and pass
    ``write`` as ``Run.train``'s ``on_change`` (with ``run.keep_last_change`` on).

    The records go to a temporary file beside ``path`` (``.NAME.bptui-trace.tmp``);
    leaving the ``with`` block normally renames it over ``path``, leaving it by an
    exception deletes it, so there is never a half-written trace. Opening raises OSError
    when the folder cannot be written, or NotSaved when ``path`` is no regular file (a
    folder, a pipe, a device: see ``atomic.py``), before any training is spent.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._out = AtomicFile(self.path, "trace")
        self._file = self._out.file

    def write(self, run: Run) -> None:
        """Append the run's last weight change."""
        self._file.write(ledger_line(ledger_record(run)) + "\n")

    def __enter__(self) -> Trace:
        return self

    def __exit__(self, kind, error, tb) -> None:
        if kind is None:
            self._out.commit()  # removes the temporary file itself if it fails
        else:
            self._out.discard()


def largest(a: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` largest values of the 1-d ``a`` (no nan), largest first,
    ties in index order: a stable sort's first ``k``, without sorting millions of weights
    (a sort of 8.75 million takes a second, this a twentieth)."""
    if a.size <= k:
        return np.argsort(-a, kind="stable")
    threshold = np.partition(a, a.size - k)[a.size - k]  # the k-th largest
    above = np.flatnonzero(a > threshold)  # fewer than k
    chosen = np.concatenate([above, np.flatnonzero(a == threshold)[:k - above.size]])
    return chosen[np.lexsort((chosen, -a[chosen]))]


def magnitude(change: np.ndarray) -> np.ndarray:
    """|change| for ranking, nan ranked last (as numpy's sort puts it)."""
    size = np.abs(change)
    size[np.isnan(size)] = -1.0
    return size
