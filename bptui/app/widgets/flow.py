"""The network as a flow: inputs on the left, outputs on the right, as the signal goes.

Each layer is a column (its longest path from an input). Each unit is a card: its
name, its activation a, its delta and its signed share of the blame. Left of each
card, the weights into its unit, each with an arrow, as numbers where there is room,
else as sign-and-size glyphs.

A network wider than the panel is wrapped in bands, read like lines of text: a band
ends with ─╮, a line turns back to the left, and the next band starts with ╰▶, so
a chain of one-unit layers still reads as one line from the first input to the
output. Below the last band, each output's target and error, in the story's words.

The shape of the drawing (`plan`) depends on the network's structure and the panel's
size only, never on the values, so that a drawing does not jump while training.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np
from rich.text import Text

from bptui.app.glyphs import number, short_labels, signed, weight_cell
from bptui.core.blame import percent
from bptui.core.errors import printable
from bptui.core.snapshot import Snapshot
from bptui.core.stepper import BACKWARD, FORWARD, LOSS, UPDATE

VALUE = 5  # a weight's number: 2.00, -0.40
NAME_MAX = 11  # a box's widest name; longer ones are cut
BARE_NAME_MAX = 8
BOX_ROWS = 5  # a box: its top border with the name, a, delta, share, its bottom border
GLYPHS_PER_ROW = 8  # a crowded link's glyphs beside a box, before they take another row
OUTPUT_LINES = 4  # an output layer's target lines, the furthest off first
ARROW, BACK = "▶", "◀"


@dataclass(frozen=True)
class Style:
    """How the units and weights are drawn: ``card`` "box" (a framed card of 5 lines),
    "two" or "one" (a card of that many lines, unframed); ``label`` the width of the
    sending unit's label before each weight's number (0: none)."""

    card: str
    label: int


STYLES = tuple(Style(card, label) for card in ("box", "two", "one") for label in (2, 1, 0))


@dataclass
class Block:
    """One layer drawn: its header line at y, its cards below it."""

    layer: int  # index in snapshot.layers
    column: int
    names: list[str]  # the unit names, cut to the card
    card_w: int
    card_h: int
    entries: list[tuple[int, int]]  # the weights into each unit: (link index, sending unit)
    labels: list[str]  # a label per entry ("" when unlabelled)
    mode: str  # "input" (no weights in), "number" or "glyph"
    per_row: int = 1  # entries on a row beside the card
    first_row: int = 0  # the card's row of the first entry
    change_rows: bool = False  # a row under each number for its change, at the update
    gap_w: int = 0
    x_gap: int = 0
    x_card: int = 0
    y: int = 0

    def unit_y(self, k: int) -> int:
        return self.y + 1 + k * self.card_h

    def entry_row(self, k: int) -> tuple[int, int]:
        """Entry k's row within a card, and its place on that row."""
        if self.mode == "number":
            return self.first_row + k * (2 if self.change_rows else 1), 0
        return self.first_row + k // self.per_row, k % self.per_row


@dataclass
class Plan:
    style: Style
    blocks: list[Block]
    bands: list[tuple[int, int, int]]  # first and last line of each band, its right edge
    joins: list[tuple[int, int, int, int]] = field(default_factory=list)  # _join's x, y, turn, y2
    width: int = 0
    height: int = 0  # of the bands and the target lines
    fits: bool = True  # every band within the width


def columns(s: Snapshot) -> dict[str, int]:
    """A layer's column: its longest path from an input (the inputs' is 0). A network
    unrolled in time goes step by step, left to right: a step's layers come after every
    layer of the steps before it, each at its longest path within its step, so that an
    input given at step 2 stands beside step 2, not beside the first inputs."""
    time = s.scenario.time if s.scenario is not None else None
    column: dict[str, int] = {}
    start = 0  # the first column of the step being placed
    step_of = (lambda name: 0) if time is None else time.step
    for step in sorted({step_of(name) for name in s.order}):
        for name in s.order:
            if step_of(name) == step:
                senders = [column[link.sender] for link in s.links
                           if link.receiver == name and step_of(link.sender) == step]
                column[name] = 1 + max(senders) if senders else start
        start = 1 + max(column.values())
    return column


FLOW_UNITS = 500  # the flow draws every unit and every weight: the digits' 106 and 2,368 take 0.3 s
FLOW_WEIGHTS = 10_000


