"""Grading an answer sheet against the derivation, claim by claim.

Each claim gets one of five verdicts:

- ``correct``: within half a unit of the last digit written (0.75136507 and
  0.751365070 are both right); a number with more digits than a double holds
  is held to a double's precision;
- ``rounding``: further off, but by no more than rounding every earlier result
  to the same digits can cause (the bound is worked out through the step's
  own formula), or exactly what the user's own rounded numbers give;
- ``carried forward``: wrong, but exactly what the step gives from the user's
  own earlier wrong numbers: the step's formula evaluated with the numbers
  they substituted in that line, else the ones they gave on earlier lines,
  and what follows from those for quantities they did not write;
- ``wrong``: none of the above, with a hint when a known slip explains it
  (``explainer.hints``);
- ``unknown``: the quantity is not one of this network's.

A context line (``t = 2``, the step of the optimizer's state below it) is no
claim: it is listed as ``context`` and neither checked nor counted.

A line's formulas (``net_{h1} = w_1 * i_1 + …``) are checked exactly, and the
numbers it substitutes where they stand for quantities.  Both are listed only
when they are not correct, unless the line claims nothing else.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import mpmath

from ..maths import numeric, shapes
from ..maths.derivation import Equation
from ..maths.formulas import Mul, Sym, evaluate, latex
from ..outputs.formatting import MIN_SIGNIFICANT, NumberFormat, last_digit, to_decimal
from .alignment import same_shape, substituted_numbers
from .answers import Claim, Number, read_sheet
from .formula_parts import keys
from .hints import Hint, Slips
from .names import Names

VERDICTS = ("correct", "rounding", "carried forward", "too few digits", "wrong", "unknown", "not understood", "missing")
PASSING = ("correct", "rounding")
# A line that is no claim but tells how to read the ones below it (``t = 2``): listed, never counted.
CONTEXT = "context"

# A formula is right when it gives the quantity's value to this relative precision.
FORMULA_TOLERANCE = mpmath.mpf("1e-30")
# "A few units in the last digit": rounding never explains more than this.
MAX_ROUNDING_UNITS = 5
_STEP = mpmath.mpf("1e-20")
# A slip is named only for a number written with this many significant digits: with fewer, many slips
# (and plain arithmetic slips) give the same number, and naming one would be a guess.
MIN_HINT_DIGITS = 3
_EXACTLY = mpmath.mpf("1e-40")  # for the sensitivity of a formula to one of its quantities


@dataclass(frozen=True)
class Verdict:
    """The verdict on one number or formula of an answer sheet.

    ``role`` is ``value`` (the number a line arrives at), ``formula`` or
    ``substituted`` (a number put into a formula in place of a quantity).
    ``given`` and ``expected`` are numbers (``Number``, mpf) for values and
    LaTeX for formulas; ``expected`` is None when the quantity is unknown.
    """

    line: int
    role: str
    key: str  # as ``explainer values`` prints it; the name as written when unknown
    given: Number | str
    expected: object
    verdict: str
    hint: Hint | None = None


@dataclass(frozen=True)
class Policy:
    """What a teacher asks of an answer beyond being right at the digits it shows.

    ``precision``: the least precision an answer must show (``--decimals N`` or
    ``--digits N``, or the precision an exercise key records); an answer right
    at fewer digits is ``too few digits``.  ``tolerance``: a relative error
    any answer may have and still be correct (``0.01`` for 1 %).
    """

    precision: NumberFormat | None = None
    tolerance: Decimal | None = None


@dataclass(frozen=True)
class _Given:
    """A number the user gave for a quantity, and its verdict."""

    key: str
    number: Number
    value: mpmath.mpf
    line: int
    verdict: str
    sources: tuple = ()  # the user's numbers it follows from: wrong ones (carried forward) or rounded ones
    slip: str | None = None  # a slip found without working anything out: "unchanged", "zero"


# A quantity after N rounds: ``E_total@10000``, or in words, "after 10,000 rounds" (as the reader takes it).
_AFTER_ROUNDS = re.compile(r"@(\d{1,12})|(\d[\d,\u2009\u202f]{0,15})\s*(?:rounds|iterations|epochs|steps)\b", re.I)


def claims_after_training(text: str) -> bool:
    """Whether an answer sheet may claim a value after more than one round (``out_o1@10000``)."""
    for at, words in _AFTER_ROUNDS.findall(text):
        digits = re.sub(r"\D", "", at or words)
        if digits and int(digits) > 1:
            return True
    return False


def graded_spec(spec, text: str):
    """The spec to derive for grading ``text``: without the long training run when the sheet asks
    nothing of it.  Every value of the first round, and of an optimizer's second step (its
    gradients ``dE_total/dw5@1``, state ``m_w5@2`` and weights ``w5@2``, which a sheet names
    without any ``@2``: ``m_t`` after ``t = 2``), is the same with or without it."""
    rounds = 1 if spec.optimizer.plain else 2
    if spec.iterations <= rounds or claims_after_training(text):
        return spec
    return dataclasses.replace(spec, iterations=rounds)


def check_answers(text: str, derivation, source: str = "<answers>", policy: Policy | None = None) -> tuple[Verdict, ...]:
    """The verdicts on the answer sheet ``text``; ``source`` names it in errors."""
    return check(read_sheet(text, Names(derivation), source), derivation, policy)


def check(claims: tuple[Claim, ...], derivation, policy: Policy | None = None) -> tuple[Verdict, ...]:
    """The verdicts on ``claims`` (from ``answers.read_sheet``), in the order written."""
    with mpmath.workdps(numeric.PRECISION):
        grader = _Grader(derivation, policy or Policy())
        return tuple(verdict for claim in claims for verdict in grader.grade(claim))


def with_missing(verdicts: tuple[Verdict, ...], derivation, asked) -> tuple[Verdict, ...]:
    """``verdicts``, then a ``missing`` verdict (line 0) for each quantity of ``asked`` the sheet gives no value for."""
    given = {v.key for v in verdicts if v.role == "value"}
    exact = {**derivation.parameters, **derivation.values}
    return verdicts + tuple(Verdict(0, "value", key, "", exact[key], "missing") for key in asked if key not in given)


def passing_distance(derivation):
    """``distance(key, unit)``: how far from ``key``'s exact value a number written to ``unit`` may be
    and still pass, as correct or rounding (the farther of half a unit and the rounding bound).

    ``distance.at_most(unit)`` is no nearer than ``distance(key, unit)`` for every key, and costs
    nothing to work out: a number farther than it from a value is farther than ``distance`` too.
    """
    return _PassingDistance(_Grader(derivation))


class _PassingDistance:
    def __init__(self, grader: _Grader) -> None:
        self.grader = grader

    def __call__(self, key: str, unit: Decimal) -> mpmath.mpf:
        with mpmath.workdps(numeric.PRECISION):
            return max(_size(unit) / 2, self.grader.rounding_bound(key, unit))

    @staticmethod
    def at_most(unit: Decimal) -> mpmath.mpf:
        # The same numbers as ``rounding_bound``'s own limit, at the same precision: never below ``__call__``'s.
        with mpmath.workdps(numeric.PRECISION):
            size = _size(unit)
            return max(size / 2, MAX_ROUNDING_UNITS * size)


def passed(verdicts: tuple[Verdict, ...]) -> bool:
    """Whether every verdict is correct or rounding (context lines are no claims)."""
    return all(v.verdict in PASSING for v in verdicts if v.verdict != CONTEXT)


def claims_of(verdicts: tuple[Verdict, ...]) -> tuple[Verdict, ...]:
    """``verdicts`` without the context lines, which claim nothing."""
    return tuple(v for v in verdicts if v.verdict != CONTEXT)


class _Grader:
    def __init__(self, derivation, policy: Policy = Policy()) -> None:
        self.derivation = derivation
        self.policy = policy
        self.names = Names(derivation)
        self.exact: dict[str, mpmath.mpf] = {**derivation.parameters, **derivation.values}
        self.equations = {**_signal_equations(derivation), **derivation.equations}
        self.slips = Slips(derivation, self.names)
        self.history: dict[str, _Given] = {}  # the latest number the user gave for each quantity
        # An output's error signal δ has two names (dE_total/dnet_o1, dE_o1/dnet_o1): a number given
        # under one is the user's value of the other, in the steps that use it (δ·w, and sums of them).
        self.twins = _signal_twins(derivation)
        # The delta rule's forms of a weight's gradient (δ of the neuron it feeds, times its input), which
        # a student writing δ takes instead of the chain rule's three factors.
        self.delta_forms = _delta_forms(derivation)
        self._bounds: dict[tuple[str, mpmath.mpf], mpmath.mpf] = {}
        self._sensitivities: dict[tuple[str, str], mpmath.mpf] = {}
        self._formulas: dict[str, object] = {}
        self._tables: dict | None = None

    def grade(self, claim: Claim) -> list[Verdict]:
        """The verdicts on one line, in the order a reader meets them: formulas, substituted numbers, result."""
        if claim.context:
            return [Verdict(claim.line, "context", claim.name, claim.given, None, CONTEXT, Hint("context", {"says": claim.context}))]
        if not claim.understood:
            hint = Hint("unread", {"reason": claim.reason}) if claim.reason else None
            return [Verdict(claim.line, "line", "", claim.name, None, "not understood", hint)]
        if claim.key is None:
            given = claim.given if claim.given is not None else latex(claim.formulas[0])
            return [Verdict(claim.line, "value", claim.name, given, None, "unknown", Hint("unknown", {"name": claim.name}))]
        key = claim.key
        listed: list[Verdict] = []
        formulas = [self.formula(claim.line, key, formula) for formula in claim.formulas]
        listed += [v for v in formulas if v.verdict != "correct" or claim.given is None]

        numbers, substituted = self.substitutions(claim)
        # A number the user repeats from an earlier line was judged there.
        fresh = [g for g in substituted if g.line == claim.line]
        listed += [self.verdict_of(g, "substituted") for g in fresh if g.verdict != "correct"]
        # A parameter put in the wrong place is a slip of this step: later steps use the spec's value.
        for g in fresh:
            if g.key not in self.derivation.parameters:
                self.remember(g.key, g)
        if claim.given is not None:
            given = self.value(claim.line, key, claim.given, numbers, substituted)
            self.remember(key, given)
            listed.append(self.verdict_of(given, "value"))
        return listed

    def remember(self, key: str, given: _Given) -> None:
        """``given`` as the user's latest number for ``key``, and for the other name of its value."""
        self.history[key] = given
        twin = self.twins.get(key)
        if twin is not None:
            self.history[twin] = given

    # --- numbers ------------------------------------------------------------------

    def value(self, line: int, key: str, number: Number, numbers=None, substituted: tuple = ()) -> _Given:
        """The verdict on ``number`` as the value of ``key``.

        ``numbers`` is the line's substituted form, if it has one, made of the
        user's numbers ``substituted``; the step from them is that form's value.
        """
        exact = self.exact[key]
        given = mpmath.mpf(str(number.value))
        half = _half_unit(number, exact)
        standstill = self.standstill(key, number)
        if standstill:
            return _Given(key, number, given, line, "wrong", (), standstill)
        tolerance = self.policy.tolerance
        if abs(given - exact) <= half or (tolerance is not None and abs(given - exact) <= abs(exact) * mpmath.mpf(str(tolerance))):
            return self.precise_enough(_Given(key, number, given, line, "correct"))
        # Worked out only for a number that is not correct: most are.
        bound = self.rounding_bound(key, number.unit)
        if abs(given - exact) <= bound:
            return self.precise_enough(_Given(key, number, given, line, "rounding"))
        earlier = self.history.get(key)
        if earlier is not None and earlier.verdict not in PASSING and abs(given - earlier.value) <= half:
            return _Given(key, number, given, line, "carried forward", (earlier,))
        if numbers is not None:
            ways = [(evaluate(numbers, {}), substituted)]
        elif key in self.equations or key in _after_one_round_keys(self.derivation):
            ways = self.from_own_numbers(key)
        else:
            return _Given(key, number, given, line, "wrong")
        for carried, used in ways:
            if used and abs(given - carried) <= max(half, bound):
                slips = tuple(g for g in used if g.verdict not in PASSING)
                if slips:
                    return _Given(key, number, given, line, "carried forward", slips)
                # Exactly what the user's own right but rounded numbers give: rounding, by its definition.
                rounded = tuple(g for g in used if g.value != self.exact[g.key])
                return self.precise_enough(_Given(key, number, given, line, "rounding", rounded))
        return _Given(key, number, given, line, "wrong")

    def from_own_numbers(self, key: str):
        """``key`` worked out from the user's numbers, and the numbers taken: by the derivation's formula,
        then by the delta rule's (δ times the input, for a weight's gradient)."""
        world = _World(self)
        yield world.worked_out(key), tuple(world.used.values())
        for form in self.delta_forms.get(key, ()):
            world = _World(self)
            yield evaluate(form, world), tuple(world.used.values())

    def _same_value(self, key: str) -> frozenset:
        """The quantities whose value is ``key``'s by definition (δ and ∂E_o1/∂net_o1; ∂net/∂w and an
        output), which a number may equal without being copied from them."""
        value = self.exact[key]
        return frozenset(k for k, v in self.exact.items() if v == value)

    def standstill(self, key: str, number: Number) -> str | None:
        """``unchanged`` for a weight given as it was before the update, ``zero`` for a zero the right value is
        not: never correct, however few digits the right value is rounded to."""
        exact = self.exact[key]
        before = self.derivation.parameters.get(key[:-1]) if key.endswith("+") else None
        if before is not None and number.value == Decimal(str(before)):
            # An update too small to show in four significant digits (or the digits asked for) may be written as none.
            shown = NumberFormat(digits=MIN_SIGNIFICANT)
            if self.policy.precision is not None and last_digit(exact, self.policy.precision) < last_digit(exact, shown):
                shown = self.policy.precision
            if abs(exact - before) >= mpmath.mpf(str(last_digit(exact, shown))) / 2:
                return "unchanged"
        if number.value.is_zero() and exact != 0:
            return "zero"
        return None

    def precise_enough(self, given: _Given) -> _Given:
        """``given``, or ``too few digits`` when it shows less than the precision the policy asks for."""
        precision = self.policy.precision
        if precision is None or given.number.value.is_zero():
            return given
        exact = to_decimal(self.exact[given.key])
        asked = last_digit(exact, precision)
        # 1.2525 for 1.252500000 shows every digit asked for: the zeros are implied, as the solution writes it.
        if given.number.unit > asked and given.number.value != exact.quantize(asked, rounding=ROUND_HALF_UP):
            return dataclasses.replace(given, verdict="too few digits", sources=(asked,))
        return given

    def verdict_of(self, given: _Given, role: str) -> Verdict:
        exact = self.exact[given.key]
        return Verdict(given.line, role, given.key, given.number, exact, given.verdict, self.hint(given, exact))

    def hint(self, given: _Given, exact) -> Hint | None:
        unit = mpmath.mpf(str(given.number.unit))
        if given.verdict == "too few digits":
            return Hint("too_few_digits", {"asked": given.sources[0]})
        if given.verdict == "rounding" and given.sources:
            return Hint("rounded_from", {"sources": tuple(sorted(given.sources, key=lambda g: (g.line, g.key)))})
        if given.verdict == "rounding":
            return Hint("rounding", {"units": int(mpmath.nint(abs(given.value - exact) / unit)), "exact": exact})
        if given.verdict == "carried forward":
            return Hint("carried", {"sources": tuple(sorted(given.sources, key=lambda g: (g.line, g.key)))})
        if given.verdict == "wrong" and given.slip:
            before = self.derivation.parameters.get(given.key[:-1])
            return Hint(given.slip, {"before": before, "key": given.key[:-1]})
        if given.verdict == "wrong":
            tolerance = max(_half_unit(given.number, exact), self.rounding_bound(given.key, given.number.unit))
            if _significant_digits(given.number) < MIN_HINT_DIGITS or given.key in self.derivation.parameters:
                # Only a slip that gives this very number: a parameter is copied, not rounded, and a
                # number of one or two digits is matched by too many slips to name one otherwise.
                tolerance = _EXACTLY * max(1, abs(given.value))
            # A slip of the pen explains a number better than any slip of method.
            transposed = _transposed_digits(given.number, exact)
            return transposed or self.slips.explain(given.key, given.value, tolerance,
                                                    same=self._same_value(given.key))
        return None

    def rounding_bound(self, key: str, unit: Decimal) -> mpmath.mpf:
        """How far from the exact value rounding every earlier result to ``unit`` can take ``key``.

        Half a unit for the step's own rounding, plus, for each quantity its
        formula uses, that quantity's own bound times how strongly the formula
        depends on it.  Parameters are exact.  Never more than a few units.
        """
        size = _size(unit)
        return min(self._bound(key, size), MAX_ROUNDING_UNITS * size)

    def _bound(self, key: str, unit: mpmath.mpf) -> mpmath.mpf:
        if (key, unit) in self._bounds:
            return self._bounds[key, unit]
        equation = self.equations.get(key)
        if key in self.derivation.parameters:
            bound = mpmath.mpf(0)
        elif equation is None:
            bound = unit / 2
        else:
            # A parameter's bound is 0: how strongly the formula depends on it does not matter.
            bound = unit / 2 + mpmath.fsum(
                self._sensitivity(key, quantity) * below for quantity in self._formula(key)[1]
                if (below := self._bound(quantity, unit))
            )
        self._bounds[key, unit] = bound
        return bound

    def _sensitivity(self, key: str, quantity: str) -> mpmath.mpf:
        """|∂(key's formula)/∂quantity| at the exact values, by a central difference."""
        if (key, quantity) not in self._sensitivities:
            formula, at = self._formula(key)[0], self.exact[quantity]
            moved = dict(self.exact)
            moved[quantity] = at + _STEP
            up = formula(moved)
            moved[quantity] = at - _STEP
            down = formula(moved)
            self._sensitivities[key, quantity] = abs(up - down) / (2 * _STEP)
        return self._sensitivities[key, quantity]

    def _formula(self, key: str):
        """The last form of ``key``'s equation compiled once for the shape (``numeric.formula_function``),
        and the quantities it uses."""
        if key not in self._formulas:
            if self._tables is None:
                self._tables = shapes.work_for(self.derivation.spec).tables
            form = self.equations[key].forms[-1]
            which = ("quantities", form)
            if which not in self._tables:
                self._tables[which] = keys(form)
            self._formulas[key] = numeric.formula_function(self._tables, form), self._tables[which]
        return self._formulas[key]

    # --- substituted numbers ----------------------------------------------------------

    def substitutions(self, claim: Claim) -> tuple[object | None, tuple[_Given, ...]]:
        """The line's substituted form, and the user's number for each quantity in it.

        The form is laid over the derivation's formulas for the quantity, then
        over the user's own; the first that fits names the numbers.
        """
        equation = self.equations.get(claim.key)
        forms = [*(equation.forms[1:] if equation else ()), *self.delta_forms.get(claim.key, ()), *claim.formulas]
        for numbers in claim.substituted:
            for form in forms:
                pairs = substituted_numbers(numbers, form)
                if pairs:
                    return numbers, tuple(self.substituted(claim.line, key, text) for key, text in dict.fromkeys(pairs))
        return None, ()

    def substituted(self, line: int, key: str, text: str) -> _Given:
        """The verdict on a number substituted for ``key``; the earlier one when the user wrote it before.

        A parameter is copied from the spec, not worked out: it is correct only as the spec has it
        (0.1 for an input of 0.05 is another input, not 0.05 rounded), rounding when it is the spec's
        value rounded to more digits than the spec's number has.
        """
        number = Number(text, Decimal(text))
        earlier = self.history.get(key)
        if earlier is not None and abs(mpmath.mpf(text) - earlier.value) <= _half_unit(number, earlier.value):
            return earlier
        if key in self.derivation.parameters:
            exact = self.exact[key]
            given = mpmath.mpf(text)
            if given == exact:
                return _Given(key, number, given, line, "correct")
            written = self.derivation.spec_parameters().get(key)
            if written is not None and number.unit < Decimal(1).scaleb(Decimal(written).as_tuple().exponent) \
                    and abs(given - exact) <= _half_unit(number, exact):
                return _Given(key, number, given, line, "rounding")
            return _Given(key, number, given, line, "wrong")
        return self.value(line, key, number)

    # --- formulas -----------------------------------------------------------------

    def formula(self, line: int, key: str, formula) -> Verdict:
        exact = self.exact[key]
        value = evaluate(formula, self.exact)
        tolerance = FORMULA_TOLERANCE * max(1, abs(exact))
        if abs(value - exact) <= tolerance:
            return Verdict(line, "formula", key, latex(formula), latex(formula), "correct")
        hint = self.slips.explain(key, value, tolerance, formula=formula)
        return Verdict(line, "formula", key, latex(formula), self.expected_formula(key, formula), "wrong", hint)

    def expected_formula(self, key: str, formula) -> str:
        """The derivation's formula for ``key``, the one shaped like the user's if there is one."""
        equation = self.equations.get(key)
        if equation is None:
            return str(self.derivation.parameters.get(key, self.exact[key]))
        forms = equation.forms[1:]
        alike = [form for form in forms if same_shape(form, formula)]
        return latex(alike[0] if alike else forms[-1])


