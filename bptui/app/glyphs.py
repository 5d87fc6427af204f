"""How numbers look on screen: signs readable without colour, magnitude as length.

Every view draws values through these helpers, so a weight, a delta and a share look
the same wherever they appear, with or without colour (NO_COLOR, ansi themes).
"""

from __future__ import annotations

import functools
import math

from rich.color import Color
from rich.style import Style
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


def signed_bar(fraction: float, half: int, positive: str = "", negative: str = "") -> Text:
    """A bar to either side of a centre line: ``fraction`` (-1..1) of ``half`` cells to the
    right when positive (blame), to the left when negative (credit), in half cells, the
    two sides drawn alike so that equal sizes look equal:  '  ▐██│    ', '    │███▌ '.
    A share too small for half a cell still shows its side, as a sliver: '▕│', '│▏'."""
    fraction = 0.0 if not math.isfinite(fraction) else min(max(fraction, -1.0), 1.0)
    halves = int(round(abs(fraction) * half * 2))
    full, part = divmod(halves, 2)
    left, right = "▐" * part + "█" * full, "█" * full + "▌" * part
    if fraction and not halves:
        left, right = "▕", "▏"
    out = Text()
    if fraction < 0:
        out.append(left.rjust(half), style=negative)
        out.append("│")
        out.append(" " * half)
    else:
        out.append(" " * half)
        out.append("│")
        out.append(right.ljust(half), style=positive)
    return out


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

    positive, negative = rich(theme.success, "green"), rich(theme.error, "red")
    if getattr(app, "no_color", False):
        # Without colour Textual greys each colour by its brightness: a dark red comes out
        # dark grey on black, barely there. Both signs get the text's own colour instead;
        # every value drawn in them carries its sign (+ or -, a bar's side) to tell them apart.
        ink = app.theme_variables.get("foreground") or theme.foreground
        positive = negative = rich(ink, "white" if theme.dark else "black")
    return {
        "positive": positive,
        "negative": negative,
        "accent": rich(theme.accent, "yellow"),
        "muted": "dim",
        "background": rich(theme.background, "black"),
        # Heat maps draw with colour alone; without colour they need glyphs instead.
        "colour": "" if getattr(app, "no_color", False) else "yes",
    }


RAMP = 32  # steps of a colour ramp: few enough for Rich to reuse their styles


@functools.lru_cache(maxsize=64)
def ramp(low: str, high: str) -> tuple[Color, ...]:
    """RAMP colours from ``low`` to ``high``, evenly: the heat maps' scale. Cached, since
    a map draws thousands of cells and a theme has few colours."""
    try:
        a, b = Color.parse(low).get_truecolor(), Color.parse(high).get_truecolor()
    except Exception:  # an ANSI colour name Rich cannot mix: the nearer end
        return tuple(Color.parse(low if i < RAMP // 2 else high) for i in range(RAMP))
    return tuple(Color.from_rgb(*(x + (y - x) * i / (RAMP - 1) for x, y in zip(a, b))) for i in range(RAMP))


def ramp_step(t: float) -> int:
    """The step of a ramp for a fraction ``t`` (0..1, clipped; not finite: 0)."""
    if not math.isfinite(t):
        return 0
    return min(RAMP - 1, max(0, int(t * (RAMP - 1) + 0.5)))


@functools.lru_cache(maxsize=64)
def _heat_styles(background: str, ink: str) -> tuple[Style, ...]:
    return tuple(Style(bgcolor=c) for c in ramp(background, ink))


def heat_cell(w: float, scale: float, colors: dict) -> Text:
    """A weight as a patch of colour: the positive colour for w > 0, the negative for
    w < 0, stronger as |w| nears ``scale``; without colour, a sign and a block."""
    if not colors.get("colour"):
        return weight_cell(w, scale, colors["positive"], colors["negative"])
    if not math.isfinite(w):
        return Text("??", style="bold reverse")
    ink = colors["positive"] if w >= 0 else colors["negative"]
    return Text("  ", style=_heat_styles(colors["background"], ink)[ramp_step(0.0 if scale <= 0 else abs(w) / scale)])


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


def signed(x: float | None, width: int = 8, digits: int = 4) -> str:
    """A signed number in ``width`` characters that keeps two significant digits: +0.5000,
    -0.0054, -3.2e-5 (where fixed notation would round it to a bare sign, -0.0000); 0
    without a sign when it is exactly zero; '·' when there is none yet."""
    if x is None:
        return "·".rjust(width)
    if not math.isfinite(x):
        return number(x, width)
    if x == 0:
        return "0".rjust(width)
    text = f"{x:+.{digits}f}"
    if abs(x) < 10.0 ** (1 - digits) or len(text) > width:
        # e-5, not e-05: a digit more for the mantissa (sign, digit, point and e take 4)
        room = max(0, width - len(str(int(f"{x:e}".split("e")[1]))) - 4)
        mantissa, exponent = f"{x:+.{room}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{int(exponent)}"
    return text.rjust(width)


def short_labels(names, width: int) -> list[str]:
    """Labels of at most ``width`` characters that tell units apart, for column headers:
    the names when short enough; else the part that differs (hidden[3] -> 3, out1 -> 1);
    else the first letters when they differ; else the unit's index."""
    names = list(names)

    def distinct(labels: list[str]) -> bool:
        return all(0 < len(label) <= width for label in labels) and len(set(labels)) == len(labels)

    if distinct(names):
        return names
    if len(names) > 1:
        prefix = len(_common_prefix(names))
        suffix = len(_common_prefix([name[prefix:][::-1] for name in names]))
        middles = [name[prefix:len(name) - suffix] for name in names]
        if distinct(middles):
            return middles
    firsts = [name[:width] for name in names]
    if distinct(firsts):
        return firsts
    return [str(i)[-width:] for i in range(len(names))]


def _common_prefix(names: list[str]) -> str:
    first, last = min(names), max(names)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]
