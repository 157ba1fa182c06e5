"""Realistic student sheets, each with the verdict every line must get; and every example's values fed back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import explainer
from explainer.grading.check import check_answers

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


@pytest.mark.parametrize("spec", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_the_values_of_every_example_fed_back_are_all_correct(spec):
    derivation = explainer.derive(spec)
    printed = json.dumps(derivation.float_values(), indent=2)  # what `explainer values` prints
    verdicts = check_answers(printed, derivation)
    assert [v.key for v in verdicts] == list(derivation.values)
    assert {v.verdict for v in verdicts} == {"correct"}
