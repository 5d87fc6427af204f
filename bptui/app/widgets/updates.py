"""The last change of every weight and bias, and the biggest movers first."""

from __future__ import annotations

import textwrap

from rich.text import Text

from bptui.app.glyphs import compact
from bptui.core.ledger import largest, magnitude
from bptui.core.snapshot import Snapshot
from bptui.core.stepper import UPDATE

MOVERS = 5
EVERY = 5000  # changes listed one by one (the digits: 2,410); a bigger network's are in the network panel


def _blocks(snapshot: Snapshot):
    """Each trainable connection's and layer's biases, in network order: a function that
    names its r-th weight (or bias), its values and its last changes, flat."""
    for link in snapshot.links:
        if link.change is not None:
            receivers, senders = snapshot.layer(link.receiver).units, snapshot.layer(link.sender).units
            n = len(senders)
            yield (lambda r, receivers=receivers, senders=senders, n=n: f"w({receivers[r // n]} ← {senders[r % n]})",
                   link.w.reshape(-1), link.change.reshape(-1))
    for layer in snapshot.layers:
        if layer.bias is not None and layer.bias_change is not None:
            yield (lambda r, units=layer.units: f"b({units[r]})"), layer.bias.reshape(-1), layer.bias_change.reshape(-1)


def changes(snapshot: Snapshot, limit: int | None = None) -> list[tuple[str, float, float]]:
    """(label, value, last change) of every trainable weight and bias (the first ``limit``
    of them), in network order."""
    rows = []
    for label, values, change in _blocks(snapshot):
        for r in range(len(values) if limit is None else min(len(values), limit - len(rows))):
            rows.append((label(r), float(values[r]), float(change[r])))
        if limit is not None and len(rows) >= limit:
            break
    return rows


def movers(snapshot: Snapshot, k: int = MOVERS) -> list[tuple[str, float, float]]:
    """The ``k`` biggest changes (|Δ|), ties in network order, as ``changes`` gives them."""
    found = []
    offset = 0
    for label, values, change in _blocks(snapshot):
        size = magnitude(change)
        found += [(-size[r], offset + r, (label(r), float(values[r]), float(change[r]))) for r in largest(size, k)]
        offset += len(values)
    return [row for *_, row in sorted(found, key=lambda f: f[:2])[:k]]


def updates_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    positive, negative = colors["positive"], colors["negative"]
    muted = colors["muted"]
    total = sum(len(values) for _, values, _ in _blocks(snapshot))
    rows = changes(snapshot, EVERY)
    out = Text(no_wrap=True, overflow="crop")
    if not rows:
        out.append(_wrap("Nothing here can learn: every connection is frozen.", width), style=muted)
        return out
    if snapshot.epoch == 0 and snapshot.phase != UPDATE:
        out.append(_wrap("No weight has changed yet: press n for one update.", width) + "\n", style=muted)
    top = movers(snapshot)
    change_width, value_width = _widths(rows + top)
    labels, with_value, label_width = _layout(rows + top, width, change_width, value_width)

    def line(k: int, row) -> None:
        _, value, change = row
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
    for k, row in enumerate(top):
        line(len(rows) + k, row)
    if total > len(rows):
        out.append("\n" + _wrap(f"the first {len(rows):,} of {total:,} weights and biases", width) + "\n",
                   style="bold")
    else:
        out.append("\n" + _wrap("every weight and bias", width) + "\n", style="bold")
    for k, row in enumerate(rows):
        line(k, row)
    if total > len(rows):
        out.append(_wrap("The network panel shows every weight: move its cursor onto one for its last change.",
                         width) + "\n", style=muted)
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
