"""Explanations (bptui/core/explain.py): the printed arithmetic adds up, and the result is
the engine's own number.

Every derivation is checked three ways by ``check``:
- the printed arithmetic, parsed back from the text and worked out at the printed
  precision, gives the printed result (to within what the rounding of the printed
  numbers allows);
- the factors at full precision give the engine's value (so the derivation is the
  right formula with the right numbers, not only self-consistent text);
- the text is the structured data: the line is what = symbols = arithmetic = result.
The callers then check that the result is exactly the engine's delta, gradient or dw.
The gradients themselves are checked against finite differences in test_gradients.py
and (as written in a trace) in test_ledger.py.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from bptui.core.blame import contributions, first_order, knockouts, own_input, signed_shares
from bptui.core.explain import (Derivation, Param, explain_change, explain_contribution, explain_delta,
                                explain_gradient, explain_knockout, explain_own, explain_responsibility,
                                explain_share, number, param_name, params)
from bptui.core.scenario import load_scenario, parse_scenario
from bptui.core.stepper import Stepper
from bptui.core.training import Run

from test_gradients import ALL_CASES, random_theta, scenario_text

NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?"


def printed_value(text: str) -> float:
    """The printed arithmetic, worked out: products of printed numbers, summed, divided."""
    expr = re.sub(r" \(\d+ more\)", "", text)
    assert re.fullmatch(r"[-+ x/()0-9.e]+", expr), text
    return eval(expr.replace(" x ", " * "), {"__builtins__": {}})  # only numbers and + - * / ( )


def rounding(x: float, digits: int) -> float:
    """The most a number printed with ``digits`` significant digits can be off by."""
    if x == 0:
        return 0.0
    return 0.5 * 10 ** (math.floor(math.log10(abs(x))) - digits + 1)


def check(d: Derivation, engine: float | None = None) -> None:
    """The checks of the module docstring, on ``d`` and its parts."""
    assert d.lines[0] == d.line
    head, arithmetic, result = d.line.rsplit(" = ", 2)
    assert head == f"{d.what} = {d.symbolic}"
    assert arithmetic == d.arithmetic
    assert result == number(d.value, d.digits)
    if engine is not None:
        assert d.value == engine  # the engine's own number, not a recomputation
    if not all(math.isfinite(f.value) for f in d.outer + tuple(f for t in d.terms for f in t.factors)):
        return
    # 1. The printed arithmetic gives the printed result, to the printed precision.
    shown = printed_value(arithmetic)
    divisor = 1.0 if d.divisor is None else d.divisor.value
    outer = math.prod(float(number(f.value, d.digits)) for f in d.outer) / float(number(divisor, d.digits))
    terms = [abs(math.prod(float(number(f.value, d.digits)) for f in t.factors)) for t in d.terms]
    n = len(d.outer) + max((len(t.factors) for t in d.terms), default=0) + (d.divisor is not None)
    rel = 10.0 ** (1 - d.digits)  # twice the worst relative rounding of one printed number
    bound = n * rel * abs(outer) * sum(terms) + rounding(float(result), d.digits) + 1e-300
    assert abs(shown - float(result)) <= bound, f"{d.line}: the arithmetic gives {shown!r}"
    # 2. The factors at full precision give the engine's value.
    exact = math.prod(f.value for f in d.outer) * math.fsum(t.value for t in d.terms) / divisor
    scale = abs(math.prod(f.value for f in d.outer)) * sum(abs(t.value) for t in d.terms) / abs(divisor)
    assert abs(exact - d.value) <= 1e-12 * scale + 1e-300, f"{d.line}: factors give {exact!r}, engine {d.value!r}"
    for part in d.parts:
        check(part)
        assert part.lines[0] in d.lines


def case_run(case) -> tuple[Run, object]:
    """A Run of a test_gradients case at the case's random weights, and a pass over all patterns."""
    run = Run(parse_scenario(scenario_text(case), case.id))
    run.network.theta[...] = random_theta(run.network, 77)
    return run, run.inspect()


# --- the story scenarios, by hand ------------------------------------------------------


