"""Realistic student sheets, each with the verdict every line must get; and every example's values fed back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import explainer
from explainer.grading.check import check_answers

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
SHEETS = Path(__file__).parent / "data" / "sheets"

# The network each sheet is for, where it is not the built-in example.
SPECS = {
    "deeper.txt": "two-hidden-layers.toml",
    "samples.txt": "xor.toml",
    "tanh-derivative.txt": "two-hidden-layers-tanh.toml",
}

# Every verdict of every sheet, as a teaching assistant would give it: (line, quantity, verdict, hint).
# What each sheet is:
#   tidy: four decimals throughout.  rounded-early: three decimals as the student went, products of
#   them (rounding, named).  early-slip: w3 substituted for w2 in net_h1; the slip is charged there
#   and everything after it is carried forward.  sequential: the hidden layer worked with w5+ …
#   no-half: squared error without ½.  dropped-minus: target − out for out − target.  net-for-out:
#   net inputs substituted for outputs.  eta-one: the learning rate left out.  swapped-inputs: i1 and
#   i2 exchanged.  notebook: LaTeX pasted from a notebook.  prose: Markdown with prose, bullets, bold,
#   notes and two claims a line.  export: a CSV export.  unicode: subscripts, superscripts, ∂, ×10⁻⁴,
#   −.  informal: δ, w5_new, w6', dE/dw7, "after the update", h1.  question-table: the exercise's own
#   answer table filled in.  unreadable: lines no reader could take as claims.  deeper: two hidden
#   layers, an unchanged weight.  samples: four samples, per-sample keys.  tanh-derivative: the
#   sigmoid's derivative on a tanh neuron.  transposed: two digits exchanged.  delta-slip: δ_o1
#   mis-multiplied, then the hidden layer's δ·w products and their sum worked from it (the slip charged
#   once, where it happens).  delta-rule: the same slip, then gradients as δ times the input and the
#   hidden δ as a sum of δ·w, in prose and bullets.  delta-values: values only, named δ; a second
#   slip of its own in δ_h1.
EXPECTED = {
    "delta-slip.txt": [
        (3, "dE_total/dout_o1", "correct", None),
        (4, "dout_o1/dnet_o1", "correct", None),
        (5, "dE_total/dnet_o1", "wrong", None),
        (6, "dE_o1/dout_h1", "carried forward", "carried"),
        (7, "dE_o2/dnet_o2", "correct", None),
        (8, "dE_o2/dout_h1", "correct", None),
        (9, "dE_total/dout_h1", "carried forward", "carried"),
        (10, "dout_h1/dnet_h1", "correct", None),
        (11, "dE_total/dw1", "carried forward", "carried"),
        (12, "w1+", "carried forward", "carried"),
    ],
    "delta-rule.txt": [
        (3, "dE_total/dnet_o1", "wrong", None),
        (4, "dE_total/dw5", "carried forward", "carried"),
        (5, "w5+", "carried forward", "carried"),
        (6, "dE_total/dw6", "carried forward", "carried"),
        (6, "w6+", "carried forward", "carried"),
        (10, "dE_total/dnet_o2", "correct", None),
        (11, "dE_total/dnet_h1", "carried forward", "carried"),
        (12, "dE_total/dw1", "carried forward", "carried"),
    ],
    "delta-values.txt": [
        (2, "dE_total/dout_o1", "correct", None),
        (3, "dout_o1/dnet_o1", "correct", None),
        (4, "dE_total/dnet_o1", "wrong", None),
        (5, "dE_total/dnet_o2", "correct", None),
        (6, "dE_total/dout_h1", "carried forward", "carried"),
        (7, "dout_h1/dnet_h1", "correct", None),
        (8, "dE_total/dnet_h1", "wrong", None),
        (9, "dE_total/dw1", "carried forward", "carried"),
        (10, "w1+", "carried forward", "carried"),
    ],
    "deeper.txt": [
        (3, "net_h1_1", "correct", None),
        (3, "out_h1_1", "correct", None),
        (4, "net_h2_1", "correct", None),
        (4, "out_h2_1", "correct", None),
        (5, "out_o1", "correct", None),
        (6, "E_total", "correct", None),
        (7, "dE_total/dw13", "correct", None),
        (8, "w13+", "correct", None),
        (9, "dE_total/dnet_h2_1", "correct", None),
        (10, "dE_total/dnet_h1_1", "correct", None),
        (11, "dE_total/dw1", "correct", None),
        (12, "w1+", "wrong", "unchanged"),
        (13, "E_total@1", "correct", None),
    ],
    "dropped-minus.txt": [
        (1, "out_o1", "correct", None),
        (2, "dE_total/dout_o1", "wrong", "sign"),
        (3, "dE_total/dw5", "carried forward", "carried"),
        (4, "w5+", "carried forward", "carried"),
    ],
    "early-slip.txt": [
        (2, "w2", "wrong", "confused"),
        (2, "net_h1", "carried forward", "carried"),
        (3, "out_h1", "carried forward", "carried"),
        (4, "net_h2", "correct", None),
        (5, "out_h2", "correct", None),
        (6, "net_o1", "carried forward", "carried"),
        (7, "out_o1", "carried forward", "carried"),
        (8, "net_o2", "carried forward", "carried"),
        (9, "out_o2", "carried forward", "carried"),
        (10, "E_total", "carried forward", "carried"),
        (12, "dE_total/dnet_o1", "carried forward", "carried"),
        (13, "dE_total/dnet_o2", "carried forward", "carried"),
        (14, "dE_total/dout_h1", "carried forward", "carried"),
        (15, "dout_h1/dnet_h1", "carried forward", "carried"),
        (16, "dE_total/dw2", "correct", None),
        (17, "w2+", "rounding", "rounding"),
    ],
    "eta-one.txt": [
        (1, "dE_total/dw5", "correct", None),
        (2, "w5+", "wrong", "learning_rate"),
        (3, "w6+", "wrong", "learning_rate"),
    ],
    "export.csv": [
        (2, "net_h1", "correct", None),
        (3, "out_h1", "correct", None),
        (4, "dE_total/dw5", "correct", None),
        (5, "w5+", "correct", None),
        (6, "E_total@1", "correct", None),
    ],
    "informal.txt": [
        (1, "dE_total/dnet_o1", "correct", None),
        (2, "dE_total/dnet_o2", "correct", None),
        (3, "dE_total/dnet_h1", "correct", None),
        (4, "w5+", "correct", None),
        (5, "w6+", "correct", None),
        (6, "dE_total/dw7", "correct", None),
        (7, "dE_total/dw8", "correct", None),
        (8, "E_total@1", "correct", None),
        (9, "out_h1", "correct", None),
    ],
    "net-for-out.txt": [
        (1, "net_h1", "correct", None),
        (2, "net_h2", "correct", None),
        (3, "out_h1", "wrong", "net_for_out"),
        (3, "out_h2", "wrong", "net_for_out"),
        (3, "net_o1", "carried forward", "carried"),
        (4, "out_o1", "carried forward", "carried"),
    ],
    "no-half.txt": [
        (1, "E_o1", "wrong", "half"),
        (2, "E_o2", "wrong", "half"),
        (3, "E_total", "carried forward", "carried"),
    ],
    "notebook.tex": [
        (3, "net_h1", "correct", None),
        (5, "out_h1", "correct", None),
        (6, "E_total", "correct", None),
        (8, "dE_total/dw5", "correct", None),
    ],
    "prose.md": [
        (3, "net_h1", "correct", None),
        (3, "out_h1", "correct", None),
        (4, "out_o1", "correct", None),
        (4, "out_o2", "correct", None),
        (5, "E_total", "correct", None),
        (6, "w5+", "correct", None),
        (7, "E_total@1", "correct", None),
        (10, "", "not understood", None),
    ],
    "question-table.md": [
        (5, "net_h1", "correct", None),
        (6, "out_h1", "correct", None),
        (8, "out_o1", "correct", None),
        (9, "w5+", "correct", None),
    ],
    "rounded-early.md": [
        (5, "out_h1", "correct", None),
        (6, "out_h2", "correct", None),
        (7, "net_o1", "rounding", "rounded_from"),
        (8, "out_o1", "correct", None),
        (9, "dE_total/dout_o1", "correct", None),
        (10, "dout_o1/dnet_o1", "correct", None),
        (11, "dE_total/dw5", "correct", None),
        (12, "dE_total/dout_h1", "rounding", "rounding"),
        (12, "dE_total/dw1", "rounding", "rounded_from"),
    ],
    "samples.txt": [
        (3, "net_h1[1]", "correct", None),
        (3, "out_h1[1]", "correct", None),
        (4, "out_o1[1]", "correct", None),
        (4, "E_total[1]", "correct", None),
        (5, "out_o1[2]", "correct", None),
        (5, "E_total[2]", "correct", None),
        (6, "E_total", "correct", None),
        (7, "dE_total/dw5[1]", "correct", None),
        (8, "dE_total/dw5", "correct", None),
        (9, "w5+", "correct", None),
        (10, "E_total@1", "correct", None),
    ],
    "sequential.txt": [
        (1, "w5+", "correct", None),
        (2, "w6+", "correct", None),
        (3, "dE_total/dout_h1", "wrong", "update"),
        (4, "E_total@1", "wrong", "update"),
    ],
    "swapped-inputs.txt": [
        (1, "i1", "wrong", "confused"),
        (1, "i2", "wrong", "confused"),
        (1, "net_h1", "carried forward", "carried"),
        (2, "out_h1", "carried forward", "carried"),
    ],
    "tanh-derivative.txt": [
        (1, "out_h1_1", "correct", None),
        (2, "dout_h1_1/dnet_h1_1", "wrong", "derivative"),
    ],
    "tidy.txt": [
        (3, "net_h1", "correct", None),
        (4, "out_h1", "correct", None),
        (5, "net_h2", "correct", None),
        (6, "out_h2", "correct", None),
        (7, "net_o1", "correct", None),
        (8, "out_o1", "correct", None),
        (9, "net_o2", "correct", None),
        (10, "out_o2", "correct", None),
        (11, "E_total", "correct", None),
        (14, "dE_total/dout_o1", "correct", None),
        (15, "dout_o1/dnet_o1", "correct", None),
        (16, "dE_total/dw5", "correct", None),
        (17, "w5+", "correct", None),
    ],
    "transposed.txt": [
        (1, "out_o1", "wrong", "transposed"),
        (2, "w5+", "wrong", "transposed"),
        (3, "out_h1", "wrong", "confused"),
        (4, "E_total", "correct", None),
    ],
    "unicode.txt": [
        (1, "out_h1", "correct", None),
        (2, "w5+", "correct", None),
        (3, "dE_total/dw5", "correct", None),
        (4, "dE_total/dw1", "correct", None),
        (5, "dE_o2/dout_h1", "correct", None),
        (6, "eta", "correct", None),
    ],
    "unreadable.txt": [
        (1, "net_h1", "correct", None),
        (2, "net_h1", "wrong", None),
        (3, "", "not understood", None),
        (4, "", "not understood", None),
        (5, "out_o1", "correct", None),
    ],
}


@pytest.mark.parametrize("spec", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_the_values_of_every_example_fed_back_are_all_correct(spec):
    derivation = explainer.derive(spec)
    printed = json.dumps(derivation.float_values(), indent=2)  # what `explainer values` prints
    verdicts = check_answers(printed, derivation)
    assert [v.key for v in verdicts] == list(derivation.values)
    assert {v.verdict for v in verdicts} == {"correct"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_line_of_a_student_sheet_gets_its_verdict(name):
    spec = ROOT / "examples" / SPECS[name] if name in SPECS else None
    derivation = explainer.derive(spec)
    verdicts = check_answers((SHEETS / name).read_text(encoding="utf-8"), derivation, name)
    got = [(v.line, v.key, v.verdict, v.hint.kind if v.hint else None) for v in verdicts]
    assert got == EXPECTED[name]


def test_every_sheet_is_asserted():
    assert sorted(path.name for path in SHEETS.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 15


def test_every_line_with_a_number_is_read_or_reported():
    # Nothing is dropped without a word: each line holding a decimal number has a verdict.
    for name in EXPECTED:
        text = (SHEETS / name).read_text(encoding="utf-8")
        spec = ROOT / "examples" / SPECS[name] if name in SPECS else None
        lines = {v.line for v in check_answers(text, explainer.derive(spec), name)}
        # A row that continues a chain (``&= 0.15 * 0.05 …``) is judged with the line the chain starts on.
        numbered = {i for i, line in enumerate(text.splitlines(), start=1)
                    if re.search(r"\d\.\d", line) and not line.lstrip().startswith(("&=", "="))}
        assert numbered <= lines, name
