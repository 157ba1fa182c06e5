"""HTML with its math as MathML, written when the page is rendered.

Browsers lay MathML out natively, so the page needs no script, no web font and
no network.  latex2mathml turns each formula's TeX into MathML; the TeX stays
beside it as an annotation (for copying, screen readers and the tests).  The
words come from ``templates/document.j2`` like every other format; this module
only knows the markup.
"""

from __future__ import annotations

import html
import re
from functools import cache

from latex2mathml.converter import convert

from . import diagram, losscurve
from .markup import Markup, with_minus_sign

# Block-level markup that ``paragraphs`` leaves alone; everything else is running text.
_BLOCK = re.compile(r"<(?:h[1-6]|div|table|section|ol|ul|p)\b")
# A minus right after an operator or an opening bracket is a sign, not a subtraction.
_SIGN = re.compile(r"(<mo[^>]*>[^<]*</mo>)<mo>&#x02212;</mo>")
# latex2mathml sets ``\mathit{net}`` letter by letter, as three names side by side.
_ITALIC_LETTERS = re.compile(r'(?:<mi mathvariant="italic">[A-Za-z]</mi>){2,}')


def _math_italic(letter: str) -> str:
    """The mathematical italic form of a Latin letter (its italic h lives apart, at U+210E)."""
    if letter == "h":
        return "&#x0210E;"
    code = 0x1D434 + ord(letter) - ord("A") if letter.isupper() else 0x1D44E + ord(letter) - ord("a")
    return f"&#x{code:05X};"


def _one_name(letters: re.Match) -> str:
    # One <mi> is one name.  A browser sets a name of several letters upright, so its
    # letters are the mathematical italic ones: the word stays italic, and one unit.
    return "<mi>" + "".join(_math_italic(letter) for letter in re.findall(r">([A-Za-z])<", letters.group(0))) + "</mi>"


@cache
def mathml(tex: str, display: bool = False) -> str:
    """``tex`` as a MathML ``<math>`` element carrying its TeX as an annotation."""
    # latex2mathml has no ``aligned``; its ``align*`` is the same table of
    # right- and left-aligned columns.
    source = tex.replace("{aligned}", "{align*}")
    converted = convert(source, display="block" if display else "inline")
    body = converted[converted.index(">") + 1 : converted.rindex("</math>")]
    # MathML decides prefix or infix by position alone, and would space a sign
    # like a subtraction: ``= − (``.  TeX's rule, made explicit.
    body = _SIGN.sub(r'\1<mo form="prefix">&#x02212;</mo>', body)
    body = _ITALIC_LETTERS.sub(_one_name, body)
    block = ' display="block"' if display else ""
    annotation = f'<annotation encoding="application/x-tex">{html.escape(tex)}</annotation>'
    return f"<math{block}><semantics>{body}{annotation}</semantics></math>"


def slug(text: str) -> str:
    """An ``id`` for a heading: its words, lower case, joined by hyphens."""
    words = re.findall(r"\w+", html.unescape(re.sub(r"<[^>]*>", "", text)).lower())
    return "-".join(words) or "section"


class Html(Markup):
    # Narrower than Markdown's lines, so that a chain fits a phone better.
    width = 62
    words_italic = True

    def network_figure(self, caption: str) -> str:
        return self._figure(diagram.svg(self.diagram, caption), caption)

    def loss_figure(self, curve: losscurve.Curve, caption: str, x_label: str) -> str:
        return self._figure(losscurve.svg(curve, x_label, caption), caption)

    @staticmethod
    def _figure(svg: str, caption: str) -> str:
        # Inline, so the page stays one file; the figure scales down to a phone's width.
        return f'<figure class="figure">{svg}<figcaption>{html.escape(caption)}</figcaption></figure>'

    def heading(self, text: str, level: int) -> str:
        n = min(level + self.heading_offset, 6)
        return f'<h{n} id="{self.id_prefix}{slug(text)}">{text}</h{n}>'

    def show(self, equations, mode: str = "full") -> str:
        rows = self.lines(equations, mode)
        if len(rows) == 1:
            tex = rows[0].replace(" &= ", " = ")
        else:
            tex = "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
        return f'<div class="equation">{mathml(tex, display=True)}</div>'

    def m(self, tex: str) -> str:
        return mathml(self.typeset(tex))

    def num(self, key: str) -> str:
        text = self.shown[key]
        return mathml(text) if "\\" in text else html.escape(with_minus_sign(text))

    def prose(self, key: str) -> str:
        return html.escape(with_minus_sign(self.value(key)))

    def em(self, text: str) -> str:
        return f"<em>{text}</em>"

    def strong(self, text: str) -> str:
        return f"<strong>{text}</strong>"

    def text(self, text: str) -> str:
        """The user's own text, taken literally."""
        return html.escape(text)

    def footnote(self, name: str, text: str) -> str:
        name = self.id_prefix + name
        self.footnotes.append((name, text))
        number = len(self.footnotes)
        return f'<sup class="footnote-ref" id="fnref-{name}"><a href="#fn-{name}">{number}</a></sup>'

    def footnote_list(self) -> str:
        if not self.footnotes:
            return ""
        items = [
            f'<li id="fn-{name}">{text} <a class="footnote-back" href="#fnref-{name}" aria-label="Back to the text">↩</a></li>'
            for name, text in self.footnotes
        ]
        return '<section class="footnotes">\n<ol>\n' + "\n".join(items) + "\n</ol>\n</section>"

    def table(self, header, rows) -> str:
        head = "".join(f"<th>{cell}</th>" for cell in header)
        body = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
        return f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table></div>'

    def paragraphs(self, text: str) -> str:
        """Running text between blank lines becomes ``<p>``; blocks stay as they are."""
        blocks = [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]
        return "\n\n".join(block if _BLOCK.match(block) else f"<p>{block}</p>" for block in blocks)