def test_tutoring_chain_delta_of_arjun_is_the_chain_rule_in_the_story_s_words(shipped):
    run = Run(load_scenario(shipped["tutoring-chain"]))
    p = run.inspect()
    net = run.network
    arjun, sunita = net.layer("Arjun"), net.layer("Sunita")
    d = explain_delta(run, p, "Arjun", 0)
    a = p.a[arjun.index][0, 0]
    w = net.layer("Sunita").incoming[0].w[0, 0]
    delta_sunita = p.delta[sunita.index][0, 0]
    assert d.line.startswith("delta(Arjun) = f'(net) x sum_k w_k,Arjun delta_k = ")
    assert [(f.name, f.value) for f in d.outer] == [("f'(net Arjun)", a * (1 - a))]
    assert [[(f.name, f.value) for f in t.factors] for t in d.terms] == [
        [("w(Sunita<-Arjun)", w), ("delta(Sunita)", delta_sunita)]]
    assert delta_sunita < 0  # her score is below her target: a negative number, bracketed
    assert d.arithmetic == f"{number(a * (1 - a))} x ({number(w)} x ({number(delta_sunita)}))"
    check(d, p.delta[arjun.index][0, 0])
    assert "  on pattern JEE mathematics" in d.lines

    # Sunita, the output: (a - t) f'(net), with her target 0.9.
    d = explain_delta(run, p, "Sunita", 0)
    assert d.symbolic == "f'(net) x (a - t)"
    assert [f.value for t in d.terms for f in t.factors] == [p.a[sunita.index][0, 0], 0.9]
    check(d, p.delta[sunita.index][0, 0])


def test_tutoring_chain_last_change_is_the_update_rule_with_its_numbers(shipped):
    run = Run(load_scenario(shipped["tutoring-chain"]))
    run.keep_last_change = True
    for _ in range(3):
        run.train_epoch()
    ch = run.last_change
    net = run.network
    param = Param("Sunita", 0, "Arjun", 0)
    d = explain_change(run, param)
    # One pattern: the gradient shows as delta x a, as in the paper.
    assert d.what == "dw(Sunita<-Arjun)"
    assert d.symbolic == "-learning_rate x delta_j x a_i + momentum x dw(t-1)"
    first, carried = d.terms
    assert first.sign == -1 and [f.value for f in first.factors] == [
        1.0, ch.pass_.delta[net.layer("Sunita").index][0, 0], ch.pass_.a[net.layer("Arjun").index][0, 0]]
    link = net.layer("Sunita").incoming[0]
    assert [f.value for f in carried.factors] == [0.5, net.views(ch.dw_before).weights[link.index][0, 0]]
    check(d, float(net.views(run.dw).weights[link.index][0, 0]))
    # And the weight after it: w + dw, the weight now.
    (after,) = d.parts
    assert after.symbolic == "w + dw"
    check(after, float(link.w[0, 0]))
    assert "  epoch 3, update 1 (pattern JEE mathematics)" in d.lines


# --- every activation, loss, margin, don't care, graph -----------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_every_delta_and_gradient_adds_up_to_the_engine_s(case):
    run, p = case_run(case)
    net = run.network
    checked = 0
    for unit in net.computed:
        for k in range(len(run.x)):
            for j in range(unit.size):
                for limit in (4, 1):  # with and without folding the smaller terms
                    d = explain_delta(run, p, unit.name, j, pattern=k, limit=limit)
                    check(d, float(p.delta[unit.index][k, j]))
                    assert f"  on pattern {run.scenario.data.names[k]}" in d.lines
                    checked += 1
    grad = net.views(net.grad)
    for param in params(net):
        d = explain_gradient(run, p, param, limit=2)
        unit = net.layer(param.layer)
        if param.sender is None:
            engine = grad.biases[unit.index][0, param.j]
        else:
            link = next(link for link in unit.incoming if link.sender.name == param.sender)
            engine = grad.weights[link.index][param.j, param.i]
        check(d, float(engine))
        assert d.what == f"dE/d{param_name(net, param)}"
        # Many patterns: 2 shown, the rest folded into one.
        assert len(d.terms) == 3 and d.terms[-1].more == len(run.x) - 2
        checked += 1
    assert checked > 0


