"""A sheet worked on another student's variant: ``check … --keys DIR`` names whose numbers they are.

A real class is made with ``explainer exercise``; student 1 hands in a sheet
worked (rounded, in prose, with the names students use) on student 2's
network, as a student who picked up a classmate's question sheet would.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from explainer.cli import main
from explainer.grading.answers import Number
from explainer.grading.check import Verdict
from explainer.grading.classmates import Classmates
from explainer.outputs.formatting import NumberFormat

HINT = "these are the numbers of student 2's variant"


def answers(folder: Path, student: str) -> dict[str, Decimal]:
    return json.loads((folder / "keys" / f"{student}.json").read_text(), parse_float=Decimal)["answers"]


def r(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def classmates_sheet(a: dict[str, Decimal]) -> str:
    """Student 1's sheet, every number student 2's, written as a student writes."""
    return f"""Backprop exercise, week 3 -- my working

Forward pass:
net_h1 = {r(a['net_h1'], 4)} so outₕ₁ = {r(a['out_h1'], 6)}
net_h2 = {r(a['net_h2'], 4)}, out_h2 = {r(a['out_h2'], 6)}
**net_o1** = {r(a['net_o1'], 6)} and out_o1 = {r(a['out_o1'], 6)}

The error of the first output: E_o1 = {r(a['E_o1'], 6)} (I think)
Total error E_total = {r(a['E_total'], 6)}

- ∂E/∂out_o1 = {r(a['dE_total/dout_o1'], 6)}
- δ_o1 = {r(a['dE_o1/dnet_o1'], 6)}
- w5_new = {r(a['w5+'], 6)}
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("course")
    assert main(["exercise", "--count", "3", "--seed", "s", "--output", str(folder), "--format", "markdown",
                 "--quiet"]) == 0
    sheets = folder / "sheets"
    sheets.mkdir()
    (sheets / "1.txt").write_text(classmates_sheet(answers(folder, "2")), encoding="utf-8")
    # Student 3 hands in their own numbers, one of them wrong (the ½ dropped): their own slip, no classmate's.
    own = answers(folder, "3")
    (sheets / "3.txt").write_text("".join(f"{key} = {2 * value if key == 'E_o1' else value}\n"
                                          for key, value in list(own.items())[:12]))
    return folder


def test_a_sheet_with_another_students_numbers_gets_the_hint_once(course, capsys):
    status = main(["check", str(course / "sheets" / "1.txt"), "--key", str(course / "keys" / "1.json"),
                   "--keys", str(course / "keys"), "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 1
    claimed = [row for row in rows if row["verdict"] != "missing"]
    # Every number on the sheet is read, and none is right for student 1.
    assert [row["key"] for row in claimed] == ["net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "E_o1",
                                               "E_total", "dE_total/dout_o1", "dE_total/dnet_o1", "w5+"]
    assert all(row["verdict"] in ("wrong", "carried forward") for row in claimed)
    hinted = [row for row in rows if row["hint"] and HINT in row["hint"]]
    assert len(hinted) == 1
    # On the first wrong line, where the other network's numbers first show.
    assert (hinted[0]["key"], hinted[0]["verdict"], hinted[0]["line"]) == ("net_h1", "wrong", 4)
    # δ_o1 among them, which the key holds under its chain-rule name, dE_o1/dnet_o1.
    assert "11 of the sheet's numbers are that student's" in hinted[0]["hint"]


def test_the_text_report_names_the_classmate(course, capsys):
    main(["check", str(course / "sheets" / "1.txt"), "--key", str(course / "keys" / "1.json"),
          "--keys", str(course / "keys")])
    out = capsys.readouterr().out
    assert out.count(HINT) == 1


def test_without_the_keys_no_classmate_is_named(course, capsys):
    main(["check", str(course / "sheets" / "1.txt"), "--key", str(course / "keys" / "1.json")])
    assert "variant" not in capsys.readouterr().out


def test_the_class_summary_says_whose_numbers_a_sheet_has(course, capsys):
    status = main(["check", str(course / "sheets"), "--keys", str(course / "keys"), "--quiet"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err == f"explainer: {course / 'sheets' / '1.txt'}: {HINT}\n"
    assert captured.out.splitlines()[1].startswith("1,0,0,")  # the summary itself as before


def test_a_students_own_slip_names_no_classmate(course, capsys):
    main(["check", str(course / "sheets" / "3.txt"), "--key", str(course / "keys" / "3.json"),
          "--keys", str(course / "keys"), "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert [row["verdict"] for row in rows if row["key"] == "E_o1"] == ["wrong"]
    assert not any("variant" in (row["hint"] or "") for row in rows)


def test_keys_for_one_sheet_need_its_own_key(course, capsys):
    status = main(["check", str(course / "sheets" / "1.txt"), "--keys", str(course / "keys")])
    assert status == 2
    assert "with --key, --keys DIR looks for a classmate's numbers" in capsys.readouterr().err


def verdict(key: str, text: str, line: int = 1, verdict: str = "wrong") -> Verdict:
    return Verdict(line, "value", key, Number(text, Decimal(text)), 0, verdict)


def test_one_match_or_too_few_digits_is_a_coincidence():
    keys = {"a": ({"net_h1": Decimal("0.3775"), "out_h1": Decimal("0.593269992")}, NumberFormat()),
            "b": ({"net_h1": Decimal("0.41"), "out_h1": Decimal("0.601234567")}, NumberFormat())}
    classmates = Classmates(keys)
    # One number of b's alone names nobody; two do, at the digits written (0.6012 for 0.601234567).
    assert classmates.mark("a", (verdict("net_h1", "0.41"), verdict("out_h1", "0.6012", 2)))[1] is None
    both = (verdict("net_h1", "0.4100", 1), verdict("out_h1", "0.6012", 2))
    marked, other = classmates.mark("a", both)
    assert other == "b" and marked[0].hint.facts == {"student": "b", "count": 2} and marked[1].hint is None
    # Numbers too short to tell apart, and numbers that passed, are never a classmate's.
    assert classmates.mark("a", (verdict("net_h1", "0.4"), verdict("out_h1", "0.6", 2)))[1] is None
    assert classmates.mark("a", (verdict("net_h1", "0.4100", 1, "correct"), verdict("out_h1", "0.6012", 2)))[1] is None
    # A student's own key is not a classmate's.
    assert classmates.mark("b", both)[1] is None
