"""Activation and loss functions, each with its derivative written as a teacher would.

Every function is written once, as a formula record (``explainer.notation``):
the same record is printed in the document, evaluated for the numbers and
turned into SymPy.  The derivative forms written here are the printed ones
(``out(1 - out)`` rather than SymPy's ``e^{-net}/(1+e^{-net})^2``);
``check_derivatives`` proves with ``sympy.diff`` that each equals the true
derivative, so nothing printed is taken on trust.

Where a derivative does not exist (ReLU at 0) the printed derivative is a
``Cases`` record that states the value used there; it is proved on each side
of the kink, and the value at the kink is a documented convention.

Softmax is not element-wise: each output depends on every net input of the
layer, so it has a Jacobian instead of one derivative.  Some pairs of an
output activation and a loss have a well-known simpler error signal
(softmax with cross-entropy: out - target); ``PAIRINGS`` holds them, and
``check_derivatives`` proves them too.

The proofs do not depend on any spec, so the test suite makes them, for every
activation and loss; at run time the derivation checks its numbers against
finite differences and the composed error instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache, partial
from typing import Callable

from ..spec.errors import DerivationMismatch
from .formulas import (
    Add,
    Cases,
    Exp,
    Frac,
    Greater,
    Log,
    Max,
    Mul,
    Neg,
    Num,
    Paren,
    Pow,
    Sym,
    Tanh,
    half,
    to_sympy,
)


def _no_forms(net) -> tuple:
    return ()


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: each neuron's output depends on its own net input only."""

    name: str
    # out = formula(net): the form the document substitutes numbers into
    formula: Callable
    # d out / d net, written with out (and net where needed): derivative(out, net)
    derivative: Callable
    # forms printed between out and formula(net), e.g. tanh(net) before its exponentials
    forms: Callable = _no_forms
    # what the float training loop computes, where formula(net) would overflow a double
    float_formula: Callable | None = None
    # True: no derivative at net = 0, and derivative(out, 0) there is the convention used
    kink: bool = False
    # names of its spec parameters, passed to formula and derivative as keywords
    parameters: tuple[str, ...] = ()
    coupled = False

    def float_form(self, net):
        return (self.float_formula or self.formula)(net)


@dataclass(frozen=True)
class CoupledActivation:
    """An activation of a whole layer (softmax): every output depends on every net input."""

    name: str
    # out_k = formula(nets, k)
    formula: Callable
    # d out_k / d net_o written with outputs: jacobian(out_k, out_o, k == o)
    jacobian: Callable
    # the general entry, as LaTeX, for the paragraph that introduces the Jacobian
    jacobian_tex: str
    coupled = True


@dataclass(frozen=True)
class Loss:
    name: str
    # the error of one output: term(target, out, n), n the number of outputs
    term: Callable
    # d term / d out, step by step: the rule applied first, the simplest form last
    derivative_steps: Callable
    # E_total's general formula, as LaTeX: total_tex(n)
    total_tex: Callable


@dataclass(frozen=True)
class Pairing:
    """An output activation and a loss whose error signal ∂E_total/∂net_o simplifies.

    ``steps(targets, outs, o)``: the forms that lead from the general chain
    rule to the simple one, the simplest last.  ``needs_distribution``: the
    simplification holds only when the targets sum to 1.
    """

    activation: str
    loss: str
    steps: Callable
    needs_distribution: bool = False


# --- activations -------------------------------------------------------------

ONE, ZERO = Num("1"), Num("0")


def _sigmoid(net):
    return Frac(ONE, Add((ONE, Exp(Neg(net)))))


def _sigmoid_derivative(out, net):
    return Mul((out, Paren(Add((ONE, Neg(out))))), juxtapose=True)


def _tanh_forms(net):
    return (Tanh(net),)


def _tanh(net):
    return Frac(Add((Exp(net), Neg(Exp(Neg(net))))), Add((Exp(net), Exp(Neg(net)))))


def _tanh_derivative(out, net):
    return Add((ONE, Neg(Pow(out, Num("2")))))


def _relu(net):
    return Max((ZERO, net))


