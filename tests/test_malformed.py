"""Malformed scenario files: every mistake is a clear error, never a crash or a hang.

``tests/malformed/`` holds one small scenario file per mistake (a few with the CSV file
they read); the first line of each says what is wrong and ``# <- the mistake`` marks the
line, when there is one. ``CORPUS`` below says what the message must contain and which
line it must name. Mistakes that are awkward to commit (a NUL byte, a file over the size
limit, nesting 100,000 deep) are written on the fly: see ``GENERATED``.

For every file: ``load_scenario`` raises ``InputError``; each line is
``bptui: PATH:LINE: ...`` or ``bptui: PATH: ...``; the expected message and line are
there; and ``python -m bptui check FILE`` exits 2 with one line per problem and no
traceback. A case that shows a known loader bug is marked ``xfail(strict=True)``: it
turns into a failure the day the loader is fixed, to be unmarked then.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from bptui.cli import main
from bptui.core.errors import InputError
from bptui.core.scenario import (MAX_FILE_BYTES, MAX_LAYERS, MAX_PROBLEMS, MAX_TOTAL_UNITS, MAX_UNITS,
                                 load_scenario)

from conftest import AND_TOML

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(__file__).resolve().parent / "malformed"
MARKER = "# <- the mistake"


@dataclass(frozen=True)
class Case:
    message: str  # a substring of one problem line
    line: int | None  # the line that problem names; None: it names no line (only a key path)
    problems: int = 1  # how many problems the file has, so how many lines `check` prints
    absent: tuple[str, ...] = ()  # substrings no problem line may contain
    bug: str | None = None  # a known loader bug: the case is xfail(strict=True) for this reason


CORPUS: dict[str, Case] = {
    # The top of the file, [scenario] and TOML itself
    "unknown-top-key": Case("unknown key 'colour'", 3),
    "misspelled-key-did-you-mean": Case("unknown key 'trainig' (did you mean 'training'?)", 32),
    "comment-only": Case("missing required key 'format'", None, absent=("_Missing",)),
    "format-2": Case("format 2 is not supported", 2),
    "format-as-string": Case("format: must be a whole number, not a string", 2),
    "missing-format": Case("missing required key 'format'", None, absent=("_Missing",)),
    "missing-scenario-table": Case("missing the [scenario] table", None),
    "scenario-not-a-table": Case("scenario: must be a table, not a string", 3),
    "missing-title": Case("scenario: missing required key 'title'", 4),
    "title-not-a-string": Case("scenario.title: must be a string, not a whole number", 5),
    "card-too-long": Case("scenario.card: is 404 characters long; the limit is 400", 6),
    # Names and one-line texts are drawn as they are: a control code in one is refused, and quoted escaped.
    "title-control-code": Case(r"scenario.title: 'Biscuits\x1b]0;PWNED\x07' has a line break or a control "
                               "character: it must be printable text on one line", 5, absent=("\x1b", "\x07")),
    "summary-line-break": Case(r"scenario.summary: 'Line one\nline two' has a line break", 6),
    "training-not-a-table": Case("training: must be a table, not a string", 3),
    "invalid-toml-syntax": Case("not valid TOML", 33),
    "duplicate-key": Case("not valid TOML: Cannot overwrite a value", 34),
    "newline-in-key": Case(r"col\nour: unknown key 'col\nour'", 3),
    "line-separator-in-key": Case(r"col\u2028our: unknown key 'col\u2028our'", 3),
    # [[layers]]
    "missing-layers": Case("missing [[layers]]", None, problems=2),
    "layers-not-array-of-tables": Case("layers: must be written as [[layers]] tables", 7),
    "misspelled-layer-key": Case("unknown key 'activaton' (did you mean 'activation'?)", 14),
    "layer-missing-name": Case("layers[2]: missing required key 'name'", 11),
    "empty-layer-name": Case("layer name is empty", 12),
    "duplicate-layer-name": Case("layers[3].name: there is already a layer named 'hidden'", 16),
    "wrong-type-size": Case("layers[2].size: must be a whole number, not a string", 13),
    "size-fraction": Case("layers[2].size: must be a whole number, not 2.5", 13),
    "size-zero": Case("0 is out of range: it must be from 1 to 100000", 13),
    "too-many-units": Case("1000000000 is out of range: it must be from 1 to 100000", 13),
    "units-and-size": Case("give either 'units' (names) or 'size', not both", 11),
    "layer-without-units": Case("layer 'hidden' needs 'units' (a list of names) or 'size'", 11),
    "units-not-strings": Case("layers[1].units: must be a list of unit names (strings)", 9),
    "empty-unit-name": Case("unit name 2 is empty", 9),
    "duplicate-unit-name": Case("unit name 'x1' is used twice", 9),
    "layer-name-control-code": Case(r"layers[2].name: layer name 'out\x1b[2J' has a line break or a control "
                                    "character", 12, absent=("\x1b",)),
    "unit-name-c1-control": Case(r"layers[1].units: unit name 2 ('x\x9b2J') has a line break or a control "
                                 "character", 9, absent=("\x9b",)),
    "feature-name-control-code": Case(r"feature name 'ok\x7f' has a line break or a control character", 14,
                                      absent=("\x7f",)),
    "unconnected-layer": Case("layer 'spare' is not connected to anything", 19),
    "input-layer-with-activation": Case("'input' is an input layer (nothing connects to it), so it has no activation", 10),
    "input-layer-with-bias": Case("'input' is an input layer (nothing connects to it), so it has no bias", 10),
    "unknown-activation": Case("'sigmod' is not one of: sigmoid, tanh, relu, linear, softmax", 14),
    "newline-in-value": Case(r"'tan\nh' is not one of", 14),
    "control-code-in-value": Case(r"layers[2].activation: '\x1b[2J' is not one of", 14, absent=("\x1b",)),
    "softmax-one-unit": Case("a softmax layer needs at least 2 units", 18),
    "bias-wrong-length": Case("layers[2].bias: has 1 value, but layer 'hidden' (2 units) needs 2", 14),
    "bias-not-a-list": Case("layers[2].bias: must be true, false or a list of 2 starting biases, not a string", 14),
    "bias-trainable-input-layer": Case(
        "layers[1].bias_trainable: 'input' is an input layer (nothing connects to it), so it has no bias_trainable", 10),
    "bias-trainable-without-bias": Case(
        "layers[2].bias_trainable: layer 'hidden' has no bias (bias = false), so there is nothing to freeze or train",
        15),
    "bias-trainable-not-bool": Case("layers[2].bias_trainable: must be true or false, not a string", 14),
    "output-words-on-hidden-layer": Case(
        "layers[2].too_high: 'hidden' is not an output layer (it connects to 'output'), so it has no too_high", 14),
    "output-words-too-long": Case("layers[3].too_low: is 55 characters long; the limit is 40", 19),
    "output-words-control-code": Case(
        "layers[3].too_low: must be printable text on one line, without line breaks or control characters", 18,
        absent=("\x1b",)),
    "output-words-empty": Case('layers[3].too_high: is empty: give a few words, such as "too salty"', 18),
    # [[connections]]
    "no-connections": Case("missing [[connections]]", None),
    "connection-missing-from": Case("connections[1]: missing required key 'from'", 19),
    "unknown-layer-in-connection": Case("there is no layer named 'hiden' (did you mean 'hidden'?)", 21),
    "self-loop": Case("layer 'hidden' cannot connect to itself", 27),
    "duplicate-connection": Case("'input' is already connected to 'hidden'", 27),
    "cycle": Case("the connections form a cycle (hidden -> output -> hidden)", 23),
    "weights-wrong-shape": Case("has 2 rows, but 'hidden' -> 'output' (1 receiving x 2 sending units) needs 1", 26),
    "weights-not-numbers": Case("row 1, value 2 must be a number, not a string", 26),
    "weights-not-a-list": Case("must be a list of rows", 26),
    "weights-inf": Case("row 1, value 1 must be finite, not inf", 26),
    "trainable-not-bool": Case("connections[2].trainable: must be true or false, not a string", 26),
    "too-many-weights": Case("the network has 20,019,000 weights; the limit is 10,000,000", 23),
    # [data]
    "missing-data": Case("missing the [data] table", None),
    "missing-targets": Case("missing required key 'targets' (or give a 'file')", 27),
    "no-patterns": Case("there are no patterns", 27),
    "inf-input": Case("data.inputs: row 4, value 2 must be finite, not inf", 29),
    "nan-input": Case("data.inputs: row 1, value 2 must be finite, not nan", 29),
    "inf-target": Case("data.targets: row 4, value 1 must be finite, not -inf", 30),
    "inputs-wrong-width": Case("row 2 has 3 values, but the input layers (2 units) needs 2", 29),
    "targets-wrong-count": Case("data.targets: has 3 rows, but 4 patterns", 30),
    "targets-wrong-width": Case("data.targets: row 2 has 2 values, but 4 patterns and the output layers (1 unit) needs 1",
                                30),
    "patterns-wrong-count": Case("names 3 patterns, but there are 4", 28),
    "duplicate-pattern-name": Case("pattern name '01' is used twice", 28),
    "pattern-name-bidi-override": Case(r"data.patterns: pattern name 3 ('\u202e01') has a line break or a control "
                                       "character", 20, absent=("\u202e",)),
    "test-names-unknown-pattern": Case("data.test: there is no pattern named '2'", 31),
    "test-not-a-list": Case("data.test: must be a list of pattern names (strings)", 31),
    "all-patterns-held-out": Case("every pattern is held out", 31),
    "data-inline-and-file": Case("data.inputs: give the data either inline (inputs, targets) or as a file, not both",
                                 29, problems=2),
    "cross-entropy-linear-output": Case("cross_entropy needs sigmoid or softmax outputs; output layer 'output' is linear", 18),
    "cross-entropy-target-above-1": Case("data.targets: cross_entropy needs targets from 0 to 1", 30),
    # [data] file = "...csv"
    "csv-missing-file": Case("no-such-file.csv: no such file", 28),
    "csv-bad-number": Case("csv-bad-number.csv:3: column 2 ('one') is not a number", 28),
    "csv-wrong-columns": Case("csv-wrong-columns.csv:1: the header has 2 columns; expected 3 (2 inputs, 1 target)", 28),
    "csv-short-row": Case("csv-short-row.csv:3: 3 columns; the header has 4", 28),
    "csv-empty": Case("csv-empty.csv:1: the file is empty; it needs a header row", 28),
    "csv-inf-input": Case("csv-inf-input.csv:4: column 2 must be finite, not inf", 28),
    "csv-duplicate-pattern-after-blank-line": Case(
        "csv-duplicate-pattern-after-blank-line.csv:5: pattern name 'p1' is used twice", 28),
    "csv-with-patterns-key": Case("the CSV file names the patterns", 29),
    "csv-is-a-folder": Case("is a folder, not a CSV file", 28),
    "csv-not-a-string": Case("data.file: must be a string, not a whole number", 28),
    "data-file-not-csv": Case("data-file-not-csv.txt:3: column 1 is not a number (its text is not shown, since the "
                              "file's name does not end in .csv)", 28, absent=("S3CRET",)),
    "data-file-name-with-nul": Case(r"csv\x00bad-number.csv: not a possible file name: it has a NUL character", 28),
    # [training] and [[training.schedule]]
    "negative-learning-rate": Case("training.learning_rate: -0.5 is out of range: it must be at least 0", 33,
                                   absent=("inf",)),
    "momentum-above-1": Case("training.momentum: 1.5 is out of range: it must be at least 0 and at most 1", 33),
    "weight-decay-1": Case("training.weight_decay: 1 is out of range: it must be at least 0 and below 1", 33),
    "negative-margin": Case("training.margin: -0.1 is out of range: it must be at least 0", 33,
                            absent=("inf",)),
    "negative-epochs": Case("training.epochs: -1 is out of range: it must be from 0 to 1000000000", 33),
    "seed-too-big": Case("training.seed: 9223372036854775808 is out of range", 33),
    "bool-as-number": Case("training.learning_rate: must be a number, not true/false", 33),
    "date-as-number": Case("training.learning_rate: must be a number, not date", 33),
    "unknown-loss": Case("'mse' is not one of: sse, cross_entropy", 33),
    "unknown-update": Case("'minibatch' is not one of: batch, online", 33),
    "unknown-order": Case("'random' is not one of: sequential, shuffled", 34),
    "schedule-not-increasing": Case("from_epoch must grow from one entry to the next (50 after 100)", 40),
    "schedule-empty-entry": Case("a schedule entry must change learning_rate, momentum or weight_decay", 35),
    "schedule-missing-from-epoch": Case("training.schedule[1]: missing required key 'from_epoch'", 35),
    "schedule-as-table": Case("must be written as [[training.schedule]] tables", 35),
    "schedule-misspelled-key": Case("unknown key 'learning_rat' (did you mean 'learning_rate'?)", 37, problems=2),
    # [reference]: what "correct" is, for the exact responsibility
    "reference-unknown-key": Case("reference.layers[1].colour: unknown key 'colour' (known keys: name, bias)", 31),
    # The key of a misspelled array of tables has no line of its own (nor has [[layer]] at the top).
    "reference-misspelled-table": Case("reference.layer: unknown key 'layer' (did you mean 'layers'?)", None,
                                       problems=2),
    "reference-no-such-layer": Case(
        "reference.layers[1].name: there is no layer named 'hiden' (did you mean 'hidden'?)", 29),
    "reference-no-such-connection": Case(
        "reference.connections[1]: there is no connection from 'input' to 'output'", 28),
    "reference-layer-without-bias": Case(
        "reference.layers[1].bias: layer 'output' has no bias to compare with (bias = false)", 30),
    "reference-input-layer": Case(
        "reference.layers[1].bias: 'input' is an input layer (nothing connects to it), so it has no bias", 30),
    "reference-after-a-wrong-activation": Case("layers[2].activation: 'sigmod' is not one of", 14),
    "reference-missing-bias": Case("reference.layers[1]: missing required key 'bias'", 28),
    "reference-bias-wrong-length": Case(
        "reference.layers[1].bias: has 1 value, but layer 'hidden' (2 units) needs 2", 30),
    "reference-bias-not-a-list": Case("reference.layers[1].bias: must be a list of 2 numbers, not a number", 30),
    "reference-bias-nan": Case("reference.layers[1].bias: value 1 must be finite, not nan", 30),
    "reference-weights-wrong-shape": Case(
        "reference.connections[1].weights: has 2 rows, but 'hidden' -> 'output' (1 receiving x 2 sending units) "
        "needs 1", 31),
    "reference-weights-inf": Case("reference.connections[1].weights: row 1, value 2 must be finite, not -inf", 31),
    "reference-duplicate-layer": Case("reference.layers[2].name: layer 'hidden' has a reference already", 33),
    "reference-duplicate-connection": Case(
        "reference.connections[2]: the connection from 'input' to 'hidden' has a reference already", 33),
    "reference-empty": Case("reference: names no bias and no weights", 28),
    "reference-layers-not-array-of-tables": Case(
        "reference.layers: must be written as [[reference.layers]] tables", 29),
}


# --- Files written on the fly --------------------------------------------------------------

GOOD = AND_TOML.replace('title = "AND"', 'title = "Good"')


def _good_with(title: str = '"Good"', before_data: str = "", targets: str = "[[0], [0], [0], [1]]",
               data: str | None = None) -> str:
    text = GOOD.replace('title = "Good"', f"title = {title}")
    text = text.replace("targets = [[0], [0], [0], [1]]", f"targets = {targets}")
    if data is not None:
        text = text[: text.index("[data]")] + data
    return text.replace("[data]", before_data + "[data]")


def _line_of(text: str, needle: str) -> int:
    """The line of needle as TOML counts lines: only \\n ends a line."""
    return text[: text.index(needle)].count("\n") + 1


def _write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def gen_binary_bytes(d: Path) -> tuple[Path, Case]:
    return _write(d, "binary-bytes.toml", GOOD.replace("Good", "Go\0od").encode()), Case("NUL byte", 4)


def gen_not_utf8(d: Path) -> tuple[Path, Case]:
    raw = GOOD.replace('"Good"', '"Caf\u00e9"').encode("latin-1")  # as an old Windows editor saves it
    return _write(d, "not-utf8.toml", raw), Case("not UTF-8 text", 4)


def gen_deeply_nested_arrays(d: Path) -> tuple[Path, Case]:
    text = GOOD.replace("[scenario]", "nested = " + "[" * 100_000 + "]" * 100_000 + "\n\n[scenario]")
    return _write(d, "deeply-nested-arrays.toml", text), Case("nested too deeply", None)


def gen_deeply_nested_unclosed(d: Path) -> tuple[Path, Case]:
    return _write(d, "deeply-nested-unclosed.toml", "format = 1\na = " + "[" * 100_000 + "\n"), \
        Case("nested too deeply", None)


def gen_deeply_nested_tables(d: Path) -> tuple[Path, Case]:
    text = "format = 1\na = " + "{ b = " * 100_000 + "1" + " }" * 100_000 + "\n"
    return _write(d, "deeply-nested-tables.toml", text), Case("nested too deeply", None)


def gen_over_size_limit(d: Path) -> tuple[Path, Case]:
    path = _write(d, "over-size-limit.toml", GOOD)
    os.truncate(path, MAX_FILE_BYTES + 1)  # sparse: no disk, no time
    return path, Case(f"the limit is {MAX_FILE_BYTES:,}", None)


def gen_too_many_layers(d: Path) -> tuple[Path, Case]:
    n = MAX_LAYERS + 1
    layers = "".join(f'[[layers]]\nname = "l{i}"\nsize = 1\n\n' for i in range(n))
    conns = "".join(f'[[connections]]\nfrom = "l{i}"\nto = "l{i + 1}"\n\n' for i in range(n - 1))
    text = 'format = 1\n\n[scenario]\ntitle = "Deep"\n\n' + layers + conns + "[data]\ninputs = [[0]]\ntargets = [[0]]\n"
    return _write(d, "too-many-layers.toml", text), Case(f"{n} layers; the limit is {MAX_LAYERS}", None)


def gen_line_separator_in_comment(d: Path) -> tuple[Path, Case]:
    # U+2028 is allowed in a TOML comment and does not end the line; three targets for four patterns.
    text = _good_with(before_data="# inputs\u2028and targets\n\n", targets="[[0], [0], [1]]")
    return _write(d, "line-separator-in-comment.toml", text), \
        Case("data.targets: has 3 rows", _line_of(text, "targets ="))


def gen_next_line_in_story(d: Path) -> tuple[Path, Case]:
    # U+0085 (NEXT LINE) inside a string does not end a TOML line; a story may hold it (shown
    # escaped), where a title may not: see gen_next_line_in_title.
    text = _good_with(title='"Good"\nstory = "Caf\u0085e"', targets="[[0], [0], [1]]")
    return _write(d, "next-line-in-story.toml", text), \
        Case("data.targets: has 3 rows", _line_of(text, "targets ="))


def gen_next_line_in_title(d: Path) -> tuple[Path, Case]:
    text = _good_with(title='"Caf\u0085e"')
    return _write(d, "next-line-in-title.toml", text), Case(r"scenario.title: 'Caf\x85e' has a line break", 4)


def _with_csv(d: Path, name: str, csv: bytes) -> Path:
    _write(d, f"{name}.csv", csv)
    return _write(d, f"{name}.toml", _good_with(data=f'[data]\nfile = "{name}.csv"\n'))


def gen_csv_nul_byte(d: Path) -> tuple[Path, Case]:
    path = _with_csv(d, "csv-nul-byte", b"x1,x2,y\n0,0,0\n0,\0,0\n")
    return path, Case("csv-nul-byte.csv:3: binary data (a NUL byte)", 19)


def gen_csv_not_utf8(d: Path) -> tuple[Path, Case]:
    path = _with_csv(d, "csv-not-utf8", "pattern,x1,x2,y\na,0,0,0\n\u00e9t\u00e9,0,1,0\n".encode("latin-1"))
    return path, Case("csv-not-utf8.csv:3: not UTF-8 text", 19)


def gen_csv_pattern_name_control_code(d: Path) -> tuple[Path, Case]:
    # CSV has no escapes: the ESC and BEL bytes are in the file as they are.
    path = _with_csv(d, "csv-pattern-name-control-code", b"pattern,x1,x2,y\na,0,0,0\nb\x1b]52;c;SGk=\x07,0,1,0\n")
    return path, Case(r"csv-pattern-name-control-code.csv:3: pattern name 'b\x1b]52;c;SGk=\x07' has a line "
                      "break or a control character", 19, absent=("\x1b", "\x07"))


def gen_data_file_pattern_name_control_code(d: Path) -> tuple[Path, Case]:
    _write(d, "names.txt", b"pattern,x1,x2,y\na,0,0,0\nS3CRET\x1b[2J,0,1,0\n")
    path = _write(d, "data-file-pattern-name-control-code.toml", _good_with(data='[data]\nfile = "names.txt"\n'))
    return path, Case("names.txt:3: the pattern name has a line break or a control character: it must be "
                      "printable text on one line (its text is not shown", 19, absent=("S3CRET", "\x1b"))


def gen_csv_huge_cell(d: Path) -> tuple[Path, Case]:
    path = _with_csv(d, "csv-huge-cell", b'x1,x2,y\n0,0,0\n0,"' + b"1" * 200_000 + b'",0\n')
    return path, Case("csv-huge-cell.csv:3: not valid CSV: field larger than field limit", 19)


def _wide_network(hidden: int) -> str:
    """Two inputs, `hidden` hidden units, one output: few weights for many units."""
    return (GOOD.replace('units = ["y"]', f'size = {hidden}\n\n[[layers]]\nname = "y"\nsize = 1')
            .replace("[data]", '[[connections]]\nfrom = "output"\nto = "y"\n\n[data]'))


def gen_csv_over_values_limit(d: Path) -> tuple[Path, Case]:
    # 100,003 units: the 200th pattern is over 20 million values, and rows after it are not read.
    rows = b"x1,x2,y\n" + b"0,0,0\n" * 1000
    _write(d, "csv-over-values-limit.csv", rows)
    text = _wide_network(MAX_UNITS)
    text = text[: text.index("[data]")] + '[data]\nfile = "csv-over-values-limit.csv"\n'
    return _write(d, "csv-over-values-limit.toml", text), \
        Case("csv-over-values-limit.csv:201: 200 patterns x 100,003 units is more than the limit of 20,000,000 values",
             _line_of(text, "file ="))


def gen_inline_over_values_limit(d: Path) -> tuple[Path, Case]:
    text = _wide_network(MAX_UNITS)
    text = text[: text.index("[data]")] + "[data]\ninputs = [" + "[0, 0]," * 200 + "]\ntargets = []\n"
    return _write(d, "inline-over-values-limit.toml", text), \
        Case("data.inputs: 200 patterns x 100,003 units is more than the limit of 20,000,000 values",
             _line_of(text, "inputs ="))


def gen_too_many_units_in_all(d: Path) -> tuple[Path, Case]:
    # 11 layers of 100,000 inputs into one unit: 1,100,001 weights, within the limit, but 1,100,001 units.
    layers = "".join(f'[[layers]]\nname = "in{i}"\nsize = {MAX_UNITS}\n\n' for i in range(11))
    conns = "".join(f'[[connections]]\nfrom = "in{i}"\nto = "out"\n\n' for i in range(11))
    text = (f'format = 1\n\n[scenario]\ntitle = "Wide"\n\n{layers}[[layers]]\nname = "out"\nsize = 1\n\n'
            f"{conns}[data]\ninputs = [[0]]\ntargets = [[0]]\n")
    return _write(d, "too-many-units-in-all.toml", text), \
        Case(f"layers: the layers have 1,100,001 units in all; the limit is {MAX_TOTAL_UNITS:,}", None)


def gen_too_many_problems(d: Path) -> tuple[Path, Case]:
    conns = "".join(f'[[connections]]\nfrom = "nowhere{i}"\nto = "output"\n\n' for i in range(150))
    text = GOOD.replace("[data]", conns + "[data]")
    return _write(d, "too-many-problems.toml", text), \
        Case(f"more than {MAX_PROBLEMS} problems; the rest are not listed", None, problems=MAX_PROBLEMS + 1)


def gen_huge_key(d: Path) -> tuple[Path, Case]:
    # A key of millions of characters is quoted by its two ends, not whole (nor twice).
    text = GOOD.replace('title = "Good"', 'title = "Good"\n' + "k" * 3_000_000 + " = 1")
    return _write(d, "huge-key.toml", text), Case("unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\u2026kkkk", 5)


def gen_csv_long_cell(d: Path) -> tuple[Path, Case]:
    # A cell is quoted by its two ends: enough to find it, never a whole line of the file.
    path = _with_csv(d, "csv-long-cell", b"x1,x2,y\n0,0,0\n0," + b"start" + b"x" * 100_000 + b"end,0\n")
    return path, Case("csv-long-cell.csv:3: column 2 ('startxxxxxxxxxxxxxxxxxxxxxxxxx\u2026xxxxxxxxxxxxxxxxxxxxxxxxxxend') "
                      "is not a number", 19)


def gen_long_layer_name_many_units(d: Path) -> tuple[Path, Case]:
    # Each unit of a layer given by size is named after it: 1,000 characters x 100,000 units
    # would be 100 million characters of names, refused before any is made.
    name = "h" * 1000
    text = GOOD.replace('name = "input"', f'name = "{name}"').replace('from = "input"', f'from = "{name}"')
    text = text.replace('units = ["x1", "x2"]', f"size = {MAX_UNITS}")
    return _write(d, "long-layer-name-many-units.toml", text), \
        Case("the names would be more than the limit of 64,000,000 characters", _line_of(text, f'name = "{name}"'))


GENERATED = {f.__name__[4:].replace("_", "-"): f for f in (
    gen_binary_bytes, gen_not_utf8, gen_deeply_nested_arrays, gen_deeply_nested_unclosed,
    gen_deeply_nested_tables, gen_over_size_limit, gen_too_many_layers, gen_line_separator_in_comment,
    gen_next_line_in_story, gen_next_line_in_title, gen_csv_pattern_name_control_code,
    gen_data_file_pattern_name_control_code, gen_csv_nul_byte, gen_csv_not_utf8, gen_csv_huge_cell, gen_csv_over_values_limit,
    gen_inline_over_values_limit, gen_too_many_units_in_all, gen_too_many_problems, gen_huge_key,
    gen_csv_long_cell, gen_long_layer_name_many_units,
)}
GENERATED_BUGS: dict[str, str] = {}  # name -> a known loader bug, as for CORPUS


# --- Running the loader and the CLI --------------------------------------------------------

def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def _cli_check(*paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bptui", "check", *paths], capture_output=True, text=True,
                          cwd=ROOT, env=_env(), timeout=120)


@pytest.fixture(scope="session")
def files(tmp_path_factory) -> dict[str, tuple[Path, Case]]:
    """Every malformed file, committed and generated: name -> (path, expectation)."""
    out = {name: (CORPUS_DIR / f"{name}.toml", case) for name, case in CORPUS.items()}
    d = tmp_path_factory.mktemp("generated")
    for name, make in GENERATED.items():
        out[name] = make(d)
    return out


@pytest.fixture(scope="session")
def cli_results(files) -> dict[str, subprocess.CompletedProcess]:
    """`python -m bptui check FILE` for every file, run a few at a time (one process each)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(lambda item: (item[0], _cli_check(str(item[1][0]))), files.items())
        return dict(results)


