"""The optimizer's state under the names courses write: ``m_t``, ``\\hat{v}_t``, ``v_5``, ``s_{w_5}``.

``explainer values`` keys the state by parameter and step (``m_w5@1``,
``vhat_w5@2``, ``s_w5@1``, ``v_w5@0`` for the 0 it starts at), and the
document prints them as ``m_{w_5,1}``; ``Names`` reads both.  Sheets written by
hand leave one or both indices out.  A name that a course writes is read as

- the role: ``m``, ``v`` (Adam's moments, or momentum's velocity), ``s`` (RMSProp; also
  ``v`` there), ``\\hat{m}``, ``\\hat{v}`` (also ``m̂``, ``mhat``, ``\\widehat{m}``);
- the parameter, when written with its letter: ``v_{w_5}``, ``s_w5``, ``m_{b_2}``;
- the step, when written after it: ``m_{w_5,2}``, or ``m_{w5}^{(2)}``;
- a bare number, ``v_5`` or ``m_1``: the parameter w5 when no parameter is in
  context or it is that parameter; the step 1 of the parameter in context otherwise.

What a name leaves out comes from the sheet, line by line:

- the parameter in context is the one the latest claim before it is about
  (its gradient ``∂E/∂w5``, its update ``w5+``, a state variable of it); an
  exam sheet about one weight names it before its state;
- the step is the latest ``t = 2`` written on the sheet, else the count of
  step after this role's latest claim for the parameter (the first ``m_t`` is
  step 1, the second step 2), as "the first two Adam updates" are written one
  after the other.

The line ``t = 2`` is no claim but context (``Claim.context``): listed, never
counted.  After it, a gradient named without its step (``dE/dw5``, ``∂E/∂w_5``)
is the gradient of that step (``dE_total/dw5@1``); a key (``dE_total/dw5``,
``m_w5@1``) always means itself.

A state name that cannot be resolved is not guessed: its line is reported as
not understood, with the reason (no parameter in context, a parameter the
network does not train, a step the derivation does not have).
"""

from __future__ import annotations

import dataclasses
import re

from ..maths.optimizers import state_key

# How each optimizer's state is written: the names on the sheet → the role's key.
_ROLES = {
    "momentum": {"v": "v"},
    "nesterov": {"v": "v"},
    "rmsprop": {"s": "s", "v": "s"},
    "adam": {"m": "m", "v": "v", "mhat": "mhat", "vhat": "vhat"},
    "adamw": {"m": "m", "v": "v", "mhat": "mhat", "vhat": "vhat"},
}
_HATS = re.compile(r"\\(?:hat|widehat)\s*\{?\s*([mv])\s*\}?|([mv])\u0302|([mv])hat")
_NOISE = re.compile(r"\\(?:text|mathrm|mathit|operatorname)\b|[\s{}$]")
# role, then an optional subscript (parameter and/or step), then an optional superscript step.
_STATE = re.compile(
    r"(?P<role>mhat|vhat|m|v|s)"
    r"(?:_(?P<sub>[A-Za-z]?_?\d+(?:,(?:\d+|t))?|t|[A-Za-z]_?\d+_\d+|\d+,\d+))?"
    r"(?:\^\((?P<sup>\d+|t)\))?"
)
_PARAMETER = re.compile(r"(?P<letter>[wb])_?(?P<number>\d+(?:_\d+)?)")
_STEP_NAME = re.compile(r"t")
# The parameter a resolved key is about: dE_total/dw5, w5+, w5@2, m_w5@1, dE_reg/dw5@1, dE_total/dw5[B1].
_ABOUT = re.compile(r"(?:d[A-Za-z_]+/d)?(?:(?:mhat|vhat|m|v|s)_)?(?P<p>[wb]\d+(?:_\d+)?)(?:\+|@\d+|\[B\d+\])*")


@dataclasses.dataclass
class _Context:
    parameter: str | None = None
    parameter_line: int = 0
    step: int | None = None
    step_line: int = 0
    seen: dict = dataclasses.field(default_factory=dict)  # the latest step of each (role, parameter)


