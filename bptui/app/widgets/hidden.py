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
    hidden = [layer for layer in snapshot.layers if layer.is_hidden]
    out = Text(no_wrap=True, overflow="crop")
    if not hidden:
        out.append("This network has no hidden layer: every unit is an input or an output.\n", style=muted)
    name_width = min(max(max(len(p) for p in snapshot.patterns), 7), 16)
    for layer in hidden:
        out.append(f"{layer.name} · {layer.activation}\n", style="bold")
        out.append(" " * (name_width + 1))
        for unit in layer.units:
            out.append(f"{unit[:6]:>7}", style=muted)
        out.append("\n")
        if layer.a is None:
            out.append("not computed yet\n", style=muted)
            continue
        for p, pattern in enumerate(snapshot.patterns):
            out.append(f"{pattern[:name_width]:<{name_width}} ")
            for k in range(len(layer.units)):
                a = float(layer.a[p, k])
                out.append(f" {shade(a)}", style=accent)
                out.append(f"{a:5.2f}"[:5])
            out.append("\n")
        out.append("\n")
    if hidden:
        out.append("shade: activation, from 0 (blank)\nto 1 (full block)\n", style=muted)
    if snapshot.held_out:
        out.append_text(held_out_text(snapshot, colors))
    return out


def held_out_text(snapshot: Snapshot, colors: dict) -> Text:
    """The held-out patterns, never trained on: how the network answers them now."""
    out = Text("\nheld out (never trained on)\n", style="bold")
    right = sum(r["correct"] for r in snapshot.held_out)
    out.append(f"{right} of {len(snapshot.held_out)} answered right\n", style=colors["muted"])
    for r in snapshot.held_out:
        out.append(f"{r['name'][:16]:<16} ")
        out.append("ok " if r["correct"] else "no ", style=colors["positive"] if r["correct"] else colors["negative"])
        out.append(" ".join("-" if v is None else f"{v:.2f}" for v in r["output"]))
        out.append("  target " + " ".join("-" if v is None else f"{v:g}" for v in r["target"]) + "\n",
                   style=colors["muted"])
    return out

