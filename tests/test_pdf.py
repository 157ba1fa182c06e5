"""The PDF, made by the real TeX toolchain: clean logs, the source's numbers, the same bytes every time."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import explainer
from explainer.outputs import pdf
from explainer.spec.reading import with_overrides
import pdf_layout
from conftest import ROOT, require_tool, run_cli
from test_diagram import SHAPES
from test_render import DEEP

SOURCE_NUMBERS = ["0.593269992", "0.298371109", "0.082167041", "0.35891648", "0.000438568",
                  "0.74136507", "0.186815602", "0.036350306", "0.291027774", "0.000035102"]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


@pytest.fixture(scope="module")
def tex():
    require_tool("latexmk")
    require_tool("pdflatex")


def assert_clean(report: pdf.LogReport):
    assert not report.problems(), report.problems()
    assert not [line for line in report.underfull if "hbox" in line], report.underfull


def pdf_text(path: Path) -> str:
    return subprocess.run([require_tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout


# --- the log check --------------------------------------------------------------------

LOG = r"""This is pdfTeX, Version 3.141592653-2.6-1.40.24 (TeX Live 2022/Debian) (preloaded format=pdflatex)
Overfull \hbox (12.3pt too wide) in paragraph at lines 40--41
[]\T1/lmr/m/n/10.95 A
Underfull \hbox (badness 10000) in paragraph at lines 50--51
LaTeX Warning: Reference `fig:network' on page 1 undefined on input line 60.
LaTeX Warning: Float too large for page by 20.0pt on input line 70.
! Undefined control sequence.
l.80 \frobnicate
LaTeX Warning: There were undefined references.
"""


def test_check_log_sorts_what_is_wrong():
    report = pdf.check_log(LOG)
    assert report.errors == ("! Undefined control sequence.",)
    assert report.overfull == ("Overfull \\hbox (12.3pt too wide) in paragraph at lines 40--41",)
    assert report.underfull == ("Underfull \\hbox (badness 10000) in paragraph at lines 50--51",)
    assert len(report.undefined) == 2 and len(report.floats) == 1
    assert len(report.problems()) == 5  # underfull boxes are loose, not wrong


def test_a_latex_error_is_one_line_with_its_place():
    error = pdf._failure(LOG, pdf.check_log(LOG))
    assert isinstance(error, pdf.LatexFailed)
    assert str(error) == ("cannot make a PDF: LaTeX stopped at line 80 of the LaTeX: Undefined control sequence. "
                          "(see it with --format latex)")


@pytest.mark.parametrize("file, package", [("tikz.sty", "texlive-pictures"), ("pgfplots.sty", "texlive-pictures"),
                                           ("lmodern.sty", "lmodern"), ("odd.sty", " ".join(pdf.DEBIAN_PACKAGES))])
def test_a_missing_latex_package_names_the_debian_package(file, package):
    log = f"! LaTeX Error: File `{file}' not found.\n"
    error = pdf._failure(log, pdf.check_log(log))
    assert isinstance(error, pdf.TexMissing)
    assert str(error) == f"cannot make a PDF: LaTeX cannot find {file}; on Debian or Ubuntu run: apt-get install {package}"


def test_without_tex_the_command_says_what_to_install(tmp_path):
    # A PATH without latexmk and pdflatex: only the directory of this Python.
    result = run_cli("render", "--format", "pdf", cwd=tmp_path, env={"PATH": str(Path(sys.executable).parent)})
    assert result.returncode == 2
    assert result.stderr == ("explainer: error: cannot make a PDF: latexmk is not installed; on Debian or Ubuntu run: "
                             "apt-get install latexmk texlive-latex-base texlive-latex-recommended texlive-pictures "
                             "lmodern\n")
    assert not (tmp_path / "output").exists()


# --- real PDFs ------------------------------------------------------------------------


def test_the_default_pdf_has_the_sources_numbers_and_is_the_same_bytes_every_time(tex, tmp_path):
    builds = []
    for run, epoch in (("first", None), ("second", "1700000000")):
        directory = tmp_path / run
        directory.mkdir()
        env = {"SOURCE_DATE_EPOCH": epoch} if epoch else {}
        result = run_cli("render", "--format", "pdf", cwd=directory, env=env)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert result.stdout == "output/backpropagation-example.pdf\n"
        builds.append((directory / "output" / "backpropagation-example.pdf").read_bytes())
    assert builds[0] == builds[1]
    assert builds[0].startswith(b"%PDF") and b"/CreationDate" not in builds[0] and b"/ID" not in builds[0]
    text = pdf_text(tmp_path / "first" / "output" / "backpropagation-example.pdf")
    for number in SOURCE_NUMBERS:
        assert number in text, number


# Every document to compile, by test id: (spec, overrides of the spec's document fields, detail).
DOCUMENTS = {
    **{f"example {e.stem}, {detail}": (e, {}, detail) for e in EXAMPLES for detail in ("source", "full")},
    "2-3-2-2, full": (DEEP, {}, "full"),
    "1-1, source": (SHAPES["1-1"], {}, "source"),
    "3-4-1, full": ({**SHAPES["3-4-1"], "training": {"iterations": 500}}, {}, "full"),
    "a bias per neuron, full": ({**SHAPES["2-3-2-2, a bias per neuron"], "training": {"iterations": 3}}, {}, "full"),
    "10-30-20-10, source": ({**SHAPES["10-30-20-10"], "training": {"iterations": 100}}, {}, "source"),
    "two columns, full": (None, {"handout.columns": 2}, "full"),
    "numbered, letter, full": (None, {"handout.equation_numbers": True, "handout.paper": "letter"}, "full"),
}