def _line_pattern(display: str) -> re.Pattern:
    return re.compile(rf"bptui: {re.escape(display)}(?::(?P<line>[1-9][0-9]*))?: (?P<rest>\S.*)")


def _check_lines(lines: list[str], display: str, case: Case) -> None:
    """The lines a user sees for one file: well formed, and the expected one among them."""
    pattern = _line_pattern(display)
    named = []
    for text in lines:
        m = pattern.fullmatch(text)
        assert m, f"not 'bptui: PATH[:LINE]: message': {text!r}"
        named.append((int(m["line"]) if m["line"] else None, text))
    hits = [line for line, text in named if case.message in text]
    assert hits, f"no problem says {case.message!r}: {lines}"
    assert case.line in hits, f"{case.message!r} should name line {case.line}, it names {hits}"
    for text in lines:
        for word in case.absent:
            assert word not in text, f"{word!r} should not be in {text!r}"
    assert len(lines) == case.problems, f"expected {case.problems} problem(s): {lines}"


def _params():
    """Every file name, marked xfail(strict=True) when it shows a known loader bug."""
    out = []
    for name in [*CORPUS, *GENERATED]:
        bug = CORPUS[name].bug if name in CORPUS else GENERATED_BUGS.get(name)
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("name", _params())
def test_loader_reports_the_mistake(name, files):
    path, case = files[name]
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    error = raised.value
    assert error.problems, "an InputError must carry at least one problem"
    # What the CLI prints is these lines joined by newlines, so split them as a user would see them.
    _check_lines("\n".join(error.lines()).split("\n"), str(path), case)


