"""What every format's markup shares: the values as the document prints them,
equation chains cut into lines, and the figures' data.  Each format
(``render.Markdown``, ``render.Latex``, ``html.Html``) is a subclass.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import weakref
from functools import cached_property

from ..maths.derivation import MATRIX_SIZE
from ..maths.formulas import Num, Sym, abbreviated, chain_lines, latex, substitute, with_sign
from ..spec.notation import SYMBOLS
from . import diagram, losscurve
from .formatting import NumberFormat


# What the formats and detail levels of one derivation's documents have in common
# (its shown values, the diagram's layout, the printed sides of each equation),
# worked out once per derivation and number format.  Kept as long as the derivation is.
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _memo(derivation, key: tuple, make):
    """``make()``, once per derivation and ``key``."""
    shared = _SHARED.get(derivation)
    if shared is None:
        shared = _SHARED[derivation] = {}
    if key not in shared:
        shared[key] = make()
    return shared[key]


def _memo_equation(derivation, key: tuple, equation, make):
    """``make()``, once per derivation, ``key`` and equation.

    Equations are named by identity (hashing one walks its whole formula); the
    memo holds the equation too, so that its id cannot pass to another one."""
    held, value = _memo(derivation, (*key, id(equation)), lambda: (equation, make()))
    return value if held is equation else make()


def shown_values(derivation, number_format: NumberFormat) -> dict[str, str]:
    """Every quantity and parameter by key, as the document prints it (LaTeX math); not to be changed."""
    return _memo(derivation, ("shown", number_format), lambda: _shown_values(derivation, number_format))


def _shown_values(derivation, number_format: NumberFormat) -> dict[str, str]:
    shown = {key: number_format(value) for key, value in derivation.values.items()}
    shown.update({key: written(value) for key, value in derivation.spec_parameters().items()})
    # A quantity that is just another one (∂net_o1/∂out_h1 = w_5) is printed as that one is.
    for key, equation in derivation.equations.items():
        last = equation.forms[-1]
        if isinstance(last, Sym) and last.key in shown:
            shown[key] = shown[last.key]
    return shown


def with_minus_sign(number: str) -> str:
    """A number for running text: its sign the minus sign (U+2212), as the math prints it,
    not the hyphen-minus a keyboard types."""
    return number.replace("-", "\u2212")


def written(value) -> str:
    """A parameter as the spec wrote it, in LaTeX: ``0.40``, and ``1e-8`` as ``1 \\times 10^{-8}``."""
    text = str(value)
    if "E" not in text:
        return text
    mantissa, exponent = text.split("E")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def fingerprint(spec) -> str:
    """Eight hex digits that tell one spec's document from another's (not where the spec was read from)."""
    return hashlib.sha256(repr(dataclasses.replace(spec, source="")).encode()).hexdigest()[:8]


# A name of two letters or more in a notation's symbol (``net``, ``out``, the ``total`` of ``E_{total}``).
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")
# TeX whose braced argument is text, or a name already set in a font of its own: left as it is.
_SET_ALREADY = r"\\(?:text\w*|math\w+|operatorname\*?|begin|end|mbox|hbox)\s*\{[^{}]*\}|\\[A-Za-z]+"


# The words formulas write out besides the notation's symbols: a loss's general
# formula's output (target − output), the regularised error's E_reg.
_GENERAL_WORDS = ("output", "reg")


def multi_letter_names(notation) -> re.Pattern:
    """The notation's names of several letters, and the general formulas' words, found in a formula's TeX."""
    words = {word for symbol in SYMBOLS for word in _WORD.findall(getattr(notation, symbol))}
    words = sorted(words | set(_GENERAL_WORDS), key=lambda word: (-len(word), word))
    return re.compile(rf"{_SET_ALREADY}|(?<![A-Za-z])({'|'.join(words)})(?![A-Za-z])")


def one_word(names: re.Pattern | None, tex: str) -> str:
    """``tex`` with each multi-letter name in ``\\mathit``: one italic word, not the product n·e·t."""
    if names is None:
        return tex
    return names.sub(lambda found: rf"\mathit{{{found.group(1)}}}" if found.group(1) else found.group(0), tex)


