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

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from ..spec.reading import Spec


@dataclass(frozen=True)
class Neuron:
    name: str  # "i1", "h1", "h2_1", "o1"
    layer: int  # 0 for the inputs
    index: int  # 0-based within its layer

    @property
    def tex(self) -> str:
        """The neuron's name as a LaTeX subscript: ``h1``, ``h2,1``."""
        return self.name.replace("_", ",")

    @property
    def label(self) -> str:
        """The neuron itself in LaTeX: ``h_1``, ``h_{2,1}``, ``o_1``."""
        rest = self.name[1:].replace("_", ",")
        return f"{self.name[0]}_{_subscript(rest)}"

    @property
    def out_key(self) -> str:
        return self.name if self.layer == 0 else f"out_{self.name}"

    @property
    def net_key(self) -> str:
        return f"net_{self.name}"

    @property
    def out_tex(self) -> str:
        return self.label if self.layer == 0 else f"out_{{{self.tex}}}"

    @property
    def net_tex(self) -> str:
        return f"net_{{{self.tex}}}"


@dataclass(frozen=True)
class Parameter:
    """A weight or a bias: its key (``w5``, ``b1``), LaTeX and value as the user wrote it."""

    key: str
    tex: str
    value: Decimal

    @property
    def updated_key(self) -> str:
        return f"{self.key}+"

    @property
    def updated_tex(self) -> str:
        return f"{self.tex}^+"


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


class Network:
    """The spec's network, with every neuron, weight and bias named."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        widths = spec.layers
        self.layers: tuple[tuple[Neuron, ...], ...] = tuple(
            tuple(Neuron(neuron_name(l, j, widths), l, j) for j in range(width)) for l, width in enumerate(widths)
        )
        weights = []
        for l, matrix in enumerate(spec.weights):
            for j, row in enumerate(matrix):
                for i, value in enumerate(row):
                    number = len(weights) + 1
                    weights.append(
                        Weight(f"w{number}", f"w_{_subscript(str(number))}", value, self.layers[l][i], self.layers[l + 1][j])
                    )
        self.weights: tuple[Weight, ...] = tuple(weights)
        biases = []
        for l, values in enumerate(spec.biases, start=1):
            if spec.shared_biases[l - 1]:
                biases.append(Bias(f"b{l}", f"b_{_subscript(str(l))}", values[0], l, self.layers[l]))
            else:
                biases.extend(
                    Bias(f"b{l}_{j + 1}", f"b_{{{l},{j + 1}}}", value, l, (self.layers[l][j],))
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
