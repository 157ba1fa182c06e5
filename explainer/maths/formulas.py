"""Formulas as small immutable records, and their LaTeX.

The derivation writes formulas the way the source does (``w_5 * out_{h1}``,
``out_{o1}(1 - out_{o1})``, ``-(target_{o1} - out_{o1})``), which SymPy's own
printer would reorder and simplify.  So the document's formulas are these
records; SymPy checks them (``to_sympy``) and ``evaluate`` computes them, and
``latex`` prints them through one dispatch table, as SymPy's printers do.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

import mpmath
from mpmath.libmp import fone, mpf_mul, mpf_sum


@dataclass(frozen=True, slots=True)
class Sym:
    """A named quantity; ``key`` links it to a value (None: a name only)."""

    tex: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Num:
    """A number, already written as it is to be printed."""

    text: str


@dataclass(frozen=True, slots=True)
class Add:
    terms: tuple


@dataclass(frozen=True, slots=True)
class Mul:
    """A product, written ``a * b`` as the source does, or ``a(b)`` when juxtaposed."""

    factors: tuple
    juxtapose: bool = False
    # The sign between factors, as the notation writes it: "*", "\\cdot", "\\times" or "juxtapose".
    sign: str = "*"


@dataclass(frozen=True, slots=True)
class Neg:
    arg: object


@dataclass(frozen=True, slots=True)
class Paren:
    arg: object


@dataclass(frozen=True, slots=True)
class Frac:
    num: object
    den: object


@dataclass(frozen=True, slots=True)
class Pow:
    base: object
    exp: object


@dataclass(frozen=True, slots=True)
class Exp:
    """``e`` to the power ``arg``."""

    arg: object


@dataclass(frozen=True, slots=True)
class Log:
    """The natural logarithm ``ln(arg)``."""

    arg: object


@dataclass(frozen=True, slots=True)
class Tanh:
    """The hyperbolic tangent ``tanh(arg)``."""

    arg: object


@dataclass(frozen=True, slots=True)
class Sqrt:
    """The square root of ``arg`` (the optimizers' RMS of the gradients)."""

    arg: object


@dataclass(frozen=True, slots=True)
class Max:
    """The larger of ``args``; where they tie, the first one's branch (its derivative) is taken."""

    args: tuple


@dataclass(frozen=True, slots=True)
class Greater:
    """The condition ``lhs > rhs``."""

    lhs: object
    rhs: object


@dataclass(frozen=True, slots=True)
class Cases:
    """``value`` of the first branch whose condition holds, else ``otherwise``.

    ``branches`` is a tuple of (value, condition) pairs.  Functions with a kink
    (ReLU) write their derivative this way, which also states the value used
    exactly at the kink: there no condition holds and ``otherwise`` applies.
    """

    branches: tuple
    otherwise: object


@dataclass(frozen=True, slots=True)
class Partial:
    """The partial derivative of one quantity with respect to another; ``key`` names its value."""

    of: Sym
    wrt: Sym
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Matrix:
    """A matrix (a column vector has one entry a row), its entries formulas; written as a ``bmatrix``."""

    rows: tuple


# Of a matrix too large for the page, the entries shown: the first few columns (rows), a gap, the last.
SHOWN_ENTRIES = 3
DOTS = {"row": Sym("\\cdots"), "column": Sym("\\vdots"), "both": Sym("\\ddots")}


def abbreviated(node, size: int):
    """``node`` with each matrix wider (taller) than ``size`` cut to its first ``SHOWN_ENTRIES`` columns (rows),
    ``\\cdots`` (``\\vdots``) and the last: the shape of a 10-wide layer on a page."""
    if isinstance(node, Matrix):
        def cut(items, gap):
            items = list(items)
            return items if len(items) <= size else [*items[:SHOWN_ENTRIES], gap, items[-1]]

        tall = len(node.rows) > size
        rows = [tuple(cut(row, DOTS["row"])) for row in node.rows]
        width = len(rows[0]) if rows else 0
        gap_row = tuple(DOTS["both"] if x is DOTS["row"] else DOTS["column"] for x in rows[0]) if tall else ()
        kept = cut(rows, gap_row) if tall else rows
        return Matrix(tuple(tuple(row) if row else () for row in kept)) if width else node
    if dataclasses.is_dataclass(node) and not isinstance(node, (Sym, Num)):
        changes = {}
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if isinstance(value, tuple):
                changes[field.name] = tuple(abbreviated(x, size) for x in value)
            elif dataclasses.is_dataclass(value):
                changes[field.name] = abbreviated(value, size)
        return dataclasses.replace(node, **changes)
    return node


@dataclass(frozen=True, slots=True)
class Transpose:
    arg: object


@dataclass(frozen=True, slots=True)
class Hadamard:
    """The element-wise product ``a ⊙ b``."""

    factors: tuple


@dataclass(frozen=True, slots=True)
class Arrow:
    """A downward arrow, the source's way of saying "this splits further"."""


def num(text: str) -> Num:
    return Num(text)


def half() -> Frac:
    return Frac(Num("1"), Num("2"))


def add(*terms) -> Add:
    return Add(tuple(terms))


def mul(*factors, juxtapose: bool = False) -> Mul:
    return Mul(tuple(factors), juxtapose)


# --- substitution and evaluation ---------------------------------------------


def substitute(node, shown: Mapping[str, str]):
    """The same formula with every quantity named in ``shown`` replaced by its printed number."""
    if isinstance(node, (Sym, Partial)):
        return Num(shown[node.key]) if node.key in shown else node
    if isinstance(node, (Num, Arrow)):
        return node
    if isinstance(node, Add):
        return Add(tuple(substitute(t, shown) for t in node.terms))
    if isinstance(node, Mul):
        return Mul(tuple(substitute(f, shown) for f in node.factors), node.juxtapose)
    if isinstance(node, (Neg, Paren, Exp, Log, Tanh, Sqrt)):
        return type(node)(substitute(node.arg, shown))
    if isinstance(node, Frac):
        return Frac(substitute(node.num, shown), substitute(node.den, shown))
    if isinstance(node, Pow):
        return Pow(substitute(node.base, shown), substitute(node.exp, shown))
    if isinstance(node, Max):
        return Max(tuple(substitute(a, shown) for a in node.args))
    if isinstance(node, Greater):
        return Greater(substitute(node.lhs, shown), substitute(node.rhs, shown))
    if isinstance(node, Cases):
        branches = tuple((substitute(v, shown), substitute(c, shown)) for v, c in node.branches)
        return Cases(branches, substitute(node.otherwise, shown))
    if isinstance(node, Matrix):
        return Matrix(tuple(tuple(substitute(x, shown) for x in row) for row in node.rows))
    if isinstance(node, Transpose):
        return Transpose(substitute(node.arg, shown))
    if isinstance(node, Hadamard):
        return Hadamard(tuple(substitute(f, shown) for f in node.factors))
    raise TypeError(f"not a formula: {node!r}")


def _number(text: str) -> mpmath.mpf:
    return _number_at(text, mpmath.mp.prec)


@lru_cache(maxsize=4096)
def _number_at(text: str, precision: int) -> mpmath.mpf:
    # Parsing decimal text into an mpf is slow, and formulas repeat the same few
    # numbers; the cache is per working precision, which sets the rounding.
    return mpmath.mpf(text)


def rekey(node, rename: Callable[[str], str]):
    """The same formula with every quantity's key passed through ``rename`` (the printed names stay)."""
    if isinstance(node, tuple):
        return tuple(rekey(item, rename) for item in node)
    if isinstance(node, Sym):
        return node if node.key is None else Sym(node.tex, rename(node.key))
    if isinstance(node, Partial):
        return Partial(rekey(node.of, rename), rekey(node.wrt, rename), None if node.key is None else rename(node.key))
    if dataclasses.is_dataclass(node):
        return dataclasses.replace(node, **{f.name: rekey(getattr(node, f.name), rename)
                                            for f in dataclasses.fields(node)})
    return node


def with_sign(node, sign: str):
    """The same formula with every product written with ``sign`` (see ``Mul.sign``)."""
    if isinstance(node, tuple):
        return tuple(with_sign(item, sign) for item in node)
    if isinstance(node, Mul):
        return Mul(with_sign(node.factors, sign), node.juxtapose, sign)
    if dataclasses.is_dataclass(node) and not isinstance(node, (Sym, Num, Partial, Arrow)):
        return dataclasses.replace(node, **{f.name: with_sign(getattr(node, f.name), sign)
                                            for f in dataclasses.fields(node)})
    return node


# Two values closer than this (relative) are equal at the working precision:
# a net input that is exactly 0 in decimal arithmetic may come out of binary
# mpmath as 1e-51, and a kink's convention must be decided on the exact value.
TIE = mpmath.mpf("1e-40")


def _greater(lhs, rhs) -> bool:
    return lhs - rhs > TIE * max(1, abs(lhs), abs(rhs))


def evaluate(node, values: Mapping[str, mpmath.mpf]) -> mpmath.mpf:
    """The formula's value, with quantities taken from ``values`` at full precision."""
    kind = type(node)
    if kind is Sym or kind is Partial:  # most of a formula: its quantities
        return values[node.key]
    evaluator = _EVALUATORS.get(kind)
    if evaluator is None:
        raise TypeError(f"cannot evaluate {node!r}")
    return evaluator(node, values)


# The written 0 that a local derivative has for every other term of its net input: one record shared by all.
ZERO = Num("0")


def exact_sum(terms: list) -> mpmath.mpf:
    """``mpmath.fsum(terms)``: the terms added exactly, then rounded once to the working precision.

    For real mpmath numbers this is the body of fsum itself, without its
    per-term type tests; anything else goes through fsum.
    """
    try:
        parts = [t._mpf_ for t in terms]
    except AttributeError:
        return mpmath.fsum(terms)
    precision, rounding = mpmath.mp._prec_rounding
    return mpmath.mp.make_mpf(mpf_sum(parts, precision, rounding))


def product(factors: list) -> mpmath.mpf:
    """``mpmath.fprod(factors)``: 1 times each factor in turn, each product rounded to the working precision.

    fprod's own steps, without saving and restoring the precision (which they do not change), on
    mpmath's own representation for real numbers (what their ``*`` does); 1 times a number is that number
    itself where it already has no more bits than the precision (a written 1, the w^(1-1) of a local
    derivative), so such a product is not worked out.
    """
    if not factors:
        return mpmath.mp.one
    precision, rounding = mpmath.mp._prec_rounding
    first, rest = factors[0], factors[1:]
    value = first if isinstance(first, mpmath.mpf) and first._mpf_[3] <= precision else mpmath.mp.one * first
    if not (isinstance(value, mpmath.mpf) and all(isinstance(factor, mpmath.mpf) for factor in rest)):
        for factor in rest:
            value = value * factor
        return value
    v = value._mpf_
    for factor in rest:
        f = factor._mpf_
        if f == fone and v[3] <= precision:
            continue
        v = f if v == fone and f[3] <= precision else mpf_mul(v, f, precision, rounding)
    return mpmath.mp.make_mpf(v)


def _evaluate_add(node: Add, values) -> mpmath.mpf:
    # fsum adds exactly and rounds once, and passes over zeros: leaving the shared 0s out gives the same number.
    return exact_sum([evaluate(t, values) for t in node.terms if t is not ZERO])


def _evaluate_mul(node: Mul, values) -> mpmath.mpf:
    return product([evaluate(f, values) for f in node.factors])


def _evaluate_max(node: Max, values) -> mpmath.mpf:
    args = [evaluate(a, values) for a in node.args]
    return next(a for a in args if not any(_greater(b, a) for b in args))


def _evaluate_cases(node: Cases, values) -> mpmath.mpf:
    for value, condition in node.branches:
        if evaluate(condition, values):
            return evaluate(value, values)
    return evaluate(node.otherwise, values)


_EVALUATORS: dict[type, Callable] = {
    Sym: lambda node, values: values[node.key],
    Partial: lambda node, values: values[node.key],
    Num: lambda node, values: _number(node.text),
    Add: _evaluate_add,
    Mul: _evaluate_mul,
    Neg: lambda node, values: -evaluate(node.arg, values),
    Paren: lambda node, values: evaluate(node.arg, values),
    Frac: lambda node, values: evaluate(node.num, values) / evaluate(node.den, values),
    Pow: lambda node, values: evaluate(node.base, values) ** evaluate(node.exp, values),
    Exp: lambda node, values: mpmath.exp(evaluate(node.arg, values)),
    Log: lambda node, values: mpmath.log(evaluate(node.arg, values)),
    Tanh: lambda node, values: mpmath.tanh(evaluate(node.arg, values)),
    Sqrt: lambda node, values: mpmath.sqrt(evaluate(node.arg, values)),
    Max: _evaluate_max,
    Greater: lambda node, values: _greater(evaluate(node.lhs, values), evaluate(node.rhs, values)),
    Cases: _evaluate_cases,
}


def to_sympy(node, symbol: Callable[[str], object]):
    """The formula as a SymPy expression; ``symbol(key)`` gives each quantity's symbol."""
    import sympy

    def convert(n):
        if isinstance(n, (Sym, Partial)):
            return symbol(n.key)
        if isinstance(n, Num):
            return sympy.Rational(n.text)
        if isinstance(n, Add):
            return sympy.Add(*map(convert, n.terms))
        if isinstance(n, Mul):
            return sympy.Mul(*map(convert, n.factors))
        if isinstance(n, Neg):
            return -convert(n.arg)
        if isinstance(n, Paren):
            return convert(n.arg)
        if isinstance(n, Frac):
            return convert(n.num) / convert(n.den)
        if isinstance(n, Pow):
            return convert(n.base) ** convert(n.exp)
        if isinstance(n, Exp):
            return sympy.exp(convert(n.arg))
        if isinstance(n, Log):
            return sympy.log(convert(n.arg))
        if isinstance(n, Tanh):
            return sympy.tanh(convert(n.arg))
        if isinstance(n, Sqrt):
            return sympy.sqrt(convert(n.arg))
        if isinstance(n, Max):
            # A Piecewise rather than sympy.Max: Max differentiates to a
            # Heaviside that is 1/2 at a tie, while the document takes the
            # branch of the first argument there, as this Piecewise does.
            first, *rest = map(convert, n.args)
            if not rest:
                return first
            other = convert(Max(tuple(n.args[1:])))
            return sympy.Piecewise((first, sympy.Ge(first, other)), (other, True))
        if isinstance(n, Greater):
            return sympy.StrictGreaterThan(convert(n.lhs), convert(n.rhs))
        if isinstance(n, Cases):
            pieces = [(convert(v), convert(c)) for v, c in n.branches]
            return sympy.Piecewise(*pieces, (convert(n.otherwise), True))
        raise TypeError(f"no SymPy form for {n!r}")

    return convert(node)


# --- LaTeX --------------------------------------------------------------------


def _is_negative_number(node) -> bool:
    return isinstance(node, Num) and node.text.startswith("-")


def _needs_parens_in_product(node, first: bool) -> bool:
    if isinstance(node, Add):
        return True
    if isinstance(node, Neg) or _is_negative_number(node):
        return not first
    return False


def _starts_negative(node) -> bool:
    """Whether the printed formula begins with a minus sign."""
    if isinstance(node, Neg) or _is_negative_number(node):
        return True
    if isinstance(node, Mul) and not node.juxtapose:
        return _starts_negative(node.factors[0])
    return False


def _latex_add(node: Add) -> str:
    out = [latex(node.terms[0])]
    for term in node.terms[1:]:
        if isinstance(term, Neg):
            out.append(f" - {_latex_operand(term.arg)}")
        elif _is_negative_number(term):
            out.append(f" + ({latex(term)})")
        elif isinstance(term, Mul) and _starts_negative(term):
            # "+ (-0.03) * 1", not "+ -0.03 * 1"
            out.append(f" + {_latex_mul(term, first_in_sum=False)}")
        else:
            out.append(f" + {latex(term)}")
    return "".join(out)


def _latex_operand(node) -> str:
    """A formula after a minus sign: parenthesised when it is a sum or itself starts with a minus."""
    return _parenthesised(latex(node)) if isinstance(node, Add) or _starts_negative(node) else latex(node)


def _latex_mul(node: Mul, first_in_sum: bool = True) -> str:
    parts = []
    for i, factor in enumerate(node.factors):
        text = latex(factor)
        if _needs_parens_in_product(factor, i == 0 and first_in_sum) and not isinstance(factor, Paren):
            text = _parenthesised(text)
        parts.append(text)
    if node.juxtapose:
        return "".join(parts)
    if node.sign != "juxtapose":
        return f" {node.sign} ".join(parts)
    # Side by side, as the books write symbols; a centred dot where a number follows, which would merge.
    out = parts[0]
    for part in parts[1:]:
        number_follows = part[:1].isdigit() or (part[:1] in ".(" and (out[-1:].isdigit() or out.endswith(")")))
        out += " \\cdot " if number_follows else " "
        out += part
    return out


def _parenthesised(inner: str) -> str:
    """``inner`` in parentheses, sized to it where it holds a fraction (which plain ones would not cover)."""
    return f"\\left({inner}\\right)" if "\\frac" in inner else f"({inner})"


def _latex_pow(node: Pow) -> str:
    base = latex(node.base)
    if not isinstance(node.base, (Sym, Paren)) or _is_negative_number(node.base):
        base = _parenthesised(base)
    elif isinstance(node.base, Sym) and "^" in base:  # a name with a superscript of its own (w^2_{11}): braced, or ^ would be doubled
        base = f"{{{base}}}"
    return f"{base}^{{{latex(node.exp)}}}"


def _latex_function(name: str, arg) -> str:
    inner = latex(arg)
    return f"\\{name}{inner}" if isinstance(arg, Paren) else f"\\{name}({inner})"


def _latex_cases(node: Cases) -> str:
    rows = [f"{latex(v)} & \\text{{if }} {latex(c)}" for v, c in node.branches]
    rows.append(f"{latex(node.otherwise)} & \\text{{otherwise}}")
    return "\\begin{cases} " + " \\\\ ".join(rows) + " \\end{cases}"


_LATEX: dict[type, Callable] = {
    Sym: lambda n: n.tex,
    Num: lambda n: n.text,
    Add: _latex_add,
    Mul: _latex_mul,
    Neg: lambda n: f"-{_latex_operand(n.arg)}",
    Paren: lambda n: _parenthesised(latex(n.arg)),
    Frac: lambda n: f"\\frac{{{latex(n.num)}}}{{{latex(n.den)}}}",
    Pow: _latex_pow,
    Exp: lambda n: f"e^{{{latex(n.arg)}}}",
    Log: lambda n: _latex_function("ln", n.arg),
    Tanh: lambda n: _latex_function("tanh", n.arg),
    Sqrt: lambda n: f"\\sqrt{{{latex(n.arg)}}}",
    Max: lambda n: "\\max(" + ", ".join(map(latex, n.args)) + ")",
    # A negative number braced: after "\text{if }" a bare minus would be spaced as a binary one.
    Greater: lambda n: ("{%s} > %s" if _starts_negative(n.lhs) else "%s > %s") % (latex(n.lhs), latex(n.rhs)),
    Cases: _latex_cases,
    Partial: lambda n: f"\\frac{{\\partial {n.of.tex}}}{{\\partial {n.wrt.tex}}}",
    Arrow: lambda n: "\\downarrow",
    # Each row on a line of its own: GitHub keeps a "\\\\" only at the end of a line.
    Matrix: lambda n: "\\begin{bmatrix} " + " \\\\\n".join(" & ".join(map(latex, row)) for row in n.rows)
    + " \\end{bmatrix}",
    Transpose: lambda n: (f"({latex(n.arg)})^T" if "^" in latex(n.arg) else f"{latex(n.arg)}^T"),
    Hadamard: lambda n: " \\odot ".join(map(latex, n.factors)),
}


def latex(node) -> str:
    """The LaTeX (math mode) of one formula."""
    return _LATEX[type(node)](node)


_INVISIBLE = re.compile(r"\\(?:begin|end)\{(?:cases|bmatrix)\}|\\(?:frac|partial|left|right|text|mathrm)|[{}^_\\]")


def visible_width(tex: str) -> int:
    """A rough count of the characters a reader sees in ``tex`` (for line breaking)."""
    return len(_INVISIBLE.sub("", tex))


def chain_lines(sides, width: int, texts=None) -> list[str]:
    """The chain ``sides[0] = sides[1] = …`` as LaTeX lines no wider than ``width``.

    The first ``=`` is the alignment point ``&=``.  One line when it fits; otherwise one right-hand side per line, and a sum
    too long for a line of its own is broken between its terms.  ``texts``: each side's ``latex``, where the
    caller has them already (the formats of one document share them, whatever their widths).
    """
    texts = [latex(side) for side in sides] if texts is None else list(texts)
    if len(texts) == 1:
        return texts
    one_line = f"{texts[0]} &= " + " = ".join(texts[1:])
    if visible_width(one_line) <= width:
        return [one_line]
    lines = [f"{texts[0]} &= {texts[1]}"] if len(sides) > 1 else [texts[0]]
    lines = _break_long(lines, sides[1] if len(sides) > 1 else None, width)
    for side, text in zip(sides[2:], texts[2:]):
        lines.extend(_break_long([f"&= {text}"], side, width))
    return lines


def _break_long(lines: list[str], side, width: int) -> list[str]:
    if visible_width(lines[-1]) <= width or not isinstance(side, Add):
        return lines
    head, _, _ = lines[-1].partition("&= ")
    rows: list[str] = []
    current = f"{head}&= {latex(side.terms[0])}"
    for term in side.terms[1:]:
        piece = _latex_add(Add((Num(""), term)))
        if visible_width(current + piece) > width:
            rows.append(current)
            current = "&\\quad" + piece
        else:
            current += piece
    rows.append(current)
    return lines[:-1] + rows


# --- Python, for fast numeric loops ---------------------------------------------

_PYTHON: dict[type, Callable] = {
    Sym: lambda n, p: n.key,
    Add: lambda n, p: "(" + " + ".join(map(p, n.terms)) + ")",
    Mul: lambda n, p: "(" + " * ".join(map(p, n.factors)) + ")",
    Neg: lambda n, p: f"(-{p(n.arg)})",
    Paren: lambda n, p: p(n.arg),
    Frac: lambda n, p: f"({p(n.num)} / {p(n.den)})",
    Pow: lambda n, p: f"({p(n.base)} ** {p(n.exp)})",
    Exp: lambda n, p: f"exp({p(n.arg)})",
    Log: lambda n, p: _python_log(n.arg, p),
    Tanh: lambda n, p: f"tanh({p(n.arg)})",
    Sqrt: lambda n, p: f"sqrt({p(n.arg)})",
    Max: lambda n, p: "maximum(" + ", ".join(map(p, n.args)) + ")" if len(n.args) > 1 else p(n.args[0]),
    Greater: lambda n, p: f"({p(n.lhs)} > {p(n.rhs)})",
    Cases: lambda n, p: _python_cases(n.branches, n.otherwise, p),
}


def _python_log(arg, p) -> str:
    # ln(1 + x) as log1p(x): in floats 1 + x forgets the digits of a small x
    # (softplus at a large negative net input, ln(1 - out) near out = 0).
    if isinstance(arg, Add) and len(arg.terms) == 2 and arg.terms[0] == Num("1"):
        return f"log1p({p(arg.terms[1])})"
    return f"log({p(arg)})"


def _python_cases(branches, otherwise, p) -> str:
    (value, condition), *rest = branches
    other = _python_cases(rest, otherwise, p) if rest else p(otherwise)
    return f"where({p(condition)}, {p(value)}, {other})"


def float_literal(text: str) -> str:
    # Parenthesised when negative: ``(-2.0) ** 2`` is 4, ``-2.0 ** 2`` is -4.
    value = float(text)
    return repr(value) if value >= 0 else f"({value!r})"


def python(node, constant: Callable[[str], str] = float_literal) -> str:
    """The formula as a Python expression over its quantities' keys (keys must be identifiers).

    ``constant`` writes a number: a float literal by default; an exact
    library writes ``mpf('0.01')`` so that 0.01 is not the nearest double.
    """

    def p(n) -> str:
        return constant(n.text) if isinstance(n, Num) else _PYTHON[type(n)](n, p)

    return p(node)


# The functions a compiled formula calls; a library maps each name to an implementation.
LIBRARY_NAMES = ("exp", "log", "log1p", "tanh", "sqrt", "maximum", "where")


def compile_function(node, arguments: tuple[str, ...], library: Mapping[str, Callable]) -> Callable:
    """A Python function of ``arguments`` computing the formula with ``library``'s functions.

    ``library`` names an implementation for each of ``LIBRARY_NAMES`` (floats,
    numpy arrays or mpmath numbers), and may give a ``constant`` writer for
    ``python`` with the ``extra`` names it uses.  Compiled once, so a training loop does
    not walk the formula records on every step (the idea of SymPy's
    ``lambdify``, on this module's records).
    """
    source = f"lambda {', '.join(arguments)}: {python(node, library.get('constant', float_literal))}"
    namespace = {name: library[name] for name in LIBRARY_NAMES}
    namespace.update(library.get("extra", {}))
    return eval(compile(source, "<formula>", "eval"), {**namespace, "__builtins__": {}})
