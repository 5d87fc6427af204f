"""Explain: a unit's delta, its share of the blame, its knock-out and responsibility, a
weight's gradient and its last change, with the live numbers.

Every explanation is a ``Derivation``: the rule in symbols, then the same rule with the
engine's own numbers put in, then the engine's result, in the scenario's words:

    delta(Arjun) = f'(net) x sum_k w_k,Arjun delta_k = 0.21 x (0.8 x 0.31) = 0.052

The arithmetic always has one shape, so a reader (and a test) can redo it:

    value = outer_1 x outer_2 x ... x (term_1 + term_2 + ...) [/ divisor]
    term  = sign x factor_1 x factor_2 x ...

A sum with many terms (a hidden unit that feeds 24 others, a gradient over 104
patterns) shows the ``limit`` largest and folds the rest into one number, printed as
``+ 0.013 (20 more)``. The factors are the numbers the engine computed (the Pass's
net, a and delta, the gradient vector, the last change dw), never recomputed another
way; the result is the engine's own number. Printed numbers have ``digits`` significant
digits, so the printed arithmetic agrees with the printed result to that precision.

Which numbers to explain is up to the caller: a Pass (from ``Run.inspect``, a Stepper,
or ``Run.last_change.pass_``) over some training patterns ``rows`` (indices into
``Run.x``, or a slice), and the gradient vector that pass left (``network.grad``, or
``Run.last_change.grad``). ``explain_change`` needs ``Run.keep_last_change`` on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bptui.core.blame import contributions, first_order, losses_at, own_input, own_parameters, shares_of
from bptui.core.network import LayerPlan, Link, Network, Pass
from bptui.core.responsibility import (EXACT_PLAYERS, coalition_losses, every_coalition, players, reference_theta,
                                      responsibility, shapley)
from bptui.core.training import Change, Run

DIGITS = 3  # significant digits of a printed number
LIMIT = 4  # terms of a sum shown one by one; the rest are folded into one


def number(x: float, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits, as Python would read it back ("0.052", "1e-05")."""
    x = float(x)
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


@dataclass(frozen=True)
class Factor:
    """One number of a derivation, named in the scenario's words."""

    name: str  # "f'(net Arjun)", "w(Sunita<-Arjun)", "delta(Sunita)", "a(x1) [01]"
    value: float
    how: str = ""  # where the number comes from, when that is worth saying: "a(1 - a), a = 0.7"

    def __post_init__(self):
        object.__setattr__(self, "value", float(self.value))  # numpy scalars print and compare alike


@dataclass(frozen=True)
class Term:
    """sign x the product of the factors. ``more`` > 0: the one factor is the sum of that
    many terms not shown one by one."""

    factors: tuple[Factor, ...]
    sign: int = 1
    more: int = 0

    @property
    def value(self) -> float:
        return self.sign * math.prod(f.value for f in self.factors)


@dataclass(frozen=True)
class Derivation:
    """value = product of ``outer`` x (sum of ``terms``) [/ ``divisor``]; ``value`` is the
    engine's number."""

    what: str  # the quantity: "delta(Arjun)", "dE/dw(Sunita<-Arjun)", "dw(...)", "w(...)"
    symbolic: str  # the rule in symbols: "f'(net) x sum_k w_k,Arjun delta_k"
    outer: tuple[Factor, ...]
    terms: tuple[Term, ...]  # empty: the sum is 0
    value: float
    notes: tuple[str, ...] = ()  # plain words: the pattern, don't care, within the margin
    parts: tuple[Derivation, ...] = ()  # derivations that go with this one, printed after it
    digits: int = DIGITS
    divisor: Factor | None = None  # what the product is divided by (a share: by sum_k |c_k|)

    @property
    def arithmetic(self) -> str:
        """The rule with the numbers put in: "0.21 x (0.8 x 0.31)", "18.7 / 21.6"."""
        total = self._product()
        if self.divisor is None:
            return total
        if " " in total:
            total = f"({total})"
        return f"{total} / {_operand(self.divisor.value, self.digits)}"

    def _product(self) -> str:
        if self.terms:
            total = ""
            for k, term in enumerate(self.terms):
                product = " x ".join(_operand(f.value, self.digits) for f in term.factors)
                if term.more:
                    product += f" ({term.more} more)"
                if k == 0:
                    total = ("-" if term.sign < 0 else "") + product
                else:
                    total += (" - " if term.sign < 0 else " + ") + product
        else:
            total = "0"
        if not self.outer:
            return total
        return " x ".join([_operand(f.value, self.digits) for f in self.outer] + [f"({total})"])

    @property
    def line(self) -> str:
        """One line: what = symbols = arithmetic = result."""
        return f"{self.what} = {self.symbolic} = {self.arithmetic} = {number(self.value, self.digits)}"

    @property
    def lines(self) -> list[str]:
        """The line, then what each factor is and the notes (indented), then the parts."""
        out = [self.line]
        seen = set()
        divisor = [self.divisor] if self.divisor is not None else []
        for f in list(self.outer) + [f for t in self.terms if not t.more for f in t.factors] + divisor:
            if f.name in seen:
                continue
            seen.add(f.name)
            how = f" = {f.how}" if f.how else ""
            out.append(f"  {f.name}{how} = {number(f.value, self.digits)}")
        out += [f"  {note}" for note in self.notes]
        for part in self.parts:
            out += part.lines
        return out


