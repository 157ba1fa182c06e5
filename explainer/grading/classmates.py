"""Numbers from another student's variant: a sheet worked on a classmate's network.

With the class's answer keys at hand (``explainer check … --keys DIR``), a
sheet's wrong numbers are compared with every other student's key: when
several of them are, at the digits written, that classmate's values of the
same quantities, the student worked (or copied) the other variant, and the
first of them gets the hint ``these are the numbers of student X's variant``, once a
sheet.  A number is matched only when written with enough digits to tell
(``MIN_DIGITS``), and only several such matches name a classmate
(``MIN_MATCHES``), so that a coincidence does not.
"""

from __future__ import annotations

import bisect
import re
import dataclasses
from collections.abc import Mapping
from decimal import Decimal

from ..outputs.formatting import NumberFormat, last_digit
from .answers import Number
from .check import PASSING, Verdict
from .hints import Hint

# Significant digits a number needs before it may be a classmate's value; and how many such
# numbers of one classmate name them.
MIN_DIGITS = 3
MIN_MATCHES = 2
HINT = "other_variant"


class Classmates:
    """Every student's key values, by quantity, for looking a number up in the whole class at once."""

    def __init__(self, keys: Mapping[str, tuple[Mapping[str, Decimal], NumberFormat]]) -> None:
        """``keys``: each student's answers (key → value as the key records it) and the key's precision."""
        self._values: dict[str, list[tuple[Decimal, str, Decimal]]] = {}
        for student, (answers, number_format) in keys.items():
            for key, value in answers.items():
                if value.is_finite():
                    unit = last_digit(value, number_format) if not value.is_zero() else Decimal(0)
                    for name in (key, *_other_names(key)):
                        self._values.setdefault(name, []).append((value, student, unit))
        for entries in self._values.values():
            entries.sort()
        self._widest = {key: max(unit for _, _, unit in entries) for key, entries in self._values.items()}

    def whose(self, key: str, number: Number, besides: str) -> list[str]:
        """The students other than ``besides`` whose key has ``number`` for ``key``, at the coarser of the
        two precisions (the digits written, the key's), in the order of their ids."""
        entries = self._values.get(key)
        if not entries or _significant_digits(number.value) < MIN_DIGITS:
            return []
        reach = max(number.unit, self._widest[key]) / 2
        low = bisect.bisect_left(entries, (number.value - reach,))
        found = set()
        for value, student, unit in entries[low:]:
            if value > number.value + reach:
                break
            if student != besides and abs(value - number.value) <= max(number.unit, unit) / 2:
                found.add(student)
        return sorted(found)

    def mark(self, student: str, verdicts: tuple[Verdict, ...]) -> tuple[tuple[Verdict, ...], str | None]:
        """``verdicts`` with the hint on the first wrong number that is a classmate's, when several of the
        sheet's wrong numbers are that one classmate's; and the classmate (or None)."""
        counts: dict[str, int] = {}
        matched: list[tuple[int, list[str]]] = []
        for index, verdict in enumerate(verdicts):
            if verdict.role != "value" or verdict.verdict in PASSING or not isinstance(verdict.given, Number) \
                    or verdict.expected is None:
                continue
            others = self.whose(verdict.key, verdict.given, student)
            if others:
                matched.append((index, others))
                for other in others:
                    counts[other] = counts.get(other, 0) + 1
        if not counts:
            return verdicts, None
        best = max(counts.values())
        if best < MIN_MATCHES:
            return verdicts, None
        other = min(s for s, n in counts.items() if n == best)
        places = [index for index, others in matched if other in others]
        # On the first wrong one: a carried-forward number keeps the words that say what it follows from.
        place = next((i for i in places if verdicts[i].verdict == "wrong"), places[0])
        hint = Hint(HINT, {"student": other, "count": best})
        marked = list(verdicts)
        marked[place] = dataclasses.replace(verdicts[place], hint=hint)
        return tuple(marked), other


# An output's own error term, dE_o1/dnet_o1, is its error signal δ, dE_total/dnet_o1: a sheet may use either.
_OWN_SIGNAL = re.compile(r"dE_(\w+)/dnet_(\w+)(\[\d+\])?")


def _other_names(key: str) -> tuple[str, ...]:
    """The other keys of ``key``'s value by definition, as a sheet may name it."""
    match = _OWN_SIGNAL.fullmatch(key)
    if match and match.group(1) == match.group(2):
        return (f"dE_total/dnet_{match.group(2)}{match.group(3) or ''}",)
    return ()


def _significant_digits(value: Decimal) -> int:
    digits = value.as_tuple().digits
    return len(digits) - next((i for i, d in enumerate(digits) if d), len(digits))
