"""One student's files: a question sheet without answers, the worked solution, a key that check accepts."""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal

import pytest

import explainer
from explainer.grading.answers import parse_answers
from explainer.grading.check import check_answers
from explainer.spec.errors import ExerciseError, SpecError
from explainer.exercises.sheets import answer_key, asked_by_section, question_sheet, read_key, student_files, worked_solution
from explainer.outputs.formatting import NumberFormat
from explainer.grading.names import Names
from explainer.exercises.nice import first_problem, worked_by_hand
from explainer.spec.reading import spec_mapping
from explainer.exercises.variants import nice_variant

from conftest import WIDE_HIDDEN_DEEP, as_words, katex_failures
from test_flavors import commonmark_formulas
from test_render import _compile

NINE = NumberFormat()


@pytest.fixture(scope="module")
def alice():
    return nice_variant(explainer.load_spec(), "2024", "alice")


@pytest.fixture(scope="module")
def deep():
    return nice_variant(explainer.load_spec(WIDE_HIDDEN_DEEP), "2024", "dora")


def test_the_files_of_one_student(alice):
    files = student_files(alice, NINE)
    assert list(files) == ["questions/alice.md", "questions/alice.tex", "solutions/alice.md",
                           "solutions/alice-network.svg", "solutions/alice-loss.svg", "solutions/alice.tex",
                           "keys/alice.json"]
    assert list(student_files(alice, NINE, ("latex",))) == ["questions/alice.tex", "solutions/alice.tex", "keys/alice.json"]


def test_the_question_sheet_lists_every_asked_quantity_by_key_and_name(alice):
    sheet = question_sheet(alice, "markdown", NINE)
    rows = re.findall(r"^\| `([^`]+)` \| (.+?) \|  \|$", sheet, re.M)
    assert [key for key, _ in rows] == list(worked_by_hand(alice.derivation))
    names = dict(rows)
    assert names["out_h1"] == as_words("$out_{h1}$")
    assert names["dE_total/dw5"] == as_words(r"$\frac{\partial E_{total}}{\partial w_5}$")
    assert names["w5+"] == "$w_5^+$" and names["E_total@1"] == as_words("$E_{total}$") + " after one round"
    assert "Round every result to 9 decimal places." in sheet
    assert "named `alice.txt`" in sheet
    assert "Update all weights at once" in sheet


def test_the_question_sheet_gives_the_data_but_no_result(alice):
    sheet = question_sheet(alice, "markdown", NINE) + question_sheet(alice, "latex", NINE)
    parameters = {str(value) for value in alice.derivation.spec_parameters().values()}
    for value in parameters:
        assert value in sheet
    for key in worked_by_hand(alice.derivation):
        shown = NINE(alice.derivation.values[key])
        if shown not in parameters and len(shown) > 4:
            assert shown not in sheet, key
    assert "2024" not in sheet  # the seed is the teacher's: with it every solution can be drawn again


def test_the_precision_asked_for(alice):
    assert "Round every result to 4 significant digits." in question_sheet(alice, "markdown", NumberFormat(digits=4))
    assert "Round every result to 9 decimal places." in question_sheet(alice, "latex", NINE)


def test_the_sections_of_the_sheet(alice, deep):
    assert [s.kind for s, _ in asked_by_section(alice.derivation)] == \
        ["forward", "error", "output_layer", "hidden_layer", "one_round"]
    sections = asked_by_section(deep.derivation)
    assert [(s.kind, s.facts.get("layer")) for s, _ in sections] == \
        [("forward", None), ("error", None), ("output_layer", 3), ("hidden_layer", 2), ("hidden_layer", 1), ("one_round", None)]
    assert [q.key for _, asked in sections for q in asked] == list(worked_by_hand(deep.derivation))
    sheet = question_sheet(deep, "markdown", NINE)
    assert "### Hidden Layer 2" in sheet and "### Hidden Layer 1" in sheet
    assert "The neurons of hidden layer 2 share $b_2$; every other neuron has a bias of its own." in sheet


def test_the_worked_solution_is_the_variants_document(alice):
    assert worked_solution(alice, "markdown", NINE) == alice.derivation.to_markdown(detail="full")
    assert worked_solution(alice, "latex", NumberFormat(digits=5), "source") == \
        alice.derivation.to_latex(digits=5, detail="source")
    assert worked_solution(alice, "markdown", NINE).startswith("# A Step by Step Backpropagation Example — student alice\n")


def test_the_key_fed_to_check_is_all_correct(alice, deep):
    for variant in (alice, deep):
        text = answer_key(variant, NINE)
        key = read_key(text, "alice.json")
        verdicts = check_answers(text, explainer.derive(key.spec), "alice.json")
        assert [v.key for v in verdicts] == list(worked_by_hand(variant.derivation))
        assert {v.verdict for v in verdicts} == {"correct"}


