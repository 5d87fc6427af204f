"""Write a run's current state as a scenario file (format 1), atomically.

The file carries the scenario's story and settings unchanged and the current weights
and biases as its starting weights, so loading it starts exactly where the run is.
Floats are written with ``repr``, which round-trips every double bit for bit. A
recurrent network is written as the file declared it (``[time]``, ``delay``, ``at``,
``start``), not unrolled: one matrix per connection and one bias per layer, since all
the copies of one share it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from bptui.core.atomic import NotSaved, check_target, write_atomic
from bptui.core.scenario import FORMAT, MAX_FILE_BYTES, Scenario
from bptui.core.training import Run


_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(s: str, key: bool = False) -> str:
    """A TOML basic string; multi-line text as a readable multi-line string, except as a
    key (``key``), which TOML allows only on one line."""
    if not key and "\n" in s and '"""' not in s and "\\" not in s and all(
            c in "\n\t" or (ord(c) >= 32 and ord(c) != 127) for c in s):
        return '"""\n' + s + ('"""' if not s.endswith('"') else '\\\n"""')
    out = []
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c in _SHORT_ESCAPES:  # a tab in two bytes, not six
            out.append(_SHORT_ESCAPES[c])
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _number(x) -> str:
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def _row(values) -> str:
    return "[" + ", ".join(_number(v) for v in values) + "]"


def _matrix(rows: np.ndarray, indent: str = "  ") -> str:
    if len(rows) <= 1:
        return "[" + ", ".join(_row(r) for r in rows) + "]"
    return "[\n" + "".join(f"{indent}{_row(r)},\n" for r in rows) + "]"


def _names(names) -> str:
    return "[" + ", ".join(_string(n) for n in names) + "]"


def scenario_toml(run: Run, out_path: Path) -> str:
    """The run's current state as the text of a format-1 scenario file to be written at out_path."""
    s: Scenario = run.scenario
    net = run.network
    lines = [f"format = {FORMAT}", "", "[scenario]", f"title = {_string(s.title)}",
             f"summary = {_string(s.summary)}", f"story = {_string(s.story)}"]
    if s.card:
        lines.append(f"card = {_string(s.card)}")
    if s.lesson is not None:  # a saved exercise stays an exercise
        lines += ["", "[lesson]"]
        if s.lesson.goal:
            lines.append(f"goal = {_string(s.lesson.goal)}")
        lines += [f"locked = {_names(s.lesson.locked)}", f"hide = {_names(s.lesson.hide)}"]
        if s.lesson.steps is not None:
            lines.append(f"steps = {s.lesson.steps}")
    time = s.time
    if time is not None:
        lines += ["", "[time]", f"steps = {time.steps}"]
    layers, biases, connections, links, reference = _declared(s, net)
    # A shared matrix (bias) is written once, with its group's first member in the file;
    # the others name the group and take it from there, so no copy can disagree.
    written_shares: set[tuple[str, str]] = set()

    def first_of(kind: str, share: str | None) -> bool:
        if share is None:
            return True
        if (kind, share) in written_shares:
            return False
        written_shares.add((kind, share))
        return True

    for i, layer in enumerate(layers):
        lines += ["", "[[layers]]", f"name = {_string(layer.name)}"]
        # Named as the loader names the units of a layer given by its size: the size says it,
        # in a few bytes, where the names would repeat the layer's name once per unit.
        if layer.units == tuple(f"{layer.name}[{k}]" for k in range(layer.size)):
            lines.append(f"size = {layer.size}")
        else:
            lines.append(f"units = {_names(layer.units)}")
        if layer.activation is not None:
            lines.append(f"activation = {_string(layer.activation)}")
            bias = biases[i]
            if bias is None:
                lines.append("bias = false")
            else:
                lines.append(f"bias = {_row(bias[0])}" if first_of("b", layer.bias_share) else "bias = true")
            if bias is not None and not layer.bias_trainable:
                lines.append("bias_trainable = false")
            if bias is not None and layer.bias_share is not None:
                lines.append(f"bias_share = {_string(layer.bias_share)}")
        for key in ("too_high", "too_low"):
            if getattr(layer, key) is not None:
                lines.append(f"{key} = {_string(getattr(layer, key))}")
        if layer.grid is not None:
            lines.append(f"grid = [{layer.grid[0]}, {layer.grid[1]}]")
        if layer.features:
            lines.append("features = { " + ", ".join(f"{_string(name, key=True)} = {_row(values)}"
                                                     for name, values in layer.features) + " }")
        if time is not None and time.at[i] is not None:
            lines.append(f"at = [{', '.join(map(str, time.at[i]))}]")
        if time is not None and time.start[i] is not None:
            start = time.start[i]
            lines.append(f"start = {_string(start) if isinstance(start, str) else _row(start)}")
    for k, (conn, link) in enumerate(zip(connections, links)):
        lines += ["", "[[connections]]", f"from = {_string(conn.sender)}", f"to = {_string(conn.receiver)}"]
        if time is not None and time.delays[k]:
            lines.append(f"delay = {time.delays[k]}")
        if first_of("w", conn.share):
            lines.append(f"weights = {_matrix(link.w)}")
        if not conn.trainable:
            lines.append("trainable = false")
        if conn.share is not None:
            lines.append(f"share = {_string(conn.share)}")
    if reference is not None:  # what "correct" is goes with the story
        for name, values in reference.biases:
            lines += ["", "[[reference.layers]]", f"name = {_string(name)}", f"bias = {_row(values)}"]
        for sender, receiver, w in reference.weights:
            lines += ["", "[[reference.connections]]", f"from = {_string(sender)}", f"to = {_string(receiver)}",
                      f"weights = {_matrix(w)}"]
    d = s.data
    lines += ["", "[data]"]
    if d.file is not None:
        source = (s.path.parent if s.path else Path(".")) / d.file
        lines.append(f"file = {_string(_relative(source, out_path.parent))}")
    else:
        # The constant starting states of a recurrent network are the file's, not the data's.
        inputs = d.inputs if time is None else d.inputs[:, list(time.given_columns)]
        lines += [f"patterns = {_names(d.names)}", f"inputs = {_matrix(inputs)}",
                  f"targets = {_matrix(d.targets)}"]
    if d.test_file is not None:
        source = (s.path.parent if s.path else Path(".")) / d.test_file
        lines.append(f"test_file = {_string(_relative(source, out_path.parent))}")
    listed = d.test[: len(d.names) - d.test_file_rows]  # the rest are held out by their file
    if listed.any():
        lines.append(f"test = {_names(n for n, held in zip(d.names, listed) if held)}")
    t = s.training
    lines += ["", "[training]", f"loss = {_string(t.loss)}", f"learning_rate = {_number(t.learning_rate)}",
              f"momentum = {_number(t.momentum)}", f"weight_decay = {_number(t.weight_decay)}",
              f"update = {_string(t.update)}", f"order = {_string(t.order)}", f"margin = {_number(t.margin)}",
              f"epochs = {t.epochs}", f"error_criterion = {_number(t.error_criterion)}",
              f"weight_init = {_number(t.weight_init)}", f"seed = {run.seed}"]
    for stage in t.schedule:
        lines += ["", "[[training.schedule]]", f"from_epoch = {stage.from_epoch}"]
        for key in ("learning_rate", "momentum", "weight_decay"):
            value = getattr(stage, key)
            if value is not None:
                lines.append(f"{key} = {_number(value)}")
    return "\n".join(lines) + "\n"


