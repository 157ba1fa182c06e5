"""Grading: the verdicts on answer sheets, the source's own lines, and the derivation's numbers fed back."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import explainer
from explainer.grading.check import check_answers, passed

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

# The source's figures after one and after 10,000 rounds, which it states in prose.
SOURCE_RESULTS = """
E_total@1 = 0.291027924
E_total@10000 = 0.0000351085
out_o1@10000 = 0.015912196
out_o2@10000 = 0.984065734
"""


@pytest.fixture(scope="module")
def sequential():
    return explainer.derive(dataclasses.replace(explainer.load_spec(), update="sequential"))


def display_math(path: Path) -> str:
    """The display math of a Markdown document, ``$$…$$`` or a ```` ```math ```` fence, one display per line."""
    text = path.read_text(encoding="utf-8")
    return "\n".join(re.findall(r"^\$\$.*?\$\$$|^```math\n.*?\n```$", text, flags=re.M | re.S))


def flagged(verdicts) -> list[tuple]:
    return [(v.key, v.role, v.verdict, v.hint.kind if v.hint else None) for v in verdicts if v.verdict != "correct"]


# --- the source document -------------------------------------------------------------------


def test_the_source_lines_flag_exactly_its_mistakes(default_derivation):
    verdicts = check_answers(display_math(DATA / "step-by-step-backpropagation.md") + SOURCE_RESULTS, default_derivation)
    assert flagged(verdicts) == [
        # 1. −0.019049119: the source multiplied an already rounded −0.038098237 by 0.5.
        ("dE_o2/dout_h1", "value", "rounding", "rounding"),
        # 4. net_h1 = w1·i1 + w3·i2 + b1: by the source's numbering it is w2·i2.
        ("net_h1", "formula", "wrong", "confused"),
        # 2. The error after one round is that of the sequential update.
        ("E_total@1", "value", "wrong", "update"),
        # 3. After 10,000 rounds: a typo in the error, the outputs of the sequential update.
        ("E_total@10000", "value", "wrong", None),
        ("out_o1@10000", "value", "wrong", "update"),
        ("out_o2@10000", "value", "wrong", "update"),
    ]
    confused = next(v for v in verdicts if v.key == "net_h1" and v.verdict == "wrong")
    assert confused.hint.facts == {"wrote": "w3", "belongs": "w2"}
    assert confused.expected == "w_1 * i_1 + w_2 * i_2 + b_1 * 1"
    assert len(verdicts) > 40


def test_the_source_results_are_those_of_the_sequential_update(sequential):
    verdicts = check_answers(SOURCE_RESULTS, sequential)
    assert {v.key: v.verdict for v in verdicts} == {
        "E_total@1": "correct", "E_total@10000": "wrong", "out_o1@10000": "correct", "out_o2@10000": "correct"}


# --- the derivation's own numbers, fed back -----------------------------------------------

NETWORKS = {
    "default": None,
    "sequential": {"training": {"update": "sequential"}},
    "no hidden layer": {"network": {"layers": [2, 2], "weights": [[[0.1, -0.2], [0.3, 0.4]]], "biases": [0.5]},
                        "data": {"inputs": [1, 2], "targets": [0, 1]}, "training": {"iterations": 50}},
    "deep, own biases": {
        "network": {"layers": [3, 4, 3, 2],
                    "weights": [[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [0.7, 0.8, 0.9], [-0.1, 0.2, 0.3]],
                                [[0.15, 0.25, -0.35, 0.45], [0.55, -0.65, 0.75, 0.85], [0.05, 0.1, 0.2, -0.3]],
                                [[0.3, -0.2, 0.1], [0.6, 0.5, -0.4]]],
                    "biases": [[0.1, 0.2, 0.3, 0.4], 0.5, [0.6, -0.7]]},
        "data": {"inputs": [0.5, -1.0, 2.0], "targets": [0.2, 0.8]},
        "training": {"learning_rate": 0.25, "iterations": 300, "update": "sequential"}},
    "one neuron": {"network": {"layers": [1, 1], "weights": [[[0.5]]], "biases": [0]},
                   "data": {"inputs": [1], "targets": [0]}, "training": {"iterations": 1}},
}


def spec_of(name: str):
    spec = NETWORKS[name]
    if name == "sequential":
        return dataclasses.replace(explainer.load_spec(), update="sequential")
    return spec


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def derivation(request):
    return explainer.derive(spec_of(request.param))


def test_values_fed_back_are_all_correct(derivation):
    printed = json.dumps(derivation.float_values(), indent=2)  # what `explainer values` prints
    verdicts = check_answers(printed, derivation)
    assert [v.key for v in verdicts] == list(derivation.values)
    assert {v.verdict for v in verdicts} == {"correct"}


@pytest.mark.parametrize("options", [{}, {"detail": "full"}, {"detail": "full", "digits": 4}, {"decimals": 12}])
def test_rendered_documents_fed_back_are_all_correct(derivation, options):
    for text in (derivation.to_markdown(**options), derivation.to_latex(**options)):
        verdicts, prose = claims_and_prose(check_answers(text, derivation))
        assert flagged(verdicts) == []
        assert len(verdicts) >= len(derivation.network.outputs) * 4
        # The lines not understood are the document's prose, which states numbers in words.
        assert all("=" not in v.given for v in prose)


def claims_and_prose(verdicts) -> tuple[list, list]:
    """The verdicts on claims, and the lines with numbers that hold none (``not understood``)."""
    return ([v for v in verdicts if v.verdict != "not understood"],
            [v for v in verdicts if v.verdict == "not understood"])


def test_the_committed_document_is_all_correct(default_derivation):
    for suffix in (".md", ".tex"):
        verdicts = check_answers((ROOT / "output" / f"backpropagation-example{suffix}").read_text(encoding="utf-8"), default_derivation)
        verdicts, prose = claims_and_prose(verdicts)
        assert passed(verdicts) and len(verdicts) >= 40
        assert all("=" not in v.given for v in prose)


# --- each verdict ------------------------------------------------------------------------


def grade(text: str, derivation) -> list[tuple]:
    return [(v.line, v.key, v.role, v.verdict) for v in check_answers(text, derivation)]


def test_correct_within_half_a_unit_of_the_last_digit_written(default_derivation):
    sheet = "out_o1 = 0.75136507\nout_o1 = 0.751365070\nout_o1 = 0.7514\nout_o1 = 0.8\nw7+ = 0.511301270\n" \
            "out_h1 = 0.5932699921071872\nnet_h1 = 0.3775000000000000000000001\n"
    assert {v.verdict for v in check_answers(sheet, default_derivation)} == {"correct"}
    assert grade("out_o1 = 0.751365071\nout_o1 = 0.7512\n", default_derivation) == [
        (1, "out_o1", "value", "wrong"), (2, "out_o1", "value", "wrong")]


def test_rounding_explained_by_rounded_earlier_values(default_derivation):
    # The source's −0.019049119 (from −0.038098237 · 0.5), without the numbers it came from.
    (verdict,) = check_answers("dE_o2/dout_h1 = -0.019049119", default_derivation)
    assert verdict.verdict == "rounding" and verdict.hint.facts["units"] == 1
    # The same, worked from the rounded signal written out: exactly what those numbers give.
    sheet = r"\frac{\partial E_{o2}}{\partial out_{h1}} = -0.038098237 * 0.50 = -0.019049119"
    assert grade(sheet, default_derivation) == [(1, "dE_o2/dout_h1", "value", "rounding")]


def test_rounding_is_a_few_units_at_most(default_derivation):
    assert grade("dE_o2/dout_h1 = -0.019049121", default_derivation) == [(1, "dE_o2/dout_h1", "value", "wrong")]


def test_carried_forward_from_an_earlier_line(default_derivation):
    sheet = "out_h1 = 0.61\nnet_o1 = 1.11259797\nout_o1 = 0.752613136\n"
    verdicts = check_answers(sheet, default_derivation)
    assert [(v.key, v.verdict) for v in verdicts] == [
        ("out_h1", "wrong"), ("net_o1", "carried forward"), ("out_o1", "carried forward")]
    assert [g.key for g in verdicts[1].hint.facts["sources"]] == ["out_h1"]
    assert [g.key for g in verdicts[2].hint.facts["sources"]] == ["net_o1"]


def test_an_output_delta_under_either_name_is_carried_into_the_hidden_layers_sums(default_derivation):
    # δ_o1 mis-multiplied (0.1385 is right); the hidden layer's sum of δ·w, its gradient and update from it.
    for name in ("delta_o1", "dE_o1/dnet_o1", "dE_total/dnet_o1"):
        sheet = f"{name} = 0.1485\ndelta_o2 = -0.0380982\ndE_total/dout_h1 = 0.0403509\n" \
                "dE_total/dw1 = 0.000486835\nw1+ = 0.14975658\n"
        verdicts = check_answers(sheet, default_derivation)
        assert [v.verdict for v in verdicts] == ["wrong", "correct", "carried forward", "carried forward",
                                                 "carried forward"], name
        assert [(g.line, g.verdict) for g in verdicts[2].hint.facts["sources"]] == [(1, "wrong")]
        assert [g.key for g in verdicts[3].hint.facts["sources"]] == ["dE_total/dout_h1"]
    # Written under one name and substituted under the other, the slip is charged once.
    sheet = "δ_o1 = 0.1485\n" r"\frac{\partial E_{o1}}{\partial out_{h1}} = 0.1485 * 0.40 = 0.0594"
    assert grade(sheet, default_derivation) == [(1, "dE_total/dnet_o1", "value", "wrong"),
                                                (2, "dE_o1/dout_h1", "value", "carried forward")]


def test_a_gradient_as_delta_times_its_input_carries_the_users_delta(default_derivation):
    # δ_h1 = 0.0098367 (0.0097367 follows from the right numbers): a slip of its own, carried into dE/dw1.
    sheet = "δ_h1 = 0.0098367\ndE_total/dw1 = 0.000491835\n∂E/∂w5 = 0.1485 * 0.59326999 = 0.08810059\n"
    verdicts = check_answers(sheet, default_derivation)
    assert [(v.key, v.role, v.verdict) for v in verdicts] == [
        ("dE_total/dnet_h1", "value", "wrong"), ("dE_total/dw1", "value", "carried forward"),
        ("dE_total/dnet_o1", "substituted", "wrong"), ("dE_total/dw5", "value", "carried forward")]
    assert [g.key for g in verdicts[1].hint.facts["sources"]] == ["dE_total/dnet_h1"]


def test_carried_forward_from_the_numbers_substituted_in_the_line(default_derivation):
    sheet = r"net_{o1} = 0.4 * 0.61 + 0.45 * 0.596884378 + 0.6 * 1 = 1.11259797"
    assert grade(sheet, default_derivation) == [
        (1, "out_h1", "substituted", "wrong"), (1, "net_o1", "value", "carried forward")]


def test_carried_forward_into_the_round_after(default_derivation):
    # w5+ with a learning rate of 0.1; the error after the round from that w5+ and the other, right, weights.
    sheet = "w5+ = 0.391783296\nE_total@1 = 0.293753812\n"
    assert grade(sheet, default_derivation) == [(1, "w5+", "value", "wrong"), (2, "E_total@1", "value", "carried forward")]


def test_a_wrong_number_repeated_is_judged_once(default_derivation):
    sheet = "out_h1 = 0.61\n" r"net_{o1} = 0.4 * 0.61 + 0.45 * 0.596884378 + 0.6 * 1 = 1.11259797" "\nout_h1 = 0.61\n"
    assert grade(sheet, default_derivation) == [
        (1, "out_h1", "value", "wrong"), (2, "net_o1", "value", "carried forward"), (3, "out_h1", "value", "carried forward")]


def test_exactly_what_the_users_right_rounded_numbers_give_is_rounding(default_derivation):
    sheet = r"net_{o1} = 0.4 * 0.59 + 0.45 * 0.60 + 0.6 * 1 = 1.106"
    assert grade(sheet, default_derivation) == [(1, "net_o1", "value", "correct")]
    # Eight decimals, from numbers rounded to two: what they give, so rounding (and named).
    sheet = r"net_{o1} = 0.4 * 0.59 + 0.45 * 0.60 + 0.6 * 1 = 1.10600000"
    (verdict,) = check_answers(sheet, default_derivation)
    assert (verdict.verdict, verdict.hint.kind) == ("rounding", "rounded_from")
    assert {g.key for g in verdict.hint.facts["sources"]} == {"out_h1", "out_h2"}


def test_wrong_with_the_expected_value(default_derivation):
    (verdict,) = check_answers("E_total = 0.35", default_derivation)
    assert verdict.verdict == "wrong" and verdict.hint is None
    assert abs(verdict.expected - default_derivation.values["E_total"]) == 0


def test_unknown_quantities(default_derivation):
    verdicts = check_answers("out_{h3} = 0.5\nw_9^+ = 0.1\nfoo = 1\n", default_derivation)
    assert [(v.key, v.verdict, v.expected) for v in verdicts] == [
        ("out_{h3}", "unknown", None), ("w_9^+", "unknown", None), ("foo", "unknown", None)]
    assert not passed(verdicts)


def test_formulas_are_checked_exactly(default_derivation):
    sheet = "\n".join([
        r"net_{h1} = w_1 * i_1 + w_2 * i_2 + b_1 * 1",
        r"\frac{\partial E_{total}}{\partial w_1} = \frac{\partial E_{total}}{\partial out_{h1}} * \frac{\partial out_{h1}}{\partial net_{h1}} * \frac{\partial net_{h1}}{\partial w_1}",
        r"out_{o1} = \frac{1}{1 + e^{-net_{o1}}}",
        r"E_{o1} = \frac{1}{2}(target_{o1} - out_{o1})^2",
        r"out_{o1} = \frac{1}{1 + e^{net_{o1}}}",
    ])
    assert [v.verdict for v in check_answers(sheet, default_derivation)] == ["correct"] * 4 + ["wrong"]


def test_a_correct_formula_in_a_chain_is_not_listed_twice(default_derivation):
    sheet = r"out_{h1} = \frac{1}{1 + e^{-net_{h1}}} = \frac{1}{1 + e^{-0.3775}} = 0.593269992"
    assert grade(sheet, default_derivation) == [(1, "out_h1", "value", "correct")]


def test_passed_means_only_correct_and_rounding(default_derivation):
    assert passed(check_answers("dE_o2/dout_h1 = -0.019049119\nout_h1 = 0.593269992", default_derivation))
    assert not passed(check_answers("out_h1 = 0.61\nnet_o1 = 1.11259797", default_derivation))


def test_the_same_sheet_gives_the_same_verdicts(default_derivation):
    sheet = (ROOT / "examples" / "answers.txt").read_text(encoding="utf-8")
    assert check_answers(sheet, default_derivation) == check_answers(sheet, default_derivation)


def test_how_far_a_number_may_be_and_still_pass(default_derivation):
    from decimal import Decimal

    import mpmath

    from explainer.grading.check import MAX_ROUNDING_UNITS, passing_distance

    distance = passing_distance(default_derivation)
    nine = Decimal("1e-9")
    with mpmath.workdps(50):
        half, unit = mpmath.mpf("5e-10"), mpmath.mpf("1e-9")
        # net_h1 is worked out from the spec's exact numbers: only its own rounding counts.
        assert distance("net_h1", nine) == half
        # dE_total/dw1 is worked out from rounded results: rounding can take it further, a few units at most.
        assert half < distance("dE_total/dw1", nine) <= MAX_ROUNDING_UNITS * unit


def test_no_number_passes_farther_than_the_distance_bound(default_derivation):
    """``hidden_slip`` works the distance out only for slips within ``at_most``: it must bound every key's."""
    from decimal import Decimal

    import mpmath

    from explainer.grading.check import passing_distance

    distance = passing_distance(default_derivation)
    with mpmath.workdps(50):
        for unit in (Decimal("1e-9"), Decimal("1e-3"), Decimal("1e-1"), Decimal("1")):
            bound = distance.at_most(unit)
            for key in default_derivation.values:
                if "@" not in key:
                    assert distance(key, unit) <= bound, (key, unit)
