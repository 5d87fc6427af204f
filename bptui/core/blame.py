"""Blame: the numbers that say which unit put the error in, and the links it crosses back.

The definitions, their reasons and their limits are in ``docs/blame.md``; in short, for
every non-input unit j, with E the loss over the training patterns:

    own_j    = b_j + sum over input units i of w_ji x_i     (what unit j adds itself)
    c_j      = sum over patterns of delta_j * own_j          (gradient x input)
    share_j  = c_j / sum over all non-input units k of |c_k|
    knockout_j = E - E(with unit j's own part set to 0)

c_j is the first-order estimate of knockout_j (E is a function of own_j through net_j,
and dE/dnet_j = delta_j), so the two side by side show where first order holds. A
positive value is blame (the unit's own part pushes the error up), a negative one credit.
Patterns combine by a plain sum, so that c_j estimates what removing the unit's own
part does to E itself; ``first_order`` keeps each pattern's term, so a view can show
where patterns disagree (blame on some, credit on others) and the sum hides it.

The exact responsibility against a scenario's reference values is in
``bptui/core/responsibility.py``.

The link from unit k back to unit j is the factor the blame signal is multiplied by
on that step back: link_kj = w_kj f'(net_j), so delta_j = sum_k link_kj delta_k, and
along a chain each delta is the product of the links back to it.
"""

from __future__ import annotations

import numpy as np

from bptui.core.network import LayerPlan, Link, Network, Pass

# The most numbers (runs x patterns x units) one stacked forward pass of ``losses_at``
# holds; larger stacks go in chunks, so memory stays bounded whatever the network.
CHUNK_VALUES = 4_000_000
# Knock-outs are computed for at most this much work (units knocked out x patterns x
# units): a few forward passes' worth for any shipped scenario, and bounded for any file.
KNOCKOUT_LIMIT = 50_000_000
# ...and at most this many multiply-adds (units knocked out x patterns x weights): the
# digits take 1.5e8; a network of millions of weights would take minutes.
KNOCKOUT_WEIGHT_LIMIT = 1_000_000_000
# ...and at most this many parameters copied (units knocked out x parameters, one copy of
# theta a unit): the digits copy 1e5; a 600-500-20 network, 520 units of 310,000, took
# 3 to 10 s a snapshot, so a step of the app waited that long (issue 14).
KNOCKOUT_COPY_LIMIT = 20_000_000


def own_input(p: Pass, unit: LayerPlan) -> np.ndarray:
    """own_j per pattern: the unit's bias plus what it takes straight from the input layers."""
    own = np.zeros_like(p.net[unit.index])
    if unit.b is not None:
        own += unit.b
    for link in unit.incoming:
        if link.sender.is_input:
            own += p.a[link.sender.index] @ link.w.swapaxes(-1, -2)
    return own


def first_order(network: Network, p: Pass) -> dict[str, np.ndarray]:
    """delta_j * own_j per pattern (patterns x units) for every non-input layer: the
    first-order change of E that unit j's own part makes on that pattern."""
    return {u.name: p.delta[u.index] * own_input(p, u) for u in network.computed}