def test_frozen_weights_input_units_and_missing_biases_are_refused():
    case = next(c for c in ALL_CASES if c.id == "frozen-skip-and-no-bias")
    run, p = case_run(case)
    with pytest.raises(ValueError, match="frozen"):
        explain_gradient(run, p, Param("out", 0, "in", 0))
    with pytest.raises(ValueError, match="no bias"):
        explain_gradient(run, p, Param("hid", 0))
    with pytest.raises(ValueError, match="input layer"):
        explain_delta(run, p, "in", 0)
    # Frozen weights are not among the parameters at all.
    assert all(not (q.layer == "out" and q.sender == "in") for q in params(run.network))
    assert len(params(run.network)) == run.network.n_trainable


def test_output_delta_names_why_an_output_has_no_error():
    case = next(c for c in ALL_CASES if c.id == "margin-and-dont-care")
    run, p = case_run(case)
    out = run.network.layer("out")
    reasons = set()
    for k in range(len(run.x)):
        for j in range(out.size):
            d = explain_delta(run, p, "out", j, pattern=k)
            check(d, float(p.delta[out.index][k, j]))
            if not d.terms:
                assert d.value == 0.0
                reasons.add(d.notes[-1])
    assert reasons == {"no error: its target is don't care", "no error: it is within the margin 0.3 of its target"}


@pytest.mark.parametrize("case_id, symbols", [
    ("ce-softmax-onehot", {"a - t"}),
    ("ce-softmax-targets-not-summing-to-1", {"a x sum_m t_m - t"}),  # two ones, all zeros, ...
])
def test_softmax_cross_entropy_delta_is_a_minus_t_only_when_the_targets_add_up_to_1(case_id, symbols):
    case = next(c for c in ALL_CASES if c.id == case_id)
    run, p = case_run(case)
    out = run.network.layer("out")
    seen = set()
    for k in range(len(run.x)):
        for j in range(out.size):
            d = explain_delta(run, p, "out", j, pattern=k)
            check(d, float(p.delta[out.index][k, j]))
            seen.add(d.symbolic)
    assert seen == symbols


def test_explain_refuses_a_delta_the_step_has_not_reached(shipped):
    run = Run(load_scenario(shipped["xor"]))
    stepper = Stepper(run)
    stepper.step()  # forward
    stepper.step()  # loss: the output's delta
    p, rows = stepper.pass_, stepper.rows
    check(explain_delta(run, p, "output", 0, rows=rows), float(p.delta[run.network.layer("output").index][0, 0]))
    with pytest.raises(ValueError, match="not computed yet"):
        explain_delta(run, p, "hidden", 0, rows=rows)
    with pytest.raises(ValueError, match="not computed yet"):
        explain_gradient(run, p, Param("output", 0, "hidden", 0), rows=rows)


def test_online_pass_of_one_pattern_is_named(shipped, variant):
    run = Run(load_scenario(variant("encoder-4-2-4", [('order = "sequential"', 'order = "shuffled"')])))
    stepper = Stepper(run)
    for _ in range(5):  # forward, loss, backward output, backward hidden, update: one pattern
        stepper.step()
    stepper.step()  # the next pattern's forward...
    while stepper.phase != "backward: hidden":
        stepper.step()
    p, rows = stepper.pass_, stepper.rows
    name = run.scenario.data.train_names[np.arange(len(run.x))[rows][0]]
    d = explain_delta(run, p, "hidden", 1, rows=rows)
    check(d, float(p.delta[run.network.layer("hidden").index][0, 1]))
    assert f"  on pattern {name}" in d.lines
    g = explain_gradient(run, p, Param("hidden", 1, "input", 2), rows=rows)
    assert g.symbolic == "delta_j x a_i" and len(g.terms) == 1
    assert g.terms[0].factors[0].name == f"delta(h2) [{name}]"
    check(g, float(run.network.views(run.network.grad).weights[0][1, 2]))


# --- the last change -------------------------------------------------------------------


