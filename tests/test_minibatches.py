"""Mini-batches (``batch_size``, ``shuffle_seed``) against a plain loop written here.

The reference takes the samples in batches as a PyTorch DataLoader does
(``drop_last=False``: the last batch may be smaller), shuffles them per round
with the documented Fisher–Yates draw, and steps with test_optimizers'
re-implementation of torch.optim's rules on hand-written backpropagation;
it shares no code with explainer.  explainer's exact first round and both of
its float64 loops must agree with it.
"""

from __future__ import annotations

import math
import random

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
from test_optimizers import OPTIMIZERS, TorchRule, assert_both_loops_follow, random_spec, reference_gradients, trained


def documented_orders(count, seed):
    """The order of each round as docs/spec.md states it: random.Random(seed), j = int(u * (i + 1))."""
    if seed is None:
        while True:
            yield list(range(count))
    rng = random.Random(seed)
    while True:
        order = list(range(count))
        for i in reversed(range(1, count)):
            j = int(rng.random() * (i + 1))
            order[i], order[j] = order[j], order[i]
        yield order


def reference_minibatch_training(mapping, rounds):
    """Weights, biases and E_total after ``rounds`` rounds of mini-batch steps, by the plain loop."""
    net, data, training = mapping["network"], mapping["data"], mapping["training"]
    weights = [np.array(m, dtype=float) for m in net["weights"]]
    shared = [not isinstance(b, list) for b in net["biases"]]
    biases = [np.full(width, float(b)) if s else np.array(b, dtype=float)
              for width, b, s in zip(net["layers"][1:], net["biases"], shared)]
    inputs = np.array([s["inputs"] for s in data], dtype=float)
    targets = np.array([s["targets"] for s in data], dtype=float)
    size = training.get("batch_size", len(data) if training.get("mode", "batch") == "batch" else 1)
    options = {k: (tuple(map(float, v)) if k == "betas" else float(v)) for k, v in training.items()
               if k in ("momentum", "dampening", "alpha", "betas", "eps", "weight_decay")}
    name = training.get("optimizer", "sgd")
    if name in ("momentum", "nesterov"):
        options["nesterov"] = name == "nesterov"
        options.setdefault("momentum", 0.9)
        name = "sgd"
    if training.get("optimizer") == "adamw":
        options.setdefault("weight_decay", 0.01)
    reduction = training.get("reduction", "mean")
    w_rules = [TorchRule(name, float(training["learning_rate"]), **options) for _ in weights]
    b_rules = [TorchRule(name, float(training["learning_rate"]), **options) for _ in biases]
    orders = documented_orders(len(data), training.get("shuffle_seed"))
    for _ in range(rounds):
        order = next(orders)
        for start in range(0, len(order), size):
            rows = order[start:start + size]
            gw, gb = reference_gradients(weights, biases, shared, inputs[rows], targets[rows], reduction)
            weights = [rule.step(W, g) for rule, W, g in zip(w_rules, weights, gw)]
            if training.get("train_biases"):
                biases = [rule.step(b, g) for rule, b, g in zip(b_rules, biases, gb)]
    return trained(weights, biases, shared, inputs, targets, reduction)


SHAPES = {
    "2-3-1, five samples in batches of 2 (the last of 1)": ([2, 3, 1], 5, {"batch_size": 2}),
    "3-2-2, four samples in batches of 3, sum, biases": ([3, 2, 2], 4, {"batch_size": 3, "reduction": "sum",
                                                                       "train_biases": True}),
    "2-2-2, six samples in batches of 4, shuffled": ([2, 2, 2], 6, {"batch_size": 4, "shuffle_seed": 11,
                                                                    "train_biases": True}),
    "2-2-1, three samples, stochastic": ([2, 2, 1], 3, {"mode": "stochastic", "train_biases": True}),
    "2-2-1, four samples, stochastic, shuffled": ([2, 2, 1], 4, {"batch_size": 1, "shuffle_seed": 5}),
}
NAMES = ["sgd", "momentum with dampening and weight decay", "nesterov", "rmsprop with weight decay", "adam",
         "adam with L2", "adamw with its own decay"]


def _spec(name, shape, seed=4):
    layers, samples, extra = SHAPES[shape]
    settings = {"learning_rate": 0.5} if name == "sgd" else OPTIMIZERS[name]
    mapping = random_spec(seed, layers, samples, {**settings, **extra})
    return mapping, explainer.load_spec(mapping)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_both_training_loops_follow_the_plain_loop(name, shape):
    mapping, spec = _spec(name, shape, seed=len(name) + 3 * len(shape))
    network = Network(spec)
    assert_both_loops_follow(network, 6, reference_minibatch_training(mapping, 6), (name, shape))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["sgd", "momentum with dampening and weight decay", "adam with L2",
                                  "adamw with its own decay"])
