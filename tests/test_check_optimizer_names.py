"""check reads the optimizer's state under the names courses write (m_t, \\hat{v}_t, v_5, s_{w_5}),
taking what a name leaves out (the parameter, the step) from the sheet around it."""

from __future__ import annotations

import json
import re

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
        ("dE_total/dw6", "correct"), ("t", "context"), ("m_w6@2", "correct"), ("m_w6@1", "correct"),
        ("m_w6@0", "correct"), ("m_w6@2", "correct")]
    assert "(t = 2)" in verdicts[1].hint.facts["says"]


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


# --- as the command reads a sheet: the spec derived as ``explainer check --spec adam`` derives it -----------


@pytest.fixture(scope="module")
def adam():
    return _values("examples/adam.toml")


def _checked(tmp_path, sheet, *options):
    """``explainer check SHEET --spec adam`` as a student runs it: the exit status and the JSON verdicts."""
    from conftest import run_cli

    path = tmp_path / "sheet.txt"
    path.write_text(sheet + "\n", encoding="utf-8")
    result = run_cli("check", str(path), "--spec", "adam", "--format", "json", *options)
    assert result.stderr == "", result.stderr
    return result.returncode, [(o["line"], o["key"], o["verdict"], o["hint"]) for o in json.loads(result.stdout)]


@pytest.mark.parametrize("before", [
    [], ["dE/dw5 = {dE_total/dw5}"], ["w5+ = {w5+}"], ["m_w5@1 = {m_w5@1}"], ["out_h1 = {out_h1}"],
    ["dE_total/dw5@1 = {dE_total/dw5@1}"],  # the same line twice
])
def test_the_key_of_the_second_rounds_gradient_means_itself_after_any_line(tmp_path, adam, before):
    d, v = adam
    lines = [line.replace("{" + key + "}", v[key]) for line in before for key in v if "{" + key + "}" in line]
    status, verdicts = _checked(tmp_path, "\n".join([*lines, f"dE_total/dw5@1 = {v['dE_total/dw5@1']}"]))
    assert [(key, verdict) for _, key, verdict, _ in verdicts][-1] == ("dE_total/dw5@1", "correct")
    assert all(verdict == "correct" for _, _, verdict, _ in verdicts) and status == 0, verdicts


def test_a_sheet_without_values_after_training_keeps_the_optimizers_second_step():
    from explainer.grading.check import graded_spec

    spec = explainer.load_spec("examples/adam.toml")
    short, whole = explainer.derive(graded_spec(spec, "dE_total/dw5@1 = 0.083")), explainer.derive(spec)
    assert {"dE_total/dw5@1", "m_w5@2", "vhat_w5@2", "w5@2"} <= set(short.values)
    assert all(whole.values[key] == value for key, value in short.values.items())
    assert set(whole.values) - set(short.values) == {k for k in whole.values if k.endswith("@10000")}


@pytest.mark.parametrize("name, role", [("m_t", "m"), ("v_t", "v"), ("m̂_t", "mhat"), (r"$\hat v_t$", "vhat")])
@pytest.mark.parametrize("parameter", ["w5", "w1"])
def test_a_state_name_after_t_2_and_a_gradient_is_the_state_of_step_2(tmp_path, adam, name, role, parameter):
    d, v = adam
    p = parameter
    sheet = "\n".join([f"dE/d{p} = {v[f'dE_total/d{p}']}", f"{name} = {v[f'{role}_{p}@1']}", f"{p}+ = {v[f'{p}+']}",
                       "t = 2", f"dE/d{p} = {v[f'dE_total/d{p}@1']}", f"{name} = {v[f'{role}_{p}@2']}"])
    status, verdicts = _checked(tmp_path, sheet)
    assert [(key, verdict) for _, key, verdict, _ in verdicts] == [
        (f"dE_total/d{p}", "correct"), (f"{role}_{p}@1", "correct"), (f"{p}+", "correct"), ("t", "context"),
        (f"dE_total/d{p}@1", "correct"), (f"{role}_{p}@2", "correct")]
    assert status == 0


