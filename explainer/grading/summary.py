"""A class summary: every student's verdict on every asked quantity, as one CSV table.

One row per student, in the order of their ids: the counts of each verdict,
how many quantities passed (correct or rounding) of how many were asked, then
one column per asked quantity with the verdict on the student's last value
for it (a student who corrects a result is graded on the correction), or
``missing`` when the sheet gives none.  A student without a sheet has every
quantity missing.  The last row, ``(total)``, adds the counts up and gives,
under each quantity, how many students passed it: where the class stumbled.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .check import PASSING, VERDICTS, Verdict

MISSING = "missing"
COUNTED = (*(v for v in VERDICTS if v != "unknown"), MISSING)
TOTAL_ROW = "(total)"  # never a student id: ids have no parentheses


@dataclass(frozen=True)
class Graded:
    """One student's sheet graded against their own variant; ``verdicts`` is None without a sheet."""

    student: str
    asked: tuple[str, ...]
    verdicts: tuple[Verdict, ...] | None


def final_verdicts(graded: Graded) -> dict[str, str]:
    """The verdict on each asked quantity: on the last value the sheet gives for it, else missing."""
    last = {v.key: v.verdict for v in graded.verdicts or () if v.role == "value"}
    return {key: last.get(key, MISSING) for key in graded.asked}


def class_summary(students: list[Graded]) -> str:
    """The CSV table of the class, students in the order of their ids."""
    students = sorted(students, key=lambda g: g.student)
    quantities = list(dict.fromkeys(key for g in students for key in g.asked))
    rows, totals, passing = [], dict.fromkeys(COUNTED, 0), dict.fromkeys(quantities, 0)
    for graded in students:
        verdicts = final_verdicts(graded)
        counts = {verdict: sum(1 for v in verdicts.values() if v == verdict) for verdict in COUNTED}
        passed = sum(counts[v] for v in PASSING)
        rows.append([graded.student, *counts.values(), passed, len(verdicts), *(verdicts.get(q, "") for q in quantities)])
        for verdict, n in counts.items():
            totals[verdict] += n
        for key, verdict in verdicts.items():
            passing[key] += verdict in PASSING
    passed_total = sum(totals[v] for v in PASSING)
    asked_total = sum(len(g.asked) for g in students)
    rows.append([TOTAL_ROW, *totals.values(), passed_total, asked_total, *passing.values()])
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["student", *COUNTED, "passed", "asked", *quantities])
    writer.writerows(rows)
    return table.getvalue()


def all_passed(students: list[Graded]) -> bool:
    return all(v in PASSING for g in students for v in final_verdicts(g).values())
