"""Activations, losses and their printed derivatives; the formula records they are made of."""

from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np
import pytest
import sympy

import explainer.maths.numeric as numeric
from explainer.spec.errors import DerivationMismatch
from explainer.maths.functions import ACTIVATIONS, LOSSES, PAIRINGS, activation, check_derivatives
from explainer.maths.formulas import (
    Add, Cases, Exp, Greater, Log, Max, Mul, Neg, Num, Paren, Sym, Tanh, compile_function, evaluate, latex, python,
    rekey, substitute, to_sympy,
)
from explainer.spec.reading import ACTIVATIONS as SPEC_ACTIVATIONS
from explainer.spec.reading import LOSSES as SPEC_LOSSES

NET, OUT, TARGET = Sym("net_{o1}", "net"), Sym("out_{o1}", "out"), Sym("target_{o1}", "target")
ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if not act.coupled]


def clear_caches():
    for cached in (check_derivatives, numeric.activation_function, numeric.activation_derivative):
        cached.cache_clear()


def test_the_spec_knows_the_same_names():
    assert SPEC_ACTIVATIONS == tuple(ACTIVATIONS)
    assert SPEC_LOSSES == tuple(LOSSES)


# --- proofs -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("loss", ["half_squared_error", "squared_error", "mean_squared_error"])
def test_printed_derivatives_are_proved(name, loss):
    check_derivatives(name, loss, "0.2" if name == "leaky_relu" else None, 3)


@pytest.mark.parametrize("outputs", [2, 3, 5])
@pytest.mark.parametrize("loss", ["cross_entropy", "half_squared_error", "binary_cross_entropy"])
def test_softmax_jacobian_and_its_pairings_are_proved(outputs, loss):
    check_derivatives("softmax", loss, None, outputs)


def test_sigmoid_with_binary_cross_entropy_is_proved():
    check_derivatives("sigmoid", "binary_cross_entropy", None, 1)


