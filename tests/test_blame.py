"""The share of the blame (docs/blame.md) on the seed stories, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from bptui.core.blame import blame_shares, link_factors, own_input
from bptui.core.report import inspect_report
from bptui.core.scenario import load_scenario
from bptui.core.training import Run


def _inspect(path):
    run = Run(load_scenario(path))
    return run, run.inspect()


def test_biscuit_factory_blames_the_mixer(shipped):
    run, p = _inspect(shipped["biscuit-factory"])
    shares = blame_shares(run.network, p)
    assert shares["mixing"][0] == pytest.approx(1.0)
    for stage in ("baking", "packaging", "quality control"):
        assert shares[stage][0] == pytest.approx(0.0)
    # ...although every stage has the same blame signal: the salt passed through all.
    deltas = [p.delta[run.network.layer(s).index] for s in ("mixing", "baking", "packaging")]
    for d in deltas[1:]:
        np.testing.assert_allclose(d, deltas[0])
    # The error per batch is (2s - s) = s for recipe salt s; delta = s at every stage.
    np.testing.assert_allclose(deltas[0][:, 0], [0.5, 1.0, 2.0])


def test_preservative_splits_the_blame_as_the_chain_rule_says(shipped):
    run, p = _inspect(shipped["biscuit-factory-preservative"])
    shares = blame_shares(run.network, p)
    # By hand: saltiness y = 1.5 * s + 0.5 * dose; target s; error e = 0.5 s + 0.5.
    s = np.array([0.5, 1.0, 2.0])
    e = 0.5 * s + 0.5
    delta_packaging = e  # linear units: delta = error
    delta_mixing = 1.5 * e  # crosses the 1.5x amplification on the way back
    mixing = np.sum(np.abs(delta_mixing * s))  # own = 1.0 x salt (the scoop)
    packaging = np.sum(np.abs(delta_packaging * 0.5))  # own = 0.5 x dose
    assert shares["mixing"][0] == pytest.approx(mixing / (mixing + packaging))
    assert shares["packaging"][0] == pytest.approx(packaging / (mixing + packaging))
    assert shares["mixing"][0] == pytest.approx(0.8015, abs=1e-4)  # the story's 80%
    assert shares["baking"][0] == 0.0
    np.testing.assert_allclose(p.delta[run.network.layer("mixing").index][:, 0], delta_mixing)


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


def test_shares_are_exact_for_linear_networks(write_scenario):
    """Euler: for linear units, sum_j delta_j own_j = sum_p error x output (sse)."""
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
    signed = sum((p.delta[u.index] * own_input(p, u)).sum() for u in net.computed)
    out = net.outputs[0]
    error = p.a[out.index] - run.t
    assert signed == pytest.approx((error * p.a[out.index]).sum(), rel=1e-12)


def test_shares_add_up_to_one_or_are_all_zero(shipped, write_scenario):
    for name in ("xor", "tutoring-chain", "biscuit-factory-preservative"):
        run, p = _inspect(shipped[name])
        total = sum(s.sum() for s in blame_shares(run.network, p).values())
        assert total == pytest.approx(1.0)
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
    shares = blame_shares(run.network, p)
    assert shares["out"].tolist() == [0.0]


def test_json_blame_is_the_share(shipped):
    run, p = _inspect(shipped["xor"])
    shares = blame_shares(run.network, p)
    report = inspect_report(Run(load_scenario(shipped["xor"])))
    for name in ("hidden", "output"):
        assert report["layers"][name]["blame"] == pytest.approx(shares[name].tolist())