@pytest.mark.parametrize("name", _params())
def test_check_command_reports_the_mistake(name, files, cli_results):
    path, case = files[name]
    result = cli_results[name]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    # Lines as a terminal shows them: only \n ends one (str.splitlines would also split at U+2028...).
    _check_lines(result.stderr.rstrip("\n").split("\n"), str(path), case)


# --- The corpus itself ---------------------------------------------------------------------

def test_every_corpus_file_has_an_expectation():
    on_disk = {p.stem for p in CORPUS_DIR.glob("*.toml")}
    assert on_disk == set(CORPUS), "add or remove the entry in CORPUS for: " + ", ".join(sorted(on_disk ^ set(CORPUS)))
    assert len(CORPUS) + len(GENERATED) >= 35


def test_every_corpus_csv_is_used():
    texts = " ".join(p.read_text(encoding="utf-8") for p in CORPUS_DIR.glob("*.toml"))
    for csv in CORPUS_DIR.glob("*.csv"):
        assert f'"{csv.name}"' in texts, f"{csv.name} is read by no corpus file"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_markers_agree_with_expected_lines(name):
    """`# <- the mistake` in a file and the line in CORPUS say the same thing."""
    lines = (CORPUS_DIR / f"{name}.toml").read_text(encoding="utf-8").splitlines()
    marked = [n for n, text in enumerate(lines, 1) if MARKER in text]
    assert lines[0].startswith("# "), "the first line says what the mistake is"
    if marked:
        assert CORPUS[name].line in marked


