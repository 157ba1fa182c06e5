"""The verdicts of ``explainer check`` as a terminal table, Markdown or JSON.

Grading happens in ``explainer.check``; this module only lays the verdicts
out.  The words (verdicts, hints, the summary) live in the templates
``check.j2`` (shared), ``check.txt.j2`` and ``check.md.j2``; numbers are
formatted here.  The JSON is a list of objects with ``line``, ``key``,
``role``, ``given``, ``expected``, ``verdict`` and ``hint``, for autograders.
"""

from __future__ import annotations

import json
import math
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Decimal, localcontext

from ..outputs.formatting import NumberFormat, to_decimal
from ..outputs.render import environment
from .answers import Number
from .check import CONTEXT, VERDICTS, Verdict, claims_of, passed

FORMATS = ("text", "markdown", "json")

# ANSI colours of the verdicts on a terminal.
_COLOURS = {"correct": "32", "rounding": "36", "carried forward": "33", "too few digits": "33", "wrong": "31",
            "unknown": "35", "not understood": "35", CONTEXT: "2"}
_PRECISE = NumberFormat(digits=12)
_WIDEST = 24  # characters of a column, beyond which a cell runs over
_MOST_DIGITS = 20  # significant digits of an expected value, at most


def exit_status(verdicts: tuple[Verdict, ...]) -> int:
    """0 when every claim is correct or rounding (context lines claim nothing), 1 otherwise."""
    return 0 if passed(verdicts) else 1


def report(verdicts: tuple[Verdict, ...], fmt: str = "text", *, answers: str, spec: str, color: bool = False) -> str:
    """The verdicts in ``fmt``; ``answers`` and ``spec`` name what was checked against what."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    words = environment().get_template("check.j2").module
    quote = (lambda key: f"`{key}`") if fmt == "markdown" else (lambda key: key)
    rows = [_row(v, words, quote) for v in verdicts]
    if fmt == "json":
        return json.dumps([_json(v, row) for v, row in zip(verdicts, rows)], indent=2, ensure_ascii=False) + "\n"
    claims = claims_of(verdicts)
    counts = {verdict: sum(1 for v in claims if v.verdict == verdict) for verdict in VERDICTS}
    template = environment().get_template("check.txt.j2" if fmt == "text" else "check.md.j2")
    return template.render(
        rows=rows, counts=counts, total=len(claims), answers=answers, spec=spec,
        widths=_widths(rows), paint=_painter(color),
    ).rstrip() + "\n"


def rows_for(verdicts: tuple[Verdict, ...]) -> dict[int, dict]:
    """Each verdict's words as the text report gives them, by its index."""
    words = environment().get_template("check.j2").module
    return {i: _row(v, words, lambda key: key) for i, v in enumerate(verdicts)}


def _row(verdict: Verdict, words, quote) -> dict:
    return {
        "line": str(verdict.line) if verdict.line else "",
        "key": verdict.key,
        "role": verdict.role,
        "given": verdict.given.text if isinstance(verdict.given, Number) else verdict.given,
        "expected": _expected(verdict),
        "verdict": verdict.verdict,
        "hint": str(words.hint(verdict.hint, _PRECISE, quote)).strip() if verdict.hint else "",
        "formula": verdict.role == "formula" or not isinstance(verdict.given, Number),
    }


def _expected(verdict: Verdict) -> str:
    """The right value, rounded to the digits the user wrote (a formula as it is)."""
    if verdict.expected is None:
        return ""
    if verdict.verdict == "missing":
        return _PRECISE(verdict.expected)
    if not isinstance(verdict.given, Number):
        return "" if verdict.verdict == "correct" else str(verdict.expected)
    exact, unit = to_decimal(verdict.expected), verdict.given.unit
    if verdict.verdict == "too few digits" and verdict.hint is not None:
        unit = verdict.hint.facts["asked"]  # as it should have been written
    if verdict.verdict not in ("correct", "rounding") and exact.quantize(unit, rounding=ROUND_HALF_UP) == verdict.given.value:
        # Wrong, though it rounds to what was written (an unchanged weight, a zero): show the digits that differ.
        unit = Decimal(1).scaleb(exact.adjusted() - 8)
        with localcontext() as context:
            context.prec = 60
            return _plain(exact.quantize(unit, rounding=ROUND_HALF_UP).normalize())
    # No more digits than the exact value is known to (and a reader wants).
    unit = max(unit, Decimal((0, (1,), exact.adjusted() - _MOST_DIGITS + 1)))
    with localcontext() as context:
        # A unit the user wrote as 1e9999999999 is beyond the default context's exponents.
        context.Emax, context.Emin = MAX_EMAX, MIN_EMIN
        context.prec = max(60, exact.adjusted() - unit.adjusted() + 2)
        shown = exact.quantize(unit, rounding=ROUND_HALF_UP)
    return _plain(shown)


def _plain(shown: Decimal) -> str:
    if shown.is_zero():
        return "0"
    return f"{shown:f}" if -7 <= shown.adjusted() < 21 else f"{shown:E}"


def _json(verdict: Verdict, row: dict) -> dict:
    number = isinstance(verdict.given, Number)
    expected = verdict.expected
    if expected is not None and not isinstance(expected, str):
        expected = float(expected)
    return {
        "line": verdict.line,
        "key": verdict.key,
        "role": verdict.role,
        # As written, so that no digit is lost; and as a number, for arithmetic.
        "given": verdict.given.text if number else verdict.given,
        "given_value": _json_number(verdict.given) if number else None,
        "expected": expected,
        "verdict": verdict.verdict,
        "hint": row["hint"] or None,
    }


def _json_number(number: Number) -> float | str:
    """The number for JSON: a float, or its text where no float holds it."""
    value = float(number.value)
    return value if math.isfinite(value) and (value != 0 or number.value.is_zero()) else number.text


def _widths(rows: list[dict]) -> dict[str, int]:
    """Each column as wide as its cells, except that a long formula runs over rather than widening all rows."""
    headers = {"line": "line", "key": "quantity", "given": "given", "expected": "expected", "verdict": "verdict"}
    return {column: max([len(header), *(len(row[column]) for row in rows if len(row[column]) <= _WIDEST)])
            for column, header in headers.items()}


def _painter(color: bool):
    if not color:
        return lambda text, verdict: text
    return lambda text, verdict: f"\033[{_COLOURS[verdict]}m{text}\033[0m"
