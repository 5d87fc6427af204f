"""The side panels and plots at the sizes a new user has: 80x24, and narrower.

Each panel lays itself out for the width it has: no line wider than the panel (which
would need horizontal scrolling), and the numbers the panel exists for in sight.
"""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len
from rich.style import Style
from textual.color import Color
from textual.filter import monochrome_style

from bptui.app.app import BptuiApp
from bptui.app.glyphs import compact, palette
from bptui.app.widgets.loss import NO_EPOCHS, LossPlot
from bptui.app.widgets.sweep import SweepPanel
from bptui.app.widgets.textview import TextPanel, TextView
from bptui.app.widgets.updates import changes
from bptui.cli import main
from bptui.core.meaning import codes
from bptui.core.scenario import load_scenario


def app_for(shipped, name: str = "xor", **kwargs) -> BptuiApp:
    return BptuiApp(load_scenario(shipped[name]), **kwargs)


async def until(pilot, condition, seconds: float = 10.0) -> None:
    """Wait for ``condition()`` (the screen catching up), failing after ``seconds``."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


async def open_panel(pilot, key: str, name: str) -> TextPanel:
    """Press ``key`` and wait until panel ``name`` is drawn for the width it has on screen."""
    app = pilot.app
    await pilot.press(key)
    panel = app.query_one(f"#{name}", TextPanel)
    await until(pilot, lambda: panel.region.width > 0 and panel.text and panel._width == panel.size.width)
    await pilot.pause()
    return panel


def room(panel: TextPanel) -> int:
    """The columns a panel's text has: inside its scrollbar's gutter and the text's padding."""
    return panel.scrollable_content_region.width - panel.query_one(TextView).styles.padding.width


def assert_fits(panel: TextPanel) -> None:
    widest = max(panel.text.splitlines(), key=cell_len)
    assert cell_len(widest) <= room(panel), f"{widest!r} is wider than the panel's {room(panel)} columns"
    assert panel.max_scroll_x == 0  # nothing to the right to scroll to


def trained(app: BptuiApp) -> None:
    """Train headless to the end, then show the run at rest."""
    app.run_.train()
    app._rest("paused")


# 1. The side panels lay out for their width.

async def test_the_8_3_8_encoders_codes_are_in_sight_at_80x24(shipped):
    """The point of the scenario: each pattern's 3-bit code, every row of it on screen
    without scrolling either way, beside the activations it comes from."""
    app = app_for(shipped, "encoder-8-3-8")
    async with app.run_test(size=(80, 24)) as pilot:
        trained(app)
        panel = await open_panel(pilot, "h", "hidden")
        assert_fits(panel)
        lines = panel.text.splitlines()
        a = app.snapshot.layer("hidden").a
        bits = codes(a)
        assert len(set(bits)) == 8
        for p, pattern in enumerate(app.snapshot.patterns):
            [y] = [y for y, line in enumerate(lines) if line.split() and line.split()[0] == pattern]
            assert y < panel.scrollable_content_region.height  # in sight, not scrolled to
            words = lines[y].split()
            assert words[-1] == bits[p]
            assert [float(x) for x in words[1:-1]] == pytest.approx(a[p], abs=0.005)


async def test_symmetry_columns_are_always_a_space_apart(shipped):
    """A ratio of -13.3 beside a weight of +10.5 used to run together: '+10.5-13.3'."""
    app = app_for(shipped, "symmetry")
    async with app.run_test(size=(80, 24)) as pilot:
        w = app.run_.network.links[0].w  # hidden x input
        w[0] = [-13.3, -5.2, -1.0, 1.0, 5.2, 10.4]
        w[1] = [10.5, 5.3, 2.6, -2.6, -5.3, -10.5]
        app._rest("paused")
        panel = await open_panel(pilot, "h", "hidden")
        assert_fits(panel)
        rows = {line.split()[0]: line.split()[1:] for line in panel.text.splitlines()
                if line.split() and re.fullmatch(r"x\d", line.split()[0])}
        assert "×min" in panel.text  # the ratios have room at 80 columns
        assert rows["x1"] == ["-13.3", "+10.5", "-13.3", "+4.0"]
        for values in rows.values():
            assert len(values) == 4 and all(re.fullmatch(r"[+-]\d+\.\d", v) for v in values)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
async def test_the_updates_panel_shows_every_change_without_scrolling_sideways(shipped, size):
    """The change of every weight and bias; where there is room, its value after it too."""
    app = app_for(shipped)
    async with app.run_test(size=size) as pilot:
        await pilot.press("n")
        panel = await open_panel(pilot, "u", "updates")
        assert_fits(panel)
        every = changes(app.snapshot)
        if size == (80, 24):  # the value gives way: the network panel shows it
            shown = re.findall(r"Δ +(\S+)$", panel.text, re.MULTILINE)
            assert shown[-len(every):] == [compact(change, 0) for _, _, change in every]
        else:
            shown = re.findall(r"Δ +(\S+) = +(\S+)$", panel.text, re.MULTILINE)
            assert shown[-len(every):] == [(compact(change, 0), compact(value, 0)) for _, value, change in every]


async def test_the_decision_map_wraps_what_it_says_about_other_networks(shipped):
    app = app_for(shipped, "biscuit-factory")
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await open_panel(pilot, "m", "map")
        assert_fits(panel)
        assert "for networks with two inputs" in " ".join(panel.text.split())


@pytest.mark.parametrize("size", [(80, 24), (60, 16)], ids=["80x24", "60x16"])
@pytest.mark.parametrize("name", ["xor", "symmetry", "family-trees", "digits", "tutoring-chain"])
async def test_every_side_panel_fits_its_width(shipped, name, size):
    """Headings, notes, held-out records and confusion matrices wrap or fold, as tables do."""
    app = app_for(shipped, name)
    async with app.run_test(size=size) as pilot:
        for key, panel in (("h", "hidden"), ("u", "updates"), ("m", "map")):
            assert_fits(await open_panel(pilot, key, panel))


