"""The long training loop as generated straight-line Python on floats, one
variable per quantity: for small networks it beats numpy, whose per-call
overhead costs more than the arithmetic itself.
"""

from __future__ import annotations

import math
import weakref
from functools import lru_cache

from .formulas import Sym, python
from .functions import LOSSES, PAIRINGS, activation
from .network import Network
from .batches import batch_scale, round_batches
from .numeric import LIBRARIES, Training, float_softplus, history_rounds
from .optimizers import STATE, Quantities, hyper_parameters, roles, rule


def train_scalar(network: Network, iterations: int) -> Training:
    """``train`` as generated straight-line Python, one float variable per quantity."""
    code = _code_of(network)
    spec = network.spec
    shared = [float(v) for v in network.shared_values().values()]
    rows = tuple(tuple(float(v) for v in (*s.inputs, *s.targets)) for s in spec.samples)
    marks = history_rounds(iterations)
    eta = float(spec.learning_rate)

    def schedule():
        """Each round's batches, as the generated loop takes them (see ``_ScalarSource.source``)."""
        for batches in round_batches(spec):
            if spec.batch_size == 1:
                yield tuple(rows[b[0]] for b in batches)
            else:
                yield tuple((tuple(rows[i] for i in b), eta * batch_scale(spec, len(b)), batch_scale(spec, len(b)))
                            for b in batches)
    try:
        # math.exp itself, without the wrapper that turns an overflow into infinity:
        # the same numbers wherever it does not overflow, and about a tenth faster.
        result = _compiled(code, exp=math.exp, measured_overflow=_Never)(iterations, marks, rows,
                                                                        _rounds(schedule, spec), *shared)
    except OverflowError:  # a diverging run: again, with e^x infinite past the largest double
        result = _compiled(code, measured_overflow=OverflowError)(iterations, marks, rows, _rounds(schedule, spec),
                                                                  *shared)
    (weights, biases, outputs, error), history = result
    return Training(iterations, error, outputs, weights, biases, tuple(history))


def _rounds(schedule, spec):
    """A function giving the next round's batches: the same tuple every round when the order is fixed."""
    rounds = schedule()
    if spec.shuffle_seed is None:
        fixed = next(rounds)
        return lambda: fixed
    return rounds.__next__


# A network trained again (a longer run, another number of rounds) reuses its loop's code.
_CODES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _code_of(network: Network):
    code = _CODES.get(network)
    if code is None:
        code = _CODES[network] = _code(scalar_training_source(network))
    return code


@lru_cache(maxsize=64)
def _code(source: str):
    """The compiled loop: the source depends on the shape only, which a class of variants shares."""
    return compile(source, "<training round>", "exec")


class _Never(Exception):
    """Raised by nothing: in the fast run every overflow goes to the careful one."""


