"""The derivation as Jupyter shows it: the richest form a front end can take,
the HTML in a notebook, the LaTeX when nbconvert writes a PDF, the Markdown
elsewhere.

The LaTeX carries the figures in TikZ and pgfplots, each shown where the
notebook's LaTeX preamble loads its package (``\\usepackage{tikz}``,
``\\usepackage{pgfplots}``) and left out where it does not: a package
cannot be loaded from a cell's output, after ``\\begin{document}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..outputs.document import Document
from ..spec.reading import Spec

# JupyterLab and Notebook typeset ``$$…$$`` and leave a ```` ```math ```` fence as code.
MARKDOWN_FLAVOR = "commonmark"


class Derivation(Document):
    """The derivation of one spec, as the public API hands it out: ``sections``
    (the document as data), ``values`` (every quantity by key), the ``to_*``
    documents, and its displays in a notebook."""

    def _repr_markdown_(self) -> str:
        return self.to_markdown(flavor=MARKDOWN_FLAVOR, standalone=False)

    def _repr_latex_(self) -> str:
        return self.to_latex(standalone=False, figures=True)

    def _repr_html_(self) -> str:
        return self.to_html(standalone=False)


def derive(spec: Spec | Mapping | str | None = None) -> Derivation:
    """The derivation of a spec (a Spec, a dict, a file path, or None for the built-in example)."""
    return Derivation.of(spec)


# --- %load_ext explainer: the magics


_FORMATS = {"html": "text/html", "markdown": "text/markdown", "latex": "text/latex"}


class Shown:
    """A derivation with display options, as a magic shows it: every form, or the one ``fmt`` names."""

    def __init__(self, derivation: Derivation, options: dict, fmt: str | None) -> None:
        self.derivation, self.options, self.fmt = derivation, options, fmt

    def _repr_mimebundle_(self, include=None, exclude=None):
        forms = {
            "text/html": lambda: self.derivation.to_html(standalone=False, **self.options),
            "text/markdown": lambda: self.derivation.to_markdown(flavor=MARKDOWN_FLAVOR, standalone=False, **self.options),
            "text/latex": lambda: self.derivation.to_latex(standalone=False, figures=True, **self.options),
        }
        wanted = [_FORMATS[self.fmt]] if self.fmt else list(forms)
        return {kind: forms[kind]() for kind in wanted}


def magic_arguments(line: str) -> tuple[list[str], dict, str | None]:
    """``[PATH] [--detail source|full] [--decimals N | --digits N] [--format html|markdown|latex]``."""
    import argparse
    import shlex

    from ..spec.errors import ExplainerError

    parser = argparse.ArgumentParser(prog="%explainer", add_help=False, exit_on_error=False)
    parser.add_argument("path", nargs="*")
    parser.add_argument("--detail", choices=("source", "full"), default="source")
    parser.add_argument("--decimals", type=int, default=9)
    parser.add_argument("--digits", type=int)
    parser.add_argument("--format", choices=tuple(_FORMATS))
    try:
        arguments, unknown = parser.parse_known_args(shlex.split(line))
    except (argparse.ArgumentError, ValueError) as error:
        raise ExplainerError(f"%explainer: {error}") from None
    if unknown:
        raise ExplainerError(f"%explainer: unknown option {unknown[0]!r}; expected --detail, --decimals, --digits, --format")
    options = {"detail": arguments.detail, "decimals": arguments.decimals, "digits": arguments.digits}
    return arguments.path, options, arguments.format


def shown_derivation(line: str, cell: str | None) -> Shown:
    """What ``%explainer LINE`` (a spec file) or ``%%explainer LINE`` over a TOML cell shows."""
    from ..spec.errors import ExplainerError
    from ..spec.reading import load_spec, parse_spec_text

    paths, options, fmt = magic_arguments(line)
    if cell is None:
        if len(paths) > 1:
            raise ExplainerError("%explainer: expected one spec file, got " + " ".join(paths))
        spec = load_spec(paths[0]) if paths else load_spec()
    else:
        if paths:
            raise ExplainerError("%%explainer: the spec is the cell; expected only options, got " + " ".join(paths))
        spec = parse_spec_text(cell, "%%explainer cell", "toml") if cell.strip() else load_spec()
    return Shown(derive(spec), options, fmt)


def register_magics(ipython) -> None:
    from IPython.core.error import UsageError

    from ..spec.errors import ExplainerError

    def explainer_magic(line: str, cell: str | None = None):
        # A mistake is one line, as IPython shows a UsageError, not a traceback.
        try:
            return shown_derivation(line, cell)
        except ExplainerError as error:
            raise UsageError(str(error)) from None

    ipython.register_magic_function(explainer_magic, "line_cell", "explainer")
