"""Every integration as its reader sees it: the built page loaded in headless
Chromium with the math engine the site uses, each formula of the source
counted typeset, no TeX left in the page's text.

Each site is the minimal configuration the docs (docs/docs-sites.md) document, built once a
session.
"""

from __future__ import annotations

import re
import sys

import pytest

from browser import Browser, file_url, raw_tex, split_names
from conftest import require_module, require_tool
from test_markdown_extension import SMALL_SPEC
from test_mkdocs_plugin import mkdocs_sites  # noqa: F401 (a fixture)
from test_sphinx import MYST_PAGE, REST_PAGE, build


@pytest.fixture(scope="session")
def browser():
    chromium = Browser()
    yield chromium
    chromium.close()


def source_formulas(markdown: str) -> int:
    """How many formulas a Markdown text holds, as markdown-it's dollarmath and amsmath read it."""
    require_module("markdown_it")
    from markdown_it import MarkdownIt
    from mdit_py_plugins.amsmath import amsmath_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    parser = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin).use(amsmath_plugin).use(footnote_plugin)
    kinds = {"math_inline", "math_block", "math_block_label", "amsmath"}

    def count(tokens) -> int:
        return sum((token.type in kinds) + count(token.children or []) for token in tokens)

    return count(parser.parse(markdown))


# Pixels between the fractions of two rows of a chain (at the pages' 16 px text): clear of each other.
MIN_FRACTION_GAP = 4


def chains_with_fractions(markdown: str) -> bool:
    """Whether a Markdown text has a multi-line display holding a fraction."""
    return any("\\frac" in chain for chain in re.findall(r"\\begin\{aligned\}(.*?)\\end\{aligned\}", markdown, re.S))


def assert_all_typeset(page, expected: int, engine: str, chains: bool = True) -> None:
    """Every formula typeset, no TeX left; names set whole; the rows of ``chains`` (multi-line
    displays with fractions, which the page has unless told otherwise) apart."""
    report = page.report()
    assert report["errors"] == 0
    assert report[engine] >= 1, f"no formula typeset by {engine}"
    assert report["typeset"] == expected
    assert raw_tex(report["text"]) == []
    # Fractions stacked in the rows of a chain keep clear of each other.
    gaps = page.fraction_gaps()
    assert bool(gaps) == chains and [gap for gap in gaps if gap < MIN_FRACTION_GAP] == [], gaps
    names = split_names(page.identifiers())
    # net, out, total, target, output: each set as one italic word, never as a product of letters.
    assert [names[name] for name in ("net", "out", "total", "target", "output")] == [0] * 5, str(names)
    assert names["net whole"] > 0 and names["out whole"] > 0, names


def test_the_fraction_probe_sees_fractions_that_touch(browser, tmp_path):
    """The probe ``assert_all_typeset`` uses measures real gaps: rows pulled together show as touching."""
    def chain(shift: str) -> str:
        rows = "".join(f'<mtr><mtd><mfrac style="position: relative; top: {top}">'
                       "<mi>a</mi><mi>b</mi></mfrac></mtd></mtr>" for top in ("0", shift))
        return f'<!DOCTYPE html><html><body><math display="block"><mtable>{rows}</mtable></math></body></html>'

    page, spaced = tmp_path / "touching.html", tmp_path / "spaced.html"
    page.write_text(chain("-0.75em"), encoding="utf-8")
    spaced.write_text(chain("2em"), encoding="utf-8")
    shown = browser.load(file_url(page))
    try:
        touching = shown.fraction_gaps()
    finally:
        shown.close()
    shown = browser.load(file_url(spaced))
    try:
        apart = shown.fraction_gaps()
    finally:
        shown.close()
    assert len(touching) == len(apart) == 1
    assert touching[0] < MIN_FRACTION_GAP < 20 < apart[0]


# --- Sphinx, with exactly the documented conf.py (and a theme)

SPHINX_THEMES = {"alabaster": "", "furo": 'html_theme = "furo"\n'}