def _compiled(code, **functions):
    namespace = {**LIBRARIES["float"], "softplus": float_softplus, **functions}
    exec(code, namespace)
    return namespace["run"]


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
        # Batches of several samples sum their gradients before the step; one sample steps at once.
        batch = spec.batch_size > 1
        sequential = spec.update == "sequential"
        eta_step, scale = self.name("eta_step"), self.name("scale")

        backward, step_updates, accumulate, batch_updates = self.output_signals(), [], [], []
        for layer in reversed(n.layers[:-1]):
            pairs = self.gradients(layer)
            if batch:
                accumulate += [f"{self.name('g_' + p)} += {g}" for p, g in pairs]
                if spec.optimizer.plain:
                    batch_updates += [f"{p} = {p} - {eta_step} * {self.name('g_' + p)}" for p, g in pairs]
                else:
                    batch_updates += [line for p, g in pairs
                                      for line in self.optimizer_step(p, f"{self.name('g_' + p)} * {scale}")]
            else:
                if spec.optimizer.plain:
                    updates = [f"{p} = {p} - {eta} * {g}" for p, g in pairs]
                else:
                    updates = [line for p, g in pairs for line in self.optimizer_step(p, g)]
                if layer[0].layer > 0 and sequential:
                    backward += updates
                else:
                    step_updates += updates
            if layer[0].layer == 0:
                break
            backward += self.hidden_signals(layer)

        forward = self.forward()
        error = self.error()
        outs = ", ".join(self.name(o.out_key) for o in n.outputs)
        weights = ", ".join(self.name(w.key) for w in n.weights)
        biases = ", ".join(self.name(b.key) for b in n.biases)
        unpack = f"{', '.join(sample)}, = row"

        total = "sum(errors) / len(errors)" if spec.reduction == "mean" else "sum(errors)"
        # E_total of the current weights over every sample (a stochastic round changes
        # the weights between samples, so the loss curve measures it apart).
        measure = ["errors = []", "for row in samples:", f"    {unpack}", *(f"    {line}" for line in forward),
                   f"    errors.append({error})"]
        lines = [f"def run(iterations, marks, samples, rounds, {', '.join(shared)}):"]
        lines += [f"    {line}" for line in self.optimizer_start()]
        if not several:  # one sample: its values are read once, outside the loop
            lines.append(f"    {unpack.replace('row', 'samples[0]')}")
        # The rounds run in stretches between the marks, so that a round does not also
        # ask whether to measure.  The last stretch runs up to ``iterations``.
        # ``rounds()`` gives the next round's batches: (rows, η times the batch's scale, the scale)
        # each, or its rows alone where every batch is one sample.
        lines += ["    history, done = [], 0", "    for mark in (*(m for m in marks if m < iterations), iterations):",
                  "        for k in range(done, mark):"]
        body = forward + backward + (accumulate if batch else step_updates)
        if not spec.optimizer.plain:  # the optimizer's step number, for Adam's bias corrections
            (batch_updates if batch else body).insert(0, f"{self.name('t')} += 1.0")
        if batch:
            lines.append(f"            for rows, {eta_step}, {scale} in rounds():")
            lines += [f"                {p} = 0.0" for p in (self.name("g_" + p) for p, _ in self._all_gradients())]
            lines.append("                for row in rows:")
            lines.append(f"                    {unpack}")
            lines += [f"                    {line}" for line in body]
            lines += [f"                {line}" for line in batch_updates]
        elif several:
            lines.append("            for row in rounds():")
            lines.append(f"                {unpack}")
            lines += [f"                {line}" for line in body]
        else:
            lines += [f"            {line}" for line in body]
        lines += ["        done = mark", "        if mark == iterations:", "            break"]
        # A diverging run overflows a float power before it reaches inf: that error is infinite.
        lines.append("        try:")
        lines += [f"            {line}" for line in measure]
        lines += [f"            history.append((mark, {total}))", "        except measured_overflow:",
                  "            history.append((mark, float('inf')))"]
        lines += ["    outputs, errors = [], []", "    for row in samples:", f"        {unpack}"]
        lines += [f"        {line}" for line in forward]
        lines += [f"        outputs.append(({outs},))", "        try:", f"            errors.append({error})",
                  "        except OverflowError:", "            errors.append(float('inf'))"]
        lines += ["    try:", f"        error = {total}", "    except OverflowError:", "        error = float('inf')"]
        lines += ["    if iterations in marks:", "        history.append((iterations, error))"]
        lines.append(f"    return (({weights},), ({biases}{',' if biases else ''}), tuple(outputs), error), history")
        return "\n".join(lines) + "\n"

    def optimizer_start(self) -> list[str]:
        """The optimizer's hyper-parameters as float constants and its state at 0, before the first round."""
        optimizer = self.spec.optimizer
        if optimizer.plain:
            return []
        lines = [f"{self.name(key)} = {float(value)!r}" for key, value in hyper_parameters(optimizer).items()]
        lines.append(f"{self.name('t')} = 0.0")
        for p in self.network.trained_parameters():
            lines += [f"{self.name(f'{role}_{p.key}')} = 0.0" for role in STATE[optimizer.name]]
        return lines

    def optimizer_step(self, parameter: str, gradient: str) -> list[str]:
        """One step of the optimizer for the parameter held in variable ``parameter``, from its ``gradient``.

        The rule is the one the document prints (``optimizers.rule``); each
        state variable is updated in place, so its previous value is itself.
        """
        optimizer = self.spec.optimizer
        key = next(p.key for p in self.network.trained_parameters() if self.name(p.key) == parameter)
        g = self.name(f"grad_{key}")
        defined = {role: self.sym(f"{role}_{key}") for role in roles(optimizer)}
        defined["new"] = Sym("", parameter)
        previous = {role: defined[role] for role in STATE[optimizer.name]}
        hyper = {name: self.sym(name) for name in ("mu", "tau", "alpha", "beta1", "beta2", "epsilon", "lambda")}
        q = Quantities(Sym("", parameter), Sym("", g), previous, defined, self.sym("t"), self.sym("eta"), hyper)
        later = rule(optimizer, q, first=False)
        first = rule(optimizer, q, first=True)
        lines = [f"{g} = {gradient}"]
        for (sym, formula), (_, at_first) in zip(later, first):
            if at_first == formula:
                lines.append(f"{sym.key} = {python(formula)}")
            else:  # torch.optim starts the momentum buffer at the first gradient
                lines.append(f"{sym.key} = {python(at_first)} if {self.name('t')} == 1.0 else {python(formula)}")
        return lines

    def error(self) -> str:
        """E_total of one sample as a float expression.

        The loss's own formula, except where float64 would lose a finite error:
        cross-entropy of softmax outputs as log-softmax (an output of e^-1000
        is 0.0 in floats, but its error, 1000, is not infinite), and binary
        cross-entropy of sigmoid outputs through softplus, ln σ(x) = -softplus(-x).
        """
        n, spec = self.network, self.spec
        name = spec.activations[-1]
        targets = {o: self.name(f"target_{o.name}") for o in n.outputs}
        nets = {o: self.name(o.net_key) for o in n.outputs}
        if (name, spec.loss) == ("softmax", "cross_entropy"):
            layer = n.outputs[0].layer
            largest, total = self.name(f"max_{layer}"), self.name(f"sum_{layer}")
            return "-(" + " + ".join(f"{targets[o]} * ({nets[o]} - {largest} - log({total}))" for o in n.outputs) + ")"
        if (name, spec.loss) == ("sigmoid", "binary_cross_entropy"):
            return " + ".join(f"{targets[o]} * softplus(-{nets[o]}) + (1.0 - {targets[o]}) * softplus({nets[o]})"
                              for o in n.outputs)
        loss = LOSSES[spec.loss]
        return " + ".join(python(loss.term(self.sym(f"target_{o.name}"), self.sym(o.out_key),
                                           len(n.outputs))) for o in n.outputs)

    def _all_gradients(self):
        n = self.network
        return [pair for layer in reversed(n.layers[:-1]) for pair in self.gradients(layer)]