# 2. Narrow terminals split the width sensibly.

async def test_a_60_column_terminal_leaves_the_side_panel_room(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        assert app.query_one("#side").outer_size.width >= 24
        assert app.query_one("#network").outer_size.width >= 34


async def test_80_columns_keep_the_network_48_and_the_side_32(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.query_one("#network").outer_size.width == 48
        assert app.query_one("#side").outer_size.width == 32


# 3. Without colour, negative values stay readable.

def contrast(a: Color, b: Color) -> float:
    """The WCAG contrast ratio of two colours (1 to 21; 4.5 is the least for text)."""
    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        r, g, b = c.rgb
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_without_colour_negative_values_are_as_readable_as_text(shipped, monkeypatch):
    """NO_COLOR: Textual greys every colour by its brightness; the theme's dark red came
    out dark grey on black (contrast 2.7). Both signs now read as text does."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        panel = await open_panel(pilot, "u", "updates")
        assert app.no_color
        view = panel.query_one(TextView)
        background = Color.from_rich_color(view.background_colors[1].rich_color).monochrome
        colours = palette(app)
        for style in (colours["negative"], colours["positive"]):
            grey = monochrome_style(Style.parse(style)).color
            assert contrast(Color.from_rich_color(grey), background) >= 4.5
        # And as drawn: every negative change in the panel, through the app's own filter.
        negatives = [segment for y in range(view.size.height) for segment in view.render_line(y)
                     if re.fullmatch(r"-\d\S*", segment.text.strip()) and segment.style and segment.style.color]
        assert negatives
        for segment in negatives:
            grey = monochrome_style(segment.style).color
            assert contrast(Color.from_rich_color(grey), background) >= 4.5


# 4. The loss plot: nothing made up before the first epoch; whole epochs on its axis.

def tick_labels(plot: LossPlot) -> list[str]:
    """The x axis's labels: the line above the axis title 'epoch'."""
    lines = plot.render().plain.splitlines()
    [y] = [y for y, line in enumerate(lines) if line.strip() == "epoch"]
    return lines[y - 1].split()


async def test_the_loss_plot_before_any_epoch_says_how_to_start(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot = app.query_one(LossPlot)
        text = plot.render().plain
        assert NO_EPOCHS in " ".join(text.split()) and "┤" not in text  # no axis around one point


@pytest.mark.parametrize("epochs", [1, 3, 13, 250])
async def test_the_loss_plots_epochs_are_whole_and_the_last_is_labelled(shipped, epochs):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        if epochs <= 13:  # as a user steps
            for _ in range(epochs):
                await pilot.press("n")
        else:  # headless, then shown at rest
            for _ in range(epochs):
                app.run_.train_epoch()
            app._rest("paused")
        plot = app.query_one(LossPlot)
        await until(pilot, lambda: app.snapshot.epoch == epochs and len(app.snapshot.curve_loss))
        await pilot.pause()
        labels = tick_labels(plot)
        assert all(re.fullmatch(r"\d+", label) for label in labels), labels
        assert labels[-1] == str(epochs)
        assert [int(x) for x in labels] == sorted({int(x) for x in labels})


# 5. The sweep's histogram: whole counts, and an axis that starts at the data.

async def test_the_sweep_histogram_counts_in_whole_runs_from_the_fastest(shipped):
    app = app_for(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("S")
        await app.workers.wait_for_complete()
        panel = app.query_one(SweepPanel)
        await until(pilot, lambda: "epochs to converge" in panel.query_one(TextView)._text.plain)
        text = panel.query_one(TextView)._text.plain
        fastest, slowest = map(int, re.search(r"from (\d+) to (\d+)", " ".join(text.split())).groups())
        lines = text.splitlines()
        y_labels = [m.group(1) for line in lines if (m := re.match(r"\s*(\S+)┤", line))]
        assert y_labels and all(re.fullmatch(r"\d+", label) for label in y_labels), y_labels
        [axis] = [y for y, line in enumerate(lines) if re.match(r"\s*0└", line)]
        x_labels = lines[axis + 1].split()
        assert all(re.fullmatch(r"\d+", label) for label in x_labels), x_labels
        assert int(x_labels[0]) == fastest and int(x_labels[-1]) == slowest
        # The axis starts at the data: the fastest run's tick is the axis's first column.
        assert lines[axis].index("┬") == lines[axis].index("└") + 1


# 6. The command line's help: docs that ship, and the app on a scenario.

def help_of(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_help_says_bptui_path_opens_the_app_on_a_scenario(capsys):
    text = help_of(capsys)
    assert "bptui [PATH]" in text and "opens the app" in text and "'bptui xor'" in text


def test_path_help_says_a_built_in_name_works(capsys):
    assert "built-in" in help_of(capsys, "xor") and "xor" in help_of(capsys, "xor")
    for command in ("check", "inspect", "train", "sweep", "serve"):
        assert "name of a built-in one" in help_of(capsys, command)


@pytest.mark.parametrize("command", [(), ("check",), ("inspect",), ("train",), ("sweep",), ("serve",), ("xor",)])
def test_help_cites_only_docs_that_ship(capsys, command):
    from pathlib import Path

    text = help_of(capsys, *command)
    assert "SPEC" not in text
    root = Path(__file__).resolve().parent.parent
    for doc in re.findall(r"docs/[\w.-]+\.md", text):
        assert (root / doc).is_file(), doc
