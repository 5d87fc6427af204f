"""The gallery as a learning path, its keys, and the story card of the first screen (issue 13)."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets._footer import FooterKey

from bptui.app.app import BptuiApp
from bptui.app.screens.gallery import GalleryScreen
from bptui.app.widgets.story import StoryCard, card_text
from bptui.cli import main
from bptui.core import catalog
from bptui.core.scenario import load_scenario

from conftest import AND_TOML

PATH = ["biscuit-factory", "biscuit-factory-preservative", "biscuit-factory-baking", "tutoring-chain", "xor",
        "xor-2-1-1",
        "encoder-4-2-4", "encoder-8-3-8", "negation", "parity-4", "symmetry", "t-c-problem", "family-trees-1986",
        "family-trees", "fig5-remember", "rotate-3bit", "shift-register", "sequence-completion", "digits",
        "lesson-xor-rate"]


async def until(pilot, condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


def footer_keys(screen) -> set[str]:
    return {key.key for key in screen.query_one(Footer).query(FooterKey)}


# The order

def test_the_shipped_scenarios_come_in_the_order_of_the_learning_path():
    assert list(catalog.builtin()) == PATH
    assert list(catalog.summaries()) == PATH
    headings = [heading for heading, _ in catalog.learning_path(PATH)]
    assert headings == [heading for heading, _ in catalog.LEARNING_PATH]


def test_new_lessons_join_their_group_and_unknown_files_come_last_by_name():
    groups = dict(catalog.learning_path(["zeta", "lesson-b", "alpha", "xor", "lesson-a", "digits"]))
    assert list(groups) == ["stories", "digits and lessons", catalog.OTHERS]
    assert groups["digits and lessons"] == ["digits", "lesson-a", "lesson-b"]
    assert groups[catalog.OTHERS] == ["alpha", "zeta"]


def test_list_follows_the_learning_path(capsys):
    assert main(["list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == PATH


async def test_the_gallery_shows_the_path_under_headings_that_cannot_be_chosen():
    app = BptuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        options = app.screen.query_one(OptionList)
        assert [o.id for o in options.options if not o.disabled] == PATH
        headings = [str(o.prompt) for o in options.options if o.disabled]
        assert len(headings) == len(catalog.LEARNING_PATH) and "stories" in headings[0]
        assert options.options[0].disabled  # the list opens on its first heading...
        await pilot.pause()
        assert options.highlighted_option.id == "biscuit-factory"  # ...with the first story chosen
        await pilot.press("up")  # the heading above cannot be chosen
        await pilot.pause()
        assert not options.highlighted_option.disabled
        for _ in range(6):  # past the last story, over the next heading, to the first experiment
            if options.highlighted_option.id == "xor-2-1-1":
                break
            await pilot.press("down")
        await pilot.press("down")
        await pilot.pause()
        assert options.highlighted_option.id == "encoder-4-2-4"


# Escape, and the keys in the footer

async def test_escape_in_the_first_gallery_stays_and_says_how_to_quit():
    app = BptuiApp()  # started without a scenario: nothing to go back to
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        gallery = app.screen
        box = gallery.query_one("#gallery-box")
        assert "ctrl+q" in str(box.border_subtitle)
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.return_code is None and app.screen is gallery
        assert box.has_class("-nudged")
        # q in the path box is a letter of the path, not a way out.
        gallery.query_one(Input).focus()
        await pilot.press("q", "escape")
        await pilot.pause()
        assert gallery.query_one(Input).value == "q" and app.screen is gallery and app.return_code is None
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None)


async def test_escape_closes_the_gallery_over_an_open_scenario(shipped):
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        assert not app.screen.query_one("#gallery-box").border_subtitle
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, GalleryScreen))
        assert app.scenario.title == "XOR" and app.is_running


async def test_the_gallery_footer_shows_only_the_gallery_keys(shipped):
    # The footer a user sees is the gallery's own, over the app's: the run's keys (space,
    # n, ...) do nothing while the gallery is open, so it must not offer them.
    app = BptuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        assert footer.region.bottom == 24  # on the bottom row, covering the app's
        assert footer_keys(app.screen) == {"enter", "tab", "ctrl+q"}  # no escape: nothing to go back to
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.pause()
        assert footer_keys(app.screen) == {"enter", "tab", "escape", "ctrl+q"}
        app.screen.query_one(Input).focus()
        await pilot.pause()
        assert footer_keys(app.screen) == {"enter", "tab", "escape", "ctrl+q"}


async def test_enter_opens_what_the_focus_is_on(shipped):
    app = BptuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("tab", *"xor", "enter")  # the path box: a built-in name is a path too
        await until(pilot, lambda: app.scenario is not None)
        assert app.scenario.title == "XOR"
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("down", "enter")  # the list
        await until(pilot, lambda: app.scenario.title != "XOR")
        assert app.scenario.title == load_scenario(catalog.builtin()[PATH[1]]).title


async def test_a_bad_path_shows_its_error_on_the_screen_at_80x24(shipped, tmp_path):
    bad = tmp_path / "[bold]bad.toml"  # a path is the user's text, not markup
    bad.write_text("format = 1\n")
    app = BptuiApp(load_scenario(shipped["xor"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("tab", *str(bad), "enter")
        error = app.screen.query_one("#gallery-error", Static)
        await until(pilot, lambda: "bptui: " in str(error.render()))
        await pilot.pause()
        assert "[bold]bad.toml" in str(error.render())
        footer = app.screen.query_one(Footer)
        assert error.region.height > 0 and error.region.y >= 0 and error.region.bottom <= footer.region.y
        assert app.screen.query_one(Input).region.bottom <= error.region.y
        box = app.screen.query_one("#gallery-box")
        assert box.region.contains_region(error.region)


# The story card

class CardApp(App):
    def __init__(self, scenario) -> None:
        super().__init__()
        self.scenario = scenario

    def compose(self) -> ComposeResult:
        yield StoryCard()

    def on_mount(self) -> None:
        self.query_one(StoryCard).show(self.scenario)


def test_the_card_shows_the_title_the_card_and_the_short_keys_when_the_card_names_them(shipped):
    scenario = load_scenario(shipped["biscuit-factory"])
    text = card_text(scenario).plain
    assert text.startswith("The biscuit factory\n")
    assert "Press . six times" in text and "3 of 20 batches" in text
    assert "one phase" in text and "space" in text and "the whole story" in text
    assert "forward, error" not in text  # the card already says what to press


def test_without_a_card_the_summary_and_the_whole_keys_sentence(shipped):
    scenario = load_scenario(shipped["encoder-8-3-8"])
    text = " ".join(card_text(scenario).plain.split())
    assert scenario.summary in text
    assert ("press . to step one phase (forward, error, blame back, update), space to train, s for the whole "
            "story") in text


def test_the_card_is_untrusted_text(write_scenario):
    path = write_scenario(AND_TOML.replace('title = "AND"', 'title = "[red]AND"\n'
                                           'card = "Press [b]here[/b]\\u0007 to win"'))
    # The loader refuses a control code in a title; the card escapes one all the same.
    text = card_text(replace(load_scenario(path), title="[red]AND\x1b[2J")).plain
    assert "[red]AND\\x1b[2J" in text and "Press [b]here[/b]\\x07 to win" in text
    assert not any(ord(c) < 32 and c != "\n" for c in text)


async def test_every_shipped_card_fits_the_side_panel_at_80x24(shipped):
    # 32 columns by 20 rows: the place beside the network at 80x24.
    for name in catalog.builtin():
        app = CardApp(load_scenario(shipped[name]))
        async with app.run_test(size=(32, 20)) as pilot:
            await pilot.pause()
            card = app.query_one(StoryCard)
            assert card.max_scroll_y == 0, f"{name}: the card does not fit 32x20"
            assert "story" in " ".join(str(card.query_one(Static).render()).split())