@pytest.fixture(scope="session")
def sphinx_site(tmp_path_factory):
    def site(theme: str):
        if theme not in built:
            if theme != "alabaster":
                require_module(theme)
            path = tmp_path_factory.mktemp(f"sphinx-{theme}")
            result = build(path, {"myst.md": MYST_PAGE, "rest.rst": REST_PAGE}, conf=SPHINX_THEMES[theme])
            assert result.returncode == 0, result.stderr
            built[theme] = path / "out"
        return built[theme]

    built = {}
    return site


def sphinx_expected(page: str) -> int:
    import explainer

    if page == "myst":
        return source_formulas(explainer.derive().to_markdown(flavor="myst", standalone=False))
    spec = explainer.load_spec({**__import__("tomllib").loads(SMALL_SPEC)})
    return source_formulas(explainer.derive(spec).to_markdown(flavor="myst", standalone=False, detail="full"))


@pytest.mark.parametrize("theme", SPHINX_THEMES)
@pytest.mark.parametrize("page", ["myst", "rest"])
def test_a_sphinx_site_typesets_every_formula_with_mathjax(browser, sphinx_site, theme, page):
    shown = browser.load(file_url(sphinx_site(theme) / f"{page}.html"))
    try:
        assert_all_typeset(shown, sphinx_expected(page), "mathjax")
        assert shown.blocked == []  # MathJax 4 and its font, all from the npm copies
    finally:
        shown.close()


# --- the standalone HTML page: MathML, no engine at all


