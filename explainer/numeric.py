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

import math
from dataclasses import dataclass
from functools import cache

import mpmath

from .functions import LOSSES, PAIRINGS, activation
from .network import Network
from .notation import Sym, compile_function, python

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


LIBRARIES = {
    # Constants exact to the working precision: mpf('0.01'), not the double nearest 0.01.
    "mpmath": {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "maximum": max, "where": _where,
               "constant": lambda text: f"mpf({text!r})", "extra": {"mpf": mpmath.mpf}},
    "float": {"exp": _float_exp, "log": _float_log, "tanh": math.tanh, "maximum": max, "where": _where},
}


def functions_of(name: str) -> dict:
    """The elementary functions of ``name``; numpy is imported only when it is asked for,
    so that small networks, which train in plain Python, never load it."""
    if name == "numpy":
        from .numpy_training import NUMPY

        return NUMPY
    return LIBRARIES[name]


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


def forward_error(network: Network, parameters: dict[str, mpmath.mpf]) -> tuple[mpmath.mpf, list]:
    """E_total and the outputs of one sample for the given weights, biases, inputs and targets (by key)."""
    outs = [parameters[n.out_key] for n in network.inputs]
    for l, layer in enumerate(network.layers[1:], start=1):
        nets = [mpmath.fsum([parameters[w.key] * outs[w.source.index] for w in network.incoming(n)])
                + parameters[network.bias(n).key] for n in layer]
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


def directional_difference(error, parameters: dict, direction: dict[str, int]) -> mpmath.mpf:
    """The central difference of ``error(parameters)`` along ``direction`` (key → coefficient).

    Equals Σ coefficient · ∂error/∂key up to O(h²); with a step of 1e-15 at
    50 digits that is far below any printed digit.
    """
    h = mpmath.mpf("1e-15")

    def shifted(sign: int) -> dict:
        moved = dict(parameters)
        for key, coefficient in direction.items():
            moved[key] = parameters[key] + sign * coefficient * h
        return moved

    return (error(shifted(1)) - error(shifted(-1))) / (2 * h)


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


# Up to this many weights one round is generated as straight-line Python on
# floats: for small networks numpy's per-call overhead costs more than the
# arithmetic itself.  Larger networks run as matrix operations in numpy.
SCALAR_LIMIT = 64


def train(network: Network, iterations: int) -> Training:
    """Run ``iterations`` rounds of gradient descent (float64).

    A round is one step on the whole batch (``mode = "batch"``: the gradient
    of the summed or averaged error) or one step per sample in turn
    (``"stochastic"``).  ``simultaneous``: every gradient from the weights
    before the step.  ``sequential``: each layer's error signal passed down
    with the weights of the layer above already updated (the source's
    10,000-round figures).
    """
    if len(network.weights) <= SCALAR_LIMIT:
        return train_scalar(network, iterations)
    from .numpy_training import train_numpy

    return train_numpy(network, iterations)


def step_scale(spec) -> float:
    """The factor of a batch step's summed gradient: 1/S for the mean error, 1 for the sum."""
    batch = spec.mode == "batch" and len(spec.samples) > 1
    return 1 / len(spec.samples) if batch and spec.reduction == "mean" else 1.0


def bias_values(network: Network, per_layer) -> tuple[float, ...]:
    """The values of ``network.biases`` from one value per neuron of each layer."""
    return tuple(float(per_layer[b.layer - 1][b.neurons[0].index]) for b in network.biases)


# --- straight-line Python -------------------------------------------------------------


def train_scalar(network: Network, iterations: int) -> Training:
    """``train`` as generated straight-line Python, one float variable per quantity."""
    source = scalar_training_source(network)
    namespace = {name: function for name, function in LIBRARIES["float"].items()}
    exec(compile(source, "<training round>", "exec"), namespace)
    spec = network.spec
    shared = [float(v) for v in network.shared_values().values()]
    rows = tuple(tuple(float(v) for v in (*s.inputs, *s.targets)) for s in spec.samples)
    (weights, biases, outputs, error), history = namespace["run"](iterations, history_rounds(iterations), rows, *shared)
    return Training(iterations, error, outputs, weights, biases, tuple(history))


