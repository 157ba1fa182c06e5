"""The Sphinx directive, in real Sphinx builds of a MyST page and a reStructuredText page."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, as_words, katex_failures, require_module
from test_markdown_extension import KEY_NUMBERS, SMALL_SPEC
from test_render import _compile



def build(tmp_path, pages: dict[str, str], builder: str = "html", conf: str = "") -> subprocess.CompletedProcess:
    """``sphinx-build -W`` (every warning an error) of a site whose conf.py names only
    explainer.integrations.sphinx, as the README's does (and ``conf``, a theme say)."""
    source = tmp_path / "src"
    source.mkdir()
    return build_in(source, tmp_path / "out", pages, builder, conf)


def build_in(source, out, pages: dict[str, str], builder: str = "html", conf: str = "") -> subprocess.CompletedProcess:
    require_module("sphinx")
    require_module("myst_parser")
    (source / "conf.py").write_text('project = "Course"\nextensions = ["explainer.integrations.sphinx"]\n' + conf)
    toctree = "\n".join(f"   {name.rsplit('.', 1)[0]}" for name in pages)
    (source / "index.rst").write_text(f"Course\n======\n\n.. toctree::\n\n{toctree}\n")
    for name, text in pages.items():
        (source / name).write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", builder, str(source), str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
    )


def sphinx_formulas(page: str) -> list[tuple[str, bool]]:
    """The math Sphinx wrote for MathJax: ``\\(…\\)`` spans and ``\\[…\\]`` divs."""
    inline = re.findall(r'<span class="math notranslate nohighlight">\\\((.*?)\\\)</span>', page, re.S)
    display = re.findall(r'<div class="math notranslate nohighlight">\s*\\\[(.*?)\\\]\s*</div>', page, re.S)
    nowrap = re.findall(r'<div class="math notranslate nohighlight">\s*(\\begin\{align\*\}.*?\\end\{align\*\})\s*</div>', page, re.S)
    return [(html.unescape(t).strip(), False) for t in inline] + [(html.unescape(t).strip(), True) for t in display + nowrap]


MYST_PAGE = textwrap.dedent("""\
    # Backpropagation in MyST

    Some words before.

    ```{explainer}
    ```

    ## After the derivation

    The page's own footnote.[^own]

    [^own]: It is numbered after the derivation's.
    """)

REST_PAGE = "Backpropagation in reST\n=======================\n\n.. explainer::\n   :detail: full\n\n" + textwrap.indent(SMALL_SPEC, "   ")


def test_a_sphinx_site_with_myst_and_rest_pages_builds_with_the_derivations(tmp_path):
    result = build(tmp_path, {"myst.md": MYST_PAGE, "rest.rst": REST_PAGE})
    assert result.returncode == 0, result.stderr
    myst = (tmp_path / "out" / "myst.html").read_text(encoding="utf-8")
    for number in KEY_NUMBERS:
        assert number in myst
    # real sections, nested under the page's title, and the page goes on after them
    headings = re.findall(r"<h(\d)>(.*?)<a class=\"headerlink\"", myst)
    assert headings[:4] == [("1", "Backpropagation in MyST"), ("2", "A Step by Step Backpropagation Example"),
                            ("3", "The Network"), ("3", "The Forward Pass")]
    assert headings[-1] == ("2", "After the derivation")
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="myst.html#the-forward-pass"' in index  # in the table of contents
    # the derivation's four footnotes and the page's own, numbered in order, each id once
    assert re.findall(r'role="doc-noteref"><span class="fn-bracket">\[</span>(\d)', myst) == ["1", "2", "3", "4", "5"]
    ids = re.findall(r'\bid="([^"]+)"', myst)
    assert len(ids) == len(set(ids))
    rest = (tmp_path / "out" / "rest.html").read_text(encoding="utf-8")
    assert "<h2>Three inputs, one output" in rest and as_words("\\frac{\\partial E_{total}}{\\partial w_8}") in rest
    formulas = sphinx_formulas(myst) + sphinx_formulas(rest)
    assert len(formulas) > 250 and "$" not in re.sub(r"<[^>]+>", "", myst.split("<body")[1])
    assert katex_failures(sorted(set(formulas))) == []


def test_the_latex_builder_takes_the_derivation_with_both_figures(tmp_path):
    result = build(tmp_path, {"myst.md": MYST_PAGE}, builder="latex")
    assert result.returncode == 0, result.stderr
    tex = (tmp_path / "out" / "course.tex").read_text(encoding="utf-8")
    assert "\\subsection{The Forward Pass}" in tex and "\\begin{align*}" in tex and "0.082167041" in tex
    # both figures, drawn in TikZ and pgfplots, with their captions; and the packages they need
    assert tex.count("\\begin{tikzpicture}") == 2 and tex.count("\\begin{axis}") == 1
    assert "\\caption{The network with its starting weights" in tex
    assert "\\caption{The total error over 10,000 rounds of training" in tex
    preamble = tex.split("\\begin{document}")[0]
    assert all(f"\\usepackage{{{package}}}" in preamble for package in ("tikz", "pgfplots", "graphicx"))
    # Sphinx's own LaTeX needs texlive-latex-extra; the figures as it wrote them compile in any article.
    figures = re.findall(r"\\ifdefined\\fitwidth.*?\\end\{figure\}", tex, re.S)
    assert len(figures) == 2
    document = ("\\documentclass{article}\n\\usepackage{amsmath,graphicx,tikz,pgfplots}\n\\pgfplotsset{compat=1.18}\n"
                "\\begin{document}\n" + "\n\n".join(figures) + "\n\\end{document}\n")
    log = _compile(document, tmp_path)
    assert "LaTeX Warning" not in log and "Overfull" not in log


@pytest.mark.parametrize(
    "directive, message",
    [
        ("```{explainer}\n[network]\nlayers = [2]\n```\n", "page, line 3: network.layers"),
        ("```{explainer}\n:detail: everything\n```\n", "everything"),
    ],
)
def test_a_bad_directive_fails_the_build_naming_the_page(tmp_path, directive, message):
    result = build(tmp_path, {"page.md": f"# Page\n\n{directive}"})
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_the_directive_reads_a_spec_file_beside_the_page(tmp_path):
    (tmp_path / "src" / "specs").mkdir(parents=True)
    (tmp_path / "src" / "specs" / "small.toml").write_text(SMALL_SPEC, encoding="utf-8")
    pages = {"rest.rst": "Page\n====\n\n.. explainer:: specs/small.toml\n",
             "myst.md": "# Page\n\n```{explainer}\nfile: specs/small.toml\n```\n"}
    source = tmp_path / "src"
    result = build_in(source, tmp_path / "out", pages)
    assert result.returncode == 0, result.stderr
    for name in ("rest", "myst"):
        assert "<h2>Three inputs, one output" in (tmp_path / "out" / f"{name}.html").read_text(encoding="utf-8")


def test_a_missing_spec_file_fails_the_build_naming_the_page(tmp_path):
    result = build(tmp_path, {"page.rst": "Page\n====\n\n.. explainer:: nowhere.toml\n"})
    assert result.returncode != 0
    assert "page, line 4: file: nowhere.toml: no such file" in result.stderr, result.stderr
