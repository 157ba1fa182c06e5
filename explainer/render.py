"""Turning a derivation into Markdown or LaTeX with the Jinja templates.

The words live once, in ``templates/document.j2``; each output format wraps it
(``document.md.j2``, ``document.tex.j2``) and supplies its markup through a
small class (``Markdown``, ``Latex``): headings, display math, emphasis,
footnotes, tables, figures and escaping of the user's text.  Numbers are
formatted here, never in a template.

The figures (``diagram``, ``losscurve``) are TikZ and pgfplots inside the
LaTeX; the Markdown refers to SVG files beside it, ``NAME-network.svg`` and
``NAME-loss.svg``, which ``render_with_figures`` returns with the text.
"""

from __future__ import annotations

import os
import re
from functools import cache, cached_property
from pathlib import Path

import jinja2

from . import diagram, losscurve
from .formatting import NumberFormat
from .notation import Num, Sym, chain_lines, latex, substitute

FORMATS = ("markdown", "latex")
DETAILS = ("source", "full")
SUFFIXES = {"markdown": ".md", "latex": ".tex"}

_NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()


def template_directory() -> Path:
    """The templates: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "document.j2").is_file():
            return candidate
    raise FileNotFoundError("explainer's templates are missing from the installation")


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's cache of compiled templates, so a run does not recompile them.

    It lives in the user's cache directory and only holds what Jinja can
    recompile at any time; where that directory cannot be made, no cache.
    """
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "explainer" / "templates"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(root))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_directory()),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["count"] = count_words
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["join_words"] = join_words
    # ``items|map("apply", f.m)``: map a markup method, which Jinja's map cannot name
    env.filters["apply"] = lambda item, function: function(item)
    return env


def count_words(n: int, noun: str, plural: str | None = None) -> str:
    """``two inputs``, ``one output neuron``: how the source counts."""
    word = _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)
    return f"{word} {noun if n == 1 else plural or noun + 's'}"


def join_words(items) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def shown_values(derivation, number_format: NumberFormat) -> dict[str, str]:
    """Every quantity and parameter by key, as the document prints it (LaTeX math)."""
    shown = {key: number_format(value) for key, value in derivation.values.items()}
    shown.update({key: str(value) for key, value in derivation.spec_parameters().items()})
    # A quantity that is just another one (∂net_o1/∂out_h1 = w_5) is printed as that one is.
    for key, equation in derivation.equations.items():
        last = equation.forms[-1]
        if isinstance(last, Sym) and last.key in shown:
            shown[key] = shown[last.key]
    return shown


class _Markup:
    """What both formats share: numbers, equation chains and the figures' data."""

    width = 100

    def __init__(self, derivation, number_format: NumberFormat) -> None:
        self.derivation = derivation
        self.format = number_format
        self.shown = shown_values(derivation, number_format)
        self.footnotes: list[tuple[str, str]] = []

    @cached_property
    def diagram(self) -> diagram.Diagram:
        return diagram.layout(self.derivation.network, self.shown)

    def loss_curve(self, first_words: str, last_words: str) -> losscurve.Curve | None:
        """The loss curve of the training, marked after one round and after the last; None without training."""
        training = self.derivation.section("training")
        if training is None:
            return None
        history = training.facts["history"]
        (k1, e1), (n, en) = history[0], history[-1]
        first = losscurve.Mark(k1, e1, first_words, self.shown[f"E_total@{k1}"])
        last = losscurve.Mark(n, en, last_words, self.shown[f"E_total@{n}"])
        return losscurve.curve(history, first, last)

    def value(self, key: str) -> str:
        return self.shown[key]

    def precise(self, key: str, digits: int) -> str:
        return NumberFormat(digits=digits)(self.derivation.values[key])

    def sides(self, equation, mode: str) -> list:
        forms = list(equation.forms)
        value = Num(self.shown[equation.key]) if equation.key else None
        if mode == "symbolic" or value is None:
            sides = forms
        elif mode == "stated":
            sides = [forms[0], value]
        else:
            shown_forms = {"full": forms, "brief": forms[:1] + forms[-1:], "numbers": forms[:1]}[mode]
            sides = [*shown_forms, substitute(forms[-1], self.shown), value]
        return _without_repeats(sides)

    def lines(self, equations, mode: str) -> list[str]:
        return [row for rows in self.line_groups(equations, mode) for row in rows]

    def line_groups(self, equations, mode: str) -> list[list[str]]:
        """The lines of each equation, one list per equation."""
        if not isinstance(equations, (list, tuple)):
            equations = [equations]
        return [chain_lines(self.sides(equation, mode), self.width) for equation in equations]