def scalar_training_source(network: Network) -> str:
    """Python source of ``run(iterations, marks, samples, *parameters)``.

    Returns (weights, biases, outputs per sample, E_total) after the rounds,
    and the history: E_total after each round k in ``marks`` (increasing).
    The formulas are the document's own (activation, loss and their
    derivatives), printed as Python; variables stand for the quantities' keys.
    """
    return _ScalarSource(network).source()


class _ScalarSource:
    def __init__(self, network: Network) -> None:
        self.network = network
        self.spec = network.spec
        self.var: dict[str, str] = {}

    def name(self, key: str) -> str:
        return self.var.setdefault(key, f"v{len(self.var)}")

    def sym(self, key: str) -> Sym:
        return Sym("", self.name(key))

    def forward(self) -> list[str]:
        n, lines = self.network, []
        for layer in n.layers[1:]:
            for neuron in layer:
                terms = [f"{self.name(w.key)} * {self.name(w.source.out_key)}" for w in n.incoming(neuron)]
                lines.append(f"{self.name(neuron.net_key)} = {' + '.join(terms)} + {self.name(n.bias(neuron).key)}")
            name, slope = n.activation(layer[0]), n.slope(layer[0])
            if name == "softmax":
                nets = [self.name(x.net_key) for x in layer]
                largest = self.name(f"max_{layer[0].layer}")
                lines.append(f"{largest} = max({', '.join(nets)})")
                exps = [self.name(f"exp_{x.name}") for x in layer]
                lines += [f"{e} = exp({net} - {largest})" for e, net in zip(exps, nets)]
                total = self.name(f"sum_{layer[0].layer}")
                lines.append(f"{total} = {' + '.join(exps)}")
                lines += [f"{self.name(x.out_key)} = {e} / {total}" for x, e in zip(layer, exps)]
            else:
                act = activation(name, slope)
                lines += [f"{self.name(x.out_key)} = {python(act.float_form(self.sym(x.net_key)))}" for x in layer]
        return lines

    def output_signals(self) -> list[str]:
        n, spec = self.network, self.spec
        loss, outputs = LOSSES[spec.loss], len(n.outputs)
        name, slope = spec.activations[-1], spec.slopes[-1]
        target = {o: self.sym(f"target_{o.name}") for o in n.outputs}
        out = {o: self.sym(o.out_key) for o in n.outputs}
        signal = {o: self.name(f"d_{o.name}") for o in n.outputs}
        if (name, spec.loss) in PAIRINGS:
            return [f"{signal[o]} = {out[o].key} - {target[o].key}" for o in n.outputs]
        gradient = {o: python(loss.derivative_steps(target[o], out[o], outputs)[-1]) for o in n.outputs}
        if name == "softmax":
            lines = [f"{self.name('g_' + o.name)} = {gradient[o]}" for o in n.outputs]
            weighted = " + ".join(f"{self.name('g_' + o.name)} * {out[o].key}" for o in n.outputs)
            lines.append(f"{self.name('g_dot_out')} = {weighted}")
            lines += [f"{signal[o]} = {out[o].key} * ({self.name('g_' + o.name)} - {self.name('g_dot_out')})"
                      for o in n.outputs]
            return lines
        act = activation(name, slope)
        return [f"{signal[o]} = ({gradient[o]} * {python(act.derivative(out[o], self.sym(o.net_key)))})"
                for o in n.outputs]

    def hidden_signals(self, layer) -> list[str]:
        n, lines = self.network, []
        for h in layer:
            act = activation(n.activation(h), n.slope(h))
            signal = " + ".join(f"{self.name('d_' + w.target.name)} * {self.name(w.key)}" for w in n.outgoing(h))
            derivative = python(act.derivative(self.sym(h.out_key), self.sym(h.net_key)))
            lines.append(f"{self.name('d_' + h.name)} = ({signal}) * {derivative}")
        return lines

    def gradients(self, source_layer) -> list[tuple[str, str]]:
        """(parameter variable, its gradient for one sample) for the weights out of ``source_layer``
        and the biases of the layer they lead into."""
        n, pairs = self.network, []
        for w in (w for x in source_layer for w in n.outgoing(x)):
            pairs.append((self.name(w.key), f"{self.name('d_' + w.target.name)} * {self.name(w.source.out_key)}"))
        if self.spec.train_biases:
            fed = n.layers[source_layer[0].layer + 1]
            for b in (b for b in n.biases if b.layer == fed[0].layer):
                signals = [self.name("d_" + x.name) for x in b.neurons]
                pairs.append((self.name(b.key), signals[0] if len(signals) == 1 else f"({' + '.join(signals)})"))
        return pairs

    def source(self) -> str:
        n, spec = self.network, self.spec
        shared = [self.name(k) for k in n.shared_values()]
        sample = [self.name(x.out_key) for x in n.inputs] + [self.name(f"target_{o.name}") for o in n.outputs]
        eta = self.name("eta")
        several = len(spec.samples) > 1
        batch = several and spec.mode == "batch"
        sequential = spec.update == "sequential"

        backward, step_updates, accumulate, batch_updates = self.output_signals(), [], [], []
        for layer in reversed(n.layers[:-1]):
            pairs = self.gradients(layer)
            if batch:
                accumulate += [f"{self.name('g_' + p)} += {g}" for p, g in pairs]
                batch_updates += [f"{p} = {p} - {self.name('eta_step')} * {self.name('g_' + p)}" for p, g in pairs]
            else:
                updates = [f"{p} = {p} - {eta} * {g}" for p, g in pairs]
                if layer[0].layer > 0 and sequential:
                    backward += updates
                else:
                    step_updates += updates
            if layer[0].layer == 0:
                break
            backward += self.hidden_signals(layer)

        forward = self.forward()
        loss = LOSSES[spec.loss]
        error = " + ".join(python(loss.term(self.sym(f"target_{o.name}"), self.sym(o.out_key), len(n.outputs)))
                           for o in n.outputs)
        outs = ", ".join(self.name(o.out_key) for o in n.outputs)
        weights = ", ".join(self.name(w.key) for w in n.weights)
        biases = ", ".join(self.name(b.key) for b in n.biases)
        unpack = f"{', '.join(sample)}, = row"

        total = "sum(errors) / len(errors)" if spec.reduction == "mean" else "sum(errors)"
        # E_total of the current weights over every sample (a stochastic round changes
        # the weights between samples, so the loss curve measures it apart).
        measure = ["errors = []", "for row in samples:", f"    {unpack}", *(f"    {line}" for line in forward),
                   f"    errors.append({error})"]
        lines = [f"def run(iterations, marks, samples, {', '.join(shared)}):"]
        if batch:
            lines.append(f"    {self.name('eta_step')} = {eta} * {step_scale(spec)!r}")
        if not several:  # one sample: its values are read once, outside the loop
            lines.append(f"    {unpack.replace('row', 'samples[0]')}")
        lines += ["    marks = iter(marks)", "    mark, history = next(marks, -1), []"]
        lines.append("    for k in range(iterations):")
        lines.append("        if k == mark:")
        # A diverging run overflows a float power before it reaches inf: that error is infinite.
        lines.append("            try:")
        lines += [f"                {line}" for line in measure]
        lines += [f"                history.append((k, {total}))", "            except OverflowError:",
                  "                history.append((k, float('inf')))", "            mark = next(marks, -1)"]
        body = forward + backward + (accumulate if batch else step_updates)
        if batch:
            lines += [f"        {p} = 0.0" for p in (self.name("g_" + p) for p, _ in self._all_gradients())]
        if several:
            lines.append("        for row in samples:")
            lines.append(f"            {unpack}")
            lines += [f"            {line}" for line in body]
        else:
            lines += [f"        {line}" for line in body]
        lines += [f"        {line}" for line in batch_updates]
        lines += ["    outputs, errors = [], []", "    for row in samples:", f"        {unpack}"]
        lines += [f"        {line}" for line in forward]
        lines += [f"        outputs.append(({outs},))", f"        errors.append({error})"]
        lines += [f"    error = {total}", "    if mark == iterations:", "        history.append((iterations, error))"]
        lines.append(f"    return (({weights},), ({biases}{',' if biases else ''}), tuple(outputs), error), history")
        return "\n".join(lines) + "\n"

    def _all_gradients(self):
        n = self.network
        return [pair for layer in reversed(n.layers[:-1]) for pair in self.gradients(layer)]
