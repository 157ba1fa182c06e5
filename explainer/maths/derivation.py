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

import contextlib
import functools
import gc
import json
from dataclasses import dataclass, field
from typing import Callable, Mapping

import mpmath
from mpmath.libmp import finf, fnan, fninf

from ..spec.errors import DerivationMismatch, SpecError
from ..spec.limits import check_size
from ..spec.reading import Spec, load_spec
from . import checks, numeric, shapes
from .checks import composed_error  # noqa: F401  (part of the module's interface, used by the tests)
from .formulas import (
    Hadamard,
    Matrix,
    Transpose,
    Add,
    Frac,
    Mul,
    Neg,
    Num,
    Paren,
    Partial,
    Pow,
    Sym,
    ZERO,
    evaluate,
    rekey,
)
from .functions import LOSSES, PAIRINGS, activation
from .network import Network, Neuron, Parameter, Weight
from .optimizers import (
    HYPER_SYMBOLS,
    REGULARISED,
    STATE,
    Quantities,
    hyper_parameters,
    l2,
    regularised_gradient_key,
    roles,
    rule,
    state_sym,
)
from .batches import first_round
from .training import train

# Up to this many weights the fully composed E_total is differentiated by SymPy
# (if it is not too large, see checks.COMPOSED_WORK) and every weight
# gets its own finite difference; beyond it the directional differences still
# check all.
SMALL_NETWORK = 40
# mpmath's infinities and NaN, as their representations.
_NOT_FINITE = (finf, fninf, fnan)


@dataclass(frozen=True, slots=True)
class Equation:
    """``forms[0] = forms[1] = …``, then (when shown with numbers) the last form
    with the printed numbers substituted, then the value of ``key``."""

    key: str | None
    forms: tuple


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the document works out; ``kind`` names the words the template uses."""

    kind: str
    subject: str
    eq: Mapping[str, object]
    first: bool = False  # the first of its kind: written in full even at --detail source
    facts: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Section:
    kind: str
    steps: tuple[Step, ...]
    facts: Mapping[str, object] = field(default_factory=dict)


# --- the printed names of quantities ---------------------------------------------


# A network's quantities are named again and again (a weight's symbol is in a dozen formulas):
# one record for each name, shared by every formula that holds it.


def out_sym(n: Neuron) -> Sym:
    return n.out_sym


def net_sym(n: Neuron) -> Sym:
    return n.net_sym


def param_sym(p: Parameter) -> Sym:
    return p.sym


def updated_sym(p: Parameter) -> Sym:
    return p.updated_sym


def target_sym(o: Neuron) -> Sym:
    return Sym(o.names.target if o.names else f"target_{{{o.tex}}}", f"target_{o.name}")


def error_sym(o: Neuron) -> Sym:
    return Sym(o.names.error if o.names else f"E_{{{o.tex}}}", f"E_{o.name}")


TOTAL = Sym("E_{total}", "E_total")
# The numbers a local derivative is written with; formulas are immutable, so every use shares one.
ONE = Num("1")
ZERO_POWER = Paren(Add((ONE, Neg(ONE))))  # w^(1 - 1): the power of w after differentiating w · out
ETA = Sym(r"\eta", "eta")


def sample_total_sym(s: int, naming=None) -> Sym:
    """E_total of sample ``s`` alone: ``E_total[s]``, printed with the sample as a superscript."""
    return Sym(naming.sample_total(s) if naming else f"E_{{total}}^{{({s})}}", f"E_total[{s}]")


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
    ``document`` False: only the values are wanted.  Every quantity is still
    defined and every form of it built and checked, but the steps a document
    would show are not kept, nor the equations no later step reads: a large
    network's values then need memory for the values, not for the formulas.
    """

    def __init__(self, network: Network, point: Mapping[str, mpmath.mpf], updates: bool = True,
                 factors: dict | None = None, written: Mapping | None = None, document: bool = True) -> None:
        self.network = network
        self.document = document
        # the sample's inputs and targets as the user wrote them (Decimal)
        self.written_sample = written or {}
        self.values: dict[str, mpmath.mpf] = dict(point)
        # The optimizer's hyper-parameters are parameters like η (none for plain gradient descent).
        self.values.update({k: numeric.mp(v) for k, v in hyper_parameters(network.spec.optimizer).items()})
        self.parameters = frozenset(self.values)
        self.equations: dict[str, Equation] = {}
        self.updates = updates
        # ∂net/∂x depends only on the shape: shared by every derivation of it.
        work = shapes.work_for(network.spec)
        self._factors = work.factors if factors is None else factors
        # A small network's formulas are compiled for the shape (a class evaluates them at many points);
        # a large one's are many and evaluated once.
        self._tables = work.tables if len(network.weights) <= SMALL_NETWORK else None
        n = network
        syms = [out_sym(x) for layer in n.layers for x in layer] + [param_sym(p) for p in (*n.weights, *n.biases)]
        self.names = {s.key: s for s in syms}
        # E_total and η in the notation's symbols (the keys stay canonical).
        self.total = Sym(n.naming.total, TOTAL.key)
        self.delta_keys: set[str] = set()  # the error signals only the delta rule defines
        self.eta = Sym(n.naming.eta, ETA.key)

    def evaluate(self, form) -> mpmath.mpf:
        """``formulas.evaluate`` of ``form`` at the builder's values (compiled for the shape where it is small)."""
        if self._tables is None:
            return evaluate(form, self.values)
        return numeric.formula_function(self._tables, form)(self.values)

    def define(self, key: str, *forms, recall: bool = False) -> Equation:
        """``key`` defined by its forms: the last one computes it, each other one is checked to give the same.

        ``recall``: a later step reads its equation, so it is kept even without a document."""
        try:
            value = self.evaluate(forms[-1])
        except ZeroDivisionError:
            value = mpmath.nan
        finite = value._mpf_ not in _NOT_FINITE if isinstance(value, mpmath.mpf) else mpmath.isfinite(value)
        if not finite:
            # Only a saturated output gets here (a sigmoid of exactly 1 at 50 digits, a logarithm of 0).
            raise SpecError(self.network.spec.source, "network.weights",
                            f"{key} is not a finite number at {numeric.PRECISION} digits because an output has "
                            "saturated; expected smaller weights, biases or inputs")
        for form in forms[1:-1]:
            self.agree(key, self.evaluate(form), value, "a printed form")
        self.values[key] = value
        equation = Equation(key, forms)
        if self.document or recall:
            self.equations[key] = equation
        return equation

    def once(self, key: str, build: Callable[[], Equation]) -> Equation:
        """The equation of ``key``, built the first time it is needed."""
        if key not in self.equations:
            self.equations[key] = build()
        return self.equations[key]

    def also(self, key: str, *forms) -> Equation:
        """Further forms of a defined quantity, each checked to give its value."""
        for form in forms[1:]:
            self.agree(key, self.evaluate(form), self.values[key], "a simplified form")
        return Equation(key, forms)

    @staticmethod
    def agree(key: str, got, expected, what: str) -> None:
        # Most forms give their quantity's very number, which agrees at any tolerance: the comparison of
        # the two numbers' representations decides it at once (mpmath keeps them normalized).
        if getattr(got, "_mpf_", got) == getattr(expected, "_mpf_", expected):
            return
        if checks.disagree(got, expected, checks.EXACT_TOLERANCE):
            raise DerivationMismatch(f"{key}: {what} gives {got}, the derivation {expected}")

    def local_factor(self, neuron: Neuron, wrt_key: str):
        """∂net/∂(wrt) of ``neuron`` by ``sympy.diff`` of its local definition: a printed name, or 1.

        Only one term of the net input holds ``wrt`` (a weight, a bias, or the
        output a weight multiplies); the other terms' derivatives are 0.  Every
        such term has one of two forms, ``w · out`` or ``b``, so SymPy
        differentiates each form once, with placeholder symbols, and the term's
        own quantities are put in the placeholders' places: the cost does not
        grow with the fan-in, and barely with the number of weights.
        """
        cache_key = (neuron.name, wrt_key)
        if cache_key not in self._factors:
            n = self.network
            if wrt_key == n.bias(neuron).key:
                form, by, names = "bias", "b", {"b": wrt_key}
            else:
                weight = n.weight(wrt_key)
                if weight is not None and weight.target == neuron:
                    by = "w"
                else:  # an output below (an input's key is its name): the weight it is multiplied by
                    weight, by = n.weight_between(n.neuron(wrt_key.removeprefix("out_")), neuron), "out"
                form, names = "weighted", {"w": weight.key, "out": weight.source.out_key}
            derivative = _generic_factor(form, by)
            if derivative == "1":
                self._factors[cache_key] = Num("1")
            elif derivative in names:
                self._factors[cache_key] = self.names[names[derivative]]
            else:
                raise DerivationMismatch(f"d{neuron.net_key}/d{wrt_key} is {derivative}, not one quantity")
        return self._factors[cache_key]


