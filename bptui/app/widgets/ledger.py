"""The blame ledger: every weight update in the arithmetic of the update rule.

The lines are the core's (``bptui.core.ledger.ledger_lines``): per update, the
weights that changed most, each as ``-rate x gradient + momentum x last change``.
Here each update gets a heading (epoch · patterns) and its lines wrap to the panel.
While training runs, only the last update of each redraw is listed, with a line
saying how many were not; ``bptui train --trace`` writes every one.
"""

from __future__ import annotations

import textwrap

from rich.text import Text

from bptui.core.snapshot import Snapshot

SHOWN = 400  # the newest lines drawn; older ones stay in the copy (y)


def ledger_drawer(app):
    """``draw(snapshot, colours, width)`` for a TextPanel, from ``app.ledger``."""

    def draw(snapshot: Snapshot, colors: dict, width: int) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        if not app.ledger:
            note = ("Each update will be listed here as it happens, in the arithmetic of the update "
                    "rule: dw = -rate x dE/dw + momentum x last dw. Step with n, or train with space. "
                    "y copies the ledger.")
            out.append("\n".join(textwrap.wrap(note, width)), style=colors["muted"])
            return out
        heading = None
        for line in app.ledger[-SHOWN:]:
            parts = line.split(" · ", 2)
            if len(parts) < 3:  # a note: the updates not listed while running
                out.append("\n".join(textwrap.wrap(line, width)) + "\n", style=colors["muted"])
                heading = None
                continue
            if parts[:2] != heading:
                heading = parts[:2]
                out.append(" · ".join(heading) + "\n", style="bold")
            out.append("\n".join(textwrap.wrap(parts[2], width, initial_indent="  ", subsequent_indent="    ",
                                               break_on_hyphens=False)) + "\n")
        return out

    return draw
