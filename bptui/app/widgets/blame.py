"""The blame panel: each unit's signed first-order share, its knock-out, and, when the
scenario declares what is correct, the exact responsibility for the excess error.

The numbers are the core's (bptui/core/blame.py, bptui/core/responsibility.py), defined
in docs/blame.md. The panel reads top-down as the question is asked:

    E = 6.66406 over 3 patterns
    Most blame (first-order share): mixing +86%
    E - E_ref = 6.664, shared exactly:        (with a [reference] only)
      packaging  +3.957  59%
      mixing     +2.707  41%
    Most responsible: packaging (59%).
     credit│blame
    packaging · packet
           │▌     +14% blame
      first order +2.94
      knock-out   +2.56

Blame to the right of the centre line, credit to the left, and the sign and the word
beside it, so it reads without colour too.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from rich.text import Text

from bptui.app.glyphs import compact, signed_bar
from bptui.core.blame import most_blamed, percent
from bptui.core.ledger import largest, magnitude
from bptui.core.snapshot import LayerState, Snapshot
from bptui.core.stepper import RUNNING

LISTED = 64  # units of a layer listed one by one: every shipped network's (the digits': 32, 10)
LABEL = 14  # the width of a row's label: "first order", "knock-out"
# A unit's per-pattern terms disagree when the smaller of their blame part and their
# credit part is at least this fraction of the two together; below, the sum hides little.
DISAGREE = 0.01
# Percentages of E - E_ref are given when it is at least this fraction of the values'
# sizes; below, the faults nearly cancel and a percentage of so small an excess says little.
CANCEL = 0.1


def unit_title(layer: LayerState, k: int) -> str:
    """'packaging · packet', or 'Priya' when the layer is the unit."""
    unit = layer.units[k]
    return unit if unit == layer.name else f"{layer.name} · {unit}"


def stage_name(layer: LayerState, k: int) -> str:
    """The name the stories use: the stage (layer) of a one-unit layer, else the unit."""
    return layer.name if len(layer.units) == 1 else layer.units[k]


def has_own_part(snapshot: Snapshot, layer: LayerState) -> bool:
    """Whether the layer's units add anything of their own: a bias, or weights from an input."""
    return layer.bias is not None or any(
        link.receiver == layer.name and snapshot.layer(link.sender).is_input for link in snapshot.links)


def _wrap(out: Text, text: str, width: int, style: str = "", indent: int = 0) -> None:
    pad = " " * indent
    lines = textwrap.wrap(text, max(width - indent, 12), break_on_hyphens=False) or [""]
    out.append("\n".join(pad + line for line in lines) + "\n", style=style)


