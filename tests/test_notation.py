"""Tests of explainer.maths.formulas: formula records, their LaTeX, substitution, values and line breaking."""

from __future__ import annotations

import math
import re

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from explainer.maths.numeric import LIBRARIES
from explainer.maths.formulas import (
    Add,
    Arrow,
    Exp,
    Frac,
    Mul,
    Neg,
    Num,
    Paren,
    Partial,
    Pow,
    Sym,
    add,
    chain_lines,
    compile_function,
    evaluate,
    half,
    latex,
    mul,
    num,
    python,
    substitute,
    to_sympy,
    visible_width,
)

# --- The source's quantities ----------------------------------------------------------

w5 = Sym("w_5", "w5")
w6 = Sym("w_6", "w6")
b2 = Sym("b_2", "b2")
eta = Sym("\\eta", "eta")
net_h1 = Sym("net_{h1}", "net_h1")
out_h1 = Sym("out_{h1}", "out_h1")
out_h2 = Sym("out_{h2}", "out_h2")
out_o1 = Sym("out_{o1}", "out_o1")
target_o1 = Sym("target_{o1}", "target_o1")
E_total = Sym("E_{total}", "E_total")

NET_O1 = add(mul(w5, out_h1), mul(w6, out_h2), mul(b2, num("1")))
SIGMOID_H1 = Frac(num("1"), add(num("1"), Exp(Neg(net_h1))))
SIGMOID_DERIVATIVE = mul(out_o1, Paren(add(num("1"), Neg(out_o1))), juxtapose=True)
ERROR_DERIVATIVE = Neg(Paren(add(target_o1, Neg(out_o1))))
DE_DW5 = Partial(E_total, w5, "dE_total/dw5")
W5_UPDATED = add(w5, Neg(mul(eta, DE_DW5)))
HALF_SQUARED_ERROR = mul(half(), Pow(Paren(add(target_o1, Neg(out_o1))), num("2")), juxtapose=True)

SOURCE_VALUES = {
    "w5": mpmath.mpf("0.40"),
    "w6": mpmath.mpf("0.45"),
    "b2": mpmath.mpf("0.60"),
    "eta": mpmath.mpf("0.5"),
    "net_h1": mpmath.mpf("0.3775"),
    "out_h1": mpmath.mpf("0.593269992107187"),
    "out_h2": mpmath.mpf("0.596884378259767"),
    "out_o1": mpmath.mpf("0.751365069552316"),
    "target_o1": mpmath.mpf("0.01"),
    "dE_total/dw5": mpmath.mpf("0.082167040564231"),
}


