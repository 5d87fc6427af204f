"""Property-based tests of the scenario loader (SPEC sections 2-3), with hypothesis.

A strategy writes VALID scenario files as TOML text: random small layer graphs (1-3
input layers, 0-3 hidden, 1-2 output, acyclic, with skip links), random activations,
optional starting weights and biases of the right shape, inline or CSV data with some
``nan`` targets and held-out patterns, random training settings within the allowed
ranges, sometimes a schedule, and ``sse`` or ``cross_entropy`` with outputs and targets
that suit it. Then it MUTATES them: drops a key, swaps a value's type, breaks a shape,
puts in an extreme number, renames a layer reference, duplicates a table, flips or
deletes bytes, inserts a NUL or invalid UTF-8, truncates the file.

Properties:

1. every valid file loads, and a ``Run`` trains 3 epochs (whatever its status), its
   JSON reports can be made, and the state it saves loads again;
2. every mutated file either loads (some mutations keep it valid; then it trains too)
   or raises ``InputError`` whose every line is ``bptui: PATH[:LINE]: message``, one
   printable line, never another exception and never a hang;
3. ``python -m bptui check FILE`` on mutated files exits 0 or 2 and never prints a
   traceback (a subprocess each, so fewer examples);
4. a value of the wrong type is reported at the key path and the line where it is.

Known loader bugs found by fuzzing are kept below as plain tests marked
``xfail(strict=True)``, each with the smallest input that shows it. The strategies
steer clear of them (see ``KNOWN BUGS``), so that the properties keep guarding
everything else; a strict xfail turns into a failure the day the bug is fixed, and
then the marker, and the matching exclusion in the strategies, are to be removed.

Runs are reproducible (``derandomize=True``, no example database) and bounded: the
whole file runs in well under a minute on two cores. ``TRIED`` counts the inputs each
property tried; the last test checks the totals and prints them.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime
import io
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bptui.core.errors import InputError
from bptui.core.report import dumps, inspect_report, train_report
from bptui.core.save import scenario_toml
from bptui.core.scenario import (LOSSES, MAX_EPOCHS, MAX_SEED, MAX_UNITS, MAX_WEIGHTS, Scenario,
                                 load_scenario, parse_scenario)
from bptui.core.training import CONVERGED, DIVERGED, MAX_EPOCHS as STATUS_MAX_EPOCHS, Run

from conftest import AND_TOML

ROOT = Path(__file__).resolve().parent.parent

# How many inputs each property tried in this session (checked and printed at the end).
TRIED: Counter = Counter()
# The least each property must have tried when it ran: a run that silently stops early
# (a health check, a filter that rejects everything) must not pass unnoticed.
FLOORS = {"valid": 150, "mutated": 500, "cli": 15, "lines": 100}


def _settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- Bugs fuzzing found, all fixed since; their regression tests are at the end -------------
#
# 1. A whole number too big for a float (10**309 and up) where a number is expected
#    crashes the loader with OverflowError (_Reader.number, _Reader.vector).
# 2. A whole number over 4,300 decimal digits crashes it with ValueError: in tomllib when
#    written in decimal, in the "out of range" message when written in hex, octal or binary.
# 3. weight_init from about 8.99e307 on passes the loader, but the run's starting weights
#    (numpy's uniform(-r, r)) raise OverflowError: "high - low range exceeds valid bounds".
# 4. In a multi-line basic string, an escaped quote just before two more quotes (\""")
#    makes the line scanner (tomlkeys) think the string has ended: keys and table headers
#    written inside the rest of the string then get the line numbers of real keys.
# 5. Not the loader: `bptui sweep --seeds 100000` over a network of a million weights asks
#    numpy for hundreds of GiB at once: MemoryError, a traceback and exit 1.
SAFE_WEIGHT_INIT = 1e6  # the largest weight_init a file may give (MAX_WEIGHT_INIT)


# --- Writing TOML ----------------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _control(c: str) -> bool:
    return ord(c) < 0x20 or ord(c) == 0x7F


def basic_string(s: str) -> str:
    return '"' + "".join(_SHORT_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if _control(c) else c) for c in s) + '"'


def multiline_string(s: str, style: str) -> str:
    """A multi-line TOML string: every quote escaped ("all"), only where three would meet
    ("min"), the first of each run escaped ("lead", known bug 4), or literal ('''...''')."""
    if style == "literal" and "'''" not in s and not s.endswith("'") and all(
            c in "\t\n" or not _control(c) for c in s):
        return "'''\n" + s + "'''"
    if style == "literal":  # the text cannot be written literally
        style = "all"
    out, run = [], 0
    for k, c in enumerate(s):
        if c == '"':
            last = k == len(s) - 1 or all(q == '"' for q in s[k:])  # quotes that end the text
            escape = style == "all" or last or (style == "min" and run == 2) or (style == "lead" and run % 3 == 0)
            out.append('\\"' if escape else '"')
            run = 0 if (escape and style == "min") else run + 1
            continue
        run = 0
        if c == "\\":
            out.append("\\\\")
        elif c in "\n\t":
            out.append(c)
        elif _control(c):
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"""\n' + "".join(out) + '"""'


def toml_key(k: str) -> str:
    return k if _BARE.fullmatch(k) else basic_string(k)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return basic_string(v)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    raise TypeError(type(v))


@dataclass
class Style:
    multiline_matrices: bool = False  # a matrix with one row per line
    inline_connections: bool = False  # connections = [{ from = ..., to = ... }, ...]
    comments: bool = False  # a comment after each value
    story: str = "all"  # how a multi-line story is written: see multiline_string
    blank_lines: bool = True


def _is_aot(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


class Emitter:
    """A document (dicts, lists, scalars) as TOML text; ``lines`` records the line of each
    key and table header written, under the key paths the loader uses (``layers[2].size``)."""

    def __init__(self, style: Style):
        self.style = style
        self.out: list[str] = []
        self.n = 1  # the line the next write starts on
        self.lines: dict[str, int] = {}

    def write(self, text: str, path: str | None = None) -> None:
        if path is not None:
            self.lines.setdefault(path, self.n)
        self.out.append(text)
        self.n += text.count("\n") + 1

    def value(self, key: str, v) -> str:
        if key == "story" and isinstance(v, str) and "\n" in v:
            return multiline_string(v, self.style.story)
        if (self.style.multiline_matrices and key in ("inputs", "targets", "weights") and isinstance(v, list)
                and len(v) > 1):
            return "[\n" + "".join(f"  {toml_value(row)},\n" for row in v) + "]"
        return toml_value(v)

    def table(self, table: dict, header: list[str], path: str) -> None:
        def scalar(k, v):
            if isinstance(v, dict):
                return False
            if _is_aot(v):
                return path == "" and k == "connections" and self.style.inline_connections
            return True

        for k, v in table.items():
            if scalar(k, v):
                comment = "  # a comment" if self.style.comments else ""
                self.write(f"{toml_key(k)} = {self.value(k, v)}{comment}", f"{path}.{k}" if path else k)
        for k, v in table.items():
            if scalar(k, v):
                continue
            sub = header + [toml_key(k)]
            at = f"{path}.{k}" if path else k
            if self.style.blank_lines:
                self.write("")
            if isinstance(v, dict):
                self.write(f"[{'.'.join(sub)}]", at)
                self.table(v, sub, at)
            else:
                for i, item in enumerate(v):
                    if i and self.style.blank_lines:
                        self.write("")
                    self.write(f"[[{'.'.join(sub)}]]", f"{at}[{i + 1}]")
                    self.table(item, sub, f"{at}[{i + 1}]")


def emit(doc: dict, style: Style) -> tuple[str, dict[str, int]]:
    e = Emitter(style)
    e.table(doc, [], "")
    return "\n".join(e.out) + "\n", e.lines


# --- Valid scenarios -------------------------------------------------------------------------

# Text with the characters that trip up scanners and terminals, and fragments of TOML.
_TRICKY = st.sampled_from(['"', "'", "\\", "[", "]", "=", "#", "{", "}", ".", "\n", "\t", "\r", "\x1b", "\x00",
                           "\u2028", "\x85", "\ufeff", "é", "\U0001f600", '"""', "'''", "[[layers]]\n",
                           "[training]\n", "size = 2\n", 'title = "x"\n', "momentum = 0.5\n", "format = 1\n"])
