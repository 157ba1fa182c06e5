"""Jupyter: a derivation at the end of a cell shows itself, in a notebook run by a real kernel."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ElementTree

from conftest import ROOT, as_words, require_module
from test_render import _compile

KEY_NUMBERS = ("0.593269992", "0.298371109", "0.082167041", "0.35891648", "0.000438568")


def executed_notebook(tmp_path, monkeypatch, *sources: str, allow_errors: bool = False):
    nbformat = require_module("nbformat")
    require_module("ipykernel")
    nbclient = require_module("nbclient")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel is a child process and inherits it
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    return notebook


def test_a_notebook_shows_the_derivation_as_html_markdown_and_latex(tmp_path, monkeypatch):
    notebook = executed_notebook(
        tmp_path, monkeypatch,
        "import explainer\nexplainer.derive()",
        "explainer.derive({'network': {'layers': [1, 1], 'weights': [[[0.5]]], 'biases': [0.0]},\n"
        "                  'data': {'inputs': [1.0], 'targets': [0.0]}, 'training': {'iterations': 3}})",
    )
    (result,) = notebook.cells[0].outputs
    assert result.output_type == "execute_result"
    data = result.data
    assert {"text/html", "text/markdown", "text/latex", "text/plain"} <= set(data)
    for number in KEY_NUMBERS:
        assert number in data["text/html"] and number in data["text/markdown"] and number in data["text/latex"]
    # JupyterLab typesets $$…$$ and shows a ```math fence as code: the Markdown is the commonmark flavor.
    assert "```math" not in data["text/markdown"] and "\n$$\n\\begin{aligned}\n" in data["text/markdown"]
    fragment = ElementTree.fromstring(data["text/html"])
    assert fragment.get("class") == "explainer" and len(list(fragment.iter("math"))) > 150
    assert data["text/latex"].startswith("\\section*{A Step by Step Backpropagation Example}")
    (small,) = notebook.cells[1].outputs
    # two derivations in one notebook: each heading id carries its own spec's fingerprint
    assert re.search(r'<h1 id="[0-9a-f]{8}-a-step-by-step-backpropagation-example">', small.data["text/html"])
    assert re.search(r'<h1 id="([0-9a-f]{8})-a-step', data["text/html"]).group(1) != \
        re.search(r'<h1 id="([0-9a-f]{8})-a-step', small.data["text/html"]).group(1)
    assert as_words("out_{o1}") in small.data["text/markdown"]


def test_nbconvert_writes_the_shown_derivation_into_its_html(tmp_path, monkeypatch):
    nbconvert = require_module("nbconvert")
    notebook = executed_notebook(tmp_path, monkeypatch, "import explainer\nexplainer.derive()")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    assert body.count("<math") > 150 and "The Forward Pass" in body
    for number in KEY_NUMBERS:
        assert number in body


def test_the_latex_a_notebook_gets_compiles_inside_a_document(default_derivation, tmp_path):
    """nbconvert puts ``text/latex`` into its own document (with amsmath) when it writes a PDF."""
    body = default_derivation._repr_latex_()
    assert "\\documentclass" not in body and "\\begin{document}" not in body
    assert re.search(r"^\\subsection\*\{The Network\}$", body, re.M)
    document = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + body + "\\end{document}\n"
    log = _compile(document, tmp_path)
    assert "undefined" not in log and "LaTeX Error" not in log


# nbconvert's LaTeX, with the preamble of the docs' template: what its PDF export compiles.
NBCONVERT_PREAMBLE = "\\documentclass[11pt]{article}\n\\usepackage{graphicx}\n\\usepackage{amsmath}\n"


def nbconvert_template() -> str:
    """The nbconvert template docs/docs-sites.md gives for a PDF with the figures."""
    page = (ROOT / "docs" / "docs-sites.md").read_text(encoding="utf-8")
    return re.search(r"```jinja\n(\(\(\*- extends 'latex/index\.tex\.j2'.*?)```", page, re.S).group(1)


def pdf_text(latex: str, directory) -> str:
    from conftest import require_tool

    _compile(latex, directory)
    pdftotext = require_tool("pdftotext")
    return subprocess.run([pdftotext, "-layout", str(directory / "document.pdf"), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def test_the_latex_a_notebook_gets_carries_its_figures(tmp_path, monkeypatch):
    """Run by a kernel: the ``text/latex`` output holds both figures, which a PDF shows where the
    preamble loads TikZ and pgfplots (the docs' template) and leaves out where it does not."""
    notebook = executed_notebook(tmp_path, monkeypatch, "import explainer\nexplainer.derive()")
    (result,) = notebook.cells[0].outputs
    latex = result.data["text/latex"]
    assert latex.count("\\begin{tikzpicture}") == 2 and latex.count("\\begin{axis}") == 1
    captions = re.findall(r"\\caption\{(.*?)\}\\label", latex)
    assert len(captions) == 2
    packages = "".join(re.findall(r"^\\(?:usepackage|pgfplotsset)\{.*\}$", nbconvert_template(), re.M))
    assert packages == "\\usepackage{tikz}\\usepackage{pgfplots}\\pgfplotsset{compat=1.18}"
    with_figures = pdf_text(NBCONVERT_PREAMBLE + packages.replace("}\\", "}\n\\") + "\n\\begin{document}\n"
                            + latex + "\\end{document}\n", tmp_path)
    words = " ".join(with_figures.replace("\u2019", "'").split())  # TeX's apostrophe is a right quote
    for caption in captions:
        assert " ".join(caption.split()) in words
    assert "Figure 1:" in words and "Figure 2:" in words and "rounds of training Figure 2" in words  # the x label
    (tmp_path / "plain").mkdir()
    without = " ".join(pdf_text(NBCONVERT_PREAMBLE + "\\begin{document}\n" + latex + "\\end{document}\n",
                                tmp_path / "plain").split())
    assert "Figure" not in without and "The Forward Pass" in without


def test_nbconvert_with_the_documented_template_puts_the_packages_in_its_preamble(tmp_path, monkeypatch):
    nbconvert = require_module("nbconvert")
    notebook = executed_notebook(tmp_path, monkeypatch, "import explainer\nexplainer.derive()")
    template = tmp_path / "explainer.tex.j2"
    template.write_text(nbconvert_template(), encoding="utf-8")
    latex, _ = nbconvert.LatexExporter(template_file=str(template)).from_notebook_node(notebook)
    preamble, body = latex.split("\\begin{document}")
    assert "\\usepackage{tikz}" in preamble and "\\usepackage{pgfplots}" in preamble
    assert "\\usepackage{graphicx}" in preamble and "\\documentclass" in preamble
    assert body.count("\\begin{tikzpicture}") == 2 and "\\caption{" in body


def test_load_ext_gives_the_cell_and_line_magics(tmp_path, monkeypatch):
    (tmp_path / "small.toml").write_text(
        "[network]\nlayers = [1, 1]\nweights = [[[0.5]]]\nbiases = [0.0]\n[data]\ninputs = [1.0]\ntargets = [0.0]\n"
        "[training]\niterations = 3\n", encoding="utf-8")
    notebook = executed_notebook(
        tmp_path, monkeypatch,
        "%load_ext explainer",
        "%%explainer --detail full --decimals 4 --format markdown\n[network]\nlayers = [1, 1]\nweights = [[[0.5]]]\n"
        "biases = [0.0]\n[data]\ninputs = [1.0]\ntargets = [0.0]\n[training]\niterations = 3\n",
        "%explainer small.toml",
        "%%explainer\n[network]\nlayers = [2]\n",
        allow_errors=True,
    )
    (cell,) = notebook.cells[1].outputs
    assert set(cell.data) - {"text/plain"} == {"text/markdown"} and "0.6225" in cell.data["text/markdown"]
    assert "```math" not in cell.data["text/markdown"] and "\n$$" in cell.data["text/markdown"]
    (line,) = notebook.cells[2].outputs
    assert {"text/html", "text/markdown", "text/latex"} <= set(line.data) and "0.622459331" in line.data["text/markdown"]
    # a bad spec is one line (IPython's UsageError), no traceback
    (error,) = notebook.cells[3].outputs
    assert error.output_type == "stream" and error.name == "stderr"
    assert error.text.strip().splitlines() == [
        "UsageError: %%explainer cell: network.layers: expected at least two layers (inputs and outputs), got 1"]
