"""The shipped examples, as a user who installed with pip finds them: listed,
printed, and read by name wherever a spec is asked for."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import ROOT, run_cli
from explainer import SpecError, load_spec
from explainer.spec.examples import example, shipped_examples, summary

SHIPPED = sorted(path.name for path in (ROOT / "examples").iterdir() if path.is_file())


def test_every_file_of_the_examples_folder_is_a_shipped_example():
    files = sorted(shipped.path.name for shipped in shipped_examples())
    assert files == SHIPPED


def test_examples_lists_each_with_one_line_specs_first():
    result = run_cli("examples")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(SHIPPED)
    names = [line.split()[0] for line in lines]
    specs = sorted(name.removesuffix(".toml") for name in SHIPPED if name.endswith(".toml"))
    assert names[: len(specs)] == specs
    assert "answers.txt" in names[len(specs):]
    for line in lines:
        assert len(line.split(maxsplit=1)) == 2, f"no description: {line!r}"
    assert any(line.startswith("xor ") and "XOR" in line for line in lines)


@pytest.mark.parametrize("name, file", [("xor", "xor.toml"), ("answers.txt", "answers.txt")])
def test_examples_name_prints_the_file_as_shipped(name, file):
    result = run_cli("examples", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "examples" / file).read_text(encoding="utf-8")


def test_an_unknown_example_is_one_line_with_the_nearest_name(tmp_path):
    result = run_cli("examples", "xro", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "explainer: error: examples: no example named 'xro'; did you mean 'xor'?\n"


def test_render_by_name_is_render_of_the_file(tmp_path):
    by_name = run_cli("render", "xor", "--format", "markdown", "--output", "-", cwd=tmp_path)
    by_path = run_cli("render", str(ROOT / "examples" / "xor.toml"), "--format", "markdown", "--output", "-")
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == by_path.stdout
    assert by_name.stdout == (ROOT / "output" / "xor.md").read_text(encoding="utf-8")


def test_a_name_is_the_example_and_its_files_are_named_after_it():
    by_name = load_spec("two-hidden-layers-tanh")
    by_path = load_spec(ROOT / "examples" / "two-hidden-layers-tanh.toml")
    assert by_name.name == by_path.name == "two-hidden-layers-tanh"
    assert dataclasses.replace(by_name, source=by_path.source) == by_path


def test_a_file_wins_over_an_example_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xor").write_text("not a spec", encoding="utf-8")
    with pytest.raises(SpecError, match=r"^xor: expected a \.toml or \.json file, got 'xor'$"):
        load_spec("xor")


def test_an_unknown_name_offers_the_nearest_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match=r"^xr: expected a \.toml or \.json file or the name of a shipped example, "
                                        r"got 'xr'; did you mean 'xor'\?$"):
        load_spec("xr")
    # A path is never taken for a name.
    with pytest.raises(SpecError, match="cannot read"):
        load_spec("sub/xor.toml")


def test_check_takes_an_example_as_its_spec(tmp_path):
    (tmp_path / "sheet.txt").write_text("E_total = 0.136346182\n", encoding="utf-8")
    result = run_cli("check", "sheet.txt", "--spec", "xor", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "checked against xor" in result.stdout
    assert "1 checked: 1 correct." in result.stdout


@pytest.mark.parametrize("text, expected", [
    ("# One sentence. Another.\n# more\n[network]\n", "One sentence."),
    ("# A first sentence that goes on\n# over two lines. And more.\n", "A first sentence that goes on over two lines."),
    ('title = "Only a title"\n[network]\n', "Only a title"),
    ("[network]\n", ""),
])
def test_the_line_that_describes_an_example(text, expected):
    assert summary(text) == expected


def test_every_shipped_example_is_described():
    for shipped in shipped_examples():
        assert shipped.summary, shipped.name
        assert example(shipped.name) == shipped
