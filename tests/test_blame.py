"""The three numbers of docs/blame.md on the stories, checked by hand: the blame signal
delta, the signed first-order share (gradient x input) beside its knock-out, and the
exact responsibility against the story's reference. Every number a story quotes is
computed here in closed form from the story's weights, then compared with the engine."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from bptui.core.blame import contributions, first_order, knockouts, link_factors, most_blamed, own_input, signed_shares
from bptui.core.report import inspect_report
from bptui.core.responsibility import responsibility
from bptui.core.scenario import load_scenario
from bptui.core.training import Run

# The biscuit factory's 20 batches: the recipe's salt, which is also the right saltiness.
SALT = np.array([0.5, 1.0, 2.0] + [0.0] * 17)
STAGES = ("mixing", "baking", "packaging", "quality control")


def _inspect(path):
    run = Run(load_scenario(path))
    return run, run.inspect()


def _numbers(run: Run) -> SimpleNamespace:
    """The engine's numbers for a story whose layers have one unit each, by layer name."""
    net = run.network
    p = run.inspect()
    terms = first_order(net, p)
    c = contributions(terms)
    shares = signed_shares(net, p)
    knocked = knockouts(net, run.x, run.t, run.care, run.training.margin)
    resp = responsibility(net, run.x, run.t, run.care, run.training.margin)
    return SimpleNamespace(
        p=p, E=float(p.E), resp=resp,
        delta={u.name: p.delta[u.index][:, 0] for u in net.computed},
        own={u.name: own_input(p, u)[:, 0] for u in net.computed},
        c={u.name: float(c[u.name][0]) for u in net.computed},
        share={u.name: float(shares[u.name][0]) for u in net.computed},
        knockout={u.name: float(knocked[u.name][0]) for u in net.computed},
        responsibility=None if resp is None else {u.name: float(resp.values[u.name][0]) for u in net.computed},
    )


def _link(run: Run, sender: str, receiver: str):
    return next(link for link in run.network.links if (link.sender.name, link.receiver.name) == (sender, receiver))


def _sse(y, t) -> float:
    return 0.5 * float(np.sum((np.asarray(y) - np.asarray(t)) ** 2))


# --- biscuit-factory ---------------------------------------------------------------------

def test_biscuit_factory_by_hand(shipped):
    run = Run(load_scenario(shipped["biscuit-factory"]))
    assert run.x[:, 0].tolist() == SALT.tolist() and run.t[:, 0].tolist() == SALT.tolist()
    b = _numbers(run)
    scoop = 2.0
    error = scoop * SALT - SALT  # every other stage passes the salt on unchanged
    assert np.count_nonzero(error) == 3 and len(error) == 20  # 15% of the batches too salty
    E = _sse(scoop * SALT, SALT)
    assert E == 2.625 and b.E == pytest.approx(E, rel=1e-15)
    for stage in STAGES:  # linear stages with weights 1: the complaint comes back unchanged
        np.testing.assert_allclose(b.delta[stage], error, rtol=1e-15)
    np.testing.assert_allclose(b.own["mixing"], scoop * SALT, rtol=1e-15)  # no pinch of its own
    c_mixing = float(np.sum(error * scoop * SALT))
    assert c_mixing == 10.5 and b.c["mixing"] == pytest.approx(c_mixing, rel=1e-15)
    assert b.share == {"mixing": 1.0, "baking": 0.0, "packaging": 0.0, "quality control": 0.0}
    # Without the mixer's salt the savoury batches are as far too bland: E does not change.
    knockout = E - _sse(0 * SALT, SALT)
    assert knockout == 0.0 and b.knockout["mixing"] == pytest.approx(knockout, abs=1e-15)
    assert b.knockout["baking"] == b.knockout["packaging"] == b.knockout["quality control"] == 0.0
    # Against a scoop of 1 (E_ref = 0) the scoop is the only fault: it carries all of E.
    assert b.resp.players == (("mixing", 0),) and b.resp.exact
    assert b.resp.reference_loss == _sse(1.0 * SALT, SALT) == 0.0
    assert b.responsibility == {"mixing": pytest.approx(2.625, rel=1e-15), "baking": 0.0, "packaging": 0.0,
                                "quality control": 0.0}


