"""The verdicts laid out: a terminal table, Markdown and JSON."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from markdown_it import MarkdownIt

from explainer.grading.check import check_answers
from explainer.grading.report import exit_status, report

SHEET = "\n".join([
    "out_h1 = 0.593269992",
    "dE_o2/dout_h1 = -0.019049119",
    "out_h1 = 0.61",
    "net_o1 = 1.11259797",
    "E_{o1} = 0.549622166",
    r"net_{h1} = w_1 * i_1 + w_3 * i_2 + b_1 * 1",
    "out_{h3} = 0.5",
])


@pytest.fixture(scope="module")
def verdicts(default_derivation):
    return check_answers(SHEET, default_derivation)


def lay_out(verdicts, fmt: str, **options) -> str:
    return report(verdicts, fmt, answers="sheet.txt", spec="the built-in example", **options)


def test_the_terminal_table(verdicts):
    text = lay_out(verdicts, "text")
    lines = text.splitlines()
    assert lines[0] == "sheet.txt, checked against the built-in example"
    assert lines[2].split() == ["line", "quantity", "given", "expected", "verdict", "hint"]
    rows = lines[3:-2]
    assert len(rows) == len(verdicts)
    assert re.match(r"\s+1\s+out_h1\s+0\.593269992\s+0\.593269992\s+correct$", rows[0])
    assert "-0.019049119  -0.019049118" in rows[1] and "rounding" in rows[1] and "off by 1 in the last digit" in rows[1]
    assert "carried forward" in rows[3] and "follows from your out_h1 = 0.61 (line 3)" in rows[3]
    assert "the ½ of the squared error was dropped" in rows[4]
    assert "w_1 * i_1 + w_2 * i_2 + b_1 * 1" in rows[5] and "used w3 where w2 belongs" in rows[5]
    assert "out_{h3} is not a quantity of this network" in rows[6]
    assert lines[-1] == "7 checked: 1 correct, 1 rounding, 1 carried forward, 3 wrong, 1 unknown."
    # The columns line up: every verdict starts where the header's does.
    column = lines[2].index("verdict")
    assert all(row[column:].startswith(v.verdict) for row, v in zip(rows[:5], verdicts))


def test_colour_only_when_asked(verdicts):
    assert "\033[" not in lay_out(verdicts, "text")
    coloured = lay_out(verdicts, "text", color=True)
    assert "\033[32mcorrect" in coloured and "\033[31mwrong" in coloured and "\033[0m" in coloured
    assert re.sub(r"\033\[\d+m", "", coloured) == lay_out(verdicts, "text")


def test_markdown_is_a_table(verdicts):
    text = lay_out(verdicts, "markdown")
    tokens = MarkdownIt().enable("table").parse(text)
    assert [t.type for t in tokens].count("tr_open") == len(verdicts) + 1
    assert "| 6 | `net_h1` | $w_1 * i_1 + w_3 * i_2 + b_1 * 1$ | $w_1 * i_1 + w_2 * i_2 + b_1 * 1$ | **wrong** | used `w3` where `w2` belongs |" in text
    assert text.rstrip().endswith("7 checked: 1 correct, 1 rounding, 1 carried forward, 3 wrong, 1 unknown.")


def test_json_for_autograders(verdicts, default_derivation):
    objects = json.loads(lay_out(verdicts, "json"))
    assert [set(o) for o in objects] == [{"line", "key", "role", "given", "given_value", "expected", "verdict", "hint"}] * len(verdicts)
    first = objects[0]
    # `given` as written (no digit lost), `given_value` as a number.
    assert first == {"line": 1, "key": "out_h1", "role": "value", "given": "0.593269992", "given_value": 0.593269992,
                     "expected": float(default_derivation.values["out_h1"]), "verdict": "correct", "hint": None}
    assert [o["verdict"] for o in objects] == ["correct", "rounding", "wrong", "carried forward", "wrong", "wrong", "unknown"]
    assert objects[5]["given"] == "w_1 * i_1 + w_3 * i_2 + b_1 * 1" and objects[5]["role"] == "formula"
    assert objects[6]["expected"] is None and objects[6]["key"] == "out_{h3}"
    assert objects[4]["hint"] == "twice the right value: the ½ of the squared error was dropped"


def test_exit_status(verdicts, default_derivation):
    assert exit_status(verdicts) == 1
    assert exit_status(check_answers("out_h1 = 0.593269992\ndE_o2/dout_h1 = -0.019049119", default_derivation)) == 0


def test_the_same_verdicts_give_the_same_bytes(verdicts):
    for fmt in ("text", "markdown", "json"):
        assert lay_out(verdicts, fmt) == lay_out(verdicts, fmt)


def test_an_unknown_format_is_refused(verdicts):
    with pytest.raises(ValueError, match="unknown format"):
        lay_out(verdicts, "html")


@pytest.mark.parametrize(("kind", "facts", "words"), [
    ("update", {"mode": "simultaneous", "hidden_layers": 1}, "matches the simultaneous update: the hidden layer's"),
    ("update", {"mode": "sequential", "hidden_layers": 2}, "each hidden layer's gradients were taken with the already-updated"),
    ("learning_rate", {"used": Decimal("1"), "expected": Decimal("0.5")}, "matches leaving out the learning rate (η = 0.5)"),
    ("sign", {"upward": True}, "added instead of subtracted"),
    ("sign", {"upward": False}, "a minus sign was dropped"),
    ("net_for_out", {"wrote": ("net_h1", "net_h2"), "belongs": ("out_h1", "out_h2")},
     "used net_h1 and net_h2 where out_h1 and out_h2 belong"),
    ("swapped", {"pair": ("i1", "i2")}, "matches i1 and i2 exchanged throughout"),
])
def test_the_words_of_each_hint(kind, facts, words):
    from explainer.grading.hints import Hint
    from explainer.outputs.render import environment

    text = str(environment().get_template("check.j2").module.hint(Hint(kind, facts), str, lambda key: key))
    assert words in text
