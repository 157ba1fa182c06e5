"""User text is text: every special character of LaTeX, HTML and Markdown in the
title block comes out literally, and the LaTeX still compiles."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser

import explainer
from conftest import require_tool
from explainer.outputs import pdf
from explainer.spec.reading import with_overrides
from test_render import inline_children, parse_markdown

HOSTILE = {
    "title": r"Back-prop & <script>alert(1)</script> 100% #1 $x$ _a_ {b} ~c ^d \e *f* [g](h) `i`",
    "author": r"A. \textbf{Student} & co",
    "course": r"CS~101 \\ $\pi$",
    "date": "<b>12 March</b>",
}


def hostile():
    return explainer.derive(with_overrides(explainer.load_spec(), HOSTILE))


def test_latex_compiles_and_prints_the_text_literally(tmp_path):
    require_tool("latexmk")
    document, report = pdf.compile_pdf(hostile().to_latex())
    assert not report.problems()
    (tmp_path / "d.pdf").write_bytes(document)
    text = subprocess.run([require_tool("pdftotext"), "-layout", str(tmp_path / "d.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    for literal in ("<script>alert(1)</script>", "100% #1", "$x$", "{b}", "~c", "^d", r"\e", r"\textbf{Student}",
                    r"$\pi$"):
        assert literal in text, literal


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_shows_the_text_literally_and_runs_nothing():
    page = _Text()
    page.feed(hostile().to_html())
    assert "script" not in page.tags and "b" not in page.tags
    text = "".join(page.text)
    assert HOSTILE["title"] in text and "<b>12 March</b>" in text


def test_markdown_heading_is_the_title_literally():
    tokens = parse_markdown(hostile().to_markdown())
    heading = tokens[tokens.index(next(t for t in tokens if t.type == "heading_open")) + 1]
    literal = "".join(c.content for c in heading.children if c.type == "text")
    assert literal == HOSTILE["title"]
    assert not any(c.type in ("html_inline", "math_inline", "em_open", "link_open", "code_inline")
                   for c in inline_children([heading]))