# --- LaTeX ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (NET_O1, "w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1"),
        (SIGMOID_DERIVATIVE, "out_{o1}(1 - out_{o1})"),
        (mul(out_o1, add(num("1"), Neg(out_o1)), juxtapose=True), "out_{o1}(1 - out_{o1})"),
        (ERROR_DERIVATIVE, "-(target_{o1} - out_{o1})"),
        (Neg(add(target_o1, Neg(out_o1))), "-(target_{o1} - out_{o1})"),
        (SIGMOID_H1, "\\frac{1}{1 + e^{-net_{h1}}}"),
        (DE_DW5, "\\frac{\\partial E_{total}}{\\partial w_5}"),
        (Partial(E_total, w5), "\\frac{\\partial E_{total}}{\\partial w_5}"),
        (W5_UPDATED, "w_5 - \\eta * \\frac{\\partial E_{total}}{\\partial w_5}"),
        (HALF_SQUARED_ERROR, "\\frac{1}{2}(target_{o1} - out_{o1})^{2}"),
        (
            mul(num("2"), mul(half(), Pow(Paren(add(target_o1, Neg(out_o1))), add(num("2"), Neg(num("1")))), juxtapose=True), num("-1")),
            "2 * \\frac{1}{2}(target_{o1} - out_{o1})^{2 - 1} * (-1)",
        ),
        (
            mul(Partial(E_total, out_o1), Partial(out_o1, Sym("net_{o1}")), Partial(Sym("net_{o1}"), w5)),
            "\\frac{\\partial E_{total}}{\\partial out_{o1}} * \\frac{\\partial out_{o1}}{\\partial net_{o1}}"
            " * \\frac{\\partial net_{o1}}{\\partial w_5}",
        ),
        (Arrow(), "\\downarrow"),
        (Sym("x"), "x"),
        (num("0.40"), "0.40"),  # numbers are printed exactly as written
    ],
)
def test_latex_of_the_source_forms(node, expected):
    assert latex(node) == expected


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        # negative numbers after the first position are parenthesised ...
        (add(num("0.05"), num("-0.019")), "0.05 + (-0.019)"),
        (mul(num("0.5"), num("-0.2")), "0.5 * (-0.2)"),
        (mul(num("0.5"), num("0.3"), num("-0.2")), "0.5 * 0.3 * (-0.2)"),
        (mul(num("0.5"), Neg(out_o1)), "0.5 * (-out_{o1})"),
        (mul(num("0.75"), Paren(add(num("1"), Neg(num("0.75")))), juxtapose=True), "0.75(1 - 0.75)"),
        # ... but not in the first position
        (add(num("-0.019"), num("0.05")), "-0.019 + 0.05"),
        (mul(num("-0.2"), num("0.5")), "-0.2 * 0.5"),
        (mul(Neg(w5), out_h1), "-w_5 * out_{h1}"),
        (add(Neg(w5), out_h1), "-w_5 + out_{h1}"),
        # an explicit Paren is not doubled
        (mul(num("0.5"), Paren(num("-0.2"))), "0.5 * (-0.2)"),
        # subtraction and grouping
        (add(w5, Neg(out_h1)), "w_5 - out_{h1}"),
        (add(w5, Neg(add(out_h1, out_h2))), "w_5 - (out_{h1} + out_{h2})"),
        (mul(w5, add(out_h1, out_h2)), "w_5 * (out_{h1} + out_{h2})"),
        (mul(add(out_h1, out_h2), w5), "(out_{h1} + out_{h2}) * w_5"),
        (Pow(out_h1, num("2")), "out_{h1}^{2}"),
        (Pow(add(out_h1, out_h2), num("2")), "(out_{h1} + out_{h2})^{2}"),
        (Pow(num("-2"), num("2")), "(-2)^{2}"),
        (Pow(Neg(out_h1), num("2")), "(-out_{h1})^{2}"),
        (Exp(num("-0.3775")), "e^{-0.3775}"),
        (Frac(num("-1"), num("2")), "\\frac{-1}{2}"),
        # parentheses around a fraction are sized to it, as a textbook sets them
        (Pow(Paren(Frac(w5, num("2"))), num("2")), "\\left(\\frac{w_5}{2}\\right)^{2}"),
        (Pow(add(Frac(w5, num("2")), out_h1), num("2")), "\\left(\\frac{w_5}{2} + out_{h1}\\right)^{2}"),
        (mul(w5, add(Frac(w5, num("2")), out_h1)), "w_5 * \\left(\\frac{w_5}{2} + out_{h1}\\right)"),
        (add(w5, Neg(add(Frac(w5, num("2")), out_h1))), "w_5 - \\left(\\frac{w_5}{2} + out_{h1}\\right)"),
    ],
)
def test_latex_signs_and_parentheses(node, expected):
    assert latex(node) == expected


@pytest.mark.parametrize(
    "node",
    [
        add(mul(num("0.40"), num("0.593269992")), mul(num("-0.45"), num("0.596884378")), mul(num("0.60"), num("1"))),
        add(w5, mul(Neg(w6), out_h2)),
        add(w5, Neg(mul(num("-0.5"), out_h1))),
    ],
)
def test_a_negative_leading_factor_is_guarded_inside_a_sum(node):
    assert not re.search(r"[-+*] -", latex(node)), latex(node)


@pytest.mark.parametrize(
    "node",
    [Neg(num("-0.2")), add(w5, Neg(num("-0.2"))), Neg(Neg(w5)), substitute(Neg(out_o1), {"out_o1": "-0.2"})],
)
def test_the_negation_of_a_negative_number_is_parenthesised(node):
    assert "--" not in latex(node).replace(" ", ""), latex(node)