def _operand(x: float, digits: int) -> str:
    # A negative number inside a product or after a sign is bracketed, so it reads (and
    # parses) as one number: 0.9 x (-0.011).
    text = number(x, digits)
    return f"({text})" if text.startswith("-") else text


@dataclass(frozen=True)
class Param:
    """A weight or a bias in the scenario's words: the weight w_ji from unit ``i`` of layer
    ``sender`` to unit ``j`` of ``layer``; or, with ``sender`` None, the bias of unit ``j``."""

    layer: str
    j: int
    sender: str | None = None
    i: int = 0


def unit_name(network: Network, layer: LayerPlan, j: int) -> str:
    """The unit's name, with its layer's ("layer:unit") when another layer has a unit so named."""
    name = layer.units[j]
    if any(name in other.units for other in network.layers if other is not layer):
        return f"{layer.name}:{name}"
    return name


def param_name(network: Network, param: Param) -> str:
    """ "w(h1<-x1)" or "b(h1)"."""
    layer = network.layer(param.layer)
    j = unit_name(network, layer, param.j)
    if param.sender is None:
        return f"b({j})"
    return f"w({j}<-{unit_name(network, network.layer(param.sender), param.i)})"


def params(network: Network) -> list[Param]:
    """Every trainable weight and bias, laid out like ``network.grad``. A shared weight
    (bias) is one parameter, named by the first connection (layer) of its group in the
    file."""
    out: list[Param] = [None] * network.n_trainable
    index = np.arange(network.n_trainable)
    weights, biases = network.views(index)
    for link in network.links:  # declaration order
        if link.trainable:
            for (j, i), k in np.ndenumerate(weights[link.index]):
                if out[k] is None:
                    out[k] = Param(link.receiver.name, j, link.sender.name, i)
    for layer in network.scenario.layers:  # declaration order, not theta's (topological)
        u = network.layer(layer.name).index
        if u in biases:
            for j, k in enumerate(biases[u][0]):
                if out[k] is None:
                    out[k] = Param(layer.name, j)
    return out


def _use_label(network: Network, receiver: LayerPlan, n: int) -> str:
    """A shared parameter's n-th use: in a network unrolled in time, the step it acts at
    (the receiving copy's), else its place in the sum."""
    time = network.scenario.time
    return f"use {n + 1}" if time is None else f"use {n + 1}, t={time.step(receiver.name)}"


def param_at(network: Network, k: int) -> Param:
    """``params(network)[k]``, without naming every parameter first: a network of millions
    of weights took seconds to name them all, for the ledger's five lines."""
    for link in network.links:  # declaration order: a shared weight is named by its first use
        start, end = network._link_spans[link.index]
        if link.trainable and start <= k < end:
            j, i = divmod(k - start, link.sender.size)
            return Param(link.receiver.name, j, link.sender.name, i)
    for layer in network.scenario.layers:
        start, end = network._bias_spans.get(network.layer(layer.name).index, (0, 0))
        if start <= k < end and end <= network.n_trainable:
            return Param(layer.name, k - start)
    raise IndexError(k)


def share_of(network: Network, param: Param) -> str | None:
    """The name of the group that shares the weight's matrix (the bias's vector), or None."""
    unit = network.layer(param.layer)
    if param.sender is None:
        return unit.bias_share
    return next(link.share for link in unit.incoming if link.sender.name == param.sender)


def explain_delta(run: Run, p: Pass, layer: str, j: int, pattern: int = 0, rows=slice(None),
                  digits: int = DIGITS, limit: int = LIMIT) -> Derivation:
    """delta of unit ``j`` of ``layer`` on one pattern of the pass ``p``.

    ``rows``: the training patterns ``p`` ran over (indices into ``run.x`` or a slice; all of
    them by default); ``pattern`` counts within those. Raises ValueError for an input layer
    or a delta the pass has not computed yet (a step stopped before that layer).
    """
    net = run.network
    unit = net.layer(layer)
    if unit.is_input:
        raise ValueError(f"{layer} is an input layer: its units have no delta")
    if p.delta[unit.index] is None:
        raise ValueError(f"delta of {layer} is not computed yet in this pass")
    ctx = _Context(run, p, rows, pattern, digits, limit)
    return _output_delta(ctx, unit, j) if unit.is_output else _hidden_delta(ctx, unit, j)