def _short(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def blame_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    """The blame panel's text, its sentences wrapped to ``width`` columns."""
    positive, negative, muted = colors["positive"], colors["negative"], colors["muted"]
    out = Text(no_wrap=True, overflow="crop")
    computed = [snapshot.layer(name) for name in reversed(snapshot.order) if not snapshot.layer(name).is_input]
    patterns = snapshot.patterns
    over = f"on pattern {patterns[0]}" if len(patterns) == 1 else f"over {len(patterns)} patterns"
    if snapshot.pass_loss is not None:
        _wrap(out, f"E = {snapshot.pass_loss:.6g} {over}", width, "bold")
    complete = all(layer.share is not None for layer in computed)
    if not complete:
        _wrap(out, "The backward pass of this step is not finished: the shares appear when every delta "
                   "is known.", width, muted)
    else:
        top = most_blamed({layer.name: layer.share for layer in computed})
        if top is not None:
            layer = snapshot.layer(top[0])
            _wrap(out, f"Most blame (first-order share): {stage_name(layer, top[1])} "
                       f"{percent(float(layer.share[top[1]]))}", width, "bold")
        if snapshot.phase == RUNNING and not snapshot.counterfactuals:
            _wrap(out, "While training, the knock-outs (and the responsibility) are computed for small "
                       "networks only: pause (space) or step (n, .) to see them.", width, muted)
        elif snapshot.counterfactuals and all(layer.knockout is None for layer in computed):
            _wrap(out, "No knock-outs: each takes a forward pass with its own copy of the weights, too "
                       "much work for a network this big (bptui/core/blame.py, KNOCKOUT_ limits).", width, muted)
    _responsibility(out, snapshot, computed, colors, width)

    half = max(4, min(10, (width - 16) // 2))
    if complete:  # the legend's centre line over the bars'
        out.append(" " * (2 + half - len("credit")) + "credit│blame\n", style=muted)
    for layer in computed:
        own = has_own_part(snapshot, layer)
        sums = None if layer.first_order is None else _sums(layer.first_order)
        units = range(len(layer.units))
        if len(units) > LISTED:  # a big layer: the units with the biggest shares, in order
            units = np.sort(largest(magnitude(layer.share), LISTED)) if layer.share is not None else range(LISTED)
            _wrap(out, f"{layer.name}: the {LISTED} of {len(layer.units):,} units with the biggest shares "
                       "(the network panel shows every unit)" if layer.share is not None else
                       f"{layer.name}: the first {LISTED} of {len(layer.units):,} units", width, muted)
        for k in units:
            out.append(unit_title(layer, k) + "\n", style="bold")
            total = None if layer.delta is None else float(layer.delta[:, k].sum())
            if not own:
                out.append("  no own part · Σδ ", style=muted)
                out.append(compact(total, 0) + "\n", style=muted)
                continue
            share = None if layer.share is None else float(layer.share[k])
            if share is None:
                out.append("  " + " " * half + "│" + " " * half + "  ·\n", style=muted)
            else:
                out.append("  ")
                out.append_text(signed_bar(share, half, positive, negative))
                word = " blame" if share > 0 else " credit" if share < 0 else ""
                out.append(f" {percent(share)}{word}\n", style="bold" if share else "")
            if sums is not None:
                _row(out, "first order", float(sums[0][k]), colors)
                if layer.knockout is not None:
                    _row(out, "knock-out", float(layer.knockout[k]), colors)
                _disagreement(out, *(float(v[k]) for v in sums[1:]), width, muted)
            _row(out, "Σδ", total, colors, muted)
    out.append("\n")
    _wrap(out, "First-order share: gradient x input. first order: c_j = the sum over the patterns of "
               "δ_j x own_j (own: the unit's bias and weights from the inputs), which estimates the "
               "knock-out: E - E with the unit's own part set to 0. share = c_j / Σ|c_k|: + blame (its "
               "own part raises E), - credit (lowers it). first order and knock-out are changes of E. Σδ: "
               "the blame signal, summed over the patterns (dE/db). See docs/blame.md.", width, muted)
    if snapshot.reference_loss is not None:
        method = ("exact Shapley values" if snapshot.responsibility_exact else
                  "Shapley values estimated from random orders (± one standard error)")
        _wrap(out, f"Responsibility: {method} over the units whose parameters differ from the scenario's "
                   "[reference]: each one's change, averaged over every order the changes could come in. "
                   "They add up to E - E_ref.", width, muted)
    return out


def _row(out: Text, label: str, value: float | None, colors: dict, style: str = "") -> None:
    out.append(f"  {label:<{LABEL - 2}}", style=colors["muted"])
    colour = colors["muted"] if value is None else colors["positive"] if value > 0 else colors["negative"] \
        if value < 0 else ""
    out.append(compact(value, 0), style=style or colour)
    out.append("\n")


def _sums(terms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per unit, over the patterns: c_j, the blame part and the credit part of it, and the
    patterns of each (a whole layer at once: the digits have 1,438 patterns)."""
    return (terms.sum(axis=0), np.where(terms > 0, terms, 0.0).sum(axis=0),
            np.where(terms < 0, terms, 0.0).sum(axis=0), (terms > 0).sum(axis=0), (terms < 0).sum(axis=0))


def _disagreement(out: Text, blame: float, credit: float, n_blame: float, n_credit: float, width: int,
                  muted: str) -> None:
    """A note when the patterns pull both ways: blame on some, credit on others."""
    if not (blame > 0 > credit) or min(blame, -credit) < DISAGREE * (blame - credit):
        return
    _wrap(out, f"patterns disagree: {compact(blame, 0)} blame on {int(n_blame)}, {compact(credit, 0)} credit "
               f"on {int(n_credit)}", width, muted, indent=4)


def _responsibility(out: Text, snapshot: Snapshot, computed: list[LayerState], colors: dict, width: int) -> None:
    """E - E_ref shared out exactly (or as estimated), biggest first, and who is most responsible."""
    muted = colors["muted"]
    declared = snapshot.scenario is not None and snapshot.scenario.reference is not None
    if snapshot.reference_loss is None or snapshot.pass_loss is None:
        if declared and snapshot.counterfactuals and all(layer.share is not None for layer in computed):
            _wrap(out, "The responsibility against the scenario's reference is too much work to compute for "
                       "this network.", width, muted)
        return
    rows, zero = [], []
    for layer in computed:
        if layer.responsibility is None:
            continue
        for k in range(len(layer.units)):
            value = float(layer.responsibility[k])
            error = None if layer.responsibility_error is None else float(layer.responsibility_error[k])
            if value == 0.0 and not error:
                zero.append(stage_name(layer, k))
            else:
                rows.append((stage_name(layer, k), value, error))
    rows.sort(key=lambda row: -row[1])
    excess = snapshot.pass_loss - snapshot.reference_loss
    sizes = sum(abs(value) for _, value, _ in rows)
    show_percent = excess != 0 and abs(excess) >= CANCEL * sizes
    how = "shared exactly:" if snapshot.responsibility_exact else "shared as estimated:"
    head = f"E - E_ref = {excess:.4g},"
    out.append("\n")
    out.append(f"{head} {how}\n" if len(head) + 1 + len(how) <= width else f"{head}\n{how}\n", style="bold")
    name_width = min(max((len(name) for name, _, _ in rows), default=4), max(width - 18, 6))
    for name, value, error in rows:
        out.append(f"  {_short(name, name_width):<{name_width}}  ")
        out.append(f"{value:+.4g}", style=f"bold {colors['positive'] if value > 0 else colors['negative']}")
        if show_percent:
            out.append(f"  {value / excess:.0%}")
        out.append("\n")
        if error is not None:
            out.append(f"  {'':<{name_width}}  ± {error:.2g}\n", style=muted)
    if zero:
        _wrap(out, "0: " + ", ".join(zero), width, muted, indent=2)
    top = [row for row in rows if row[1] > 0]
    if top and (len(top) == 1 or not math.isclose(top[0][1], top[1][1], rel_tol=1e-9)):
        share = f" ({top[0][1] / excess:.0%})" if show_percent else ""
        _wrap(out, f"Most responsible: {top[0][0]}{share}.", width, "bold")
    if not show_percent and rows:
        _wrap(out, "The faults nearly cancel: no percentages of so small an excess.", width, muted)
    _wrap(out, f"E_ref = {snapshot.reference_loss:.4g}: E at the scenario's [reference].", width, muted)
    out.append("\n")
