"""Each hint, from a deliberately wrong answer sheet; the alternatives are derived, not guessed."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import mpmath
import pytest

import explainer
from explainer.grading.check import check_answers


def only(sheet: str, derivation, key: str | None = None):
    """The one verdict on ``key`` (default: the sheet's last) that is not correct."""
    verdicts = [v for v in check_answers(sheet, derivation) if v.verdict != "correct"]
    if key is not None:
        verdicts = [v for v in verdicts if v.key == key]
    return verdicts[-1]


def hint_of(sheet: str, derivation, key: str | None = None):
    verdict = only(sheet, derivation, key)
    assert verdict.verdict == "wrong", verdict
    return verdict.hint.kind, dict(verdict.hint.facts)


def shown(value, digits: int = 9) -> str:
    return mpmath.nstr(value, digits, min_fixed=-mpmath.inf, max_fixed=mpmath.inf)


@pytest.fixture(scope="module")
def d(default_derivation):
    return default_derivation


@pytest.fixture(scope="module")
def sequential():
    return explainer.derive(dataclasses.replace(explainer.load_spec(), update="sequential"))


def test_sequential_update(d, sequential):
    # Worked out with the already-updated w5…w8, on a spec that updates them simultaneously.
    for key in ("dE_total/dout_h1", "dE_total/dw1", "w1+", "E_total@1"):
        sheet = f"{key} = {shown(sequential.values[key])}"
        assert hint_of(sheet, d) == ("update", {"mode": "sequential", "hidden_layers": 1}), key
    assert hint_of(r"\frac{\partial net_{o1}}{\partial out_{h1}} = w_5^+", d) == ("update", {"mode": "sequential", "hidden_layers": 1})


def test_simultaneous_update_on_a_sequential_spec(d, sequential):
    assert hint_of(f"E_total@1 = {shown(d.values['E_total@1'])}", sequential) == ("update", {"mode": "simultaneous", "hidden_layers": 1})


def test_a_different_learning_rate(d):
    assert hint_of("w_5^+ = 0.391783296", d) == ("learning_rate", {"used": Decimal("0.1"), "expected": Decimal("0.5")})
    kind, facts = hint_of("w5+ = 0.317832959", d)
    assert (kind, facts["used"]) == ("learning_rate", 1)


def test_the_learning_rate_is_checked_by_deriving_again(d):
    # 0.3917 is not what any learning rate of two significant digits gives at 9 decimals.
    verdict = only("w5+ = 0.391790000", d)
    assert verdict.verdict == "wrong" and (verdict.hint is None or verdict.hint.kind != "learning_rate")


def test_a_learning_rate_written_in_the_line(d):
    verdicts = check_answers(r"w_5^+ = w_5 - \eta * \frac{\partial E_{total}}{\partial w_5} = 0.40 - 0.1 * 0.082167041 = 0.391783296", d)
    assert [(v.key, v.role, v.verdict) for v in verdicts] == [("eta", "substituted", "wrong"), ("w5+", "value", "carried forward")]


def test_the_half_dropped(d):
    assert hint_of("E_{o1} = (0.01 - 0.75136507)^2 = 0.549622166", d)[0] == "half"
    assert hint_of(f"dE_total/dout_o1 = {shown(2 * d.values['dE_total/dout_o1'])}", d)[0] == "half"
    assert hint_of(r"E_{o1} = (target_{o1} - out_{o1})^2", d)[0] == "half"


def test_the_minus_sign_dropped(d):
    assert hint_of(r"\frac{\partial E_{total}}{\partial out_{o1}} = (0.01 - 0.75136507) = -0.74136507", d) == ("sign", {"upward": False})
    assert hint_of("w_1^+ = 0.150219284", d) == ("sign", {"upward": True})
    out_o1 = d.values["out_o1"]
    assert hint_of(f"dout_o1/dnet_o1 = {shown(out_o1 * (1 + out_o1))}", d) == ("sign", {"upward": False})


def test_net_instead_of_out(d):
    assert hint_of(r"net_{o1} = 0.4 * 0.3775 + 0.45 * 0.3925 + 0.6 * 1 = 0.927625", d, "out_h1") == (
        "net_for_out", {"wrote": ("net_h1",), "belongs": ("out_h1",)})
    # Only the result: every out of the formula was a net.
    assert hint_of("net_o1 = 0.927625", d) == ("net_for_out", {"wrote": ("net_h1", "net_h2"), "belongs": ("out_h1", "out_h2")})
    assert hint_of("dout_o1/dnet_o1 = -0.117122041", d) == ("net_for_out", {"wrote": ("net_o1",), "belongs": ("out_o1",)})
    assert hint_of(r"\frac{\partial net_{o1}}{\partial w_5} = 0.3775", d)[0] == "net_for_out"


def test_i1_and_i2_confused(d):
    assert hint_of(r"\frac{\partial net_{h1}}{\partial w_1} = 0.10", d) == ("confused", {"wrote": "i2", "belongs": "i1"})
    assert hint_of(r"net_{h1} = w_1 * i_2 + w_2 * i_2 + b_1 * 1", d) == ("confused", {"wrote": "i2", "belongs": "i1"})


def test_w2_and_w3_confused(d):
    assert hint_of("net_h1 = 0.3825", d) == ("confused", {"wrote": "w3", "belongs": "w2"})
    assert hint_of(r"net_{h1} = w_1 * i_1 + w_3 * i_2 + b_1 * 1", d) == ("confused", {"wrote": "w3", "belongs": "w2"})
    assert hint_of(r"net_{h1} = 0.15 * 0.05 + 0.25 * 0.10 + 0.35 * 1 = 0.3825", d, "w2") == (
        "confused", {"wrote": "w3", "belongs": "w2"})


def test_one_quantity_for_another_of_its_kind(d):
    assert hint_of(r"\frac{\partial out_{h1}}{\partial net_{h1}} = 0.593269992(1 - 0.596884378) = 0.239156402", d, "out_h1") == (
        "confused", {"wrote": "out_h2", "belongs": "out_h1"})


@pytest.mark.parametrize(("pair", "change"), [
    (("i1", "i2"), lambda spec: {"samples": (dataclasses.replace(spec.samples[0], inputs=spec.inputs[::-1]),)}),
    (("w2", "w3"), lambda spec: {"weights": (tuple(zip(*spec.weights[0])), spec.weights[1])}),
])
def test_two_parameters_exchanged_throughout(d, pair, change):
    swapped = explainer.derive(dataclasses.replace(d.spec, **change(d.spec)))
    for key in ("out_h1", "E_total", "dE_total/dw1"):
        if abs(swapped.values[key] - d.values[key]) > mpmath.mpf("1e-9"):
            assert hint_of(f"{key} = {shown(swapped.values[key])}", d) == ("swapped", {"pair": pair}), key


def test_no_hint_when_no_slip_explains_it(d):
    assert only("E_total = 0.35", d).hint is None


def test_hints_of_the_other_verdicts(d):
    rounding = only("dE_o2/dout_h1 = -0.019049119", d).hint
    assert rounding.kind == "rounding" and rounding.facts["units"] == 1
    assert abs(rounding.facts["exact"] - d.values["dE_o2/dout_h1"]) == 0
    carried = only("out_h1 = 0.61\nnet_o1 = 1.11259797", d).hint
    assert carried.kind == "carried" and [(g.key, g.line) for g in carried.facts["sources"]] == [("out_h1", 1)]
    unknown = only("out_{h3} = 0.5", d).hint
    assert (unknown.kind, unknown.facts) == ("unknown", {"name": "out_{h3}"})


def test_the_slips_that_need_no_number_written(d):
    from explainer.grading.hints import Slips
    from explainer.grading.names import Names

    slips = Slips(d, Names(d))
    e_o1 = {hint.kind: value for hint, value in slips.alternatives("E_o1")}
    assert e_o1["half"] == 2 * d.values["E_o1"] and e_o1["sign"] == -d.values["E_o1"]
    w5 = [hint.kind for hint, _ in slips.alternatives("w5+")]
    assert "learning_rate" not in w5 and {"half", "sign", "confused"} <= set(w5)


@pytest.mark.parametrize("example", [None, "two-hidden-layers-tanh", "relu-regression"])
def test_a_shapes_slips_are_kept_and_evaluated_compiled_to_the_same_values(example):
    """The second derivation of a shape on evaluates the slips' formulas compiled: the same hints, the same numbers."""
    from explainer.exercises.variants import draw
    from explainer.grading.hints import Slips
    from explainer.grading.names import Names
    from explainer.maths import shapes

    spec = explainer.load_spec(example)
    spec = dataclasses.replace(spec, samples=spec.samples[:1])  # a variant has one sample
    shapes.forget()
    derivations = [explainer.derive(draw(spec, "slips", str(student))) for student in range(3)]
    with mpmath.workdps(50):
        def alternatives(derivation):
            slips = Slips(derivation, Names(derivation))
            return [(key, hint, value) for key in derivation.values for hint, value in slips.alternatives(key)]

        first = [alternatives(d) for d in derivations]  # the first evaluated as they are, then compiled
        tables = shapes.work_for(derivations[0].spec).tables
        kept = [entry for which, entry in tables.items() if which[0] == "slip forms"]
        assert kept and all(entry[1] is not None for entry in kept)
        for derivation, seen in zip(derivations, first):
            shapes.forget()
            assert alternatives(derivation) == seen  # evaluated as it is, the shape's first derivation
