"""The values as LaTeX macros: every key defined, the document's digits, usable in a real LaTeX document."""

from __future__ import annotations

import re
import subprocess

import pytest

import explainer
from explainer.outputs.macros import values_tex
from conftest import require_tool, run_cli
from test_render import DEEP

DEFINITION = re.compile(r"^\\expandafter\\def\\csname explainer@value@\\detokenize\{(.+?)\}\\endcsname\{(.*)\}$", re.M)


def macro_values(text: str) -> dict[str, str]:
    return dict(DEFINITION.findall(text))


def test_every_parameter_and_quantity_has_a_macro(default_derivation):
    values = macro_values(values_tex(default_derivation))
    assert list(values) == [*default_derivation.spec_parameters(), *default_derivation.values]
    assert values["out_h1"] == "0.593269992"
    assert values["dE_total/dw5"] == "0.082167041"
    assert values["w5+"] == "0.35891648"
    assert values["dE_o2/dout_h1"] == "-0.019049118"  # the source's mistake, corrected
    assert values["dnet_o1/dout_h1"] == "0.40"  # a quantity that is a parameter, printed as written
    assert values["E_total@10000"] == "0.000035102"
    assert values["w5"] == "0.40" and values["eta"] == "0.5"


@pytest.mark.parametrize("spec", [None, DEEP], ids=["source", "deep"])
@pytest.mark.parametrize("options", [{}, {"decimals": 4}, {"digits": 3}], ids=["9 decimals", "4 decimals", "3 digits"])
def test_macros_agree_with_the_document_to_the_last_digit(spec, options):
    """Each equation of the full document ends with the number its macro holds."""
    d = explainer.derive(spec)
    values = macro_values(values_tex(d, decimals=options.get("decimals", 9), digits=options.get("digits")))
    document = d.to_latex(detail="full", **options)
    for key in d.equations:
        assert re.search(rf"= {re.escape(values[key])}(\n| \\\\)", document), (key, values[key])


def test_cli_writes_the_macros_beside_the_documents(tmp_path):
    result = run_cli("render", "--format", "values-tex", "--decimals", "4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["output/backpropagation-example-values.tex"]
    text = (tmp_path / "output" / "backpropagation-example-values.tex").read_text()
    assert macro_values(text)["out_h1"] == "0.5933"


@pytest.mark.parametrize("preamble", ["", "\\usepackage{underscore}"], ids=["plain", "active underscore"])
def test_a_latex_document_prints_the_values(tmp_path, default_derivation, preamble):
    latexmk = require_tool("latexmk")
    require_tool("pdflatex")
    pdftotext = require_tool("pdftotext")
    (tmp_path / "values.tex").write_text(values_tex(default_derivation, decimals=12))
    (tmp_path / "notes.tex").write_text(
        "\\documentclass{article}" + preamble + "\\input{values}\\begin{document}\n"
        "A: \\expval{out_h1}. B: $\\expval{dE_total/dw5}$. C: \\expval{w5+}. D: \\expval{E_total@10000}.\n"
        "E: \\expval{dE_o2/dout_h1}.\n\\end{document}\n")
    result = subprocess.run([latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (tmp_path / "notes.log").read_text(encoding="latin-1")[-2000:]
    text = subprocess.run([pdftotext, "notes.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert "A: 0.593269992107." in text and "B: 0.082167040564." in text and "C: 0.358916479718." in text
    assert "D: 0.000035101878." in text
    assert "E: −0.019049118258." in text  # a minus sign, as in math


def test_an_unknown_key_stops_latex_with_its_name(tmp_path, default_derivation):
    latexmk = require_tool("latexmk")
    require_tool("pdflatex")
    (tmp_path / "values.tex").write_text(values_tex(default_derivation))
    (tmp_path / "notes.tex").write_text("\\documentclass{article}\\input{values}\\begin{document}"
                                        "\\expval{out_h9}\\end{document}\n")
    result = subprocess.run([latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "explainer: no value named out_h9" in (tmp_path / "notes.log").read_text(encoding="latin-1")


@pytest.mark.parametrize("example", ["xor", "relu-regression", "softmax-classifier"])
def test_specs_with_several_samples_have_macros_for_each_sample(tmp_path, example):
    """Keys of one sample carry it in brackets (i1[1], out_o1[2]): TeX names them too, and prints them."""
    result = run_cli("render", f"examples/{example}.toml", "--format", "values-tex", "--output", str(tmp_path / "v.tex"))
    assert result.returncode == 0, result.stderr
    values = macro_values((tmp_path / "v.tex").read_text())
    d = explainer.derive(f"examples/{example}.toml")
    assert list(values) == [*d.spec_parameters(), *d.values]
    assert "i1[1]" in values and "E_total[2]" in values


def test_a_sample_key_prints_in_latex(tmp_path):
    latexmk = require_tool("latexmk")
    require_tool("pdflatex")
    pdftotext = require_tool("pdftotext")
    d = explainer.derive("examples/xor.toml")
    (tmp_path / "values.tex").write_text(values_tex(d))
    (tmp_path / "notes.tex").write_text("\\documentclass{article}\\input{values}\\begin{document}\n"
                                        "A: \\expval{i1[2]}. B: $\\expval{E_total[2]}$.\n\\end{document}\n")
    result = subprocess.run([latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (tmp_path / "notes.log").read_text(encoding="latin-1")[-2000:]
    text = subprocess.run([pdftotext, "notes.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
    shown = macro_values(values_tex(d))
    assert f"A: {shown['i1[2]']}." in text and f"B: {shown['E_total[2]']}." in text
