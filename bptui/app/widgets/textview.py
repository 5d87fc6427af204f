"""Text that repaints only the lines that changed, and renders only those in sight.

Over a slow link every byte counts: a panel that redraws a few times a second while
most of its lines stay the same should send only the lines that changed. Textual
sends the regions a widget marks dirty, so this widget compares each new line with
the old one and marks just those (or everything, when the shape changed).

And a widget's text is rendered (turned into styled cells) whole by default, whenever
any of it changed, in sight or not: the digits' list of 2,410 weight changes took 350
ms a redraw. This widget renders a line when the screen asks for it, that is when it
is in sight, and keeps it until it changes.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.containers import ScrollableContainer
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from bptui.app.glyphs import palette
from bptui.app.widgets.cells import changed_span
from bptui.core.snapshot import Snapshot


class TextView(Widget):
    DEFAULT_CSS = """
    TextView {
        width: auto;
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._joined: Text | None = Text()  # the lines as one text, made when asked for
        self._lines: list[Text] = []
        self._width = 0
        self._strips: dict[int, Strip] = {}  # lines rendered, by y
        self._strips_for: tuple | None = None  # the width and style they were rendered at

    def set_text(self, text: Text) -> None:
        lines = list(text.split("\n", allow_blank=True))
        self.set_lines(lines, max((line.cell_len for line in lines), default=0), text)

    def set_lines(self, lines: list[Text], width: int, text: Text | None = None) -> None:
        """The text as its lines, as wide as ``width``: a drawing may leave the lines out
        of sight empty (the network's layers view) and still scroll as far as it reaches."""
        old = self._lines
        self._joined, self._lines = text, lines
        if len(lines) != len(old) or width != self._width:
            self._width = width
            self._strips.clear()
            self.refresh(layout=True)
            return
        for y, (before, after) in enumerate(zip(old, lines)):
            span = changed_span(before, after)
            if span is not None:
                self._strips.pop(y, None)
                # Up to the last cell that changed (+ 1: the left padding), not the whole
                # width: the rest of the line need not be sent again.
                self.refresh(Region(0, y, min(span[1] + 1, self.outer_size.width), 1))

    def render_line(self, y: int) -> Strip:
        if self.text_selection is not None:  # a selection spans lines: Textual's way, whole
            return super().render_line(y)
        self._dirty_regions.clear()  # what Widget.render_line reads to render all again
        style = self.visual_style
        if self._strips_for != (self.size.width, style):
            self._strips_for = (self.size.width, style)
            self._strips.clear()
        strip = self._strips.get(y)
        if strip is None:
            line = self._lines[y] if y < len(self._lines) else Text()
            strips = Visual.to_strips(self, visualize(self, line), self.size.width, 1, style)
            strip = self._strips[y] = strips[0] if strips else Strip.blank(self.size.width, style.rich_style)
        return strip

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max(self._width, 1)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(len(self._lines), 1)

    @property
    def _text(self) -> Text:
        if self._joined is None:
            self._joined = Text("\n").join(self._lines)
        return self._joined

    def render(self) -> Text:
        return self._text


class TextPanel(ScrollableContainer):
    """A scrollable panel whose text a function draws from a snapshot.

    ``draw(snapshot, colours, width)`` returns the text; it is drawn again when the
    panel is resized, so sentences wrap to the panel's width.

    ``follow_end``: the panel keeps its last line in sight (the ledger, newest last)
    whenever its text or its size changes.
    """

    DEFAULT_CSS = """
    TextPanel {
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;  /* a scrollbar coming and going must not change the width */
    }
    """

    def __init__(self, draw: Callable[[Snapshot, dict, int], Text], *, follow_end: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._draw = draw
        self.follow_end = follow_end
        self._snapshot: Snapshot | None = None
        self._width = 0

    def compose(self):
        yield TextView()

    @property
    def text(self) -> str:
        return self.query_one(TextView)._text.plain

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._width = self.size.width
        # The text's columns: the panel's, less the scrollbar's gutter (1) and TextView's
        # padding (2); a drawing lays itself out for them. 16 until the panel has a size.
        self.query_one(TextView).set_text(self._draw(snapshot, palette(self.app), max(self.size.width - 3, 16)))
        if self.follow_end:
            self._keep_end()  # new lines in the same number: no layout, so no call below

    def on_resize(self) -> None:
        # Only a new width changes the wrapping; redrawing on every resize could feed a loop.
        if self._snapshot is not None and self.size.width != self._width:
            self.show(self._snapshot)
        if self.follow_end:
            self._keep_end()

    def watch_virtual_size(self) -> None:
        # The end is known only after the layout that sizes the new text. A scroll_end
        # deferred to the screen's next refresh could run before the text view's request
        # for that layout reached the screen, and so went to the end of the old text
        # (issue 13). This runs inside that layout, before the panel's container size is
        # set: scroll once the layout is done.
        if self.follow_end:
            self.call_later(self._keep_end)

    def _keep_end(self) -> None:
        self.scroll_end(animate=False, immediate=True)
