"""The controller: what each of the app's keys does to a run, with no screen.

The app composes widgets, forwards keys here and draws the snapshot this leaves in
``snapshot``; everything between (the run and its stepper, time travel, the ledger, a
lesson's locks, budget and goal, the quiz, edits by hand, sweeps' seeds, and the loop a
training thread runs) lives here, so tests drive it directly, headless.

What the controller has to tell the user goes through ``say(text, severity)``: the app
shows it as a toast, a test collects it.

Threads: while ``running``, the training thread owns the run (``train``); the other
methods are for the app's thread and call ``stop()`` first, which waits for that thread
to let go of the run.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from bptui.core.blame import most_blamed, percent
from bptui.core.errors import PATH_EXCERPT, InputError, excerpt
from bptui.core.gradcheck import bias_index, weight_index
from bptui.core.health import run_warnings
from bptui.core.history import History
from bptui.core.ledger import ledger_lines
from bptui.core.network import Pass
from bptui.core.save import save_scenario
from bptui.core.scenario import (Scenario, change_settings, load_scenario,
                                 scale_learning_rate)
from bptui.core.snapshot import Snapshot, take_snapshot
from bptui.core.stepper import FORWARD, PAUSED, RUNNING, UPDATE, Stepper
from bptui.core.training import CONVERGED, DIVERGED, Run

HISTORY_BYTES = 64 * 2**20  # time travel's checkpoints take at most this, or two of them (history.py)
HISTORY = 5000  # the loss of at most about twice this many epochs is kept: memory stays flat
LEDGER_LINES = 2000  # the ledger keeps the newest lines
LEDGER_TOP = 3  # weights listed per update in the ledger, biggest changes first
SWEEP_SEEDS = 100  # seeds a sweep from the app trains
NEW_SEEDS = 100_000  # R draws a seed below this: short enough to read, and to type back
CHUNK_SECONDS = 0.03  # the training thread trains at least this long between two snapshots...
MAX_CHUNK_SECONDS = 0.25  # ...and longer, up to this, when a snapshot is dear (see train)
YIELD_EVERY = 0.005  # while training, the thread lets the others in at least this often...
YIELD_SECONDS = 0.0002  # ...by sleeping this long (see train)
# While training, the knock-outs and the responsibility go into the snapshots only when
# they cost at most this fraction of a chunk's time (small networks: under 1 ms); the
# others have them when paused or stepping.
COUNTERFACTUAL_SHARE = 0.05
DEAR_IN_A_ROW = 3  # ...measured over this many snapshots in a row
SETTING_WORDS = {"learning_rate": "the learning rate", "weights": "the weights", "seed": "the seed",
                 "scenario": "the scenario", "momentum": "the momentum"}

Say = Callable[..., None]


@dataclass(frozen=True)
class Editable:
    """A weight or bias the user may set by hand: ``array[index]`` is a view into the run."""

    name: str
    array: np.ndarray
    index: tuple[int, int]
    frozen: bool  # training keeps it; a hand may still set it

    @property
    def value(self) -> float:
        return float(self.array[self.index])


@dataclass(frozen=True)
class Question:
    """The quiz's question: which unit will carry the largest share of blame."""

    units: list[tuple[str, str]]  # (answer id, label)
    patterns: str  # which patterns the step is over, in words


def starting_weights_fixed(scenario: Scenario) -> bool:
    """Whether the file gives every starting weight and bias, so that no seed changes them."""
    return (all(c.weights is not None for c in scenario.connections)
            and all(layer.bias_values is not None for layer in scenario.layers
                    if layer.activation is not None and layer.bias))


@dataclass(frozen=True)
class Built:
    """A scenario's run, made ready to show: its checkpoints, stepper, and a first snapshot."""

    scenario: Scenario
    run: Run
    history: History
    stepper: Stepper
    pass_: Pass
    snapshot: Snapshot


def build(scenario: Scenario, seed: int | None, counterfactuals: bool) -> Built:
    """The run of a scenario, at rest at its starting weights. It touches nothing shared,
    so the app builds a network of millions of weights in a thread (a second or more)."""
    run = Run(scenario, seed=seed, history=HISTORY)
    run.keep_last_change = True  # for the ledger and for explaining the last change
    history = History(run, budget=HISTORY_BYTES)
    p = run.inspect()
    return Built(scenario, run, history, Stepper(run), p, take_snapshot(run, p, PAUSED, counterfactuals=counterfactuals))


