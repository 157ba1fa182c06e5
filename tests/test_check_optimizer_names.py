"""check reads the optimizer's state under the names courses write (m_t, \\hat{v}_t, v_5, s_{w_5}),
taking what a name leaves out (the parameter, the step) from the sheet around it."""

from __future__ import annotations

import mpmath
import pytest

import explainer


def _values(spec):
    d = explainer.derive(spec)
    return d, {key: mpmath.nstr(value, 9) for key, value in d.values.items()}


def _verdicts(sheet, d):
    return [(x.key, x.verdict) for x in explainer.check(sheet, d)]


def test_the_first_two_adam_updates_of_w5_as_a_student_writes_them():
    d, v = _values("examples/adam.toml")
    sheet = "\n".join([
        "Compute the first two Adam updates of w5.",
        f"dE/dw5 = {v['dE_total/dw5']}",
        f"m_t = {v['m_w5@1']}",
        f"v_t = {v['v_w5@1']}",
        f"$\\hat{{m}}_t = {v['mhat_w5@1']}$",
        f"$\\hat v_t = {v['vhat_w5@1']}$",
        f"w5+ = {v['w5+']}",
        f"m_t = {v['m_w5@2']}",          # the second m of the sheet: step 2
        f"v_{{w_5}} = {v['v_w5@2']}",
        f"m̂_t = {v['mhat_w5@2']}",
        f"\\hat{{v}}_{{w_5,2}} = {v['vhat_w5@2']}",
        f"w5@2 = {v['w5@2']}",
    ])
    assert _verdicts(sheet, d) == [
        ("dE_total/dw5", "correct"), ("m_w5@1", "correct"), ("v_w5@1", "correct"), ("mhat_w5@1", "correct"),
        ("vhat_w5@1", "correct"), ("w5+", "correct"), ("m_w5@2", "correct"), ("v_w5@2", "correct"),
        ("mhat_w5@2", "correct"), ("vhat_w5@2", "correct"), ("w5@2", "correct")]


def test_a_step_written_as_t_or_as_an_index_names_that_step():
    d, v = _values("examples/adam.toml")
    sheet = "\n".join([f"dE/dw6 = {v['dE_total/dw6']}", "t = 2", f"m_t = {v['m_w6@2']}",
                       f"m_1 = {v['m_w6@1']}", f"m_0 = 0", f"m_{{w6}}^{{(2)}} = {v['m_w6@2']}"])
    verdicts = explainer.check(sheet, d)
    assert [(x.key, x.verdict) for x in verdicts] == [
        ("dE_total/dw6", "correct"), ("", "not understood"), ("m_w6@2", "correct"), ("m_w6@1", "correct"),
        ("m_w6@0", "correct"), ("m_w6@2", "correct")]
    assert "the step t = 2" in verdicts[1].hint.facts["reason"]


def test_a_wrong_moment_under_a_courses_name_gets_its_hint():
    d, v = _values("examples/adam.toml")
    sheet = f"dE/dw5 = {v['dE_total/dw5']}\n\\hat{{m}}_t = {v['m_w5@1']}"  # the bias correction forgotten
    verdict = explainer.check(sheet, d)[-1]
    assert (verdict.key, verdict.verdict, verdict.hint.kind) == ("mhat_w5@1", "wrong", "bias_correction")


def test_a_state_name_without_a_parameter_in_context_is_not_guessed():
    d, v = _values("examples/adam.toml")
    (verdict,) = explainer.check(f"m_t = {v['m_w5@1']}", d)
    assert verdict.verdict == "not understood"
    assert verdict.hint.facts["reason"].startswith("m_t names no parameter, and no line before it is about one")


@pytest.mark.parametrize("spec, lines", [
    ("examples/momentum.toml", [("v_5", "v_w5@1"), ("v_{w_5,2}", "v_w5@2"), ("v_{w_6}", "v_w6@1")]),
    ("examples/nesterov.toml", [("v_{w5}", "v_w5@1"), ("v_{w5}", "v_w5@2")]),
    ("examples/rmsprop.toml", [("s_w5", "s_w5@1"), ("v_{w_5}", "s_w5@2"), ("s_{w_1,1}", "s_w1@1")]),
])
def test_the_velocity_and_the_mean_square_under_their_usual_names(spec, lines):
    d, v = _values(spec)
    sheet = "\n".join(f"{name} = {v[key]}" for name, key in lines)
    assert _verdicts(sheet, d) == [(key, "correct") for _, key in lines]


def test_a_bare_index_is_the_step_of_the_weight_in_context_else_the_weight():
    d, v = _values("examples/momentum.toml")
    # No weight before it: v_5 is w5's velocity (its first step).
    assert _verdicts(f"v_5 = {v['v_w5@1']}", d) == [("v_w5@1", "correct")]
    # After a line about w6, v_6 stays w6's own and v_2 is w6's velocity at step 2.
    sheet = f"dE/dw6 = {v['dE_total/dw6']}\nv_6 = {v['v_w6@1']}\nv_2 = {v['v_w6@2']}"
    assert _verdicts(sheet, d)[1:] == [("v_w6@1", "correct"), ("v_w6@2", "correct")]


def test_the_reason_is_printed_by_the_command(tmp_path):
    from conftest import run_cli

    sheet = tmp_path / "sheet.txt"
    sheet.write_text("m_t = 0.008\n", encoding="utf-8")
    result = run_cli("check", "--spec", "examples/adam.toml", str(sheet))
    assert "m_t names no parameter" in result.stdout, result.stdout + result.stderr
