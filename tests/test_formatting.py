"""Tests of explainer.outputs.formatting: how computed values are printed.

DESIGN.md, "Numbers": 9 decimal places by default, trailing zeros stripped,
"0" for zero, optionally significant digits instead of places, and scientific
notation (``m \\times 10^{e}``) for tiny and huge values rather than
``0.000000000``.
"""

from __future__ import annotations

import re
from decimal import Decimal

import mpmath
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from explainer.outputs.formatting import NumberFormat, to_decimal

SCIENTIFIC = re.compile(r"^(-?\d+(?:\.\d+)?) \\times 10\^\{(-?\d+)\}$")


def parse_scientific(text: str) -> tuple[Decimal, int] | None:
    """(mantissa, exponent) of ``m \\times 10^{e}``; None for fixed-point text."""
    match = SCIENTIFIC.match(text)
    return (Decimal(match[1]), int(match[2])) if match else None


def source_values() -> dict[str, mpmath.mpf]:
    """The source document's forward pass and first gradient, at 50 digits, written out here."""
    with mpmath.workdps(50):
        m = mpmath.mpf

        def sigmoid(x):
            return 1 / (1 + mpmath.exp(-x))

        out_h1 = sigmoid(m("0.15") * m("0.05") + m("0.20") * m("0.10") + m("0.35"))
        out_h2 = sigmoid(m("0.25") * m("0.05") + m("0.30") * m("0.10") + m("0.35"))
        out_o1 = sigmoid(m("0.40") * out_h1 + m("0.45") * out_h2 + m("0.60"))
        out_o2 = sigmoid(m("0.50") * out_h1 + m("0.55") * out_h2 + m("0.60"))
        dw5 = (out_o1 - m("0.01")) * out_o1 * (1 - out_o1) * out_h1
        return {
            "out_h1": out_h1,
            "out_h2": out_h2,
            "out_o1": out_o1,
            "out_o2": out_o2,
            "E_total": (m("0.01") - out_o1) ** 2 / 2 + (m("0.99") - out_o2) ** 2 / 2,
            "dE_total/dw5": dw5,
            "w5+": m("0.40") - m("0.5") * dw5,
            "dE_o2/dout_h1": (out_o2 - m("0.99")) * out_o2 * (1 - out_o2) * m("0.50"),
        }


# --- The source document's numbers --------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("out_h1", "0.593269992"),
        ("out_h2", "0.596884378"),
        ("out_o1", "0.75136507"),  # 0.751365070: the trailing zero is stripped
        ("out_o2", "0.772928465"),
        ("E_total", "0.298371109"),
        ("dE_total/dw5", "0.082167041"),
        ("w5+", "0.35891648"),  # 0.358916480
        ("dE_o2/dout_h1", "-0.019049118"),  # the source's erratum 1: not -0.019049119
    ],
)
def test_source_values_computed_at_50_digits(key, expected):
    assert NumberFormat()(source_values()[key]) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (mpmath.mpf(0.5932699921071872), "0.593269992"),
        (mpmath.mpf(0.3589164797178846), "0.35891648"),
        (mpmath.mpf("0.51130127023"), "0.51130127"),
        (mpmath.mpf(-0.0190491182582781), "-0.019049118"),
        (Decimal("0.3775"), "0.3775"),
        (mpmath.mpf("0.3775"), "0.3775"),
        ("0.3775", "0.3775"),
        (Decimal("0.40"), "0.4"),
        (Decimal("1.000000000"), "1"),
        (3, "3"),
        (-7, "-7"),
        (0.1, "0.1"),
    ],
)
def test_source_style_values(value, expected):
    assert NumberFormat()(value) == expected


def test_default_is_nine_decimal_places():
    assert NumberFormat() == NumberFormat(decimals=9, digits=None)
    assert NumberFormat()(Decimal("0.1234567891234")) == "0.123456789"


