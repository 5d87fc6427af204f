"""The bptui terminal app: watch a network learn, one phase or a thousand epochs at a time.

Training runs in a thread worker that owns the run while it trains and posts frozen
snapshots; a newer snapshot replaces an older one still waiting in the queue, and the
screen redraws from the latest on a timer, at most a few times a second, so a slow
terminal link is never flooded. A paused app redraws nothing and sends nothing.

Knock-outs and the responsibility against a reference (counterfactuals) cost forward
passes of their own: about 60 ms a snapshot for the digits, against 10 ms without. They
are asked for only while a view on screen shows them (the blame and explain panels, the
cursor line on a unit); when paused or stepping, always then; while training, only
when they take at most COUNTERFACTUAL_SHARE of a chunk's time (see _train).
"""

from __future__ import annotations

import functools
import os
import random
import select
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from textual import work
from textual.worker import get_current_worker
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, Footer, Markdown, Static

from bptui.app.screens.dialogs import DivergedScreen, EditScreen, QuizScreen, SaveScreen
from bptui.app.screens.gallery import GalleryScreen
from bptui.app.screens.help import HelpScreen
from bptui.app.glyphs import percent
from bptui.app.widgets.blame import blame_text
from bptui.app.widgets.check import CheckDrawer
from bptui.app.widgets.explain import ExplainDrawer
from bptui.app.widgets.ledger import ledger_drawer
from bptui.app.widgets.hidden import hidden_text
from bptui.app.widgets.loss import LossPlot
from bptui.app.widgets.network import NetworkView
from bptui.app.widgets.plane import PlaneDrawer
from bptui.app.widgets.status import StatusLine
from bptui.app.widgets.sweep import SweepPanel
from bptui.app.widgets.textview import TextPanel
from bptui.app.widgets.updates import updates_text
from bptui.core.errors import InputError
from bptui.core.history import History
from bptui.core.ledger import ledger_lines
from bptui.core.gradcheck import GradientCheck, bias_index, check_gradients, weight_index
from bptui.core.save import scenario_toml, write_atomic
from bptui.core.scenario import (MAX_SEED, MAX_WEIGHT_INIT, Scenario, change_settings, load_scenario,
                                 scale_learning_rate)
from bptui.core.snapshot import Snapshot, take_snapshot
from bptui.core.blame import most_blamed
from bptui.core.stepper import FORWARD, PAUSED, RUNNING, UPDATE, Stepper
from bptui.core.sweep import Sweep, SweepResult
from bptui.core.training import DIVERGED, Run

