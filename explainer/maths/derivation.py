"""The derivation as data: sections of steps, each step a few equation chains.

Every equation is computed from its own formula at high precision as it is
defined, and every other form it shows is checked to give the same number.
The chain-rule factors come from ``sympy.diff`` of each neuron's local
definition; the gradients they multiply to are checked against a central
difference of E_total and, for small networks, against ``sympy.diff`` of the
fully composed E_total.  A disagreement raises ``DerivationMismatch``.

With several training samples each sample is derived on its own (the first
one is the one the document works in full) and its keys get the suffix
``[s]``; the batch's gradient then combines the per-sample gradients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import mpmath

from ..spec.errors import DerivationMismatch, SpecError
from ..spec.limits import check_size
from ..spec.reading import Spec, load_spec
from . import checks, numeric
from .checks import composed_error  # noqa: F401  (part of the module's interface, used by the tests)
from .formulas import (
    Add,
    Frac,
    Mul,
    Neg,
    Num,
    Paren,
    Partial,
    Pow,
    Sym,
    evaluate,
    rekey,
)
from .functions import LOSSES, PAIRINGS, activation
from .network import Network, Neuron, Parameter, Weight
from .training import train

# Up to this many weights the fully composed E_total is differentiated by SymPy
# (if it is not too large, see checks.COMPOSED_WORK) and every weight
# gets its own finite difference; beyond it the directional differences still
# check all.
SMALL_NETWORK = 40


@dataclass(frozen=True)
class Equation:
    """``forms[0] = forms[1] = …``, then (when shown with numbers) the last form
    with the printed numbers substituted, then the value of ``key``."""

    key: str | None
    forms: tuple


@dataclass(frozen=True)
class Step:
    """One thing the document works out; ``kind`` names the words the template uses."""

    kind: str
    subject: str
    eq: Mapping[str, object]
    first: bool = False  # the first of its kind: written in full even at --detail source
    facts: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    kind: str
    steps: tuple[Step, ...]
    facts: Mapping[str, object] = field(default_factory=dict)


# --- the printed names of quantities ---------------------------------------------


def out_sym(n: Neuron) -> Sym:
    return Sym(n.out_tex, n.out_key)


def net_sym(n: Neuron) -> Sym:
    return Sym(n.net_tex, n.net_key)


def param_sym(p: Parameter) -> Sym:
    return Sym(p.tex, p.key)


def updated_sym(p: Parameter) -> Sym:
    return Sym(p.updated_tex, p.updated_key)


def target_sym(o: Neuron) -> Sym:
    return Sym(f"target_{{{o.tex}}}", f"target_{o.name}")


def error_sym(o: Neuron) -> Sym:
    return Sym(f"E_{{{o.tex}}}", f"E_{o.name}")


TOTAL = Sym("E_{total}", "E_total")
ETA = Sym(r"\eta", "eta")


def sample_total_sym(s: int) -> Sym:
    """E_total of sample ``s`` alone: ``E_total[s]``, printed with the sample as a superscript."""
    return Sym(f"E_{{total}}^{{({s})}}", f"E_total[{s}]")


def partial(of: Sym, wrt: Sym, key: str | None = None) -> Partial:
    """∂of/∂wrt, its value under ``key`` (default: the key made of both names)."""
    return Partial(of, wrt, key or f"d{of.key}/d{wrt.key}")


def sample_key(key: str, s: int) -> str:
    """The key of a quantity of sample ``s``: ``out_o1[2]``, ``dE_total/dw5[2]``."""
    return f"{key}[{s}]"


# --- building -------------------------------------------------------------------


class _Builder:
    """Defines quantities one by one, computing and checking each as it goes.

    ``point`` holds the parameters and the sample's data by key; ``updates``
    says whether the parameters' updates belong to this derivation (not in
    batch mode with several samples, where the batch's gradient decides them).
    """

    def __init__(self, network: Network, point: Mapping[str, mpmath.mpf], updates: bool = True,
                 factors: dict | None = None, written: Mapping | None = None) -> None:
        self.network = network
        # the sample's inputs and targets as the user wrote them (Decimal)
        self.written_sample = written or {}
        self.values: dict[str, mpmath.mpf] = dict(point)
        self.parameters = frozenset(self.values)
        self.equations: dict[str, Equation] = {}
        self.updates = updates
        self._factors = {} if factors is None else factors
        n = network
        syms = [out_sym(x) for layer in n.layers for x in layer] + [param_sym(p) for p in (*n.weights, *n.biases)]
        self.names = {s.key: s for s in syms}

    def define(self, key: str, *forms) -> Equation:
        try:
            value = evaluate(forms[-1], self.values)
        except ZeroDivisionError:
            value = mpmath.nan
        if not mpmath.isfinite(value):
            # Only a saturated output gets here (a sigmoid of exactly 1 at 50 digits, a logarithm of 0).
            raise SpecError(self.network.spec.source, "network.weights",
                            f"{key} is not a finite number at {numeric.PRECISION} digits because an output has "
                            "saturated; expected smaller weights, biases or inputs")
        for form in forms[1:-1]:
            self.agree(key, evaluate(form, self.values), value, "a printed form")
        self.values[key] = value
        self.equations[key] = equation = Equation(key, forms)
        return equation

    def once(self, key: str, build: Callable[[], Equation]) -> Equation:
        """The equation of ``key``, built the first time it is needed."""
        return self.equations[key] if key in self.equations else build()

    def also(self, key: str, *forms) -> Equation:
        """Further forms of a defined quantity, each checked to give its value."""
        for form in forms[1:]:
            self.agree(key, evaluate(form, self.values), self.values[key], "a simplified form")
        return Equation(key, forms)

    @staticmethod
    def agree(key: str, got, expected, what: str) -> None:
        if checks.disagree(got, expected, checks.EXACT_TOLERANCE):
            raise DerivationMismatch(f"{key}: {what} gives {got}, the derivation {expected}")

    def local_factor(self, neuron: Neuron, wrt_key: str):
        """∂net/∂(wrt) of ``neuron`` by ``sympy.diff`` of its local definition: a printed name, or 1.

        Only one term of the net input holds ``wrt`` (a weight, a bias, or the
        output a weight multiplies); the other terms' derivatives are 0, so SymPy
        differentiates that one term and the cost does not grow with the fan-in.
        """
        cache_key = (neuron.name, wrt_key)
        if cache_key not in self._factors:
            import sympy

            terms = self.network.net_terms(neuron)
            term_key = wrt_key if wrt_key in terms else next(
                w.key for w in self.network.incoming(neuron) if w.source.out_key == wrt_key)
            derivative = sympy.Derivative(terms[term_key], self.network.symbols(wrt_key), evaluate=True)
            if derivative == 1:
                self._factors[cache_key] = Num("1")
            elif isinstance(derivative, sympy.Symbol):
                self._factors[cache_key] = self.names[derivative.name]
            else:
                raise DerivationMismatch(f"d{neuron.net_key}/d{wrt_key} is {derivative}, not one quantity")
        return self._factors[cache_key]


def _activation(n: Network, neuron: Neuron):
    return activation(n.activation(neuron), n.slope(neuron))


def _coupled_outputs(n: Network) -> bool:
    return _activation(n, n.outputs[0]).coupled


def _net_form(network: Network, neuron: Neuron):
    terms = [Mul((param_sym(w), out_sym(w.source))) for w in network.incoming(neuron)]
    return Add((*terms, Mul((param_sym(network.bias(neuron)), Num("1")))))


def _forward(b: _Builder) -> Section:
    n = b.network
    steps = []
    for layer in n.layers[1:]:
        act = _activation(n, layer[0])
        role = "output" if layer is n.outputs else "hidden"
        # Neuron by neuron, net then out, as the document reads; a coupled activation
        # (softmax) needs every net input of its layer first.
        nets = [b.define(x.net_key, net_sym(x), _net_form(n, x)) for x in layer] if act.coupled else None
        for neuron in layer:
            net = nets[neuron.index] if nets else b.define(neuron.net_key, net_sym(neuron), _net_form(n, neuron))
            if act.coupled:
                out = b.define(neuron.out_key, out_sym(neuron), act.formula([net_sym(x) for x in layer], neuron.index))
            else:
                out = b.define(neuron.out_key, out_sym(neuron), *act.forms(net_sym(neuron)), act.formula(net_sym(neuron)))
            steps.append(
                Step("neuron_forward", neuron.name, {"net": net, "out": out}, neuron.index == 0,
                     {"role": role, "layer": neuron.layer, "activation": act.name})
            )
    return Section("forward", tuple(steps))


def _error(b: _Builder) -> Section:
    n = b.network
    loss, count = LOSSES[n.spec.loss], len(n.outputs)
    steps = [Step("loss_formula", "E_total", {"formula": Equation(None, (TOTAL, Sym(loss.total_tex(count))))}, True,
                  {"loss": loss.name})]
    for o in n.outputs:
        e = b.define(f"E_{o.name}", error_sym(o), loss.term(target_sym(o), out_sym(o), count))
        steps.append(Step("output_error", o.name, {"error": e}, o.index == 0))
    total = b.define("E_total", TOTAL, Add(tuple(error_sym(o) for o in n.outputs)))
    steps.append(Step("total_error", "E_total", {"total": total}, True))
    return Section("error", tuple(steps))


def _update(b: _Builder, p: Parameter) -> dict[str, Equation]:
    if not b.updates:
        return {}
    update = b.define(p.updated_key, updated_sym(p), Add((param_sym(p), Neg(Mul((ETA, partial(TOTAL, param_sym(p))))))))
    return {"new_weight": update}


def _weight_gradient(b: _Builder, w: Weight, chain_head: tuple) -> dict[str, Equation]:
    """∂net/∂w, the chain-rule product (``chain_head`` times ∂net/∂w) and the update of one weight."""
    n = b.network
    dest = w.target
    others = [Num("0") for x in n.incoming(dest) if x != w] + [Num("0")]
    rule = Add((Mul((Num("1"), out_sym(w.source), Pow(param_sym(w), Paren(Add((Num("1"), Neg(Num("1")))))))), *others))
    dnet = b.define(f"d{dest.net_key}/d{w.key}", partial(net_sym(dest), param_sym(w)), rule, b.local_factor(dest, w.key))
    gradient = b.define(f"dE_total/d{w.key}", partial(TOTAL, param_sym(w)),
                        Mul((*chain_head, partial(net_sym(dest), param_sym(w)))))
    return {"dnet_dw": dnet, "gradient": gradient, **_update(b, w)}


def _signal(b: _Builder, k: Neuron) -> Equation:
    """The error signal ∂E/∂net of neuron ``k``, defined the first time it is needed.

    An element-wise output's is ∂E_k/∂net_k (only E_k depends on net_k); a
    softmax output's is ∂E_total/∂net_k, defined with the output layer; a
    hidden neuron's is ∂E_total/∂net_k.
    """
    n = b.network
    if k.layer == len(n.layers) - 1:
        if _coupled_outputs(n):
            return b.equations[f"dE_total/d{k.net_key}"]
        key = f"dE_{k.name}/d{k.net_key}"
        factor = partial(error_sym(k), out_sym(k), f"dE_total/d{k.out_key}")
        return b.once(key, lambda: b.define(key, partial(error_sym(k), net_sym(k), key),
                                            Mul((factor, partial(out_sym(k), net_sym(k))))))
    key = f"dE_total/d{k.net_key}"
    return b.once(key, lambda: b.define(key, partial(TOTAL, net_sym(k), key),
                                        Mul((partial(TOTAL, out_sym(k)), partial(out_sym(k), net_sym(k))))))


def _bias_steps(b: _Builder, layer: int) -> list[Step]:
    """∂E_total/∂b and the update of each bias of ``layer``: the sum over the neurons it feeds."""
    n = b.network
    steps = []
    for bias in (x for x in n.biases if x.layer == layer):
        dnets = []
        for neuron in bias.neurons:
            rule = Add((*[Num("0") for _ in n.incoming(neuron)], Num("1")))
            dnets.append(b.define(f"d{neuron.net_key}/d{bias.key}", partial(net_sym(neuron), param_sym(bias)),
                                  rule, b.local_factor(neuron, bias.key)))
        signals = tuple(_signal(b, neuron) for neuron in bias.neurons)
        terms = tuple(Mul((s.forms[0], partial(net_sym(x), param_sym(bias)))) for s, x in zip(signals, bias.neurons))
        gradient = b.define(f"dE_total/d{bias.key}", partial(TOTAL, param_sym(bias)), Add(terms))
        eqs = {"dnet_db": tuple(dnets), "signals": signals, "gradient": gradient, **_update(b, bias)}
        steps.append(Step("bias", bias.key, eqs, not steps, {"bias": bias, "shared": len(bias.neurons) > 1}))
    return steps


def _loss_derivative(b: _Builder, o: Neuron) -> Equation:
    n = b.network
    loss = LOSSES[n.spec.loss]
    first, *simpler = loss.derivative_steps(target_sym(o), out_sym(o), len(n.outputs))
    zeros = [Num("0") for _ in n.outputs[1:]]
    return b.define(f"dE_total/d{o.out_key}", partial(TOTAL, out_sym(o)), Add((first, *zeros)), *simpler)


def _output_layer(b: _Builder, forward: Section) -> Section:
    n = b.network
    loss = LOSSES[n.spec.loss]
    count = len(n.outputs)
    expanded = Equation(None, (TOTAL, Add(tuple(loss.term(target_sym(o), out_sym(o), count) for o in n.outputs))))
    by_name = {s.subject: s for s in forward.steps}
    coupled = _coupled_outputs(n)
    d_outs = {o: _loss_derivative(b, o) for o in n.outputs} if coupled else {}
    steps = []
    for o in n.outputs:
        act = _activation(n, o)
        neuron_eqs = {"expanded": expanded, "activation": by_name[o.name].eq["out"], "net": by_name[o.name].eq["net"]}
        if coupled:
            neuron_eqs |= _coupled_signal(b, o, d_outs)
            head = (neuron_eqs["signal"].forms[0],)
        else:
            d_out = _loss_derivative(b, o)
            d_net = b.define(f"d{o.out_key}/d{o.net_key}", partial(out_sym(o), net_sym(o)),
                             act.derivative(out_sym(o), net_sym(o)))
            neuron_eqs |= {"dE_dout": d_out, "dout_dnet": d_net}
            head = (partial(TOTAL, out_sym(o)), partial(out_sym(o), net_sym(o)))
        for i, w in enumerate(n.incoming(o)):
            eqs = {**neuron_eqs, **_weight_gradient(b, w, head)}
            steps.append(Step("output_weight", w.key, eqs, o.index == 0 and i == 0,
                              {"neuron": o.name, "first_of_neuron": i == 0, "weight": w, "coupled": coupled}))
    biases = _bias_steps(b, len(n.layers) - 1) if n.spec.train_biases else []
    return Section("output_layer", tuple(steps), {"layer": len(n.layers) - 1, "coupled": coupled,
                                                  "biases": tuple(biases)})


def _coupled_signal(b: _Builder, o: Neuron, d_outs: dict) -> dict[str, object]:
    """∂E_total/∂net_o of a softmax output: the sum over every output k, through the Jacobian.

    ∂E_total/∂net_o = Σ_k ∂E_total/∂out_k · ∂out_k/∂net_o, with
    ∂out_k/∂net_o = out_k(δ_ko − out_o); a loss paired with softmax adds the
    simplified forms (out_o − target_o for cross-entropy).
    """
    n = b.network
    act = _activation(n, o)
    jacobian = tuple(
        b.define(f"d{k.out_key}/d{o.net_key}", partial(out_sym(k), net_sym(o)), act.jacobian(out_sym(k), out_sym(o), k == o))
        for k in n.outputs
    )
    terms = tuple(Mul((partial(TOTAL, out_sym(k)), partial(out_sym(k), net_sym(o)))) for k in n.outputs)
    key = f"dE_total/d{o.net_key}"
    signal = b.define(key, partial(TOTAL, net_sym(o), key), Add(terms))
    pairing = PAIRINGS.get((act.name, n.spec.loss))
    simplified = None
    if pairing:
        steps = pairing.steps([target_sym(k) for k in n.outputs], [out_sym(k) for k in n.outputs], o.index)
        simplified = b.also(key, partial(TOTAL, net_sym(o), key), *steps)
    return {"dE_douts": tuple(d_outs[k] for k in n.outputs), "jacobian": jacobian, "signal": signal,
            "simplified": simplified}


def _hidden_layer(b: _Builder, layer: int, forward: Section) -> Section:
    n = b.network
    sequential = n.spec.update == "sequential"
    above = n.layers[layer + 1]
    to_outputs = above is n.outputs
    # Element-wise outputs pass their errors E_k down one by one, as the source
    # writes it; softmax outputs (and hidden layers) pass ∂E_total/∂net down.
    per_output = to_outputs and not _coupled_outputs(n)
    by_name = {s.subject: s for s in forward.steps}
    signals = {k: _signal(b, k) for k in above}

    steps = []
    for h in n.layers[layer]:
        links, contributions, terms = [], [], []
        for k in above:
            w = next(x for x in n.incoming(k) if x.source == h)
            factor = b.local_factor(k, h.out_key)
            if sequential:  # the weight above, already updated
                factor = updated_sym(w)
            link = b.define(f"d{k.net_key}/d{h.out_key}", partial(net_sym(k), out_sym(h)), factor)
            links.append(link)
            product = Mul((signals[k].forms[0], partial(net_sym(k), out_sym(h))))
            if per_output:
                contributions.append(b.define(f"dE_{k.name}/d{h.out_key}", partial(error_sym(k), out_sym(h)), product))
                terms.append(partial(error_sym(k), out_sym(h)))
            else:
                terms.append(product)
        total = b.define(f"dE_total/d{h.out_key}", partial(TOTAL, out_sym(h)), Add(tuple(terms)))
        act = _activation(n, h)
        d_net = b.define(f"d{h.out_key}/d{h.net_key}", partial(out_sym(h), net_sym(h)), act.derivative(out_sym(h), net_sym(h)))
        neuron_eqs = {"signals": tuple(signals.values()), "links": tuple(links), "contributions": tuple(contributions),
                      "above_nets": tuple(by_name[k.name].eq["net"] for k in above),
                      "total": total, "activation": by_name[h.name].eq["out"], "dout_dnet": d_net,
                      "net": by_name[h.name].eq["net"]}
        head = (partial(TOTAL, out_sym(h)), partial(out_sym(h), net_sym(h)))
        for i, w in enumerate(n.incoming(h)):
            eqs = {**neuron_eqs, **_weight_gradient(b, w, head)}
            steps.append(Step("hidden_weight", w.key, eqs, h.index == 0 and i == 0,
                              {"neuron": h.name, "first_of_neuron": i == 0, "weight": w, "to_outputs": per_output,
                               "above": above, "sequential": sequential}))
    biases = _bias_steps(b, layer) if n.spec.train_biases else []
    return Section("hidden_layer", tuple(steps), {"layer": layer, "to_outputs": per_output,
                                                  "last": layer == len(n.layers) - 2, "biases": tuple(biases)})


def _sample_sections(b: _Builder) -> list[Section]:
    """The forward pass, the error and the backwards pass of one sample."""
    n = b.network
    forward = _forward(b)
    sections = [forward, _error(b), _output_layer(b, forward)]
    sections += [_hidden_layer(b, layer, forward) for layer in range(len(n.layers) - 2, 0, -1)]
    return sections


def _updated_point(n: Network, values: Mapping[str, mpmath.mpf], updated: Callable[[Parameter], str]) -> dict:
    """The shared parameters with the trained ones replaced by their values under ``updated(p)``."""
    point = {k: numeric.mp(v) for k, v in n.shared_values().items()}
    point.update({p.key: values[updated(p)] for p in n.trained_parameters()})
    return point


def _after_one_round(b: _Builder) -> Section:
    n = b.network
    updated = {**b.values, **_updated_point(n, b.values, lambda p: p.updated_key)}
    error, outs = numeric.forward_error(n, updated)
    b.values["E_total@1"] = error
    for o, value in zip(n.outputs, outs):
        b.values[f"{o.out_key}@1"] = value
    updates = tuple(b.equations[p.updated_key] for p in n.trained_parameters())
    return Section("one_round", (Step("updated_weights", "weights", {"updates": updates}, True),),
                   {"improved": error < b.values["E_total"]})


def _training_values(n: Network, training: numeric.Training) -> dict[str, mpmath.mpf]:
    N = training.iterations
    several = len(n.spec.samples) > 1
    values = {f"E_total@{N}": mpmath.mpf(training.error)}
    for s, outputs in enumerate(training.outputs, start=1):
        for o, value in zip(n.outputs, outputs):
            values[f"{sample_key(o.out_key, s) if several else o.out_key}@{N}"] = mpmath.mpf(value)
    for w, value in zip(n.weights, training.weights):
        values[f"{w.key}@{N}"] = mpmath.mpf(value)
    if n.spec.train_biases:
        for bias, value in zip(n.biases, training.biases):
            values[f"{bias.key}@{N}"] = mpmath.mpf(value)
    return values


def _training_section(values: Mapping[str, mpmath.mpf], training: numeric.Training) -> Section:
    iterations = training.iterations
    error = values[f"E_total@{iterations}"]
    return Section("training", (), {"iterations": iterations, "improved": error < values["E_total@1"],
                                    "diverged": not mpmath.isfinite(error), "history": training.history})


# --- checks ---------------------------------------------------------------------


def _check_gradients(b: _Builder, composed: checks.ComposedGradients | None) -> None:
    """The builder's gradients against central differences and, when given, the composed E_total."""
    n = b.network
    point = {k: v for k, v in b.values.items() if k in b.parameters}
    gradient = {p.key: b.values[f"dE_total/d{p.key}"] for p in checks.checked_parameters(n)}
    if not checks.near_a_kink(n, b.values):
        checks.check_differences(lambda at: numeric.forward_error(n, at)[0], point, gradient,
                                 len(n.weights) <= SMALL_NETWORK, lambda at: checks.kink_sides(n, at))
    if composed is not None:
        composed.check(point, gradient)