def test_a_key_at_another_precision_is_all_correct_too(alice):
    text = answer_key(alice, NumberFormat(digits=4))
    assert json.loads(text)["answers"]["out_h1"] == float(NumberFormat(digits=4)(alice.derivation.values["out_h1"]))
    assert {v.verdict for v in check_answers(text, alice.derivation)} == {"correct"}


def test_the_key_describes_the_variant(alice):
    text = answer_key(alice, NINE)
    document = json.loads(text, parse_float=Decimal)
    assert document["exercise"]["student"] == "alice" and document["exercise"]["seed"] == "2024"
    assert document["exercise"]["precision"] == {"decimals": 9}
    assert '"weights": [[[' in text and re.search(r"\b0\.\d0\b", text)  # numbers as written: 0.50, not 0.5
    key = read_key(text, "keys/alice.json")
    assert (key.student, key.seed, key.number_format) == ("alice", "2024", NINE)
    assert spec_mapping(key.spec) == spec_mapping(alice.spec) == document["exercise"]["spec"]
    assert explainer.derive(key.spec).values == alice.derivation.values


def test_the_description_of_a_key_holds_no_answers(alice):
    claims = parse_answers(answer_key(alice, NINE), Names(alice.derivation))
    assert [c.key for c in claims] == list(worked_by_hand(alice.derivation))


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("{", ExerciseError, "k.json: not an answer key: invalid JSON: Expecting property name enclosed in double quotes (line 1)"),
        ('{"answers": {}}', ExerciseError, "k.json: not an answer key: expected an 'exercise' member, as explainer exercise writes"),
        ('{"exercise": {"student": "a b"}}', ExerciseError, "k.json: exercise.seed: expected a string"),
        ('{"exercise": {"student": "a b", "seed": "1", "precision": {"decimals": 9}, "spec": {}}}', ExerciseError,
         "k.json: exercise.student: 'a b' is not a student id"),
        ('{"exercise": {"student": "a", "seed": "1", "precision": {"places": 9}, "spec": {}}}', ExerciseError,
         'k.json: exercise.precision: expected {"decimals": N} or {"digits": N}'),
        ('{"exercise": {"student": "a", "seed": "1", "precision": {"digits": 0}, "spec": {}}}', ExerciseError,
         "k.json: exercise.precision.digits: expected a whole number from 1 to 30"),
        ('{"exercise": {"student": "a", "seed": "1", "precision": {"digits": 4}, "spec": {"network": 3}}}', SpecError,
         "k.json: exercise.spec: network: expected a table, got 3"),
    ],
)
def test_a_bad_key_is_one_line(text, error, message):
    with pytest.raises(error) as caught:
        read_key(text, "k.json")
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_the_deep_variant_is_nice_and_its_sheet_compiles(deep, tmp_path):
    assert first_problem(deep.derivation) is None
    log = _compile(question_sheet(deep, "latex", NINE), tmp_path, "questions")
    assert not re.search(r"Overfull|undefined|LaTeX Error", log), re.findall(r".*(?:Overfull|undefined).*", log)


def test_every_formula_of_a_question_sheet_parses_in_katex(alice, deep):
    formulas = {f for variant in (alice, deep) for f in commonmark_formulas(question_sheet(variant, "markdown", NINE))}
    assert len(formulas) > 50
    assert katex_failures(sorted(formulas)) == []


def test_a_spec_without_training_rounds_asks_for_no_values_after_one(alice):
    still = nice_variant(dataclasses.replace(explainer.load_spec(), iterations=0), "2024", "alice")
    sheet = question_sheet(still, "markdown", NINE)
    assert "after one round" not in sheet and "feed the inputs forward once more" not in sheet
    assert [s.kind for s, _ in asked_by_section(still.derivation)][-1] == "hidden_layer"
    assert "once more" in question_sheet(alice, "markdown", NINE)


def test_a_trained_shared_bias_is_asked_in_the_section_that_works_it_out():
    """The bias's ∂net/∂b are printed in its section's bias steps, not its steps: the sheet asks for them there."""
    import explainer

    files = explainer.exercise("source-with-bias-training", student="1", seed="s", formats=("markdown",))
    sheet = files["questions/1.md"]
    for key in ("dnet_o1/db2", "dE_total/db2", "b2+"):
        assert f"| `{key}` |" in sheet
    output_layer = sheet.index("The Output Layer")
    assert output_layer < sheet.index("`dnet_o1/db2`") < sheet.index("The Hidden Layer")
