"""Each unit's blame signal and its share of the blame, as bars per layer.

The share is defined in docs/blame.md; the wording follows the stories: "Sunita's
error: 62% traced back to Arjun".
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from bptui.app.glyphs import bar, compact, palette
from bptui.core.snapshot import Snapshot

BAR_WIDTH = 8


def error_name(snapshot: Snapshot) -> str:
    """Whose error it is: the output unit's name when there is one, else 'the error'."""
    outputs = [layer for layer in snapshot.layers
               if not layer.is_input and not any(link.sender == layer.name for link in snapshot.links)]
    units = [unit for layer in outputs for unit in layer.units]
    return f"{units[0]}'s error" if len(units) == 1 else "the error"


def blame_text(snapshot: Snapshot, colors: dict) -> Text:
    positive, negative = colors["positive"], colors["negative"]
    accent, muted = colors["accent"], colors["muted"]
    out = Text()
    computed = [layer for layer in snapshot.layers if not layer.is_input]
    if any(layer.share is None for layer in computed):
        out.append("The backward pass of this step is not finished:\nthe shares appear when every delta is known.\n",
                   style=muted)
    whose = error_name(snapshot)
    for name in reversed(snapshot.order):
        layer = snapshot.layer(name)
        if layer.is_input:
            continue
        out.append(f"{layer.name}\n", style="bold")
        is_output = not any(link.sender == layer.name for link in snapshot.links)
        for k, unit in enumerate(layer.units):
            share = None if layer.share is None else float(layer.share[k])
            # The sum of delta over the training patterns: dE/db, the push on this unit.
            total = None if layer.delta is None else float(layer.delta[:, k].sum())
            out.append(f"  {unit[:12]:<12} ")
            out.append_text(bar(share or 0.0, BAR_WIDTH, accent))
            out.append(" " + ("  · " if share is None else f"{share:4.0%}") + "\n")
            out.append("    Σδ", style=muted)
            out.append(compact(total, 8), style=muted if total is None else positive if total >= 0 else negative)
            if share is not None and share >= 0.005:
                words = (f"{share:.0%} of it comes in at {unit} itself" if is_output
                         else f"{whose}: {share:.0%} traced back to {unit}")
                out.append(f"  {words}", style=muted)
            out.append("\n")
    out.append("\nshare: |δ x what the unit adds itself|,\nsummed over the patterns (docs/blame.md)", style=muted)
    return out


class BlamePanel(VerticalScroll):
    DEFAULT_CSS = """
    BlamePanel > Static {
        width: 1fr;
        padding: 0 1;
    }
    """

    def compose(self):
        yield Static(id="blame-text")

    def show(self, snapshot: Snapshot) -> None:
        self.query_one("#blame-text", Static).update(blame_text(snapshot, palette(self.app)))