TEXT = st.lists(st.one_of(st.text(max_size=6), _TRICKY), max_size=6).map("".join)
# A title, a summary or a name is one printable line (a control code in one is refused:
# tests/test_malformed.py); the tricky TOML fragments stay, less their line breaks.
ONE_LINE = TEXT.map(lambda s: "".join(c for c in s if c.isprintable()))
PRINTABLE = st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
                          include_characters=" ")
NAME = st.one_of(
    st.sampled_from(["input", "hidden", "output", "x", "y", "mixing", "Priya", "h1", "h2", "out", "a b", "é"]),
    st.text(PRINTABLE, min_size=1, max_size=6).filter(lambda s: s.strip() and s.isprintable()),
)
# Names a CSV file can hold as they are: the loader strips the cells of spaces.
CSV_NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp")),
                   min_size=1, max_size=5)
SMALL = st.one_of(st.floats(-4, 4, allow_nan=False), st.integers(-3, 3))
WILD = st.one_of(SMALL, st.floats(allow_nan=False, allow_infinity=False))  # finite, up to 1.8e308
UNIT_INTERVAL = st.one_of(st.floats(0, 1), st.sampled_from([0, 1]))


@dataclass
class Case:
    doc: dict
    style: Style
    csv: tuple[str, str] | None = None  # (file name, text) when the data comes from a CSV file
    expect: dict = field(default_factory=dict)  # what the loaded scenario must look like

    def text(self) -> str:
        return emit(self.doc, self.style)[0]


@st.composite
def styles(draw) -> Style:
    return Style(multiline_matrices=draw(st.booleans()), inline_connections=draw(st.booleans()),
                 comments=draw(st.booleans()), story=draw(st.sampled_from(["all", "min", "literal"])),
                 blank_lines=draw(st.booleans()))


