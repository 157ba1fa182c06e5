"""Independent checks of the derivation's gradients.

Every gradient the chain rule gives is compared with central differences of
E_total at 50 digits and, for small networks, with ``sympy.diff`` of the
fully composed E_total.  These share nothing with the chain rule but the
activation and loss formulas, which ``check_derivatives`` proves on their own.
A disagreement raises ``DerivationMismatch``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable, Mapping

import mpmath

from ..spec.errors import DerivationMismatch
from . import numeric
from .formulas import Cases, Max, Sym, evaluate, to_sympy
from .functions import LOSSES, activation
from .network import Network, Parameter, Weight

# The composed E_total's size (``composed_size``, counted before it is built)
# times the parameters it is differentiated by: past this, sympy.diff takes
# seconds (deep sigmoid and softmax networks swell fastest), and the network is
# checked by central differences alone.
COMPOSED_WORK = 60_000
# Piecewise activations: the composed E_total is differentiated once per
# pattern of active branches, for at most this many patterns (samples beyond
# them on other branches are checked by central differences alone).
MAX_BRANCH_PATTERNS = 4
# A net input this close to a kink (ReLU at 0) makes a central difference
# straddle it, so it measures neither side's derivative.
KINK_DISTANCE = mpmath.mpf("1e-12")
# How far a central difference may stray from a gradient, relative to it.
DIFFERENCE_TOLERANCE = mpmath.mpf("1e-20")
# How far two exact computations (50 digits) of one quantity may differ, relative to it.
EXACT_TOLERANCE = mpmath.mpf("1e-30")


def disagree(got, expected, tolerance) -> bool:
    """Whether ``got`` is further from ``expected`` than ``tolerance``, relative to it (absolute below 1)."""
    size = abs(expected)
    return abs(got - expected) > (tolerance * size if size > 1 else tolerance)


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


def active_form(node, net: mpmath.mpf):
    """The formula record of a piecewise activation at a net input ``net``: each ``Cases`` and ``Max``
    replaced by the branch the value takes, decided as ``formulas.evaluate`` decides it (the kink's
    ``otherwise`` at an exact 0).  Differentiating it gives the derivative the derivation uses there."""
    if isinstance(node, Cases):
        for value, condition in node.branches:
            if evaluate(condition, {"net": net}):
                return active_form(value, net)
        return active_form(node.otherwise, net)
    if isinstance(node, Max):
        values = [evaluate(a, {"net": net}) for a in node.args]
        return active_form(node.args[values.index(evaluate(node, {"net": net}))], net)
    if dataclasses.is_dataclass(node):
        return dataclasses.replace(node, **{f.name: _active_field(getattr(node, f.name), net)
                                            for f in dataclasses.fields(node)})
    return node


def _active_field(value, net):
    if isinstance(value, tuple):
        return tuple(_active_field(v, net) for v in value)
    return active_form(value, net) if dataclasses.is_dataclass(value) else value


def _compact_form(act):
    """The most compact printed form (tanh(net) rather than its exponentials): all are proved equal."""
    return (*act.forms(Sym("net", "net")), act.formula(Sym("net", "net")))[0]


def composed_error(network: Network, nets: Mapping[str, mpmath.mpf] | None = None):
    """E_total of one sample as one SymPy expression in the weights, biases, inputs and targets.

    With ``nets`` (each neuron's net input, by key) a piecewise activation is
    composed on the branch its neuron is on: the expression the numbers there
    come from, and a fraction of the size of the whole ``Piecewise``.
    """
    import sympy

    s = network.symbols
    loss = LOSSES[network.spec.loss]
    outs = {}
    for layer in network.layers[1:]:
        act = activation(network.activation(layer[0]), network.slope(layer[0]))
        nets_here = {x: network.net_definition(x).xreplace(outs) for x in layer}
        if act.coupled:
            net_syms = [Sym(x.net_key, x.net_key) for x in layer]
            formulas = {x: to_sympy(act.formula(net_syms, x.index), s) for x in layer}
        elif nets is not None and getattr(act, "kink", False):
            formulas = {x: to_sympy(active_form(_compact_form(act), nets[x.net_key]), s).xreplace({s("net"): s(x.net_key)})
                        for x in layer}
        else:
            f = to_sympy(_compact_form(act), s)
            formulas = {x: f.xreplace({s("net"): s(x.net_key)}) for x in layer}
        by_net = {s(x.net_key): nets_here[x] for x in layer}
        outs.update({s(x.out_key): formulas[x].xreplace(by_net) for x in layer})
    count = len(network.outputs)
    terms = []
    for o in network.outputs:
        target, out = Sym("", f"target_{o.name}"), Sym("", o.out_key)
        terms.append(to_sympy(loss.term(target, out, count), s).xreplace({s(o.out_key): outs[s(o.out_key)]}))
    return sympy.Add(*terms)


def composed_size(network: Network) -> int:
    """About how many operations the composed E_total has, counted before it is built.

    The composed expression is a tree in which each neuron's output is
    written out once for every use of it: a net input holds its sources' whole
    outputs, so the size multiplies from layer to layer.  A piecewise
    activation counts as one of its branches (``composed_error`` with ``nets``).
    """
    size = {x.out_key: 1 for x in network.inputs}
    for layer in network.layers[1:]:
        act = activation(network.activation(layer[0]), network.slope(layer[0]))
        for x in layer:
            net = sum(size[w.source.out_key] + 2 for w in network.incoming(x)) + 2
            if act.coupled:  # every output holds every net input of the layer, twice
                size[x.out_key] = 2 * len(layer) * net + 2 * len(layer)
            else:
                uses = _uses_of_net(act)
                size[x.out_key] = uses * net + 4
    return sum(size[o.out_key] + 4 for o in network.outputs)


def _uses_of_net(act) -> int:
    """How often the compact form of an element-wise activation writes its net input (on one branch)."""
    form = _compact_form(act)
    if getattr(act, "kink", False):
        form = active_form(form, mpmath.mpf(1))
    return max(1, repr(form).count("'net'"))


class _NoPythonForm(Exception):
    """A derivative holds a function or constant that mpmath's printer does not write as Python."""


class ComposedGradients:
    """``sympy.diff`` of the fully composed E_total by each checked parameter, evaluated at each sample's point.

    Differentiated once per network, or, with piecewise activations, once per
    pattern of active branches among the samples (``composed_error`` with ``nets``).
    ``kept`` (``shapes.Kept``) holds the derivatives between processes, compiled
    to Python: a later run of the shape evaluates them without differentiating again.
    """

    @classmethod
    def for_network(cls, network: Network, kept=None) -> ComposedGradients | None:
        """The check for a network; None where the composed error would be too large to differentiate.

        The size is estimated before anything is built, so that the check's
        cost is bounded for every activation: a network past the bound is
        checked by central differences alone.
        """
        work = composed_size(network) * len(checked_parameters(network))
        return cls(network, kept) if work <= COMPOSED_WORK else None

    def __init__(self, network: Network, kept=None) -> None:
        self.network = network
        self.kept = kept
        self.kinked = [x for layer in network.layers[1:] for x in layer
                       if getattr(activation(network.activation(x), network.slope(x)), "kink", False)]
        self.keys = tuple(p.key for p in checked_parameters(network))
        self._derivatives: dict[tuple, dict | None] = {}
        # Once a branch pattern is checked a second time (a class of variants, answer
        # sheets), its derivatives are compiled into one mpmath function of the point;
        # compiling costs about three symbolic evaluations, which a single render would
        # not get back, unless the compiled function is kept for later runs.
        self._compiled: dict[tuple, tuple] = {}
        self._uses: dict[tuple, int] = {}

    @staticmethod
    def _source(derivatives: Mapping) -> tuple[tuple[str, ...], str] | None:
        """The derivatives as the Python source of ``gradients(*point)``, for mpmath, with their shared
        subexpressions worked out once; and the keys of the point's arguments.  None where a function
        has no mpmath form."""
        import sympy
        from sympy.printing.pycode import MpmathPrinter

        free = sorted(set().union(*(d.free_symbols for d in derivatives.values())), key=str)
        # Arguments named by position, so that any key is a valid Python name.
        arguments = {symbol: f"p{i}" for i, symbol in enumerate(free)}

        class Printer(MpmathPrinter):
            def _print_Symbol(self, symbol):
                return arguments.get(symbol) or super()._print_Symbol(symbol)

        shared, reduced = sympy.cse(list(derivatives.values()), symbols=sympy.numbered_symbols("t", exclude=free),
                                    order="none")
        # Terms in the order they are held: sorting them for print is most of the printing's time.
        printer = Printer({"fully_qualified_modules": True, "order": "none", "human": False})

        def code(expr) -> str:
            constants, unsupported, text = printer.doprint(expr)
            if constants or unsupported:
                raise _NoPythonForm
            return text

        try:
            lines = [f"def gradients({', '.join(arguments.values())}):",
                     *(f"    {code(name)} = {code(value)}" for name, value in shared),
                     f"    return [{', '.join(code(e) for e in reduced)}]"]
        except _NoPythonForm:
            return None
        return tuple(s.name for s in free), "\n".join(lines) + "\n"

    @staticmethod
    def _function(source: str):
        # What mpmath's printer writes beyond mpmath: abs, min and max.
        namespace = {"mpmath": mpmath, "__builtins__": {"abs": abs, "min": min, "max": max}}
        exec(compile(source, "<gradients of the composed E_total>", "exec"), namespace)
        return namespace["gradients"]

    def _compile(self, pattern: tuple, derivatives: Mapping) -> tuple | None:
        source = self._source(derivatives)
        if source is None:
            return None
        names, text = source
        try:
            function = self._function(text)
        except SyntaxError:  # a form the printer writes that is no Python after all: sympy evaluates
            return None
        compiled = self._compiled[pattern] = (names, function, text)
        return compiled

    def _recalled(self, pattern: tuple) -> tuple | None:
        """The compiled derivatives of ``pattern`` kept by an earlier run, if any (and readable)."""
        if self.kept is None:
            return None
        text = self.kept.get(repr(pattern))
        if text is None:
            return None
        try:
            kept = json.loads(text)
            if kept["keys"] != list(self.keys):
                return None
            compiled = self._compiled[pattern] = (tuple(kept["names"]), self._function(kept["source"]), kept["source"])
        except Exception:  # noqa: BLE001 - whatever a damaged file holds, the derivatives are worked out again
            return None
        return compiled

    def _keep(self, pattern: tuple) -> None:
        if self.kept is not None and pattern in self._compiled:
            names, _, source = self._compiled[pattern]
            self.kept.put(repr(pattern), json.dumps({"keys": list(self.keys), "names": list(names), "source": source}))

    def _compiled_values(self, compiled: tuple, point: Mapping[str, mpmath.mpf]) -> dict | None:
        """Each derivative at ``point`` from the compiled function, or None where one is not a finite number
        (the symbolic evaluation then decides, as for softplus at exactly 0)."""
        names, function, _ = compiled
        try:
            values = [v if isinstance(v, mpmath.mpf) else mpmath.mpf(v) for v in function(*(point[name] for name in names))]
            finite = len(values) == len(self.keys) and all(mpmath.isfinite(v) for v in values)
        except Exception:  # noqa: BLE001 - a function read from a file: whatever it does, sympy decides
            return None
        return dict(zip(self.keys, values)) if finite else None

    def _pattern(self, nets: Mapping[str, mpmath.mpf]) -> tuple:
        """Which branch of its activation each kinked neuron is on at the net inputs ``nets``."""
        return tuple(repr(active_form(_compact_form(activation(self.network.activation(x), self.network.slope(x))),
                                      nets[x.net_key])) for x in self.kinked)

    def _for_branches(self, nets: Mapping[str, mpmath.mpf], pattern: tuple) -> dict | None:
        """The derivatives of the composed error on the branches ``nets`` select (None: past the patterns' bound)."""
        import sympy

        if pattern not in self._derivatives:
            if len(self._derivatives) >= MAX_BRANCH_PATTERNS:
                return None
            total = composed_error(self.network, nets if self.kinked else None)
            s = self.network.symbols
            # Derivative(..., evaluate=True) is sympy.diff without its dispatch over array types.
            self._derivatives[pattern] = {key: sympy.Derivative(total, s(key), evaluate=True) for key in self.keys}
        return self._derivatives[pattern]

    def check(self, point: Mapping[str, mpmath.mpf], gradient: Mapping[str, mpmath.mpf]) -> None:
        """Each gradient at ``point`` (parameters and one sample's data by key).

        The derivatives are evaluated compiled where they are compiled (the
        second check of a branch pattern, or the first when they are kept for
        later runs), else symbolically: on the active branches every composed
        expression is smooth, so 50-digit Floats evaluate it (several times
        faster than rationals).  Where the compiled function gives no number
        or disagrees, the symbolic evaluation decides, so that neither a
        numerical accident nor a damaged kept file can fail a run or pass one.
        A run whose derivatives are all kept compiled imports no SymPy.
        """
        # Only a kinked neuron's net input picks a branch.
        nets = numeric.net_inputs(self.network, point) if self.kinked else {}
        pattern = self._pattern(nets)
        compiled, recalled, fresh = self._compiled.get(pattern), False, False
        if compiled is None:
            compiled = self._recalled(pattern)
            recalled = compiled is not None
        if compiled is None:
            derivatives = self._for_branches(nets, pattern)
            if derivatives is None:
                return
            self._uses[pattern] = self._uses.get(pattern, 0) + 1
            if self._uses[pattern] > 1 or self.kept is not None:
                compiled, fresh = self._compile(pattern, derivatives), True
        stale = False
        if compiled is not None:
            values = self._compiled_values(compiled, point)
            if values is not None and self._disagreement(values, gradient) is None:
                if fresh:
                    self._keep(pattern)
                return
            # A function that disagrees, or a kept one that gives no number, is not trusted: it is made again.
            # (One made here that gives no number at this point, softplus at exactly 0, stays.)
            if values is not None or recalled:
                del self._compiled[pattern]
                stale = True
        derivatives = self._for_branches(nets, pattern)
        if derivatives is None:
            return
        import sympy

        s = self.network.symbols
        at = {s(k): sympy.Float(mpmath.nstr(v, numeric.PRECISION), numeric.PRECISION) for k, v in point.items()}
        values = {}
        for key, derivative in derivatives.items():
            value = derivative.xreplace(at)
            if not value.is_Float:  # e.g. softplus at exactly 0 leaves log(2)
                value = value.evalf(numeric.PRECISION + 10)
            values[key] = mpmath.mpf(str(value))
        self._compare(values, gradient)
        if stale and self.kept is not None:
            # The kept function the derivatives overrule is replaced by one made from them.
            self._compile(pattern, derivatives)
            self._keep(pattern)

    @staticmethod
    def _disagreement(values: Mapping[str, mpmath.mpf], gradient: Mapping[str, mpmath.mpf]) -> str | None:
        for key, got in values.items():
            expected = gradient[key]
            if disagree(got, expected, EXACT_TOLERANCE):
                return (f"dE_total/d{key}: sympy.diff of the composed E_total gives {got}, "
                        f"the derivation {expected}")
        return None

    @classmethod
    def _compare(cls, values: Mapping[str, mpmath.mpf], gradient: Mapping[str, mpmath.mpf]) -> None:
        message = cls._disagreement(values, gradient)
        if message is not None:
            raise DerivationMismatch(message)