# --- Several mistakes, several files -------------------------------------------------------

def _problem_keys(error: InputError) -> list[str]:
    return [p.where for p in error.problems]


def test_several_mistakes_in_layers_connections_and_training_are_all_listed(write_scenario):
    path = write_scenario("""\
        format = 1

        [scenario]
        title = "Seven mistakes"

        [[layers]]
        name = "input"
        size = 2

        [[layers]]
        name = "output"
        size = 1
        activation = "sigmod"
        bias = [1, 2]

        [[connections]]
        from = "input"
        to = "output"
        weights = [[1]]
        trainable = 1

        [data]
        inputs = [[0, 0], [1, 1]]
        targets = [[0], [1]]

        [training]
        momentum = 2
        update = "sometimes"
        seed = -1
        """)
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    lines = raised.value.lines()
    expected = {  # key path -> line
        "layers[2].activation": 13, "layers[2].bias": 14, "connections[1].weights": 19,
        "connections[1].trainable": 20, "training.momentum": 27, "training.update": 28, "training.seed": 29,
    }
    assert [(p.where, p.line) for p in raised.value.problems] == list(expected.items())
    for text, (where, line) in zip(lines, expected.items()):
        assert text.startswith(f"bptui: {path}:{line}: {where}: ")
    result = _cli_check(str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == lines


def test_mistakes_in_scenario_layers_and_training_are_all_listed(write_scenario):
    path = write_scenario("""\
        format = 1

        [scenario]
        title = 42

        [[layers]]
        name = "input"
        size = 2

        [[layers]]
        name = "output"
        size = 1
        activaton = "tanh"

        [[connections]]
        from = "input"
        to = "output"

        [data]
        inputs = [[0, 0], [1, 1]]
        targets = [[0], [1]]

        [training]
        momentum = 2
        """)
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    assert _problem_keys(raised.value) == ["scenario.title", "layers[2].activaton", "training.momentum"]


def test_a_broken_network_does_not_hide_unknown_keys_or_training(write_scenario):
    path = write_scenario("""\
        format = 1
        colour = "red"

        [scenario]
        title = "Cycle"

        [[layers]]
        name = "a"
        size = 1

        [[layers]]
        name = "b"
        size = 1

        [[connections]]
        from = "a"
        to = "b"

        [[connections]]
        from = "b"
        to = "a"

        [data]
        inputs = [[0]]
        targets = [[0]]

        [training]
        update = "sometimes"
        """)
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    assert [(p.where, p.line) for p in raised.value.problems] == [
        ("colour", 2), ("connections", 15), ("training.update", 28)]


def test_a_wrong_training_value_does_not_hide_the_others(write_scenario):
    path = write_scenario(_good_with() + '\n[training]\nloss = "cross_entropy"\nmomentum = 2\n')
    path.write_text(path.read_text().replace('units = ["y"]', 'units = ["y"]\nactivation = "linear"'))
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    assert _problem_keys(raised.value) == ["training.momentum", "layers[2].activation"]


def test_check_several_files_good_and_bad(tmp_path):
    good = _write(tmp_path, "good.toml", GOOD)
    bad_a = CORPUS_DIR / "cycle.toml"
    bad_b = CORPUS_DIR / "momentum-above-1.toml"
    result = _cli_check(str(good), str(bad_a), "xor", str(bad_b))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [f"ok: {good}", "ok: xor"]
    err = result.stderr.splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"bptui: {bad_a}:23: connections: the connections form a cycle")
    assert err[1].startswith(f"bptui: {bad_b}:33: training.momentum: ")
    # All good: exit 0.
    assert _cli_check(str(good), "xor").returncode == 0