# --- several samples -------------------------------------------------------------


def _suffixed_sections(sections: list[Section], rename: Callable[[str], str]) -> list[Section]:
    """Sections whose quantities' keys are passed through ``rename`` (sample 1's, for the document)."""

    def equation(eq):
        if isinstance(eq, Equation):
            return Equation(None if eq.key is None else rename(eq.key), rekey(eq.forms, rename))
        if isinstance(eq, tuple):
            return tuple(equation(e) for e in eq)
        return eq

    def step(st: Step) -> Step:
        facts = dict(st.facts)
        return Step(st.kind, st.subject, {k: equation(v) for k, v in st.eq.items()}, st.first, facts)

    def section(sec: Section) -> Section:
        facts = {k: tuple(step(x) for x in v) if k == "biases" else v for k, v in sec.facts.items()}
        return Section(sec.kind, tuple(step(x) for x in sec.steps), facts)

    return [section(sec) for sec in sections]


def _combine_section(n: Network, values: Mapping[str, mpmath.mpf], parameters: Mapping[str, mpmath.mpf]) -> _Builder:
    """The batch: E_total and each gradient combined from the samples' own, then the updates.

    Returns the builder that defined them, with the section as ``section``.
    """
    count = len(n.spec.samples)
    mean = n.spec.reduction == "mean"

    def combined(parts):
        body = Add(tuple(parts))
        return Mul((Frac(Num("1"), Num(str(count))), Paren(body)), juxtapose=True) if mean else body

    b = _Builder(n, {**parameters, **values})
    error = b.define("E_total", TOTAL, combined(sample_total_sym(s) for s in range(1, count + 1)))
    steps = [Step("batch_error", "E_total", {"error": error}, True)]
    # The parameter worked in full: the first weight of the output layer, as in the sample's derivation.
    featured = n.incoming(n.outputs[0])[0]
    for p in n.trained_parameters():
        parts = [partial(sample_total_sym(s), param_sym(p), sample_key(f"dE_total/d{p.key}", s))
                 for s in range(1, count + 1)]
        gradient = b.define(f"dE_total/d{p.key}", partial(TOTAL, param_sym(p)), combined(parts))
        update = b.define(p.updated_key, updated_sym(p),
                          Add((param_sym(p), Neg(Mul((ETA, partial(TOTAL, param_sym(p))))))))
        steps.append(Step("batch_gradient", p.key, {"gradient": gradient, "new_weight": update}, p == featured,
                          {"parameter": p}))
    b.section = Section("combine", tuple(steps), {"samples": count, "mean": mean})
    return b