def _declared(s: Scenario, net):
    """The layers and connections to write, with each layer's bias and each connection's
    link in the run, and the reference: for a recurrent network, as the file declares
    them, where every copy of a layer (connection) shares the bias (matrix) of its first."""
    if s.time is None:
        return (s.layers, [None if layer.activation is None else net.layer(layer.name).b for layer in s.layers],
                s.connections, net.links, s.reference)
    time = s.time
    plans = {plan.name: plan for plan in net.layers}
    first_bias: dict[str, np.ndarray | None] = {}
    for layer, (name, step) in zip(s.layers, time.copies):
        if step >= 1 and not plans[layer.name].is_input:
            first_bias.setdefault(name, plans[layer.name].b)
    first_link = {}
    for link, (k, _) in zip(net.links, time.links):
        first_link.setdefault(k, link)
    return (time.layers, [first_bias.get(layer.name) for layer in time.layers], time.connections,
            [first_link[k] for k in range(len(time.connections))], time.reference)


def _relative(target: Path, start: Path) -> str:
    try:
        return os.path.relpath(target.resolve(), start.resolve())
    except ValueError:  # another drive on Windows
        return str(target.resolve())


# The fewest bytes ``_number`` writes for one weight or bias ("0.0"), with its ", ".
FEWEST_BYTES_PER_NUMBER = 5


def size_problem(run: Run, out_path=Path("saved.toml")) -> str | None:
    """Why the run's current state could not be saved for its size (a file bptui could not
    read back), or None. Before training this judges the starting weights: the trained ones
    take about as many bytes, and ``save_scenario`` checks those exactly."""
    numbers = run.network.theta.shape[-1]
    if numbers * FEWEST_BYTES_PER_NUMBER > MAX_FILE_BYTES:
        return _too_big(f"at least {numbers * FEWEST_BYTES_PER_NUMBER:,} bytes ({numbers:,} weights and biases)")
    size = len(scenario_toml(run, Path(out_path)).encode("utf-8"))
    return _too_big(f"{size:,} bytes") if size > MAX_FILE_BYTES else None


def _too_big(size: str) -> str:
    return (f"not written: the scenario file would be {size}, more than the {MAX_FILE_BYTES:,} bytes "
            "bptui reads, so it could not be opened again")


def save_scenario(run: Run, path) -> None:
    """Write the run's current state as a scenario file at path, atomically. Raises OSError:
    NotSaved (a message for after ``PATH:``) when the file would be too big to read back,
    or path is no place for a file (a folder, a pipe, a device); others when writing fails."""
    numbers = run.network.theta.shape[-1]
    if numbers * FEWEST_BYTES_PER_NUMBER > MAX_FILE_BYTES:  # before megabytes of text are built
        raise NotSaved(size_problem(run))
    check_target(path)  # before the text is built: a wrong path costs no time
    text = scenario_toml(run, Path(path))
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:  # whatever bptui writes, it must read back
        raise NotSaved(_too_big(f"{size:,} bytes"))
    write_atomic(path, text)
