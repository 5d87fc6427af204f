"""Every number that docs/blame.md, the blame stories and the README quote, against the engine.

Each quote is a piece of text and the engine's value of every number in it, in order.
A test checks that the text is where it is quoted and that each value rounds to the
number written (to the digits written; a whole number that is not a percentage must be
exact). Another checks that every number of docs/blame.md and of the four stories is in
some quote, so a number added or changed without its engine value fails too. Numbers
that no engine computes (a formula's 1/2, a year in a citation) are quoted as such,
with the reason.

The values are recomputed the long way where that is cheap (v(S) by forward passes at
mixed weights, a knock-out by zeroing the weights), so a doc that agrees with a wrong
engine does not pass for free: tests/test_blame.py checks the engine by hand as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from bptui.core.blame import losses_at, own_parameters
from bptui.core.catalog import builtin
from bptui.core.errors import InputError
from bptui.core.report import inspect_report
from bptui.core.responsibility import EXACT_PLAYERS, SAMPLED_ORDERS, reference_theta
from bptui.core.scenario import REFERENCE_CONNECTION_KEYS, REFERENCE_LAYER_KEYS, parse_scenario
from bptui.core.training import Run

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BF, OVEN, PRES, TUT = "biscuit-factory", "biscuit-factory-baking", "biscuit-factory-preservative", "tutoring-chain"
STORIES = (BF, OVEN, PRES, TUT)

# A number as a reader sees one: 4,096, -0.0117, 86%. Not a digit inside a word
# (x2, arXiv), nor the exponent of 2^n; a number right after "+" is read without it.
NUMBER = re.compile(r"(?<![\w.^])-?\d+(?:,\d{3})*(?:\.\d+)?%?")


# --- The engine, on the stories in the states the texts talk about ---------------------------

def _run(name: str, state: str = "start") -> Run:
    """A run of the shipped story, in one of the states its text talks about."""
    text = builtin()[name].read_text(encoding="utf-8")
    run = Run(parse_scenario(text, name, base=builtin()[name].parent))
    if state in ("baking glaze", "baking glaze, trained"):
        # the story's "give baking a bias of 0.3", as the app's edit dialog does it
        run.network.layer("baking").b[...] = 0.3
    if state.endswith("trained"):
        run.train()
    elif state == "scoop 1":  # the preservative story's "set the mixer's scoop to 1.0"
        _link(run, "recipe", "mixing").w[...] = 1.0
    elif state == "Sunita practises":  # the tutoring story's "give Sunita a bias of 0"
        run.network.layer("Sunita").b[...] = 0.0
    return run


def _link(run: Run, sender: str, receiver: str):
    return next(link for link in run.network.links if (link.sender.name, link.receiver.name) == (sender, receiver))


@cache
def report(name: str, state: str = "start") -> dict:
    return inspect_report(_run(name, state))


def per_unit(name: str, layer: str, key: str, state: str = "start") -> float:
    return float(report(name, state)["layers"][layer][key][0])


def per_pattern(name: str, layer: str, key: str, pattern: int, state: str = "start") -> float:
    return float(report(name, state)["layers"][layer][key][pattern][0])


def loss(name: str, state: str = "start") -> float:
    return float(report(name, state)["loss"])


def excess(name: str) -> float:
    return float(report(name)["reference"]["excess"])


def weight(name: str, sender: str, receiver: str, state: str = "start") -> float:
    return float(_link(_run(name, state), sender, receiver).w[0, 0])


def bias(name: str, layer: str, state: str = "start") -> float:
    return float(_run(name, state).network.layer(layer).b[0, 0])


def link(name: str, sender: str, receiver: str) -> float:
    by_pair = {(c["from"], c["to"]): c for c in report(name)["connections"]}
    return float(by_pair[sender, receiver]["link"][0][0][0])


def reference_weight(name: str, sender: str, receiver: str) -> float:
    reference = _run(name).scenario.reference
    return next(float(w[0, 0]) for s, r, w in reference.weights if (s, r) == (sender, receiver))


@cache
def misses(name: str) -> np.ndarray:
    """output - target of each training pattern, at the starting weights."""
    run = _run(name)
    return (run.outputs(run.x) - run.t)[:, 0]


def target(name: str) -> float:
    return float(_run(name).t[0, 0])


def savoury(name: str) -> int:
    return int(np.count_nonzero(_run(name).x[:, 0]))


def patterns(name: str) -> int:
    return len(_run(name).x)


def too_salty(name: str) -> int:
    return int(np.count_nonzero(misses(name) > 0))


@cache
def knocked_out(name: str, layers: tuple[str, ...]) -> tuple[float, np.ndarray]:
    """E and the outputs with these units' own parts (bias, weights from the inputs) set
    to 0, by a forward pass: the knock-out recomputed without bptui/core/blame.knockouts."""
    run = _run(name)
    net = run.network
    for layer in layers:
        net.theta[own_parameters(net, net.layer(layer), 0)] = 0.0
    E = losses_at(net, net.theta[None], run.x, run.t, run.care, run.training.margin)[0]
    return float(E), run.outputs(run.x)[:, 0]


def knockout(name: str, *layers: str) -> float:
    return loss(name) - knocked_out(name, layers)[0]


def added_to_output(name: str, layer: str, pattern: int) -> float:
    """What the unit's own part adds to the output on a pattern (its knock-out's change)."""
    run = _run(name)
    return float(run.outputs(run.x)[pattern, 0] - knocked_out(name, (layer,))[1][pattern])


def miss_without(name: str, layer: str, pattern: int) -> float:
    return float(knocked_out(name, (layer,))[1][pattern] - _run(name).t[pattern, 0])


@cache
def v(name: str, current: tuple[str, ...]) -> float:
    """v(S): E with the units in S at their current parameters (bias and every incoming
    weight) and every other unit at the scenario's reference, by one forward pass."""
    run = _run(name)
    net = run.network
    theta = reference_theta(net)
    index = net.views(np.arange(net.size))
    for layer in current:
        unit = net.layer(layer)
        places = [index.weights[link.index][0].ravel() for link in unit.incoming]
        if unit.b is not None:
            places.append(index.biases[unit.index][..., 0].ravel())
        places = np.concatenate(places)
        theta[places] = net.theta[places]
    return float(losses_at(net, theta[None], run.x, run.t, run.care, run.training.margin)[0])


def parts(name: str, layer: str, state: str) -> np.ndarray:
    return np.array(report(name, state)["layers"][layer]["first_order"])[:, 0]


def same(*values: float) -> float:
    """The one value that several quantities share (a number the text says of all of them)."""
    assert np.allclose(values, values[0], rtol=1e-12, atol=1e-15), values
    return values[0]


# --- Quotes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fixed:
    """A number that no engine computes, with the reason."""

    why: str


MATH = Fixed("a number of a formula or a definition")
CITE = Fixed("a year of a citation")
LIST = Fixed("the number of an item of a list")
GIVEN = Fixed("a value the reader is asked to set")


