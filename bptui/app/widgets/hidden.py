"""The hidden units: what each came to mean, and its activation for every pattern.

The "learning representations" of the 1986 paper's title. First each hidden unit's
incoming weights, read as the paper reads them (bptui/core/meaning.py): drawn on the
sending layer's grid when it has one (the 24 people as the two family trees, the
pixels of an image), matched against the sending units' named features, and for a
few senders as numbers and ratios (the symmetry detectors' 1 : 2 : 4). Then the
activation of every hidden unit for every pattern as a heat table, with each
pattern's code in bits (the 8-3-8 encoder's binary code).
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from rich.text import Text

from bptui.app.glyphs import heat_cell, number, shade, weight_cell
from bptui.core.meaning import best_match, codes, feature_matches, ratios
from bptui.core.report import confusion
from bptui.core.snapshot import LayerState, LinkState, Snapshot

FEW = 8  # senders up to this many are shown as numbers; more as cells
CODE_UNITS = 10  # layers up to this many units also show each pattern's code in bits
TABLE_PATTERNS = 128  # patterns in the activation table: every shipped puzzle (the family trees: 100), not a data set
TABLE_UNITS = 12  # units in the activation table


def hidden_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    muted = colors["muted"]
    accent = colors["accent"]
    hidden = [layer for layer in snapshot.layers if layer.is_hidden]
    out = Text(no_wrap=True, overflow="crop")
    if not hidden:
        out.append("This network has no hidden layer: every unit is an input or an output.\n", style=muted)
    for layer in hidden:
        out.append_text(meaning_text(snapshot, layer, colors, width))
    if snapshot.held_out:  # before the long table: how well it answers what it never saw
        out.append_text(held_out_text(snapshot, colors))
        out.append("\n")
    name_width = min(max(max(len(p) for p in snapshot.patterns), 7), 16)
    for layer in hidden:
        show_code = len(layer.units) <= CODE_UNITS
        units = layer.units[:TABLE_UNITS]
        out.append(f"{layer.name} · each pattern\n", style="bold")
        out.append(" " * (name_width + 1))
        for unit in units:
            out.append(f"{unit[:6]:>7}", style=muted)
        out.append("  code\n" if show_code else "\n", style=muted)
        if layer.a is None:
            out.append("not computed yet\n", style=muted)
            continue
        bits = codes(layer.a) if show_code else None
        for p, pattern in enumerate(snapshot.patterns[:TABLE_PATTERNS]):
            out.append(f"{pattern[:name_width]:<{name_width}} ")
            for k in range(len(units)):
                a = float(layer.a[p, k])
                out.append(f" {shade(a)}", style=accent)
                out.append(f"{a:5.2f}"[:5])
            out.append(f"  {bits[p]}\n" if show_code else "\n")
        hidden_rows = len(snapshot.patterns) - TABLE_PATTERNS
        if hidden_rows > 0 or len(layer.units) > len(units):
            note = (f"(the first {min(TABLE_PATTERNS, len(snapshot.patterns))} patterns"
                    f"{f' and {len(units)} units' if len(layer.units) > len(units) else ''}: the network panel "
                    "shows every unit on any pattern, p and P choose it)")
            out.append("\n".join(textwrap.wrap(note, width)) + "\n", style=muted)
        if show_code and len(snapshot.patterns) > 1:
            distinct = len(set(bits))
            out.append(f"{distinct} different codes for {len(bits)} patterns"
                       + (": every pattern its own" if distinct == len(bits) else "") + "\n", style=muted)
        out.append("\n")
    if hidden:
        out.append("shade: activation, from 0 (blank)\nto 1 (full block); code: 1 where on (0.5 or more)\n",
                   style=muted)
    return out


LISTED = 12  # held-out patterns listed one by one; a classifier with more shows its confusion matrix


def held_out_text(snapshot: Snapshot, colors: dict) -> Text:
    """The held-out patterns, never trained on: how the network answers them now."""
    out = Text("held out (never trained on)\n", style="bold")
    right = sum(r["correct"] for r in snapshot.held_out)
    out.append(f"{right} of {len(snapshot.held_out)} answered right ({right / len(snapshot.held_out):.1%})\n",
               style=colors["muted"])
    outputs = [layer for layer in snapshot.layers if layer.is_output]
    if len(snapshot.held_out) > LISTED and len(outputs) == 1 and outputs[0].activation == "softmax":
        out.append_text(confusion_text(outputs[0].units, confusion(list(snapshot.held_out), len(outputs[0].units)),
                                       colors))
        return out
    for r in snapshot.held_out:
        out.append(f"{r['name'][:16]:<16} ")
        out.append("ok " if r["correct"] else "no ", style=colors["positive"] if r["correct"] else colors["negative"])
        out.append(" ".join("-" if v is None else f"{v:.2f}" for v in r["output"]))
        out.append("  target " + " ".join("-" if v is None else f"{v:g}" for v in r["target"]) + "\n",
                   style=colors["muted"])
    return out



def meaning_text(snapshot: Snapshot, layer: LayerState, colors: dict, width: int) -> Text:
    """Each unit of a hidden layer by its incoming weights, as the paper reads them."""
    muted = colors["muted"]
    out = Text(no_wrap=True, overflow="crop")
    for link in snapshot.links:
        sender = snapshot.layer(link.sender)
        # What the network made of its inputs; deeper weights mix codes already made.
        if link.receiver != layer.name or not sender.is_input:
            continue
        out.append(f"{layer.name} · weights from {sender.name}\n", style="bold")
        if len(sender.units) <= FEW and sender.grid is None and 6 + 7 * len(layer.units) <= width:
            out.append_text(_few_senders(layer, sender, link, colors, width))
        else:
            out.append_text(_many_senders(layer, sender, link, colors, width))
        out.append("\n")
    return out


def _few_senders(layer: LayerState, sender: LayerState, link: LinkState, colors: dict,
                 width: int) -> Text:
    """A few senders: a row each, with every unit's weight from it as a number and, when
    there is room, in units of that unit's smallest weight (ratios)."""
    muted, positive, negative = colors["muted"], colors["positive"], colors["negative"]
    out = Text(no_wrap=True, overflow="crop")
    units = layer.units
    w = link.w  # receiving x sending
    name_width = min(max(len(name) for name in sender.units), 6) + 1
    with_ratios = name_width + 11 * len(units) <= width and np.isfinite(w).all()
    out.append(" " * name_width)
    for u in units:
        out.append(f"{u[:5]:>6}", style=muted)
    for _ in units if with_ratios else ():
        out.append(f"{'×min':>5}", style=muted)
    out.append("\n")
    r = [ratios(w[j]) for j in range(len(units))]
    for i, name in enumerate(sender.units):
        out.append(f"{name[:name_width - 1]:<{name_width}}")
        for j in range(len(units)):
            x = float(w[j, i])
            out.append(f"{number(x, 5, 1):>6}", style=positive if x >= 0 else negative)
        if with_ratios:
            for j in range(len(units)):
                out.append(f"{r[j][i]:>+5.1f}", style=muted)
        out.append("\n")
    for j, unit in enumerate(units):
        match = _matches(w[j], sender, colors, indent=f"{unit[:6]}: ")
        out.append_text(match)
    if with_ratios:
        out.append("\n".join(textwrap.wrap("×min: each weight over that unit's smallest", width)) + "\n",
                   style=muted)
    return out


