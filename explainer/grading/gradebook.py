"""Points for verdicts: the score of one sheet, and Gradescope's autograder ``results.json``.

Every asked quantity is worth its points (one each, unless the teacher's
points file says otherwise), and earns them in full when correct, and as
much of them as the teacher's credit says for rounding and carried forward
(all of them by default: a number that follows from the student's own
earlier numbers is what the work deserves).  Too few digits, wrong and
missing earn nothing.  The verdict on a quantity is that of the last value
the sheet gives for it; a step whose line substitutes a wrong number is the
slip itself, whatever it arrived at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from .check import PASSING, Verdict

MISSING = "missing"


@dataclass(frozen=True)
class Scoring:
    """Points per quantity (``points``; any other quantity is worth ``default``) and the share of them
    each verdict earns."""

    points: dict = field(default_factory=dict)
    default: Decimal = Decimal(1)
    rounding: Decimal = Decimal(1)
    carried_forward: Decimal = Decimal(1)

    def worth(self, key: str) -> Decimal:
        return self.points.get(key, self.default)

    def credit(self, verdict: str) -> Decimal:
        return {"correct": Decimal(1), "rounding": self.rounding, "carried forward": self.carried_forward}.get(
            verdict, Decimal(0))


def final_verdicts(verdicts: tuple[Verdict, ...] | None, asked: tuple[str, ...]) -> dict[str, Verdict | None]:
    """The verdict that counts for each asked quantity (None: missing).

    The last value the sheet gives for it counts (a corrected result is graded
    on the correction).  Where that line substitutes a wrong number or writes a
    wrong formula, the slip happened in this step: its value counts as wrong,
    not as carried forward from the slip.
    """
    last: dict[str, Verdict] = {}
    slipped: set[int] = set()
    for v in verdicts or ():
        if v.role == "value":
            last[v.key] = v
        elif v.verdict not in PASSING and v.role != "context":
            slipped.add(v.line)
    counted = {}
    for key in asked:
        v = last.get(key)
        if v is not None and v.verdict == "carried forward" and v.line in slipped:
            v = Verdict(v.line, v.role, v.key, v.given, v.expected, "wrong", v.hint)
        if v is not None and v.verdict == MISSING:
            v = None
        counted[key] = v
    return counted


def score(counted: dict[str, Verdict | None], scoring: Scoring) -> tuple[Decimal, Decimal]:
    """``(score, max_score)`` of one sheet."""
    earned = sum((scoring.worth(k) * scoring.credit(v.verdict) for k, v in counted.items() if v is not None), Decimal(0))
    return earned, sum((scoring.worth(k) for k in counted), Decimal(0))


def gradescope(verdicts: tuple[Verdict, ...], asked: tuple[str, ...], scoring: Scoring, rows: dict) -> str:
    """Gradescope's autograder ``results.json``: one test per asked quantity.

    ``rows`` maps each verdict's index to the words the text report gives it
    (``given``, ``expected``, ``hint``), so that the feedback reads the same.
    """
    counted = final_verdicts(verdicts, asked)
    index = {id(v): i for i, v in enumerate(verdicts)}
    tests = []
    for key, v in counted.items():
        worth = scoring.worth(key)
        if v is None:
            output = "missing: the sheet gives no value for it"
            earned = Decimal(0)
        else:
            row = rows.get(index.get(id(v)), {})
            output = f"line {v.line}: {row.get('given', '')}: {v.verdict}"
            if row.get("expected") and v.verdict not in ("correct",):
                output += f" (expected {row['expected']})"
            if row.get("hint"):
                output += f"; {row['hint']}"
            earned = worth * scoring.credit(v.verdict)
        tests.append({"name": key, "score": _number(earned), "max_score": _number(worth),
                      "output": output, "visibility": "visible"})
    unread = [v for v in verdicts if v.verdict == "not understood"]
    earned, total = score(counted, scoring)
    result = {"score": _number(earned), "max_score": _number(total), "tests": tests}
    if unread:
        result["output"] = "Lines not understood (check them by hand): " + "; ".join(
            f"line {v.line}: {v.given}" for v in unread)
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
