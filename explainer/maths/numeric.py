"""Numbers outside the written derivation: forward passes at high precision,
finite differences, and the long training loop in float64.

High precision (mpmath, ``PRECISION`` digits) is used wherever a number is
printed, so rounding to the printed digits is always right; float64 only for
the long training loop, where the source used it too.

The formulas are the document's own (``explainer.functions``), compiled for
three libraries of elementary functions: mpmath numbers, Python floats and
numpy arrays (``explainer.numpy_training``, imported only for networks too
large for straight-line Python).  Two exceptions keep float64 finite where
the printed formula would overflow: softmax is computed with its largest net
input subtracted first, and an activation may give a float form of itself
(softplus).  Pairs
of output activation and loss with a simple error signal (softmax with
cross-entropy: out - target) use it, which also avoids 0/0 where an output
saturates.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from functools import cache

import mpmath
from mpmath.libmp import mpf_mul, mpf_sum

from .formulas import Sym, compile_function
from .formulas import _number as number
from .functions import LOSSES, activation
from .network import Network

PRECISION = 50
_NET, _OUT, _TARGET = Sym("net", "net"), Sym("out", "out"), Sym("target", "target")


def _where(condition, if_true, if_false):
    return if_true if condition else if_false


def _float_exp(x: float) -> float:
    """e^x as numpy has it: infinity past the largest double, so a saturated sigmoid gives 0, not an error."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _float_log(x: float) -> float:
    """ln x as numpy has it: -infinity at 0, so a saturated output gives an infinite error, not an exception."""
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _float_log1p(x: float) -> float:
    """ln(1 + x) as numpy has it, exact to the last digit for small x."""
    return math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan)


def float_softplus(x: float) -> float:
    """ln(1 + e^x) in floats without overflow or lost digits: max(x, 0) + ln(1 + e^-|x|)."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


LIBRARIES = {
    # Constants exact to the working precision: mpf('0.01'), not the double nearest 0.01 (parsed once
    # for each precision: parsing is most of what a small formula costs).
    "mpmath": {"exp": mpmath.exp, "log": mpmath.log, "log1p": mpmath.log1p, "tanh": mpmath.tanh, "sqrt": mpmath.sqrt,
               "maximum": max, "where": _where,
               "constant": lambda text: f"number({text!r})", "extra": {"number": number}},
    "float": {"exp": _float_exp, "log": _float_log, "log1p": _float_log1p, "tanh": math.tanh, "sqrt": math.sqrt,
              "maximum": max, "where": _where},
}


def functions_of(name: str) -> dict:
    """The elementary functions of ``name``; numpy is imported only when it is asked for,
    so that small networks, which train in plain Python, never load it."""
    if name == "numpy":
        return _numpy_functions()
    return LIBRARIES[name]


@cache
def _numpy_functions() -> dict:
    import numpy as np

    return {"exp": np.exp, "log": np.log, "log1p": np.log1p, "tanh": np.tanh, "sqrt": np.sqrt, "maximum": np.maximum,
            "where": np.where}


@cache
def activation_function(name: str, slope=None, library: str = "mpmath"):
    """out = f(net) of an element-wise activation, compiled from the formula the document prints."""
    act = activation(name, slope)
    node = act.formula(_NET) if library == "mpmath" else act.float_form(_NET)
    return compile_function(node, ("net",), functions_of(library))


@cache
def activation_derivative(name: str, slope=None, library: str = "mpmath"):
    """d out / d net as a function of (out, net), from the printed derivative."""
    return compile_function(activation(name, slope).derivative(_OUT, _NET), ("out", "net"), functions_of(library))


@cache
def softmax_functions(width: int, library: str = "mpmath") -> tuple:
    """out_k = f_k(net_1, …, net_n) for each k, from the printed softmax."""
    nets = tuple(Sym(f"net{k}", f"net{k}") for k in range(width))
    act = activation("softmax")
    return tuple(compile_function(act.formula(nets, k), tuple(n.key for n in nets), functions_of(library))
                 for k in range(width))


@cache
def loss_term(name: str, outputs: int, library: str = "mpmath"):
    return compile_function(LOSSES[name].term(_TARGET, _OUT, outputs), ("target", "out"), functions_of(library))


@cache
def loss_derivative(name: str, outputs: int, library: str = "mpmath"):
    return compile_function(LOSSES[name].derivative_steps(_TARGET, _OUT, outputs)[-1], ("target", "out"),
                            functions_of(library))


def mp(value) -> mpmath.mpf:
    """An exact decimal parameter as a high-precision number."""
    return mpmath.mpf(str(value))


def layer_outputs(network: Network, layer: int, nets: list) -> list:
    """The outputs of one layer from its net inputs, at high precision."""
    name, slope = network.activation(network.layers[layer][0]), network.slope(network.layers[layer][0])
    if name == "softmax":
        return [f(*nets) for f in softmax_functions(len(nets))]
    f = activation_function(name, slope)
    return [f(net) for net in nets]


def weighted_sum(weights: list, outs: list) -> mpmath.mpf:
    """``mpmath.fsum([w * out for w, out in zip(weights, outs)])``: each product rounded to the working
    precision, their sum exact and rounded once; on mpmath's own representation for real numbers."""
    try:
        precision, rounding = mpmath.mp._prec_rounding
        return mpmath.mp.make_mpf(mpf_sum([mpf_mul(w._mpf_, x._mpf_, precision, rounding) for w, x in zip(weights, outs)],
                                          precision, rounding))
    except AttributeError:
        return mpmath.fsum([w * x for w, x in zip(weights, outs)])


