"""Exact responsibility: each unit's share of E - E_ref, against a scenario's reference.

A scenario may say what "correct" is for some of its parameters (``[reference]``: the
fault-free scoop, a baking stage that does not double the salt). Then the question
"which stage put the excess error in, and how much of it?" has an exact answer: the
Shapley values of a game whose players are the units whose parameters differ from the
reference (a unit's parameters: its bias and its incoming weights). A coalition S of
them takes its current values; every other unit takes the reference; v(S) is the loss E
over the training patterns then. Unit j's responsibility is

    phi_j = sum over S without j of |S|! (n - |S| - 1)! / n! * (v(S + j) - v(S))

its marginal effect on E averaged over every order in which the faults could have been
brought in (Shapley, 1953). The values add up to v(all) - v(none) = E - E_ref for any
network, linear or not; two units whose faults play the same part get the same value; a
unit equal to its reference is no player and gets 0. Up to ``EXACT_PLAYERS`` players
every coalition is evaluated (2^n forward passes, stacked); beyond, the values are
estimated from random orders (Castro, Gomez and Tejada, 2009), with a standard error.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np

from bptui.core.blame import losses_at
from bptui.core.network import Network

EXACT_PLAYERS = 12
SAMPLED_ORDERS = 200  # random orders of the players for the estimate beyond EXACT_PLAYERS
SAMPLING_SEED = 1986  # the estimate is the same every time it is asked for
# Forward passes' worth of work (evaluations x patterns x units) the values may take,
# exact (2^n evaluations) or estimated: bounded for any file.
SAMPLING_LIMIT = 200_000_000


@dataclass(frozen=True)
class Responsibility:
    """Each unit's share of E - E_ref (layer name -> one value per unit, 0 for non-players)."""

    values: dict[str, np.ndarray]
    loss: float  # E at the current weights
    reference_loss: float  # E_ref: every player at its reference
    players: tuple[tuple[str, int], ...]  # (layer, unit) of the units that differ
    exact: bool
    standard_error: dict[str, np.ndarray] | None = None  # of each value, when estimated
    orders: int = 0  # random orders sampled, when estimated


def reference_theta(network: Network) -> np.ndarray | None:
    """theta with every parameter the scenario's reference names at its reference value
    (the others as they are now); None when the scenario has no reference."""
    reference = network.scenario.reference
    if reference is None:
        return None
    theta = network.theta.copy()
    weights, biases = network.views(theta)
    for name, values in reference.biases:
        biases[network.layer(name).index][...] = values
    links = {(link.sender.name, link.receiver.name): link.index for link in network.links}
    for sender, receiver, w in reference.weights:
        weights[links[sender, receiver]][...] = w
    return theta


def _players(network: Network, ref: np.ndarray) -> tuple[list[tuple[str, int]], np.ndarray]:
    """The units whose parameters differ from the reference, and for each place in theta
    the player it belongs to (-1: nobody's, or equal to its reference)."""
    owner = np.full(network.size, -1)
    index = network.views(np.arange(network.size))
    differs = network.theta != ref
    players = []
    for u in network.computed:
        for k in range(u.size):
            places = [index.weights[link.index][k].ravel() for link in u.incoming]
            if u.b is not None:
                places.append(index.biases[u.index][..., k].ravel())
            places = np.concatenate(places)
            places = places[differs[places]]
            if len(places):
                owner[places] = len(players)
                players.append((u.name, k))
    return players, owner


def responsibility(network: Network, x, t, care=None, margin: float = 0.0) -> Responsibility | None:
    """Each unit's responsibility for E - E_ref at the network's current weights; None when
    the scenario declares no reference or the values would be too much work."""
    ref = reference_theta(network)
    if ref is None:
        return None
    theta = network.theta
    players, owner = _players(network, ref)
    n = len(players)
    values = {u.name: np.zeros(u.size) for u in network.computed}
    owned = owner >= 0

    def evaluate(coalitions: np.ndarray) -> np.ndarray:
        """E for each coalition, given as a (count x n) boolean array: in it, the current value."""
        thetas = np.repeat(ref[None], len(coalitions), axis=0)
        current = np.zeros((len(coalitions), network.size), dtype=bool)
        current[:, owned] = coalitions[:, owner[owned]]
        thetas[current] = np.broadcast_to(theta, thetas.shape)[current]
        return losses_at(network, thetas, x, t, care, margin)

    per_pass = len(x) * sum(u.size for u in network.layers)
    if n <= EXACT_PLAYERS:
        if 2**n * per_pass > SAMPLING_LIMIT:
            return None
        masks = np.arange(2**n)
        bits = (masks[:, None] >> np.arange(n)[None, :]) & 1
        v = evaluate(bits.astype(bool))
        size = bits.sum(axis=1)
        weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)]) if n else np.zeros(0)
        with np.errstate(all="ignore"):
            for j, (name, k) in enumerate(players):
                without = masks[bits[:, j] == 0]
                values[name][k] = np.sum(weight[size[without]] * (v[without | (1 << j)] - v[without]))
        return Responsibility(values, float(v[-1]), float(v[0]), tuple(players), exact=True)

    if SAMPLED_ORDERS * (n + 1) * per_pass > SAMPLING_LIMIT:
        return None
    rng = np.random.default_rng(SAMPLING_SEED)
    marginal = np.zeros((SAMPLED_ORDERS, n))
    for r in range(SAMPLED_ORDERS):
        order = rng.permutation(n)
        # the prefixes of the order: none of the players, then one more each time
        coalitions = np.zeros((n + 1, n), dtype=bool)
        for step, j in enumerate(order, start=1):
            coalitions[step:, j] = True
        v = evaluate(coalitions)
        marginal[r, order] = np.diff(v)
    mean, error = marginal.mean(axis=0), marginal.std(axis=0, ddof=1) / np.sqrt(SAMPLED_ORDERS)
    errors = {u.name: np.zeros(u.size) for u in network.computed}
    for j, (name, k) in enumerate(players):
        values[name][k], errors[name][k] = mean[j], error[j]
    E, E_ref = losses_at(network, np.stack([theta, ref]), x, t, care, margin)
    return Responsibility(values, float(E), float(E_ref), tuple(players), exact=False,
                          standard_error=errors, orders=SAMPLED_ORDERS)
