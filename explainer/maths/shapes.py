"""The symbolic work of a network, done once per shape and kept for the process.

What SymPy works out for a derivation depends on the network's shape, its
activations and loss, which parameters are trained and how they are updated,
never on the numbers: the chain-rule factors of the local definitions, the
fully composed E_total and its derivatives.  A class of exercise variants, or
of answer sheets, shares one shape; each of its derivations takes that work
from here and only evaluates its own numbers.  The checks still run for
every derivation: what is kept is the mathematics they compare against, not
their verdicts.

The cache lives as long as the process: a worker forked after the first
derivation of a shape starts with it.  What is worth keeping between
processes (the composed E_total's derivatives, compiled) goes to a store the
command line gives (``keeping``): texts by name, read and written there.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Protocol

from ..spec.reading import Spec

# Shapes a process keeps at once; a teacher's class has one, a test run a few hundred.
MAX_SHAPES = 256


def shape_key(spec: Spec) -> tuple:
    """What the symbolic work of ``spec`` depends on (and nothing numeric).

    The notation too: the factors and equations hold the symbols it prints; and
    the optimizer, whose steps are equations of their own.
    """
    return (spec.layers, spec.activations, spec.slopes, spec.loss, spec.shared_biases, spec.train_biases,
            spec.update, len(spec.samples), spec.mode, spec.reduction, spec.notation, spec.optimizer)


@dataclass
class ShapeWork:
    """The symbolic work of one shape, filled in as derivations need it.

    ``factors``: ∂net/∂x of each neuron's local definition, by (neuron, x);
    ``composed``: the composed E_total's gradients (``checks.ComposedGradients``),
    or None where it is too large, once worked out (``composed_done``);
    ``equations``: the equations of the first checked derivation of the shape
    (one sample), by key in the order they are defined;
    ``tables``: what later stages work out from the shape alone (the names a
    sheet may use, compiled formulas), by what each depends on besides it.
    """

    factors: dict = field(default_factory=dict)
    composed: object = None
    composed_done: bool = False
    equations: dict | None = None
    tables: dict = field(default_factory=dict)


_WORK: dict[tuple, ShapeWork] = {}


def work_for(spec: Spec) -> ShapeWork:
    """The symbolic work of ``spec``'s shape, shared with every other spec of that shape."""
    key = shape_key(spec)
    work = _WORK.get(key)
    if work is None:
        if len(_WORK) >= MAX_SHAPES:
            _WORK.pop(next(iter(_WORK)))  # the oldest shape
        work = _WORK[key] = ShapeWork()
    return work


class Store(Protocol):
    """Texts by name, kept between processes; a text that cannot be read or written is simply not there."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, text: str) -> None: ...


@dataclass(frozen=True)
class Kept:
    """The part of a store that holds one shape's texts."""

    store: Store
    shape: str

    def get(self, name: str) -> str | None:
        return self.store.get(f"{self.shape}\n{name}")

    def put(self, name: str, text: str) -> None:
        self.store.put(f"{self.shape}\n{name}", text)


_STORE: list[Store] = []


@contextlib.contextmanager
def keeping(store: Store | None):
    """Within the block, the shapes' work worth keeping is looked for in ``store``, and kept there."""
    if store is None:
        yield
        return
    _STORE.append(store)
    try:
        yield
    finally:
        _STORE.remove(store)


def kept_text(name: str, make) -> str:
    """``make()``, a text that depends on no shape (what SymPy says of a generic term), as an earlier
    process kept it in the store, else made here and kept there."""
    store = _STORE[-1] if _STORE else None
    text = store.get(f"every shape\n{name}") if store is not None else None
    if text is None:
        text = make()
        if store is not None:
            store.put(f"every shape\n{name}", text)
    return text


def composed_gradients(network, build):
    """``build(network, kept)`` the first time a network of this shape asks, then the same object."""
    work = work_for(network.spec)
    if not work.composed_done:
        kept = Kept(_STORE[-1], repr(shape_key(network.spec))) if _STORE else None
        work.composed = build(network, kept)
        work.composed_done = True
    return work.composed


def forget() -> None:
    """Drop every shape's work (for tests that measure the first derivation of a shape)."""
    _WORK.clear()