CHUNK_SECONDS = 0.03  # the worker trains at least this long between two snapshots...
MAX_CHUNK_SECONDS = 0.25  # ...and longer, up to this, when a snapshot is dear (see _train)
YIELD_EVERY = 0.005  # while training, the worker lets the other threads in at least this often...
YIELD_SECONDS = 0.0002  # ...by sleeping this long (see _train)
TEXT_HZ = 5  # the most redraws a second of the text panels
PLOT_HZ = 2  # ...and of the loss plot, which costs most bytes
SWEEP_SEEDS = 100  # seeds a sweep from the app trains
HISTORY = 5000  # the loss of at most about twice this many epochs is kept: memory stays flat
# While training, the knock-outs and the responsibility go into the snapshots only when
# they cost at most this fraction of a chunk's time (small networks: under 1 ms); the
# others have them when paused or stepping.
COUNTERFACTUAL_SHARE = 0.05
DEAR_IN_A_ROW = 3  # ...measured over this many snapshots in a row
LEDGER_LINES = 2000  # the ledger keeps the newest lines
LEDGER_TOP = 3  # weights listed per update in the ledger, biggest changes first


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

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None) -> None:
        super().__init__()
        self.scenario = scenario
        self.initial_seed = seed
        self.run_: Run | None = None
        self.stepper: Stepper | None = None
        self.snapshot: Snapshot | None = None
        self.pattern = 0
        self.phase = PAUSED
        self.rate: float | None = None
        self.running = False
        self._halt = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._generation = 0  # counts training threads, so a late message from an old one is ignored
        self._dirty = False
        self._last_plot = 0.0
        self.quiz = False
        self.checker = CheckDrawer()
        self.pass_ = None  # the pass shown, and the training rows it ran over: what `e` explains
        self.rows = slice(None)
        self.history: History | None = None
        self.score = (0, 0)  # quiz answers right, questions answered
        self.counterfactuals_wanted = False  # a view on screen shows them (read by the training thread)
        self.counterfactuals_dear = False  # too dear to compute while this network trains (set by it)

    # Layout

    def compose(self) -> ComposeResult:
        yield Static("The terminal is too small for bptui.\nMake it at least 60 x 16.", id="too-small")
        with Horizontal(id="main"):
            yield NetworkView(id="network")
            with Vertical(id="side"):
                yield LossPlot(id="loss")
                with ContentSwitcher(id="aside", initial="blame"):
                    yield TextPanel(blame_text, id="blame")
                    yield TextPanel(updates_text, id="updates")
                    yield TextPanel(hidden_text, id="hidden")
                    yield TextPanel(PlaneDrawer(), id="map")
                    yield TextPanel(self.checker, id="check")
                    yield TextPanel(ExplainDrawer(self), id="explain")
                    yield TextPanel(ledger_drawer(self), id="ledger")
                    with VerticalScroll(id="story"):
                        yield Markdown(id="story-text")
                    yield SweepPanel(id="sweep")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#aside").border_title = "blame"
        self.set_interval(1 / TEXT_HZ, self._redraw)
        if not self.is_headless:
            self.set_interval(0.5, self._check_terminal)
        if self.scenario is not None:
            self.load(self.scenario, self.initial_seed)
        else:
            self.push_screen(GalleryScreen(can_cancel=False), self._opened)

    def _check_terminal(self) -> None:
        """Leave when the terminal has gone (a dropped SSH link), even if SIGHUP is ignored
        (nohup), so no orphan keeps a core busy training for nobody."""
        if terminal_gone():
            self._halt.set()
            self.exit(return_code=1)

    # The run

    def load(self, scenario: Scenario, seed: int | None = None) -> None:
        self.stop_training()
        self.workers.cancel_group(self, "sweep")  # a sweep of another scenario is no use now
        self.query_one(SweepPanel).say(f"Press S to train {SWEEP_SEEDS} seeds of this scenario at once.")
        self.scenario = scenario
        self.run_ = Run(scenario, seed=seed, history=HISTORY)
        self.run_.keep_last_change = True  # for the ledger and for explaining the last change
        self.history = History(self.run_)
        self.stepper = Stepper(self.run_)
        self.counterfactuals_dear = False  # measured again for this network when it trains
        self.ledger: list[str] = []  # every update's lines (ledger_lines), newest last
        self.pattern = 0
        self.title = f"bptui · {scenario.title}"
        self.query_one("#story-text", Markdown).update(lesson_text(scenario) + (scenario.story or
                                                                                "*This scenario has no story.*"))
        self.query_one(NetworkView).diagram.focus()
        self._apply_lesson()
        self._rest(PAUSED)
        self._complete_counterfactuals()  # the cursor, kept from the last scenario, may now be on a unit

    def _rest(self, phase: str) -> None:
        """Show the run at rest: a full pass at the current weights."""
        if self.stepper.mid_step:  # show the step under way; a pass now would overwrite its gradient
            self._stepped()
            return
        self.phase = phase
        self.rate = None
        self.pass_, self.rows = self.run_.inspect(), slice(None)
        self._show(take_snapshot(self.run_, self.pass_, phase, counterfactuals=self._wants_counterfactuals()),
                   now=True)

    def _show(self, snapshot: Snapshot, now: bool = False) -> None:
        self.snapshot = snapshot
        self._dirty = True
        if now:
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
            wanted = item is None or drawn is None or (item.kind == "unit" and not drawn.layers[item.index].is_input)
        self.counterfactuals_wanted = wanted
        return wanted

    def _complete_counterfactuals(self) -> None:
        """Paused or stepping: when a view that shows the knock-outs comes on screen and the
        snapshot has none, take it again with them (the same pass, the same patterns)."""
        if not self.is_running or self.run_ is None:
            return
        wanted = self._wants_counterfactuals()
        s = self.snapshot
        if wanted and not self.running and self.pass_ is not None and s is not None and not s.counterfactuals:
            self._show(take_snapshot(self.run_, self.pass_, self.phase, self.rows, counterfactuals=True), now=True)

    def on_resize(self) -> None:
        self.call_after_refresh(self._complete_counterfactuals)  # a taller screen may show the panel

    def _redraw(self, force_plot: bool = False) -> None:
        # Not while shutting down: the widgets are removed before the timers stop.
        if not self._dirty or self.snapshot is None or not self.is_running:
            return
        self._dirty = False
        s = self.snapshot
        self.pattern = min(self.pattern, len(s.patterns) - 1)
        with self.batch_update():
            extra = [f"quiz {self.score[0]}/{self.score[1]}"] if self.quiz else []
            left = self._budget_left()
            if left is not None:
                extra.append(f"{left} updates left")
            self.query_one(StatusLine).show(s, self.phase, self.rate, " │ ".join(extra))
            self.query_one(NetworkView).show(s, self.pattern)
            aside = self.query_one("#aside", ContentSwitcher).current
            if aside not in ("story", "sweep"):  # only the panel on screen is drawn
                self.query_one(f"#{aside}", TextPanel).show(s)
            if aside == "ledger":
                self.query_one("#ledger", TextPanel).scroll_end(animate=False, immediate=False)
            now = time.monotonic()
            if force_plot or not self.running or now - self._last_plot >= 1 / PLOT_HZ:
                self._last_plot = now
                self.query_one(LossPlot).show(s)
            elif self.running:
                self._dirty = True  # the plot is still owed a redraw

    # Training in a thread

    def start_training(self) -> None:
        run = self.run_
        if run is None or self.running:
            return
        self.stepper.finish()
        self.stepper.reset()
        if run.status is not None:
            self._rest(PAUSED)
            self._say_ended()
            return
        if self._out_of_budget():
            self._rest(PAUSED)
            return
        left = self._budget_left()
        self._wants_counterfactuals()
        self.running = True
        self.phase = RUNNING
        self._halt.clear()
        self._idle.clear()
        self._generation += 1
        self._train(run, self._generation, None if left is None else run.updates + left)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, run: Run, generation: int, budget: int | None) -> None:
        """Train until halted or ended, or (a lesson's budget) until ``budget`` updates."""
        def stop() -> bool:
            return self._halt.is_set() or (budget is not None and run.updates >= budget)

        chunk = CHUNK_SECONDS
        plain = None  # how long a snapshot without counterfactuals took
        over = 0  # snapshots in a row whose counterfactuals cost more than their share
        try:
            with np.errstate(all="ignore"):
                while not stop() and run.status is None:
                    start = time.perf_counter()
                    epoch, updates = run.epoch, run.updates
                    lap = start
                    while run.status is None and not stop():
                        if run.train_epoch(stop=stop) is not None:
                            self.history.record()  # only whole epochs: a checkpoint is a boundary
                        now = time.perf_counter()
                        if now - start > chunk:
                            break
                        if now - lap > YIELD_EVERY:
                            # Python runs one thread at a time. A small network (XOR) trains in
                            # Python without pause, and the interface thread, which lets go of the
                            # interpreter each time it waits, won it back only after 5 ms each
                            # time: a key took 70 to 200 ms (median) to reach the screen. A short
                            # sleep every 5 ms lets it in (about 20 ms), for a few % of training.
                            time.sleep(YIELD_SECONDS)
                            lap = time.perf_counter()
                    trained = time.perf_counter()
                    ledger = []
                    if run.updates > updates:
                        if run.updates - updates > 1:
                            ledger.append(f"... {run.updates - updates - 1:,} updates not listed while "
                                          "running (bptui train --trace lists every one)")
                        ledger += ledger_lines(run, LEDGER_TOP)
                    # Counterfactuals once a plain snapshot's time is known, to tell their cost;
                    # then on as long as they cost at most COUNTERFACTUAL_SHARE of the chunk.
                    counterfactuals = (self.counterfactuals_wanted and not self.counterfactuals_dear
                                       and plain is not None)
                    # This thread's own time: the wall clock would count the waits for the
                    # interface thread to let go of the interpreter too (up to 5 ms each).
                    taking = time.thread_time()
                    snapshot = take_snapshot(run, run.inspect(), RUNNING, counterfactuals=counterfactuals)
                    took = time.thread_time() - taking
                    done = time.perf_counter()
                    if counterfactuals:
                        # Three in a row, so that one garbage collection in the middle of a
                        # snapshot does not turn them off; once off, for as long as this
                        # scenario is open (the network's size does not change).
                        over = over + 1 if took - plain > COUNTERFACTUAL_SHARE * chunk else 0
                        self.counterfactuals_dear = over >= DEAR_IN_A_ROW
                    else:
                        plain = took
                    # The ledger lines and the snapshot are time not spent training: under 1 ms
                    # for XOR, but 20 to 40 ms for the digits, where 30 ms chunks left training
                    # less than half the time. So a chunk lasts at least 9 times as long as they
                    # took, to keep them near a tenth. Halting still waits for one epoch at most.
                    chunk = min(max(CHUNK_SECONDS, 9 * (done - trained)), MAX_CHUNK_SECONDS)
                    rate = (run.epoch - epoch) / max(done - start, 1e-9)  # their time included
                    self.post_message(Progress(generation, snapshot, rate, ledger))
        finally:
            self._idle.set()
            self.post_message(Stopped(generation))

    def stop_training(self) -> None:
        """Stop the training thread and wait for it to let go of the run (one chunk at most)."""
        if not self.running:
            return
        self._halt.set()
        self.running = False
        if not self._idle.wait(2.0):
            # One batch epoch of a huge network can take longer: leave that thread the old
            # run and go on with a fresh one, rather than share a run between two threads.
            self.load(self.scenario, self.run_.seed)
            self.notify("Training was in the middle of a long epoch: back to the starting weights.")

    @while_running
    def on_progress(self, message: Progress) -> None:
        if message.generation == self._generation and message.ledger:
            self._write_ledger(message.ledger)
        if self.running and message.generation == self._generation:
            self.rate = message.rate
            self._show(message.snapshot)

    @while_running
    def on_stopped(self, message: Stopped) -> None:
        if self.run_ is None or message.generation != self._generation:
            return
        was_running = self.running
        self.running = False
        if was_running:  # it ended by itself: converged, out of epochs, diverged or out of budget
            self._rest(PAUSED)
            if self.run_.status is None:
                self._out_of_budget()
            if self.run_.status == DIVERGED:
                self.push_screen(DivergedScreen(self.run_.epoch, self.run_.settings(self.run_.epoch)[0]),
                                 self._after_divergence)

    def _after_divergence(self, choice: str | None) -> None:
        if choice == "reset":
            self.action_reset()
        elif choice == "lower":
            self.action_lower_rate()

    # Actions

    def action_toggle_run(self) -> None:
        if self.running:
            self.stop_training()
            self._rest(PAUSED)
        else:
            self.start_training()

    def action_step_update(self) -> None:
        if self.run_ is None:
            return
        self.stop_training()
        if not self.stepper.mid_step and self._out_of_budget():
            return
        if self.run_.status is not None:
            self._say_ended()
            return
        if not self.stepper.mid_step:
            self.stepper.step()
        if self._quiz_now():
            return
        self.stepper.finish()
        self._stepped()

    def action_step_phase(self) -> None:
        if self.run_ is None:
            return
        self.stop_training()
        if not self.stepper.mid_step and self._out_of_budget():
            return
        if self.run_.status is not None and not self.stepper.mid_step:
            self._say_ended()
            return
        if self._quiz_now():
            return
        self.stepper.step()
        self._stepped()

    def _say_ended(self) -> None:
        self.notify(f"This run has ended ({self.run_.status}). Press r to reset, R for a new seed, "
                    "or - to halve the learning rate.")

    def _stepped(self) -> None:
        self.phase = self.stepper.phase
        self.rate = None
        self.pass_, self.rows = self.stepper.pass_, self.stepper.rows
        if self.phase == UPDATE:
            self._write_ledger(ledger_lines(self.run_, LEDGER_TOP))
            if self.history.epochs[-1] < self.run_.epoch:
                self.history.record()  # the step ended an epoch: exactly at its boundary
        self._show(take_snapshot(self.run_, self.stepper.pass_, self.stepper.phase, self.stepper.rows,
                                 counterfactuals=self._wants_counterfactuals()), now=True)

    # A lesson: what it locks, hides and allows

    @property
    def locks(self) -> tuple[str, ...]:
        lesson = self.scenario.lesson if self.scenario is not None else None
        return lesson.locked if lesson else ()

    def _locked(self, setting: str) -> bool:
        """Whether the lesson locks ``setting``; if so, say so."""
        if setting in self.locks:
            words = {"learning_rate": "the learning rate", "weights": "the weights", "seed": "the seed",
                     "scenario": "the scenario", "momentum": "the momentum"}[setting]
            self.notify(f"This lesson keeps {words} as the file sets it.", severity="warning")
            return True
        return False

    def _hidden(self, panel: str) -> bool:
        lesson = self.scenario.lesson if self.scenario is not None else None
        if lesson and panel in lesson.hide:
            self.notify(f"This lesson hides the {panel} panel.", severity="warning")
            return True
        return False

    def _budget_left(self) -> int | None:
        """Weight updates the lesson still allows (None: no budget)."""
        lesson = self.scenario.lesson if self.scenario is not None else None
        if lesson is None or lesson.steps is None or self.run_ is None:
            return None
        return max(0, lesson.steps - self.run_.updates)

    def _out_of_budget(self) -> bool:
        if self._budget_left() == 0:
            self.notify(f"The lesson's {self.scenario.lesson.steps} updates are used. r starts again with "
                        "the whole budget.", severity="warning")
            return True
        return False

    def _apply_lesson(self) -> None:
        """Show and hide panels as the lesson says, and tell its goal."""
        lesson = self.scenario.lesson
        hide = set(lesson.hide) if lesson else set()
        # A class, not an inline display: the layout's own rules must still apply when shown.
        self.query_one("#network").set_class("network" in hide, "-hidden")
        self.query_one("#loss").set_class("loss" in hide, "-hidden")
        switcher = self.query_one("#aside", ContentSwitcher)
        if switcher.current in hide:
            shown = next((p for p in ("blame", "story", "hidden", "updates", "map", "explain", "ledger")
                          if p not in hide), None)
            if shown is not None:
                self.action_panel(shown)
        if "loss" in hide:
            self.query_one("#side").add_class("-aside")
        if lesson and lesson.goal:
            self.notify(f"Lesson: {lesson.goal}", timeout=10)

    # Edit while paused

    def _can_edit(self) -> bool:
        if self.run_ is None:
            return False
        if self.running:
            self.stop_training()
            self._rest(PAUSED)
        if self.stepper.mid_step:
            self.notify("A step is under way: finish it first (n), then edit.", severity="warning")
            return False
        return True

    def action_edit_selected(self) -> None:
        selection = self.query_one(NetworkView).diagram.selection
        if self._locked("weights") or not self._can_edit() or selection is None:
            return
        net = self.run_.network
        if selection.kind == "weight":
            link = net.links[selection.link]
            j, i = selection.j, selection.i
            if not link.trainable:
                self.notify("This connection is frozen (trainable = false): it keeps its weights.")
            name = f"w({link.receiver.units[j]} ← {link.sender.units[i]})"
            where = (link.w, (j, i))
        else:
            layer = net.layer(selection.layer)
            if layer.b is None:
                self.notify("An input unit has no weight or bias to edit: move the cursor to a weight.")
                return
            name = f"bias of {layer.units[selection.j]}"
            where = (layer.b, (0, selection.j))
        array, index = where
        self.push_screen(EditScreen(f"edit {name}", f"A new value for {name}; training goes on from it.",
                                    [("value", name, float(array[index]), -MAX_WEIGHT_INIT, MAX_WEIGHT_INIT)]),
                         lambda values: self._edited(values, array, index, name))

    def _edited(self, values: dict | None, array, index, name: str) -> None:
        if values is None:
            return
        array[index] = values["value"]  # a view into the run's theta: the run itself changes
        self._rest(PAUSED)
        self.notify(f"{name} = {values['value']:g}. The error at these weights: {self.snapshot.pass_loss:.6g}.")

    def action_edit_settings(self) -> None:
        if not self._can_edit():
            return
        lr, momentum, _ = self.run_.settings(self.run_.epoch + 1)
        # A locked setting is shown with its one allowed value.
        fields = [("learning_rate", "learning rate", lr, 0.0, 1e6), ("momentum", "momentum", momentum, 0.0, 1.0)]
        fields = [(k, label + (" (locked by the lesson)" if k in self.locks else ""), v,
                   v if k in self.locks else low, v if k in self.locks else high) for k, label, v, low, high in fields]
        if all(k in self.locks for k, *_ in fields):
            self._locked("learning_rate")
            return
        self.push_screen(EditScreen(
            f"settings from epoch {self.run_.epoch + 1} on",
            "The learning rate and momentum of the epochs to come; the epochs already run keep theirs.",
            fields), self._settings_edited)

    def _settings_edited(self, values: dict | None) -> None:
        if values is None:
            return
        run = self.run_
        run.training = change_settings(run.training, run.epoch + 1, values["learning_rate"], values["momentum"])
        self.scenario = run.scenario = replace(run.scenario, training=run.training)
        self._rest(PAUSED)
        self.notify(f"From epoch {run.epoch + 1}: learning rate {values['learning_rate']:g}, "
                    f"momentum {values['momentum']:g}.")

    # Time travel and the ledger

    def action_travel(self, step: int) -> None:
        if self.run_ is None:
            return
        self.stop_training()
        run = self.run_
        if step < 0 and run.mid_epoch:  # first back to the start of the epoch under way
            cp = self.history.at_or_before(run.epoch)
        else:
            cp = self.history.back(run.epoch) if step < 0 else self.history.forward(run.epoch)
        if cp is None:
            self.notify("This is the first epoch kept." if step < 0 else
                        "This is the latest epoch run: n or space trains on from here.")
            if self.stepper.mid_step or step > 0:
                return
            cp = self.history.at_or_before(run.epoch)  # back to the start of this epoch
        self.history.restore(cp.epoch)
        self.stepper.reset()
        self._rest(PAUSED)
        if self.history.stride > 1:
            self.notify(f"Epoch {run.epoch}: in a run this long, every {self.history.stride}th epoch is kept.")

    def _write_ledger(self, lines: list[str]) -> None:
        self.ledger += lines
        del self.ledger[:-LEDGER_LINES]
        self._dirty = True

    def action_copy_ledger(self) -> None:
        self.copy_to_clipboard("\n".join(self.ledger))
        self.notify(f"Copied {len(self.ledger)} lines of the ledger.")

    def on_network_diagram_selected(self, message) -> None:
        self._complete_counterfactuals()  # the cursor line shows them on a unit
        if self.query_one("#aside", ContentSwitcher).current == "explain":
            self._dirty = True
            self._redraw()

    # Gradient check

    def action_check(self, whole: bool) -> None:
        if self.run_ is None:
            return
        if self.running:
            self.stop_training()
            self._rest(PAUSED)
        which, what = None, "every weight and bias"
        if not whole:
            selection = self.query_one(NetworkView).diagram.selection
            net = self.run_.network
            try:
                if selection is not None and selection.kind == "weight":
                    which = weight_index(net, selection.link, selection.j, selection.i)
                    link = net.links[selection.link]
                    what = f"w({link.receiver.units[selection.j]} ← {link.sender.units[selection.i]})"
                elif selection is not None:
                    which = bias_index(net, selection.layer, selection.j)
                    what = f"b({net.layer(selection.layer).units[selection.j]})"
                else:
                    raise ValueError
            except ValueError:
                self.notify("Put the cursor on a weight or on a unit with a bias (or press G for the whole "
                            "network).", severity="warning")
                return
        self.action_panel("check")
        # The weights are copied here, while paused: training may start before the worker does.
        self._check(self.run_, which, what, self.run_.epoch, self.run_.network.theta.copy())

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def _check(self, run: Run, which, what: str, epoch: int, theta: np.ndarray) -> None:
        """In a thread: the whole network of a big scenario takes a moment."""
        self.post_message(Checked(check_gradients(run, which, theta=theta), what, epoch))

    @while_running
    def on_checked(self, message: Checked) -> None:
        self.checker.result, self.checker.what, self.checker.epoch = message.result, message.what, message.epoch
        self._dirty = True
        self._redraw()

    # Predict, then reveal

    def action_quiz(self) -> None:
        self.quiz = not self.quiz
        self._dirty = True
        self.notify("Quiz on: step with n or . and, before each backward pass, guess which unit will "
                    "carry the largest share of blame." if self.quiz else
                    f"Quiz off. Your score: {self.score[0]} of {self.score[1]}.")

    def _quiz_now(self) -> bool:
        """In quiz mode, when the error is known and the blame not yet sent back, ask first
        (the step waits at its loss phase for the answer). True if a question was asked."""
        if not self.quiz:
            return False
        if self.stepper.phase == FORWARD:
            self.stepper.step()  # the loss: the error must be known before the question
        if not self.stepper.blame_next:
            return False
        self._stepped()
        units = [(f"{layer.name}/{k}", f"{unit} ({layer.name})" if unit != layer.name else unit)
                 for layer in self.snapshot.layers if not layer.is_input for k, unit in enumerate(layer.units)]
        patterns = self.snapshot.patterns
        which = f"pattern {patterns[0]}" if len(patterns) == 1 else f"all {len(patterns)} patterns"
        self.push_screen(QuizScreen(units, self.score, which), self._answered)
        return True

    def _answered(self, choice: str | None) -> None:
        if choice is None:  # skipped: the step waits at its loss phase
            return
        self.stepper.finish_backward()
        self._stepped()
        answer = most_blamed({layer.name: layer.share for layer in self.snapshot.layers
                              if layer.share is not None})
        if answer is None:
            self.action_panel("blame")
            self.notify("No unit carries any blame on this step (no share above 0: only credit, or no "
                        "error): this question does not count.")
            return
        layer, k = answer
        unit = self.snapshot.layer(layer).units[k]
        share = float(self.snapshot.layer(layer).share[k])
        right = choice == f"{layer}/{k}"
        self.score = (self.score[0] + right, self.score[1] + 1)
        self.action_panel("blame")
        self.notify(("Right! " if right else "Not this time. ") + f"{unit} carries the most blame: a first-order "
                    f"share of {percent(share)}. Score: {self.score[0]} of {self.score[1]}.",
                    severity="information" if right else "warning")

    def action_reset(self) -> None:
        if self.run_ is not None:
            self.stop_training()
            self.run_.reset()
            self.history.record()
            self.stepper.reset()
            self._rest(PAUSED)

    def action_new_seed(self) -> None:
        if self.run_ is not None and not self._locked("seed"):
            self.stop_training()
            self.run_.reset(random.randint(0, MAX_SEED))
            self.history.record()
            self.stepper.reset()
            self._rest(PAUSED)

    def action_open(self) -> None:
        if self._locked("scenario"):
            return
        self.stop_training()
        if self.run_ is not None:
            self._rest(PAUSED)
        self.push_screen(GalleryScreen(can_cancel=self.run_ is not None), self._opened)

    def action_save(self) -> None:
        if self.run_ is None:
            return
        self.stop_training()
        self._rest(PAUSED)
        if self.run_.status == DIVERGED:
            self.notify("Not saved: the run diverged, so its weights are not finite numbers.", severity="error")
            return
        source = self.scenario.path
        stem = source.stem if source is not None else "scenario"
        self.push_screen(SaveScreen(Path(f"{stem}-epoch{self.run_.epoch}.toml")), self._save)

    def _save(self, path: Path | None) -> None:
        if path is None:
            return
        try:
            write_atomic(path, scenario_toml(self.run_, path))
        except OSError as e:
            self.notify(f"Not saved: {path}: {e.strerror or e}", severity="error", timeout=10)
            return
        self.notify(f"Saved: {path}")

    def action_reload(self) -> None:
        if self.scenario is None or self.scenario.path is None or self._locked("scenario"):
            return
        try:
            scenario = load_scenario(self.scenario.path)
        except InputError as e:
            self.notify("Not reloaded; nothing changed.\n" + "\n".join(e.lines()[:5]),
                        severity="error", timeout=15)
            return
        self.load(scenario, self.run_.seed)
        self.notify(f"Reloaded {self.scenario.path}")

    def action_lower_rate(self) -> None:
        if self.run_ is not None and not self._locked("learning_rate"):
            self.load(scale_learning_rate(self.scenario, 0.5), self.run_.seed)
            self.notify(f"Learning rate halved to {self.scenario.training.learning_rate:g}; back to the start.")

    def _opened(self, scenario: Scenario | None) -> None:
        if scenario is not None:
            self.load(scenario)

    def action_help(self) -> None:
        keys = [(key, f"{title}: {text}") for key, title, text in self.ACTIONS.values()]
        keys += [("arrows", "Move the cursor over units and weights; the line below the network "
                            "gives the exact values"),
                 ("tab", "Move between the network and the side panel (the arrows then scroll it)"),
                 ("ctrl+p", "The command palette: every action, and the themes")]
        self.push_screen(HelpScreen(keys))

    def action_quit(self) -> None:
        self.stop_training()
        self.exit()

    def action_panel(self, name: str) -> None:
        if self._hidden(name):
            return
        side = self.query_one("#side")
        if name == "loss":
            side.remove_class("-aside")
            self._wants_counterfactuals()
            return
        switcher = self.query_one("#aside", ContentSwitcher)
        switcher.current = name
        switcher.border_title = {"hidden": "hidden units", "map": "decision map", "check": "gradient check", "ledger": "blame ledger", "sweep": f"sweep of {SWEEP_SEEDS} seeds"}.get(name, name)
        side.add_class("-aside")
        self._dirty = True
        self._complete_counterfactuals()
        self.call_after_refresh(self._redraw)  # once the panel has its size

    def action_sweep(self) -> None:
        if self.scenario is None or self._hidden("sweep"):
            return
        self.action_panel("sweep")
        first = self.scenario.training.seed
        self.query_one(SweepPanel).say(f"Sweeping seeds {first} to {first + SWEEP_SEEDS - 1}...")
        self._sweep(self.scenario, list(range(first, first + SWEEP_SEEDS)))

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


def run_app(scenario: Scenario | None = None, seed: int | None = None) -> int:
    try:
        columns, lines = os.get_terminal_size(sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        columns = lines = 1
    if not (columns and lines):
        # A terminal that reports no size (0 x 0) sends Textual into endless re-layouts;
        # COLUMNS and LINES, which it reads first, give it one to work with.
        os.environ.setdefault("COLUMNS", "80")
        os.environ.setdefault("LINES", "24")
    BptuiApp(scenario, seed).run()
    return 0