def net_input(network: Network, neuron, parameters: dict, outs: list) -> mpmath.mpf:
    """Σ w · out + b of ``neuron``, ``outs`` being the outputs of the layer below, in order."""
    incoming = network.incoming(neuron)
    return (weighted_sum([parameters[w.key] for w in incoming], [outs[w.source.index] for w in incoming])
            + parameters[network.bias(neuron).key])


def forward_error(network: Network, parameters: dict[str, mpmath.mpf]) -> tuple[mpmath.mpf, list]:
    """E_total and the outputs of one sample for the given weights, biases, inputs and targets (by key)."""
    outs = [parameters[n.out_key] for n in network.inputs]
    for l, layer in enumerate(network.layers[1:], start=1):
        nets = [net_input(network, n, parameters, outs) for n in layer]
        outs = layer_outputs(network, l, nets)
    term = loss_term(network.spec.loss, len(network.outputs))
    targets = [parameters[f"target_{o.name}"] for o in network.outputs]
    return mpmath.fsum(term(t, out) for t, out in zip(targets, outs)), outs


def batch_error(network: Network, parameters: dict[str, mpmath.mpf]) -> tuple[mpmath.mpf, list[list]]:
    """E_total over every sample (summed or averaged as the spec says) and each sample's outputs.

    ``parameters`` holds the weights, biases and η; the samples come from the spec.
    """
    errors, outputs = [], []
    for s in range(len(network.spec.samples)):
        error, outs = forward_error(network, {**parameters, **network.sample_values(s, mp)})
        errors.append(error)
        outputs.append(outs)
    return combine(network, errors), outputs


def combine(network: Network, per_sample: list):
    """Per-sample errors or gradients combined as the spec's ``reduction`` says."""
    total = mpmath.fsum(per_sample)
    return total / len(per_sample) if network.spec.reduction == "mean" else total


STEP = mpmath.mpf("1e-15")


def shifted(parameters: dict, direction: dict, sign: int) -> dict:
    """``parameters`` moved by ``sign`` steps along ``direction`` (key → coefficient)."""
    moved = dict(parameters)
    for key, coefficient in direction.items():
        moved[key] = parameters[key] + sign * coefficient * STEP
    return moved


def directional_difference(error, parameters: dict, direction: dict) -> mpmath.mpf:
    """The central difference of ``error(parameters)`` along ``direction`` (key → coefficient).

    Equals Σ coefficient · ∂error/∂key up to O(h²); with a step of 1e-15 at
    50 digits that is far below any printed digit.  Each parameter's step is
    worked out once for both sides (``shifted``'s points: -(c·h) is (-c)·h exactly).
    """
    up, down = dict(parameters), dict(parameters)
    for key, coefficient in direction.items():
        step = coefficient * STEP
        up[key] = parameters[key] + step
        down[key] = parameters[key] - step
    return (error(up) - error(down)) / (2 * STEP)


