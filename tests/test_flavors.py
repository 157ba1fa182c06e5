"""The Markdown flavors, each read by the real parser of the tools it is for, and
every formula they carry parsed by real KaTeX."""

from __future__ import annotations

import html
import json
import re
import subprocess
from functools import cache

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

import explainer
from conftest import katex_failures, require_module, require_tool, shipped_and_other_specs

SPECS = shipped_and_other_specs()
FLAVORS = ("commonmark", "github", "mkdocs", "myst", "pandoc")
HOSTILE_TITLE = r"""Net #1: *x* _y_ [a](b) <b>c</b> & d $5 \ e ~f~ |g| `h` {i} 3+4! &amp; it's"""


@cache
def derivation(name: str):
    return explainer.derive(SPECS[name])


def markdown_of(name: str, flavor: str, detail: str = "full") -> str:
    return derivation(name).to_markdown(flavor=flavor, detail=detail)


# --- each flavor's formulas, as its own parser finds them: [(tex, display)] ------------


def commonmark_formulas(text: str) -> list[tuple[str, bool]]:
    """markdown-it (CommonMark, tables, footnotes, dollarmath), which reads ``$``/``$$`` as Jupyter and editors do."""
    parser = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=True).use(footnote_plugin)
    return _markdown_it_formulas(parser, text)


def github_formulas(text: str) -> list[tuple[str, bool]]:
    """markdown-it with GitHub's extensions (tables, strikethrough, footnotes), inline ``$…$``,
    and a ```` ```math ```` fence as a display: what GitHub typesets.  Text outside them
    may hold no ``$`` or backslash, and no fence is other than math."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"]).use(dollarmath_plugin).use(footnote_plugin)
    return _markdown_it_formulas(parser, text, fences=True)


def myst_formulas(text: str) -> list[tuple[str, bool]]:
    """MyST-Parser's own markdown-it set-up, with dollarmath and amsmath."""
    require_module("myst_parser")
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    parser = create_md_parser(MdParserConfig(enable_extensions={"dollarmath", "amsmath"}), RendererHTML)
    return _markdown_it_formulas(parser, text)


def _markdown_it_formulas(parser, text: str, fences: bool = False) -> list[tuple[str, bool]]:
    found = []

    def walk(tokens):
        for token in tokens:
            if fences and token.type == "fence":
                assert token.info.strip() == "math", token.info
                found.append((token.content.strip(), True))
            elif token.type in ("math_inline", "math_block", "amsmath"):
                found.append((token.content.strip(), token.type != "math_inline"))
            elif token.type == "text":
                assert "$" not in token.content and "\\" not in token.content, token.content
            walk(token.children or [])

    walk(parser.parse(text))
    return found


def mkdocs_formulas(text: str) -> list[tuple[str, bool]]:
    """Python-Markdown with pymdownx.arithmatex (generic), tables and footnotes, as MkDocs runs it."""
    markdown = require_module("markdown")
    require_module("pymdownx")
    page = markdown.markdown(text, extensions=["tables", "footnotes", "pymdownx.arithmatex"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})
    return arithmatex_formulas(page)


def arithmatex_formulas(page: str) -> list[tuple[str, bool]]:
    """The math in HTML that arithmatex (generic mode) wrote: ``\\(…\\)`` spans and ``\\[…\\]`` divs."""
    pattern = re.compile(r'<(span|div) class="arithmatex">\s*\\([(\[])(.*?)\\[)\]]\s*</\1>', re.S)
    found = [(html.unescape(match[3]).strip(), match[2] == "[") for match in pattern.finditer(page)]
    rest = pattern.sub("", page)
    assert "$" not in rest and not re.search(r"\\[a-z]", rest), "math left as text"
    return found


def pandoc_formulas(text: str) -> list[tuple[str, bool]]:
    """pandoc's own reader (Markdown with tex_math_dollars), through its JSON syntax tree."""
    pandoc = require_tool("pandoc")
    result = subprocess.run([pandoc, "--from", "markdown", "--to", "json"], input=text,
                            capture_output=True, text=True, timeout=120, check=True)
    assert result.stderr == ""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("t") == "Math":
                kind, tex = node["c"]
                found.append((tex.strip(), kind["t"] == "DisplayMath"))
                return
            if node.get("t") == "Str":
                assert "$" not in node["c"] and "\\" not in node["c"], node["c"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(result.stdout)["blocks"])
    return found


