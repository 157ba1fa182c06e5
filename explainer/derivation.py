"""The derivation as data: sections of steps, each step a few equation chains.

Every equation is computed from its own formula at high precision as it is
defined, and every other form it shows is checked to give the same number.
The chain-rule factors come from ``sympy.diff`` of each neuron's local
definition; the gradients they multiply to are checked against a central
difference of E_total and, for small networks, against ``sympy.diff`` of the
fully composed E_total.  A disagreement raises ``DerivationMismatch``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import mpmath

from . import numeric
from .errors import DerivationMismatch
from .functions import ACTIVATIONS, LOSSES
from .limits import check_size
from .network import Network, Neuron, Parameter, Weight
from .notation import Add, Mul, Neg, Num, Partial, Pow, Paren, Sym, evaluate
from .spec import Spec, load_spec

# Up to this many weights the fully composed E_total is differentiated by SymPy
# and every weight gets its own finite difference; beyond it the composed
# expression grows too fast, and the directional differences still check all.
SMALL_NETWORK = 40
TOLERANCE = mpmath.mpf("1e-30")


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


def partial(of: Sym, wrt: Sym, key: str | None = None) -> Partial:
    """∂of/∂wrt, its value under ``key`` (default: the key made of both names)."""
    return Partial(of, wrt, key or f"d{of.key}/d{wrt.key}")


# --- building -------------------------------------------------------------------


class _Builder:
    """Defines quantities one by one, computing and checking each as it goes."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.values: dict[str, mpmath.mpf] = {k: numeric.mp(v) for k, v in network.parameter_values().items()}
        self.parameters = frozenset(self.values)
        self.equations: dict[str, Equation] = {}

    def define(self, key: str, *forms) -> Equation:
        value = evaluate(forms[-1], self.values)
        for form in forms[1:-1]:
            self.agree(key, evaluate(form, self.values), value, "a printed form")
        self.values[key] = value
        self.equations[key] = equation = Equation(key, forms)
        return equation

    @staticmethod
    def agree(key: str, got, expected, what: str) -> None:
        if abs(got - expected) > TOLERANCE * max(1, abs(expected)):
            raise DerivationMismatch(f"{key}: {what} gives {got}, the derivation {expected}")

    def local_factor(self, neuron: Neuron, weight: Weight, wrt_key: str) -> Sym:
        """∂net/∂(wrt) of ``neuron`` by ``sympy.diff``, as a printed name.

        Only the term ``weight · out`` of the net input holds ``wrt`` (the weight
        or its source's output); the other terms' derivatives are 0, so SymPy
        differentiates that one term and the cost does not grow with the fan-in.
        """
        import sympy

        term = self.network.net_terms(neuron)[weight.key]
        derivative = sympy.Derivative(term, self.network.symbols(wrt_key), evaluate=True)
        if not isinstance(derivative, sympy.Symbol):
            raise DerivationMismatch(f"d{neuron.net_key}/d{wrt_key} is {derivative}, not one quantity")
        return self.names[derivative.name]

    @property
    def names(self) -> dict[str, Sym]:
        if not hasattr(self, "_names"):
            n = self.network
            syms = [out_sym(x) for layer in n.layers for x in layer] + [param_sym(p) for p in (*n.weights, *n.biases)]
            self._names = {s.key: s for s in syms}
        return self._names


def _net_form(network: Network, neuron: Neuron):
    terms = [Mul((param_sym(w), out_sym(w.source))) for w in network.incoming(neuron)]
    return Add((*terms, Mul((param_sym(network.bias(neuron)), Num("1")))))


def _forward(b: _Builder) -> Section:
    n = b.network
    steps = []
    for layer in n.layers[1:]:
        activation = ACTIVATIONS[n.activation(layer[0])]
        role = "output" if layer is n.outputs else "hidden"
        for neuron in layer:
            net = b.define(neuron.net_key, net_sym(neuron), _net_form(n, neuron))
            out = b.define(neuron.out_key, out_sym(neuron), activation.formula(net_sym(neuron)))
            steps.append(
                Step("neuron_forward", neuron.name, {"net": net, "out": out}, neuron.index == 0,
                     {"role": role, "layer": neuron.layer, "activation": activation.name})
            )
    return Section("forward", tuple(steps))


