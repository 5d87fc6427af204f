"""What a hidden unit came to mean: read from its incoming weights and its activations.

The 1986 paper's claim is that hidden units learn features nobody designed. Three
readings make that visible without a human staring at numbers:

- **feature match**: a layer may name properties of its units (``features`` in the
  scenario: each person's generation, say). A hidden unit whose weights from that
  layer rise and fall with a property has come to encode it; the Pearson correlation
  r between the weights and the property says how closely (|r| near 1: closely).
- **code**: each pattern's hidden activations read as bits (on at 0.5 or above), as
  the 8-3-8 encoder's units come to form a binary code of the 8 patterns.
- **ratios**: a unit's weights divided by the smallest of them in size, so the
  symmetry detector's mirror weights read as 1 : 2 : 4 with opposite signs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MATCH = 0.5  # |r| below this is no match worth naming


@dataclass(frozen=True)
class Match:
    feature: str
    r: float  # Pearson correlation of the unit's weights with the feature


def feature_matches(w: np.ndarray, features) -> list[Match]:
    """For one unit's weights ``w`` from a layer with ``features`` ((name, values) pairs),
    every feature's correlation, closest first. A feature (or weights) that does not
    vary has no correlation and is left out."""
    matches = []
    w = np.asarray(w, dtype=np.float64)
    for name, values in features:
        v = np.asarray(values, dtype=np.float64)
        dw, dv = w - w.mean(), v - v.mean()
        norm = float(np.sqrt((dw * dw).sum() * (dv * dv).sum()))
        if norm > 0 and np.isfinite(norm):
            matches.append(Match(name, float((dw * dv).sum() / norm)))
    return sorted(matches, key=lambda m: -abs(m.r))


def best_match(w: np.ndarray, features) -> Match | None:
    """The feature the weights follow most closely, if closely enough (|r| >= MATCH)."""
    matches = feature_matches(w, features)
    return matches[0] if matches and abs(matches[0].r) >= MATCH else None


def codes(a: np.ndarray) -> list[str]:
    """Each pattern's activations (patterns x units) as a string of bits: 1 when on (>= 0.5)."""
    return ["".join("1" if x >= 0.5 else "0" for x in row) for row in np.asarray(a)]


def ratios(w: np.ndarray) -> np.ndarray:
    """The weights in units of the smallest nonzero one in size (sign kept)."""
    w = np.asarray(w, dtype=np.float64)
    size = np.abs(w[np.isfinite(w) & (w != 0)])
    return w / size.min() if size.size else np.zeros_like(w)


def representations(scenario, network, p) -> dict:
    """The JSON form, per hidden layer: each unit's feature matches (for every incoming
    layer that names features) and each training pattern's code."""
    out = {}
    for unit in network.computed:
        if unit.is_output:
            continue
        layer = {"codes": codes(p.a[unit.index]), "units": {}}
        for link in unit.incoming:
            features = scenario.layer(link.sender.name).features
            if not features:
                continue
            for j, name in enumerate(unit.units):
                layer["units"].setdefault(name, {})[link.sender.name] = [
                    {"feature": m.feature, "r": m.r} for m in feature_matches(link.w[j], features)]
        out[unit.name] = layer
    return out
