"""The long training loop as numpy matrix operations, for networks too large
for ``scalar_training``'s straight-line Python.

A module of its own so that numpy is imported only when a network needs it.
"""

from __future__ import annotations

import numpy as np

from .batches import batch_scale, first_round, round_batches
from .formulas import Sym, python
from .functions import PAIRINGS
from .network import Network
from .numeric import (
    Training,
    activation_derivative,
    activation_function,
    bias_values,
    history_rounds,
    loss_derivative,
    loss_term,
)
from .optimizers import STATE, Quantities, hyper_parameters, roles, rule


def _optimizer_update(optimizer, eta: float):
    """``update(p, g, state, t)``: the parameter array after one optimizer step from gradient ``g``.

    Compiled from the rule the document prints (``optimizers.rule``);
    ``state`` maps each state variable to its array and is updated in place.
    """
    sym = {name: Sym("", name) for name in ("p", "grad", "t", "eta")}
    defined = {role: Sym("", f"r_{role}") for role in roles(optimizer)}
    defined["new"] = Sym("", "r_new")
    hyper = {key: Sym("", f"h_{key}") for key in ("mu", "tau", "alpha", "beta1", "beta2", "epsilon", "lambda")}
    q = Quantities(sym["p"], sym["grad"], dict(defined), defined, sym["t"], sym["eta"], hyper)
    body = [f"    {role} = state[{role!r}]".replace(f"    {role}", f"    r_{role}", 1) for role in STATE[optimizer.name]]
    for (target, later), (_, first) in zip(rule(optimizer, q, first=False), rule(optimizer, q, first=True)):
        # torch.optim starts the momentum buffer at the first gradient
        value = python(later) if later == first else f"{python(first)} if t == 1 else {python(later)}"
        body.append(f"    {target.key} = {value}")
    body += [f"    state[{role!r}] = r_{role}" for role in STATE[optimizer.name]]
    source = "def update(p, grad, state, t):\n" + "\n".join(body) + "\n    return r_new\n"
    namespace = {"sqrt": np.sqrt, "eta": eta, **{f"h_{k}": float(v) for k, v in hyper_parameters(optimizer).items()}}
    exec(compile(source, "<optimizer step>", "exec"), namespace)
    return namespace["update"]


def _softmax(nets):
    exps = np.exp(nets - nets.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def _numpy_layer(name: str, slope):
    """The layer's activation on an array of net inputs, one row per sample."""
    return _softmax if name == "softmax" else activation_function(name, slope, "numpy")


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _numpy_output_signal(spec):
    """``signal(target, out, net)``: ∂E/∂net of every output neuron, one row per sample."""
    name, slope = spec.activations[-1], spec.slopes[-1]
    if (name, spec.loss) in PAIRINGS:
        return lambda target, out, net: out - target
    gradient = loss_derivative(spec.loss, spec.layers[-1], "numpy")
    if name == "softmax":
        def softmax_signal(target, out, net):
            g = gradient(target, out)
            return out * (g - (g * out).sum(axis=1, keepdims=True))

        return softmax_signal
    derivative = activation_derivative(name, slope, "numpy")
    return lambda target, out, net: gradient(target, out) * derivative(out, net)


@np.errstate(over="ignore", divide="ignore", invalid="ignore")  # saturated outputs, not errors
def train_numpy(network: Network, iterations: int) -> Training:
    """``train`` with one numpy matrix per layer and one row per sample."""
    spec = network.spec
    weights = [np.array(matrix, dtype=np.float64) for matrix in spec.weights]
    biases = [
        np.full(width, float(values[0])) if shared else np.array(values, dtype=np.float64)
        for width, values, shared in zip(spec.layers[1:], spec.biases, spec.shared_biases)
    ]
    inputs = np.array([s.inputs for s in spec.samples], dtype=np.float64)
    targets = np.array([s.targets for s in spec.samples], dtype=np.float64)
    eta = float(spec.learning_rate)
    layers = list(zip(spec.activations, spec.slopes))
    activations = [_numpy_layer(name, slope) for name, slope in layers]
    dact = [activation_derivative(name, slope, "numpy") for name, slope in layers[:-1]]
    output_signal = _numpy_output_signal(spec)
    sequential = spec.update == "sequential"
    train_biases = spec.train_biases
    depth = len(weights)
    optimizer = spec.optimizer
    plain = optimizer.plain
    if not plain:
        update = _optimizer_update(optimizer, eta)
        weight_state = [{role: np.zeros_like(W) for role in STATE[optimizer.name]} for W in weights]
        bias_state = [{role: np.zeros_like(b) for role in STATE[optimizer.name]} for b in biases]
        steps = [0]

    def forward(x):
        outs, nets = [x], []
        for W, b, activate in zip(weights, biases, activations):
            net = outs[-1] @ W.T + b
            nets.append(net)
            outs.append(activate(net))
        return outs, nets

    def step(x, target, scale):
        rate = eta * scale
        outs, nets = forward(x)
        delta = output_signal(target, outs[-1], nets[-1])
        if not plain:
            steps[0] += 1
        for l in range(depth - 1, -1, -1):
            gradient = delta.T @ outs[l]
            if train_biases:
                bias_gradient = delta.sum(axis=0)
            if l and not sequential:
                below = (delta @ weights[l]) * dact[l - 1](outs[l], nets[l - 1])
            if not plain:
                weights[l] = update(weights[l], scale * gradient, weight_state[l], float(steps[0]))
                if train_biases:
                    shared = bias_gradient.sum() if spec.shared_biases[l] else bias_gradient
                    biases[l] = update(biases[l], scale * shared, bias_state[l], float(steps[0]))
                if l:
                    delta = below
                continue
            weights[l] -= rate * gradient
            if train_biases:
                biases[l] -= rate * (bias_gradient.sum() if spec.shared_biases[l] else bias_gradient)
            if l and sequential:
                below = (delta @ weights[l]) * dact[l - 1](outs[l], nets[l - 1])
            if l:
                delta = below

    term = loss_term(spec.loss, spec.layers[-1], "numpy")
    output = spec.activations[-1], spec.loss

    def total_error() -> tuple[float, np.ndarray]:
        outs, nets = forward(inputs)
        out, net = outs[-1], nets[-1]
        # As scalar_training's error: log-softmax and softplus keep a large error finite.
        if output == ("softmax", "cross_entropy"):
            shifted = net - net.max(axis=1, keepdims=True)
            log_out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            errors = -(targets * log_out).sum(axis=1)
        elif output == ("sigmoid", "binary_cross_entropy"):
            errors = (targets * _softplus(-net) + (1 - targets) * _softplus(net)).sum(axis=1)
        else:
            errors = term(targets, out).sum(axis=1)
        return float(errors.mean() if spec.reduction == "mean" else errors.sum()), out

    def batch(indices):
        rows = list(indices)
        return inputs[rows], targets[rows], batch_scale(spec, len(rows))

    fixed = [batch(b) for b in first_round(spec)] if spec.shuffle_seed is None else None
    rounds = round_batches(spec)
    marks = iter(history_rounds(iterations))
    mark, history = next(marks, -1), []
    for k in range(iterations):
        if k == mark:  # the error of the weights after k rounds
            history.append((k, total_error()[0]))
            mark = next(marks, -1)
        for x, target, scale in fixed or [batch(b) for b in next(rounds)]:
            step(x, target, scale)

    error, out = total_error()
    if mark == iterations:
        history.append((iterations, error))
    return Training(iterations, error, tuple(tuple(map(float, row)) for row in out),
                    tuple(float(v) for W in weights for v in W.ravel()),
                    bias_values(network, biases), tuple(history))
