"""The handout options as the documents render them: title block, paper, columns, equation numbers, figures."""

from __future__ import annotations

import re

import explainer
from explainer.spec.reading import with_overrides
from conftest import ROOT
from test_diagram import SHAPES
from test_render import DEEP, parse_markdown

USER_TEXT = {"title": "Back-prop & friends: 100% #1", "author": "A. {Student}_x", "course": "CS~101 $\\",
             "date": "12 March <2025>"}


def handout(**overrides):
    spec = explainer.load_spec()
    fields = {("handout." + k if k in ("paper", "columns", "equation_numbers") else k): v for k, v in overrides.items()}
    return explainer.derive(with_overrides(spec, fields))


def test_latex_title_block_escapes_the_users_text():
    latex = handout(**USER_TEXT).to_latex()
    assert "\\course{CS\\textasciitilde{}101 \\$\\textbackslash{}}" in latex
    assert "\\title{Back-prop \\& friends: 100\\% \\#1}" in latex
    assert "\\author{A. \\{Student\\}\\_x}" in latex
    assert "\\date{12 March <2025>}" in latex


def test_markdown_byline_escapes_the_users_text():
    markdown = handout(**USER_TEXT).to_markdown()
    lines = markdown.splitlines()
    assert lines[0] == "# Back-prop \\& friends: 100% \\#1"  # \& keeps "& friends" from reading as an entity
    assert lines[2] == "CS\\~101 \\$\\\\ · A. \\{Student\\}\\_x · 12 March \\<2025\\>"
    tokens = parse_markdown(markdown)
    paragraph = next(t for t in tokens if t.type == "inline" and "101" in t.content)
    assert "".join(c.content for c in paragraph.children if c.type == "text") == "CS~101 $\\ · A. {Student}_x · 12 March <2025>"


def test_default_has_no_byline_and_a_silent_author(default_derivation):
    assert default_derivation.to_markdown().splitlines()[2] == "## The Network"
    assert "\\author{}" in default_derivation.to_latex()


def test_paper_size_and_columns_choose_the_class_options():
    assert "\\usepackage[a4paper,margin=2.5cm]{geometry}" in explainer.derive().to_latex()
    latex = handout(paper="letter", columns=2).to_latex()
    assert latex.startswith("\\documentclass[10pt,twocolumn]{article}")
    assert "\\usepackage[letterpaper,margin=1.8cm,columnsep=0.7cm]{geometry}" in latex


def test_two_columns_break_equations_to_the_narrow_column():
    one = explainer.derive().to_latex(detail="full")
    two = handout(columns=2).to_latex(detail="full")
    assert "out_{h1} = \\frac{1}{1 + e^{-net_{h1}}} = \\frac{1}{1 + e^{-0.3775}} = 0.593269992" in one
    assert "out_{h1} &= \\frac{1}{1 + e^{-net_{h1}}} \\\\\n&= \\frac{1}{1 + e^{-0.3775}} \\\\\n&= 0.593269992" in two


def test_equation_numbers_number_each_equation_once_on_its_last_line():
    latex = handout(equation_numbers=True).to_latex()
    assert "\\[" not in latex and "align*" not in latex
    assert "\\begin{equation}\nout_{h2} = 0.596884378\n\\end{equation}" in latex
    block = re.search(r"\\begin\{align\}\n(net_\{h1\}.*?)\n\\end\{align\}", latex, re.S).group(1)
    rows = block.split(" \\\\\n")
    assert all(row.endswith("\\notag") for row in rows[:-1]) and not rows[-1].endswith("\\notag")
    several = handout(equation_numbers=True).to_latex(detail="full")
    # Two equations shown together: two numbers.
    pair = re.search(r"\\begin\{align\}\n(\\frac\{\\partial E_\{total\}\}\{\\partial out_\{o2\}\}.*?)\n\\end\{align\}",
                     several, re.S).group(1)
    assert sum(not row.endswith("\\notag") for row in pair.split(" \\\\\n")) == 2


