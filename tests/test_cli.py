"""The command line, run as a user runs it: in a fresh process."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli


def test_render_writes_markdown_and_latex_and_prints_their_paths(tmp_path):
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "output/backpropagation-example.md", "output/backpropagation-example-network.svg",
        "output/backpropagation-example-loss.svg", "output/backpropagation-example.tex",
    ]
    for suffix in (".md", "-network.svg", "-loss.svg", ".tex"):
        written = (tmp_path / "output" / f"backpropagation-example{suffix}").read_text(encoding="utf-8")
        assert written == (ROOT / "output" / f"backpropagation-example{suffix}").read_text(encoding="utf-8")


def test_render_of_a_spec_file_is_named_after_it(tmp_path):
    spec = tmp_path / "my-net.toml"
    spec.write_text((ROOT / "examples" / "backpropagation-example.toml").read_text())
    result = run_cli("render", str(spec), "--format", "latex", "--output", str(tmp_path / "x.tex"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.tex").read_text().startswith("\\documentclass")
    result = run_cli("render", str(spec), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == [
        "my-net-loss.svg", "my-net-network.svg", "my-net.md", "my-net.tex"]


def test_render_to_standard_output():
    result = run_cli("render", "--format", "markdown", "--output", "-", "--decimals", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# A Step by Step Backpropagation Example")
    assert r"\frac{1}{1 + e^{-0.378}} = 0.593" in result.stdout


def test_values_prints_every_quantity_as_json():
    result = run_cli("values")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["out_h1"] == pytest.approx(0.5932699921071872, abs=0, rel=1e-15)
    assert values["dE_total/dw5"] == pytest.approx(0.08216704056423078, rel=1e-15)
    assert values["w5+"] == pytest.approx(0.3589164797178846, rel=1e-15)
    assert values["E_total@1"] == pytest.approx(0.29102777369359933, rel=1e-15)
    assert values["out_o1@10000"] == pytest.approx(0.015913620, abs=1e-9)
    for key in ("net_h1", "E_total", "dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5", "dE_o1/dnet_o1",
                "dnet_o1/dout_h1", "dE_o1/dout_h1", "dE_o2/dout_h1", "dE_total/dout_h1", "dout_h1/dnet_h1",
                "dnet_h1/dw1", "dE_total/dw1", "w1+", "E_total@10000", "out_o2@10000"):
        assert math.isfinite(values[key]), key


def test_values_of_a_json_spec(tmp_path):
    spec = {"network": {"layers": [1, 1], "weights": [[[0.5]]], "biases": [0.0]},
            "data": {"inputs": [1.0], "targets": [0.0]}, "training": {"iterations": 1}}
    (tmp_path / "tiny.json").write_text(json.dumps(spec))
    result = run_cli("values", str(tmp_path / "tiny.json"))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    out = 1 / (1 + math.exp(-0.5))
    assert values["out_o1"] == pytest.approx(out, rel=1e-15)
    assert values["dE_total/dw1"] == pytest.approx(out * out * (1 - out), rel=1e-14)


@pytest.mark.parametrize(
    "content, expected",
    [
        ("[network]\nlayers = [2]\n", "network.layers"),
        ("[network]\nlayrs = [2, 2]\n", "did you mean 'layers'"),
        ("[network\n", "invalid TOML"),
        ("", "network: missing"),
    ],
)
def test_a_bad_spec_is_one_line_exit_2_and_no_output(tmp_path, content, expected):
    spec = tmp_path / "bad.toml"
    spec.write_text(content)
    result = run_cli("render", str(spec), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and expected in result.stderr
    assert result.stderr.startswith(f"explainer: error: {spec}")
    assert not (tmp_path / "output").exists()


def test_a_missing_spec_file_is_reported(tmp_path):
    result = run_cli("values", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_option_is_one_line_exit_2():
    result = run_cli("render", "--decimals", "many")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--decimals" in result.stderr


def test_a_failed_render_keeps_the_existing_file(tmp_path):
    good = tmp_path / "doc.md"
    good.write_text("an earlier good document")
    spec = tmp_path / "bad.toml"
    spec.write_text("title = 3\n")
    result = run_cli("render", str(spec), "--format", "markdown", "--output", str(good))
    assert result.returncode == 2
    assert good.read_text() == "an earlier good document"
    assert [p.name for p in tmp_path.iterdir()] == sorted(["bad.toml", "doc.md"]) or len(list(tmp_path.iterdir())) == 2


def test_help_and_version_do_not_load_sympy_or_numpy():
    probe = (
        "import sys, runpy; sys.argv = ['explainer', '--help']\n"
        "try:\n    runpy.run_module('explainer', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('LOADED', 'sympy' in sys.modules, 'numpy' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert "usage: explainer" in result.stdout
    assert "LOADED False False" in result.stdout
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("explainer ")


def test_version_is_what_argparse_prints_and_loads_no_argparse(capsys):
    from explainer.cli import build_parser, main

    with pytest.raises(SystemExit) as end:
        build_parser().parse_args(["--version"])
    assert end.value.code == 0
    from_argparse = capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == from_argparse == f"explainer {__import__('explainer').__version__}\n"
    probe = ("import sys, runpy; sys.argv = ['explainer', '--version']\n"
             "try:\n    runpy.run_module('explainer', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('LOADED', 'argparse' in sys.modules, 'shutil' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "LOADED False False", result.stderr


def test_the_parser_of_one_command_reads_it_as_the_whole_parser_does():
    """``main`` builds the arguments of the command it runs only; the others keep their names and help."""
    from explainer.cli import COMMANDS, build_parser

    whole = build_parser()
    assert build_parser("").format_help() == whole.format_help()
    subcommands = lambda parser: next(a for a in parser._actions if a.dest == "command").choices
    for name in COMMANDS:
        alone = build_parser(name)
        assert subcommands(alone)[name].format_help() == subcommands(whole)[name].format_help()
        assert all(not parser._actions[1:] for other, parser in subcommands(alone).items() if other != name)
    arguments = ["check", "answers.txt", "--keys", "keys", "--jobs", "2", "--decimals", "4"]
    assert build_parser("check").parse_args(arguments) == whole.parse_args(arguments)


@pytest.mark.parametrize("columns", [None, "30", "100", "0", "wide"])
def test_help_is_as_wide_as_shutil_measures_the_terminal(columns, monkeypatch):
    import shutil

    from explainer.cli import _terminal_columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _terminal_columns() == shutil.get_terminal_size().columns


def test_help_loads_no_shutil():
    probe = ("import sys, runpy; sys.argv = ['explainer', '--help']\n"
             "try:\n    runpy.run_module('explainer', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('LOADED', 'shutil' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert "usage: explainer" in result.stdout
    assert result.stdout.splitlines()[-1] == "LOADED False", result.stderr


def test_numpy_is_loaded_only_for_networks_too_large_for_straight_line_python(tmp_path):
    from explainer.maths import training

    def loaded(*args: str) -> str:
        probe = (
            "import sys, runpy; sys.argv = ['explainer', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('explainer', run_name='__main__')\n"
            "except SystemExit as end:\n    assert not end.code, end.code\n"
            "print('NUMPY', 'numpy' in sys.modules, file=sys.stderr)"
        )
        result = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stderr.strip().splitlines()[-1]

    assert loaded("render", "--output", str(tmp_path)) == "NUMPY False"
    wide = training.SCALAR_LIMIT + 1  # weights of a 1-(wide)-1 network: 2 · wide
    spec = {"network": {"layers": [1, wide, 1], "weights": [[[0.1]] * wide, [[0.1] * wide]], "biases": [0, 0]},
            "data": {"inputs": [1], "targets": [0.5]}, "training": {"iterations": 2}}
    (tmp_path / "wide.json").write_text(json.dumps(spec))
    assert loaded("values", str(tmp_path / "wide.json")) == "NUMPY True"


def test_help_names_every_command_and_option():
    text = run_cli("render", "--help").stdout
    for option in ("--format", "--output", "--decimals", "--digits", "--detail", "--title", "--author", "--course",
                   "--date", "--paper", "--equation-numbers", "--columns"):
        assert option in text
    assert "values" in run_cli("--help").stdout


def test_render_html_writes_the_committed_page(tmp_path):
    result = run_cli("render", "--format", "html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["output/backpropagation-example.html"]
    written = (tmp_path / "output" / "backpropagation-example.html").read_text(encoding="utf-8")
    assert written == (ROOT / "output" / "backpropagation-example.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("flavor, start", [("myst", "# A Step"), ("pandoc", "---\ntitle: ")])
def test_render_markdown_in_a_flavor(flavor, start):
    result = run_cli("render", "--format", "markdown", "--flavor", flavor, "--output", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(start)


def test_a_flavor_without_markdown_is_one_line_exit_2(tmp_path):
    result = run_cli("render", "--format", "latex", "--flavor", "myst", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "explainer: error: --flavor applies to Markdown, and --format latex writes none\n"
    assert not (tmp_path / "output").exists()
    result = run_cli("render", "--flavor", "gitlab")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--flavor" in result.stderr


def test_the_default_render_does_not_load_the_html_converter(tmp_path):
    """HTML's MathML conversion costs time; a run that writes no HTML must not pay for it."""
    probe = (
        "import sys; from explainer.cli import main\n"
        f"main(['render', '--output', {str(tmp_path)!r}])\n"
        "print('LOADED', 'latex2mathml' in sys.modules, 'explainer.outputs.html' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "LOADED False False" in result.stdout, result.stderr


def test_help_names_the_new_format_and_flavors():
    text = run_cli("render", "--help").stdout
    assert "html" in text and "--flavor" in text
    for flavor in ("github", "mkdocs", "myst", "pandoc"):
        assert flavor in text


def test_the_command_line_knows_the_renderers_formats_and_flavors():
    from explainer import cli
    from explainer.outputs import render

    # The command line writes every format the renderer has, and two more of its own (pdf, values-tex).
    assert set(render.FORMATS) < set(cli.FORMATS) and cli.FLAVORS == render.FLAVORS
    assert set(cli.ALL) < set(cli.FORMATS)
    assert all(cli.SUFFIXES[fmt] == render.SUFFIXES[fmt] for fmt in render.FORMATS)


def test_markdown_to_a_named_file_names_its_figures_after_it(tmp_path):
    result = run_cli("render", "--format", "markdown", "--output", str(tmp_path / "notes" / "week 3.md"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["week 3-loss.svg", "week 3-network.svg", "week 3.md"]
    assert "](week%203-network.svg)" in (tmp_path / "notes" / "week 3.md").read_text()


def test_handout_options_on_the_command_line(tmp_path):
    result = run_cli("render", "--format", "latex", "--output", "-", "--author", "Ada", "--course", "CS 101",
                     "--date", "May", "--paper", "letter", "--columns", "2", "--equation-numbers")
    assert result.returncode == 0, result.stderr
    assert "\\usepackage[letterpaper,margin=1.8cm,columnsep=0.7cm]{geometry}" in result.stdout
    assert "\\author{Ada}" in result.stdout and "\\course{CS 101}" in result.stdout and "\\begin{align}" in result.stdout


def test_a_bad_handout_option_is_one_line_exit_2(tmp_path):
    result = run_cli("render", "--author", "two\nlines", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "explainer: error: the command line: author: expected a one-line string, got a line break\n"
    assert not (tmp_path / "output").exists()
    assert run_cli("render", "--columns", "3").returncode == 2


def test_values_of_several_samples_have_sample_keys():
    result = run_cli("values", str(ROOT / "examples" / "xor.toml"))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    for key in ("out_o1[1]", "E_total[4]", "dE_total/dw5[2]", "dE_total/dw5", "w5+", "dE_total/db1_1", "b2+",
                "E_total@1", "out_o1[3]@10000", "b1_2@10000"):
        assert math.isfinite(values[key]), key
    assert values["out_o1[1]@10000"] > 0.9 and values["out_o1[3]@10000"] < 0.1  # it learned XOR


def test_a_pairing_that_makes_no_sense_is_one_line_exit_2(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text((ROOT / "examples" / "backpropagation-example.toml").read_text()
                    .replace('loss = "half_squared_error"', 'loss = "cross_entropy"'))
    result = run_cli("render", str(spec), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"explainer: error: {spec}: network.loss: cross_entropy needs softmax on the "
                                     "output layer, got sigmoid; for one sigmoid output per class use binary_cross_entropy")


def test_a_saturated_output_is_one_line_exit_2(tmp_path):
    # sigmoid(300) is 1 to 50 digits, so ln(1 - out) and its derivative have no finite value.
    spec = tmp_path / "saturated.toml"
    spec.write_text('[network]\nlayers = [1, 1]\nloss = "binary_cross_entropy"\nweights = [[[300]]]\nbiases = [0]\n'
                    "[data]\ninputs = [1]\ntargets = [0.5]\n")
    result = run_cli("values", str(spec))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "network.weights: E_o1 is not a finite number at 50 digits because an output has saturated" in result.stderr


def test_values_of_a_diverging_run_are_strict_json_with_null(tmp_path):
    spec = {"network": {"layers": [1, 1], "activation": "linear", "weights": [[[0.5]]], "biases": [0]},
            "data": {"inputs": [10], "targets": [1]}, "training": {"learning_rate": 5, "iterations": 1000}}
    (tmp_path / "diverges.json").write_text(json.dumps(spec))
    result = run_cli("values", str(tmp_path / "diverges.json"))
    assert result.returncode == 0, result.stderr

    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    values = json.loads(result.stdout, parse_constant=refuse)
    assert values["E_total@1000"] is None and values["w1@1000"] is None
    assert values["E_total"] == pytest.approx(0.5 * (1 - 5) ** 2, rel=1e-15)
    assert values["E_total@1"] > values["E_total"]  # the first step already overshoots


@pytest.mark.parametrize("argv, said", [
    (["render", "--fromat", "pdf"], "explainer render: error: unrecognized arguments: --fromat; did you mean --format?"),
    (["check", "sheet.txt", "--studnet=ada"], "explainer check: error: unrecognized arguments: --studnet=ada; "
                                               "did you mean --student?"),
    (["render", "one.toml", "two.toml"], "explainer render: error: unrecognized arguments: two.toml"),
    (["values", "spec.toml", "-o"], "explainer values: error: unrecognized arguments: -o"),
])
def test_an_unknown_argument_is_reported_by_its_command_with_the_option_meant(argv, said, capsys):
    from explainer.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip() == said


def test_ctrl_c_ends_the_program_without_a_traceback(monkeypatch, capsys):
    import explainer.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "main", interrupted)
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)  # the program's last step, not this test process's
    with pytest.raises(SystemExit) as stop:
        cli.run()
    assert stop.value.code == 130
    assert capsys.readouterr().err == "explainer: interrupted\n"
