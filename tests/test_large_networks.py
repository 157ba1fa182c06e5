"""Large networks: their values against a forward and backward pass written here with numpy, the
records their derivation shares, the exact sums and products it evaluates with, and the collector
it pauses."""

from __future__ import annotations

import gc
import random

import mpmath
import numpy as np

import explainer
from explainer.maths import formulas, numeric, shapes
from explainer.maths.derivation import ZERO_POWER, Derivation, out_sym, param_sym, values_of
from explainer.maths.formulas import ZERO, Add, Mul, Num, Partial, Sym, exact_sum, product
from explainer.spec.reading import spec_from_mapping

LAYERS = [20, 50, 20]  # 2,000 weights: past the composed cross-check's size


def spec_of(layers, seed=3, iterations=1):
    rng = random.Random(seed)
    weights = [[[round(rng.uniform(-0.5, 0.5), 2) for _ in range(layers[l])] for _ in range(layers[l + 1])]
               for l in range(len(layers) - 1)]
    data = {"network": {"layers": layers, "weights": weights,
                        "biases": [round(rng.uniform(-0.5, 0.5), 2) for _ in layers[1:]]},
            "data": {"inputs": [round(rng.uniform(0, 1), 2) for _ in range(layers[0])],
                     "targets": [round(rng.uniform(0.1, 0.9), 2) for _ in range(layers[-1])]},
            "training": {"iterations": iterations, "learning_rate": 0.5}}
    return spec_from_mapping(data, "<test>", "test"), data


