"""Taking formula records (``explainer.notation``) apart and putting them back together.

The checker reads formulas rather than writing them: it needs their names and
numbers, the same formula with one quantity put in another's place, and the
same formula with one of its minus signs left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping

from ..maths.formulas import Add, Exp, Frac, Mul, Neg, Num, Paren, Partial, Pow, Sqrt, Sym


def parts(node) -> tuple:
    """The formulas directly inside ``node``."""
    if isinstance(node, Add):
        return node.terms
    if isinstance(node, Mul):
        return node.factors
    if isinstance(node, (Neg, Paren, Exp, Sqrt)):
        return (node.arg,)
    if isinstance(node, Frac):
        return (node.num, node.den)
    if isinstance(node, Pow):
        return (node.base, node.exp)
    return ()


def rebuilt(node, convert: Callable):
    """``node`` with ``convert`` applied to each formula directly inside it."""
    if isinstance(node, Add):
        return Add(tuple(map(convert, node.terms)))
    if isinstance(node, Mul):
        return Mul(tuple(map(convert, node.factors)), node.juxtapose)
    if isinstance(node, (Neg, Paren, Exp, Sqrt)):
        return type(node)(convert(node.arg))
    if isinstance(node, Frac):
        return Frac(convert(node.num), convert(node.den))
    if isinstance(node, Pow):
        return Pow(convert(node.base), convert(node.exp))
    return node


def leaves(node) -> Iterator:
    """The names and numbers of a formula, left to right."""
    if isinstance(node, (Sym, Partial, Num)):
        yield node
    for part in parts(node):
        yield from leaves(part)


def keys(node) -> tuple[str, ...]:
    """The keys of the quantities a formula names, each once, in order."""
    return tuple(dict.fromkeys(leaf.key for leaf in leaves(node) if not isinstance(leaf, Num) and leaf.key))


def name_keys(node) -> tuple[str | None, ...]:
    """The key of every name in a formula, left to right, repeats included."""
    return tuple(leaf.key for leaf in leaves(node) if not isinstance(leaf, Num))


def replaced_one(node, position: int, key: str):
    """``node`` with its ``position``-th name (from 0, left to right) replaced by the quantity ``key``."""
    names = itertools.count()

    def convert(part):
        if isinstance(part, (Sym, Partial)):
            return Sym(key, key) if next(names) == position else part
        return rebuilt(part, convert)

    return convert(node)


def replaced(node, replacements: Mapping[str, str]):
    """``node`` with the quantities named in ``replacements`` put in place of others (key → key)."""
    if isinstance(node, (Sym, Partial)):
        key = replacements.get(node.key)
        return Sym(key, key) if key else node
    return rebuilt(node, lambda part: replaced(part, replacements))


def without_each_minus(node) -> Iterator:
    """``node`` once for each of its minus signs, with that one sign left out."""
    if isinstance(node, Neg):
        yield node.arg
        yield from (Neg(inner) for inner in without_each_minus(node.arg))
        return
    if isinstance(node, Num):
        if node.text.startswith("-"):
            yield Num(node.text[1:])
        return
    inside = parts(node)
    for i, part in enumerate(inside):
        for inner in without_each_minus(part):
            changed = iter((*inside[:i], inner, *inside[i + 1:]))
            yield rebuilt(node, lambda _: next(changed))
