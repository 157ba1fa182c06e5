"""The optimizers' update rules as formula records.

One rule per optimizer, written as ``torch.optim`` documents it, serves every
use: the derivation prints it and evaluates it at 50 digits for the first
rounds, and the training loops compile it to Python floats or numpy arrays.

For a parameter p with gradient g at step t (the state starts at 0):

- sgd: p − η g
- momentum: v_t = g at t = 1, else μ v_{t−1} + (1 − τ) g; p − η v_t
- nesterov: v_t as momentum (τ = 0); p − η (g + μ v_t)
- rmsprop: s_t = α s_{t−1} + (1 − α) g²; p − η g / (√s_t + ε)
- adam: m_t = β1 m_{t−1} + (1 − β1) g, v_t = β2 v_{t−1} + (1 − β2) g²,
  m̂_t = m_t / (1 − β1^t), v̂_t = v_t / (1 − β2^t); p − η m̂_t / (√v̂_t + ε)
- adamw: the Adam step and, decoupled from it, p shrunk by η λ p.

With ``weight_decay`` λ (every optimizer but AdamW) the gradient is that of
E_total + λ/2 ‖p‖², g = ∂E_total/∂p + λ p, the L2 regularisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from ..spec.reading import Optimizer
from .formulas import Add, Frac, Mul, Neg, Num, Paren, Pow, Sqrt, Sym

ETA = Sym(r"\eta", "eta")
# The hyper-parameters by key, with the symbols courses print them with.
HYPER_SYMBOLS = {
    "mu": Sym(r"\mu", "mu"), "tau": Sym(r"\tau", "tau"), "alpha": Sym(r"\alpha", "alpha"),
    "beta1": Sym(r"\beta_1", "beta1"), "beta2": Sym(r"\beta_2", "beta2"),
    "epsilon": Sym(r"\epsilon", "epsilon"), "lambda": Sym(r"\lambda", "lambda"),
}
# The state each optimizer carries from one step to the next, per parameter.
STATE = {"sgd": (), "momentum": ("v",), "nesterov": ("v",), "rmsprop": ("s",), "adam": ("m", "v"), "adamw": ("m", "v")}
# How a state variable is printed, before its parameter and step: m_{w_5,1}, \hat{m}_{w_5,1}.
STATE_TEX = {"v": "v", "s": "s", "m": "m", "mhat": r"\hat{m}", "vhat": r"\hat{v}"}


def l2(optimizer: Optimizer) -> bool:
    """Whether the weight decay is L2 regularisation, added to each gradient (not AdamW's decoupled decay)."""
    return bool(optimizer.weight_decay) and optimizer.name != "adamw"


def hyper_parameters(optimizer: Optimizer) -> dict[str, Decimal]:
    """The hyper-parameters the optimizer's rule uses, by key, as the spec wrote them."""
    name, values = optimizer.name, {}
    if name in ("momentum", "nesterov"):
        values["mu"] = optimizer.momentum
        if optimizer.dampening:
            values["tau"] = optimizer.dampening
    if name == "rmsprop":
        values["alpha"] = optimizer.alpha
    if name in ("adam", "adamw"):
        values["beta1"], values["beta2"] = optimizer.betas
    if name in ("rmsprop", "adam", "adamw"):
        values["epsilon"] = optimizer.eps
    if optimizer.weight_decay:
        values["lambda"] = optimizer.weight_decay
    return values


def roles(optimizer: Optimizer) -> tuple[str, ...]:
    """The quantities one step defines before the new parameter, in order."""
    extra = ("mhat", "vhat") if optimizer.name in ("adam", "adamw") else ()
    return (("g",) if l2(optimizer) else ()) + STATE[optimizer.name] + extra


@dataclass(frozen=True)
class Quantities:
    """The symbols one step of one parameter refers to.

    ``defined`` maps each of ``roles(optimizer)`` and ``"new"`` to the symbol it
    defines; ``previous`` maps each state variable to its value before the step.
    ``hyper`` maps the hyper-parameters' keys to their symbols.
    """

    param: object
    gradient: object
    previous: Mapping[str, object]
    defined: Mapping[str, Sym]
    step: object
    eta: object = ETA
    hyper: Mapping[str, Sym] = None

    def h(self, key: str):
        return (self.hyper or HYPER_SYMBOLS)[key]


def _decay(rate, previous, value, power: bool = False):
    """rate · previous + (1 − rate) · value (squared with ``power``)."""
    term = Pow(value, Num("2")) if power else value
    return Add((Mul((rate, previous)), Mul((Paren(Add((Num("1"), Neg(rate)))), term))))


def rule(optimizer: Optimizer, q: Quantities, first: bool) -> tuple[tuple[Sym, object], ...]:
    """(symbol, formula) for each quantity the step defines, the new parameter last.

    ``first``: the step is the first (torch.optim starts the momentum buffer
    at the gradient itself, not at (1 − τ) times it).
    """
    name, d = optimizer.name, q.defined
    steps = []
    g = q.gradient
    if l2(optimizer):
        steps.append((d["g"], Add((q.gradient, Mul((q.h("lambda"), q.param))))))
        g = d["g"]
    if name == "sgd":
        new = Add((q.param, Neg(Mul((q.eta, g)))))
    elif name in ("momentum", "nesterov"):
        mu = q.h("mu")
        later_gradient = Mul((Paren(Add((Num("1"), Neg(q.h("tau"))))), g)) if optimizer.dampening else g
        steps.append((d["v"], g if first else Add((Mul((mu, q.previous["v"])), later_gradient))))
        if name == "momentum":
            new = Add((q.param, Neg(Mul((q.eta, d["v"])))))
        else:
            new = Add((q.param, Neg(Mul((q.eta, Paren(Add((g, Mul((mu, d["v"])))))))))) 
    elif name == "rmsprop":
        steps.append((d["s"], _decay(q.h("alpha"), q.previous["s"], g, power=True)))
        new = Add((q.param, Neg(Mul((q.eta, Frac(g, Add((Sqrt(d["s"]), q.h("epsilon")))))))))
    else:
        beta1, beta2 = q.h("beta1"), q.h("beta2")
        steps.append((d["m"], _decay(beta1, q.previous["m"], g)))
        steps.append((d["v"], _decay(beta2, q.previous["v"], g, power=True)))
        steps.append((d["mhat"], Frac(d["m"], Add((Num("1"), Neg(Pow(beta1, q.step)))))))
        steps.append((d["vhat"], Frac(d["v"], Add((Num("1"), Neg(Pow(beta2, q.step)))))))
        adam = Mul((q.eta, Frac(d["mhat"], Add((Sqrt(d["vhat"]), q.h("epsilon"))))))
        if name == "adam":
            new = Add((q.param, Neg(adam)))
        else:
            new = Add((q.param, Neg(Mul((q.eta, q.h("lambda"), q.param))), Neg(adam)))
    steps.append((d["new"], new))
    return tuple(steps)


# --- the names the derivation gives them ----------------------------------------


def state_key(role: str, parameter: str, step: int) -> str:
    """The key of a state variable after ``step`` steps: ``m_w5@1``, ``vhat_w5@2``."""
    return f"{role}_{parameter}@{step}"


def state_sym(role: str, parameter, step: int) -> Sym:
    """``m_{w_5,1}``: the state variable of ``parameter`` (a Parameter) after ``step`` steps."""
    return Sym(f"{STATE_TEX[role]}_{{{parameter.tex},{step}}}", state_key(role, parameter.key, step))


REGULARISED = Sym("E_{reg}", "E_reg")
_OPTIMIZER_KEY = re.compile(r"E_reg|(?:m|v|s|mhat|vhat)_\w+@\d+|\w+@2")


def is_optimizer_key(key: str) -> bool:
    """Whether ``key`` names one of the optimizer's quantities: a state variable, E_reg, a parameter after two rounds."""
    return _OPTIMIZER_KEY.fullmatch(key) is not None


def regularised_gradient_key(parameter: str, step: int) -> str:
    """∂E_reg/∂p of step ``step``: ``dE_reg/dw5`` (at the starting weights), ``dE_reg/dw5@1`` (after one round)."""
    return f"dE_reg/d{parameter}" + ("" if step == 1 else f"@{step - 1}")
