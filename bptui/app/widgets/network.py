"""The network: every unit with its activation and blame, every weight by sign and size.

Two views of it. The flow (widgets/flow.py, the default for networks that fit the
panel) draws the layers as columns from the inputs on the left to the outputs on the
right, so that a step's forward pass moves right and its blame moves left. The layers
view, for networks too big for that, draws layers output first, as in the figures of
the 1986 paper read top-down, so the blame travels down the screen during the backward
pass. Under each layer, the
weights into it form a small Hinton diagram (receiving units as rows, sending units
as columns): the sign as + or -, the size as the height of a block. A cursor picks a
unit or a weight; the line under the diagram gives its exact values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Static

from bptui.app.glyphs import number, palette, short_labels, signed, signed_bar, weight_cell
from bptui.app.widgets import flow
from bptui.app.widgets.flow import changed
from bptui.app.widgets.textview import TextView
from bptui.core.blame import percent
from bptui.core.errors import printable
from bptui.core.snapshot import Snapshot
from bptui.core.stepper import BACKWARD, FORWARD, LOSS, UPDATE

NAME_WIDTH = 10
BAR_HALF = 2  # a share's bar: this many cells of credit, the centre line, this many of blame
INDENT = NAME_WIDTH + 5  # where a row's weight cells start, each 3 columns wide ("+▆ ")
MARGIN = 8  # lines and cells drawn beyond what the panel shows, for a scroll to land on
DETAIL_LINES = 4  # the cursor line's most lines, under the diagram (#network-detail)


@dataclass(frozen=True)
class Item:
    """A selectable row: a unit (layer, unit index) or a row of weights (link, receiving unit)."""

    kind: str  # "unit" or "weights"
    index: int  # layer index in snapshot.layers, or link index in snapshot.links
    row: int  # unit index, or receiving unit index
    line: int  # where it is drawn
    columns: int = 0  # weights: how many sending units


@dataclass(frozen=True)
class Selection:
    """A unit (its layer and index j), or a weight w_ji (its link, receiving j, sending i)."""

    kind: str  # "unit" or "weight"
    layer: str  # the unit's layer, or the weight's receiving layer
    j: int
    link: int | None = None  # index into the network's links
    i: int | None = None


@functools.lru_cache(maxsize=64)
def _labels(units: tuple[str, ...]) -> list[str]:
    """A weight column's header: its sending unit told apart in 2 characters (cached: a
    redraw of the digits would spend a tenth of a millisecond on its 64 pixels)."""
    return short_labels([printable(unit) for unit in units], 2)


def _short(name: str, width: int) -> str:
    name = printable(name)  # a newline in a scenario's name must not break a row in two
    return name if len(name) <= width else name[: width - 1] + "…"


class NetworkDiagram(TextView, can_focus=True):
    """The drawing itself; it grows to fit and scrolls inside its panel."""

    DEFAULT_CSS = """
    NetworkDiagram {
        padding: 0 0 0 1;  /* the panel's scrollbar is the right margin: a column more for the flow */
    }
    NetworkDiagram:focus {
        background-tint: $foreground 3%;
    }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="cursor-up"),
        Binding("down", "move(1)", "Down", show=False, id="cursor-down"),
        Binding("left", "column(-1)", "Left", show=False, id="cursor-left"),
        Binding("right", "column(1)", "Right", show=False, id="cursor-right"),
    ]

    class Selected(Message):
        """The cursor moved: the detail line should describe the new selection."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.snapshot: Snapshot | None = None
        self.pattern = 0
        self.items: list[Item] = []
        self.cursor = 0
        self.column = 0
        self.marked: int | None = None  # the line of the layer the current phase is about
        self.flow: flow.Plan | None = None  # the flow's plan when drawn as a flow; None: the layers view
        self.shares = True  # whether the shares of the blame are shown (a lesson may hide them)
        self.spots: dict = {}  # the flow's places of units and weights (flow.Drawn.spots)
        self._memo_for: Snapshot | None = None
        self._memos: dict = {}

    def on_mount(self) -> None:
        # Only the weights in sight are drawn (see _in_sight): scrolling brings others in.
        self.watch(self.parent, "scroll_y", self._scrolled, init=False)
        self.watch(self.parent, "scroll_x", self._scrolled, init=False)

    def _scrolled(self) -> None:
        if self.flow is None:  # the flow draws all of itself: a small network
            self.redraw()

    def redraw(self) -> None:
        if self.snapshot is not None:
            if self.flow is not None:
                self.set_text(self._draw_flow(self.snapshot))
            else:
                self.set_lines(*self._draw_layers(self.snapshot))

    def show(self, snapshot: Snapshot, pattern: int) -> None:
        self.snapshot = snapshot
        self.pattern = pattern
        self.redraw()
        self.cursor = min(self.cursor, max(0, len(self.items) - 1))
        if self.marked is not None:  # keep the layer the phase is about in sight
            self.call_after_refresh(self._scroll_to_lines, self.marked, 4)

    @property
    def selected(self) -> Item | None:
        return self.items[self.cursor] if self.items else None

    @property
    def selection(self) -> Selection | None:
        """What the cursor is on, by names and indices a run understands."""
        item, s = self.selected, self.snapshot
        if item is None or s is None:
            return None
        if item.kind == "unit":
            return Selection("unit", s.layers[item.index].name, item.row)
        return Selection("weight", s.links[item.index].receiver, item.row,
                         link=item.index, i=min(self.column, item.columns - 1))

    def action_move(self, step: int) -> None:
        if not self.items:
            return
        self.cursor = (self.cursor + step) % len(self.items)
        self._moved()

    def action_column(self, step: int) -> None:
        item = self.selected
        if item is None:
            return
        if self.flow is not None:  # along the flow: sender, its weights, receiver
            self._along(item, step)
            return
        if item.kind != "weights":
            return
        self.column = (self.column + step) % item.columns
        self._moved()

    def _along(self, item: Item, step: int) -> None:
        """In the flow, left and right go where the arrows go: from a unit to a weight into
        it (left) or out of it (right), from a weight to the next one into the same unit,
        and past the last (or the first) to the receiving (or sending) unit."""
        s = self.snapshot
        target: tuple[Item | None, int] = (None, 0)
        if item.kind == "weights":
            i = min(self.column, item.columns - 1) + step
            if 0 <= i < item.columns:
                target = (item, i)
            else:
                link = s.links[item.index]
                name = link.receiver if step > 0 else link.sender
                unit = item.row if step > 0 else min(self.column, item.columns - 1)
                target = (self._find("unit", self._layer_index(name), unit), 0)
        else:
            name = s.layers[item.index].name
            for ci, link in enumerate(s.links):
                if step > 0 and link.sender == name:
                    target = (self._find("weights", ci, 0), item.row)
                    break
                if step < 0 and link.receiver == name:
                    target = (self._find("weights", ci, item.row), 0)
                    break
        found, column = target
        if found is None:
            return
        self.cursor, self.column = self.items.index(found), column
        self._moved()

    def _find(self, kind: str, index: int, row: int) -> Item | None:
        return next((item for item in self.items if (item.kind, item.index, item.row) == (kind, index, row)), None)

    def _layer_index(self, name: str) -> int:
        return next(i for i, layer in enumerate(self.snapshot.layers) if layer.name == name)

    def _moved(self) -> None:
        item = self.selected
        if item.kind == "weights":
            self.column = min(self.column, item.columns - 1)
        self.redraw()
        self.scroll_visible_line(item.line)
        self.post_message(self.Selected())

    def scroll_visible_line(self, line: int) -> None:
        if self.flow is not None:
            spot = self.spots.get(self._cursor_key())
            if spot is not None:
                x, y, width = spot
                if self.parent is not None:
                    self.parent.scroll_to_region(Region(x, y, width + 1, 1), animate=False)
            return
        x = INDENT + 3 * self.column if self.selected.kind == "weights" else 0
        self._scroll_to_lines(line, 1, x)

    def _cursor_key(self) -> tuple | None:
        """The cursor as a flow spot's key: ("unit", layer, k) or ("weight", link, j, i)."""
        item = self.selected
        if item is None:
            return None
        if item.kind == "unit":
            return ("unit", item.index, item.row)
        return ("weight", item.index, item.row, min(self.column, item.columns - 1))

    def _scroll_to_lines(self, line: int, height: int, x: int = 0) -> None:
        if self.parent is not None:
            self.parent.scroll_to_region(Region(x, line, 4, height), animate=False)

    def _in_sight(self) -> tuple[range, range]:
        """The lines and the x columns of this drawing the panel shows, with a margin for
        a scroll to land on; before the panel is laid out, the top left of an 80 x 24
        screen's panel. Only these are drawn: the lines out of sight are left empty, and
        a row's weights out of sight are blanks. Drawing the digits' 2,368 weights as
        styled text, and comparing it line by line with the last drawing, takes 16 ms, and
        a redraw 21 ms in all, against 5 and 11 ms for what is in sight; a network of
        millions of weights could not be drawn whole at all (issue 14)."""
        view = self.parent
        if view is None or not view.size.height:
            top, left, width, height = 0, 0, 80, 24
        else:
            top, left = round(view.scroll_y), round(view.scroll_x) - 1  # - 1: the padding
            width, height = view.size.width, view.size.height
        return range(top - MARGIN, top + height + MARGIN), range(left - 3 * MARGIN, left + width + 3 * MARGIN)

    def _memo(self, s: Snapshot, key, compute):
        """A value worked out once per snapshot, not at every redraw (a scroll redraws):
        the largest |w| of 8.75 million weights takes 15 ms."""
        if self._memo_for is not s:
            self._memo_for, self._memos = s, {}
        if key not in self._memos:
            self._memos[key] = compute()
        return self._memos[key]

    def _draw_layers(self, s: Snapshot) -> tuple[list[Text], int]:
        """The layers view: its lines (those out of sight left empty) and its width.
        Every unit and row of weights is still an item, so the cursor can reach it."""
        self.items = []
        lines: list[Text] = []
        shown, xs = self._in_sight()
        colors = palette(self.app)
        positive, negative = colors["positive"], colors["negative"]
        accent, muted = colors["accent"], colors["muted"]
        scale = self._memo(s, "scale", lambda: max((float(abs(link.w).max()) for link in s.links if link.w.size),
                                                  default=1.0))
        self.marked = None
        by_name = {layer.name: i for i, layer in enumerate(s.layers)}
        current = s.phase[len(BACKWARD):] if s.phase.startswith(BACKWARD) else None
        width = 0

        def add(line: Text | None) -> None:
            lines.append(Text() if line is None else line)

        for name in reversed(s.order):
            li = by_name[name]
            layer = s.layers[li]
            header = Text(layer.name, style="bold")
            header.append(f" · {layer.activation}" if layer.activation else " (input)", style=muted)
            marker = self._memo(s, ("marker", li), lambda: self._phase_marker(s, layer, current))
            if marker:
                header.append("  " + marker, style=f"bold {accent}")
                if self.marked is None or current == layer.name:
                    self.marked = len(lines)
            add(header)
            # A layer's unit rows are all as wide as its first (drawn here to measure it).
            width = max(width, header.cell_len, self._unit_row(layer, 0, layer.units[0], colors, False).cell_len)
            for k, unit in enumerate(layer.units):
                self.items.append(Item("unit", li, k, len(lines)))
                add(self._unit_row(layer, k, unit, colors, self._is_cursor()) if len(lines) in shown else None)
            for ci, link in enumerate(s.links):
                if link.receiver != layer.name:
                    continue
                sender = s.layers[by_name[link.sender]]
                n = len(sender.units)
                width = max(width, INDENT + 3 * n)
                # cell i spans columns INDENT + 3 i to INDENT + 3 i + 2
                cells = range(max(0, (xs.start - INDENT) // 3), max(0, min(n, (xs.stop - INDENT) // 3 + 1)))
                title = (f"  ▲ from {link.sender}" + (" (frozen)" if link.grad is None else "")
                         + ("" if link.share is None else f" (shared '{printable(link.share)}')"))
                if len(title) >= INDENT:  # the labels go on a line of their own, over their columns
                    add(Text(title, style=muted))
                    width = max(width, len(title))
                    title = ""
                if len(lines) in shown:
                    labels = Text(title.ljust(INDENT) + "   " * cells.start, style=muted)
                    names = _labels(sender.units)
                    for i in cells:
                        labels.append(names[i].ljust(3), style=muted)
                    add(labels)
                else:
                    add(None)
                for j, unit in enumerate(layer.units):
                    self.items.append(Item("weights", ci, j, len(lines), n))
                    if len(lines) not in shown:
                        add(None)
                        continue
                    row_selected = self._is_cursor()
                    row = Text("    " + _short(unit, NAME_WIDTH).ljust(NAME_WIDTH) + " ", style=muted)
                    row.append("   " * cells.start)
                    for i in cells:
                        cell = weight_cell(float(link.w[j, i]), scale, positive, negative)
                        if row_selected and i == self.column:
                            cell.stylize("reverse")
                        row.append_text(cell)
                        row.append(" ")
                    add(row)
        add(Text(f"block height: |w| up to {scale:.3g}", style=muted))
        return lines, max(width, lines[-1].cell_len)

    def _unit_row(self, layer, k: int, unit: str, colors: dict, selected: bool) -> Text:
        positive, negative, muted = colors["positive"], colors["negative"], colors["muted"]
        row = Text("▸ " if selected else "  ")
        row.append(_short(unit, NAME_WIDTH).ljust(NAME_WIDTH), style="reverse" if selected else "")
        a = None if layer.a is None else float(layer.a[self.pattern, k])
        row.append(" a" + number(a, 7, signed=False))
        if not layer.is_input:
            d = None if layer.delta is None else float(layer.delta[self.pattern, k])
            row.append(" δ")
            row.append(signed(d, 8, 4), style=muted if d is None else positive if d >= 0 else negative)
            if layer.share is not None and self.shares:
                share = float(layer.share[k])
                row.append(" ")
                row.append_text(signed_bar(share, BAR_HALF, positive, negative))
                row.append(f" {percent(share):>5}")
        return row

    def _draw_flow(self, s: Snapshot) -> Text:
        # The items in the layers view's order, so that the cursor stays on the same unit
        # or weight when the view changes.
        items = []
        by_name = {layer.name: i for i, layer in enumerate(s.layers)}
        for name in reversed(s.order):
            li = by_name[name]
            items += [("unit", li, k, 0) for k in range(len(s.layers[li].units))]
            for ci, link in enumerate(s.links):
                if link.receiver == name:
                    n = len(s.layers[by_name[link.sender]].units)
                    items += [("weights", ci, j, n) for j in range(len(s.layers[li].units))]
        self.cursor = max(0, min(self.cursor, len(items) - 1))
        self.items = [Item(kind, index, row, 0, columns) for kind, index, row, columns in items]
        drawn = flow.draw(self.flow, s, self.pattern, palette(self.app), self._cursor_key(), self.shares)
        self.spots, self.marked = drawn.spots, drawn.marked
        self.items = [Item(item.kind, item.index, item.row, self._spot_line(item), item.columns)
                      for item in self.items]
        return drawn.text

    def _spot_line(self, item: Item) -> int:
        key = ("unit", item.index, item.row) if item.kind == "unit" else ("weight", item.index, item.row, 0)
        spot = self.spots.get(key)
        return 0 if spot is None else spot[1]

    def _is_cursor(self) -> bool:
        """Whether the item just appended is the one under the cursor."""
        return len(self.items) - 1 == self.cursor

    @staticmethod
    def _phase_marker(s: Snapshot, layer, current: str | None) -> str:
        if s.phase == FORWARD:
            return "◀ forward"
        if s.phase == LOSS and layer.delta is not None:
            return "◀ error: blame starts here"
        if current == layer.name:
            return "◀ blame arrives"
        if s.phase == UPDATE and changed(s, layer):
            return "◀ weights changed"
        return ""


class NetworkView(Vertical):
    """The network panel: the diagram, scrollable, and the exact values of the selection."""

    DEFAULT_CSS = """
    NetworkView {
        height: 1fr;
    }
    NetworkView > ScrollableContainer {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    NetworkView > #network-detail {
        height: auto;
        max-height: 4;  /* a unit's values, share, knock-out and responsibility at 80 columns */
        color: $text-muted;
        padding: 0 1;
    }
    """

    _detail: Text | None = None
    _chosen: str | None = None  # the view asked for with toggle_view; None: the one that fits
    _planned: tuple | None = None  # what the flow's plan was made for
    _plan: flow.Plan | None = None
    _fits = False
    _pattern_title: str | None = None  # the border title last set, as plain text

    def compose(self):
        with ScrollableContainer(can_focus=False):
            yield NetworkDiagram(id="diagram")
        yield Static(id="network-detail")

    @property
    def diagram(self) -> NetworkDiagram:
        return self.query_one(NetworkDiagram)

    @property
    def view(self) -> str:
        """The view drawn: "flow" or "layers"."""
        return "layers" if self.diagram.flow is None else "flow"

    def show(self, snapshot: Snapshot, pattern: int) -> None:
        self._arrange(snapshot)
        self.diagram.show(snapshot, pattern)
        title = f"network · pattern {printable(snapshot.patterns[pattern])} ({pattern + 1}/{len(snapshot.patterns)})"
        if title != self._pattern_title:  # setting it, even to the same text, repaints the panel
            self._pattern_title = title
            self.border_title = Text(title)  # a pattern's name from the file: never read as markup
        self.describe()

    def toggle_view(self) -> bool:
        """From the flow to the layers view, or back; the cursor stays where it was. False
        (and no change) when the network is too big for the flow."""
        if self.view == "layers" and self._plan is None:
            return False
        self._chosen = "layers" if self.view == "flow" else "flow"
        self._refresh_view()
        return True

    def reset(self) -> None:
        """Back to the start, for another scenario: the cursor on the first output unit, the
        drawing scrolled home, and the view the one that fits."""
        diagram = self.diagram
        diagram.cursor = diagram.column = 0
        self._chosen = None
        self._planned = None
        self.query_one(ScrollableContainer).scroll_home(animate=False, immediate=True)
        if diagram.snapshot is not None:
            self._refresh_view()

    def hide_shares(self, hidden: bool) -> None:
        """Draw no share of the blame, in either view nor on the cursor line: a lesson that
        hides the blame panel asks the reader to find the blame."""
        if self.diagram.shares == (not hidden):
            return
        self.diagram.shares = not hidden
        self._planned = None  # a card without its share line is narrower
        if self.diagram.snapshot is not None:
            self._refresh_view()

    def _refresh_view(self) -> None:
        diagram = self.diagram
        self._arrange(diagram.snapshot)
        diagram.redraw()
        if diagram.items:
            diagram.scroll_visible_line(diagram.selected.line)
        self.describe()

    def _room(self) -> tuple[int, int]:
        """The width and height the flow may take without scrolling: the panel less the
        diagram's padding, a scrollbar and the tallest cursor line, so the choice does not
        change as the cursor moves. Before the first layout, the panel's size at 80 x 24."""
        width, height = self.size
        if not width or not height:
            width, height = 46, 20
        return width - 2, height - DETAIL_LINES

    def _arrange(self, s: Snapshot | None) -> None:
        """The flow's plan for this network and this panel, and whether to draw it."""
        if s is None:
            return
        width, height = self._room()
        key = (tuple((layer.name, len(layer.units), layer.is_input) for layer in s.layers),
               tuple((link.sender, link.receiver) for link in s.links), id(s.scenario),
               width, height, self.diagram.shares)
        if key != self._planned:
            self._planned = key
            self._plan, self._fits = None, False
            if flow.drawable(s):
                self._plan, self._fits = flow.plan(s, width, height, self.diagram.shares, slack=DETAIL_LINES)
        wanted = self._fits if self._chosen is None else self._chosen == "flow"
        self.diagram.flow = self._plan if wanted else None  # None: the layers view

    def on_resize(self) -> None:
        self._arrange(self.diagram.snapshot)
        self.diagram.redraw()  # what is in sight changed

    def on_network_diagram_selected(self, message: NetworkDiagram.Selected) -> None:
        self.describe()

    def describe(self) -> None:
        text = describe(self.diagram)
        if text != self._detail:
            self._detail = text
            self.query_one("#network-detail", Static).update(text)


def describe(diagram: NetworkDiagram) -> Text:
    """The exact values of the unit or weight under the cursor."""
    s, item, p = diagram.snapshot, diagram.selected, diagram.pattern
    if s is None or item is None:
        return Text("")
    if item.kind == "unit":
        layer = s.layers[item.index]
        k = item.row
        parts = [f"{layer.units[k]} ({layer.name})"]
        if layer.a is not None:
            if layer.net is not None:
                parts.append(f"net {float(layer.net[p, k]):+.6g}")
            parts.append(f"a {float(layer.a[p, k]):+.6g}")
        if not layer.is_input:
            parts.append("δ " + ("not computed yet" if layer.delta is None else f"{float(layer.delta[p, k]):+.5g}"))
            if layer.bias is not None:
                parts.append(f"bias {float(layer.bias[k]):+.6g}")
                if layer.bias_grad is not None and layer.delta is not None:
                    parts.append(f"dE/db {float(layer.bias_grad[k]):+.5g}")
                if layer.bias_change is not None:
                    parts.append(f"last Δb {float(layer.bias_change[k]):+.5g}")
            if layer.share is not None and diagram.shares:
                share = float(layer.share[k])
                word = " blame" if share > 0 else " credit" if share < 0 else ""
                parts.append(f"share {percent(share, 1)}{word}")
            if layer.knockout is not None and diagram.shares:  # the blame panel's numbers, too
                parts.append(f"knock-out {float(layer.knockout[k]):+.5g}")
            if layer.responsibility is not None and diagram.shares:
                error = "" if layer.responsibility_error is None else f" ± {float(layer.responsibility_error[k]):.2g}"
                parts.append(f"responsibility {float(layer.responsibility[k]):+.5g}{error}")
        return Text("  ".join(parts))
    link = s.links[item.index]
    j, i = item.row, min(diagram.column, item.columns - 1)
    receiver = s.layer(link.receiver).units[j]
    sender = s.layer(link.sender).units[i]
    parts = [f"w({receiver} ← {sender}) = {float(link.w[j, i]):+.6g}"]
    if link.share is not None:  # one weight, at every use: its gradient is the sum over them
        uses = [f"{other.sender}→{other.receiver}" for other in s.links if other.share == link.share]
        parts.append(printable(f"shared '{link.share}', {len(uses)} uses: {', '.join(uses)}"))
    if link.grad is None:
        parts.append("frozen")
    elif s.layer(link.receiver).delta is None:
        parts.append("dE/dw not computed yet in this step")
    else:
        parts.append(f"dE/dw {float(link.grad[j, i]):+.5g}")
        parts.append(f"last Δw {float(link.change[j, i]):+.5g}")
    return Text("  ".join(parts))
