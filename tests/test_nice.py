"""The rules of a good exercise, each shown to pass the source's network and to catch its own flaw."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

import explainer
from explainer.exercises import nice
from explainer.outputs.formatting import NumberFormat
from explainer.exercises.nice import (
    RULES, equal_parameters, error_grows, first_problem, hidden_slip, last_digit, saturated_neuron, value_too_small,
    worked_by_hand,
)

SOURCE_PRECISION = NumberFormat()  # 9 decimal places


def changed(**fields):
    return explainer.derive(dataclasses.replace(explainer.load_spec(), iterations=1, **fields))


def test_the_source_network_passes_every_rule(default_derivation):
    for rule in RULES:
        assert rule(default_derivation, SOURCE_PRECISION) is None, rule.__name__
    assert first_problem(default_derivation) is None


def test_the_asked_quantities_are_those_of_one_round_in_document_order(default_derivation):
    asked = worked_by_hand(default_derivation)
    assert asked[:2] == ("net_h1", "out_h1") and asked[-3:] == ("E_total@1", "out_o1@1", "out_o2@1")
    assert len(asked) == 56 and not any(key.endswith("@10000") for key in asked)
    assert list(asked) == [key for key in default_derivation.values if key in asked]


def test_a_saturated_neuron():
    flaw = saturated_neuron(changed(biases=((Decimal("3.5"),), (Decimal("0.60"),))), SOURCE_PRECISION)
    assert flaw == "net_h1 = 3.5275 saturates its neuron (|net| > 3)"


def test_a_value_too_small_for_the_precision(default_derivation):
    # At four decimal places E_o2 = 0.0236 has three digits, and the hidden gradients fewer.
    assert value_too_small(default_derivation, NumberFormat(decimals=4)) == \
        "E_o2 = 0.02356 is too small to write at this precision (4 decimal places show fewer than 4 of its " \
        "significant digits); ask for more decimals, or for significant digits (--digits 4)"
    assert value_too_small(default_derivation, NumberFormat(digits=4)) is None


def test_an_error_that_grows():
    overshoot = {"network": {"layers": [1, 1], "weights": [[[0.5]]], "biases": [0.0]},
                 "data": {"inputs": [1.0], "targets": [0.6]}, "training": {"learning_rate": 1000, "iterations": 1}}
    assert error_grows(explainer.derive(overshoot), SOURCE_PRECISION) == \
        "E_total@1 = 0.175029354 is not below E_total = 0.000252211"


def test_two_parameters_of_a_size():
    assert equal_parameters(changed(samples=(dataclasses.replace(explainer.load_spec().samples[0], inputs=(Decimal("0.05"), Decimal("-0.05"))),)), SOURCE_PRECISION) == \
        "i1 and i2 are both ±0.05"
    assert equal_parameters(changed(biases=((Decimal("0.35"),), (Decimal("0.35"),))), SOURCE_PRECISION) == \
        "b1 and b2 are both ±0.35"


def test_a_slip_too_small_to_see(default_derivation):
    # out_h1 and out_h2 differ by 0.0036: at three digits net_o1 looks the same with either.
    assert hidden_slip(default_derivation, NumberFormat(digits=3)) == \
        "net_o1 = 1.11 and the slip 'used out_h2 where out_h1 belongs' (1.11) cannot be told apart"


def test_a_slip_made_throughout_shows_where_it_first_changes_a_value(default_derivation, monkeypatch):
    # At six decimals, w2 and w3 exchanged moves w1+ by less than rounding, but net_h1 shows it
    # first, and check carries it forward from there.
    six = NumberFormat(decimals=6)
    assert hidden_slip(default_derivation, six) is None
    monkeypatch.setattr(nice, "THROUGHOUT", ())
    assert "'matches w2 and w3 exchanged throughout'" in hidden_slip(default_derivation, six)


@pytest.mark.parametrize(
    ("value", "number_format", "unit"),
    [
        ("0.593269992", NumberFormat(), "1E-9"),
        ("0.0823", NumberFormat(digits=4), "0.00001"),
        ("123.4", NumberFormat(digits=2), "1E+1"),
        ("0.0000001234", NumberFormat(decimals=6), "1E-12"),  # too small: six significant digits
    ],
)
def test_the_last_shown_digit(value, number_format, unit):
    assert last_digit(Decimal(value), number_format) == Decimal(unit)
