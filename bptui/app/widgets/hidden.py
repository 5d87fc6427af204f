"""The hidden units: what each came to mean, and its activation for every pattern.

The "learning representations" of the 1986 paper's title. First each hidden unit's
incoming weights, read as the paper reads them (bptui/core/meaning.py): drawn on the
sending layer's grid when it has one (the 24 people as the two family trees, the
pixels of an image), matched against the sending units' named features, and for a
few senders as numbers and ratios (the symmetry detectors' 1 : 2 : 4). Then the
activation of every hidden unit for every pattern as a heat table, with each
pattern's code in bits (the 8-3-8 encoder's binary code); a short table comes first.

Everything is laid out for the panel's width (80 columns leave it 27): sentences wrap,
records fold, and a table drops its shades, then its numbers, then puts each name on
a line of its own, rather than leave a column off screen.
"""

from __future__ import annotations

import math
import re
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
SHORT_TABLE = 16  # patterns: a table this short comes first, in sight (the 8-3-8 encoder's code)
# Units read by their weights, and weights drawn for each: the digits' 32 units of 64
# pixels whole; a network of millions of weights as a sample (the network panel has all).
MEANING_UNITS = 32
MEANING_SENDERS = 1024


def hidden_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    muted = colors["muted"]
    hidden = [layer for layer in snapshot.layers if layer.is_hidden]
    out = Text(no_wrap=True, overflow="crop")
    if not hidden:
        _para(out, "This network has no hidden layer: every unit is an input or an output.", width, muted)
        return out
    tables = Text(no_wrap=True, overflow="crop")
    shaded = coded = False
    for layer in hidden:
        table, shades, code = activation_table(snapshot, layer, colors, width)
        tables.append_text(table)
        tables.append("\n")
        shaded, coded = shaded or shades, coded or code
    legend = "; ".join((["shade: activation, from 0 (blank) to 1 (full block)"] if shaded else [])
                       + (["code: 1 where on (0.5 or more)"] if coded else []))
    if legend:
        _para(tables, legend, width, muted)
    if len(snapshot.patterns) <= SHORT_TABLE:
        out.append_text(tables)
        out.append("\n")
    for layer in hidden:
        out.append_text(meaning_text(snapshot, layer, colors, width))
    if snapshot.held_out:  # before a long table: how well it answers what it never saw
        out.append_text(held_out_text(snapshot, colors, width))
        out.append("\n")
    if len(snapshot.patterns) > SHORT_TABLE:
        out.append_text(tables)
    out.rstrip()
    out.append("\n")
    return out


# How one unit's activation is drawn in the table, from the most to the least room:
# (cell width, shade, number). The code in bits says on or off already; the number is
# exact; the shade reads at a glance, and alone it still shows many units side by side.
CELLS = ((7, True, True), (5, False, True), (2, True, False), (1, True, False))


