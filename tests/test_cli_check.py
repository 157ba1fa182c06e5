"""``explainer check`` run as a user runs it: in a fresh process."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "answers.txt"


def test_the_example_sheet(tmp_path):
    result = run_cli("check", str(EXAMPLE), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{EXAMPLE}, checked against the built-in example"
    assert lines[-1] == "20 checked: 11 correct, 2 rounding, 3 carried forward, 3 wrong, 1 unknown."
    assert "\033[" not in result.stdout  # not a terminal: no colour
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_values_fed_back_pass(tmp_path):
    values = run_cli("values")
    result = subprocess.run([sys.executable, "-m", "explainer", "check", "-"], input=values.stdout, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "<stdin>, checked against the built-in example"
    assert result.stdout.splitlines()[-1] == f"{len(json.loads(values.stdout))} checked: {len(json.loads(values.stdout))} correct."


def test_a_spec_of_its_own(tmp_path):
    spec = tmp_path / "sequential.toml"
    spec.write_text((ROOT / "examples" / "backpropagation-example.toml").read_text().replace('"simultaneous"', '"sequential"'))
    sheet = tmp_path / "answers.txt"
    sheet.write_text("E_total@1 = 0.291027924\nout_o1@10000 = 0.015912196\n")
    result = run_cli("check", str(sheet), "--spec", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"checked against {spec}" in result.stdout
    assert run_cli("check", str(sheet)).returncode == 1


def test_json_and_markdown():
    result = run_cli("check", str(EXAMPLE), "--format", "json")
    assert result.returncode == 1
    objects = json.loads(result.stdout)
    assert {o["verdict"] for o in objects} == {"correct", "rounding", "carried forward", "wrong", "unknown"}
    assert all(set(o) == {"line", "key", "role", "given", "given_value", "expected", "verdict", "hint"} for o in objects)
    markdown = run_cli("check", str(EXAMPLE), "--format", "markdown")
    assert markdown.returncode == 1
    assert "| line | quantity | given | expected | verdict | hint |" in markdown.stdout


def test_colour_on_a_terminal_only():
    def on_a_terminal(env: dict) -> str:
        main, terminal = pty.openpty()
        environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        subprocess.run([sys.executable, "-m", "explainer", "check", str(EXAMPLE)], stdout=terminal,
                       env={**environment, "PYTHONPATH": str(ROOT), **env}, cwd=ROOT, timeout=300)
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(main)
        return b"".join(chunks).decode()

    assert "\033[31mwrong\033[0m" in on_a_terminal({})
    assert "\033[" not in on_a_terminal({"NO_COLOR": "1"})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"nothing to check here\n", "no answers found"),
        (b"out_h1 = \xff\xfe 0.5\n", "not UTF-8"),
    ],
)
def test_an_unusable_sheet_is_one_line_exit_2(tmp_path, content, expected):
    sheet = tmp_path / "sheet.txt"
    sheet.write_bytes(content)
    result = run_cli("check", str(sheet))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"explainer: error: {sheet}: ") and expected in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_missing_sheet_or_a_bad_spec_is_exit_2(tmp_path):
    missing = run_cli("check", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and missing.stderr.count("\n") == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nlayers = [2]\n")
    result = run_cli("check", str(EXAMPLE), "--spec", str(bad))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"explainer: error: {bad}: network.layers") and "Traceback" not in result.stderr
    assert run_cli("check", str(EXAMPLE), "--format", "html").returncode == 2


def test_help_names_check_and_its_options():
    assert "check" in run_cli("--help").stdout
    text = run_cli("check", "--help").stdout
    for option in ("ANSWERS", "--spec", "--format", "text", "markdown", "json"):
        assert option in text


def test_the_docs_show_what_check_prints():
    # As a user who copied the shipped sheet runs it: explainer examples answers.txt > answers.txt
    result = run_cli("check", "answers.txt", cwd=ROOT / "examples")
    page = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    assert f"```\n{result.stdout}```" in page


def _fenced_sheets(page: str):
    """The sheets docs/check.md shows with each line's reading in a comment (``# m_w5@1: …``), each with the
    command the text before it gives and the summary the text after it states."""
    for match in re.finditer(r"```\n(?P<sheet>.*?)```(?P<after>.*?)(?=```|\Z)", page, re.S):
        lines = match.group("sheet").splitlines()
        if not lines or not all(" # " in line for line in lines):
            continue
        before = page[:match.start()].rsplit("```", 1)[-1]
        command = re.findall(r"`explainer check (\S+) --spec (\S+)` exits (\d)", before)
        summary = re.search(r"`(\d+ checked: [^`]+)`", match.group("after"))
        yield lines, command[-1], summary.group(1) if summary else None


def test_every_annotated_sheet_of_the_docs_gets_the_verdicts_the_docs_state(tmp_path):
    page = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    sheets = list(_fenced_sheets(page))
    assert sheets, "docs/check.md shows no annotated sheet"
    for lines, (name, spec, status), summary in sheets:
        sheet = tmp_path / name
        sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")  # exactly as the page shows it
        stated = [line.split(" # ", 1)[1].split(":")[0].strip() for line in lines]
        expected = [(n, "t" if said == "context" else said, "context" if said == "context" else "correct")
                    for n, said in enumerate(stated, start=1)]
        for fmt in ("text", "markdown", "json"):
            result = run_cli("check", str(sheet), "--spec", spec, "--format", fmt)
            assert result.returncode == int(status), (fmt, result.stdout + result.stderr)
            if fmt == "json":
                got = [(o["line"], o["key"], o["verdict"]) for o in json.loads(result.stdout)]
                assert got == expected
            else:
                assert result.stdout.rstrip().splitlines()[-1] == summary, result.stdout
                assert "not understood" not in result.stdout


def test_every_sheet_line_the_docs_show_is_read_as_a_claim_of_the_example(default_derivation):
    import explainer

    page = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    shown = page[page.index("## The answers"):page.index("An optimizer's state reads")]
    spans = [s for s in re.findall(r"`([^`\n]+)`", shown) if re.search(r"\d", s) and re.search(r"=|\":", s)]
    assert len(spans) >= 10
    for span in spans:
        verdicts = explainer.check(span, default_derivation)
        assert verdicts and all(v.verdict not in ("unknown", "not understood") for v in verdicts), (span, verdicts)
        assert all(v.key in default_derivation.values or v.key in default_derivation.parameters for v in verdicts)