def net_inputs(network: Network, parameters: dict[str, mpmath.mpf]) -> dict[str, mpmath.mpf]:
    """Every neuron's total net input for one sample (``parameters`` by key, as ``forward_error`` takes them)."""
    outs, nets = [parameters[n.out_key] for n in network.inputs], {}
    for l, layer in enumerate(network.layers[1:], start=1):
        here = [net_input(network, n, parameters, outs) for n in layer]
        nets.update({n.net_key: net for n, net in zip(layer, here)})
        outs = layer_outputs(network, l, here)
    return nets


@dataclass(frozen=True)
class Training:
    """The state after ``iterations`` rounds of gradient descent (float64)."""

    iterations: int
    error: float
    outputs: tuple[tuple[float, ...], ...]  # per sample
    weights: tuple[float, ...]  # in weight-number order
    biases: tuple[float, ...]  # in the order of network.biases
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


def bias_values(network: Network, per_layer) -> tuple[float, ...]:
    """The values of ``network.biases`` from one value per neuron of each layer."""
    return tuple(float(per_layer[b.layer - 1][b.neurons[0].index]) for b in network.biases)


# --- formulas compiled for a shape -----------------------------------------------------


def compiled_formula(node):
    """``formulas.evaluate(node, values)`` as a compiled function of ``values``: the same mpmath operations
    on the same numbers in the same order (hence the same result), without walking the records each time.

    None for a formula with a part ``evaluate`` decides by comparing values (a maximum, cases): those
    are evaluated as they are.  A class evaluates the same formulas of its shape at many points.
    """
    try:
        source = _mp_source(node)
    except _NotCompiled:
        return None
    namespace = {"fsum": mpmath.fsum, "fprod": mpmath.fprod, "exp": mpmath.exp, "log": mpmath.log,
                 "tanh": mpmath.tanh, "sqrt": mpmath.sqrt, "number": _formula_number, "__builtins__": {}}
    return eval(compile(f"lambda v: {source}", "<compiled formula>", "eval"), namespace)


class _NotCompiled(Exception):
    pass


def _formula_number(text: str):
    from .formulas import _number

    return _number(text)


def _mp_source(node) -> str:
    from .formulas import Add, Exp, Frac, Log, Mul, Neg, Num, Paren, Partial, Pow, Sqrt, Tanh

    if isinstance(node, (Sym, Partial)):
        return f"v[{node.key!r}]"
    if isinstance(node, Num):
        return f"number({node.text!r})"
    if isinstance(node, Add):
        return f"fsum(({''.join(_mp_source(t) + ', ' for t in node.terms)}))"
    if isinstance(node, Mul):
        return f"fprod(({''.join(_mp_source(f) + ', ' for f in node.factors)}))"
    if isinstance(node, Neg):
        return f"(-{_mp_source(node.arg)})"
    if isinstance(node, Paren):
        return _mp_source(node.arg)
    if isinstance(node, Frac):
        return f"({_mp_source(node.num)} / {_mp_source(node.den)})"
    if isinstance(node, Pow):
        return f"({_mp_source(node.base)} ** {_mp_source(node.exp)})"
    for kind, name in ((Exp, "exp"), (Log, "log"), (Tanh, "tanh"), (Sqrt, "sqrt")):
        if isinstance(node, kind):
            return f"{name}({_mp_source(node.arg)})"
    raise _NotCompiled(type(node).__name__)


def formula_function(tables: dict, node):
    """``node`` as a function of the values: compiled (``compiled_formula``) and kept in a shape's
    ``tables`` the second time the shape evaluates it, ``evaluate`` itself before (compiling costs a few
    evaluations, which a shape rendered once would not get back) and where it cannot be compiled."""
    from .formulas import evaluate

    which = ("formula", node)
    function = tables.get(which)
    if function is None:
        if which not in tables:
            tables[which] = None  # seen once
            return functools.partial(evaluate, node)
        function = tables[which] = compiled_formula(node) or functools.partial(evaluate, node)
    return function