# --- biscuit-factory-baking ----------------------------------------------------------------

def _baking_game(scoop: float, pinch: float) -> tuple[float, float, float]:
    """E, and the Shapley values of the mixer (scoop, pinch against 1, 0) and the oven
    (x2 against x1): v(S) = E with the members of S at their current values."""
    def v(mixer: bool, oven: bool) -> float:
        w, b = (scoop, pinch) if mixer else (1.0, 0.0)
        return _sse((2.0 if oven else 1.0) * (w * SALT + b), SALT)

    mixing = 0.5 * ((v(True, False) - v(False, False)) + (v(True, True) - v(False, True)))
    baking = 0.5 * ((v(False, True) - v(False, False)) + (v(True, True) - v(True, False)))
    return v(True, True), mixing, baking


def test_biscuit_factory_baking_by_hand(shipped):
    run = Run(load_scenario(shipped["biscuit-factory-baking"]))
    b = _numbers(run)
    oven = 2.0
    error = oven * SALT - SALT
    E = _sse(oven * SALT, SALT)
    assert E == 2.625 and b.E == pytest.approx(E, rel=1e-15)
    for stage in ("baking", "packaging", "quality control"):
        np.testing.assert_allclose(b.delta[stage], error, rtol=1e-15)
    np.testing.assert_allclose(b.delta["mixing"], oven * error, rtol=1e-15)  # doubles crossing the oven
    c_mixing = float(np.sum(oven * error * SALT))  # own = 1 x salt
    assert c_mixing == 10.5 and b.c["mixing"] == pytest.approx(c_mixing, rel=1e-15)
    assert b.share["mixing"] == 1.0 and b.share["baking"] == 0.0  # the share blames the right mixer
    knockout = E - _sse(0 * SALT, SALT)
    assert knockout == 0.0 and b.knockout["mixing"] == pytest.approx(knockout, abs=1e-15)
    # The mixer equals its reference, so it is no player; the oven carries all of E.
    assert b.resp.players == (("baking", 0),)
    E_hand, mixing, baking = _baking_game(1.0, 0.0)
    assert (E_hand, mixing, baking) == (2.625, 0.0, 2.625)
    assert b.responsibility == {"mixing": 0.0, "baking": pytest.approx(2.625, rel=1e-15), "packaging": 0.0,
                                "quality control": 0.0}


def test_biscuit_factory_baking_after_training_the_faults_cancel(shipped):
    run = Run(load_scenario(shipped["biscuit-factory-baking"]))
    run.train()
    scoop = float(_link(run, "recipe", "mixing").w[0, 0])
    pinch = float(run.network.layer("mixing").b[0, 0])
    b = _numbers(run)
    E, mixing, baking = _baking_game(scoop, pinch)
    assert b.E == pytest.approx(E, rel=1e-9, abs=1e-15)
    assert b.responsibility["mixing"] == pytest.approx(mixing, rel=1e-9)
    assert b.responsibility["baking"] == pytest.approx(baking, rel=1e-9)
    assert b.resp.players == (("mixing", 0), ("baking", 0))
    # the story's numbers: the scoop turned down to about half a spoon, faults of -0.982 and +0.982
    assert scoop == pytest.approx(0.497, abs=5e-4)
    assert mixing == pytest.approx(-0.982, abs=5e-4) and baking == pytest.approx(0.982, abs=5e-4)


# --- biscuit-factory-preservative ----------------------------------------------------------

PRESERVED_SALT = np.array([0.5, 1.0, 2.0])  # the three batches, each with one dose
AMPLIFY, DOSE = 1.5, 0.5  # packaging: the salt tastes 1.5 times as strong, the dose adds half a spoon


