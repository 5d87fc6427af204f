"""The command line's text output: ``inspect`` and ``train`` told in numbers, within 80 columns.

What ``--json`` gives whole (bptui/core/report.py), these render for a person at a
terminal. Every name and title comes from a file, so each passes through ``printable``.
"""

from __future__ import annotations

import math
import shlex
import textwrap

import numpy as np

from bptui.core.errors import printable
from bptui.core.report import confusion
from bptui.core.training import Run

WIDTH = 80  # the columns every line fits in

# bptui inspect in text: unit by unit for a small network, a summary for a wide one
PER_PATTERN = 4  # up to this many patterns each gets its own row; beyond, means and sums
DETAIL_UNITS = 12  # beyond this many non-input units, or DETAIL_WEIGHTS weights: the summary
DETAIL_WEIGHTS = 32
ERRORS_LISTED = 5  # with means and sums, the patterns with the largest output errors listed
TOP_UNITS = 8  # the summary's units with the largest |share|


def inspect_text(run: Run, report: dict, path: str) -> list[str]:
    """``bptui inspect`` without --json: one pass told in numbers, within WIDTH
    columns. Unit by unit (forward pass, backward pass, blame, parameters) when the
    network is small enough to read that way; otherwise a summary and the way to --json."""
    layers = [layer for layer in report["layers"].values() if "net" in layer]
    units = sum(len(layer["units"]) for layer in layers)
    weights = sum(int(np.size(c["weights"])) for c in report["connections"])
    detail = None
    if units <= DETAIL_UNITS and weights <= DETAIL_WEIGHTS:
        detail = _inspect_detail(run, report)
    if detail is None:  # too wide, or names too long for the tables
        detail = _inspect_summary(report, path, units, weights)
    return _inspect_header(report) + detail


def _wrap(text: str, max_lines: int | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, max_lines=max_lines, placeholder=" ...",
                         break_on_hyphens=False) or [""]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _num(value) -> str:
    """A number as inspect prints it: 4 significant digits; 'n/a' when not finite (null in JSON)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:.4g}"
    return "0" if float(text) == 0 else text  # no "-0"


def _percent(fraction: float) -> str:
    text = f"{abs(100 * fraction):.1f}".removesuffix(".0")
    return ("-" if fraction < 0 and text != "0" else "") + text + "%"


def _share(share) -> str:
    """A signed share with its word: '+100% blame', '-7.1% credit', '0%'."""
    if share is None or not math.isfinite(share):
        return "n/a"
    if share == 0:
        return "0%"
    text = _percent(abs(share))
    return f"+{text} blame" if share > 0 else f"-{text} credit"


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' * (n != 1)}"


def _unit_label(layer: str, unit: str) -> str:
    layer, unit = printable(layer), printable(unit)
    return layer if layer == unit else f"{layer}: {unit}"


def _table(headers: list[str], rows: list[tuple[str, list[str] | None]]) -> list[str] | None:
    """A table of right-aligned columns after a label column, within WIDTH; a row
    without cells is a heading over the rows below it. Labels that do not fit are cut
    (ending in '~'); None when the columns alone leave no room for them. Missing cells at
    the end of a row are blank."""
    rows = [(label, None if cells is None else cells + [""] * (len(headers) - 1 - len(cells)))
            for label, cells in rows]
    widths = [max([len(h)] + [len(cells[c]) for _, cells in rows if cells is not None])
              for c, h in enumerate(headers[1:])]
    room = WIDTH - 2 - sum(w + 2 for w in widths)
    label_width = max(len(label) for label, cells in [(headers[0], [])] + rows if cells is not None)
    if room < min(label_width, 12):
        return None
    label_width = min(label_width, room)
    lines = []
    for label, cells in [(headers[0], headers[1:])] + rows:
        if cells is None:
            lines.append("  " + _cut(label, WIDTH - 2))
        else:
            lines.append(("  " + _cut(label, label_width).ljust(label_width)
                          + "".join(f"  {cell:>{w}}" for cell, w in zip(cells, widths))).rstrip())
    return lines


def _inspect_header(report: dict) -> list[str]:
    n = len(report["patterns"])
    names = "; ".join(printable(name) for name in report["patterns"])
    lines = _wrap(printable(report["scenario"]), max_lines=2)
    lines += _wrap(f"one forward and backward pass at the starting weights (seed {report['seed']}) "
                   f"over {_count(n, 'training pattern')}: {names}", max_lines=3)
    lines.append(f"loss E = {_num(report['loss'])}")
    reference = report["reference"]
    if reference is None:
        lines.append("responsibility: none, as the scenario declares no [reference] (what is correct)")
    else:
        players = [_unit_label(p["layer"], p["unit"]) for p in reference["players"]]
        which = (f"the unit that differs from it, {players[0]}" if len(players) == 1 else
                 f"the {len(players):,} units that differ from it: {', '.join(players)}")
        method = reference["method"].removeprefix("shapley, ")
        lines += _wrap(f"reference (declared correct): E_ref = {_num(reference['loss'])}, so the excess "
                       f"E - E_ref = {_num(reference['excess'])}; responsibility splits it by Shapley "
                       f"values ({method}) over {which}", max_lines=3)
    return lines


def _totals(name: str, layer: dict, k: int) -> dict:
    """Unit k's numbers over all the patterns, from its layer in the report."""
    def pick(key):  # knock-outs and responsibility may not have been computed
        return None if layer.get(key) is None else layer[key][k]
    return {"label": _unit_label(name, layer["units"][k]), "c": layer["contribution"][k],
            "share": layer["share"][k], "knockout": pick("knockout"),
            "responsibility": pick("responsibility"), "error_of": pick("responsibility_error")}


