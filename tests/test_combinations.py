"""Every gradient of every combination agrees with references written independently here.

Activation × loss × bias mode × batch mode × depth: the derivation's
gradients are compared with central differences of a plain mpmath forward
pass (written here, sharing no code with the package) and with
``sympy.diff`` of the composed error (``composed_error``, per sample, then
combined); the float training loops are compared with each other and with
the exact first round.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

import mpmath
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import explainer
from explainer.maths import numpy_training, scalar_training
from explainer.maths.derivation import composed_error
from explainer.maths.network import Network

DIGITS = 50
STEP = mpmath.mpf("1e-20")


# --- the network, as the tests describe it ------------------------------------------


@dataclass(frozen=True)
class Case:
    layers: tuple
    activations: tuple
    loss: str
    weights: list
    biases: list
    samples: list  # [(inputs, targets)]
    train_biases: bool = False
    mode: str = "batch"
    reduction: str = "mean"
    slope: float = 0.1
    learning_rate: float = 0.5
    update: str = "simultaneous"
    extra: dict = field(default_factory=dict)

    def spec(self, iterations: int = 1) -> dict:
        activation = [{"name": a, "slope": self.slope} if a == "leaky_relu" else a for a in self.activations]
        return {
            "network": {"layers": list(self.layers), "activation": activation, "loss": self.loss,
                        "weights": self.weights, "biases": self.biases},
            "data": {"inputs": [list(x) for x, _ in self.samples], "targets": [list(t) for _, t in self.samples]}
            if len(self.samples) > 1 else {"inputs": list(self.samples[0][0]), "targets": list(self.samples[0][1])},
            "training": {"learning_rate": self.learning_rate, "update": self.update, "iterations": iterations,
                         "train_biases": self.train_biases, "mode": self.mode, "reduction": self.reduction},
        }

    def parameters(self):
        """(key, getter path) of every trained parameter, in the package's numbering."""
        keys = []
        for l in range(len(self.layers) - 1):
            for j in range(self.layers[l + 1]):
                for i in range(self.layers[l]):
                    keys.append((f"w{len(keys) + 1}", ("w", l, j, i)))
        if self.train_biases:
            for l, b in enumerate(self.biases, start=1):
                if isinstance(b, list):
                    keys += [(f"b{l}_{j + 1}", ("b", l - 1, j)) for j in range(len(b))]
                else:
                    keys.append((f"b{l}", ("b", l - 1, None)))
        return keys


def mp(x):
    return mpmath.mpf(repr(x)) if isinstance(x, float) else mpmath.mpf(x)


# --- the reference: a plain forward pass at 50 digits ------------------------------------

ACT = {
    "sigmoid": lambda x, a: 1 / (1 + mpmath.exp(-x)),
    "tanh": lambda x, a: mpmath.tanh(x),
    "relu": lambda x, a: x if x > 0 else mpmath.mpf(0),
    "leaky_relu": lambda x, a: x if x > 0 else a * x,
    "linear": lambda x, a: x,
    "softplus": lambda x, a: mpmath.log(1 + mpmath.exp(x)),
}


def layer(name, nets, slope):
    if name == "softmax":
        exps = [mpmath.exp(n) for n in nets]
        return [e / mpmath.fsum(exps) for e in exps]
    return [ACT[name](n, slope) for n in nets]


def loss(name, targets, outs):
    n = len(outs)
    terms = {
        "half_squared_error": lambda t, o: (t - o) ** 2 / 2,
        "squared_error": lambda t, o: (t - o) ** 2,
        "mean_squared_error": lambda t, o: (t - o) ** 2 / n,
        "binary_cross_entropy": lambda t, o: -(t * mpmath.log(o) + (1 - t) * mpmath.log(1 - o)),
        "cross_entropy": lambda t, o: -t * mpmath.log(o),
    }[name]
    return mpmath.fsum(terms(t, o) for t, o in zip(targets, outs))


