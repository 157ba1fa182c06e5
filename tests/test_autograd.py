"""The derivation's numbers against an independent autograd library: JAX in float64.

Random networks cover every activation, loss, bias mode (shared or per
neuron, fixed or trained), batch and stochastic training and the simultaneous
and sequential updates.  JAX differentiates the whole error where the
derivation's gradients are true gradients of it; the sequential update (whose
hidden gradients use the already-updated weights above, on purpose) is
backpropagated layer by layer with JAX's vector-Jacobian products.

JAX runs in a process of its own, started fresh (spawn): it is multithreaded,
and the test process goes on to fork workers for whole classes (``--jobs``),
which a multithreaded parent must not do.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import random

import pytest

import explainer
from explainer.maths.network import Network
from conftest import _missing

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus")
OUTPUT_FOR_LOSS = {
    "half_squared_error": HIDDEN, "squared_error": HIDDEN, "mean_squared_error": HIDDEN,
    "binary_cross_entropy": ("sigmoid", "softmax"), "cross_entropy": ("softmax",),
}
CASES = 36


def random_spec(seed: int) -> dict:
    r = random.Random(seed)
    loss = list(OUTPUT_FOR_LOSS)[seed % len(OUTPUT_FOR_LOSS)]
    output = OUTPUT_FOR_LOSS[loss][(seed // len(OUTPUT_FOR_LOSS)) % len(OUTPUT_FOR_LOSS[loss])]
    depth = 1 + seed % 2
    layers = [r.randint(1, 3)] + [r.randint(2, 3) for _ in range(depth)] + [r.randint(2, 3) if output == "softmax" else r.randint(1, 2)]
    hidden = [HIDDEN[(seed + k) % len(HIDDEN)] for k in range(depth)]
    activations = [{"name": a, "slope": 0.2} if a == "leaky_relu" and seed % 3 == 0 else a for a in hidden] + [output]
    weights = [[[round(r.uniform(-1, 1), 2) for _ in range(a)] for _ in range(b)] for a, b in zip(layers, layers[1:])]
    per_neuron = seed % 4 in (1, 2)
    biases = [[round(r.uniform(-0.5, 0.5), 2) for _ in range(w)] if per_neuron else round(r.uniform(-0.5, 0.5), 2)
              for w in layers[1:]]
    samples = 1 if seed % 3 == 0 else 3
    mode = "stochastic" if samples > 1 and seed % 2 else "batch"
    update = "sequential" if (samples == 1 or mode == "stochastic") and seed % 5 in (0, 3) else "simultaneous"

    def targets():
        if loss == "cross_entropy":
            hot = r.randrange(layers[-1])
            return [1 if k == hot else 0 for k in range(layers[-1])]
        return [round(r.uniform(0.05, 0.95), 2) for _ in range(layers[-1])]

    data = [{"inputs": [round(r.uniform(-1, 1), 2) for _ in range(layers[0])], "targets": targets()} for _ in range(samples)]
    return {"network": {"layers": layers, "activation": activations, "loss": loss, "weights": weights, "biases": biases},
            "data": data[0] if samples == 1 else data,
            "training": {"learning_rate": 0.5, "iterations": 1, "train_biases": seed % 4 != 3, "mode": mode,
                         "update": update, "reduction": "sum" if seed % 7 == 2 else "mean"}}


def _in_a_spawned_process(numbers):
    """``numbers(seed)`` run by JAX in a process of its own, for the length of a fixture."""
    if importlib.util.find_spec("jax") is None:
        _missing("jax is not installed (python -m pip install '.[test]')")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        yield lambda seed: pool.apply(numbers, (seed,))


@pytest.fixture(scope="module")
def reference_numbers():
    """The JAX reference's numbers of a spec (see ``jax_numbers``), computed in a spawned process."""
    yield from _in_a_spawned_process(jax_numbers)


def jax_numbers(seed: int) -> dict:
    """What the test compares, as plain floats: E_total, each sample's outputs, the gradient (where it is
    a true gradient of E_total), the parameters and E_total after one round."""
    import jax

    jax.config.update("jax_enable_x64", True)
    spec = explainer.load_spec(random_spec(seed))
    network = Network(spec)
    ref = Reference(spec, jax)
    several = len(spec.samples) > 1
    numbers = {"E_total": float(ref.total(ref.params)), "outputs": {}}
    for s, sample in enumerate(ref.samples, start=1):
        if not several or spec.mode == "batch" or s == 1:
            numbers["outputs"][s] = [float(v) for v in ref.forward(ref.params, sample[0])[0][-1]]
    if spec.update == "simultaneous" and (not several or spec.mode == "batch"):
        numbers["gradient"] = flat(jax.grad(ref.total)(ref.params), network)
    after = ref.one_round()
    numbers["after"] = flat(after, network)
    numbers["E_total@1"] = float(ref.total(after))
    return numbers


