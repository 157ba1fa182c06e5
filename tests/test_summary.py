"""The class summary: one row per student, one column per quantity; the totals apart."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from explainer.grading.check import Verdict
from explainer.grading.gradebook import Scoring
from explainer.grading.summary import Graded, all_passed, class_summary, class_totals, final_verdicts

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


def test_the_step_where_a_slip_happens_carries_it():
    # w3 substituted for w2 in net_h1: net_h1 follows from that wrong number, but the slip is net_h1's.
    graded = Graded("dan", ASKED, (
        verdict("w2", "wrong", role="substituted", line=1), verdict("net_h1", "carried forward", line=1),
        verdict("out_h1", "carried forward", line=2),
    ))
    assert final_verdicts(graded) == {"net_h1": "wrong", "out_h1": "carried forward", "E_total": "missing"}


def test_the_summary_of_a_class():
    students = [
        Graded("carol", ASKED, None),
        Graded("alice", ASKED, tuple(verdict(k, "correct") for k in ASKED)),
        Graded("bob", ASKED, (verdict("net_h1", "rounding"), verdict("out_h1", "wrong"), verdict("E_total", "carried forward"),
                              Verdict(4, "line", "", "out h1 ~ 0.59", None, "not understood"))),
    ]
    scoring = Scoring(points={"E_total": Decimal(2)}, carried_forward=Decimal("0.5"))
    text = class_summary(students, scoring)
    assert text.splitlines()[0] == ("student,correct,rounding,carried forward,too few digits,wrong,missing,"
                                    "not understood,passed,asked,score,max_score,net_h1,out_h1,E_total")
    table = rows(text)
    # One row per student and nothing else: a spreadsheet can sort it as it is.
    assert [row["student"] for row in table] == ["alice", "bob", "carol"]
    alice, bob, carol = table
    assert (alice["correct"], alice["passed"], alice["asked"], alice["E_total"]) == ("3", "3", "3", "correct")
    assert (alice["score"], alice["max_score"]) == ("4", "4")
    assert (bob["rounding"], bob["wrong"], bob["carried forward"], bob["passed"], bob["not understood"]) == ("1", "1", "1", "1", "1")
    assert (bob["score"], bob["max_score"]) == ("2", "4")  # 1 for rounding, 0.5 × 2 for carried forward
    assert (carol["missing"], carol["passed"], carol["net_h1"], carol["score"]) == ("3", "0", "missing", "0")
    assert text == class_summary(list(reversed(students)), scoring)  # the order of the ids, whatever the order given
    assert not all_passed(students) and all_passed(students[1:2])
    totals = {row["column"]: row["total"] for row in rows(class_totals(students, scoring))}
    assert {k: totals[k] for k in ("correct", "rounding", "carried forward", "wrong", "missing", "passed", "asked", "score")} == \
        {"correct": "3", "rounding": "1", "carried forward": "1", "wrong": "1", "missing": "3", "passed": "4", "asked": "9",
         "score": "6"}
    assert (totals["passed net_h1"], totals["passed out_h1"], totals["passed E_total"]) == ("2", "1", "1")


def test_students_asked_different_quantities():
    text = class_summary([Graded("a", ("x", "y"), ()), Graded("b", ("y", "z"), (verdict("z", "correct"),))])
    assert text.splitlines()[0].endswith(",x,y,z")
    a, b = rows(text)
    assert (a["z"], b["x"], b["z"], a["max_score"]) == ("", "", "correct", "2")
