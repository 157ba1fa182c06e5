"""One student's exercise: the question sheet, the worked solution and the answer key.

The question sheet (``templates/exercise.*.j2``) gives the student's network
and data and lists what to compute, by key and printed name, and to which
precision; it never shows a computed value.  The worked solution is the
normal document of the variant.  The answer key is JSON that
``explainer check`` reads as an answer sheet: its ``"answers"`` member holds
every asked quantity rounded as the solution shows it, and its
``"exercise"`` member the student, the seed, the precision and the variant's
whole spec, so that a sheet is graded against that student's own network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..grading.answers import KEY_DESCRIPTION
from ..maths.derivation import Equation, Step
from ..maths.formulas import latex
from ..outputs.formatting import NumberFormat
from ..outputs.render import Latex, Markdown, environment, render_with_figures
from ..spec.documents import DocumentError, load_json
from ..spec.errors import ExerciseError
from ..spec.reading import Spec, spec_from_mapping, spec_mapping
from .nice import worked_by_hand
from .roster import checked_id

FORMATS = ("markdown", "latex")
SUFFIXES = {"markdown": ".md", "latex": ".tex"}
QUESTIONS, SOLUTIONS, KEYS = "questions", "solutions", "keys"
MAX_DIGITS = 30


@dataclass(frozen=True)
class Asked:
    """A quantity the sheet asks for: its key, its printed name, and 1 for a value after one round."""

    key: str
    tex: str
    rounds: int


@dataclass(frozen=True)
class AnswerKey:
    """What an answer key says about its variant."""

    student: str
    seed: str
    number_format: NumberFormat
    spec: Spec
    answers: tuple[tuple[str, Decimal], ...] = ()  # the values it holds, as written (the numbers, not the keys)


# --- the files of one student --------------------------------------------------------------


def student_files(variant, number_format: NumberFormat, formats=FORMATS, detail: str = "full") -> dict[str, str]:
    """Each file of ``variant``'s exercise by its path inside the output folder:
    ``questions/ID.md``, ``solutions/ID.md`` (and ``.tex``), ``keys/ID.json``."""
    files = {}
    for fmt in formats:
        files[f"{QUESTIONS}/{variant.student}{SUFFIXES[fmt]}"] = question_sheet(variant, fmt, number_format)
    for fmt in formats:
        text, figures = worked_solution_with_figures(variant, fmt, number_format, detail)
        files[f"{SOLUTIONS}/{variant.student}{SUFFIXES[fmt]}"] = text
        files.update({f"{SOLUTIONS}/{name}": svg for name, svg in figures.items()})
    files[f"{KEYS}/{variant.student}.json"] = answer_key(variant, number_format)
    return files


def question_sheet(variant, fmt: str, number_format: NumberFormat) -> str:
    """The network, the data and what to compute, in Markdown or LaTeX, without a computed value."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    derivation = variant.derivation
    markup = _SHEET_MARKUP[fmt](derivation, number_format)
    template = environment().get_template(f"exercise{SUFFIXES[fmt]}.j2")
    text = template.render(d=derivation, n=derivation.network, f=markup, student=variant.student,
                           groups=asked_by_section(derivation), precision=_precision(number_format))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def worked_solution(variant, fmt: str, number_format: NumberFormat, detail: str = "full") -> str:
    """The variant's derivation document, rounded as the sheet asks."""
    return worked_solution_with_figures(variant, fmt, number_format, detail)[0]


def worked_solution_with_figures(variant, fmt: str, number_format: NumberFormat,
                                 detail: str = "full") -> tuple[str, dict[str, str]]:
    """The worked solution and the figures its Markdown refers to (``ID-network.svg``, ``ID-loss.svg``)."""
    return render_with_figures(variant.derivation, fmt, decimals=number_format.decimals, digits=number_format.digits,
                               detail=detail, figure_prefix=variant.student)


def answer_key(variant, number_format: NumberFormat) -> str:
    """The JSON answer key: the variant described, then every asked quantity as the solution shows it."""
    derivation = variant.derivation
    description = {"student": variant.student, "seed": variant.seed,
                   "precision": _precision(number_format), "spec": spec_mapping(variant.spec)}
    answers = {key: _shown_number(number_format(derivation.values[key])) for key in worked_by_hand(derivation)}
    return _json({KEY_DESCRIPTION: description, "answers": answers}) + "\n"


def asked_by_section(derivation) -> list[tuple[Any, tuple[Asked, ...]]]:
    """The asked quantities in document order, grouped by the section of the document that works them out."""
    first_section: dict[str, int] = {}
    for index, section in enumerate(derivation.sections):
        # A section's facts hold equations of its own (E_reg, after the total error).
        for items in (*(step.eq.values() for step in section.steps), section.facts.values()):
            for equation in _equations(items):
                first_section.setdefault(equation.key, index)
    one_round = next((i for i, s in enumerate(derivation.sections) if s.kind == "one_round"), None)
    groups: dict[int, list[Asked]] = {}
    for key in worked_by_hand(derivation):
        if key in derivation.equations:  # a quantity of its own, an optimizer's state at a step (m_w5@2) too
            index, name, rounds = first_section[key], latex(derivation.equations[key].forms[0]), 0
        else:  # a quantity after some rounds: E_total@1
            base, _, after = key.partition("@")
            index, name, rounds = one_round, latex(derivation.equations[base].forms[0]), int(after)
        groups.setdefault(index, []).append(Asked(key, name, rounds))
    return [(derivation.sections[index], tuple(asked)) for index, asked in sorted(groups.items())]


