"""A Sphinx directive: ``explainer`` expands a TOML spec into the derivation at build time.

In ``conf.py``, one line (it loads myst_parser too)::

    extensions = ["explainer.sphinx"]

In a MyST page::

    ```{explainer}
    :detail: full

    [network]
    layers = [2, 2, 2]
    …
    ```

or in reStructuredText, ``.. explainer::`` with the spec indented below it.
The spec may be a file instead, relative to the page: ``.. explainer:: specs/xor.toml``
(or a ``file: specs/xor.toml`` line as the content); the page is rebuilt when
it changes.  An empty directive is the built-in example.  Options: ``:detail:`` (source or
full), ``:decimals:`` or ``:digits:``.

The derivation is written in the ``myst`` flavor and parsed by MyST, with its
dollarmath and amsmath extensions switched on whatever the site's settings, into
real sections (in the table of contents, nested under the section that holds
the directive), footnotes and math nodes that the site's math renderer and
every builder (HTML, LaTeX, …) handle as their own.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from ..spec.errors import ExplainerError


class ExplainerDirective(SphinxDirective):
    has_content = True
    optional_arguments = 1  # a spec file, relative to the page
    option_spec = {
        "detail": lambda argument: directives.choice(argument, ("source", "full")),
        "decimals": directives.nonnegative_int,
        "digits": directives.positive_int,
    }

    def run(self):
        from .blocks import block_spec
        from .jupyter import derive

        where = f"{self.env.docname}, line {self.lineno}"
        spec_text = "\n".join(self.content)
        if self.arguments:
            if spec_text.strip():
                raise self.error(f"{where}: expected a spec file or a spec in the directive, not both")
            spec_text = f"file: {self.arguments[0]}"
        try:
            base = Path(self.env.doc2path(self.env.docname)).parent
            spec = block_spec(spec_text, where, base)
            if spec_text.startswith("file:"):
                # Sphinx reads the page again when its spec file changes.
                self.env.note_dependency(str(base / spec_text[5:].strip()))
            derivation = derive(spec)
            markdown = derivation.to_markdown(flavor="myst", standalone=False, **self.options)
            latex = derivation.to_latex(standalone=False, figures=True, **self.options)
        except ExplainerError as error:
            raise self.error(str(error)) from None
        return with_latex_figures(self.parse_myst(markdown), latex_figures(latex))

    def parse_myst(self, markdown: str) -> list:
        """The doctree nodes of MyST ``markdown``, registered with this page (ids, footnotes)."""
        from myst_parser.mdit_to_docutils.sphinx_ import SphinxRenderer
        from myst_parser.parsers.mdit import create_md_parser

        settings = self.env.myst_config
        # update_mathjax off: MyST would mark the derivation's sections for MathJax to
        # skip, expecting a MathJax configuration that only a site with dollarmath gets.
        config = dataclasses.replace(settings, enable_extensions={*settings.enable_extensions, "dollarmath", "amsmath"},
                                     update_mathjax=False)
        parser = create_md_parser(config, SphinxRenderer)
        # The page's own parse defines its word count; a second one would clash with it.
        parser.disable("wordcount")
        # MyST makes sections only at the top of a document; so the derivation is
        # rendered at the end of this page's document, where its ids and footnotes
        # are registered with the page, and then moved to where the directive is.
        document = self.state.document
        start = len(document.children)
        parser.options["document"] = document
        parser.render(markdown)
        rendered = document.children[start:]
        del document.children[start:]
        return rendered


_FIGURE = re.compile(r"(?:\\ifdefined\\fitwidth.*?\n)?\\begin\{(figure\*?)\}.*?\\end\{\1\}", re.S)


def latex_figures(latex: str) -> list[str]:
    """The figure environments of a LaTeX fragment, in order (with the macro they need)."""
    return [match.group() for match in _FIGURE.finditer(latex)]


def with_latex_figures(rendered: list, figures: list[str]) -> list:
    """The doctree with each inline SVG figure followed by its TikZ twin for the LaTeX builder.

    An HTML block is lost to every builder but HTML's; the raw LaTeX is read by
    the LaTeX builder alone.
    """
    svgs = [node for tree in rendered for node in tree.findall(nodes.raw)
            if node.get("format") == "html" and node.astext().startswith('<figure class="explainer-figure"')]
    for svg, figure in zip(svgs, figures, strict=True):
        svg.parent.insert(svg.parent.index(svg) + 1, nodes.raw("", figure, format="latex"))
    return rendered


def setup(app):
    app.setup_extension("myst_parser")
    app.add_directive("explainer", ExplainerDirective)
    # What the figures' TikZ needs in the LaTeX builder's preamble.
    for package in ("graphicx", "tikz", "pgfplots"):
        app.add_latex_package(package)
    app.connect("config-inited", _pgfplots_compatibility)
    return {"version": _version(), "parallel_read_safe": True, "parallel_write_safe": True}


def _pgfplots_compatibility(app, config) -> None:
    # The loss curve is drawn for pgfplots 1.18's behaviour, as in explainer's own documents.
    elements = config.latex_elements
    elements["preamble"] = elements.get("preamble", "") + "\n\\pgfplotsset{compat=1.18}\n"


def _version() -> str:
    # The installed distribution's version: the one ``explainer --version`` prints.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("explainer")
    except PackageNotFoundError:
        return "unknown"