def _unit_records(run: Run, report: dict) -> list[dict]:
    """Each non-input unit's numbers from the report: its totals and per-pattern arrays
    (NaN where not finite); its targets (NaN: don't care) when it is an output unit."""
    data = run.scenario.data
    targets = data.targets[~data.test]
    records = []
    for name, layer in report["layers"].items():
        if "net" not in layer:
            continue
        plan = run.network.layer(name)
        for k in range(len(layer["units"])):
            record = _totals(name, layer, k)
            for key in ("net", "own", "activation", "delta", "first_order"):
                record[key] = np.array(layer[key], dtype=np.float64)[:, k]
            record["target"] = None
            if plan.is_output:
                record["target"] = targets[:, plan.columns][:, k]
                record["error"] = record["activation"] - record["target"]
            records.append(record)
    return records


def _mean(values: np.ndarray) -> float | None:
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else None


def _inspect_detail(run: Run, report: dict) -> list[str] | None:
    """Unit by unit: forward pass, backward pass, blame and the parameters; per pattern
    for up to PER_PATTERN patterns, otherwise means (forward) and sums (backward)."""
    records = _unit_records(run, report)
    patterns = [printable(name) for name in report["patterns"]]
    n = len(patterns)
    each = 1 < n <= PER_PATTERN  # a row per pattern under each unit

    def forward(r, p=None):
        if p is None:  # means over the patterns
            values = [_mean(r["net"]), _mean(r["own"]), _mean(r["activation"])]
            extra = [] if r["target"] is None else [_mean(r["target"]), _mean(r["error"])]
        else:
            values = [r["net"][p], r["own"][p], r["activation"][p]]
            extra = [] if r["target"] is None else [r["target"][p], r["error"][p]]
        cells = [_num(v) for v in values]
        if extra:  # an output unit; a don't-care target: no target, no error
            target, error = extra
            cells += ["-", "-"] if target is None or math.isnan(target) else [_num(target), _num(error)]
        return cells

    def backward(r, p=None):
        if p is None:
            return [_num(float(np.sum(r["delta"]))), _num(float(np.sum(r["first_order"])))]
        return [_num(r["delta"][p]), _num(r["first_order"][p])]

    lines = [""]
    errors = None if each or n == 1 else _output_errors(records, patterns)
    if errors:
        lines += errors + [""]
    if each:
        how = "per pattern"
    elif n == 1:
        how = f"on {patterns[0]}"
    else:
        how = f"means over the {n} patterns"
    lines += _wrap(f"Forward pass, {how} (own part: the bias plus the weights from the input "
                   f"layers times the inputs; error = activation - target)")
    rows = []
    for r in records:
        if each:
            rows.append((r["label"], None))
            rows += [("  " + name, forward(r, p)) for p, name in enumerate(patterns)]
        else:
            rows.append((r["label"], forward(r, 0 if n == 1 else None)))
    table = _table(["unit", "net input", "own part", "activation", "target", "error"], rows)
    if table is None:
        return None
    lines += table + [""]

    if each:
        how = "per pattern and summed (the gradient adds the patterns up)"
    elif n == 1:
        how = f"on {patterns[0]}"
    else:
        how = f"sums over the {n} patterns (as the gradient adds them up)"
    lines += _wrap(f"Backward pass, {how}: delta = dE/dnet, the blame signal")
    rows = []
    for r in records:
        if each:
            rows.append((r["label"], None))
            rows += [("  " + name, backward(r, p)) for p, name in enumerate(patterns)]
            rows.append(("  sum", backward(r)))
        else:
            rows.append((r["label"], backward(r, 0 if n == 1 else None)))
    table = _table(["unit", "delta", "delta x own"], rows)
    if table is None:
        return None
    lines += table + [""]

    blame = _blame_lines(report, records)
    parameters = _parameter_lines(report, patterns, each)
    if blame is None or parameters is None:
        return None
    return lines + blame + [""] + parameters