def test_the_first_rounds_gradient_copied_into_the_second_is_wrong_and_the_state_still_read(tmp_path, adam):
    d, v = adam
    sheet = "\n".join(["dE/dw5 = 0.0821670406", "m_t = 0.00821670406", f"w5+ = {v['w5+']}", "t = 2",
                       "dE/dw5 = 0.0821670406", "m_t = 0.0157038576"])
    status, verdicts = _checked(tmp_path, sheet)
    assert [(key, verdict) for _, key, verdict, _ in verdicts] == [
        ("dE_total/dw5", "correct"), ("m_w5@1", "correct"), ("w5+", "correct"), ("t", "context"),
        ("dE_total/dw5@1", "wrong"), ("m_w5@2", "correct")]
    assert "dE_total/dw5" in verdicts[4][3] and status == 1


def test_after_t_2_the_gradients_key_means_itself_and_a_gradient_in_other_words_is_step_2s(adam):
    d, v = adam
    sheet = "\n".join(["t = 2", f"dE_total/dw5 = {v['dE_total/dw5']}", f"∂E/∂w₆ = {v['dE_total/dw6@1']}",
                       f"$\\frac{{\\partial E_{{total}}}}{{\\partial w_7}} = {v['dE_total/dw7@1']}$",
                       f"dE/dw8 = {v['dE_total/dw8@1']}", f"dE_total/dw8@1 = {v['dE_total/dw8@1']}"])
    assert _verdicts(sheet, d) == [("t", "context"), ("dE_total/dw5", "correct"), ("dE_total/dw6@1", "correct"),
                                   ("dE_total/dw7@1", "correct"), ("dE_total/dw8@1", "correct"),
                                   ("dE_total/dw8@1", "correct")]


def test_a_state_name_that_cannot_be_resolved_says_why(adam):
    d, v = adam
    sheet = "\n".join(["dE/dw5 = 0.0821670406", "m_t = 0.008", "m_t = 0.0157", "m_t = 0.02", "t = 3", "v_t = 0.1",
                       "m_{w9} = 0.1"])
    reasons = {x.line: x.hint.facts["reason"] for x in explainer.check(sheet, d) if x.verdict == "not understood"}
    assert reasons == {
        4: "m_t is read as m_w5@3 (the parameter of line 3), step 3 (its third m of w5 on the sheet), "
           "but the optimizer's state of w5 is worked out for steps 0 to 2 only",
        6: "v_t is read as v_w5@3 (the parameter of line 3), step 3 (from t = 3 on line 5), "
           "but the optimizer's state of w5 is worked out for steps 0 to 2 only",
        7: "m_{w9} is read as the m of w9, which this network does not train",
    }
    assert all("not a quantity of this network" not in x.hint.facts.get("reason", "")
               for x in explainer.check(sheet, d) if x.hint)


def test_a_context_line_is_listed_in_every_format_and_never_counted(tmp_path, adam):
    from conftest import run_cli

    d, v = adam
    path = tmp_path / "sheet.txt"
    path.write_text(f"dE/dw5 = {v['dE_total/dw5']}\nt = 2\nm_t = {v['m_w5@2']}\n", encoding="utf-8")
    text = run_cli("check", str(path), "--spec", "adam")
    assert text.returncode == 0 and text.stdout.splitlines()[-1] == "2 checked: 2 correct.", text.stdout
    assert re.search(r"^ +2  t +2 +context  the step of the optimizer's state named below it \(t = 2\), not a claim$",
                     text.stdout, re.M), text.stdout
    markdown = run_cli("check", str(path), "--spec", "adam", "--format", "markdown")
    assert markdown.returncode == 0 and "| 2 | `t` | 2 |  | context |" in markdown.stdout
    assert markdown.stdout.rstrip().endswith("2 checked: 2 correct.")
    status, verdicts = _checked(tmp_path, path.read_text(encoding="utf-8").strip())
    assert status == 0 and [(line, key, verdict) for line, key, verdict, _ in verdicts] == [
        (1, "dE_total/dw5", "correct"), (2, "t", "context"), (3, "m_w5@2", "correct")]
    gradescope = json.loads(run_cli("check", str(path), "--spec", "adam", "--format", "gradescope").stdout)
    assert "output" not in gradescope  # no line not understood


def test_a_table_of_the_second_round_as_the_document_heads_it(adam):
    d, v = adam
    sheet = "\n".join(["| parameter | gradient after one round | after two rounds |", "|---|---|---|",
                       f"| w5 | {v['dE_total/dw5@1']} | {v['w5@2']} |", f"| $w_6$ | {v['dE_total/dw6@1']} | {v['w6@2']} |"])
    assert _verdicts(sheet, d) == [("dE_total/dw5@1", "correct"), ("w5@2", "correct"),
                                   ("dE_total/dw6@1", "correct"), ("w6@2", "correct")]