def test_check_a_missing_path_and_a_folder(tmp_path):
    result = _cli_check(str(tmp_path / "nowhere.toml"), str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    err = result.stderr.splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"bptui: {tmp_path / 'nowhere.toml'}: no such file")
    assert err[1] == f"bptui: {tmp_path}: is a folder, not a scenario file"


# --- Hostile files: fail fast, without building anything big -------------------------------

# Run `check` in a fresh process (capped at 2 GB of address space where the OS allows it),
# and report its exit code, its messages, how long the check took and how much memory
# it grew by (peak resident size after the check minus before it). How long: in CPU
# seconds, the check's own work, which a busy machine does not stretch (its wall-clock
# time was 28 s for 2 s of work with two cores busy).
_MEASURE = r"""
import contextlib, io, json, resource, sys, time
from bptui.cli import main
scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
out, err = io.StringIO(), io.StringIO()
start = time.process_time()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(["check", sys.argv[1]])
seconds = time.process_time() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
print(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "seconds": seconds,
                  "grew_mb": (after - before) / 2**20}))
"""


def _cap_memory():  # pragma: no cover - runs in the child
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
    except (ImportError, ValueError, OSError):
        pass


def _measure(path: Path, timeout: float = 180) -> dict:
    # timeout: wall-clock, only against a hang; the speed is asserted on CPU seconds.
    env = dict(_env(), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        result = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                                cwd=ROOT, env=env, timeout=timeout,
                                preexec_fn=_cap_memory if sys.platform.startswith("linux") else None)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`bptui check {path.name}` still running after {timeout} s: a hang")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _assert_fails_fast(path: Path, message: str, seconds: float = 5, grew_mb: float = 100) -> None:
    report = _measure(path)
    assert "Traceback" not in report["stderr"], report["stderr"][-3000:]
    assert report["code"] == 2, report["stderr"][-3000:]
    assert report["stdout"] == ""
    lines = report["stderr"].splitlines()
    assert len(lines) == 1 and message in lines[0], lines[:5]
    assert report["seconds"] < seconds, f"took {report['seconds']:.1f} s"
    assert report["grew_mb"] < grew_mb, f"grew by {report['grew_mb']:.0f} MB"


