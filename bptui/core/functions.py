"""Activation functions f and losses E, with the derivatives backprop needs.

Every function works on arrays shaped (..., patterns, units): the leading axes, if
any, stack independent runs (seeds) so one numpy call serves all of them.
"""

from __future__ import annotations

import numpy as np

# Constants of the hot functions as 0-d arrays: with an array, numpy takes one in about
# half the time of a Python float (0.2 against 0.4 us a call), and a small network's
# epoch makes a dozen such calls. Same numbers, same operations: the same bits.
_HALF, _ONE = np.array(0.5), np.array(1.0)


class Activation:
    name = ""
    elementwise = True

    def f(self, net: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def slope(self, net: np.ndarray, a: np.ndarray) -> np.ndarray:
        """f'(net), for elementwise functions."""
        raise NotImplementedError

    def delta(self, net: np.ndarray, a: np.ndarray, dE_da: np.ndarray) -> np.ndarray:
        """delta = dE/dnet from dE/da: f'(net) dE/da for elementwise functions."""
        return self.slope(net, a) * dE_da


class Sigmoid(Activation):
    name = "sigmoid"

    def f(self, net):
        # 1/(1+e^-x) written with tanh: exact to rounding and never overflows.
        a = net * _HALF
        np.tanh(a, out=a)
        a += _ONE
        a *= _HALF
        return a

    def slope(self, net, a):
        return a * (1.0 - a)

    def delta(self, net, a, dE_da):
        # slope(net, a) * dE_da in one array ((1 - a) a and a (1 - a) are the same bits)
        delta = _ONE - a
        delta *= a
        delta *= dE_da
        return delta


class Tanh(Activation):
    name = "tanh"

    def f(self, net):
        return np.tanh(net)

    def slope(self, net, a):
        return 1.0 - a * a


class Relu(Activation):
    name = "relu"

    def f(self, net):
        return np.maximum(net, 0.0)

    def slope(self, net, a):
        return (net > 0.0).astype(net.dtype)


class Linear(Activation):
    name = "linear"

    def f(self, net):
        return net.copy()

    def slope(self, net, a):
        return np.ones_like(net)

    def delta(self, net, a, dE_da):
        return dE_da.copy()


class Softmax(Activation):
    name = "softmax"
    elementwise = False

    def f(self, net):
        e = np.exp(net - net.max(axis=-1, keepdims=True))
        e /= e.sum(axis=-1, keepdims=True)
        return e

    def delta(self, net, a, dE_da):
        # The Jacobian of softmax applied to dE/da: a_i (g_i - sum_k g_k a_k).
        return a * (dE_da - (dE_da * a).sum(axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {cls.name: cls() for cls in (Sigmoid, Tanh, Relu, Linear, Softmax)}


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def output_error(loss: str, f: Activation, net, a, t, care, margin: float):
    """E summed over patterns and units (per run), and delta = dE/dnet of an output layer.

    ``t`` has don't-care targets replaced by 0 and ``care`` is 0 there (None when every
    target counts). An output within ``margin`` of its target has no error.
    """
    err = a - t
    mask = care
    if margin > 0.0:
        outside = np.abs(err) > margin
        mask = outside if mask is None else mask * outside
    if loss == "sse":
        if mask is not None:
            err = err * mask
        # 0.5 a float: one run's E is a numpy scalar, which a float multiplies in 40 ns, a 0-d array in 300
        E = 0.5 * np.einsum("...pk,...pk->...", err, err)
        return E, f.delta(net, a, err)
    if f.name == "sigmoid":
        # -[t log a + (1-t) log(1-a)] from net, so saturated units give finite numbers.
        per = t * softplus(-net) + (1.0 - t) * softplus(net)
        if mask is not None:
            per = per * mask
            err = err * mask
        return per.sum(axis=(-2, -1)), err
    # softmax: E = -sum t log a; delta = a sum(t) - t, which is a - t when t sums to 1.
    tt = t if mask is None else t * mask
    log_a = net - net.max(axis=-1, keepdims=True)
    log_a -= np.log(np.exp(log_a).sum(axis=-1, keepdims=True))
    E = -np.einsum("...pk,...pk->...", tt, log_a)
    return E, a * tt.sum(axis=-1, keepdims=True) - tt