# --- Rounding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.1234567895", "0.12345679"),  # an exact tie rounds up (half-up), then 0 is stripped
        ("0.12345678949999", "0.123456789"),  # just below the tie
        ("0.12345678950001", "0.12345679"),  # just above
        ("0.123456789499999999999999999999999999999", "0.123456789"),  # far below 17 digits
        ("0.123456789500000000000000000000000000001", "0.12345679"),
        ("-0.1234567895", "-0.12345679"),  # half-up is symmetric: away from zero
        ("-0.12345678949999", "-0.123456789"),
        ("0.9999999995", "1"),  # the carry reaches the units
        ("0.9999999994999", "0.999999999"),
        ("9.9999999995", "10"),
    ],
)
def test_rounding_near_a_tie(value, expected):
    assert NumberFormat()(Decimal(value)) == expected


def test_rounding_near_a_tie_from_a_high_precision_mpf():
    with mpmath.workdps(50):
        below = mpmath.mpf("0.12345678949999999999999999999999")
        above = mpmath.mpf("0.12345678950000000000000000000001")
    assert NumberFormat()(below) == "0.123456789"
    assert NumberFormat()(above) == "0.12345679"


def test_an_exact_decimal_held_in_binary_rounds_as_the_decimal():
    # net_h1 = 0.3775 exactly; at 50 digits mpmath holds 0.37749999…(binary noise).
    # Only ~48 digits are known, so the noise must not decide a tie.
    with mpmath.workdps(50):
        value = mpmath.mpf("0.15") * mpmath.mpf("0.05") + mpmath.mpf("0.2") * mpmath.mpf("0.1") + mpmath.mpf("0.35")
    assert NumberFormat(decimals=3)(value) == "0.378"
    assert NumberFormat(digits=3)(value) == "0.378"


def test_to_decimal_keeps_an_mpf_to_many_digits():
    with mpmath.workdps(50):
        value = mpmath.mpf(1) / 3
    assert to_decimal(value) == Decimal("0." + "3" * 45)
    assert to_decimal(Decimal("0.40")) == Decimal("0.40")
    assert to_decimal(7) == Decimal(7)
    assert to_decimal("0.05") == Decimal("0.05")


# --- Zero, tiny and huge values ------------------------------------------------------


@pytest.mark.parametrize(
    "zero",
    [0, Decimal("0"), Decimal("-0"), Decimal("0E-30"), Decimal("-0.000"), "0", "-0.0", 0.0, -0.0, mpmath.mpf(0), -mpmath.mpf(0)],
)
@pytest.mark.parametrize("number_format", [NumberFormat(), NumberFormat(decimals=0), NumberFormat(digits=3)])
def test_zero_and_negative_zero_print_as_0(zero, number_format):
    assert number_format(zero) == "0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # 4 significant digits still show at 9 places: fixed point
        ("0.000001234", "0.000001234"),
        ("-0.000001234", "-0.000001234"),
        # fewer than 4 would show: scientific, to 9 significant digits, zeros stripped
        ("0.0000001234", "1.234 \\times 10^{-7}"),
        ("0.000000012", "1.2 \\times 10^{-8}"),
        ("-0.0000000004", "-4 \\times 10^{-10}"),  # not "-0" nor "0"
        ("0.0000000005", "5 \\times 10^{-10}"),  # not "0.000000001"
        ("1.234567891234e-20", "1.23456789 \\times 10^{-20}"),
        ("9.999999999999e-11", "1 \\times 10^{-10}"),  # the mantissa's carry moves the exponent
        ("1e-70", "1 \\times 10^{-70}"),
    ],
)
def test_tiny_values(value, expected):
    assert NumberFormat()(Decimal(value)) == expected


def test_tiny_mpf():
    assert NumberFormat()(mpmath.mpf("1e-30")) == "1 \\times 10^{-30}"
    assert NumberFormat()(mpmath.mpf("-3.5e-12")) == "-3.5 \\times 10^{-12}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("999999999999", "999999999999"),
        ("123456.5", "123456.5"),
        ("1e12", "1 \\times 10^{12}"),
        ("-1e12", "-1 \\times 10^{12}"),
        ("123456789012345", "1.23456789 \\times 10^{14}"),
        ("-25000000000000", "-2.5 \\times 10^{13}"),
        ("1e50", "1 \\times 10^{50}"),
    ],
)
def test_huge_values(value, expected):
    assert NumberFormat()(Decimal(value)) == expected