@dataclass(frozen=True)
class Near:
    """An engine value that the text rounds more loosely than its digits say ("about 1")."""

    value: Callable[[], float]
    within: float


@dataclass(frozen=True)
class Quote:
    text: str  # as written (line breaks and runs of spaces are read as one space)
    values: tuple  # per number of the text, in order: a callable, a Near or a Fixed

    def __init__(self, text: str, *values):
        object.__setattr__(self, "text", " ".join(text.split()))
        object.__setattr__(self, "values", values)


def _agrees(quoted: str, value: float, within: float | None = None) -> bool:
    """Whether the engine's value rounds to the number written."""
    percent = quoted.endswith("%")
    number = quoted.rstrip("%").replace(",", "")
    written = float(number)
    if percent:
        value *= 100
    if within is None:
        places = len(number.partition(".")[2])
        within = 0.5 * 10.0**-places if places or percent else 0.0
    return abs(value - written) <= within + 1e-9 * max(1.0, abs(written))


def _prose(text: str, stop: str | None = None) -> str:
    """The text as read for numbers: without headings, link targets and what follows ``stop``."""
    if stop is not None:
        text = text[: text.index(stop)]
    text = re.sub(r"^#.*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return " ".join(text.split())


def _check_quote(prose: str, quote: Quote) -> None:
    assert quote.text in prose, f"not in the text (any more?): {quote.text!r}"
    numbers = NUMBER.findall(quote.text)
    assert len(numbers) == len(quote.values), f"{quote.text!r}: numbers {numbers}, values for {len(quote.values)}"
    for number, value in zip(numbers, quote.values):
        if isinstance(value, Fixed):
            continue
        within = value.within if isinstance(value, Near) else None
        got = (value.value if isinstance(value, Near) else value)()
        assert _agrees(number, got, within), f"{quote.text!r}: {number} is written, the engine gives {got!r}"


def _unquoted(prose: str, quotes: list[Quote]) -> list[str]:
    """The numbers of ``prose`` that no quote covers, each with some words around it."""
    covered = []
    for quote in quotes:
        for m in re.finditer(re.escape(quote.text), prose):
            covered.append((m.start(), m.end()))
    missing = []
    for m in NUMBER.finditer(prose):
        if not any(start <= m.start() and m.end() <= end for start, end in covered):
            missing.append(prose[max(0, m.start() - 40): m.end() + 20])
    return missing


# docs/blame.md -----------------------------------------------------------------------------------

def _bf(key, layer="mixing", state="start"):
    return [lambda p=p: per_pattern(BF, layer, key, p, state) for p in range(3)]


def _oven(key, layer="mixing"):
    return [lambda p=p: per_pattern(OVEN, layer, key, p) for p in range(3)]


def _pres(key, layer="mixing"):
    return [lambda p=p: per_pattern(PRES, layer, key, p) for p in range(3)]


def _tut(layer, key):
    return lambda: per_unit(TUT, layer, key)


BLAME_DOC = [
    Quote("Rumelhart, Hinton and Williams (1986)", CITE),
    Quote("E = 1/2 x sum over patterns and output units of (a_j - t_j)^2", MATH, MATH),
    Quote("delta(Sunita) = -0.1173", lambda: per_pattern(TUT, "Sunita", "delta", 0)),
    Quote("link(Sunita, Arjun) = 1.2 x f'(net Arjun) = 0.2962",
          lambda: weight(TUT, "Arjun", "Sunita"), lambda: link(TUT, "Arjun", "Sunita")),
    Quote("link(Arjun, Priya) = 1.5 x f'(net Priya) = 0.2237",
          lambda: weight(TUT, "Priya", "Arjun"), lambda: link(TUT, "Priya", "Arjun")),
    Quote("delta(Priya) = -0.1173 x 0.2962 x 0.2237 = -0.00777",
          lambda: per_pattern(TUT, "Sunita", "delta", 0), lambda: link(TUT, "Arjun", "Sunita"),
          lambda: link(TUT, "Priya", "Arjun"), lambda: per_pattern(TUT, "Priya", "delta", 0)),
    Quote("four stages have the same delta (0.5, 1 and 2 on the three savoury batches, 0 on the sweet ones)",
          *_bf("delta"), lambda: float(np.abs(np.array(report(BF)["layers"]["mixing"]["delta"])[3:]).max())),
    Quote("twice packaging's: 1, 2 and 4 against 0.5, 1 and 2.", *_oven("delta"), *_oven("delta", "packaging")),
    Quote("Priya's delta is negative (-0.00777)", lambda: per_pattern(TUT, "Priya", "delta", 0)),
    Quote("The sizes of all the shares add up to 100% (they are all 0 when no unit's own part moves the error)",
          lambda: same(*(sum(abs(s) for layer in report(name)["layers"].values() for s in layer.get("share") or ())
                         for name in STORIES)), MATH),
    Quote("E(own_j = 0) ~ E + sum over patterns of delta_j x (0 - own_j) = E - c_j", MATH, MATH),
    Quote("so E - E(own_j = 0) ~ c_j", MATH),
    Quote("over the way from own_j to 0", MATH),
    Quote("can sum to nearly 0", MATH),
    Quote("biscuit factory (seed 1): it converges with the scoop at 1.002 and the mixer's own pinch at -0.004.",
          lambda: report(BF, "trained")["seed"], lambda: weight(BF, "recipe", "mixing", "trained"),
          lambda: bias(BF, "mixing", "trained")),
    Quote("The mixer's blame part is 0.0019", lambda: parts(BF, "mixing", "trained").clip(min=0).sum()),
    Quote("its credit part -0.0029", lambda: parts(BF, "mixing", "trained").clip(max=0).sum()),
    Quote("and its c is -0.0010: a credit of 100%",
          lambda: per_unit(BF, "mixing", "contribution", "trained"),
          lambda: -per_unit(BF, "mixing", "share", "trained")),
    Quote("(Shrikumar et al. 2016;", CITE),
    Quote("Ancona et al. 2018)", CITE),
    Quote("**Biscuit factory.** 20 batches: 3 savoury ones", lambda: patterns(BF), lambda: savoury(BF)),
    Quote("and 17 sweet ones with none. The scoop is 2 spoons per spoon",
          lambda: patterns(BF) - savoury(BF), lambda: weight(BF, "recipe", "mixing")),
    Quote("so the savoury batches miss by 0.5, 1 and 2, and E = 2.625.",
          *[lambda p=p: misses(BF)[p] for p in range(3)], lambda: loss(BF)),
    Quote("its scoop of the recipe: 1, 2 and 4 spoons. With its deltas of 0.5, 1 and 2:", *_bf("own"), *_bf("delta")),
    Quote("c(mixing) = 0.5 x 1 + 1 x 2 + 2 x 4 = 0.5 + 2 + 8 = 10.5",
          *[f for pair in zip(_bf("delta"), _bf("own")) for f in pair], *_bf("first_order"),
          lambda: per_unit(BF, "mixing", "contribution")),
    Quote("(own = 0): c = 0.",
          lambda: max(abs(per_pattern(BF, layer, "own", p)) for layer in ("baking", "packaging", "quality control")
                      for p in range(20)),
          lambda: max(abs(per_unit(BF, layer, "contribution"))
                      for layer in ("baking", "packaging", "quality control"))),
    Quote("Mixing's share is **100%** blame.", lambda: per_unit(BF, "mixing", "share")),
    Quote("The scoop is 1 and the oven doubles the salt.", lambda: weight(OVEN, "recipe", "mixing")),
    Quote("and so is E (2.625)", lambda: loss(OVEN)),
    Quote("half as large (0.5, 1 and 2) and its delta twice as large (1, 2 and 4), so c(mixing) is 10.5 again: "
          "**100%** blame", *_oven("own"), *_oven("delta"), lambda: per_unit(OVEN, "mixing", "contribution"),
          lambda: per_unit(OVEN, "mixing", "share")),
    Quote("The scoop is 1.5, and packaging amplifies the salt it receives by 1.5",
          lambda: weight(PRES, "recipe", "mixing"), lambda: weight(PRES, "baking", "packaging")),
    Quote("The three batches miss by 1.125, 1.75 and 3, and E = 6.664. Packaging's delta is the miss; mixing's is "
          "1.5 times it", *[lambda p=p: misses(PRES)[p] for p in range(3)], lambda: loss(PRES),
          lambda: same(*(per_pattern(PRES, "mixing", "delta", p) / per_pattern(PRES, "packaging", "delta", p)
                         for p in range(3)))),
    Quote("the amplification on the way back: 1.6875, 2.625 and 4.5.", *_pres("delta")),
    Quote("c(mixing) = 1.6875 x 0.75 + 2.625 x 1.5 + 4.5 x 3 = 18.703",
          *[f for pair in zip(_pres("delta"), _pres("own")) for f in pair],
          lambda: per_unit(PRES, "mixing", "contribution")),
    Quote("c(packaging) = 1.125 x 0.5 + 1.75 x 0.5 + 3 x 0.5 = 2.9375",
          *[f for pair in zip(_pres("delta", "packaging"), _pres("own", "packaging")) for f in pair],
          lambda: per_unit(PRES, "packaging", "contribution")),
    Quote("share(mixing) = 18.703 / (18.703 + 2.9375) = 86% share(packaging) = 14%",
          lambda: per_unit(PRES, "mixing", "contribution"), lambda: per_unit(PRES, "mixing", "contribution"),
          lambda: per_unit(PRES, "packaging", "contribution"), lambda: per_unit(PRES, "mixing", "share"),
          lambda: per_unit(PRES, "packaging", "share")),
    Quote("Sunita scores 0.418 where the target is 0.9, and E = 0.1163.",
          lambda: per_pattern(TUT, "Sunita", "activation", 0), lambda: target(TUT), lambda: loss(TUT)),
    Quote("(bias -0.5 plus 2.0 x 1, so 1.5)", lambda: bias(TUT, "Priya"), lambda: weight(TUT, "syllabus", "Priya"),
          lambda: float(_run(TUT).x[0, 0]), lambda: per_pattern(TUT, "Priya", "own", 0)),
    Quote("their biases of -1.0.", lambda: same(bias(TUT, "Arjun"), bias(TUT, "Sunita"))),
    Quote("| Priya | -0.00777 | 1.5 | -0.0117 | -7.1% (credit) |", lambda: per_pattern(TUT, "Priya", "delta", 0),
          lambda: per_pattern(TUT, "Priya", "own", 0),
          _tut("Priya", "contribution"), _tut("Priya", "share")),
    Quote("| Arjun | -0.0347 | -1.0 | 0.0347 | 21.2% (blame) |", lambda: per_pattern(TUT, "Arjun", "delta", 0),
          lambda: per_pattern(TUT, "Arjun", "own", 0), _tut("Arjun", "contribution"), _tut("Arjun", "share")),
    Quote("| Sunita | -0.1173 | -1.0 | 0.1173 | 71.7% (blame) |", lambda: per_pattern(TUT, "Sunita", "delta", 0),
          lambda: per_pattern(TUT, "Sunita", "own", 0), _tut("Sunita", "contribution"), _tut("Sunita", "share")),
    Quote("in the biscuit factory, c(mixing) = 10.5 is four times E itself, while the real change is 0",
          lambda: per_unit(BF, "mixing", "contribution"), lambda: knockout(BF, "mixing")),
    Quote("factory (scoop 2, oven x1) and the new oven (scoop 1, oven x2)",
          lambda: weight(BF, "recipe", "mixing"), lambda: weight(OVEN, "recipe", "mixing")),
    Quote("give the mixer the same c, 10.5.",
          lambda: same(per_unit(BF, "mixing", "contribution"), per_unit(OVEN, "mixing", "contribution"))),
    Quote("from the input layers set to 0)", MATH),
    Quote("It is 0 for a unit with no own part",
          lambda: max(abs(per_unit(name, layer, "knockout")) for name in (BF, OVEN, PRES)
                      for layer in ("baking", "quality control"))),
    Quote("knockout_j = c_j - 1/2 x sum over patterns and outputs of (what own_j adds to an output)^2",
          MATH, MATH),
    Quote("misses of -0.5, -1 and -2 instead of 0.5, 1 and 2.",
          *[lambda p=p: miss_without(BF, "mixing", p) for p in range(3)],
          *[lambda p=p: misses(BF)[p] for p in range(3)]),
    Quote("the knock-out change is **0**. The estimate c = 10.5",
          lambda: per_unit(BF, "mixing", "knockout"), lambda: per_unit(BF, "mixing", "contribution")),
    Quote("the mixer adds 1, 2 and 4 spoons to the saltiness, and 1/2 x (1 + 4 + 16) = 10.5, so 10.5 - 10.5 = 0.",
          *[lambda p=p: added_to_output(BF, "mixing", p) for p in range(3)], MATH, MATH,
          *[lambda p=p: added_to_output(BF, "mixing", p) ** 2 for p in range(3)],
          lambda: per_unit(BF, "mixing", "contribution") - knockout(BF, "mixing"),
          lambda: per_unit(BF, "mixing", "contribution"),
          lambda: per_unit(BF, "mixing", "contribution") - knockout(BF, "mixing"), lambda: knockout(BF, "mixing")),
    Quote("The knock-out changes are 5.414 for mixing (estimate 18.703: the mixer adds 1.125, 2.25 and 4.5 to the "
          "saltiness, a square term of 13.289) and 2.5625 for packaging (estimate 2.9375, square term 0.375).",
          lambda: per_unit(PRES, "mixing", "knockout"), lambda: per_unit(PRES, "mixing", "contribution"),
          *[lambda p=p: added_to_output(PRES, "mixing", p) for p in range(3)],
          lambda: per_unit(PRES, "mixing", "contribution") - knockout(PRES, "mixing"),
          lambda: per_unit(PRES, "packaging", "knockout"), lambda: per_unit(PRES, "packaging", "contribution"),
          lambda: per_unit(PRES, "packaging", "contribution") - knockout(PRES, "packaging")),
    Quote("| Priya | -0.0117 | -0.0170 |", _tut("Priya", "contribution"), lambda: knockout(TUT, "Priya")),
    Quote("| Arjun | 0.0347 | 0.0289 |", _tut("Arjun", "contribution"), lambda: knockout(TUT, "Arjun")),
    Quote("| Sunita | 0.1173 | 0.0878 |", _tut("Sunita", "contribution"), lambda: knockout(TUT, "Sunita")),
    Quote("the error really grows, by 0.0170: more than the estimate, 0.0117.",
          lambda: -per_unit(TUT, "Priya", "knockout"), lambda: -per_unit(TUT, "Priya", "contribution")),
    Quote("should put in 1 spoon per spoon and puts in 1.5; the knock-out takes all 1.5 away.",
          lambda: reference_weight(PRES, "recipe", "mixing"), lambda: weight(PRES, "recipe", "mixing"),
          lambda: weight(PRES, "recipe", "mixing")),
    Quote("they sum to 7.977, more than E (6.664). Knock both stages out at once and the error falls by 4.039.",
          lambda: per_unit(PRES, "mixing", "knockout") + per_unit(PRES, "packaging", "knockout"),
          lambda: loss(PRES), lambda: knockout(PRES, "mixing", "packaging")),
    Quote("its knock-out change is 0, like its share.",
          lambda: same(per_unit(OVEN, "baking", "knockout"), per_unit(OVEN, "baking", "share"))),
    Quote("(Shapley 1953)", CITE),
    Quote("|S|! (n - |S| - 1)! / n!", MATH),
    Quote("A unit that is not a player gets 0.",
          lambda: max(abs(per_unit(name, layer, "responsibility")) for name in (BF, OVEN, PRES)
                      for layer in report(name)["layers"] if "share" in report(name)["layers"][layer]
                      and layer not in [p["layer"] for p in report(name)["reference"]["players"]])),
    Quote("a unit whose fault changes the error in no set gets 0 (a unit equal to its reference is not a player at "
          "all, and gets 0 too)", MATH, lambda: per_unit(OVEN, "mixing", "responsibility")),
    Quote("Up to 12 players, bptui evaluates every set: 2^n forward passes (4,096 for 12)",
          lambda: EXACT_PLAYERS, MATH, lambda: 2**EXACT_PLAYERS, lambda: EXACT_PLAYERS),
    Quote("it samples 200 random orders of the players (Castro, Gomez and Tejada 2009)",
          lambda: SAMPLED_ORDERS, CITE),
    Quote('`"shapley, sampled over 200 orders"`', lambda: SAMPLED_ORDERS),
    Quote("The reference is a scoop of 1, and E_ref = 0.",
          lambda: reference_weight(BF, "recipe", "mixing"), lambda: report(BF)["reference"]["loss"]),
    Quote("`E - E_ref`: **2.625**", lambda: same(per_unit(BF, "mixing", "responsibility"), excess(BF))),
    Quote("The reference is a scoop of 1 and an oven of x1.", lambda: reference_weight(OVEN, "recipe", "mixing")),
    Quote("so it is no player: **0**. Baking gets all of it, **2.625**. The share put 100% on mixing",
          lambda: per_unit(OVEN, "mixing", "responsibility"),
          lambda: same(per_unit(OVEN, "baking", "responsibility"), excess(OVEN)),
          lambda: per_unit(OVEN, "mixing", "share")),
    Quote("Now train (seed 1): the only knob is the mixer's, so training turns the scoop down to 0.497.",
          lambda: report(OVEN, "trained")["seed"], lambda: weight(OVEN, "recipe", "mixing", "trained")),
    Quote("mixing -0.982, baking +0.982.", lambda: per_unit(OVEN, "mixing", "responsibility", "trained"),
          lambda: per_unit(OVEN, "baking", "responsibility", "trained")),
    Quote("The reference is a scoop of 1, no amplification (x1) and no preservative (dose weight 0), and E_ref = 0.",
          lambda: reference_weight(PRES, "recipe", "mixing"),
          lambda: reference_weight(PRES, "preservative", "packaging"),
          lambda: report(PRES)["reference"]["loss"]),
    Quote("v(no one) = 0 v(M) = 0.656", lambda: v(PRES, ()), lambda: v(PRES, ("mixing",))),
    Quote("v(P) = 1.906 v(M and P) = 6.664 = E",
          lambda: v(PRES, ("packaging",)), lambda: same(v(PRES, ("mixing", "packaging")), loss(PRES))),
    Quote("mixing: alone 0.656; after packaging 6.664 - 1.906 = 4.758; average 2.707 (41%)",
          lambda: v(PRES, ("mixing",)), lambda: v(PRES, ("mixing", "packaging")), lambda: v(PRES, ("packaging",)),
          lambda: v(PRES, ("mixing", "packaging")) - v(PRES, ("packaging",)),
          lambda: same(per_unit(PRES, "mixing", "responsibility"),
                       (v(PRES, ("mixing",)) + v(PRES, ("mixing", "packaging")) - v(PRES, ("packaging",))) / 2),
          lambda: per_unit(PRES, "mixing", "responsibility") / excess(PRES)),
    Quote("packaging: alone 1.906; after the mixer 6.664 - 0.656 = 6.008; average 3.957 (59%)",
          lambda: v(PRES, ("packaging",)), lambda: v(PRES, ("mixing", "packaging")), lambda: v(PRES, ("mixing",)),
          lambda: v(PRES, ("mixing", "packaging")) - v(PRES, ("mixing",)),
          lambda: same(per_unit(PRES, "packaging", "responsibility"),
                       (v(PRES, ("packaging",)) + v(PRES, ("mixing", "packaging")) - v(PRES, ("mixing",))) / 2),
          lambda: per_unit(PRES, "packaging", "responsibility") / excess(PRES)),
    Quote("2.707 + 3.957 = 6.664: the whole excess. Each fault alone adds 0.656 and 1.906; the rest, 4.102,",
          lambda: per_unit(PRES, "mixing", "responsibility"), lambda: per_unit(PRES, "packaging", "responsibility"),
          lambda: same(excess(PRES), per_unit(PRES, "mixing", "responsibility")
                       + per_unit(PRES, "packaging", "responsibility")),
          lambda: v(PRES, ("mixing",)), lambda: v(PRES, ("packaging",)),
          lambda: v(PRES, ("mixing", "packaging")) - v(PRES, ("mixing",)) - v(PRES, ("packaging",))),
    Quote("That shared part is split evenly, 2.051 each. Compare the share (86% to mixing) and the knock-outs "
          "(5.414 and 2.5625)",
          lambda: same(per_unit(PRES, "mixing", "responsibility") - v(PRES, ("mixing",)),
                       per_unit(PRES, "packaging", "responsibility") - v(PRES, ("packaging",))),
          lambda: per_unit(PRES, "mixing", "share"), lambda: knockout(PRES, "mixing"),
          lambda: knockout(PRES, "packaging")),
    Quote("Set the mixer's scoop to 1.0 (edit it while paused) and it equals its reference: its responsibility "
          "drops to 0, and packaging's is all of E, 1.906. Its first-order share is still 80%.",
          lambda: reference_weight(PRES, "recipe", "mixing"),
          lambda: per_unit(PRES, "mixing", "responsibility", "scoop 1"),
          lambda: same(per_unit(PRES, "packaging", "responsibility", "scoop 1"), loss(PRES, "scoop 1")),
          lambda: per_unit(PRES, "mixing", "share", "scoop 1")),
    Quote("(E_ref above 0)", MATH),
    Quote("cannot split packaging's 3.957 between them", lambda: per_unit(PRES, "packaging", "responsibility")),
    Quote("**Beyond 12 players it is an estimate**", lambda: EXACT_PLAYERS),
]


def _blame_doc() -> str:
    return _prose((DOCS / "blame.md").read_text(encoding="utf-8"), stop="## References")


@pytest.mark.parametrize("quote", BLAME_DOC, ids=[q.text[:50] for q in BLAME_DOC])
def test_the_blame_doc_quotes_the_engine(quote):
    _check_quote(_blame_doc(), quote)


def test_every_number_of_the_blame_doc_is_checked():
    missing = _unquoted(_blame_doc(), BLAME_DOC)
    assert not missing, "numbers of docs/blame.md with no quote in BLAME_DOC:\n" + "\n".join(missing)


def test_what_the_blame_doc_says_in_words():
    """Claims the doc makes without a number of their own."""
    doc = _blame_doc()

    def says(text: str) -> bool:
        return " ".join(text.split()) in doc

    assert says("All\nfour stages have the same delta")
    deltas = [np.array(report(BF)["layers"][layer]["delta"]) for layer in ("mixing", "baking", "packaging",
                                                                            "quality control")]
    assert all(np.array_equal(d, deltas[0]) for d in deltas)
    assert says("c(mixing) = 10.5 is four times\n  E itself")
    assert per_unit(BF, "mixing", "contribution") == 4 * loss(BF)
    assert says("The biscuits are the very same")
    np.testing.assert_array_equal(_run(BF).outputs(_run(BF).x), _run(OVEN).outputs(_run(OVEN).x))
    assert says("Every delta is negative")
    assert all(per_pattern(TUT, layer, "delta", 0) < 0 for layer in ("Priya", "Arjun", "Sunita"))
    assert says("The sign is right for all three")
    assert all(np.sign(per_unit(TUT, layer, "contribution")) == np.sign(per_unit(TUT, layer, "knockout"))
               for layer in ("Priya", "Arjun", "Sunita"))
    # The trained factory: bland, bland, salty; the mixer's terms follow.
    assert says("The two smaller savoury batches come out a little too bland, the\ndouble one a little too salty")
    run = _run(BF, "trained")
    miss = (run.outputs(run.x) - run.t)[:, 0]
    assert miss[0] < 0 and miss[1] < 0 and miss[2] > 0
    terms = parts(BF, "mixing", "trained")
    assert says("The mixer's blame part is 0.0019 (the double batch and\nthe sweet ones), its credit part -0.0029 "
                "(the other two)")
    assert terms[0] < 0 and terms[1] < 0 and (terms[2:] > 0).all()
    assert says("Only the mixer\ndiffers: one player") and report(BF)["reference"]["players"] == [
        {"layer": "mixing", "unit": "dough"}]
    assert says("Two players: mixing (M) and packaging (P)")
    assert [p["layer"] for p in report(PRES)["reference"]["players"]] == ["mixing", "packaging"]
    assert says("the responsibility finds baking")
    assert [p["layer"] for p in report(OVEN)["reference"]["players"]] == ["baking"]


def test_the_json_has_the_keys_the_blame_doc_names():
    doc = _blame_doc()
    layer = report(PRES)["layers"]["mixing"]
    for key in ("first_order", "share", "knockout", "responsibility"):
        assert key in layer
    for key in ("loss", "excess", "method", "players"):
        assert key in report(PRES)["reference"]
    assert "E_ref (`loss`), `E - E_ref` (`excess`) and the players" in doc
    assert report(PRES)["reference"]["method"] == "shapley, exact" and '`"shapley, exact"`' in doc
    assert report(TUT)["reference"] is None
    assert all(layer["responsibility"] is None for name, layer in report(TUT)["layers"].items() if "share" in layer)
    by_pair = {(c["from"], c["to"]): c for c in report(TUT)["connections"]}
    assert by_pair["syllabus", "Priya"]["link"] is None  # "There is none from an input layer"


# A network with more units that differ from its reference than EXACT_PLAYERS: the
# responsibility is sampled, and the JSON says so as the doc writes it.
MANY_PLAYERS = f"""\
format = 1
[scenario]
title = "many players"
[[layers]]
name = "input"
size = 1
[[layers]]
name = "hidden"
size = {EXACT_PLAYERS + 1}
activation = "linear"
bias = {[0.1 * (k + 1) for k in range(EXACT_PLAYERS + 1)]}
[[layers]]
name = "output"
size = 1
activation = "linear"
bias = false
[[connections]]
from = "input"
to = "hidden"
weights = {[[1.0]] * (EXACT_PLAYERS + 1)}
[[connections]]
from = "hidden"
to = "output"
weights = [{[1.0] * (EXACT_PLAYERS + 1)}]
[[reference.layers]]
name = "hidden"
bias = {[0.0] * (EXACT_PLAYERS + 1)}
[data]
inputs = [[0.0], [1.0]]
targets = [[0.0], [1.0]]
"""


def test_beyond_the_exact_limit_the_json_says_sampled_as_the_doc_does():
    report_ = inspect_report(Run(parse_scenario(MANY_PLAYERS)))
    method = report_["reference"]["method"]
    assert f'`"{method}"`' in _blame_doc()
    assert len(report_["reference"]["players"]) == EXACT_PLAYERS + 1
    assert "responsibility_error" in report_["layers"]["hidden"]
    assert sum(report_["layers"]["hidden"]["responsibility"]) == pytest.approx(report_["reference"]["excess"])


# The stories ---------------------------------------------------------------------------------

def _percent_split() -> list[Near]:
    """The preservative's "41/59": each stage's responsibility in percent of E - E_ref."""
    return [Near(lambda layer=layer: 100 * per_unit(PRES, layer, "responsibility") / excess(PRES), 0.5)
            for layer in ("mixing", "packaging")]


STORY_QUOTES = {
    BF: [
        Quote("3 batches in 20 too salty", lambda: too_salty(BF), lambda: patterns(BF)),
        Quote("Today 3 of the 20 batches, 15%, come back", lambda: too_salty(BF), lambda: patterns(BF),
              lambda: too_salty(BF) / patterns(BF)),
        Quote("The 17 sweet batches, whose recipe has no salt, are fine.",
              lambda: int(np.count_nonzero((_run(BF).x[:, 0] == 0) & (misses(BF) == 0)))),
        Quote("Mixing: 100% blame; baking and packaging add nothing, so 0%;",
              lambda: per_unit(BF, "mixing", "share"),
              lambda: max(abs(per_unit(BF, layer, "share")) for layer in ("baking", "packaging"))),
        Quote("(a scoop of 1 spoon per spoon,", lambda: reference_weight(BF, "recipe", "mixing")),
        Quote("Mixing: all of it, 2.625.", lambda: same(per_unit(BF, "mixing", "responsibility"), excess(BF))),
        Quote("entirely changes the error by 0,", lambda: per_unit(BF, "mixing", "knockout")),
        Quote("the scoop settles at 1 spoon per spoon.",
              Near(lambda: weight(BF, "recipe", "mixing", "trained"), 0.01)),
        Quote("Give baking a bias of 0.3 (it adds salty glaze): put the cursor on baking, press enter and type "
              "0.3.", GIVEN, GIVEN),
        # the story card, on the first screen
        Quote("3 of 20 batches come back too salty.", lambda: too_salty(BF), lambda: patterns(BF)),
        Quote("The mixer's scoop puts in 2 spoons of salt for every 1 in the recipe.",
              lambda: weight(BF, "recipe", "mixing"), lambda: reference_weight(BF, "recipe", "mixing")),
    ],
    OVEN: [
        Quote("The same 3 savoury batches of 20 come back too salty.", lambda: too_salty(OVEN), lambda: patterns(OVEN)),
        Quote("the same 3 of 20 batches come back too salty.", lambda: too_salty(OVEN), lambda: patterns(OVEN)),
        Quote("still puts **100% on mixing**", lambda: per_unit(OVEN, "mixing", "share")),
        Quote("(a scoop of 1, an oven of x1)", lambda: reference_weight(OVEN, "recipe", "mixing")),
        Quote("and mixing's is 0.", lambda: per_unit(OVEN, "mixing", "responsibility")),
    ],
    PRES: [
        Quote("the exact responsibility splits 41/59", *_percent_split()),
        Quote("the mixer's scoop puts in 1.5 spoons for every 1, and packaging's preservative adds salt of its own "
              "and makes the salt taste 1.5 times as strong.",
              lambda: weight(PRES, "recipe", "mixing"), lambda: reference_weight(PRES, "recipe", "mixing"),
              lambda: weight(PRES, "baking", "packaging")),
        Quote("the share puts 86% on mixing, the exact responsibility splits the excess error 41/59.",
              lambda: per_unit(PRES, "mixing", "share"), *_percent_split()),
        Quote("in **1.5** spoons of salt for every spoon in the recipe, where it should put 1.",
              lambda: weight(PRES, "recipe", "mixing"), lambda: reference_weight(PRES, "recipe", "mixing")),
        Quote("taste **1.5 times** as strong", lambda: weight(PRES, "baking", "packaging")),
        Quote("crossing packaging's 1.5x amplification", lambda: weight(PRES, "baking", "packaging")),
        Quote("it is **multiplied by 1.5** (the chain rule): every spoon that mixing adds counts as 1.5 spoons",
              lambda: per_pattern(PRES, "mixing", "delta", 0) / per_pattern(PRES, "packaging", "delta", 0),
              lambda: added_to_output(PRES, "mixing", 0) / per_pattern(PRES, "mixing", "own", 0)),
        Quote("mixing's 1.5 spoons per spoon by 1.5 x the error, packaging's half spoon of preservative by 1 x the "
              "error.",
              lambda: weight(PRES, "recipe", "mixing"),
              lambda: same(*(per_pattern(PRES, "mixing", "delta", p) / misses(PRES)[p] for p in range(3))),
              lambda: same(*(per_pattern(PRES, "packaging", "delta", p) / misses(PRES)[p] for p in range(3)))),
        Quote("mixing **86%**, packaging **14%**", lambda: per_unit(PRES, "mixing", "share"),
              lambda: per_unit(PRES, "packaging", "share")),
        Quote("a scoop of 1, an amplification of 1, no preservative.",
              lambda: reference_weight(PRES, "recipe", "mixing"),
              lambda: reference_weight(PRES, "baking", "packaging")),
        Quote("E - E_ref = 6.664", lambda: excess(PRES)),
        Quote("the mixer's fault alone adds 0.656; added after packaging's, it adds 4.758",
              lambda: v(PRES, ("mixing",)), lambda: v(PRES, ("mixing", "packaging")) - v(PRES, ("packaging",))),
        Quote("Average: **2.707** (41%);", lambda: per_unit(PRES, "mixing", "responsibility"),
              lambda: per_unit(PRES, "mixing", "responsibility") / excess(PRES)),
        Quote("packaging's faults alone add 1.906; after the mixer's, 6.008. Average: **3.957** (59%).",
              lambda: v(PRES, ("packaging",)), lambda: v(PRES, ("mixing", "packaging")) - v(PRES, ("mixing",)),
              lambda: per_unit(PRES, "packaging", "responsibility"),
              lambda: per_unit(PRES, "packaging", "responsibility") / excess(PRES)),
        Quote("2.707 + 3.957 = 6.664:", lambda: per_unit(PRES, "mixing", "responsibility"),
              lambda: per_unit(PRES, "packaging", "responsibility"), lambda: excess(PRES)),
        Quote("Baking, which only passes the biscuits on, gets 0.", lambda: per_unit(PRES, "baking", "responsibility")),
        Quote("to 1.0: its responsibility drops to 0, while its first-order share stays at 80%.",
              GIVEN, lambda: per_unit(PRES, "mixing", "responsibility", "scoop 1"),
              lambda: per_unit(PRES, "mixing", "share", "scoop 1")),
    ],
    TUT: [
        Quote("42% where she needed 90%.", lambda: per_pattern(TUT, "Sunita", "activation", 0), lambda: target(TUT)),
        Quote("score comes back 42% where she needed 90%.", lambda: per_pattern(TUT, "Sunita", "activation", 0),
              lambda: target(TUT)),
        Quote("1. **Sunita's blame signal**", LIST),
        Quote("2. It reaches **Arjun**", LIST),
        Quote("3. It reaches **Priya**", LIST),
        Quote("a sigmoid's slope is at most 0.25", MATH),
        Quote("(her blame signal, -0.0078)", lambda: per_pattern(TUT, "Priya", "delta", 0)),
        Quote("her study of the syllabus (1.5)", lambda: per_pattern(TUT, "Priya", "own", 0)),
        Quote("a credit of 7%.", lambda: -per_unit(TUT, "Priya", "share")),
        Quote("biases of -1.0, which drag their understanding down: blame, 21% and 72%.",
              lambda: same(bias(TUT, "Arjun"), bias(TUT, "Sunita")), lambda: per_unit(TUT, "Arjun", "share"),
              lambda: per_unit(TUT, "Sunita", "share")),
        Quote("the error really grows, by 0.017 (the first-order estimate: 0.012).",
              lambda: -knockout(TUT, "Priya"), lambda: -per_unit(TUT, "Priya", "contribution")),
        Quote("Give Sunita a bias of 0 (she practises): her share of the blame goes to 0 (she adds nothing of her "
              "own), the error falls to 0.029, and Priya's credit grows to 25%.",
              GIVEN, lambda: per_unit(TUT, "Sunita", "share", "Sunita practises"),
              lambda: loss(TUT, "Sunita practises"), lambda: -per_unit(TUT, "Priya", "share", "Sunita practises")),
    ],
}


@cache
def _story(name: str) -> str:
    scenario = _run(name).scenario
    return _prose(scenario.summary + "\n\n" + scenario.card + "\n\n" + scenario.story)


STORY_CASES = [(name, quote) for name, quotes in STORY_QUOTES.items() for quote in quotes]


@pytest.mark.parametrize("name, quote", STORY_CASES, ids=[f"{n}: {q.text[:40]}" for n, q in STORY_CASES])
def test_the_stories_quote_the_engine(name, quote):
    _check_quote(_story(name), quote)


@pytest.mark.parametrize("name", STORIES)
def test_every_number_of_a_story_is_checked(name):
    missing = _unquoted(_story(name), STORY_QUOTES[name])
    assert not missing, f"numbers of {name}'s story with no quote in STORY_QUOTES:\n" + "\n".join(missing)


def test_what_the_stories_say_in_words():
    assert "every batch is too salty" in _story(PRES) and (misses(PRES) > 0).all()
    assert "Its share is no longer zero, nor is its responsibility." in _story(BF)
    assert per_unit(BF, "baking", "share", "baking glaze") > 0
    assert per_unit(BF, "baking", "responsibility", "baking glaze") > 0
    # The glaze is frozen: training keeps it, and the mixer's pinch takes its salt back out.
    assert "the mixer's own pinch turns negative to take the glaze's salt back out" in _story(BF)
    assert bias(BF, "baking", "baking glaze, trained") == 0.3
    assert bias(BF, "mixing", "baking glaze, trained") < 0
    assert "the mixer's delta is twice packaging's" in _story(OVEN)
    assert all(per_pattern(OVEN, "mixing", "delta", p) == 2 * per_pattern(OVEN, "packaging", "delta", p)
               for p in range(20))
    # Training turns the oven's scoop to half a spoon, and the two faults cancel.
    assert "turns the\nscoop down to half a spoon".replace("\n", " ") in _story(OVEN)
    assert weight(OVEN, "recipe", "mixing", "trained") == pytest.approx(0.5, abs=0.01)
    mixing, baking = (per_unit(OVEN, layer, "responsibility", "trained") for layer in ("mixing", "baking"))
    assert "both faults cancelling" in _story(OVEN)
    assert mixing < 0 < baking and mixing + baking == pytest.approx(0.0, abs=1e-3)
    assert "baking's, all of it" in _story(OVEN).replace("**", "")
    assert per_unit(OVEN, "baking", "responsibility") == excess(OVEN)


# README: the stories' rows of the scenarios table --------------------------------------------

README_QUOTES = [
    Quote("quality control finds 3 batches in 20 too salty", lambda: too_salty(BF), lambda: patterns(BF)),
    Quote("to the mixer, which takes 100% of the share", lambda: per_unit(BF, "mixing", "share")),
    Quote("the first-order share still blames the mixer (100%); the exact responsibility finds baking",
          lambda: per_unit(OVEN, "mixing", "share")),
    Quote("the share puts 86% on mixing; the exact responsibility splits the excess error 41/59",
          lambda: per_unit(PRES, "mixing", "share"), *_percent_split()),
]


def _readme_rows() -> str:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    return _prose("\n".join(line for line in lines if re.match(r"\| `(biscuit-factory|tutoring-chain)", line)))


@pytest.mark.parametrize("quote", README_QUOTES, ids=[q.text[:40] for q in README_QUOTES])
def test_the_readme_quotes_the_engine(quote):
    _check_quote(_readme_rows(), quote)


def test_every_number_of_the_readme_stories_is_checked():
    missing = _unquoted(_readme_rows(), README_QUOTES)
    assert not missing, "numbers of the README's story rows with no quote:\n" + "\n".join(missing)


def test_what_the_readme_stories_say_in_words():
    rows = _readme_rows()
    assert "Priya's own study earns her credit, not blame" in rows and per_unit(TUT, "Priya", "share") < 0
    assert "the exact responsibility finds baking" in rows
    assert per_unit(OVEN, "baking", "responsibility") == excess(OVEN)


def test_no_text_credits_the_chain_rule_with_the_split():
    for path in [ROOT / "README.md", *DOCS.glob("*.md"), *builtin().values()]:
        assert "as the chain rule says" not in path.read_text(encoding="utf-8"), path


# docs/scenario-format.md and docs/errors.md: [reference] ---------------------------------------

def _section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:] if end < 0 else text[start:end]