def drawable(s: Snapshot) -> bool:
    """Whether the flow can draw ``s`` in about a second at most; a bigger network has the
    layers view only, which draws just what is in sight."""
    return (sum(len(layer.units) for layer in s.layers) <= FLOW_UNITS
            and sum(link.w.size for link in s.links) <= FLOW_WEIGHTS)


def plan(s: Snapshot, width: int, height: int, shares: bool = True, slack: int = 0) -> tuple[Plan, bool]:
    """The roomiest drawing of ``s`` that fits ``width`` x ``height`` (in one band if
    any does), or else ``height + slack`` (a little scrolling), and whether one does;
    when none does, the shortest."""
    plans = [_plan(s, style, width, shares) for style in STYLES]
    for good in (lambda p: p.fits and p.height <= height and len(p.bands) == 1,
                 lambda p: p.fits and p.height <= height,
                 lambda p: p.fits and p.height <= height + slack):
        chosen = next((p for p in plans if good(p)), None)
        if chosen is not None:
            return chosen, True
    # Too big to fit (asked for all the same): the shortest, scrolled sideways if need be.
    return min(plans, key=lambda p: (p.height, max(b[2] for b in p.bands))), False


def _plan(s: Snapshot, style: Style, width: int, shares: bool) -> Plan:
    column = columns(s)
    by_name = {layer.name: i for i, layer in enumerate(s.layers)}
    blocks = []
    for li, layer in enumerate(s.layers):
        blocks.append(_block(s, li, column[layer.name], style, by_name, shares))
    blocks.sort(key=lambda b: (b.column, s.layers[b.layer].is_input, b.layer))
    # Columns: the gaps of a column share one width, and its cards another.
    cols = sorted({b.column for b in blocks})
    gap_w = {c: max(b.gap_w for b in blocks if b.column == c) for c in cols}
    card_w = {c: max(b.card_w for b in blocks if b.column == c) for c in cols}
    stack = {c: sum(1 + len(s.layers[b.layer].units) * b.card_h for b in blocks if b.column == c) for c in cols}
    bands: list[list[int]] = [[]]
    x = 0
    fits = True
    for n, c in enumerate(cols):
        more = 2 if n < len(cols) - 1 else 0  # room for the ─╮ that turns the line
        if bands[-1] and x + gap_w[c] + card_w[c] + more > width:
            bands.append([])
            x = 1  # the │ that brings the line back down
        x += gap_w[c] + card_w[c]
        fits = fits and x + more <= width
        bands[-1].append(c)
    p = Plan(style, blocks, [], width=width)
    y = 0
    for n, band in enumerate(bands):
        x = 0 if n == 0 else 1
        top = y
        for c in band:
            by = top
            for b in (b for b in blocks if b.column == c):
                b.x_gap, b.x_card, b.y = x, x + gap_w[c], by
                by += 1 + len(s.layers[b.layer].units) * b.card_h  # its header sets the next apart
            x += gap_w[c] + card_w[c]
        bottom = top + max(stack[c] for c in band) - 1
        p.bands.append((top, bottom, x))
        y = bottom + 2  # the line that turns back
    for n in range(len(bands) - 1):
        last = next(b for b in blocks if b.column == bands[n][-1])
        first = next((b for b in blocks if b.column == bands[n + 1][0] and b.mode != "input"), None)
        if first is not None:
            row = 1 if style.card == "box" else 0
            p.joins.append((p.bands[n][2], last.unit_y(0) + row, p.bands[n][1] + 1,
                            first.unit_y(0) + first.entry_row(0)[0]))
    p.fits = fits
    p.height = p.bands[-1][1] + 1 + _target_lines(s, width)
    return p