@pytest.mark.parametrize("value", [Decimal("1e51"), Decimal("-2.5e60"), mpmath.mpf("1e100")])
def test_very_huge_values_go_scientific(value):
    assert parse_scientific(NumberFormat()(value)) is not None


# --- Other numbers of decimal places -----------------------------------------------------


@pytest.mark.parametrize(
    ("decimals", "value", "expected"),
    [
        (0, "42", "42"),
        (0, "42.4999", "42"),
        (0, "42.5", "43"),
        (0, "-42.5", "-43"),
        (0, "0.5", "1"),
        (0, "123456789", "123456789"),
        (0, "1e12", "1 \\times 10^{12}"),
        (2, "1.25", "1.25"),
        (2, "0.5", "0.5"),
        (2, "0.125", "0.13"),
        (2, "0.0049", "4.9 \\times 10^{-3}"),  # would show as 0.00
        (4, "0.59326999", "0.5933"),
        (12, "0.593269992107187", "0.593269992107"),
    ],
)
def test_other_decimal_places(decimals, value, expected):
    assert NumberFormat(decimals=decimals)(Decimal(value)) == expected


@pytest.mark.parametrize("value", ["0.4", "-0.4", "0.0001"])
def test_decimals_0_never_prints_a_nonzero_value_as_0(value):
    assert NumberFormat(decimals=0)(Decimal(value)) != "0"


# --- Significant digits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "value", "expected"),
    [
        (3, "0.000123456", "0.000123"),
        (3, "0.00001234", "0.0000123"),  # 1e-5 is still fixed point
        (3, "0.000001234", "1.23 \\times 10^{-6}"),  # below it, scientific
        (2, "1.23e-7", "1.2 \\times 10^{-7}"),
        # Large values stay fixed point below 1e12, the zeros standing for the
        # dropped digits (as in the decimals mode): sensible, and unambiguous
        # enough in a derivation whose values all come with their precision.
        (3, "123456.7", "123000"),
        (3, "999999999999", "1000000000000"),
        (3, "1.5e12", "1.5 \\times 10^{12}"),
        (4, "0.5932699921", "0.5933"),
        (3, "-0.0190491182", "-0.019"),  # 0.0190, trailing zero stripped
        (3, "9.996", "10"),  # the carry adds a digit
        (3, "0.3775", "0.378"),  # half-up
        (9, "0.5932699921071872", "0.593269992"),
        (1, "0.05", "0.05"),
        (1, "7", "7"),
    ],
)
def test_significant_digits(digits, value, expected):
    assert NumberFormat(digits=digits)(Decimal(value)) == expected


def test_significant_digits_take_precedence_over_decimals():
    assert NumberFormat(decimals=0, digits=3)(Decimal("0.000123456")) == "0.000123"


# --- Properties --------------------------------------------------------------------------------


def assert_well_formed(text: str) -> None:
    assert text not in ("-0", "") and not text.endswith(".")
    mantissa = text.split(" ")[0]
    if "." in mantissa:
        assert not mantissa.endswith("0"), f"trailing zero in {text!r}"


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=-10**6, max_value=10**6, allow_nan=False, allow_infinity=False),
    decimals=st.integers(min_value=0, max_value=12),
)
@example(value=Decimal("0.1234567895"), decimals=9)
@example(value=Decimal("-0.0000000004"), decimals=9)
@example(value=Decimal("2.5"), decimals=0)
def test_fixed_point_result_is_the_rounded_value(value, decimals):
    text = NumberFormat(decimals=decimals)(value)
    assert_well_formed(text)
    unit = Decimal(1).scaleb(-decimals)
    scientific = parse_scientific(text)
    if scientific is None:
        assert abs(Decimal(text) - value) <= unit / 2
        assert len(text.lstrip("-").split(".")[-1]) <= decimals or "." not in text
    else:
        mantissa, exponent = scientific
        assert 1 <= abs(mantissa) < 10
        shown = mantissa.scaleb(exponent)
        significant = max(decimals, 4)
        assert abs(shown - value) <= Decimal(1).scaleb(exponent - significant + 1) / 2
        # scientific only where the fixed-point text would say too little
        assert abs(value) < unit * 10 ** min(4, decimals)


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, allow_infinity=False, places=20),
    digits=st.integers(min_value=1, max_value=12),
)
def test_significant_digits_result_is_the_rounded_value(value, digits):
    text = NumberFormat(digits=digits)(value)
    assert_well_formed(text)
    if value.is_zero():
        assert text == "0"
        return
    scientific = parse_scientific(text)
    shown = Decimal(text) if scientific is None else scientific[0].scaleb(scientific[1])
    assert abs(shown - value) <= Decimal(1).scaleb(value.adjusted() - digits + 1) / 2


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_an_mpf_prints_like_its_exact_decimal(x):
    assert NumberFormat()(mpmath.mpf(x)) == NumberFormat()(Decimal(x))


