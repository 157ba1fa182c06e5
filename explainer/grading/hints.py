"""The slips that explain a wrong number, each worked out rather than guessed.

For a wrong claim every known slip is computed explicitly and compared with
what the user wrote:

- the other update mode: the same spec derived with ``update`` switched
  (sequential: the hidden layer's gradients use the already-updated weights);
- another learning rate: the rate the number implies, rounded to two
  significant digits, then the spec evaluated again with it;
- the ½ of the squared error dropped (every error and gradient doubles);
- a minus sign dropped: the step's formula with one of its minus signs removed;
- net for out, or one quantity for another of its kind (i1 for i2, w3 for
  w2): the step's formula with that quantity put in the other's place, the
  other quantity's own value, and the whole spec evaluated again with the two
  inputs (or two transposed weights) exchanged.

A changed spec keeps the shape, so its values are the shape's equations
evaluated at the changed numbers (``maths.derivation.values_at``), not a new
derivation.  The first slip that reproduces the user's number (and changes
the right one) is the hint.  The words for each hint live in ``templates/check.j2``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import mpmath

from ..maths.formulas import evaluate
from .formula_parts import keys, name_keys, replaced, replaced_one, without_each_minus
from .optimizer_slips import optimizer_slips

# How many alternatives with two parameters exchanged one claim may cost.
MAX_SWAPS = 8
# Keys whose values are the same by definition: copying one for the other is no slip.
_SAME_VALUE: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Hint:
    """Why a claim is what it is; ``kind`` picks the words, ``facts`` fill them in."""

    kind: str
    facts: Mapping = field(default_factory=dict)


class Slips:
    """The known slips of one derivation, with the alternative values they need (worked out once, on demand)."""

    def __init__(self, derivation, names) -> None:
        self.derivation = derivation
        self.names = names
        self.exact = {**derivation.parameters, **derivation.values}
        self._derived: dict[tuple, object] = {}
        self._tables: dict | None = None  # the shape's (``maths.shapes``), on first use
        self._keys: frozenset = frozenset()

    def explain(self, key: str, given: mpmath.mpf, tolerance: mpmath.mpf, formula=None, same=frozenset()) -> Hint | None:
        """The first slip whose value is ``given`` (within ``tolerance``) while the right value is not.

        ``formula`` is the user's own formula for ``key`` when they wrote one
        instead of a number; its slips are then looked for in it first.
        """
        exact = self.exact[key]
        if formula is not None:
            for hint, fixed in self._substitutions(formula, written_by_user=True):
                if abs(fixed - exact) <= tolerance:
                    return hint
        for hint, value in self._alternatives(key, given):
            if hint.kind == "copied" and hint.facts["from"] in same:
                continue
            if value is not None and abs(value - exact) > tolerance and abs(given - value) <= tolerance:
                return hint
        return None

    def alternatives(self, key: str, copies: bool = True) -> Iterator[tuple[Hint, mpmath.mpf]]:
        """Each slip and the value it gives ``key``, for every slip that needs no user's number.

        All but another learning rate, which is read off the number written.
        Without ``copies``, all but another quantity's value copied (``may_copy``), which come last.
        """
        return ((hint, value) for hint, value in self._alternatives(key, None, copies) if value is not None)

    @staticmethod
    def may_copy(key: str, other: str) -> bool:
        """Whether a number for ``key`` may be ``other``'s value copied into the wrong place."""
        return other != key and "@" not in other and other not in _SAME_VALUE.get(key, ())

    # --- the alternatives, most telling first -------------------------------------

    def _alternatives(self, key: str, given: mpmath.mpf | None,
                      copies: bool = True) -> Iterator[tuple[Hint, mpmath.mpf | None]]:
        spec = self.derivation.spec
        equation = self.derivation.equations.get(key)
        form = equation.forms[-1] if equation else None

        computed = key in self.derivation.values
        for slip, value in optimizer_slips(self.derivation, key, self.exact):
            yield Hint(slip), value
        # The sequential update is the source's plain gradient descent only (the spec refuses it with an
        # optimizer); with several samples in batch mode, or shuffled, the other update mode is no spec of its own.
        if computed and spec.optimizer.plain and spec.shuffle_seed is None and (
                len(spec.samples) == 1 or spec.mode == "stochastic"):
            other = "simultaneous" if spec.update == "sequential" else "sequential"
            hidden = len(spec.layers) - 2
            yield Hint("update", {"mode": other, "hidden_layers": hidden}), self._value(key, update=other)

        if key.endswith("+") and key[:-1] in self.exact and given is not None:
            rate = self._implied_learning_rate(key, given)
            if rate is not None:
                yield (Hint("learning_rate", {"used": rate, "expected": spec.learning_rate}),
                       self._value(key, learning_rate=rate))

        if key.startswith(("E_", "dE_")) and "@" not in key:
            yield Hint("half"), 2 * self.exact[key]
        elif key.endswith("+") and f"dE_total/d{key[:-1]}" in self.exact:
            weight, gradient = key[:-1], self.exact[f"dE_total/d{key[:-1]}"]
            yield Hint("half"), self.exact[weight] - self.exact["eta"] * 2 * gradient

        yield from self._derivative_forms(key)

        if form is not None:
            sign = Hint("sign", {"upward": key.endswith("+")})
            yield from self._shape_values("minus", key, form, lambda: ((sign, f) for f in without_each_minus(form)))
        yield Hint("sign", {"upward": False}), -self.exact[key]

        counterpart = self.names.counterpart(key)
        if counterpart in self.exact:
            yield Hint("net_for_out", {"wrote": (counterpart,), "belongs": (key,)}), self.exact[counterpart]
        for partner in self.names.partners(key):
            if partner in self.exact:
                yield Hint("confused", {"wrote": partner, "belongs": key}), self.exact[partner]
        if form is not None:
            yield from self._shape_values("substituted", key, form,
                                          lambda: self._substituted_forms(form, written_by_user=False))

        if computed:
            for a, b in self._swaps():
                yield Hint("swapped", {"pair": (a, b)}), self._value(key, swap=(a, b))

        # Last: the number is another quantity's value, copied into the wrong place.
        if copies:
            for other, value in self.derivation.values.items():
                if self.may_copy(key, other):
                    yield Hint("copied", {"from": other}), value

    def _derivative_forms(self, key: str) -> Iterator[tuple[Hint, mpmath.mpf]]:
        """For ``dout/dnet`` of a neuron: the derivative of another activation, taken from the same output
        (the sigmoid's out·(1 − out) on a tanh neuron, tanh's 1 − out² on a sigmoid one)."""
        of, slash, wrt = key.partition("/")
        if not slash or not of.startswith("dout_") or not wrt.startswith("dnet_"):
            return
        name, _, sample = of.removeprefix("dout_").partition("[")
        neuron = next((n for layer in self.derivation.network.layers[1:] for n in layer if n.name == name), None)
        out = self.exact.get(f"out_{name}" + (f"[{sample}" if sample else ""))
        if neuron is None or out is None:
            return
        own = self.derivation.network.activation(neuron)
        forms = {"sigmoid": out * (1 - out), "tanh": 1 - out ** 2}
        for used, value in forms.items():
            if used != own:
                yield Hint("derivative", {"used": used, "activation": own}), value

    def _shape_values(self, kind: str, key: str, form, forms) -> Iterator[tuple[Hint, mpmath.mpf]]:
        """Each hint of ``forms()`` with its formula's value.

        The hints and formulas depend on the shape alone (and on which quantities the derivation
        has): they are made once and kept in the shape's tables, and a shape's second derivation on
        evaluates them compiled (``numeric.compiled_formula``: the same operations, the same numbers).
        """
        if self._tables is None:
            from ..maths import shapes

            self._tables = shapes.work_for(self.derivation.spec).tables
            self._keys = frozenset(self.exact)
        which = ("slip forms", kind, key, form, self._keys)
        entry = self._tables.get(which)
        if entry is None:
            entry = self._tables[which] = [tuple(forms()), None]
        elif entry[1] is None:
            from ..maths.numeric import compiled_formula

            entry[1] = tuple(compiled_formula(formula) for _, formula in entry[0])
        hinted, compiled = entry
        for i, (hint, formula) in enumerate(hinted):
            function = compiled[i] if compiled is not None else None
            yield hint, (function(self.exact) if function is not None else evaluate(formula, self.exact))

    def _substitutions(self, form, written_by_user: bool) -> Iterator[tuple[Hint, mpmath.mpf]]:
        """``_substituted_forms``, each with its value."""
        for hint, formula in self._substituted_forms(form, written_by_user):
            yield hint, evaluate(formula, self.exact)

    def _substituted_forms(self, form, written_by_user: bool) -> Iterator[tuple[Hint, object]]:
        """``form`` with a quantity put in another's place: every net for its out at once, then one at a time.

        In the derivation's form a quantity is replaced wherever it stands, and
        the user's number comes from the replacement (they wrote it).  In the
        user's own formula one occurrence is replaced at a time, and the
        replacement is the fix (they wrote the original).
        """
        places = list(enumerate(name_keys(form))) if written_by_user else [(None, key) for key in keys(form)]

        def swap(place, new: str):
            position, key = place
            return replaced_one(form, position, new) if written_by_user else replaced(form, {key: new})

        counterparts = [(place, c) for place in places if (c := self.names.counterpart(place[1])) in self.exact]
        if len({place[1] for place, _ in counterparts}) > 1:
            every = {place[1]: c for place, c in counterparts}
            yield self._swap_hint("net_for_out", every, written_by_user), replaced(form, every)
        for place, c in counterparts:
            yield self._swap_hint("net_for_out", {place[1]: c}, written_by_user), swap(place, c)
        # Each quantity's likeliest partner before any quantity's less likely ones.
        ranked = sorted(((rank, place, p) for place in places for rank, p in enumerate(self.names.partners(place[1]))
                         if p in self.exact), key=lambda item: item[0])
        for _, place, p in ranked:
            yield self._swap_hint("confused", {place[1]: p}, written_by_user), swap(place, p)

    @staticmethod
    def _swap_hint(kind: str, swaps: Mapping[str, str], written_by_user: bool) -> Hint:
        originals, replacements = tuple(swaps), tuple(swaps.values())
        wrote, belongs = (originals, replacements) if written_by_user else (replacements, originals)
        if kind == "confused":
            return Hint(kind, {"wrote": wrote[0], "belongs": belongs[0]})
        return Hint(kind, {"wrote": wrote, "belongs": belongs})

    def _implied_learning_rate(self, key: str, given: mpmath.mpf) -> Decimal | None:
        """The learning rate that turns the weight into ``given``, to two significant digits (0.1, 0.05, 1)."""
        gradient = self.exact.get(f"dE_total/d{key[:-1]}")
        if not gradient:
            return None
        rate = Decimal(mpmath.nstr((self.exact[key[:-1]] - given) / gradient, 2, min_fixed=-mpmath.inf))
        return rate.normalize() if rate > 0 and rate != self.derivation.spec.learning_rate else None

    def _swaps(self) -> list[tuple[str, str]]:
        """Pairs a student may exchange throughout: two inputs, or two weights read from a transposed matrix."""
        network = self.derivation.network
        # Per sample, inputs are keyed i1[s]: exchanging them is a slip of one sample, not of the spec.
        inputs = [n.out_key for n in network.inputs] if len(self.derivation.spec.samples) == 1 else []
        pairs = [(a, b) for i, a in enumerate(inputs) for b in inputs[i + 1:]]
        positions = _weight_positions(self.derivation.spec)
        for (l, j, i), key in positions.items():
            partner = positions.get((l, i, j))
            if j < i and partner:
                pairs.append((key, partner))
        return pairs[:MAX_SWAPS]

    # --- alternative values --------------------------------------------------------

    def _value(self, key: str, **change) -> mpmath.mpf | None:
        """``key``'s value in the spec with ``change`` made; None where it has no such value."""
        spec = self.derivation.spec
        # Only values after N rounds need the training loop run N times.
        rounds = key.rpartition("@")[2]
        iterations = spec.iterations if rounds.isdigit() and int(rounds) > 1 else min(spec.iterations, 1)
        cache_key = (tuple(sorted(change.items())), iterations)
        if cache_key not in self._derived:
            from ..maths.derivation import values_at

            # The changed spec has the same shape: its values come from the compiled
            # structure of that shape, not from deriving it again.
            self._derived[cache_key] = values_at(_changed(spec, iterations=iterations, **change))
        return self._derived[cache_key].get(key)