def _block(s: Snapshot, li: int, column: int, style: Style, by_name: dict, shares: bool) -> Block:
    layer = s.layers[li]
    units = [printable(unit) for unit in layer.units]  # a scenario's names: shown, never obeyed
    longest = max(len(unit) for unit in units)
    if style.card == "box":
        inner = min(max(longest, 6 if layer.is_input else 8), NAME_MAX)
        names = [_cut(unit, inner) for unit in units]
        card_w, card_h = inner + 2, 3 if layer.is_input else BOX_ROWS
    else:
        n = min(longest, BARE_NAME_MAX)
        names = [_cut(unit, n) for unit in units]
        if layer.is_input:
            card_w = n + 6
        elif style.card == "two":  # name and a; delta and share
            card_w = max(n + 6, 8 + (9 if shares else 0))
        else:
            card_w = n + 7 + 8 + (6 if shares else 0)
        card_h = 1 if layer.is_input else (2 if style.card == "two" else 1)
    entries, labels = [], []
    for ci, link in enumerate(s.links):
        if link.receiver != layer.name:
            continue
        sender = s.layers[by_name[link.sender]]
        entries += [(ci, i) for i in range(len(sender.units))]
        labels += (short_labels([printable(unit) for unit in sender.units], style.label) if style.label
                   else [""] * len(sender.units))
    block = Block(li, column, names, card_w, card_h, entries, labels, "input")
    e = len(entries)
    if not e:
        return block
    rows = BOX_ROWS if style.card == "box" else card_h
    if e <= rows:
        block.mode = "number"
        block.change_rows = 2 * e <= rows
        used = e * (2 if block.change_rows else 1)
        block.first_row = 1 if used < rows else 0
        label = 0 if e == 1 or not labels[0] else max(len(text) for text in labels) + 1
        block.labels = labels if e > 1 else [""]
        # a blank (or the label and a blank), the number and the arrow; a change under them
        block.gap_w = max(label, 1) + max(VALUE + 1, len("Δ-0.07") if block.change_rows else 0)
    else:
        block.mode = "glyph"
        block.per_row = max(math.ceil(e / rows), min(e, GLYPHS_PER_ROW))
        block.first_row = 1 if style.card == "box" and math.ceil(e / block.per_row) < rows else 0
        block.gap_w = 1 + 2 * block.per_row + 1
    return block