class _World(Mapping):
    """The user's own values: the numbers they gave, and what follows from them.

    A quantity is the last number the user gave for it, else (a parameter)
    the spec's value, else worked out in this same world: its formula, or for
    a value after one round the forward pass with the user's updated weights.
    ``used`` collects the user's numbers that were taken.
    """

    def __init__(self, grader: _Grader) -> None:
        self.grader = grader
        self.used: dict[str, _Given] = {}
        self.computed: dict[str, mpmath.mpf] = {}

    def __getitem__(self, key: str) -> mpmath.mpf:
        given = self.grader.history.get(key)
        if given is not None:
            self.used[key] = given
            return given.value
        return self.worked_out(key)

    def worked_out(self, key: str) -> mpmath.mpf:
        """``key`` from the user's numbers, whatever the user said about ``key`` itself."""
        grader = self.grader
        if key in grader.derivation.parameters:
            return grader.exact[key]
        if key not in self.computed:
            if key in grader.equations:
                self.computed[key] = evaluate(grader.equations[key].forms[-1], self)
            elif key in _after_one_round_keys(grader.derivation):
                self.computed.update(self._after_one_round())
            else:
                return grader.exact[key]
        return self.computed[key]

    def _after_one_round(self) -> dict[str, mpmath.mpf]:
        network = self.grader.derivation.network
        point = {**self.grader.derivation.parameters, **{w.key: self[w.updated_key] for w in network.weights}}
        error, outs = numeric.forward_error(network, point)
        return dict(zip(_after_one_round_keys(self.grader.derivation), (error, *outs)))

    def __iter__(self):
        return iter(self.grader.exact)

    def __len__(self) -> int:
        return len(self.grader.exact)


