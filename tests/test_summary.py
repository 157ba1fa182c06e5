"""The class summary: one row per student, one column per quantity, the totals last."""

from __future__ import annotations

import csv
import io

from explainer.grading.check import Verdict
from explainer.grading.summary import Graded, all_passed, class_summary, final_verdicts

ASKED = ("net_h1", "out_h1", "E_total")


def verdict(key: str, verdict: str, role: str = "value", line: int = 1) -> Verdict:
    return Verdict(line, role, key, None, None, verdict)


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_last_value_for_a_quantity_counts():
    graded = Graded("bob", ASKED, (
        verdict("net_h1", "wrong"), verdict("net_h1", "correct", line=2),  # corrected
        verdict("out_h1", "correct", role="substituted"),  # only substituted: no value given
        verdict("E_total", "carried forward"), verdict("out_{h3}", "unknown"),
    ))
    assert final_verdicts(graded) == {"net_h1": "correct", "out_h1": "missing", "E_total": "carried forward"}
    assert final_verdicts(Graded("carol", ASKED, None)) == dict.fromkeys(ASKED, "missing")


def test_the_summary_of_a_class():
    students = [
        Graded("carol", ASKED, None),
        Graded("alice", ASKED, tuple(verdict(k, "correct") for k in ASKED)),
        Graded("bob", ASKED, (verdict("net_h1", "rounding"), verdict("out_h1", "wrong"), verdict("E_total", "carried forward"))),
    ]
    text = class_summary(students)
    assert text.splitlines()[0] == \
        "student,correct,rounding,carried forward,wrong,missing,passed,asked,net_h1,out_h1,E_total"
    table = rows(text)
    assert [row["student"] for row in table] == ["alice", "bob", "carol", "(total)"]
    alice, bob, carol, total = table
    assert (alice["correct"], alice["passed"], alice["asked"], alice["E_total"]) == ("3", "3", "3", "correct")
    assert (bob["rounding"], bob["wrong"], bob["carried forward"], bob["passed"]) == ("1", "1", "1", "1")
    assert (carol["missing"], carol["passed"], carol["net_h1"]) == ("3", "0", "missing")
    assert {k: total[k] for k in ("correct", "rounding", "carried forward", "wrong", "missing", "passed", "asked")} == \
        {"correct": "3", "rounding": "1", "carried forward": "1", "wrong": "1", "missing": "3", "passed": "4", "asked": "9"}
    assert (total["net_h1"], total["out_h1"], total["E_total"]) == ("2", "1", "1")  # students who passed each
    assert text == class_summary(list(reversed(students)))  # the order of the ids, whatever the order given
    assert not all_passed(students) and all_passed(students[1:2])


def test_students_asked_different_quantities():
    text = class_summary([Graded("a", ("x", "y"), ()), Graded("b", ("y", "z"), (verdict("z", "correct"),))])
    assert text.splitlines()[0].endswith(",x,y,z")
    a, b, total = rows(text)
    assert (a["z"], b["x"], b["z"], total["asked"], total["z"]) == ("", "", "correct", "4", "1")
