"""Turning a derivation into Markdown, LaTeX or HTML with the Jinja templates.

The words live once, in ``templates/document.j2``; each output format wraps it
(``document.md.j2``, ``document.tex.j2``, ``document.html.j2``) and supplies
its markup through a small class (``Markdown``, ``Latex``, ``html.Html``):
headings, display math, emphasis, footnotes, tables, figures and escaping of
the user's text.  Markdown comes in flavors, one small subclass each, for the
renderers that read it (CommonMark with dollar math, GitHub, MkDocs, MyST, pandoc).  Numbers are formatted
here, never in a template.

The figures (``diagram``, ``losscurve``) are TikZ and pgfplots inside the
LaTeX and inline SVG in HTML; the Markdown refers to SVG files beside it,
``NAME-network.svg`` and ``NAME-loss.svg``, which ``render_with_figures``
returns with the text.
"""

from __future__ import annotations

import html
import re
from functools import cached_property

from ..spec.limits import check_size
from . import diagram, latex_text, losscurve
from .formatting import NumberFormat
from .markup import Markup, with_minus_sign
from .preamble import TitleText
from .templating import environment

FORMATS = ("markdown", "latex", "html")
DETAILS = ("source", "full")
FLAVORS = ("commonmark", "github", "mkdocs", "myst", "pandoc")
# The source's own style, ``$$…$$``, read by Jupyter, editors and most Markdown renderers.
DEFAULT_FLAVOR = "commonmark"
SUFFIXES = {"markdown": ".md", "latex": ".tex", "html": ".html"}

class Markdown(Markup):
    """The ``commonmark`` flavor: CommonMark with ``$…$`` and ``$$…$$`` math, as the
    source writes it and Jupyter, markdown-it's dollarmath and most editors read it."""

    width = 100
    words_italic = True

    def __init__(self, derivation, number_format: NumberFormat, heading_offset: int = 0,
                 standalone: bool = True, figure_prefix: str | None = None) -> None:
        super().__init__(derivation, number_format, heading_offset, standalone)
        self.figure_prefix = figure_prefix or derivation.spec.name
        self.figures: dict[str, str] = {}  # file name → SVG, for the figures the document refers to

    def _figure(self, suffix: str, svg: str, caption: str) -> str:
        if not self.standalone:
            # Embedded in a site or a notebook there is no file beside the text: the
            # SVG goes inline, as an HTML block (which must hold no blank line).
            inline = "\n".join(line for line in svg.splitlines() if line.strip())
            return f'<figure class="explainer-figure">\n{inline}\n<figcaption>{html.escape(caption)}</figcaption>\n</figure>'
        name = f"{self.figure_prefix}-{suffix}.svg"
        self.figures[name] = svg
        alt = re.sub(r"([\\\[\]])", r"\\\1", caption)
        return f"![{alt}]({_link(name)})\n\n*{caption}*"

    def network_figure(self, caption: str) -> str:
        return self._figure("network", diagram.svg(self.diagram, caption), caption)

    def loss_figure(self, curve: losscurve.Curve, caption: str, x_label: str) -> str:
        return self._figure("loss", losscurve.svg(curve, x_label, caption), caption)

    def heading(self, text: str, level: int) -> str:
        return f"{'#' * min(level + self.heading_offset, 6)} {text}"

    def show(self, equations, mode: str = "full") -> str:
        rows = self.lines(equations, mode)
        if len(rows) == 1:
            return f"$${rows[0].replace(' &= ', ' = ')}$$"
        return self.aligned(rows)

    def aligned(self, rows: list[str]) -> str:
        """A chain of several lines, aligned at its equals signs."""
        # Each ``\\`` ends its line: a renderer that escapes before it finds the math
        # (GitHub does, in ``$$``) protects a line break only there.
        return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$"

    def m(self, tex: str) -> str:
        return f"${self.typeset(tex)}$"

    def num(self, key: str) -> str:
        text = self.shown[key]
        return f"${text}$" if "\\" in text else with_minus_sign(text)

    def prose(self, key: str) -> str:
        return with_minus_sign(self.value(key))

    def em(self, text: str) -> str:
        return f"*{text}*"

    def strong(self, text: str) -> str:
        return f"**{text}**"

    def text(self, text: str) -> str:
        """The user's own text, with Markdown's special characters taken literally."""
        return _block_safe(re.sub(r"([\\`*_{}\[\]<>()#+!|~$&])", r"\\\1", text), lambda c: "\\" + c)

    def footnote(self, name: str, text: str) -> str:
        self.footnotes.append((self.id_prefix + name, text))
        return f"[^{self.id_prefix}{name}]"

    def footnote_list(self) -> str:
        return "\n".join(f"[^{name}]: {text}" for name, text in self.footnotes)

    def table(self, header, rows) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)