def _error(b: _Builder) -> Section:
    n = b.network
    loss = LOSSES[n.spec.loss]
    steps = [Step("loss_formula", "E_total", {"formula": Equation(None, (TOTAL, Sym(loss.total_tex)))}, True)]
    for o in n.outputs:
        e = b.define(f"E_{o.name}", error_sym(o), loss.term(target_sym(o), out_sym(o)))
        steps.append(Step("output_error", o.name, {"error": e}, o.index == 0))
    total = b.define("E_total", TOTAL, Add(tuple(error_sym(o) for o in n.outputs)))
    steps.append(Step("total_error", "E_total", {"total": total}, True))
    return Section("error", tuple(steps))


def _weight_gradient(b: _Builder, w: Weight, out_factor: Partial) -> dict[str, Equation]:
    """∂net/∂w, the chain-rule product and the update of one weight."""
    n = b.network
    dest = w.target
    others = [Num("0") for x in n.incoming(dest) if x != w] + [Num("0")]
    rule = Add((Mul((Num("1"), out_sym(w.source), Pow(param_sym(w), Paren(Add((Num("1"), Neg(Num("1")))))))), *others))
    dnet = b.define(f"d{dest.net_key}/d{w.key}", partial(net_sym(dest), param_sym(w)), rule, b.local_factor(dest, w, w.key))
    chain = Mul((out_factor, partial(out_sym(dest), net_sym(dest)), partial(net_sym(dest), param_sym(w))))
    gradient = b.define(f"dE_total/d{w.key}", partial(TOTAL, param_sym(w)), chain)
    update = b.define(
        w.updated_key, updated_sym(w),
        Add((param_sym(w), Neg(Mul((ETA, partial(TOTAL, param_sym(w))))))),
    )
    return {"dnet_dw": dnet, "gradient": gradient, "new_weight": update}


def _output_layer(b: _Builder, forward: Section) -> Section:
    n = b.network
    loss = LOSSES[n.spec.loss]
    expanded = Equation(None, (TOTAL, Add(tuple(loss.term(target_sym(o), out_sym(o)) for o in n.outputs))))
    by_name = {s.subject: s for s in forward.steps}
    steps = []
    for o in n.outputs:
        activation = ACTIVATIONS[n.activation(o)]
        power_rule, *simpler = loss.derivative_steps(target_sym(o), out_sym(o))
        zeros = [Num("0") for _ in n.outputs[1:]]
        d_out = b.define(f"dE_total/d{o.out_key}", partial(TOTAL, out_sym(o)), Add((power_rule, *zeros)), *simpler)
        d_net = b.define(f"d{o.out_key}/d{o.net_key}", partial(out_sym(o), net_sym(o)), activation.derivative(out_sym(o), net_sym(o)))
        neuron_eqs = {"expanded": expanded, "dE_dout": d_out, "activation": by_name[o.name].eq["out"],
                      "dout_dnet": d_net, "net": by_name[o.name].eq["net"]}
        for i, w in enumerate(n.incoming(o)):
            eqs = {**neuron_eqs, **_weight_gradient(b, w, partial(TOTAL, out_sym(o)))}
            steps.append(Step("output_weight", w.key, eqs, o.index == 0 and i == 0,
                              {"neuron": o.name, "first_of_neuron": i == 0, "weight": w}))
    return Section("output_layer", tuple(steps), {"layer": len(n.layers) - 1})


