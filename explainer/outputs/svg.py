"""Writing SVG as text: short math labels, escaping, coordinates.

The figures (the network diagram, the loss curve) are generated as SVG text,
with no drawing library and no external program, so that they are the same
bytes on every machine.  Their short math labels (``w_5 = 0.40``,
``target_{o1} = 0.01``) are ``MathText`` records, printed here as SVG and by
the figures' TikZ printers as LaTeX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FONT_FAMILY = "'Latin Modern Roman', 'CMU Serif', 'Times New Roman', serif"
SUBSCRIPT_SIZE = 0.72  # of the font size
SUBSCRIPT_DROP = 0.25  # em
THICK_SPACE = 0.28  # em
_SUPERSCRIPTS = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")


@dataclass(frozen=True)
class MathText:
    """``symbol_{subscript}`` (italic, as LaTeX sets letters in math), then ``rest`` upright.

    ``rest`` holds a number as the document prints it, e.g. `` = 0.40``; a
    number in scientific notation arrives as LaTeX (``1.2 \\times 10^{-5}``).
    """

    symbol: str = ""
    subscript: str = ""
    rest: str = ""

    def tex(self) -> str:
        name = f"{self.symbol}_{{{self.subscript}}}" if self.subscript else self.symbol
        return f"${name}{self.rest}$"

    def plain(self) -> str:
        """One line of plain text (tooltips): ``w5 = 0.40``."""
        return f"{self.symbol}{self.subscript}{plain_number(self.rest)}"

    def width(self) -> float:
        """The width in em, a little generous: for laying labels out without a font at hand."""
        subscript = SUBSCRIPT_SIZE * sum(_advance(c) for c in self.subscript)
        return sum(_advance(c) for c in self.symbol + plain_number(self.rest)) + subscript

    def svg(self, font_size: float) -> str:
        """The content of a ``<text>`` element: tspans for the italic name and its subscript."""
        parts = []
        if self.symbol:
            parts.append(f'<tspan font-style="italic">{escape(self.symbol)}</tspan>')
        drop = SUBSCRIPT_DROP * font_size
        if self.subscript:
            size = number(SUBSCRIPT_SIZE * 100)
            parts.append(f'<tspan font-size="{size}%" dy="{number(drop)}">{escape(self.subscript)}</tspan>')
        if self.rest:
            shift = f' dy="{number(-drop)}"' if self.subscript else ""
            rest = plain_number(self.rest)
            if parts and rest.startswith(" "):
                # A space that begins a tspan may be dropped (librsvg does): an offset instead,
                # the thick space TeX puts around "=".
                shift += f' dx="{number(THICK_SPACE * font_size)}"'
                rest = rest.lstrip(" ")
            # No-break spaces: whitespace inside SVG text may collapse.
            parts.append(f"<tspan{shift}>{escape(rest).replace(' ', chr(0xA0))}</tspan>")
        return "".join(parts)


# Advance widths in em of Latin Modern's characters, rounded up; anything else counts as a wide letter.
_ADVANCES = {**dict.fromkeys("0123456789", 0.5), ".": 0.28, ",": 0.28, " ": 0.33, "=": 0.78, "−": 0.78, "+": 0.78,
             "×": 0.78, "…": 0.9, "w": 0.72, "m": 0.88, "i": 0.35, "l": 0.3, "t": 0.36, "r": 0.45, "1": 0.5}


def _advance(character: str) -> float:
    return _ADVANCES.get(character, 0.6 if character.isupper() else 0.53)


def plain_number(text: str) -> str:
    """A number as the document prints it (LaTeX), as plain text: ``1.2 × 10⁻⁵``, ``−0.2``."""
    text = re.sub(r"\\times\s*10\^\{([-+]?\d+)\}", lambda m: "× 10" + m.group(1).translate(_SUPERSCRIPTS), text)
    text = text.replace("\\ldots", "…").replace("\\,", " ")
    # A minus sign, not a hyphen, as LaTeX prints it in math.
    return re.sub(r"(?<![\w])-(?=[\d.])", "−", text)


def superscript(text: str) -> str:
    return text.translate(_SUPERSCRIPTS)


def number(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros, never ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# Not xml.sax.saxutils: it imports urllib.request, and with it http and email, for nothing used here.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def escape(text: str) -> str:
    """Text as XML character data or the inside of a double-quoted attribute."""
    return "".join(_ESCAPES.get(c, c) for c in text)


def attribute(value: str) -> str:
    return f'"{escape(value)}"'


def title(text: str) -> str:
    """A tooltip for the element it is the first child of."""
    return f"<title>{escape(text)}</title>"


# The figures' colours follow the page they are on.  Inline in a page (explainer's
# own, a docs site, a notebook), ink is the text's colour and paper the page's
# background: a theme's own variable where it has one (MkDocs Material, furo,
# JupyterLab, the PyData theme), else the system colour Canvas, which follows the
# page's colour scheme.  As a file of its own (an <img>, GitHub's Markdown) the
# figure is on a card of its own, light or dark as the reader's system prefers, so
# it reads on a light and on a dark page alike.  The presentation attributes
# are the light colours, for renderers without CSS.  The rules are scoped to the
# figures: inline, an SVG's <style> applies to the whole page.
STYLE = """<style>
.explainer-svg { --ex-ink: var(--explainer-ink, currentColor);
  --ex-paper: var(--explainer-paper, var(--md-default-bg-color, var(--color-background-primary, var(--jp-layout-color0, var(--pst-color-background, Canvas))))); }
