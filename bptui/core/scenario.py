"""Scenario files: format 1, as ``../docs/scenario-format.md`` describes them.

``load_scenario`` reads a TOML file, checks every key and every number, and returns a
``Scenario``: plain, validated data that the engine compiles. Nothing in a scenario is
ever executed. Limits are checked before anything large is built, so a hostile file
fails fast with a clear message instead of exhausting memory.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
import re
import stat
import tomllib
from array import array
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from bptui.core.errors import NUL_IN_PATH, PATH_EXCERPT, InputError, Problem, excerpt
from bptui.core.tomlkeys import key_lines, line_of

FORMAT = 1
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSSES = ("sse", "cross_entropy")
UPDATES = ("batch", "online")
ORDERS = ("sequential", "shuffled")

# Limits that keep a hostile file from exhausting memory or time.
MAX_FILE_BYTES = 16 * 2**20
MAX_DATA_FILE_BYTES = 256 * 2**20
MAX_LAYERS = 1_000
MAX_UNITS = 100_000  # in one layer
MAX_TOTAL_UNITS = 1_000_000  # in all layers together: every unit gets a name, in memory
MAX_WEIGHTS = 10_000_000
MAX_PATTERNS = 1_000_000
MAX_VALUES = 20_000_000  # patterns x units of all layers: what one pass holds
# The names bptui gives the units of a layer given by `size` ("hidden[0]", ...) repeat the
# layer's name once per unit: a long name and many units would fill the memory.
MAX_UNIT_NAME_CHARS = 64_000_000
MAX_EPOCHS = 1_000_000_000
MAX_SEED = 2**63 - 1
MAX_WEIGHT_INIT = 1e6  # far beyond any use; much larger overflows the draw of uniform(-r, r)
MAX_STEPS = 100  # of a recurrent network: each step is a copy of every layer, and the copies are drawn
MAX_PROBLEMS = 100  # listed for one file


@dataclass(frozen=True)
class Layer:
    name: str
    units: tuple[str, ...]
    activation: str | None  # None for input layers
    bias: bool
    bias_values: tuple[float, ...] | None = None  # starting biases, when the file gives them
    # How to draw the layer's units, rows x columns in order (e.g. the pixels of an image).
    grid: tuple[int, int] | None = None
    # Named properties of each unit (e.g. a person's generation), so the app can say which
    # property a hidden unit's incoming weights follow: what the unit came to mean.
    features: tuple[tuple[str, tuple[float, ...]], ...] = ()
    # False: the bias keeps its value through training, like a frozen connection's
    # weights, though a person may still set it by hand (a story's "what if").
    bias_trainable: bool = True
    # An output layer's words for an output above / below its target, in the story's
    # terms ("too salty", "too bland"); None: the app says it plainly.
    too_high: str | None = None
    too_low: str | None = None
    # The name of the bias vector this layer shares with others of the same name: one
    # vector, one set of parameters (None: its own).
    bias_share: str | None = None

    @property
    def size(self) -> int:
        return len(self.units)


@dataclass(frozen=True)
class Connection:
    sender: str
    receiver: str
    weights: np.ndarray | None  # receiving x sending starting weights (w_ji)
    trainable: bool = True
    # The name of the weight matrix this connection shares with others of the same name:
    # one matrix, whose gradient is the sum over its uses (None: its own).
    share: str | None = None


@dataclass(frozen=True)
class Data:
    names: tuple[str, ...]
    inputs: np.ndarray  # patterns x input units, all input layers side by side
    targets: np.ndarray  # patterns x output units; nan = don't care
    test: np.ndarray  # bool per pattern: held out, never trained on
    file: str | None = None  # the CSV the data came from, as written in the scenario
    test_file: str | None = None  # the CSV of further, held-out patterns (the last rows)
    test_file_rows: int = 0

    @property
    def train_names(self) -> tuple[str, ...]:
        """The names of the patterns trained on (all but the held-out ones), in order."""
        return tuple(name for name, held in zip(self.names, self.test) if not held)


@dataclass(frozen=True)
class Stage:
    """One entry of ``[[training.schedule]]``: settings in force from an epoch on."""

    from_epoch: int
    learning_rate: float | None = None
    momentum: float | None = None
    weight_decay: float | None = None


@dataclass(frozen=True)
class Training:
    loss: str = "sse"
    learning_rate: float = 0.5
    momentum: float = 0.9
    weight_decay: float = 0.0
    update: str = "batch"
    order: str = "sequential"
    margin: float = 0.0
    epochs: int = 5000
    error_criterion: float = 0.04
    weight_init: float = 0.5
    seed: int = 1
    schedule: tuple[Stage, ...] = ()


# What a lesson may lock, and the app's panels it may hide.
LOCKABLE = ("learning_rate", "momentum", "weights", "seed", "scenario")
PANELS = ("story", "network", "loss", "blame", "updates", "hidden", "map", "explain", "ledger", "check", "sweep")


@dataclass(frozen=True)
class Lesson:
    """``[lesson]``: a teacher's focused exercise. The app enforces it; the engine and
    the command line ignore it, so a lesson never changes what a run computes."""

    goal: str = ""  # shown to the student; "" for none
    locked: tuple[str, ...] = ()  # settings the student cannot change (LOCKABLE)
    hide: tuple[str, ...] = ()  # panels the student does not see (PANELS)
    steps: int | None = None  # weight updates the student may make; None: no budget


@dataclass(frozen=True)
class Reference:
    """``[reference]``: what "correct" is for some of the parameters (a fault-free
    factory, a good tutor), so that each unit's exact responsibility for E - E_ref can
    be computed (``bptui/core/responsibility.py``). Parameters not named keep their
    current values on both sides of the comparison."""

    biases: tuple[tuple[str, np.ndarray], ...] = ()  # (layer, one value per unit)
    weights: tuple[tuple[str, str, np.ndarray], ...] = ()  # (from, to, receiving x sending)


@dataclass(frozen=True)
class Time:
    """``[time]``: a recurrent network run for ``steps`` steps, as the file declares it.

    The Scenario's layers and connections are its unrolling (Rumelhart, Hinton & Williams
    1986, Fig. 5): one layer per declared layer and step, named ``f"{name}@{step}"``, whose
    copies of one connection share one matrix and copies of one layer one bias, so the
    engine runs it as any layered network. What is kept here is what the unrolling loses:
    the declaration, for saving a run in its recurrent form, and where each copy comes from,
    for showing the steps side by side.
    """

    steps: int
    layers: tuple[Layer, ...]  # as declared
    connections: tuple[Connection, ...]  # as declared; ``share`` only where the file gives one
    delays: tuple[int, ...]  # per declared connection: 0 (within a step) or 1 (into the next)
    at: tuple[tuple[int, ...] | None, ...]  # per declared layer: its ``at``, sorted; None where not written
    # per declared layer: "data", the constant starting state, or None where not written
    # (a layer that sends a delay-1 connection then starts from zeros)
    start: tuple[str | tuple[float, ...] | None, ...]
    copies: tuple[tuple[str, int], ...]  # per unrolled layer (Scenario.layers): (declared name, step)
    links: tuple[tuple[int, int], ...]  # per unrolled connection: (declared connection's index, receiver's step)
    # The columns of the unrolled inputs that the file gives, in the file's order; the
    # others are constant starting states, which the loader fills in.
    given_columns: tuple[int, ...] = ()
    reference: Reference | None = None  # as declared, in the declared names

    def base(self, name: str) -> str:
        """The declared layer an unrolled layer is a copy of."""
        return self._copy_of[name][0]

    def step(self, name: str) -> int:
        """The step of an unrolled layer: 0 for a starting state, then 1 to ``steps``."""
        return self._copy_of[name][1]

    @cached_property
    def _copy_of(self) -> dict[str, tuple[str, int]]:
        return {f"{base}@{t}": (base, t) for base, t in self.copies}


@dataclass(frozen=True)
class Scenario:
    title: str
    summary: str
    story: str
    layers: tuple[Layer, ...]
    connections: tuple[Connection, ...]
    data: Data
    training: Training
    path: Path | None = field(default=None, compare=False)
    lesson: Lesson | None = None
    reference: Reference | None = None
    card: str = ""  # a few sentences for the first screen, ending with what to press
    time: Time | None = None  # a recurrent network: the declaration that layers and connections unroll

    def layer(self, name: str) -> Layer:
        return next(layer for layer in self.layers if layer.name == name)

    @property
    def input_layers(self) -> tuple[Layer, ...]:
        receivers = {c.receiver for c in self.connections}
        return tuple(layer for layer in self.layers if layer.name not in receivers)

    @property
    def output_layers(self) -> tuple[Layer, ...]:
        senders = {c.sender for c in self.connections}
        return tuple(layer for layer in self.layers if layer.name not in senders)


# The default of a key that has none: it must be there.
REQUIRED = object()

TOP_KEYS = ("format", "scenario", "layers", "connections", "data", "training", "lesson", "reference", "time")
SCENARIO_KEYS = ("title", "summary", "story", "card")
LAYER_KEYS = ("name", "units", "size", "activation", "bias", "bias_trainable", "bias_share", "too_high", "too_low",
              "grid", "features", "at", "start")
MAX_FEATURES = 32  # named properties of one layer's units
MAX_CARD = 400  # characters of a story card: what fits the first screen beside the network
MAX_WORDS = 40  # characters of an output layer's too_high / too_low: drawn beside a unit
CONNECTION_KEYS = ("from", "to", "weights", "trainable", "share", "delay")
TIME_KEYS = ("steps",)
DATA_KEYS = ("patterns", "inputs", "targets", "test", "file", "test_file")
TRAINING_KEYS = (
    "loss", "learning_rate", "momentum", "weight_decay", "update", "order", "margin",
    "epochs", "error_criterion", "weight_init", "seed", "schedule",
)
STAGE_KEYS = ("from_epoch", "learning_rate", "momentum", "weight_decay")
LESSON_KEYS = ("goal", "locked", "hide", "steps")
REFERENCE_KEYS = ("layers", "connections")
REFERENCE_LAYER_KEYS = ("name", "bias")
REFERENCE_CONNECTION_KEYS = ("from", "to", "weights")


class _Bad(Exception):
    """Stop checking: what follows depends on what was just found wrong."""


class _Reader:
    """Checks values against the format, collecting a Problem for each mistake."""

    def __init__(self, path: str, lines: dict[str, int]):
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def bad(self, where: str, message: str, line: int | None = None) -> None:
        # Past a screenful, more problems only slow a hostile file's check down.
        if len(self.problems) == MAX_PROBLEMS:
            self.problems.append(Problem(f"more than {MAX_PROBLEMS} problems; the rest are not listed"))
        if len(self.problems) > MAX_PROBLEMS:
            raise _Bad
        self.problems.append(Problem(message, where, line or line_of(self.lines, where)))

    def table(self, value, where: str, allowed: tuple[str, ...]) -> dict | None:
        """The table, with a problem for each unknown key; None if it is not a table."""
        if not isinstance(value, dict):
            self.bad(where, f"must be a table, not {_kind(value)}")
            return None
        for key in value:
            if key not in allowed:
                close = _close(key, allowed)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(allowed)})"
                self.bad(_join(where, key), f"unknown key '{excerpt(key)}'{hint}")
        return value

    def get(self, table: dict, key: str, where: str, kind, default=REQUIRED, **limits):
        at = _join(where, key)
        if key not in table:
            if default is REQUIRED:
                self.bad(where, f"missing required key '{key}'")
                return None
            return default
        return kind(self, table[key], at, **limits)

    # Value checkers: each returns the clean value, or None after recording a problem.

    def string(self, value, where: str, choices: tuple[str, ...] = ()):
        if not isinstance(value, str):
            self.bad(where, f"must be a string, not {_kind(value)}")
            return None
        if choices and value not in choices:
            self.bad(where, f"'{excerpt(value)}' is not one of: {', '.join(choices)}")
            return None
        return value

    def boolean(self, value, where: str):
        if not isinstance(value, bool):
            self.bad(where, f"must be true or false, not {_kind(value)}")
            return None
        return value

    def integer(self, value, where: str, low: int = 0, high: int = MAX_EPOCHS):
        if isinstance(value, bool) or not isinstance(value, int):
            # A fraction is shown as written: "not a number" would puzzle whoever wrote 2.5.
            shown = repr(value) if isinstance(value, float) else _kind(value)
            self.bad(where, f"must be a whole number, not {shown}")
            return None
        if not low <= value <= high:
            self.bad(where, f"{_shown(value)} is out of range: it must be from {low} to {high}")
            return None
        return value

    def number(self, value, where: str, low: float = -math.inf, high: float = math.inf,
               below: float | None = None):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.bad(where, f"must be a number, not {_kind(value)}")
            return None
        if isinstance(value, int) and abs(value) > _FLOAT_MAX:
            self.bad(where, f"{_shown(value)} is too large for a number here")
            return None
        written = _shown(value) if isinstance(value, int) else repr(value)  # as the file has it
        value = float(value)
        if not math.isfinite(value):
            self.bad(where, f"must be a finite number, not {value}")
            return None
        if value < low or value > high or (below is not None and value >= below):
            bounds = [f"at least {low:g}"] if low > -math.inf else []
            if below is not None:
                bounds.append(f"below {below:g}")
            elif high < math.inf:
                bounds.append(f"at most {high:g}")
            self.bad(where, f"{written} is out of range: it must be {' and '.join(bounds)}")
            return None
        return value

    def names(self, value, where: str, what: str):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(where, f"must be a list of {what} names (strings)")
            return None
        for i, name in enumerate(value):
            if not name.strip():
                self.bad(where, f"{what} name {i + 1} is empty")
                return None
            if not name.isprintable():
                self.bad(where, f"{what} name {i + 1} ('{excerpt(name)}') {NOT_ONE_LINE}")
                return None
        seen = set()
        for name in value:
            if name in seen:
                self.bad(where, f"{what} name '{excerpt(name)}' is used twice")
                return None
            seen.add(name)
        return value

    def vector(self, value, where: str, count: int, what: str, row: str = "", allow_nan: bool = False):
        """A list of `count` finite numbers (nan too if allowed), or None.
        `row` ("row 2") is put before each message when the list is a row of a matrix."""
        if len(value) != count:
            self.bad(where, f"{row + ' ' if row else ''}has {_count(len(value), 'value')}, but {what} needs {count}")
            return None
        for j, x in enumerate(value):
            at = f"{row + ', ' if row else ''}value {j + 1}"
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                self.bad(where, f"{at} must be a number, not {_kind(x)}")
                return None
            if isinstance(x, int) and abs(x) > _FLOAT_MAX:
                self.bad(where, f"{at} ({_shown(x)}) is too large for a number")
                return None
            if not math.isfinite(x) and not (allow_nan and math.isnan(x)):
                self.bad(where, f"{at} must be finite, not {x}")
                return None
        return value

    def matrix(self, value, where: str, rows: int, cols: int, what: str, allow_nan: bool = False):
        """A list of `rows` lists of `cols` numbers, as a float64 array."""
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
            self.bad(where, f"must be a list of rows (a list of lists of numbers), not {_kind(value)}")
            return None
        if len(value) != rows:
            self.bad(where, f"has {_count(len(value), 'row')}, but {what} needs {rows}")
            return None
        for i, row in enumerate(value):
            if self.vector(row, where, cols, what, f"row {i + 1}", allow_nan) is None:
                return None
        return np.array(value, dtype=np.float64).reshape(rows, cols)


def _drawing(r: _Reader, raw: dict, where: str, n: int):
    """A layer's ``grid`` and ``features``: how the app draws and explains its units."""
    grid = None
    if "grid" in raw:
        value = raw["grid"]
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in value)):
            shown = "" if isinstance(value, list) else f", not {_kind(value)}"
            r.bad(_join(where, "grid"), f"must be [rows, columns], two whole numbers{shown}")
        elif value[0] < 1 or value[1] < 1 or value[0] * value[1] != n:
            r.bad(_join(where, "grid"), f"{_shown(value[0])} x {_shown(value[1])} is not the layer's {_count(n, 'unit')}")
        else:
            grid = (value[0], value[1])
    features = []
    if "features" in raw:
        table = raw["features"]
        if not isinstance(table, dict):
            r.bad(_join(where, "features"), f"must be a table of name = [one number per unit], not {_kind(table)}")
        elif len(table) > MAX_FEATURES:
            r.bad(_join(where, "features"), f"{len(table)} features; the limit is {MAX_FEATURES}")
        else:
            for key, value in table.items():
                at = _join(_join(where, "features"), key)
                if not key.isprintable():
                    r.bad(at, f"feature name '{excerpt(key)}' {NOT_ONE_LINE}")
                elif not isinstance(value, list):
                    r.bad(at, f"must be a list of {n} numbers, one per unit, not {_kind(value)}")
                elif r.vector(value, at, n, f"the layer ({_count(n, 'unit')})") is not None:
                    features.append((key, tuple(float(x) for x in value)))
    return grid, tuple(features)