READERS = {"commonmark": commonmark_formulas, "github": github_formulas, "mkdocs": mkdocs_formulas,
           "myst": myst_formulas, "pandoc": pandoc_formulas}


def same_math(formulas):
    """Formulas compared across flavors: MyST's top-level ``align*`` is the others' ``aligned``,
    and the order does not count (pandoc reads a footnote where it is referred to)."""
    return sorted((re.sub(r"\s+", " ", tex.replace("{align*}", "{aligned}")), display) for tex, display in formulas)


# --- the tests ---------------------------------------------------------------------------


def test_commonmark_is_the_default_flavor(default_derivation):
    """The default document writes its math as the source does, in ``$$…$$``."""
    assert default_derivation.to_markdown() == default_derivation.to_markdown(flavor="commonmark")


@pytest.mark.parametrize("name", SPECS)
def test_github_writes_every_display_in_a_math_fence(name):
    """No display in ``$$``, whose backslashes GitHub's escapes would reach; inline math stays ``$…$``,
    and the words around the math are the commonmark flavor's, byte for byte."""
    github, commonmark = markdown_of(name, "github"), markdown_of(name, "commonmark")
    assert "$$" not in github
    displays = [tex for tex, display in github_formulas(github) if display]
    assert displays == [tex for tex, display in commonmark_formulas(commonmark) if display]
    assert github.count("```math\n") == len(displays) > 10
    fence = re.compile(r"^```math\n.*?\n```$", re.M | re.S)
    dollars = re.compile(r"^\$\$.*?\$\$$", re.M | re.S)
    assert fence.split(github) == dollars.split(commonmark)


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("name", SPECS)
def test_every_formula_survives_the_flavors_own_parser(name, flavor):
    """The formulas each parser finds are the formulas written: none lost, split or altered
    (``*`` and ``_`` taken as emphasis, ``\\\\`` eaten, a ``$`` left over)."""
    expected = same_math(commonmark_formulas(markdown_of(name, "commonmark")))
    assert len(expected) > 40
    assert same_math(READERS[flavor](markdown_of(name, flavor))) == expected


@pytest.mark.parametrize("flavor", FLAVORS)
def test_every_formula_of_every_flavor_parses_in_katex(flavor):
    formulas = set()
    for name in SPECS:
        for detail in ("source", "full"):
            formulas.update(READERS[flavor](markdown_of(name, flavor, detail)))
    assert len(formulas) > 300
    assert katex_failures(sorted(formulas)) == []


def test_katex_does_find_broken_formulas():
    """The check above would fail on a formula KaTeX rejects."""
    failures = katex_failures([(r"\frac{1}{", False), (r"x_{1", True), (r"\begin{aligned} a &= b \end{aligned}", True)])
    assert [f["tex"] for f in failures] == [r"\frac{1}{", r"x_{1"]


def test_each_flavor_writes_multi_line_chains_its_own_way(default_derivation):
    for flavor in ("commonmark", "mkdocs", "pandoc"):
        assert "$$\n\\begin{aligned}\n" in default_derivation.to_markdown(flavor=flavor)
    github = default_derivation.to_markdown(flavor="github")
    assert "\n\n```math\n\\begin{aligned}\n" in github and "\\end{aligned}\n```\n" in github
    myst = default_derivation.to_markdown(flavor="myst")
    assert "\\begin{aligned}" not in myst and "\n\n\\begin{align*}\n" in myst


