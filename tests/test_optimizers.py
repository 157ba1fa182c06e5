"""The optimizers against an independent implementation of torch.optim's update rules.

The reference below re-implements, in plain numpy and in the order of
operations PyTorch's own source uses, the gradients of a sigmoid network
(backpropagation written out by hand, independent of explainer's formulas)
and the steps of SGD (momentum, dampening, Nesterov, weight decay), RMSprop,
Adam and AdamW.  explainer's exact first two rounds, its straight-line
Python loop and its numpy loop must all agree with it.
"""

from __future__ import annotations

import math
from decimal import Decimal

import mpmath
import numpy as np
import pytest

import explainer
from conftest import as_words
from explainer.maths.network import Network
from explainer.maths.numpy_training import train_numpy
from explainer.maths.scalar_training import train_scalar
from explainer.spec.errors import SpecError
from explainer.spec.reading import load_spec, spec_from_mapping, spec_mapping

# --- the reference -----------------------------------------------------------


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_gradients(weights, biases, shared, inputs, targets, reduction):
    """∂E_total/∂W and ∂E_total/∂b of a sigmoid network with E = Σ ½(target − out)², by hand."""
    outs = [inputs]
    for W, b in zip(weights, biases):
        outs.append(_sigmoid(outs[-1] @ W.T + b))
    delta = (outs[-1] - targets) * outs[-1] * (1 - outs[-1])
    scale = 1 / len(inputs) if reduction == "mean" else 1.0
    grads_w, grads_b = [None] * len(weights), [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        grads_w[l] = scale * delta.T @ outs[l]
        per_neuron = scale * delta.sum(axis=0)
        grads_b[l] = np.full_like(per_neuron, per_neuron.sum()) if shared[l] else per_neuron
        if l:
            delta = (delta @ weights[l]) * outs[l] * (1 - outs[l])
    return grads_w, grads_b


class TorchRule:
    """One parameter tensor's optimizer, as torch.optim's single-tensor code updates it."""

    def __init__(self, name, lr, momentum=0.0, dampening=0.0, nesterov=False, alpha=0.99,
                 betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.name, self.lr, self.momentum, self.dampening, self.nesterov = name, lr, momentum, dampening, nesterov
        self.alpha, self.betas, self.eps, self.weight_decay = alpha, betas, eps, weight_decay
        self.state = {}

    def step(self, param, grad):
        s, lr, wd = self.state, self.lr, self.weight_decay
        s["step"] = s.get("step", 0) + 1
        if self.name == "sgd":  # torch.optim.SGD
            if wd:
                grad = grad + wd * param
            if self.momentum:
                if "buf" not in s:
                    s["buf"] = grad.copy()
                else:
                    s["buf"] = s["buf"] * self.momentum + (1 - self.dampening) * grad
                grad = grad + self.momentum * s["buf"] if self.nesterov else s["buf"]
            return param - lr * grad
        if self.name == "rmsprop":  # torch.optim.RMSprop, not centered, no momentum
            if wd:
                grad = grad + wd * param
            s["square_avg"] = s.get("square_avg", np.zeros_like(param)) * self.alpha + (1 - self.alpha) * grad * grad
            return param - lr * grad / (np.sqrt(s["square_avg"]) + self.eps)
        # torch.optim.Adam and AdamW
        beta1, beta2 = self.betas
        if self.name == "adamw":
            param = param * (1 - lr * wd)
        elif wd:
            grad = grad + wd * param
        exp_avg = s.get("exp_avg", np.zeros_like(param))
        s["exp_avg"] = exp_avg + (grad - exp_avg) * (1 - beta1)  # lerp
        s["exp_avg_sq"] = s.get("exp_avg_sq", np.zeros_like(param)) * beta2 + (1 - beta2) * grad * grad
        t = s["step"]
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(s["exp_avg_sq"]) / math.sqrt(1 - beta2 ** t) + self.eps
        return param - step_size * s["exp_avg"] / denom


def reference_training(spec_dict, rounds):
    """The weights (in explainer's numbering) and E_total after ``rounds`` rounds, by the reference."""
    net, data, training = spec_dict["network"], spec_dict["data"], spec_dict["training"]
    layers = net["layers"]
    weights = [np.array(m, dtype=float) for m in net["weights"]]
    shared = [not isinstance(b, list) for b in net["biases"]]
    biases = [np.full(width, float(b)) if s else np.array(b, dtype=float)
              for width, b, s in zip(layers[1:], net["biases"], shared)]
    samples = data if isinstance(data, list) else [data]
    inputs = np.array([s["inputs"] for s in samples], dtype=float)
    targets = np.array([s["targets"] for s in samples], dtype=float)
    options = {k: (tuple(map(float, v)) if k == "betas" else float(v) if not isinstance(v, bool) else v)
               for k, v in training.items()
               if k in ("momentum", "dampening", "nesterov", "alpha", "betas", "eps", "weight_decay")}
    name = training.get("optimizer", "sgd")
    if name in ("momentum", "nesterov"):
        options["nesterov"] = name == "nesterov"
        options.setdefault("momentum", 0.9)
        name = "sgd"
    if training.get("optimizer") == "adamw":
        options.setdefault("weight_decay", 0.01)
    lr = float(training["learning_rate"])
    reduction = training.get("reduction", "mean")
    w_rules = [TorchRule(name, lr, **options) for _ in weights]
    b_rules = [TorchRule(name, lr, **options) for _ in biases]
    for _ in range(rounds):
        gw, gb = reference_gradients(weights, biases, shared, inputs, targets, reduction)
        weights = [rule.step(W, g) for rule, W, g in zip(w_rules, weights, gw)]
        if training.get("train_biases"):
            # A shared bias is one parameter: its gradient is the sum over the layer's neurons.
            biases = [rule.step(b, g) for rule, b, g in zip(b_rules, biases, gb)]
    return trained(weights, biases, shared, inputs, targets, reduction)


def trained(weights, biases, shared, inputs, targets, reduction):
    """The weights flattened, the biases (a shared one as one number) and E_total after the last step."""
    outs = inputs
    for W, b in zip(weights, biases):
        outs = _sigmoid(outs @ W.T + b)
    errors = (0.5 * (targets - outs) ** 2).sum(axis=1)
    error = errors.mean() if reduction == "mean" else errors.sum()
    return np.concatenate([W.ravel() for W in weights]), [b[0] if s else b for b, s in zip(biases, shared)], error


# --- the networks ---------------------------------------------------------------


def random_spec(seed, layers, samples, training):
    rng = np.random.default_rng(seed)

    def numbers(*shape, low=-0.9, high=0.9):
        return np.round(rng.uniform(low, high, shape), 2).tolist()

    weights = [numbers(layers[l + 1], layers[l]) for l in range(len(layers) - 1)]
    biases = [numbers(layers[l + 1]) if l % 2 else round(float(rng.uniform(-0.9, 0.9)), 2)
              for l in range(len(layers) - 1)]
    data = [{"inputs": numbers(layers[0], low=0, high=1), "targets": numbers(layers[-1], low=0.05, high=0.95)}
            for _ in range(samples)]
    return {"network": {"layers": layers, "activation": "sigmoid", "weights": weights, "biases": biases},
            "data": data if samples > 1 else data[0],
            "training": {"iterations": 5, **training}}


OPTIMIZERS = {
    "sgd with weight decay": {"optimizer": "sgd", "learning_rate": 0.5, "weight_decay": 0.05},
    "momentum": {"optimizer": "momentum", "learning_rate": 0.5, "momentum": 0.9},
    "momentum with dampening and weight decay": {"optimizer": "momentum", "learning_rate": 0.3, "momentum": 0.8,
                                                 "dampening": 0.3, "weight_decay": 0.01},
    "nesterov": {"optimizer": "nesterov", "learning_rate": 0.5, "momentum": 0.7},
    "nesterov with weight decay": {"optimizer": "nesterov", "learning_rate": 0.5, "momentum": 0.9,
                                   "weight_decay": 0.02},
    "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.01},
    "rmsprop with weight decay": {"optimizer": "rmsprop", "learning_rate": 0.02, "alpha": 0.9, "eps": 1e-6,
                                  "weight_decay": 0.1},
    "adam": {"optimizer": "adam", "learning_rate": 0.05},
    "adam with L2": {"optimizer": "adam", "learning_rate": 0.05, "betas": [0.8, 0.99], "weight_decay": 0.1},
    "adamw": {"optimizer": "adamw", "learning_rate": 0.05},
    "adamw with its own decay": {"optimizer": "adamw", "learning_rate": 0.1, "weight_decay": 0.2, "eps": 1e-3},
}
SHAPES = {
    "2-2-2, one sample": ([2, 2, 2], 1, {}),
    "3-4-2, three samples, mean, biases trained": ([3, 4, 2], 3, {"train_biases": True}),
    "2-3-2-1, four samples, sum, biases trained": ([2, 3, 2, 1], 4, {"train_biases": True, "reduction": "sum"}),
}


def _spec(name, shape, seed):
    layers, samples, extra = SHAPES[shape]
    mapping = random_spec(seed, layers, samples, {**OPTIMIZERS[name], **extra})
    return mapping, explainer.load_spec(mapping)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_training_loops_follow_torch_optims_rules(name, shape):
    mapping, spec = _spec(name, shape, seed=len(name) * 7 + len(shape))
    network = Network(spec)
    assert_both_loops_follow(network, 5, reference_training(mapping, 5), (name, shape))


def assert_both_loops_follow(network, rounds, reference, label) -> None:
    """The straight-line and the numpy loop end where ``reference`` = (weights, biases, error) does, to 1e-12."""
    weights, biases, error = reference
    for train in (train_scalar, train_numpy):
        result = train(network, rounds)
        assert np.allclose(result.weights, weights, rtol=1e-12, atol=1e-13), (train.__name__, *label)
        if network.spec.train_biases:
            expected = [v for layer in biases for v in np.atleast_1d(layer)]
            assert np.allclose(result.biases, expected, rtol=1e-12, atol=1e-13), (train.__name__, *label)
        assert math.isclose(result.error, error, rel_tol=1e-12), (train.__name__, *label)


@pytest.mark.parametrize("name", ["momentum with dampening and weight decay", "nesterov", "rmsprop with weight decay",
                                  "adam with L2", "adamw with its own decay"])
@pytest.mark.parametrize("shape", ["2-2-2, one sample", "3-4-2, three samples, mean, biases trained"])
def test_the_exact_first_two_rounds_follow_torch_optims_rules(name, shape):
    mapping, spec = _spec(name, shape, seed=3)
    d = explainer.derive(spec)
    for rounds, suffix in ((1, "+"), (2, "@2")):
        weights, biases, error = reference_training(mapping, rounds)
        exact = [float(d.values[f"{w.key}{suffix}"]) for w in d.network.weights]
        assert np.allclose(exact, weights, rtol=1e-12, atol=1e-14), (name, shape, rounds)
        assert math.isclose(float(d.values[f"E_total@{rounds}"]), error, rel_tol=1e-12)
    # The float64 loops start where the exact rounds do.
    assert math.isclose(d.values["E_total@2"], train_scalar(d.network, 2).error, rel_tol=1e-12)


def test_adams_first_step_of_w5_written_out():
    d = explainer.derive("examples/adam.toml")
    v = d.values
    g = v["dE_total/dw5"]
    assert v["m_w5@0"] == v["v_w5@0"] == 0
    with mpmath.workdps(50):
        assert abs(v["m_w5@1"] - g / 10) < 1e-40
        assert abs(v["mhat_w5@1"] - g) < 1e-40 and abs(v["vhat_w5@1"] - g * g) < 1e-40
    text = d.to_markdown()
    for tex in (r"\hat{m}_{w_5,1} &= \frac{m_{w_5,1}}{1 - \beta_1^{1}}", r"m_{w_5,2} &= \beta_1 * m_{w_5,1}",
                r"w_5^{(2)} &= w_5^+ - \eta * \frac{\hat{m}_{w_5,2}}{\sqrt{\hat{v}_{w_5,2}} + \epsilon}",
                "### The Second Round", "bias correction"):
        assert tex in text, tex


def test_l2_appears_in_the_error_and_in_the_gradient():
    d = explainer.derive("examples/weight-decay.toml")
    v = d.values
    penalty = sum(w.value ** 2 for w in d.network.weights) * Decimal("0.01") / 2
    with mpmath.workdps(50):
        assert abs(v["E_reg"] - v["E_total"] - mpmath.mpf(str(penalty))) < 1e-40
        assert abs(v["dE_reg/dw5"] - v["dE_total/dw5"] - mpmath.mpf("0.004")) < 1e-40
    assert as_words(r"E_{reg} &= E_{total} + \frac{\lambda}{2}(w_1^{2}") in d.to_markdown()


def test_plain_sgd_is_unchanged():
    d = explainer.derive()
    assert not any(key.startswith(("m_", "v_", "s_", "dE_reg", "E_reg")) for key in d.values)
    assert "w5@2" not in d.values and d.section("second_round") is None


def test_detail_full_writes_every_parameters_state():
    text = explainer.derive("examples/adamw.toml").to_markdown(detail="full")
    for key in ("w_1", "w_6", "b_{1,1}", "b_{1,2}", "b_2"):
        assert f"\\hat{{v}}_{{{key},1}}" in text and f"\\hat{{v}}_{{{key},2}}" in text, key


# --- the spec ---------------------------------------------------------------------

BAD = [
    ({"optimizer": "adma"}, "training.optimizer: unknown optimizer 'adma'; did you mean 'adam'?"),
    ({"optimizer": "sgd", "momentum": 0.9}, "training.momentum: optimizer 'sgd' has no momentum"),
    ({"optimizer": "adam", "alpha": 0.9}, "training.alpha: optimizer 'adam' has no alpha; it belongs to 'rmsprop'"),
    ({"optimizer": "momentum", "momentum": 1}, "training.momentum: expected a number between 0 and 1"),
    ({"optimizer": "momentum", "momentum": 0.9, "nesterov": True, "dampening": 0.1},
     "training.dampening: Nesterov momentum needs dampening = 0"),
    ({"optimizer": "nesterov", "nesterov": False}, "training.nesterov: optimizer 'nesterov' is Nesterov momentum"),
    ({"optimizer": "adam", "betas": [0.9]}, "training.betas: expected 2 numbers (beta1 and beta2), got 1"),
    ({"optimizer": "adam", "betas": [0.9, 1.0]}, "training.betas[1]: expected a number from 0 up to 1"),
    ({"optimizer": "rmsprop", "eps": 0}, "training.eps: expected a number > 0"),
    ({"optimizer": "adamw", "weight_decay": -0.1}, "training.weight_decay: expected a number >= 0"),
    ({"optimizer": "adam", "update": "sequential"}, "training.update: sequential is the source's plain gradient"),
]


@pytest.mark.parametrize("training, message", BAD)
def test_bad_optimizer_settings_are_one_line_errors(training, message):
    mapping = spec_mapping(load_spec())
    mapping["training"] = {**mapping["training"], **training}
    with pytest.raises(SpecError) as error:
        spec_from_mapping(mapping, "net.toml", "net")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_stochastic_mode_with_an_optimizer_carries_the_state_from_sample_to_sample():
    mapping = spec_mapping(load_spec("examples/xor.toml"))
    mapping["training"] = {**mapping["training"], "optimizer": "adam", "mode": "stochastic", "learning_rate": 0.05}
    d = explainer.derive(spec_from_mapping(mapping, "xor.toml", "xor"))
    # One step per sample: four in the first round, each with its own bias correction.
    assert {"m_w5@4", "vhat_w5@4"} <= set(d.values) and "m_w5@5" not in d.values
    assert "## The First Step" in d.to_markdown()


def test_defaults_are_torchs():
    adam = explainer.load_spec({**spec_mapping(load_spec()), "training": {"optimizer": "adam"}}).optimizer
    assert (adam.betas, adam.eps, adam.weight_decay) == ((Decimal("0.9"), Decimal("0.999")), Decimal("1e-8"), 0)
    adamw = explainer.load_spec({**spec_mapping(load_spec()), "training": {"optimizer": "adamw"}}).optimizer
    assert adamw.weight_decay == Decimal("0.01")
    rmsprop = explainer.load_spec({**spec_mapping(load_spec()), "training": {"optimizer": "rmsprop"}}).optimizer
    assert rmsprop.alpha == Decimal("0.99")


@pytest.mark.parametrize("name", ["adam", "rmsprop", "nesterov", "weight-decay"])
def test_check_finds_every_number_of_an_optimizers_document_correct(name):
    d = explainer.derive(f"examples/{name}.toml")
    everything = explainer.check(d.to_markdown(), d)
    # Lines that state numbers in words (the prose) are "not understood"; none of them holds an equation.
    prose = [v for v in everything if v.verdict == "not understood"]
    verdicts = [v for v in everything if v.verdict != "not understood"]
    assert all("=" not in v.given for v in prose)
    assert verdicts and {v.verdict for v in verdicts} == {"correct"}, [v for v in verdicts if v.verdict != "correct"]
    keys = {v.key for v in verdicts}
    assert {"w5+", "dE_total/dw5@1"} <= keys
    if name == "adam":
        assert {"m_w5@1", "v_w5@1", "m_w5@2", "v_w5@2"} <= keys


def test_check_reads_the_state_under_its_keys_and_printed_names():
    d = explainer.derive("examples/adam.toml")
    sheet = "\n".join(["mhat_w5@1 = 0.082167041", "$m_{w_5,2} = 0.015703858$", "w5@2 = 0.299986259",
                        "$v_{w_5,1} = 0.000006751$"])
    verdicts = explainer.check(sheet, d)
    assert [(v.key, v.verdict) for v in verdicts] == [("mhat_w5@1", "correct"), ("m_w5@2", "correct"),
                                                       ("w5@2", "correct"), ("v_w5@1", "correct")]


OPTIMIZER_EXAMPLES = ["adam", "adamw", "momentum", "nesterov", "rmsprop", "weight-decay"]


def test_every_formula_of_the_optimizer_examples_parses_in_katex():
    from conftest import katex_failures
    from test_flavors import commonmark_formulas

    formulas = {f for name in OPTIMIZER_EXAMPLES for detail in ("source", "full")
                for f in commonmark_formulas(explainer.derive(f"examples/{name}.toml").to_markdown(detail=detail))}
    assert any("\\hat{v}" in tex for tex, _ in formulas) and any("\\sqrt" in tex for tex, _ in formulas)
    assert katex_failures(sorted(formulas)) == []


def test_a_bad_optimizer_setting_exits_2_with_one_line_and_writes_nothing(tmp_path):
    from conftest import run_cli

    spec = tmp_path / "net.toml"
    spec.write_text('[network]\nlayers = [1, 1]\nweights = [[[0.5]]]\nbiases = [0.1]\n[data]\ninputs = [1]\n'
                    'targets = [0]\n[training]\noptimizer = "adam"\nbetas = [0.9]\n', encoding="utf-8")
    result = run_cli("render", str(spec), "--output", str(tmp_path / "out"))
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    assert result.stderr.strip().splitlines() == [
        f"explainer: error: {spec}: training.betas: expected 2 numbers (beta1 and beta2), got 1"]


def test_the_usual_optimizer_slips_are_named():
    adam = explainer.derive("examples/adam.toml")
    sheet = "\n".join(["mhat_w5@1 = 0.00821670406",   # the bias correction forgotten: m itself
                       "m_w5@1 = 0.0739503365",       # 0.9 g instead of 0.1 g
                       "w5+ = 0.241886726",           # m and v for m̂ and v̂ in the step
                       "w5+ = 0.350000037"])          # √(v̂ + ε)
    hints = [v.hint.kind for v in explainer.check(sheet, adam)]
    assert hints == ["bias_correction", "beta_swapped", "bias_correction", "eps_in_sqrt"]
    decay = explainer.derive("examples/weight-decay.toml")
    twice = decay.values["dE_total/dw5"] + 2 * mpmath.mpf("0.004")
    (verdict,) = explainer.check(f"dE_reg/dw5 = {mpmath.nstr(twice, 12)}", decay)
    assert verdict.verdict == "wrong" and verdict.hint.kind == "decay_twice"