# What makes a line of text a block of another kind: a rule or list item (-),
# a setext underline (=), a numbered item (1. or 1)).
_BLOCK_START = re.compile(r"^(?:([-=])|\d+([.)]))")


def _block_safe(text: str, escape) -> str:
    """Text that stays a line of text at the start of a line: no rule, list, code block or underline.

    Leading spaces are dropped (four would make a code block; Markdown shows none of them).
    """
    text = text.lstrip(" \t")
    match = _BLOCK_START.match(text)
    if match is None:
        return text
    if match.group(1):
        return escape(text[0]) + text[1:]
    at = match.end() - 1
    return text[:at] + escape(text[at]) + text[at + 1:]


class GithubMarkdown(Markdown):
    """The ``github`` flavor: display math in ```` ```math ```` fences, inline math in ``$…$``.

    GitHub runs its Markdown's backslash escapes over ``$$…$$`` before the math
    is typeset (a ``\\\\`` inside a line becomes ``\\``); a fenced block is left
    as it is written, and GitLab reads the same fences.
    """

    def show(self, equations, mode: str = "full") -> str:
        rows = self.lines(equations, mode)
        if len(rows) == 1:
            return self._fenced(rows[0].replace(' &= ', ' = '))
        return self.aligned(rows)

    def aligned(self, rows: list[str]) -> str:
        return self._fenced("\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")

    @staticmethod
    def _fenced(tex: str) -> str:
        # A notation's symbols are the user's: the fence is longer than any run of backticks they hold.
        fence = "`" * max(3, max((len(run) for run in re.findall("`+", tex)), default=0) + 1)
        return f"{fence}math\n{tex}\n{fence}"


class MkDocsMarkdown(Markdown):
    """The ``mkdocs`` flavor, for Python-Markdown with pymdownx.arithmatex, tables and footnotes.

    Python-Markdown knows fewer backslash escapes than CommonMark (``\\<``,
    ``\\~`` or ``\\&`` would print their backslash), so the user's text escapes
    its special characters as character references, which every Markdown reads.
    """

    def text(self, text: str) -> str:
        escaped = re.sub(r"[\\`*_{}\[\]<>()#+!|~$&]", lambda match: f"&#{ord(match.group())};", text)
        return _block_safe(escaped, lambda c: f"&#{ord(c)};")


class MystMarkdown(Markdown):
    """The ``myst`` flavor, for MyST with its dollarmath and amsmath extensions.

    A multi-line chain is a top-level ``align*``, which the amsmath extension
    hands to the math renderer untouched; inside ``$$…$$`` Sphinx would wrap
    it in a ``split`` of its own.
    """

    def aligned(self, rows: list[str]) -> str:
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


class PandocMarkdown(Markdown):
    """The ``pandoc`` flavor: pandoc's Markdown with tex_math_dollars.

    The title goes into a YAML metadata block, where ``pandoc --standalone``
    looks for it (and without which it warns); the sections keep their levels.
    """

    def heading(self, text: str, level: int) -> str:
        if level + self.heading_offset > 1:
            return super().heading(text, level)
        # Pandoc reads a metadata string as Markdown: ``text`` is already escaped for
        # that, and a single-quoted YAML scalar takes it as it is, quotes doubled.
        quoted = text.replace("'", "''")
        return f"---\ntitle: '{quoted}'\n---"


MARKDOWN_FLAVORS = {"commonmark": Markdown, "github": GithubMarkdown, "mkdocs": MkDocsMarkdown, "myst": MystMarkdown, "pandoc": PandocMarkdown}