def test_pandoc_reads_the_title_from_metadata_and_converts_without_warnings(default_derivation, tmp_path):
    pandoc = require_tool("pandoc")
    text = default_derivation.to_markdown(flavor="pandoc")
    assert text.startswith("---\ntitle: 'A Step by Step Backpropagation Example'\n---\n\n## The Network\n")
    (tmp_path / "d.md").write_text(text, encoding="utf-8")
    result = subprocess.run([pandoc, "--standalone", "--mathml", "d.md", "-o", "d.html"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    page = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert "<title>A Step by Step Backpropagation Example</title>" in page
    assert page.count("<math") == len(pandoc_formulas(text)) and "merror" not in page


# --- the user's text, taken literally by every flavor -------------------------------------


def _hostile(default_derivation):
    import dataclasses

    return explainer.derive(dataclasses.replace(default_derivation.spec, title=HOSTILE_TITLE))


def _plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


@pytest.mark.parametrize("flavor", ["commonmark", "github"])
def test_commonmark_and_github_take_the_title_literally(default_derivation, flavor):
    first_line = _hostile(default_derivation).to_markdown(flavor=flavor).splitlines()[0]
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"]).use(dollarmath_plugin)
    assert _plain(parser.render(first_line)) == HOSTILE_TITLE


def test_myst_takes_the_title_literally(default_derivation):
    require_module("myst_parser")
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    first_line = _hostile(default_derivation).to_markdown(flavor="myst").splitlines()[0]
    parser = create_md_parser(MdParserConfig(enable_extensions={"dollarmath", "amsmath", "strikethrough"}), RendererHTML)
    assert _plain(parser.render(first_line)) == HOSTILE_TITLE


def test_mkdocs_takes_the_title_literally(default_derivation):
    markdown = require_module("markdown")
    first_line = _hostile(default_derivation).to_markdown(flavor="mkdocs").splitlines()[0]
    page = markdown.markdown(first_line, extensions=["tables", "footnotes", "pymdownx.arithmatex"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})
    assert _plain(page) == HOSTILE_TITLE


def test_pandoc_takes_the_title_literally(default_derivation):
    pandoc = require_tool("pandoc")
    text = _hostile(default_derivation).to_markdown(flavor="pandoc")
    # -smart: pandoc would otherwise curl the apostrophe, which is typography, not escaping
    result = subprocess.run([pandoc, "--from", "markdown-smart", "--to", "html", "--standalone", "--mathml"],
                            input=text, capture_output=True, text=True, timeout=120, check=True)
    title = re.search(r"<title>(.*?)</title>", result.stdout, re.S)[1]
    assert html.unescape(title) == HOSTILE_TITLE


def test_unknown_flavor_and_flavor_of_another_format_are_refused(default_derivation):
    with pytest.raises(ValueError, match="unknown flavor 'gitlab'"):
        default_derivation.to_markdown(flavor="gitlab")
    with pytest.raises(ValueError, match="flavor"):
        default_derivation.to_latex(flavor="myst")


def test_headings_move_down_by_the_offset(default_derivation):
    text = default_derivation.to_markdown(heading_offset=1)
    assert text.startswith("## A Step by Step Backpropagation Example\n")
    assert "\n### The Network\n" in text and "\n#### Output Layer\n" in text
    pandoc = default_derivation.to_markdown(flavor="pandoc", heading_offset=1)
    assert pandoc.startswith("## A Step by Step Backpropagation Example\n")


# --- Quarto: the docs' page, built as Quarto builds it (Quarto is not on the registries) ------


def test_the_documented_quarto_page_converts_with_every_formula_as_math(tmp_path):
    """The cell of the docs' ``.qmd`` run, its printed Markdown put in its place (``output: asis``),
    and the page converted by pandoc, which Quarto runs: the title from the page's metadata,
    every formula of the derivation read as math, its figures inline."""
    import contextlib
    import io

    from conftest import ROOT

    pandoc = require_tool("pandoc")
    docs = (ROOT / "docs" / "docs-sites.md").read_text(encoding="utf-8")
    page = re.search(r"````markdown\n(---\ntitle: \"Backpropagation, worked by hand\".*?)````", docs, re.S).group(1)
    cell = re.search(r"```\{python\}\n(.*?)```\n", page, re.S)
    assert "#| output: asis" in cell.group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(cell.group(1), "course.qmd", "exec"), {})
    markdown = page[:cell.start()] + printed.getvalue() + page[cell.end():]
    formulas = pandoc_formulas(markdown)
    expected = explainer.derive("xor").to_markdown(flavor="pandoc", standalone=False, heading_offset=1)
    assert same_math(formulas) == same_math(pandoc_formulas(expected)) and len(formulas) > 40
    result = subprocess.run([pandoc, "--from", "markdown", "--to", "html", "--standalone", "--mathml"],
                            input=markdown, capture_output=True, text=True, timeout=120, check=True)
    assert result.stderr == ""
    html_page = result.stdout
    assert "<title>Backpropagation, worked by hand</title>" in html_page
    assert html_page.count("<math") == len(formulas) and "merror" not in html_page
    assert html_page.count("<svg") == 2 and re.search(r"<h2[^>]*>Learning XOR", html_page, re.I)
