"""Each unit's blame signal and its share of the blame, as bars per layer.

The share is defined in docs/blame.md; the wording follows the stories: "Sunita's
error: 62% traced back to Arjun".
"""

from __future__ import annotations

import textwrap

from rich.text import Text

from bptui.app.glyphs import bar, compact
from bptui.core.snapshot import Snapshot

BAR_WIDTH = 6


def error_name(snapshot: Snapshot) -> str:
    """Whose error it is: the output unit's name when there is one, else 'the error'."""
    units = [unit for layer in snapshot.layers if layer.is_output for unit in layer.units]
    return f"{units[0]}'s error" if len(units) == 1 else "the error"


def blame_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    """The blame panel's text, its sentences wrapped to ``width`` columns."""
    positive, negative = colors["positive"], colors["negative"]
    accent, muted = colors["accent"], colors["muted"]
    out = Text(no_wrap=True, overflow="crop")
    computed = [layer for layer in snapshot.layers if not layer.is_input]
    if any(layer.share is None for layer in computed):
        note = "The backward pass of this step is not finished: the shares appear when every delta is known."
        out.append("\n".join(textwrap.wrap(note, max(width, 16))) + "\n", style=muted)
    whose = error_name(snapshot)
    for name in reversed(snapshot.order):
        layer = snapshot.layer(name)
        if layer.is_input:
            continue
        out.append(f"{layer.name}\n", style="bold")
        for k, unit in enumerate(layer.units):
            share = None if layer.share is None else float(layer.share[k])
            # The sum of delta over the training patterns: dE/db, the push on this unit.
            total = None if layer.delta is None else float(layer.delta[:, k].sum())
            out.append(f"  {unit[:12]:<12} ")
            out.append_text(bar(share or 0.0, BAR_WIDTH, accent))
            out.append(" " + ("  · " if share is None else f"{share:4.0%}") + "\n")
            out.append("    Σδ ", style=muted)
            out.append(compact(total, 0), style=muted if total is None else positive if total >= 0 else negative)
            out.append("\n")
            if share is not None and share >= 0.005:
                words = (f"{share:.0%} of it comes in at {unit} itself" if layer.is_output
                         else f"{whose}: {share:.0%} traced back to {unit}")
                for part in textwrap.wrap(words, max(width - 4, 16)):
                    out.append(f"    {part}\n", style=muted)
    note = "share: |δ x what the unit adds itself|, summed over the patterns (docs/blame.md)"
    out.append("\n" + "\n".join(textwrap.wrap(note, max(width, 16))), style=muted)
    return out

