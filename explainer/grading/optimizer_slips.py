"""The usual slips in an optimizer's step, each computed from the step's own formula.

Each slip re-evaluates the equation of the quantity with one thing changed,
at the exact values of everything it uses, so a hint names a slip only when
it gives the student's number: the bias correction forgotten (m for m̂), β
and 1 − β swapped, ε put inside the square root, the weight decay applied
twice.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, Mapping

import mpmath

from ..maths.formulas import evaluate
from ..maths.optimizers import is_optimizer_key


def optimizer_slips(derivation, key: str, exact: Mapping[str, mpmath.mpf]) -> Iterator[tuple[str, mpmath.mpf]]:
    """(slip, the value it gives ``key``) for each slip that changes ``key``'s value."""
    equation = derivation.equations.get(key)
    if equation is None or derivation.spec.optimizer.plain:
        return
    if not (is_optimizer_key(key) or key.endswith("+") or key.startswith("dE_reg/")):
        return
    form, right = equation.forms[-1], exact[key]
    used = _keys(form)

    def value(changes: Mapping[str, mpmath.mpf]):
        with mpmath.workdps(50):
            got = evaluate(form, ChainMap(dict(changes), exact))
        return got if mpmath.isfinite(got) and got != right else None

    hats = {k: k.replace("hat_", "_", 1) for k in used if k.startswith(("mhat_", "vhat_"))}
    if key.startswith(("mhat_", "vhat_")):
        yield "bias_correction", exact[key.replace("hat_", "_", 1)]
    elif hats:
        yield "bias_correction", value({k: exact[plain] for k, plain in hats.items()})
    rates = {k: 1 - exact[k] for k in ("beta1", "beta2", "alpha") if k in used}
    if rates and key.startswith(("m_", "v_", "s_")):
        yield "beta_swapped", value(rates)
    if "epsilon" in used:
        roots = [k for k in used if k.startswith(("vhat_", "s_"))]
        yield "eps_in_sqrt", value({"epsilon": 0, **{k: exact[k] + exact["epsilon"] for k in roots}})
    if "lambda" in used:
        yield "decay_twice", value({"lambda": 2 * exact["lambda"]})


def _keys(node) -> set[str]:
    from .formula_parts import keys

    return set(keys(node))
