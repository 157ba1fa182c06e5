"""The outputs: a derivation as a document.  The Jinja environment and the
markup of each format (Markdown flavors, LaTeX, HTML with MathML), number
formatting, the figures (network diagram, loss curve, SVG writing), the PDF
build and the value macros.

It may import ``explainer.spec`` and ``explainer.maths``; it reads a derivation
and never changes one.
"""
