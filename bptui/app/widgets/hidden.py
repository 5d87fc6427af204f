"""The hidden units' activation for every pattern, as a heat table.

The "learning representations" of the 1986 paper's title: what each hidden unit has
come to signal, pattern by pattern.
"""

from __future__ import annotations

from rich.text import Text

from bptui.app.glyphs import shade
from bptui.core.snapshot import Snapshot


def hidden_text(snapshot: Snapshot, colors: dict, width: int = 40) -> Text:
    muted = colors["muted"]
    accent = colors["accent"]
    senders = {link.sender for link in snapshot.links}
    hidden = [layer for layer in snapshot.layers if not layer.is_input and layer.name in senders]
    out = Text(no_wrap=True, overflow="crop")
    if not hidden:
        return Text("This network has no hidden layer: every unit is an input or an output.", style=muted)
    width = max(len(p) for p in snapshot.patterns)
    width = min(max(width, 7), 16)
    for layer in hidden:
        out.append(f"{layer.name} · {layer.activation}\n", style="bold")
        out.append(" " * (width + 1))
        for unit in layer.units:
            out.append(f"{unit[:6]:>7}", style=muted)
        out.append("\n")
        if layer.a is None:
            out.append("not computed yet\n", style=muted)
            continue
        for p, pattern in enumerate(snapshot.patterns):
            out.append(f"{pattern[:width]:<{width}} ")
            for k in range(len(layer.units)):
                a = float(layer.a[p, k])
                out.append(f" {shade(a)}", style=accent)
                out.append(f"{a:5.2f}"[:5])
            out.append("\n")
        out.append("\n")
    out.append("shade: activation, from 0 (blank)\nto 1 (full block)", style=muted)
    return out