def activation_table(snapshot: Snapshot, layer: LayerState, colors: dict,
                     width: int) -> tuple[Text, bool, bool]:
    """Every hidden unit's activation for every pattern, and each pattern's code in bits,
    laid out for ``width``: the cells shrink before a row breaks in two (its name above).
    Also whether it drew shades, and codes."""
    muted, accent = colors["muted"], colors["accent"]
    out = Text(no_wrap=True, overflow="crop")
    _para(out, f"{layer.name} · each pattern", width, "bold")
    if layer.a is None:
        out.append("not computed yet\n", style=muted)
        return out, False, False
    patterns = snapshot.patterns[:TABLE_PATTERNS]
    show_code = len(layer.units) <= CODE_UNITS
    bits = codes(layer.a) if show_code else None
    code_width = 2 + max(len(layer.units), 4) if show_code else 0  # two spaces, then "code" or the bits
    name_width = min(max(max(len(p) for p in patterns), 4), 16)
    units = layer.units[:TABLE_UNITS]
    layout = None
    for stacked in (False, True):  # the name beside the cells, or on a line above them
        lead = 2 if stacked else name_width + 1
        layout = next(((stacked, lead, cell) for cell in CELLS
                       if lead + len(units) * cell[0] + code_width <= width), None)
        if layout:
            break
    if layout is None:  # not even one character a unit: the first units that fit
        stacked, lead, cell = True, 2, CELLS[-1]
        units = units[:max(1, width - lead - code_width)]
    else:
        stacked, lead, cell = layout
    cell_width, with_shade, with_number = cell
    named = max(len(unit) for unit in units) < cell_width  # a cut name could read as another (1 for 12)
    if not named:
        _para(out, f"columns: units {units[0]} to {units[-1]}, in order", width, muted)
    if named or show_code:
        out.append(" " * lead)
        for unit in units:
            out.append(f"{unit if named else '':>{cell_width}}", style=muted)
        out.append(f"{'code':>{code_width}}\n" if show_code else "\n", style=muted)
    for p, pattern in enumerate(patterns):
        if stacked:
            out.append(f"{pattern[:width]}\n  ")
        else:
            out.append(f"{pattern[:name_width]:<{name_width}} ")
        for k in range(len(units)):
            a = float(layer.a[p, k])
            if cell_width > 1:
                out.append(" ")
            if with_shade:
                out.append(shade(a), style=accent)
            if with_number:
                out.append(_fit(a, cell_width - 1 - with_shade))
        out.append(f"{bits[p]:>{code_width}}\n" if show_code else "\n")
    hidden_rows = len(snapshot.patterns) - TABLE_PATTERNS
    if hidden_rows > 0 or len(layer.units) > len(units):
        _para(out, f"(the first {len(patterns)} patterns"
                   f"{f' and {len(units)} units' if len(layer.units) > len(units) else ''}: the network panel "
                   "shows every unit on any pattern, p and P choose it)", width, muted)
    if show_code and len(snapshot.patterns) > 1:
        distinct = len(set(bits))
        _para(out, f"{distinct} different codes for {len(bits)} patterns"
                   + (": every pattern its own" if distinct == len(bits) else ""), width, muted)
    return out, with_shade, show_code


def _fit(a: float, room: int) -> str:
    """An activation in ``room`` characters, right-aligned: 0.99, then .99 or -.99, then
    fewer decimals, so that a number is never cut."""
    if not math.isfinite(a):
        return ("nan" if math.isnan(a) else "inf" if a > 0 else "-inf").rjust(room)
    two = f"{a:.2f}"
    for text in (two, two.replace("0.", ".", 1), f"{a:.1f}", f"{a:.0f}"):
        if len(text) <= room:
            return text.rjust(room)
    return f"{a:.0e}".replace("e+0", "e").replace("e-0", "e-").rjust(room)


def _para(out: Text, text: str, width: int, style: str = "") -> None:
    """A sentence wrapped to ``width``, then a line break."""
    out.append("\n".join(textwrap.wrap(text, max(width, 8))) + "\n", style=style)


def _flow(pieces: list[tuple[str, str]], width: int, indent: str = "  ") -> Text:
    """Styled pieces run together, broken between words to fit ``width``; the lines after
    the first indented: a record that keeps its colours when it wraps."""
    text = Text.assemble(*pieces)
    plain = text.plain
    out = Text(no_wrap=True, overflow="crop")
    start, prefix = 0, 0  # where the line starts in the text, and the indent before it
    for word in re.finditer(r"\S+", plain):
        if word.start() > start and prefix + word.end() - start > width:
            out.append_text(text[start:word.start()])
            out.rstrip()
            out.append("\n" + indent)
            start, prefix = word.start(), len(indent)
    out.append_text(text[start:])
    out.rstrip()
    out.append("\n")
    return out


LISTED = 12  # held-out patterns listed one by one; a classifier with more shows its confusion matrix


def held_out_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    """The held-out patterns, never trained on: how the network answers them now."""
    muted = colors["muted"]
    out = Text(no_wrap=True, overflow="crop")
    _para(out, "held out (never trained on)", width, "bold")
    right = sum(r["correct"] for r in snapshot.held_out)
    _para(out, f"{right} of {len(snapshot.held_out)} answered right ({right / len(snapshot.held_out):.1%})",
          width, muted)
    outputs = [layer for layer in snapshot.layers if layer.is_output]
    if len(snapshot.held_out) > LISTED and len(outputs) == 1 and outputs[0].activation == "softmax":
        out.append_text(confusion_text(outputs[0].units, confusion(list(snapshot.held_out), len(outputs[0].units)),
                                       colors, width))
        return out
    name_width = min(max(len(r["name"]) for r in snapshot.held_out), 16)
    for r in snapshot.held_out:
        # One record a pattern, wrapped: a family-trees answer has 24 outputs.
        out.append_text(_flow([
            (f"{r['name'][:name_width]:<{name_width}} ", ""),
            ("ok " if r["correct"] else "no ", colors["positive"] if r["correct"] else colors["negative"]),
            (" ".join("-" if v is None else f"{v:.2f}" for v in r["output"]), ""),
            ("  target " + " ".join("-" if v is None else f"{v:g}" for v in r["target"]), muted),
        ], width))
    return out