def _hidden_layer(b: _Builder, layer: int, forward: Section) -> Section:
    n = b.network
    sequential = n.spec.update == "sequential"
    above = n.layers[layer + 1]
    to_outputs = above is n.outputs
    by_name = {s.subject: s for s in forward.steps}

    # The error signal of each neuron above, ∂E/∂net, used by every neuron below it.
    signals = {}
    for k in above:
        if to_outputs:
            of, key = error_sym(k), f"dE_{k.name}/d{k.net_key}"
            factor = partial(error_sym(k), out_sym(k), f"dE_total/d{k.out_key}")
        else:
            of, key = TOTAL, f"dE_total/d{k.net_key}"
            factor = partial(TOTAL, out_sym(k))
        signals[k] = b.define(key, partial(of, net_sym(k), key), Mul((factor, partial(out_sym(k), net_sym(k)))))

    steps = []
    for h in n.layers[layer]:
        links, contributions, terms = [], [], []
        for k in above:
            w = next(x for x in n.incoming(k) if x.source == h)
            factor = b.local_factor(k, w, h.out_key)
            if sequential:  # the weight above, already updated
                factor = updated_sym(w)
            link = b.define(f"d{k.net_key}/d{h.out_key}", partial(net_sym(k), out_sym(h)), factor)
            links.append(link)
            signal = partial(signals[k].forms[0].of, net_sym(k), signals[k].key)
            product = Mul((signal, partial(net_sym(k), out_sym(h))))
            if to_outputs:
                contributions.append(b.define(f"dE_{k.name}/d{h.out_key}", partial(error_sym(k), out_sym(h)), product))
                terms.append(partial(error_sym(k), out_sym(h)))
            else:
                terms.append(product)
        total = b.define(f"dE_total/d{h.out_key}", partial(TOTAL, out_sym(h)), Add(tuple(terms)))
        activation = ACTIVATIONS[n.activation(h)]
        d_net = b.define(f"d{h.out_key}/d{h.net_key}", partial(out_sym(h), net_sym(h)), activation.derivative(out_sym(h), net_sym(h)))
        neuron_eqs = {"signals": tuple(signals.values()), "links": tuple(links), "contributions": tuple(contributions),
                      "above_nets": tuple(by_name[k.name].eq["net"] for k in above),
                      "total": total, "activation": by_name[h.name].eq["out"], "dout_dnet": d_net,
                      "net": by_name[h.name].eq["net"]}
        for i, w in enumerate(n.incoming(h)):
            eqs = {**neuron_eqs, **_weight_gradient(b, w, partial(TOTAL, out_sym(h)))}
            steps.append(Step("hidden_weight", w.key, eqs, h.index == 0 and i == 0,
                              {"neuron": h.name, "first_of_neuron": i == 0, "weight": w, "to_outputs": to_outputs,
                               "above": above, "sequential": sequential}))
    return Section("hidden_layer", tuple(steps), {"layer": layer, "to_outputs": to_outputs, "last": layer == len(n.layers) - 2})


def _after_one_round(b: _Builder) -> Section:
    n = b.network
    updated = dict(b.values)
    updated.update({w.key: b.values[w.updated_key] for w in n.weights})
    error, outs = numeric.forward_error(n, updated)
    b.values["E_total@1"] = error
    for o, value in zip(n.outputs, outs):
        b.values[f"{o.out_key}@1"] = value
    updates = tuple(b.equations[w.updated_key] for w in n.weights)
    return Section("one_round", (Step("updated_weights", "weights", {"updates": updates}, True),))


def _training(b: _Builder, training: numeric.Training) -> Section:
    n = b.network
    N = training.iterations
    b.values[f"E_total@{N}"] = mpmath.mpf(training.error)
    for o, value in zip(n.outputs, training.outputs):
        b.values[f"{o.out_key}@{N}"] = mpmath.mpf(value)
    for w, value in zip(n.weights, training.weights):
        b.values[f"{w.key}@{N}"] = mpmath.mpf(value)
    return Section("training", (), {"iterations": N, "history": training.history})


# --- checks ---------------------------------------------------------------------


def _checked_weights(n: Network) -> tuple[Weight, ...]:
    """The weights whose printed gradient is the true ∂E_total/∂w.

    With the sequential update the hidden layers' gradients are taken with the
    already-updated weights above them, on purpose: only the output layer's
    are gradients of E_total at the starting point.
    """
    if n.spec.update == "sequential":
        return n.weights_into_layer(len(n.layers) - 1)
    return n.weights


def _check_gradients(b: _Builder) -> None:
    n = b.network
    weights = _checked_weights(n)
    point = {k: v for k, v in b.values.items() if k in b.parameters}
    gradient = {w.key: b.values[f"dE_total/d{w.key}"] for w in weights}
    # Directional differences check every component at once, in linear time.
    for seed in (1, 2):
        direction = {w.key: ((i * 7919 + seed * 104729) % 13) - 6 for i, w in enumerate(weights)}
        expected = mpmath.fsum(c * gradient[k] for k, c in direction.items())
        got = numeric.directional_difference(n, point, direction)
        if abs(got - expected) > mpmath.mpf("1e-20") * max(1, abs(expected)):
            raise DerivationMismatch(f"the gradient disagrees with a central difference ({got} vs {expected})")
    if len(n.weights) <= SMALL_NETWORK:
        for w in weights:
            got = numeric.directional_difference(n, point, {w.key: 1})
            if abs(got - gradient[w.key]) > mpmath.mpf("1e-20") * max(1, abs(gradient[w.key])):
                raise DerivationMismatch(f"dE_total/d{w.key} disagrees with a central difference")
        _check_composed(b, weights, point, gradient)