def test_markdown_refers_to_its_figures_beside_it(default_derivation):
    from explainer.outputs.render import render_with_figures

    text, figures = render_with_figures(default_derivation, "markdown", figure_prefix="my notes (v2)")
    assert sorted(figures) == ["my notes (v2)-loss.svg", "my notes (v2)-network.svg"]
    assert "](my%20notes%20%28v2%29-network.svg)" in text and "](my%20notes%20%28v2%29-loss.svg)" in text
    images = [c for t in parse_markdown(text) if t.type == "inline" for c in t.children if c.type == "image"]
    assert [i.attrs["src"] for i in images] == ["my%20notes%20%28v2%29-network.svg", "my%20notes%20%28v2%29-loss.svg"]


def test_a_wide_network_leaves_its_weights_to_the_tables():
    labelled = explainer.derive(DEEP).to_latex()
    assert "with its starting weights and biases, its inputs and the targets of its outputs" in labelled
    latex = explainer.derive({**SHAPES["3-4-1"], "training": {"iterations": 3}}).to_latex()
    assert "its starting weights and biases are listed in the tables of this section" in latex
    assert "{$w_{1} = 0.1$}" not in latex


def test_displays_belong_to_the_sentence_before_them():
    latex = explainer.derive().to_latex(detail="full")
    # No blank line (a new paragraph, holding an empty line) before a display after text or another display.
    assert "bias:\n\\begin{align*}\nnet_{h1} &= w_1 * i_1" in latex
    assert "\n\n\\[" not in latex and "\n\n\\begin{align*}" not in latex
    assert "\\end{align*}\n\\begin{align*}" in latex  # two displays of one step, no paragraph between them
    # After a heading or a table there is no paragraph to join.
    assert explainer.derive().to_latex().count("\\allowdisplaybreaks") == 0


def test_a_short_chain_never_breaks_and_a_long_one_not_in_its_first_two_rows():
    from explainer.outputs.render import Latex

    latex = explainer.derive().to_latex(detail="full")
    assert "\\allowdisplaybreaks" not in latex.split("\\begin{document}")[0]  # no document-wide permission
    for block in re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", latex, re.S):
        assert len(block.split("\\\\")) <= Latex.unbroken_rows or "\\\\*" in block
    long = explainer.derive(str(ROOT / "examples" / "softmax-classifier.toml")).to_latex(detail="full")
    chains = re.findall(r"\{\\allowdisplaybreaks\n\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}\}", long, re.S)
    assert chains
    for chain in chains:
        rows = chain.split("\n")
        assert len(rows) > Latex.unbroken_rows
        assert any(row.endswith(" \\\\") for row in rows)  # somewhere it may break
        for i, row in enumerate(rows[:-1]):
            # An equation's first row (however many lines it takes) holds on to the second.
            if not rows[i + 1].startswith("&=") or any(r.startswith("&=") for r in rows[i::-1][:1]):
                continue
            first = max(j for j in range(i + 1) if not rows[j].startswith("&"))
            if all(r.startswith("&\\quad") for r in rows[first + 1:i + 1]) and i + 1 - first < Latex.unbroken_rows:
                assert row.endswith("\\\\*"), row


def test_tables_have_booktabs_rules_and_no_vertical_ones():
    latex = explainer.derive().to_latex()
    table = re.search(r"\\begin\{longtable\}\{(l+)\}\n\\toprule\nweight & from & to & value \\\\\n\\midrule\n\\endhead", latex)
    assert table and "|" not in table.group(1) and "\\hline" not in latex
    assert "\\bottomrule" in latex
    two = handout(columns=2).to_latex()
    assert "longtable" not in two and "\\begin{tabular}{llll}\n\\toprule" in two


def test_the_title_block_is_compact_and_in_order():
    latex = handout(**USER_TEXT).to_latex()
    block = latex[latex.index("\\renewcommand{\\@maketitle}"):latex.index("\\makeatother", latex.index("\\renewcommand{\\@maketitle}"))]
    assert block.index("\\@course") < block.index("\\@title") < block.index("\\@author") < block.index("\\@date")
    assert "2em" not in block and "1.5em" not in block  # article's own block leaves about 5 cm


def test_figures_stay_where_the_text_refers_to_them():
    latex = explainer.derive().to_latex()
    assert latex.count("\\begin{figure}[!ht]") == 2 and "p]" not in latex and "htbp" not in latex