def test_the_format_doc_names_every_reference_key():
    section = _section(DOCS / "scenario-format.md", '## [reference]: what "correct" is')
    for key in ("reference", *REFERENCE_LAYER_KEYS, *REFERENCE_CONNECTION_KEYS):
        assert re.search(rf"^\| `{key}` \|", section, re.MULTILINE), key
    assert f"With up to {EXACT_PLAYERS} players the values are exact" in " ".join(section.split())
    # The example is the biscuit factory's own reference.
    example = re.search(r"```toml\n(.*?)```", section, re.DOTALL).group(1)
    assert example in builtin()[BF].read_text(encoding="utf-8")


def test_a_saved_run_keeps_its_reference(tmp_path):
    """scenario-format.md: "Saving a run (...) keeps the reference"."""
    from bptui.core.save import scenario_toml

    section = " ".join(_section(DOCS / "scenario-format.md", '## [reference]: what "correct" is').split())
    assert "Saving a run (`w` in the app, `bptui train --save-as`) keeps the reference." in section
    run = _run(PRES, "trained")
    saved = parse_scenario(scenario_toml(run, tmp_path / "saved.toml"), "saved.toml", base=tmp_path)
    reference = run.scenario.reference
    assert [name for name, _ in saved.reference.biases] == [name for name, _ in reference.biases]
    for (s1, r1, w1), (s2, r2, w2) in zip(saved.reference.weights, reference.weights, strict=True):
        assert (s1, r1) == (s2, r2) and np.array_equal(w1, w2)


