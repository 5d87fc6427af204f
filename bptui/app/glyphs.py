"""How numbers look on screen: signs readable without colour, magnitude as length.

Every view draws values through these helpers, so a weight, a delta and a share look
the same wherever they appear, with or without colour (NO_COLOR, ansi themes).
"""

from __future__ import annotations

import math

from rich.text import Text

LEVELS = " ▁▂▃▄▅▆▇█"  # a weight's size, as the height of a block
SHADES = " ░▒▓█"  # an activation from 0 to 1


def number(x: float | None, width: int = 8, digits: int = 4, signed: bool = True) -> str:
    """A number that fits ``width`` characters (with its sign, or not: an activation), in
    scientific notation when it is huge; '·' when there is none yet."""
    sign = "+" if signed else ""
    if x is None:
        return "·".rjust(width)
    if not math.isfinite(x):
        return ("nan" if math.isnan(x) else f"{sign}inf" if x > 0 else "-inf").rjust(width)
    text = f"{x:{sign}.{digits}f}"
    if len(text) > width:
        text = f"{x:{sign}.{max(1, width - 7)}e}"
    return text.rjust(width)


def sign_style(x: float, positive: str, negative: str) -> str:
    return positive if x >= 0 else negative


def weight_cell(w: float, scale: float, positive: str, negative: str) -> Text:
    """A weight as a sign and a block whose height is |w| / scale: '+▆', '-▂'."""
    if not math.isfinite(w):
        return Text("??", style="bold reverse")
    level = 0 if scale <= 0 else min(8, int(round(8 * abs(w) / scale)))
    block = LEVELS[level] if level else "·"
    style = sign_style(w, positive, negative)
    return Text(("+" if w >= 0 else "-") + block, style=style)


def bar(fraction: float, width: int, style: str = "") -> Text:
    """A horizontal bar of ``fraction`` (0..1) of ``width`` cells, in eighths."""
    fraction = 0.0 if not math.isfinite(fraction) else min(max(fraction, 0.0), 1.0)
    eighths = int(round(fraction * width * 8))
    full, rest = divmod(eighths, 8)
    text = "█" * full + (" ▏▎▍▌▋▊▉"[rest] if rest else "")
    return Text(text.ljust(width), style=style)


def shade(a: float) -> str:
    """An activation in 0..1 as a shade block (clipped for units that go outside it)."""
    if not math.isfinite(a):
        return "?"
    return SHADES[min(4, max(0, int(a * 4 + 0.5)))]


def palette(app) -> dict[str, str]:
    """The theme's colours as Rich colour names: positive, negative, accent, muted.

    Theme colours may carry alpha or be ANSI names ("ansi_green"), which Rich styles
    do not take; an ANSI theme maps to the terminal's own colours, a dim muted.
    """
    theme = app.current_theme

    def rich(value: str | None, fallback: str) -> str:
        if not value:
            return fallback
        if value.startswith("ansi_"):
            name = value[5:]
            return fallback if name == "default" else name
        return value[:7] if value.startswith("#") else value

    return {
        "positive": rich(theme.success, "green"),
        "negative": rich(theme.error, "red"),
        "accent": rich(theme.accent, "yellow"),
        "muted": "dim",
    }


def compact(x: float | None, width: int = 9) -> str:
    """A signed number in three significant digits, right-aligned: +5.61, -0.00437,
    +2.1e-05, so small changes stay readable in a narrow panel."""
    if x is None:
        return "·".rjust(width)
    if not math.isfinite(x):
        return number(x, width)
    if x == 0:
        return "0".rjust(width)
    if 1e-3 <= abs(x) < 1e4:
        text = f"{x:+.3g}"
    else:
        text = f"{x:+.1e}"
    return text.rjust(width)