@st.composite
def valid_cases(draw) -> Case:
    rnd = draw(st.randoms(use_true_random=False))  # for cosmetic choices: key order
    loss = draw(st.sampled_from(LOSSES))
    n_in, n_hid, n_out = draw(st.integers(1, 3)), draw(st.integers(0, 3)), draw(st.integers(1, 2))
    total = n_in + n_hid + n_out
    kind = ["in"] * n_in + ["hid"] * n_hid + ["out"] * n_out  # in topological order
    names = draw(st.lists(NAME, min_size=total, max_size=total, unique=True))
    sizes = [draw(st.integers(1, 4)) for _ in range(total)]

    # The graph: every hidden and output layer is fed by an earlier layer, every input and
    # hidden layer feeds a later one, and a few more links (skip links) on top.
    edges: set[tuple[int, int]] = set()
    for j in range(n_in, total):
        edges.add((draw(st.sampled_from([i for i in range(j) if kind[i] != "out"])), j))
    for i in range(n_in + n_hid):
        if not any(a == i for a, _ in edges):
            edges.add((i, draw(st.sampled_from([j for j in range(i + 1, total) if kind[j] != "in"]))))
    more = sorted((i, j) for i in range(total) for j in range(i + 1, total)
                  if kind[i] != "out" and kind[j] != "in" and (i, j) not in edges)
    if more:
        edges |= set(draw(st.lists(st.sampled_from(more), max_size=3)))
    order = draw(st.permutations(range(total)))  # declaration order of the layers
    wild = draw(st.integers(0, 9)) == 0  # now and then, numbers up to 1.8e308
    number = WILD if wild else SMALL

    layers = []
    for i in order:
        layer: dict = {"name": names[i]}
        if draw(st.booleans()):
            layer["units"] = draw(st.lists(NAME, min_size=sizes[i], max_size=sizes[i], unique=True))
        else:
            layer["size"] = sizes[i]
        if kind[i] != "in":
            softmax = ["softmax"] if sizes[i] >= 2 else []
            if kind[i] == "out" and loss == "cross_entropy":
                choices = [None, "sigmoid", *softmax]
            else:
                choices = [None, "sigmoid", "tanh", "relu", "linear", *softmax]
            activation = draw(st.sampled_from(choices))
            if activation is not None:
                layer["activation"] = activation
            bias = draw(st.sampled_from(["omit", True, False, "values"]))
            if bias == "values":
                layer["bias"] = draw(st.lists(number, min_size=sizes[i], max_size=sizes[i]))
            elif bias != "omit":
                layer["bias"] = bias
        layers.append(_shuffled(layer, rnd))

    connections = []
    for a, b in draw(st.permutations(sorted(edges))):
        conn: dict = {"from": names[a], "to": names[b]}
        if draw(st.integers(0, 2)) == 0:
            conn["weights"] = [draw(st.lists(number, min_size=sizes[a], max_size=sizes[a])) for _ in range(sizes[b])]
        if draw(st.integers(0, 3)) == 0:
            conn["trainable"] = draw(st.booleans())
        connections.append(_shuffled(conn, rnd))

    # Data: the input layers' columns, then the output layers', in declaration order.
    n_x = sum(sizes[i] for i in order if kind[i] == "in")
    n_t = sum(sizes[i] for i in order if kind[i] == "out")
    count = draw(st.integers(1, 6))
    inputs = [draw(st.lists(number, min_size=n_x, max_size=n_x)) for _ in range(count)]
    care = draw(st.sampled_from([1.0, 0.8, 0.3, 0.0]))  # the chance that a target counts
    target = UNIT_INTERVAL if loss == "cross_entropy" else number
    targets = [[draw(target) if rnd.random() < care else math.nan for _ in range(n_t)] for _ in range(count)]
    from_csv = draw(st.integers(0, 4)) == 0
    names_given = draw(st.booleans())
    pattern_names = draw(st.lists(CSV_NAME if from_csv else NAME, min_size=count, max_size=count, unique=True)) \
        if names_given else [f"p{k + 1}" for k in range(count)]
    data: dict = {}
    csv_file = None
    if from_csv:
        file = draw(st.sampled_from(["data.csv", "patterns.csv", "my data.csv"]))
        data["file"] = file
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow((["pattern"] if names_given else []) + [f"c{k}" for k in range(n_x + n_t)])
        for k in range(count):
            cells = [repr(float(x)) for x in inputs[k]]
            cells += [draw(st.sampled_from(["", "nan"])) if math.isnan(t) else repr(float(t)) for t in targets[k]]
            writer.writerow(([pattern_names[k]] if names_given else []) + cells)
        csv_file = (file, out.getvalue())
    else:
        if names_given:
            data["patterns"] = pattern_names
        data["inputs"] = inputs
        data["targets"] = targets
    held = []
    if count > 1 and draw(st.booleans()):
        held = draw(st.lists(st.sampled_from(pattern_names), max_size=count - 1, unique=True))
        data["test"] = held

    training: dict = {}
    if loss != "sse" or draw(st.booleans()):
        training["loss"] = loss
    options = {
        "learning_rate": st.one_of(st.just(0), st.floats(0, 2), st.floats(0, 1e3)),
        "momentum": UNIT_INTERVAL,
        "weight_decay": st.one_of(st.just(0.0), st.floats(0, 0.1), st.floats(0, 1, exclude_max=True)),
        "update": st.sampled_from(["batch", "online"]),
        "order": st.sampled_from(["sequential", "shuffled"]),
        "margin": st.one_of(st.just(0), st.floats(0, 1)),
        "epochs": st.integers(0, MAX_EPOCHS),
        "error_criterion": st.one_of(st.just(0), st.floats(0, 1), st.floats(0, 1e6)),
        "weight_init": st.one_of(st.floats(0, 5), st.floats(0, SAFE_WEIGHT_INIT)),
        "seed": st.integers(0, MAX_SEED),
    }
    for key in draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=len(options))):
        training[key] = draw(options[key])
    if draw(st.integers(0, 3)) == 0:
        starts = sorted(draw(st.lists(st.integers(1, 50), min_size=1, max_size=3, unique=True)))
        stages = []
        for start in starts:
            stage = {"from_epoch": start}
            keys = draw(st.lists(st.sampled_from(["learning_rate", "momentum", "weight_decay"]), min_size=1,
                                 unique=True))
            for key in keys:
                stage[key] = draw(options[key])
            stages.append(stage)
        training["schedule"] = stages

    scenario: dict = {"title": draw(ONE_LINE)}
    if draw(st.booleans()):
        scenario["summary"] = draw(ONE_LINE)
    if draw(st.booleans()):
        scenario["story"] = draw(TEXT) + "\n" + draw(TEXT)
    doc: dict = {"format": 1, "scenario": _shuffled(scenario, rnd), "layers": layers,
                 "connections": connections, "data": _shuffled(data, rnd)}
    if training or draw(st.booleans()):
        doc["training"] = _shuffled(training, rnd)
    expect = {"layers": total, "connections": len(edges), "inputs": (count, n_x), "targets": (count, n_t),
              "held": len(held), "outputs": n_out}
    return Case(doc, draw(styles()), csv_file, expect)


