"""Which quantity each number of a substituted form stands for.

A user writes ``net_{o1} = 0.4 * 0.593269992 + 0.45 * 0.596884378 + 0.6 * 1``;
laid over the derivation's own form ``w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1``
(or over a formula the user wrote in the same chain), the numbers say
w5 = 0.4, out_h1 = 0.593269992, and so on.  The two must have the same shape
once parentheses and nesting are set aside; a factor ``* 1`` may be left out.
"""

from __future__ import annotations

from decimal import Decimal

from ..maths.formulas import Add, Exp, Frac, Mul, Neg, Num, Paren, Partial, Pow, Sym


def substituted_numbers(numbers, form) -> tuple[tuple[str, str], ...] | None:
    """``(key, number text)`` for each number of ``numbers`` that sits where ``form`` has a quantity.

    None when the two do not have the same shape.
    """
    for drop_ones in (False, True):
        found: list[tuple[str, str]] = []
        if _align(_plain(numbers, drop_ones), _plain(form, drop_ones), found):
            return tuple(found)
    return None


def same_shape(a, b) -> bool:
    """Whether two formulas differ at most in their names and numbers."""
    return _shape(_plain(a, False)) == _shape(_plain(b, False))


def _plain(node, drop_ones: bool):
    """``node`` without parentheses, with nested sums and products flattened."""
    if isinstance(node, Paren):
        return _plain(node.arg, drop_ones)
    if isinstance(node, Add):
        return Add(tuple(_spliced(node.terms, Add, "terms", drop_ones)))
    if isinstance(node, Mul):
        factors = _spliced(node.factors, Mul, "factors", drop_ones)
        if drop_ones:
            factors = [f for f in factors if not (isinstance(f, Num) and Decimal(f.text) == 1)] or [Num("1")]
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))
    if isinstance(node, (Neg, Exp)):
        return type(node)(_plain(node.arg, drop_ones))
    if isinstance(node, Frac):
        return Frac(_plain(node.num, drop_ones), _plain(node.den, drop_ones))
    if isinstance(node, Pow):
        return Pow(_plain(node.base, drop_ones), _plain(node.exp, drop_ones))
    return node


def _spliced(parts, kind, field: str, drop_ones: bool) -> list:
    out = []
    for part in (_plain(p, drop_ones) for p in parts):
        out.extend(getattr(part, field) if isinstance(part, kind) else (part,))
    return out


def _number_text(node) -> str | None:
    """The text of a number, a negated number included: ``-(0.5)`` → ``-0.5``."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Neg) and isinstance(node.arg, Num):
        return node.arg.text[1:] if node.arg.text.startswith("-") else f"-{node.arg.text}"
    return None


def _align(user, form, found: list) -> bool:
    if isinstance(form, (Sym, Partial)) and form.key is not None:
        text = _number_text(user)
        if text is not None:
            found.append((form.key, text))
            return True
        return isinstance(user, (Sym, Partial)) and user.key == form.key
    if isinstance(form, Num):
        text = _number_text(user)
        return text is not None and Decimal(text) == Decimal(form.text)
    if isinstance(form, Neg):
        if isinstance(user, Neg):
            return _align(user.arg, form.arg, found)
        if isinstance(user, Num) and user.text.startswith("-"):
            return _align(Num(user.text[1:]), form.arg, found)
        return False
    if type(user) is not type(form):
        return False
    if isinstance(form, (Add, Mul)):
        mine, theirs = (user.terms, form.terms) if isinstance(form, Add) else (user.factors, form.factors)
        return len(mine) == len(theirs) and all(_align(u, f, found) for u, f in zip(mine, theirs))
    if isinstance(form, Frac):
        return _align(user.num, form.num, found) and _align(user.den, form.den, found)
    if isinstance(form, Pow):
        return _align(user.base, form.base, found) and _align(user.exp, form.exp, found)
    if isinstance(form, Exp):
        return _align(user.arg, form.arg, found)
    return False


def _shape(node):
    if isinstance(node, (Sym, Partial, Num)):
        return "·"
    if isinstance(node, (Add, Mul)):
        parts = node.terms if isinstance(node, Add) else node.factors
        return (type(node).__name__, tuple(map(_shape, parts)))
    if isinstance(node, (Neg, Exp)):
        return (type(node).__name__, _shape(node.arg))
    if isinstance(node, Frac):
        return ("Frac", _shape(node.num), _shape(node.den))
    if isinstance(node, Pow):
        return ("Pow", _shape(node.base), _shape(node.exp))
    return type(node).__name__