# Each message of the [reference] table of docs/errors.md, and a change to the biscuit
# factory (without its reference) that brings it about. TWO_UNITS: the mixer has 2 units.
REFERENCE_ERRORS = {
    "reference: must be a table, not a whole number": "reference = 1",
    "reference.layer: unknown key 'layer' (did you mean 'layers'?)": "[reference]\nlayer = 1",
    "reference.layers: must be written as [[reference.layers]] tables":
        '[reference.layers]\nname = "mixing"\nbias = [0.0]',
    "reference: names no bias and no weights: add [[reference.layers]] or [[reference.connections]] tables, "
    "or remove [reference]": "[reference]",
    "reference.layers[1].scale: unknown key 'scale' (known keys: name, bias)":
        '[[reference.layers]]\nname = "mixing"\nbias = [0.0]\nscale = 2',
    "reference.layers[1]: missing required key 'name'": "[[reference.layers]]\nbias = [0.0]",
    "reference.layers[1].name: there is no layer named 'mixin' (did you mean 'mixing'?)":
        '[[reference.layers]]\nname = "mixin"\nbias = [0.0]',
    "reference.layers[2].name: layer 'mixing' has a reference already":
        '[[reference.layers]]\nname = "mixing"\nbias = [0.0]\n[[reference.layers]]\nname = "mixing"\nbias = [0.0]',
    "reference.layers[1]: missing required key 'bias' (the correct bias of each unit)":
        '[[reference.layers]]\nname = "mixing"',
    "reference.layers[1].bias: 'recipe' is an input layer (nothing connects to it), so it has no bias":
        '[[reference.layers]]\nname = "recipe"\nbias = [0.0]',
    "reference.layers[1].bias: layer 'quality control' has no bias to compare with (bias = false)":
        '[[reference.layers]]\nname = "quality control"\nbias = [0.0]',
    "reference.layers[1].bias: must be a list of 2 numbers, not a number":
        ('[[reference.layers]]\nname = "mixing"\nbias = 0.0', "TWO_UNITS"),
    "reference.layers[1].bias: has 2 values, but layer 'mixing' (1 unit) needs 1":
        '[[reference.layers]]\nname = "mixing"\nbias = [0.0, 1.0]',
    "reference.layers[1].bias: value 1 must be a number, not a string":
        '[[reference.layers]]\nname = "mixing"\nbias = ["none"]',
    "reference.layers[1].bias: value 1 must be finite, not inf":
        '[[reference.layers]]\nname = "mixing"\nbias = [inf]',
    "reference.connections[1]: missing required key 'from'":
        '[[reference.connections]]\nto = "mixing"\nweights = [[1.0]]',
    "reference.connections[1]: there is no connection from 'recipe' to 'baking'":
        '[[reference.connections]]\nfrom = "recipe"\nto = "baking"\nweights = [[1.0]]',
    "reference.connections[2]: the connection from 'recipe' to 'mixing' has a reference already":
        '[[reference.connections]]\nfrom = "recipe"\nto = "mixing"\nweights = [[1.0]]\n'
        '[[reference.connections]]\nfrom = "recipe"\nto = "mixing"\nweights = [[1.0]]',
    "reference.connections[1]: missing required key 'weights' (the correct weights)":
        '[[reference.connections]]\nfrom = "recipe"\nto = "mixing"',
    "reference.connections[1].weights: must be a list of rows (a list of lists of numbers), not a number":
        '[[reference.connections]]\nfrom = "recipe"\nto = "mixing"\nweights = 1.0',
    "reference.connections[1].weights: has 2 rows, but 'recipe' -> 'mixing' (1 receiving x 1 sending units) "
    "needs 1": '[[reference.connections]]\nfrom = "recipe"\nto = "mixing"\nweights = [[1.0], [2.0]]',
    "reference.connections[1].weights: row 1 has 2 values, but 'recipe' -> 'mixing' (1 receiving x 1 sending "
    "units) needs 1": '[[reference.connections]]\nfrom = "recipe"\nto = "mixing"\nweights = [[1.0, 2.0]]',
    "reference.connections[1].weights: row 1, value 1 must be finite, not nan":
        '[[reference.connections]]\nfrom = "recipe"\nto = "mixing"\nweights = [[nan]]',
}


