"""The rules a variant must pass to make a good exercise, each a named check on its derivation.

A drawn network can make a poor exercise: a saturated sigmoid whose
gradients all but vanish, a value too small to write at the precision the
sheet asks for, an error that grows after the update (while the worked
solution says it went down), two parameters of a kind with the same size, or
numbers so close that a common slip cannot be told from the right answer.
Each rule below looks for one of these in a derivation and returns the first
case it finds, in words, or None.  The rules run cheapest first; the last
re-derives the spec for some slips.

The rules read the number format of the sheet: whether a value is too small
or a slip changes the shown digits depends on how many digits are asked for.
"""

from __future__ import annotations

import bisect
import math
from decimal import Decimal

import mpmath

from ..outputs.formatting import MIN_SIGNIFICANT, NumberFormat, last_digit

# Beyond this |net| the sigmoid is nearly flat (its slope below 0.05): the
# neuron is saturated and the gradients through it nearly vanish.
MAX_NET = 3
# A slip that moves a value by less than this (relative) leaves it as it is:
# the slip does not touch that quantity.
UNTOUCHED = mpmath.mpf("1e-30")
# Slips made throughout the derivation rather than in one step: they show
# first where they first change a value, and are carried forward from there.
THROUGHOUT = ("update", "swapped")


def worked_by_hand(derivation) -> tuple[str, ...]:
    """The quantities an exercise asks for, in document order: all but the values after many rounds,
    the error signals δ only when the document's form writes the delta rule, and each once (δ,
    ``dE_total/dnet_o1``, is another name of a value the chain-rule form works out)."""
    skipped = frozenset() if derivation.spec.notation.form in ("delta", "all") else derivation.delta_keys
    return tuple(key for key in derivation.values
                 if key.partition("[")[0] not in skipped
                 and (_rounds(key) == 1 or (_rounds(key) == 0 and key in derivation.equations)))


def _rounds(key: str) -> int:
    _, at, rounds = key.partition("@")
    return int(rounds) if at else 0


# --- the rules ----------------------------------------------------------------------------


def saturated_neuron(derivation, number_format: NumberFormat) -> str | None:
    """A neuron whose total net input is beyond ±MAX_NET."""
    for key, value in derivation.values.items():
        if key.startswith("net_") and abs(value) > MAX_NET:
            return f"{key} = {number_format(value)} saturates its neuron (|net| > {MAX_NET})"
    return None


def value_too_small(derivation, number_format: NumberFormat) -> str | None:
    """A value (a gradient, say) that rounds to zero, or to too few digits, at the sheet's precision.

    The document would then switch it to scientific notation, which the
    sheet's "round to N decimal places" does not ask for.
    """
    for key in worked_by_hand(derivation):
        value = derivation.values[key]
        if "\\times" in number_format(value):
            problem = f"{key} = {NumberFormat(digits=MIN_SIGNIFICANT)(value)} is too small to write at this precision"
            if number_format.digits is not None:
                return problem
            return (f"{problem} ({number_format.decimals} decimal places show fewer than {MIN_SIGNIFICANT} of its "
                    f"significant digits); ask for more decimals, or for significant digits (--digits {MIN_SIGNIFICANT})")
    return None


def error_grows(derivation, number_format: NumberFormat) -> str | None:
    """An error that does not go down after one round (and after all the rounds)."""
    values = derivation.values
    errors = [(key, values[key]) for key in values if key.startswith("E_total")]
    for (before_key, before), (after_key, after) in zip(errors, errors[1:]):
        if after >= before:
            return f"{after_key} = {number_format(after)} is not below {before_key} = {number_format(before)}"
    return None


def equal_parameters(derivation, number_format: NumberFormat) -> str | None:
    """Two weights, biases, inputs or targets of the same size: exchanging them would go unnoticed.

    A one-hot target (cross_entropy's class) is the exception: its zeros are the classes it is not.
    """
    network = derivation.network
    parameters = derivation.spec_parameters()
    targets = [f"target_{n.name}" for n in network.outputs]
    one_hot = sorted(parameters[key] for key in targets) == [0] * (len(targets) - 1) + [1]
    kinds = (
        [w.key for w in network.weights],
        [b.key for b in network.biases],
        [n.out_key for n in network.inputs],
        [] if one_hot and derivation.spec.loss == "cross_entropy" else targets,
    )
    for keys in kinds:
        seen: dict[Decimal, str] = {}
        for key in keys:
            size = abs(parameters[key])
            if size in seen:
                return f"{seen[size]} and {key} are both ±{size}"
            seen[size] = key
    return None


