"""The gradient check: backprop's dE/dw beside finite differences (bptui/core/gradcheck.py).

The check is made on demand (`g` for the selected weight, `G` for the whole network)
and stays on screen until the next; the panel says when the run has moved on since.
"""

from __future__ import annotations

import textwrap

from rich.text import Text

from bptui.core.gradcheck import GradientCheck
from bptui.core.snapshot import Snapshot

WORST = 12  # rows listed of a whole-network check, worst first


class CheckDrawer:
    """``draw(snapshot, colours, width)`` for a TextPanel, showing the last check made."""

    def __init__(self) -> None:
        self.result: GradientCheck | None = None
        self.epoch = 0  # the run's epoch when the check was made
        self.what = ""

    def __call__(self, snapshot: Snapshot, colors: dict, width: int) -> Text:
        muted = colors["muted"]
        out = Text(no_wrap=True, overflow="crop")
        c = self.result
        if c is None:
            note = ("g: check the weight (or bias) under the cursor; G: the whole network. Each "
                    "weight is nudged up and down by a small step h, and the slope of the error, "
                    "(E(w + h) - E(w - h)) / 2h, is set beside backprop's dE/dw.")
            out.append("\n".join(textwrap.wrap(note, width)) + "\n", style=muted)
            return out
        out.append(f"{self.what}\n", style="bold")
        out.append(f"at epoch {self.epoch}\n", style=muted)
        if snapshot.epoch != self.epoch:
            out.append(f"(the run is at epoch {snapshot.epoch} now: g or G checks again)\n", style=muted)
        verdict = "they agree" if c.ok else "they DISAGREE"
        out.append(f"{len(c.judged)} checked: {verdict}\n", style=colors["positive"] if c.ok else colors["negative"])
        out.append(f"max relative error {c.max_relative_error:.1e}\n")
        out.append(f"(agree: at most {c.threshold:.0e})\n", style=muted)
        if c.above:
            out.append(f"{c.above} above the threshold\n", style=colors["negative"])
        if c.corners:
            note = f"{c.corners} not judged: E has a corner there (a margin edge or a relu)"
            out.append("\n".join(textwrap.wrap(note, width)) + "\n", style=muted)
        if c.skipped:
            note = f"{c.skipped} more parameters not checked (a sample, evenly spaced)"
            out.append("\n".join(textwrap.wrap(note, width)) + "\n", style=muted)
        out.append(f"E {c.loss:.6g} · step h {c.step:g}\n\n", style=muted)
        rows = sorted(c.rows, key=lambda r: -(r.relative_error if r.relative_error == r.relative_error
                                                  else float("inf")))
        for r in rows[:WORST]:
            out.append(f"{r.name}\n", style="bold")
            out.append(f"  backprop {r.backprop:+.8e}\n  numeric  {r.numeric:+.8e}\n")
            flag = "corner: not judged" if r.corner else (
                "ok" if r.relative_error <= c.threshold else "TOO FAR")
            out.append(f"  relative error {r.relative_error:.1e}  {flag}\n",
                       style=muted if r.corner or r.relative_error <= c.threshold else colors["negative"])
        if len(rows) > WORST:
            out.append(f"... and {len(rows) - WORST} more, all closer\n", style=muted)
        return out