def weights_of(scenario: Scenario) -> int:
    """The connections' weights, each shared matrix counted at every use."""
    return sum(scenario.layer(c.sender).size * scenario.layer(c.receiver).size for c in scenario.connections)


QUICK_WEIGHTS = 250_000  # a network with more weights takes 50 ms or more to build (allocating, copying)
QUICK_WORK = 20_000_000  # ...or with more multiply-adds in a pass over its data


def builds_quickly(scenario: Scenario) -> bool:
    """Whether the run of ``scenario`` is built in well under a tenth of a second."""
    weights = weights_of(scenario)
    return weights <= QUICK_WEIGHTS and weights * len(scenario.data.names) <= QUICK_WORK


class Controller:
    def __init__(self, say: Say | None = None) -> None:
        self.say: Say = say or (lambda text, severity="information", **_: None)
        self.scenario: Scenario | None = None
        self.run: Run | None = None
        self.stepper: Stepper | None = None
        self.history: History | None = None
        self.snapshot: Snapshot | None = None
        self.version = 0  # counts snapshots: a view redraws when it changes
        self.phase = PAUSED
        self.rate: float | None = None  # epochs a second while training
        self.pass_ = None  # the pass shown, and the training rows it ran over: what `e` explains
        self.rows = slice(None)
        self.ledger: list[str] = []  # every update's lines (ledger_lines), newest last
        self.quiz = False
        self.score = (0, 0)  # quiz answers right, questions answered
        self.goal_met_at: int | None = None  # the update at which the lesson's goal was met
        self.warnings: list[dict] = []  # runaway weights, saturated units (health.py), once looked for
        self.wants_counterfactuals = False  # a view on screen shows them (set by the app)
        self.counterfactuals_dear = False  # too dear to compute while this network trains
        self.running = False
        self.generation = 0  # counts training threads, so a late report of an old one is ignored
        self._halt = threading.Event()
        self._idle = threading.Event()
        self._idle.set()

    # The scenario and the run

    def load(self, scenario: Scenario, seed: int | None = None) -> None:
        self.stop()
        self.adopt(build(scenario, seed, self.wants_counterfactuals))

    def adopt(self, built: Built) -> None:
        """Take a run that ``build`` made (in another thread, for a big network) as the one shown."""
        self.stop()
        self.scenario, self.run, self.history, self.stepper = built.scenario, built.run, built.history, built.stepper
        self.counterfactuals_dear = False  # measured again for this network when it trains
        self.ledger = []
        self.goal_met_at = None
        self.warnings = []
        self.phase, self.rate = PAUSED, None
        self.pass_, self.rows = built.pass_, slice(None)
        self._show(built.snapshot)

    def rest(self, phase: str = PAUSED) -> None:
        """Show the run at rest: a full pass at the current weights (or the step under way)."""
        if self.stepper.mid_step:  # a pass now would overwrite the step's gradient
            self._stepped()
            return
        self.phase = phase
        self.rate = None
        self.pass_, self.rows = self.run.inspect(), slice(None)
        self._show(take_snapshot(self.run, self.pass_, phase, counterfactuals=self.wants_counterfactuals))

    def _show(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.version += 1

    def complete_counterfactuals(self) -> None:
        """Paused or stepping: when a view that shows the knock-outs comes on screen and the
        snapshot has none, take it again with them (the same pass, the same patterns)."""
        s = self.snapshot
        if (self.wants_counterfactuals and not self.running and self.pass_ is not None and s is not None
                and not s.counterfactuals):
            self._show(take_snapshot(self.run, self.pass_, self.phase, self.rows, counterfactuals=True))

    # Stepping

    def _may_step(self) -> bool:
        """Whether a key may step the run: not past a lesson's budget, nor an ended run
        (a step under way may always go on)."""
        if self.run is None:
            return False
        self.stop()
        if self.stepper.mid_step:
            return True
        if self.out_of_budget():
            return False
        if self.run.status is not None:
            self.say_ended()
            return False
        return True

    def step_update(self) -> Question | None:
        """One whole weight change; in quiz mode a question first (the step waits for it)."""
        if not self._may_step():
            return None
        if not self.stepper.mid_step:
            self.stepper.step()
        question = self._quiz_now()
        if question is None:
            self.stepper.finish()
            self._stepped()
        return question

    def step_phase(self) -> Question | None:
        """One phase of a weight change; in quiz mode a question before the blame goes back."""
        if not self._may_step():
            return None
        question = self._quiz_now()
        if question is None:
            self.stepper.step()
            self._stepped()
        return question

    def say_ended(self) -> None:
        self.say(f"This run has ended ({self.run.status}). Press r to reset, R for a new seed, "
                 "or - to halve the learning rate.")

    def _stepped(self) -> None:
        self.phase = self.stepper.phase
        self.rate = None
        self.pass_, self.rows = self.stepper.pass_, self.stepper.rows
        if self.phase == UPDATE:
            self.write_ledger(ledger_lines(self.run, LEDGER_TOP))
            if self.history.epochs[-1] < self.run.epoch:
                self.history.record()  # the step ended an epoch: exactly at its boundary
            self._check_goal()
            if self.run.status is not None:
                self.check_health()
        self._show(take_snapshot(self.run, self.stepper.pass_, self.stepper.phase, self.stepper.rows,
                                 counterfactuals=self.wants_counterfactuals))

    def write_ledger(self, lines: list[str]) -> None:
        self.ledger += lines
        del self.ledger[:-LEDGER_LINES]

    # Training, in a thread the app starts

    def start(self) -> tuple[int, int | None] | None:
        """Ready the run to train: (generation, budget: train until this many updates, or
        None); None when it cannot (ended, or out of the lesson's budget)."""
        run = self.run
        if run is None or self.running:
            return None
        self.stepper.finish()
        self.stepper.reset()
        if run.status is not None:
            self.rest()
            self.say_ended()
            return None
        if self.out_of_budget():
            self.rest()
            return None
        left = self.budget_left()
        self.running = True
        self.phase = RUNNING
        self._halt.clear()
        self._idle.clear()
        self.generation += 1
        return self.generation, None if left is None else run.updates + left

    def stop(self) -> bool:
        """Stop the training thread and wait for it to let go of the run (one chunk at most).
        True if it was running."""
        if not self.running:
            return False
        self._halt.set()
        self.running = False
        if not self._idle.wait(2.0):
            # One batch epoch of a huge network can take longer: leave that thread the old
            # run and go on with a fresh one, rather than share a run between two threads.
            self.load(self.scenario, self.run.seed)
            self.say("Training was in the middle of a long epoch: back to the starting weights.")
        return True

    def halt(self) -> None:
        """Ask the training thread to stop, without waiting (the app is quitting)."""
        self._halt.set()

    def train(self, generation: int, budget: int | None,
              report: Callable[[int, Snapshot, float, list[str]], None]) -> None:
        """The training thread: train until halted or ended, or (a lesson's budget) until
        ``budget`` updates, calling ``report(generation, snapshot, rate, ledger)`` after
        each chunk."""
        run = self.run

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
                    if self._halt.is_set():
                        # Stopped by a key: the app takes its own snapshot at rest. One here
                        # would keep the key waiting: a second for a network of millions.
                        report(generation, None, 0.0, ledger)
                        break
                    # Counterfactuals once a plain snapshot's time is known, to tell their cost;
                    # then on as long as they cost at most COUNTERFACTUAL_SHARE of the chunk.
                    counterfactuals = self.wants_counterfactuals and not self.counterfactuals_dear and plain is not None
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
                    report(generation, snapshot, rate, ledger)
        finally:
            self._idle.set()

    def progressed(self, generation: int, snapshot: Snapshot | None, rate: float, ledger: list[str]) -> None:
        """A chunk's report, in the app's thread (no snapshot: the last, of a run stopped by a key)."""
        if generation != self.generation:
            return
        if ledger:
            self.write_ledger(ledger)
        if self.running and snapshot is not None:
            self.rate = rate
            self._show(snapshot)

    def stopped(self, generation: int) -> bool:
        """The training thread has let go of the run; True when it stopped by itself
        (converged, out of epochs, diverged or out of budget), not by a key."""
        if self.run is None or generation != self.generation or not self.running:
            return False
        self.running = False
        self.rest()
        if self.run.status is None:
            self.out_of_budget()
        self._check_goal()
        self.check_health()
        return True

    def pause(self) -> None:
        """Stop training by a key, and show the run at rest."""
        if self.stop():
            self.rest()
            self.check_health()

    def check_health(self) -> None:
        """Look for weights that ran away and units stuck saturated (at rest, after training,
        or after a step that ended the run); say each new one once."""
        if self.stepper.mid_step:
            return
        known = {w["code"] for w in self.warnings}
        # The pass at rest is a forward pass at the current weights: health.py needs no other.
        self.warnings = run_warnings(self.run, self.pass_ if self.phase == PAUSED else None)
        for warning in self.warnings:
            if warning["code"] not in known:
                self.say(f"{warning['text']} {warning['advice']}", "warning", timeout=15)
        self.version += 1

    def warning_status(self) -> str:
        """For the status line: the warnings' codes, in words."""
        return " ".join("⚠ " + w["code"].replace("_", " ") for w in self.warnings)

    @property
    def diverged(self) -> bool:
        return self.run is not None and self.run.status == DIVERGED

    # A lesson: what it locks, hides and allows, and whether its goal is met

    @property
    def lesson(self):
        return self.scenario.lesson if self.scenario is not None else None

    def locked(self, setting: str) -> bool:
        """Whether the lesson locks ``setting``; if so, say so."""
        if self.lesson and setting in self.lesson.locked:
            self.say(f"This lesson keeps {SETTING_WORDS[setting]} as the file sets it.", "warning")
            return True
        return False

    def hidden(self, panel: str) -> bool:
        """Whether the lesson hides ``panel``; if so, say so."""
        if self.lesson and panel in self.lesson.hide:
            self.say(f"This lesson hides the {panel} panel.", "warning")
            return True
        return False

    def budget_left(self) -> int | None:
        """Weight updates the lesson still allows (None: no budget)."""
        if self.lesson is None or self.lesson.steps is None or self.run is None:
            return None
        return max(0, self.lesson.steps - self.run.updates)

    def out_of_budget(self) -> bool:
        if self.budget_left() == 0 and self.goal_met_at is None:
            self.say(f"The lesson's {self.lesson.steps} updates are used. r starts again with "
                     "the whole budget.", "warning")
            return True
        return self.budget_left() == 0

    def _check_goal(self) -> None:
        """A lesson's goal is met when the run learns (reaches its error criterion) within
        the lesson's budget: the only goal the engine can tell."""
        if self.lesson is None or self.goal_met_at is not None or self.run.status != CONVERGED:
            return
        self.goal_met_at = self.run.updates
        self.say(f"Goal met in {self.run.updates:,} updates: {self.lesson.goal or 'the run learned'}. "
                 "r tries again.", timeout=15)

    def lesson_status(self) -> str:
        """For the status line: the goal met, or the updates left."""
        if self.goal_met_at is not None:
            return f"goal met ✓ ({self.goal_met_at:,} updates)"
        left = self.budget_left()
        return "" if left is None else f"{left:,} updates left"

    # Edits by hand, while paused

    def can_edit(self) -> bool:
        if self.run is None:
            return False
        if self.stop():
            self.rest()
        if self.stepper.mid_step:
            self.say("A step is under way: finish it first (n), then edit.", "warning")
            return False
        return True

    def editable(self, kind: str, layer: str, j: int, link: int | None = None, i: int | None = None):
        """The weight w_ji of ``link`` (kind "weight") or the bias of unit j of ``layer``
        (kind "unit"), if the user may set it; else None, with the reason said."""
        if self.locked("weights") or not self.can_edit():
            return None
        net = self.run.network
        if kind == "weight":
            w = net.links[link]
            return Editable(f"w({w.receiver.units[j]} ← {w.sender.units[i]})", w.w, (j, i), not w.trainable)
        unit = net.layer(layer)
        declared = self.scenario.layer(layer)
        if declared.activation is None:
            self.say(f"{declared.units[j]} is an input unit: it has no bias, and its value comes from "
                     "each pattern. Move the cursor to a weight or another unit to edit it.")
            return None
        if unit.b is None:
            self.say(f"{declared.units[j]} ({layer}) has no bias: the file says bias = false. Give the layer "
                     "a bias (bias = [0.0]) in the file to set one here; its incoming weights can be edited.")
            return None
        return Editable(f"bias of {declared.units[j]}", unit.b, (0, j),
                        not declared.bias_trainable)

    def set_value(self, target: Editable, value: float) -> None:
        target.array[target.index] = value  # a view into the run's theta: the run itself changes
        self.rest()
        self.say(f"{target.name} = {value:g}. The error at these weights: {self.snapshot.pass_loss:.6g}.")

    def settings_fields(self) -> list[tuple[str, str, float, float, float]] | None:
        """The edit dialog's fields for the learning rate and momentum of the epochs to come
        (a locked one with its one allowed value); None when both are locked."""
        if not self.can_edit():
            return None
        locks = self.lesson.locked if self.lesson else ()
        lr, momentum, _ = self.run.settings(self.run.epoch + 1)
        fields = [("learning_rate", "learning rate", lr, 0.0, 1e6), ("momentum", "momentum", momentum, 0.0, 1.0)]
        if all(k in locks for k, *_ in fields):
            self.locked("learning_rate")
            return None
        return [(k, label + (" (locked by the lesson)" if k in locks else ""), v,
                 v if k in locks else low, v if k in locks else high) for k, label, v, low, high in fields]

    def set_settings(self, learning_rate: float, momentum: float) -> None:
        run = self.run
        run.training = change_settings(run.training, run.epoch + 1, learning_rate, momentum)
        self.scenario = run.scenario = replace(run.scenario, training=run.training)
        self.rest()
        self.say(f"From epoch {run.epoch + 1}: learning rate {learning_rate:g}, momentum {momentum:g}.")

    # Time travel

    def travel(self, step: int) -> None:
        if self.run is None:
            return
        self.stop()
        run = self.run
        if step < 0 and run.mid_epoch:  # first back to the start of the epoch under way
            cp = self.history.at_or_before(run.epoch)
        else:
            cp = self.history.back(run.epoch) if step < 0 else self.history.forward(run.epoch)
        if cp is None:
            self.say("This is the first epoch kept." if step < 0 else
                     "This is the latest epoch run: n or space trains on from here.")
            if self.stepper.mid_step or step > 0:
                return
            cp = self.history.at_or_before(run.epoch)  # back to the start of this epoch
        self.history.restore(cp.epoch)
        self.stepper.reset()
        self.warnings = []  # of weights no longer shown
        self.rest()
        if self.history.stride > 1:
            self.say(f"Epoch {run.epoch}: in a run this long, every {self.history.stride}th epoch is kept.")

    # Starting again

    def reset(self, seed: int | None = None) -> None:
        if self.run is None:
            return
        self.stop()
        self.run.reset(seed)
        self.history.record()
        self.stepper.reset()
        self.goal_met_at = None
        self.warnings = []
        self.rest()

    def new_seed(self) -> None:
        if self.run is not None and not self.locked("seed"):
            self.reset(random.randrange(NEW_SEEDS))

    def lower_rate(self) -> None:
        if self.run is not None and not self.locked("learning_rate"):
            self.load(scale_learning_rate(self.scenario, 0.5), self.run.seed)
            self.say(f"Learning rate halved to {self.scenario.training.learning_rate:g}; back to the start.")

    def reload(self) -> None:
        if self.scenario is None or self.scenario.path is None or self.locked("scenario"):
            return
        try:
            scenario = load_scenario(self.scenario.path)
        except InputError as e:
            self.say("Not reloaded; nothing changed.\n" + "\n".join(e.lines()[:5]), "error", timeout=15)
            return
        self.load(scenario, self.run.seed)
        self.say(f"Reloaded {self.scenario.path}")

    # Save

    def save_suggestion(self) -> Path | None:
        """A file name to offer, or None (with the reason said) when there is nothing to save."""
        if self.run is None:
            return None
        if self.stop() or self.stepper.mid_step:
            self.stepper.finish()
            self.stepper.reset()
            self.rest()
        if self.run.status == DIVERGED:
            self.say("Not saved: the run diverged, so its weights are not finite numbers.", "error")
            return None
        source = self.scenario.path
        stem = source.stem if source is not None else "scenario"
        return Path(f"{stem}-epoch{self.run.epoch}.toml")

    def save(self, path: Path) -> None:
        shown = excerpt(str(path), PATH_EXCERPT)  # typed by the user: may hold anything
        try:
            save_scenario(self.run, path)
        except OSError as e:
            self.say(f"Not saved: {shown}: {e.strerror or e}", "error", timeout=10)
            return
        self.say(f"Saved: {shown}")

    # The gradient check

    def check_target(self, kind: str | None, layer: str = "", j: int = 0, link: int | None = None,
                     i: int | None = None) -> tuple[int | None, str] | None:
        """Which parameter to check (its index in theta, or None: every one) and its name;
        None, with the reason said, when the cursor is on nothing to check."""
        if self.stop():
            self.rest()
        if kind is None:
            return None, "every weight and bias"
        net = self.run.network
        try:
            if kind == "weight":
                w = net.links[link]
                return weight_index(net, link, j, i), f"w({w.receiver.units[j]} ← {w.sender.units[i]})"
            return bias_index(net, layer, j), f"b({net.layer(layer).units[j]})"
        except ValueError as e:
            self.say(f"Nothing to check here: {e}. Put the cursor on a weight or on a unit with a bias "
                     "that trains (or press G for the whole network).", "warning")
            return None

    # The quiz: predict, then reveal

    def toggle_quiz(self) -> None:
        self.quiz = not self.quiz
        self.version += 1  # the status line shows the score
        self.say("Quiz on: step with n or . and, before each backward pass, guess which unit will "
                 "carry the largest share of blame." if self.quiz else
                 f"Quiz off. Your score: {self.score[0]} of {self.score[1]}.")

    def _quiz_now(self) -> Question | None:
        """In quiz mode, when the error is known and the blame not yet sent back, the
        question to ask first (the step waits at its loss phase for the answer)."""
        if not self.quiz:
            return None
        if self.stepper.phase == FORWARD:
            self.stepper.step()  # the loss: the error must be known before the question
        if not self.stepper.blame_next:
            return None
        self._stepped()
        units = [(f"{layer.name}/{k}", f"{unit} ({layer.name})" if unit != layer.name else unit)
                 for layer in self.snapshot.layers if not layer.is_input for k, unit in enumerate(layer.units)]
        patterns = self.snapshot.patterns
        return Question(units, f"pattern {patterns[0]}" if len(patterns) == 1 else f"all {len(patterns)} patterns")

    def answer(self, choice: str | None) -> bool:
        """The quiz's answer (None: skipped, the step waits at its loss phase). True when it
        was answered (the app then shows the blame)."""
        if choice is None:
            return False
        self.stepper.finish_backward()
        self._stepped()
        answer = most_blamed({layer.name: layer.share for layer in self.snapshot.layers
                              if layer.share is not None})
        if answer is None:
            self.say("No unit carries any blame on this step (no share above 0: only credit, or no "
                     "error): this question does not count.")
            return True
        layer, k = answer
        unit = self.snapshot.layer(layer).units[k]
        share = float(self.snapshot.layer(layer).share[k])
        right = choice == f"{layer}/{k}"
        self.score = (self.score[0] + right, self.score[1] + 1)
        self.version += 1
        self.say(("Right! " if right else "Not this time. ") + f"{unit} carries the most blame: a first-order "
                 f"share of {percent(share)}. Score: {self.score[0]} of {self.score[1]}.",
                 "information" if right else "warning")
        return True

    # Sweeps

    def sweep_seeds(self) -> list[int] | None:
        """The seeds a sweep trains, or None (with the reason said) when every seed would
        give the same run."""
        scenario = self.scenario
        first = scenario.training.seed
        if starting_weights_fixed(scenario):
            shuffled = scenario.training.update == "online" and scenario.training.order == "shuffled"
            if not shuffled:
                self.say("The file gives every starting weight and the patterns come in a fixed order, "
                         f"so all {SWEEP_SEEDS} seeds would train the same run: no sweep.", "warning")
                return None
            self.say("The file gives every starting weight: the seeds change only the order of the "
                     "patterns in each epoch.")
        return list(range(first, first + SWEEP_SEEDS))
