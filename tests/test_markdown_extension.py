"""The Python-Markdown extension, on its own and in a real MkDocs build."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, as_words, katex_failures, require_module
from test_flavors import arithmatex_formulas

KEY_NUMBERS = ("0.593269992", "0.298371109", "0.082167041", "0.35891648", "0.000438568")
SMALL_SPEC = """\
title = "Three inputs, one output"
[network]
layers = [3, 2, 1]
weights = [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[0.7, 0.8]]]
biases = [0.1, 0.2]
[data]
inputs = [1.0, 0.5, -0.5]
targets = [0.25]
[training]
iterations = 20
"""


def convert(text: str, **settings) -> str:
    markdown = require_module("markdown")
    require_module("pymdownx")
    from explainer.integrations.markdown_extension import ExplainerExtension

    return markdown.markdown(text, extensions=[ExplainerExtension(**settings)])


def test_an_empty_block_is_the_builtin_example():
    page = convert("# Notes\n\n```explainer\n```\n\nAfter.\n")
    for number in KEY_NUMBERS:
        assert number in page
    assert page.startswith("<h1>Notes</h1>\n<h1>A Step by Step Backpropagation Example</h1>\n")
    assert page.index("<h2>The Result</h2>") < page.index("<p>After.</p>")  # the page goes on after the block
    assert page.count('<div class="arithmatex">') > 30  # arithmatex came with the extension
    assert "<table>" in page and 'class="footnote"' in page  # and so did tables and footnotes


def test_a_block_holds_a_spec_and_options():
    page = convert(f"```explainer detail=full heading_level=3 decimals=4\n{SMALL_SPEC}```\n")
    assert "<h3>Three inputs, one output</h3>" in page and "<h4>The Network</h4>" in page
    assert "<h1>" not in page and "<h2>" not in page
    assert re.search(r"= 0\.\d{4}\\]", page)  # four decimals
    assert as_words("\\frac{\\partial E_{total}}{\\partial w_8}") in page  # detail=full: the last weight in full


def test_settings_apply_to_every_block():
    page = convert("```explainer\n```\n", heading_level=2, digits=3)
    assert "<h2>A Step by Step Backpropagation Example</h2>" in page
    assert "= 0.741 * 0.187 * 0.593 = 0.0822" in page and "0.593269992" not in page


def test_other_code_blocks_are_left_alone_even_when_they_show_a_block():
    text = "````markdown\n```explainer\n[network]\n```\n````\n\n~~~python\nprint(1)\n~~~\n"
    page = convert(text)
    assert "```explainer" in page and "print(1)" in page and "arithmatex" not in page


def test_every_formula_parses_in_katex():
    page = convert(f"```explainer detail=full\n```\n\n```explainer detail=full\n{SMALL_SPEC}```\n")
    formulas = arithmatex_formulas(page)
    assert len(formulas) > 200
    assert katex_failures(sorted(set(formulas))) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("```explainer\n[network]\nlayers = [2]\n```\n", "explainer block at line 1: network.layers"),
        ("Text.\n\n```explainer\n[network\n```\n", "explainer block at line 3: invalid TOML"),
        ("```explainer colour=red\n```\n", "explainer block at line 1: expected options detail=…"),
        ("```explainer detail=everything\n```\n", "detail: expected source or full, got 'everything'"),
        ("```explainer decimals=99\n```\n", "decimals: expected a number from 0 to 30"),
        ("```explainer\n[network]\n", "explainer block at line 1: no closing ```"),
    ],
)
def test_a_bad_block_is_one_explainer_error_naming_it(text, message):
    from explainer.spec.errors import ExplainerError

    with pytest.raises(ExplainerError) as raised:
        convert(text)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_real_mkdocs_site_builds_with_the_derivation(tmp_path):
    require_module("mkdocs")
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: Course\nmarkdown_extensions:\n  - explainer.integrations.markdown_extension\n")
    (tmp_path / "docs" / "index.md").write_text(textwrap.dedent("""\
        # Backpropagation

        The classic example:

        ```explainer
        ```
        """))
    (tmp_path / "docs" / "small.md").write_text(f"# A smaller network\n\n```explainer heading_level=2\n{SMALL_SPEC}```\n")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    for number in KEY_NUMBERS:
        assert number in index
    assert 'id="the-forward-pass"' in index and 'href="#the-forward-pass"' in index  # in the table of contents
    small = (tmp_path / "site" / "small" / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="three-inputs-one-output">' in small
    formulas = arithmatex_formulas(index) + arithmatex_formulas(small)
    assert len(formulas) > 150
    assert katex_failures(sorted(set(formulas))) == []
