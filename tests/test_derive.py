"""The derivation's numbers agree with computations written independently here.

The reference in this file is deliberately plain: a forward pass in mpmath at
50 digits, gradients as central differences of E_total, and a training loop in
pure-Python floats.  It shares no code with ``explainer.maths.numeric``.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import random
from dataclasses import dataclass
from unittest import mock

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import explainer
import explainer.maths.functions as functions
import explainer.maths.numeric as numeric
from explainer.spec.errors import DerivationMismatch
from explainer.maths.formulas import Add, Mul, Num, Paren

# The module that derives (the public ``explainer.derive`` adds the documents to its result).
derivation_module = importlib.import_module("explainer.maths.derivation")

DIGITS = 50
STEP = mpmath.mpf("1e-20")  # central-difference step: O(h²) = 1e-40, rounding 1e-30


# --- The network, as the tests describe it ---------------------------------------


@dataclass(frozen=True)
class Net:
    """A network and its one training sample, in the shape of the spec's fields.

    ``weights[l][j][i]`` joins neuron i of layer l to neuron j of layer l+1;
    ``biases[l]`` is one number shared by layer l+1 or a list, one per neuron.
    """

    layers: tuple
    weights: list
    biases: list
    inputs: list
    targets: list
    learning_rate: float = 0.5
    update: str = "simultaneous"

    def spec(self, iterations: int = 1) -> dict:
        return {
            "network": {"layers": list(self.layers), "weights": self.weights, "biases": self.biases},
            "data": {"inputs": self.inputs, "targets": self.targets},
            "training": {"learning_rate": self.learning_rate, "update": self.update, "iterations": iterations},
        }

    def bias(self, layer: int, j: int):
        """The bias of neuron j of non-input layer ``layer`` (1 = first hidden)."""
        b = self.biases[layer - 1]
        return b[j] if isinstance(b, list) else b


SOURCE_NET = Net(
    layers=(2, 2, 2),
    weights=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    biases=[0.35, 0.60],
    inputs=[0.05, 0.10],
    targets=[0.01, 0.99],
)


def two_decimals(r: random.Random, low: float = -1.0, high: float = 1.0) -> float:
    return round(r.uniform(low, high), 2)


def random_net(layers, per_neuron_biases: bool, seed: int, update: str = "simultaneous") -> Net:
    r = random.Random(seed)
    weights = [[[two_decimals(r) for _ in range(layers[l])] for _ in range(layers[l + 1])]
               for l in range(len(layers) - 1)]
    biases = [[two_decimals(r) for _ in range(width)] if per_neuron_biases else two_decimals(r)
              for width in layers[1:]]
    return Net(tuple(layers), weights, biases,
               inputs=[two_decimals(r, 0, 1) for _ in range(layers[0])],
               targets=[two_decimals(r, 0, 1) for _ in range(layers[-1])],
               update=update)


# --- Names, as DESIGN.md and explainer.maths.network document them ---------------------


def neuron_name(layers, layer: int, j: int) -> str:
    if layer == 0:
        return f"i{j + 1}"
    if layer == len(layers) - 1:
        return f"o{j + 1}"
    if len(layers) == 3:
        return f"h{j + 1}"
    return f"h{layer}_{j + 1}"


def weight_positions(layers):
    """(key, l, j, i) for every weight, numbered layer by layer, destination by destination."""
    positions = []
    for l in range(len(layers) - 1):
        for j in range(layers[l + 1]):
            for i in range(layers[l]):
                positions.append((f"w{len(positions) + 1}", l, j, i))
    return positions


# --- The reference: a forward pass and central differences in mpmath -------------


def mp(x) -> mpmath.mpf:
    # repr() is the decimal the spec was written with, as the package reads it.
    return mpmath.mpf(repr(x)) if isinstance(x, float) else mpmath.mpf(x)


def mp_weights(net: Net):
    return [[[mp(w) for w in row] for row in matrix] for matrix in net.weights]


def sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def forward(net: Net, weights=None, shift=None):
    """[(nets, outs)] of every layer (the inputs' nets are None).

    ``shift = (what, layer, j, h)`` adds h to the net input or the output of one neuron.
    """
    weights = weights or mp_weights(net)
    outs = [mp(x) for x in net.inputs]
    if shift and shift[:2] == ("out", 0):
        outs[shift[2]] += shift[3]
    result = [(None, outs)]
    for l, matrix in enumerate(weights, start=1):
        nets = [mpmath.fsum(w * x for w, x in zip(row, outs)) + mp(net.bias(l, j)) for j, row in enumerate(matrix)]
        if shift and shift[:2] == ("net", l):
            nets[shift[2]] += shift[3]
        outs = [sigmoid(n) for n in nets]
        if shift and shift[:2] == ("out", l):
            outs[shift[2]] += shift[3]
        result.append((nets, outs))
    return result


def output_errors(net: Net, outs):
    return [(mp(t) - o) ** 2 / 2 for t, o in zip(net.targets, outs)]


def total_error(net: Net, weights=None, shift=None):
    return mpmath.fsum(output_errors(net, forward(net, weights, shift)[-1][1]))


def central_difference(f):
    return (f(STEP) - f(-STEP)) / (2 * STEP)


def moved_weights(net: Net, position, h):
    """The weights of ``net`` with ``h`` added to weights[l][j][i], position = (l, j, i)."""
    l, j, i = position
    weights = mp_weights(net)
    weights[l][j][i] += h
    return weights


def reference_gradients(net: Net) -> dict:
    """dE_total/dwK for every weight, by central differences at 50 digits."""
    with mpmath.workdps(DIGITS):
        return {key: central_difference(lambda h, at=(l, j, i): total_error(net, moved_weights(net, at, h)))
                for key, l, j, i in weight_positions(net.layers)}


def reference_neuron_derivative(net: Net, what: str, layer: int, j: int):
    """dE_total/d(net or out) of one neuron, by a central difference."""
    with mpmath.workdps(DIGITS):
        return central_difference(lambda h: total_error(net, shift=(what, layer, j, h)))


def reference_forward_values(net: Net) -> dict:
    """net_*, out_*, E_o*, E_total by key."""
    values = {}
    with mpmath.workdps(DIGITS):
        layers = forward(net)
        for l, (nets, outs) in enumerate(layers[1:], start=1):
            for j, (n, o) in enumerate(zip(nets, outs)):
                name = neuron_name(net.layers, l, j)
                values[f"net_{name}"], values[f"out_{name}"] = n, o
        errors = output_errors(net, layers[-1][1])
        values.update({f"E_o{k + 1}": e for k, e in enumerate(errors)})
        values["E_total"] = mpmath.fsum(errors)
    return values


def assert_close(got, expected, rel, what: str = "", floor=mpmath.mpf("1e-30")) -> None:
    with mpmath.workdps(DIGITS):
        difference = abs(mpmath.mpf(got) - mpmath.mpf(expected))
        assert difference <= rel * abs(expected) + floor, f"{what}: {got} != {expected}"


# --- The reference training loop: pure-Python floats (or mpmath for one exact round)


def logistic(x, exp=math.exp):
    """The sigmoid, written so that exp never overflows (|net| > 709 is fine)."""
    return 1 / (1 + exp(-x)) if x >= 0 else exp(x) / (1 + exp(x))


def train(net: Net, rounds: int, number=float, exp=math.exp):
    """(E_total, outputs, weights) after ``rounds`` rounds of gradient descent.

    ``sequential`` passes each layer's error signal down through the weights of
    that layer already updated; ``simultaneous`` through the weights before the round.
    """
    weights = [[[number(w) for w in row] for row in matrix] for matrix in net.weights]
    biases = [[number(net.bias(l, j)) for j in range(width)] for l, width in enumerate(net.layers[1:], start=1)]
    rate = number(net.learning_rate)
    targets = [number(t) for t in net.targets]

    def outputs_of_every_layer():
        outs = [[number(x) for x in net.inputs]]
        for matrix, bias in zip(weights, biases):
            outs.append([logistic(sum(w * x for w, x in zip(row, outs[-1])) + b, exp)
                         for row, b in zip(matrix, bias)])
        return outs

    for _ in range(rounds):
        outs = outputs_of_every_layer()
        delta = [(o - t) * o * (1 - o) for o, t in zip(outs[-1], targets)]
        for l in range(len(weights) - 1, -1, -1):
            gradient = [[d * x for x in outs[l]] for d in delta]

            def passed_down(l=l, delta=delta):
                return [sum(weights[l][j][i] * delta[j] for j in range(len(delta))) * o * (1 - o)
                        for i, o in enumerate(outs[l])]

            below = passed_down() if l and net.update == "simultaneous" else None
            for row, row_gradient in zip(weights[l], gradient):
                for i, g in enumerate(row_gradient):
                    row[i] -= rate * g
            if l:
                delta = below if below is not None else passed_down()

    outs = outputs_of_every_layer()[-1]
    error = sum((t - o) ** 2 / 2 for t, o in zip(targets, outs))
    return error, outs, weights


# --- Deriving ---------------------------------------------------------------------


def derive(net: Net, iterations: int = 1, symbolic_check: bool = True):
    """The package's derivation of ``net``.

    ``symbolic_check=False`` skips the package's own sympy.diff of the fully
    composed E_total, which can cost seconds for deep networks, for the
    property test that derives many of them; it brings its own reference.
    """
    if symbolic_check:
        return explainer.derive(net.spec(iterations))
    with mock.patch.object(derivation_module, "SMALL_NETWORK", 0):
        return explainer.derive(net.spec(iterations))


RANDOM_NETS = [
    pytest.param((layers, per_neuron, seed), id=f"{'-'.join(map(str, layers))}-{'per-neuron' if per_neuron else 'shared'}-{seed}")
    for layers, seeds in (((2, 3, 2), (1, 2)), ((3, 2, 2, 1), (3, 4)), ((2, 2, 3, 2, 2), (5,)), ((3, 6, 6, 3), (6,)))
    for per_neuron in (False, True)
    for seed in seeds
]


@pytest.fixture(scope="module", params=RANDOM_NETS)
def random_case(request):
    """(net, derivation) for one random network."""
    layers, per_neuron, seed = request.param
    net = random_net(layers, per_neuron, seed)
    return net, derive(net)


@pytest.fixture(scope="module")
def source_derivation():
    return explainer.derive(dataclasses.replace(explainer.load_spec(), iterations=1))


@pytest.fixture(scope="module")
def source_sequential():
    return explainer.derive(dataclasses.replace(explainer.load_spec(), iterations=1, update="sequential"))


# --- Gradients of random networks ----------------------------------------------------


def test_weights_are_numbered_as_documented(random_case):
    net, d = random_case
    expected = [(key, net.weights[l][j][i], neuron_name(net.layers, l, i), neuron_name(net.layers, l + 1, j))
                for key, l, j, i in weight_positions(net.layers)]
    got = [(w.key, float(w.value), w.source.name, w.target.name) for w in d.network.weights]
    assert got == expected


def test_gradients_of_random_networks(random_case):
    net, d = random_case
    for key, expected in reference_gradients(net).items():
        assert_close(d.values[f"dE_total/d{key}"], expected, mpmath.mpf("1e-20"), key)


def test_updated_weights_of_random_networks(random_case):
    net, d = random_case
    with mpmath.workdps(DIGITS):
        for key, l, j, i in weight_positions(net.layers):
            expected = mp(net.weights[l][j][i]) - mp(net.learning_rate) * d.values[f"dE_total/d{key}"]
            assert_close(d.values[f"{key}+"], expected, mpmath.mpf("1e-45"), key)


def test_forward_values_of_random_networks(random_case):
    net, d = random_case
    for key, expected in reference_forward_values(net).items():
        assert_close(d.values[key], expected, mpmath.mpf("1e-40"), key)


def test_error_signals_of_random_networks(random_case):
    """dE_total/dout of every hidden neuron and dE_total/dnet where the derivation shows it."""
    net, d = random_case
    checked = 0
    for layer in range(1, len(net.layers)):
        for j in range(net.layers[layer]):
            name = neuron_name(net.layers, layer, j)
            for what, key in (("out", f"dE_total/dout_{name}"), ("net", f"dE_total/dnet_{name}"),
                              ("net", f"dE_{name}/dnet_{name}")):
                if key in d.values:
                    expected = reference_neuron_derivative(net, what, layer, j)
                    assert_close(d.values[key], expected, mpmath.mpf("1e-20"), key)
                    checked += 1
    hidden = sum(net.layers[1:-1])
    assert checked >= hidden + net.layers[-1]  # every hidden dE_total/dout and every output's


def test_local_factors_of_random_networks(random_case):
    net, d = random_case
    with mpmath.workdps(DIGITS):
        layers = forward(net)
        for l in range(1, len(net.layers)):
            for j, out in enumerate(layers[l][1]):
                name = neuron_name(net.layers, l, j)
                assert_close(d.values[f"dout_{name}/dnet_{name}"], out * (1 - out), mpmath.mpf("1e-40"), name)
        for key, l, j, i in weight_positions(net.layers):
            target = neuron_name(net.layers, l + 1, j)
            assert_close(d.values[f"dnet_{target}/d{key}"], layers[l][1][i], mpmath.mpf("1e-40"), key)


# --- A property: any small network -------------------------------------------------

HUNDREDTHS = st.integers(-100, 100).map(lambda k: k / 100)
UNIT_HUNDREDTHS = st.integers(0, 100).map(lambda k: k / 100)


@st.composite
def nets(draw) -> Net:
    layers = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    weights = [[[draw(HUNDREDTHS) for _ in range(layers[l])] for _ in range(layers[l + 1])]
               for l in range(len(layers) - 1)]
    biases = [draw(st.one_of(HUNDREDTHS, st.lists(HUNDREDTHS, min_size=width, max_size=width)))
              for width in layers[1:]]
    return Net(tuple(layers), weights, biases,
               inputs=[draw(UNIT_HUNDREDTHS) for _ in range(layers[0])],
               targets=[draw(UNIT_HUNDREDTHS) for _ in range(layers[-1])],
               learning_rate=draw(st.sampled_from([0.1, 0.5, 1.0, 2.5])))


@settings(max_examples=25, deadline=None)
@given(net=nets())
def test_gradient_is_the_central_difference_of_E_total(net):
    d = derive(net, symbolic_check=False)
    with mpmath.workdps(DIGITS):
        for key, l, j, i in weight_positions(net.layers):
            gradient = d.values[f"dE_total/d{key}"]
            difference = central_difference(lambda h: total_error(net, moved_weights(net, (l, j, i), h)))
            assert_close(gradient, difference, mpmath.mpf("1e-8"), key, floor=mpmath.mpf("1e-25"))
            assert_close(d.values[f"{key}+"], mp(net.weights[l][j][i]) - mp(net.learning_rate) * gradient,
                         mpmath.mpf("1e-45"), f"{key}+")


# --- The source's network: SymPy, and the sequential update ------------------------


def test_source_gradients_equal_sympy_diff_of_the_composed_error(source_derivation):
    network = source_derivation.network
    s = network.symbols
    total = derivation_module.composed_error(network)
    exact = sympy.Rational
    at = {s(w.key): exact(str(w.value)) for w in network.weights}
    at |= {s(b.key): exact(str(b.value)) for b in network.biases}
    at |= {s(f"i{k + 1}"): exact(repr(x)) for k, x in enumerate(SOURCE_NET.inputs)}
    at |= {s(f"target_o{k + 1}"): exact(repr(t)) for k, t in enumerate(SOURCE_NET.targets)}
    assert total.free_symbols <= set(at)
    for w in network.weights:
        with mpmath.workdps(DIGITS):
            expected = mpmath.mpf(str(sympy.diff(total, s(w.key)).subs(at).evalf(60)))
        assert_close(source_derivation.values[f"dE_total/d{w.key}"], expected, mpmath.mpf("1e-45"), w.key)


def test_source_gradients_equal_the_central_differences(source_derivation):
    for key, expected in reference_gradients(SOURCE_NET).items():
        assert_close(source_derivation.values[f"dE_total/d{key}"], expected, mpmath.mpf("1e-20"), key)


def test_source_forward_values(source_derivation):
    for key, expected in reference_forward_values(SOURCE_NET).items():
        assert_close(source_derivation.values[key], expected, mpmath.mpf("1e-40"), key)


OUTPUT_LAYER_KEYS = [f"{prefix}{k}" for k in (5, 6, 7, 8) for prefix in ("dE_total/dw", "w")] + [
    "dE_total/dout_o1", "dE_total/dout_o2", "dout_o1/dnet_o1", "dout_o2/dnet_o2",
    "dE_o1/dnet_o1", "dE_o2/dnet_o2",
]


@pytest.mark.parametrize("key", [k if not k.startswith("w") else k + "+" for k in OUTPUT_LAYER_KEYS])
def test_sequential_leaves_the_output_layer_alone(source_derivation, source_sequential, key):
    assert source_sequential.values[key] == source_derivation.values[key]


def test_sequential_hidden_gradients_use_the_updated_output_weights(source_derivation, source_sequential):
    net = SOURCE_NET
    gradients = reference_gradients(net)
    with mpmath.workdps(DIGITS):
        hidden_outs = forward(net)[1][1]
        # dE/dnet_o, and the output weights after the update: w5+ … w8+ (weights[1][o][h]).
        signals = [reference_neuron_derivative(net, "net", 2, o) for o in range(2)]
        updated = [[mp(w) - mp(net.learning_rate) * gradients[f"w{5 + 2 * o + h}"] for h, w in enumerate(row)]
                   for o, row in enumerate(net.weights[1])]
        for h, out in enumerate(hidden_outs):
            name = f"h{h + 1}"
            assert source_sequential.values[f"dnet_o1/dout_{name}"] == source_derivation.values[f"w{5 + h}+"]
            dE_dout = signals[0] * updated[0][h] + signals[1] * updated[1][h]
            assert_close(source_sequential.values[f"dE_total/dout_{name}"], dE_dout, mpmath.mpf("1e-20"), name)
            for i, x in enumerate(net.inputs):
                key = f"dE_total/dw{1 + 2 * h + i}"
                expected = dE_dout * out * (1 - out) * mp(x)
                assert_close(source_sequential.values[key], expected, mpmath.mpf("1e-20"), key)
                # The simultaneous gradient is the true one, so the two must differ.
                assert_close(source_derivation.values[key], gradients[key.rpartition("d")[2]], mpmath.mpf("1e-20"), key)
                assert abs(source_sequential.values[key] - source_derivation.values[key]) > mpmath.mpf("1e-6")


@pytest.mark.parametrize("layers", [(2, 3, 2), (3, 2, 2, 1), (2, 2, 3, 2)])
@pytest.mark.parametrize("update", ["simultaneous", "sequential"])
def test_updated_weights_equal_one_round_of_the_reference(layers, update):
    """w+ of every weight, in both modes, against one round of the reference loop at 50 digits."""
    net = random_net(layers, per_neuron_biases=True, seed=7, update=update)
    d = derive(net)
    with mpmath.workdps(DIGITS):
        _, _, weights = train(net, 1, number=mp, exp=mpmath.exp)
        for key, l, j, i in weight_positions(layers):
            assert_close(d.values[f"{key}+"], weights[l][j][i], mpmath.mpf("1e-40"), key)


# --- The training loop ---------------------------------------------------------------

TRAINING_NETS = [
    pytest.param(SOURCE_NET, id="source"),
    pytest.param(random_net((2, 3, 2, 2), per_neuron_biases=True, seed=11), id="2-3-2-2"),
    pytest.param(random_net((3, 6, 6, 3), per_neuron_biases=True, seed=13), id="3-6-6-3"),
    # 474 weights: the package trains small networks and large ones with different
    # loops (400 weights is the limit as this is written), so both are exercised.
    pytest.param(random_net((3, 20, 18, 3), per_neuron_biases=True, seed=17), id="3-20-18-3"),
]


@pytest.mark.parametrize("update", ["simultaneous", "sequential"])
@pytest.mark.parametrize("net", TRAINING_NETS)
def test_error_after_one_round(net, update):
    net = dataclasses.replace(net, update=update)
    error, outs, _ = train(net, 1)
    d = derive(net, iterations=1)
    assert float(d.values["E_total@1"]) == pytest.approx(error, abs=1e-12)
    assert [float(d.values[f"out_o{k + 1}@1"]) for k in range(len(outs))] == pytest.approx(outs, abs=1e-12)


@pytest.mark.parametrize("update", ["simultaneous", "sequential"])
@pytest.mark.parametrize("net", TRAINING_NETS)
def test_error_after_100_rounds(net, update):
    net = dataclasses.replace(net, update=update)
    error, outs, weights = train(net, 100)
    values = derive(net, iterations=100).float_values()
    assert values["E_total@100"] == pytest.approx(error, abs=1e-12)
    assert [values[f"out_o{k + 1}@100"] for k in range(len(outs))] == pytest.approx(outs, abs=1e-12)
    for key, l, j, i in weight_positions(net.layers):
        assert values[f"{key}@100"] == pytest.approx(weights[l][j][i], abs=1e-12)


def test_training_survives_a_saturated_sigmoid():
    # net = -1000: the sigmoid is 0 to double precision, but e^1000 overflows a float.
    net = Net(layers=(1, 1, 1), weights=[[[-1000.0]], [[1.0]]], biases=[0.0, 0.3], inputs=[1.0], targets=[0.2])
    error, _, _ = train(net, 2)
    values = derive(net, iterations=2).float_values()
    assert values["E_total@2"] == pytest.approx(error, abs=1e-12)


def test_no_training_keys_without_iterations():
    values = derive(SOURCE_NET, iterations=0).values
    assert not any("@" in key for key in values)


# --- A wrong printed derivative fails loudly -----------------------------------------


def wrong_sigmoid_derivative(out, net):
    """out(1 + out): printed like the true out(1 - out), but wrong."""
    return Mul((out, Paren(Add((Num("1"), out)))), juxtapose=True)


@pytest.fixture
def wrong_sigmoid(monkeypatch):
    """``sigmoid`` with a wrong printed derivative, every cache of the right one cleared around it."""
    caches = (functions.check_derivatives, numeric.activation_function, numeric.activation_derivative)

    def clear():
        for cache in caches:
            cache.cache_clear()

    clear()
    wrong = dataclasses.replace(functions.ACTIVATIONS["sigmoid"], derivative=wrong_sigmoid_derivative)
    monkeypatch.setitem(functions.ACTIVATIONS, "sigmoid", wrong)
    yield
    monkeypatch.undo()
    clear()


def test_a_wrong_printed_derivative_is_refused(wrong_sigmoid):
    with pytest.raises(DerivationMismatch):
        derive(SOURCE_NET)


def test_a_wrong_derivative_fails_the_gradient_check_at_run_time(wrong_sigmoid):
    # The sympy proof of the printed derivatives is made by the test suite
    # (tests/test_functions.py); at run time the central-difference check of
    # the gradients must catch the wrong numbers.
    with pytest.raises(DerivationMismatch, match="central difference|composed"):
        derive(SOURCE_NET)


def test_the_right_derivative_is_accepted_again_afterwards():
    assert float(derive(SOURCE_NET).values["dout_h1/dnet_h1"]) == pytest.approx(0.241300709, abs=1e-9)


def test_explainer_derive_stays_the_function():
    # Importing the module behind explainer.derive must not replace the function
    # on the package (a submodule named like the function would).
    importlib.import_module(explainer.derive.__module__)
    assert callable(explainer.derive)
    assert explainer.derive(SOURCE_NET.spec()).values["net_h1"] == derivation_module.derive(SOURCE_NET.spec()).values["net_h1"]
