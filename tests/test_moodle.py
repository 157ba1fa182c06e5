"""``explainer exercise --format moodle``: the Moodle XML question bank, read back as Moodle reads it.

The file is parsed with ``xml.etree`` (a file Moodle's importer would choke
on does not parse), and every answer is compared with the student's own
answer key, which ``explainer check`` grades with.
"""

from __future__ import annotations

import html
import json
import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import as_words
from explainer.cli import main
from explainer.maths.functions import LOSSES

SEED = "s"
COUNT = 3


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def exercise(capsys, folder: Path, *options: str) -> Path:
    status, out, err = run(capsys, "exercise", "--count", str(COUNT), "--seed", SEED, "--output", str(folder),
                           "--quiet", *options)
    assert status == 0, err
    assert err == ""
    return folder


def categories(quiz: Path) -> dict[str, list[ET.Element]]:
    """The questions of each category, by the category's path, in the file's order."""
    root = ET.parse(quiz).getroot()
    assert root.tag == "quiz"
    found: dict[str, list[ET.Element]] = {}
    current = None
    for question in root:
        assert question.tag == "question"
        if question.get("type") == "category":
            current = question.find("category/text").text
            assert current not in found
            found[current] = []
        else:
            assert current is not None, "a question before the first category"
            found[current].append(question)
    return found


def numerical(questions: list[ET.Element]) -> list[ET.Element]:
    return [q for q in questions if q.get("type") == "numerical"]


def key_of(question: ET.Element) -> str:
    return question.find("idnumber").text.split(":", 1)[1]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    """One class made with the Moodle questions and the Markdown sheets, in one process."""
    folder = tmp_path_factory.mktemp("moodle") / "class"
    status = main(["exercise", "--count", str(COUNT), "--seed", SEED, "--output", str(folder), "--quiet",
                   "--format", "moodle", "--format", "markdown", "--jobs", "1"])
    assert status == 0
    return folder


def keys(folder: Path) -> dict[str, dict[str, Decimal]]:
    return {path.stem: json.loads(path.read_text(), parse_float=Decimal)["answers"]
            for path in sorted((folder / "keys").glob("*.json"))}


def test_one_category_a_student_and_one_question_an_asked_quantity(bank):
    assert sorted(p.relative_to(bank).as_posix() for p in bank.rglob("*") if p.is_file() and p.suffix != ".svg") == \
        sorted([*(f"{d}/{s}.{e}" for s in ("1", "2", "3") for d, e in (("questions", "md"), ("solutions", "md"),
                                                                       ("keys", "json"))), "moodle/quiz.xml"])
    found = categories(bank / "moodle" / "quiz.xml")
    assert list(found) == [f"$course$/top/A Step by Step Backpropagation Example/student {s}" for s in "123"]
    for (path, questions), (student, answers) in zip(found.items(), keys(bank).items()):
        assert path.endswith(f"student {student}")
        # The network first, as a description: the numbers the questions are about.
        assert questions[0].get("type") == "description"
        intro = questions[0].find("questiontext/text").text
        spec = json.loads((bank / "keys" / f"{student}.json").read_text())["exercise"]["spec"]
        assert f"\\(w_1\\)</td><td>\\(i_1\\)</td><td>\\(h_1\\)</td><td>\\({spec['network']['weights'][0][0][0]:.2f}\\)" in intro
        asked = numerical(questions)
        assert len(questions) == 1 + len(asked)
        assert [key_of(q) for q in asked] == list(answers)


def test_each_answer_is_the_students_key_value_and_the_only_answer(bank):
    for questions, answers in zip(categories(bank / "moodle" / "quiz.xml").values(), keys(bank).values()):
        for question in numerical(questions):
            (answer,) = question.findall("answer")
            assert answer.get("fraction") == "100"
            text = answer.find("text").text
            assert "E" not in text.upper()  # fixed point, as Moodle reads a number
            assert Decimal(text) == answers[key_of(question)]


def test_the_tolerance_is_half_a_unit_in_the_last_decimal_the_key_records(bank):
    for questions in categories(bank / "moodle" / "quiz.xml").values():
        assert {Decimal(q.find("answer/tolerance").text) for q in numerical(questions)} == {Decimal("0.0000000005")}


def test_significant_digits_and_a_relative_tolerance(capsys, tmp_path):
    folder = exercise(capsys, tmp_path / "c", "--format", "moodle", "--digits", "4", "--tolerance", "1%")
    wide = 0
    for questions in categories(folder / "moodle" / "quiz.xml").values():
        for question in numerical(questions):
            answer = Decimal(question.find("answer/text").text)
            tolerance = Decimal(question.find("answer/tolerance").text)
            # Half a unit in the fourth significant digit, or 1 % of the value, whichever is larger.
            half = Decimal(5) * Decimal(10) ** (math.floor(math.log10(abs(answer))) - 4)
            assert tolerance == max(half, abs(answer) / 100), key_of(question)
            wide += tolerance > half
            assert "4 significant digits" in question.find("questiontext/text").text
    assert wide  # the 1 % is wider than the rounding for most of them