@pytest.mark.parametrize("scenario, replacements", [
    ("xor", [("momentum = 0.9", "momentum = 0.9\nweight_decay = 0.001")]),  # batch, with decay
    ("encoder-4-2-4", [('order = "sequential"', 'order = "shuffled"')]),  # online
    ("xor", [("seed = 1", "seed = 1\n\n[[training.schedule]]\nfrom_epoch = 3\nlearning_rate = 0.25\n"
              "momentum = 0.5\nweight_decay = 0.01")]),
])
def test_every_last_change_adds_up_to_the_engine_s_dw_and_weight(variant, scenario, replacements):
    run = Run(load_scenario(variant(scenario, replacements)))
    run.keep_last_change = True
    net = run.network
    for _ in range(4):
        run.train_epoch()
        ch = run.last_change
        assert (ch.learning_rate, ch.momentum, ch.weight_decay) == run.settings(ch.epoch)
        dw, theta = net.views(run.dw), net.views(net.theta)
        for param in params(net):
            unit = net.layer(param.layer)
            if param.sender is None:
                engine_dw, engine_w = dw.biases[unit.index][0, param.j], theta.biases[unit.index][0, param.j]
            else:
                link = next(link for link in unit.incoming if link.sender.name == param.sender)
                engine_dw = dw.weights[link.index][param.j, param.i]
                engine_w = theta.weights[link.index][param.j, param.i]
            d = explain_change(run, param)
            check(d, float(engine_dw))
            after = d.parts[-1]
            check(after, float(engine_w))
            if ch.weight_decay:
                assert after.symbolic == "(1 - weight_decay) x (w + dw)"
                assert after.outer[0].value == 1.0 - ch.weight_decay
            else:
                assert after.symbolic == "w + dw" and not after.outer
            if len(ch.rows) > 1:  # batch: the gradient, summed over the patterns, as its own part
                gradient = d.parts[0]
                assert gradient.what == f"dE/d{param_name(net, param)}"
                assert d.terms[0].factors[1].value == gradient.value
                check(gradient)
    assert run.epoch == 4


def test_keeping_the_last_change_is_off_by_default_and_changes_no_number(shipped):
    plain, kept = Run(load_scenario(shipped["xor"])), Run(load_scenario(shipped["xor"]))
    kept.keep_last_change = True
    for _ in range(20):
        plain.train_epoch()
        kept.train_epoch()
    assert plain.last_change is None and kept.last_change is not None
    np.testing.assert_array_equal(plain.network.theta, kept.network.theta)
    assert plain.losses == kept.losses
    with pytest.raises(ValueError, match="keep_last_change"):
        explain_change(plain, Param("output", 0, "hidden", 0))
    kept.reset()
    assert kept.last_change is None


def test_unit_names_shared_by_two_layers_are_told_apart(write_scenario):
    path = write_scenario("""
        format = 1
        [scenario]
        title = "twins"
        [[layers]]
        name = "left"
        units = ["a", "b"]
        [[layers]]
        name = "right"
        units = ["a", "c"]
        activation = "sigmoid"
        [[connections]]
        from = "left"
        to = "right"
        [data]
        inputs = [[1, 0]]
        targets = [[1, 0]]
    """)
    run = Run(load_scenario(path))
    assert param_name(run.network, Param("right", 0, "left", 0)) == "w(right:a<-left:a)"
    assert param_name(run.network, Param("right", 1, "left", 1)) == "w(c<-b)"
    assert param_name(run.network, Param("right", 1)) == "b(c)"


# --- blame: the share, the knock-out, the responsibility -----------------------------------