class Markup:
    """What both formats share: numbers, equation chains and the figures' data."""

    width = 100
    # Whether a multi-letter name is set as one italic word.  TeX's own output spaces
    # ``net`` as a product of three letters; the web formats set it as the word it is.
    words_italic = False

    def __init__(self, derivation, number_format: NumberFormat, heading_offset: int = 0,
                 standalone: bool = True) -> None:
        self.derivation = derivation
        self.format = number_format
        # A fragment lives inside a page of someone else's: no files beside it, no preamble of its own.
        self.standalone = standalone
        # Embedded in a page that has headings of its own, the document's headings move down.
        self.heading_offset = heading_offset
        self.shown = shown_values(derivation, number_format)
        self.footnotes: list[tuple[str, str]] = []
        # A fragment shares its page with the host's text and maybe with other
        # derivations: its footnote labels and ids carry the spec's fingerprint.
        self.id_prefix = "" if standalone else f"{fingerprint(derivation.spec)}-"

    @cached_property
    def diagram(self) -> diagram.Diagram:
        return _memo(self.derivation, ("diagram", self.format),
                     lambda: diagram.layout(self.derivation.network, self.shown))

    def loss_curve(self, first_words: str, last_words: str) -> losscurve.Curve | None:
        """The loss curve of the training, marked after one round and after the last; None without training."""
        training = self.derivation.section("training")
        if training is None:
            return None
        history = training.facts["history"]
        (k1, e1), (n, en) = history[0], history[-1]
        first = losscurve.Mark(k1, e1, first_words, self.shown[f"E_total@{k1}"])
        last = losscurve.Mark(n, en, last_words, self.shown[f"E_total@{n}"])
        return losscurve.curve(history, first, last)

    @property
    def times(self) -> str:
        """The multiplication sign between two symbols in the notation, spaced: `` * ``, `` \\cdot ``, `` ``."""
        sign = self.derivation.spec.notation.times
        return " " if sign == "juxtapose" else f" {sign} "

    @cached_property
    def _names(self) -> re.Pattern | None:
        return multi_letter_names(self.derivation.spec.notation) if self.words_italic else None

    def typeset(self, tex: str) -> str:
        """A formula's TeX as this format prints it (multi-letter names as one word where it sets them so)."""
        return one_word(self._names, tex)

    def value(self, key: str) -> str:
        return self.shown[key]

    def prose(self, key: str) -> str:
        """A value in running text, outside the math (``value`` goes inside it)."""
        return self.value(key)

    def precise(self, key: str, digits: int) -> str:
        return NumberFormat(digits=digits)(self.derivation.values[key])

    def sides(self, equation, mode: str) -> list:
        return list(self._sides_and_texts(equation, mode)[0])

    def side_texts(self, equation, mode: str) -> tuple[str, ...]:
        """The LaTeX of each of ``sides``: the same in every format, at any width."""
        return self._sides_and_texts(equation, mode)[1]

    def _sides_and_texts(self, equation, mode: str) -> tuple[tuple, tuple[str, ...]]:
        return _memo_equation(self.derivation, ("sides", self.format, mode), equation,
                              lambda: _without_repeats(self._sides(equation, mode)))

    def _sides(self, equation, mode: str) -> list:
        """The sides of ``equation``'s chain as ``mode`` shows them, repeats and all."""
        forms = list(equation.forms)
        value = Num(self.shown[equation.key]) if equation.key else None
        if mode == "matrices":  # the symbolic forms, then the matrices with their numbers
            sides = [*forms[:2], *(substitute(form, self.shown) for form in forms[2:])]
        elif mode == "abbreviated":  # matrices too large for the page: the equation, then its result cut short
            sides = [*forms[:2], abbreviated(substitute(forms[-1], self.shown), MATRIX_SIZE)]
        elif mode == "symbolic" or value is None:
            sides = forms
        elif mode == "stated":
            sides = [forms[0], value]
        else:
            shown_forms = {"full": forms, "brief": forms[:1] + forms[-1:], "numbers": forms[:1]}[mode]
            sides = [*shown_forms, substitute(forms[-1], self.shown), value]
        sign = self.derivation.spec.notation.times
        if sign != "*":
            sides = [with_sign(side, sign) for side in sides]
        return sides

    def lines(self, equations, mode: str) -> list[str]:
        return [row for rows in self.line_groups(equations, mode) for row in rows]

    def line_groups(self, equations, mode: str) -> list[list[str]]:
        """The lines of each equation, one list per equation."""
        if not isinstance(equations, (list, tuple)):
            equations = [equations]
        return [[self.typeset(line) for line in
                 _memo_equation(self.derivation, ("lines", self.format, self.width, mode), equation,
                                lambda equation=equation: chain_lines(self.sides(equation, mode), self.width,
                                                                      self.side_texts(equation, mode)))]
                for equation in equations]


def _without_repeats(sides: list) -> tuple[tuple, tuple[str, ...]]:
    """The sides without one printed exactly like the one before it (``= 0.05 = 0.05``), and their LaTeX."""
    kept, texts = [sides[0]], [latex(sides[0])]
    for side in sides[1:]:
        text = latex(side)
        if text != texts[-1]:
            kept.append(side)
            texts.append(text)
    return tuple(kept), tuple(texts)
