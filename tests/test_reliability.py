"""Every input ends in 0, 1 or 2 with one line, never a traceback or a hang; a failed run writes nothing."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import mpmath
import pytest

import explainer
from explainer import cli
from explainer.maths import numeric
from explainer.maths.network import Network
from explainer.outputs.formatting import NumberFormat
from conftest import ROOT, run_cli

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
BUILTIN = (ROOT / "examples" / "backpropagation-example.toml").read_text()


def one_error(capsys, *args) -> str:
    """Run the command line in-process; it must exit 2 with one line on standard error."""
    status = cli.main(list(args))
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("explainer: error: "), err
    return err


def linear(layers, weights, inputs, targets, **training) -> dict:
    return {"network": {"layers": layers, "activation": "linear", "weights": weights, "biases": [0] * (len(layers) - 1)},
            "data": {"inputs": inputs, "targets": targets}, "training": training}


# --- specs that used to raise ---------------------------------------------------------


@pytest.mark.parametrize(("name", "text", "phrase"), [
    ("nested.json", '{"title": ' + "[" * 1000 + "]" * 1000 + "}", "nested too deeply"),
    ("nested.toml", "title = " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply"),
    ("digits.json", '{"network": {"layers": [' + "9" * 4301 + "]}}", "more than 4,300 digits"),
    ("digits.toml", BUILTIN.replace("iterations = 10000", "iterations = " + "9" * 4301), "more than 4,300 digits"),
    ("huge.toml", BUILTIN.replace("biases = [0.35, 0.60]", "biases = [1e1000000, 0.60]"), "between -1e6 and 1e6"),
    ("tiny.toml", BUILTIN.replace("[0.40, 0.45]", "[1e-999999999, 0.45]"), "at least 1e-30"),
    ("surrogate.json", '{"title": "\\ud800", "network": {"layers": [1, 1], "weights": [[[0.5]]], "biases": [0.1]},'
                       ' "data": {"inputs": [1], "targets": [0.5]}}', "lone surrogate"),
    ("long.toml", BUILTIN.replace('activation = "sigmoid"', 'activation = "' + "x" * 1_000_000 + '"'), "unknown activation"),
    ("longkey.toml", BUILTIN.replace("[data]", "[data]\n" + "k" * 1_000_000 + " = 1"), "unknown key"),
])
@pytest.mark.parametrize("command", ["render", "values"])
def test_a_bad_spec_is_one_short_line(tmp_path, capsys, name, text, phrase, command):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = [command, str(path)] + (["--output", str(tmp_path / "out")] if command == "render" else [])
    err = one_error(capsys, *args)
    # Short whatever the length of the folder pytest made: the line less the file's name.
    assert phrase in err and len(err.replace(str(path), "SPEC")) < 250, err[:300]
    assert not (tmp_path / "out").exists()


def test_a_deeply_nested_answer_sheet_is_read_as_lines(tmp_path, capsys):
    sheet = tmp_path / "a.json"
    sheet.write_text('{"a": ' * 1000 + "1" + "}" * 1000)
    err = one_error(capsys, "check", str(sheet))
    assert "no answers found" in err


def test_values_of_any_size_are_formatted():
    with mpmath.workdps(50):
        for value in (mpmath.exp(-10**7), mpmath.mpf(2) ** (-10**12), mpmath.mpf(2) ** (10**12)):
            assert "\\times 10^{" in NumberFormat()(value) and "\\times 10^{" in NumberFormat(digits=3)(value)


# --- diverging and extreme networks are reported, never a mismatch ---------------------------


def test_a_training_run_past_the_largest_double_is_null():
    for rounds in (7, 8):
        d = explainer.derive(linear([1, 1, 1], [[[1.1]], [[1.9]]], [1], [0], learning_rate=1, iterations=rounds))
        assert math.isinf(d.float_values()[f"E_total@{rounds}"])


def test_a_stochastic_round_that_reaches_1e549_is_derived():
    spec = linear([1, 1, 1], [[[3]], [[3]]], [[1], [1], [1], [1]], [[0], [0], [0], [0]],
                  learning_rate=1, iterations=3, mode="stochastic", update="sequential")
    d = explainer.derive(spec)
    assert max(abs(v) for v in d.values.values()) > mpmath.mpf("1e500")


def test_a_target_at_the_documented_limit_is_derived():
    text = (ROOT / "examples" / "relu-regression.toml").read_text().replace(
        "targets = [[1.0], [0.25]", "targets = [[1.0], [-1000000.0]")
    spec = explainer.load_spec(_written(text))
    assert explainer.derive(spec).values["E_total"] > 1e11


def _written(text: str) -> dict:
    import tomllib
    from decimal import Decimal

    return tomllib.loads(text, parse_float=Decimal)


def test_a_large_finite_cross_entropy_is_not_null():
    """A softmax output of e^-1000 is 0.0 in floats; its error is finite, and printed."""
    spec = {"network": {"layers": [1, 2], "activation": "softmax", "loss": "cross_entropy",
                        "weights": [[[40], [-40]]], "biases": [0]},
            "data": {"inputs": [1], "targets": [0, 1]}, "training": {"iterations": 3, "learning_rate": 0.001}}
    d = explainer.derive(spec)
    error = d.float_values()["E_total@3"]
    assert math.isfinite(error) and error > 70
    with mpmath.workdps(50):
        network = Network(explainer.load_spec(spec))
        point = {k: numeric.mp(v) for k, v in network.parameter_values().items()}
        point.update({w.key: mpmath.mpf(d.float_values()[f"{w.key}@3"]) for w in network.weights})
        assert float(numeric.forward_error(network, point)[0]) == pytest.approx(error, rel=1e-12)


def test_softplus_keeps_its_digits_at_large_negative_net_inputs():
    spec = {"network": {"layers": [1, 1], "activation": "softplus", "weights": [[[1]]], "biases": [-40]},
            "data": {"inputs": [1], "targets": [0]}, "training": {"iterations": 2, "learning_rate": 0.1}}
    d = explainer.derive(spec)
    with mpmath.workdps(50):
        network = Network(explainer.load_spec(spec))
        point = {k: numeric.mp(v) for k, v in network.parameter_values().items()}
        point.update({w.key: mpmath.mpf(d.float_values()[f"{w.key}@2"]) for w in network.weights})
        exact = numeric.forward_error(network, point)[1][0]
    assert d.float_values()["out_o1@2"] == pytest.approx(float(exact), rel=1e-14)
    assert d.float_values()["out_o1@2"] > 0


# --- the composed cross-check has a cost bound ---------------------------------------------


@pytest.mark.parametrize("layers, activations", [
    ([2, 4, 4, 2], "leaky_relu"),
    ([1, 3, 4, 4], ["leaky_relu", {"name": "leaky_relu", "slope": 0.3}, "relu"]),
    ([2, 3, 3, 3, 1], "relu"),
    ([2, 3, 3, 3, 1], "sigmoid"),
    ([3, 4, 3, 3], ["tanh", "tanh", "softmax"]),
])
def test_no_network_under_the_limits_takes_long_to_check(layers, activations):
    weights = [[[round(0.37 * ((i + 2 * j + 3 * l) % 5) - 0.7, 2) for i in range(a)] for j in range(b)]
               for l, (a, b) in enumerate(zip(layers, layers[1:]))]
    targets = [1] + [0] * (layers[-1] - 1)
    spec = {"network": {"layers": layers, "activation": activations, "weights": weights, "biases": [0.1] * (len(layers) - 1),
                        **({"loss": "cross_entropy"} if isinstance(activations, list) and "softmax" in activations else {})},
            "data": {"inputs": [[0.5] * layers[0], [-0.3] * layers[0]], "targets": [targets, targets]},
            "training": {"iterations": 10}}
    start = time.perf_counter()
    explainer.derive(spec)
    assert time.perf_counter() - start < 20  # was 18 s to 17 minutes; a few seconds on an idle machine


def test_the_render_limit_is_checked_before_the_derivation(tmp_path, capsys):
    layers = [100, 200, 1]
    spec = {"network": {"layers": layers, "weights": [[[0.01] * 100] * 200, [[0.01] * 200]], "biases": [0, 0]},
            "data": {"inputs": [0.5] * 100, "targets": [0.5]}}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(spec))
    start = time.perf_counter()
    err = one_error(capsys, "render", str(path), "--output", str(tmp_path / "out"))
    assert "at most 1,500 weights" in err and time.perf_counter() - start < 5
    err = one_error(capsys, "exercise", str(path), "--count", "2", "--seed", "s", "--output", str(tmp_path / "ex"))
    assert "at most 1,500 weights" in err
    assert sorted(os.listdir(tmp_path)) == ["big.json"]


# --- writing: all or nothing, the user's names -----------------------------------------------


def listing(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def test_a_name_that_is_a_folder_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "xor.tex").mkdir(parents=True)
    (out / "xor.md").write_text("old")
    before = listing(out)
    err = one_error(capsys, "render", "examples/xor.toml", "--output", str(out))
    assert f"{out / 'xor.tex'}: is a folder" in err and ".tmp" not in err
    assert listing(out) == before


@pytest.mark.parametrize("failing", [1, 2, 3, 4])
def test_a_full_disk_at_any_file_leaves_the_folder_as_it_was(tmp_path, capsys, monkeypatch, failing):
    from explainer import writing

    out = tmp_path / "out"
    out.mkdir()
    (out / "xor.md").write_text("old")
    before = listing(out)
    real, count = writing._write_file, [0]

    def full(path, content):
        count[0] += 1
        if count[0] == failing:
            raise OSError(28, "No space left on device")
        real(path, content)

    monkeypatch.setattr(writing, "_write_file", full)
    err = one_error(capsys, "render", "examples/xor.toml", "--output", str(out))
    assert "No space left on device" in err and str(out) in err and ".explainer-" not in err
    assert listing(out) == before


def test_every_example_in_every_format_with_a_full_disk(tmp_path, capsys, monkeypatch):
    """The n-th write fails, for each n: the folder is exactly as before, with an old file kept."""
    from explainer import writing

    real = writing._write_file
    for example in EXAMPLES:
        for fmt in ("all", "markdown", "latex", "html", "values-tex"):
            out = tmp_path / example.stem / fmt
            out.mkdir(parents=True)
            (out / "keep.txt").write_text("old")
            before = listing(out)
            for failing in range(1, {"all": 5, "markdown": 4}.get(fmt, 2)):
                count = [0]

                def full(path, content, count=count, failing=failing):
                    count[0] += 1
                    if count[0] == failing:
                        raise OSError(28, "No space left on device")
                    real(path, content)

                monkeypatch.setattr(writing, "_write_file", full)
                one_error(capsys, "render", str(example), "--format", fmt, "--output", str(out) + "/")
                assert listing(out) == before, (example.name, fmt, failing)
    monkeypatch.setattr(writing, "_write_file", real)


def test_an_exercise_with_a_full_disk_writes_no_student(tmp_path, capsys, monkeypatch):
    from explainer import writing

    real, count = writing._write_file, [0]

    def full(path, content):
        count[0] += 1
        if count[0] == 15:
            raise OSError(28, "No space left on device")
        real(path, content)

    monkeypatch.setattr(writing, "_write_file", full)
    one_error(capsys, "exercise", "--count", "3", "--seed", "s", "--output", str(tmp_path / "class"))
    assert os.listdir(tmp_path) == []


def test_a_trailing_slash_means_a_folder(tmp_path):
    result = run_cli("render", "examples/xor.toml", "--format", "latex", "--output", str(tmp_path / "newdir") + "/")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "newdir" / "xor.tex").is_file()
    result = run_cli("render", str(ROOT / "examples" / "xor.toml"), "--format", "latex", "--output", ".", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "xor.tex").is_file(), result.stderr


def test_an_empty_output_is_refused(capsys):
    assert "got an empty one" in one_error(capsys, "render", "--format", "latex", "--output", "")


def test_a_closed_pipe_ends_quietly_with_every_file_written(tmp_path):
    import subprocess
    import sys

    for command in (["render", "examples/xor.toml", "--output", str(tmp_path / "o")],
                    ["exercise", "--count", "3", "--seed", "s", "--output", str(tmp_path / "ex")]):
        process = subprocess.Popen([sys.executable, "-m", "explainer", *command], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stdout.close()  # the reader is gone before the first line
        err = process.stderr.read().decode()
        assert process.wait(timeout=120) in (0, cli.BROKEN_PIPE) and err == "", err
    assert len(os.listdir(tmp_path / "o")) == 4
    assert len(list((tmp_path / "ex").rglob("*.*"))) == 21


def test_a_full_standard_output_is_named():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "explainer", "values"], cwd=ROOT, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "explainer: error: standard output: No space left on device\n"


# --- user text in Markdown, the template cache ----------------------------------------------


@pytest.mark.parametrize("text", ["---", "- x", "1. x", "    code", "===", "+ y", "2) z"])
@pytest.mark.parametrize("flavor", ["github", "mkdocs"])
def test_user_text_stays_text_in_markdown(text, flavor):
    from markdown_it import MarkdownIt

    d = explainer.derive({**_written((ROOT / "examples" / "backpropagation-example.toml").read_text()),
                          "author": text, "course": text, "date": text})
    tokens = MarkdownIt("commonmark").parse(d.to_markdown(flavor=flavor))
    kinds = {t.type for t in tokens}
    assert not kinds & {"hr", "bullet_list_open", "ordered_list_open", "code_block"}, kinds
    assert sum(1 for t in tokens if t.type == "heading_open" and t.tag == "h1") == 1


def run_in_fresh_process(env: dict) -> "subprocess.CompletedProcess":
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", "import explainer; explainer.derive().to_markdown()"],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_the_template_cache_is_in_the_platforms_cache_folder(tmp_path):
    result = run_in_fresh_process({"XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert any((tmp_path / "explainer" / "templates").iterdir())


def test_no_cache_where_it_cannot_be_written_or_is_turned_off(tmp_path):
    read_only = tmp_path / "ro"
    (read_only / "explainer" / "templates").mkdir(parents=True)
    (read_only / "explainer" / "templates").chmod(0o500)
    try:
        result = run_in_fresh_process({"XDG_CACHE_HOME": str(read_only)})
        assert result.returncode == 0 and result.stderr == "", result.stderr
    finally:
        (read_only / "explainer" / "templates").chmod(0o700)
    result = run_in_fresh_process({"XDG_CACHE_HOME": str(tmp_path / "off"), "EXPLAINER_NO_CACHE": "1"})
    assert result.returncode == 0 and not (tmp_path / "off").exists(), result.stderr
    (tmp_path / "file").write_text("not a folder")
    result = run_in_fresh_process({"XDG_CACHE_HOME": str(tmp_path / "file")})
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_damaged_template_cache_entry_is_compiled_again(tmp_path):
    result = run_in_fresh_process({"XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    entries = sorted((tmp_path / "explainer" / "templates").iterdir(), key=lambda p: p.stat().st_size)
    for entry in entries:  # a byte of the checksum flipped, or the code after a sound header replaced
        data = bytearray(entry.read_bytes())
        data[40] ^= 0xFF
        entry.write_bytes(bytes(data))
    entries[0].write_bytes(entries[0].read_bytes()[:60] + b"not marshalled code")
    for _ in range(2):
        result = run_in_fresh_process({"XDG_CACHE_HOME": str(tmp_path)})
        assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_template_cache_someone_else_may_write_is_not_used(tmp_path):
    folder = tmp_path / "explainer" / "templates"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    result = run_in_fresh_process({"XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert not any(folder.iterdir())


def test_an_answer_with_a_huge_exponent_is_judged(tmp_path, capsys):
    sheet = tmp_path / "a.txt"
    sheet.write_text("net_h1 = 1e9999993775\nout_h1 = 0.593269992\n")
    assert cli.main(["check", str(sheet), "--format", "json"]) == 1
    verdicts = json.loads(capsys.readouterr().out)
    # A number past 10^±300 is no answer anyone worked out: the line is reported, not graded.
    assert [v["verdict"] for v in verdicts] == ["not understood", "correct"]