def test_a_tolerance_below_the_rounding_keeps_the_rounding(capsys, tmp_path):
    folder = exercise(capsys, tmp_path / "c", "--format", "moodle", "--decimals", "6", "--tolerance", "0.0000001")
    for questions in categories(folder / "moodle" / "quiz.xml").values():
        assert {q.find("answer/tolerance").text for q in numerical(questions)} == {"0.0000005"}


def test_the_question_names_the_quantity_in_tex_and_by_key(bank):
    questions = {key_of(q): q for q in numerical(next(iter(categories(bank / "moodle" / "quiz.xml").values())))}
    text = questions["dE_total/dw5"].find("questiontext/text").text
    assert as_words("\\(\\frac{\\partial E_{total}}{\\partial w_5}\\)") in text
    assert "<code>dE_total/dw5</code>" in text and "9 decimal places" in text
    assert "after one round" in questions["E_total@1"].find("questiontext/text").text
    assert questions["net_h1"].find("name/text").text == "1: net_h1"


def test_the_users_text_and_tex_are_escaped(capsys, tmp_path):
    spec = tmp_path / "week3.toml"
    from explainer.spec.examples import example

    text = example("backpropagation-example").text()
    text = text.replace('title = "A Step by Step Backpropagation Example"', 'title = "Q&A <week 3> ]]> \\"hard\\" / ok"')
    spec.write_text(text + '\n[notation]\ntotal = "E_{x<y}"\n')
    folder = exercise(capsys, tmp_path / "c", str(spec), "--format", "moodle")
    found = categories(folder / "moodle" / "quiz.xml")  # parses: every & and < is escaped
    # A / in a name is doubled, as Moodle's category paths have it.
    assert list(found)[0] == '$course$/top/Q&A <week 3> ]]> "hard" // ok/student 1'
    intro = found[list(found)[0]][0].find("questiontext/text").text
    assert "Q&amp;A &lt;week 3&gt; ]]&gt; &quot;hard&quot; / ok" in intro  # HTML inside: escaped once more
    question = {key_of(q): q for q in numerical(found[list(found)[0]])}["E_total"]
    assert "\\(E_{x&lt;y}\\)" in question.find("questiontext/text").text


def test_cdata_holds_any_text():
    from explainer.exercises.moodle import _cdata

    for text in ("a ]]> b", "]]>", "]]]]>>", "<p>&amp;</p>"):
        assert ET.fromstring(f"<t>{_cdata(text)}</t>").text == text


def test_byte_identical_for_the_same_seed_and_any_number_of_processes(capsys, tmp_path, bank):
    one = exercise(capsys, tmp_path / "one", "--format", "moodle", "--format", "markdown", "--jobs", "1")
    two = exercise(capsys, tmp_path / "two", "--format", "moodle", "--format", "markdown", "--jobs", "2")
    quiz = (bank / "moodle" / "quiz.xml").read_bytes()
    assert (one / "moodle" / "quiz.xml").read_bytes() == quiz
    assert (two / "moodle" / "quiz.xml").read_bytes() == quiz
    assert quiz.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n')


