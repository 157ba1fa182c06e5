"""Every number printed in the source document, at the precision it was printed.

The source is ``seed/step-by-step-backpropagation.md``.  Each printed number
is compared as text with the exact value rounded (half up) to the number of
decimals the source printed, so ``0.511301270`` also checks its trailing zero.
The source's mistakes (DESIGN.md, "The source's mistakes") are tested with
their corrected values, and the mistakes themselves are reproduced.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

import mpmath
import pytest

import explainer


def decimals_of(text: str) -> int:
    """How many decimals the source printed: ``"0.40"`` → 2."""
    return len(text.partition(".")[2])


def rounded(value, places: int) -> str:
    """``value`` (exact mpf, float or Decimal) rounded half up to ``places`` decimals, as text."""
    if isinstance(value, mpmath.mpf):
        # nstr gives the significant digits whatever the global mpmath precision is.
        value = mpmath.nstr(value, 50, strip_zeros=False)
    exact = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def as_printed(value, text: str) -> str:
    """``value`` rounded the way the source printed ``text``."""
    return rounded(value, decimals_of(text))


@pytest.fixture(scope="module")
def source() -> explainer.Derivation:
    """The built-in example: the source's network, simultaneous update, 10,000 rounds."""
    return explainer.derive()


@pytest.fixture(scope="module")
def sequential() -> explainer.Derivation:
    """The built-in example with the hidden gradients taken after the output weights moved."""
    return explainer.derive(dataclasses.replace(explainer.load_spec(), update="sequential"))


# (key, the text the source printed), in the order of the source.
PRINTED = [
    ("net_h1", "0.3775"),
    ("out_h1", "0.593269992"),
    ("out_h2", "0.596884378"),
    ("net_o1", "1.105905967"),
    ("out_o1", "0.75136507"),
    ("out_o2", "0.772928465"),
    ("E_o1", "0.274811083"),
    ("E_o2", "0.023560026"),
    ("E_total", "0.298371109"),
    ("dE_total/dout_o1", "0.74136507"),
    ("dout_o1/dnet_o1", "0.186815602"),
    ("dnet_o1/dw5", "0.593269992"),
    ("dE_total/dw5", "0.082167041"),
    ("w5+", "0.35891648"),
    ("w6+", "0.408666186"),
    ("w7+", "0.511301270"),
    ("w8+", "0.561370121"),
    ("dnet_o1/dout_h1", "0.40"),
    ("dE_total/dout_h1", "0.036350306"),
    ("out_h1", "0.59326999"),  # in the line of ∂out_h1/∂net_h1
    ("dout_h1/dnet_h1", "0.241300709"),
    ("dnet_h1/dw1", "0.05"),
    ("dE_total/dw1", "0.000438568"),
    ("w1+", "0.149780716"),
    ("w2+", "0.19956143"),
    ("w3+", "0.24975114"),
    ("w4+", "0.29950229"),
]

# Numbers whose equations did not survive in the source, worked out by hand
# from the exact values: 0.74136507… × 0.18681560… and that × w5 = 0.40.
LOST = [
    ("dE_o1/dnet_o1", "0.138498562"),
    ("dE_o1/dout_h1", "0.055399425"),
]


@pytest.mark.parametrize(("key", "text"), PRINTED + LOST, ids=[f"{k}={t}" for k, t in PRINTED + LOST])
def test_printed_number(source, key, text):
    assert as_printed(source.values[key], text) == text


def test_the_values_are_exact_not_float(source):
    # Rounding to the printed digits is only always right with more digits than a float has.
    assert all(isinstance(value, mpmath.mpf) for value in source.values.values())
    with mpmath.workdps(50):
        assert abs(source.values["net_h1"] - mpmath.mpf("0.3775")) < mpmath.mpf("1e-45")


# --- Mistake 1: ∂E_o2/∂out_h1 ---------------------------------------------------


def test_dE_o2_dout_h1_is_corrected(source):
    value = source.values["dE_o2/dout_h1"]
    assert rounded(value, 9) == "-0.019049118"
    assert rounded(value, 9) != "-0.019049119"


def test_the_source_rounded_before_multiplying(source):
    """Why the source printed −0.019049119: it multiplied the rounded −0.038098237 by 0.5."""
    signal = source.values["dE_o2/dnet_o2"]
    link = source.values["dnet_o2/dout_h1"]
    assert link == mpmath.mpf("0.5")  # w7
    rounded_signal = Decimal(rounded(signal, 9))
    assert rounded_signal == Decimal("-0.038098237")
    assert rounded(rounded_signal * Decimal("0.5"), 9) == "-0.019049119"


def test_dE_total_dout_h1_sums_the_unrounded_contributions(source):
    values = source.values
    with mpmath.workdps(50):
        total = values["dE_o1/dout_h1"] + values["dE_o2/dout_h1"]
        assert abs(values["dE_total/dout_h1"] - total) < mpmath.mpf("1e-45")
    assert rounded(values["dE_total/dout_h1"], 9) == "0.036350306"


# --- Mistake 2: the error after the first round ---------------------------------


def test_error_after_one_round_simultaneous(source):
    assert source.spec.update == "simultaneous"
    assert rounded(source.values["E_total@1"], 9) == "0.291027774"


def test_error_after_one_round_sequential_is_the_source_figure(sequential):
    assert rounded(sequential.values["E_total@1"], 9) == "0.291027924"


# --- Mistake 3: after 10,000 rounds (float64) -----------------------------------

FLOAT_TOLERANCE = 1e-9


def test_after_10000_rounds_simultaneous(source):
    values = source.float_values()
    assert source.spec.iterations == 10_000
    assert rounded(values["E_total@10000"], 10) == "0.0000351019"
    assert values["out_o1@10000"] == pytest.approx(0.015913620, abs=FLOAT_TOLERANCE)
    assert values["out_o2@10000"] == pytest.approx(0.984064274, abs=FLOAT_TOLERANCE)


def test_after_10000_rounds_sequential_gives_the_source_outputs(sequential):
    values = sequential.float_values()
    assert values["out_o1@10000"] == pytest.approx(0.015912196, abs=FLOAT_TOLERANCE)
    assert values["out_o2@10000"] == pytest.approx(0.984065734, abs=FLOAT_TOLERANCE)
    assert rounded(values["E_total@10000"], 10) == "0.0000350848"


@pytest.mark.parametrize("update", ["simultaneous", "sequential"])
def test_the_source_error_after_10000_rounds_is_a_typo(source, sequential, update):
    derivation = source if update == "simultaneous" else sequential
    assert rounded(derivation.float_values()["E_total@10000"], 10) != "0.0000351085"
