"""Explain: the unit or weight under the cursor, its numbers derived with the live values.

The derivations are the core's (bptui/core/explain.py); this panel lays each out one
step a line, as on a blackboard:

    delta(Arjun)
      = f'(net) x sum_k w_k,Arjun delta_k
      = 0.241 x (1.36 x (-0.094))
      = -0.0309

then what each number is. A unit shows its delta (and its bias's gradient), then its
share of the blame step by step (its own part, c_j, the share), its knock-out and, when
the scenario declares a reference, its exact responsibility; a weight its gradient and
its last change. At the update phase the numbers are those of the pass shown, at the
weights it ran with (pass_weights).
"""

from __future__ import annotations

import textwrap

from rich.text import Text

from bptui.core.explain import (Derivation, Param, explain_change, explain_contribution, explain_delta,
                                explain_gradient, explain_knockout, explain_own, explain_responsibility,
                                explain_share, has_own_part, number)
from bptui.core.snapshot import Snapshot, pass_weights


class ExplainDrawer:
    """``draw(snapshot, colours, width)`` for a TextPanel. It reads the live run, so the app
    calls it only while the run is not training (``app.explainable``)."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, snapshot: Snapshot, colors: dict, width: int) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        muted = colors["muted"]
        app = self.app
        if app.running or app.pass_ is None:
            out.append("\n".join(textwrap.wrap("Training is running: pause (space) or step (n, .) to see "
                                               "the numbers derived.", width)), style=muted)
            return out
        selection = app.query_one("NetworkView").diagram.selection
        if selection is None:
            return out
        run, p, rows = app.run_, app.pass_, app.rows
        derivations, missing = [], []
        if selection.kind == "unit":
            layer = run.network.layer(selection.layer)
            if layer.is_input:
                unit = layer.units[selection.j]
                out.append(f"{unit} is an input: its activation is the pattern's value, and the "
                           "blame stops here.\nMove the cursor to a unit or a weight above.", style=muted)
                return out
            name, j = selection.layer, selection.j
            attempts = [lambda: explain_delta(run, p, name, j, app.pattern, rows)]
            if layer.b is not None:
                attempts.append(lambda: explain_gradient(run, p, Param(name, j), rows))
            attempts.append(lambda: explain_own(run, p, name, j, app.pattern, rows))
            if has_own_part(run.network, name, j):
                attempts += [lambda: explain_contribution(run, p, name, j, rows),
                             lambda: explain_share(run, p, name, j, rows)]
            else:
                missing.append("No own part: c_j is 0 and so is its share of the blame, however large its delta.")
            attempts.append(lambda: explain_knockout(run, name, j, rows))
            if run.scenario.reference is not None:
                attempts.append(lambda: explain_responsibility(run, name, j, rows))
        else:
            link = run.network.links[selection.link]
            param = Param(link.receiver.name, selection.j, link.sender.name, selection.i)
            attempts = [lambda: explain_gradient(run, p, param, rows)]
            if run.last_change is not None and link.trainable:
                attempts.append(lambda: explain_change(run, param))
            elif link.trainable:
                missing.append("no update yet: the last change appears after the first (n)")
            else:
                missing.append("this connection is frozen: it does not learn")
        with pass_weights(run, app.phase):  # the weights the pass ran with (the update phase)
            for attempt in attempts:
                try:
                    derivations.append(attempt())
                except ValueError as e:  # between phases: this number is not computed yet
                    if str(e) not in missing:
                        missing.append(str(e))
        for d in derivations:
            _derivation(out, d, colors, width)
        for note in missing:
            out.append("\n".join(textwrap.wrap(note, width)) + "\n", style=muted)
        return out


def _derivation(out: Text, d: Derivation, colors: dict, width: int) -> None:
    """One derivation: what, = symbols, = numbers, = result; then its factors and parts."""
    out.append("\n".join(textwrap.wrap(d.what, max(width, 12), break_on_hyphens=False)) + "\n", style="bold")
    for text, style in ((d.symbolic, colors["muted"]), (d.arithmetic, ""),
                        (number(d.value, d.digits), colors["accent"])):
        wrapped = textwrap.wrap(text, max(width - 4, 12), break_on_hyphens=False) or [""]
        out.append(f"  = {wrapped[0]}\n", style=style)
        for more in wrapped[1:]:
            out.append(f"    {more}\n", style=style)
    own = d.lines[1:len(d.lines) - sum(len(part.lines) for part in d.parts)]  # its factors and notes
    for line in own:
        for k, piece in enumerate(textwrap.wrap(line.strip(), max(width - 4, 12))):
            out.append(("  " if k == 0 else "    ") + piece + "\n", style=colors["muted"])
    out.append("\n")
    for part in d.parts:
        _derivation(out, part, colors, width)