def _changed(spec, *, iterations: int, update: str | None = None, learning_rate: Decimal | None = None,
             swap: tuple[str, str] | None = None):
    changes = {"iterations": iterations}
    if update:
        changes["update"] = update
    if learning_rate is not None:
        changes["learning_rate"] = learning_rate
    if swap:
        changes.update(_swapped(spec, *swap))
    return dataclasses.replace(spec, **changes)


def _swapped(spec, a: str, b: str) -> dict:
    """The spec fields with the values of parameters ``a`` and ``b`` exchanged (two inputs or two weights)."""
    if a.startswith("i"):
        x, y = int(a[1:]) - 1, int(b[1:]) - 1

        def swapped(sample):
            inputs = list(sample.inputs)
            inputs[x], inputs[y] = inputs[y], inputs[x]
            return dataclasses.replace(sample, inputs=tuple(inputs))

        return {"samples": tuple(swapped(sample) for sample in spec.samples)}
    positions = _weight_positions(spec)
    by_key = {key: position for position, key in positions.items()}
    weights = [[list(row) for row in matrix] for matrix in spec.weights]
    (la, ja, ia), (lb, jb, ib) = by_key[a], by_key[b]
    weights[la][ja][ia], weights[lb][jb][ib] = weights[lb][jb][ib], weights[la][ja][ia]
    return {"weights": tuple(tuple(tuple(row) for row in matrix) for matrix in weights)}


def _weight_positions(spec) -> dict[tuple[int, int, int], str]:
    """``(layer, to, from)`` → weight key, numbered as the network numbers them."""
    positions, number = {}, 0
    for l, matrix in enumerate(spec.weights):
        for j, row in enumerate(matrix):
            for i, _ in enumerate(row):
                number += 1
                positions[l, j, i] = f"w{number}"
    return positions