def _equations(items):
    """The equations that define a quantity among a step's equations (some of them in tuples, or in
    steps of a section's facts: a trained bias's)."""
    for item in items:
        if isinstance(item, (tuple, list)):
            yield from _equations(item)
        elif isinstance(item, Step):
            yield from _equations(item.eq.values())
        elif isinstance(item, Equation) and item.key is not None:
            yield item


def _precision(number_format: NumberFormat) -> dict[str, int]:
    if number_format.digits is not None:
        return {"digits": number_format.digits}
    return {"decimals": number_format.decimals}


def _shown_number(shown: str) -> Decimal:
    """A shown value as a number: ``0.0823`` or ``8.23 \\times 10^{-2}``."""
    mantissa, _, power = shown.partition(" \\times 10^")
    value = Decimal(mantissa)
    return value.scaleb(int(power.strip("{}"))) if power else value


# --- reading a key back -----------------------------------------------------------------


def read_key(text: str, source: str) -> AnswerKey:
    """The variant an answer key describes; ``source`` names the key in errors."""
    try:
        document = load_json(text.removeprefix("\ufeff"), lambda err: f"{err.msg} (line {err.lineno})",
                             parse_float=Decimal)
    except DocumentError as err:
        raise ExerciseError(f"{source}: not an answer key: {err}") from None
    description = document.get(KEY_DESCRIPTION) if isinstance(document, dict) else None
    if not isinstance(description, dict):
        raise ExerciseError(f"{source}: not an answer key: expected an {KEY_DESCRIPTION!r} member, "
                            "as explainer exercise writes")
    student = _field(description, "student", str, source)
    seed = _field(description, "seed", str, source)
    precision = _field(description, "precision", dict, source)
    mapping = _field(description, "spec", dict, source)
    answers = document.get("answers")
    values = tuple((key, Decimal(value)) for key, value in answers.items()
                   if isinstance(value, (Decimal, int)) and not isinstance(value, bool)
                   and Decimal(value).is_finite()) if isinstance(answers, dict) else ()
    return AnswerKey(checked_id(student, f"{source}: {KEY_DESCRIPTION}.student"), seed,
                     _number_format(precision, source), spec_from_mapping(mapping, f"{source}: {KEY_DESCRIPTION}.spec", student),
                     values)


def _field(description: dict, name: str, kind: type, source: str):
    value = description.get(name)
    if not isinstance(value, kind):
        expected = {str: "a string", dict: "an object"}[kind]
        raise ExerciseError(f"{source}: {KEY_DESCRIPTION}.{name}: expected {expected}")
    return value


def _number_format(precision: dict, source: str) -> NumberFormat:
    where = f"{source}: {KEY_DESCRIPTION}.precision"
    if len(precision) != 1 or not set(precision) <= {"decimals", "digits"}:
        raise ExerciseError(f"{where}: expected {{\"decimals\": N}} or {{\"digits\": N}}")
    (name, value), = precision.items()
    low = 1 if name == "digits" else 0
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_DIGITS:
        raise ExerciseError(f"{where}.{name}: expected a whole number from {low} to {MAX_DIGITS}")
    return NumberFormat(digits=value) if name == "digits" else NumberFormat(decimals=value)


# --- JSON with numbers as written --------------------------------------------------------------


def _json(value, indent: int = 0) -> str:
    """JSON with objects one member a line and lists on one line; Decimals keep their digits (0.40)."""
    if isinstance(value, dict):
        inner = "  " * (indent + 1)
        members = [f"{inner}{json.dumps(name, ensure_ascii=False)}: {_json(item, indent + 1)}" for name, item in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + "  " * indent + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_json(item, indent) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)  # always a JSON number: the value is finite
    return json.dumps(value, ensure_ascii=False)


# --- the markup of the sheets --------------------------------------------------------------


class _MarkdownSheet(Markdown):
    def code(self, text: str) -> str:
        return f"`{text}`"

    def quantity(self, tex: str) -> str:
        return self.m(tex)

    def answer_table(self, header, rows) -> str:
        return self.table(header, rows)


class _LatexSheet(Latex):
    def code(self, text: str) -> str:
        return f"\\texttt{{{self.text(text)}}}"

    def quantity(self, tex: str) -> str:
        """A quantity in a row of the answer table: fractions full size, and a strut that
        keeps them clear of the rules and leaves room to write."""
        return f"\\rule[-3ex]{{0pt}}{{7.5ex}}$\\displaystyle {tex}$"

    def answer_table(self, header, rows) -> str:
        """A ruled table with room to write each result; it breaks across pages."""
        lines = ["\\begin{longtable}{|l|l|p{5.5cm}|}", "\\hline", " & ".join(header) + r" \\ \hline", "\\endhead"]
        lines += [" & ".join(row) + r" \\ \hline" for row in rows]
        return "\n".join(lines) + "\n\\end{longtable}"


_SHEET_MARKUP = {"markdown": _MarkdownSheet, "latex": _LatexSheet}