def _without_repeats(sides: list) -> list:
    """Drop a side printed exactly like the one before it (``= 0.05 = 0.05``)."""
    kept = [sides[0]]
    for side in sides[1:]:
        if latex(side) != latex(kept[-1]):
            kept.append(side)
    return kept


class Markdown(_Markup):
    width = 100

    def __init__(self, derivation, number_format: NumberFormat, figure_prefix: str | None = None) -> None:
        super().__init__(derivation, number_format)
        self.figure_prefix = figure_prefix or derivation.spec.name
        self.figures: dict[str, str] = {}  # file name → SVG, for the figures the document refers to

    def _figure(self, suffix: str, svg: str, caption: str) -> str:
        name = f"{self.figure_prefix}-{suffix}.svg"
        self.figures[name] = svg
        alt = re.sub(r"([\\\[\]])", r"\\\1", caption)
        return f"![{alt}]({_link(name)})\n\n*{caption}*"

    def network_figure(self, caption: str) -> str:
        return self._figure("network", diagram.svg(self.diagram, caption), caption)

    def loss_figure(self, curve: losscurve.Curve, caption: str, x_label: str) -> str:
        return self._figure("loss", losscurve.svg(curve, x_label, caption), caption)

    def heading(self, text: str, level: int) -> str:
        return f"{'#' * level} {text}"

    def show(self, equations, mode: str = "full") -> str:
        rows = self.lines(equations, mode)
        if len(rows) == 1:
            return f"$${rows[0].replace(' &= ', ' = ')}$$"
        return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$"

    def m(self, tex: str) -> str:
        return f"${tex}$"

    def num(self, key: str) -> str:
        text = self.shown[key]
        return f"${text}$" if "\\" in text else text

    def em(self, text: str) -> str:
        return f"*{text}*"

    def strong(self, text: str) -> str:
        return f"**{text}**"

    def text(self, text: str) -> str:
        """The user's own text, with Markdown's special characters taken literally."""
        return re.sub(r"([\\`*_{}\[\]<>()#+!|~$])", r"\\\1", text)

    def footnote(self, name: str, text: str) -> str:
        self.footnotes.append((name, text))
        return f"[^{name}]"

    def footnote_list(self) -> str:
        return "\n".join(f"[^{name}]: {text}" for name, text in self.footnotes)

    def table(self, header, rows) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def _link(name: str) -> str:
    """A file name as a Markdown link target, in which a space or a parenthesis would end it."""
    return "".join(f"%{ord(c):02X}" if c in " ()<>%" else c for c in name)