def explain_gradient(run: Run, p: Pass, param: Param, rows=slice(None), grad: np.ndarray | None = None,
                     digits: int = DIGITS, limit: int = LIMIT) -> Derivation:
    """dE/dw of a weight or bias, summed over the patterns of the pass ``p``.

    ``grad``: the gradient vector ``p`` left (default ``network.grad``, which holds the
    last pass's); the result is taken from it. Raises ValueError for a frozen weight or bias, or
    when ``grad`` does not hold this pass's gradients into the layer (a step not yet
    through the layer's backward phase, or another pass's gradient).

    A shared weight (bias) is one parameter used by several connections (layers): its
    gradient is the sum of each use's, and the derivation is that sum, with each use's
    own derivation as a part. Mid-step it is the sum of the uses the backward pass has
    reached so far, as ``grad`` holds it.
    """
    net = run.network
    unit = net.layer(param.layer)
    link = _link(net, param)
    grad = net.grad if grad is None else grad
    weights, biases = net.views(grad)
    engine = biases[unit.index] if link is None else weights[link.index]
    uses = net.bias_uses(unit) if link is None else net.uses(link)
    done, per_use = _uses_done(p, uses, link is None, engine)
    if not done:
        raise ValueError(f"the gradients into {param.layer} are not computed yet in this pass")
    ctx = _Context(run, p, rows, 0, digits, limit)
    name = param_name(net, param)
    value = float(engine[0, param.j] if link is None else engine[param.j, param.i])
    if len(uses) == 1:
        return _use_gradient(ctx, unit, link, param, f"dE/d{name}", value)
    parts = []
    for n, (use, matrix) in enumerate(zip(uses[:done], per_use)):
        use_unit, use_link = (use, None) if link is None else (use.receiver, use)
        use_param = Param(use_unit.name, param.j, None if link is None else use.sender.name, param.i)
        what = f"dE/d{param_name(net, use_param)} [{_use_label(net, use_unit, n)}]"
        parts.append(_use_gradient(ctx, use_unit, use_link, use_param, what,
                                   matrix[0, param.j] if link is None else matrix[param.j, param.i]))
    terms = [Term((Factor(part.what, part.value),)) for part in parts]
    kind = "bias" if link is None else "weight"
    members = "layers" if link is None else "connections"
    notes = [f"{name} is one {kind} shared ('{(unit.bias_share if link is None else link.share)}') by "
             f"{len(uses)} {members}: its gradient is the sum over its uses, in the order the backward pass adds them"]
    if done < len(uses):
        ahead = ", ".join(dict.fromkeys((use if link is None else use.receiver).name for use in uses[done:]))
        notes.append(f"so far {done} of its {len(uses)} uses: the backward phase of {ahead} is still to come")
    symbolic = "sum over its uses of dE/d" + ("b" if link is None else "w") + " of that use"
    return Derivation(f"dE/d{name}", symbolic, (), ctx.fold(terms), value, tuple(notes), tuple(parts), digits)