def _cut(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


# The drawing ------------------------------------------------------------------------------


class Canvas:
    """Cells of text with a style each, turned into one Text, a run of style at a time."""

    def __init__(self, width: int, height: int) -> None:
        self.chars = [[" "] * width for _ in range(height)]
        self.styles = [[""] * width for _ in range(height)]

    def put(self, x: int, y: int, text: str, style: str = "") -> None:
        if not 0 <= y < len(self.chars):
            return
        row, styles = self.chars[y], self.styles[y]
        for ch in text:
            if 0 <= x < len(row):
                row[x], styles[x] = ch, style
            x += 1

    def put_text(self, x: int, y: int, text: Text) -> None:
        for span_text, style in _runs(text):
            self.put(x, y, span_text, style)
            x += len(span_text)

    def text(self) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for n, (chars, styles) in enumerate(zip(self.chars, self.styles)):
            if n:
                out.append("\n")
            end = len(chars)
            while end and chars[end - 1] == " " and not styles[end - 1]:
                end -= 1
            start = 0
            while start < end:
                stop = start + 1
                while stop < end and styles[stop] == styles[start]:
                    stop += 1
                out.append("".join(chars[start:stop]), style=styles[start] or None)
                start = stop
        return out


def _runs(text: Text):
    """The pieces of a Text of one style each, in order: its spans may overlap (a weight's
    glyph, dimmed, underlined and under the cursor), so each character's style is its
    base style and every span over it, later ones last."""
    plain = text.plain
    styles = [str(text.style or "")] * len(plain)
    for span in text.spans:
        for i in range(span.start, min(span.end, len(plain))):
            styles[i] = f"{styles[i]} {span.style}".strip()
    start = 0
    while start < len(plain):
        stop = start + 1
        while stop < len(plain) and styles[stop] == styles[start]:
            stop += 1
        yield plain[start:stop], styles[start]
        start = stop


@dataclass
class Drawn:
    text: Text
    spots: dict  # ("unit", layer, k) or ("weight", link, j, i) -> (x, y, width)
    marked: int | None  # the line of the layer the phase is about


def draw(p: Plan, s: Snapshot, pattern: int, colors: dict, cursor: tuple | None, shares: bool = True) -> Drawn:
    """The flow of ``s`` for one pattern; ``cursor`` is the spot key under the cursor."""
    accent, muted = colors["accent"], colors["muted"]
    targets = _target_text(s, pattern, p.width, accent)
    height = p.bands[-1][1] + 1 + len(targets)
    width = max([p.width] + [band[2] + 2 for band in p.bands])
    canvas = Canvas(width, height)
    spots: dict = {}
    current = s.phase[len(BACKWARD):] if s.phase.startswith(BACKWARD) else None
    scale = max((float(abs(link.w).max()) for link in s.links if link.w.size), default=1.0)
    marked = None
    for b in p.blocks:
        layer = s.layers[b.layer]
        about = (current == layer.name or (s.phase == LOSS and layer.is_output)
                 or (s.phase == UPDATE and changed(s, layer)))
        header = Text(printable(_title(s, layer.name)), style="bold")
        if about:
            header.stylize(accent)
            header.append(" Δ" if s.phase == UPDATE else " " + BACK, style=f"bold {accent}")
            if marked is None or current == layer.name:
                marked = b.y
        # The name may run over the next column's weights, which start lower down.
        band = p.bands[_band(p, b)]
        ahead = [o.x_card for o in p.blocks if band[0] <= o.y <= band[1] and o.x_card > b.x_card]
        room = (min(ahead) - 1 if ahead else max(band[2], p.width)) - b.x_card
        header.truncate(max(1, room), overflow="ellipsis")
        canvas.put_text(b.x_card, b.y, header)
        for k in range(len(layer.units)):
            key = ("unit", b.layer, k)
            _card(canvas, p.style, b, layer, k, pattern, colors, about, shares, key == cursor, spots)
            if b.mode != "input":
                _entries(canvas, s, b, k, colors, scale, current, cursor, spots)
    for join in p.joins:
        _join(canvas, *join, accent if s.phase == FORWARD else muted)
    for n, line in enumerate(targets):
        canvas.put_text(0, p.bands[-1][1] + 1 + n, line)
    return Drawn(canvas.text(), spots, marked)


def _band(p: Plan, b: Block) -> int:
    return next(n for n, band in enumerate(p.bands) if band[0] <= b.y <= band[1])


def changed(s: Snapshot, layer) -> bool:
    """Whether the last update changed any weight into the layer, or its bias (a frozen
    link's never changes)."""
    if layer.bias_change is not None and np.any(layer.bias_change != 0):
        return True
    return any(link.receiver == layer.name and link.change is not None and np.any(link.change != 0)
               for link in s.links)


def _card(canvas: Canvas, style: Style, b: Block, layer, k: int, p: int, colors: dict, about: bool,
          shares: bool, selected: bool, spots: dict) -> None:
    positive, negative, accent, muted = colors["positive"], colors["negative"], colors["accent"], colors["muted"]
    x, y, name = b.x_card, b.unit_y(k), b.names[k]
    a = None if layer.a is None else float(layer.a[p, k])
    a_text = number(a, 5, 2, signed=False).strip()
    delta = None if layer.delta is None else float(layer.delta[p, k])
    delta_text = Text("δ" if delta is not None else "δ ", style=muted)
    delta_text.append(signed(delta, 7, 3).strip(),
                      style=muted if delta is None else positive if delta >= 0 else negative)
    share = Text()
    if shares and layer.share is not None:
        value = float(layer.share[k])
        colour = positive if value > 0 else negative if value < 0 else ""
        share.append(percent(value).ljust(6), style=colour)
        share.append(_bar(value), style=colour)
    name_style = "bold reverse" if selected else "bold"
    if style.card == "box":
        inner = b.card_w - 2
        border = accent if about else muted
        canvas.put(x, y, "╭" + "─" * inner + "╮", border)
        canvas.put(x + 1, y, name, name_style)
        rows = [Text("a " + a_text)]
        if not layer.is_input:
            rows += [delta_text, share]
        for n, row in enumerate(rows):
            canvas.put(x, y + 1 + n, "│", border)
            canvas.put_text(x + 1, y + 1 + n, row)
            canvas.put(x + 1 + inner, y + 1 + n, "│", border)
        canvas.put(x, y + len(rows) + 1, "╰" + "─" * inner + "╯", border)
        spots[("unit", b.layer, k)] = (x, y, b.card_w)
        return
    n = max(len(text) for text in b.names)
    canvas.put(x, y, name, name_style)
    canvas.put(x + n + 1, y, a_text.rjust(5))
    if not layer.is_input:
        line, at = (y + 1, x) if b.card_h == 2 else (y, x + n + 7)
        canvas.put_text(at, line, delta_text)
        if b.card_h == 1:  # no room for the bar: the percentage says the size, and its sign
            share.truncate(5)
            share.rstrip()
        canvas.put_text(at + 9, line, share)
    spots[("unit", b.layer, k)] = (x, y, len(name))


def _entries(canvas: Canvas, s: Snapshot, b: Block, j: int, colors: dict, scale: float, current: str | None,
             cursor: tuple | None, spots: dict) -> None:
    positive, negative, accent, muted = colors["positive"], colors["negative"], colors["accent"], colors["muted"]
    layer = s.layers[b.layer]
    y0 = b.unit_y(j)
    backward = current == layer.name
    arrow = BACK if backward else ARROW
    arrow_style = f"bold {accent}" if backward or s.phase == FORWARD else muted
    end = b.x_card - 1  # the arrow's column, against the card
    single = len(b.entries) == 1
    used_rows = set()
    for k, (ci, i) in enumerate(b.entries):
        link = s.links[ci]
        w = float(link.w[j, i])
        change = None if link.change is None else float(link.change[j, i])
        marked = s.phase == UPDATE and change is not None and change != 0
        frozen = link.grad is None
        key = ("weight", ci, j, i)
        row, place = b.entry_row(k)
        y = y0 + row
        if b.mode == "number":
            value = Text(_weight(w), style=f"bold {accent}" if marked else muted if frozen else "")
            label, x = b.labels[k], end - len(value)
            if single:  # one weight: the link is a line from the sender, its number on it
                canvas.put(b.x_gap, y, "─" * (x - b.x_gap), arrow_style if s.phase == FORWARD else muted)
            if label:  # in a column of its own, so the numbers line up
                canvas.put(end - VALUE - len(label) - 1, y, label, muted)
            if key == cursor:
                value.stylize("reverse")
            canvas.put_text(x, y, value)
            spots[key] = (x, y, len(value))
            if marked and b.change_rows:
                text = _change(change)
                canvas.put(end + 1 - len(text), y + 1, text, accent)
        else:
            cell = weight_cell(w, scale, positive, negative)
            if frozen:
                cell.stylize(muted)
            if marked:
                cell.stylize("underline")
            if key == cursor:
                cell.stylize("reverse")
            x = end - 2 * b.per_row + 2 * place
            canvas.put_text(x, y, cell)
            spots[key] = (x, y, 2)
        used_rows.add(y)
    for y in used_rows:
        canvas.put(end, y, arrow, arrow_style)


def _bar(share: float) -> str:
    """A share's size in two cells, by halves (its sign is the percentage's): █▌."""
    halves = 0 if not math.isfinite(share) else int(round(min(abs(share), 1.0) * 4))
    if share and not halves:
        return "▏"
    return "█" * (halves // 2) + "▌" * (halves % 2)


def _weight(w: float) -> str:
    """A weight's number in at most 5 characters: 2.00, -0.40, 12.3, -1e3, 1e-6 (never a
    rounded 0.00 for a weight that is not zero)."""
    if not math.isfinite(w):
        return "nan" if math.isnan(w) else "inf" if w > 0 else "-inf"
    for text in (f"{w:.2f}", f"{w:.1f}", f"{w:.0f}"):
        if len(text) <= VALUE and (w == 0 or abs(w) >= 0.005):
            return text
    return signed(w, VALUE, 0).strip().lstrip("+")


def _change(dw: float) -> str:
    """A weight's last change in at most 6 characters: Δ-0.07, Δ+3e-4."""
    text = f"{dw:+.2f}"
    if abs(dw) < 0.005 or len(text) > 5:
        text = signed(dw, 5, 0).strip()
    return "Δ" + text


def _join(canvas: Canvas, x: int, y: int, turn: int, y2: int, style: str) -> None:
    """The line from a band's end (x, y) back to the next band's first weights (row y2),
    turning on the blank line between the bands: ─╮ down, back ╭─╯, ╰ down."""
    canvas.put(x, y, "─╮", style)
    for row in range(y + 1, turn):
        canvas.put(x + 1, row, "│", style)
    canvas.put(0, turn, "╭" + "─" * x + "╯", style)
    for row in range(turn + 1, y2):
        canvas.put(0, row, "│", style)
    canvas.put(0, y2, "╰", style)
    # The line runs up to the band's first weights: into a link's line, or up to a blank
    # before a number or a glyph, whose sign it would otherwise lengthen (──-0.40).
    row = canvas.chars[y2]
    stop = next((col for col in range(1, len(row)) if row[col] != " "), len(row))
    if stop < len(row) and row[stop] != "─":
        stop -= 1
    canvas.put(1, y2, "─" * (stop - 1), style)


# The outputs' targets ---------------------------------------------------------------------


def _targets(s: Snapshot) -> list[tuple[int, int, int]]:
    """(layer index, unit, column of Snapshot.targets) of every output unit."""
    out, column = [], 0
    for li, layer in enumerate(s.layers):
        if layer.is_output:
            out += [(li, k, column + k) for k in range(len(layer.units))]
            column += len(layer.units)
    return out


def _title(s: Snapshot, name: str) -> str:
    """A layer's heading: a copy of a layer in a network unrolled in time by its step,
    as the paper writes it (``state t=2``)."""
    time = s.scenario.time if s.scenario is not None else None
    return name if time is None else f"{time.base(name)} t={time.step(name)}"


def _words(s: Snapshot, layer_name: str) -> tuple[str | None, str | None]:
    scenario = s.scenario
    if scenario is None:
        return None, None
    layer = next((layer for layer in scenario.layers if layer.name == layer_name), None)
    return tuple(None if words is None else printable(words)
                 for words in (getattr(layer, "too_high", None), getattr(layer, "too_low", None)))


def error_words(error: float, too_high: str | None, too_low: str | None) -> str:
    """The output's error as the story says it: 'too salty by 0.50', or '0.50 too high'."""
    size = f"{abs(error):.2f}"
    if size == "0.00":
        return "on target"
    words = too_high if error > 0 else too_low
    if words:
        return f"{words} by {size}"
    return f"{size} too {'high' if error > 0 else 'low'}"


def _target_text(s: Snapshot, pattern: int, width: int, accent: str) -> list[Text]:
    """The lines under the flow: each output unit, its target and its error in words."""
    lines: list[Text] = []
    units = _targets(s)
    if s.targets is None or not len(s.targets):
        return lines
    by_layer: dict[int, list] = {}
    for li, k, column in units:
        by_layer.setdefault(li, []).append((k, column))
    for li, cells in by_layer.items():
        layer = s.layers[li]
        if layer.a is None:
            continue
        too_high, too_low = _words(s, layer.name)
        rows = []
        for k, column in cells:
            a, t = float(layer.a[pattern, k]), float(s.targets[pattern, column])
            rows.append((0.0 if math.isnan(t) else abs(a - t), k, a, t))
        shown = rows if len(rows) <= OUTPUT_LINES else sorted(rows, key=lambda r: -r[0])[:OUTPUT_LINES - 1]
        for _, k, a, t in sorted(shown, key=lambda r: r[1]):
            name = printable(layer.units[k])
            head = f"{name} {a:.2f} · "
            if math.isnan(t):
                tail = "no target: any output will do"
            else:
                tail = f"should be {t:.2f}: {error_words(a - t, too_high, too_low)}"
            style = f"bold {accent}" if s.phase == LOSS else ""
            for n, piece in enumerate(textwrap.wrap(head + tail, max(20, width), subsequent_indent="  ")):
                line = Text(piece, style=style)
                if n == 0:
                    line.stylize("bold", 0, len(name))
                lines.append(line)
        if len(rows) > len(shown):
            lines.append(Text(f"… and {len(rows) - len(shown)} more outputs", style="dim"))
    return lines


def _target_lines(s: Snapshot, width: int) -> int:
    """How many lines the targets take at most: what `plan` leaves room for."""
    count = 0
    for li, layer in enumerate(s.layers):
        if not layer.is_output:
            continue
        too_high, too_low = _words(s, layer.name)
        words = max(len(too_high or ""), len(too_low or ""), 8) + len(" by 0.00")
        longest = max(len(unit) for unit in layer.units) + len(" -0.00 · should be -0.00: ") + words
        per_unit = math.ceil(longest / max(20, width))
        count += min(len(layer.units), OUTPUT_LINES) * per_unit
    return count