def composed_error(network: Network):
    """E_total as one SymPy expression in the weights, biases, inputs and targets."""
    import sympy

    s = network.symbols
    loss = LOSSES[network.spec.loss]
    from .notation import to_sympy

    outs = {}
    for layer in network.layers[1:]:
        activation = ACTIVATIONS[network.activation(layer[0])]
        f = to_sympy(activation.formula(Sym("net", "net")), lambda key: s(key))
        layer_outs = {}
        for neuron in layer:
            net = network.net_definition(neuron).xreplace(outs)
            layer_outs[s(neuron.out_key)] = f.xreplace({s("net"): net})
        outs.update(layer_outs)
    terms = [
        to_sympy(loss.term(target_sym(o), out_sym(o)), lambda key: s(key)).xreplace({s(o.out_key): outs[s(o.out_key)]})
        for o in network.outputs
    ]
    return sympy.Add(*terms)


def _check_composed(b: _Builder, weights, point, gradient) -> None:
    import sympy

    n = b.network
    s = n.symbols
    total = composed_error(n)
    # Replacing the symbols by 50-digit Floats evaluates the derivative at that
    # precision as it rebuilds it, several times faster than evalf(subs=...).
    at = {s(k): sympy.Float(mpmath.nstr(v, numeric.PRECISION), numeric.PRECISION) for k, v in point.items()}
    for w in weights:
        exact = sympy.Derivative(total, s(w.key), evaluate=True).xreplace(at)
        b.agree(f"dE_total/d{w.key}", mpmath.mpf(str(exact)), gradient[w.key], "sympy.diff of the composed E_total")


# --- the whole derivation -------------------------------------------------------


class Derivation:
    """The derivation of one spec: ``sections`` (the document as data) and ``values``."""

    def __init__(self, spec: Spec) -> None:
        check_size(spec, "values")
        self.spec = spec
        self.network = network = Network(spec)
        with mpmath.workdps(numeric.PRECISION):
            b = _Builder(network)
            forward = _forward(b)
            sections = [Section("network", ()), forward, _error(b), _output_layer(b, forward)]
            sections += [_hidden_layer(b, layer, forward) for layer in range(len(spec.layers) - 2, 0, -1)]
            if spec.iterations >= 1:
                sections.append(_after_one_round(b))
            if spec.iterations > 1:
                sections.append(_training(b, numeric.train(network, spec.iterations)))
            _check_gradients(b)
        self.sections: tuple[Section, ...] = tuple(sections)
        self.equations: dict[str, Equation] = b.equations
        self.parameters: dict[str, mpmath.mpf] = {k: v for k, v in b.values.items() if k in b.parameters}
        self.values: dict[str, mpmath.mpf] = {k: v for k, v in b.values.items() if k not in b.parameters}

    def section(self, kind: str) -> Section | None:
        return next((s for s in self.sections if s.kind == kind), None)

    def spec_parameters(self) -> dict:
        """Weights, biases, inputs, targets and η as the user wrote them (Decimal)."""
        return self.network.parameter_values()

    @property
    def follows_source(self) -> bool:
        """True for the source's own network and data: the document then notes the source's mistakes."""
        builtin = load_spec()
        same = ("layers", "activations", "loss", "weights", "biases", "shared_biases", "inputs", "targets", "learning_rate")
        return all(getattr(self.spec, name) == getattr(builtin, name) for name in same)

    def float_values(self) -> dict[str, float]:
        """Every quantity as the nearest double, in document order."""
        return {key: float(value) for key, value in self.values.items()}

    def to_markdown(self, **options) -> str:
        """Options: ``decimals``/``digits``, ``detail``, ``flavor`` (github, mkdocs, myst, pandoc)."""
        from .render import render

        return render(self, "markdown", **options)

    def to_latex(self, **options) -> str:
        from .render import render

        return render(self, "latex", **options)

    def to_html(self, **options) -> str:
        """One self-contained page, math as MathML; ``standalone=False`` for a fragment."""
        from .render import render

        return render(self, "html", **options)

    # Jupyter shows the richest of these it can: the HTML in a notebook, the
    # LaTeX when nbconvert writes a PDF, the Markdown elsewhere.
    def _repr_markdown_(self) -> str:
        return self.to_markdown(standalone=False)

    def _repr_latex_(self) -> str:
        return self.to_latex(standalone=False)

    def _repr_html_(self) -> str:
        return self.to_html(standalone=False)


def derive(spec: Spec | Mapping | str | None = None) -> Derivation:
    """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example)."""
    return Derivation(spec if isinstance(spec, Spec) else load_spec(spec))
