"""The LaTeX documents' preambles and title, from the spec alone.

Everything a LaTeX handout or Beamer deck says before its first words about
the network (``templates/document_preamble.tex.j2`` and
``templates/slides_preamble.tex.j2``) depends on the spec's title block and
handout options only, never on the derivation.  Rendered here without SymPy,
it can go to TeX while the derivation is still being worked out (see
``pdf.start_first_pass``); the full document starts with exactly this text.
"""

from __future__ import annotations

import re
from functools import cached_property

from . import latex_text

# The slides' aspect ratios, as --aspect names them and as Beamer's option spells them.
ASPECTS = {"16:9": "169", "4:3": "43"}


class TitleText:
    """The markup of the title block: the engine its letters need, the right-to-left
    fonts it uses and its text as LaTeX (the ``Latex`` markup uses the same)."""

    def __init__(self, spec) -> None:
        self.fields = [spec.title, spec.author, spec.course, spec.date]

    @cached_property
    def engine(self) -> str:
        """pdflatex, or lualatex where the title block has letters pdfLaTeX's fonts lack."""
        return latex_text.engine(self.fields)

    @cached_property
    def right_to_left(self) -> dict[str, bool]:
        return latex_text.uses_right_to_left(self.fields)

    @staticmethod
    def text(text: str) -> str:
        return latex_text.escape(text)


def document_preamble(spec) -> str:
    """The handout's LaTeX up to and including ``\\maketitle``."""
    return _rendered("document_preamble.tex.j2", spec)


def slides_preamble(spec, aspect: str = "16:9") -> str:
    """The Beamer slides' LaTeX up to and including the title frame."""
    if aspect not in ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}; expected one of {', '.join(ASPECTS)}")
    return _rendered("slides_preamble.tex.j2", spec, aspect=ASPECTS[aspect])


def _rendered(template: str, spec, **context) -> str:
    from .templating import environment  # Jinja: after the engine has been started on the title's needs

    text = environment().get_template(template).render(spec=spec, f=TitleText(spec), **context)
    # As the full document is tidied (render.render_with_figures), and ending with a whole line.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
