"""An exercise as a Moodle question bank: ``moodle/quiz.xml``, in Moodle's XML import format.

One category a student (``$course$/top/TITLE/student ID``), holding a
description of that student's network (its error function in the question
sheet's words, with its formula), then one numerical question for each
quantity the question sheet asks for, whose one right answer is the value the
student's answer key holds.  Moodle's numerical questions take an absolute
error (``<tolerance>``): half a unit in the last digit the key records (the
precision the sheet asks for), or, with a relative tolerance, that share of
the value when it is the larger.  The words live in ``templates/moodle.xml.j2``.

The XML is written by hand, so that it is the same byte for byte for the same
exercise: HTML goes in CDATA sections (as Moodle exports it), every other text
is escaped.
"""

from __future__ import annotations

import html
from decimal import Decimal
from xml.sax.saxutils import escape

from ..outputs.formatting import NumberFormat, last_digit
from ..outputs.markup import Markup, multi_letter_names, one_word, shown_values
from ..outputs.render import environment
from .sheets import asked_by_section, _precision, _shown_number

QUIZ = "moodle/quiz.xml"


def moodle_category(variant, number_format: NumberFormat, title: str, tolerance: Decimal | None = None) -> str:
    """``variant``'s category of the question bank, as XML (a part of ``moodle_quiz``'s file).

    ``title`` is the exercise's (the spec's title, without the student); ``tolerance``, relative, widens
    each answer's error to that share of its value."""
    derivation = variant.derivation
    shown = shown_values(derivation, number_format)
    network = derivation.network
    questions = []
    for section, asked in asked_by_section(derivation):
        for quantity in asked:
            value = derivation.values[quantity.key]
            answer = _shown_number(number_format(value))
            questions.append({"key": quantity.key, "tex": quantity.tex, "rounds": quantity.rounds,
                              "section": section.kind, "answer": _plain(answer),
                              "tolerance": _plain(answer_tolerance(value, answer, number_format, tolerance))})
    weights = [(w.tex, w.source.label, w.target.label, shown[w.key]) for w in network.weights]
    biases = [(b.tex, [n.label for n in b.neurons], shown[b.key]) for b in network.biases]
    inputs = [(i.label, shown[i.out_key]) for i in network.inputs]
    targets = [(f"target_{{{o.tex}}}", shown[f"target_{o.name}"]) for o in network.outputs]
    # The total error's formula, as the question sheet shows it.
    error = " = ".join(Markup(derivation, number_format).lines(derivation.section("error").steps[0].eq["formula"],
                                                              "symbolic")).replace(" &= ", " = ")
    template = environment().get_template("moodle.xml.j2")
    # Moodle typesets with MathJax: its names set as words, as every web format sets them.
    names = multi_letter_names(derivation.spec.notation)
    return template.render(student=variant.student, title=title, category=_category(title, variant.student), d=derivation,
                           weights=weights, biases=biases, inputs=inputs, targets=targets, eta=shown["eta"], error=error,
                           questions=questions, precision=_precision(number_format),
                           xml=_xml, cdata=_cdata, h=html.escape,
                           math=lambda tex: _math(one_word(names, tex))).strip("\n") + "\n"


def moodle_quiz(categories) -> str:
    """The question bank: Moodle's XML declaration and ``<quiz>`` around each student's category."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "".join(categories) + "</quiz>\n"


def answer_tolerance(value, answer: Decimal, number_format: NumberFormat, tolerance: Decimal | None = None) -> Decimal:
    """The absolute error a Moodle answer ``answer`` (``value`` as the key records it) accepts: half a unit
    in the last digit the key's precision asks for, or the relative ``tolerance`` of it when that is larger."""
    half = last_digit(value, number_format) / 2
    if tolerance is None:
        return half
    return max(half, abs(answer) * tolerance)


def _plain(number: Decimal) -> str:
    """A number in fixed point, as Moodle reads an answer (``0.00000012``, never ``1.2E-7``)."""
    text = format(number, "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


def _category(title: str, student: str) -> str:
    """The category's path: a ``/`` inside a name is written ``//``, as Moodle reads it."""
    parts = ("$course$", "top", title.strip() or "explainer exercise", f"student {student}")
    return "/".join(part.replace("/", "//") for part in parts)


def _xml(text) -> str:
    """Text for an XML element or attribute."""
    return escape(str(text), {'"': "&quot;"})


def _cdata(text: str) -> str:
    """HTML inside a CDATA section; a ``]]>`` in it split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _math(tex: str) -> str:
    """TeX for Moodle's MathJax filter, in HTML: ``\\( … \\)``, its ``&`` and ``<`` escaped."""
    return f"\\({html.escape(tex, quote=False)}\\)"