def _shuffled(table: dict, rnd) -> dict:
    keys = list(table)
    rnd.shuffle(keys)
    return {k: table[k] for k in keys}


# --- Mutations -------------------------------------------------------------------------------

EXTREME = [1e308, -1e308, 1.7976931348623157e308, 10**18, -(10**18), 2**63 - 1, 2**63, -(2**63), 2**64,
           math.nan, math.inf, -math.inf, 5e-324, -0.0, 0, 1e-308, 10**308, 10**309]
OTHER_TYPES = ["text", "", "sigmoid", 0, 1, -1, 2.5, True, False, [], [1, 2], ["a", "b"], [[1, 2]], [True],
               {}, {"a": 1}, {"name": "x"}, datetime.date(1986, 10, 9), datetime.time(7, 32),
               datetime.datetime(1986, 10, 9, 12, 0, tzinfo=datetime.timezone.utc)]
UNKNOWN_KEYS = ["colour", "learning_rat", "activaton", "wieghts", "Name", "", "a b", "size ", "\n"]
INVALID_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf", b"\x80", b"\xe2\x82"]
NOISE = [b"[", b"]", b'"', b"'", b"=", b"\n", b"#", b"{", b"}", b"\r", b",", b".", b"\\", b"\t",
         "\u2028".encode(), b'"""', b"[[layers]]\n", b"0x", b"1e", b"-"]
MODEL_MUTATIONS = ["drop_key", "swap_type", "break_shape", "extreme", "rename_ref", "duplicate_entry",
                   "unknown_key", "empty_list"]
BYTE_MUTATIONS = ["flip", "delete", "nul", "invalid_utf8", "truncate", "duplicate_section", "duplicate_line",
                  "noise", "swap_lines"]
CSV_MUTATIONS = ["csv_flip", "csv_delete", "csv_truncate", "csv_nul", "csv_invalid_utf8", "csv_missing",
                 "csv_noise"]


