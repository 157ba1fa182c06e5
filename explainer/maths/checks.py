"""Independent checks of the derivation's gradients.

Every gradient the chain rule gives is compared with central differences of
E_total at 50 digits and, for small networks, with ``sympy.diff`` of the
fully composed E_total.  These share nothing with the chain rule but the
activation and loss formulas, which ``check_derivatives`` proves on their own.
A disagreement raises ``DerivationMismatch``.
"""

from __future__ import annotations

from typing import Callable, Mapping

import mpmath

from ..spec.errors import DerivationMismatch
from . import numeric
from .formulas import Sym, to_sympy
from .functions import LOSSES, activation
from .network import Network, Parameter, Weight

# A composed E_total with more operations than this is not differentiated:
# softmax and deep piecewise networks swell fast.
COMPOSED_OPERATIONS = 3000
# A net input this close to a kink (ReLU at 0) makes a central difference
# straddle it, so it measures neither side's derivative.
KINK_DISTANCE = mpmath.mpf("1e-12")
# How far a central difference may stray from a gradient, relative to it.
DIFFERENCE_TOLERANCE = mpmath.mpf("1e-20")
# How far two exact computations (50 digits) of one quantity may differ, relative to it.
EXACT_TOLERANCE = mpmath.mpf("1e-30")


def disagree(got, expected, tolerance) -> bool:
    """Whether ``got`` is further from ``expected`` than ``tolerance``, relative to it (absolute below 1)."""
    return abs(got - expected) > tolerance * max(1, abs(expected))


def checked_parameters(n: Network) -> tuple[Parameter, ...]:
    """The parameters whose printed gradient is the true ∂E_total/∂p.

    With the sequential update the hidden layers' gradients are taken with the
    already-updated weights above them, on purpose: only the output layer's
    are gradients of E_total at the starting point.
    """
    if n.spec.update == "sequential":
        last = len(n.layers) - 1
        return tuple(p for p in n.trained_parameters() if getattr(p, "layer", None) == last or
                     (isinstance(p, Weight) and p.target.layer == last))
    return n.trained_parameters()


def near_a_kink(n: Network, values: Mapping[str, mpmath.mpf], key: Callable[[str], str] = str) -> bool:
    """Whether a neuron whose activation has a kink has its net input (``values[key(net_key)]``) at the kink."""
    return any(abs(values[key(x.net_key)]) < KINK_DISTANCE
               for layer in n.layers[1:] for x in layer
               if getattr(activation(n.activation(x), n.slope(x)), "kink", False))


def kink_sides(n: Network, point: Mapping[str, mpmath.mpf], samples: int | None = None) -> tuple[bool, ...]:
    """On which side of its kink each kinked neuron's net input lies at ``point`` (net > 0), for each sample.

    ``samples`` None: ``point`` holds one sample's data; else the data are the spec's samples.
    """
    kinked = [x for layer in n.layers[1:] for x in layer
              if getattr(activation(n.activation(x), n.slope(x)), "kink", False)]
    if not kinked:
        return ()
    rows = [point] if samples is None else [{**point, **n.sample_values(s, numeric.mp)} for s in range(samples)]
    return tuple(nets[x.net_key] > 0 for row in rows for nets in (numeric.net_inputs(n, row),) for x in kinked)


# Beyond this many extra digits the central difference is not worth its cost:
# the point is a diverged network (values past 1e200), not one to check by hand.
MAX_EXTRA_DIGITS = 200


def check_differences(error, point: dict, gradient: dict[str, mpmath.mpf], one_by_one: bool,
                      sides: Callable[[dict], tuple] | None = None) -> None:
    """The gradient against central differences of ``error(point)``: along two mixed directions, and per parameter.

    Each parameter moves in proportion to its size (at least 1), so that a
    network whose weights have grown large is stepped as finely, relative to
    them, as a small one; the difference is taken with as many more digits as
    the error and the parameters have before the point, so that subtracting
    two large errors leaves the digits the comparison needs.  ``sides`` gives
    the side of each kink at a point: a step that crosses one measures neither
    side's derivative, and is not compared.
    """
    keys = list(gradient)
    scale = {key: max(mpmath.mpf(1), abs(point[key])) for key in keys}
    largest = max([abs(error(point)), *scale.values()])
    extra = max(0, int(mpmath.log10(largest)) + 1) if largest > 1 else 0
    if extra > MAX_EXTRA_DIGITS:
        return
    with mpmath.workdps(mpmath.mp.dps + extra):
        at_point = sides(point) if sides else None

        def compare(direction: dict, what: str) -> None:
            moved = {key: c * scale[key] for key, c in direction.items()}
            if sides and any(sides(numeric.shifted(point, moved, sign)) != at_point for sign in (1, -1)):
                return
            terms = [c * gradient[k] for k, c in moved.items()]
            expected, size = mpmath.fsum(terms), mpmath.fsum(abs(t) for t in terms)
            got = numeric.directional_difference(error, point, moved)
            if abs(got - expected) > DIFFERENCE_TOLERANCE * max(1, size):
                raise DerivationMismatch(f"{what} disagrees with a central difference "
                                         f"({mpmath.nstr(got, 20)} vs {mpmath.nstr(expected, 20)})")

        # Directional differences check every component at once, in linear time.
        for seed in (1, 2):
            compare({key: ((i * 7919 + seed * 104729) % 13) - 6 for i, key in enumerate(keys)}, "the gradient")
        if one_by_one:
            for key in keys:
                compare({key: 1}, f"dE_total/d{key}")


