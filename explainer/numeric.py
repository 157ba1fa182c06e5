"""Numbers outside the written derivation: forward passes at high precision,
finite differences, and the long training loop in numpy.

High precision (mpmath, ``PRECISION`` digits) is used wherever a number is
printed, so rounding to the printed digits is always right; float64 only for
the long training loop, where the source used it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import mpmath
import numpy as np

from .functions import ACTIVATIONS, LOSSES
from .network import Network
from .notation import Mul, Sym, compile_function, python

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
    history: tuple[tuple[int, float], ...] = ()  # (k, E_total after k rounds) at the rounds of ``history_rounds``


# The loss curve needs the error at a few hundred rounds, not at every one:
# beyond this many rounds they are spaced evenly on a logarithmic scale.
HISTORY_POINTS = 200


def history_rounds(iterations: int) -> tuple[int, ...]:
    """The rounds k (1 … iterations) after which the training records E_total.

    Every round up to ``HISTORY_POINTS``; beyond, about that many spaced evenly
    in log k, always with the first and the last.
    """
    if iterations <= HISTORY_POINTS:
        return tuple(range(1, iterations + 1))
    top = math.log(iterations)
    rounds = {round(math.exp(top * i / (HISTORY_POINTS - 1))) for i in range(HISTORY_POINTS)}
    return tuple(sorted(rounds | {1, iterations}))


# Up to this many weights one round is generated as straight-line Python on
# floats: for small networks numpy's per-call overhead costs more than the
# arithmetic itself.  Larger networks run as matrix operations in numpy.
SCALAR_LIMIT = 64


def train(network: Network, iterations: int) -> Training:
    """Run ``iterations`` rounds of gradient descent on the one sample (float64).

    ``simultaneous``: every gradient from the weights before the round.
    ``sequential``: each layer's error signal passed down with the weights of
    the layer above already updated (the source's 10,000-round figures).
    """
    if len(network.weights) <= SCALAR_LIMIT:
        return train_scalar(network, iterations)
    return train_numpy(network, iterations)


@np.errstate(over="ignore")  # e^x overflowing to inf is a saturated sigmoid, not an error
def train_numpy(network: Network, iterations: int) -> Training:
    """``train`` with one numpy matrix per layer."""
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
    term = loss_term(spec.loss, np.exp)
    sequential = spec.update == "sequential"
    depth = len(weights)
    marks = iter(history_rounds(iterations))
    mark, history = next(marks, -1), []
    for k in range(iterations):
        outs, nets = [x], []
        for W, b, f in zip(weights, biases, act):
            nets.append(W @ outs[-1] + b)
            outs.append(f(nets[-1]))
        if k == mark:  # the outputs of the weights after k rounds
            history.append((k, float(np.sum(term(target, outs[-1])))))
            mark = next(marks, -1)
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
    error = float(np.sum(term(target, out)))
    if mark == iterations:
        history.append((iterations, error))
    weights = tuple(float(v) for W in weights for v in W.ravel())
    return Training(iterations, error, tuple(map(float, out)), weights, tuple(history))


def train_scalar(network: Network, iterations: int) -> Training:
    """``train`` as generated straight-line Python, one float variable per quantity."""
    source = scalar_training_source(network)
    namespace = {"exp": _float_exp}
    exec(compile(source, "<training round>", "exec"), namespace)
    parameters = (float(v) for v in network.parameter_values().values())
    result, history = namespace["run"](iterations, history_rounds(iterations), *parameters)
    n_out = len(network.outputs)
    weights, outputs, error = result[: len(network.weights)], result[-1 - n_out : -1], result[-1]
    return Training(iterations, error, tuple(outputs), tuple(weights), tuple(history))


def _float_exp(x: float) -> float:
    """e^x as numpy has it: infinity past the largest double, so a saturated sigmoid gives 0, not an error."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def scalar_training_source(network: Network) -> str:
    """Python source of ``run(iterations, marks, *parameters)``: the rounds, then the final forward pass.

    It returns the final weights, outputs and error, and the history: E_total
    after each round k in ``marks`` (increasing), computed from the forward
    pass the round starts with.

    The formulas are the document's own (activation, loss and their
    derivatives), printed as Python; variables are the quantities' keys.
    """
    spec = network.spec
    var = {key: f"v{i}" for i, key in enumerate(network.parameter_values())}

    def name(key: str) -> str:
        return var.setdefault(key, f"v{len(var)}")

    def formula(node_function, *keys) -> str:
        return python(node_function(*(Sym("", name(k)) for k in keys)))

    forward = []
    for layer in network.layers[1:]:
        activation = ACTIVATIONS[network.activation(layer[0])]
        for n in layer:
            terms = [f"{name(w.key)} * {name(w.source.out_key)}" for w in network.incoming(n)]
            forward.append(f"{name(n.net_key)} = {' + '.join(terms)} + {name(network.bias(n).key)}")
            forward.append(f"{name(n.out_key)} = {formula(activation.formula, n.net_key)}")

    loss = LOSSES[spec.loss]
    backward, updates = [], []
    for n in network.outputs:
        activation = ACTIVATIONS[network.activation(n)]
        backward.append(
            f"{name('d_' + n.name)} = {python(Mul((loss.derivative_steps(Sym('', name('target_' + n.name)), Sym('', name(n.out_key)))[-1], activation.derivative(Sym('', name(n.out_key)), Sym('', name(n.net_key))))))}"
        )
    sequential = spec.update == "sequential"
    for layer in reversed(network.layers[:-1]):
        layer_updates = []
        for w in (w for n in layer for w in network.outgoing(n)):
            layer_updates.append(f"{name(w.key)} = {name(w.key)} - {name('eta')} * {name('d_' + w.target.name)} * {name(w.source.out_key)}")
        if layer[0].layer == 0:
            updates.extend(layer_updates)
            break
        if sequential:
            backward.extend(layer_updates)
        else:
            updates.extend(layer_updates)
        for n in layer:
            activation = ACTIVATIONS[network.activation(n)]
            signal = " + ".join(f"{name('d_' + w.target.name)} * {name(w.key)}" for w in network.outgoing(n))
            backward.append(f"{name('d_' + n.name)} = ({signal}) * {formula(activation.derivative, n.out_key, n.net_key)}")

    error = " + ".join(formula(loss.term, "target_" + o.name, o.out_key) for o in network.outputs)
    results = [name(w.key) for w in network.weights] + [name(o.out_key) for o in network.outputs]
    parameters = list(network.parameter_values())
    record = [f"if k == mark:", f"    history.append((k, {error}))", "    mark = next(marks, -1)"]
    body = "\n".join(f"        {line}" for line in forward + record + backward + updates)
    final = "\n".join(f"    {line}" for line in forward)
    return (
        f"def run(iterations, marks, {', '.join(var[k] for k in parameters)}):\n"
        f"    marks = iter(marks)\n"
        f"    mark, history = next(marks, -1), []\n"
        f"    for k in range(iterations):\n{body}\n"
        f"{final}\n"
        f"    error = {error}\n"
        f"    if mark == iterations:\n"
        f"        history.append((iterations, error))\n"
        f"    return ({', '.join(results)}, error), history\n"
    )