def _paths(node, path=()) -> list[tuple]:
    """Every place in the document: dict keys and list elements, as index paths."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(path + (k,))
            out.extend(_paths(v, path + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(path + (i,))
            out.extend(_paths(v, path + (i,)))
    return out


def _parent(doc, path):
    node = doc
    for k in path[:-1]:
        node = node[k]
    return node


def _get(doc, path):
    return _parent(doc, path)[path[-1]]


@dataclass
class Mutated:
    toml: bytes
    csv: tuple[str, bytes] | None  # (name, bytes); None when there is no CSV file to write
    what: list[str]


class Picks:
    """Choices for the mutations, drawn BEFORE the valid case. Hypothesis draws late in a long
    example lean hard towards the simplest value (index 0 a third of the time, measured), so
    choosing the mutations after the case would try mostly the first one of each list."""

    def __init__(self, numbers: list[int]):
        self.numbers = list(numbers)

    def index(self, n: int) -> int:
        return self.numbers.pop() % n if self.numbers and n else 0

    def choice(self, seq):
        return seq[self.index(len(seq))]

    def chance(self, one_in: int) -> bool:
        return self.index(one_in) == 0


PICKS = st.lists(st.integers(0, 2**24), min_size=48, max_size=48).map(Picks)


@st.composite
def mutated_cases(draw) -> Mutated:
    pick = draw(PICKS)
    case = draw(valid_cases())
    doc = copy.deepcopy(case.doc)
    what: list[str] = []
    n_model = pick.index(3)
    n_bytes = pick.index(3) if n_model else 1 + pick.index(2)
    for _ in range(n_model):
        what.append(_mutate_model(pick, doc))
    data = emit(doc, case.style)[0].encode("utf-8")
    for _ in range(n_bytes):
        op = pick.choice(BYTE_MUTATIONS)
        data = _mutate_bytes(pick, op, data)
        what.append(op)
    csv_file = None
    if case.csv is not None:
        name, raw = case.csv[0], case.csv[1].encode("utf-8")
        if pick.chance(3):
            op = pick.choice(CSV_MUTATIONS)
            what.append(op)
            raw = None if op == "csv_missing" else _mutate_bytes(pick, op.removeprefix("csv_"), raw)
        if raw is not None:
            csv_file = (name, raw)
    return Mutated(data, csv_file, what)


def _mutate_model(pick: Picks, doc: dict, op: str | None = None) -> str:
    op = op or pick.choice(MODEL_MUTATIONS)
    paths = _paths(doc)
    if op == "drop_key":
        keys = [p for p in paths if isinstance(_parent(doc, p), dict)]
        path = pick.choice(keys)
        del _parent(doc, path)[path[-1]]
    elif op == "swap_type":
        path = pick.choice(paths)
        old = _get(doc, path)
        new = pick.choice([v for v in OTHER_TYPES if type(v) is not type(old)])
        _parent(doc, path)[path[-1]] = copy.deepcopy(new)
    elif op == "break_shape":
        lists = [p for p in paths if isinstance(_get(doc, p), list) and p[-1] in
                 ("inputs", "targets", "weights", "bias", "units", "patterns", "test")]
        if not lists:
            return _mutate_model(pick, doc, "swap_type")
        path = pick.choice(lists)
        rows = _get(doc, path)
        # A row of a matrix, or the list itself.
        target = rows
        if rows and all(isinstance(r, list) for r in rows) and pick.chance(2):
            target = pick.choice(rows)
            path = path + ("row",)
        if target and pick.chance(2):
            del target[pick.index(len(target))]
        else:
            target.insert(pick.index(len(target) + 1), copy.deepcopy(target[0]) if target else 0.5)
    elif op == "extreme":
        leaves = [p for p in paths if not isinstance(_get(doc, p), (dict, list))]
        # Most of the time a number: that is where an extreme number means something.
        numbers = [p for p in leaves if isinstance(_get(doc, p), (int, float))]
        path = pick.choice(numbers if numbers and not pick.chance(4) else leaves)
        _parent(doc, path)[path[-1]] = pick.choice(EXTREME)
    elif op == "rename_ref":
        refs = [p for p in paths if len(p) >= 2 and (p[-1] in ("from", "to", "name") or p[-2] == "test")
                and isinstance(_get(doc, p), str)]
        if not refs:
            return _mutate_model(pick, doc, "swap_type")
        path = pick.choice(refs)
        old = _get(doc, path)
        layer_names = [layer.get("name") for layer in doc.get("layers", []) if isinstance(layer, dict)]
        new = pick.choice([old + "x", old[:-1], old.upper(), "", " ", "nowhere",
                           *(n for n in layer_names if isinstance(n, str))])
        _parent(doc, path)[path[-1]] = new
    elif op == "duplicate_entry":
        lists = [p for p in paths if _is_aot(_get(doc, p))]
        if not lists:
            return _mutate_model(pick, doc, "swap_type")
        path = pick.choice(lists)
        entries = _get(doc, path)
        entries.insert(pick.index(len(entries) + 1), copy.deepcopy(pick.choice(entries)))
    elif op == "unknown_key":
        tables = [()] + [p for p in paths if isinstance(_get(doc, p), dict)]
        path = pick.choice(tables)
        table = _get(doc, path) if path else doc
        table[pick.choice(UNKNOWN_KEYS)] = copy.deepcopy(pick.choice(OTHER_TYPES))
    else:  # empty_list
        lists = [p for p in paths if isinstance(_get(doc, p), list)]
        if not lists:
            return _mutate_model(pick, doc, "swap_type")
        path = pick.choice(lists)
        _parent(doc, path)[path[-1]] = []
    return f"{op} {'.'.join(map(str, path))}"


def _mutate_bytes(pick: Picks, op: str, data: bytes) -> bytes:
    at = pick.index(len(data) + 1)
    if op == "flip":
        if not data:
            return data
        at = min(at, len(data) - 1)
        # Mostly within ASCII, so that the text stays UTF-8 and the flip reaches TOML and the checks.
        mask = 1 + pick.index(255 if pick.chance(4) else 127)
        return data[:at] + bytes([data[at] ^ mask]) + data[at + 1:]
    if op == "delete":
        return data[:at] + data[at + 1 + pick.index(8):]
    if op == "nul":
        return data[:at] + b"\0" + data[at:]
    if op == "invalid_utf8":
        return data[:at] + pick.choice(INVALID_UTF8) + data[at:]
    if op == "truncate":
        return data[:at]
    if op == "noise":
        return data[:at] + pick.choice(NOISE) + data[at:]
    lines = data.split(b"\n")
    if op == "duplicate_line":
        k = pick.index(len(lines))
        return b"\n".join(lines[: k + 1] + lines[k:])
    if op == "swap_lines":
        a, b = pick.index(len(lines)), pick.index(len(lines))
        lines[a], lines[b] = lines[b], lines[a]
        return b"\n".join(lines)
    # duplicate_section: a [table] or [[table]] header and what follows it, written again
    headers = [k for k, line in enumerate(lines) if line.startswith(b"[")]
    if not headers:
        return data
    k = pick.choice(headers)
    end = next((h for h in headers if h > k), len(lines))
    where = pick.choice([end, len(lines)])
    return b"\n".join(lines[:where] + lines[k:end] + lines[where:])


# --- Checking the outcome --------------------------------------------------------------------

class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise Hang if the block runs longer than seconds (POSIX main thread; else no limit)."""
    if not hasattr(signal, "setitimer") or not _main_thread():
        yield
        return

    def alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def _line_re(display: str) -> re.Pattern:
    return re.compile(rf"bptui: {re.escape(display)}(?::(?P<line>[1-9][0-9]*))?: \S.*")