def test_latex_rejects_a_non_formula():
    with pytest.raises(KeyError):
        latex("w_5")


# --- substitute -----------------------------------------------------------------------------


def test_substitute_replaces_the_shown_quantities_and_keeps_the_rest():
    shown = {"w5": "0.40", "out_h1": "0.593269992"}
    result = substitute(NET_O1, shown)
    assert result == add(mul(num("0.40"), num("0.593269992")), mul(w6, out_h2), mul(b2, num("1")))
    assert latex(result) == "0.40 * 0.593269992 + w_6 * out_{h2} + b_2 * 1"


def test_substitute_replaces_keyed_partials():
    unkeyed = Partial(E_total, out_o1)
    node = mul(DE_DW5, unkeyed, Partial(out_o1, net_h1, "other"))
    result = substitute(node, {"dE_total/dw5": "0.082167041"})
    assert result == mul(num("0.082167041"), unkeyed, Partial(out_o1, net_h1, "other"))


def test_substitute_keeps_the_shape_of_every_record():
    shown = {"out_o1": "0.75136507", "net_h1": "0.3775", "target_o1": "0.01", "dE_total/dw5": "0.082167041"}
    assert latex(substitute(SIGMOID_DERIVATIVE, shown)) == "0.75136507(1 - 0.75136507)"
    assert latex(substitute(SIGMOID_H1, shown)) == "\\frac{1}{1 + e^{-0.3775}}"
    assert latex(substitute(ERROR_DERIVATIVE, shown)) == "-(0.01 - 0.75136507)"
    assert latex(substitute(HALF_SQUARED_ERROR, shown)) == "\\frac{1}{2}(0.01 - 0.75136507)^{2}"
    assert latex(substitute(W5_UPDATED, {**shown, "w5": "0.40", "eta": "0.5"})) == "0.40 - 0.5 * 0.082167041"
    assert substitute(SIGMOID_DERIVATIVE, shown).juxtapose
    assert substitute(Arrow(), shown) == Arrow()


def test_substituted_negative_values_get_parentheses():
    # the source's dE_total/dout_h1 = dE_o1/dout_h1 + dE_o2/dout_h1
    node = add(Partial(E_total, out_h1, "dE_o1/dout_h1"), Partial(E_total, out_h1, "dE_o2/dout_h1"))
    result = substitute(node, {"dE_o1/dout_h1": "0.055399425", "dE_o2/dout_h1": "-0.019049118"})
    assert latex(result) == "0.055399425 + (-0.019049118)"
    assert latex(substitute(mul(w5, out_h1), {"w5": "0.5", "out_h1": "-0.2"})) == "0.5 * (-0.2)"


def test_substitute_rejects_a_non_formula():
    with pytest.raises(TypeError):
        substitute(add(w5, "out_h1"), {})


# --- Random formulas ----------------------------------------------------------------------------

SYMBOLS = {"x": Sym("x", "x"), "y": Sym("y_{1}", "y"), "z": Sym("out_{o1}", "z")}
# numbers exact in binary, so that python() (floats) and evaluate (mpmath) read them alike
NUMBERS = ["0.5", "1", "2", "3", "1.25", "0.75"]

leaves = st.one_of(st.sampled_from(list(SYMBOLS.values())), st.sampled_from(NUMBERS).map(Num))
small = st.one_of(leaves, leaves.map(Neg))


def _tuples(children, most=3):
    return st.lists(children, min_size=2, max_size=most).map(tuple)


positive = st.recursive(
    leaves,
    lambda c: st.one_of(
        _tuples(c).map(Add),
        st.builds(Mul, _tuples(c), st.booleans()),
        st.builds(Frac, c, c),
        c.map(Paren),
        st.builds(Pow, c, st.sampled_from(["2", "3", "-1", "0.5"]).map(Num)),
        small.map(Exp),
    ),
    max_leaves=8,
)
"""Formulas whose value is positive whenever the symbols are (safe as a denominator or a base)."""

formulas = st.recursive(
    positive,
    lambda c: st.one_of(
        c.map(Neg),
        c.map(Paren),
        _tuples(c).map(Add),
        st.builds(Mul, _tuples(c), st.booleans()),
        st.builds(Frac, c, positive),
    ),
    max_leaves=10,
)

