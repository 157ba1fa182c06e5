"""A derivation with its documents: the methods that turn the mathematics'
data into Markdown, LaTeX, HTML, PDF and slides."""

from __future__ import annotations

from ..maths.derivation import Derivation
from .render import render


class Document(Derivation):
    """A derivation that writes itself out.  Options, for every format:
    ``decimals``/``digits``, ``detail`` (source, full) and ``standalone``."""

    def to_markdown(self, **options) -> str:
        """Options also: ``flavor`` (commonmark, the default; github, mkdocs, myst, pandoc)."""
        return render(self, "markdown", **options)

    def to_latex(self, **options) -> str:
        return render(self, "latex", **options)

    def to_html(self, **options) -> str:
        """One self-contained page, math as MathML; ``standalone=False`` for a fragment."""
        return render(self, "html", **options)

    def to_beamer(self, aspect: str = "16:9", **options) -> str:
        """Beamer slides: the document's words in frames, each chain revealed one side at a time."""
        from .slides import render_slides

        return render_slides(self, aspect, **options)

    def to_revealjs(self, aspect: str = "16:9", **options) -> str:
        """The same slides as one reveal.js HTML file, math as MathML, that needs no network to be shown."""
        from .revealjs import render_revealjs

        return render_revealjs(self, aspect, **options)

    def to_pdf(self, **options) -> bytes:
        """The LaTeX document compiled with latexmk (which must be installed)."""
        from .pdf import compile_pdf

        pdf, _ = compile_pdf(self.to_latex(**options))
        return pdf


def derive(spec=None) -> Document:
    """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example), with its documents."""
    return Document.of(spec)