def _generic_factor(form: str, by: str) -> str:
    """``sympy.diff`` of one term of a net input, ``w·out`` (form "weighted") or ``b`` ("bias"),
    by one of its placeholders: the placeholder's name, or "1"."""
    return _generic_factors()[f"{form}/{by}"]


# Each term of a net input, by the placeholders it may be differentiated by.
_TERMS = {"weighted": ("w", "out"), "bias": ("b",)}


@functools.cache
def _generic_factors() -> dict[str, str]:
    """Every generic factor, ``"weighted/w"`` → ``"out"`` and so on.  What SymPy said is kept between
    processes with the shapes' work (``shapes.kept_text``): a run that finds its shape kept needs no SymPy."""
    text = shapes.kept_text("generic factors", lambda: json.dumps(_sympy_factors(), sort_keys=True))
    try:
        factors = json.loads(text)
    except ValueError:
        factors = None
    expected = {f"{form}/{by}" for form, bys in _TERMS.items() for by in bys}
    if not isinstance(factors, dict) or set(factors) != expected or not all(isinstance(v, str) for v in factors.values()):
        factors = _sympy_factors()  # a damaged file: SymPy again
    return factors


def _sympy_factors() -> dict[str, str]:
    import sympy

    w, out, b = (sympy.Symbol(name, real=True) for name in ("w", "out", "b"))
    placeholders = {"w": w, "out": out, "b": b}
    factors = {}
    for form, bys in _TERMS.items():
        term = w * out if form == "weighted" else b
        for by in bys:
            derivative = sympy.Derivative(term, placeholders[by], evaluate=True)
            factors[f"{form}/{by}"] = "1" if derivative == 1 else str(derivative)
    return factors


def _activation(n: Network, neuron: Neuron):
    return activation(n.activation(neuron), n.slope(neuron))


def _coupled_outputs(n: Network) -> bool:
    return _activation(n, n.outputs[0]).coupled


def _net_form(network: Network, neuron: Neuron):
    terms = [Mul((param_sym(w), out_sym(w.source))) for w in network.incoming(neuron)]
    bias = param_sym(network.bias(neuron))
    # The source writes the bias times the constant 1 it multiplies; the books write the bias alone.
    return Add((*terms, Mul((bias, Num("1"))) if network.naming.by_name else bias))


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
    steps = [Step("loss_formula", "E_total", {"formula": Equation(None, (b.total, Sym(_general_loss(n, loss.total_tex(count)))))}, True,
                  {"loss": loss.name})]
    for o in n.outputs:
        e = b.define(f"E_{o.name}", error_sym(o), loss.term(target_sym(o), out_sym(o), count))
        steps.append(Step("output_error", o.name, {"error": e}, o.index == 0))
    total = b.define("E_total", b.total, Add(tuple(error_sym(o) for o in n.outputs)))
    steps.append(Step("total_error", "E_total", {"total": total}, True))
    # With L2 the optimizer follows the gradient of E_reg, the error with its penalty.
    regularised = _regularised_error(b) if b.updates and l2(n.spec.optimizer) else None
    return Section("error", tuple(steps), {"regularised": regularised} if regularised else {})


def _general_loss(n: Network, tex: str) -> str:
    """The loss's general formula (``\\sum \\frac{1}{2}(target - output)^{2}``) in the notation's letters."""
    if n.naming.by_name:
        return tex
    return tex.replace("target", n.notation.target).replace("output", n.notation.prediction)


def _update(b: _Builder, p: Parameter) -> dict[str, Equation]:
    if not b.updates:
        return {}
    if not b.network.spec.optimizer.plain:
        return _optimizer_step(b, p, 1, partial(b.total, param_sym(p)))
    update = b.define(p.updated_key, updated_sym(p), Add((param_sym(p), Neg(Mul((b.eta, partial(b.total, param_sym(p))))))))
    return {"new_weight": update}


def parameter_after(p: Parameter, rounds: int) -> Sym:
    """The parameter after ``rounds`` rounds: ``w_5``, ``w_5^+``, then ``w_5^{(2)}`` (key ``w5@2``)."""
    if rounds == 0:
        return param_sym(p)
    if rounds == 1:
        return updated_sym(p)
    base = f"{{{p.tex}}}" if "^" in p.tex else p.tex  # braced as in ``updated_tex``: no double superscript
    return Sym(f"{base}^{{({rounds})}}", f"{p.key}@{rounds}")


def _optimizer_step(b: _Builder, p: Parameter, step: int, gradient, before: Sym | None = None,
                    after: Sym | None = None, regularised: Sym = REGULARISED) -> dict[str, object]:
    """Step ``step`` of the optimizer for ``p``: its state variables, then the new value.

    ``gradient`` is ∂E_total/∂p at the parameters before the step; the state
    before the first step is 0 (``m_w5@0``), as in torch.optim.  ``before`` and
    ``after`` name the parameter before and after the step (by default after
    ``step - 1`` and ``step`` rounds: one step a round); ``regularised``, the
    error whose gradient an L2 step follows.
    """
    optimizer = b.network.spec.optimizer
    before = parameter_after(p, step - 1) if before is None else before
    defined = {role: state_sym(role, p, step) for role in roles(optimizer) if role != "g"}
    if l2(optimizer):
        key = regularised_gradient_key(p.key, step)
        defined["g"] = Partial(regularised, before, key)
    defined["new"] = parameter_after(p, step) if after is None else after
    previous = {role: state_sym(role, p, step - 1) for role in STATE[optimizer.name]}
    initial = ()
    if step == 1:
        # The momentum buffer starts at the first gradient itself, so only the other states need their 0.
        initial = tuple(b.define(sym.key, sym, Num("0")) for role, sym in previous.items()
                        if optimizer.name not in ("momentum", "nesterov"))
    q = Quantities(before, gradient, previous, defined, Num(str(step)))
    equations = tuple(b.define(sym.key, sym, formula) for sym, formula in rule(optimizer, q, first=step == 1))
    return {"initial": initial, "optimizer": equations[:-1], "new_weight": equations[-1]}


def _regularised_error(b: _Builder) -> Equation:
    """E_reg = E_total + λ/2 (p_1² + …): the error with its L2 term, whose gradient the optimizer follows."""
    squares = tuple(Pow(param_sym(p), Num("2")) for p in b.network.trained_parameters())
    half = Frac(HYPER_SYMBOLS["lambda"], Num("2"))
    return b.define("E_reg", REGULARISED, Add((b.total, Mul((half, Paren(Add(squares))), juxtapose=True))))


