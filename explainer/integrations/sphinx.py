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
An empty directive is the built-in example.  Options: ``:detail:`` (source or
full), ``:decimals:`` or ``:digits:``.

The derivation is written in the ``myst`` flavor and parsed by MyST, with its
dollarmath and amsmath extensions switched on whatever the site's settings, into
real sections (in the table of contents, nested under the section that holds
the directive), footnotes and math nodes that the site's math renderer and
every builder (HTML, LaTeX, …) handle as their own.
"""

from __future__ import annotations

import dataclasses

from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from ..spec.errors import ExplainerError


class ExplainerDirective(SphinxDirective):
    has_content = True
    option_spec = {
        "detail": lambda argument: directives.choice(argument, ("source", "full")),
        "decimals": directives.nonnegative_int,
        "digits": directives.positive_int,
    }

    def run(self):
        from ..spec.reading import load_spec, parse_spec_text
        from .jupyter import derive

        where = f"{self.env.docname}, line {self.lineno}"
        spec_text = "\n".join(self.content)
        try:
            spec = parse_spec_text(spec_text, where, "toml") if spec_text.strip() else load_spec()
            markdown = derive(spec).to_markdown(flavor="myst", standalone=False, **self.options)
        except ExplainerError as error:
            raise self.error(str(error)) from None
        return self.parse_myst(markdown)

    def parse_myst(self, markdown: str) -> list:
        """The doctree nodes of MyST ``markdown``, registered with this page (ids, footnotes)."""
        from myst_parser.mdit_to_docutils.sphinx_ import SphinxRenderer
        from myst_parser.parsers.mdit import create_md_parser

        settings = self.env.myst_config
        config = dataclasses.replace(settings, enable_extensions={*settings.enable_extensions, "dollarmath", "amsmath"})
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


def setup(app):
    app.setup_extension("myst_parser")
    app.add_directive("explainer", ExplainerDirective)
    return {"version": _version(), "parallel_read_safe": True, "parallel_write_safe": True}


def _version() -> str:
    # The installed distribution's version: the one ``explainer --version`` prints.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("explainer")
    except PackageNotFoundError:
        return "unknown"
