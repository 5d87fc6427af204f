"""Which cells of a line of text changed: so a widget repaints those and no others.

Textual sends the regions a widget marks dirty, each cell with its full style (about
ten bytes of escape codes for one character in 256 colours). A status line or a plot
axis where one number moved need not send the whole line again.
"""

from __future__ import annotations

from rich.text import Text


def _styles(line: Text) -> list[tuple]:
    """Each character's styles, base first, in the order they apply."""
    styles: list[tuple] = [(line.style,)] * len(line.plain)
    for span in line.spans:
        for i in range(max(span.start, 0), min(span.end, len(styles))):
            styles[i] = styles[i] + (span.style,)
    return styles


def changed_span(old: Text, new: Text) -> tuple[int, int] | None:
    """The first and past-the-last cell where two one-line texts draw differently (a
    character or its style), or None when they draw the same. Where a character takes
    other than one cell (wide characters), the whole of the longer line."""
    a, b = old.plain, new.plain
    if old.cell_len != len(a) or new.cell_len != len(b):
        return None if old == new else (0, max(old.cell_len, new.cell_len))
    if a == b and old.spans == new.spans and old.style == new.style:
        return None
    sa, sb = _styles(old), _styles(new)
    n = max(len(a), len(b))

    def cell(text: str, styles: list[tuple], i: int):
        return (text[i], styles[i]) if i < len(text) else None

    start = 0
    while start < n and cell(a, sa, start) == cell(b, sb, start):
        start += 1
    if start == n:
        return None
    end = n
    while end > start and cell(a, sa, end - 1) == cell(b, sb, end - 1):
        end -= 1
    return start, end
