"""The bptui terminal app: watch a network learn, one phase or a thousand epochs at a time.

The app composes the widgets, forwards each key to the controller (bptui/core/controller.py,
which holds the run, its stepper, time travel, the lesson and the quiz, and is tested
without a screen) and draws the snapshot the controller leaves.

Training runs in a thread worker (the controller's ``train`` loop) that owns the run
while it trains and posts frozen snapshots; a newer snapshot replaces an older one still
waiting in the queue, and the screen redraws from the latest on a timer, at most a few
times a second, so a slow terminal link is never flooded. A paused app redraws nothing
and sends nothing.

Knock-outs and the responsibility against a reference (counterfactuals) cost forward
passes of their own: about 60 ms a snapshot for the digits, against 10 ms without. They
are asked for only while a view on screen shows them (the blame and explain panels, the
cursor line on a unit); when paused or stepping, always then; while training, only
when they take at most COUNTERFACTUAL_SHARE of a chunk's time (controller.train).
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import Future
import select
import sys
import time
from pathlib import Path
from typing import NamedTuple

from platformdirs import user_downloads_path
from textual import work
from textual.worker import get_current_worker
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, Footer, Markdown, Static

from bptui.app.screens.dialogs import DivergedScreen, EditScreen, QuizScreen, SaveScreen
from bptui.app.screens.gallery import GalleryScreen
from bptui.app.screens.help import HelpScreen
from bptui.app.widgets.blame import blame_text
from bptui.app.widgets.check import CheckDrawer
from bptui.app.widgets.explain import ExplainDrawer
from bptui.app.widgets.flow import FLOW_UNITS, FLOW_WEIGHTS
from bptui.app.widgets.ledger import ledger_drawer
from bptui.app.widgets.hidden import hidden_text
from bptui.app.widgets.loss import LossPlot
from bptui.app.widgets.network import NetworkView
from bptui.app.widgets.plane import PlaneDrawer
from bptui.app.widgets.status import StatusLine
from bptui.app.widgets.story import StoryCard, StoryText
from bptui.app.widgets.sweep import SweepPanel
from bptui.app.widgets.textview import TextPanel
from bptui.app.widgets.updates import updates_text
from bptui.core.controller import SWEEP_SEEDS, Controller, build, builds_quickly, weights_of
from bptui.core.errors import PATH_EXCERPT, InputError, excerpt, printable
from bptui.core.gradcheck import GradientCheck, check_gradients
from bptui.core import catalog
from bptui.core.scenario import MAX_WEIGHT_INIT, Scenario, load_scenario
from bptui.core.snapshot import Snapshot
from bptui.core.stepper import PAUSED
from bptui.core.sweep import Sweep, SweepResult
from bptui.core.training import Run

TEXT_HZ = 4  # the most redraws a second of the text panels (about 2 KB each at 80x24 while training)
PLOT_HZ = 1  # ...and of the loss plot: its rescaled curve changes cells from top to bottom
PANEL_TITLES = {"hidden": "hidden units", "map": "decision map", "check": "gradient check", "ledger": "blame ledger",
                "sweep": f"sweep of {SWEEP_SEEDS} seeds"}


def while_running(handler):
    """For the messages of worker threads: one that arrives while the app shuts down is
    dropped, as the widgets it would update are gone (Textual removes them first, then
    handles the messages still queued)."""

    @functools.wraps(handler)
    def handle(self, message):
        if self.is_running:
            handler(self, message)

    return handle


class Progress(Message):
    """A snapshot from the training thread; a newer one replaces one not yet handled."""

    def __init__(self, generation: int, snapshot: Snapshot, rate: float, ledger: list[str]) -> None:
        super().__init__()
        self.generation = generation
        self.snapshot = snapshot
        self.rate = rate
        self.ledger = ledger  # the last update of the chunk, and a line for those not listed

    def can_replace(self, message: Message) -> bool:
        # A replaced snapshot loses nothing, but its ledger lines must not be lost silently.
        return isinstance(message, Progress) and not message.ledger


class SweepProgress(Message):
    """How far the sweep has got; a newer one replaces one not yet handled."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SweepProgress)


class SweepDone(Message):
    def __init__(self, result: SweepResult, title: str) -> None:
        super().__init__()
        self.result = result
        self.title = title


class Checked(Message):
    """A gradient check has finished."""

    def __init__(self, result: GradientCheck, what: str, epoch: int) -> None:
        super().__init__()
        self.result = result
        self.what = what
        self.epoch = epoch


