"""A corpus of malformed input: every one exit status 2, one line naming the file,
the field or line and what was expected; never a traceback, never an output file."""

from __future__ import annotations

import pytest

from explainer.cli import main

GOOD_NETWORK = """[network]
layers = [2, 2, 2]
weights = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
biases = [0.35, 0.60]
"""
GOOD_DATA = "[data]\ninputs = [0.05, 0.10]\ntargets = [0.01, 0.99]\n"
GOOD = GOOD_NETWORK + GOOD_DATA


def network(**replace: str) -> str:
    """The good spec with some lines of its [network] table replaced."""
    lines = {"layers": "[2, 2, 2]", "weights": "[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]",
             "biases": "[0.35, 0.60]", **replace}
    return "[network]\n" + "".join(f"{key} = {value}\n" for key, value in lines.items()) + GOOD_DATA


SPECS = [
    # (name, file name, content, field, what the message must say)
    ("empty file", "a.toml", "", "network", "missing; expected a table"),
    ("only blanks", "a.toml", "\n  \n\t\n", "network", "missing"),
    ("binary garbage", "a.toml", b"\x00\xff\xfe\x80\x81garbage", "", "not UTF-8 text"),
    ("bom and bad toml", "a.toml", "\ufeff[network", "", "invalid TOML"),
    ("unclosed table", "a.toml", "[network\nlayers = [2]", "", "invalid TOML"),
    ("toml duplicate key", "a.toml", GOOD_NETWORK + "layers = [2, 2, 2]\n" + GOOD_DATA, "", "invalid TOML"),
    ("json duplicate key", "a.json", '{"network": {"layers": [1, 1], "layers": [2, 2]}}', "", "appears twice"),
    ("json trailing comma", "a.json", '{"network": {},}', "", "invalid JSON"),
    ("json list at top", "a.json", "[1, 2]", "", "expected a table at the top level"),
    ("json null network", "a.json", '{"network": null}', "network", "expected a table, got null"),
    ("unknown suffix", "a.yaml", "network: {}", "", "expected a .toml or .json file"),
    ("typo at top level", "a.toml", "titel = 'x'\n" + GOOD, "titel", "did you mean 'title'?"),
    ("typo of a table", "a.toml", GOOD + "[trainng]\n", "trainng", "did you mean 'training'?"),
    ("unknown key", "a.toml", GOOD + "[training]\nbatch = 4\n", "training.batch", "unknown key"),
    ("title a number", "a.toml", "title = 3\n" + GOOD, "title", "expected a string, got 3"),
    ("title two lines", "a.toml", 'title = "a\\nb"\n' + GOOD, "title", "one-line string"),
    ("layers a string", "a.toml", network(layers='"2-2-2"'), "network.layers", "expected a list of layer widths"),
    ("one layer", "a.toml", network(layers="[2]"), "network.layers", "at least two layers"),
    ("zero width", "a.toml", network(layers="[0, 2, 2]"), "network.layers[0]", "positive integer"),
    ("negative width", "a.toml", network(layers="[2, -2, 2]"), "network.layers[1]", "positive integer"),
    ("fractional width", "a.toml", network(layers="[2, 2.5, 2]"), "network.layers[1]", "positive integer"),
    ("boolean width", "a.toml", network(layers="[true, 2, 2]"), "network.layers[0]", "got true"),
    ("too many layers", "a.toml", network(layers="[1,1,1,1,1,1,1,1,1,1,1,1,1]"), "network.weights", "expected 12 matrices"),
    ("one matrix short", "a.toml", network(weights="[[[0.15, 0.20], [0.25, 0.30]]]"), "network.weights", "expected 2 matrices"),
    ("row too long", "a.toml", network(weights="[[[0.15, 0.20, 0.1], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]"),
     "network.weights[0][0]", "expected 2 numbers"),
    ("string weight", "a.toml", network(weights='[[["0.15", 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]'),
     "network.weights[0][0][0]", "got the string '0.15'"),
    ("nan weight", "a.toml", network(weights="[[[nan, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]"),
     "network.weights[0][0][0]", "finite number"),
    ("inf weight", "a.toml", network(weights="[[[0.15, -inf], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]"),
     "network.weights[0][0][1]", "finite number"),
    ("boolean weight", "a.toml", network(weights="[[[0.15, 0.20], [true, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]"),
     "network.weights[0][1][0]", "got true"),
    ("enormous weight", "a.toml", network(weights="[[[1e400, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]"),
     "network.weights[0][0][0]", "between -1e6 and 1e6"),
    ("too many digits", "a.toml",
     network(weights="[[[0.1234567890123456789012345678901, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]"),
     "network.weights[0][0][0]", "at most 30 significant digits"),
    ("biases short", "a.toml", network(biases="[0.35]"), "network.biases", "expected 2 entries"),
    ("per-neuron bias short", "a.toml", network(biases="[[0.35], 0.60]"), "network.biases[0]", "expected 2 numbers"),
    ("bias a table", "a.toml", network(biases="[{b = 1}, 0.60]"), "network.biases[0]", "got a table"),
    ("inputs short", "a.toml", GOOD_NETWORK + "[data]\ninputs = [0.05]\ntargets = [0.01, 0.99]\n",
     "data.inputs", "expected 2 numbers"),
    ("targets missing", "a.toml", GOOD_NETWORK + "[data]\ninputs = [0.05, 0.10]\n", "data.targets", "missing"),
    ("learning rate 0", "a.toml", GOOD + "[training]\nlearning_rate = 0\n", "training.learning_rate", "> 0"),
    ("learning rate negative", "a.toml", GOOD + "[training]\nlearning_rate = -0.5\n", "training.learning_rate", "> 0"),
    ("learning rate a word", "a.toml", GOOD + '[training]\nlearning_rate = "fast"\n', "training.learning_rate",
     "got the string 'fast'"),
    ("negative iterations", "a.toml", GOOD + "[training]\niterations = -1\n", "training.iterations", ">= 0"),
    ("fractional iterations", "a.toml", GOOD + "[training]\niterations = 1.5\n", "training.iterations", "integer"),
    ("iterations in e-notation", "a.toml", GOOD + "[training]\niterations = 1e4\n", "training.iterations", "integer"),
    ("too many iterations", "a.toml", GOOD + "[training]\niterations = 100000000\n", "training.iterations", "at most"),
    ("unknown update", "a.toml", GOOD + '[training]\nupdate = "parallel"\n', "training.update", "unknown update"),
    ("update typo", "a.toml", GOOD + '[training]\nupdate = "sequentail"\n', "training.update", "did you mean 'sequential'?"),
    ("train biases a string", "a.toml", GOOD + '[training]\ntrain_biases = "yes"\n', "training.train_biases", "true or false"),
    ("network too large", "a.toml",
     "[network]\nlayers = [200, 200]\nweights = [[" + ",".join(["[" + ",".join(["0.1"] * 200) + "]"] * 200) + "]]\n"
     "biases = [0.1]\n[data]\ninputs = [" + ",".join(["0.5"] * 200) + "]\ntargets = [" + ",".join(["0.5"] * 200) + "]\n",
     "network.layers", "got 40,000"),  # render: its 1,500; values: 20,000
]


