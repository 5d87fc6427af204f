"""Warnings about a run that its status alone does not tell: finite, yet no longer learning.

A learning rate far too large need not make a run diverge. XOR at learning_rate 1e6
stays finite: the first changes throw every sigmoid to the end of its range, the weights
grow past 1e5, and the loss is pinned at 1 until the run is out of epochs. Its status is
``max_epochs``, as for a run that only needed more epochs. ``run_warnings`` says what
went wrong and what to try.

A warning is a dict whose first three keys every warning has:

- ``code``: a short name that does not change, for a script to test:
  ``runaway_weights`` or ``saturated_units``;
- ``text``: one sentence saying what was found, with its numbers;
- ``advice``: one sentence saying what to try;

and, by code, more keys:

- ``runaway_weights``: ``count``, how many weights and biases are beyond the limit,
  and ``largest``, the one of them that moves its unit's net input the most (signed);
- ``saturated_units``: ``units``, each ``{"layer": ..., "unit": ...}``, and ``loss``,
  the loss at the current weights.

Names in ``text`` come from the scenario file as they are: print them through
``printable``. No warning is given for a diverged run: its status says it, with advice.
"""

from __future__ import annotations

import math

import numpy as np

from bptui.core.network import LayerPlan, Pass
from bptui.core.training import DIVERGED, Run, finite_weights

# Units whose output has bounds: past them more net input changes nothing.
BOUNDED = ("sigmoid", "tanh", "softmax")

# A weight w_ji is runaway when it alone can move net_j by more than this. A sigmoid is
# 1 to float64 rounding once net > 37 (e^-37 < 1.1e-16, half the spacing of the floats
# below 1), tanh is +-1 past |net| = 19.1, and softmax picks its largest net alone once the
# others are 37 below. A term of 1e3, 27 times that, leaves the unit deciding by the sign
# of its net input alone, and no task needs it: every shipped scenario learns with
# weights below 20.
RUNAWAY_NET = 1e3

# A sigmoid or tanh unit is saturated when its output is within this of a bound: then
# f'(net) is below 1e-6 (sigmoid: a (1 - a)) or 2e-6 (tanh: 1 - a^2), against 0.25 and 1
# at the middle, and blame passing back through the unit shrinks a million times.
SATURATED = 1e-6

# The loss "stays high" when it is at least this many times the error criterion: not a
# run that stopped just short of it, where a saturated unit is an idle one, not the trouble.
HIGH_LOSS = 2.0

ADVICE = ("Lower the learning rate (or the momentum), by half or more, and start again: in the "
          "app, - halves it and resets; for bptui train, set a smaller learning_rate under "
          "[training] in the scenario file.")

UNITS_NAMED = 4  # a warning's text names at most this many units, then how many more


def run_warnings(run: Run, p: Pass | None = None) -> list[dict]:
    """The warnings about ``run`` at its current weights (an empty list when there are none).

    ``p``: a forward pass over the run's training patterns at these weights, such as
    ``run.inspect()`` gives; without it one is made (forward only, so the gradient the
    run holds is left as it was)."""
    net = run.network
    if run.status == DIVERGED or not finite_weights(net.theta):
        return []
    if p is None:
        with np.errstate(all="ignore"):
            p = net.forward(run.x)
            net.output_error(p, run.t, run.care, run.training.margin)
    warnings = []
    runaway = _runaway(run, p)
    if runaway is not None:
        warnings.append(runaway)
    saturated = _saturated(run, p)
    if saturated is not None:
        warnings.append(saturated)
    return warnings


def _reach(p: Pass, sender: LayerPlan) -> np.ndarray:
    """Per unit i of ``sender``, the largest |a_i| a weight from it multiplies: 1 for a
    bounded unit (|a_i| <= 1 whatever its net input, so that a weight into a unit now
    pinned at 0 still counts), else the largest over the training patterns."""
    if sender.f is not None and sender.f.name in BOUNDED:
        return np.ones(sender.size)
    return np.abs(p.a[sender.index]).max(axis=0, initial=0.0)


def _runaway(run: Run, p: Pass) -> dict | None:
    """Trainable weights and biases into bounded units that alone move net_j by more than
    RUNAWAY_NET. Frozen ones are the file's choice, not the learning rate's doing."""
    count, largest, worst = 0, 0.0, 0.0
    for link in run.network.links:
        if not link.trainable or link.receiver.f.name not in BOUNDED:
            continue
        moves = np.abs(link.w) * _reach(p, link.sender)  # receiving x sending
        count += int(np.count_nonzero(moves > RUNAWAY_NET))
        k = np.unravel_index(np.argmax(moves), moves.shape)
        if moves[k] > worst:
            worst, largest = float(moves[k]), float(link.w[k])
    for unit in run.network.computed:
        if unit.b is None or unit.b_grad is None or unit.f.name not in BOUNDED:
            continue
        moves = np.abs(unit.b[0])
        count += int(np.count_nonzero(moves > RUNAWAY_NET))
        k = int(np.argmax(moves))
        if moves[k] > worst:
            worst, largest = float(moves[k]), float(unit.b[0][k])
    if not count:
        return None
    what = "weight or bias has" if count == 1 else "weights and biases have"
    return {
        "code": "runaway_weights",
        "text": (f"{count:,} {what} run away: each alone moves a unit's net input by more "
                 f"than {RUNAWAY_NET:,.0f} (the largest: {largest:.3g}), where a sigmoid is already "
                 f"at 0 or 1 past 37, so these units answer by the sign of their net input alone."),
        "advice": ADVICE,
        "count": count,
        "largest": largest,
    }


def _blocks(run: Run, unit: LayerPlan) -> bool:
    """Whether blame reaching ``unit`` is multiplied by f'(net_j): for every hidden
    unit; for an output unit, unless its delta is a - t (cross-entropy with sigmoid
    outputs), which a saturated unit passes whole."""
    if unit.f.name not in ("sigmoid", "tanh"):
        return False
    return not unit.is_output or run.training.loss == "sse"


def _saturated(run: Run, p: Pass) -> dict | None:
    """Units at a bound on every training pattern, while the loss is HIGH_LOSS times the
    error criterion or more: their f'(net) is about 0, so no blame passes through them and
    the weights behind them stop learning, with the work still undone."""
    E = float(np.sum(p.E))
    criterion = run.training.error_criterion
    if not (math.isfinite(E) and E > 0.0 and E >= HIGH_LOSS * criterion):
        return None
    units = []
    for unit in run.network.computed:
        if not _blocks(run, unit):
            continue
        a = p.a[unit.index]
        low = -1.0 if unit.f.name == "tanh" else 0.0
        at_bound = np.minimum(a - low, 1.0 - a) < SATURATED  # patterns x units
        for j in np.flatnonzero(at_bound.all(axis=0)):
            units.append({"layer": unit.name, "unit": unit.units[j]})
    if not units:
        return None
    named = ", ".join(f"{u['layer']} {u['unit']}" for u in units[:UNITS_NAMED])
    if len(units) > UNITS_NAMED:
        named += f" and {len(units) - UNITS_NAMED:,} more"
    n = len(units)
    return {
        "code": "saturated_units",
        "text": (f"{n:,} {'unit sits' if n == 1 else 'units sit'} at the end of {'its' if n == 1 else 'their'} "
                 f"range on every pattern ({named}): f'(net) is about 0 there, so no blame passes "
                 f"through, while the loss is {E:.4g} (error criterion {criterion:g})."),
        "advice": ADVICE,
        "units": units,
        "loss": E,
    }
