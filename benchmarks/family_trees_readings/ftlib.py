"""Family trees, the 1986 recipe: readings of the paper, trained vectorized over seeds
with bptui's own network (bptui.core.network.Network bound to a stack of runs).

Nothing here edits bptui: the variants (how the margin shapes the error, where the
decay goes, sum or mean, target encoding) are done in this file, around
Network.forward / Network.backward. The default Reading is bptui's own rule, and
check_equivalence() shows it gives the very numbers of bptui's Run.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from bptui.core.catalog import resolve
from bptui.core.network import Network
from bptui.core.scenario import load_scenario
from bptui.core.training import Run, init_weights, training_arrays



@dataclass(frozen=True)
class Reading:
    name: str = "bptui (as shipped)"
    # error at the outputs
    margin: float = 0.2
    margin_mode: str = "bptui"  # bptui: 0 inside the margin, full (a-t) outside; edge: (a - edge) outside, 0 inside
    targets: tuple = (0.0, 1.0)  # (off, on) targets the error is measured from
    mean: bool = False  # divide dE/dw by the number of training cases
    # weight decay
    decay: float = 0.002
    decay_mode: str = "mult"  # mult: w *= 1-d after each change (bptui); grad: eps*d*w inside dw (through momentum);
    # grad_nomom: w -= eps*d*w outside momentum; mom: dw includes -d*w (unscaled, through momentum);
    # mult_before: w *= 1-d then w += dw
    decay_biases: bool = True
    # schedule
    lr1: float = 0.005
    mom1: float = 0.5
    lr2: float = 0.01
    mom2: float = 0.9
    switch: int = 21  # first sweep of lr2/mom2
    # start
    init: float = 0.3
    bias_init: str = "same"  # same: uniform(-init, init) like the weights; zero
    sweeps: int = 1500
    update: str = "batch"  # batch | online (in order)
    biases: bool = True  # False: every bias fixed at 0 (no always-on unit)


@dataclass
class Result:
    reading: Reading
    seeds: list
    train: np.ndarray  # training cases right, per seed
    test: np.ndarray  # held-out cases right, per seed
    per_test: np.ndarray  # (seeds, 4) right or not
    first_all_train: np.ndarray  # first checked sweep with 100/100 (0: never)
    seconds: float
    final_E: np.ndarray = None
    argmax_test: np.ndarray = None  # held out right by the looser rule: the right unit is the most active

    def paper_match(self) -> int:
        return int(np.sum((self.train == self.n_train) & (self.test == self.per_test.shape[1])))

    @property
    def n_train(self):
        return 100

    def line(self) -> str:
        n = len(self.seeds)
        tr = self.train
        all100 = int(np.sum(tr == 100))
        return (f"{self.reading.name:58s} n={n:3d}  train median {np.median(tr):5.1f} (range {tr.min():3d}-{tr.max():3d}), "
                f"100/100 in {all100:3d}  held-out mean {self.test.mean():.2f}  paper-match (100+4/4) {self.paper_match():3d}  "
                f"[{self.seconds:.0f}s]")


def scenario():
    return load_scenario(resolve("family-trees-1986"))


def start_weights(s, net: Network, seeds, r: Reading) -> np.ndarray:
    sc = s
    if r.init != s.training.weight_init:
        sc = dataclasses.replace(s, training=dataclasses.replace(s.training, weight_init=r.init))
    theta = np.empty((len(seeds), net.size))
    for i, seed in enumerate(seeds):  # the very draws of bptui's init_weights
        init_weights(net, sc, seed)
        theta[i] = net.theta
    if r.bias_init == "zero" or not r.biases:
        for start, end in net._bias_spans.values():
            theta[:, start:end] = 0.0
    return theta


def output_error(a, t01, r: Reading):
    lo, hi = r.targets
    t = lo + (hi - lo) * t01
    err = a - t
    m = r.margin
    if m > 0:
        if r.margin_mode == "bptui":
            err = err * (np.abs(err) > m)
        elif r.margin_mode == "edge":  # target moved to the margin's edge; no error beyond it
            on = t01 > 0.5
            err = np.where(on, np.minimum(a - (t - m), 0.0), np.maximum(a - (t + m), 0.0))
        elif r.margin_mode == "case":  # a case with every output inside the margin has no error; else full (a-t)
            wrong = np.any(np.abs(err) > m, axis=-1, keepdims=True)
            err = err * wrong
        else:
            raise ValueError(r.margin_mode)
    E = 0.5 * np.einsum("...pk,...pk->...", err, err)
    delta = 1.0 - a  # bptui's Sigmoid.delta, in its order of operations: (1 - a) a err
    delta *= a
    delta *= err
    return E, delta


def gradient(net: Network, x, t01, r: Reading, n_cases: int):
    p = net.forward(x)
    out = net.outputs[0].index
    E, delta = output_error(p.a[out], t01, r)
    if r.mean:
        delta = delta / n_cases
    p.delta[out] = delta
    p.E = E
    net.backward(p)
    return p


def train(r: Reading, seeds, s=None, check_every: int = 10, keep=False):
    s = s or scenario()
    t0 = time.perf_counter()
    net = Network(s)
    n = len(seeds)
    theta = start_weights(s, net, seeds, r)
    grad = np.zeros((n, net.n_trainable))
    net.bind(theta, grad)
    x, t, _ = training_arrays(s, ~s.data.test)
    n_cases = len(x)
    tt = np.ascontiguousarray(np.broadcast_to(t, (n,) + t.shape))
    trainable = theta[:, : net.n_trainable]
    dw = np.zeros_like(grad)
    mask = np.ones(net.n_trainable)
    if not r.decay_biases:
        for start, end in net._bias_spans.values():
            mask[start:end] = 0.0
    learn = np.ones(net.n_trainable)
    if not r.biases:
        for start, end in net._bias_spans.values():
            learn[start:end] = 0.0
    all_x, all_t, test = s.data.inputs, s.data.targets, s.data.test
    first_all = np.zeros(n, dtype=np.int64)
    if r.update == "batch":
        changes = [(x, tt)]
    else:
        changes = [(x[k:k + 1], tt[:, k:k + 1]) for k in range(n_cases)]
    with np.errstate(all="ignore"):
        for sweep in range(1, r.sweeps + 1):
            lr, mom = (r.lr1, r.mom1) if sweep < r.switch else (r.lr2, r.mom2)
            d = r.decay
            for xc, tc in changes:
                gradient(net, xc, tc, r, n_cases)
                if not r.biases:
                    grad *= learn
                dm = d * mask if d else None
                if r.decay_mode == "mult" or d == 0:
                    dw *= mom
                    dw -= lr * grad
                    trainable += dw
                    if d:
                        trainable *= 1.0 - dm
                elif r.decay_mode == "mult_before":
                    dw *= mom
                    dw -= lr * grad
                    trainable *= 1.0 - dm
                    trainable += dw
                elif r.decay_mode == "grad":
                    dw *= mom
                    dw -= lr * (grad + dm * trainable)
                    trainable += dw
                elif r.decay_mode == "grad_nomom":
                    dw *= mom
                    dw -= lr * grad
                    trainable += dw - lr * dm * trainable
                elif r.decay_mode == "mom":
                    dw *= mom
                    dw -= lr * grad + dm * trainable
                    trainable += dw
                else:
                    raise ValueError(r.decay_mode)
            if sweep % check_every == 0:
                right = correct(net, x, t)
                done = right.sum(axis=1) == n_cases
                first_all[(first_all == 0) & done] = sweep
        p = net.forward(all_x)
        o = p.a[net.outputs[0].index]
        ok = np.all(np.abs(o - all_t) < 0.5, axis=-1)  # bptui's is_correct for sigmoid outputs
        argmax_ok = all_t[np.arange(len(all_t))[None, :], o.argmax(axis=-1)] == 1
        p2 = net.forward(x)
        E, _ = output_error(p2.a[net.outputs[0].index], tt, r)
    res = Result(r, list(seeds), ok[:, ~test].sum(axis=1), ok[:, test].sum(axis=1), ok[:, test], first_all,
                 time.perf_counter() - t0, final_E=E, argmax_test=argmax_ok[:, test].sum(axis=1))
    if keep:
        res.theta = theta.copy()
        res.net = net
    return res


def correct(net, x, t):
    o = net.forward(x).a[net.outputs[0].index]
    return np.all(np.abs(o - t) < 0.5, axis=-1)


def check_equivalence(seeds=(1, 2, 3), sweeps=60):
    """The default Reading against bptui's own Run: the same weights after ``sweeps``."""
    s = scenario()
    r = Reading(sweeps=sweeps)
    res = train(r, list(seeds), s, keep=True)
    worst = 0.0
    for i, seed in enumerate(seeds):
        run = Run(s, seed=seed, max_epochs=sweeps)
        run.train()
        worst = max(worst, float(np.abs(run.network.theta - res.theta[i]).max()))
    return worst