@pytest.mark.parametrize("name, file_name, content, field, words", SPECS, ids=[s[0] for s in SPECS])
@pytest.mark.parametrize("command", ["render", "values"])
def test_a_malformed_spec(tmp_path, capsys, monkeypatch, command, name, file_name, content, field, words):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / file_name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    status = main([command, str(path)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    where = f"{path}: {field}: " if field else f"{path}: "
    assert err.startswith(f"explainer: error: {where}"), err
    assert words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [file_name]  # nothing written


def test_the_corpus_is_large_enough():
    assert len(SPECS) >= 40


OPTIONS = [
    (["render", "--decimals", "-1"], "--decimals"),
    (["render", "--decimals", "31"], "from 0 to 30"),
    (["render", "--digits", "0"], "at least 1 significant digit"),
    (["render", "--decimals", "3", "--digits", "3"], "not allowed with argument"),
    (["render", "--format", "docx"], "invalid choice: 'docx'"),
    (["render", "--detail", "everything"], "invalid choice: 'everything'"),
    (["render", "--format", "latex", "--flavor", "myst"], "--flavor applies to Markdown"),
    (["render", "--columns", "3"], "invalid choice: 3"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["check"], "the following arguments are required: ANSWERS"),
]


@pytest.mark.parametrize("argv, words", OPTIONS, ids=[" ".join(a) for a, _ in OPTIONS])
def test_a_bad_option(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and words in err, err
    assert list(tmp_path.iterdir()) == []


ANSWERS = [
    ("empty sheet", b"", "no answers found"),
    ("binary sheet", b"\x00\xff\xfe\x81", "not UTF-8 text"),
]


@pytest.mark.parametrize("name, content, words", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_a_malformed_answer_sheet(tmp_path, capsys, name, content, words):
    sheet = tmp_path / "answers.txt"
    sheet.write_bytes(content)
    status = main(["check", str(sheet)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and words in err and str(sheet) in err, err


def test_a_missing_answer_sheet(tmp_path, capsys):
    status = main(["check", str(tmp_path / "nope.txt")])
    _, err = capsys.readouterr()
    assert status == 2 and "cannot read" in err and err.count("\n") == 1


@pytest.mark.parametrize("output", ["/proc/explainer-cannot-write/doc.md", "{file}/doc.md"])
def test_an_unwritable_output_leaves_no_file_and_keeps_the_old_one(tmp_path, capsys, output):
    blocker = tmp_path / "a-file"
    blocker.write_text("an earlier good document")
    target = output.format(file=blocker)
    status = main(["render", "--format", "markdown", "--output", target])
    _, err = capsys.readouterr()
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert blocker.read_text() == "an earlier good document"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