def meaning_text(snapshot: Snapshot, layer: LayerState, colors: dict, width: int) -> Text:
    """Each unit of a hidden layer by its incoming weights, as the paper reads them."""
    out = Text(no_wrap=True, overflow="crop")
    for link in snapshot.links:
        sender = snapshot.layer(link.sender)
        # What the network made of its inputs; deeper weights mix codes already made.
        if link.receiver != layer.name or not sender.is_input:
            continue
        _para(out, f"{layer.name} · weights from {sender.name}", width, "bold")
        few = _few_senders(layer, sender, link, colors, width) \
            if len(sender.units) <= FEW and sender.grid is None and len(layer.units) <= MEANING_UNITS else None
        out.append_text(few if few is not None else _many_senders(layer, sender, link, colors, width))
        units, senders = min(len(layer.units), MEANING_UNITS), min(len(sender.units), MEANING_SENDERS)
        if (units, senders) != (len(layer.units), len(sender.units)):
            _para(out, f"(the first {units:,} of {len(layer.units):,} units, each with its first {senders:,} of "
                       f"{len(sender.units):,} weights: the network panel shows every weight)", width, colors["muted"])
        out.append("\n")
    return out


def _few_senders(layer: LayerState, sender: LayerState, link: LinkState, colors: dict,
                 width: int) -> Text | None:
    """A few senders: a row each, with every unit's weight from it as a number and, when
    there is room, in units of that unit's smallest weight (ratios). None when even the
    numbers do not fit ``width``. Columns are sized to their widest number, and always
    one space apart: -10.4 beside +10.5, -13.3 beside +1.0."""
    muted, positive, negative = colors["muted"], colors["positive"], colors["negative"]
    units = layer.units
    w = link.w  # receiving x sending
    name_width = min(max(len(name) for name in sender.units), 6)
    weights = [[number(float(w[j, i]), 5, 1).strip() for j in range(len(units))] for i in range(len(sender.units))]
    weight_width = max(4, *(len(x) for row in weights for x in row))
    if name_width + len(units) * (1 + weight_width) > width:
        return None
    r = [ratios(w[j]) for j in range(len(units))]
    times = [[f"{r[j][i]:+.1f}" for j in range(len(units))] for i in range(len(sender.units))]
    ratio_width = max(4, *(len(x) for row in times for x in row))  # 4: "×min"
    with_ratios = (np.isfinite(w).all()
                   and name_width + len(units) * (2 + weight_width + ratio_width) <= width)
    out = Text(no_wrap=True, overflow="crop")
    out.append(" " * name_width)
    for u in units:
        out.append(f" {u[:weight_width]:>{weight_width}}", style=muted)
    for _ in units if with_ratios else ():
        out.append(f" {'×min':>{ratio_width}}", style=muted)
    out.append("\n")
    for i, name in enumerate(sender.units):
        out.append(f"{name[:name_width]:<{name_width}}")
        for j in range(len(units)):
            out.append(f" {weights[i][j]:>{weight_width}}", style=positive if w[j, i] >= 0 else negative)
        if with_ratios:
            for j in range(len(units)):
                out.append(f" {times[i][j]:>{ratio_width}}", style=muted)
        out.append("\n")
    for j, unit in enumerate(units):
        out.append_text(_matches(w[j], sender, colors, f"{unit[:6]}: ", width))
    if with_ratios:
        _para(out, "×min: each weight over that unit's smallest", width, muted)
    return out