def numpy_round(data):
    """Sigmoid layers, squared error ½(t - o)², shared biases: forward, backward, one update, in float64."""
    W = [np.array(m, dtype=np.float64) for m in data["network"]["weights"]]
    b = [float(x) for x in data["network"]["biases"]]
    x = np.array(data["data"]["inputs"], dtype=np.float64)
    t = np.array(data["data"]["targets"], dtype=np.float64)
    eta = data["training"]["learning_rate"]

    def forward(W):
        outs, nets = [x], []
        for Wl, bl in zip(W, b):
            nets.append(Wl @ outs[-1] + bl)
            outs.append(1 / (1 + np.exp(-nets[-1])))
        return outs, nets

    outs, nets = forward(W)
    error = float(0.5 * ((t - outs[-1]) ** 2).sum())
    delta = (outs[-1] - t) * outs[-1] * (1 - outs[-1])
    gradients, signals = [None] * len(W), [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        signals[l] = delta
        gradients[l] = np.outer(delta, outs[l])
        if l:
            delta = (W[l].T @ delta) * outs[l] * (1 - outs[l])
    updated = [Wl - eta * g for Wl, g in zip(W, gradients)]
    after, _ = forward(updated)
    return {"outs": outs, "nets": nets, "error": error, "gradients": gradients, "signals": signals,
            "updated": updated, "error_after": float(0.5 * ((t - after[-1]) ** 2).sum())}


def close(a, b, what):
    assert abs(float(a) - b) <= 1e-10 * max(1.0, abs(b)), (what, float(a), b)


def test_a_large_networks_values_equal_a_numpy_pass_written_for_it():
    spec, data = spec_of(LAYERS)
    d = Derivation(spec)
    n = d.network
    assert len(n.weights) == 2_000
    reference = numpy_round(data)
    for l, layer in enumerate(n.layers[1:], start=1):
        for neuron in layer:
            close(d.values[neuron.net_key], reference["nets"][l - 1][neuron.index], neuron.net_key)
            close(d.values[neuron.out_key], reference["outs"][l][neuron.index], neuron.out_key)
            close(d.values[f"dE_total/d{neuron.net_key}"], reference["signals"][l - 1][neuron.index], neuron.name)
    for w in n.weights:
        l, j, i = w.target.layer - 1, w.target.index, w.source.index
        close(d.values[f"dE_total/d{w.key}"], reference["gradients"][l][j, i], w.key)
        close(d.values[w.updated_key], reference["updated"][l][j, i], w.updated_key)
    close(d.values["E_total"], reference["error"], "E_total")
    close(d.values["E_total@1"], reference["error_after"], "E_total@1")


def quantities(node, found):
    """Every Sym and Partial record in a formula, appended to ``found``."""
    if isinstance(node, tuple):
        for item in node:
            quantities(item, found)
    elif isinstance(node, (Sym, Partial)):
        found.append(node)
        if isinstance(node, Partial):
            quantities((node.of, node.wrt), found)
    elif hasattr(node, "__dataclass_fields__"):
        for name in node.__dataclass_fields__:
            quantities(getattr(node, name), found)
    return found


def test_a_large_derivation_holds_one_record_for_each_quantity():
    """A weight's symbol, a neuron's output, a written 0: each is one record, however many formulas hold it.

    (The first derivation of its shape: later ones take the local factors, equal records, from it.)"""
    shapes.forget()
    d = Derivation(spec_of(LAYERS)[0])
    records: dict = {}
    for equation in d.equations.values():
        for record in quantities(equation.forms, []):
            if isinstance(record, Sym) and record.key is not None:
                records.setdefault((record.tex, record.key), set()).add(id(record))
    shared = [ids for (_, key), ids in records.items() if key.startswith(("w", "out_", "net_"))]
    assert len(shared) > 4_000 and all(len(ids) == 1 for ids in shared)
    w = d.network.weights[0]
    rule = d.equations[f"d{w.target.net_key}/d{w.key}"].forms[1]
    assert isinstance(rule, Add) and len(rule.terms) == len(d.network.incoming(w.target)) + 1
    assert rule.terms[0] == Mul((Num("1"), out_sym(w.source), formulas.Pow(param_sym(w), ZERO_POWER)))
    assert all(term is ZERO for term in rule.terms[1:])


def test_a_sum_that_leaves_out_the_written_zeros_is_fsums():
    values = {"a": mpmath.mpf("0.25"), "b": mpmath.mpf(1) / 3}
    with mpmath.workdps(50):
        for terms in [(Sym("a", "a"), ZERO, ZERO), (ZERO,), (ZERO, Num("0"), Sym("b", "b")), ()]:
            expected = mpmath.fsum([formulas.evaluate(t, values) for t in terms])
            assert formulas.evaluate(Add(terms), values)._mpf_ == expected._mpf_


def test_exact_sums_and_products_are_fsums_and_fprods_to_the_bit():
    rng = random.Random(5)
    for digits in (15, 50, 90):
        with mpmath.workdps(digits):
            for _ in range(500):
                xs = [mpmath.mpf(rng.uniform(-1, 1)) * mpmath.mpf(10) ** rng.randint(-40, 40) / 7
                      for _ in range(rng.randint(0, 6))] + [mpmath.mpf(0)] * rng.randint(0, 1)
                ys = [mpmath.mpf(rng.uniform(-1, 1)) / 3 for _ in xs]
                assert exact_sum(xs)._mpf_ == mpmath.fsum(xs)._mpf_
                assert product(xs)._mpf_ == mpmath.fprod(xs)._mpf_
                assert numeric.weighted_sum(xs, ys)._mpf_ == mpmath.fsum([x * y for x, y in zip(xs, ys)])._mpf_
            assert exact_sum([1, mpmath.mpf(2)]) == 3 and product([2, mpmath.mpf(3)]) == 6


def test_a_product_with_factors_of_exactly_one_is_fprods_to_the_bit():
    rng = random.Random(7)
    one, specials = mpmath.mpf(1), [mpmath.inf, -mpmath.inf, mpmath.nan, mpmath.mpf(0), mpmath.mpf(-1)]
    for digits in (15, 50):
        with mpmath.workdps(digits):
            for _ in range(300):
                xs = [mpmath.mpf(rng.uniform(-1, 1)) / 7 for _ in range(rng.randint(0, 3))]
                xs += [one] * rng.randint(1, 3) + rng.sample(specials, rng.randint(0, 1))
                rng.shuffle(xs)
                assert product(xs)._mpf_ == mpmath.fprod(xs)._mpf_, xs
        with mpmath.workdps(80):
            wide = mpmath.mpf(1) / 3  # more bits than the precision below: rounded, as 1 times it is
        with mpmath.workdps(digits):
            for xs in ([one, wide], [wide, one], [one, one, wide], [wide, one, one]):
                assert product(xs)._mpf_ == mpmath.fprod(xs)._mpf_


def test_values_alone_are_the_derivations_values_in_its_order():
    """``values_of`` keeps no document, and gives every value of the derivation, in the same order, to the bit."""
    cases = [spec_of([6, 9, 5], iterations=3)[1], spec_of([3, 4, 2], seed=5)[1]]
    tanh = spec_of([5, 8, 4, 3], seed=8, iterations=2)[1]
    tanh["network"]["activation"] = "tanh"
    tanh["training"].update({"train_biases": True, "update": "sequential"})
    adam = spec_of([4, 7, 3], seed=9, iterations=4)[1]
    adam["training"]["optimizer"] = "adam"
    several = spec_of([4, 6, 2], seed=4)[1]
    several["data"] = [several["data"], {"inputs": [0.5] * 4, "targets": [0.25, 0.75]}]
    for data in [*cases, tanh, adam, several]:
        spec = spec_from_mapping(data, "<test>", "test")
        shapes.forget()
        first = values_of(spec)  # the first derivation of its shape
        shapes.forget()
        full = Derivation(spec).values
        again = values_of(spec)  # one that takes its shape's work from the derivation before it
        for alone in (first, again):
            assert list(alone) == list(full)
            assert all(alone[k]._mpf_ == full[k]._mpf_ for k in full)


def test_a_central_difference_steps_both_sides_as_shifted_does():
    point = {"a": mpmath.mpf("0.3"), "b": mpmath.mpf("-1.7")}
    direction = {"a": mpmath.mpf(3), "b": mpmath.mpf(-5)}
    seen = []

    def error(at):
        seen.append(at)
        return at["a"] ** 2 + at["a"] * at["b"]

    with mpmath.workdps(50):
        numeric.directional_difference(error, point, direction)
        assert seen == [numeric.shifted(point, direction, 1), numeric.shifted(point, direction, -1)]


def test_the_collector_runs_again_after_a_derivation_as_it_did_before():
    spec = spec_of([3, 4, 2])[0]
    assert gc.isenabled()
    explainer.derive(spec)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        explainer.derive(spec)
        assert not gc.isenabled()
    finally:
        gc.enable()