def test_a_shown_value_kept_for_the_next_time_is_shown_as_the_first_time():
    import mpmath

    from explainer.outputs import formatting
    from explainer.outputs.formatting import NumberFormat

    formats = [NumberFormat(decimals=9), NumberFormat(decimals=3), NumberFormat(digits=4), NumberFormat(decimals=0)]
    with mpmath.workdps(50):
        values = [mpmath.mpf("0.3775"), mpmath.mpf(0.3775), mpmath.mpf("-1.5e-12"), mpmath.mpf("123456789.987654321"),
                  mpmath.mpf(0), mpmath.exp(-1000000), mpmath.mpf("2") ** 200]
    formatting._SHOWN.clear()
    first = [[fmt(v) for v in values] for fmt in formats]
    assert len(formatting._SHOWN) == len(formats) * len(values)
    assert [[fmt(v) for v in values] for fmt in formats] == first
    with mpmath.workdps(50):
        assert first == [[fmt._shown(v) for v in values] for fmt in formats]
    assert first[0][:2] == ["0.3775", "0.3775"] and first[1][0] == "0.378"
    # A float or a Decimal of the same size is shown as it is, not as the mpf was.
    assert NumberFormat(decimals=20)(0.1) == "0.1" != NumberFormat(decimals=20)(mpmath.mpf(0.1))
    formatting._SHOWN.update({(i,): "" for i in range(formatting.MAX_SHOWN)})  # full: emptied for the next
    assert NumberFormat()(mpmath.mpf(1)) == "1" and len(formatting._SHOWN) == 1


def _unit_of_shown(value, number_format: NumberFormat) -> Decimal:
    """One unit in the last digit of the value as shown, read off the text the document prints."""
    from explainer.outputs.formatting import MIN_SIGNIFICANT

    if "\\times" in number_format(value):
        adjusted = to_decimal(value).adjusted()
        return Decimal(1).scaleb(adjusted - max(number_format.decimals, MIN_SIGNIFICANT) + 1)
    return Decimal(1).scaleb(-number_format.decimals)


@settings(max_examples=400, deadline=None)
@given(mantissa=st.integers(1, 10**12), exponent=st.integers(-30, 14), negative=st.booleans(),
       decimals=st.integers(0, 12), binary=st.booleans())
@example(mantissa=1, exponent=-9, negative=False, decimals=9, binary=False)
@example(mantissa=99995, exponent=-13, negative=False, decimals=9, binary=True)
@example(mantissa=5, exponent=-10, negative=True, decimals=9, binary=False)
def test_the_last_digit_is_the_last_digit_shown(mantissa, exponent, negative, decimals, binary):
    # last_digit decides most values without formatting them: it agrees with the printed text.
    from explainer.outputs.formatting import last_digit

    value = Decimal(mantissa).scaleb(exponent) * (-1 if negative else 1)
    if binary:
        value = mpmath.mpf(str(value)) * (1 + mpmath.mpf("1e-40"))
    number_format = NumberFormat(decimals=decimals)
    assert last_digit(value, number_format) == _unit_of_shown(value, number_format)
