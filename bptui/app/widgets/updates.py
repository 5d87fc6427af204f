"""The last change of every weight and bias, and the biggest movers first."""

from __future__ import annotations

import textwrap

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
    out = Text(no_wrap=True, overflow="crop")
    if not rows:
        out.append(_wrap("Nothing here can learn: every connection is frozen.", width), style=muted)
        return out
    if snapshot.epoch == 0 and snapshot.phase != UPDATE:
        out.append(_wrap("No weight has changed yet: press n for one update.", width) + "\n", style=muted)
    change_width, value_width = _widths(rows)
    labels, with_value, label_width = _layout(rows, width, change_width, value_width)

    def line(k: int) -> None:
        _, value, change = rows[k]
        out.append(f"{labels[k]:<{label_width}} Δ ")
        out.append(compact(change, change_width),
                   style=positive if change > 0 else negative if change < 0 else muted)
        out.append(f" = {compact(value, value_width)}\n" if with_value else "\n", style=muted)

    out.append(_wrap(f"rate {snapshot.learning_rate:g} · momentum {snapshot.momentum:g}", width) + "\n",
               style=muted)
    out.append(_wrap("Δ: the last change" + ("; =: the value after it" if with_value else
                                            "; the values are in the network panel"), width) + "\n\n",
               style=muted)
    out.append(_wrap("biggest movers", width) + "\n", style="bold")
    for k in sorted(range(len(rows)), key=lambda k: -abs(rows[k][2]))[:MOVERS]:
        line(k)
    out.append("\n" + _wrap("every weight and bias", width) + "\n", style="bold")
    for k in range(len(rows)):
        line(k)
    return out


def _widths(rows: list[tuple[str, float, float]]) -> tuple[int, int]:
    """The columns of the changes and of the values: room for their usual lengths
    (-6.1e-04, +0.0112) even when this update's are shorter, so that the value column
    does not come and go from one update to the next."""
    return (max(8, *(len(compact(change, 0)) for _, _, change in rows)),
            max(7, *(len(compact(value, 0)) for _, value, _ in rows)))


def _layout(rows: list[tuple[str, float, float]], width: int, change_width: int,
            value_width: int) -> tuple[list[str], bool, int]:
    """The labels as they fit ``width`` beside their change (and value, when there is room):
    (labels, with the value, label width). The change is what this panel is for; the
    value, shown in the network panel too, goes first; then the spaces around the arrow;
    the last resort is to cut the middle of each label, keeping whose weight it is."""
    change_width += 3  # " Δ "
    value_width += 3  # " = "
    full = [label for label, _, _ in rows]
    tight = [label.replace(" ← ", "←") for label in full]
    for labels, with_value in ((full, True), (tight, True), (full, False), (tight, False)):
        label_width = max(len(label) for label in labels)
        if label_width + change_width + (value_width if with_value else 0) <= width:
            return labels, with_value, label_width
    room = max(5, width - change_width)
    return [_cut(label, room) for label in tight], False, room


def _cut(label: str, room: int) -> str:
    """``label`` in ``room`` characters, its middle given up for an ellipsis."""
    if len(label) <= room:
        return label
    head = (room - 1) // 2
    return label[:head] + "…" + label[len(label) - (room - 1 - head):]


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, max(width, 1)))