class RunBuilt(Message):
    """A scenario's run, built in a thread (controller.build)."""

    def __init__(self, token: int, built) -> None:
        super().__init__()
        self.token = token
        self.built = built


class BuildFailed(Message):
    def __init__(self, token: int, scenario: Scenario, reason: str) -> None:
        super().__init__()
        self.token, self.scenario, self.reason = token, scenario, reason


class Stopped(Message):
    """The training thread has let go of the run."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation


class BptuiApp(App):
    CSS_PATH = "bptui.tcss"
    TITLE = "bptui"
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (60, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-tiny-height"), (16, "-short"), (36, "-tall")]

    BINDINGS = [
        Binding("space", "toggle_run", "Run/Pause", id="run"),
        Binding("n", "step_update", "Step", id="step"),
        Binding("full_stop", "step_phase", "Phase", id="phase", key_display="."),
        Binding("v", "switch_view", "View", id="switch-view", show=False),
        Binding("r", "reset", "Reset", id="reset"),
        Binding("R", "new_seed", "New seed", id="new-seed", show=False),
        Binding("o", "open", "Open", id="open"),
        Binding("w", "save", "Save", id="save", show=False),
        Binding("ctrl+r", "reload", "Reload", id="reload", show=False),
        Binding("minus", "lower_rate", "Halve rate", id="lower-rate", show=False, key_display="-"),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("l", "panel('loss')", "Loss", id="panel-loss", show=False),
        Binding("b", "panel('blame')", "Blame", id="panel-blame", show=False),
        Binding("u", "panel('updates')", "Updates", id="panel-updates", show=False),
        Binding("h", "panel('hidden')", "Hidden", id="panel-hidden", show=False),
        Binding("s", "panel('story')", "Story", id="panel-story", show=False),
        Binding("m", "panel('map')", "Map", id="panel-map", show=False),
        Binding("L", "log_scale", "Log scale", id="log-scale", show=False),
        Binding("S", "sweep", "Sweep", id="sweep", show=False),
        Binding("k", "quiz", "Quiz", id="quiz", show=False),
        Binding("e", "panel('explain')", "Explain", id="panel-explain", show=False),
        Binding("j", "panel('ledger')", "Ledger", id="panel-ledger", show=False),
        Binding("y", "copy_ledger", "Copy ledger", id="copy-ledger", show=False),
        Binding("left_square_bracket", "travel(-1)", "Back", id="back", show=False, key_display="["),
        Binding("right_square_bracket", "travel(1)", "Forward", id="forward", show=False, key_display="]"),
        Binding("g", "check(False)", "Check", id="check", show=False),
        Binding("G", "check(True)", "Check all", id="check-all", show=False),
        Binding("enter", "edit_selected", "Edit", id="edit", show=False),
        Binding("t", "edit_settings", "Settings", id="settings", show=False),
        Binding("p", "pattern(1)", "Next pattern", id="next-pattern", show=False),
        Binding("P", "pattern(-1)", "Previous pattern", id="previous-pattern", show=False),
    ]

    # What each action does, for the help screen and the command palette.
    ACTIONS = {
        "toggle_run": ("space", "Run / pause", "Train continuously, or pause"),
        "step_update": ("n", "One update", "One whole weight change: forward, loss, backward, update"),
        "step_phase": (".", "One phase", "One phase of a weight change: forward, loss, each backward layer, update"),
        "switch_view": ("v", "Switch the network's view", "The network as a flow from inputs to outputs, or as "
                        "layers with weight blocks"),
        "reset": ("r", "Reset", "Back to the same starting weights (same seed)"),
        "new_seed": ("R", "New seed", "Start again from new random starting weights"),
        "open": ("o", "Open a scenario", "The gallery of shipped scenarios, or a file"),
        "save": ("w", "Save", "Write the current state as a scenario file (its weights become the starting weights)"),
        "reload": ("ctrl+r", "Reload the file", "Read the scenario file again (a failed reload keeps everything)"),
        "lower_rate": ("-", "Halve the learning rate", "Halve every learning rate and reset"),
        "panel('loss')": ("l", "Show the loss plot", "The error over epochs"),
        "panel('blame')": ("b", "Show the blame", "Each unit's signed share (blame or credit), its knock-out, "
                           "and the exact responsibility when the scenario declares a reference"),
        "panel('updates')": ("u", "Show the updates", "The last change of every weight, biggest movers first"),
        "panel('hidden')": ("h", "Show the hidden units", "Each hidden unit's activation for every pattern"),
        "panel('story')": ("s", "Show the story", "The scenario's story: what to watch, what to try"),
        "panel('map')": ("m", "Show the decision map", "Two inputs: the output and each hidden unit over the input plane"),
        "log_scale": ("L", "Log / linear loss scale", "Switch the loss plot between linear and log scale"),
        "sweep": ("S", f"Sweep {SWEEP_SEEDS} seeds", "Train many seeds at once: how often and how fast this learns"),
        "edit_selected": ("enter", "Edit the selected weight or bias",
                          "While paused: type a new value; training goes on from there"),
        "edit_settings": ("t", "Edit the learning rate and momentum",
                          "While paused: new settings from the next epoch on; training goes on from there"),
        "check(False)": ("g", "Gradient check of the selected weight",
                         "Finite differences beside backprop for the weight or bias under the cursor"),
        "check(True)": ("G", "Gradient check of the whole network",
                        "Finite differences beside backprop for every weight and bias (a sample of big nets)"),
        "panel('explain')": ("e", "Explain the selected unit or weight",
                             "Its delta, share, knock-out, responsibility, gradient and last change, derived "
                             "with the live numbers"),
        "panel('ledger')": ("j", "Show the blame ledger", "Every update, in the same arithmetic, as it happens"),
        "copy_ledger": ("y", "Copy the ledger", "Put the ledger's text on the clipboard"),
        "travel(-1)": ("[", "Back one epoch", "Step back through the epochs already run (training goes on from there)"),
        "travel(1)": ("]", "Forward one epoch", "Step forward again through the epochs already run"),
        "quiz": ("k", "Quiz mode on / off", "Stepping with n or .: guess which unit will carry the largest "
                 "share of blame, then see; keeps a score"),
        "pattern(1)": ("p", "Next pattern", "Show the network on the next training pattern"),
        "pattern(-1)": ("P", "Previous pattern", "Show the network on the previous training pattern"),
        "help": ("?", "Help", "Every key"),
        "quit": ("q", "Quit", "Leave bptui"),
    }

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None,
                 reading: Reading | None = None) -> None:
        super().__init__()
        self.initial = scenario, seed
        self.reading = reading  # a file still being read: the first frame says so
        self.read_error: InputError | None = None  # what made it unreadable: the app leaves with 2
        self.controller = Controller(say=self.say)
        self.pattern = 0
        self._dirty = False  # something besides a new snapshot asks for a redraw
        self._drawn = 0  # the controller's snapshot version last drawn
        self._building = 0  # counts loads: a run built in a thread for an older one is dropped
        self._pending: int | None = None  # the load whose run is being built in a thread
        self._last_plot = 0.0
        self.checker = CheckDrawer()

    def say(self, text: str, severity: str = "information", timeout: float | None = None) -> None:
        """A toast. Its text may quote a file's contents or path: shown as plain text."""
        self.notify("\n".join(printable(line) for line in text.split("\n")), severity=severity, markup=False,
                    **({} if timeout is None else {"timeout": timeout}))

    # What tests and views read: the controller's state
    run_ = property(lambda self: self.controller.run)
    stepper = property(lambda self: self.controller.stepper)
    history = property(lambda self: self.controller.history)
    snapshot = property(lambda self: self.controller.snapshot)
    scenario = property(lambda self: self.controller.scenario)
    ledger = property(lambda self: self.controller.ledger)
    score = property(lambda self: self.controller.score)
    quiz = property(lambda self: self.controller.quiz)
    phase = property(lambda self: self.controller.phase)
    rate = property(lambda self: self.controller.rate)
    pass_ = property(lambda self: self.controller.pass_)
    rows = property(lambda self: self.controller.rows)
    running = property(lambda self: self.controller.running)
    counterfactuals_dear = property(lambda self: self.controller.counterfactuals_dear)
    _generation = property(lambda self: self.controller.generation)

    # Layout

    def compose(self) -> ComposeResult:
        yield Static("The terminal is too small for bptui.\nMake it at least 60 x 16.", id="too-small")
        with Horizontal(id="main"):
            yield NetworkView(id="network")
            with Vertical(id="side"):
                yield StoryCard(id="story-card")
                yield LossPlot(id="loss")
                with ContentSwitcher(id="aside", initial="blame"):
                    yield TextPanel(blame_text, id="blame")
                    yield TextPanel(updates_text, id="updates")
                    yield TextPanel(hidden_text, id="hidden")
                    yield TextPanel(PlaneDrawer(), id="map")
                    yield TextPanel(self.checker, id="check")
                    yield TextPanel(ExplainDrawer(self), id="explain")
                    yield TextPanel(ledger_drawer(self), id="ledger", follow_end=True)  # newest last
                    with VerticalScroll(id="story"):
                        yield StoryText(id="story-text")  # untrusted Markdown: escaped, web links only
                    yield SweepPanel(id="sweep")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#aside").border_title = "blame"
        self.set_interval(1 / TEXT_HZ, self._redraw)
        if not self.is_headless:
            self.set_interval(0.5, self._check_terminal)
            self.watch_title(self.title)
        scenario, seed = self.initial
        if scenario is not None:
            self.load(scenario, seed)
        elif self.reading is not None:
            self._pending = -1  # the run's keys wait, as for a network being built
            self.query_one(StatusLine).say(f" reading {printable(excerpt(self.reading.path, PATH_EXCERPT))} …")
            self.call_after_refresh(self._read, self.reading, seed)  # the first frame first
        else:
            self.push_screen(GalleryScreen(can_cancel=False), self._opened)

    @work(thread=True, group="read", exit_on_error=False)
    def _read(self, reading: Reading, seed: int | None) -> None:
        try:
            scenario = (reading.future.result() if reading.future is not None
                        else load_scenario(catalog.resolve(reading.path), display=reading.path))
        except InputError as e:
            self.call_from_thread(self._unreadable, e)
            return
        except Exception as e:  # a bug while reading: the app ends as after any internal error
            self.call_from_thread(self._failed, e)
            return
        self.call_from_thread(self.load, scenario, seed)

    def _failed(self, error: Exception) -> None:
        raise error

    def _unreadable(self, error: InputError) -> None:
        self.read_error = error
        self.exit(return_code=2)

    def watch_title(self, title: str) -> None:
        # Textual never sets the terminal's own title: the window should name the scenario.
        if self._driver is not None and not self.is_headless:
            self._driver.write(f"\x1b]2;{printable(title)}\x07")

    def _check_terminal(self) -> None:
        """Leave when the terminal has gone (a dropped SSH link), even if SIGHUP is ignored
        (nohup), so no orphan keeps a core busy training for nobody."""
        if terminal_gone():
            self.controller.halt()
            self.exit(return_code=1)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # While a dialog or the gallery is open, the run's keys do nothing: the footer and
        # the palette should not offer them.
        if isinstance(self.screen, ModalScreen) and action in RUN_ACTIONS:
            return False
        if self.building and action in RUN_ACTIONS - WHILE_BUILDING:
            return False
        return True

    # The run

    def load(self, scenario: Scenario, seed: int | None = None) -> None:
        self.workers.cancel_group(self, "sweep")  # a sweep of another scenario is no use now
        self.query_one(SweepPanel).say(f"Press S to train {SWEEP_SEEDS} seeds of this scenario at once.")
        self.controller.wants_counterfactuals = self._wants_counterfactuals()
        self._building += 1
        self._pending = None
        if builds_quickly(scenario):
            self.controller.load(scenario, seed)
            self._loaded(scenario)
            return
        # A network of millions of weights takes a second or more to build: the screen
        # says so at once, and the run's keys wait for it (issue 14).
        self.controller.stop()
        self._pending = self._building
        self.title = f"bptui · {printable(scenario.title)}"
        self.query_one(StoryCard).show(scenario)  # something to read meanwhile
        self.query_one("#side").set_class(True, "-card")
        self.query_one(StatusLine).say(f" building the network: {weights_of(scenario):,} weights, "
                                       f"{len(scenario.data.names):,} patterns … │ {printable(scenario.title)}")
        self._build(scenario, seed, self._building, self.controller.wants_counterfactuals)

    @work(thread=True, exclusive=True, group="build", exit_on_error=False)
    def _build(self, scenario: Scenario, seed: int | None, token: int, counterfactuals: bool) -> None:
        try:
            built = build(scenario, seed, counterfactuals)
        except MemoryError:
            self.post_message(BuildFailed(token, scenario, "There is not enough memory for this network."))
            return
        self.post_message(RunBuilt(token, built))

    @property
    def building(self) -> bool:
        """Whether a network is being built in a thread (the run's keys wait)."""
        return self._pending is not None

    def on_run_built(self, message: RunBuilt) -> None:
        if message.token != self._building:
            return  # another scenario was opened meanwhile
        self._pending = None
        self.controller.adopt(message.built)
        self._loaded(message.built.scenario)

    def on_build_failed(self, message: BuildFailed) -> None:
        if message.token != self._building:
            return
        self._pending = None
        self.say(f"Not opened: {printable(message.scenario.title)}. {message.reason}", "error", timeout=15)
        if self.controller.snapshot is None:  # nothing else to show: the gallery again
            self.push_screen(GalleryScreen(can_cancel=False), self._opened)
        else:
            self._dirty = True
            self._redraw()

    def _loaded(self, scenario: Scenario) -> None:
        """The controller holds the scenario's run: the views follow."""
        self.pattern = 0
        self.title = f"bptui · {printable(scenario.title)}"
        self.query_one("#story-text", Markdown).update(lesson_text(scenario) + (scenario.story or
                                                                                "*This scenario has no story.*"))
        self.query_one(StoryCard).show(scenario)
        self.query_one(NetworkView).reset()
        self.query_one(NetworkView).diagram.focus()
        self._apply_lesson()
        self._changed()
        self._complete_counterfactuals()  # the cursor, kept from the last scenario, may now be on a unit

    def _rest(self, phase: str = PAUSED) -> None:
        """Show the run at rest: a full pass at the current weights."""
        self._wants_counterfactuals()
        self.controller.rest(phase)
        self._changed()

    def _changed(self) -> None:
        """The controller has a new snapshot, or the step's state changed: draw it now."""
        self._redraw(force_plot=True)

    def _wants_counterfactuals(self) -> bool:
        """Whether a view on screen shows knock-outs or responsibility: the blame or the explain
        panel, or the network's cursor line on a unit that has them."""
        switcher = self.query_one("#aside", ContentSwitcher)
        side = self.query_one("#side")
        # The picked panel is on screen when tall terminals show it under the plot, or it was picked.
        aside = self.default_screen.has_class("-tall") or side.has_class("-aside")
        wanted = aside and switcher.current in ("blame", "explain")
        network = self.query_one(NetworkView)
        if not wanted and not network.has_class("-hidden"):
            # What the diagram drew last (the last scenario's, while another loads); nothing
            # drawn yet: the cursor will start on the first output unit.
            item, drawn = network.diagram.selected, network.diagram.snapshot
            wanted = network.diagram.shares and (item is None or drawn is None or
                                                 (item.kind == "unit" and not drawn.layers[item.index].is_input))
        self.controller.wants_counterfactuals = wanted
        return wanted

    def _complete_counterfactuals(self) -> None:
        """Paused or stepping: a view that shows the knock-outs has come on screen."""
        if self.is_running and self.run_ is not None:
            self._wants_counterfactuals()
            version = self.controller.version
            self.controller.complete_counterfactuals()
            # Only a new snapshot is drawn now: a key while training (a panel) must not
            # wait for the whole screen, the loss plot included, to be drawn again.
            if self.controller.version != version:
                self._redraw(force_plot=True)

    def on_resize(self) -> None:
        self.call_after_refresh(self._complete_counterfactuals)  # a taller screen may show the panel

    def _redraw(self, force_plot: bool = False) -> None:
        # Not while shutting down: the widgets are removed before the timers stop.
        c = self.controller
        if (c.version == self._drawn and not self._dirty) or c.snapshot is None or not self.is_running \
                or self.building:  # the status line says so, and the last run's views wait
            return
        self._drawn, self._dirty = c.version, False
        s = c.snapshot
        self.pattern = min(self.pattern, len(s.patterns) - 1)
        with self.batch_update():
            extra = [f"quiz {c.score[0]}/{c.score[1]}"] if c.quiz else []
            if c.lesson_status():
                extra.append(c.lesson_status())
            if c.warnings:
                extra.append(c.warning_status())
            self.query_one(StatusLine).show(s, c.phase, c.rate, " │ ".join(extra))
            # The story card holds the plot's place until there is a curve to plot.
            self.query_one("#side").set_class(c.run.epoch == 0 and not c.running, "-card")
            self.query_one(NetworkView).show(s, self.pattern)
            aside = self.query_one("#aside", ContentSwitcher).current
            if aside not in ("story", "sweep"):  # only the panel on screen is drawn
                self.query_one(f"#{aside}", TextPanel).show(s)
            now = time.monotonic()
            if force_plot or not c.running or now - self._last_plot >= 1 / PLOT_HZ:
                self._last_plot = now
                self.query_one(LossPlot).show(s)
            elif c.running:
                self._dirty = True  # the plot is still owed a redraw

    # Training in a thread

    def start_training(self) -> None:
        self._wants_counterfactuals()
        started = self.controller.start()
        if started is None:
            self._changed()
            return
        self._train(*started)
        self._changed()

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, generation: int, budget: int | None) -> None:
        try:
            self.controller.train(generation, budget, lambda *report: self.post_message(Progress(*report)))
        finally:
            self.post_message(Stopped(generation))

    def stop_training(self) -> None:
        """Stop the training thread and wait for it to let go of the run (one chunk at most)."""
        if self.controller.stop():
            self._changed()

    @while_running
    def on_progress(self, message: Progress) -> None:
        self.controller.progressed(message.generation, message.snapshot, message.rate, message.ledger)
        if message.ledger:
            self._dirty = True

    @while_running
    def on_stopped(self, message: Stopped) -> None:
        if not self.controller.stopped(message.generation):
            return
        self._changed()
        if self.controller.diverged:
            run = self.run_
            self.push_screen(DivergedScreen(run.epoch, run.settings(run.epoch)[0]), self._after_divergence)

    def _after_divergence(self, choice: str | None) -> None:
        if choice == "reset":
            self.action_reset()
        elif choice == "lower":
            self.action_lower_rate()

    # Actions

    def action_toggle_run(self) -> None:
        if self.controller.running:
            self.controller.pause()
            self._changed()
        else:
            self.start_training()

    def action_step_update(self) -> None:
        self._wants_counterfactuals()
        self._ask(self.controller.step_update())

    def action_step_phase(self) -> None:
        self._wants_counterfactuals()
        self._ask(self.controller.step_phase())

    def _ask(self, question) -> None:
        self._changed()
        if question is not None:
            self.push_screen(QuizScreen(question.units, self.controller.score, question.patterns), self._answered)

    def _answered(self, choice: str | None) -> None:
        if self.controller.answer(choice):
            self.action_panel("blame")
        self._changed()

    def _apply_lesson(self) -> None:
        """Show and hide panels as the lesson says."""
        lesson = self.controller.lesson
        hide = set(lesson.hide) if lesson else set()
        # A class, not an inline display: the layout's own rules must still apply when shown.
        self.query_one("#network").set_class("network" in hide, "-hidden")
        self.query_one("#loss").set_class("loss" in hide, "-hidden")
        self.query_one(NetworkView).hide_shares("blame" in hide)
        switcher = self.query_one("#aside", ContentSwitcher)
        if switcher.current in hide:
            shown = next((p for p in ("blame", "story", "hidden", "updates", "map", "explain", "ledger")
                          if p not in hide), None)
            if shown is not None:
                self.action_panel(shown)
        if "loss" in hide:
            self.query_one("#side").add_class("-aside")
        if lesson and lesson.goal:
            self.say(f"Lesson: {lesson.goal}", timeout=10)

    # Edit while paused

    def action_edit_selected(self) -> None:
        selection = self.query_one(NetworkView).diagram.selection
        if selection is None:
            return
        target = self.controller.editable(selection.kind, selection.layer, selection.j, selection.link, selection.i)
        self._changed()  # editing stops training
        if target is None:
            return
        text = f"A new value for {target.name}; training goes on from it."
        if target.frozen:
            text = (f"{target.name} is frozen: training keeps it as it is, but you may set it by hand. "
                    f"A new value for it:")
        self.push_screen(EditScreen(f"edit {target.name}", text,
                                    [("value", target.name, target.value, -MAX_WEIGHT_INIT, MAX_WEIGHT_INIT)]),
                         lambda values: self._edited(target, values))

    def _edited(self, target, values: dict | None) -> None:
        if values is not None:
            self.controller.set_value(target, values["value"])
            self._changed()

    def action_edit_settings(self) -> None:
        fields = self.controller.settings_fields()
        self._changed()
        if fields is None:
            return
        self.push_screen(EditScreen(
            f"settings from epoch {self.run_.epoch + 1} on",
            "The learning rate and momentum of the epochs to come; the epochs already run keep theirs.",
            fields), self._settings_edited)

    def _settings_edited(self, values: dict | None) -> None:
        if values is not None:
            self.controller.set_settings(values["learning_rate"], values["momentum"])
            self._changed()

    # Time travel and the ledger

    def action_travel(self, step: int) -> None:
        self._wants_counterfactuals()
        self.controller.travel(step)
        self._changed()

    def action_copy_ledger(self) -> None:
        self.copy_to_clipboard("\n".join(self.controller.ledger))
        self.say(f"Copied {len(self.controller.ledger)} lines of the ledger.")

    def on_network_diagram_selected(self, message) -> None:
        self._complete_counterfactuals()  # the cursor line shows them on a unit
        if self.query_one("#aside", ContentSwitcher).current == "explain":
            self._dirty = True
            self._redraw()

    # Gradient check

    def action_check(self, whole: bool) -> None:
        if self.run_ is None:
            return
        selection = None if whole else self.query_one(NetworkView).diagram.selection
        if whole:
            target = self.controller.check_target(None)
        elif selection is None:
            target = self.controller.check_target("nothing")
        else:
            target = self.controller.check_target(selection.kind, selection.layer, selection.j, selection.link,
                                                  selection.i)
        self._changed()
        if target is None:
            return
        which, what = target
        self.action_panel("check")
        # The weights are copied here, while paused: training may start before the worker does.
        self._check(self.run_, which, what, self.run_.epoch, self.run_.network.theta.copy())

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def _check(self, run: Run, which, what: str, epoch: int, theta) -> None:
        """In a thread: the whole network of a big scenario takes a moment."""
        self.post_message(Checked(check_gradients(run, which, theta=theta), what, epoch))

    @while_running
    def on_checked(self, message: Checked) -> None:
        self.checker.result, self.checker.what, self.checker.epoch = message.result, message.what, message.epoch
        self._dirty = True
        self._redraw()

    # The quiz, starting again, files

    def action_quiz(self) -> None:
        self.controller.toggle_quiz()
        self._redraw()

    def action_reset(self) -> None:
        self._wants_counterfactuals()
        self.controller.reset()
        self._changed()

    def action_new_seed(self) -> None:
        self._wants_counterfactuals()
        self.controller.new_seed()
        self._changed()

    def action_open(self) -> None:
        if self.controller.locked("scenario"):
            return
        self.stop_training()
        if self.run_ is not None:
            self._rest()
        self.push_screen(GalleryScreen(can_cancel=self.run_ is not None), self._opened)

    def _opened(self, scenario: Scenario | None) -> None:
        if scenario is not None:
            self.load(scenario)

    def action_save(self) -> None:
        suggestion = self.controller.save_suggestion()
        self._changed()
        if suggestion is not None:
            self.push_screen(SaveScreen(suggestion), self._save)

    def _save(self, path: Path | None) -> None:
        if path is not None:
            self.controller.save(path)

    def action_reload(self) -> None:
        scenario = self.scenario
        self.controller.reload()
        if self.scenario is not scenario:
            self._after_load()

    def action_lower_rate(self) -> None:
        scenario = self.scenario
        self.controller.lower_rate()
        if self.scenario is not scenario:
            self._after_load()

    def _after_load(self) -> None:
        """The controller loaded a scenario of its own (reload, a halved rate): the views follow."""
        self._apply_lesson()
        self._changed()

    def action_help(self) -> None:
        keys = [(key, f"{title}: {text}") for key, title, text in self.ACTIONS.values()]
        keys += [("arrows", "Move the cursor over units and weights (in the flow, left and right follow "
                            "the arrows); the line below the network gives the exact values"),
                 ("tab", "Move between the network and the side panel (the arrows then scroll it)"),
                 ("ctrl+p", "The command palette: every action, and the themes")]
        self.push_screen(HelpScreen(keys))

    def action_quit(self) -> None:
        self.stop_training()
        self.exit()

    def action_panel(self, name: str) -> None:
        if self.controller.hidden(name):
            return
        side = self.query_one("#side")
        if name == "loss":
            side.remove_class("-aside")
            self._wants_counterfactuals()
            return
        switcher = self.query_one("#aside", ContentSwitcher)
        switcher.current = name
        switcher.border_title = PANEL_TITLES.get(name, name)
        side.add_class("-aside")
        self._dirty = True
        self._complete_counterfactuals()
        self.call_after_refresh(self._redraw)  # once the panel has its size

    def action_sweep(self) -> None:
        if self.scenario is None or self.controller.hidden("sweep"):
            return
        seeds = self.controller.sweep_seeds()
        if seeds is None:
            return
        self.action_panel("sweep")
        self.query_one(SweepPanel).say(f"Sweeping seeds {seeds[0]} to {seeds[-1]}...")
        self._sweep(self.scenario, seeds)

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _sweep(self, scenario: Scenario, seeds: list[int]) -> None:
        worker = get_current_worker()
        try:
            sweep = Sweep(scenario, seeds)
        except ValueError as e:  # too big a network for this many runs at once
            self.post_message(SweepProgress(str(e)))
            return
        last = 0.0

        def progress(s: Sweep) -> None:
            nonlocal last
            if time.monotonic() - last > 0.25:
                last = time.monotonic()
                self.post_message(SweepProgress(
                    f"Sweeping {len(seeds)} seeds: epoch {s.epoch} of at most {s.max_epochs}, "
                    f"{len(seeds) - len(s.runs)} runs done"))

        result = sweep.run(on_epoch=progress, stop=lambda: worker.is_cancelled)
        if result is not None:
            self.post_message(SweepDone(result, scenario.title))

    @while_running
    def on_sweep_progress(self, message: SweepProgress) -> None:
        self.query_one(SweepPanel).say(message.text)

    @while_running
    def on_sweep_done(self, message: SweepDone) -> None:
        self.query_one(SweepPanel).show_result(message.result, message.title)

    def action_switch_view(self) -> None:
        if not self.query_one(NetworkView).toggle_view():
            self.say(f"The flow draws every unit and weight: it is for networks of up to {FLOW_UNITS:,} units "
                     f"and {FLOW_WEIGHTS:,} weights. This one has the layers view only.")
        self._complete_counterfactuals()

    def action_log_scale(self) -> None:
        self.query_one(LossPlot).toggle_scale(self.snapshot)

    def action_pattern(self, step: int) -> None:
        if self.snapshot is not None:
            self.pattern = (self.pattern + step) % len(self.snapshot.patterns)
            self._dirty = True
            self._redraw()

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for action, (key, title, text) in self.ACTIONS.items():
            yield SystemCommand(f"{title} ({key})", text, lambda action=action: self.run_action(action))

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        # Textual saves to ~/Downloads, and fails without saying why where there is none
        # (a server, a container): then to the working directory, which is said.
        if path is None:
            downloads = user_downloads_path()
            path = str(downloads if downloads.is_dir() else Path.cwd())
        return super().deliver_screenshot(filename, path, time_format)


