"""How computed values are printed: rounded, trailing zeros stripped.

Values arrive at high precision (mpmath, 50 digits), so rounding them here to
the printed digits is always the correct rounding of the exact value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Decimal, localcontext

import mpmath

# Below this many significant digits (or ``decimals``, if fewer) a fixed-point
# number says too little ("0.000000012"), so it switches to scientific notation.
MIN_SIGNIFICANT = 4
HUGE = Decimal("1e12")
# Shown values kept, by format and exact value: a few students' worth.
MAX_SHOWN = 4096
_SHOWN: dict[tuple, str] = {}


@dataclass(frozen=True)
class NumberFormat:
    """Round to ``decimals`` places, or to ``digits`` significant digits when given."""

    decimals: int = 9
    digits: int | None = None

    def __call__(self, value) -> str:
        # A value is shown many times (in the Markdown and the LaTeX, on a sheet and in its key):
        # an mpf's text, which depends on its exact binary value alone, is kept for the next time.
        remembered = (self, value._mpf_) if isinstance(value, mpmath.mpf) else None
        if remembered is not None:
            text = _SHOWN.get(remembered)
            if text is not None:
                return text
        # Exponents as wide as Decimal has: mpmath's are unbounded, and a saturated
        # neuron's value (e^-1000000) is far beyond the default context's 1e-999999.
        with localcontext() as context:
            context.Emax, context.Emin = MAX_EMAX, MIN_EMIN
            text = self._shown(value)
        if remembered is not None:
            if len(_SHOWN) >= MAX_SHOWN:
                _SHOWN.clear()
            _SHOWN[remembered] = text
        return text

    def _shown(self, value) -> str:
        exact = to_decimal(value)
        if not exact.is_finite():
            # Only the float64 training loop overflows, when training diverges.
            return r"\text{NaN}" if exact.is_nan() else ("-" if exact < 0 else "") + r"\infty"
        if exact.is_zero():
            return "0"
        if self.digits is not None:
            return _significant(exact, self.digits)
        return _fixed(exact, self.decimals)


def last_digit(value, number_format: NumberFormat) -> Decimal:
    """One unit in the last digit ``number_format`` shows of ``value``."""
    if number_format.digits is not None:
        return Decimal(1).scaleb(to_decimal(value).adjusted() - number_format.digits + 1)
    if _surely_fixed(value, number_format.decimals):
        return Decimal(1).scaleb(-number_format.decimals)
    if "\\times" in number_format(value):
        # Too small for fixed point: shown with this many significant digits instead.
        return Decimal(1).scaleb(to_decimal(value).adjusted() - max(number_format.decimals, MIN_SIGNIFICANT) + 1)
    return Decimal(1).scaleb(-number_format.decimals)


def _surely_fixed(value, decimals: int) -> bool:
    """Whether ``value`` is shown in fixed point at ``decimals`` places, decided without rounding it: a
    value of at least 10^a (a ≥ -decimals) rounds to at least 10^a, so it shows a + decimals + 1
    significant digits or more.  False where that alone does not decide (then ``_fixed`` does)."""
    if isinstance(value, Decimal):
        if not value.is_finite() or value.is_zero() or abs(value) >= HUGE:
            return False
        exponent = value.adjusted()
    elif isinstance(value, mpmath.mpf):
        size = abs(float(value))
        if not 0 < size < 1e11:
            return False
        # One below the exponent of the double: a lower bound of the exact value's, however it rounded.
        exponent = math.floor(math.log10(size)) - 1
    else:
        return False
    return exponent >= -decimals and exponent + decimals + 1 >= max(1, min(MIN_SIGNIFICANT, decimals))


def to_decimal(value) -> Decimal:
    """A Decimal holding ``value`` (mpf, Decimal, int or str); an mpf to 45 significant digits.

    Values are computed with 50 digits, so only about 48 are known: cutting an
    mpf to 45 digits drops the binary noise, and a quantity that is exactly a
    decimal (net_h1 = 0.3775, held in binary as 0.377499999…) rounds as that
    decimal does, not as its binary neighbour.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, mpmath.mpf):
        # Scientific notation where nstr chooses it: a fixed-point string of 2^-1e12 would not fit in memory.
        return Decimal(mpmath.nstr(value, 45, strip_zeros=False))
    return Decimal(str(value))


def _fixed(value: Decimal, decimals: int) -> str:
    if abs(value) >= HUGE:
        return _scientific(value, max(decimals, MIN_SIGNIFICANT))
    shown = _round(value, Decimal(1).scaleb(-decimals))
    if _significant_digits(shown) < max(1, min(MIN_SIGNIFICANT, decimals)):
        return _scientific(value, max(decimals, MIN_SIGNIFICANT))
    return _strip(shown)


def _significant(value: Decimal, digits: int) -> str:
    exponent = value.adjusted()
    if not -5 <= exponent < 12:
        return _scientific(value, digits)
    return _strip(_round(value, Decimal(1).scaleb(exponent - digits + 1)))


def _scientific(value: Decimal, digits: int) -> str:
    rounded = _round(value, Decimal(1).scaleb(value.adjusted() - digits + 1))
    exponent = rounded.adjusted()
    mantissa = _strip(rounded.scaleb(-exponent))
    return f"{mantissa} \\times 10^{{{exponent}}}"


def _round(value: Decimal, quantum: Decimal) -> Decimal:
    with localcontext() as context:
        context.Emax, context.Emin = MAX_EMAX, MIN_EMIN
        context.prec = max(60, value.adjusted() - quantum.adjusted() + 2)
        return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _significant_digits(value: Decimal) -> int:
    return 0 if value.is_zero() else len(value.as_tuple().digits) - _leading_zeros(value)


def _leading_zeros(value: Decimal) -> int:
    digits = value.as_tuple().digits
    return len(digits) - len("".join(map(str, digits)).lstrip("0"))


def _strip(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
