"""``explainer exercise`` and the exercise options of ``explainer check``, as a teacher runs them.

The runs that must be separate processes (byte-identical files under other
hash seeds, exit statuses as a shell sees them) are; the rest call
``cli.main`` in this process, which is the same code without a new
interpreter's start-up each time.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

import explainer
from explainer.cli import main
from explainer.exercises.sheets import answer_key
from explainer.outputs.formatting import NumberFormat
from explainer.exercises.variants import nice_variant

from conftest import as_words, run_cli

ROSTER = "alice\nbob\ncarol\ndave\n"
SEED = "spring 2025"
ASKED = 56  # quantities of one round of the source's network


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    """A class of four made by the command line: the roster, the exercise folder and the sheets handed in."""
    root = tmp_path_factory.mktemp("teacher")
    (root / "roster.txt").write_text(ROSTER)
    result = run_cli("exercise", "--students", "roster.txt", "--seed", SEED, "--output", "class", cwd=root,
                     env={"PYTHONHASHSEED": "0"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # The worked solution's Markdown has its figures beside it, named after the student.
    assert result.stdout.splitlines() == [f"class/{folder}/{student}{suffix}" for student in ROSTER.split()
                                          for folder, suffix in (("questions", ".md"), ("questions", ".tex"),
                                                                 ("solutions", ".md"), ("solutions", "-network.svg"),
                                                                 ("solutions", "-loss.svg"), ("solutions", ".tex"),
                                                                 ("keys", ".json"))]
    sheets = root / "sheets"
    sheets.mkdir()
    alice = json.loads((root / "class" / "keys" / "alice.json").read_text())["answers"]
    (sheets / "alice.txt").write_text("".join(f"{key} = {value}\n" for key, value in alice.items()))
    (sheets / "bob.md").write_text(wrong_sheet(json.loads((root / "class" / "keys" / "bob.json").read_text())["answers"]))
    (sheets / "dave.txt").write_text("I did not get round to it.\n")
    return root


def wrong_sheet(answers: dict) -> str:
    """Bob's sheet, up to w1+: the ½ dropped from E_o1, and out_h2 copied for out_h1 in the
    hidden layer, with the three results worked out from it."""
    wrong = dict(answers)
    wrong["E_o1"] = 2 * answers["E_o1"]
    wrong["dout_h1/dnet_h1"] = round(answers["out_h2"] * (1 - answers["out_h2"]), 9)
    wrong["dE_total/dw1"] = round(answers["dE_total/dout_h1"] * wrong["dout_h1/dnet_h1"] * answers["dnet_h1/dw1"], 9)
    w1 = round(answers["w1+"] + 0.5 * answers["dE_total/dw1"], 2)
    wrong["w1+"] = round(w1 - 0.5 * wrong["dE_total/dw1"], 9)
    lines = []
    for key in answers:
        if key == "dout_h1/dnet_h1":
            lines.append(f"out_h1 = {answers['out_h2']}")
        lines.append(f"{key} = {wrong[key]}")
        if key == "w1+":
            return "\n".join(lines) + "\n"


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- explainer exercise -------------------------------------------------------------------


def test_the_same_seed_gives_byte_identical_files_in_another_process(teacher, tmp_path):
    (tmp_path / "two.txt").write_text("dave\nbob\n")  # two of the four, in another order
    result = run_cli("exercise", "--students", str(tmp_path / "two.txt"), "--seed", SEED, "--output", str(tmp_path / "again"),
                     env={"PYTHONHASHSEED": "4242"})
    assert result.returncode == 0, result.stderr
    first = {name: text for name, text in files_of(teacher / "class").items()
             if re.search(r"/(bob|dave)[.-]", name)}
    second = files_of(tmp_path / "again")
    assert len(first) == 14 and first == second


def test_the_files_are_the_librarys(teacher):
    variant = nice_variant(explainer.load_spec(), SEED, "carol")
    assert (teacher / "class" / "keys" / "carol.json").read_text() == answer_key(variant, NumberFormat())
    solution = (teacher / "class" / "solutions" / "carol.md").read_text()
    assert solution == variant.derivation.to_markdown(detail="full")
    questions = (teacher / "class" / "questions" / "carol.md").read_text()
    assert questions.startswith("# A Step by Step Backpropagation Example — student carol\n")
    # Four students, four networks.
    keys = [json.loads((teacher / "class" / "keys" / f"{s}.json").read_text()) for s in ROSTER.split()]
    assert len({json.dumps(k["exercise"]["spec"]["network"]["weights"]) for k in keys}) == 4


def test_numbered_students_in_markdown_only(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "exercise", "--count", "2", "--seed", "x", "--format", "markdown",
                         "--digits", "5", "--detail", "source")
    assert status == 0
    assert out.splitlines() == [f"exercises/{path}" for n in (1, 2) for path in
                                (f"questions/{n}.md", f"solutions/{n}.md", f"solutions/{n}-network.svg",
                                 f"solutions/{n}-loss.svg", f"keys/{n}.json")]
    assert "Round every result to 5 significant digits." in (tmp_path / "exercises/questions/2.md").read_text()
    assert json.loads((tmp_path / "exercises/keys/2.json").read_text())["exercise"]["precision"] == {"digits": 5}


@pytest.mark.parametrize(
    ("roster", "message"),
    [
        ("alice\n\nbob\n", "roster.txt: line 2: blank line; expected one student id per line"),
        ("alice\nbob\nAlice\n", "roster.txt: line 3: 'Alice' repeats line 1; expected each student once"),
        ("alice\nbob smith\n", "roster.txt: line 2: 'bob smith' cannot name a file; expected letters, digits, - and _"),
    ],
)
def test_a_bad_roster_is_one_line_exit_2_and_nothing_written(tmp_path, roster, message):
    (tmp_path / "roster.txt").write_text(roster)
    result = run_cli("exercise", "--students", "roster.txt", "--seed", "1", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"explainer: error: {message}") and result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.txt"]


def test_a_shape_without_variants_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wide = {"network": {"layers": [10, 10], "weights": [[[0.1] * 10] * 10], "biases": [0.1]},
            "data": {"inputs": [0.1] * 10, "targets": [0.5] * 10}}
    (tmp_path / "wide.json").write_text(json.dumps(wide))
    status, out, err = run(capsys, "exercise", "wide.json", "--count", "3", "--seed", "1")
    assert (status, out) == (2, "")
    assert err.startswith("explainer: error: wide.json: network.weights: 100 weights, but a variant draws them")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide.json"]


def test_exercise_options_are_required(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["exercise", "--count", "3"])
    assert caught.value.code == 2 and "--seed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["exercise", "--seed", "1"])
    assert "--students" in capsys.readouterr().err


# --- explainer check against a student's variant -----------------------------------------------


def test_a_key_checked_against_itself_is_all_correct(teacher):
    key = teacher / "class" / "keys" / "alice.json"
    result = run_cli("check", str(key), "--key", str(key))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{key}, checked against {key} (student alice)"
    assert lines[-1] == f"{ASKED} checked: {ASKED} correct."


def test_a_wrong_sheet_is_graded_against_its_students_network(teacher, capsys):
    sheet, key = teacher / "sheets" / "bob.md", teacher / "class" / "keys" / "bob.json"
    status, out, _ = run(capsys, "check", str(sheet), "--key", str(key), "--format", "json")
    assert status == 1
    verdicts = {(v["key"], v["line"]): v for v in json.loads(out)}
    not_correct = [(v["line"], v["key"], v["verdict"], v["hint"]) for v in verdicts.values()
                   if v["verdict"] not in ("correct", "missing")]
    wrong = dict(line.split(" = ") for line in sheet.read_text().splitlines()[34:])
    assert not_correct == [
        (9, "E_o1", "wrong", "twice the right value: the ½ of the squared error was dropped"),
        (35, "out_h1", "wrong", "used out_h2 where out_h1 belongs"),
        (36, "dout_h1/dnet_h1", "carried forward", f"follows from your out_h1 = {wrong['out_h1']} (line 35)"),
        (38, "dE_total/dw1", "carried forward", f"follows from your dout_h1/dnet_h1 = {wrong['dout_h1/dnet_h1']} (line 36)"),
        (39, "w1+", "carried forward", f"follows from your dE_total/dw1 = {wrong['dE_total/dw1']} (line 38)"),
    ]
    # With --key the quantities Bob never wrote (he stopped at w1+) are listed as missing.
    assert sum(v["verdict"] == "missing" for v in verdicts.values()) == 18
    assert len(verdicts) == 39 + 18
    # The same sheet against the built-in example: nearly every number is wrong.
    status, out, _ = run(capsys, "check", str(sheet), "--format", "json")
    assert sum(v["verdict"] == "correct" for v in json.loads(out)) < 10


def test_the_variant_rebuilt_from_student_and_seed_grades_as_the_key_does(teacher, capsys):
    sheet, key = teacher / "sheets" / "bob.md", teacher / "class" / "keys" / "bob.json"
    by_key = run(capsys, "check", str(sheet), "--key", str(key))
    rebuilt = run(capsys, "check", str(sheet), "--student", "bob", "--seed", SEED)
    assert by_key[0] == rebuilt[0] == 1
    assert rebuilt[1].splitlines()[0] == \
        f"{sheet}, checked against student bob's variant of the built-in example (seed {SEED}, 9 decimals)"
    assert by_key[1].splitlines()[1:] == rebuilt[1].splitlines()[1:]


# --- the class summary -----------------------------------------------------------------------


def test_the_class_summary_from_the_keys(teacher, capsys):
    status, out, err = run(capsys, "check", str(teacher / "sheets"), "--keys", str(teacher / "class" / "keys"))
    assert status == 1
    assert err == f"explainer: {teacher / 'sheets' / 'dave.txt'}: no answers found; expected lines such as " \
                  "'out_h1 = 0.593269992'; every quantity counts as missing\n"
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(out))}
    assert list(rows) == ["alice", "bob", "carol", "dave"]  # one row per student, the totals apart
    counts = ("correct", "rounding", "carried forward", "wrong", "missing", "passed", "asked")
    count = lambda student: tuple(int(rows[student][c]) for c in counts)  # noqa: E731
    assert count("alice") == (ASKED, 0, 0, 0, 0, ASKED, ASKED)
    # Bob stopped at w1+, the 38th quantity: 2 wrong, 3 carried forward, 18 never given.
    assert count("bob") == (33, 0, 3, 2, 18, 33, ASKED)
    assert count("carol") == count("dave") == (0, 0, 0, 0, ASKED, 0, ASKED)
    assert (rows["bob"]["score"], rows["bob"]["max_score"]) == ("36", str(ASKED))
    # out_h1 is graded on the last value given for it, the one copied wrong in the hidden layer.
    assert (rows["bob"]["E_o1"], rows["bob"]["out_h1"], rows["bob"]["w1+"], rows["bob"]["w2+"]) == \
        ("wrong", "wrong", "carried forward", "missing")
    status, out, _ = run(capsys, "check", str(teacher / "sheets"), "--keys", str(teacher / "class" / "keys"),
                         "--output", str(teacher / "summary.csv"))
    totals = dict(line.split(",", 1) for line in (teacher / "summary-totals.csv").read_text().splitlines()[1:])
    assert tuple(int(totals[c]) for c in counts) == (89, 0, 3, 2, 130, 89, 4 * ASKED)
    assert (totals["passed net_h1"], totals["passed E_o1"], totals["passed E_total@1"]) == ("2", "1", "1")


def test_the_class_summary_from_the_seed_and_to_a_file(teacher, capsys, tmp_path):
    by_keys = run(capsys, "check", str(teacher / "sheets"), "--keys", str(teacher / "class" / "keys"))[1]
    target = tmp_path / "summary.csv"
    status, out, _ = run(capsys, "check", str(teacher / "sheets"), "--seed", SEED, "--output", str(target))
    assert (status, out) == (1, f"{target}\n{tmp_path / 'summary-totals.csv'}\n")
    # The seed knows only the students who handed a sheet in: carol is not there.
    without_carol = [line for line in by_keys.splitlines() if not line.startswith(("carol,", "(total),"))]
    assert [line for line in target.read_text().splitlines() if not line.startswith("(total),")] == without_carol


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["SHEETS"], "is a folder: grade the class with --keys DIR (the answer keys) or --seed SEED (and --spec)"),
        (["SHEETS", "--keys", "KEYS", "--format", "json"], "a class summary is CSV; --format is for one sheet"),
        (["SHEETS", "--keys", "KEYS", "--student", "bob"], "a folder of sheets is graded with --keys DIR or --seed SEED"),
        (["BOB", "--key", "KEYS/bob.json", "--spec", "x.toml"], "--key holds the student's own network"),
        (["BOB", "--student", "bob"], "--student and --seed go together"),
        (["BOB", "--seed", "1"], "--student and --seed go together"),
        (["BOB", "--student", "bob/..", "--seed", "1"], "--student: 'bob/..' is not a student id"),
        (["BOB", "--keys", "KEYS"], "--keys and --output are for a folder of sheets; ANSWERS is one sheet"),
        (["BOB", "--key", "VALUES"], "values.json: not an answer key: expected an 'exercise' member"),
        (["SHEETS", "--keys", "VALUES"], "values.json: not a folder; expected the folder of answer keys (keys/)"),
    ],
)
def test_options_that_do_not_go_together_are_one_line_exit_2(teacher, capsys, tmp_path, args, message):
    (tmp_path / "values.json").write_text('{"out_h1": 0.593269992}')
    places = {"SHEETS": str(teacher / "sheets"), "KEYS": str(teacher / "class" / "keys"),
              "BOB": str(teacher / "sheets" / "bob.md"), "VALUES": str(tmp_path / "values.json")}
    args = [places.get(a, a).replace("KEYS", places["KEYS"]) for a in args]
    status, out, err = run(capsys, "check", *args)
    assert (status, out) == (2, "")
    assert err.startswith("explainer: error: ") and message in err and err.count("\n") == 1, err


def test_a_sheet_without_a_key_is_one_line_exit_2(teacher, capsys, tmp_path):
    (tmp_path / "erin.txt").write_text("net_h1 = 1\n")
    status, out, err = run(capsys, "check", str(tmp_path), "--keys", str(teacher / "class" / "keys"))
    assert (status, out) == (2, "")
    assert err == f"explainer: error: {tmp_path / 'erin.txt'}: no answer key for student erin in {teacher / 'class' / 'keys'}\n"


def test_the_docs_show_what_exercise_and_the_summary_print(tmp_path, capsys, monkeypatch):
    readme = (Path(__file__).resolve().parent.parent / "docs" / "exercises.md").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    Path("roster.txt").write_text("ada\ngrace\nalan\n")
    status, out, _ = run(capsys, "exercise", "--students", "roster.txt", "--seed", "autumn 2025", "--output", "class")
    assert status == 0
    paths = out.splitlines()
    assert "\n".join(["$ explainer exercise --students roster.txt --seed \"autumn 2025\" --output class",
                      *paths[:8], "…", paths[-1]]) in readme
    # Ada hands in her key's numbers, alan makes Bob's slips, grace hands in nothing.
    Path("handed-in").mkdir()
    keys = {s: json.loads(Path(f"class/keys/{s}.json").read_text())["answers"] for s in ("ada", "alan")}
    Path("handed-in/ada.txt").write_text("".join(f"{k} = {v}\n" for k, v in keys["ada"].items()))
    Path("handed-in/alan.txt").write_text(wrong_sheet(keys["alan"]))
    status, out, _ = run(capsys, "check", "handed-in/", "--keys", "class/keys")
    shown = [",".join([*row[:10], "…", row[-1]]) for row in csv.reader(io.StringIO(out))]
    assert "\n".join(shown) in readme


@pytest.mark.parametrize("name", ["momentum", "nesterov", "weight-decay", "adam", "rmsprop", "adamw", "minibatch-adam"])
def test_an_exercise_of_every_optimizer_example_is_made_or_refused_in_one_line(name, tmp_path, capsys):
    """An optimizer's state (v_w5@1) and the regularised error (E_reg) are asked like any quantity;
    what cannot make an exercise says why, in one line."""
    status = main(["exercise", name, "--count", "1", "--seed", "q", "--digits", "5", "--output", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert status in (0, 2), error
    if status == 2:
        assert error.count("\n") == 1 and error.startswith("explainer: error:"), error
        assert not (tmp_path / "out").exists()
        return
    asked = json.loads((tmp_path / "out" / "keys" / "1.json").read_text())["answers"]
    sheet = (tmp_path / "out" / "questions" / "1.md").read_text()
    if name in ("momentum", "nesterov"):
        assert "v_w5@1" in asked and "v_{w_5" in sheet
    if name in ("nesterov", "weight-decay"):
        assert "E_reg" in asked and as_words("E_{reg}") in sheet


@pytest.mark.parametrize("command", [["exercise", "--count", "2", "--seed", ""], ["check", "a.txt", "--student", "1", "--seed", ""]])
def test_an_empty_seed_is_refused(command, capsys):
    from explainer.cli import main

    with pytest.raises(SystemExit) as stop:
        main(command)
    assert stop.value.code == 2
    assert "--seed: expected a seed of at least one character" in capsys.readouterr().err