def _preservative(scoop: float, amplify: float = AMPLIFY, dose: float = DOSE):
    return amplify * scoop * PRESERVED_SALT + dose * 1.0


def test_biscuit_factory_preservative_by_hand(shipped):
    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    b = _numbers(run)
    s, scoop = PRESERVED_SALT, 1.5
    error = _preservative(scoop) - s
    np.testing.assert_allclose(error, [1.125, 1.75, 3.0], rtol=1e-15)
    E = _sse(_preservative(scoop), s)
    assert E == 6.6640625 and b.E == pytest.approx(E, rel=1e-15)
    # delta: the error at packaging and after it, times 1.5 crossing the amplification back
    for stage in ("packaging", "quality control"):
        np.testing.assert_allclose(b.delta[stage], error, rtol=1e-15)
    for stage in ("mixing", "baking"):
        np.testing.assert_allclose(b.delta[stage], AMPLIFY * error, rtol=1e-15)
    np.testing.assert_allclose(b.own["mixing"], scoop * s, rtol=1e-15)
    np.testing.assert_allclose(b.own["packaging"], [DOSE] * 3, rtol=1e-15)
    c_mixing = float(np.sum(AMPLIFY * error * scoop * s))
    c_packaging = float(np.sum(error * DOSE))
    assert (c_mixing, c_packaging) == (18.703125, 2.9375)
    assert b.c["mixing"] == pytest.approx(c_mixing, rel=1e-15)
    assert b.c["packaging"] == pytest.approx(c_packaging, rel=1e-15)
    total = c_mixing + c_packaging
    assert b.share["mixing"] == pytest.approx(c_mixing / total, rel=1e-14)
    assert b.share["packaging"] == pytest.approx(c_packaging / total, rel=1e-14)
    assert round(100 * c_mixing / total) == 86 and round(100 * c_packaging / total) == 14  # the story's split
    assert b.share["baking"] == b.share["quality control"] == 0.0
    knockout_mixing = E - _sse(_preservative(0.0), s)
    knockout_packaging = E - _sse(_preservative(scoop, dose=0.0), s)
    assert (knockout_mixing, knockout_packaging) == (5.4140625, 2.5625)
    assert b.knockout["mixing"] == pytest.approx(knockout_mixing, rel=1e-14)
    assert b.knockout["packaging"] == pytest.approx(knockout_packaging, rel=1e-14)
    # The game: M the scoop (1.5 against 1), P packaging (x1.5 and a dose of 0.5 against x1, none).
    v = {"": _sse(_preservative(1.0, 1.0, 0.0), s), "M": _sse(_preservative(scoop, 1.0, 0.0), s),
         "P": _sse(_preservative(1.0), s), "MP": E}
    assert v == {"": 0.0, "M": 0.65625, "P": 1.90625, "MP": 6.6640625}
    mixing = 0.5 * ((v["M"] - v[""]) + (v["MP"] - v["P"]))
    packaging = 0.5 * ((v["P"] - v[""]) + (v["MP"] - v["M"]))
    assert (mixing, packaging) == (2.70703125, 3.95703125)
    # the story: alone 0.656, after the other 4.758 and 6.008; 41% and 59%; the part that
    # exists only because both are at fault is split evenly
    assert round(v["MP"] - v["P"], 3) == 4.758 and round(v["MP"] - v["M"], 3) == 6.008
    assert round(100 * mixing / E) == 41 and round(100 * packaging / E) == 59
    both = v["MP"] - v["M"] - v["P"]
    assert mixing == v["M"] + both / 2 and packaging == v["P"] + both / 2
    assert b.resp.players == (("mixing", 0), ("packaging", 0)) and b.resp.reference_loss == 0.0
    assert b.responsibility["mixing"] == pytest.approx(mixing, rel=1e-14)
    assert b.responsibility["packaging"] == pytest.approx(packaging, rel=1e-14)
    assert b.responsibility["baking"] == b.responsibility["quality control"] == 0.0