def test_the_exact_first_round_follows_the_plain_loop_and_the_loops_start_from_it(name, shape):
    mapping, spec = _spec(name, shape)
    d = explainer.derive(spec)
    weights, biases, error = reference_minibatch_training(mapping, 1)
    exact = [float(d.values[w.updated_key]) for w in d.network.weights]
    assert np.allclose(exact, weights, rtol=1e-12, atol=1e-14), (name, shape)
    assert math.isclose(float(d.values["E_total@1"]), error, rel_tol=1e-12)
    for train in (train_scalar, train_numpy):
        result = train(d.network, 1)
        assert np.allclose(result.weights, exact, rtol=1e-12, atol=1e-14), (train.__name__, name, shape)
        assert math.isclose(result.error, float(d.values["E_total@1"]), rel_tol=1e-12)


def test_each_step_of_the_first_round_is_the_plain_loops():
    """w5 after each mini-batch of the first round, and Adam's first moment, step by step."""
    mapping, spec = _spec("adam", "2-3-1, five samples in batches of 2 (the last of 1)")
    d = explainer.derive(spec)
    for steps in (1, 2, 3):
        one = {**mapping, "data": mapping["data"][:2 * steps] if steps < 3 else mapping["data"]}
        # The first ``steps`` batches are a round of their own over their samples.
        weights, _, _ = reference_minibatch_training(one, 1)
        key = "w7+" if steps == 3 else f"w7+[B{steps}]"
        assert math.isclose(float(d.values[key]), weights[6], rel_tol=1e-12), key
    assert {"m_w7@1", "m_w7@2", "m_w7@3", "mhat_w7@2"} <= set(d.values)


def test_batch_size_generalises_the_modes():
    xor = spec_mapping(load_spec("examples/xor.toml"))
    for mode, size in (("batch", 4), ("stochastic", 1)):
        by_mode = {**xor, "training": {**xor["training"], "mode": mode, "iterations": 3}}
        by_size = {**xor, "training": {**{k: v for k, v in xor["training"].items() if k != "mode"},
                                       "batch_size": size, "iterations": 3}}
        a, b = explainer.derive(by_mode), explainer.derive(by_size)
        assert a.spec.batch_size == b.spec.batch_size == size and b.spec.mode == mode
        assert a.values == b.values and a.to_markdown() == b.to_markdown()
    mini = explainer.load_spec({**xor, "training": {"batch_size": 2}})
    assert (mini.mode, mini.batch_size, mini.shuffle_seed) == ("minibatch", 2, None)
    assert spec_from_mapping(spec_mapping(mini), "again", "xor") == spec_from_mapping(spec_mapping(mini), "again", "xor")
    again = spec_from_mapping(spec_mapping(mini), mini.source, mini.name)
    assert again == mini


def test_the_shuffle_is_the_documented_one_and_fixed_by_its_seed():
    from explainer.maths.batches import round_orders

    for seed in (0, 1, 12345):
        ours, theirs = round_orders(7, seed), documented_orders(7, seed)
        rounds = [next(ours) for _ in range(20)]
        assert [list(r) for r in rounds] == [next(theirs) for _ in range(20)]
        assert all(sorted(r) == list(range(7)) for r in rounds) and len(set(rounds)) > 10
    assert next(round_orders(5, None)) == (0, 1, 2, 3, 4)


def test_the_document_derives_the_first_mini_batch_with_its_samples_named():
    d = explainer.derive("examples/minibatch-adam.toml")
    text = d.to_markdown()
    for words in ("*mini-batches* of two samples", "## The First Mini-batch", "The first mini-batch holds samples 1 and 2.",
                  r"E_{\mathcal{B}_{1}} = \frac{1}{2}(E_{total}^{(1)} + E_{total}^{(2)})",
                  r"\frac{\partial E_{\mathcal{B}_{1}}}{\partial w_5} &= \frac{1}{2}\left(\frac{\partial E_{total}^{(1)}}{\partial w_5}",
                  "## The Other Mini-batches", "The second mini-batch, samples 3 and 4",
                  r"m_{w_5,2} &= \beta_1 * m_{w_5,1}", r"\hat{m}_{w_5,1} &= \frac{m_{w_5,1}}{1 - \beta_1^{1}}",
                  r"w_5^+ &= w_5^{(\mathcal{B}_{1})} - \eta"):
        assert as_words(words) in text, as_words(words)
    shuffled = spec_mapping(d.spec)
    shuffled["training"]["shuffle_seed"] = 3
    text = explainer.derive(shuffled).to_markdown()
    order = [i + 1 for i in next(documented_orders(4, 3))]
    assert f"in the first round they come in the order {', '.join(map(str, order))}." in text
    assert f"We work through sample {order[0]}, the first of the first mini-batch, in full." in text or order[0] == 1