WRONG_DERIVATIVES = {
    "sigmoid": lambda out, net: Mul((out, Paren(Add((Num("1"), out)))), juxtapose=True),
    "tanh": lambda out, net: Add((Num("1"), Neg(out))),
    "relu": lambda out, net: Cases(((Num("1"), Greater(net, Num("0"))),), Num("1")),
    "leaky_relu": lambda out, net, slope: Cases(((Num("1"), Greater(net, Num("0"))),), Num("0")),
    "linear": lambda out, net: Num("0"),
    "softplus": lambda out, net: Exp(net),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_a_wrong_printed_derivative_is_refused(name, monkeypatch):
    clear_caches()
    wrong = dataclasses.replace(ACTIVATIONS[name], derivative=WRONG_DERIVATIVES[name])
    monkeypatch.setitem(ACTIVATIONS, name, wrong)
    with pytest.raises(DerivationMismatch):
        check_derivatives(name, "half_squared_error", "0.1" if name == "leaky_relu" else None, 1)
    monkeypatch.undo()
    clear_caches()


def test_a_wrong_printed_form_is_refused(monkeypatch):
    clear_caches()
    wrong = dataclasses.replace(ACTIVATIONS["tanh"], forms=lambda net: (Tanh(Mul((Num("2"), net))),))
    monkeypatch.setitem(ACTIVATIONS, "tanh", wrong)
    with pytest.raises(DerivationMismatch):
        check_derivatives("tanh", "half_squared_error", None, 1)
    monkeypatch.undo()
    clear_caches()


def test_a_wrong_jacobian_entry_is_refused(monkeypatch):
    clear_caches()
    right = ACTIVATIONS["softmax"]
    wrong = dataclasses.replace(right, jacobian=lambda k, o, same: right.jacobian(k, o, same) if same else Mul((k, o)))
    monkeypatch.setitem(ACTIVATIONS, "softmax", wrong)
    with pytest.raises(DerivationMismatch):
        check_derivatives("softmax", "half_squared_error", None, 3)
    monkeypatch.undo()
    clear_caches()


@pytest.mark.parametrize("loss", list(LOSSES))
def test_a_wrong_loss_derivative_is_refused(loss, monkeypatch):
    clear_caches()
    right = LOSSES[loss]
    steps = lambda t, o, n: (*right.derivative_steps(t, o, n)[:-1], Mul((Num("3"), right.derivative_steps(t, o, n)[-1])))
    monkeypatch.setitem(LOSSES, loss, dataclasses.replace(right, derivative_steps=steps))
    with pytest.raises(DerivationMismatch):
        check_derivatives("softmax" if loss == "cross_entropy" else "sigmoid", loss, None, 2)
    monkeypatch.undo()
    clear_caches()


def test_a_wrong_pairing_is_refused(monkeypatch):
    clear_caches()
    right = PAIRINGS["softmax", "cross_entropy"]
    wrong = dataclasses.replace(right, steps=lambda t, o, k: (Add((o[k], Neg(t[k]), Num("0.001"))),))
    monkeypatch.setitem(PAIRINGS, ("softmax", "cross_entropy"), wrong)
    with pytest.raises(DerivationMismatch):
        check_derivatives("softmax", "cross_entropy", None, 3)
    monkeypatch.undo()
    clear_caches()


def test_softmax_with_cross_entropy_needs_targets_adding_up_to_1():
    # Without the constraint, -t_o + out_o Σ t_k is not out_o - t_o: the pairing's claim rests on it.
    n = 3
    nets = [sympy.Symbol(f"n{k}") for k in range(n)]
    targets = [sympy.Symbol(f"t{k}") for k in range(n)]
    outs = [sympy.exp(x) / sum(map(sympy.exp, nets)) for x in nets]
    error = -sum(t * sympy.log(o) for t, o in zip(targets, outs))
    signal = sympy.diff(error, nets[0])
    assert sympy.simplify(signal - (outs[0] - targets[0])) != 0
    constrained = signal.subs(targets[-1], 1 - targets[0] - targets[1])
    assert sympy.simplify(constrained - (outs[0] - targets[0])) == 0


# --- the kink of ReLU ------------------------------------------------------------------


@pytest.mark.parametrize("name, slope, convention", [("relu", None, "0"), ("leaky_relu", "0.1", "0.1"),
                                                     ("leaky_relu", "0.01", "0.01")])
def test_the_convention_at_the_kink(name, slope, convention):
    act = activation(name, slope)
    with mpmath.workdps(50):
        convention = mpmath.mpf(convention)
        at = lambda x: evaluate(act.derivative(OUT, NET), {"net": mpmath.mpf(x), "out": mpmath.mpf(0)})
        assert at(0) == convention
        assert at("1e-30") == 1 and at("-1e-30") == convention
        # A net input that is 0 in decimal arithmetic but not in binary is at the kink.
        tie = mpmath.mpf("0.1") * 3 - mpmath.mpf("0.3")
        assert tie != 0 and at(tie) == convention
    # The float loop decides the same way at an exact 0.
    assert numeric.activation_derivative(name, slope, "float")(0.0, 0.0) == float(convention)
    assert list(numeric.activation_derivative(name, slope, "numpy")(np.zeros(2), np.array([0.0, 1.0]))) == [
        float(convention), 1.0]


@pytest.mark.parametrize("name, slope, convention", [("relu", None, 0), ("leaky_relu", "0.1", sympy.Rational(1, 10))])
def test_sympy_of_the_formula_takes_the_same_convention(name, slope, convention):
    # The composed-error check differentiates the formula itself: at the kink it must agree with the document.
    x = sympy.Symbol("net")
    forward = to_sympy(activation(name, slope).formula(Sym("net", "net")), {"net": x}.get)
    derivative = sympy.diff(forward, x)
    assert derivative.subs(x, 0) == convention
    assert derivative.subs(x, sympy.Rational(1, 3)) == 1
    assert derivative.subs(x, -sympy.Rational(1, 3)) == convention


# --- values -----------------------------------------------------------------------------

REFERENCE = {
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    "tanh": mpmath.tanh,
    "relu": lambda x: max(mpmath.mpf(0), x),
    "leaky_relu": lambda x: x if x > 0 else mpmath.mpf("0.01") * x,
    "linear": lambda x: x,
    "softplus": lambda x: mpmath.log(1 + mpmath.exp(x)),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("x", ["-2.5", "-0.3", "0.7", "3"])
def test_formula_and_derivative_values(name, x):
    act = activation(name)
    with mpmath.workdps(50):
        net = mpmath.mpf(x)
        out = evaluate(act.formula(NET), {"net": net})
        assert abs(out - REFERENCE[name](net)) < mpmath.mpf("1e-45")
        derivative = evaluate(act.derivative(OUT, NET), {"net": net, "out": out})
        assert abs(derivative - mpmath.diff(REFERENCE[name], net)) < mpmath.mpf("1e-30")
        for library in ("float", "numpy"):
            assert float(numeric.activation_function(name, None, library)(float(x))) == pytest.approx(float(out), rel=1e-14)


@pytest.mark.parametrize("x", [-1000.0, -40.0, 0.0, 40.0, 1000.0])
def test_float_forms_do_not_overflow(x):
    assert numeric.activation_function("softplus", None, "float")(x) == pytest.approx(math.log1p(math.exp(-abs(x))) + max(x, 0))
    assert numeric.activation_function("tanh", None, "float")(x) == math.tanh(x)
    assert numeric.activation_function("sigmoid", None, "float")(x) == pytest.approx(1 / (1 + math.exp(-x)) if x > -700 else 0)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_loss_terms_and_derivatives(loss):
    with mpmath.workdps(50):
        t, o, n = mpmath.mpf("0.3"), mpmath.mpf("0.8"), 4
        term = evaluate(LOSSES[loss].term(TARGET, OUT, n), {"target": t, "out": o})
        expected = {"half_squared_error": (t - o) ** 2 / 2, "squared_error": (t - o) ** 2,
                    "mean_squared_error": (t - o) ** 2 / n,
                    "binary_cross_entropy": -(t * mpmath.log(o) + (1 - t) * mpmath.log(1 - o)),
                    "cross_entropy": -t * mpmath.log(o)}[loss]
        assert abs(term - expected) < mpmath.mpf("1e-45")
        for step in LOSSES[loss].derivative_steps(TARGET, OUT, n):
            value = evaluate(step, {"target": t, "out": o})
            f = lambda x: evaluate(LOSSES[loss].term(TARGET, OUT, n), {"target": t, "out": x})
            assert abs(value - mpmath.diff(f, o)) < mpmath.mpf("1e-30")


def test_mean_squared_error_constants_are_exact_at_high_precision():
    # 1/3 must not be the double nearest 1/3 in the 50-digit evaluation.
    with mpmath.workdps(50):
        f = numeric.loss_term("mean_squared_error", 3)
        assert f(mpmath.mpf(0), mpmath.mpf(1)) == mpmath.mpf(1) / 3


# --- the formula records --------------------------------------------------------------------


def test_latex_of_the_new_records():
    net = Sym("net_{h1}", "net")
    assert latex(Log(Paren(Add((Num("1"), Neg(net)))))) == r"\ln(1 - net_{h1})"
    assert latex(Log(net)) == r"\ln(net_{h1})"
    assert latex(Tanh(net)) == r"\tanh(net_{h1})"
    assert latex(Max((Num("0"), net))) == r"\max(0, net_{h1})"
    assert latex(activation("relu").derivative(OUT, net)) == (
        r"\begin{cases} 1 & \text{if } net_{h1} > 0 \\ 0 & \text{otherwise} \end{cases}")
    assert latex(activation("leaky_relu", "0.05").formula(net)) == (
        r"\begin{cases} net_{h1} & \text{if } net_{h1} > 0 \\ 0.05 * net_{h1} & \text{otherwise} \end{cases}")


def test_substitute_and_rekey_reach_inside_the_new_records():
    formula = activation("leaky_relu", "0.05").formula(Sym("net_{h1}", "net_h1"))
    assert latex(substitute(formula, {"net_h1": "-0.3"})) == (
        r"\begin{cases} -0.3 & \text{if } {-0.3} > 0 \\ 0.05 * (-0.3) & \text{otherwise} \end{cases}")
    renamed = rekey(formula, lambda key: key + "[2]")
    assert evaluate(renamed, {"net_h1[2]": mpmath.mpf(-2)}) == mpmath.mpf("-0.1")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_python_of_every_activation_compiles_for_every_library(name):
    act = activation(name)
    for library, x in (("float", 0.4), ("numpy", np.array([-0.4, 0.4])), ("mpmath", mpmath.mpf("0.4"))):
        f = compile_function(act.derivative(Sym("", "out"), Sym("", "net")), ("out", "net"), numeric.functions_of(library))
        f(x, x)
    assert "where(" in python(activation("relu").derivative(Sym("", "out"), Sym("", "net")))