@pytest.fixture(scope="module")
def compiled(tex):
    """Every document of DOCUMENTS compiled, several at once (LaTeX runs take a core each).

    Only the compiling runs in threads: a derivation sets mpmath's precision, which is global.
    """
    texts = [explainer.derive(with_overrides(explainer.load_spec(spec), overrides)).to_latex(detail=detail)
             for spec, overrides, detail in DOCUMENTS.values()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(DOCUMENTS, pool.map(pdf.compile_pdf, texts)))


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_documents_compile_cleanly(compiled, name):
    """Every shipped example and several other networks and layouts, at both levels of detail."""
    document, report = compiled[name]
    assert document.startswith(b"%PDF")
    assert_clean(report)


@pytest.mark.parametrize("name, page_size", [("two columns, full", "595.276 x 841.89 pts (A4)"),
                                             ("numbered, letter, full", "612 x 792 pts (letter)")])
def test_paper_size(compiled, tmp_path, name, page_size):
    (tmp_path / "handout.pdf").write_bytes(compiled[name][0])
    info = subprocess.run([require_tool("pdfinfo"), "handout.pdf"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert page_size in info


def test_the_command_line_sets_the_title_block_and_warns_about_layout_problems(tex, tmp_path):
    # One unbreakable word wider than the page: LaTeX can only let it stick out.
    title = "Back" + "propagation" * 12
    result = run_cli("render", "--format", "pdf", "--title", title, "--author", "Ada & Co",
                     "--output", str(tmp_path / "handout.pdf"))
    assert result.returncode == 0
    assert result.stderr.startswith("explainer: warning: handout.pdf: Overfull \\hbox")
    text = pdf_text(tmp_path / "handout.pdf")
    assert "Ada & Co" in text and "0.593269992" in text


def test_pdf_to_standard_output(tex):
    result = subprocess.run([sys.executable, "-m", "explainer", "render", "--format", "pdf", "--output", "-"],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=300)
    assert result.returncode == 0 and result.stdout.startswith(b"%PDF") and result.stdout.rstrip().endswith(b"%%EOF")


# --- the layout, as the reader sees it -------------------------------------------------

CM = 72 / 2.54
TOLERANCE = 4  # points: two pixels at the 36 dpi the pages are read at
DEPTH = 10  # points: the text area ends at the last line's baseline, and a fraction hangs below it


def text_area(name: str, page: pdf_layout.Page) -> tuple[float, float, float, float]:
    """The text area of a page of DOCUMENTS[name]: left, top, right, bottom in points (the margins of the preamble)."""
    spec, overrides, _ = DOCUMENTS[name]
    columns = with_overrides(explainer.load_spec(spec), overrides).handout.columns
    margin = (1.8 if columns == 2 else 2.5) * CM
    return margin, margin, page.width - margin, page.height - margin


@pytest.fixture(scope="module")
def pages(compiled):
    return {name: pdf_layout.read_pages(document) for name, (document, _) in compiled.items()}


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_nothing_is_printed_outside_the_margins(pages, name):
    for number, page in enumerate(pages[name], 1):
        left, top, right, bottom = text_area(name, page)
        outside = page.ink_outside(left - TOLERANCE, top - TOLERANCE, right + TOLERANCE, bottom + DEPTH)
        # Only the page number lives below the text, in the middle.
        stray = [(x, y) for x, y in outside if not (abs(x - page.width / 2) < 20 and bottom < y < bottom + 45)]
        assert not stray, f"page {number}: ink outside the margins at {stray[:5]}"
        words = [w for w in page.words if w.x_min < left - TOLERANCE or w.x_max > right + TOLERANCE
                 or w.y_min < top - TOLERANCE or (w.y_max > bottom + DEPTH and not w.text.isdigit())]
        assert not words, f"page {number}: words outside the margins: {words[:5]}"


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_no_page_but_the_last_is_more_than_a_third_empty(pages, name):
    for number, page in enumerate(pages[name][:-1], 1):
        _, top, _, bottom = text_area(name, page)
        rows = page.ink_rows()
        lowest = rows[rows <= bottom + TOLERANCE].max()
        assert bottom - lowest <= (bottom - top) / 3, f"page {number}: {bottom - lowest:.0f} pt left empty at the bottom"


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_no_chain_breaks_across_pages_within_its_first_two_rows(pages, name):
    document = pages[name]
    for number, (page, following) in enumerate(zip(document, document[1:]), 1):
        _, _, _, bottom = text_area(name, page)
        if not pdf_layout.starts_with_equals(pdf_layout.first_band(following.words, top=True)):
            continue  # the next page does not continue a chain
        body = [w for w in page.words if w.y_max <= bottom + TOLERANCE]
        last = pdf_layout.first_band(body, top=False)
        assert pdf_layout.starts_with_equals(last), (
            f"a chain breaks after its first row, from page {number} to {number + 1}: "
            + " ".join(w.text for w in sorted(last, key=lambda w: w.x_min)))