def _signal_equations(derivation) -> dict:
    """Formulas for the error signals δ (``dE_total/dnet_o1``) that the derivation has as values only:
    the equation of the same value under its other name, or the product of its two factors."""
    equations = {}
    for key in derivation.values:
        if key in derivation.equations or not key.startswith("dE_total/dnet_"):
            continue
        net, _, sample = key.removeprefix("dE_total/d").partition("[")
        suffix = f"[{sample}" if sample else ""
        name = net.removeprefix("net_")
        own = f"dE_{name}/d{net}{suffix}"
        outer, inner = f"dE_total/dout_{name}{suffix}", f"dout_{name}/d{net}{suffix}"
        if own in derivation.equations:
            equations[key] = derivation.equations[own]
        elif outer in derivation.values and inner in derivation.values:
            equations[key] = Equation(key, (Sym(key, key), Mul((Sym(outer, outer), Sym(inner, inner)))))
    return equations


def _delta_forms(derivation) -> dict[str, tuple]:
    """For each weight's gradient whose chain ends in ∂net/∂w: δ of that net times ∂net/∂w
    (``dE_total/dw5 = δ_o1 · out_h1``), as a student using the delta rule writes it."""
    forms = {}
    for key, equation in derivation.equations.items():
        chain = equation.forms[-1]
        if not key.startswith("dE_total/d") or not isinstance(chain, Mul) or len(chain.factors) < 3:
            continue
        last = chain.factors[-1]
        wrt = getattr(last, "key", None) or ""
        net, slash, _ = wrt.partition("/")
        if not slash or not net.startswith("dnet_"):
            continue
        sample = wrt.partition("[")[2]
        signal = f"dE_total/{net}" + (f"[{sample}" if sample else "")
        if signal in derivation.values and signal != key:
            forms[key] = (Mul((Sym(signal, signal), Sym(wrt, wrt))),)
    return forms