def test_biscuit_factory_preservative_with_a_right_scoop(shipped):
    """The story's "set the mixer's scoop to 1.0": its responsibility drops to 0 and its
    first-order share stays large (its salt, amplified, is still most of what is added)."""
    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    _link(run, "recipe", "mixing").w[0, 0] = 1.0  # as the app edits a weight: in theta
    b = _numbers(run)
    s = PRESERVED_SALT
    error = _preservative(1.0) - s  # 0.5 s + 0.5
    E = _sse(_preservative(1.0), s)
    assert E == 1.90625 and b.E == pytest.approx(E, rel=1e-15)
    c_mixing = float(np.sum(AMPLIFY * error * 1.0 * s))
    c_packaging = float(np.sum(error * DOSE))
    assert (c_mixing, c_packaging) == (6.5625, 1.625)
    assert b.share["mixing"] == pytest.approx(c_mixing / (c_mixing + c_packaging), rel=1e-14)
    assert round(100 * b.share["mixing"], 1) == 80.2
    assert b.resp.players == (("packaging", 0),)
    assert b.responsibility["mixing"] == 0.0
    assert b.responsibility["packaging"] == pytest.approx(E, rel=1e-15)


def test_preservative_json_has_the_signed_share_and_the_reference(shipped):
    """SPEC section 5 and docs/blame.md: `share` (signed) replaces `blame`; the reference
    block says what the responsibility is measured against, and how it was computed."""
    run = Run(load_scenario(shipped["biscuit-factory-preservative"]))
    report = json.loads(json.dumps(inspect_report(run), allow_nan=False))
    assert "gradient x input" in report["share_method"]
    assert report["reference"] == {"loss": 0.0, "excess": 6.6640625, "method": "shapley, exact",
                                   "players": [{"layer": "mixing", "unit": "dough"},
                                               {"layer": "packaging", "unit": "packet"}]}
    for name in STAGES:
        layer = report["layers"][name]
        assert "blame" not in layer and "responsibility_error" not in layer  # exact: no error to give
        for key in ("net", "activation", "delta", "bias", "bias_gradient", "own", "first_order", "contribution",
                    "share", "knockout", "responsibility"):
            assert key in layer, (name, key)
    mixing, packaging = report["layers"]["mixing"], report["layers"]["packaging"]
    s, error = PRESERVED_SALT, _preservative(1.5) - PRESERVED_SALT
    np.testing.assert_allclose(mixing["own"], (1.5 * s)[:, None], rtol=1e-15)
    np.testing.assert_allclose(mixing["first_order"], (AMPLIFY * error * 1.5 * s)[:, None], rtol=1e-15)
    np.testing.assert_allclose(packaging["first_order"], (error * DOSE)[:, None], rtol=1e-15)
    assert mixing["contribution"] == [18.703125] and packaging["contribution"] == [2.9375]
    assert mixing["share"] == [pytest.approx(18.703125 / 21.640625, rel=1e-14)]
    assert packaging["share"] == [pytest.approx(2.9375 / 21.640625, rel=1e-14)]
    assert mixing["knockout"] == [5.4140625] and packaging["knockout"] == [2.5625]
    assert mixing["responsibility"] == [2.70703125] and packaging["responsibility"] == [3.95703125]
    assert report["layers"]["baking"]["responsibility"] == [0.0]
    assert "blame" not in report["layers"]["recipe"]  # input layers: units and activation only


# --- tutoring-chain ------------------------------------------------------------------------