def _relu_derivative(out, net):
    return Cases(((ONE, Greater(net, ZERO)),), ZERO)


def _leaky_relu(net, slope):
    return Cases(((net, Greater(net, ZERO)),), Mul((slope, net)))


def _leaky_relu_derivative(out, net, slope):
    return Cases(((ONE, Greater(net, ZERO)),), slope)


def _linear(net):
    return net


def _linear_derivative(out, net):
    return ONE


def _softplus(net):
    return Log(Add((ONE, Exp(net))))


def _softplus_float(net):
    # max(net, 0) + ln(1 + e^{-|net|}): the same function, but e^x never overflows
    return Add((Max((net, ZERO)), Log(Add((ONE, Exp(Neg(Max((net, Neg(net))))))))))


def _softplus_derivative(out, net):
    return _sigmoid(net)


def _softmax(nets, k):
    return Frac(Exp(nets[k]), Add(tuple(Exp(n) for n in nets)))


def _softmax_jacobian(out_k, out_o, same):
    if same:
        return Mul((out_o, Paren(Add((ONE, Neg(out_o))))), juxtapose=True)
    return Neg(Mul((out_k, out_o)))


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_derivative),
    "tanh": Activation("tanh", _tanh, _tanh_derivative, forms=_tanh_forms, float_formula=Tanh),
    "relu": Activation("relu", _relu, _relu_derivative, kink=True),
    "leaky_relu": Activation("leaky_relu", _leaky_relu, _leaky_relu_derivative, kink=True, parameters=("slope",)),
    "linear": Activation("linear", _linear, _linear_derivative),
    "softplus": Activation("softplus", _softplus, _softplus_derivative, float_formula=_softplus_float),
    "softmax": CoupledActivation("softmax", _softmax, _softmax_jacobian, r"out_{k}(\delta_{ko} - out_{o})"),
}

# The slope of leaky_relu for a negative net input when the spec gives none.
DEFAULT_SLOPE = "0.01"


def activation(name: str, slope=None):
    """The activation ``name`` with its parameters bound (``slope`` as written, for leaky_relu)."""
    act = ACTIVATIONS[name]
    if not getattr(act, "parameters", ()):
        return act
    bound = Num(str(slope if slope is not None else DEFAULT_SLOPE))
    return dataclasses.replace(act, formula=partial(act.formula, slope=bound),
                               derivative=partial(act.derivative, slope=bound), parameters=())


# --- losses --------------------------------------------------------------------


def _difference(target, out):
    return Paren(Add((target, Neg(out))))


def _power_rule(coefficient, target, out):
    """2 * coefficient(target - out)^{2 - 1} * (-1): the power rule, then the inner derivative."""
    power = Pow(_difference(target, out), Add((Num("2"), Neg(ONE))))
    inner = Mul((coefficient, power), juxtapose=True) if coefficient else power
    return Mul((Num("2"), inner, Num("-1")))


def _half_squared_error(target, out, n):
    return Mul((half(), Pow(_difference(target, out), Num("2"))), juxtapose=True)


def _half_squared_error_derivative(target, out, n):
    return (_power_rule(half(), target, out), Neg(_difference(target, out)))


def _squared_error(target, out, n):
    return Pow(_difference(target, out), Num("2"))


def _squared_error_derivative(target, out, n):
    return (_power_rule(None, target, out), Mul((Num("-2"), _difference(target, out)), juxtapose=True))


def _mean_squared_error(target, out, n):
    return Mul((Frac(ONE, Num(str(n))), Pow(_difference(target, out), Num("2"))), juxtapose=True)


def _mean_squared_error_derivative(target, out, n):
    simplest = Neg(Mul((Frac(Num("2"), Num(str(n))), _difference(target, out)), juxtapose=True))
    return (_power_rule(Frac(ONE, Num(str(n))), target, out), simplest)


def _binary_cross_entropy(target, out, n):
    hit = Mul((target, Log(out)), juxtapose=True)
    miss = Mul((Paren(Add((ONE, Neg(target)))), Log(Paren(Add((ONE, Neg(out)))))), juxtapose=True)
    return Neg(Paren(Add((hit, miss))))