def composed_error(network: Network):
    """E_total of one sample as one SymPy expression in the weights, biases, inputs and targets."""
    import sympy

    s = network.symbols
    loss = LOSSES[network.spec.loss]
    outs = {}
    for layer in network.layers[1:]:
        act = activation(network.activation(layer[0]), network.slope(layer[0]))
        nets = {x: network.net_definition(x).xreplace(outs) for x in layer}
        if act.coupled:
            net_syms = [Sym(x.net_key, x.net_key) for x in layer]
            formulas = {x: to_sympy(act.formula(net_syms, x.index), s) for x in layer}
        else:
            # The most compact printed form (tanh(net) rather than its exponentials): all are proved equal.
            f = to_sympy((*act.forms(Sym("net", "net")), act.formula(Sym("net", "net")))[0], s)
            formulas = {x: f.xreplace({s("net"): s(x.net_key)}) for x in layer}
        by_net = {s(x.net_key): nets[x] for x in layer}
        outs.update({s(x.out_key): formulas[x].xreplace(by_net) for x in layer})
    count = len(network.outputs)
    terms = []
    for o in network.outputs:
        target, out = Sym("", f"target_{o.name}"), Sym("", o.out_key)
        terms.append(to_sympy(loss.term(target, out, count), s).xreplace({s(o.out_key): outs[s(o.out_key)]}))
    return sympy.Add(*terms)


class ComposedGradients:
    """``sympy.diff`` of the fully composed E_total by each checked parameter, differentiated once
    and evaluated at each sample's point."""

    @classmethod
    def for_network(cls, network: Network) -> ComposedGradients | None:
        """The check for a network; None where the composed error is too large to differentiate."""
        import sympy

        total = composed_error(network)
        return cls(network, total) if sympy.count_ops(total) <= COMPOSED_OPERATIONS else None

    def __init__(self, network: Network, total) -> None:
        import sympy

        self.network = network
        s = network.symbols
        # Derivative(..., evaluate=True) is sympy.diff without its dispatch over array types.
        self.derivatives = {p.key: sympy.Derivative(total, s(p.key), evaluate=True) for p in checked_parameters(network)}
        # A kink's convention must be decided on exact values; elsewhere 50-digit
        # Floats evaluate the derivative as it is rebuilt, several times faster.
        self.exact = any(getattr(activation(a, sl), "kink", False)
                         for a, sl in zip(network.spec.activations, network.spec.slopes))

    def check(self, point: Mapping[str, mpmath.mpf], gradient: Mapping[str, mpmath.mpf], written: Mapping) -> None:
        """Each gradient at ``point`` (parameters and one sample's data by key).

        ``written`` holds the same quantities as the spec wrote them
        (Decimal), for an exact evaluation where the point is the spec's own.
        """
        import sympy

        s = self.network.symbols
        exact = self._exact_point(point, written) if self.exact else None
        at = exact or {s(k): sympy.Float(mpmath.nstr(v, numeric.PRECISION), numeric.PRECISION) for k, v in point.items()}
        for key, derivative in self.derivatives.items():
            value = derivative.xreplace(at)
            if exact or not value.is_Float:  # e.g. softplus at exactly 0 leaves log(2)
                value = value.evalf(numeric.PRECISION + 10)
            got, expected = mpmath.mpf(str(value)), gradient[key]
            if disagree(got, expected, EXACT_TOLERANCE):
                raise DerivationMismatch(f"dE_total/d{key}: sympy.diff of the composed E_total gives {got}, "
                                         f"the derivation {expected}")

    def _exact_point(self, point: Mapping, written: Mapping) -> dict | None:
        """The point as exact rationals, when it is the spec's own decimals (else None)."""
        import sympy

        s = self.network.symbols
        if any(point[k] != numeric.mp(v) for k, v in written.items()):
            return None
        return {s(k): sympy.Rational(str(v)) for k, v in written.items()}