def hidden_slip(derivation, number_format: NumberFormat) -> str | None:
    """A known slip (``explainer.hints``) that ``explainer check`` would pass as correct or rounding.

    A slip in one step (a quantity taken for another, a sign, the ½) must show
    in every value it changes; a slip made throughout (two numbers exchanged,
    the other update mode) in the first value it changes, after which check
    carries it forward.  "Shows" means the value, written to the sheet's
    precision, is farther from the right one than check lets through.
    """
    from ..grading.check import passing_distance
    from ..grading.hints import Hint, Slips
    from ..grading.names import Names

    slips = Slips(derivation, Names(derivation))
    distance = passing_distance(derivation)
    copies = _Copies(derivation.values)
    shown_throughout = set()
    for key in worked_by_hand(derivation):
        exact = derivation.values[key]
        unit = last_digit(exact, number_format)
        # The slip's number, rounded as the student writes it, may come half a unit nearer.
        half = mpmath.mpf(str(unit)) / 2
        # ``close`` is worked out only for a slip nearer than any rounding can reach: most are farther.
        reach, close = distance.at_most(unit) + half, None
        untouched = UNTOUCHED * max(1, abs(exact))
        allowed = lambda other: slips.may_copy(key, other)  # noqa: E731 (key is this round's)
        for hint, value in slips.alternatives(key, copies=False):
            throughout = hint.kind in THROUGHOUT
            identity = (hint.kind, tuple(sorted(hint.facts.items()))) if throughout else None
            gap = abs(value - exact)
            if gap <= untouched or identity in shown_throughout:
                continue
            if gap <= reach:
                close = distance(key, unit) + half if close is None else close
                if gap <= close:
                    return _told_apart(key, exact, hint, value, number_format)
            if throughout:
                shown_throughout.add(identity)
        # Last, as ``Slips.alternatives`` gives them: another quantity's value copied (never made throughout).
        other = copies.first_near(exact, reach, untouched, allowed)
        if other is not None:
            close = distance(key, unit) + half if close is None else close
            other = copies.first_near(exact, close, untouched, allowed)
        if other is not None:
            return _told_apart(key, exact, Hint("copied", {"from": other}), derivation.values[other], number_format)
    return None


def _told_apart(key: str, exact, hint, value, number_format: NumberFormat) -> str:
    return (f"{key} = {number_format(exact)} and the slip '{_words(hint)}' "
            f"({number_format(value)}) cannot be told apart")


class _Copies:
    """The values a number may be copied from, sorted by size, to find those near a value without
    comparing it with every one: the first in document order that is nearer than ``close``."""

    def __init__(self, values) -> None:
        self.values = values
        self.order = {key: i for i, key in enumerate(values)}
        sized = sorted((float(value), key) for key, value in values.items() if "@" not in key)
        self.sizes = [size for size, _ in sized]
        self.keys = [key for _, key in sized]
        self.exact_only = not all(math.isfinite(size) for size in self.sizes)

    def first_near(self, exact, close, untouched, allowed) -> str | None:
        """The first key (document order) ``allowed`` whose value is within ``close`` of ``exact`` but
        farther than ``untouched``, or None."""
        centre, reach = float(exact), float(close)
        if self.exact_only or not (math.isfinite(centre) and math.isfinite(reach)):
            near = range(len(self.keys))
        else:
            # Doubles round each value by a relative 2^-53: a margin far wider than that.
            margin = reach * 1e-9 + (2 * abs(centre) + reach) * 1e-14 + 1e-300
            near = range(bisect.bisect_left(self.sizes, centre - reach - margin),
                         bisect.bisect_right(self.sizes, centre + reach + margin))
        found = None
        for i in near:
            key = self.keys[i]
            if not allowed(key) or (found is not None and self.order[key] > self.order[found]):
                continue
            gap = abs(self.values[key] - exact)
            if untouched < gap <= close:
                found = key
        return found


RULES = (saturated_neuron, value_too_small, error_grows, equal_parameters, hidden_slip)


def first_problem(derivation, number_format: NumberFormat = NumberFormat()) -> str | None:
    """What makes the derivation a poor exercise at this precision, or None when every rule passes."""
    with mpmath.workdps(50):
        for rule in RULES:
            problem = rule(derivation, number_format)
            if problem is not None:
                return problem
    return None


def _words(hint) -> str:
    """The hint as ``explainer check`` words it."""
    from ..outputs.render import environment

    words = environment().get_template("check.j2").module
    return str(words.hint(hint, NumberFormat(digits=12), lambda key: key)).strip()