def assert_clean_error(error: InputError, display: str, raw: bytes) -> None:
    """Every line: ``bptui: PATH[:LINE]: message``, printable, one line, at a line of the file."""
    lines = error.lines()
    assert lines, "an InputError must carry at least one problem"
    assert str(error) == "\n".join(lines)
    pattern = _line_re(display)
    last_line = raw.count(b"\n") + 1
    for line in lines:
        assert "\n" not in line and line.isprintable(), f"not one printable line: {line!r}"
        m = pattern.fullmatch(line)
        assert m, f"not 'bptui: PATH[:LINE]: message': {line!r}"
        if m["line"]:
            assert int(m["line"]) <= last_line, f"names line {m['line']} of a {last_line}-line file: {line!r}"


def write_case(directory: Path, toml: bytes, csv_file) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "scenario.toml"
    path.write_bytes(toml)
    if csv_file is not None:
        (directory / csv_file[0]).write_bytes(csv_file[1])
    return path


def train_briefly(scenario: Scenario, epochs: int) -> Run:
    with time_limit(30), np.errstate(all="ignore"):
        run = Run(scenario, max_epochs=epochs)
        status = run.train()
    assert status in (CONVERGED, DIVERGED, STATUS_MAX_EPOCHS)
    assert 1 <= len(run.losses) <= epochs
    return run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _fresh(workdir: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=workdir))


def _plain(x):
    """A document with nan replaced by a marker, so that two documents compare equal."""
    if isinstance(x, float) and math.isnan(x):
        return "<nan>"
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


# --- Property 1: valid files load and train ----------------------------------------------------

@_settings(200)
@given(case=valid_cases())
def test_a_valid_file_loads_and_trains(case, workdir):
    TRIED["valid"] += 1
    text = case.text()
    # The strategy's own check: the text says what the document says.
    assert _plain(tomllib.loads(text)) == _plain(case.doc)
    directory = _fresh(workdir)
    path = write_case(directory, text.encode("utf-8"), None if case.csv is None else
                      (case.csv[0], case.csv[1].encode("utf-8")))
    with time_limit(20):
        scenario = parse_scenario(text, str(path), base=directory, path=path)
    e = case.expect
    assert len(scenario.layers) == e["layers"] and len(scenario.connections) == e["connections"]
    assert scenario.data.inputs.shape == e["inputs"] and scenario.data.targets.shape == e["targets"]
    assert int(scenario.data.test.sum()) == e["held"] and len(scenario.output_layers) == e["outputs"]
    again = load_scenario(path)  # from the file, the same
    assert again.layers == scenario.layers and again.training == scenario.training

    run = train_briefly(scenario, 3)
    with time_limit(20), np.errstate(all="ignore"):  # at diverged weights the numbers overflow: an outcome
        dumps(train_report(run))
        dumps(inspect_report(run))
    if run.status != DIVERGED:
        saved = directory / "saved.toml"
        saved.write_text(scenario_toml(run, saved), encoding="utf-8")
        again = load_scenario(saved)
        assert again.data.names == scenario.data.names


# --- Property 2: mutated files load or fail cleanly --------------------------------------------

@_settings(600)
@given(m=mutated_cases())
def test_a_mutated_file_loads_or_fails_cleanly(m, workdir):
    TRIED["mutated"] += 1
    path = write_case(_fresh(workdir), m.toml, m.csv)
    try:
        with time_limit(20):
            scenario = load_scenario(path)
    except InputError as error:
        assert_clean_error(error, str(path), m.toml)
        return
    assert isinstance(scenario, Scenario)
    train_briefly(scenario, 2)  # a file the loader accepts must train


# --- Property 3: `bptui check` on mutated files ----------------------------------------------

def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def cli_check(path: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-m", "bptui", "check", str(path)], capture_output=True, text=True,
                              cwd=ROOT, env=_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`bptui check {path}` still running after {timeout} s: a hang")


@_settings(15)
@given(m=mutated_cases())
def test_check_command_on_a_mutated_file(m, workdir):
    TRIED["cli"] += 1
    path = write_case(_fresh(workdir), m.toml, m.csv)
    result = cli_check(path)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 2), result.stderr[-3000:]
    if result.returncode == 0:
        assert result.stdout == f"ok: {path}\n" and result.stderr == ""
    else:
        assert result.stdout == ""
        pattern = _line_re(str(path))
        for line in result.stderr.rstrip("\n").split("\n"):
            assert pattern.fullmatch(line), f"not 'bptui: PATH[:LINE]: message': {line!r}"
    # The command and the loader agree.
    try:
        load_scenario(path)
        loads = True
    except InputError:
        loads = False
    assert loads == (result.returncode == 0)