def _weight_gradient(b: _Builder, w: Weight, chain_head: tuple) -> dict[str, Equation]:
    """∂net/∂w, the chain-rule product (``chain_head`` times ∂net/∂w) and the update of one weight."""
    n = b.network
    dest = w.target
    # Every other term of the net input (the other weights' and the bias's) differentiates to 0.
    others = (ZERO,) * len(n.incoming(dest))
    rule = Add((Mul((ONE, out_sym(w.source), Pow(param_sym(w), ZERO_POWER))), *others))
    dnet = b.define(f"d{dest.net_key}/d{w.key}", partial(net_sym(dest), param_sym(w)), rule, b.local_factor(dest, w.key))
    gradient = b.define(f"dE_total/d{w.key}", partial(b.total, param_sym(w)),
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
    return b.once(key, lambda: b.define(key, partial(b.total, net_sym(k), key),
                                        Mul((partial(b.total, out_sym(k)), partial(out_sym(k), net_sym(k))))))


def _bias_steps(b: _Builder, layer: int) -> list[Step]:
    """∂E_total/∂b and the update of each bias of ``layer``: the sum over the neurons it feeds."""
    n = b.network
    steps = []
    for bias in (x for x in n.biases if x.layer == layer):
        dnets = []
        for neuron in bias.neurons:
            rule = Add(((ZERO,) * len(n.incoming(neuron))) + (ONE,))
            dnets.append(b.define(f"d{neuron.net_key}/d{bias.key}", partial(net_sym(neuron), param_sym(bias)),
                                  rule, b.local_factor(neuron, bias.key)))
        signals = tuple(_signal(b, neuron) for neuron in bias.neurons)
        terms = tuple(Mul((s.forms[0], partial(net_sym(x), param_sym(bias)))) for s, x in zip(signals, bias.neurons))
        gradient = b.define(f"dE_total/d{bias.key}", partial(b.total, param_sym(bias)), Add(terms))
        eqs = {"dnet_db": tuple(dnets), "signals": signals, "gradient": gradient, **_update(b, bias)}
        steps.append(Step("bias", bias.key, eqs, not steps, {"bias": bias, "shared": len(bias.neurons) > 1}))
    return steps


def _loss_derivative(b: _Builder, o: Neuron) -> Equation:
    n = b.network
    loss = LOSSES[n.spec.loss]
    first, *simpler = loss.derivative_steps(target_sym(o), out_sym(o), len(n.outputs))
    zeros = [Num("0") for _ in n.outputs[1:]]
    return b.define(f"dE_total/d{o.out_key}", partial(b.total, out_sym(o)), Add((first, *zeros)), *simpler)


def _output_layer(b: _Builder, forward: Section) -> Section:
    n = b.network
    loss = LOSSES[n.spec.loss]
    count = len(n.outputs)
    expanded = Equation(None, (b.total, Add(tuple(loss.term(target_sym(o), out_sym(o), count) for o in n.outputs))))
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
            head = (partial(b.total, out_sym(o)), partial(out_sym(o), net_sym(o)))
        for i, w in enumerate(n.incoming(o)):
            own = _weight_gradient(b, w, head)
            if b.document:
                steps.append(Step("output_weight", w.key, {**neuron_eqs, **own}, o.index == 0 and i == 0,
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
    terms = tuple(Mul((partial(b.total, out_sym(k)), partial(out_sym(k), net_sym(o)))) for k in n.outputs)
    key = f"dE_total/d{o.net_key}"
    signal = b.define(key, partial(b.total, net_sym(o), key), Add(terms), recall=True)  # _signal reads it
    pairing = PAIRINGS.get((act.name, n.spec.loss))
    simplified = None
    if pairing:
        steps = pairing.steps([target_sym(k) for k in n.outputs], [out_sym(k) for k in n.outputs], o.index)
        simplified = b.also(key, partial(b.total, net_sym(o), key), *steps)
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
            link = b.define(f"d{k.net_key}/d{h.out_key}", partial(net_sym(k), out_sym(h)), _link(b, k, h))
            links.append(link)
            product = Mul((signals[k].forms[0], partial(net_sym(k), out_sym(h))))
            if per_output:
                contributions.append(b.define(f"dE_{k.name}/d{h.out_key}", partial(error_sym(k), out_sym(h)), product))
                terms.append(partial(error_sym(k), out_sym(h)))
            else:
                terms.append(product)
        total = b.define(f"dE_total/d{h.out_key}", partial(b.total, out_sym(h)), Add(tuple(terms)))
        act = _activation(n, h)
        d_net = b.define(f"d{h.out_key}/d{h.net_key}", partial(out_sym(h), net_sym(h)), act.derivative(out_sym(h), net_sym(h)))
        neuron_eqs = {"signals": tuple(signals.values()), "links": tuple(links), "contributions": tuple(contributions),
                      "above_nets": tuple(by_name[k.name].eq["net"] for k in above),
                      "total": total, "activation": by_name[h.name].eq["out"], "dout_dnet": d_net,
                      "net": by_name[h.name].eq["net"]}
        head = (partial(b.total, out_sym(h)), partial(out_sym(h), net_sym(h)))
        for i, w in enumerate(n.incoming(h)):
            own = _weight_gradient(b, w, head)
            if b.document:
                steps.append(Step("hidden_weight", w.key, {**neuron_eqs, **own}, h.index == 0 and i == 0,
                                  {"neuron": h.name, "first_of_neuron": i == 0, "weight": w,
                                   "to_outputs": per_output, "above": above, "sequential": sequential}))
    biases = _bias_steps(b, layer) if n.spec.train_biases else []
    return Section("hidden_layer", tuple(steps), {"layer": layer, "to_outputs": per_output,
                                                  "last": layer == len(n.layers) - 2, "biases": tuple(biases)})


def _link(b: _Builder, k: Neuron, h: Neuron):
    """∂net_k/∂out_h as the derivation writes it: the weight between them (already updated when sequential)."""
    factor = b.local_factor(k, h.out_key)
    if b.network.spec.update == "sequential":
        return updated_sym(b.network.weight_between(h, k))
    return factor


def _sample_sections(b: _Builder) -> list[Section]:
    """The forward pass, the error and the backwards pass of one sample, then the same by the delta rule."""
    n = b.network
    forward = _forward(b)
    sections = [forward, _error(b), _output_layer(b, forward)]
    sections += [_hidden_layer(b, layer, forward) for layer in range(len(n.layers) - 2, 0, -1)]
    sections.append(_delta_rule(b))
    sections.append(_matrix_form(b))
    return sections


def signal_sym(k: Neuron) -> Sym:
    """The error signal δ of neuron ``k``: ∂E_total/∂net_k, under the key ``dE_total/dnet_k``."""
    return k.signal_sym


def _derivative_sym(n: Network, k: Neuron):
    """f'(net_k) as the notation writes it (Nielsen's σ'(z^l_j)), or ∂out_k/∂net_k."""
    template = n.notation.derivative
    if not template or (n.activation(k) != "sigmoid" and "\\sigma" in template):
        template = "" if not template or n.naming.by_name else "f'({net})"
    if not template:
        return partial(out_sym(k), net_sym(k))
    mark = "" if n.naming.by_name else n.naming.layer_mark(k.layer)
    return Sym(template.replace("{l}", mark).replace("{net}", k.net_tex), f"d{k.out_key}/d{k.net_key}")


# A matrix wider than this many columns (or taller than this many rows) is named by its shape, not printed.
MATRIX_SIZE = 6


def _column(syms) -> Matrix:
    return Matrix(tuple((x,) for x in syms))


def _matrix_form(b: _Builder) -> Section:
    """The round with vectors and matrices, layer by layer; each entry is the scalar derivation's value.

    z = W a + b and a = f(z) forwards; δ^(L) = ∇_a E ⊙ f'(z^(L)) (through the
    Jacobian for softmax), δ^(l) = ((W^(l+1))^T δ^(l+1)) ⊙ f'(z^(l)),
    ∂E/∂W^(l) = δ^(l) (a^(l-1))^T and W^(l)+ = W^(l) - η ∂E/∂W^(l) backwards.
    Every product is computed here from its matrices' entries and checked
    against the scalar values it gathers.
    """
    n = b.network
    v = n.naming
    last = len(n.layers) - 1
    coupled = _coupled_outputs(n)

    def W(layer):  # rows: the neurons of ``layer``; columns: those of the layer below
        return Matrix(tuple(tuple(param_sym(n.weight_between(i, j)) for i in n.layers[layer - 1])
                            for j in n.layers[layer]))

    def vec(layer, kind):
        neurons = n.layers[layer]
        syms = {"net": net_sym, "out": out_sym, "signal": signal_sym}
        if kind == "derivative":
            return _column(Sym("", f"d{k.out_key}/d{k.net_key}") for k in neurons)
        return _column(syms[kind](k) for k in neurons)

    def named(kind, layer):
        return Sym(v.vector(kind, layer, n.activation(n.layers[max(layer, 1)][0])))

    def check(name, matrix, expected: Matrix):
        for row, want in zip(matrix, expected.rows):
            for got, sym in zip(row, want):
                b.agree(name, got, b.values[sym.key], "the matrix form")

    def value(sym):
        return b.values[sym.key]

    steps = []
    for layer in range(1, last + 1):
        weights = W(layer)
        below, nets, outs = vec(layer - 1, "out"), vec(layer, "net"), vec(layer, "out")
        bias = _column(param_sym(n.bias(k)) for k in n.layers[layer])
        check(f"z({layer})", [[mpmath.fsum(value(w) * value(a[0]) for w, a in zip(row, below.rows)) + value(bb[0])]
                              for row, bb in zip(weights.rows, bias.rows)], nets)
        forward = Equation(None, (named("net", layer), Add((Mul((named("W", layer), named("out", layer - 1)), juxtapose=True),
                                                              named("b", layer))),
                                  Add((Mul((weights, below), juxtapose=True), bias)), nets))
        activation = Equation(None, (named("out", layer), named("activation", layer), outs))
        if b.document:
            steps.append(Step("matrix_forward", str(layer), {"net": forward, "out": activation}, layer == 1,
                              {"layer": layer, "shape": (len(n.layers[layer]), len(n.layers[layer - 1]))}))
    for layer in range(last, 0, -1):
        signals, derivative = vec(layer, "signal"), vec(layer, "derivative")
        if layer == last and coupled:
            jacobian = Matrix(tuple(tuple(partial(out_sym(k), net_sym(j)) for j in n.outputs) for k in n.outputs))
            gradient = _column(partial(b.total, out_sym(k)) for k in n.outputs)
            entries = Matrix(tuple(tuple(Sym("", f"d{k.out_key}/d{j.net_key}") for j in n.outputs) for k in n.outputs))
            check("delta(L)", [[mpmath.fsum(value(entries.rows[k][j]) * value(Sym("", f"dE_total/d{o.out_key}"))
                                            for k, o in enumerate(n.outputs))] for j in range(len(n.outputs))], signals)
            grad_values = _column(Sym("", f"dE_total/d{k.out_key}") for k in n.outputs)
            forms = (named("signal", layer), Mul((Transpose(named("jacobian", layer)), named("gradient", layer)),
                                                 juxtapose=True),
                     Mul((Transpose(entries), grad_values), juxtapose=True), signals)
            del jacobian, gradient
        elif layer == last:
            grad_values = _column(Sym("", f"dE_total/d{k.out_key}") for k in n.outputs)
            check("delta(L)", [[value(g[0]) * value(d[0])] for g, d in zip(grad_values.rows, derivative.rows)], signals)
            # Sigmoid with binary cross-entropy: the derivatives cancel to out - target (Ng's dz = a - y).
            forms = (named("signal", layer), Hadamard((named("gradient", layer), named("derivative", layer))),
                     Hadamard((grad_values, derivative)), signals)
            if PAIRINGS.get((n.activation(n.outputs[0]), n.spec.loss)):
                outs, targets = vec(layer, "out"), _column(target_sym(k) for k in n.outputs)
                check("delta(L)", [[value(o[0]) - value(t[0])] for o, t in zip(outs.rows, targets.rows)], signals)
                forms = (*forms[:2], Sym(f"{v.vector('out', layer)} - {v.vector('target', layer)}"),
                         Add((outs, Neg(targets))), signals)
        else:
            above = vec(layer + 1, "signal")
            # The weights the scalar derivation used: the updated ones above a hidden layer when sequential.
            transposed = Matrix(tuple(tuple(_link(b, j, k) for j in n.layers[layer + 1]) for k in n.layers[layer]))
            upper = named("updated", layer + 1) if n.spec.update == "sequential" else named("W", layer + 1)
            check(f"delta({layer})", [[mpmath.fsum(value(w) * value(d[0]) for w, d in zip(row, above.rows)) * value(f[0])]
                                      for row, f in zip(transposed.rows, derivative.rows)], signals)
            forms = (named("signal", layer),
                     Hadamard((Paren(Mul((Transpose(upper), named("signal", layer + 1)), juxtapose=True)),
                               named("derivative", layer))),
                     Hadamard((Paren(Mul((transposed, above), juxtapose=True)), derivative)), signals)
        below = vec(layer - 1, "out")
        gradients = Matrix(tuple(tuple(partial(b.total, param_sym(n.weight_between(i, j)))
                                       for i in n.layers[layer - 1]) for j in n.layers[layer]))
        check(f"dE/dW({layer})", [[value(d[0]) * value(a[0]) for a in below.rows] for d in signals.rows], gradients)
        row = Matrix((tuple(x[0] for x in below.rows),))
        eqs = {"signal": Equation(None, forms),
               "gradient": Equation(None, (Partial(b.total, named("W", layer)),
                                           Mul((named("signal", layer), Transpose(named("out", layer - 1))), juxtapose=True),
                                           Mul((signals, row), juxtapose=True), gradients))}
        if b.updates:
            updated = Matrix(tuple(tuple(updated_sym(n.weight_between(i, j))
                                         for i in n.layers[layer - 1]) for j in n.layers[layer]))
            eqs["new_weights"] = Equation(None, (
                named("updated", layer), Add((named("W", layer), Neg(Mul((b.eta, Partial(b.total, named("W", layer))))))),
                Add((W(layer), Neg(Mul((b.eta, gradients))))), updated))
        if b.document:
            steps.append(Step("matrix_backward", str(layer), eqs, layer == last,
                              {"layer": layer, "output": layer == last, "coupled": coupled and layer == last}))
    fits = all(len(layer) <= MATRIX_SIZE for layer in n.layers)
    return Section("matrix", tuple(steps), {"fits": fits, "last": last})


def _batch_matrix_form(n: Network, values: Mapping[str, mpmath.mpf], b: _Builder) -> Section:
    """The batch round with matrices, one column a sample: Z^(l) = W^(l) A^(l-1) + b^(l), A^(l) = f(Z^(l)),
    the samples' error signals Δ^(l), and ∂E/∂W^(l) = Δ^(l) (A^(l-1))^T (divided by the batch's size for a
    mean), each entry the scalar derivation's value: each product is worked out here from its matrices'
    entries and checked against the values it gathers."""
    v = n.naming
    count = len(n.spec.samples)
    samples = range(1, count + 1)
    last = len(n.layers) - 1
    mean = n.spec.reduction == "mean"
    total = Sym(v.batch_total, TOTAL.key)
    coupled = _coupled_outputs(n)

    def per_sample(make) -> Matrix:  # one row a neuron, one column a sample
        return lambda neurons: Matrix(tuple(tuple(make(k, s) for s in samples) for k in neurons))

    def keyed(key_of):
        return per_sample(lambda k, s: Sym("", sample_key(key_of(k), s)))

    outs = lambda layer: (keyed(lambda k: k.out_key)(n.layers[layer]) if layer else
                          Matrix(tuple(tuple(Sym("", sample_key(k.out_key, s)) for s in samples) for k in n.inputs)))
    nets = lambda layer: keyed(lambda k: k.net_key)(n.layers[layer])
    signals = lambda layer: keyed(lambda k: f"dE_total/d{k.net_key}")(n.layers[layer])

    def value(sym):
        return values[sym.key]

    def W(layer):
        return Matrix(tuple(tuple(param_sym(n.weight_between(i, j)) for i in n.layers[layer - 1]) for j in n.layers[layer]))

    def check(name, got, expected: Matrix):
        for row, want in zip(got, expected.rows):
            for g, sym in zip(row, want):
                b.agree(name, g, value(sym), "the batch's matrix form")

    def named(kind, layer):
        tex = v.vector(kind, layer, n.activation(n.layers[max(layer, 1)][0]))
        if kind in ("activation", "derivative"):  # f(Z^(l)): the function of the batch's matrix
            net = v.vector("net", layer)
            return Sym(tex.replace(net, v.batch(net)))
        return Sym(v.batch(tex))

    steps = []
    for layer in range(1, last + 1):
        weights, below, result = W(layer), outs(layer - 1), nets(layer)
        biases = [value(param_sym(n.bias(k))) for k in n.layers[layer]]
        check(f"Z({layer})", [[mpmath.fsum(value(w) * value(a[s]) for w, a in zip(row, below.rows)) + bias
                               for s in range(count)] for row, bias in zip(weights.rows, biases)], result)
        forward = Equation(None, (named("net", layer), Add((Mul((named("W", layer), named("out", layer - 1)), juxtapose=True),
                                                            Sym(v.vector("b", layer)))), result))
        activation = Equation(None, (named("out", layer), named("activation", layer), outs(layer)))
        steps.append(Step("batch_forward", str(layer), {"net": forward, "out": activation}, layer == 1,
                          {"layer": layer, "shape": (len(n.layers[layer]), count)}))
    for layer in range(last, 0, -1):
        deltas = signals(layer)
        if layer < last:
            for k, row in zip(n.layers[layer], deltas.rows):
                for s, sym in zip(samples, row):
                    weighted = mpmath.fsum(value(_link(b, j, k)) *
                                           values[sample_key(f"dE_total/d{j.net_key}", s)] for j in n.layers[layer + 1])
                    b.agree(f"Delta({layer})", weighted * values[sample_key(f"d{k.out_key}/d{k.net_key}", s)],
                            value(sym), "the batch's matrix form")
            symbolic = Hadamard((Paren(Mul((Transpose(Sym(v.vector("W", layer + 1))), named("signal", layer + 1)),
                                           juxtapose=True)), named("derivative", layer)))
            signal = Equation(None, (named("signal", layer), symbolic, deltas))
        else:
            A, Y = named("out", layer).tex, v.batch(v.vector("target", layer))
            if PAIRINGS.get((n.activation(n.outputs[0]), n.spec.loss)):  # the derivatives cancel: A - Y (Ng's dZ)
                for k, row in zip(n.outputs, deltas.rows):
                    for s, sym in zip(samples, row):
                        b.agree(f"Delta({layer})", values[sample_key(k.out_key, s)] - values[sample_key(f"target_{k.name}", s)],
                                value(sym), "the batch's matrix form")
                symbolic = Sym(f"{A} - {Y}")
            elif coupled:
                symbolic = Sym(f"\\nabla_{{{named('net', layer).tex}}} {v.total}")
            else:
                for k, row in zip(n.outputs, deltas.rows):
                    for s, sym in zip(samples, row):
                        b.agree(f"Delta({layer})", values[sample_key(f"dE_total/d{k.out_key}", s)] *
                                values[sample_key(f"d{k.out_key}/d{k.net_key}", s)], value(sym), "the batch's matrix form")
                symbolic = Hadamard((Sym(f"\\nabla_{{{A}}} {v.total}"), named("derivative", layer)))
            signal = Equation(None, (named("signal", layer), symbolic, deltas))
        below = outs(layer - 1)
        gradients = Matrix(tuple(tuple(partial(total, param_sym(n.weight_between(i, j))) for i in n.layers[layer - 1])
                                 for j in n.layers[layer]))
        scale = mpmath.mpf(1) / count if mean else mpmath.mpf(1)
        check(f"dE/dW({layer})", [[scale * mpmath.fsum(value(d) * value(a) for d, a in zip(drow, arow))
                                   for arow in below.rows] for drow in deltas.rows], gradients)
        product = Mul((named("signal", layer), Transpose(named("out", layer - 1))), juxtapose=True)
        if mean:
            product = Mul((Frac(Num("1"), Num(str(count))), product), juxtapose=True)
        eqs = {"signal": signal, "gradient": Equation(None, (Partial(total, Sym(v.vector("W", layer))), product, gradients))}
        steps.append(Step("batch_backward", str(layer), eqs, layer == last, {"layer": layer, "output": layer == last}))
    return Section("matrix_batch", tuple(steps), {"samples": count, "mean": mean})


def _delta_rule(b: _Builder) -> Section:
    """The backwards pass again in error signals: δ of each neuron, then each gradient as δ times its input.

    An output's δ is ∂E_total/∂out times the activation's derivative (softmax:
    the signal found through the Jacobian); a hidden neuron's is the sum of the
    δs above times the weights that join them, times its activation's
    derivative; ∂E_total/∂w is the δ of the neuron w leads into times the
    output w multiplies, and ∂E_total/∂b the sum of the δs of the neurons b feeds.
    """
    n = b.network
    coupled = _coupled_outputs(n)
    steps = []
    for layer in range(len(n.layers) - 1, 0, -1):
        for k in n.layers[layer]:
            key = signal_sym(k).key
            if layer == len(n.layers) - 1:
                if coupled:
                    forms = (signal_sym(k), partial(b.total, net_sym(k), key))
                else:
                    forms = (signal_sym(k), Mul((partial(b.total, out_sym(k)), _derivative_sym(n, k))))
                    pairing = PAIRINGS.get((n.activation(k), n.spec.loss))
                    if pairing:  # sigmoid with binary cross-entropy: δ = out - target
                        forms += pairing.steps([target_sym(x) for x in n.outputs], [out_sym(x) for x in n.outputs],
                                               k.index)
            else:
                above = n.layers[layer + 1]
                terms = []
                for j in above:
                    terms.append(Mul((_link(b, j, k), signal_sym(j))))  # w, or w+ when sequential
                forms = (signal_sym(k), Mul((Paren(Add(tuple(terms))), _derivative_sym(n, k))))
            if key in b.equations:
                equation = b.also(key, *forms)
            else:
                equation = b.define(key, *forms)
                b.delta_keys.add(key)
                if n.notation.form not in ("delta", "all"):
                    # Its value is one of the derivation's; its equation is the document's only in the delta form.
                    b.equations.pop(key, None)
            if b.document:
                steps.append(Step("signal", k.name, {"signal": equation}, k.index == 0,
                                  {"layer": layer, "output": layer == len(n.layers) - 1, "coupled": coupled}))
    for p in n.trained_parameters():
        if isinstance(p, Weight):
            product = Mul((signal_sym(p.target), out_sym(p.source)))
            subject = p.target
        else:
            product = Add(tuple(signal_sym(x) for x in p.neurons)) if len(p.neurons) > 1 else signal_sym(p.neurons[0])
            subject = p.neurons[0]
        gradient = b.also(f"dE_total/d{p.key}", partial(b.total, param_sym(p)), product)
        if b.document:
            steps.append(Step("delta_gradient", p.key, {"gradient": gradient}, False,
                              {"parameter": p, "layer": subject.layer, "weight": isinstance(p, Weight)}))
    return Section("delta", tuple(steps), {"coupled": coupled})


def _updated_point(n: Network, values: Mapping[str, mpmath.mpf], updated: Callable[[Parameter], str]) -> dict:
    """The shared parameters with the trained ones replaced by their values under ``updated(p)``."""
    trained = {p.key: values[updated(p)] for p in n.trained_parameters()}
    # Only the parameters not trained are read from the spec again (in the same order of keys).
    return {k: trained[k] if k in trained else numeric.mp(v) for k, v in n.shared_values().items()}


def _after_one_round(b: _Builder) -> Section:
    n = b.network
    updated = {**b.values, **_updated_point(n, b.values, lambda p: p.updated_key)}
    error, outs = numeric.forward_error(n, updated)
    b.values["E_total@1"] = error
    for o, value in zip(n.outputs, outs):
        b.values[f"{o.out_key}@1"] = value
    updates = tuple(b.equations[p.updated_key] for p in n.trained_parameters()) if b.document else ()
    return Section("one_round", (Step("updated_weights", "weights", {"updates": updates}, True),),
                   {"improved": error < b.values["E_total"]})


def _gradients_at(n: Network, point: Mapping[str, mpmath.mpf], factors: dict) -> dict[str, mpmath.mpf]:
    """∂E_total/∂p of every trained parameter at ``point`` (the shared parameters), over every sample.

    The same derivation as the first round's, taken again at other parameters:
    the optimizer's second step needs the gradient after the first.
    """
    per_sample = []
    for index in range(len(n.spec.samples)):
        b = _Builder(n, {**point, **n.sample_values(index, numeric.mp)}, updates=False, factors=factors,
                     document=False)
        _sample_sections(b)
        per_sample.append(b.values)
    return {p.key: numeric.combine(n, [values[f"dE_total/d{p.key}"] for values in per_sample])
            for p in n.trained_parameters()}


def _first_of_each_kind(n: Network) -> frozenset[str]:
    """The first weight into each layer and the first trained bias of each: those written in full."""
    firsts = {n.weights_into_layer(layer)[0].key for layer in range(1, len(n.layers))}
    if n.spec.train_biases:
        firsts |= {next(b for b in n.biases if b.layer == layer).key for layer in range(1, len(n.layers))}
    return frozenset(firsts)


def _second_round(b: _Builder, gradients: Mapping[str, mpmath.mpf]) -> Section:
    """The optimizer's second step for every trained parameter, from its state after the first.

    ``gradients`` are ∂E_total/∂p at the parameters after one round, each
    under the key ``dE_total/dw5@1``.  Adds E_total@2 and the outputs after two rounds.
    """
    n = b.network
    firsts = _first_of_each_kind(n)
    steps = []
    for p in n.trained_parameters():
        key = f"dE_total/d{p.key}@1"
        b.values[key] = gradients[p.key]
        gradient = Partial(b.total, updated_sym(p), key)
        eqs = {"gradient": Equation(key, (gradient,)), **_optimizer_step(b, p, 2, gradient)}
        steps.append(Step("second_update", p.key, eqs, p.key in firsts, {"parameter": p}))
    point = _updated_point(n, b.values, lambda p: f"{p.key}@2")
    error, outputs = numeric.batch_error(n, point)
    b.values["E_total@2"] = error
    several = len(n.spec.samples) > 1
    for s, outs in enumerate(outputs, start=1):
        b.values.update({f"{sample_key(o.out_key, s) if several else o.out_key}@2": v for o, v in zip(n.outputs, outs)})
    return Section("second_round", tuple(steps), {"improved": error < b.values["E_total@1"]})


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


def error_signal_values(n: Network, values: Mapping[str, mpmath.mpf], key=lambda k: k) -> dict[str, mpmath.mpf]:
    """δ of every neuron, as ``dE_total/dnet_<neuron>``, where the derivation has it under another name or as
    two factors: the name courses give the error signal, so that every name the checker reads has a value.

    ``key`` renames a per-sample key (``out_h1`` → ``out_h1[2]``).
    """
    signals = {}
    for layer in n.layers[1:]:
        for k in layer:
            name = key(f"dE_total/d{k.net_key}")
            if name in values:
                continue
            own = key(f"dE_{k.name}/d{k.net_key}")
            outer, inner = key(f"dE_total/d{k.out_key}"), key(f"d{k.out_key}/d{k.net_key}")
            if own in values:
                signals[name] = values[own]
            elif outer in values and inner in values:
                signals[name] = values[outer] * values[inner]
    return signals


def _check_gradients(b: _Builder, composed: checks.ComposedGradients | None) -> None:
    """The builder's gradients against central differences and, when given, the composed E_total."""
    n = b.network
    point = {k: v for k, v in b.values.items() if k in b.parameters}
    gradient = {p.key: b.values[f"dE_total/d{p.key}"] for p in checks.checked_parameters(n)}
    if not checks.near_a_kink(n, b.values):
        # Without a kink no step crosses one: the sides need not be looked at.
        sides = (lambda at: checks.kink_sides(n, at)) if checks.kink_sides(n, point) else None
        checks.check_differences(lambda at: numeric.forward_error(n, at)[0], point, gradient,
                                 len(n.weights) <= SMALL_NETWORK, sides)
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
    b.total = Sym(n.naming.batch_total, TOTAL.key)  # the batch's error may have a name of its own (Ng's J)
    error = b.define("E_total", b.total, combined(sample_total_sym(s, n.naming) for s in range(1, count + 1)))
    steps = [Step("batch_error", "E_total", {"error": error}, True)]
    # The parameter worked in full: the first weight of the output layer, as in the sample's derivation.
    featured = n.incoming(n.outputs[0])[0]
    for p in n.trained_parameters():
        parts = [partial(sample_total_sym(s, n.naming), param_sym(p), sample_key(f"dE_total/d{p.key}", s))
                 for s in range(1, count + 1)]
        gradient = b.define(f"dE_total/d{p.key}", partial(b.total, param_sym(p)), combined(parts))
        if n.spec.optimizer.plain:
            update = {"new_weight": b.define(p.updated_key, updated_sym(p),
                                             Add((param_sym(p), Neg(Mul((b.eta, partial(b.total, param_sym(p))))))))}
        else:
            update = _optimizer_step(b, p, 1, partial(b.total, param_sym(p)))
        steps.append(Step("batch_gradient", p.key, {"gradient": gradient, **update}, p == featured,
                          {"parameter": p}))
    facts = {"samples": count, "mean": mean}
    if l2(n.spec.optimizer):
        facts["regularised"] = _regularised_error(b)
    b.section = Section("combine", tuple(steps), facts)
    return b


def batch_sym(j: int) -> Sym:
    """The error of mini-batch ``j`` of the first round: ``E_{\\mathcal{B}_1}``, key ``E_total[B1]``."""
    return Sym(f"E_{{\\mathcal{{B}}_{{{j}}}}}", f"E_total[B{j}]")


def after_batch(p: Parameter, j: int, last: bool) -> Sym:
    """``p`` after the step of mini-batch ``j`` of the first round: ``w_5^{(\\mathcal{B}_1)}`` (key ``w5+[B1]``);
    after the round's last batch, ``w_5^+``."""
    if last:
        return updated_sym(p)
    base = f"{{{p.tex}}}" if "^" in p.tex else p.tex
    return Sym(f"{base}^{{(\\mathcal{{B}}_{{{j}}})}}", f"{p.updated_key}[B{j}]")


def _batch_step(b: _Builder, j: int, members: tuple[int, ...], last: bool) -> list[Step]:
    """Mini-batch ``j``'s step: its error and each parameter's gradient (the samples' combined), then the update.

    ``members`` are the batch's samples (1-based); their own values are in ``b.values``.
    """
    n = b.network
    mean = n.spec.reduction == "mean"

    def combined(parts):
        body = Add(tuple(parts))
        return Mul((Frac(Num("1"), Num(str(len(members)))), Paren(body)), juxtapose=True) if mean and len(members) > 1 \
            else body

    total = batch_sym(j)
    error = b.define(total.key, total, combined(sample_total_sym(s, n.naming) for s in members))
    steps = [Step("batch_error", total.key, {"error": error}, j == 1, {"batch": j, "members": members})]
    featured = n.incoming(n.outputs[0])[0]
    firsts = _first_of_each_kind(n)
    for p in n.trained_parameters():
        parts = [partial(sample_total_sym(s, n.naming), param_sym(p), sample_key(f"dE_total/d{p.key}", s))
                 for s in members]
        key = f"dE_total/d{p.key}[B{j}]"
        gradient = b.define(key, partial(total, param_sym(p), key), combined(parts))
        before = param_sym(p) if j == 1 else after_batch(p, j - 1, False)
        after = after_batch(p, j, last)
        if n.spec.optimizer.plain:
            update = {"new_weight": b.define(after.key, after, Add((before, Neg(Mul((b.eta, gradient.forms[0]))))))}
        else:
            update = _optimizer_step(b, p, j, gradient.forms[0], before, after)
        first = p == featured if j == 1 else p.key in firsts
        steps.append(Step("batch_gradient", p.key, {"gradient": gradient, **update}, first,
                          {"parameter": p, "batch": j, "before": before, "after": after}))
    return steps


# --- the whole derivation -------------------------------------------------------


class Derivation:
    """The derivation of one spec: ``sections`` (the document as data) and ``values``."""

    # The sample the document works in full (1-based): the first of the first batch.
    worked = 1
    # False: only the values are wanted (``values_of``); the sections and equations are then not kept.
    document = True

    def __init__(self, spec: Spec) -> None:
        # The printed derivatives of every activation and loss are proved by the
        # test suite (tests/test_functions.py): the proof does not depend on the
        # spec.  Here the numbers are checked, against central differences and,
        # for small networks, sympy.diff of the composed error.
        check_size(spec, "values")
        self.spec = spec
        self.network = network = Network(spec)
        with mpmath.workdps(numeric.PRECISION), _no_cycle_collection():
            composed = (shapes.composed_gradients(network, checks.ComposedGradients.for_network)
                        if len(network.weights) <= SMALL_NETWORK else None)
            if len(spec.samples) == 1:
                self._one_sample(composed)
            else:
                self._several_samples(composed)

    def _one_sample(self, composed) -> None:
        n = self.network
        point = {k: numeric.mp(v) for k, v in n.parameter_values().items()}
        b = _Builder(n, point, written=n.sample_values(0), document=self.document)
        sections = [Section("network", ()), *_sample_sections(b)]
        if self.spec.iterations >= 1:
            sections.append(_after_one_round(b))
        if self.spec.iterations > 1 and not self.spec.optimizer.plain:
            sections.append(_second_round(b, _gradients_at(n, _updated_point(n, b.values, lambda p: p.updated_key),
                                                           b._factors)))
        if self.spec.iterations > 1:
            training = train(n, self.spec.iterations)
            for key, value in _training_values(n, training).items():
                b.values.setdefault(key, value)  # the exact values of the second round stay
        _check_gradients(b, composed)
        if self.spec.iterations > 1:
            sections.append(_training_section(b.values, training))
        # The equations of a checked derivation, for re-evaluating the shape at other numbers.
        work = shapes.work_for(self.spec)
        if work.equations is None and self.document:
            work.equations = b.equations
        self.sections: tuple[Section, ...] = tuple(sections)
        self.delta_keys: frozenset[str] = frozenset(b.delta_keys)
        self.equations: dict[str, Equation] = b.equations
        self.parameters: dict[str, mpmath.mpf] = {k: v for k, v in b.values.items() if k in b.parameters}
        self.values: dict[str, mpmath.mpf] = {k: v for k, v in b.values.items() if k not in b.parameters}
        self.values.update(error_signal_values(n, self.values))

    def _several_samples(self, composed) -> None:
        n, spec = self.network, self.spec
        if spec.mode == "minibatch" or (spec.mode == "stochastic" and
                                        (not spec.optimizer.plain or spec.shuffle_seed is not None)):
            return self._minibatches(composed)
        stochastic = spec.mode == "stochastic"
        shared_keys = frozenset(n.shared_values())
        point = {k: numeric.mp(v) for k, v in n.shared_values().items()}
        initial = dict(point)
        values: dict[str, mpmath.mpf] = {}
        hyper = {k: numeric.mp(v) for k, v in hyper_parameters(spec.optimizer).items()}
        parameters: dict[str, mpmath.mpf] = {**point, **hyper}
        equations: dict[str, Equation] = {}
        sections = [Section("network", ())]
        for index in range(len(spec.samples)):
            s = index + 1

            def rename(key: str, s=s) -> str:
                return key if key in shared_keys else sample_key(key, s)

            data = n.sample_values(index, numeric.mp)
            b = _Builder(n, {**point, **data}, updates=stochastic, written=n.sample_values(index))
            worked = _sample_sections(b)
            _check_gradients(b, composed)
            if index == 0:
                self.delta_keys = frozenset(b.delta_keys)
                sections += _suffixed_sections(worked, rename)
                equations.update({rename(k): Equation(rename(k), rekey(eq.forms, rename)) for k, eq in b.equations.items()})
            parameters.update({rename(k): v for k, v in data.items()})
            values.update({rename(k): v for k, v in b.values.items() if k not in b.parameters})
            values.update(error_signal_values(n, values, rename))
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
            # Built in every form, so that check reads a batch's matrices; the document shows it in the matrix form.
            sections.append(_batch_matrix_form(n, {**parameters, **values}, b))
            self._check_batch(values, initial)
        if spec.iterations >= 1:
            after = _updated_point(n, values, lambda p: p.updated_key)
            error, outputs = numeric.batch_error(n, after)
            values["E_total@1"] = error
            for s, outs in enumerate(outputs, start=1):
                values.update({f"{sample_key(o.out_key, s)}@1": v for o, v in zip(n.outputs, outs)})
            sections.append(Section("one_round", (), {"improved": error < values["E_total"]}))
        if spec.iterations > 1 and not spec.optimizer.plain:
            combined.values.update(values)
            sections.append(_second_round(combined, _gradients_at(n, after, shapes.work_for(n.spec).factors)))
            values.update({k: v for k, v in combined.values.items() if k not in combined.parameters})
            equations.update(combined.equations)
        if spec.iterations > 1:
            training = train(n, spec.iterations)
            for key, value in _training_values(n, training).items():
                values.setdefault(key, value)  # the exact values of the second round stay
            sections.append(_training_section(values, training))
        self.sections = tuple(sections)
        self.equations = equations
        self.parameters = parameters
        self.values = values

    def _minibatches(self, composed) -> None:
        """Mini-batches (stochastic mode too, with an optimizer or shuffled): the first round's steps one by one.

        Each batch's samples are derived at the parameters the batches before
        it left; the first batch's first sample is the one the document works
        in full.  Every step of the first round is exact, so the parameters
        after the round (``w5+``) and their error are too.
        """
        n, spec = self.network, self.spec
        shared_keys = frozenset(n.shared_values())
        initial = {k: numeric.mp(v) for k, v in n.shared_values().items()}
        hyper = {k: numeric.mp(v) for k, v in hyper_parameters(spec.optimizer).items()}
        batches = tuple(tuple(i + 1 for i in members) for members in first_round(spec))
        self.worked = worked = batches[0][0]
        stepper = _Builder(n, dict(initial))
        stepper.total = Sym(n.naming.batch_total, TOTAL.key)
        parameters: dict[str, mpmath.mpf] = {**initial, **hyper}
        values: dict[str, mpmath.mpf] = {}
        equations: dict[str, Equation] = {}
        sections = [Section("network", ())]
        steps: list[list[Step]] = []
        point = dict(initial)
        factors = shapes.work_for(spec).factors
        for j, members in enumerate(batches, start=1):
            for s in members:
                def rename(key: str, s=s) -> str:
                    return key if key in shared_keys else sample_key(key, s)

                data = n.sample_values(s - 1, numeric.mp)
                b = _Builder(n, {**point, **data}, updates=False, factors=factors, written=n.sample_values(s - 1))
                worked_sections = _sample_sections(b)
                _check_gradients(b, composed)
                if s == worked:
                    self.delta_keys = frozenset(b.delta_keys)
                    sections += _suffixed_sections(worked_sections, rename)
                    equations.update({rename(k): Equation(rename(k), rekey(eq.forms, rename))
                                      for k, eq in b.equations.items()})
                parameters.update({rename(k): v for k, v in data.items()})
                own = {rename(k): v for k, v in b.values.items() if k not in b.parameters}
                own.update(error_signal_values(n, own, rename))
                values.update(own)
                stepper.values.update(own)
            steps.append(_batch_step(stepper, j, members, j == len(batches)))
            point = _updated_point(n, stepper.values, lambda p, j=j: after_batch(p, j, j == len(batches)).key)
        error, _ = numeric.batch_error(n, initial)
        values["E_total"] = error
        values.update({k: v for k, v in stepper.values.items() if k not in stepper.parameters})
        equations.update(stepper.equations)
        sections.append(Section("minibatch", tuple(steps[0]), {
            "batches": batches, "size": spec.batch_size, "mean": spec.reduction == "mean",
            "later": tuple(steps[1:]), "shuffled": spec.shuffle_seed is not None}))
        if spec.iterations >= 1:
            error, outputs = numeric.batch_error(n, point)
            values["E_total@1"] = error
            for s, outs in enumerate(outputs, start=1):
                values.update({f"{sample_key(o.out_key, s)}@1": v for o, v in zip(n.outputs, outs)})
            sections.append(Section("one_round", (), {"improved": error < values["E_total"]}))
        if spec.iterations > 1:
            training = train(n, spec.iterations)
            for key, value in _training_values(n, training).items():
                values.setdefault(key, value)
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
        hyper = hyper_parameters(self.spec.optimizer)
        if not self.several_samples:
            return {**n.parameter_values(), **hyper}
        values = {**n.shared_values(), **hyper}
        for index in range(len(self.spec.samples)):
            values.update({sample_key(k, index + 1): v for k, v in n.sample_values(index).items()})
        return values

    @property
    def follows_source(self) -> bool:
        """True for the source's own network and data: the document then notes the source's mistakes."""
        builtin = _builtin_spec()
        same = ("layers", "activations", "loss", "weights", "biases", "shared_biases", "samples", "learning_rate")
        return all(getattr(self.spec, name) == getattr(builtin, name) for name in same)

    def float_values(self) -> dict[str, float]:
        """Every quantity as the nearest double, in document order."""
        return {key: float(value) for key, value in self.values.items()}

    @classmethod
    def of(cls, spec: Spec | Mapping | str | None = None):
        """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example)."""
        return cls(spec if isinstance(spec, Spec) else load_spec(spec))


# Set in a worker process forked with its parent's heap frozen (``explainer.processes``): the
# derivations there leave the frozen objects as they are.  Asking ``gc.get_freeze_count()`` instead
# would walk the whole frozen list, SymPy's hundreds of thousands of objects, every derivation.
_heap_frozen_by_parent = False


def heap_frozen_by_parent() -> None:
    """Tell this process's derivations that its parent froze the heap it inherited (``gc.freeze``)."""
    global _heap_frozen_by_parent
    _heap_frozen_by_parent = True


@contextlib.contextmanager
def _no_cycle_collection():
    """The cyclic garbage collector paused while a derivation is built.

    A derivation makes a few records for every weight, and none of them
    refers back to another: there is no cycle to collect, but each collection
    walks every record made so far, so a large network's derivation would
    spend a third of its time in collections that find nothing.  Nothing is
    left out of the collections: what they would have found, the next full one finds.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not _heap_frozen_by_parent:
            # What the derivation made lives as long as the derivation: it joins the oldest
            # generation at once, instead of being walked by the young generations' next collections.
            gc.freeze()
            gc.unfreeze()
        gc.enable()


@functools.cache
def _builtin_spec() -> Spec:
    return load_spec()


def values_at(spec: Spec) -> dict[str, mpmath.mpf]:
    """The values of ``spec``'s derivation, its own equations re-evaluated at its numbers where a derivation
    of its shape (one sample) was already built and checked; else the values of a new derivation.

    For what-ifs (a slip's numbers: two inputs exchanged, the other update
    mode): the equations do not depend on the numbers, so evaluating the same
    ones at the changed numbers gives what the changed spec's derivation would,
    without its symbolic work and its checks.  A value that is not a finite
    number (a saturated output) is NaN here, where a derivation would refuse the spec.
    """
    # An optimizer's state and second round are derived, not re-evaluated: they are sections of their own.
    equations = shapes.work_for(spec).equations if len(spec.samples) == 1 and spec.optimizer.plain else None
    if equations is None:
        return Derivation(spec).values
    network = Network(spec)
    tables = shapes.work_for(spec).tables
    if ("values_at",) not in tables:
        tables[("values_at",)] = [(key, numeric.compiled_formula(eq.forms[-1]) or functools.partial(evaluate, eq.forms[-1]))
                                  for key, eq in equations.items()]
    with mpmath.workdps(numeric.PRECISION):
        values = {k: numeric.mp(v) for k, v in network.parameter_values().items()}
        parameters = frozenset(values)
        for key, formula in tables[("values_at",)]:
            try:
                values[key] = formula(values)
            except (ZeroDivisionError, ValueError):
                values[key] = mpmath.nan
        if spec.iterations >= 1:
            updated = {**values, **_updated_point(network, values, lambda p: p.updated_key)}
            error, outs = numeric.forward_error(network, updated)
            values["E_total@1"] = error
            values.update({f"{o.out_key}@1": value for o, value in zip(network.outputs, outs)})
        if spec.iterations > 1:
            values.update(_training_values(network, train(network, spec.iterations)))
        values.update(error_signal_values(network, values))
        return {k: v for k, v in values.items() if k not in parameters}


class _Values(Derivation):
    """A derivation of which only the values are wanted: the same quantities, forms and checks, no document."""

    document = False


def values_of(spec: Spec) -> dict[str, mpmath.mpf]:
    """The values of ``spec``'s derivation (``Derivation(spec).values``, in the same order), without keeping
    its sections and equations: the memory of a large network's values, not of its document."""
    return _Values(spec).values


def derive(spec: Spec | Mapping | str | None = None) -> Derivation:
    """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example)."""
    return Derivation.of(spec)