def forward(case: Case, weights, biases, inputs):
    outs, nets_of = [mp(x) for x in inputs], []
    for l, matrix in enumerate(weights):
        b = biases[l]
        nets = [mpmath.fsum(w * x for w, x in zip(row, outs)) + (b[j] if isinstance(b, list) else b)
                for j, row in enumerate(matrix)]
        nets_of.append(nets)
        outs = layer(case.activations[l], nets, mp(case.slope))
    return outs, nets_of


def batch_error(case: Case, weights, biases):
    errors = [loss(case.loss, [mp(t) for t in targets], forward(case, weights, biases, inputs)[0])
              for inputs, targets in case.samples]
    total = mpmath.fsum(errors)
    return total / len(errors) if case.reduction == "mean" else total


def exact_parameters(case: Case):
    weights = [[[mp(w) for w in row] for row in m] for m in case.weights]
    biases = [[mp(x) for x in b] if isinstance(b, list) else mp(b) for b in case.biases]
    return weights, biases


def moved(case: Case, path, h):
    weights, biases = exact_parameters(case)
    if path[0] == "w":
        _, l, j, i = path
        weights[l][j][i] += h
    else:
        _, l, j = path
        if j is None:
            biases[l] += h
        else:
            biases[l][j] += h
    return weights, biases


def reference_gradients(case: Case) -> dict:
    with mpmath.workdps(DIGITS):
        return {key: (batch_error(case, *moved(case, path, STEP)) - batch_error(case, *moved(case, path, -STEP))) / (2 * STEP)
                for key, path in case.parameters()}


def near_a_kink(case: Case) -> bool:
    """Whether a ReLU's net input sits within the step of a central difference of its kink."""
    with mpmath.workdps(DIGITS):
        weights, biases = exact_parameters(case)
        for inputs, _ in case.samples:
            _, nets_of = forward(case, weights, biases, inputs)
            for name, nets in zip(case.activations, nets_of):
                if name in ("relu", "leaky_relu") and any(abs(n) < mpmath.mpf("1e-10") for n in nets):
                    return True
    return False


def sympy_gradients(case: Case, derivation) -> dict:
    """sympy.diff of the composed error of each sample at exact rationals, combined as the spec says."""
    network = derivation.network
    s = network.symbols
    total = composed_error(network)
    # A ReLU's kink must be decided on exact rationals; elsewhere 60-digit Floats are as good and far faster.
    exact = any(a in ("relu", "leaky_relu") for a in case.activations)
    number = sympy.Rational if exact else (lambda text: sympy.Float(text, DIGITS + 10))
    gradients = {}
    for key, _ in case.parameters():
        derivative = sympy.diff(total, s(key))
        per_sample = []
        for index in range(len(case.samples)):
            at = {s(k): number(str(v)) for k, v in network.parameter_values(index).items()}
            per_sample.append(str(derivative.xreplace(at).evalf(DIGITS + 10)))
        with mpmath.workdps(DIGITS):
            total_of = mpmath.fsum(mpmath.mpf(x) for x in per_sample)
            gradients[key] = total_of / len(per_sample) if case.reduction == "mean" else total_of
    return gradients


def assert_close(got, expected, rel, what=""):
    with mpmath.workdps(DIGITS):
        assert abs(mpmath.mpf(got) - expected) <= rel * abs(expected) + mpmath.mpf("1e-30"), f"{what}: {got} != {expected}"


# --- the matrix --------------------------------------------------------------------------

OUTPUT_FOR_LOSS = {
    "half_squared_error": ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "softmax"],
    "squared_error": ["sigmoid", "linear", "softmax"],
    "mean_squared_error": ["tanh", "relu"],
    "binary_cross_entropy": ["sigmoid", "softmax"],
    "cross_entropy": ["softmax"],
}
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus"]