def usage_error(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    assert stopped.value.code == 2
    return capsys.readouterr().err


def test_the_tolerance_option_is_checks_and_is_for_moodle(capsys, tmp_path):
    exercise_error = usage_error(capsys, "exercise", "--count", "1", "--seed", SEED, "--output", str(tmp_path / "x"),
                                 "--format", "moodle", "--tolerance", "150%")
    check_error = usage_error(capsys, "check", "-", "--tolerance", "150%")
    # One parser: the same words for the same mistake.
    assert exercise_error.split(": error: ")[1] == check_error.split(": error: ")[1]
    assert "expected a relative tolerance from 0 to less than 1 (100%), got 150%" in exercise_error
    assert "expected a relative tolerance such as 0.01 or 1%, got 'one'" in usage_error(
        capsys, "exercise", "--count", "1", "--seed", SEED, "--format", "moodle", "--tolerance", "one")
    status, _, err = run(capsys, "exercise", "--count", "1", "--seed", SEED, "--output", str(tmp_path / "y"),
                         "--tolerance", "1%")
    assert (status, err) == (2, "explainer: error: --tolerance is for the Moodle questions (--format moodle)\n")
    assert not (tmp_path / "y").exists()


def test_the_python_api_writes_one_students_questions_as_the_command_line(capsys, tmp_path):
    import explainer

    folder = tmp_path / "one"
    assert main(["exercise", "--count", "1", "--seed", SEED, "--output", str(folder), "--quiet",
                 "--format", "moodle", "--tolerance", "2%"]) == 0
    files = explainer.exercise(student="1", seed=SEED, formats=("moodle",), tolerance="2%")
    assert sorted(files) == ["keys/1.json", "moodle/quiz.xml"]
    assert files["moodle/quiz.xml"] == (folder / "moodle" / "quiz.xml").read_text(encoding="utf-8")


def test_byte_identical_in_another_process_under_another_hash_seed(tmp_path, bank):
    from conftest import run_cli

    result = run_cli("exercise", "--count", str(COUNT), "--seed", SEED, "--output", "again", "--format", "moodle",
                     cwd=tmp_path, env={"PYTHONHASHSEED": "12345"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "again" / "moodle" / "quiz.xml").read_bytes() == (bank / "moodle" / "quiz.xml").read_bytes()


# --- the error function, named as the question sheet names it ---------------------------

EXAMPLES = sorted(p.stem for p in (Path(__file__).parent.parent / "examples").glob("*.toml"))
_SHEET_LOSS = re.compile(r"and the error is (.+?):\n\n\$\$(.+?)\$\$", re.S)
_MOODLE_LOSS = re.compile(r"and the error is (.+?): \\\((.+?)\\\)\.</p>", re.S)


def _as_tex(text: str, inline: str) -> str:
    """Words with their inline math (``$…$`` or ``\\(…\\)``) written as the bare TeX."""
    return re.sub(inline, r"\1", text)


def loss_words(folder: Path, student: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(words, formula) of the error function on the student's question sheet, and in the Moodle description."""
    sheet = _SHEET_LOSS.search((folder / "questions" / f"{student}.md").read_text(encoding="utf-8"))
    descriptions = [q for q in ET.parse(folder / QUIZ_PATH).getroot()
                    if q.get("type") == "description" and q.find("idnumber").text == f"{student}:network"]
    moodle = _MOODLE_LOSS.search(html.unescape(descriptions[0].find("questiontext/text").text))
    assert sheet and moodle
    return ((_as_tex(sheet[1], r"\$(.+?)\$"), sheet[2].strip()),
            (_as_tex(moodle[1], r"\\\((.+?)\\\)"), moodle[2].strip()))


QUIZ_PATH = "moodle/quiz.xml"


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_description_names_the_error_function_as_the_question_sheet(capsys, tmp_path, example):
    status, _, err = run(capsys, "exercise", example, "--count", "1", "--seed", SEED, "--output", str(tmp_path),
                         "--quiet", "--format", "moodle", "--format", "markdown", "--jobs", "1")
    if status != 0:  # an example that makes no exercise (several samples, an optimizer's tiny state): said in a line
        assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
        return
    sheet, moodle = loss_words(tmp_path, "1")
    assert moodle == sheet
    assert sheet[0].startswith("the ")


ONE_SAMPLE = (Path(__file__).parent.parent / "examples" / "backpropagation-example.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_is_named_with_its_formula(tmp_path, loss):
    """On the spec's own numbers (a drawn variant of a softmax network's targets need not add up to 1)."""
    import explainer
    from explainer.exercises.moodle import moodle_category, moodle_quiz
    from explainer.exercises.sheets import question_sheet
    from explainer.exercises.variants import Variant
    from explainer.outputs.formatting import NumberFormat

    text = ONE_SAMPLE.replace('loss = "half_squared_error"', f'loss = "{loss}"')
    if loss == "cross_entropy":
        text = text.replace('activation = "sigmoid"', 'activation = ["sigmoid", "softmax"]')
    (tmp_path / "net.toml").write_text(text, encoding="utf-8")
    spec = explainer.load_spec(tmp_path / "net.toml")
    variant = Variant("1", SEED, spec, explainer.derive(spec), 0)
    (tmp_path / "questions").mkdir()
    (tmp_path / "moodle").mkdir()
    (tmp_path / "questions" / "1.md").write_text(question_sheet(variant, "markdown", NumberFormat()), encoding="utf-8")
    (tmp_path / QUIZ_PATH).write_text(moodle_quiz([moodle_category(variant, NumberFormat(), "t")]), encoding="utf-8")
    sheet, moodle = loss_words(tmp_path, "1")
    assert moodle == sheet
    words, formula = moodle
    # The formula is the loss's own, and the words say which: the ½ of the half squared error is in the
    # formula, the squared error without it says so.
    assert formula.replace(" ", "").endswith(as_words(LOSSES[loss].total_tex(2)).replace(" ", ""))
    expected = {"half_squared_error": "the squared error",
                "squared_error": r"the squared error, here without the factor \frac{1}{2} some sources put in front",
                "mean_squared_error": "the mean squared error, the squared error divided by the number of outputs, 2",
                "binary_cross_entropy": "the binary cross-entropy", "cross_entropy": "the cross-entropy"}
    assert words == expected[loss]


def test_the_docs_give_the_category_path_the_file_has(bank):
    docs = (Path(__file__).parent.parent / "docs" / "exercises.md").read_text(encoding="utf-8")
    written = re.findall(r"`(\$course\$/top/[^`]*)`", docs)
    assert "$course$/top/TITLE/student ID" in written
    assert list(categories(bank / QUIZ_PATH))[0] in written  # the example, as the file writes it
    assert "Top/TITLE/student ID" not in docs.replace("$course$/top/TITLE/student ID", "")