# --- the whole derivation -------------------------------------------------------


class Derivation:
    """The derivation of one spec: ``sections`` (the document as data) and ``values``."""

    def __init__(self, spec: Spec) -> None:
        # The printed derivatives of every activation and loss are proved by the
        # test suite (tests/test_functions.py): the proof does not depend on the
        # spec.  Here the numbers are checked, against central differences and,
        # for small networks, sympy.diff of the composed error.
        check_size(spec, "values")
        self.spec = spec
        self.network = network = Network(spec)
        with mpmath.workdps(numeric.PRECISION):
            composed = checks.ComposedGradients.for_network(network) if len(network.weights) <= SMALL_NETWORK else None
            if len(spec.samples) == 1:
                self._one_sample(composed)
            else:
                self._several_samples(composed)

    def _one_sample(self, composed) -> None:
        n = self.network
        point = {k: numeric.mp(v) for k, v in n.parameter_values().items()}
        b = _Builder(n, point, written=n.sample_values(0))
        sections = [Section("network", ()), *_sample_sections(b)]
        if self.spec.iterations >= 1:
            sections.append(_after_one_round(b))
        if self.spec.iterations > 1:
            training = train(n, self.spec.iterations)
            b.values.update(_training_values(n, training))
        _check_gradients(b, composed)
        if self.spec.iterations > 1:
            sections.append(_training_section(b.values, training))
        self.sections: tuple[Section, ...] = tuple(sections)
        self.equations: dict[str, Equation] = b.equations
        self.parameters: dict[str, mpmath.mpf] = {k: v for k, v in b.values.items() if k in b.parameters}
        self.values: dict[str, mpmath.mpf] = {k: v for k, v in b.values.items() if k not in b.parameters}

    def _several_samples(self, composed) -> None:
        n, spec = self.network, self.spec
        stochastic = spec.mode == "stochastic"
        shared_keys = frozenset(n.shared_values())
        point = {k: numeric.mp(v) for k, v in n.shared_values().items()}
        initial = dict(point)
        values: dict[str, mpmath.mpf] = {}
        parameters: dict[str, mpmath.mpf] = dict(point)
        equations: dict[str, Equation] = {}
        factors: dict = {}
        sections = [Section("network", ())]
        for index in range(len(spec.samples)):
            s = index + 1

            def rename(key: str, s=s) -> str:
                return key if key in shared_keys else sample_key(key, s)

            data = n.sample_values(index, numeric.mp)
            b = _Builder(n, {**point, **data}, updates=stochastic, factors=factors, written=n.sample_values(index))
            worked = _sample_sections(b)
            _check_gradients(b, composed)
            if index == 0:
                sections += _suffixed_sections(worked, rename)
                equations.update({rename(k): Equation(rename(k), rekey(eq.forms, rename)) for k, eq in b.equations.items()})
            parameters.update({rename(k): v for k, v in data.items()})
            values.update({rename(k): v for k, v in b.values.items() if k not in b.parameters})
            if stochastic:
                point = _updated_point(n, b.values, lambda p: p.updated_key)
        if stochastic:
            error, _ = numeric.batch_error(n, initial)
            values["E_total"] = error
            values.update({p.updated_key: point[p.key] for p in n.trained_parameters()})
            sections.append(Section("samples", (), {"samples": len(spec.samples)}))
        else:
            combined = _combine_section(n, values, initial)
            values.update({k: v for k, v in combined.values.items() if k not in combined.parameters})
            equations.update(combined.equations)
            sections.append(combined.section)
            self._check_batch(values, initial)
        if spec.iterations >= 1:
            after = _updated_point(n, values, lambda p: p.updated_key)
            error, outputs = numeric.batch_error(n, after)
            values["E_total@1"] = error
            for s, outs in enumerate(outputs, start=1):
                values.update({f"{sample_key(o.out_key, s)}@1": v for o, v in zip(n.outputs, outs)})
            sections.append(Section("one_round", (), {"improved": error < values["E_total"]}))
        if spec.iterations > 1:
            training = train(n, spec.iterations)
            values.update(_training_values(n, training))
            sections.append(_training_section(values, training))
        self.sections = tuple(sections)
        self.equations = equations
        self.parameters = parameters
        self.values = values

    def _check_batch(self, values: dict, point: dict) -> None:
        """The batch's gradient against central differences of the batch's E_total."""
        n = self.network
        gradient = {p.key: values[f"dE_total/d{p.key}"] for p in n.trained_parameters()}
        near = any(checks.near_a_kink(n, values, lambda key, s=s: sample_key(key, s))
                   for s in range(1, len(n.spec.samples) + 1))
        if not near:
            samples = len(n.spec.samples)
            checks.check_differences(lambda at: numeric.batch_error(n, at)[0], point, gradient, one_by_one=False,
                                     sides=lambda at: checks.kink_sides(n, at, samples))

    def section(self, kind: str) -> Section | None:
        return next((s for s in self.sections if s.kind == kind), None)

    @property
    def several_samples(self) -> bool:
        return len(self.spec.samples) > 1

    def spec_parameters(self) -> dict:
        """Weights, biases, inputs, targets and η as the user wrote them (Decimal)."""
        n = self.network
        if not self.several_samples:
            return n.parameter_values()
        values = dict(n.shared_values())
        for index in range(len(self.spec.samples)):
            values.update({sample_key(k, index + 1): v for k, v in n.sample_values(index).items()})
        return values

    @property
    def follows_source(self) -> bool:
        """True for the source's own network and data: the document then notes the source's mistakes."""
        builtin = load_spec()
        same = ("layers", "activations", "loss", "weights", "biases", "shared_biases", "samples", "learning_rate")
        return all(getattr(self.spec, name) == getattr(builtin, name) for name in same)

    def float_values(self) -> dict[str, float]:
        """Every quantity as the nearest double, in document order."""
        return {key: float(value) for key, value in self.values.items()}

    @classmethod
    def of(cls, spec: Spec | Mapping | str | None = None):
        """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example)."""
        return cls(spec if isinstance(spec, Spec) else load_spec(spec))


def derive(spec: Spec | Mapping | str | None = None) -> Derivation:
    """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example)."""
    return Derivation.of(spec)