values = st.fixed_dictionaries(
    {key: st.decimals(min_value="0.05", max_value="2", places=3).map(str) for key in SYMBOLS}
)


def sympy_value(node, texts):
    symbols = {key: sympy.Symbol(key, positive=True) for key in SYMBOLS}
    expression = to_sympy(node, symbols.__getitem__)
    exact = {symbols[key]: sympy.Rational(text) for key, text in texts.items()}
    return mpmath.mpf(sympy.N(expression.xreplace(exact), 40))


@settings(max_examples=150, deadline=None)
@given(formulas, values)
def test_evaluate_agrees_with_sympy(node, texts):
    with mpmath.workdps(40):
        ours = evaluate(node, {key: mpmath.mpf(text) for key, text in texts.items()})
        theirs = sympy_value(node, texts)
        assert mpmath.almosteq(ours, theirs, rel_eps=mpmath.mpf("1e-25"), abs_eps=mpmath.mpf("1e-25"))


@settings(max_examples=150, deadline=None)
@given(formulas, values)
def test_compiled_python_agrees_with_evaluate(node, texts):
    arguments = tuple(SYMBOLS)
    with mpmath.workdps(40):
        numbers = {key: mpmath.mpf(text) for key, text in texts.items()}
        expected = evaluate(node, numbers)
        function = compile_function(node, arguments, LIBRARIES["mpmath"])
        # mpf arguments: the compiled arithmetic is mpmath's, floats only in number-only parts
        computed = function(*(numbers[key] for key in arguments))
        assert mpmath.almosteq(computed, expected, rel_eps=1e-12, abs_eps=1e-12)
    floats = compile_function(node, arguments, LIBRARIES["float"])(*(float(texts[key]) for key in arguments))
    assert math.isclose(floats, float(expected), rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(formulas)
def test_substituting_nothing_changes_nothing(node):
    assert substitute(node, {}) == node
    assert substitute(node, {"unrelated": "1"}) == node


@settings(max_examples=100, deadline=None)
@given(formulas, values)
def test_substituting_every_value_keeps_the_value(node, texts):
    substituted = substitute(node, texts)
    assert not any(key in latex(substituted) for key in ("x", "y_{1}", "out_{o1}"))
    with mpmath.workdps(40):
        numbers = {key: mpmath.mpf(text) for key, text in texts.items()}
        assert mpmath.almosteq(evaluate(substituted, {}), evaluate(node, numbers), rel_eps=1e-30, abs_eps=1e-30)


# --- evaluate, to_sympy, python, compile_function on the source's forms ---------------------


def test_evaluate_the_source_forms():
    with mpmath.workdps(30):
        assert evaluate(NET_O1, SOURCE_VALUES) == pytest.approx(1.10590596705977)
        assert evaluate(SIGMOID_H1, SOURCE_VALUES) == pytest.approx(0.593269992107187, rel=1e-14)
        assert evaluate(SIGMOID_DERIVATIVE, SOURCE_VALUES) == pytest.approx(0.186815601808960, rel=1e-12)
        assert evaluate(ERROR_DERIVATIVE, SOURCE_VALUES) == pytest.approx(0.741365069552316, rel=1e-14)
        assert evaluate(W5_UPDATED, SOURCE_VALUES) == pytest.approx(0.358916479717885, rel=1e-14)
        assert evaluate(HALF_SQUARED_ERROR, SOURCE_VALUES) == pytest.approx(0.274811083, rel=1e-8)


def test_evaluate_uses_full_precision_values_and_exact_numbers():
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
        assert evaluate(mul(num("3"), Sym("a", "a")), {"a": third}) == mpmath.mpf(1)
        # numbers are read at the working precision, not as the float 0.1
        assert mpmath.almosteq(evaluate(add(num("0.1"), num("0.2")), {}), mpmath.mpf("0.3"), rel_eps=1e-48)


def test_evaluate_needs_a_value_for_every_quantity():
    with pytest.raises(KeyError):
        evaluate(NET_O1, {"w5": mpmath.mpf(1)})
    with pytest.raises(TypeError):
        evaluate(Arrow(), {})


def test_to_sympy_of_the_source_forms():
    net, out, target = sympy.symbols("net_h1 out_o1 target_o1")
    symbol = {"net_h1": net, "out_o1": out, "target_o1": target}.__getitem__
    assert to_sympy(SIGMOID_H1, symbol) == 1 / (1 + sympy.exp(-net))
    assert sympy.expand(to_sympy(SIGMOID_DERIVATIVE, symbol) - (out - out**2)) == 0
    assert sympy.expand(to_sympy(ERROR_DERIVATIVE, symbol) - (out - target)) == 0
    error = to_sympy(HALF_SQUARED_ERROR, symbol)
    assert sympy.expand(sympy.diff(error, out) - to_sympy(ERROR_DERIVATIVE, symbol)) == 0
    # numbers become exact rationals, never floats
    assert to_sympy(num("0.1"), symbol) == sympy.Rational(1, 10)


def test_to_sympy_rejects_a_non_formula():
    with pytest.raises(TypeError):
        to_sympy(Arrow(), sympy.Symbol)


def test_to_sympy_turns_a_keyed_partial_into_its_symbol():
    node = add(Partial(E_total, out_h1, "a"), Partial(E_total, out_h1, "b"))
    a, b = sympy.symbols("a b")
    assert to_sympy(node, {"a": a, "b": b}.__getitem__) == a + b


def test_python_source_of_a_formula():
    assert python(NET_O1) == "((w5 * out_h1) + (w6 * out_h2) + (b2 * 1.0))"
    assert python(SIGMOID_H1) == "(1.0 / (1.0 + exp((-net_h1))))"
    assert python(SIGMOID_DERIVATIVE) == "(out_o1 * (1.0 + (-out_o1)))"


def test_compile_function_of_the_source_forms():
    sigmoid = compile_function(SIGMOID_H1, ("net_h1",), LIBRARIES["float"])
    assert sigmoid(0.3775) == pytest.approx(0.593269992107187, rel=1e-15)
    derivative = compile_function(SIGMOID_DERIVATIVE, ("out_o1",), LIBRARIES["float"])
    assert derivative(0.75136507) == pytest.approx(0.75136507 * (1 - 0.75136507))
    net = compile_function(NET_O1, ("w5", "out_h1", "w6", "out_h2", "b2"), LIBRARIES["float"])
    assert net(0.40, 0.593269992, 0.45, 0.596884378, 0.60) == pytest.approx(1.105905967)


def test_compiled_functions_see_no_builtins():
    function = compile_function(Sym("len", "len"), (), LIBRARIES["float"])
    with pytest.raises(NameError):
        function()


def test_python_of_a_power_of_a_negative_number():
    node = Pow(num("-2"), num("2"))
    assert evaluate(node, {}) == 4
    assert compile_function(node, (), LIBRARIES["float"])() == 4


# --- visible_width --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tex", "width"),
    [
        ("w_5 * out_{h1}", len("w5 * outh1")),
        ("\\frac{\\partial E_{total}}{\\partial w_5}", len(" Etotal w5")),
        ("e^{-net_{h1}}", len("e-neth1")),
        ("0.593269992", 11),
        ("", 0),
    ],
)
def test_visible_width(tex, width):
    assert visible_width(tex) == width