class Latex(_Markup):
    width = 62
    two_column_width = 36
    number_width = 5  # what an equation number takes from the line
    table_rows = 25  # a longer table is cut into pieces of this many rows, each with the header

    def __init__(self, derivation, number_format: NumberFormat) -> None:
        super().__init__(derivation, number_format)
        self.handout = derivation.spec.handout
        self.width = self.two_column_width if self.handout.columns == 2 else type(self).width
        if self.handout.equation_numbers:
            self.width -= self.number_width

    def heading(self, text: str, level: int) -> str:
        command = {1: "title", 2: "section*", 3: "subsection*"}[level]
        return f"\\{command}{{{text}}}"

    def show(self, equations, mode: str = "full") -> str:
        groups = self.line_groups(equations, mode)
        rows = [row for rows in groups for row in rows]
        if not self.handout.equation_numbers:
            if len(rows) == 1:
                return f"\\[\n{rows[0].replace(' &= ', ' = ')}\n\\]"
            return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"
        if len(rows) == 1:
            return f"\\begin{{equation}}\n{rows[0].replace(' &= ', ' = ')}\n\\end{{equation}}"
        # One number per equation, on its last line.
        numbered = [row if i == len(rows) - 1 else f"{row} \\notag" for rows in groups for i, row in enumerate(rows)]
        return "\\begin{align}\n" + " \\\\\n".join(numbered) + "\n\\end{align}"

    def network_figure(self, caption: str) -> str:
        # Across both columns in the two-column layout: shrunk to one, its labels would be too small to read.
        return self._figure(diagram.tikz(self.diagram), caption, "network", wide=self.handout.columns == 2)

    def loss_figure(self, curve: losscurve.Curve, caption: str, x_label: str) -> str:
        return self._figure(losscurve.pgfplots(curve, x_label), caption, "loss")

    @staticmethod
    def _figure(picture: str, caption: str, label: str, wide: bool = False) -> str:
        # \fitwidth, defined in the preamble, shrinks a picture wider than the column and never enlarges one.
        environment, placement = ("figure*", "t") if wide else ("figure", "!htbp")
        return (f"\\begin{{{environment}}}[{placement}]\n\\centering\n\\fitwidth{{%\n{picture}}}\n"
                f"\\caption{{{caption}}}\\label{{fig:{label}}}\n\\end{{{environment}}}")

    def m(self, tex: str) -> str:
        return f"${tex}$"

    def num(self, key: str) -> str:
        return f"${self.shown[key]}$"

    def em(self, text: str) -> str:
        return f"\\emph{{{text}}}"

    def strong(self, text: str) -> str:
        return f"\\textbf{{{text}}}"

    def text(self, text: str) -> str:
        return "".join(_LATEX_SPECIALS.get(c, c) for c in text)

    def footnote(self, name: str, text: str) -> str:
        return f"\\footnote{{{text}}}"

    def footnote_list(self) -> str:
        return ""

    def table(self, header, rows) -> str:
        # A tabular cannot break across pages (nor can longtable work in two columns): the
        # page may break between the pieces, separate paragraphs.
        spec = "l" * len(header)
        pieces = []
        for start in range(0, max(len(rows), 1), self.table_rows):
            lines = [f"\\begin{{tabular}}{{{spec}}}", " & ".join(header) + r" \\ \hline"]
            lines += [" & ".join(row) + r" \\" for row in rows[start:start + self.table_rows]]
            pieces.append("\n".join(lines) + "\n\\end{tabular}")
        return "\\begin{center}\n" + "\n\n".join(pieces) + "\n\\end{center}"


_MARKUP = {"markdown": Markdown, "latex": Latex}


def render(derivation, fmt: str = "markdown", *, decimals: int = 9, digits: int | None = None, detail: str = "source",
           figure_prefix: str | None = None) -> str:
    """The derivation as a complete Markdown or LaTeX document."""
    return render_with_figures(derivation, fmt, decimals=decimals, digits=digits, detail=detail,
                               figure_prefix=figure_prefix)[0]


def render_with_figures(derivation, fmt: str = "markdown", *, decimals: int = 9, digits: int | None = None,
                        detail: str = "source", figure_prefix: str | None = None) -> tuple[str, dict[str, str]]:
    """The document and the files it refers to: file name → SVG text (none for LaTeX).

    The Markdown names its figures ``PREFIX-network.svg`` and ``PREFIX-loss.svg``,
    to be written beside it; PREFIX is the spec's name unless given.
    """
    if fmt not in _MARKUP:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r}; expected one of {', '.join(DETAILS)}")
    number_format = NumberFormat(decimals=decimals, digits=digits)
    if fmt == "markdown":
        markup = Markdown(derivation, number_format, figure_prefix)
    else:
        markup = _MARKUP[fmt](derivation, number_format)
    template = environment().get_template(f"document{SUFFIXES[fmt]}.j2")
    text = template.render(d=derivation, n=derivation.network, f=markup, detail=detail)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", getattr(markup, "figures", {})