def resolve(claims, derivation) -> list:
    """``claims`` with the state names that ``Names`` left unresolved read in the sheet's context.

    A line ``t = 2`` is no claim: it is kept as a context line (``Claim.context``), which is
    neither checked nor counted.
    """
    optimizer = derivation.spec.optimizer
    roles = _ROLES.get(optimizer.name)
    if not roles:
        return list(claims)
    trained = {p.key for p in derivation.network.trained_parameters()}
    known = {**derivation.values, **derivation.parameters}
    context, resolved = _Context(), []
    for claim in claims:
        if claim.understood and claim.key is None and _is_step(claim.name) and claim.given is not None:
            if claim.given.value == claim.given.value.to_integral_value() and claim.given.value >= 0:
                context.step, context.step_line = int(claim.given.value), claim.line
                resolved.append(dataclasses.replace(claim, name="t", context=(
                    f"the step of the optimizer's state named below it (t = {context.step})")))
                continue
        if claim.understood and claim.key is None:
            reading = _reading(claim.name, roles)
            if reading is not None:
                claim = _resolved(claim, reading, context, trained, known)
        elif claim.understood and context.step is not None:
            claim = _later_gradient(claim, context.step, trained, known)
        if claim.understood and claim.key is not None:
            about = _ABOUT.fullmatch(claim.key)
            if about and about.group("p") in trained:
                context.parameter, context.parameter_line = about.group("p"), claim.line
        resolved.append(claim)
    return resolved


def _later_gradient(claim, step: int, trained: set, known: dict):
    """After ``t = N``, a gradient named without its step (``dE/dw5``, ``∂E/∂w_5``) is the gradient of step N,
    ``dE_total/dw5@{N-1}`` (at the weights of N − 1 updates).  The key ``dE_total/dw5`` itself always
    means itself, and a line with a formula or substituted numbers names the first round's quantities."""
    if step < 2 or claim.formulas or claim.substituted or not claim.key.startswith("dE_total/d"):
        return claim
    parameter = claim.key.removeprefix("dE_total/d")
    later = f"{claim.key}@{step - 1}"
    if parameter not in trained or later not in known or _NOISE.sub("", claim.name) == claim.key:
        return claim
    return dataclasses.replace(claim, key=later)


def _is_step(name: str) -> bool:
    return _STEP_NAME.fullmatch(_NOISE.sub("", name)) is not None


def _reading(name: str, roles: dict) -> tuple[str, str | None, int | str | None, str | None] | None:
    """(role, parameter, step, bare number) a name writes, or None when it is no state name."""
    text = _NOISE.sub("", _HATS.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "hat", name))
    match = _STATE.fullmatch(text)
    if match is None or match.group("role") not in roles:
        return None
    role = roles[match.group("role")]
    sub, sup = match.group("sub"), match.group("sup")
    parameter, step, bare = None, None, None
    if sub:
        head, _, tail = sub.partition(",")
        if not tail and "_" in head.lstrip("wb_") and head[0] in "wb":  # w_5_2: parameter and step
            head, tail = head.rsplit("_", 1)
        found = _PARAMETER.fullmatch(head)
        if found:
            parameter = found.group("letter") + found.group("number")
        elif head.isdigit():
            if tail:
                parameter = f"w{head}"
            else:
                bare = head
        elif head != "t":
            return None
        if tail and tail != "t":
            step = int(tail)
    if sup and sup != "t":
        if step is not None:
            return None
        step = int(sup)
    return role, parameter, step, bare


def _resolved(claim, reading, context: _Context, trained: set, known: dict):
    role, parameter, step, bare = reading
    named = parameter is not None
    if bare is not None:
        as_parameter = f"w{bare}"
        if context.parameter is None or context.parameter == as_parameter:
            parameter, named = as_parameter, True
        else:
            parameter, step = context.parameter, int(bare)
    if parameter is None:
        parameter = context.parameter
    if parameter is None:
        return _unresolved(claim, (
            f"{claim.name} names no parameter, and no line before it is about one; "
            f"write it as {role}_{{w5,1}} (the parameter, then the step)"))
    whose = "" if named else f" (the parameter of line {context.parameter_line})"
    if parameter not in trained:
        return _unresolved(claim, f"{claim.name} is read as the {role} of {parameter}{whose}, "
                                  f"which this network does not train")
    if step is not None:
        counted = ""
    elif context.step is not None:
        step, counted = context.step, f" (from t = {context.step} on line {context.step_line})"
    else:
        step = context.seen.get((role, parameter), 0) + 1
        counted = f" (its {_ordinal(step)} {role} of {parameter} on the sheet)"
    context.seen[role, parameter] = step
    key = state_key(role, parameter, step)
    if key not in known:
        steps = sorted(int(k.rpartition("@")[2]) for k in known if k.startswith(f"{role}_{parameter}@"))
        have = f"steps {steps[0]} to {steps[-1]}" if len(steps) > 1 else f"step {steps[0]}" if steps else "none"
        return _unresolved(claim, f"{claim.name} is read as {key}{whose}, step {step}{counted}, "
                                  f"but the optimizer's state of {parameter} is worked out for {have} only")
    return dataclasses.replace(claim, key=key)


def _unresolved(claim, reason: str):
    return dataclasses.replace(claim, understood=False, reason=reason)


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")
