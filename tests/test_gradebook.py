"""The gradebook side of check: Gradescope's results.json, points and credits, a key's precision,
answer keys recognised, and a reader that no sheet can make slow or crash."""

from __future__ import annotations

import json
import time

import pytest

import explainer
from explainer.cli import main
from explainer.grading.check import Policy, check_answers
from explainer.outputs.formatting import NumberFormat


@pytest.fixture(scope="module")
def exercise(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    assert main(["exercise", "--count", "2", "--seed", "gradebook", "--output", str(folder), "--format", "markdown"]) == 0
    return folder


def key_answers(folder, student: str) -> dict:
    return json.loads((folder / "keys" / f"{student}.json").read_text())["answers"]


def test_gradescope_results_one_test_per_asked_quantity(exercise, tmp_path, capsys):
    answers = key_answers(exercise, "1")
    keys = list(answers)
    sheet = tmp_path / "1.txt"
    # Right, then one slip carried forward, the rest not handed in; and a line that is no claim.
    lines = [f"{k} = {answers[k]}" for k in keys[:3]] + [f"{keys[3]} = 0.123456789", "about 0.5 I guess"]
    sheet.write_text("\n".join(lines) + "\n")
    points = tmp_path / "points.toml"
    points.write_text(f'"{keys[0]}" = 2\n')
    capsys.readouterr()
    status = main(["check", str(sheet), "--key", str(exercise / "keys" / "1.json"), "--format", "gradescope",
                   "--points", str(points), "--carried-forward-credit", "0.5"])
    results = json.loads(capsys.readouterr().out)
    assert status == 1
    assert [t["name"] for t in results["tests"]] == keys
    assert all(set(t) == {"name", "score", "max_score", "output", "visibility"} for t in results["tests"])
    assert results["tests"][0] == {**results["tests"][0], "score": 2, "max_score": 2}
    assert results["tests"][3]["score"] == 0 and "wrong" in results["tests"][3]["output"]
    assert results["tests"][5]["output"].startswith("missing")
    assert (results["score"], results["max_score"]) == (4, len(keys) + 1)
    assert "about 0.5 I guess" in results["output"]


def test_points_for_a_quantity_not_asked_is_an_error(exercise, tmp_path, capsys):
    sheet = tmp_path / "1.txt"
    sheet.write_text("net_h1 = 0.5\n")
    points = tmp_path / "points.toml"
    points.write_text('"w99+" = 2\n')
    assert main(["check", str(sheet), "--key", str(exercise / "keys" / "1.json"), "--format", "gradescope",
                 "--points", str(points)]) == 2
    assert capsys.readouterr().err.startswith(f"explainer: error: {points}: w99+: not a quantity")


def test_an_answer_key_is_checked_against_its_own_network(exercise, capsys):
    key = exercise / "keys" / "2.json"
    capsys.readouterr()
    assert main(["check", str(key)]) == 0
    out = capsys.readouterr().out
    assert f"checked against {key} (student 2)" in out and "missing" not in out


def test_the_key_precision_is_the_least_an_answer_must_show(exercise, tmp_path, capsys):
    answers = key_answers(exercise, "1")
    key, value = next((k, v) for k, v in answers.items() if len(str(v).split(".")[-1]) == 9)
    sheet = tmp_path / "1.txt"
    sheet.write_text(f"{key} = {round(float(value), 4)}\n")
    capsys.readouterr()
    main(["check", str(sheet), "--key", str(exercise / "keys" / "1.json"), "--format", "json"])
    (verdict,) = [v for v in json.loads(capsys.readouterr().out) if v["key"] == key]
    assert verdict["verdict"] == "too few digits"


def test_the_class_summary_and_its_totals_apart(exercise, tmp_path, capsys):
    sheets = tmp_path / "in"
    sheets.mkdir()
    answers = key_answers(exercise, "1")
    (sheets / "1.txt").write_text("".join(f"{k} = {v}\n" for k, v in answers.items()))
    summary = tmp_path / "summary.csv"
    assert main(["check", str(sheets), "--keys", str(exercise / "keys"), "--output", str(summary)]) == 1
    rows = summary.read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == ["student", "1", "2"]
    header = rows[0].split(",")
    one = dict(zip(header, rows[1].split(",")))
    assert (one["score"], one["max_score"], one["passed"], one["asked"]) == (str(len(answers)),) * 4
    totals = dict(line.split(",", 1) for line in (tmp_path / "summary-totals.csv").read_text().splitlines()[1:])
    assert totals["score"] == str(len(answers)) and totals["max_score"] == str(2 * len(answers))


def test_decimals_and_tolerance_are_a_teachers_policy(default_derivation):
    assert [v.verdict for v in check_answers("out_h1 = 0.59\n", default_derivation, policy=Policy(NumberFormat(decimals=4)))] == ["too few digits"]
    assert [v.verdict for v in check_answers("out_h1 = 0.5933\n", default_derivation, policy=Policy(NumberFormat(decimals=4)))] == ["correct"]
    from decimal import Decimal

    within = Policy(tolerance=Decimal("0.01"))
    assert [v.verdict for v in check_answers("out_h1 = 0.597\nout_h2 = 0.61\n", default_derivation, policy=within)] == ["correct", "wrong"]


def test_check_with_several_samples_does_not_crash(capsys):
    for spec in ("examples/xor.toml", "examples/relu-regression.toml", "examples/softmax-classifier.toml"):
        derivation = explainer.derive(spec)
        verdicts = check_answers("out_h1 = 0.5\nw5+ = 0.3\nnet_h1[1] = 0.3\nout_o1[2] = 0.1\n", derivation)
        assert len(verdicts) == 4


@pytest.mark.parametrize("line", [
    "out_h1 = 1e1000000", "out_h1 = 1e-999999999", "out_h1 = 0." + "3" * 5000, "out_h1 = " + "(" * 5000 + "1",
    "out_h1 = " + "-" * 5000 + "1", "{" * 5000, "x = " + "1 = " * 5000, "$" * 5000, "|" * 5000 + "0.5",
])
def test_no_sheet_crashes_the_reader(line, default_derivation):
    from explainer.spec.errors import AnswersError

    try:
        verdicts = check_answers(line + "\n", default_derivation)
    except AnswersError as error:  # no number anywhere: the one-line "no answers found"
        assert "\n" not in str(error)
        return
    assert all(v.verdict in ("correct", "wrong", "not understood", "unknown") for v in verdicts)


def test_a_large_sheet_is_read_in_linear_time(default_derivation):
    lines = ["net_h1 = 0.3775, out_h1 = 0.5933 (rounded)", "**New error:** E_total@1 = 0.2910 (it went down)",
             "| `w5+` | $w_5^+$ | 0.3589 |", "the gradient is roughly 0.08 or so, " * 3, "a" * 200 + " = " + "0.5" * 50]
    text = "\n".join(lines[i % len(lines)] for i in range(1500))  # about 100 KB
    assert len(text) > 100_000
    start = time.perf_counter()
    check_answers(text, default_derivation)
    assert time.perf_counter() - start < 3  # generous for a shared machine: well under a second alone


@pytest.mark.parametrize("opener", ["\\begin{align}", "\\[", "\\begin{tikzpicture}", "$$", "```math"])
def test_unclosed_displays_are_read_in_linear_time(opener, default_derivation):
    """Each opener that nothing closes is no display: the lines are read one by one, and
    the reader does not look for the closer again from every opener."""
    text = f"{opener}\nnet_h1 = 0.3775\n" * 4000  # about 100 KB
    start = time.perf_counter()
    verdicts = check_answers(text, default_derivation)
    assert time.perf_counter() - start < 3  # quadratic, this took about 30 s
    if opener != "$$":  # pairs of $$ do close each other
        assert sum(v.verdict == "correct" for v in verdicts) == 4000


def test_seed_without_the_precision_of_a_sheet_says_so(exercise, tmp_path, capsys):
    sheet = tmp_path / "1.txt"
    sheet.write_text("net_h1 = 0.3775\nout_h1 = 0.5933\n")
    capsys.readouterr()
    assert main(["check", str(sheet), "--student", "1", "--seed", "gradebook"]) == 2
    assert "its numbers have 4 decimals, but no --decimals or --digits says" in capsys.readouterr().err