def _signal_twins(derivation) -> dict[str, str]:
    """Each output neuron's error signal δ by one name, the other: ``dE_total/dnet_o1`` ↔ ``dE_o1/dnet_o1``
    (an output's own error term is the only one that depends on its net input)."""
    twins = {}
    for key in derivation.values:
        if not key.startswith("dE_total/dnet_"):
            continue
        net, _, sample = key.removeprefix("dE_total/d").partition("[")
        own = f"dE_{net.removeprefix('net_')}/d{net}" + (f"[{sample}" if sample else "")
        if own in derivation.values and own in derivation.equations:
            twins[key], twins[own] = own, key
    return twins


def _after_one_round_keys(derivation) -> tuple[str, ...]:
    """The values after one round, which the derivation takes from a forward pass rather than a formula."""
    return ("E_total@1", *(f"{o.out_key}@1" for o in derivation.network.outputs))


def _transposed_digits(number: Number, exact) -> Hint | None:
    """``transposed`` when exchanging two neighbouring digits of ``number`` gives the right value
    rounded to the same digits (0.7230 for 0.7320)."""
    from ..outputs.formatting import to_decimal

    written = number.value
    right = to_decimal(exact).quantize(number.unit) if abs(to_decimal(exact).adjusted()) < 40 else None
    if right is None or right == written or (right < 0) != (written < 0):
        return None
    a, b = written.as_tuple().digits, right.as_tuple().digits
    if len(a) != len(b):
        return None
    differ = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differ) == 2 and differ[1] == differ[0] + 1 and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]]:
        return Hint("transposed", {"right": right})
    return None


def _significant_digits(number: Number) -> int:
    """How many significant digits ``number`` was written with (0.0370 has 3)."""
    digits = number.value.as_tuple().digits
    return len(digits) - next((i for i, d in enumerate(digits) if d), len(digits))


def _size(unit: Decimal) -> mpmath.mpf:
    """A unit in the last digit as a number at the working precision (a sheet's units are few)."""
    return _size_at(unit, mpmath.mp.prec)


@functools.lru_cache(maxsize=1024)
def _size_at(unit: Decimal, precision: int) -> mpmath.mpf:
    return mpmath.mpf(str(unit))


def _half_unit(number: Number, exact) -> mpmath.mpf:
    """Half a unit in the last digit written, and never less than half a double's last bit."""
    ulps = [math.ulp(x) for x in (float(number.value), float(exact)) if math.isfinite(x)]
    return _size(number.unit) / 2 + mpmath.mpf(max(ulps, default=0)) / 2
