"""The bptui terminal app: watch a network learn, one phase or a thousand epochs at a time.

Training runs in a thread worker that owns the run while it trains and posts frozen
snapshots; a newer snapshot replaces an older one still waiting in the queue, and the
screen redraws from the latest on a timer, at most a few times a second, so a slow
terminal link is never flooded. A paused app redraws nothing and sends nothing.
"""

from __future__ import annotations

import os
import random
import select
import sys
import threading
import time
from pathlib import Path

import numpy as np
from textual import work
from textual.worker import get_current_worker
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, Footer, Markdown, Static

from bptui.app.screens.dialogs import DivergedScreen, SaveScreen
from bptui.app.screens.gallery import GalleryScreen
from bptui.app.screens.help import HelpScreen
from bptui.app.widgets.blame import blame_text
from bptui.app.widgets.hidden import hidden_text
from bptui.app.widgets.loss import LossPlot
from bptui.app.widgets.network import NetworkView
from bptui.app.widgets.status import StatusLine
from bptui.app.widgets.sweep import SweepPanel
from bptui.app.widgets.textview import TextPanel
from bptui.app.widgets.updates import updates_text
from bptui.core.errors import InputError
from bptui.core.save import scenario_toml, write_atomic
from bptui.core.scenario import MAX_SEED, Scenario, load_scenario, scale_learning_rate
from bptui.core.snapshot import Snapshot, take_snapshot
from bptui.core.stepper import PAUSED, RUNNING, Stepper
from bptui.core.sweep import Sweep, SweepResult
from bptui.core.training import DIVERGED, Run

CHUNK_SECONDS = 0.03  # the worker trains this long between two snapshots
TEXT_HZ = 5  # the most redraws a second of the text panels
PLOT_HZ = 2  # ...and of the loss plot, which costs most bytes
SWEEP_SEEDS = 100  # seeds a sweep from the app trains
HISTORY = 5000  # the loss of at most about twice this many epochs is kept: memory stays flat


class Progress(Message):
    """A snapshot from the training thread; a newer one replaces one not yet handled."""

    def __init__(self, generation: int, snapshot: Snapshot, rate: float) -> None:
        super().__init__()
        self.generation = generation
        self.snapshot = snapshot
        self.rate = rate

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress)


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
        Binding("L", "log_scale", "Log scale", id="log-scale", show=False),
        Binding("S", "sweep", "Sweep", id="sweep", show=False),
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
        "panel('blame')": ("b", "Show the blame", "Each unit's blame signal and share of the blame"),
        "panel('updates')": ("u", "Show the updates", "The last change of every weight, biggest movers first"),
        "panel('hidden')": ("h", "Show the hidden units", "Each hidden unit's activation for every pattern"),
        "panel('story')": ("s", "Show the story", "The scenario's story: what to watch, what to try"),
        "log_scale": ("L", "Log / linear loss scale", "Switch the loss plot between linear and log scale"),
        "sweep": ("S", f"Sweep {SWEEP_SEEDS} seeds", "Train many seeds at once: how often and how fast this learns"),
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
        self.stepper = Stepper(self.run_)
        self.pattern = 0
        self.title = f"bptui · {scenario.title}"
        self.query_one("#story-text", Markdown).update(scenario.story or "*This scenario has no story.*")
        self.query_one(NetworkView).diagram.focus()
        self._rest(PAUSED)

    def _rest(self, phase: str) -> None:
        """Show the run at rest: a full pass at the current weights."""
        if self.stepper.mid_step:  # show the step under way; a pass now would overwrite its gradient
            self._stepped()
            return
        self.phase = phase
        self.rate = None
        self._show(take_snapshot(self.run_, self.run_.inspect(), phase), now=True)

    def _show(self, snapshot: Snapshot, now: bool = False) -> None:
        self.snapshot = snapshot
        self._dirty = True
        if now:
            self._redraw(force_plot=True)

    def _redraw(self, force_plot: bool = False) -> None:
        if not self._dirty or self.snapshot is None:
            return
        self._dirty = False
        s = self.snapshot
        self.pattern = min(self.pattern, len(s.patterns) - 1)
        with self.batch_update():
            self.query_one(StatusLine).show(s, self.phase, self.rate)
            self.query_one(NetworkView).show(s, self.pattern)
            aside = self.query_one("#aside", ContentSwitcher).current
            if aside not in ("story", "sweep"):  # only the panel on screen is drawn
                self.query_one(f"#{aside}", TextPanel).show(s)
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
        self.running = True
        self.phase = RUNNING
        self._halt.clear()
        self._idle.clear()
        self._generation += 1
        self._train(run, self._generation)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, run: Run, generation: int) -> None:
        try:
            with np.errstate(all="ignore"):
                while not self._halt.is_set() and run.status is None:
                    start = time.perf_counter()
                    epoch = run.epoch
                    while run.status is None and not self._halt.is_set():
                        run.train_epoch(stop=self._halt.is_set)
                        if time.perf_counter() - start > CHUNK_SECONDS:
                            break
                    rate = (run.epoch - epoch) / max(time.perf_counter() - start, 1e-9)
                    self.post_message(Progress(generation, take_snapshot(run, run.inspect(), RUNNING), rate))
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

    def on_progress(self, message: Progress) -> None:
        if self.running and message.generation == self._generation:
            self.rate = message.rate
            self._show(message.snapshot)

    def on_stopped(self, message: Stopped) -> None:
        if self.run_ is None or message.generation != self._generation:
            return
        was_running = self.running
        self.running = False
        if was_running:  # it ended by itself: converged, out of epochs or diverged
            self._rest(PAUSED)
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
        if self.run_.status is not None:
            self._say_ended()
            return
        if not self.stepper.mid_step:
            self.stepper.step()
        self.stepper.finish()
        self._stepped()

    def action_step_phase(self) -> None:
        if self.run_ is None:
            return
        self.stop_training()
        if self.run_.status is not None and not self.stepper.mid_step:
            self._say_ended()
            return
        self.stepper.step()
        self._stepped()

    def _say_ended(self) -> None:
        self.notify(f"This run has ended ({self.run_.status}). Press r to reset, R for a new seed, "
                    "or - to halve the learning rate.")

    def _stepped(self) -> None:
        self.phase = self.stepper.phase
        self.rate = None
        self._show(take_snapshot(self.run_, self.stepper.pass_, self.stepper.phase, self.stepper.rows), now=True)

    def action_reset(self) -> None:
        if self.run_ is not None:
            self.stop_training()
            self.run_.reset()
            self.stepper.reset()
            self._rest(PAUSED)

    def action_new_seed(self) -> None:
        if self.run_ is not None:
            self.stop_training()
            self.run_.reset(random.randint(0, MAX_SEED))
            self.stepper.reset()
            self._rest(PAUSED)

    def action_open(self) -> None:
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
        if self.scenario is None or self.scenario.path is None:
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
        if self.run_ is not None:
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
        side = self.query_one("#side")
        if name == "loss":
            side.remove_class("-aside")
            return
        switcher = self.query_one("#aside", ContentSwitcher)
        switcher.current = name
        switcher.border_title = {"hidden": "hidden units", "sweep": f"sweep of {SWEEP_SEEDS} seeds"}.get(name, name)
        side.add_class("-aside")
        self._dirty = True
        self.call_after_refresh(self._redraw)  # once the panel has its size

    def action_sweep(self) -> None:
        if self.scenario is None:
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

    def on_sweep_progress(self, message: SweepProgress) -> None:
        self.query_one(SweepPanel).say(message.text)

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

