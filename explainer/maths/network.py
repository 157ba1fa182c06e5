"""The network: its neurons, weights and biases, their names, and SymPy's view of it.

Naming follows the source.  Inputs are i1, i2, …; outputs o1, o2, ….  With
one hidden layer its neurons are h1, h2, …; with several, neuron j of hidden
layer l is ``hl_j`` (h1_1, h1_2, …, h2_1, …), printed ``h_{l,j}``-style as
``out_{h2,1}``.  Weights are numbered w1, w2, … layer by layer, destination
by destination, source by source.  A bias shared by a layer is b1 (first
hidden layer), b2, …; one bias per neuron is ``bl_j``.

SymPy sees each neuron through local definitions, ``net = Σ w·out + b`` and
``out = f(net)``, with one symbol per quantity; the chain-rule factors are
``sympy.diff`` of these local definitions, so the symbolic work grows with
the number of weights, not with the size of the composed error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from ..spec.notation import Notation
from .formulas import Sym
from ..spec.reading import Spec


@dataclass(frozen=True)
class Neuron:
    name: str  # "i1", "h1", "h2_1", "o1"
    layer: int  # 0 for the inputs
    index: int  # 0-based within its layer
    # How the notation prints its quantities (``net_{h1}``, ``z^2_1``); not part of its identity.
    names: "NeuronNames | None" = field(default=None, compare=False, repr=False)

    @property
    def tex(self) -> str:
        """The neuron's name as a LaTeX subscript: ``h1``, ``h2,1``."""
        return self.name.replace("_", ",")

    @property
    def label(self) -> str:
        """The neuron itself in LaTeX: ``h_1``, ``h_{2,1}``, ``o_1``."""
        rest = self.name[1:].replace("_", ",")
        return f"{self.name[0]}_{_subscript(rest)}"

    @cached_property
    def out_key(self) -> str:
        return self.name if self.layer == 0 else f"out_{self.name}"

    @cached_property
    def net_key(self) -> str:
        return f"net_{self.name}"

    @cached_property
    def out_tex(self) -> str:
        if self.names is not None:
            return self.names.out
        return self.label if self.layer == 0 else f"out_{{{self.tex}}}"

    @cached_property
    def net_tex(self) -> str:
        return self.names.net if self.names is not None else f"net_{{{self.tex}}}"

    @cached_property
    def out_sym(self) -> Sym:
        """The neuron's output as a formula's quantity (one record, shared by every formula that holds it)."""
        return Sym(self.out_tex, self.out_key)

    @cached_property
    def net_sym(self) -> Sym:
        return Sym(self.net_tex, self.net_key)

    @property
    def signal_tex(self) -> str:
        """The neuron's error signal ∂E_total/∂net in the δ form: ``\\delta_{o1}``, ``\\delta^3_1``."""
        return self.names.signal if self.names is not None else f"\\delta_{{{self.tex}}}"

    @cached_property
    def signal_sym(self) -> Sym:
        """The neuron's error signal δ = ∂E_total/∂net, under the key ``dE_total/dnet_k``."""
        return Sym(self.signal_tex, f"dE_total/d{self.net_key}")


@dataclass(frozen=True)
class NeuronNames:
    """A neuron's quantities as a notation prints them."""

    net: str
    out: str
    signal: str
    target: str  # an output's target and its term of the error
    error: str


@dataclass(frozen=True)
class Parameter:
    """A weight or a bias: its key (``w5``, ``b1``), LaTeX and value as the user wrote it."""

    key: str
    tex: str
    value: Decimal
    # Its symbols, made the first time a formula needs them (fields, so that no instance dictionary is made).
    _sym: Sym | None = field(default=None, init=False, compare=False, repr=False)
    _updated_sym: Sym | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def updated_key(self) -> str:
        return f"{self.key}+"

    @property
    def updated_tex(self) -> str:
        # A name with a superscript of its own (w^2_{11}) is braced: a second ^ would be an error.
        return f"{{{self.tex}}}^+" if "^" in self.tex else f"{self.tex}^+"

    @property
    def sym(self) -> Sym:
        """The parameter as a formula's quantity (one record, shared by every formula that holds it)."""
        if self._sym is None:
            object.__setattr__(self, "_sym", Sym(self.tex, self.key))
        return self._sym

    @property
    def updated_sym(self) -> Sym:
        if self._updated_sym is None:
            object.__setattr__(self, "_updated_sym", Sym(self.updated_tex, self.updated_key))
        return self._updated_sym