def _two_layers(size: int) -> str:
    return _good_with().replace('units = ["x1", "x2"]', f"size = {size}")


def test_a_billion_units_fails_fast(tmp_path):
    path = _write(tmp_path, "billion.toml", _two_layers(10**9))
    _assert_fails_fast(path, "1000000000 is out of range: it must be from 1 to 100000")


def test_ten_million_units_in_one_layer_fails_fast(tmp_path):
    path = _write(tmp_path, "ten-million.toml", _two_layers(10**7))
    _assert_fails_fast(path, "10000000 is out of range")


def test_the_weight_limit_fails_fast(tmp_path):
    text = _good_with().replace('units = ["x1", "x2"]', f"size = {MAX_UNITS}") \
        .replace('units = ["y"]', f"size = {MAX_UNITS}")
    path = _write(tmp_path, "ten-billion-weights.toml", text)
    _assert_fails_fast(path, "the network has 10,000,100,000 weights; the limit is 10,000,000")


def test_ten_million_units_over_many_layers_fail_fast(tmp_path):
    n = 100
    layers = "".join(f'[[layers]]\nname = "l{i}"\nsize = {MAX_UNITS}\n\n' for i in range(n))
    conns = "".join(f'[[connections]]\nfrom = "l{i}"\nto = "l{i + 1}"\n\n' for i in range(n - 1))
    text = f'format = 1\n\n[scenario]\ntitle = "Wide"\n\n{layers}{conns}[data]\ninputs = [[0]]\ntargets = [[0]]\n'
    path = _write(tmp_path, "wide.toml", text)
    _assert_fails_fast(path, "the limit is 10,000,000")