def contributions(terms: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """c_j: each unit's terms summed over the patterns."""
    return {name: t.sum(axis=-2) for name, t in terms.items()}


def signed_shares(network: Network, p: Pass) -> dict[str, np.ndarray]:
    """share_j = c_j / sum_k |c_k| for every unit of every non-input layer: signed (blame
    above 0, credit below), their sizes add up to 1 (or all are 0 when no unit's own part
    moves the error)."""
    return shares_of(contributions(first_order(network, p)))


def shares_of(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The signed shares of the contributions c (see ``signed_shares``)."""
    total = sum(np.abs(v).sum(axis=-1) for v in c.values())
    if np.ndim(total) == 0:
        if total == 0 or not np.isfinite(total):
            return {name: np.zeros_like(v) for name, v in c.items()}
        return {name: v / total for name, v in c.items()}
    safe = np.where(total > 0, total, 1.0)[..., None]
    return {name: v / safe for name, v in c.items()}


def most_blamed(shares: dict[str, np.ndarray]) -> tuple[str, int] | None:
    """The unit with the largest share of blame, as (layer name, unit index); None when no
    unit carries any blame (all credit, or none, or not finite numbers)."""
    best, where = 0.0, None
    for name, share in shares.items():
        for k, value in enumerate(np.ravel(share)):
            if np.isfinite(value) and value > best:
                best, where = float(value), (name, k)
    return where


def link_factors(p: Pass, link: Link) -> np.ndarray | None:
    """link_kj = w_kj f'(net_j) per pattern (patterns x receiving x sending).

    None when the sender is an input layer (blame stops there) or a softmax layer (whose
    units' slopes are coupled, so there is no single factor per link).
    """
    sender = link.sender
    if sender.is_input or not sender.f.elementwise:
        return None
    slope = sender.f.slope(p.net[sender.index], p.a[sender.index])
    return link.w[..., None, :, :] * slope[..., :, None, :]


def losses_at(network: Network, thetas: np.ndarray, x, t, care=None, margin: float = 0.0) -> np.ndarray:
    """E over the patterns x for each row of ``thetas`` (runs x parameters, laid out like
    ``network.theta``): forward passes of one stacked copy of the network, in chunks."""
    thetas = np.asarray(thetas, dtype=np.float64)
    # A stacked run holds its activations and its own copy of every parameter.
    per_run = max(1, len(x) * sum(u.size for u in network.layers)) + network.size
    chunk = max(1, CHUNK_VALUES // per_run)
    out = np.empty(len(thetas))
    stacked: Network | None = None
    with np.errstate(all="ignore"):  # a knocked-out or reference network may overflow: E is inf
        for start in range(0, len(thetas), chunk):
            part = np.ascontiguousarray(thetas[start:start + chunk])
            if stacked is None or stacked.runs != part.shape[:1]:
                stacked = Network(network.scenario, runs=part.shape[:1])
            stacked.bind(part, np.zeros(part.shape[:1] + (stacked.n_trainable,)))
            q = stacked.forward(x)
            stacked.output_error(q, t, care, margin)
            out[start:start + len(part)] = q.E
    return out


def own_parameters(network: Network, unit: LayerPlan, k: int, index=None) -> np.ndarray:
    """The places in theta of unit k's own part: its bias and its weights from the input layers.
    ``index``: network.views(np.arange(network.size)), when the caller asks for many units."""
    if index is None:
        index = network.views(np.arange(network.size))
    places = []
    if unit.b is not None:
        places.append(index.biases[unit.index][..., k].ravel())
    for link in unit.incoming:
        if link.sender.is_input:
            places.append(index.weights[link.index][k].ravel())
    return np.concatenate(places) if places else np.zeros(0, dtype=np.int64)


def knockouts(network: Network, x, t, care=None, margin: float = 0.0) -> dict[str, np.ndarray] | None:
    """knockout_j = E - E(unit j's bias and weights from the inputs set to 0), for every unit
    of every non-input layer, at the network's current weights (a single run). 0 for a unit
    with no own part. None when the work would pass one of the KNOCKOUT_ limits."""
    owners = [u for u in network.computed
              if u.b is not None or any(link.sender.is_input and link.w.size for link in u.incoming)]
    count = sum(u.size for u in owners)  # the units knocked out: those with an own part
    per_pass = len(x) * sum(u.size for u in network.layers)
    if (count * per_pass > KNOCKOUT_LIMIT or count * len(x) * network.size > KNOCKOUT_WEIGHT_LIMIT
            or count * network.size > KNOCKOUT_COPY_LIMIT):
        return None
    index = network.views(np.arange(network.size))
    units = [(u, k, own_parameters(network, u, k, index)) for u in owners for k in range(u.size)]
    theta = network.theta
    E = losses_at(network, theta[None], x, t, care, margin)[0]
    # The knocked-out copies of theta a chunk at a time: all of them at once would be
    # units x parameters, gigabytes for a network of a million weights.
    chunk = max(1, CHUNK_VALUES // (per_pass + network.size))
    without = np.empty(len(units))
    for start in range(0, len(units), chunk):
        part = units[start:start + chunk]
        thetas = np.repeat(theta[None], len(part), axis=0)
        for row, (_, _, places) in enumerate(part):
            thetas[row, places] = 0.0
        without[start:start + len(part)] = losses_at(network, thetas, x, t, care, margin)
    result = {u.name: np.zeros(u.size) for u in network.computed}
    with np.errstate(all="ignore"):
        for (u, k, _), E_without in zip(units, without):
            result[u.name][k] = E - E_without
    return result


def percent(share: float, digits: int | None = None) -> str:
    """A signed share as a percentage with its sign, so it reads without colour: +86%,
    -7.1%, 0% (exactly none). ``digits`` None: one decimal below 10%, where whole
    percents would round a share of a few percent away."""
    if not np.isfinite(share):
        return "nan" if np.isnan(share) else ("+inf" if share > 0 else "-inf")
    if share == 0:
        return "0%"
    if digits is None:
        digits = 1 if abs(share) < 0.095 else 0
    return f"{share:+.{digits}%}"