def _many_senders(layer: LayerState, sender: LayerState, link: LinkState, colors: dict, width: int) -> Text:
    """Many senders: each weight as a sign and a block, on the sender's grid if it has one.
    Units whose drawings are narrow (an 8 x 8 image) sit side by side."""
    muted = colors["muted"]
    out = Text(no_wrap=True, overflow="crop")
    n = len(sender.units)
    rows, cols = sender.grid or (math.ceil(n / max(1, (width - 2) // 2)), max(1, (width - 2) // 2))
    cell = max(2 * cols, 10) + 2  # a unit's drawing, its title and a gap
    image = bool(sender.grid) and not sender.features  # pixels, say: read best as a heat map
    across = max(1, width // cell) if image else 1
    heat = image
    for first in range(0, len(layer.units), across):
        group = list(range(first, min(first + across, len(layer.units))))
        scales = []
        for j in group:
            finite = link.w[j][np.isfinite(link.w[j])]
            scales.append(float(np.abs(finite).max()) if finite.size else 0.0)
        if across == 1:
            out.append(f"unit {layer.units[group[0]]}", style="bold")
            out.append(f" · largest size {scales[0]:.2g}\n", style=muted)
        else:
            for j in group:
                out.append(f"{layer.units[j][:cell - 2]:<{cell}}", style="bold")
            out.append("\n")
        for r in range(rows):
            out.append("  " if across == 1 else "")
            for j, scale in zip(group, scales):
                for c in range(cols):
                    k = r * cols + c
                    if k < n:
                        out.append_text(heat_cell(float(link.w[j][k]), scale, colors) if heat else
                                        weight_cell(float(link.w[j][k]), scale, colors["positive"], colors["negative"]))
                out.append(" " * (cell - 2 * cols) if across > 1 else "")
            out.append("\n")
        if across == 1:
            out.append_text(_matches(link.w[group[0]], sender, colors, indent="  "))
        else:
            out.append("\n")
    if heat:
        note = ("each unit's weights: " + ("the positive colour excites the unit, the negative inhibits it, "
                                           "brighter as the weight nears the unit's largest" if colors.get("colour")
                                           else "+ excites the unit, - inhibits it; the block's height is the size"))
        out.append("\n".join(textwrap.wrap(note, width)) + "\n", style=muted)
    if sender.features:
        note = (f"≈ the named feature of {sender.name} the weights follow most closely; "
                f"r: their correlation, ±1 when exact")
        out.append("\n".join(textwrap.wrap(note, width)) + "\n", style=muted)
    if sender.grid and rows <= 4:
        spans = ", then ".join(f"{sender.units[r * cols]}…{sender.units[r * cols + cols - 1]}" for r in range(rows))
        out.append(f"rows: {spans}\n", style=muted)
    elif sender.grid:
        out.append(f"{sender.name} drawn as {rows} x {cols}, in order\n", style=muted)
    return out


def _matches(w, sender: LayerState, colors: dict, indent: str) -> Text:
    """Which of the sender's named features the weights follow (r: correlation)."""
    out = Text(no_wrap=True, overflow="crop")
    if not sender.features:
        return out
    best = best_match(w, sender.features)
    if best is not None:
        out.append(f"{indent}≈ {best.feature}", style=colors["accent"])
        out.append(f" (r {best.r:+.2f})\n", style=colors["muted"])
    else:
        closest = feature_matches(w, sender.features)
        hint = f" (closest {closest[0].feature}, r {closest[0].r:+.2f})" if closest else ""
        out.append(f"{indent}≈ no feature{hint}\n", style=colors["muted"])
    return out


def confusion_text(classes: tuple[str, ...], counts: np.ndarray, colors: dict) -> Text:
    """Rows: the right answer; columns: the answer given. The diagonal is right."""
    width = max(3, max(len(c) for c in classes) + 1, len(str(int(counts.max(initial=0)))) + 1)
    out = Text(no_wrap=True, overflow="crop")
    out.append("confusion: rows the right answer, columns the answer given\n", style=colors["muted"])
    out.append(" " * width)
    for c in classes:
        out.append(f"{c[:width - 1]:>{width}}", style=colors["muted"])
    out.append("\n")
    for i, c in enumerate(classes):
        out.append(f"{c[:width - 1]:>{width}}", style=colors["muted"])
        for j in range(len(classes)):
            n = int(counts[i, j])
            style = colors["positive"] if i == j else colors["negative"] if n else colors["muted"]
            out.append(f"{str(n) if n or i == j else '·':>{width}}", style=style)
        out.append("\n")
    return out