def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _tutoring(bias_sunita: float = -1.0, own_priya: float = 1.5, own_arjun: float = -1.0):
    """The chain by hand from the file's weights: syllabus 1 -> Priya (w 2, bias -0.5)
    -> Arjun (w 1.5, bias -1) -> Sunita (w 1.2), target 0.9. Returns activations and E."""
    a_p = _sigmoid(own_priya)  # Priya takes only her own part: 2 x 1 - 0.5 = 1.5
    a_a = _sigmoid(1.5 * a_p + own_arjun)
    a_s = _sigmoid(1.2 * a_a + bias_sunita)
    return (a_p, a_a, a_s), 0.5 * (a_s - 0.9) ** 2


def _tutoring_blame(bias_sunita: float):
    (a_p, a_a, a_s), E = _tutoring(bias_sunita)
    d_s = (a_s - 0.9) * a_s * (1 - a_s)
    d_a = d_s * 1.2 * a_a * (1 - a_a)
    d_p = d_a * 1.5 * a_p * (1 - a_p)
    own = {"Priya": 2.0 * 1.0 - 0.5, "Arjun": -1.0, "Sunita": bias_sunita}
    delta = {"Priya": d_p, "Arjun": d_a, "Sunita": d_s}
    c = {name: delta[name] * own[name] for name in own}
    total = sum(abs(v) for v in c.values())
    knockout = {"Priya": E - _tutoring(bias_sunita, own_priya=0.0)[1],
                "Arjun": E - _tutoring(bias_sunita, own_arjun=0.0)[1],
                "Sunita": E - _tutoring(0.0)[1]}
    return E, a_s, delta, own, c, {name: v / total for name, v in c.items()}, knockout


def test_tutoring_chain_by_hand(shipped):
    run = Run(load_scenario(shipped["tutoring-chain"]))
    b = _numbers(run)
    E, a_s, delta, own, c, share, knockout = _tutoring_blame(-1.0)
    assert b.E == pytest.approx(E, rel=1e-13)
    for name in ("Priya", "Arjun", "Sunita"):
        assert b.delta[name][0] == pytest.approx(delta[name], rel=1e-12)
        assert b.own[name][0] == pytest.approx(own[name], rel=1e-15)
        assert b.c[name] == pytest.approx(c[name], rel=1e-12)
        assert b.share[name] == pytest.approx(share[name], rel=1e-12)
        assert b.knockout[name] == pytest.approx(knockout[name], rel=1e-10)
    assert b.resp is None and b.responsibility is None  # no reference: no responsibility
    # the numbers the story and docs quote
    assert round(a_s, 2) == 0.42 and round(E, 6) == 0.116325
    assert round(delta["Priya"], 5) == -0.00777 and round(c["Priya"], 5) == -0.01166
    assert round(100 * share["Priya"], 1) == -7.1 and round(knockout["Priya"], 5) == -0.01705
    assert round(100 * share["Arjun"], 1) == 21.2 and round(knockout["Arjun"], 5) == 0.02895
    assert round(100 * share["Sunita"], 1) == 71.7 and round(knockout["Sunita"], 5) == 0.08776


def test_tutoring_chain_priya_earns_credit_not_blame(shipped):
    """Gradient x input keeps the sign: Priya's own part (1.5) pulls the error down, so
    her share is negative, and removing it really raises E (her knock-out is negative)."""
    run = Run(load_scenario(shipped["tutoring-chain"]))
    b = _numbers(run)
    assert b.delta["Priya"][0] < 0 and b.own["Priya"][0] > 0
    assert b.share["Priya"] < 0 and b.knockout["Priya"] < 0
    assert b.share["Arjun"] > 0 and b.share["Sunita"] > 0
    assert most_blamed(signed_shares(run.network, b.p)) == ("Sunita", 0)


