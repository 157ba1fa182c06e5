"""reveal.js slides of the derivation: one HTML file that needs no network.

The frames are the Beamer slides' own: the template is rendered twice, by the
``Beamer`` markup and by ``RevealJs`` (HTML with MathML, marking the same
ends of frames and headings), and ``slides.cut_frames`` cuts the HTML where it
cuts the Beamer.  Each side of a chain after the first is a fragment (a row of
the MathML table, with the rows that continue it), as each is a ``\\pause`` in
Beamer.  reveal.js itself, its style sheet and a theme are inlined from
``templates/vendor/reveal.js`` (the npm package's files, unchanged).
"""

from __future__ import annotations

import re

from . import diagram, losscurve
from .html import Html, mathml
from .render import environment, render_with_figures
from .slides import _END, Beamer, FrameMarkup, cut_frames, one_line

SIZES = {"16:9": (1280, 720), "4:3": (1024, 768)}
VENDOR = "vendor/reveal.js"
_ROW = re.compile(r"<mtable\b|</mtable>|<mtr>")
_INDEX = re.compile(r'data-fragment-index="(\d+)"')


class RevealJs(FrameMarkup, Html):
    """HTML markup for reveal.js slides."""

    def _display(self, rows: list[tuple[str, bool]]) -> str:
        single = one_line(rows)
        if single is not None:
            return f'<div class="equation">{mathml(single, display=True)}</div>{_END}'
        tex = "\\begin{aligned}\n" + " \\\\\n".join(line for line, _ in rows) + "\n\\end{aligned}"
        return f'<div class="equation">{fragments(mathml(tex, display=True), rows)}</div>{_END}'

    def table(self, header, rows) -> str:
        pieces = [Html.table(self, header, piece) for piece in self.table_pieces(list(rows))]
        return "\n".join(piece + _END for piece in pieces)

    def network_figure(self, caption: str) -> str:
        return self._slide_figure(diagram.svg(self.diagram, caption))

    def loss_figure(self, curve, caption: str, x_label: str) -> str:
        return self._slide_figure(losscurve.svg(curve, x_label, caption))

    @staticmethod
    def _slide_figure(svg: str) -> str:
        return f'<div class="figure">{svg}</div>{_END}'


def fragments(math: str, rows: list[tuple[str, bool]]) -> str:
    """The MathML of an aligned display with each revealed row a fragment; a row
    that continues a revealed side comes with it (the same fragment index)."""
    out, at, depth, row, index, current = [], 0, 0, 0, -1, None
    for match in _ROW.finditer(math):
        token = match.group()
        if token == "</mtable>":
            depth -= 1
        elif token != "<mtr>":
            depth += 1
        elif depth == 1:
            if row >= len(rows):
                raise RuntimeError("the MathML of a display has more rows than its TeX")
            if rows[row][1]:
                index += 1
                current = index
            if current is not None:
                out.append(math[at:match.start()])
                out.append(f'<mtr class="fragment" data-fragment-index="{current}">')
                at = match.end()
            row += 1
    if row != len(rows):
        raise RuntimeError("the MathML of a display has fewer rows than its TeX")
    return "".join(out) + math[at:]


def _section(title: str, content: str, markup: RevealJs) -> str:
    # Fragment indices count from the slide's first, display after display.
    indices: dict[tuple[int, str], int] = {}
    parts = re.split(r'(?=<div class="equation">)', content)
    numbered = [_INDEX.sub(lambda m, d=d: f'data-fragment-index="{indices.setdefault((d, m.group(1)), len(indices))}"', part)
                for d, part in enumerate(parts)]
    heading = f"<h2>{title}</h2>\n" if title else ""
    return f"<section>\n{heading}{markup.paragraphs(''.join(numbered))}\n</section>"


def render_revealjs(derivation, aspect: str = "16:9", **options) -> str:
    """The derivation as one reveal.js HTML file (options as ``render.render_with_figures``: decimals, digits, detail)."""
    if aspect not in SIZES:
        raise ValueError(f"unknown aspect {aspect!r}; expected one of {', '.join(SIZES)}")
    beamer = render_with_figures(derivation, "latex", markup=Beamer, template="document.j2", **options)[0]

    def frames(body: str, markup: RevealJs) -> str:
        return "\n".join(_section(title, content, markup) for title, content in cut_frames(beamer, body))

    width, height = SIZES[aspect]
    return render_with_figures(derivation, "html", markup=RevealJs, template="slides.html.j2",
                               context={"frames": frames, "vendor": vendor(), "width": width, "height": height},
                               **options)[0]


def vendor() -> dict[str, str]:
    """reveal.js, its style sheet and its theme, as the package ships them."""
    env = environment()
    files = {name: env.loader.get_source(env, f"{VENDOR}/{file}")[0]
             for name, file in (("js", "reveal.js"), ("css", "reveal.css"), ("theme", "serif.css"))}
    for name, text in files.items():
        if re.search(r"</(?:script|style)", text, re.IGNORECASE) or (name != "js" and "@import" in text):
            raise RuntimeError(f"{VENDOR}: {name} cannot be inlined as it is")
    return files