class Reference:
    """The network of a spec in JAX: its forward pass, error and one round of training."""

    def __init__(self, spec, jax) -> None:
        import jax.numpy as jnp

        self.jax, self.jnp, self.spec = jax, jnp, spec
        self.params = {"W": [jnp.array([[float(v) for v in row] for row in m]) for m in spec.weights],
                       "b": [jnp.array([float(v) for v in values]) for values in spec.biases]}
        self.samples = [(jnp.array([float(v) for v in s.inputs]), jnp.array([float(v) for v in s.targets]))
                        for s in spec.samples]

    def act(self, l, net):
        jnp, nn = self.jnp, self.jax.nn
        name, slope = self.spec.activations[l], self.spec.slopes[l]
        return {"sigmoid": nn.sigmoid, "tanh": jnp.tanh, "linear": lambda x: x,
                "relu": lambda x: jnp.where(x > 0, x, 0.0),
                "leaky_relu": lambda x: jnp.where(x > 0, x, float(slope or 0) * x),
                "softplus": lambda x: jnp.logaddexp(x, 0.0), "softmax": nn.softmax}[name](net)

    def loss(self, out, t):
        jnp, n = self.jnp, out.shape[0]
        return {"half_squared_error": lambda: 0.5 * jnp.sum((t - out) ** 2),
                "squared_error": lambda: jnp.sum((t - out) ** 2),
                "mean_squared_error": lambda: jnp.sum((t - out) ** 2) / n,
                "binary_cross_entropy": lambda: -jnp.sum(t * jnp.log(out) + (1 - t) * jnp.log(1 - out)),
                "cross_entropy": lambda: -jnp.sum(t * jnp.log(out))}[self.spec.loss]()

    def forward(self, params, x):
        outs, nets = [x], []
        for l, (W, b) in enumerate(zip(params["W"], params["b"])):
            nets.append(W @ outs[-1] + b)  # a shared bias is one number, broadcast over the layer
            outs.append(self.act(l, nets[-1]))
        return outs, nets

    def error(self, params, sample):
        x, t = sample
        return self.loss(self.forward(params, x)[0][-1], t)

    def total(self, params):
        errors = [self.error(params, s) for s in self.samples]
        return sum(errors) / len(errors) if self.spec.reduction == "mean" else sum(errors)

    def step(self, params, sample, scale=1.0):
        """One step of gradient descent on one sample (or the batch's error): the whole error differentiated."""
        jax, eta = self.jax, float(self.spec.learning_rate)
        gradient = jax.grad(self.error if sample is not None else lambda p, _: self.total(p))(params, sample)
        return self._updated(params, gradient, eta * scale)

    def sequential_step(self, params, sample):
        """The sequential update: each layer's error signal through the already-updated weights above it."""
        jax, jnp, eta = self.jax, self.jnp, float(self.spec.learning_rate)
        x, t = sample
        outs, nets = self.forward(params, x)
        depth = len(params["W"])
        delta = jax.grad(lambda net: self.loss(self.act(depth - 1, net), t))(nets[-1])
        W, b = list(params["W"]), list(params["b"])
        for l in range(depth - 1, -1, -1):
            W[l] = W[l] - eta * jnp.outer(delta, outs[l])
            if self.spec.train_biases:
                b[l] = b[l] - eta * (jnp.sum(delta) if b[l].shape[0] == 1 else delta)
            if l:
                _, through_weights = jax.vjp(lambda o, l=l: W[l] @ o, outs[l])
                _, through_activation = jax.vjp(lambda n, l=l: self.act(l - 1, n), nets[l - 1])
                delta = through_activation(through_weights(delta)[0])[0]
        return {"W": W, "b": b}

    def _updated(self, params, gradient, rate):
        biases = [b - rate * g for b, g in zip(params["b"], gradient["b"])] if self.spec.train_biases else params["b"]
        return {"W": [W - rate * g for W, g in zip(params["W"], gradient["W"])], "b": biases}

    def one_round(self):
        params, spec = self.params, self.spec
        if len(self.samples) > 1 and spec.mode == "batch":
            return self.step(params, None)
        for sample in self.samples:
            params = self.sequential_step(params, sample) if spec.update == "sequential" else self.step(params, sample)
        return params


def flat(params, network: Network) -> dict[str, float]:
    values = {w.key: float(v) for w, v in zip(network.weights, (v for W in params["W"] for v in W.ravel()))}
    for bias in network.biases:
        layer = params["b"][bias.layer - 1]
        values[bias.key] = float(layer[0] if layer.shape[0] == 1 else layer[bias.neurons[0].index])
    return values