def targets_for(loss_name: str, r: random.Random, width: int):
    if loss_name == "cross_entropy":
        hot = r.randrange(width)
        return [1 if k == hot else 0 for k in range(width)]
    if loss_name == "binary_cross_entropy":
        return [round(r.uniform(0, 1), 2) for _ in range(width)]
    return [round(r.uniform(-0.5, 1), 2) for _ in range(width)]


def make_case(layers, activations, loss_name, seed, *, per_neuron=False, samples=1, **settings) -> Case:
    r = random.Random(seed)
    weights = [[[round(r.uniform(-1, 1), 2) for _ in range(layers[l])] for _ in range(layers[l + 1])]
               for l in range(len(layers) - 1)]
    biases = [[round(r.uniform(-0.5, 0.5), 2) for _ in range(w)] if per_neuron else round(r.uniform(-0.5, 0.5), 2)
              for w in layers[1:]]
    data = [([round(r.uniform(-1, 1), 2) for _ in range(layers[0])], targets_for(loss_name, r, layers[-1]))
            for _ in range(samples)]
    return Case(tuple(layers), tuple(activations), loss_name, weights, biases, data, **settings)


def matrix():
    cases = []
    seed = 0
    for loss_name, outputs in OUTPUT_FOR_LOSS.items():
        for output in outputs:
            for depth, hidden in ((1, HIDDEN[seed % len(HIDDEN)]), (2, HIDDEN[(seed + 3) % len(HIDDEN)])):
                seed += 1
                # Small enough for sympy.diff of the composed error (softmax swells it fast).
                layers = [2] + [3 if depth == 1 else 2] * depth + [2 if output == "softmax" or seed % 2 else 1]
                if output == "softmax" and depth == 1:
                    layers[-1] = 3
                acts = [hidden] * depth + [output]
                for train_biases, per_neuron, samples, mode, reduction in (
                        (False, False, 1, "batch", "mean"), (True, seed % 2 == 0, 1, "batch", "mean"),
                        (True, seed % 2 == 1, 3, "batch", "mean" if seed % 3 else "sum"),
                        (seed % 2 == 0, True, 3, "stochastic", "sum" if seed % 3 else "mean")):
                    case = make_case(layers, acts, loss_name, seed, per_neuron=per_neuron, samples=samples,
                                     train_biases=train_biases, mode=mode, reduction=reduction, learning_rate=0.1)
                    name = (f"{'-'.join(map(str, layers))}-{'-'.join(acts)}-{loss_name}-"
                            f"{'biases-' + ('per-neuron' if per_neuron else 'shared') if train_biases else 'fixed'}-"
                            f"{samples}x{mode}-{reduction}")
                    cases.append(pytest.param(case, id=name))
    return cases


CASES = matrix()


@pytest.fixture(scope="module", params=CASES)
def derived(request):
    case = request.param
    return case, explainer.derive(case.spec())


def test_the_matrix_is_small_enough_for_the_packages_own_sympy_check():
    # The derivation differentiates the composed error itself for these
    # networks, so each gradient is checked by SymPy twice: there and here.
    from explainer.maths.checks import ComposedGradients

    for param in CASES:
        case = param.values[0]
        network = Network(explainer.load_spec(case.spec()))
        assert ComposedGradients.for_network(network) is not None, param.id


def test_the_matrix_covers_every_combination():
    ids = [p.id for p in CASES]
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "softmax"):
        assert any(f"-{name}-" in i for i in ids), name
    for loss_name in OUTPUT_FOR_LOSS:
        assert any(loss_name in i for i in ids)
    for part in ("fixed", "biases-shared", "biases-per-neuron", "1xbatch", "3xbatch", "3xstochastic", "-mean", "-sum"):
        assert any(part in i for i in ids), part
    assert any(i.count("-3-") >= 1 and i.startswith("2-3-3-") for i in ids)  # two hidden layers