def _binary_cross_entropy_derivative(target, out, n):
    by_rule = Neg(Paren(Add((Frac(target, out), Neg(Frac(Add((ONE, Neg(target))), Add((ONE, Neg(out)))))))))
    combined = Frac(Add((out, Neg(target))), Mul((out, Paren(Add((ONE, Neg(out))))), juxtapose=True))
    return (by_rule, combined)


def _cross_entropy(target, out, n):
    return Neg(Mul((target, Log(out)), juxtapose=True))


def _cross_entropy_derivative(target, out, n):
    return (Neg(Frac(target, out)),)


LOSSES = {
    "half_squared_error": Loss(
        "half_squared_error", _half_squared_error, _half_squared_error_derivative,
        lambda n: r"\sum \frac{1}{2}(target - output)^{2}",
    ),
    "squared_error": Loss(
        "squared_error", _squared_error, _squared_error_derivative,
        lambda n: r"\sum (target - output)^{2}",
    ),
    "mean_squared_error": Loss(
        "mean_squared_error", _mean_squared_error, _mean_squared_error_derivative,
        lambda n: rf"\frac{{1}}{{{n}}}\sum (target - output)^{{2}}",
    ),
    "binary_cross_entropy": Loss(
        "binary_cross_entropy", _binary_cross_entropy, _binary_cross_entropy_derivative,
        lambda n: r"-\sum \left(target \ln(output) + (1 - target)\ln(1 - output)\right)",
    ),
    "cross_entropy": Loss(
        "cross_entropy", _cross_entropy, _cross_entropy_derivative,
        lambda n: r"-\sum target \ln(output)",
    ),
}


# --- pairings ------------------------------------------------------------------


def _softmax_cross_entropy_steps(targets, outs, o):
    # Σ_k (-t_k / out_k) out_k (δ_ko - out_o) = -t_o + out_o Σ_k t_k = out_o - t_o, as Σ_k t_k = 1
    collected = Add((Neg(targets[o]), Mul((outs[o], Paren(Add(tuple(targets)))), juxtapose=True)))
    return (collected, Add((outs[o], Neg(targets[o]))))


def _sigmoid_binary_cross_entropy_steps(targets, outs, o):
    # (out - t) / (out(1 - out)) * out(1 - out) = out - t
    return (Add((outs[o], Neg(targets[o]))),)


PAIRINGS = {
    ("softmax", "cross_entropy"): Pairing("softmax", "cross_entropy", _softmax_cross_entropy_steps, True),
    ("sigmoid", "binary_cross_entropy"): Pairing("sigmoid", "binary_cross_entropy", _sigmoid_binary_cross_entropy_steps),
}


# --- proofs --------------------------------------------------------------------


@cache
def check_derivatives(activation_name: str, loss: str, slope: str | None = None, outputs: int = 1) -> None:
    """Prove with ``sympy.diff`` that the printed derivatives are the derivatives.

    The activation's derivative (or softmax's Jacobian for ``outputs``
    neurons), every printed form of it, the loss's derivative steps for
    ``outputs`` outputs, and the pair's simplified error signal if the two
    have one.  Raises ``DerivationMismatch`` otherwise.  Cached: done once per
    combination.
    """
    act = activation(activation_name, slope)
    if act.coupled:
        _check_jacobian(act, outputs)
    else:
        _check_elementwise(act)
    _check_loss(LOSSES[loss], outputs)
    if (activation_name, loss) in PAIRINGS:
        _check_pairing(act, LOSSES[loss], PAIRINGS[activation_name, loss], outputs)


def _symbols(**assumptions):
    import sympy

    return {key: sympy.Symbol(key, **assumptions.get(key, {})) for key in ("net", "out", "target")}


NET, OUT, TARGET = Sym("net", "net"), Sym("out", "out"), Sym("target", "target")