# --- Property 4: a wrong value is reported at its key and its line -----------------------------

# Keys whose value, when it is a list, is wrong on its own: the problem names exactly this key.
_SCALAR_KEYS = {"format", "title", "summary", "story", "name", "size", "activation", "trainable", "from", "to",
                "loss", "learning_rate", "momentum", "weight_decay", "update", "order", "margin", "epochs",
                "error_criterion", "weight_init", "seed", "from_epoch", "file"}


@st.composite
def wrong_values(draw):
    pick = draw(PICKS)
    case = draw(valid_cases())
    lines = emit(case.doc, case.style)[1]
    paths = [p for p in _paths(case.doc) if isinstance(p[-1], str) and p[-1] in _SCALAR_KEYS
             and _key_path(p) in lines]
    path = pick.choice(paths)
    doc = copy.deepcopy(case.doc)
    _parent(doc, path)[path[-1]] = [True]
    text, lines = emit(doc, case.style)
    return case, text, _key_path(path), lines[_key_path(path)]


def _key_path(path: tuple) -> str:
    out = ""
    for k in path:
        out += f"[{k + 1}]" if isinstance(k, int) else (f".{k}" if out else k)
    return out


@_settings(150)
@given(wrong=wrong_values())
def test_a_wrong_value_is_reported_at_its_key_and_line(wrong, workdir):
    TRIED["lines"] += 1
    case, text, where, line = wrong
    directory = _fresh(workdir)
    path = write_case(directory, text.encode("utf-8"), None if case.csv is None else
                      (case.csv[0], case.csv[1].encode("utf-8")))
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    assert_clean_error(raised.value, str(path), text.encode("utf-8"))
    found = [(p.where, p.line) for p in raised.value.problems]
    assert (where, line) in found, f"expected {where} at line {line}; got {found}"


# --- Hostile inputs from the loader limits ---------------------------------------------------

def _chain(n: int, size: int) -> str:
    layers = "".join(f'[[layers]]\nname = "l{i}"\nsize = {size}\n\n' for i in range(n))
    conns = "".join(f'[[connections]]\nfrom = "l{i}"\nto = "l{i + 1}"\n\n' for i in range(n - 1))
    return f'format = 1\n\n[scenario]\ntitle = "Hostile"\n\n{layers}{conns}[data]\ninputs = [[0]]\ntargets = [[0]]\n'


def _two_layers(size: int) -> str:
    return ('format = 1\n\n[scenario]\ntitle = "Hostile"\n\n'
            f'[[layers]]\nname = "input"\nsize = {size}\n\n[[layers]]\nname = "output"\nsize = 1\n\n'
            '[[connections]]\nfrom = "input"\nto = "output"\n\n[data]\ninputs = [[0]]\ntargets = [[0]]\n')