def _output_words(r: _Reader, raw: dict, where: str, name: str, sends_to: str | None):
    """An output layer's ``too_high`` and ``too_low``: a few printable words each, since
    the app draws them beside a unit on one line."""
    words = []
    for key in ("too_high", "too_low"):
        at = _join(where, key)
        if key not in raw:
            words.append(None)
            continue
        if sends_to is not None:
            r.bad(at, f"'{excerpt(name)}' is not an output layer (it connects to '{excerpt(sends_to)}'), so it has no {key}")
            words.append(None)
            continue
        value = r.string(raw[key], at)
        if value is not None and not value.strip():
            r.bad(at, "is empty: give a few words, such as \"too salty\"")
            value = None
        elif value is not None and not value.isprintable():
            r.bad(at, "must be printable text on one line, without line breaks or control characters")
            value = None
        elif value is not None and len(value) > MAX_WORDS:
            r.bad(at, f"is {len(value):,} characters long; the limit is {MAX_WORDS} (a few words, drawn beside "
                  "a unit)")
            value = None
        words.append(value)
    return tuple(words)


def _card(r: _Reader, meta: dict) -> str:
    """The story card: a few sentences for the first screen (the story itself is ``story``)."""
    card = r.get(meta, "card", "scenario", _Reader.string, default="")
    if card is not None and len(card) > MAX_CARD:
        r.bad("scenario.card", f"is {len(card):,} characters long; the limit is {MAX_CARD:,} (a few sentences "
              "for the first screen: the rest goes in 'story')")
        return ""
    return card or ""


# Names and one-line texts are drawn in the app and printed on the command line as they
# are: a line break or a control code in one (ESC, a C1 control, a bidirectional
# override) is a mistake, or a file trying to drive the terminal. Refused, so each name
# shows as written everywhere; text of many lines (story, card, goal) is shown escaped.
NOT_ONE_LINE = "has a line break or a control character: it must be printable text on one line"


def _one_line(r: _Reader, value: str | None, where: str) -> str | None:
    if value is not None and not value.isprintable():
        r.bad(where, f"'{excerpt(value)}' {NOT_ONE_LINE}")
        return None
    return value