def _output_errors(records: list[dict], patterns: list[str]) -> list[str] | None:
    """The patterns with the largest errors at the outputs (at most ERRORS_LISTED, none
    with no error), so that values summed over many patterns still show where the error
    is. None when the output units are too many to fit."""
    outputs = [r for r in records if r["target"] is not None]
    size = np.nansum(np.abs(np.array([r["error"] for r in outputs])), axis=0)
    listed = sorted(sorted(np.flatnonzero(size > 0), key=lambda p: -size[p])[:ERRORS_LISTED])
    rest = np.delete(size, listed)
    n = len(patterns)
    if not listed:
        return [f"At the outputs: no error on any of the {n} patterns"]
    if len(outputs) == 1:
        r = outputs[0]
        headers = ["pattern", "output", "target", "error"]
        rows = [(patterns[p], [_num(r["activation"][p]), *(
            ["-", "-"] if math.isnan(r["target"][p]) else [_num(r["target"][p]), _num(r["error"][p])])])
            for p in listed]
        what = "error"
    else:
        headers = ["pattern"] + [r["label"] for r in outputs]
        rows = [(patterns[p], ["-" if math.isnan(r["error"][p]) else _num(r["error"][p]) for r in outputs])
                for p in listed]
        what = "sum of |error|"
    table = _table(headers, rows)
    if table is None:
        return None
    if not rest.size:
        others = ""
    elif rest.max() == 0:
        others = f"; the other {rest.size:,}: error 0"
    else:
        others = f"; the other {rest.size:,}: {what} at most {_num(float(rest.max()))}"
    title = (f"The largest errors at the outputs (error = output - target): "
             f"{len(listed)} of the {n} patterns{others}")
    return _wrap(title) + table


def _responsibility(record: dict, excess) -> str:
    value = record["responsibility"]
    text = _num(value)
    error = record["error_of"]
    if error is not None:  # sampled; two digits are all a standard error means
        text += f" ± {error:.2g}" if math.isfinite(error) else " ± n/a"
    if value and excess and math.isfinite(value) and math.isfinite(excess):
        text += f" ({_percent(value / excess)})"
    return text


def _blame_lines(report: dict, records: list[dict]) -> list[str] | None:
    reference = report["reference"]
    lines = _wrap(f"Blame ({report['share_method']}): c = delta x own summed over the patterns, "
                  f"a first-order estimate of the knock-out, E minus E without the unit's own "
                  f"part; share = c / sum of |c| over all units, blame where c adds to E, credit "
                  f"where it takes away"
                  + ("; responsibility: the unit's part of E - E_ref" if reference is not None else ""))
    headers = ["unit", "c", "share", "knock-out"] + (["responsibility"] if reference is not None else [])
    excess = None if reference is None else reference["excess"]
    rows = [(r["label"], [_num(r["c"]), _share(r["share"]), _num(r["knockout"])]
             + ([_responsibility(r, excess)] if reference is not None else [])) for r in records]
    table = _table(headers, rows)
    if table is None:
        return None
    lines += table
    if any(r["knockout"] is None for r in records):
        lines.append("  (knock-out n/a: not computed, too much work, or not a finite number)")
    return lines


