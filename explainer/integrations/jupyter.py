"""The derivation as Jupyter shows it: the richest form a front end can take,
the HTML in a notebook, the LaTeX when nbconvert writes a PDF, the Markdown
elsewhere."""

from __future__ import annotations

from collections.abc import Mapping

from ..outputs.document import Document
from ..spec.reading import Spec


class Derivation(Document):
    """The derivation of one spec, as the public API hands it out: ``sections``
    (the document as data), ``values`` (every quantity by key), the ``to_*``
    documents, and its displays in a notebook."""

    def _repr_markdown_(self) -> str:
        return self.to_markdown(standalone=False)

    def _repr_latex_(self) -> str:
        return self.to_latex(standalone=False)

    def _repr_html_(self) -> str:
        return self.to_html(standalone=False)


def derive(spec: Spec | Mapping | str | None = None) -> Derivation:
    """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example)."""
    return Derivation.of(spec)