# The app's own actions, by name (without their arguments): none of them acts on a dialog.
# quit stays: under a dialog it is Textual's ctrl+q (q itself is the dialog's to type).
RUN_ACTIONS = frozenset(action.split("(")[0] for action in BptuiApp.ACTIONS) - {"quit"}
WHILE_BUILDING = frozenset({"open", "help"})  # the keys that need no run


def lesson_text(scenario: Scenario) -> str:
    """The lesson's goal and rules, put above the story."""
    lesson = scenario.lesson
    if lesson is None:
        return ""
    rules = []
    if lesson.steps is not None:
        rules.append(f"{lesson.steps} weight updates")
    if lesson.locked:
        rules.append("locked: " + ", ".join(name.replace("_", " ") for name in lesson.locked))
    if lesson.hide:
        rules.append("hidden: " + ", ".join(lesson.hide))
    goal = f"**The lesson.** {lesson.goal}" if lesson.goal else "**The lesson.**"
    return goal + "\n\n" + "".join(f"- {rule}\n" for rule in rules) + "\n---\n\n"


def terminal_gone() -> bool:
    """Whether the terminal on stdin has hung up."""
    try:
        poller = select.poll()
        poller.register(sys.__stdin__.fileno(), select.POLLHUP)
        return any(events & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True


class Reading(NamedTuple):
    """A scenario file being read in a thread (megabytes of data take seconds): its path, as
    given, and the future that gives the Scenario or raises its InputError."""

    path: str
    future: Future | None  # None: the app reads it, once its first frame is drawn


def run_app(scenario: Scenario | None = None, seed: int | None = None, reading: Reading | None = None) -> int:
    try:
        columns, lines = os.get_terminal_size(sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        columns = lines = 1
    if not (columns and lines):
        # A terminal that reports no size (0 x 0) sends Textual into endless re-layouts;
        # COLUMNS and LINES, which it reads first, give it one to work with.
        os.environ.setdefault("COLUMNS", "80")
        os.environ.setdefault("LINES", "24")
    from bptui.app import terminal

    # The terminal given back on a signal too; 1 after an internal error, 128 + N after signal N.
    app = BptuiApp(scenario, seed, reading=reading)
    code = terminal.run(app, stop=app.controller.halt)
    if app.read_error is not None:  # reported as the command line reports a bad file, once the terminal is back
        for line in app.read_error.lines():
            print(line, file=sys.stderr)
        return 2
    return code