def test_preservative_share_knockout_and_responsibility_with_the_story_s_numbers(shipped):
    """The story's numbers, derived: mixing's share 18.7 / 21.6, its knock-out 5.41, and its
    exact responsibility 0.5 x 0.656 + 0.5 x 4.76 = 2.707 (packaging: 3.957)."""
    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    p = run.inspect()
    own = explain_own(run, p, "mixing", 0, pattern=2)  # the double batch: 2 spoons x a scoop of 1.5
    assert own.arithmetic == "0 + 1.5 x 2" and own.value == 3.0
    check(own, 3.0)
    c = explain_contribution(run, p, "mixing", 0)
    assert c.value == 18.703125 and len(c.terms) == 3
    check(c, 18.703125)
    share = explain_share(run, p, "mixing", 0)
    assert share.arithmetic == "18.7 / 21.6" and share.value == pytest.approx(18.703125 / 21.640625, rel=1e-15)
    check(share, float(signed_shares(run.network, p)["mixing"][0]))
    (whole,) = share.parts
    assert whole.value == 21.640625 and [t.factors[0].value for t in whole.terms] == [18.703125, 0, 2.9375, 0]
    assert "+86.4%: blame; the shares' sizes add up to 100%" in share.notes
    knock = explain_knockout(run, "mixing", 0)
    assert knock.value == 5.4140625 and knock.arithmetic == "6.66 - 1.25"
    check(knock, float(knockouts(run.network, run.x, run.t)["mixing"][0]))
    assert "  set to 0: b(dough), w(dough<-salt)" in knock.lines
    mixing = explain_responsibility(run, "mixing", 0)
    assert mixing.value == 2.70703125 and mixing.arithmetic == "0.5 x 0.656 + 0.5 x 4.76"
    assert [t.factors[1].name for t in mixing.terms] == ["v({dough}) - v({})", "v({dough, packet}) - v({packet})"]
    check(mixing, 2.70703125)
    packaging = explain_responsibility(run, "packaging", 0)
    assert packaging.value == 3.95703125 and packaging.arithmetic == "0.5 x 1.91 + 0.5 x 6.01"
    check(packaging, 3.95703125)
    baking = explain_responsibility(run, "baking", 0)  # passes the salt on, as the reference does
    assert baking.value == 0 and not baking.terms and "no player" in baking.notes[0]


def test_tutoring_chain_priya_is_credit_and_has_no_responsibility(shipped):
    run = Run(load_scenario(shipped["tutoring-chain"]))
    p = run.inspect()
    check(explain_own(run, p, "Priya", 0), 1.5)
    c = explain_contribution(run, p, "Priya", 0)
    assert c.symbolic == "delta_j x own_j" and c.value == pytest.approx(-0.0116605, abs=1e-7)
    check(c)
    share = explain_share(run, p, "Priya", 0)
    assert share.value == pytest.approx(-0.0712, abs=1e-4) and share.notes[0].startswith("-7.1%: credit")
    check(share)
    knock = explain_knockout(run, "Priya", 0)
    assert knock.value == pytest.approx(-0.01705, abs=1e-5)  # removing her part raises E: credit, for real
    check(knock)
    with pytest.raises(ValueError, match="no \\[reference\\]"):
        explain_responsibility(run, "Priya", 0)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_every_own_part_share_and_knockout_adds_up_to_the_engine_s(case):
    run, p = case_run(case)
    net = run.network
    shares, c = signed_shares(net, p), contributions(first_order(net, p))
    knocked = knockouts(net, run.x, run.t, run.care, run.training.margin)
    for unit in net.computed:
        for j in range(unit.size):
            check(explain_own(run, p, unit.name, j, pattern=len(run.x) - 1), float(own_input(p, unit)[-1, j]))
            check(explain_contribution(run, p, unit.name, j, limit=2), float(c[unit.name][j]))
            check(explain_share(run, p, unit.name, j, limit=2), float(shares[unit.name][j]))
            knock = explain_knockout(run, unit.name, j)
            check(knock)
            assert knock.value == pytest.approx(float(knocked[unit.name][j]), rel=1e-12, abs=1e-300)


HIDDEN_REFERENCE = """
    format = 1
    [scenario]
    title = "a reference for the hidden biases"
    [[layers]]
    name = "in"
    size = 2
    [[layers]]
    name = "hid"
    size = {size}
    activation = "sigmoid"
    [[layers]]
    name = "out"
    size = 1
    activation = "sigmoid"
    [[connections]]
    from = "in"
    to = "hid"
    [[connections]]
    from = "hid"
    to = "out"
    [[reference.layers]]
    name = "hid"
    bias = {zeros}
    [data]
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
    targets = [[0], [1], [1], [0]]
    [training]
    weight_init = 2.0
"""


