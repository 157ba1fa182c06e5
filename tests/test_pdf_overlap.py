"""TeX's first pass, started on the preamble while the derivation is worked out: the same
PDF as a compile from the start, no file and no engine left behind when anything fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import explainer
from explainer import cli
from explainer.outputs import pdf
from explainer.outputs.preamble import document_preamble, slides_preamble
from explainer.outputs.slides import render_slides
from explainer.spec.errors import ExplainerError
from explainer.spec.reading import with_overrides
from conftest import ROOT, require_tool, run_cli


@pytest.fixture(scope="module")
def tex():
    require_tool("latexmk")
    require_tool("pdflatex")


@pytest.fixture(autouse=True)
def fixed_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")


@pytest.fixture
def passes(monkeypatch):
    """Every first pass the command line starts."""
    started = []
    real = pdf.start_first_pass

    def recorded(program):
        first_pass = real(program)
        started.append(first_pass)
        return first_pass

    monkeypatch.setattr(pdf, "start_first_pass", recorded)
    return started


def started(beginning: str) -> pdf.FirstPass:
    """A first pass for the engine ``beginning`` asks for, sent ``beginning``."""
    first_pass = pdf.start_first_pass(pdf.engine(beginning))
    first_pass.begin(beginning)
    return first_pass


def assert_gone(first_pass: pdf.FirstPass) -> None:
    """Every engine has ended and their directory is removed."""
    assert first_pass._process.poll() is not None
    assert len(first_pass._engines) >= 2
    for engine_run in first_pass._engines:
        assert engine_run.process.poll() is not None
    assert not Path(first_pass._directory).exists()


def latexmk_passes(latex: str, directory: Path) -> int:
    """How many passes a bare latexmk makes over ``latex``, from the start."""
    import subprocess

    (directory / "document.tex").write_text(latex, encoding="utf-8")
    result = subprocess.run(["latexmk", "-pdf", "-norc", "-interaction=nonstopmode", "-halt-on-error",
                             "document.tex"], cwd=directory, capture_output=True, text=True, check=True)
    return (result.stdout + result.stderr).count("Run number ")


def engines_run(first_pass: pdf.FirstPass) -> int:
    """How many of the first pass's engines read the whole document (the others were stopped)."""
    return sum(engine_run.process.returncode == 0 for engine_run in first_pass._engines)


def spec(title: str | None = None):
    default = explainer.load_spec()
    return with_overrides(default, {"title": title}) if title else default


# --- the preamble ----------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{}, {"handout.columns": 2}, {"handout.paper": "letter", "title": "Ωμέγα"},
                                       {"title": "مرحبا", "course": "שלום"}, {"handout.equation_numbers": True}])
def test_the_documents_start_with_the_preamble_of_their_spec(overrides):
    document_spec = with_overrides(explainer.load_spec(), overrides)
    derivation = explainer.derive(document_spec)
    latex = derivation.to_latex()
    assert latex.startswith(document_preamble(document_spec))
    assert document_preamble(document_spec).endswith("\\begin{document}\n\\maketitle\n")
    for aspect in ("16:9", "4:3"):
        assert render_slides(derivation, aspect).startswith(slides_preamble(document_spec, aspect))