def test_tutoring_chain_when_sunita_practises(shipped):
    """The story's "give Sunita a bias of 0": she adds nothing of her own, share 0."""
    run = Run(load_scenario(shipped["tutoring-chain"]))
    run.network.layer("Sunita").b[0, 0] = 0.0
    b = _numbers(run)
    E, _, _, _, c, share, knockout = _tutoring_blame(0.0)
    assert b.E == pytest.approx(E, rel=1e-13)
    assert b.share["Sunita"] == 0.0 and b.knockout["Sunita"] == 0.0
    for name in ("Priya", "Arjun"):
        assert b.share[name] == pytest.approx(share[name], rel=1e-12)
        assert b.knockout[name] == pytest.approx(knockout[name], rel=1e-10)
    assert round(100 * share["Priya"], 1) == -25.1 and round(E, 5) == 0.02857


def test_tutoring_chain_blame_is_the_product_of_links(shipped):
    run, p = _inspect(shipped["tutoring-chain"])
    net = run.network
    d = {name: p.delta[net.layer(name).index][0, 0] for name in ("Priya", "Arjun", "Sunita")}
    a = {name: p.a[net.layer(name).index][0, 0] for name in ("Priya", "Arjun", "Sunita")}
    # By hand from the weights in the file: w(Sunita, Arjun) = 1.2, w(Arjun, Priya) = 1.5.
    link_sunita_arjun = 1.2 * a["Arjun"] * (1 - a["Arjun"])
    link_arjun_priya = 1.5 * a["Priya"] * (1 - a["Priya"])
    assert d["Sunita"] == pytest.approx((a["Sunita"] - 0.9) * a["Sunita"] * (1 - a["Sunita"]))
    assert d["Arjun"] == pytest.approx(link_sunita_arjun * d["Sunita"])
    assert d["Priya"] == pytest.approx(link_arjun_priya * link_sunita_arjun * d["Sunita"])
    # The JSON shows those links.
    report = inspect_report(run)
    by_pair = {(c["from"], c["to"]): c for c in report["connections"]}
    assert by_pair[("Arjun", "Sunita")]["link"] == [[[pytest.approx(link_sunita_arjun)]]]
    assert by_pair[("Priya", "Arjun")]["link"] == [[[pytest.approx(link_arjun_priya)]]]
    assert by_pair[("syllabus", "Priya")]["link"] is None  # blame stops at the inputs
    assert report["layers"]["Sunita"]["delta"] == [[pytest.approx(d["Sunita"])]]
    assert report["reference"] is None and report["layers"]["Priya"]["responsibility"] is None


# --- Any network ---------------------------------------------------------------------------

def test_links_reproduce_every_delta(shipped):
    """delta_j = sum_k link_kj delta_k, on a network with a real hidden layer."""
    run, p = _inspect(shipped["xor"])
    net = run.network
    for unit in net.computed:
        if unit.is_output:
            continue
        total = sum(np.einsum("pkj,pk->pj", link_factors(p, link), p.delta[link.receiver.index])
                    for link in unit.outgoing)
        np.testing.assert_allclose(total, p.delta[unit.index], rtol=1e-12, atol=1e-15)


def test_contributions_of_a_linear_network_add_up_to_the_error_weighted_by_the_output(write_scenario):
    """Euler: for linear units, sum_j delta_j own_j = sum_p (y - t) y (sse), which is not E:
    so the first-order contributions do not add up to E, not even for a linear network."""
    path = write_scenario("""
        format = 1
        [scenario]
        title = "linear"
        [[layers]]
        name = "in"
        size = 3
        [[layers]]
        name = "a"
        size = 4
        activation = "linear"
        [[layers]]
        name = "b"
        size = 2
        activation = "linear"
        [[layers]]
        name = "out"
        size = 2
        activation = "linear"
        [[connections]]
        from = "in"
        to = "a"
        [[connections]]
        from = "a"
        to = "b"
        [[connections]]
        from = "b"
        to = "out"
        [[connections]]
        from = "in"
        to = "out"
        [data]
        inputs = [[1, 0.5, -1], [0.2, 0.3, 0.9]]
        targets = [[0.1, 0.2], [0.3, -0.4]]
        [training]
        weight_init = 1.0
    """)
    run, p = _inspect(path)
    net = run.network
    c = contributions(first_order(net, p))
    signed = sum(v.sum() for v in c.values())
    out = net.outputs[0]
    error = p.a[out.index] - run.t
    assert signed == pytest.approx((error * p.a[out.index]).sum(), rel=1e-12)
    assert signed != pytest.approx(p.E, rel=1e-3)


