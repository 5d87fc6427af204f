"""The story card: on the first screen, what the scenario is about and what to press first.

A learner who has just opened a scenario sees a network at its starting weights and a
loss plot with nothing in it yet; the card takes the plot's place until the first step,
so the first screen says what is going on and how to begin.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from bptui.core.errors import printable, printable_lines
from bptui.core.scenario import Scenario

# The keys that make the first step; the phases in plain words (the help says loss, backward).
KEYS = (("press ", ""), (".", "key"), (" to step one phase (forward, error, blame back, update), ", ""),
        ("space", "key"), (" to train, ", ""), ("s", "key"), (" for the whole story", ""))
# When the card already says what to press, the keys once more, short: two lines that fit
# the 28 columns inside the side panel at 80x24 without a break inside a phrase.
SHORT_KEYS = ((".", "key"), (" one phase  ", ""), ("space", "key"), (" train\n", ""), ("s", "key"),
              (" the whole story", ""))
KEY_STYLE = "bold reverse"


def card_text(scenario: Scenario) -> Text:
    """The title, the card's sentences (the summary if the scenario has no card) and the keys.

    Everything but the keys comes from the scenario file: untrusted, so built as plain
    Text with every control character escaped, never read as markup.
    """
    body = scenario.card or scenario.summary
    out = Text()
    out.append(printable(scenario.title.strip()), style="bold")
    # No blank line under the bold title: at 80x24 the longest card needs every row of the panel.
    gap = "\n"
    lesson = scenario.lesson
    if lesson is not None and lesson.goal:  # a lesson's goal stays in sight, not only in a toast
        out.append("\nGoal: ", style="bold")
        out.append(printable(lesson.goal.strip()))
        if lesson.steps is not None:
            out.append(f" ({lesson.steps:,} updates)")
        gap = "\n\n"
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        # A card is wrapped to the panel: the file's own line breaks inside a paragraph are not the reader's.
        words = " ".join(printable(line.strip()) for line in paragraph.splitlines() if line.strip())
        if words:
            out.append(gap + words)
            gap = "\n\n"
    out.append("\n\n")
    says_what_to_press = "press" in body.lower()
    for words, kind in SHORT_KEYS if says_what_to_press else KEYS:
        out.append(f" {words} " if kind else words, style=KEY_STYLE if kind else "dim")
    return out


class StoryCard(VerticalScroll, can_focus=False):
    """A few sentences of the scenario's story and the first thing to do; scrolls if the
    terminal is too short for it (the card limit is 400 characters, about 15 lines at 32
    columns)."""

    DEFAULT_CSS = """
    StoryCard {
        height: 1fr;
        border: round $secondary;
        border-title-color: $text;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    StoryCard > Static {
        width: 1fr;
        height: auto;
    }
    """
    BORDER_TITLE = "start here"

    def compose(self):
        yield Static(id="story-card-text")

    def show(self, scenario: Scenario) -> None:
        self.query_one("#story-card-text", Static).update(card_text(scenario))
        self.scroll_home(animate=False)


# The only links a story may make: a web page, opened in the browser. A scenario file is
# untrusted, and the terminal's "open" of any other URL (file:, javascript:, a custom
# scheme, a relative path handed to xdg-open) could open or run a local file.
LINK_SCHEMES = ("http://", "https://")


def safe_link(url: str) -> bool:
    return url.strip().lower().startswith(LINK_SCHEMES)


def story_parser() -> MarkdownIt:
    """Textual's own Markdown parser ("gfm-like"), making links of web addresses only: any
    other link is left as the text it is written as."""
    parser = MarkdownIt("gfm-like")
    parser.validateLink = safe_link
    return parser


class StoryText(Markdown):
    """The story panel: the scenario's own Markdown, from an untrusted file.

    It keeps its Markdown, but every control character is shown escaped
    (``printable_lines``), links are made only of http and https addresses, and a click
    opens nothing else, whatever reaches the widget."""

    def __init__(self, markdown: str | None = None, **kwargs) -> None:
        super().__init__(markdown, parser_factory=story_parser, **kwargs)

    def update(self, markdown: str):
        return super().update(printable_lines(markdown))

    def append(self, markdown: str):
        return super().append(printable_lines(markdown))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.prevent_default()  # Markdown's own handler opens any URL
        event.stop()
        if safe_link(event.href):
            self.app.open_url(event.href.strip())
        else:
            self.notify(f"Not opened: {printable(event.href)} (a story opens only http and https links)",
                        severity="warning", markup=False)
