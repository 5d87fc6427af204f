"""The last change of every weight and bias, and the biggest movers first."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from bptui.app.glyphs import compact
from bptui.core.snapshot import Snapshot
from bptui.core.stepper import UPDATE

MOVERS = 5


def changes(snapshot: Snapshot) -> list[tuple[str, float, float]]:
    """(label, value, last change) of every trainable weight and bias, in network order."""
    rows = []
    for link in snapshot.links:
        if link.change is None:
            continue
        receivers = snapshot.layer(link.receiver).units
        senders = snapshot.layer(link.sender).units
        for j, i in np.ndindex(link.w.shape):
            rows.append((f"w({receivers[j]} ← {senders[i]})", float(link.w[j, i]), float(link.change[j, i])))
    for layer in snapshot.layers:
        if layer.bias is not None and layer.bias_change is not None:
            for k, unit in enumerate(layer.units):
                rows.append((f"b({unit})", float(layer.bias[k]), float(layer.bias_change[k])))
    return rows


def updates_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    positive, negative = colors["positive"], colors["negative"]
    muted = colors["muted"]
    rows = changes(snapshot)
    out = Text(no_wrap=True, overflow="ellipsis")
    if not rows:
        return Text("Nothing here can learn: every connection is frozen.", style=muted)
    if snapshot.epoch == 0 and snapshot.phase != UPDATE:
        out.append("No weight has changed yet: press n for one update.\n\n", style=muted)
    label_width = min(14, max(len(label) for label, _, _ in rows))

    def line(label, value, change):
        # The change first, the value last: in a narrow panel what is cut is what the
        # network panel shows anyway.
        out.append(f"{label[:label_width]:<{label_width}} Δ")
        out.append(compact(change, 9), style=positive if change > 0 else negative if change < 0 else muted)
        out.append(f"  = {compact(value, 0)}\n", style=muted)

    out.append(f"rate {snapshot.learning_rate:g} · momentum {snapshot.momentum:g}\n", style=muted)
    out.append("biggest movers\n", style="bold")
    for row in sorted(rows, key=lambda r: -abs(r[2]))[:MOVERS]:
        line(*row)
    out.append("\nevery weight and bias\n", style="bold")
    for row in rows:
        line(*row)
    return out

