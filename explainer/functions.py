"""Activation and loss functions, each with its derivative written as a teacher would.

Every function is written once, as a formula record (``explainer.notation``):
the same record is printed in the document, evaluated for the numbers and
turned into SymPy.  The derivative forms written here are the printed ones
(``out(1 - out)`` rather than SymPy's ``e^{-net}/(1+e^{-net})^2``);
``check_derivatives`` proves with ``sympy.diff`` that each equals the true
derivative, so nothing printed is taken on trust.  The proof does not depend on
any spec, so the test suite makes it, for every activation and loss; at run time
the derivation checks its numbers against finite differences and the composed
error instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

from .errors import DerivationMismatch
from .notation import Add, Exp, Frac, Mul, Neg, Num, Paren, Pow, half, to_sympy


@dataclass(frozen=True)
class Activation:
    name: str
    # out = formula(net)
    formula: Callable
    # d out / d net, written with out (and net where needed): derivative(out, net)
    derivative: Callable


@dataclass(frozen=True)
class Loss:
    name: str
    # the error of one output: term(target, out)
    term: Callable
    # d term / d out, step by step: the power-rule form first, the simplest last
    derivative_steps: Callable
    # the general formula, as LaTeX, for the paragraph that introduces the error
    total_tex: str


def _sigmoid(net):
    return Frac(Num("1"), Add((Num("1"), Exp(Neg(net)))))


def _sigmoid_derivative(out, net):
    return Mul((out, Paren(Add((Num("1"), Neg(out))))), juxtapose=True)


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_derivative),
}


def _half_squared_error(target, out):
    return Mul((half(), Pow(Paren(Add((target, Neg(out)))), Num("2"))), juxtapose=True)


def _half_squared_error_derivative(target, out):
    power_rule = Mul(
        (
            Num("2"),
            Mul((half(), Pow(Paren(Add((target, Neg(out)))), Add((Num("2"), Neg(Num("1")))))), juxtapose=True),
            Num("-1"),
        )
    )
    return (power_rule, Neg(Paren(Add((target, Neg(out))))))


LOSSES = {
    "half_squared_error": Loss(
        "half_squared_error",
        _half_squared_error,
        _half_squared_error_derivative,
        r"\sum \frac{1}{2}(target - output)^{2}",
    ),
}


@cache
def check_derivatives(activation: str, loss: str) -> None:
    """Prove with ``sympy.diff`` that the printed derivatives are the derivatives.

    Raises ``DerivationMismatch`` otherwise.  Cached: done once per pair.
    """
    import sympy

    from .notation import Sym

    names = {key: sympy.Symbol(key) for key in ("net", "out", "target")}
    net, out, target = (Sym(key, key) for key in ("net", "out", "target"))

    act = ACTIVATIONS[activation]
    forward = to_sympy(act.formula(net), names.get)
    printed = to_sympy(act.derivative(out, net), names.get).subs(names["out"], forward)
    if not _is_zero(sympy.diff(forward, names["net"]) - printed):
        raise DerivationMismatch(f"the printed derivative of {activation} is wrong")

    error = to_sympy(LOSSES[loss].term(target, out), names.get)
    true_derivative = sympy.diff(error, names["out"])
    for form in LOSSES[loss].derivative_steps(target, out):
        if not _is_zero(to_sympy(form, names.get) - true_derivative):
            raise DerivationMismatch(f"a printed derivative step of {loss} is wrong")


def _is_zero(expression) -> bool:
    """Whether SymPy proves ``expression`` is 0: ``cancel`` settles the usual cases at once."""
    import sympy

    return sympy.cancel(expression) == 0 or sympy.simplify(expression) == 0