@pytest.mark.parametrize("size", [3, 13], ids=["exact", "sampled"])
def test_responsibility_derivations_add_up_to_the_engine_s_and_to_the_excess(write_scenario, size):
    """A nonlinear network whose hidden biases should be 0: each hidden unit is a player.
    Up to 12 players every coalition is shown (folded); beyond, the estimate and its error."""
    from bptui.core.responsibility import responsibility

    run = Run(load_scenario(write_scenario(HIDDEN_REFERENCE.format(size=size, zeros=[0.0] * size))))
    engine = responsibility(run.network, run.x, run.t)
    derived = [explain_responsibility(run, "hid", j) for j in range(size)]
    for j, d in enumerate(derived):
        check(d, float(engine.values["hid"][j]))
    assert explain_responsibility(run, "out", 0).value == 0  # no reference named: keeps its values, no player
    if engine.exact:
        assert all(len(d.terms) == 4 and d.terms[0].factors[1].name.endswith(" - v({})") for d in derived)
        assert math.fsum(d.value for d in derived) == pytest.approx(engine.loss - engine.reference_loss, abs=1e-12)
    else:
        assert "estimated" in derived[0].notes[0] and derived[0].symbolic.endswith("over 200 random orders")


def test_at_the_update_phase_the_pass_is_explained_with_its_own_weights(shipped):
    """After the update the weights have changed, but the pass shown ran with the old ones:
    its deltas and shares are derived with those (pass_weights), and the new ones are kept."""
    from bptui.core.snapshot import pass_weights

    run = Run(load_scenario(shipped["tutoring-chain"]))
    run.keep_last_change = True
    start = Run(load_scenario(shipped["tutoring-chain"]))
    stepper = Stepper(run)
    while stepper.step() != "update":
        pass
    p, after = stepper.pass_, run.network.theta.copy()
    with pass_weights(run, "update"):
        np.testing.assert_array_equal(run.network.theta, start.network.theta)
        check(explain_delta(run, p, "Arjun", 0), float(p.delta[run.network.layer("Arjun").index][0, 0]))
        share = explain_share(run, p, "Priya", 0)
        assert share.value == float(signed_shares(start.network, start.inspect())["Priya"][0])
        check(share)
    np.testing.assert_array_equal(run.network.theta, after)


def test_the_derivations_docs_app_md_quotes_are_the_engine_s(shipped):
    """docs/app.md shows Arjun's delta after two updates and the mixer's share, knock-out
    and responsibility in the preservative story: each line is what the engine derives."""
    from pathlib import Path

    from bptui.core.snapshot import pass_weights

    doc = (Path(__file__).parent.parent / "docs" / "app.md").read_text(encoding="utf-8")
    doc = " ".join(doc.split())
    run = Run(load_scenario(shipped["tutoring-chain"]))
    run.keep_last_change = True
    stepper = Stepper(run)
    for _ in range(2):  # n, n: two whole updates; the app rests at the second's update phase
        while stepper.step() != "update":
            pass
    link = run.network.layer("Sunita").incoming[0]
    assert number(link.w[0, 0]) == "1.36"  # the weight the update has just made
    with pass_weights(run, "update"):
        d = explain_delta(run, stepper.pass_, "Arjun", 0)
        assert number(link.w[0, 0]) == "1.27"  # the weight the pass ran with
    assert f"delta(Arjun) = {d.symbolic} = {d.arithmetic} = {number(d.value)}" in doc
    assert d.lines[1] == "  f'(net Arjun) = a(1 - a), a = 0.571 = 0.245" and "(`f'(net Arjun) = a(1 - a), a = 0.571 = 0.245`)" in doc

    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    p = run.inspect()
    for d in (explain_own(run, p, "mixing", 0), explain_contribution(run, p, "mixing", 0),
              explain_share(run, p, "mixing", 0), explain_knockout(run, "mixing", 0),
              explain_responsibility(run, "mixing", 0)):
        assert d.line in doc, d.line
    v = explain_responsibility(run, "mixing", 0).terms
    assert [t.factors[1].how for t in v] == ["0.656 - 0", "6.66 - 1.91"]
    assert "v({dough}) - v({}) = 0.656 - 0" in doc and "v({dough, packet}) - v({packet}) = 6.66 - 1.91" in doc
