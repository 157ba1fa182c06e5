"""A class summary: every student's verdict on every asked quantity, as one CSV table.

One row per student, in the order of their ids, and nothing else (a
spreadsheet sorts and filters it as it is): the counts of each verdict, the
lines not understood, how many quantities passed (correct or rounding) of how
many were asked, the score and the most it could be (``gradebook.Scoring``),
then one column per asked quantity with the verdict that counts for it
(``gradebook.final_verdicts``), or ``missing``.  A student without a sheet has
every quantity missing.  The totals of the class (the counts added up, and
under each quantity how many students passed it: where the class stumbled)
are a table of their own, ``class_totals``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .check import PASSING, VERDICTS, Verdict
from .gradebook import MISSING, Scoring, final_verdicts as _counted, score

COUNTED = (*(v for v in VERDICTS if v not in ("unknown", "not understood", MISSING)), MISSING)
UNREAD = "not understood"


@dataclass(frozen=True)
class Graded:
    """One student's sheet graded against their own variant; ``verdicts`` is None without a sheet."""

    student: str
    asked: tuple[str, ...]
    verdicts: tuple[Verdict, ...] | None


def final_verdicts(graded: Graded) -> dict[str, str]:
    """The verdict that counts on each asked quantity, else missing."""
    return {key: v.verdict if v is not None else MISSING for key, v in _counted(graded.verdicts, graded.asked).items()}


def class_summary(students: list[Graded], scoring: Scoring = Scoring()) -> str:
    """The CSV table of the class, one row per student in the order of their ids."""
    students = sorted(students, key=lambda g: g.student)
    quantities = list(dict.fromkeys(key for g in students for key in g.asked))
    rows = []
    for graded in students:
        verdicts = final_verdicts(graded)
        counts = {verdict: sum(1 for v in verdicts.values() if v == verdict) for verdict in COUNTED}
        unread = sum(1 for v in graded.verdicts or () if v.verdict == UNREAD)
        passed = sum(counts[v] for v in PASSING)
        earned, most = score(_counted(graded.verdicts, graded.asked), scoring)
        rows.append([graded.student, *counts.values(), unread, passed, len(verdicts), _plain(earned), _plain(most),
                     *(verdicts.get(q, "") for q in quantities)])
    return _csv(["student", *COUNTED, UNREAD, "passed", "asked", "score", "max_score", *quantities], rows)


def class_totals(students: list[Graded], scoring: Scoring = Scoring()) -> str:
    """The class's totals as CSV: one row per column of the summary, its total over the students
    (for a quantity, how many students passed it)."""
    totals: dict[str, object] = dict.fromkeys((*COUNTED, UNREAD, "passed", "asked", "score", "max_score"), 0)
    passing: dict[str, int] = {}
    for graded in students:
        verdicts = final_verdicts(graded)
        for verdict in verdicts.values():
            totals[verdict] += 1
        totals[UNREAD] += sum(1 for v in graded.verdicts or () if v.verdict == UNREAD)
        totals["passed"] += sum(1 for v in verdicts.values() if v in PASSING)
        totals["asked"] += len(verdicts)
        earned, most = score(_counted(graded.verdicts, graded.asked), scoring)
        totals["score"] += earned
        totals["max_score"] += most
        for key, verdict in verdicts.items():
            passing[key] = passing.get(key, 0) + (verdict in PASSING)
    rows = [[column, _plain(total)] for column, total in totals.items()]
    rows += [[f"passed {key}", n] for key, n in passing.items()]
    return _csv(["column", "total"], rows)


def all_passed(students: list[Graded]) -> bool:
    return all(v in PASSING for g in students for v in final_verdicts(g).values())


def _plain(value) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _csv(header: list, rows: list) -> str:
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return table.getvalue()
