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

A shared weight or bias (``share``, ``bias_share``) is one parameter that several units
use, and in a game each parameter has one player: it is played by the first unit that
uses it in the network's topological order (the one nearest the inputs), and the loader
makes references named through different members of a group agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np

from bptui.core.blame import CHUNK_VALUES, losses_at
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


def players(network: Network, ref: np.ndarray) -> tuple[list[tuple[str, int]], np.ndarray]:
    """The units whose parameters differ from the reference, and for each place in theta
    the player it belongs to (-1: nobody's, or equal to its reference). A shared place
    belongs to the first unit, in topological order, that uses it."""
    owner = np.full(network.size, -1)
    index = network.views(np.arange(network.size))
    differs = network.theta != ref
    found = []
    for u in network.computed:
        for k in range(u.size):
            places = [index.weights[link.index][k].ravel() for link in u.incoming]
            if u.b is not None:
                places.append(index.biases[u.index][..., k].ravel())
            places = np.concatenate(places)
            places = places[differs[places] & (owner[places] < 0)]  # a shared place has one player
            if len(places):
                owner[places] = len(found)
                found.append((u.name, k))
    return found, owner


def every_coalition(n: int) -> np.ndarray:
    """All 2^n coalitions of n players (2^n x n, True: in it); row m is the bit mask m."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def coalition_losses(network: Network, ref: np.ndarray, owner: np.ndarray, coalitions: np.ndarray,
                     x, t, care=None, margin: float = 0.0) -> np.ndarray:
    """v(S): E for each coalition (count x players, True: the player's current values, else
    the reference's), in stacked forward passes. The stacks of parameters are built a
    chunk at a time, so memory stays bounded however many parameters the network has."""
    owned = np.flatnonzero(owner >= 0)
    current_values = network.theta[owned]
    chunk = max(1, CHUNK_VALUES // network.size)
    v = np.empty(len(coalitions))
    for start in range(0, len(coalitions), chunk):
        part = coalitions[start:start + chunk]
        thetas = np.repeat(ref[None], len(part), axis=0)
        thetas[:, owned] = np.where(part[:, owner[owned]], current_values, ref[owned])
        v[start:start + len(part)] = losses_at(network, thetas, x, t, care, margin)
    return v


def shapley(v: np.ndarray, n: int) -> np.ndarray:
    """Each of n players' Shapley value from v over ``every_coalition(n)``, in that order."""
    masks = np.arange(2**n)
    size = every_coalition(n).sum(axis=1)
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    values = np.zeros(n)
    with np.errstate(all="ignore"):
        for j in range(n):
            without = masks[(masks >> j) & 1 == 0]
            values[j] = np.sum(weight[size[without]] * (v[without | (1 << j)] - v[without]))
    return values


def responsibility(network: Network, x, t, care=None, margin: float = 0.0) -> Responsibility | None:
    """Each unit's responsibility for E - E_ref at the network's current weights; None when
    the scenario declares no reference or the values would be too much work."""
    ref = reference_theta(network)
    if ref is None:
        return None
    found, owner = players(network, ref)
    n = len(found)
    values = {u.name: np.zeros(u.size) for u in network.computed}
    per_pass = len(x) * sum(u.size for u in network.layers)
    if n <= EXACT_PLAYERS:
        if 2**n * per_pass > SAMPLING_LIMIT:
            return None
        v = coalition_losses(network, ref, owner, every_coalition(n), x, t, care, margin)
        for (name, k), value in zip(found, shapley(v, n)):
            values[name][k] = value
        return Responsibility(values, float(v[-1]), float(v[0]), tuple(found), exact=True)

    if SAMPLED_ORDERS * (n + 1) * per_pass > SAMPLING_LIMIT:
        return None
    rng = np.random.default_rng(SAMPLING_SEED)
    orders = np.array([rng.permutation(n) for _ in range(SAMPLED_ORDERS)])
    # each order's prefixes: none of the players, then one more each time
    coalitions = np.zeros((SAMPLED_ORDERS, n + 1, n), dtype=bool)
    for r, order in enumerate(orders):
        for step, j in enumerate(order, start=1):
            coalitions[r, step:, j] = True
    v = coalition_losses(network, ref, owner, coalitions.reshape(-1, n), x, t, care, margin)
    marginal = np.zeros((SAMPLED_ORDERS, n))
    np.put_along_axis(marginal, orders, np.diff(v.reshape(SAMPLED_ORDERS, n + 1), axis=1), axis=1)
    mean, error = marginal.mean(axis=0), marginal.std(axis=0, ddof=1) / np.sqrt(SAMPLED_ORDERS)
    errors = {u.name: np.zeros(u.size) for u in network.computed}
    for j, (name, k) in enumerate(found):
        values[name][k], errors[name][k] = mean[j], error[j]
    E, E_ref = losses_at(network, np.stack([network.theta, ref]), x, t, care, margin)
    return Responsibility(values, float(E), float(E_ref), tuple(found), exact=False,
                          standard_error=errors, orders=SAMPLED_ORDERS)