def test_the_preamble_needs_no_sympy():
    import subprocess
    import sys

    code = ("import sys; from explainer.spec.reading import load_spec; from explainer.outputs.preamble import "
            "document_preamble, slides_preamble; document_preamble(load_spec(None)); slides_preamble(load_spec(None)); "
            "print('sympy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout == "False\n"


# --- the same bytes ----------------------------------------------------------------------


@pytest.mark.parametrize("title", [None, "Ωμέγα 😀"])
def test_a_first_pass_gives_the_bytes_and_report_of_a_compile_from_the_start(tex, title):
    if title:
        require_tool("lualatex")
    document_spec = spec(title)
    latex = explainer.derive(document_spec).to_latex()
    first_pass = started(document_preamble(document_spec))
    assert first_pass.program == ("lualatex" if title else "pdflatex")
    overlapped = pdf.compile_pdf(latex, first_pass)
    assert_gone(first_pass)
    assert overlapped == pdf.compile_pdf(latex)


@pytest.mark.parametrize("kind", ["handout", "slides"])
def test_the_passes_are_as_many_as_latexmks(tex, tmp_path, kind):
    document_spec = spec()
    derivation = explainer.derive(document_spec)
    latex, beginning = ((derivation.to_latex(), document_preamble(document_spec)) if kind == "handout"
                        else (render_slides(derivation), slides_preamble(document_spec)))
    first_pass = started(beginning)
    pdf.compile_pdf(latex, first_pass)
    assert_gone(first_pass)
    assert engines_run(first_pass) == latexmk_passes(latex, tmp_path) == 2


# A table of contents that grows to a second page when it is filled in, moving every section on
# by a page: its page numbers change again in the second pass, and a third pass is needed.
CONTENTS = ("\\documentclass{article}\n\\begin{document}\n\\tableofcontents\n\\clearpage\n"
            + "".join(f"\\section{{Section {n}}}\\label{{s{n}}}Page \\pageref{{s{n}}}.\\clearpage\n"
                      for n in range(70))
            + "\\end{document}\n")


def test_a_document_that_needs_more_passes_gets_them(tex, tmp_path):
    first_pass = started(CONTENTS[:CONTENTS.index("\\tableofcontents")])
    overlapped = pdf.compile_pdf(CONTENTS, first_pass)
    assert_gone(first_pass)
    assert overlapped == pdf.compile_pdf(CONTENTS)
    assert engines_run(first_pass) == latexmk_passes(CONTENTS, tmp_path) >= 3


def test_the_command_line_gives_the_committed_slides_and_the_pdf_of_a_compile_from_the_start(tex, tmp_path, passes,
                                                                                             capsys):
    assert cli.main(["render", "--format", "slides", "--output", str(tmp_path / "slides.pdf")]) == 0
    assert (tmp_path / "slides.pdf").read_bytes() == (ROOT / "output" / "backpropagation-example-slides.pdf").read_bytes()
    assert cli.main(["render", "--format", "pdf", "--output", str(tmp_path / "document.pdf")]) == 0
    latex = explainer.derive().to_latex()
    assert (tmp_path / "document.pdf").read_bytes() == pdf.compile_pdf(latex)[0]
    assert len(passes) == 2
    for first_pass in passes:
        assert_gone(first_pass)
    assert capsys.readouterr().err == ""


def test_only_a_lone_pdf_or_slides_starts_a_first_pass(tex, tmp_path, passes, capsys):
    assert cli.main(["render", "--format", "latex", "--output", str(tmp_path / "document.tex")]) == 0
    assert passes == []


# --- falling back, failing -----------------------------------------------------------------


def test_a_document_that_does_not_start_with_the_preamble_is_compiled_from_the_start(tex):
    latex = explainer.derive().to_latex()
    other = document_preamble(spec("Another title"))
    assert not latex.startswith(other)
    first_pass = started(other)
    assert pdf.compile_pdf(latex, first_pass) == pdf.compile_pdf(latex)
    assert_gone(first_pass)


def test_a_document_for_another_engine_is_compiled_from_the_start(tex):
    require_tool("lualatex")
    latex = explainer.derive(spec("Ωμέγα")).to_latex()
    first_pass = pdf.start_first_pass("pdflatex")
    assert pdf.compile_pdf(latex, first_pass) == pdf.compile_pdf(latex)
    assert_gone(first_pass)


def test_a_first_pass_may_be_given_the_whole_document_at_once(tex):
    latex = explainer.derive().to_latex()
    first_pass = pdf.start_first_pass("pdflatex")
    assert pdf.compile_pdf(latex, first_pass) == pdf.compile_pdf(latex)
    assert_gone(first_pass)


def failure_as_from_the_start(latex: str, begun: str) -> str:
    """The error of ``latex`` compiled with a first pass begun on ``begun``: no engine left, and the same
    message as a compile from the start."""
    first_pass = started(begun)
    with pytest.raises(pdf.LatexFailed) as raised:
        pdf.compile_pdf(latex, first_pass)
    assert_gone(first_pass)
    with pytest.raises(pdf.LatexFailed) as from_the_start:
        pdf.compile_pdf(latex)
    assert str(raised.value) == str(from_the_start.value)
    return str(raised.value)


def test_a_latex_error_after_the_preamble_is_one_line_and_leaves_nothing(tex):
    latex = explainer.derive().to_latex().replace("\\end{document}", "\\frobnicate\n\\end{document}")
    message = failure_as_from_the_start(latex, document_preamble(spec()))
    assert "\n" not in message and "Undefined control sequence" in message


def test_a_latex_error_in_a_later_pass_is_one_line_and_leaves_nothing(tex):
    # The label is known from the .aux only in the second pass, and there the document fails.
    latex = ("\\documentclass{article}\n\\begin{document}\nText.\\label{x}\n"
             "\\makeatletter\\@ifundefined{r@x}{}{\\frobnicate}\\makeatother\n\\end{document}\n")
    assert "Undefined control sequence" in failure_as_from_the_start(latex, latex[:latex.index("Text.")])


def test_a_latex_error_in_the_preamble_stops_the_engine_before_the_rest_is_known(tex):
    broken = document_preamble(spec()).replace("\\begin{document}", "\\frobnicate\n\\begin{document}")
    first_pass = started(broken)
    # The engine stops by itself, without waiting for the rest of the document.
    first_pass._process.wait(timeout=120)
    with pytest.raises(pdf.LatexFailed, match="Undefined control sequence"):
        pdf.compile_pdf(broken + "Text.\n\\end{document}\n", first_pass)
    assert_gone(first_pass)


def test_a_failing_derivation_writes_nothing_and_stops_the_engine(tex, tmp_path, passes, monkeypatch, capsys):
    def failing(spec):
        raise ExplainerError("the derivation failed")

    monkeypatch.setattr(explainer, "derive", failing)
    output = tmp_path / "document.pdf"
    assert cli.main(["render", "--format", "pdf", "--output", str(output)]) == 2
    assert capsys.readouterr().err == "explainer: error: the derivation failed\n"
    assert not output.exists() and os.listdir(tmp_path) == []
    assert len(passes) == 1
    assert_gone(passes[0])


def test_cancelling_twice_is_harmless(tex):
    first_pass = started(document_preamble(spec()))
    first_pass.cancel()
    first_pass.cancel()
    assert_gone(first_pass)
    with pytest.raises(RuntimeError):
        first_pass.finish(explainer.derive().to_latex())


def test_without_tex_no_first_pass_starts_and_the_command_says_what_to_install(tmp_path):
    import sys

    result = run_cli("render", "--format", "pdf", cwd=tmp_path, env={"PATH": str(Path(sys.executable).parent)})
    assert result.returncode == 2
    assert result.stderr.startswith("explainer: error: cannot make a PDF: latexmk is not installed;")
    assert not (tmp_path / "output").exists()