def _parameter_lines(report: dict, patterns: list[str], each: bool) -> list[str] | None:
    """Every weight w_kj and bias with its gradient, and each link_kj = w_kj f'(net_j):
    one column per pattern when ``each``, else one (the mean over the patterns)."""
    n = len(patterns)
    if each:
        link_headers, how = [_cut(name, 12) for name in patterns], "one column per pattern"
    elif n == 1:
        link_headers, how = ["link"], f"on {patterns[0]}"
    else:
        link_headers, how = ["mean link"], f"the mean over the {n} patterns"
    lines = _wrap(f"Parameters: each weight w_kj (from unit j to unit k) and bias with its "
                  f"gradient dE/dw; the link link_kj = w_kj f'(net_j), the factor by which "
                  f"delta_k reaches delta_j ({how}; none from an input layer)")
    rows = []
    layers = report["layers"]
    for c in report["connections"]:
        sender, receiver = layers[c["from"]]["units"], layers[c["to"]]["units"]
        heading = f"{printable(c['from'])} -> {printable(c['to'])}"
        only = f"{printable(sender[0])} -> {printable(receiver[0])}"
        single = len(sender) == len(receiver) == 1 and heading == only
        if not single:  # else its one weight's row would say the heading again
            rows.append((heading, None))
        link = None if c["link"] is None else np.array(c["link"], dtype=np.float64)
        for k, to in enumerate(receiver):
            for j, source in enumerate(sender):
                gradient = "fixed" if c["gradient"] is None else _num(c["gradient"][k][j])
                if link is None:
                    links = [""] * len(link_headers)
                elif each or n == 1:
                    links = [_num(v) for v in link[:, k, j]]
                else:
                    links = [_num(_mean(link[:, k, j]))]
                label = heading if single else f"  {printable(source)} -> {printable(to)}"
                rows.append((label, [_num(c["weights"][k][j]), gradient, *links]))
    biased = [(name, layer) for name, layer in layers.items() if layer.get("bias") is not None]
    if biased:
        rows.append(("biases", None))
        for name, layer in biased:
            for k, unit in enumerate(layer["units"]):
                rows.append(("  " + _unit_label(name, unit),
                             [_num(layer["bias"][k]), "fixed" if layer["bias_gradient"] is None
                              else _num(layer["bias_gradient"][k])]))
    table = _table(["weight", "w", "gradient"] + link_headers, rows)
    if table is None and each:  # too many patterns' columns: their mean instead
        return _parameter_lines(report, patterns, False)
    return None if table is None else lines + table


def _inspect_summary(report: dict, path: str, units: int, weights: int) -> list[str]:
    """For a network too wide to read unit by unit: the loss (in the header), per layer
    the sum of |delta| and of its blame and credit, the units with the largest |share|,
    and the command that prints every number."""
    command = f"bptui inspect {printable(shlex.quote(path))} --json"
    lines = [""] + _wrap(f"{_count(units, 'non-input unit')} and {_count(weights, 'weight')}: too "
                         f"many to show one by one in {WIDTH} columns, so a summary. Every "
                         f"net input, activation, delta, gradient, share and link:")
    lines.append("  " + command if len(command) <= WIDTH - 2 else "  the same command with --json")
    n = len(report["patterns"])
    lines += [""] + _wrap(f"Per layer: |delta| summed over its units and the {n:,} patterns; its "
                          f"units' shares of the blame and of the credit")
    rows, records = [], []
    for name, layer in report["layers"].items():
        if "net" not in layer:
            continue
        share = np.array(layer["share"], dtype=np.float64)
        delta = np.array(layer["delta"], dtype=np.float64)
        rows.append((printable(name), [f"{len(layer['units']):,}", _num(float(np.nansum(np.abs(delta)))),
                                       _percent(float(np.nansum(share[share > 0]))),
                                       _percent(float(-np.nansum(share[share < 0])))]))
        records += [_totals(name, layer, k) for k in range(len(layer["units"]))]
    lines += _table(["layer", "units", "sum of |delta|", "blame", "credit"], rows) or [
        "  (the layer names are too long for a table: --json lists them)"]
    top = sorted(records, key=lambda r: -abs(r["share"]) if r["share"] is not None else 0)[:TOP_UNITS]
    reference = report["reference"]
    knocked = any(r["knockout"] is not None for r in records)
    lines += [""] + _wrap(f"The {len(top)} units with the largest |share| (of {units:,}; {report['share_method']}; "
                          f"c = delta x own summed over the patterns, share = c / sum of |c|"
                          + ("; knock-out = E minus E without the unit's own part" if knocked else
                             "; the knock-outs are too much work to compute here")
                          + ("; responsibility: its part of E - E_ref" if reference is not None else "") + ")")
    headers = ["unit", "c", "share"] + (["knock-out"] if knocked else []) + (
        ["responsibility"] if reference is not None else [])
    excess = None if reference is None else reference["excess"]
    rows = [(r["label"], [_num(r["c"]), _share(r["share"])] + ([_num(r["knockout"])] if knocked else [])
             + ([_responsibility(r, excess)] if reference is not None else [])) for r in top]
    lines += _table(headers, rows) or ["  (the unit names are too long for a table: --json lists them)"]
    return lines


