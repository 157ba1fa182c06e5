"""Beamer slides of the derivation: the document's own words, cut into frames.

The words come from ``templates/document.j2``, as for every format; the
``Beamer`` markup marks where a frame ends (after each display, table or
figure: one step of the derivation a frame) and where a heading starts a new
one, and ``frames`` cuts the text there.  Each chain is revealed one equals
sign at a time (``\\pause`` before every side after the first); the network
and the loss curve are scaled to the frame.  Footnotes (the source's errata)
belong to the handout, not to the screen.
"""

from __future__ import annotations

import re

from ..maths.formulas import visible_width
from .preamble import ASPECTS
from .render import Latex, displays_in_their_paragraphs, render_with_figures

_END = "\x00end-of-frame\x00"
_DISPLAYS = ("\\[", "\\begin{align*}", "\\begin{center}\\small")  # displays and tables
TEXT_PER_FRAME = 300  # characters of words a frame holds above a display
_HEADING = re.compile(r"\x00heading (\d) ([^\x00]*)\x00")


class FrameMarkup:
    """What the slides of every format share: how a chain is cut into lines and
    frames, and which line reveals a new side.  Mixed into a format's markup."""

    width = 52
    two_column_width = 52
    table_rows = 9  # rows of a table a frame holds
    frame_rows = 6  # rows of a display a frame holds

    def heading(self, text: str, level: int) -> str:
        """A mark where a frame begins, which the frame cutting reads; none for the title, which has its own frame."""
        if level == 1:
            return ""
        return f"\x00heading {level} {text}\x00"

    def line_groups(self, equations, mode: str) -> list[list[str]]:
        """One side of each chain a line, so that each can be revealed in turn."""
        from ..maths.formulas import chain_lines

        if not isinstance(equations, (list, tuple)):
            equations = [equations]
        groups = []
        for equation in equations:
            sides, texts = self.sides(equation, mode), self.side_texts(equation, mode)
            one_line = f"{texts[0]} &= " + " = ".join(texts[1:])
            width = min(self.width, visible_width(one_line) - 1) if len(sides) > 2 else self.width
            groups.append([self.typeset(line) for line in chain_lines(sides, width, texts)])
        return groups

    def show(self, equations, mode: str = "full") -> str:
        # A display of more rows than a frame holds goes on over several frames, an equation whole where it fits.
        chunks: list[list[list[str]]] = [[]]
        for lines in self.line_groups(equations, mode):
            for start in range(0, len(lines), self.frame_rows):
                piece = lines[start:start + self.frame_rows]
                if chunks[-1] and sum(map(len, chunks[-1])) + len(piece) > self.frame_rows:
                    chunks.append([])
                chunks[-1].append(piece)
        return "\n".join(self._display(revealed_rows(chunk)) for chunk in chunks)

    def _display(self, rows: list[tuple[str, bool]]) -> str:
        raise NotImplementedError

    def footnote(self, name: str, text: str) -> str:
        return ""  # the source's errata belong to the handout, not to the screen

    def footnote_list(self) -> str:
        return ""

    def table_pieces(self, rows) -> list:
        """The rows of a table in pieces a frame holds."""
        return [rows[start:start + self.table_rows] for start in range(0, max(len(rows), 1), self.table_rows)]


def revealed_rows(groups: list[list[str]]) -> list[tuple[str, bool]]:
    """The rows of one display, each with whether it comes on the next slide: the
    next side of a chain, or the next equation.  A chain continued from the frame
    before starts with an invisible ``=``, to keep its alignment."""
    rows = []
    for g, lines in enumerate(groups):
        for i, line in enumerate(lines):
            reveal = (i > 0 and line.startswith("&=")) or (i == 0 and g > 0)
            if i == 0 and line.startswith("&"):
                line = "\\phantom{=}" + line
            rows.append((line, reveal))
    return rows


def one_line(rows: list[tuple[str, bool]]) -> str | None:
    """The display as one equation, where it is one row: ``a = b``."""
    if len(rows) == 1 and "&" in rows[0][0] and not rows[0][0].startswith("\\phantom"):
        return rows[0][0].replace(" &= ", " = ")
    return None