@dataclass(frozen=True)
class Weight(Parameter):
    source: Neuron
    target: Neuron


@dataclass(frozen=True)
class Bias(Parameter):
    layer: int  # the layer whose neurons it feeds (1 for the first hidden layer)
    neurons: tuple[Neuron, ...]


def neuron_name(layer: int, index: int, widths: tuple[int, ...]) -> str:
    if layer == 0:
        return f"i{index + 1}"
    if layer == len(widths) - 1:
        return f"o{index + 1}"
    if len(widths) == 3:
        return f"h{index + 1}"
    return f"h{layer}_{index + 1}"


def _subscript(text: str) -> str:
    return text if len(text) == 1 else f"{{{text}}}"


def _braced(tex: str) -> str:
    """``tex`` braced when it has scripts of its own, so that another script can follow it."""
    return f"{{{tex}}}" if "^" in tex or "_" in tex else tex


class Naming:
    """How a notation prints each quantity of a network with ``depth`` layers (inputs included)."""

    def __init__(self, notation: Notation, depth: int) -> None:
        self.n = notation
        self.depth = depth

    @property
    def by_name(self) -> bool:
        return self.n.layers == "names"

    def layer_mark(self, layer: int) -> str:
        number = str(layer + self.n.first_layer)
        return {"l": number, "[l]": f"[{number}]", "(l)": f"({number})"}[self.n.layers]

    def indexed(self, base: str, neuron: Neuron) -> str:
        """``base`` with the neuron's layer and number (``z^2_1``), or its name (``net_{h1}``)."""
        if self.by_name:
            return f"{_braced(base)}_{{{neuron.tex}}}"
        return f"{_braced(base)}^{_subscript(self.layer_mark(neuron.layer))}_{_subscript(str(neuron.index + 1))}"

    def numbered(self, base: str, neuron: Neuron) -> str:
        """``base`` with the neuron's number only (``y_1``, ``x_2``), or its name (``target_{o1}``)."""
        if self.by_name:
            return f"{_braced(base)}_{{{neuron.tex}}}"
        return f"{_braced(base)}_{_subscript(str(neuron.index + 1))}"

    def out(self, neuron: Neuron) -> str:
        n = self.n
        if neuron.layer == 0:
            if self.by_name and n.input == "i":
                return neuron.label
            # Inputs written with the outputs' letter are the input layer's outputs (Nielsen's a^1 = x).
            return self.indexed(n.input, neuron) if n.input == n.out and not self.by_name else self.numbered(n.input, neuron)
        if neuron.layer == self.depth - 1 and n.prediction != n.out:
            return self.numbered(n.prediction, neuron)  # Bishop's y_k
        return self.indexed(n.out, neuron)

    def named(self, neuron: Neuron) -> Neuron:
        names = NeuronNames(net=self.indexed(self.n.net, neuron), out=self.out(neuron),
                            signal=self.indexed(self.n.signal, neuron), target=self.numbered(self.n.target, neuron),
                            error=self.numbered(self.n.error, neuron))
        return Neuron(neuron.name, neuron.layer, neuron.index, names)

    def target(self, neuron: Neuron) -> str:
        return self.numbered(self.n.target, neuron)

    def error(self, neuron: Neuron) -> str:
        return self.numbered(self.n.error, neuron)

    def letter(self, kind: str) -> str:
        """The bare letter of ``net``, ``out`` (of an output neuron), ``target``, for general formulas."""
        return {"net": self.n.net, "out": self.n.prediction, "target": self.n.target}[kind]

    def general(self, kind: str, index: str) -> str:
        """A quantity of any neuron ``index`` (``out_{k}``), for general formulas."""
        return f"{_braced(self.letter(kind))}_{{{index}}}"

    @property
    def words(self) -> dict[str, str]:
        """The words that name the quantities in the prose: ``net``, ``out``, ``total``, ``target``, ``signal``."""
        return {key: getattr(self.n, f"words_{key}") for key in ("net", "out", "total", "target", "signal")}

    def weight(self, number: int, source: Neuron, target: Neuron) -> str:
        if self.n.weights == "numbered":
            return f"w_{_subscript(str(number))}"
        to, frm = target.index + 1, source.index + 1
        pair = (to, frm) if self.n.weight_order == "to_from" else (frm, to)
        indices = "".join(map(str, pair)) if max(pair) < 10 else f"{pair[0]},{pair[1]}"
        return f"w^{_subscript(self.layer_mark(target.layer))}_{{{indices}}}"

    def bias(self, layer: int, index: int | None) -> str:
        if self.n.weights == "numbered":
            return f"b_{_subscript(str(layer))}" if index is None else f"b_{{{layer},{index + 1}}}"
        mark = f"b^{_subscript(self.layer_mark(layer))}"
        return mark if index is None else f"{mark}_{_subscript(str(index + 1))}"

    # The activation functions by name, for the matrix form of a notation that has no letter of its own.
    FUNCTIONS = {"sigmoid": "\\sigma", "tanh": "\\tanh", "relu": "\\mathrm{ReLU}", "leaky_relu": "\\mathrm{LReLU}",
                 "linear": "\\mathrm{id}", "softplus": "\\mathrm{softplus}", "softmax": "\\mathrm{softmax}"}

    def vector(self, kind: str, layer: int, activation: str = "sigmoid") -> str:
        """A whole layer's quantity in the matrix form: ``z^{(1)}``, ``W^{[2]}``, ``\\delta^3``, ``x``.

        A notation that names quantities by neuron (the source's) takes the
        textbooks' letters here, z, a, x, W, b, with the layer in parentheses.
        """
        n = self.n
        mark = _subscript(self.layer_mark(layer) if not self.by_name else f"({layer})")
        letters = {"net": n.net, "out": n.out} if not self.by_name else {"net": "z", "out": "a"}
        if kind == "out" and layer == 0:
            if not self.by_name and n.input == n.out:
                return f"{_braced(n.out)}^{mark}"
            return "x" if self.by_name else n.input
        if kind == "out" and layer == self.depth - 1 and n.prediction != n.out:
            return n.prediction
        if kind in letters:
            return f"{_braced(letters[kind])}^{mark}"
        if kind in ("W", "b"):
            return f"{kind}^{mark}"
        if kind == "target":
            return "y" if self.by_name else n.target
        if kind == "signal":
            return f"{_braced(n.signal)}^{mark}"
        if kind == "updated":
            return f"{{W^{mark}}}^+"
        if kind == "gradient":
            return f"\\nabla_{{{self.vector('out', layer)}}} {n.total}"
        if kind == "jacobian":
            return f"\\frac{{\\partial {self.vector('out', layer)}}}{{\\partial {self.vector('net', layer)}}}"
        template = n.derivative if n.derivative and not ("\\sigma" in n.derivative and activation != "sigmoid") else ""
        net = self.vector("net", layer)
        if kind == "derivative":
            return (template.replace("{l}", mark.strip("{}")).replace("{net}", net) if template
                    else f"{self.FUNCTIONS[activation]}'({net})")
        if kind == "activation":
            if template:
                plain = template.replace("\\prime", "").replace("'", "").replace("^{{l}}", "^{{l}}")
                return plain.replace("{l}", mark.strip("{}")).replace("{net}", net)
            return f"{self.FUNCTIONS[activation]}({net})"
        raise ValueError(f"no vector {kind!r}")

    @staticmethod
    def batch(tex: str) -> str:
        """A layer's vector as the matrix of a batch, one column a sample: its letter in capitals
        (``z^{(1)}`` → ``Z^{(1)}``, ``dz^{[2]}`` → ``dZ^{[2]}``, ``x`` → ``X``); ``tex`` itself when it has no such letter."""
        match = re.fullmatch(r"(d?)([ac-vx-z]|\\delta)((?:\^.*)?)", tex)  # not b or w: a batch shares its parameters
        if not match:
            return tex
        letter = "\\Delta" if match[2] == "\\delta" else match[2].upper()
        return f"{match[1]}{letter}{match[3]}"

    def shorthand(self, wrt: str) -> str | None:
        """The notation's short name of the gradient ∂total/∂``wrt`` (Ng's ``dW^{[2]}`` for ``W^{[2]}``), or None."""
        prefix = self.n.gradient_prefix
        return f"{prefix}{wrt}" if prefix and not wrt.startswith("{") else None

    @staticmethod
    def entry(tex: str, row: int, column: int | None = None) -> str | None:
        """Entry ``row`` (from 0) of the vector ``tex``, or (``row``, ``column``) of the matrix: ``W^{(1)}_{12}``;
        None when ``tex`` has a subscript or a prime of its own, which an index could not follow."""
        if any(mark in tex for mark in ("_", "'", "\\prime", "\\frac")) or tex.startswith("{") or "(" in tex.split("^")[0]:
            return None
        pair = (row + 1,) if column is None else (row + 1, column + 1)
        indices = "".join(map(str, pair)) if max(pair) < 10 else ",".join(map(str, pair))
        return f"{tex}_{_subscript(indices)}"

    @property
    def total(self) -> str:
        return self.n.total

    @property
    def batch_total(self) -> str:
        return self.n.batch_total or self.n.total

    def sample_total(self, s: int) -> str:
        total = self.n.total
        return f"{{{total}}}^{{({s})}}" if "^" in total else f"{total}^{{({s})}}"

    @property
    def eta(self) -> str:
        return self.n.learning_rate


