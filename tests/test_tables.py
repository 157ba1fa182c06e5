"""Tables of numbers on a sheet: each column's header says what its numbers are."""

from __future__ import annotations

import explainer

SHEET = """\
| parameter | before | after one round | after two rounds | gradient after one round |
|---|---|---|---|---|
| w5 | 0.40 | 0.350000006 | 0.299986259 | 0.0830882396 |
| $w_6$ | 0.45 | 0.400000006 | 0.349986228 | 0.0835967063 |
"""


def verdicts(sheet: str):
    derivation = explainer.derive("examples/adam.toml")
    return [(v.key, v.verdict) for v in explainer.check(sheet, derivation)]


def test_a_column_of_weights_after_two_rounds_and_one_of_gradients_are_read_by_their_headers():
    assert verdicts(SHEET) == [
        ("w5", "correct"), ("w5+", "correct"), ("w5@2", "correct"), ("dE_total/dw5@1", "correct"),
        ("w6", "correct"), ("w6+", "correct"), ("w6@2", "correct"), ("dE_total/dw6@1", "correct")]


def test_a_gradient_column_is_never_taken_for_the_updated_weight():
    sheet = "| weight | gradient after one round |\n|---|---|\n| $w_5$ | 0.0830882396 |\n"
    assert verdicts(sheet) == [("dE_total/dw5@1", "correct")]