def test_the_standalone_page_shows_every_formula_as_mathml(browser, default_derivation, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(default_derivation.to_html(), encoding="utf-8")
    shown = browser.load(file_url(page))
    try:
        assert_all_typeset(shown, source_formulas(default_derivation.to_markdown()), "mathml")
    finally:
        shown.close()


# --- the github flavor through a GitHub-like pipeline: GFM, then MathJax 3 on the math elements

# GitHub's page: each formula in a <math-renderer> element, which MathJax 3 typesets; the
# rest of the page is not searched for TeX (a ``$`` in prose stays a dollar).
GITHUB_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>math-renderer.js-display-math {{ display: block; }}</style>
<script>
window.MathJax = {{
  tex: {{inlineMath: [["$", "$"]], displayMath: [["$$", "$$"]]}},
  options: {{ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "js-inline-math|js-display-math"}},
}};
</script>
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
</head><body class="tex2jax_ignore"><article class="markdown-body">
{body}
</article></body></html>
"""


def github_html(markdown: str) -> str:
    """The Markdown as GitHub renders it: GFM (tables, strikethrough, footnotes), inline ``$…$``,
    a ```` ```math ```` fence as display math and any other fence as code; raw HTML kept."""
    import html

    require_module("markdown_it")
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    parser = (MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
              .use(dollarmath_plugin).use(footnote_plugin))
    code_fence = parser.renderer.rules["fence"]

    def fence(renderer, tokens, index, options, env):
        token = tokens[index]
        if token.info.strip() != "math":
            return code_fence(tokens, index, options, env)
        return f'<math-renderer class="js-display-math">$${html.escape(token.content)}$$</math-renderer>\n'

    def inline(renderer, tokens, index, options, env):
        return f'<math-renderer class="js-inline-math">${html.escape(tokens[index].content)}$</math-renderer>'

    def block(renderer, tokens, index, options, env):
        # GitHub reads $$…$$ too: the flavor must write none, so this is counted apart.
        return f'<math-renderer class="js-display-math dollars">$${html.escape(tokens[index].content)}$$</math-renderer>\n'

    parser.add_render_rule("fence", fence)
    parser.add_render_rule("math_inline", inline)
    parser.add_render_rule("math_block", block)
    return GITHUB_PAGE.format(body=parser.render(markdown))


@pytest.mark.parametrize("name", ["backpropagation-example", "relu-regression"])
def test_the_github_flavor_typesets_every_formula_on_a_github_like_page(browser, tmp_path, name):
    """Every formula of the source typeset by MathJax 3, its displays as displays, none left as TeX;
    ReLU's ``cases`` keep their two rows."""
    import explainer
    from explainer.outputs.render import render_with_figures

    spec = explainer.load_spec(None if name == "backpropagation-example" else name)
    derivation = explainer.derive(spec)
    text, figures = render_with_figures(derivation, "markdown", flavor="github", detail="full")
    for file, svg in figures.items():
        (tmp_path / file).write_text(svg, encoding="utf-8")
    page = tmp_path / "README.html"
    page.write_text(github_html(text), encoding="utf-8")
    assert "js-display-math dollars" not in page.read_text(encoding="utf-8")
    expected = derivation.to_markdown(detail="full")
    shown = browser.load(file_url(page))
    try:
        assert_all_typeset(shown, source_formulas(expected), "mathjax", chains_with_fractions(expected))
        displays = len(re.findall(r"^\$\$.*?\$\$$", expected, re.M | re.S))
        assert shown.report()["display"] == displays == text.count("```math\n")
        assert shown.blocked == []
        assert shown.evaluate("[...document.images].every((image) => image.naturalWidth > 0)")
        # Each cases environment, read back from MathJax's MathML: an innermost table of two rows.
        cases = shown.evaluate("""[...document.querySelectorAll('mjx-assistive-mml mtable')]
            .filter((table) => !table.querySelector('mtable') && table.textContent.includes('otherwise'))
            .map((table) => table.querySelectorAll(':scope > mtr, :scope > mlabeledtr').length)""")
        assert cases == [2] * text.count("\\begin{cases}")
        assert (name == "relu-regression") == (len(cases) > 0)
    finally:
        shown.close()


# --- the figures in light and dark mode: every label readable (WCAG AA, 4.5:1)


def assert_readable_figures(page, figures: int = 2) -> None:
    from browser import label_contrasts

    require_module("PIL")
    contrasts = label_contrasts(page)
    assert len({text for text, _ in contrasts}) > 10 * figures // 2
    poor = [(text, round(ratio, 2)) for text, ratio in contrasts if ratio < 4.5]
    assert poor == []


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_standalone_page_figures_read_in_both_colour_schemes(browser, default_derivation, tmp_path, dark):
    page = tmp_path / "page.html"
    page.write_text(default_derivation.to_html(), encoding="utf-8")
    shown = browser.load(file_url(page), dark=dark)
    try:
        assert_readable_figures(shown)
        background = shown.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(22, 24, 28)" if dark else "rgb(255, 255, 255)")
    finally:
        shown.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("name", ["network", "loss"])
def test_a_figure_file_reads_on_its_own_in_both_colour_schemes(browser, tmp_path, name, dark):
    """As GitHub and any <img> show it: on its own card, light or dark as the reader's system prefers."""
    from explainer.outputs.render import render_with_figures
    import explainer

    _, figures = render_with_figures(explainer.derive(), "markdown")
    path = tmp_path / f"figure-{name}.svg"
    path.write_text(figures[f"backpropagation-example-{name}.svg"], encoding="utf-8")
    shown = browser.load(file_url(path), dark=dark)
    try:
        assert_readable_figures(shown, figures=1)
        paper = shown.evaluate("getComputedStyle(document.querySelector('.ex-backdrop')).fill")
        assert paper == ("rgb(13, 17, 23)" if dark else "rgb(255, 255, 255)")
    finally:
        shown.close()


@pytest.mark.parametrize("theme", SPHINX_THEMES)
def test_a_sphinx_site_figures_follow_its_theme_in_dark_mode(browser, sphinx_site, theme):
    """furo turns dark with the reader's system, and the figures with it; alabaster
    stays light, and so do they."""
    shown = browser.load(file_url(sphinx_site(theme) / "myst.html"), dark=True)
    try:
        assert_readable_figures(shown)
        paper = shown.evaluate("getComputedStyle(document.querySelector('.ex-paper')).fill")
        assert (paper == "rgb(255, 255, 255)") == (theme == "alabaster")
    finally:
        shown.close()


# --- MkDocs Material with the plugin: MathJax (which the plugin adds), KaTeX (the site's own)


def mkdocs_expected(kind: str) -> int:
    import tomllib

    import explainer

    default = source_formulas(explainer.derive().to_markdown(flavor="mkdocs", standalone=False))
    if kind != "containers":
        return default
    small = explainer.derive(explainer.load_spec(tomllib.loads(SMALL_SPEC)))
    return (default + source_formulas(small.to_markdown(flavor="mkdocs", standalone=False))
            + source_formulas(small.to_markdown(flavor="mkdocs", standalone=False, detail="full")))


@pytest.mark.parametrize("kind, engine", [("containers", "mathjax"), ("katex", "katex")])
def test_a_mkdocs_material_site_typesets_every_formula(browser, mkdocs_sites, kind, engine):
    shown = browser.load(file_url(mkdocs_sites(kind) / "index.html"))
    try:
        assert_all_typeset(shown, mkdocs_expected(kind), engine)
    finally:
        shown.close()


def test_material_slate_figures_are_readable(browser, mkdocs_sites):
    """Material's dark scheme is chosen by the site, not by the reader's system: the
    figures follow the page's own colours."""
    shown = browser.load(file_url(mkdocs_sites("slate") / "index.html"), dark=False)
    try:
        assert_readable_figures(shown)
        paper = shown.evaluate("getComputedStyle(document.querySelector('.ex-paper')).fill")
        page = shown.evaluate("getComputedStyle(document.body).backgroundColor")
        assert paper == page != "rgb(255, 255, 255)"
    finally:
        shown.close()


# --- a notebook, run by a real kernel and converted by nbconvert: explainer's HTML is MathML


# --- Docusaurus and other MDX sites: the docs' page, compiled by MDX and rendered by React


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_documented_mdx_page_shows_every_formula_as_mathml(browser, tmp_path, dark):
    import shlex
    import subprocess

    from conftest import ROOT

    node = require_tool("node")
    if not (ROOT / "tests" / "node_modules" / "@mdx-js" / "mdx").is_dir():
        pytest.fail("MDX is not installed (npm ci --prefix tests)")
    docs = (ROOT / "docs" / "docs-sites.md").read_text(encoding="utf-8")
    section = docs[docs.index("## Docusaurus and other MDX sites"):]
    command = re.search(r"```sh\n(python -c .*?) > docs/xor\.html\n```", section).group(1)
    mdx = re.search(r"```mdx\n(.*?)```", section, re.S).group(1)
    argv = shlex.split(command)
    fragment = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, check=True, timeout=300).stdout
    (tmp_path / "xor.html").write_text(fragment, encoding="utf-8")
    (tmp_path / "xor.mdx").write_text(mdx, encoding="utf-8")
    built = subprocess.run([node, str(ROOT / "tests" / "mdx_page.mjs"), str(tmp_path / "xor.mdx")],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("<h1>Backpropagation, worked by hand</h1>")
    assert "<h2 id=" in built.stdout and "<h1 id=" not in built.stdout  # the derivation under the page's title
    page = tmp_path / "page.html"
    page.write_text(f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>XOR</title></head>"
                    f"<body>{built.stdout}</body></html>", encoding="utf-8")
    shown = browser.load(file_url(page), dark=dark)
    try:
        assert_all_typeset(shown, fragment.count("<math"), "mathml")
        assert fragment.count("<math") > 100
        assert_readable_figures(shown)
    finally:
        shown.close()


def test_a_notebook_converted_by_nbconvert_shows_every_formula(browser, tmp_path, monkeypatch, default_derivation):
    from test_notebook import executed_notebook

    nbconvert = require_module("nbconvert")
    notebook = executed_notebook(tmp_path, monkeypatch, "import explainer\nexplainer.derive()")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    page = tmp_path / "notebook.html"
    page.write_text(body, encoding="utf-8")
    shown = browser.load(file_url(page))
    try:
        assert_all_typeset(shown, source_formulas(default_derivation.to_markdown(standalone=False)), "mathml")
        assert_readable_figures(shown)
    finally:
        shown.close()