def test_gradients_equal_the_central_differences(derived):
    case, d = derived
    if case.mode == "stochastic":
        # Each sample's gradient is taken at the parameters the steps before it
        # left; the first sample's is at the starting point.
        first = replace(case, samples=case.samples[:1])
        expected = reference_gradients(first)
        suffix = "[1]"
    else:
        expected = reference_gradients(case)
        suffix = ""
    assume_smooth(first if case.mode == "stochastic" else case)
    for key, value in expected.items():
        assert_close(d.values[f"dE_total/d{key}{suffix}"], value, mpmath.mpf("1e-15"), key)


def test_gradients_equal_sympy_diff_of_the_composed_error(derived):
    case, d = derived
    if case.mode == "stochastic":
        case = replace(case, samples=case.samples[:1])
        suffix = "[1]"
    else:
        suffix = ""
    for key, value in sympy_gradients(case, d).items():
        assert_close(d.values[f"dE_total/d{key}{suffix}"], value, mpmath.mpf("1e-40"), key)


def test_updates_follow_the_gradients(derived):
    case, d = derived
    for key, path in case.parameters():
        with mpmath.workdps(DIGITS):
            start = d.parameters[key]
            if case.mode == "stochastic":
                assert_close(d.values[f"{key}+[1]"], start - mp(case.learning_rate) * d.values[f"dE_total/d{key}[1]"],
                             mpmath.mpf("1e-45"), key)
            else:
                assert_close(d.values[f"{key}+"], start - mp(case.learning_rate) * d.values[f"dE_total/d{key}"],
                             mpmath.mpf("1e-45"), key)


def test_the_error_and_the_first_round_equal_the_reference(derived):
    case, d = derived
    with mpmath.workdps(DIGITS):
        weights, biases = exact_parameters(case)
        assert_close(d.values["E_total"], batch_error(case, weights, biases), mpmath.mpf("1e-40"), "E_total")
        # One round by the reference: a step on the batch, or one per sample in turn.
        steps = [case] if case.mode == "batch" else [replace(case, samples=[s]) for s in case.samples]
        for step in steps:
            step = replace(step, weights=weights, biases=biases)
            assume_smooth(step)
            gradient = reference_gradients(step)
            weights, biases = exact_parameters(step)
            for key, path in case.parameters():
                weights, biases = apply(weights, biases, path, -mp(case.learning_rate) * gradient[key])
        assert_close(d.values["E_total@1"], batch_error(case, weights, biases), mpmath.mpf("1e-12"), "E_total@1")


def apply(weights, biases, path, delta):
    if path[0] == "w":
        _, l, j, i = path
        weights[l][j][i] += delta
    elif path[2] is None:
        biases[path[1]] += delta
    else:
        biases[path[1]][path[2]] += delta
    return weights, biases


def assume_smooth(case: Case) -> None:
    if near_a_kink(case):
        pytest.skip("a ReLU sits at its kink: a central difference measures neither side")


# --- the float training loops -----------------------------------------------------------------


def test_the_two_float_loops_agree_with_each_other_and_with_the_exact_first_round(derived):
    case, d = derived
    network = d.network
    scalar, vectors = scalar_training.train_scalar(network, 1), numpy_training.train_numpy(network, 1)
    for trained in (scalar, vectors):
        assert trained.error == pytest.approx(float(d.values["E_total@1"]), abs=1e-12)
        for w, value in zip(network.weights, trained.weights):
            after = d.values[w.updated_key]
            assert value == pytest.approx(float(after), abs=1e-12), w.key
        if case.train_biases:
            for b, value in zip(network.biases, trained.biases):
                assert value == pytest.approx(float(d.values[b.updated_key]), abs=1e-12), b.key
    scalar, vectors = scalar_training.train_scalar(network, 40), numpy_training.train_numpy(network, 40)
    assert scalar.error == pytest.approx(vectors.error, abs=1e-12, rel=1e-10)
    assert scalar.weights == pytest.approx(vectors.weights, abs=1e-12, rel=1e-10)
    assert scalar.biases == pytest.approx(vectors.biases, abs=1e-12, rel=1e-10)
    for a, b in zip(scalar.outputs, vectors.outputs):
        assert a == pytest.approx(b, abs=1e-12)