class Beamer(FrameMarkup, Latex):
    """LaTeX markup for Beamer frames."""

    def __init__(self, derivation, number_format, heading_offset: int = 0, standalone: bool = True,
                 figures: bool | None = None) -> None:
        super().__init__(derivation, number_format, heading_offset, standalone, figures)
        self.width = type(self).width


    def _display(self, rows: list[tuple[str, bool]]) -> str:
        single = one_line(rows)
        if single is not None:
            return f"\\[\n{single}\n\\]{_END}"
        body = " \\\\\n".join(("\\pause " if reveal else "") + line for line, reveal in rows)
        return "\\begin{align*}\n" + body + f"\n\\end{{align*}}{_END}"

    def table(self, header, rows) -> str:
        head = " & ".join(header) + r" \\"
        body = [" & ".join(row) + r" \\" for row in rows]
        spec = "l" * len(header)
        pieces = []
        for piece in self.table_pieces(body):
            lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", head, "\\midrule", *piece]
            pieces.append("\\begin{center}\\small\n" + "\n".join(lines) + "\n\\bottomrule\n\\end{tabular}\n\\end{center}" + _END)
        return "\n".join(pieces)

    def network_figure(self, caption: str) -> str:
        from . import diagram

        return self._slide_figure(diagram.tikz(self.diagram))

    def loss_figure(self, curve, caption: str, x_label: str) -> str:
        from . import losscurve

        return self._slide_figure(losscurve.pgfplots(curve, x_label))

    @staticmethod
    def _slide_figure(picture: str) -> str:
        # \fitframe, defined in the preamble, scales the picture to the room left on the frame.
        return f"\\begin{{center}}\n\\fitframe{{%\n{picture}}}\n\\end{{center}}{_END}"


def render_slides(derivation, aspect: str = "16:9", **options) -> str:
    """The derivation as Beamer slides (options as ``render.render_with_figures``: decimals, digits, detail)."""
    if aspect not in ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}; expected one of {', '.join(ASPECTS)}")
    return render_with_figures(derivation, "latex", markup=Beamer, template="slides.tex.j2",
                               context={"frames": frames, "aspect": ASPECTS[aspect]}, **options)[0]


def frames(body: str) -> str:
    """The rendered words cut into Beamer frames: a frame ends after each display, table or figure,
    and each heading starts a new one, titled with it (the section's title and the subsection's)."""
    return "\n\n".join(f"\\begin{{frame}}[t]{{{title}}}\n{content}\n\\end{{frame}}" for title, content in cut_frames(body))


def _pieces(body: str) -> list[str]:
    return re.split("(\x00[^\x00]*\x00)", body)


def _paragraphs(text: str) -> list[str]:
    return [block for block in re.split(r"\n\s*\n", text) if block.strip()]


def cut_frames(body: str, shown: str | None = None) -> list[tuple[str, str]]:
    """The title and the content of each frame of the Beamer ``body``.

    With ``shown``, the same template rendered by another format's slide markup
    (which marks the same ends of frames and headings), the frames are cut from
    that instead, where the Beamer's are: the same frames, in the other format.
    """
    layout = _pieces(displays_in_their_paragraphs(re.sub(r"\n{3,}", "\n\n", body)))
    other = layout if shown is None else _pieces(re.sub(r"\n{3,}", "\n\n", shown))
    kinds = [[_HEADING.sub(r"\1", piece) for piece in pieces[1::2]] for pieces in (layout, other)]
    if kinds[0] != kinds[1]:
        raise RuntimeError("the two renderings of the slides mark different frames")
    out = []
    titles = [{2: "", 3: ""}, {2: "", 3: ""}]
    pending: list[int] = []

    def title() -> str:
        own = titles[shown is not None]
        return own[2] + (f": {own[3]}" if own[3] else "")

    def frame(content: str, words: str) -> None:
        if content.strip():
            out.append((title(), (words if shown is not None else content).strip()))

    def close():
        content = "".join(layout[i] for i in pending)
        words = "".join(other[i] for i in pending)
        pending.clear()
        # Long words before a display take a frame of their own, so that the display has the room.
        start = min((content.find(m) for m in _DISPLAYS if m in content), default=-1)
        if start > 0 and len(content[:start]) > TEXT_PER_FRAME:
            cut = content.rfind("\n\n", 0, start)
            if cut > 0:
                # The other rendering is cut after as many paragraphs.
                before = len(_paragraphs(content[:cut]))
                paragraphs = _paragraphs(words)
                frame(content[:cut], "\n\n".join(paragraphs[:before]))
                content, words = content[cut:], "\n\n".join(paragraphs[before:])
        frame(content, words)

    for index, piece in enumerate(layout):
        heading = _HEADING.fullmatch(piece)
        if piece == _END:
            close()
        elif heading:
            close()
            level = int(heading.group(1))
            for own, pieces in zip(titles, (layout, other)):
                text = _HEADING.fullmatch(pieces[index]).group(2)
                if level == 2:
                    own[2], own[3] = text, ""
                elif level == 3:
                    own[3] = text
        else:
            pending.append(index)
    close()
    return out