def _without_reference(two_units: bool = False) -> str:
    """The biscuit factory with no [reference]; with two_units, a mixer of two units."""
    text = builtin()[BF].read_text(encoding="utf-8")
    text = re.sub(r"\[\[reference\.(layers|connections)\]\]\n(?:[^\[\n].*\n)*", "", text)
    assert "[reference" not in text
    if two_units:
        text = text.replace('units = ["dough"]', 'units = ["dough", "crumb"]')
        text = text.replace("bias = [0.0]", "bias = [0.0, 0.0]", 1)  # the mixer's, declared first
        text = text.replace("weights = [[2.0]]", "weights = [[2.0], [2.0]]", 1).replace(
            "weights = [[1.0]]\ntrainable = false", "weights = [[1.0, 1.0]]\ntrainable = false", 1)
    return text


def _problems(change) -> list[str]:
    table, base = (change, "") if isinstance(change, str) else change
    text = _without_reference(base == "TWO_UNITS")
    if table.startswith("reference ="):
        text = table + "\n" + text  # a key of the top table goes above the first [table]
    else:
        text = text.replace("[data]", table + "\n\n[data]")
    with pytest.raises(InputError) as caught:
        parse_scenario(text, "salty.toml")
    return [f"{p.where}: {p.message}" for p in caught.value.problems]