def _many_senders(layer: LayerState, sender: LayerState, link: LinkState, colors: dict, width: int) -> Text:
    """Many senders: each weight as a sign and a block, on the sender's grid if it has one.
    Units whose drawings are narrow (an 8 x 8 image) sit side by side."""
    muted = colors["muted"]
    out = Text(no_wrap=True, overflow="crop")
    n = min(len(sender.units), MEANING_SENDERS)
    # A grid wider than the panel (or than what is drawn) is drawn in order instead, a row as wide as fits.
    grid = sender.grid if sender.grid and 2 * sender.grid[1] + 2 <= width and n == len(sender.units) else None
    rows, cols = grid or (math.ceil(n / max(1, (width - 2) // 2)), max(1, (width - 2) // 2))
    cell = max(2 * cols, 10) + 2  # a unit's drawing, its title and a gap
    image = bool(sender.grid) and not sender.features  # pixels, say: read best as a heat map
    across = max(1, width // cell) if image else 1
    heat = image
    units = min(len(layer.units), MEANING_UNITS)
    for first in range(0, units, across):
        group = list(range(first, min(first + across, units)))
        scales = []
        for j in group:
            finite = link.w[j][np.isfinite(link.w[j])]
            scales.append(float(np.abs(finite).max()) if finite.size else 0.0)
        if across == 1:
            out.append_text(_flow([(f"unit {layer.units[group[0]]}", "bold"),
                                   (f" · |w| ≤ {scales[0]:.2g}", muted)], width))
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
            out.append_text(_matches(link.w[group[0]], sender, colors, "  ", width))
        else:
            out.append("\n")
    if heat:
        note = ("each unit's weights: " + ("the positive colour excites the unit, the negative inhibits it, "
                                           "brighter as the weight nears the unit's largest" if colors.get("colour")
                                           else "+ excites the unit, - inhibits it; the block's height is the size"))
        _para(out, note, width, muted)
    if sender.features:
        _para(out, f"≈ the named feature of {sender.name} the weights follow most closely; "
                   f"r: their correlation, ±1 when exact", width, muted)
    if grid and rows <= 4:
        spans = ", then ".join(f"{sender.units[r * cols]}…{sender.units[r * cols + cols - 1]}" for r in range(rows))
        _para(out, f"rows: {spans}", width, muted)
    elif grid:
        _para(out, f"{sender.name} drawn as {rows} x {cols}, in order", width, muted)
    elif sender.grid:
        _para(out, f"{sender.name} in order, {cols} a row (its {sender.grid[0]} x {sender.grid[1]} grid "
                   f"needs a wider panel)", width, muted)
    return out


def _matches(w, sender: LayerState, colors: dict, indent: str, width: int) -> Text:
    """Which of the sender's named features the weights follow (r: correlation)."""
    if not sender.features:
        return Text()
    best = best_match(w, sender.features)
    if best is not None:
        return _flow([(f"{indent}≈ {best.feature}", colors["accent"]), (f" (r {best.r:+.2f})", colors["muted"])],
                     width, "    ")
    closest = feature_matches(w, sender.features)
    hint = f" (closest {closest[0].feature}, r {closest[0].r:+.2f})" if closest else ""
    return _flow([(f"{indent}≈ no feature{hint}", colors["muted"])], width, "    ")


def confusion_text(classes: tuple[str, ...], counts: np.ndarray, colors: dict, width: int = 80) -> Text:
    """Rows: the right answer; columns: the answer given. The diagonal is right. Too wide
    for ``width``, each right answer on a line instead: how often it was given, and the
    answer most often given in its place."""
    muted = colors["muted"]
    cell = max(3, max(len(c) for c in classes) + 1, len(str(int(counts.max(initial=0)))) + 1)
    out = Text(no_wrap=True, overflow="crop")
    if cell * (len(classes) + 1) > width:
        _para(out, "each right answer: how often it was given, and what was given most often instead",
              width, muted)
        name_width = min(max(len(c) for c in classes), 8)
        for i, c in enumerate(classes):
            right, total = int(counts[i, i]), int(counts[i].sum())
            wrong = counts[i].copy()
            wrong[i] = 0
            pieces = [(f"{c[:name_width]:>{name_width}}: ", muted),
                      (f"{right}/{total} right", colors["positive"] if right == total else "")]
            if wrong.any():
                j = int(wrong.argmax())
                pieces.append((f", else {classes[j]} ({int(wrong[j])})", colors["negative"]))
            out.append_text(_flow(pieces, width, " " * (name_width + 2)))
        return out
    _para(out, "confusion: rows the right answer, columns the answer given", width, muted)
    out.append(" " * cell)
    for c in classes:
        out.append(f"{c[:cell - 1]:>{cell}}", style=muted)
    out.append("\n")
    for i, c in enumerate(classes):
        out.append(f"{c[:cell - 1]:>{cell}}", style=muted)
        for j in range(len(classes)):
            n = int(counts[i, j])
            style = colors["positive"] if i == j else colors["negative"] if n else muted
            out.append(f"{str(n) if n or i == j else '·':>{cell}}", style=style)
        out.append("\n")
    return out
