"""Numbers outside the written derivation: forward passes at high precision,
finite differences, and the long training loop in numpy.

High precision (mpmath, ``PRECISION`` digits) is used wherever a number is
printed, so rounding to the printed digits is always right; float64 only for
the long training loop, where the source used it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import mpmath
import numpy as np

from .functions import ACTIVATIONS, LOSSES
from .network import Network
from .notation import Sym, compile_function

PRECISION = 50
_NET, _OUT, _TARGET = Sym("net", "net"), Sym("out", "out"), Sym("target", "target")


@cache
def activation_function(name: str, exp=mpmath.exp):
    """out = f(net), compiled from the same formula the document prints."""
    return compile_function(ACTIVATIONS[name].formula(_NET), ("net",), exp)


@cache
def activation_derivative(name: str, exp=mpmath.exp):
    """d out / d net as a function of (out, net), from the printed derivative."""
    return compile_function(ACTIVATIONS[name].derivative(_OUT, _NET), ("out", "net"), exp)


@cache
def loss_term(name: str, exp=mpmath.exp):
    return compile_function(LOSSES[name].term(_TARGET, _OUT), ("target", "out"), exp)


@cache
def loss_derivative(name: str, exp=mpmath.exp):
    return compile_function(LOSSES[name].derivative_steps(_TARGET, _OUT)[-1], ("target", "out"), exp)


def mp(value) -> mpmath.mpf:
    """An exact decimal parameter as a high-precision number."""
    return mpmath.mpf(str(value))


def forward_error(network: Network, parameters: dict[str, mpmath.mpf]) -> tuple[mpmath.mpf, list]:
    """E_total and the outputs for the given weights, biases and inputs (by key)."""
    outs = [parameters[n.out_key] for n in network.inputs]
    for layer in network.layers[1:]:
        f = activation_function(network.activation(layer[0]))
        outs = [
            f(mpmath.fsum([parameters[w.key] * outs[w.source.index] for w in network.incoming(n)]) + parameters[network.bias(n).key])
            for n in layer
        ]
    term = loss_term(network.spec.loss)
    targets = [parameters[f"target_{o.name}"] for o in network.outputs]
    return mpmath.fsum(term(t, out) for t, out in zip(targets, outs)), outs


def directional_difference(network: Network, parameters: dict, direction: dict[str, int]) -> mpmath.mpf:
    """The central difference of E_total along ``direction`` (key → coefficient).

    Equals Σ coefficient · ∂E_total/∂key up to O(h²); with a step of 1e-15 at
    50 digits that is far below any printed digit.
    """
    h = mpmath.mpf("1e-15")

    def shifted(sign: int) -> dict:
        moved = dict(parameters)
        for key, coefficient in direction.items():
            moved[key] = parameters[key] + sign * coefficient * h
        return moved

    return (forward_error(network, shifted(1))[0] - forward_error(network, shifted(-1))[0]) / (2 * h)


@dataclass(frozen=True)
class Training:
    """The state after ``iterations`` rounds of gradient descent (float64)."""

    iterations: int
    error: float
    outputs: tuple[float, ...]
    weights: tuple[float, ...]  # in weight-number order


def train(network: Network, iterations: int) -> Training:
    """Run ``iterations`` rounds of gradient descent on the one sample, in numpy.

    ``simultaneous``: every gradient from the weights before the round.
    ``sequential``: each layer's error signal passed down with the weights of
    the layer above already updated (the source's 10,000-round figures).
    """
    spec = network.spec
    weights = [np.array(matrix, dtype=np.float64) for matrix in spec.weights]
    biases = [
        np.full(width, float(values[0])) if shared else np.array(values, dtype=np.float64)
        for width, values, shared in zip(spec.layers[1:], spec.biases, spec.shared_biases)
    ]
    x = np.array(spec.inputs, dtype=np.float64)
    target = np.array(spec.targets, dtype=np.float64)
    rate = float(spec.learning_rate)
    act = [activation_function(name, np.exp) for name in spec.activations]
    dact = [activation_derivative(name, np.exp) for name in spec.activations]
    dloss = loss_derivative(spec.loss, np.exp)
    sequential = spec.update == "sequential"
    depth = len(weights)

    for _ in range(iterations):
        outs, nets = [x], []
        for W, b, f in zip(weights, biases, act):
            nets.append(W @ outs[-1] + b)
            outs.append(f(nets[-1]))
        delta = dloss(target, outs[-1]) * dact[-1](outs[-1], nets[-1])
        for l in range(depth - 1, -1, -1):
            gradient = np.outer(delta, outs[l])
            if l and not sequential:
                delta = (weights[l].T @ delta) * dact[l - 1](outs[l], nets[l - 1])
            weights[l] -= rate * gradient
            if l and sequential:
                delta = (weights[l].T @ delta) * dact[l - 1](outs[l], nets[l - 1])

    out = x
    for W, b, f in zip(weights, biases, act):
        out = f(W @ out + b)
    term = loss_term(spec.loss, np.exp)
    error = float(np.sum(term(target, out)))
    return Training(iterations, error, tuple(map(float, out)), tuple(float(v) for W in weights for v in W.ravel()))