# The preamble's \fitwidth, for a LaTeX fragment whose host lacks it: a picture at its
# natural size, or shrunk to the width of the column if it is wider.
FIT_WIDTH = (
    "\\ifdefined\\fitwidth\\else\\newsavebox{\\fitbox}\\newcommand{\\fitwidth}[1]{\\sbox{\\fitbox}{#1}"
    "\\ifdim\\wd\\fitbox>\\linewidth\\resizebox{\\linewidth}{!}{\\usebox{\\fitbox}}\\else\\usebox{\\fitbox}\\fi}\\fi"
)


def _link(name: str) -> str:
    """A file name as a Markdown link target, in which a space or a parenthesis would end it."""
    return "".join(f"%{ord(c):02X}" if c in " ()<>%" else c for c in name)


class Latex(Markup):
    width = 62
    two_column_width = 36
    number_width = 5  # what an equation number takes from the line
    table_rows = 25  # a longer table is cut into pieces of this many rows, each with the header

    def __init__(self, derivation, number_format: NumberFormat, heading_offset: int = 0,
                 standalone: bool = True, figures: bool | None = None) -> None:
        super().__init__(derivation, number_format, heading_offset, standalone)
        # A fragment leaves its figures out unless asked: TikZ needs packages a host may not load.
        self.with_figures = standalone if figures is None else figures
        self.handout = derivation.spec.handout
        self.width = self.two_column_width if self.handout.columns == 2 else type(self).width
        if self.handout.equation_numbers:
            self.width -= self.number_width

    # Level 1 is the title: ``\\title`` in a document, a section in a fragment (shifted by one).
    _HEADINGS = ("title", "section*", "subsection*", "subsubsection*", "paragraph*", "subparagraph*")

    def heading(self, text: str, level: int) -> str:
        command = self._HEADINGS[min(level + self.heading_offset, len(self._HEADINGS)) - 1]
        return f"\\{command}{{{text}}}"

    def prose(self, key: str) -> str:
        # A negative number in the text keeps math's minus sign, not a hyphen ("the input $-1.0$"),
        # and a power of ten is math too.
        text = self.value(key)
        return f"${text}$" if text.startswith("-") or "\\" in text else text

    # A display of up to this many rows never breaks across pages; in a longer one no
    # equation breaks after its first row or before its last (between equations it may).
    unbroken_rows = 6

    @cached_property
    def _title(self) -> TitleText:
        return TitleText(self.derivation.spec)

    @property
    def engine(self) -> str:
        """pdflatex, or lualatex where the title block has letters pdfLaTeX's fonts lack."""
        return self._title.engine

    @property
    def right_to_left(self) -> dict[str, bool]:
        return self._title.right_to_left

    def show(self, equations, mode: str = "full") -> str:
        groups = self.line_groups(equations, mode)
        rows = [row for rows in groups for row in rows]
        numbered = self.handout.equation_numbers
        if len(rows) == 1:
            row = rows[0].replace(' &= ', ' = ')
            return f"\\begin{{equation}}\n{row}\n\\end{{equation}}" if numbered else f"\\[\n{row}\n\\]"
        if numbered:
            # One number per equation, on its last line.
            rows = [row if i == len(lines) - 1 else f"{row} \\notag" for lines in groups for i, row in enumerate(lines)]
        environment = "align" if numbered else "align*"
        if len(rows) <= self.unbroken_rows:
            return f"\\begin{{{environment}}}\n" + " \\\\\n".join(rows) + f"\n\\end{{{environment}}}"
        # A long display may break, but no equation of it after its first row (\\*) nor before its last.
        ends = []
        for lines in groups:
            ends += [self._row_end(lines, i) for i in range(len(lines) - 1)] + ["\\\\"]
        body = "".join(f"{row} {end}\n" for row, end in zip(rows[:-1], ends)) + rows[-1]
        return f"{{\\allowdisplaybreaks\n\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}}}"

    @classmethod
    def _row_end(cls, lines: list[str], i: int) -> str:
        """``\\\\*`` where the page must not break after line i of an equation: after its first line,
        before its second row (when its first, wrapped over lines ``&\\quad …``, is short enough
        to keep whole), and before its last line."""
        second_row = next((j for j in range(1, len(lines)) if lines[j].startswith("&=")), len(lines))
        keep = i == 0 or i == len(lines) - 2 or (i + 1 <= second_row < cls.unbroken_rows)
        return "\\\\*" if keep else "\\\\"

    def network_figure(self, caption: str) -> str:
        if not self.with_figures:
            return ""  # TikZ needs packages a host document may not load (and MathJax cannot draw)
        # Across both columns in the two-column layout: shrunk to one, its labels would be too small to read.
        return self._figure(diagram.tikz(self.diagram), caption, "network", wide=self.handout.columns == 2,
                            needs="tikzpicture")

    def loss_figure(self, curve: losscurve.Curve, caption: str, x_label: str) -> str:
        if not self.with_figures:
            return ""
        return self._figure(losscurve.pgfplots(curve, x_label), caption, "loss", needs="pgfplotsset")

    def _figure(self, picture: str, caption: str, label: str, wide: bool = False, needs: str = "") -> str:
        # \fitwidth, defined in the preamble, shrinks a picture wider than the column and never enlarges one.
        # Here, where the text refers to it, or at the top of the next page if it does not fit
        # (never further, and no page left half empty for it); across both columns only the top of a page can hold it.
        # A fragment has no preamble of ours: each figure defines \fitwidth unless the host has.
        environment, placement = ("figure*", "t") if wide else ("figure", "!ht")
        label = f"fig:{self.id_prefix}{label}" if not self.standalone else f"fig:{label}"
        definition = "" if self.standalone else FIT_WIDTH + "\n"
        figure = (f"{definition}\\begin{{{environment}}}[{placement}]\n\\centering\n\\fitwidth{{%\n{picture}}}\n"
                  f"\\caption{{{caption}}}\\label{{{label}}}\n\\end{{{environment}}}")
        if self.standalone:
            return figure
        # A fragment's host may not load TikZ or pgfplots (nbconvert's template loads neither):
        # there the figure is left out rather than stop the document.
        return f"\\ifdefined\\{needs}\n{figure}\n\\fi"

    def m(self, tex: str) -> str:
        return f"${self.typeset(tex)}$"

    def num(self, key: str) -> str:
        return f"${self.shown[key]}$"

    def em(self, text: str) -> str:
        return f"\\emph{{{text}}}"

    def strong(self, text: str) -> str:
        return f"\\textbf{{{text}}}"

    def text(self, text: str) -> str:
        return latex_text.escape(text)

    def footnote(self, name: str, text: str) -> str:
        return f"\\footnote{{{text}}}"

    def footnote_list(self) -> str:
        return ""

    def table(self, header, rows) -> str:
        spec = "l" * len(header)
        head = " & ".join(header) + r" \\"
        body = [" & ".join(row) + r" \\" for row in rows]
        if not self.standalone:
            # A host document may not load booktabs or longtable.
            return ("\\begin{center}\n" + "\n".join([f"\\begin{{tabular}}{{{spec}}}", head + r" \hline", *body])
                    + "\n\\end{tabular}\n\\end{center}")
        if self.handout.columns == 1:
            # A long table breaks across pages with its header repeated, rather than leave a page half empty.
            return "\n".join([f"\\begin{{longtable}}{{{spec}}}", "\\toprule", head, "\\midrule", "\\endhead",
                              "\\bottomrule", "\\endlastfoot", *body, "\\end{longtable}"])
        # longtable cannot work in two columns: a tabular cannot break, so a long table is
        # cut into pieces (separate paragraphs, each with the header) between which the column may break.
        pieces = []
        for start in range(0, max(len(rows), 1), self.table_rows):
            lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", head, "\\midrule", *body[start:start + self.table_rows]]
            pieces.append("\n".join(lines) + "\n\\bottomrule\n\\end{tabular}")
        return "\\begin{center}\n" + "\n\n".join(pieces) + "\n\\end{center}"