def _check_elementwise(act: Activation) -> None:
    import sympy

    # A function with a kink is proved on each side of it; the value at the
    # kink itself is a convention (tested, not provable).  A float form built
    # with max() is proved on each side too.
    sides = ({"net": {"positive": True}}, {"net": {"negative": True}})
    for assumptions in sides if act.kink or act.float_formula else ({},):
        names = _symbols(**assumptions)
        forward = to_sympy(act.formula(NET), names.get)
        for form in (*act.forms(NET), act.float_form(NET)):
            if not _is_zero(to_sympy(form, names.get) - forward):
                raise DerivationMismatch(f"a printed form of {act.name} is not its formula")
        printed = to_sympy(act.derivative(OUT, NET), names.get).subs(names["out"], forward)
        if not _is_zero(sympy.diff(forward, names["net"]) - printed):
            raise DerivationMismatch(f"the printed derivative of {act.name} is wrong")


def _softmax_symbols(act: CoupledActivation, n: int):
    import sympy

    nets = [sympy.Symbol(f"net{k}") for k in range(n)]
    net_syms = [Sym(f"net{k}", f"net{k}") for k in range(n)]
    lookup = {f"net{k}": s for k, s in enumerate(nets)}.get
    outs = [to_sympy(act.formula(net_syms, k), lookup) for k in range(n)]
    return nets, outs


def _check_jacobian(act: CoupledActivation, n: int) -> None:
    import sympy

    nets, outs = _softmax_symbols(act, n)
    out_syms = [Sym(f"out{k}", f"out{k}") for k in range(n)]
    lookup = {f"out{k}": outs[k] for k in range(n)}.get
    # Every entry for up to four outputs; beyond, the first column (the
    # function is the same under any renumbering of the outputs).
    entries = [(k, o) for k in range(n) for o in range(n)] if n <= 4 else [(k, 0) for k in range(n)]
    for k, o in entries:
        printed = to_sympy(act.jacobian(out_syms[k], out_syms[o], k == o), lookup)
        if not _is_zero(sympy.diff(outs[k], nets[o]) - printed):
            raise DerivationMismatch(f"the printed derivative of {act.name} output {k + 1} by net {o + 1} is wrong")


def _check_loss(loss: Loss, n: int) -> None:
    import sympy

    names = _symbols()
    error = to_sympy(loss.term(TARGET, OUT, n), names.get)
    true_derivative = sympy.diff(error, names["out"])
    for form in loss.derivative_steps(TARGET, OUT, n):
        if not _is_zero(to_sympy(form, names.get) - true_derivative):
            raise DerivationMismatch(f"a printed derivative step of {loss.name} is wrong")


def _check_pairing(act, loss: Loss, pairing: Pairing, n: int) -> None:
    """∂E_total/∂net_0 through the chain rule equals every printed simpler form."""
    import sympy

    if act.coupled:
        nets, outs = _softmax_symbols(act, n)
    else:
        nets = [sympy.Symbol(f"net{k}") for k in range(n)]
        outs = [to_sympy(act.formula(Sym(f"net{k}", f"net{k}")), {f"net{k}": nets[k]}.get) for k in range(n)]
    targets = [sympy.Symbol(f"target{k}") for k in range(n)]
    if pairing.needs_distribution:
        targets[-1] = 1 - sum(targets[:-1], sympy.Integer(0))
    values = {**{f"out{k}": outs[k] for k in range(n)}, **{f"target{k}": targets[k] for k in range(n)}}
    out_syms = [Sym(f"out{k}", f"out{k}") for k in range(n)]
    target_syms = [Sym(f"target{k}", f"target{k}") for k in range(n)]
    total = sum((to_sympy(loss.term(t, o, n), values.get) for t, o in zip(target_syms, out_syms)), sympy.Integer(0))
    true_signal = sympy.diff(total, nets[0])
    for form in pairing.steps(target_syms, out_syms, 0):
        if not _is_zero(to_sympy(form, values.get) - true_signal):
            raise DerivationMismatch(f"the simplified error signal of {act.name} with {loss.name} is wrong")


def _is_zero(expression) -> bool:
    """Whether SymPy proves ``expression`` is 0: ``cancel`` settles the usual cases at once."""
    import sympy

    if expression.has(sympy.tanh):
        expression = expression.rewrite(sympy.exp)
    return sympy.cancel(expression) == 0 or sympy.simplify(expression) == 0