def test_training_keys_for_several_samples_and_biases():
    case = make_case((2, 2, 1), ("tanh", "sigmoid"), "binary_cross_entropy", 3, per_neuron=True, samples=4,
                     train_biases=True)
    values = explainer.derive(case.spec(iterations=20)).values
    for key in ("E_total@20", "out_o1[1]@20", "out_o1[4]@20", "w6@20", "b1_2@20", "b2_1@20", "E_total@1",
                "out_o1[3]@1", "E_total[2]", "dE_total/dw1[4]", "dE_total/db1_1", "b1_1+"):
        assert key in values, key
    assert "out_o1@20" not in values and "w1+[1]" not in values


# --- conventions at a kink -------------------------------------------------------------------------


def test_relu_at_exactly_zero_uses_the_convention():
    # net_h1 = 0.5 * 0.2 + (-0.1) = 0 exactly: ReLU's derivative is taken as 0 there,
    # so no gradient reaches w1, w2 or b1 through h1, and sympy.diff of the composed
    # error (a Piecewise) agrees.
    case = Case((2, 1, 1), ("relu", "linear"), "half_squared_error", [[[0.5, 0.3]], [[0.7]]], [-0.1, 0.2],
                [([0.2, 0.0], [1.0])], train_biases=True)
    d = explainer.derive(case.spec())
    assert d.values["net_h1"] == 0 or abs(d.values["net_h1"]) < mpmath.mpf("1e-45")
    assert d.values["dout_h1/dnet_h1"] == 0
    assert d.values["dE_total/dw1"] == 0 and d.values["dE_total/db1"] == 0
    for key, value in sympy_gradients(case, d).items():
        assert_close(d.values[f"dE_total/d{key}"], value, mpmath.mpf("1e-40"), key)


def test_leaky_relu_at_exactly_zero_uses_the_slope():
    case = Case((1, 1, 1), ("leaky_relu", "linear"), "half_squared_error", [[[0.3]], [[2.0]]], [-0.3, 0.0],
                [([1.0], [1.0])], slope=0.25)
    d = explainer.derive(case.spec())
    assert d.values["dout_h1/dnet_h1"] == mpmath.mpf("0.25")
    for key, value in sympy_gradients(case, d).items():
        assert_close(d.values[f"dE_total/d{key}"], value, mpmath.mpf("1e-40"), key)


# --- a property: any small network of any combination ------------------------------------------------

HUNDREDTHS = st.integers(-100, 100).map(lambda k: k / 100)


@st.composite
def cases(draw) -> Case:
    loss_name = draw(st.sampled_from(sorted(OUTPUT_FOR_LOSS)))
    output = draw(st.sampled_from(OUTPUT_FOR_LOSS[loss_name]))
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    out_width = draw(st.integers(2 if output == "softmax" else 1, 3))
    layers = tuple(widths + [out_width])
    hidden = [draw(st.sampled_from(HIDDEN)) for _ in widths[1:]]
    weights = [[[draw(HUNDREDTHS) for _ in range(layers[l])] for _ in range(layers[l + 1])] for l in range(len(layers) - 1)]
    biases = [draw(st.one_of(HUNDREDTHS, st.lists(HUNDREDTHS, min_size=w, max_size=w))) for w in layers[1:]]
    r = random.Random(draw(st.integers(0, 10_000)))
    samples = [([draw(HUNDREDTHS) for _ in range(layers[0])], targets_for(loss_name, r, out_width))
               for _ in range(draw(st.integers(1, 3)))]
    return Case(layers, tuple(hidden + [output]), loss_name, weights, biases, samples,
                train_biases=draw(st.booleans()), mode=draw(st.sampled_from(["batch", "stochastic"])),
                reduction=draw(st.sampled_from(["mean", "sum"])),
                slope=draw(st.sampled_from([0.01, 0.2])), learning_rate=draw(st.sampled_from([0.1, 0.5, 2.0])))