def test_many_connections_fail_or_load_fast(tmp_path):
    n = 400  # every layer connects to every later one: acyclic, 79,800 connections, 2 MB
    conns = "".join(f'{{ from = "l{i}", to = "l{j}" }},\n' for i in range(n) for j in range(i + 1, n))
    layers = "".join(f'[[layers]]\nname = "l{i}"\nsize = 1\n\n' for i in range(n))
    text = (f"format = 1\nconnections = [\n{conns}]\n\n[scenario]\ntitle = \"Dense\"\n\n{layers}"
            "[data]\ninputs = [[0]]\ntargets = [[0]]\n")
    path = _write(tmp_path, "dense.toml", text)
    report = _measure(path)  # parsing takes about 1 s
    assert "Traceback" not in report["stderr"]
    assert report["seconds"] < 5, f"took {report['seconds']:.1f} s"


def test_a_huge_inline_array_fails_fast(tmp_path):
    rows = "[0]," * 1_000_001  # one more pattern than the limit, 4 MB of TOML
    text = _good_with(data=f"[data]\ninputs = [{rows}]\ntargets = [[0]]\n").replace('units = ["x1", "x2"]', "size = 1")
    path = _write(tmp_path, "huge-array.toml", text)
    # Parsing 4 MB of TOML is tomllib's work (about 2 s here) and its lists' memory; the loader adds little.
    _assert_fails_fast(path, "data.inputs: 1,000,001 patterns; the limit is 1,000,000", seconds=10, grew_mb=400)


