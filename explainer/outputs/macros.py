"""The values as LaTeX macros, for authors who write their own text around the numbers.

``values_tex`` writes a file to ``\\input`` in a LaTeX document.  It defines
``\\expval{KEY}``, which prints the quantity KEY exactly as the document does
(same rounding, same scientific notation), in text or in math:

    The hidden neuron outputs $out_{h1} = \\expval{out_h1}$.   % 0.593269992

KEY is the quantity's key, as ``explainer values`` prints it: ``out_h1``,
``dE_total/dw5``, ``w5+``, ``E_total@10000``, and the parameters as the spec
wrote them (``w5``, ``b1``, ``i1``, ``target_o1``, ``eta``).  No mapping to
letter-only names is needed: each value is its own macro, named
``explainer@value@KEY`` through ``\\csname``, in which ``_``, ``/``, ``+``
and ``@`` are ordinary characters.  An unknown KEY is a LaTeX error naming it.
"""

from __future__ import annotations

import re

from .formatting import NumberFormat
from .markup import shown_values

# Characters a key may hold: those of explainer's own keys.  Anything else could
# end the \csname (braces, backslash) or begin a comment, so it is refused.
_SAFE_KEY = re.compile(r"[A-Za-z0-9_/+@.,\[\]-]+")

_PREAMBLE = r"""\providecommand*{\expval}[1]{%
  \ifcsname explainer@value@\detokenize{#1}\endcsname
    \ensuremath{\csname explainer@value@\detokenize{#1}\endcsname}%
  \else
    \errmessage{explainer: no value named \detokenize{#1}}%
  \fi}"""


def values_tex(derivation, *, decimals: int = 9, digits: int | None = None) -> str:
    """The macros file: one ``\\expval`` value per parameter and quantity, in the document's order."""
    number_format = NumberFormat(decimals=decimals, digits=digits)
    shown = shown_values(derivation, number_format)
    precision = f"{digits} significant digits" if digits is not None else f"{decimals} decimal places"
    lines = [
        f"% The values of \"{_comment(derivation.spec.title)}\", as its document prints them ({precision}).",
        "% \\input this file, then write \\expval{KEY}: \\expval{out_h1}, \\expval{dE_total/dw5}, \\expval{w5+}.",
        "% KEY is a key of `explainer values`, or a parameter of the spec (w5, b1, i1, target_o1, eta).",
        _PREAMBLE,
    ]
    for key in (*derivation.spec_parameters(), *derivation.values):
        if not _SAFE_KEY.fullmatch(key):
            raise ValueError(f"a key that TeX cannot name: {key!r}")
        # \detokenize: the document may have made _ active (the underscore package).
        lines.append(f"\\expandafter\\def\\csname explainer@value@\\detokenize{{{key}}}\\endcsname{{{shown[key]}}}")
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    """User text inside a TeX comment: one line, as the spec guarantees; nothing else to escape."""
    return text.replace("\n", " ")