@settings(max_examples=30, deadline=None)
@given(case=cases())
def test_any_network_gradient_is_the_central_difference(case):
    several_steps = case.mode == "stochastic" and len(case.samples) > 1
    # In stochastic mode the first sample's gradient is taken at the starting point.
    reference = replace(case, samples=case.samples[:1]) if several_steps else case
    assume(not near_a_kink(reference))
    d = explainer.derive(case.spec())
    suffix = "[1]" if len(case.samples) > 1 and case.mode == "stochastic" else ""
    for key, value in reference_gradients(reference).items():
        assert_close(d.values[f"dE_total/d{key}{suffix}"], value, mpmath.mpf("1e-12"), key)


SEQUENTIAL_CASES = [
    make_case((2, 3, 2), ("tanh", "sigmoid"), "binary_cross_entropy", 41, per_neuron=True, train_biases=True,
              update="sequential"),
    make_case((2, 2, 2, 3), ("relu", "tanh", "softmax"), "cross_entropy", 42, train_biases=True, samples=3,
              mode="stochastic", update="sequential", learning_rate=0.1),
    make_case((1, 2, 2), ("leaky_relu", "linear"), "mean_squared_error", 43, samples=2, mode="stochastic",
              update="sequential", learning_rate=0.1),
]


@pytest.mark.parametrize("case", SEQUENTIAL_CASES, ids=lambda c: "-".join(c.activations) + "-" + c.loss)
def test_sequential_update_with_every_feature(case):
    """Output-layer gradients are the true ones; below them the updated weights above are used; the loops agree."""
    d = explainer.derive(case.spec(iterations=1))
    suffix = "[1]" if len(case.samples) > 1 else ""
    first = replace(case, samples=case.samples[:1])
    assume_smooth(first)
    expected = reference_gradients(first)
    network = d.network
    last = len(case.layers) - 1
    for p in network.trained_parameters():
        on_top = getattr(p, "layer", None) == last or getattr(getattr(p, "target", None), "layer", None) == last
        if on_top:
            assert_close(d.values[f"dE_total/d{p.key}{suffix}"], expected[p.key], mpmath.mpf("1e-15"), p.key)
    for w in network.weights_into_layer(last):
        assert d.values[f"dnet_{w.target.name}/dout_{w.source.name}{suffix}"] == d.values[f"{w.key}+{suffix}"]
    for trained in (scalar_training.train_scalar(network, 1), numpy_training.train_numpy(network, 1)):
        assert trained.error == pytest.approx(float(d.values["E_total@1"]), abs=1e-12)
    assert scalar_training.train_scalar(network, 30).error == pytest.approx(numpy_training.train_numpy(network, 30).error, abs=1e-12)


def test_softplus_at_exactly_zero():
    # net_h1 = 0.5 * 1 + (-0.5) = 0: SymPy keeps ln(2) exact, the check must still evaluate it.
    case = Case((1, 1, 1), ("softplus", "linear"), "half_squared_error", [[[0.5]], [[1.0]]], [-0.5, 0.0],
                [([1.0], [0.3])], train_biases=True)
    d = explainer.derive(case.spec())
    with mpmath.workdps(DIGITS):
        assert abs(d.values["out_h1"] - mpmath.log(2)) < mpmath.mpf("1e-45")
        assert abs(d.values["dout_h1/dnet_h1"] - mpmath.mpf("0.5")) < mpmath.mpf("1e-45")
    for key, value in sympy_gradients(case, d).items():
        assert_close(d.values[f"dE_total/d{key}"], value, mpmath.mpf("1e-40"), key)