def test_check_reads_a_mini_batch_sheet_as_students_write_it():
    d = explainer.derive("examples/minibatch-adam.toml")
    v = {key: mpmath.nstr(value, 9) for key, value in d.values.items()}
    sheet = "\n".join([f"E_{{B_1}} = {v['E_total[B1]']}", f"dE_B1/dw5 = {v['dE_total/dw5[B1]']}",
                        f"$\\frac{{\\partial E_{{\\mathcal{{B}}_{{1}}}}}}{{\\partial w_5}} = {v['dE_total/dw5[B1]']}$",
                        f"$w_5^{{(\\mathcal{{B}}_{{1}})}} = {v['w5+[B1]']}$", f"m_w5@2 = {v['m_w5@2']}",
                        "w5+[B1] = 0.853", f"E_total[B2] = {v['E_total[B2]']}", f"w5+ = {v['w5+']}"])
    verdicts = [(x.key, x.verdict) for x in explainer.check(sheet, d)]
    assert verdicts == [("E_total[B1]", "correct"), ("dE_total/dw5[B1]", "correct"), ("dE_total/dw5[B1]", "correct"),
                        ("w5+[B1]", "correct"), ("m_w5@2", "correct"), ("w5+[B1]", "wrong"),
                        ("E_total[B2]", "correct"), ("w5+", "correct")]
    # The document's own mini-batch lines read back as correct.
    lines = [x for x in explainer.check(d.to_markdown(), d) if "[B" in (x.key or "")]
    assert len(lines) >= 6 and {x.verdict for x in lines} == {"correct"}


BAD = [
    ({"batch_size": 0}, "training.batch_size: expected an integer from 1 to 4 (the number of samples), got 0"),
    ({"batch_size": 5}, "training.batch_size: expected an integer from 1 to 4 (the number of samples), got 5"),
    ({"batch_size": 2.0}, "training.batch_size: expected an integer from 1 to 4"),
    ({"batch_size": True}, "training.batch_size: expected an integer from 1 to 4 (the number of samples), got true"),
    ({"batch_size": 2, "mode": "batch"}, "training.batch_size: mode = 'batch' means batch_size = 4, every sample, got 2"),
    ({"batch_size": 2, "mode": "stochastic"}, "training.batch_size: mode = 'stochastic' means batch_size = 1, got 2"),
    ({"mode": "minibatch"}, "training.batch_size: missing; mode = 'minibatch' expected a batch_size from 2 to 3"),
    ({"shuffle_seed": 1}, "training.shuffle_seed: one batch of every sample does not depend on their order"),
    ({"batch_size": 2, "shuffle_seed": -1}, "training.shuffle_seed: expected an integer >= 0"),
    ({"batch_size": 2, "update": "sequential"}, "training.update: sequential updates the layers one sample at a time; "
                                                "with mini-batches"),
    ({"mode": "stochastic", "shuffle_seed": 2, "update": "sequential"},
     "training.update: sequential is derived for the samples in the order given"),
]


@pytest.mark.parametrize("training, message", BAD)
def test_bad_batch_settings_are_one_line_errors(training, message):
    mapping = spec_mapping(load_spec("examples/xor.toml"))
    mapping["training"] = {**{k: v for k, v in mapping["training"].items() if k != "mode"}, **training}
    with pytest.raises(SpecError) as error:
        spec_from_mapping(mapping, "xor.toml", "xor")
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


def test_every_formula_of_the_mini_batch_documents_parses_in_katex():
    from conftest import katex_failures
    from test_flavors import commonmark_formulas

    shuffled = spec_mapping(load_spec("examples/minibatch-adam.toml"))
    shuffled["training"] = {**shuffled["training"], "batch_size": 3, "shuffle_seed": 0}
    stochastic = spec_mapping(load_spec("examples/xor.toml"))
    stochastic["training"] = {**stochastic["training"], "mode": "stochastic", "optimizer": "nesterov"}
    formulas = {f for spec in ("examples/minibatch-adam.toml", shuffled, stochastic) for detail in ("source", "full")
                for f in commonmark_formulas(explainer.derive(spec).to_markdown(detail=detail))}
    assert any(r"\mathcal{B}" in tex for tex, _ in formulas)
    assert katex_failures(sorted(formulas)) == []
