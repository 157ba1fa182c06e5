"""Laying a substituted form over a formula, and taking formulas apart."""

from __future__ import annotations

import pytest

from explainer.grading.alignment import same_shape, substituted_numbers
from explainer.grading.formula_parts import keys, replaced, without_each_minus
from explainer.maths.formulas import Add, Exp, Frac, Mul, Neg, Num, Paren, Partial, Sym, evaluate, latex


def s(key: str) -> Sym:
    return Sym(key, key)


NET_O1 = Add((Mul((s("w5"), s("out_h1"))), Mul((s("w6"), s("out_h2"))), Mul((s("b2"), Num("1")))))
SIGMOID_H1 = Frac(Num("1"), Add((Num("1"), Exp(Neg(s("net_h1"))))))
DERIVATIVE = Mul((s("out_o1"), Paren(Add((Num("1"), Neg(s("out_o1")))))), juxtapose=True)
SUM = Add((Partial(s("E_o1"), s("out_h1"), "dE_o1/dout_h1"), Partial(s("E_o2"), s("out_h1"), "dE_o2/dout_h1")))


def test_each_number_stands_for_the_quantity_in_its_place():
    written = Add((Mul((Num("0.4"), Num("0.593269992"))), Mul((Num("0.45"), Num("0.596884378"))), Mul((Num("0.6"), Num("1")))))
    assert substituted_numbers(written, NET_O1) == (
        ("w5", "0.4"), ("out_h1", "0.593269992"), ("w6", "0.45"), ("out_h2", "0.596884378"), ("b2", "0.6"))


def test_a_factor_of_one_may_be_left_out():
    written = Add((Mul((Num("0.4"), Num("0.59"))), Mul((Num("0.45"), Num("0.6"))), Num("0.6")))
    assert dict(substituted_numbers(written, NET_O1))["b2"] == "0.6"


def test_signs_and_parentheses():
    assert substituted_numbers(Frac(Num("1"), Add((Num("1"), Exp(Num("-0.3775"))))), SIGMOID_H1) == (("net_h1", "0.3775"),)
    written = Mul((Num("0.75"), Paren(Add((Num("1"), Neg(Num("0.75")))))), juxtapose=True)
    assert substituted_numbers(written, DERIVATIVE) == (("out_o1", "0.75"), ("out_o1", "0.75"))
    assert substituted_numbers(Add((Num("0.055399425"), Num("-0.019049118"))), SUM) == (
        ("dE_o1/dout_h1", "0.055399425"), ("dE_o2/dout_h1", "-0.019049118"))
    assert substituted_numbers(Add((Num("0.055399425"), Neg(Num("0.019049118")))), SUM)[1] == ("dE_o2/dout_h1", "-0.019049118")


def test_a_different_shape_names_nothing():
    assert substituted_numbers(Mul((Num("0.4"), Num("0.5"))), NET_O1) is None
    # A constant of the formula must be the number written in its place.
    assert substituted_numbers(Frac(Num("2"), Add((Num("1"), Exp(Num("-0.3775"))))), SIGMOID_H1) is None


def test_same_shape_ignores_names_and_numbers():
    assert same_shape(NET_O1, Add((Mul((s("w1"), s("i1"))), Mul((s("w3"), s("i2"))), Mul((s("b1"), Num("1"))))))
    assert not same_shape(NET_O1, SIGMOID_H1)


def test_keys_replaced_and_minus_signs():
    assert keys(DERIVATIVE) == ("out_o1",)
    assert keys(NET_O1) == ("w5", "out_h1", "w6", "out_h2", "b2")
    swapped = replaced(NET_O1, {"out_h1": "net_h1"})
    assert keys(swapped) == ("w5", "net_h1", "w6", "out_h2", "b2")
    values = {"out_o1": 2}
    assert [evaluate(f, values) for f in without_each_minus(DERIVATIVE)] == [6]
    update = Add((s("w5"), Neg(Mul((s("eta"), s("g"))))))
    assert [latex(f) for f in without_each_minus(update)] == ["w5 + eta * g"]
    assert list(without_each_minus(Mul((Num("2"), Num("-1"))))) == [Mul((Num("2"), Num("1")))]


@pytest.mark.parametrize("node", [NET_O1, SIGMOID_H1, DERIVATIVE, SUM])
def test_a_formula_without_minus_signs_has_no_variants(node):
    assert len(list(without_each_minus(node))) == latex(node).count("-")


def test_one_occurrence_replaced():
    from explainer.grading.formula_parts import name_keys, replaced_one

    assert name_keys(DERIVATIVE) == ("out_o1", "out_o1")
    assert name_keys(replaced_one(DERIVATIVE, 1, "net_o1")) == ("out_o1", "net_o1")
    assert name_keys(replaced_one(NET_O1, 0, "w6")) == ("w6", "out_h1", "w6", "out_h2", "b2")
