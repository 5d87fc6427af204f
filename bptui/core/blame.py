"""Blame: each unit's share of the error, and the links the blame signal crosses.

The definition, its reasons and its limits are in ``docs/blame.md``; in short:

    own_j   = b_j + sum over input units i of w_ji x_i      (what unit j adds itself)
    blame_j = sum over patterns of |delta_j * own_j|         (first-order effect on E)
    share_j = blame_j / sum over all non-input units k of blame_k

A unit that only passes on what it receives adds nothing of its own and so takes no
share, however large its delta; the blame lands where the error entered the network.

The link from unit k back to unit j is the factor the blame signal is multiplied by
on that step back: link_kj = w_kj f'(net_j), so delta_j = sum_k link_kj delta_k, and
along a chain each delta is the product of the links back to it.
"""

from __future__ import annotations

import numpy as np

from bptui.core.network import LayerPlan, Link, Network, Pass


def own_input(p: Pass, unit: LayerPlan) -> np.ndarray:
    """own_j per pattern: the unit's bias plus what it takes straight from the input layers."""
    own = np.zeros_like(p.net[unit.index])
    if unit.b is not None:
        own += unit.b
    for link in unit.incoming:
        if link.sender.is_input:
            own += p.a[link.sender.index] @ link.w.swapaxes(-1, -2)
    return own


def blame_shares(network: Network, p: Pass) -> dict[str, np.ndarray]:
    """share_j for every unit of every non-input layer; shares add up to 1 (or are all 0)."""
    blame = {u.name: np.abs(p.delta[u.index] * own_input(p, u)).sum(axis=-2)
             for u in network.computed}
    total = sum(b.sum(axis=-1) for b in blame.values())
    if np.ndim(total) == 0:
        if total == 0 or not np.isfinite(total):
            return {name: np.zeros_like(b) for name, b in blame.items()}
        return {name: b / total for name, b in blame.items()}
    safe = np.where(total > 0, total, 1.0)[..., None]
    return {name: b / safe for name, b in blame.items()}


def most_blamed(shares: dict[str, np.ndarray]) -> tuple[str, int] | None:
    """The unit with the largest share, as (layer name, unit index); None when no unit
    carries any blame (or the shares are not finite numbers)."""
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