def _errors_doc_reference() -> str:
    return _section(DOCS / "errors.md", "## [reference]")


def test_errors_doc_lists_the_loaders_reference_messages():
    section = _errors_doc_reference()
    listed = re.findall(r"^\| `(reference[^`]*)` \|", section, re.MULTILINE)
    assert sorted(listed) == sorted(REFERENCE_ERRORS)
    for message, change in REFERENCE_ERRORS.items():
        assert message in _problems(change), message


def test_errors_doc_example_lines_are_the_loaders():
    section = _errors_doc_reference()
    block = re.search(r"```\n(.*?)```", section, re.DOTALL).group(1)
    for line in block.splitlines():
        m = re.fullmatch(r"bptui: salty\.toml:\d+: (.*)", line)
        assert m, line
        assert m.group(1) in REFERENCE_ERRORS


def test_the_base_without_reference_loads():
    for two_units in (False, True):
        assert parse_scenario(_without_reference(two_units), "salty.toml").reference is None


def _anchors(path: Path) -> set[str]:
    """The anchors of a page's headings, as GitHub makes them."""
    text = path.read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.*)$", re.sub(r"```.*?```", "", text, flags=re.DOTALL), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", ["blame.md", "scenario-format.md", "errors.md"])
def test_the_links_to_and_from_the_blame_doc_resolve(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([\w.-]*\.md)?#([\w-]+)\)", text):
        assert anchor in _anchors(DOCS / (target or page)), f"{page}: {target}#{anchor}"