def _uses_done(p: Pass, uses: list, bias: bool, engine: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """How many of a parameter's uses (in the order the engine adds them) have their
    gradient in ``engine`` (its view of grad), and each use's gradient so far.

    An output layer has its delta (the loss phase) before its gradients (its backward
    phase); until then grad holds another pass's. Redoing the engine's own operations in
    its order, and comparing their running sum with grad, tells the two apart exactly
    (nan included: a diverged run's numbers are still its own)."""
    total, done, per_use = None, 0, []
    for n, use in enumerate(uses):
        delta = p.delta[use.index if bias else use.receiver.index]
        if delta is None:
            break
        term = np.sum(delta, axis=-2, keepdims=True) if bias else delta.swapaxes(-1, -2) @ p.a[use.sender.index]
        per_use.append(term)
        total = term if total is None else total + term
        if np.array_equal(total, engine, equal_nan=True):
            done = n + 1
    return done, per_use[:done]


def _use_gradient(ctx: _Context, unit: LayerPlan, link: Link | None, param: Param, what: str,
                  value: float) -> Derivation:
    """dE/dw of one use of a weight (bias): the sum over the patterns of delta_j a_i (delta_j)."""
    net = ctx.run.network
    j = unit_name(net, unit, param.j)
    delta = ctx.p.delta[unit.index][:, param.j]
    if link is None:
        terms = [Term((Factor(f"delta({j}) [{ctx.names[k]}]", delta[k]),)) for k in range(len(delta))]
        symbolic = "sum over patterns of delta_j" if len(delta) > 1 else "delta_j"
    else:
        a = ctx.p.a[link.sender.index][:, param.i]
        i = unit_name(net, link.sender, param.i)
        terms = [Term((Factor(f"delta({j}) [{ctx.names[k]}]", delta[k]),
                       Factor(f"a({i}) [{ctx.names[k]}]", a[k]))) for k in range(len(delta))]
        symbolic = "sum over patterns of delta_j x a_i" if len(delta) > 1 else "delta_j x a_i"
    return Derivation(what, symbolic, (), ctx.fold(terms), float(value), digits=ctx.digits)


def explain_change(run: Run, param: Param, digits: int = DIGITS, limit: int = LIMIT) -> Derivation:
    """The last change of a weight or bias (``run.last_change``): dw = -lr x dE/dw +
    momentum x dw(t-1), with the weight after it (decay included) as a part.

    Raises ValueError when no change was kept (``run.keep_last_change`` was off, or no
    change yet) or for a frozen weight or bias.
    """
    ch: Change | None = run.last_change
    if ch is None:
        raise ValueError("no weight change was kept: set run.keep_last_change = True before training")
    net = run.network
    unit = net.layer(param.layer)
    link = _link(net, param)
    name = param_name(net, param)
    ctx = _Context(run, ch.pass_, ch.rows, 0, digits, limit)

    def at(vector):
        weights, biases = net.views(vector)
        return float(biases[unit.index][0, param.j] if link is None else weights[link.index][param.j, param.i])

    lr = Factor("learning_rate", ch.learning_rate)
    carried = Term((Factor("momentum", ch.momentum), Factor(f"d{name}(t-1)", at(ch.dw_before))))
    parts = []
    shared = share_of(net, param) is not None
    if len(ch.rows) == 1 and not shared:
        # One pattern: the gradient is one product, shown inline as the paper writes it.
        j = unit_name(net, unit, param.j)
        factors = [lr, Factor(f"delta({j})", ch.pass_.delta[unit.index][0, param.j])]
        if link is not None:
            factors.append(Factor(f"a({unit_name(net, link.sender, param.i)})",
                                  ch.pass_.a[link.sender.index][0, param.i]))
        symbolic = "-learning_rate x delta_j" + (" x a_i" if link is not None else "")
        first = Term(tuple(factors), -1)
    else:
        gradient = explain_gradient(run, ch.pass_, param, ch.rows, ch.grad, digits, limit)
        parts.append(gradient)
        first = Term((lr, Factor(f"dE/d{name}", gradient.value)), -1)
        symbolic = "-learning_rate x dE/dw"
    symbolic += " + momentum x dw(t-1)"
    dw = at(ch.dw)
    before = Term((Factor(f"{name} before", at(ch.theta_before)),))
    change = Term((Factor(f"d{name}", dw),))
    if ch.weight_decay:
        after = Derivation(name, "(1 - weight_decay) x (w + dw)",
                           (Factor("1 - weight_decay", 1.0 - ch.weight_decay),), (before, change),
                           at(ch.theta), digits=digits)
    else:
        after = Derivation(name, "w + dw", (), (before, change), at(ch.theta), digits=digits)
    where = f"pattern {ctx.names[0]}" if len(ch.rows) == 1 else f"{len(ch.rows)} patterns"
    notes = (f"epoch {ch.epoch}, update {ch.update} ({where})",)
    return Derivation(f"d{name}", symbolic, (), (first, carried), dw, notes, tuple(parts) + (after,), digits)


# --- blame: the share, the knock-out, the responsibility ---------------------------------
#
# A unit's first-order share (gradient x input) in three steps, then the counterfactuals
# it estimates (docs/blame.md). The first-order numbers are the pass's; the knock-out and
# the responsibility are forward passes of their own, over the pass's patterns, at the
# network's weights (the app puts the network at the pass's weights first: pass_weights).


def _unit(run: Run, layer: str) -> LayerPlan:
    unit = run.network.layer(layer)
    if unit.is_input:
        raise ValueError(f"{layer} is an input layer: it has no own part, no share of the blame")
    return unit


def has_own_part(network: Network, layer: str, j: int) -> bool:
    """Whether the unit adds anything of its own: a bias, or a weight from an input layer."""
    return len(own_parameters(network, network.layer(layer), j)) > 0


def _own_words(net: Network, unit: LayerPlan, j: int) -> str | None:
    """The unit's own parameters in words ("b(h1) and its 64 weights from pixels"), or None."""
    name = unit_name(net, unit, j)
    words = [f"b({name})"] if unit.b is not None else []
    for link in unit.incoming:
        if link.sender.is_input:
            if link.sender.size <= 3:
                words += [f"w({name}<-{unit_name(net, link.sender, i)})" for i in range(link.sender.size)]
            else:
                words.append(f"its {link.sender.size} weights from {link.sender.name}")
    return ", ".join(words) if words else None


def _complete(run: Run, p: Pass) -> None:
    if any(p.delta[u.index] is None for u in run.network.computed):
        raise ValueError("the shares are not computed yet: this step's backward pass has not reached every unit")


def explain_own(run: Run, p: Pass, layer: str, j: int, pattern: int = 0, rows=slice(None),
                digits: int = DIGITS, limit: int = LIMIT) -> Derivation:
    """own_j on one pattern of the pass ``p``: what unit ``j`` adds itself, its bias and its
    weights from the input layers times the inputs."""
    net = run.network
    unit = _unit(run, layer)
    ctx = _Context(run, p, rows, pattern, digits, limit)
    name = unit_name(net, unit, j)
    terms, symbols = [], []
    if unit.b is not None:
        terms.append(Term((Factor(f"b({name})", unit.b[0, j]),)))
        symbols.append("b_j")
    for link in unit.incoming:
        if link.sender.is_input:
            x = p.a[link.sender.index][pattern]
            for i in range(link.sender.size):
                sender = unit_name(net, link.sender, i)
                terms.append(Term((Factor(f"w({name}<-{sender})", link.w[j, i]), Factor(f"x({sender})", x[i]))))
            if "sum over the inputs i of w_ji x_i" not in symbols:
                symbols.append("sum over the inputs i of w_ji x_i")
    notes = [ctx.pattern_note()]
    if not terms:
        notes.append("it has no bias and no weights from the inputs: it adds nothing of its own")
    return Derivation(f"own({name})", " + ".join(symbols) or "nothing of its own", (), ctx.fold(terms),
                      float(own_input(p, unit)[pattern, j]), tuple(notes), digits=digits)


def explain_contribution(run: Run, p: Pass, layer: str, j: int, rows=slice(None), digits: int = DIGITS,
                         limit: int = LIMIT) -> Derivation:
    """c_j = sum over the pass's patterns of delta_j x own_j: to first order, how much the
    unit's own part adds to E. Raises ValueError before every delta of the pass is known."""
    net = run.network
    unit = _unit(run, layer)
    _complete(run, p)
    ctx = _Context(run, p, rows, 0, digits, limit)
    name = unit_name(net, unit, j)
    delta, own = p.delta[unit.index][:, j], own_input(p, unit)[:, j]
    terms = [Term((Factor(f"delta({name}) [{ctx.names[k]}]", delta[k]), Factor(f"own({name}) [{ctx.names[k]}]",
                                                                                   own[k])))
             for k in range(len(delta))]
    value = float(contributions(first_order(net, p))[layer][j])
    symbolic = "sum over patterns of delta_j x own_j" if len(delta) > 1 else "delta_j x own_j"
    notes = ["the first-order estimate of the knock-out: above 0 its own part raises E (blame), below 0 "
             "lowers it (credit)"]
    return Derivation(f"c({name})", symbolic, (), ctx.fold(terms), value, tuple(notes), digits=digits)


def explain_share(run: Run, p: Pass, layer: str, j: int, rows=slice(None), digits: int = DIGITS,
                  limit: int = LIMIT) -> Derivation:
    """share_j = c_j / sum_k |c_k| over every non-input unit k, with that sum as a part.
    Raises ValueError before every delta of the pass is known."""
    net = run.network
    unit = _unit(run, layer)
    _complete(run, p)
    ctx = _Context(run, p, rows, 0, digits, limit)
    name = unit_name(net, unit, j)
    c = contributions(first_order(net, p))
    total = float(sum(np.abs(v).sum(axis=-1) for v in c.values()))  # as shares_of forms it
    value = float(shares_of(c)[layer][j])
    symbolic = "c_j / sum_k |c_k|"
    if total == 0 or not math.isfinite(total):
        return Derivation(f"share({name})", symbolic, (), (), value,
                          ("no unit's own part moves the error: every share is 0",), digits=digits)
    sizes = [Term((Factor(f"|c({unit_name(net, u, k)})|", abs(c[u.name][k])),))
             for u in net.computed for k in range(u.size)]
    whole = Derivation("sum_k |c_k|", "sum over every non-input unit k of |c_k|", (), ctx.fold(sizes), total,
                       digits=digits)
    word = "blame" if value > 0 else "credit" if value < 0 else "neither blame nor credit"
    notes = (f"{value:+.1%}: {word}; the shares' sizes add up to 100%",
             "the method: gradient x input, a first-order attribution (docs/blame.md)")
    return Derivation(f"share({name})", symbolic, (), (Term((Factor(f"c({name})", c[layer][j]),)),), value,
                      notes, (whole,), digits, divisor=Factor("sum_k |c_k|", total))


def _patterns(run: Run, rows):
    return run.x[rows], run.t[rows], None if run.care is None else run.care[rows]


def explain_knockout(run: Run, layer: str, j: int, rows=slice(None), digits: int = DIGITS) -> Derivation:
    """knockout_j = E - E with the unit's own part (its bias, its weights from the inputs)
    set to 0, over the training patterns ``rows`` at the network's weights."""
    net = run.network
    unit = _unit(run, layer)
    name = unit_name(net, unit, j)
    x, t, care = _patterns(run, rows)
    theta = net.theta
    without = theta.copy()
    without[own_parameters(net, unit, j)] = 0.0
    with np.errstate(all="ignore"):
        E, E_without = losses_at(net, np.stack([theta, without]), x, t, care, run.training.margin)
        value = float(E - E_without)
    own = _own_words(net, unit, j)
    notes = [f"set to 0: {own}" if own else "it has no own part: knocking it out changes nothing",
             "the real change that c_j estimates to first order"]
    return Derivation(f"knock-out({name})", f"E - E without {name}'s own part", (),
                      (Term((Factor("E", E),)), Term((Factor(f"E without {name}'s own part", E_without),), -1)),
                      value, tuple(notes), digits=digits)


def explain_responsibility(run: Run, layer: str, j: int, rows=slice(None), digits: int = DIGITS,
                           limit: int = LIMIT) -> Derivation:
    """The unit's exact responsibility for E - E_ref (its Shapley value, against the
    scenario's [reference]), over the training patterns ``rows`` at the network's weights:

        phi_j = sum over S of |S|! (n - |S| - 1)! / n! x (v(S + j) - v(S))

    over the sets S of the other players. Raises ValueError without a reference, or when
    the estimate would be too much work."""
    net = run.network
    unit = _unit(run, layer)
    name = unit_name(net, unit, j)
    ref = reference_theta(net)
    if ref is None:
        raise ValueError("this scenario declares no [reference]: no responsibility against what is correct")
    x, t, care = _patterns(run, rows)
    margin = run.training.margin
    found, owner = players(net, ref)
    n = len(found)
    names = [unit_name(net, net.layer(lname), k) for lname, k in found]
    symbolic = "sum over S of |S|!(n-|S|-1)!/n! x (v(S+j) - v(S))"
    who = f"players (units that differ from the reference): {', '.join(names) or 'none'}"
    if (layer, j) not in found:
        return Derivation(f"responsibility({name})", symbolic, (), (), 0.0,
                          ("its bias and incoming weights are the reference's: it is no player, so 0", who),
                          digits=digits)
    if n > EXACT_PLAYERS:
        result = responsibility(net, x, t, care, margin)
        if result is None:
            raise ValueError(f"{n} units differ from the reference: too much work even to estimate")
        value = float(result.values[layer][j])
        error = float(result.standard_error[layer][j])
        return Derivation(f"responsibility({name})", f"the mean of v(S+j) - v(S) over {result.orders} random orders",
                          (), (Term((Factor("the mean", value),)),), value,
                          (f"more than {EXACT_PLAYERS} players: estimated, ± {number(error, digits)} "
                           "(one standard error)", who), digits=digits)
    bits = every_coalition(n)
    masks = np.arange(2**n)
    v = coalition_losses(net, ref, owner, bits, x, t, care, margin)
    me = found.index((layer, j))

    def members(mask: int) -> str:
        return "{" + ", ".join(names[m] for m in range(n) if mask >> m & 1) + "}"

    terms = []
    for S in masks[~bits[:, me]]:
        size = int(bits[S].sum())
        weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
        with_me = S | (1 << me)
        terms.append(Term((Factor(f"|S|!(n-|S|-1)!/n!, |S| = {size}, n = {n}", weight),
                           Factor(f"v({members(with_me)}) - v({members(S)})", v[with_me] - v[S],
                                  f"{number(v[with_me], digits)} - {number(v[S], digits)}"))))
    value = float(shapley(v, n)[me])  # what responsibility() gives, from the same v(S)
    notes = ("v(S): E with the players in S at their current values, the others at the reference; "
             f"v({{}}) = E_ref = {number(v[0], digits)}, v(all) = E = {number(v[-1], digits)}", who,
             "exact Shapley values: they add up to E - E_ref")
    return Derivation(f"responsibility({name})", symbolic, (), _Context.fold_terms(terms, limit), value, notes,
                      digits=digits)


# --- the pieces ----------------------------------------------------------------------


class _Context:
    """What every derivation of one pass needs: the pattern names, targets, settings."""

    def __init__(self, run: Run, p: Pass, rows, pattern: int, digits: int, limit: int):
        self.run, self.p, self.k, self.digits, self.limit = run, p, pattern, digits, limit
        names = run.scenario.data.train_names
        self.names = [names[r] for r in np.arange(len(run.x))[rows]]
        self.t = run.t[rows]
        self.care = None if run.care is None else run.care[rows]

    def fold(self, terms: list[Term]) -> tuple[Term, ...]:
        return self.fold_terms(terms, self.limit)

    @staticmethod
    def fold_terms(terms: list[Term], limit: int) -> tuple[Term, ...]:
        """The ``limit`` largest terms in their order, the rest summed into one."""
        if len(terms) <= limit + 1:
            return tuple(terms)
        values = [abs(t.value) for t in terms]
        keep = sorted(sorted(range(len(terms)), key=lambda n: -values[n])[: limit])
        shown = set(keep)
        rest = [t for n, t in enumerate(terms) if n not in shown]
        total = math.fsum(t.value for t in rest)
        folded = Term((Factor(f"the other {len(rest)} terms", total),), more=len(rest))
        return tuple(terms[n] for n in keep) + (folded,)

    def pattern_note(self) -> str:
        return f"on pattern {self.names[self.k]}"


def _link(net: Network, param: Param) -> Link | None:
    """The connection of a weight (None for a bias); ValueError when frozen or missing."""
    unit = net.layer(param.layer)
    if param.sender is None:
        if unit.b is None:
            raise ValueError(f"{param.layer} has no bias")
        if unit.b_grad is None:
            raise ValueError(f"the bias of {param.layer} is frozen: no gradient, no change")
        return None
    link = next((l for l in unit.incoming if l.sender.name == param.sender), None)
    if link is None:
        raise ValueError(f"{param.sender} is not connected to {param.layer}")
    if not link.trainable:
        raise ValueError(f"the weights from {param.sender} to {param.layer} are frozen: no gradient, no change")
    return link


def _slope(ctx: _Context, unit: LayerPlan, j: int, name: str) -> Factor:
    """f'(net_j), as the engine's activation computes it."""
    k, i = ctx.k, unit.index
    net, a = ctx.p.net[i][k : k + 1], ctx.p.a[i][k : k + 1]
    value = float(unit.f.slope(net, a)[0, j])
    d = ctx.digits
    how = {"sigmoid": f"a(1 - a), a = {number(a[0, j], d)}",
           "tanh": f"1 - a^2, a = {number(a[0, j], d)}",
           "relu": f"1 if net > 0 else 0, net = {number(net[0, j], d)}",
           "linear": "1, linear"}[unit.f.name]
    return Factor(f"f'(net {name})", value, how)


def _counted(ctx: _Context, unit: LayerPlan) -> tuple[np.ndarray, list[str]]:
    """Per output unit on this pattern: does its error count (output_error's mask), and why not."""
    k = ctx.k
    a = ctx.p.a[unit.index][k]
    t = ctx.t[k, unit.columns]
    care = np.ones_like(a) if ctx.care is None else ctx.care[k, unit.columns]
    margin = ctx.run.training.margin
    outside = np.abs(a - t) > margin if margin > 0.0 else np.ones(a.shape, bool)
    counts = (care > 0) & outside
    why = ["" if c else "its target is don't care" if not care[n] else
           f"it is within the margin {number(margin, ctx.digits)} of its target" for n, c in enumerate(counts)]
    return counts, why


def _output_delta(ctx: _Context, unit: LayerPlan, j: int) -> Derivation:
    net = ctx.run.network
    k, i, d = ctx.k, unit.index, ctx.digits
    name = unit_name(net, unit, j)
    a = ctx.p.a[i][k]
    t = ctx.t[k, unit.columns]
    counts, why = _counted(ctx, unit)
    value = float(ctx.p.delta[i][k, j])
    notes = [ctx.pattern_note()]
    names = [unit_name(net, unit, m) for m in range(unit.size)]

    def a_(m):
        return Factor(f"a({names[m]})", a[m])

    def t_(m):
        return Factor(f"t({names[m]})", t[m] if counts[m] else 0.0, "" if counts[m] else f"0: {why[m]}")

    if ctx.run.training.loss == "sse":
        if unit.f.elementwise:
            terms = (Term((a_(j),)), Term((Factor(f"t({name})", t[j]),), -1)) if counts[j] else ()
            if not counts[j]:
                notes.append(f"no error: {why[j]}")
            return Derivation(f"delta({name})", "f'(net) x (a - t)", (_slope(ctx, unit, j, name),), terms,
                              value, tuple(notes), digits=d)
        # softmax: delta_j = a_j (e_j - sum_m a_m e_m), e = a - t where the error counts.
        e = [Factor(f"e({names[m]})", float(a[m] - t[m]) if counts[m] else 0.0,
                    f"a - t = {number(a[m], d)} - {number(t[m], d)}" if counts[m] else f"0: {why[m]}")
             for m in range(unit.size)]
        terms = (Term((e[j],)),) + ctx.fold([Term((a_(m), e[m]), -1) for m in range(unit.size)])
        return Derivation(f"delta({name})", "a x (e - sum_m a_m e_m), e = a - t", (a_(j),), terms,
                          value, tuple(notes), digits=d)
    # cross_entropy
    if unit.f.name == "sigmoid":
        terms = (Term((a_(j),)), Term((Factor(f"t({name})", t[j]),), -1)) if counts[j] else ()
        if not counts[j]:
            notes.append(f"no error: {why[j]}")
        return Derivation(f"delta({name})", "a - t", (), terms, value, tuple(notes), digits=d)
    # softmax: delta = a sum_m t_m - t over the targets that count, which is a - t when they sum to 1.
    total = float(np.where(counts, t, 0.0).sum())
    if not counts[j]:
        notes.append(f"t({name}) counts as 0: {why[j]}")
    if total == 1.0:
        return Derivation(f"delta({name})", "a - t", (), (Term((a_(j),)), Term((t_(j),), -1)), value,
                          tuple(notes), digits=d)
    s = Factor("sum_m t_m", total, "the targets do not add up to 1")
    return Derivation(f"delta({name})", "a x sum_m t_m - t", (), (Term((a_(j), s)), Term((t_(j),), -1)),
                      value, tuple(notes), digits=d)


def _dE_da(ctx: _Context, unit: LayerPlan, j: int) -> tuple[list[Term], float]:
    """The terms w_kj delta_k of dE/da_j over every unit k that j feeds, and their sum as
    the engine forms it (link by link, in declaration order)."""
    net, k = ctx.run.network, ctx.k
    name = unit_name(net, unit, j)
    terms, total = [], None
    for link in unit.outgoing:
        delta = ctx.p.delta[link.receiver.index][k : k + 1]
        for m in range(link.receiver.size):
            other = unit_name(net, link.receiver, m)
            terms.append(Term((Factor(f"w({other}<-{name})", link.w[m, j]),
                               Factor(f"delta({other})", delta[0, m]))))
        part = delta @ link.w
        total = part if total is None else total + part
    return terms, total


def _hidden_delta(ctx: _Context, unit: LayerPlan, j: int) -> Derivation:
    net, k, i, d = ctx.run.network, ctx.k, unit.index, ctx.digits
    name = unit_name(net, unit, j)
    value = float(ctx.p.delta[i][k, j])
    notes = (ctx.pattern_note(),)
    terms, g = _dE_da(ctx, unit, j)
    if unit.f.elementwise:
        return Derivation(f"delta({name})", f"f'(net) x sum_k w_k,{name} delta_k", (_slope(ctx, unit, j, name),),
                          ctx.fold(terms), value, notes, digits=d)
    # softmax: delta_j = a_j (g_j - sum_m a_m g_m), g_m = dE/da_m = sum_k w_km delta_k.
    g = g[0]  # the engine's dE/da for every unit of the layer
    a = ctx.p.a[i][k]
    names = [unit_name(net, unit, m) for m in range(unit.size)]
    G = [Factor(f"dE/da({names[m]})", g[m]) for m in range(unit.size)]
    A = [Factor(f"a({names[m]})", a[m]) for m in range(unit.size)]
    sums = ctx.fold([Term((A[m], G[m]), -1) for m in range(unit.size)])
    first = Derivation(f"dE/da({name})", f"sum_k w_k,{name} delta_k", (), ctx.fold(terms), float(g[j]),
                       digits=d)
    return Derivation(f"delta({name})", "a x (dE/da - sum_m a_m dE/da_m)", (A[j],), (Term((G[j],)),) + sums,
                      value, notes, (first,), digits=d)