HOSTILE = {
    "a billion units": (_two_layers(10**9), "layers[1].size: 1000000000 is out of range: it must be from 1 to 100000"),
    "ten million units in one layer": (_two_layers(10**7), "layers[1].size: 10000000 is out of range"),
    # 11 layers of 1,000 in a chain: 10 x (1,000,000 weights + 1,000 biases), just over the limit.
    "ten million weights over many layers": (
        _chain(11, 1000), f"connections: the network has 10,010,000 weights; the limit is {MAX_WEIGHTS:,}"),
    # 100 layers of 100,000 in a chain: 990 billion weights, counted without building any.
    "a trillion weights over many layers": (_chain(100, MAX_UNITS), f"the limit is {MAX_WEIGHTS:,}"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_fails_fast(name, workdir):
    text, message = HOSTILE[name]
    path = write_case(_fresh(workdir), text.encode("utf-8"), None)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with time_limit(30), pytest.raises(InputError) as raised:
            load_scenario(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_clean_error(raised.value, str(path), text.encode("utf-8"))
    lines = raised.value.lines()
    assert len(lines) == 1 and message in lines[0], lines
    assert seconds < 10, f"took {seconds:.1f} s"
    assert peak < 100 * 2**20, f"allocated {peak / 2**20:.0f} MB at the peak"


def test_just_under_the_weight_limit_loads_without_building_the_weights(workdir):
    row = "[" + ", ".join(["0"] * 1000) + "]"
    text = _chain(10, 1000).replace("[[0]]", f"[{row}]")  # 9 x 1,001,000 = 9,009,000 weights: within the limit
    path = write_case(_fresh(workdir), text.encode("utf-8"), None)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with time_limit(30):
            scenario = load_scenario(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(scenario.layers) == 10
    assert seconds < 10, f"took {seconds:.1f} s"
    assert peak < 50 * 2**20, f"allocated {peak / 2**20:.0f} MB at the peak"


# --- Regressions: the bugs fuzzing found (numbered as in the comment at the top) -------------

GOOD = AND_TOML.replace('title = "AND"', 'title = "Good"')

TOO_BIG_FOR_A_FLOAT = "1" + "0" * 309  # 10**309: a valid TOML integer, over the largest double
HEX_OVER_4300_DIGITS = "0x" + "f" * 4000  # about 4,816 decimal digits
DECIMAL_OVER_4300_DIGITS = "9" * 4301

KNOWN_BUGS = {
    # known bug 1: OverflowError: int too large to convert to float
    "huge-int-learning-rate": (GOOD + f"\n[training]\nlearning_rate = {TOO_BIG_FOR_A_FLOAT}\n",
                               "1: _Reader.number: float(10**309) raises OverflowError"),
    "huge-int-input": (GOOD.replace("inputs = [[0, 0]", f"inputs = [[{TOO_BIG_FOR_A_FLOAT}, 0]"),
                       "1: _Reader.vector: math.isfinite(10**309) raises OverflowError"),
    "huge-int-target": (GOOD.replace("targets = [[0]", f"targets = [[{TOO_BIG_FOR_A_FLOAT}]"),
                        "1: _Reader.vector: math.isfinite(10**309) raises OverflowError"),
    "huge-int-weight": (GOOD.replace('to = "output"', f'to = "output"\nweights = [[{TOO_BIG_FOR_A_FLOAT}, 1]]'),
                        "1: _Reader.vector: math.isfinite(10**309) raises OverflowError"),
    "huge-int-bias": (GOOD.replace('units = ["y"]', f'units = ["y"]\nbias = [{TOO_BIG_FOR_A_FLOAT}]'),
                      "1: _Reader.vector: math.isfinite(10**309) raises OverflowError"),
    # known bug 2: ValueError: Exceeds the limit (4300 digits) for integer string conversion
    "decimal-int-over-4300-digits": (GOOD.replace("format = 1", f"format = {DECIMAL_OVER_4300_DIGITS}"),
                                     "2: tomllib raises ValueError, which parse_scenario does not catch"),
    "hex-seed-over-4300-digits": (GOOD + f"\n[training]\nseed = {HEX_OVER_4300_DIGITS}\n",
                                  "2: _Reader.integer: the out-of-range message formats the int: ValueError"),
    "hex-size-over-4300-digits": (GOOD.replace('units = ["x1", "x2"]', f"size = {HEX_OVER_4300_DIGITS}"),
                                  "2: _Reader.integer: the out-of-range message formats the int: ValueError"),
}


@pytest.mark.parametrize("name", list(KNOWN_BUGS))
def test_regression_huge_integers(name, workdir):
    text = KNOWN_BUGS[name][0]
    path = write_case(_fresh(workdir), text.encode("utf-8"), None)
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    assert_clean_error(raised.value, str(path), text.encode("utf-8"))


def test_regression_check_command_on_a_huge_hex_integer(workdir):
    text = KNOWN_BUGS["hex-seed-over-4300-digits"][0]
    path = write_case(_fresh(workdir), text.encode("utf-8"), None)
    result = cli_check(path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2


def test_regression_huge_weight_init(workdir):
    text = GOOD + "\n[training]\nweight_init = 1e308\n"
    path = write_case(_fresh(workdir), text.encode("utf-8"), None)
    with pytest.raises(InputError) as raised:  # refused, with a clear message
        load_scenario(path)
    assert_clean_error(raised.value, str(path), text.encode("utf-8"))


def test_regression_escaped_quote_before_two_quotes_in_a_story(workdir):
    text = GOOD.replace('title = "Good"', 'title = "Good"\nstory = """He said \\"""\n[[layers]]\nsize = 2\n"""')
    text = text.replace('units = ["x1", "x2"]', 'size = "two"')
    assert tomllib.loads(text)["scenario"]["story"] == 'He said """\n[[layers]]\nsize = 2\n'
    path = write_case(_fresh(workdir), text.encode("utf-8"), None)
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    real = text.split("\n").index('size = "two"') + 1
    assert [(p.where, p.line) for p in raised.value.problems] == [("layers[1].size", real)]


def _cap_memory():  # pragma: no cover - runs in the child
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="caps the child's memory with RLIMIT_AS")
def test_regression_sweep_of_many_seeds_over_a_large_network(workdir):
    row = "[" + ", ".join(["0"] * 1000) + "]"
    path = write_case(_fresh(workdir), _chain(2, 1000).replace("[[0]]", f"[{row}]").encode("utf-8"), None)
    assert load_scenario(path)  # a valid file: the trouble is the number of seeds
    try:
        result = subprocess.run([sys.executable, "-m", "bptui", "sweep", str(path), "--seeds", "100000",
                                 "--epochs", "1"], capture_output=True, text=True, cwd=ROOT, env=_env(),
                                timeout=60, preexec_fn=_cap_memory)
    except subprocess.TimeoutExpired:
        pytest.fail("`bptui sweep --seeds 100000` still running after 60 s")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2 and "sweep fewer seeds" in result.stderr


# --- How much was tried --------------------------------------------------------------------

def test_inputs_tried_in_total(capsys):
    """Runs last (pytest keeps file order): every property that ran tried enough inputs."""
    ran = {name: n for name, n in TRIED.items() if n}
    if not ran:
        pytest.skip("no property test ran in this session")
    total = sum(ran.values())
    with capsys.disabled():
        print(f"\nfuzz: {total} inputs tried: " + ", ".join(f"{k} {v}" for k, v in sorted(ran.items())))
    for name, n in ran.items():
        assert n >= FLOORS[name], f"{name}: only {n} inputs tried, fewer than {FLOORS[name]}"