class Network:
    """The spec's network, with every neuron, weight and bias named."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.notation: Notation = spec.notation
        widths = spec.layers
        naming = Naming(spec.notation, len(widths))
        self.naming = naming
        self.layers: tuple[tuple[Neuron, ...], ...] = tuple(
            tuple(naming.named(Neuron(neuron_name(l, j, widths), l, j)) for j in range(width))
            for l, width in enumerate(widths)
        )
        weights = []
        for l, matrix in enumerate(spec.weights):
            for j, row in enumerate(matrix):
                for i, value in enumerate(row):
                    number = len(weights) + 1
                    source, target = self.layers[l][i], self.layers[l + 1][j]
                    weights.append(Weight(f"w{number}", naming.weight(number, source, target), value, source, target))
        self.weights: tuple[Weight, ...] = tuple(weights)
        biases = []
        for l, values in enumerate(spec.biases, start=1):
            if spec.shared_biases[l - 1]:
                biases.append(Bias(f"b{l}", naming.bias(l, None), values[0], l, self.layers[l]))
            else:
                biases.extend(
                    Bias(f"b{l}_{j + 1}", naming.bias(l, j), value, l, (self.layers[l][j],))
                    for j, value in enumerate(values)
                )
        self.biases: tuple[Bias, ...] = tuple(biases)
        # One pass over the weights (not one per neuron): the network's set-up grows with its weights.
        incoming = {n: [] for layer in self.layers for n in layer}
        outgoing = {n: [] for layer in self.layers for n in layer}
        into_layer = {l: [] for l in range(len(self.layers))}
        for w in self.weights:
            incoming[w.target].append(w)
            outgoing[w.source].append(w)
            into_layer[w.target.layer].append(w)
        self._incoming = {n: tuple(ws) for n, ws in incoming.items()}
        # Weights are numbered destination by destination, so a neuron's outgoing
        # weights come in destination order already.
        self._outgoing = {n: tuple(ws) for n, ws in outgoing.items()}
        self._into_layer = {l: tuple(ws) for l, ws in into_layer.items()}
        self._between = {(w.source, w.target): w for w in self.weights}
        self._weights_by_key = {w.key: w for w in self.weights}
        self._bias = {n: b for b in self.biases for n in b.neurons}
        self._by_name = {n.name: n for layer in self.layers for n in layer}
        self._net_terms: dict[Neuron, dict[str, object]] = {}

    @property
    def inputs(self) -> tuple[Neuron, ...]:
        return self.layers[0]

    @property
    def outputs(self) -> tuple[Neuron, ...]:
        return self.layers[-1]

    @property
    def hidden_layers(self) -> tuple[tuple[Neuron, ...], ...]:
        return self.layers[1:-1]

    def neuron(self, name: str) -> Neuron:
        return self._by_name[name]

    def incoming(self, neuron: Neuron) -> tuple[Weight, ...]:
        """The weights into ``neuron``, in source order."""
        return self._incoming[neuron]

    def outgoing(self, neuron: Neuron) -> tuple[Weight, ...]:
        """The weights out of ``neuron``, in destination order."""
        return self._outgoing[neuron]

    def bias(self, neuron: Neuron) -> Bias:
        return self._bias[neuron]

    def activation(self, neuron: Neuron) -> str:
        return self.spec.activations[neuron.layer - 1]

    def slope(self, neuron: Neuron):
        """leaky_relu's slope for a negative net input (as written), or None."""
        return self.spec.slopes[neuron.layer - 1]

    def trained_parameters(self) -> tuple[Parameter, ...]:
        """The parameters gradient descent changes: the weights, and the biases when they are trained."""
        return (*self.weights, *self.biases) if self.spec.train_biases else self.weights

    def weights_into_layer(self, layer: int) -> tuple[Weight, ...]:
        return self._into_layer.get(layer, ())

    def weight(self, key: str) -> Weight | None:
        """The weight ``key`` names (``w5``), or None."""
        return self._weights_by_key.get(key)

    def weight_between(self, source: Neuron, target: Neuron) -> Weight:
        """The weight from ``source`` to ``target`` (neurons of adjacent layers)."""
        return self._between[source, target]

    def parameter_values(self, sample: int = 0) -> dict[str, Decimal]:
        """Every parameter and datum by key: weights, biases, a sample's inputs and targets, η."""
        values = {p.key: p.value for p in (*self.weights, *self.biases)}
        values.update(self.sample_values(sample))
        values["eta"] = self.spec.learning_rate
        return values

    def shared_values(self) -> dict[str, Decimal]:
        """The values every sample shares: weights, biases and η, by key."""
        values = {p.key: p.value for p in (*self.weights, *self.biases)}
        values["eta"] = self.spec.learning_rate
        return values

    def sample_values(self, sample: int, convert=lambda value: value) -> dict:
        """One sample's inputs (``i1``, …) and targets (``target_o1``, …), each passed through ``convert``."""
        data = self.spec.samples[sample]
        values = {n.out_key: convert(v) for n, v in zip(self.inputs, data.inputs)}
        values.update({f"target_{n.name}": convert(v) for n, v in zip(self.outputs, data.targets)})
        return values

    @cached_property
    def symbols(self):
        """One SymPy symbol per quantity key, created on demand.

        Every quantity is a real number; saying so lets SymPy settle its
        assumption queries (is this term zero? positive?) without a search.
        """
        import sympy

        cache: dict[str, object] = {}

        def symbol(key: str):
            if key not in cache:
                cache[key] = sympy.Symbol(key, real=True)
            return cache[key]

        return symbol

    def net_terms(self, neuron: Neuron) -> dict[str, object]:
        """SymPy: the terms of ``net = Σ w · out + b · 1``, by the key of the weight or bias in each."""
        if neuron not in self._net_terms:
            self._net_terms[neuron] = self._build_net_terms(neuron)
        return self._net_terms[neuron]

    def _build_net_terms(self, neuron: Neuron) -> dict[str, object]:
        s = self.symbols
        terms = {w.key: s(w.key) * s(w.source.out_key) for w in self.incoming(neuron)}
        terms[self.bias(neuron).key] = s(self.bias(neuron).key)
        return terms

    def net_definition(self, neuron: Neuron):
        """SymPy: ``net = Σ w · out + b · 1`` with one symbol per quantity."""
        import sympy

        return sympy.Add(*self.net_terms(neuron).values())
