"""Integrations: explainer inside other people's tools.  The Python-Markdown
extension that MkDocs sites use, the Sphinx directive, and the derivation as
Jupyter displays it.

They sit on top, beside the command line, and may import every stage; nothing
in the package imports them but ``explainer/__init__.py`` (the public API),
the command line and the two entry-point aliases.
"""