# --- chain_lines ------------------------------------------------------------------------------


def test_a_short_chain_is_one_line_with_one_alignment_point():
    sides = [Sym("net_{o1}"), NET_O1, substitute(NET_O1, {"w5": "0.40", "out_h1": "0.593269992"}), num("1.105905967")]
    lines = chain_lines(sides, 200)
    assert lines == [
        "net_{o1} &= w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1"
        " = 0.40 * 0.593269992 + w_6 * out_{h2} + b_2 * 1 = 1.105905967"
    ]
    assert lines[0].count("&=") == 1


def test_a_chain_of_one_side_is_that_side():
    assert chain_lines([NET_O1], 10) == ["w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1"]


def test_a_chain_that_fits_exactly_is_one_line():
    sides = [Sym("a"), Sym("b"), Sym("c")]
    assert chain_lines(sides, visible_width("a &= b = c")) == ["a &= b = c"]
    assert chain_lines(sides, visible_width("a &= b = c") - 1) == ["a &= b", "&= c"]


def test_a_long_chain_puts_one_side_on_each_line():
    sides = [DE_DW5, mul(Partial(E_total, out_o1), Partial(out_o1, Sym("net_{o1}")), Partial(Sym("net_{o1}"), w5)),
             mul(num("0.74136507"), num("0.186815602"), num("0.593269992")), num("0.082167041")]
    lines = chain_lines(sides, 60)
    assert lines == [
        f"{latex(sides[0])} &= {latex(sides[1])}",
        f"&= {latex(sides[2])}",
        f"&= {latex(sides[3])}",
    ]