def markup_class(fmt: str, flavor: str | None = None) -> type[Markup]:
    """The markup of a format (and, for Markdown, of a flavor)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "markdown":
        if (flavor or DEFAULT_FLAVOR) not in MARKDOWN_FLAVORS:
            raise ValueError(f"unknown flavor {flavor!r}; expected one of {', '.join(FLAVORS)}")
        return MARKDOWN_FLAVORS[flavor or DEFAULT_FLAVOR]
    if flavor is not None:
        raise ValueError(f"a flavor is a kind of Markdown; the {fmt} format has none")
    if fmt == "latex":
        return Latex
    from .html import Html  # only HTML needs latex2mathml

    return Html


def render(derivation, fmt: str = "markdown", **options) -> str:
    """The derivation as a Markdown, LaTeX or HTML document (options as ``render_with_figures``)."""
    return render_with_figures(derivation, fmt, **options)[0]


def render_with_figures(
    derivation,
    fmt: str = "markdown",
    *,
    decimals: int = 9,
    digits: int | None = None,
    detail: str = "source",
    flavor: str | None = None,
    standalone: bool = True,
    heading_offset: int = 0,
    figure_prefix: str | None = None,
    markup: type[Markup] | None = None,
    template: str | None = None,
    context: dict | None = None,
    figures: bool | None = None,
) -> tuple[str, dict[str, str]]:
    """The document and the files it refers to: file name → SVG text (only Markdown has any).

    ``flavor`` picks the Markdown dialect (default ``commonmark``).  With
    ``standalone=False`` the document is a fragment to put inside another one:
    LaTeX and HTML without preamble or page, LaTeX without its figures (TikZ
    needs the host's preamble), Markdown with its figures inline as HTML
    instead of files beside it.  ``heading_offset`` moves every heading that
    many levels down.  The Markdown names its figures ``PREFIX-network.svg`` and
    ``PREFIX-loss.svg``, to be written beside it; PREFIX is the spec's name
    unless given.  ``markup``, ``template`` and ``context`` replace the
    format's markup class, its template and add to what the template sees
    (the slides are LaTeX with markup and a template of their own).
    ``figures=True`` keeps the TikZ figures in a LaTeX fragment (its host must
    load graphicx, tikz and pgfplots).
    """
    check_size(derivation.spec, "render")
    markup_type = markup or markup_class(fmt, flavor)
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r}; expected one of {', '.join(DETAILS)}")
    if heading_offset < 0:
        raise ValueError(f"heading_offset must be 0 or more, got {heading_offset}")
    if fmt == "latex" and not standalone:
        heading_offset += 1  # a fragment has no \title: its title is a section
    number_format = NumberFormat(decimals=decimals, digits=digits)
    if fmt == "markdown":
        markup = markup_type(derivation, number_format, heading_offset, standalone, figure_prefix=figure_prefix)
    elif fmt == "latex":
        markup = markup_type(derivation, number_format, heading_offset, standalone, figures=figures)
    else:
        markup = markup_type(derivation, number_format, heading_offset, standalone)
    name = "fragment" if not standalone and fmt != "markdown" else "document"
    template = environment().get_template(template or f"{name}{SUFFIXES[fmt]}.j2")
    naming = derivation.network.naming
    text = template.render(d=derivation, n=derivation.network, f=markup, detail=detail, sym=naming, term=naming.words,
                           **(context or {}))
    text = re.sub(r"\n{3,}", "\n\n", text)
    if fmt == "latex":
        text = displays_in_their_paragraphs(text)
    return text.strip() + "\n", getattr(markup, "figures", {})


# A display ends here; a display starts here (a long chain's group opens before it).
_DISPLAY_END = re.compile(r"(\\\]|\\end\{(?:align\*?|equation)\}\}?)$")
_DISPLAY_START = re.compile(r"\n\n(?=(\\\[|\\begin\{(?:align\*?|equation)\}|\{\\allowdisplaybreaks)\n)")
# Lines after which a display cannot join the paragraph: there is none (headings, figures, tables,
# a fragment's figure that its host may leave out).
_NOT_A_PARAGRAPH = re.compile(r"\\(?:(?:sub)*section\*?|paragraph\*?|title|maketitle)\b|\\end\{(?:center|figure\*?|longtable)\}"
                              r"|^\\fi$")


def displays_in_their_paragraphs(latex: str) -> str:
    """The LaTeX with no blank line before a display that follows text or another display.

    A blank line before ``\\[`` ends the paragraph: TeX then starts a new one
    holding only an empty line above the display, so displays after a blank
    line stand a paragraph's height further from their text than they should.
    """
    def join(match: re.Match) -> str:
        before = latex[latex.rfind("\n", 0, match.start()) + 1:match.start()]
        if _DISPLAY_END.search(before) or not _NOT_A_PARAGRAPH.search(before):
            return "\n"
        return match.group(0)

    return _DISPLAY_START.sub(join, latex)
