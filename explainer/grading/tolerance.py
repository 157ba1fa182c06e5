"""A relative tolerance as a teacher writes it: ``0.01`` or ``1%``.

``explainer check --tolerance`` accepts any answer within it, and
``explainer exercise --tolerance`` writes it into the Moodle questions; both
read it here, without loading the mathematics (``--help`` stays instant).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def read_tolerance(text: str) -> Decimal:
    """The relative tolerance ``text`` says (``1%`` is 0.01), from 0 to less than 1; ValueError with the words."""
    try:
        value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        raise ValueError(f"expected a relative tolerance such as 0.01 or 1%, got {text!r}") from None
    if not (value.is_finite() and 0 <= value < 1):
        raise ValueError(f"expected a relative tolerance from 0 to less than 1 (100%), got {text}")
    return value