def test_the_cases_cover_every_combination():
    specs = [random_spec(seed) for seed in range(CASES)]
    names = {a if isinstance(a, str) else a["name"] for s in specs for a in s["network"]["activation"]}
    assert names == {*HIDDEN, "softmax"}
    assert {s["network"]["loss"] for s in specs} == set(OUTPUT_FOR_LOSS)
    combos = {(s["training"]["mode"], s["training"]["update"], "data" in s and isinstance(s["data"], list)) for s in specs}
    assert {("batch", "simultaneous", True), ("stochastic", "simultaneous", True), ("stochastic", "sequential", True),
            ("batch", "sequential", False), ("batch", "simultaneous", False)} <= combos
    assert {s["training"]["train_biases"] for s in specs} == {True, False}
    assert {isinstance(s["network"]["biases"][0], list) for s in specs} == {True, False}


@pytest.mark.parametrize("seed", range(CASES))
def test_the_numbers_agree_with_jax(reference_numbers, seed):
    spec = explainer.load_spec(random_spec(seed))
    d = explainer.derive(spec)
    network = Network(spec)
    ref = reference_numbers(seed)
    values = d.float_values()
    several = len(spec.samples) > 1
    close = {"rel": 1e-9, "abs": 1e-12}

    assert values["E_total"] == pytest.approx(ref["E_total"], **close)
    for s, outs in ref["outputs"].items():
        for o, value in zip(network.outputs, outs):
            assert values[f"{o.out_key}[{s}]" if several else o.out_key] == pytest.approx(value, **close)
    if spec.update == "simultaneous" and (not several or spec.mode == "batch"):
        assert "gradient" in ref
        for key, value in ref["gradient"].items():
            if key in {p.key for p in network.trained_parameters()}:
                assert values[f"dE_total/d{key}"] == pytest.approx(value, **close), key
    for p in network.trained_parameters():
        assert values[p.updated_key] == pytest.approx(ref["after"][p.key], **close), p.updated_key
    assert values["E_total@1"] == pytest.approx(ref["E_total@1"], **close)


# --- mini-batches ----------------------------------------------------------------

MINIBATCH_CASES = 12


def minibatch_spec(seed: int) -> dict:
    """``random_spec(seed)`` with five samples in mini-batches of two (the last of one), shuffled for odd seeds."""
    spec = random_spec(seed)
    r = random.Random(1000 + seed)
    layers, loss = spec["network"]["layers"], spec["network"]["loss"]

    def targets():
        if loss == "cross_entropy":
            hot = r.randrange(layers[-1])
            return [1 if k == hot else 0 for k in range(layers[-1])]
        return [round(r.uniform(0.05, 0.95), 2) for _ in range(layers[-1])]

    spec["data"] = [{"inputs": [round(r.uniform(-1, 1), 2) for _ in range(layers[0])], "targets": targets()}
                    for _ in range(5)]
    training = {k: v for k, v in spec["training"].items() if k not in ("mode", "update")}
    spec["training"] = {**training, "batch_size": 2, **({"shuffle_seed": seed} if seed % 2 else {})}
    return spec


def jax_minibatch_numbers(seed: int) -> dict:
    """The parameters and E_total after one round of mini-batch steps, each on the batch's error by jax.grad."""
    import jax

    jax.config.update("jax_enable_x64", True)
    spec = explainer.load_spec(minibatch_spec(seed))
    ref = Reference(spec, jax)
    order = list(range(5))
    if spec.shuffle_seed is not None:  # the documented shuffle, written out again
        rng = random.Random(spec.shuffle_seed)
        for i in range(4, 0, -1):
            j = int(rng.random() * (i + 1))
            order[i], order[j] = order[j], order[i]
    params = ref.params
    for start in range(0, 5, 2):
        batch = [ref.samples[i] for i in order[start:start + 2]]

        def batch_error(p, batch=batch):
            errors = [ref.error(p, s) for s in batch]
            return sum(errors) / len(errors) if spec.reduction == "mean" else sum(errors)

        params = ref._updated(params, jax.grad(batch_error)(params), float(spec.learning_rate))
    return {"after": flat(params, Network(spec)), "E_total@1": float(ref.total(params))}


@pytest.fixture(scope="module")
def minibatch_reference():
    yield from _in_a_spawned_process(jax_minibatch_numbers)


@pytest.mark.parametrize("seed", range(MINIBATCH_CASES))
def test_one_round_of_mini_batches_agrees_with_jax(minibatch_reference, seed):
    spec = explainer.load_spec(minibatch_spec(seed))
    assert spec.mode == "minibatch"
    values = explainer.derive(spec).float_values()
    ref = minibatch_reference(seed)
    close = {"rel": 1e-9, "abs": 1e-12}
    for p in Network(spec).trained_parameters():
        assert values[p.updated_key] == pytest.approx(ref["after"][p.key], **close), p.updated_key
    assert values["E_total@1"] == pytest.approx(ref["E_total@1"], **close)