svg.explainer-svg:root { color-scheme: light dark; --explainer-ink: #1f2328; --explainer-paper: #ffffff; color: #1f2328; }
@media (prefers-color-scheme: dark) { svg.explainer-svg:root { --explainer-ink: #e6edf3; --explainer-paper: #0d1117; color: #e6edf3; } }
.explainer-svg .ex-backdrop { display: none; }
svg.explainer-svg:root .ex-backdrop { display: inline; fill: var(--ex-paper); }
.explainer-svg .ex-ink { fill: var(--ex-ink); }
.explainer-svg .ex-paper { fill: var(--ex-paper); }
.explainer-svg .ex-halo { fill: var(--ex-ink); stroke: var(--ex-paper); }
.explainer-svg .ex-line { stroke: var(--ex-ink); stroke-opacity: 0.6; }
.explainer-svg .ex-faint { stroke: var(--ex-ink); stroke-opacity: 0.4; }
.explainer-svg .ex-grid { stroke: var(--ex-ink); stroke-opacity: 0.12; }
.explainer-svg .ex-curve { stroke: var(--ex-ink); }
.explainer-svg .ex-node { stroke: var(--ex-ink); stroke-opacity: 0.75; }
.explainer-svg .ex-input { fill: color-mix(in srgb, #4a90d9 20%, var(--ex-paper)); }
.explainer-svg .ex-hidden { fill: color-mix(in srgb, #5cb85c 20%, var(--ex-paper)); }
.explainer-svg .ex-output { fill: color-mix(in srgb, #f0a050 22%, var(--ex-paper)); }
.explainer-svg .ex-bias { fill: color-mix(in srgb, #888888 18%, var(--ex-paper)); }
</style>"""


def document(width: float, height: float, body: list[str], description: str) -> str:
    """A complete SVG file, ``width`` × ``height`` pixels, described by ``description`` for screen readers."""
    w, h = number(width), number(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="explainer-svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'font-family={attribute(FONT_FAMILY)} role="img">'
    )
    backdrop = f'<rect class="ex-backdrop" width="{w}" height="{h}" fill="#ffffff"/>'
    return "\n".join([head, title(description), STYLE, backdrop, *body, "</svg>"]) + "\n"