# train's summary lists at most this many patterns (--patterns: all); a classifier with
# more lists none, as its accuracy and confusion matrix sum them up
PATTERNS_LISTED = 50
CONFUSION_CLASSES = 12  # ... and a confusion matrix for a classifier with at most this many classes


def accuracy_lines(patterns: list[dict]) -> list[str]:
    """How many training and held-out patterns are right (SPEC section 5's ``correct``)."""
    lines = []
    for which, label in (("train", "training"), ("test", "held-out")):
        marks = [p["correct"] for p in patterns if p["set"] == which]
        if marks:
            right = sum(marks)
            lines.append(f"accuracy on the {label} patterns: {right:,} of {len(marks):,} right "
                         f"({right / len(marks):.1%})")
    return lines


def confusion_lines(patterns: list[dict], classes: tuple[str, ...]) -> list[str]:
    """The confusion matrix of the training and of the held-out patterns, each within
    WIDTH columns (rows: the right class; columns: the answer given; '.' for none); or a
    line saying where to find it, for more than CONFUSION_CLASSES classes or too many to fit."""
    k = len(classes)
    sets = [(which, label) for which, label in (("train", "training"), ("test", "held-out"))
            if any(p["set"] == which for p in patterns)]
    matrices = [confusion([p for p in patterns if p["set"] == which], k) for which, _ in sets]
    names = [printable(c) for c in classes]
    digits = max(len(str(int(m.max()))) for m in matrices)
    if max(len(n) for n in names) <= max(digits, 5):  # short names head the columns
        w = max([digits] + [len(n) for n in names])
        heads, labels = names, names
    else:  # long ones would not fit: columns by number, rows by number and name
        w = max(digits, len(str(k)))
        heads = [str(i + 1) for i in range(k)]
        labels = [f"{i + 1} {n}" for i, n in enumerate(names)]
    room = WIDTH - 2 - k * (w + 1)  # what is left for the row labels
    if k > CONFUSION_CLASSES or room < min(8, max(len(label) for label in labels)):
        return [f"confusion matrix: not shown for {k} classes (at most {CONFUSION_CLASSES}); "
                f"--json gives it"]
    lw = min(max(len(label) for label in labels), room)
    labels = [label if len(label) <= lw else label[: lw - 1] + "~" for label in labels]
    lines = []
    for (_, label), matrix in zip(sets, matrices):
        lines.append(f"confusion matrix, {label} patterns (rows: right class; columns: answer):")
        lines.append("  " + " " * lw + "".join(f" {h:>{w}}" for h in heads))
        for row_label, row in zip(labels, matrix):
            lines.append(f"  {row_label:<{lw}}" + "".join(f" {int(v) if v else '.':>{w}}" for v in row))
    return lines


def pattern_lines(patterns: list[dict]) -> list[str]:
    """One line per pattern: its name, set, output, target and whether it is right."""
    names = [printable(p["name"]) for p in patterns]
    width = max(len(name) for name in names)
    return [f"  {name:<{width}}  {p['set']:<5}  output {_values(p['output'])}  "
            f"target {_values(p['target'])}  {'ok' if p['correct'] else 'WRONG'}"
            for name, p in zip(names, patterns)]


def warning_lines(warnings: list[dict]) -> list[str]:
    """train's warnings (bptui/core/health.py), each its text then its advice, within
    WIDTH columns; an empty list when there are none."""
    lines = []
    for warning in warnings:
        lines += textwrap.wrap(printable(warning["text"]), WIDTH, initial_indent="warning: ",
                               subsequent_indent="  ", break_on_hyphens=False)
        lines += textwrap.wrap(printable(warning["advice"]), WIDTH, initial_indent="  ",
                               subsequent_indent="  ", break_on_hyphens=False)
    return lines


def _values(values: list) -> str:
    """Outputs or targets for the summary: '-' for don't care, short for huge numbers."""
    return " ".join("-" if v is None else f"{v:.3f}" if abs(v) < 1e4 else f"{v:.3g}" for v in values)
