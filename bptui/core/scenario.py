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
from dataclasses import dataclass, field, replace
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

    @property
    def size(self) -> int:
        return len(self.units)


@dataclass(frozen=True)
class Connection:
    sender: str
    receiver: str
    weights: np.ndarray | None  # receiving x sending starting weights (w_ji)
    trainable: bool = True


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

TOP_KEYS = ("format", "scenario", "layers", "connections", "data", "training", "lesson", "reference")
SCENARIO_KEYS = ("title", "summary", "story", "card")
LAYER_KEYS = ("name", "units", "size", "activation", "bias", "bias_trainable", "too_high", "too_low", "grid",
              "features")
MAX_FEATURES = 32  # named properties of one layer's units
MAX_CARD = 400  # characters of a story card: what fits the first screen beside the network
MAX_WORDS = 40  # characters of an output layer's too_high / too_low: drawn beside a unit
CONNECTION_KEYS = ("from", "to", "weights", "trainable")
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

    try:
        layers, connections = _check_network(r, doc)
    except _Bad:
        layers = connections = None
    training = _check_training(r, doc)
    lesson = _check_lesson(r, doc)
    if layers is None:
        raise _Bad  # the data's columns are the network's units

    receivers = {c.receiver for c in connections}
    senders = {c.sender for c in connections}
    inputs = [layer for layer in layers if layer.name not in receivers]
    outputs = [layer for layer in layers if layer.name not in senders]
    if training.loss == "cross_entropy":
        for i, layer in enumerate(layers, start=1):
            # None: a wrong activation, already reported.
            if layer.name not in senders and layer.activation not in ("sigmoid", "softmax", None):
                r.bad(f"layers[{i}].activation", f"cross_entropy needs sigmoid or softmax outputs; "
                      f"output layer '{excerpt(layer.name)}' is {layer.activation}")
    reference = _check_reference(r, doc, layers, connections)
    data = _check_data(r, doc, base, sum(layer.size for layer in inputs), sum(layer.size for layer in outputs),
                       sum(layer.size for layer in layers), training.loss)
    if data is None:
        raise _Bad
    return Scenario(title, summary, story, tuple(layers), tuple(connections), data, training, path, lesson,
                    reference, card or "")


def _check_network(r: _Reader, doc: dict) -> tuple[list[Layer], list[Connection]]:
    """The layers and connections; raises _Bad where the graph is too broken to go on."""
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

    # Connections: endpoints, duplicates, then the graph must be acyclic.
    pairs: dict[tuple[str, str], int] = {}  # (from, to) -> index in conns_raw, in file order
    for i, raw in enumerate(conns_raw):
        where = f"connections[{i + 1}]"
        r.table(raw, where, CONNECTION_KEYS)
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
        if pair[0] == pair[1]:
            r.bad(where, f"layer '{excerpt(pair[0])}' cannot connect to itself")
        elif pair in pairs:
            r.bad(where, f"'{excerpt(pair[0])}' is already connected to '{excerpt(pair[1])}'")
        else:
            pairs[pair] = i
    if len(pairs) < len(conns_raw):
        raise _Bad

    def line_of_connection(i: int) -> int | None:
        return line_of(r.lines, f"connections[{i + 1}]")

    cycle = _find_cycle(list(sizes), pairs)
    if cycle:
        first = min(pairs[pair] for pair in zip(cycle, cycle[1:]))
        r.bad("connections", f"the connections form a cycle ({' -> '.join(excerpt(name) for name in cycle)}); a network must be acyclic",
              line=line_of_connection(first))
    linked = {name for pair in pairs for name in pair}
    for i, name in enumerate(sizes):
        if name not in linked:
            r.bad(f"layers[{i + 1}]", f"layer '{excerpt(name)}' is not connected to anything")
    if cycle or len(linked) < len(sizes):
        raise _Bad

    # Every unit of a receiving layer has a bias: count it with the first connection into it.
    weights, over, receivers = 0, None, set()
    for (a, b), i in pairs.items():
        weights += sizes[a] * sizes[b] + (0 if b in receivers else sizes[b])
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
    sends_to = {}  # layer -> the first layer it connects to, in file order
    for a, b in pairs:
        sends_to.setdefault(a, b)
    layers: list[Layer] = []
    for i, (raw, name) in enumerate(zip(layers_raw, sizes)):
        where = f"layers[{i + 1}]"
        n = sizes[name]
        units = tuple(named[name]) if name in named else tuple(f"{name}[{k}]" for k in range(n))
        too_high, too_low = _output_words(r, raw, where, name, sends_to.get(name))
        if name not in receivers:
            for key in ("activation", "bias", "bias_trainable"):
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
        layers.append(Layer(name, units, activation, bias, bias_values, *_drawing(r, raw, where, n),
                            bias_trainable=bias_trainable is not False, too_high=too_high, too_low=too_low))

    connections: list[Connection] = []
    for (sender, receiver), i in pairs.items():
        where = f"connections[{i + 1}]"
        raw = conns_raw[i]
        weights = None
        if "weights" in raw:
            rows, cols = sizes[receiver], sizes[sender]
            weights = r.matrix(raw["weights"], _join(where, "weights"), rows, cols,
                               f"'{excerpt(sender)}' -> '{excerpt(receiver)}' ({rows} receiving x {cols} sending units)")
        trainable = r.get(raw, "trainable", where, _Reader.boolean, default=True)
        connections.append(Connection(sender, receiver, weights, bool(trainable)))
    return layers, connections


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
    if not biases and not weights and len(r.problems) == problems_before:
        r.bad("reference", "names no bias and no weights: add [[reference.layers]] or "
              "[[reference.connections]] tables, or remove [reference]")
    return Reference(tuple(biases), tuple(weights))


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


def _check_data(r: _Reader, doc: dict, base: Path, n_in: int, n_out: int, n_units: int, loss: str) -> Data | None:
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
        names, inputs, targets = _read_csv(r, base, file, n_in, n_out, n_units)
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
        inputs = r.matrix(rows, "data.inputs", count, n_in, f"the input layers ({_count(n_in, 'unit')})")
        targets = r.matrix(raw["targets"], "data.targets", count, n_out,
                           f"{_count(count, 'pattern')} and the output layers ({_count(n_out, 'unit')})",
                           allow_nan=True)
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
                                                          "data.test_file")
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


def _read_csv(r: _Reader, base: Path, file: str, n_in: int, n_out: int, n_units: int, key: str = "data.file"):
    """Patterns from a CSV file: a header row, an optional 'pattern' column, then the
    input columns and the target columns in layer order. Empty target = don't care."""
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
            return bad(1, f"the header has {_count(len(header), 'column')}; expected {width}"
                       f" ({'a pattern column, ' if named else ''}{_count(n_in, 'input')}, {_count(n_out, 'target')})")
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