def test_share_sizes_add_up_to_one_or_are_all_zero(shipped, write_scenario):
    for name in ("xor", "tutoring-chain", "biscuit-factory-preservative"):
        run, p = _inspect(shipped[name])
        shares = signed_shares(run.network, p)
        c = contributions(first_order(run.network, p))
        assert sum(np.abs(s).sum() for s in shares.values()) == pytest.approx(1.0, rel=1e-14)
        for layer, s in shares.items():
            np.testing.assert_array_equal(np.sign(s), np.sign(c[layer]))  # the sign is kept
    # A perfect network: no error, no blame, and no division by zero.
    path = write_scenario("""
        format = 1
        [scenario]
        title = "perfect"
        [[layers]]
        name = "in"
        size = 1
        [[layers]]
        name = "out"
        size = 1
        activation = "linear"
        bias = [0.0]
        [[connections]]
        from = "in"
        to = "out"
        weights = [[2.0]]
        [data]
        inputs = [[1.0]]
        targets = [[2.0]]
    """)
    run, p = _inspect(path)
    shares = signed_shares(run.network, p)
    assert shares["out"].tolist() == [0.0]
    assert most_blamed(shares) is None


def test_most_blamed_is_the_largest_positive_share():
    assert most_blamed({"a": np.array([0.2, -0.5]), "b": np.array([0.3])}) == ("b", 0)
    assert most_blamed({"a": np.array([-0.6, -0.4])}) is None  # all credit: nobody to blame
    assert most_blamed({"a": np.array([np.nan, 0.1])}) == ("a", 1)


def test_json_share_is_the_signed_share(shipped):
    run, p = _inspect(shipped["xor"])
    shares = signed_shares(run.network, p)
    report = inspect_report(Run(load_scenario(shipped["xor"])))
    for name in ("hidden", "output"):
        assert report["layers"][name]["share"] == pytest.approx(shares[name].tolist())
        assert "blame" not in report["layers"][name]


def test_knockouts_in_chunks_are_the_same_as_at_once(shipped, monkeypatch):
    import bptui.core.blame as blame

    run = Run(load_scenario(shipped["xor"]))
    run.train_epoch()
    whole = knockouts(run.network, run.x, run.t)
    monkeypatch.setattr(blame, "CHUNK_VALUES", 1)  # one knocked-out copy of theta at a time
    assert {k: v.tolist() for k, v in knockouts(run.network, run.x, run.t).items()} == \
        {k: v.tolist() for k, v in whole.items()}


def test_knockouts_of_a_network_of_millions_of_weights_are_declined_not_attempted(tmp_path):
    """Issue 14: a network near the limits once asked for units x weights of memory
    (228 GiB); past the work limit there are no knock-outs, at once."""
    path = tmp_path / "big.toml"
    path.write_text("format = 1\n[scenario]\ntitle = 'big'\n"
                    "[[layers]]\nname = 'in'\nsize = 1500\n"
                    "[[layers]]\nname = 'hid'\nsize = 1500\nactivation = 'sigmoid'\n"
                    "[[layers]]\nname = 'out'\nsize = 2\nactivation = 'sigmoid'\n"
                    "[[connections]]\nfrom = 'in'\nto = 'hid'\n[[connections]]\nfrom = 'hid'\nto = 'out'\n"
                    f"[data]\ninputs = [[{', '.join(['0.5'] * 1500)}]]\ntargets = [[0.5, 0.5]]\n")
    run = Run(load_scenario(path))
    # Before: 1,510 copies of 2.26 million parameters, 27 GB, a MemoryError.
    assert knockouts(run.network, run.x, run.t) is None