def test_a_huge_list_of_unit_names_fails_fast(tmp_path):
    names = ", ".join(f'"u{k}"' for k in range(MAX_UNITS + 1))
    path = _write(tmp_path, "many-names.toml", _good_with().replace('units = ["x1", "x2"]', f"units = [{names}]"))
    _assert_fails_fast(path, f"layers[1].units: a layer needs from 1 to {MAX_UNITS:,} units")


def test_a_file_over_the_size_limit_is_not_read(tmp_path):
    path = _write(tmp_path, "huge.toml", GOOD)
    os.truncate(path, 2**40)  # a sparse terabyte
    _assert_fails_fast(path, f"file is {2**40:,} bytes; the limit is {MAX_FILE_BYTES:,}", seconds=2, grew_mb=20)


def test_nesting_100000_deep_fails_fast(tmp_path):
    path = _write(tmp_path, "deep.toml", "format = 1\na = " + "[" * 100_000 + "]" * 100_000 + "\n")
    _assert_fails_fast(path, "nested too deeply", seconds=2, grew_mb=50)


def test_many_layers_within_the_weight_limit_fail_fast(tmp_path):
    path, case = gen_too_many_units_in_all(tmp_path)
    _assert_fails_fast(path, case.message)


def test_a_long_csv_is_refused_at_the_row_over_the_limit(tmp_path):
    path, case = gen_csv_over_values_limit(tmp_path)
    (tmp_path / "csv-over-values-limit.csv").write_bytes(b"x1,x2,y\n" + b"0,0,0\n" * 2_000_000)  # 12 MB
    _assert_fails_fast(path, case.message, seconds=2, grew_mb=60)


# A pipe or a device never ends, or never answers: `check` must refuse it without reading it.
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
def test_a_scenario_that_is_a_pipe_is_not_read(tmp_path):
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    _assert_fails_fast(path, f"bptui: {path}: not a regular file")


@needs_fifo
def test_a_data_file_that_is_a_pipe_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    path = _write(tmp_path, "pipe.toml", _good_with(data='[data]\nfile = "pipe.csv"\n'))
    _assert_fails_fast(path, f"{tmp_path / 'pipe.csv'}: not a regular file (a pipe, a device or a socket), "
                             "so not a CSV file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_data_file_that_is_a_device_is_not_read(tmp_path):
    path = _write(tmp_path, "zero.toml", _good_with(data='[data]\nfile = "/dev/zero"\n'))
    _assert_fails_fast(path, "/dev/zero: not a regular file")


# --- Not malformed: these load -------------------------------------------------------------

def test_a_scenario_with_a_byte_order_mark_loads(tmp_path):
    path = _write(tmp_path, "notepad.toml", "\ufeff" + GOOD)  # as Notepad saves "UTF-8 with BOM"
    assert load_scenario(path).title == "Good"


def test_a_csv_with_a_byte_order_mark_loads(tmp_path):
    path = _with_csv(tmp_path, "excel", "\ufeffpattern,x1,x2,y\na,0,0,0\nb,1,1,1\n".encode("utf-8"))
    scenario = load_scenario(path)
    assert scenario.data.names == ("a", "b")