def _close(name: str, choices) -> list[str]:
    """The known name closest to a misspelled one, if any. A name far longer than any
    known one is no misspelling, and matching megabytes of it would take long."""
    if len(name) > 200:
        return []
    return difflib.get_close_matches(name, choices, n=1)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _kind(value) -> str:
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def read_text(path: Path, limit: int, display: str, what: str = "scenario file") -> str:
    """A file's text, checked for kind, size, binary bytes and encoding before it is parsed.
    `what` says what the file should be ("CSV file"), for the messages."""

    def refuse(message: str, line: int | None = None) -> InputError:
        return InputError(display, [Problem(message, line=line)])

    if "\0" in str(path):  # the system refuses such a name before it looks for a file
        raise refuse(NUL_IN_PATH)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise refuse(f"is a folder, not a {what}")
        # A pipe or a device (/dev/stdin, /dev/zero) may never end or never answer: never open one.
        if not stat.S_ISREG(info.st_mode):
            raise refuse(f"not a regular file (a pipe, a device or a socket), so not a {what}")
        if info.st_size > limit:
            raise refuse(f"file is {info.st_size:,} bytes; the limit is {limit:,}")
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except InputError:
        raise
    except FileNotFoundError:
        raise refuse("no such file") from None
    except OSError as e:
        raise refuse(f"cannot read: {e.strerror or e}") from None
    if len(raw) > limit:
        raise refuse(f"file is larger than the limit of {limit:,} bytes")
    nul = raw.find(b"\0")
    if nul >= 0:
        raise refuse("binary data (a NUL byte): not a text file", line=raw.count(b"\n", 0, nul) + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise refuse("not UTF-8 text", line=raw.count(b"\n", 0, e.start) + 1) from None
    # Notepad and Excel ("CSV UTF-8") start a file with a byte order mark; it is not content.
    return text.removeprefix("\ufeff")


def load_scenario(path: str | os.PathLike, display: str | None = None) -> Scenario:
    """Read and check a scenario file. Raises InputError listing every problem found."""
    path = Path(path)
    display = display or str(path)
    text = read_text(path, MAX_FILE_BYTES, display)
    return parse_scenario(text, display, base=path.parent, path=path)


_FLOAT_MAX = 1.7976931348623157e308


def _shown(value: int) -> str:
    """A whole number as a message can show it: one of hundreds of digits, by its size."""
    if abs(value) < 10**30:
        return str(value)
    return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"


_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def parse_scenario(text: str, display: str = "<scenario>", base: Path | None = None,
                   path: Path | None = None) -> Scenario:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = _TOML_LINE.search(message)
        line = int(m.group(1)) if m else None
        message = _TOML_LINE.sub("", message).strip()
        raise InputError(display, [Problem(f"not valid TOML: {message}", line=line)]) from None
    except RecursionError:
        raise InputError(display, [Problem("not valid TOML here: values are nested too deeply")]) from None
    except ValueError as e:  # Python refuses to read whole numbers of thousands of digits
        raise InputError(display, [Problem(f"not valid TOML here: {e}")]) from None
    r = _Reader(display, key_lines(text))
    try:
        scenario = _check(r, doc, base or Path("."), path)
    except _Bad:
        scenario = None
    if r.problems or scenario is None:
        raise InputError(display, r.problems)
    return scenario


def _check(r: _Reader, doc: dict, base: Path, path: Path | None) -> Scenario:
    # Each part is checked even when an earlier one is wrong, so that every independent
    # mistake is listed at once; only what depends on a broken part is skipped.
    r.table(doc, "", TOP_KEYS)
    fmt = r.get(doc, "format", "", _Reader.integer, low=0, high=2**31)
    if fmt is not None and fmt != FORMAT:
        r.bad("format", f"format {fmt} is not supported: this bptui reads format {FORMAT}")
    if fmt != FORMAT:
        raise _Bad  # the rest of the file means something else in another format

    title = summary = story = None
    card = ""
    if "scenario" not in doc:
        r.bad("", "missing the [scenario] table (with at least a title)")
    elif (meta := r.table(doc["scenario"], "scenario", SCENARIO_KEYS)) is not None:
        title = _one_line(r, r.get(meta, "title", "scenario", _Reader.string), "scenario.title")
        summary = _one_line(r, r.get(meta, "summary", "scenario", _Reader.string, default=""), "scenario.summary")
        story = r.get(meta, "story", "scenario", _Reader.string, default="")
        card = _card(r, meta)

    recurrent = "time" in doc  # even when [time] itself is wrong: its keys are then no mistake
    steps = _check_time(r, doc) if recurrent else None
    try:
        layers, connections, delays = _check_network(r, doc, recurrent)
    except _Bad:
        layers = connections = None
    training = _check_training(r, doc)
    lesson = _check_lesson(r, doc)
    if layers is None or (recurrent and steps is None):
        raise _Bad  # the data's columns are the network's units (at each step)

    unrolled = _unroll(r, doc, steps, layers, connections, delays) if recurrent else None
    if unrolled is not None:
        targeted = unrolled.targeted
        n_in, n_out, n_units = unrolled.n_in, unrolled.n_out, unrolled.n_units
    else:
        receivers = {c.receiver for c in connections}
        senders = {c.sender for c in connections}
        targeted = {layer.name for layer in layers if layer.name not in senders}
        n_in = sum(layer.size for layer in layers if layer.name not in receivers)
        n_out = sum(layer.size for layer in layers if layer.name in targeted)
        n_units = sum(layer.size for layer in layers)
    if training.loss == "cross_entropy":
        for i, layer in enumerate(layers, start=1):
            # None: a wrong activation, already reported.
            if layer.name in targeted and layer.activation not in ("sigmoid", "softmax", None):
                r.bad(f"layers[{i}].activation", f"cross_entropy needs sigmoid or softmax outputs; "
                      f"output layer '{excerpt(layer.name)}' is {layer.activation}")
    reference = _check_reference(r, doc, layers, connections)
    data = _check_data(r, doc, base, n_in, n_out, n_units, training.loss,
                       None if unrolled is None else unrolled.layout)
    if data is None:
        raise _Bad
    time = None
    if unrolled is not None:
        data = replace(data, inputs=unrolled.inputs(data.inputs))
        time = replace(unrolled.time, reference=reference)
        reference = unrolled.reference(reference)
        layers, connections = unrolled.layers, unrolled.connections
    return Scenario(title, summary, story, tuple(layers), tuple(connections), data, training, path, lesson,
                    reference, card or "", time)


def _check_time(r: _Reader, doc: dict) -> int | None:
    """The number of steps of a recurrent scenario, or None after a problem."""
    raw = r.table(doc["time"], "time", TIME_KEYS)
    if raw is None:
        return None
    return r.get(raw, "steps", "time", _Reader.integer, low=2, high=MAX_STEPS)


def _check_network(r: _Reader, doc: dict, recurrent: bool = False
                   ) -> tuple[list[Layer], list[Connection], list[int]]:
    """The layers and connections, and each connection's delay (all 0 unless ``recurrent``:
    then the layers and connections as declared, before they are unrolled); raises _Bad
    where the graph is too broken to go on."""
    layers_raw = _array_of_tables(r, doc, "layers")
    conns_raw = _array_of_tables(r, doc, "connections")
    if layers_raw is None or conns_raw is None:
        raise _Bad
    if len(layers_raw) > MAX_LAYERS:
        r.bad("layers", f"{len(layers_raw)} layers; the limit is {MAX_LAYERS}")
        raise _Bad

    # Names and sizes first, since connections and data are checked against them. Unit
    # names are built only once the sizes are known to be within the limits.
    sizes: dict[str, int] = {}  # in declaration order
    named: dict[str, list[str]] = {}  # the layers given with `units`
    declared: set[str] = set()
    for i, raw in enumerate(layers_raw):
        where = f"layers[{i + 1}]"
        r.table(raw, where, LAYER_KEYS)
        if not recurrent:
            for key in ("at", "start"):
                if key in raw:
                    r.bad(_join(where, key), NOT_RECURRENT.format(key=key))
        name = r.get(raw, "name", where, _Reader.string)
        if name is None:
            continue
        if not name.strip():
            r.bad(_join(where, "name"), "layer name is empty")
            continue
        if not name.isprintable():
            r.bad(_join(where, "name"), f"layer name '{excerpt(name)}' {NOT_ONE_LINE}")
            continue
        if name in declared:
            r.bad(_join(where, "name"), f"there is already a layer named '{excerpt(name)}'")
            continue
        declared.add(name)
        if "units" in raw and "size" in raw:
            r.bad(where, "give either 'units' (names) or 'size', not both")
        elif "units" in raw:
            unit_names = r.names(raw["units"], _join(where, "units"), "unit")
            if unit_names is not None and not 1 <= len(unit_names) <= MAX_UNITS:
                r.bad(_join(where, "units"), f"a layer needs from 1 to {MAX_UNITS:,} units")
            elif unit_names is not None:
                sizes[name] = len(unit_names)
                named[name] = unit_names
        elif "size" in raw:
            size = r.integer(raw["size"], _join(where, "size"), low=1, high=MAX_UNITS)
            if size is not None:
                sizes[name] = size
        else:
            r.bad(where, f"layer '{excerpt(name)}' needs 'units' (a list of names) or 'size'")
    if len(sizes) < len(layers_raw):
        raise _Bad

    # Connections: endpoints, duplicates, then the graph must be acyclic (within a step).
    pairs: dict[tuple[str, str], int] = {}  # (from, to) -> index in conns_raw, in file order
    delays: list[int | None] = []  # per entry of conns_raw; None after a problem
    for i, raw in enumerate(conns_raw):
        where = f"connections[{i + 1}]"
        r.table(raw, where, CONNECTION_KEYS)
        delay = 0
        if "delay" in raw:
            if recurrent:
                delay = r.integer(raw["delay"], _join(where, "delay"), low=0, high=1)
            else:
                r.bad(_join(where, "delay"), NOT_RECURRENT.format(key="delay"))
        delays.append(delay)
        ends = []
        for key in ("from", "to"):
            name = r.get(raw, key, where, _Reader.string)
            if name is not None and name not in sizes:
                close = _close(name, sizes)
                hint = f" (did you mean '{excerpt(close[0])}'?)" if close else ""
                r.bad(_join(where, key), f"there is no layer named '{excerpt(name)}'{hint}")
                name = None
            ends.append(name)
        pair = tuple(ends)
        if None in pair:
            continue
        if pair[0] == pair[1] and not recurrent:
            r.bad(where, f"layer '{excerpt(pair[0])}' cannot connect to itself")
        elif pair[0] == pair[1] and delay == 0:
            r.bad(where, f"layer '{excerpt(pair[0])}' cannot connect to itself within a step: give the connection "
                  "delay = 1 to feed its state at each step into the next")
        elif pair in pairs:
            r.bad(where, f"'{excerpt(pair[0])}' is already connected to '{excerpt(pair[1])}'")
        else:
            pairs[pair] = i
    if len(pairs) < len(conns_raw) or None in delays:
        raise _Bad

    def line_of_connection(i: int) -> int | None:
        return line_of(r.lines, f"connections[{i + 1}]")

    # A delay-1 connection goes from one step to the next: only those of delay 0 must not loop.
    now = {pair: i for pair, i in pairs.items() if delays[i] == 0}
    cycle = _find_cycle(list(sizes), now)
    if cycle:
        first = min(now[pair] for pair in zip(cycle, cycle[1:]))
        shown = " -> ".join(excerpt(name) for name in cycle)
        r.bad("connections", f"the connections of delay 0 form a cycle ({shown}); within a step the signal must "
              "flow one way: give one of them delay = 1" if recurrent else
              f"the connections form a cycle ({shown}); a network must be acyclic", line=line_of_connection(first))
    linked = {name for pair in pairs for name in pair}
    for i, name in enumerate(sizes):
        if name not in linked:
            r.bad(f"layers[{i + 1}]", f"layer '{excerpt(name)}' is not connected to anything")
    if cycle or len(linked) < len(sizes):
        raise _Bad

    # Every unit of a receiving layer has a bias: count it with the first connection into it.
    # A shared matrix (or bias vector) is built once, so it counts once: with the first
    # member of its group, and again for any member whose shape differs (an error later).
    layer_raw = dict(zip(sizes, layers_raw))
    counted_matrices: dict[str, tuple[int, int]] = {}
    counted_biases: dict[str, int] = {}
    weights, over, receivers = 0, None, set()
    for (a, b), i in pairs.items():
        share = conns_raw[i].get("share")
        shape = (sizes[b], sizes[a])
        if not (isinstance(share, str) and counted_matrices.get(share) == shape):
            weights += shape[0] * shape[1]
            if isinstance(share, str):
                counted_matrices.setdefault(share, shape)
        if b not in receivers:
            bias_share = layer_raw[b].get("bias_share")
            if not (isinstance(bias_share, str) and counted_biases.get(bias_share) == sizes[b]):
                weights += sizes[b]
                if isinstance(bias_share, str):
                    counted_biases.setdefault(bias_share, sizes[b])
        receivers.add(b)
        if over is None and weights > MAX_WEIGHTS:
            over = i
    if over is not None:
        r.bad("connections", f"the network has {weights:,} weights; the limit is {MAX_WEIGHTS:,}",
              line=line_of_connection(over))
        raise _Bad
    total = sum(sizes.values())
    if total > MAX_TOTAL_UNITS:
        r.bad("layers", f"the layers have {total:,} units in all; the limit is {MAX_TOTAL_UNITS:,}")
        raise _Bad
    chars = 0
    for i, name in enumerate(sizes):
        if name not in named:
            chars += sizes[name] * (len(name) + 2 + len(str(sizes[name] - 1)))
            if chars > MAX_UNIT_NAME_CHARS:
                r.bad(f"layers[{i + 1}].name", f"a name of {len(name):,} characters for {sizes[name]:,} units: "
                      f"each unit is named after its layer ('{excerpt(name, 20)}[0]', ...), and the names would be "
                      f"more than the limit of {MAX_UNIT_NAME_CHARS:,} characters; give the layer a shorter name")
                raise _Bad

    # The rest of each layer: activation, bias and output words, which depend on its place in the graph.
    sends_to = {}  # layer -> the first layer it connects to (within a step), in file order
    for a, b in now:
        sends_to.setdefault(a, b)
    layers: list[Layer] = []
    unreadable_bias_shares: list[str] = []  # bias_share keys in error: which group they meant is unknown
    for i, (raw, name) in enumerate(zip(layers_raw, sizes)):
        where = f"layers[{i + 1}]"
        n = sizes[name]
        units = tuple(named[name]) if name in named else tuple(f"{name}[{k}]" for k in range(n))
        too_high, too_low = _output_words(r, raw, where, name, sends_to.get(name))
        if name not in receivers:
            for key in ("activation", "bias", "bias_trainable", "bias_share"):
                if key in raw:
                    r.bad(_join(where, key), f"'{excerpt(name)}' is an input layer (nothing connects to it), so it has no {key}")
            layers.append(Layer(name, units, None, False, None, *_drawing(r, raw, where, n)))
            continue
        activation = r.get(raw, "activation", where, _Reader.string, default="sigmoid", choices=ACTIVATIONS)
        if activation == "softmax" and n < 2:
            r.bad(_join(where, "activation"), "a softmax layer needs at least 2 units")
        bias, bias_values = True, None
        if "bias" in raw:
            value = raw["bias"]
            if isinstance(value, bool):
                bias = value
            elif isinstance(value, list):
                values = r.vector(value, _join(where, "bias"), n, f"layer '{excerpt(name)}' ({_count(n, 'unit')})")
                if values is not None:
                    bias_values = tuple(float(x) for x in values)
            else:
                r.bad(_join(where, "bias"), f"must be true, false or a list of {n} starting biases, "
                      f"not {_kind(value)}")
        bias_trainable = r.get(raw, "bias_trainable", where, _Reader.boolean, default=True)
        if "bias_trainable" in raw and not bias:
            r.bad(_join(where, "bias_trainable"), f"layer '{excerpt(name)}' has no bias (bias = false), so there is "
                  "nothing to freeze or train")
        bias_share = _share_name(r, raw, where, "bias_share", unreadable_bias_shares)
        if bias_share is not None and not bias:
            r.bad(_join(where, "bias_share"), f"layer '{excerpt(name)}' has no bias (bias = false), so there is "
                  "no bias to share")
            unreadable_bias_shares.append(where)
            bias_share = None
        layers.append(Layer(name, units, activation, bias, bias_values, *_drawing(r, raw, where, n),
                            bias_trainable=bias_trainable is not False, too_high=too_high, too_low=too_low,
                            bias_share=bias_share))
    _check_bias_shares(r, layers, lone=not unreadable_bias_shares)

    connections: list[Connection] = []
    unreadable_shares: list[str] = []
    for (sender, receiver), i in pairs.items():
        where = f"connections[{i + 1}]"
        raw = conns_raw[i]
        weights = None
        if "weights" in raw:
            rows, cols = sizes[receiver], sizes[sender]
            weights = r.matrix(raw["weights"], _join(where, "weights"), rows, cols,
                               f"'{excerpt(sender)}' -> '{excerpt(receiver)}' ({rows} receiving x {cols} sending units)")
        trainable = r.get(raw, "trainable", where, _Reader.boolean, default=True)
        share = _share_name(r, raw, where, "share", unreadable_shares)
        connections.append(Connection(sender, receiver, weights, bool(trainable), share))
    _check_weight_shares(r, connections, sizes, lone=not unreadable_shares)
    return layers, connections, [delays[i] for i in pairs.values()]


NOT_RECURRENT = ("'{key}' is for a recurrent network only: add a [time] table with its number of steps "
                 "(steps = 3), or remove the key")


@dataclass
class _Unrolled:
    """A recurrent network unrolled in time: what ``_check`` needs to finish the scenario."""

    layers: list[Layer]
    connections: list[Connection]
    time: Time
    targeted: set[str]  # the declared layers that have targets at some step
    n_in: int  # input columns of a row of the file (laid out by step)
    n_out: int  # target columns, the same
    n_units: int  # units of the unrolled network
    layout: tuple[str, str]  # how a row's inputs and targets are laid out by step, in words
    n_columns: int  # inputs of the unrolled network: the file's and the constant starting states
    constants: list[tuple[int, np.ndarray]]  # (first input column, values) of each constant starting state
    first_copy: dict[str, str]  # declared layer -> its first computed copy (which has its bias)
    first_link: dict[tuple[str, str], tuple[str, str]]  # declared (from, to) -> its first copy

    def inputs(self, given: np.ndarray) -> np.ndarray:
        """The unrolled network's inputs: the file's columns, and the constant starting
        states, which are inputs of the unrolled network (a state at step 0) like the others."""
        x = np.empty((len(given), self.n_columns))
        x[:, list(self.time.given_columns)] = given
        for start, values in self.constants:
            x[:, start:start + len(values)] = values
        return x

    def reference(self, reference: Reference | None) -> Reference | None:
        """The reference in the unrolled names: a shared matrix (bias) is one parameter, so
        naming it through its first copy names it for every step."""
        if reference is None:
            return None
        return Reference(tuple((self.first_copy[name], values) for name, values in reference.biases),
                         tuple((*self.first_link[sender, receiver], w) for sender, receiver, w in reference.weights))


def _unroll(r: _Reader, doc: dict, steps: int, layers: list[Layer], connections: list[Connection],
            delays: list[int]) -> _Unrolled:
    """The recurrent network run for ``steps`` steps as a layered network (Rumelhart,
    Hinton & Williams 1986, Fig. 5): a copy of each layer at each step where it is, a
    copy of each connection wherever both its ends are (delay 1: from the step before),
    the copies of one connection sharing one matrix and those of one layer one bias, so
    that backprop sums each weight's gradient over the steps. A copy that leads to no
    target changes neither E nor any gradient: it is left out. Raises _Bad after a problem."""
    T = steps
    before = len(r.problems)
    raws = doc["layers"]  # tables, as _check_network found them
    receivers = {c.receiver for c in connections}
    now_to: dict[str, str] = {}  # layer -> the first it sends to within a step
    later = set()  # the layers that send into the next step: they have a state at step 0
    for c, d in zip(connections, delays):
        if d == 0:
            now_to.setdefault(c.sender, c.receiver)
        else:
            later.add(c.sender)

    def role(name: str) -> str:
        if name not in receivers:
            return "input"
        if name not in now_to and name not in later:
            return "output"
        # sends only into the next step: its last copy sends nothing, so may have targets
        return "carried" if name not in now_to else "hidden"

    roles = [role(layer.name) for layer in layers]
    ats, starts = [], []
    for i, (layer, raw, kind) in enumerate(zip(layers, raws, roles)):
        where = f"layers[{i + 1}]"
        ats.append(_check_at(r, raw, where, layer.name, kind, now_to.get(layer.name), T))
        starts.append(_check_start(r, raw, where, layer, layer.name in later))
        if (kind == "input" or (kind == "carried" and ats[-1] is None)) and layer.name not in now_to:
            why = (f"'{excerpt(layer.name)}' is an input layer" if kind == "input" else
                   f"'{excerpt(layer.name)}' has no targets (it sends only into the next step; at = [{T}] gives it "
                   "targets at the last step)")
            for key in ("too_high", "too_low"):
                if key in raw:
                    r.bad(_join(where, key), f"{why}, so it has no {key}")
    if len(r.problems) > before:
        raise _Bad

    # The copies: (layer, step), step 0 for a starting state; the targets among them.
    present: list[set[int]] = []
    targets: set[tuple[int, int]] = set()
    for i, (layer, kind) in enumerate(zip(layers, roles)):
        at = set(ats[i]) if ats[i] is not None and kind in ("input", "output") else set(range(1, T + 1))
        if kind == "output":
            targets |= {(i, t) for t in at}
        elif kind == "carried" and ats[i] is not None:
            targets.add((i, T))
        if layer.name in later:
            at.add(0)
        present.append(at)
    if not targets:
        r.bad("layers", f"no layer has a target at any step: a layer that sends nothing has targets at every step "
              f"(or at the steps of its 'at'), and a layer that sends only into the next step at the last one, "
              f"with at = [{T}]", line=line_of(r.lines, "layers[1]"))
        raise _Bad
    index = {layer.name: i for i, layer in enumerate(layers)}
    incoming: dict[tuple[int, int], list[tuple[int, tuple[int, int]]]] = {}  # copy -> (connection, sender copy)
    for k, (c, d) in enumerate(zip(connections, delays)):
        a, b = index[c.sender], index[c.receiver]
        for t in range(1, T + 1):
            if t in present[b] and t - d in present[a]:
                incoming.setdefault((b, t), []).append((k, (a, t - d)))
    alive = set(targets)  # the copies that lead to a target
    stack = list(targets)
    while stack:
        for _, sender in incoming.get(stack.pop(), ()):
            if sender not in alive:
                alive.add(sender)
                stack.append(sender)

    for i, (layer, kind) in enumerate(zip(layers, roles)):
        where, name = f"layers[{i + 1}]", excerpt(layer.name)
        if kind != "input":
            empty = [t for t in range(1, T + 1) if (i, t) in alive and (i, t) not in incoming]
            if empty:
                hint = (f"leave step {empty[0]} out of its 'at'" if kind == "output" else
                        f"a layer that others send to is computed at every step, so one of them must be there at "
                        f"step {empty[0]}")
                r.bad(where, f"layer '{name}' has nothing coming in at step {empty[0]}: every layer that sends to it "
                      f"is absent at the step it would send from; {hint}")
            continue
        dead = [t for t in sorted(present[i] - {0}) if (i, t) not in alive]
        if dead:
            used = [str(t) for t in sorted(present[i] - {0}) if (i, t) in alive]
            message = (f"'{name}' at {_steps(dead)} leads to no target: nothing it sends from there reaches a layer "
                       f"with a target; give it at = [{', '.join(used)}]" if used else
                       f"'{name}' leads to no target at any step: nothing it sends reaches a layer with a target")
            r.bad(_join(where, "at") if ats[i] is not None else where, message)
    for i, layer in enumerate(layers):
        if starts[i] == "data" and (i, 0) not in alive:
            r.bad(f"layers[{i + 1}].start", f"the starting state of '{excerpt(layer.name)}' leads to no target: "
                  "nothing it sends into step 1 reaches a layer with a target, so the data would give it for nothing")
    copies_of: dict[int, list[int]] = {}  # connection -> the steps of its receiving copies, in order
    for b, t in sorted(alive, key=lambda copy: copy[1]):
        for k, _ in incoming.get((b, t), ()):
            copies_of.setdefault(k, []).append(t)
    for k, c in enumerate(connections):
        if k not in copies_of:
            r.bad(f"connections[{k + 1}]", f"'{excerpt(c.sender)}' -> '{excerpt(c.receiver)}' leads to no target at "
                  "any step: no copy of it ends in a layer that reaches a target, so its weights would never matter")
    if len(r.problems) > before:
        raise _Bad

    order = [(i, t) for t in range(T + 1) for i in range(len(layers)) if (i, t) in alive]
    n_units = sum(layers[i].size for i, _ in order)
    names = [sum(map(len, layer.units)) for layer in layers]  # each copy's unit names add '@step'
    chars = sum(names[i] + layers[i].size * (1 + len(str(t))) for i, t in order)
    for count, limit, what in ((len(order), MAX_LAYERS, "layers (one for each layer at each step)"),
                               (n_units, MAX_TOTAL_UNITS, "units in all"),
                               (chars, MAX_UNIT_NAME_CHARS, "characters of unit names ('name@step')")):
        if count > limit:
            r.bad("time.steps", f"unrolled over {T} steps, the network has {count:,} {what}; the limit is {limit:,}")
            raise _Bad

    # A connection's (layer's) copies share its matrix (bias) under a name of their own,
    # unless the file shares it with others already: then they join that group.
    weight_names = {c.share for c in connections if c.share is not None}
    bias_names = {layer.bias_share for layer in layers if layer.bias_share is not None}
    computed = [(i, t) for i, t in order if t >= 1 and roles[i] != "input"]
    bias_share = {}
    copies = Counter(i for i, _ in computed)
    for i, layer in enumerate(layers):
        bias_share[i] = layer.bias_share if layer.bias_share is not None or not layer.bias or copies[i] < 2 \
            else _fresh(layer.name, bias_names)
    unrolled: list[Layer] = []
    for i, t in order:
        layer = layers[i]
        name, units = f"{layer.name}@{t}", tuple(f"{unit}@{t}" for unit in layer.units)
        if t == 0 or roles[i] == "input":
            unrolled.append(Layer(name, units, None, False, None, layer.grid, layer.features))
        else:
            target = (i, t) in targets
            unrolled.append(replace(layer, name=name, units=units, bias_share=bias_share[i],
                                    too_high=layer.too_high if target else None,
                                    too_low=layer.too_low if target else None))
    links, unrolled_connections = [], []
    first_link = {}
    for k, (c, d) in enumerate(zip(connections, delays)):
        share = c.share if c.share is not None or len(copies_of[k]) < 2 else \
            _fresh(f"{c.sender} -> {c.receiver}", weight_names)
        for t in copies_of[k]:
            copy = Connection(f"{c.sender}@{t - d}", f"{c.receiver}@{t}", c.weights, c.trainable, share)
            first_link.setdefault((c.sender, c.receiver), (copy.sender, copy.receiver))
            unrolled_connections.append(copy)
            links.append((k, t))

    # A row of the file: the starting states given by the data, then each step's inputs;
    # within a step, the layers in the order they are declared.
    column, given, constants = 0, [], []
    given_by_step, targets_by_step = [0] * (T + 1), [0] * (T + 1)
    for i, t in order:
        n = layers[i].size
        if (i, t) in targets:
            targets_by_step[t] += n
        if t >= 1 and roles[i] != "input":
            continue
        if t >= 1 or starts[i] == "data":
            given.extend(range(column, column + n))
            given_by_step[t] += n
        else:
            constants.append((column, np.zeros(n) if starts[i] is None else np.array(starts[i], dtype=np.float64)))
        column += n
    time = Time(T, tuple(layers), tuple(connections), tuple(delays), tuple(ats), tuple(starts),
                tuple((layers[i].name, t) for i, t in order), tuple(links), tuple(given))
    first_copy = {}
    for i, t in computed:
        first_copy.setdefault(layers[i].name, f"{layers[i].name}@{t}")
    return _Unrolled(unrolled, unrolled_connections, time, {layers[i].name for i, _ in targets}, len(given),
                     sum(targets_by_step), n_units, (_by_step(given_by_step), _by_step(targets_by_step)), column,
                     constants, first_copy, first_link)


def _check_at(r: _Reader, raw: dict, where: str, name: str, kind: str, sends_to: str | None,
              steps: int) -> tuple[int, ...] | None:
    """A layer's ``at``, sorted: the steps an input layer is there, or an output layer has
    targets. None when it is not written (or wrong, after a problem)."""
    if "at" not in raw:
        return None
    where, value = _join(where, "at"), raw["at"]
    if not isinstance(value, list):
        r.bad(where, f"must be a list of steps (whole numbers from 1 to {steps}), not {_kind(value)}")
        return None
    if not value:
        r.bad(where, f"is empty: the layer must be there at one step at least (the steps are 1 to {steps})")
        return None
    seen = set()
    for t in value:
        if isinstance(t, bool) or not isinstance(t, int):
            r.bad(where, f"the steps must be whole numbers, not {repr(t) if isinstance(t, float) else _kind(t)}")
            return None
        if not 1 <= t <= steps:
            r.bad(where, f"step {_shown(t)} is out of range: the steps are 1 to {steps}")
            return None
        if t in seen:
            r.bad(where, f"step {t} is listed twice")
            return None
        seen.add(t)
    name = excerpt(name)
    if kind == "hidden":
        r.bad(where, f"'{name}' is a hidden layer (it sends to '{excerpt(sends_to)}' within a step), so it is there "
              "at every step: only input and output layers have 'at'")
        return None
    if kind == "carried" and value != [steps]:
        r.bad(where, f"'{name}' sends only into the next step, so it can have targets at the last step only: write "
              f"at = [{steps}], or feed an output layer from it with delay 0")
        return None
    return tuple(sorted(value))


def _check_start(r: _Reader, raw: dict, where: str, layer: Layer, has_state: bool) -> str | tuple[float, ...] | None:
    """A layer's ``start``: "data", the constant starting state, or None when not written."""
    if "start" not in raw:
        return None
    where, value = _join(where, "start"), raw["start"]
    name, n = excerpt(layer.name), layer.size
    if not has_state:
        r.bad(where, f"'{name}' sends no connection with delay = 1, so it has no starting state")
        return None
    if value == "data":
        return "data"
    if isinstance(value, list):
        if r.vector(value, where, n, f"layer '{name}' ({_count(n, 'unit')})") is None:
            return None
        return tuple(float(x) for x in value)
    shown = f"'{excerpt(value)}'" if isinstance(value, str) else _kind(value)
    r.bad(where, f'must be "data" (each pattern gives it) or a list of {_count(n, "number")}, one per unit, '
          f"not {shown}")
    return None


def _steps(steps: list[int]) -> str:
    return f"step {steps[0]}" if len(steps) == 1 else f"steps {', '.join(map(str, steps))}"


def _by_step(counts: list[int]) -> str:
    """How many columns a row has at each step, in words: runs of equal steps together."""
    parts = [f"{counts[0]} for the starting states"] if counts[0] else []
    t = 1
    while t < len(counts):
        u = t
        while u + 1 < len(counts) and counts[u + 1] == counts[t]:
            u += 1
        if counts[t]:
            parts.append(f"{counts[t]} at step {t}" if u == t else f"{counts[t]} at each of steps {t} to {u}")
        t = u + 1
    return ", ".join(parts) or "none"


def _fresh(name: str, used: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``...: the first one not in ``used``, which it joins."""
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name} ({n})"
    used.add(candidate)
    return candidate


def _share_name(r: _Reader, raw: dict, where: str, key: str, unreadable: list[str]) -> str | None:
    """The name of a ``share`` or ``bias_share`` group: printable text on one line. A
    name in error is added to ``unreadable``."""
    if key not in raw:
        return None
    at = _join(where, key)
    name = r.string(raw[key], at)
    if name is not None and not name.strip():
        r.bad(at, "the share name is empty: give the group a name, the same in each of its members")
        name = None
    name = _one_line(r, name, at)
    if name is None:
        unreadable.append(at)
    return name


def _groups(names) -> dict[str, list[int]]:
    """Share name -> the places of its members, in declaration order."""
    groups: dict[str, list[int]] = {}
    for k, name in enumerate(names):
        if name is not None:
            groups.setdefault(name, []).append(k)
    return groups


def _lone(r: _Reader, groups: dict[str, list[int]], key_of) -> None:
    """A share name used once shares nothing: most likely a misspelling of another, and a
    misspelled name must not quietly leave the weights unshared."""
    for name, members in groups.items():
        if len(members) == 1:
            others = [other for other in groups if other != name]
            close = _close(name, others)
            hint = f" (did you mean '{excerpt(close[0])}'?)" if close else ""
            r.bad(key_of(members[0]), f"nothing else shares '{excerpt(name)}': a share joins two or more{hint}")


def _where(r: _Reader, table: str) -> str:
    """``connections[2], line 27``: a table named so that a reader can find it."""
    line = line_of(r.lines, table)
    return f"{table}, line {line}" if line else table


def _check_weight_shares(r: _Reader, connections: list[Connection], sizes: dict[str, int], lone: bool) -> None:
    """Connections of one ``share`` group are one matrix: the same shape, trainable or frozen
    alike, and starting weights given once or the same wherever they are given. ``lone``:
    report a name used once (not when a share key in error may have meant it)."""
    groups = _groups(c.share for c in connections)
    if lone:
        _lone(r, groups, lambda k: f"connections[{k + 1}].share")
    for name, members in groups.items():
        first = connections[members[0]]
        shape = (sizes[first.receiver], sizes[first.sender])
        # the first member to give starting weights, among those of the right shape
        given = next((k for k in members if connections[k].weights is not None
                      and connections[k].weights.shape == shape), None)
        other = (f"'{excerpt(first.sender)}' -> '{excerpt(first.receiver)}' "
                 f"({_where(r, f'connections[{members[0] + 1}]')})")
        for k in members[1:]:
            c = connections[k]
            where = f"connections[{k + 1}]"
            rows, cols = sizes[c.receiver], sizes[c.sender]
            if (rows, cols) != shape:
                r.bad(_join(where, "share"), f"'{excerpt(c.sender)}' -> '{excerpt(c.receiver)}' is {rows} receiving x "
                      f"{cols} sending units, but it shares '{excerpt(name)}' with {other}, which is {shape[0]} x "
                      f"{shape[1]}: shared weights are one matrix, so their shapes must be the same")
                continue
            if c.trainable != first.trainable:
                r.bad(_join(where, "share"), f"this connection is {'trainable' if c.trainable else 'frozen'}, but it "
                      f"shares '{excerpt(name)}' with {other}, which is "
                      f"{'trainable' if first.trainable else 'frozen'}: a shared matrix is trainable or frozen as a "
                      "whole, so 'trainable' must be the same")
            if given is not None and k > given and c.weights is not None:
                if not np.array_equal(c.weights, connections[given].weights):
                    g = connections[given]
                    r.bad(_join(where, "weights"), f"differ from the weights of '{excerpt(g.sender)}' -> "
                          f"'{excerpt(g.receiver)}' ({_where(r, f'connections[{given + 1}]')}), which shares "
                          f"'{excerpt(name)}': a shared matrix has one set of starting weights, so give them once, "
                          "or the same each time")


def _check_bias_shares(r: _Reader, layers: list[Layer], lone: bool) -> None:
    """Layers of one ``bias_share`` group have one bias vector: the same number of units,
    trainable or frozen alike, and starting biases given once or the same wherever given.
    ``lone`` as for ``_check_weight_shares``."""
    groups = _groups(layer.bias_share for layer in layers)
    if lone:
        _lone(r, groups, lambda k: f"layers[{k + 1}].bias_share")
    for name, members in groups.items():
        first = layers[members[0]]
        other = f"layer '{excerpt(first.name)}' ({_where(r, f'layers[{members[0] + 1}]')})"
        given = next((k for k in members if layers[k].bias_values is not None and layers[k].size == first.size),
                     None)
        for k in members[1:]:
            layer = layers[k]
            where = f"layers[{k + 1}]"
            if layer.size != first.size:
                r.bad(_join(where, "bias_share"), f"layer '{excerpt(layer.name)}' has {_count(layer.size, 'unit')}, "
                      f"but it shares '{excerpt(name)}' with {other}, which has {first.size}: a shared bias is one "
                      "vector, so the layers must have as many units")
                continue
            if layer.bias_trainable != first.bias_trainable:
                r.bad(_join(where, "bias_share"), "this layer's bias is "
                      f"{'trainable' if layer.bias_trainable else 'frozen'}, "
                      f"but it shares '{excerpt(name)}' with {other}, whose bias is "
                      f"{'trainable' if first.bias_trainable else 'frozen'}: 'bias_trainable' must be the same")
            if given is not None and k > given and layer.bias_values is not None:
                if layer.bias_values != layers[given].bias_values:
                    g = layers[given]
                    r.bad(_join(where, "bias"), f"differs from the bias of layer '{excerpt(g.name)}' "
                          f"({_where(r, f'layers[{given + 1}]')}), which shares '{excerpt(name)}': a shared bias has "
                          "one set of starting values, so give them once, or the same each time")


def _array_of_tables(r: _Reader, doc: dict, key: str) -> list | None:
    value = doc.get(key)
    if value is None:
        r.bad("", f"missing [[{key}]]")
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        r.bad(key, f"must be written as [[{key}]] tables")
        return None
    if not value:
        r.bad(key, f"a network needs at least one [[{key}]]")
        return None
    return value


def _find_cycle(names: list[str], pairs) -> list[str] | None:
    """A cycle among the (from, to) pairs, as [a, b, ..., a]; None if there is none."""
    succ: dict[str, list[str]] = {n: [] for n in names}
    for a, b in pairs:
        succ[a].append(b)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in names:
        if state.get(start):
            continue
        stack = [(start, iter(succ[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, nexts = stack[-1]
            nxt = next(nexts, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
                path.append(nxt)
    return None


def _check_training(r: _Reader, doc: dict) -> Training:
    """The training settings, with the defaults where they are wrong (after recording the problems)."""
    d = Training()
    raw = r.table(doc.get("training", {}), "training", TRAINING_KEYS)
    if raw is None:
        return d
    w = "training"
    values = dict(
        loss=r.get(raw, "loss", w, _Reader.string, default=d.loss, choices=LOSSES),
        learning_rate=r.get(raw, "learning_rate", w, _Reader.number, default=d.learning_rate, low=0),
        momentum=r.get(raw, "momentum", w, _Reader.number, default=d.momentum, low=0, high=1),
        weight_decay=r.get(raw, "weight_decay", w, _Reader.number, default=d.weight_decay, low=0, below=1),
        update=r.get(raw, "update", w, _Reader.string, default=d.update, choices=UPDATES),
        order=r.get(raw, "order", w, _Reader.string, default=d.order, choices=ORDERS),
        margin=r.get(raw, "margin", w, _Reader.number, default=d.margin, low=0),
        epochs=r.get(raw, "epochs", w, _Reader.integer, default=d.epochs, low=0, high=MAX_EPOCHS),
        error_criterion=r.get(raw, "error_criterion", w, _Reader.number, default=d.error_criterion, low=0),
        weight_init=r.get(raw, "weight_init", w, _Reader.number, default=d.weight_init, low=0,
                          high=MAX_WEIGHT_INIT),
        seed=r.get(raw, "seed", w, _Reader.integer, default=d.seed, low=0, high=MAX_SEED),
    )
    schedule: list[Stage] = []
    stages = raw.get("schedule", [])
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        r.bad("training.schedule", "must be written as [[training.schedule]] tables")
        stages = []
    last = 0
    for i, stage in enumerate(stages):
        where = f"training.schedule[{i + 1}]"
        r.table(stage, where, STAGE_KEYS)
        start = r.get(stage, "from_epoch", where, _Reader.integer, low=1, high=MAX_EPOCHS)
        lr = r.get(stage, "learning_rate", where, _Reader.number, default=None, low=0)
        mom = r.get(stage, "momentum", where, _Reader.number, default=None, low=0, high=1)
        decay = r.get(stage, "weight_decay", where, _Reader.number, default=None, low=0, below=1)
        if not any(k in stage for k in STAGE_KEYS[1:]):
            r.bad(where, "a schedule entry must change learning_rate, momentum or weight_decay")
        if start is not None:
            if start <= last:
                r.bad(_join(where, "from_epoch"), f"from_epoch must grow from one entry to the next ({start} after {last})")
            last = start
            schedule.append(Stage(start, lr, mom, decay))
    # A wrong value (None) keeps its default, so that the checks that use the others still run.
    return Training(**{k: v for k, v in values.items() if v is not None}, schedule=tuple(schedule))


def _check_lesson(r: _Reader, doc: dict) -> Lesson | None:
    """The lesson, or None when the file has no [lesson] table."""
    if "lesson" not in doc:
        return None
    raw = r.table(doc["lesson"], "lesson", LESSON_KEYS)
    if raw is None:
        return None
    goal = r.get(raw, "goal", "lesson", _Reader.string, default="")
    locked = _lesson_names(r, raw, "locked", LOCKABLE, "setting")
    hide = _lesson_names(r, raw, "hide", PANELS, "panel")
    if set(hide) == set(PANELS):
        r.bad("lesson.hide", "hides every panel; leave the student at least one to look at")
    steps = r.get(raw, "steps", "lesson", _Reader.integer, default=None, low=1, high=MAX_EPOCHS)
    return Lesson(goal or "", locked, hide, steps)


def _check_reference(r: _Reader, doc: dict, layers: list[Layer],
                     connections: list[Connection]) -> Reference | None:
    """The reference values, or None when the file has no [reference] table."""
    if "reference" not in doc:
        return None
    raw = r.table(doc["reference"], "reference", REFERENCE_KEYS)
    if raw is None:
        return None
    problems_before = len(r.problems)
    by_name = {layer.name: layer for layer in layers}
    biases, weights = [], []
    bias_tables, weight_tables = [], []  # the place among its tables of each entry of biases, weights
    seen_layers, seen_pairs = set(), set()
    tables = {}  # each array of tables, or [] when it is something else (reported once, here)
    for key in REFERENCE_KEYS:
        value = raw.get(key, [])
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            tables[key] = value
        else:
            r.bad(f"reference.{key}", f"must be written as [[reference.{key}]] tables")
            tables[key] = []
    for i, entry in enumerate(tables["layers"]):
        where = f"reference.layers[{i + 1}]"
        if r.table(entry, where, REFERENCE_LAYER_KEYS) is None:
            continue
        name = r.get(entry, "name", where, _Reader.string)
        if name is None:
            continue
        layer = by_name.get(name)
        if layer is None:
            close = _close(name, by_name)
            hint = f" (did you mean '{excerpt(close[0])}'?)" if close else ""
            r.bad(_join(where, "name"), f"there is no layer named '{excerpt(name)}'{hint}")
            continue
        if name in seen_layers:
            r.bad(_join(where, "name"), f"layer '{excerpt(name)}' has a reference already")
            continue
        seen_layers.add(name)
        if "bias" not in entry:
            r.bad(where, "missing required key 'bias' (the correct bias of each unit)")
            continue
        # (a layer whose activation is misspelled has None there too: not an input layer)
        if not any(c.receiver == name for c in connections):
            r.bad(_join(where, "bias"), f"'{excerpt(name)}' is an input layer (nothing connects to it), so it has no bias")
            continue
        if not layer.bias:
            r.bad(_join(where, "bias"), f"layer '{excerpt(name)}' has no bias to compare with (bias = false)")
            continue
        values = entry["bias"]
        if not isinstance(values, list):
            r.bad(_join(where, "bias"), f"must be a list of {_count(layer.size, 'number')}, not {_kind(values)}")
            continue
        if r.vector(values, _join(where, "bias"), layer.size,
                    f"layer '{excerpt(name)}' ({_count(layer.size, 'unit')})") is not None:
            biases.append((name, np.array(values, dtype=np.float64)))
            bias_tables.append(i)
    pairs = {(c.sender, c.receiver) for c in connections}
    for i, entry in enumerate(tables["connections"]):
        where = f"reference.connections[{i + 1}]"
        if r.table(entry, where, REFERENCE_CONNECTION_KEYS) is None:
            continue
        ends = [r.get(entry, key, where, _Reader.string) for key in ("from", "to")]
        if None in ends:
            continue
        pair = tuple(ends)
        if pair not in pairs:
            r.bad(where, f"there is no connection from '{excerpt(pair[0])}' to '{excerpt(pair[1])}'")
            continue
        if pair in seen_pairs:
            r.bad(where, f"the connection from '{excerpt(pair[0])}' to '{excerpt(pair[1])}' has a reference already")
            continue
        seen_pairs.add(pair)
        if "weights" not in entry:
            r.bad(where, "missing required key 'weights' (the correct weights)")
            continue
        rows, cols = by_name[pair[1]].size, by_name[pair[0]].size
        w = r.matrix(entry["weights"], _join(where, "weights"), rows, cols,
                     f"'{excerpt(pair[0])}' -> '{excerpt(pair[1])}' ({rows} receiving x {cols} sending units)")
        if w is not None:
            weights.append((pair[0], pair[1], w))
            weight_tables.append(i)
    # A shared matrix or bias is one parameter: it has one correct value, whichever of its
    # connections (layers) a reference names it by.
    share_of = {(c.sender, c.receiver): c.share for c in connections}
    _same_reference(r, [share_of[sender, receiver] for sender, receiver, _ in weights], [w for *_, w in weights],
                    [f"'{excerpt(sender)}' -> '{excerpt(receiver)}'" for sender, receiver, _ in weights],
                    weight_tables, "connections", "weights", "matrix")
    _same_reference(r, [by_name[name].bias_share for name, _ in biases], [values for _, values in biases],
                    [f"layer '{excerpt(name)}'" for name, _ in biases], bias_tables, "layers", "bias", "bias")
    if not biases and not weights and len(r.problems) == problems_before:
        r.bad("reference", "names no bias and no weights: add [[reference.layers]] or "
              "[[reference.connections]] tables, or remove [reference]")
    return Reference(tuple(biases), tuple(weights))


def _same_reference(r: _Reader, shares: list, values: list, labels: list[str], tables: list[int], kind: str,
                    key: str, what: str) -> None:
    """References to members of one share group must agree: they name the same parameters."""
    first: dict[str, int] = {}  # share name -> its first entry among values
    for n, (share, value, i) in enumerate(zip(shares, values, tables)):
        if share is None:
            continue
        if share not in first:
            first[share] = n
            continue
        m = first[share]
        if not np.array_equal(value, values[m]):
            r.bad(f"reference.{kind}[{i + 1}].{key}", f"differs from the reference for {labels[m]} "
                  f"({_where(r, f'reference.{kind}[{tables[m] + 1}]')}): both name the shared {what} "
                  f"'{excerpt(share)}', which has one correct value")


def _lesson_names(r: _Reader, raw: dict, key: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """A list of names from ``allowed`` (each wrong name is a problem of its own)."""
    where = f"lesson.{key}"
    if key not in raw or r.names(raw[key], where, what) is None:
        return ()
    for name in raw[key]:
        if name not in allowed:
            close = _close(name, allowed)
            hint = f" (did you mean '{excerpt(close[0])}'?)" if close else ""
            r.bad(where, f"'{excerpt(name)}' is not one of: {', '.join(allowed)}{hint}")
    return tuple(name for name in raw[key] if name in allowed)


def _check_data(r: _Reader, doc: dict, base: Path, n_in: int, n_out: int, n_units: int, loss: str,
                layout: tuple[str, str] | None = None) -> Data | None:
    """The patterns. ``layout``: how a row of a recurrent network's data is laid out by
    step (inputs, targets), in words, for the messages; None for a layered network."""
    if "data" not in doc:
        r.bad("", "missing the [data] table (the patterns to learn)")
        return None
    raw = r.table(doc["data"], "data", DATA_KEYS)
    if raw is None:
        return None
    names = None
    file = None
    if "file" in raw:
        both = [key for key in ("inputs", "targets") if key in raw]
        for key in both:
            r.bad(f"data.{key}", "give the data either inline (inputs, targets) or as a file, not both")
        file = r.get(raw, "file", "data", _Reader.string)
        if file is None or both:
            return None
        names, inputs, targets = _read_csv(r, base, file, n_in, n_out, n_units, layout=layout)
        if inputs is None:
            return None
        if "patterns" in raw:
            r.bad("data.patterns", "the CSV file names the patterns (its 'pattern' column); remove 'patterns' here")
            return None
    else:
        missing = [key for key in ("inputs", "targets") if key not in raw]
        for key in missing:
            r.bad("data", f"missing required key '{key}' (or give a 'file')")
        if missing:
            return None
        rows = raw["inputs"]
        count = len(rows) if isinstance(rows, list) else 0
        if count > MAX_PATTERNS:
            r.bad("data.inputs", f"{count:,} patterns; the limit is {MAX_PATTERNS:,}")
            return None
        if count * n_units > MAX_VALUES:
            r.bad("data.inputs", f"{count:,} patterns x {n_units:,} units is more than the limit of "
                  f"{MAX_VALUES:,} values")
            return None
        if layout is None:
            inputs_are = f"the input layers ({_count(n_in, 'unit')})"
            targets_are = f"the output layers ({_count(n_out, 'unit')})"
        else:
            inputs_are = f"the inputs laid out by step ({layout[0]}: {_count(n_in, 'column')})"
            targets_are = f"the targets laid out by step ({layout[1]}: {_count(n_out, 'column')})"
        inputs = r.matrix(rows, "data.inputs", count, n_in, inputs_are)
        targets = r.matrix(raw["targets"], "data.targets", count, n_out,
                           f"{_count(count, 'pattern')} and {targets_are}", allow_nan=True)
        if inputs is None or targets is None:
            return None
    count = len(inputs)
    if count == 0:
        r.bad("data", "there are no patterns")
        return None
    if "patterns" in raw:
        names = r.names(raw["patterns"], "data.patterns", "pattern")
        if names is not None and len(names) != count:
            r.bad("data.patterns", f"names {_count(len(names), 'pattern')}, but there are {count}")
            return None
    if names is None:
        names = [f"p{k + 1}" for k in range(count)]
    test_file, extra = None, 0
    if "test_file" in raw:  # held-out patterns of their own file, after the others
        test_file = r.get(raw, "test_file", "data", _Reader.string)
        if test_file is None:
            return None
        more_names, more_inputs, more_targets = _read_csv(r, base, test_file, n_in, n_out, n_units,
                                                          "data.test_file", layout)
        if more_inputs is None:
            return None
        extra = len(more_inputs)
        more_names = more_names or [f"t{k + 1}" for k in range(extra)]
        known = set(names)
        clash = next((name for name in more_names if name in known), None)
        if clash is not None:
            r.bad("data.test_file", f"pattern name '{excerpt(clash)}' is also in the training patterns"
                  if _shows_text(test_file) else f"a pattern name is also in the training patterns ({NOT_SHOWN})")
            return None
        if count + extra > MAX_PATTERNS or (count + extra) * n_units > MAX_VALUES:
            r.bad("data.test_file", f"{count + extra:,} patterns in all is more than the limits allow "
                  f"({MAX_PATTERNS:,} patterns, {MAX_VALUES:,} values)")
            return None
        names = list(names) + list(more_names)
        inputs = np.vstack([inputs, more_inputs])
        targets = np.vstack([targets, more_targets])
        count += extra
    test = np.zeros(count, dtype=bool)
    test[count - extra:] = True
    if "test" in raw:
        held = r.names(raw["test"], "data.test", "pattern")
        if held is None:
            return None
        index = {name: k for k, name in enumerate(names)}
        for name in held:
            if name not in index:
                r.bad("data.test", f"there is no pattern named '{excerpt(name)}'")
                return None
            test[index[name]] = True
    if test.all():
        r.bad("data.test", "every pattern is held out; at least one must be left to train on")
        return None
    if loss == "cross_entropy":
        t = targets[~np.isnan(targets)]
        if t.size and (t.min() < 0 or t.max() > 1):
            r.bad("data.file" if file else "data.targets", "cross_entropy needs targets from 0 to 1")
            return None
    return Data(tuple(names), inputs, targets, test, file, test_file, extra)


# A scenario may name any file as its data, another file's secrets too, and an error is
# often pasted where others read it: a cell or a name is quoted only from a file named as
# CSV data. Binary files and other encodings are refused before any text is looked at.
NOT_SHOWN = "its text is not shown, since the file's name does not end in .csv"


def _shows_text(file: str) -> bool:
    return file.lower().endswith(".csv")


def _read_csv(r: _Reader, base: Path, file: str, n_in: int, n_out: int, n_units: int, key: str = "data.file",
              layout: tuple[str, str] | None = None):
    """Patterns from a CSV file: a header row, an optional 'pattern' column, then the
    input columns and the target columns in layer order (by step, after ``layout``).
    Empty target = don't care."""
    path = base / file
    shown = excerpt(str(path), PATH_EXCERPT)
    quote = _shows_text(file)
    try:
        text = read_text(path, MAX_DATA_FILE_BYTES, shown, "CSV file")
    except InputError as e:
        for p in e.problems:
            place = f"{shown}:{p.line}" if p.line else shown
            r.bad(key, f"{place}: {p.message}")
        return None, None, None

    def bad(line: int, message: str):
        r.bad(key, f"{shown}:{line}: {message}")
        return None, None, None

    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None:
            return bad(1, "the file is empty; it needs a header row")
        named = bool(header) and header[0].strip().lower() == "pattern"
        width = n_in + n_out + named
        if len(header) != width:
            parts = ((_count(n_in, 'input'), _count(n_out, 'target')) if layout is None else
                     (f"{_count(n_in, 'input')} by step: {layout[0]};",
                      f"{_count(n_out, 'target')} by step: {layout[1]}"))
            return bad(1, f"the header has {_count(len(header), 'column')}; expected {width}"
                       f" ({'a pattern column, ' if named else ''}{parts[0]}{'' if layout else ','} {parts[1]})")
        # Stop at the first row over a limit, before the rest of a huge file is read.
        most = min(MAX_PATTERNS, MAX_VALUES // n_units)
        names: list[str] = []
        seen: dict[str, int] = {}  # name -> its line
        values = array("d")  # 8 bytes a value, where a list of floats takes 32
        count = 0
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if count >= most:
                if count >= MAX_PATTERNS:
                    return bad(line, f"more than {MAX_PATTERNS:,} patterns")
                return bad(line, f"{count + 1:,} patterns x {n_units:,} units is more than the limit of "
                           f"{MAX_VALUES:,} values")
            if len(row) != width:
                return bad(line, f"{_count(len(row), 'column')}; the header has {width}")
            if named:
                name = row[0].strip()
                if not name:
                    return bad(line, "the pattern name is empty")
                if not name.isprintable():
                    return bad(line, f"pattern name '{excerpt(name)}' {NOT_ONE_LINE}" if quote else
                               f"the pattern name {NOT_ONE_LINE} ({NOT_SHOWN})")
                if name in seen:
                    return bad(line, f"pattern name '{excerpt(name)}' is used twice" if quote else
                               f"the pattern name is also on line {seen[name]} ({NOT_SHOWN})")
                seen[name] = line
                names.append(name)
                row = row[1:]
            for k, cell in enumerate(row):
                cell = cell.strip()
                is_target = k >= n_in
                if cell == "" and is_target:
                    values.append(math.nan)
                    continue
                try:
                    x = float(cell)
                except ValueError:
                    return bad(line, f"column {k + 1 + named} ('{excerpt(cell)}') is not a number" if quote else
                               f"column {k + 1 + named} is not a number ({NOT_SHOWN})")
                if not math.isfinite(x) and not (is_target and math.isnan(x)):
                    return bad(line, f"column {k + 1 + named} must be finite, not {excerpt(cell) if quote else x}")
                values.append(x)
            count += 1
    except csv.Error as e:  # a cell over the csv module's size limit, for one
        return bad(reader.line_num, f"not valid CSV: {e}")
    table = np.frombuffer(values, dtype=np.float64).reshape(count, width - named)
    return (names if named else None), table[:, :n_in].copy(), table[:, n_in:].copy()


def scale_learning_rate(scenario: Scenario, factor: float) -> Scenario:
    """The same scenario with every learning rate (the base and each schedule entry's)
    multiplied by ``factor``: what "lower the learning rate" means after a divergence."""
    t = scenario.training
    schedule = tuple(replace(stage, learning_rate=None if stage.learning_rate is None
                             else stage.learning_rate * factor) for stage in t.schedule)
    training = replace(t, learning_rate=t.learning_rate * factor, schedule=schedule)
    return replace(scenario, training=training)


def change_settings(training: Training, from_epoch: int, learning_rate: float, momentum: float) -> Training:
    """``training`` with a new learning rate and momentum from ``from_epoch`` on, and as
    before until then: what editing the settings mid-run means, so the epochs already
    run keep the settings they ran with (a saved file then replays the whole run)."""
    # Later stages keep only their weight decay, which is not edited here.
    later = tuple(replace(s, learning_rate=None, momentum=None) for s in training.schedule
                  if s.from_epoch > max(from_epoch, 1) and s.weight_decay is not None)
    if from_epoch <= 1:
        return replace(training, learning_rate=learning_rate, momentum=momentum, schedule=later)
    earlier = tuple(s for s in training.schedule if s.from_epoch < from_epoch)
    stage = Stage(from_epoch, learning_rate, momentum, None)
    same = next((s for s in training.schedule if s.from_epoch == from_epoch), None)
    if same is not None:
        stage = replace(stage, weight_decay=same.weight_decay)
    return replace(training, schedule=earlier + (stage,) + later)