def test_a_long_sum_breaks_between_terms():
    terms = [mul(Sym(f"w_{{{i}}}", f"w{i}"), Sym(f"out_{{h{i}}}", f"out_h{i}")) for i in range(1, 9)]
    total = add(*terms[:6], Neg(terms[6]), num("-0.019049118"))
    lines = chain_lines([Sym("net_{o1}"), total, num("1.5")], 40)
    assert lines[0].startswith("net_{o1} &= w_{1} * out_{h1}")
    assert lines[-1] == "&= 1.5"
    continuation = lines[1:-1]
    assert continuation and all(line.startswith("&\\quad ") for line in continuation)
    assert all(visible_width(line) <= 40 for line in lines)
    assert lines[-2].endswith("+ (-0.019049118)")
    assert any(line.startswith("&\\quad - w_{7} * out_{h7}") or " - w_{7} * out_{h7}" in line for line in lines)
    # nothing lost or reordered
    assert normalise(" ".join(lines)) == normalise(f"net_{{o1}} = {latex(total)} = 1.5")


def test_a_side_that_cannot_break_stands_alone_even_if_too_wide():
    long_fraction = Frac(add(*(Sym(f"a_{{{i}}}") for i in range(10))), Sym("b"))
    lines = chain_lines([Sym("y"), long_fraction, num("1")], 20)
    assert lines == [f"y &= {latex(long_fraction)}", "&= 1"]


def normalise(tex: str) -> str:
    """The math of chain lines without their alignment marks and spacing."""
    return re.sub(r"\s+", "", tex.replace("&\\quad", "").replace("&=", "="))


terms = st.one_of(
    st.builds(mul, st.sampled_from([w5, w6, b2]), st.sampled_from([out_h1, out_h2])),
    st.sampled_from(["0.593269992", "-0.019049118", "1", "0.4"]).map(num),
    st.sampled_from([out_h1, DE_DW5]).map(Neg),
    st.just(DE_DW5),
)
sums = st.lists(terms, min_size=1, max_size=10).map(lambda ts: Add(tuple(ts)))
chain_sides = st.lists(st.one_of(sums, terms), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(chain_sides, st.integers(min_value=0, max_value=120))
def test_chain_lines_properties(rhs, extra):
    lhs = Sym("net_{o1}")
    sides = [lhs, *rhs]
    # the narrowest width at which every single term still fits on a line of its own
    pieces = [t for side in rhs for t in (side.terms if isinstance(side, Add) else (side,))]
    narrowest = max(
        visible_width(f"{latex(lhs)} &= {latex(pieces[0])}"),
        *(visible_width(f"&\\quad + ({latex(t)})") for t in pieces),
        *(visible_width(f"&= {latex(t)}") for t in pieces),
    )
    width = narrowest + extra
    lines = chain_lines(sides, width)
    one_line = f"{latex(lhs)} &= " + " = ".join(map(latex, rhs))

    if visible_width(one_line) <= width:
        assert lines == [one_line]
    else:
        assert lines[0].startswith(f"{latex(lhs)} &= ")
        assert all(line.startswith(("&= ", "&\\quad + ", "&\\quad - ")) for line in lines[1:])
        assert sum(line.startswith("&= ") for line in lines[1:]) == len(rhs) - 1
        assert all(visible_width(line) <= width for line in lines)
    assert lines[0].count("&=") == 1
    assert all(line.count("&") == 1 for line in lines)
    assert normalise(" ".join(lines)) == normalise(one_line)
