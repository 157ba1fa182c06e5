"""Property-based: any valid spec within the limits derives, renders and checks out."""

from __future__ import annotations

import math

import mpmath
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explainer
from explainer.maths import numeric
from explainer.outputs.render import render

two_decimals = st.integers(-300, 300).map(lambda n: n / 100)
unit = st.integers(0, 100).map(lambda n: n / 100)


@st.composite
def specs(draw):
    layers = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    weights = [[[draw(two_decimals) for _ in range(layers[l])] for _ in range(layers[l + 1])]
               for l in range(len(layers) - 1)]
    biases = [draw(st.one_of(two_decimals, st.lists(two_decimals, min_size=w, max_size=w))) for w in layers[1:]]
    return {
        "title": draw(st.text(min_size=1, max_size=30).filter(lambda t: "\n" not in t and "\r" not in t)),
        "network": {"layers": layers, "weights": weights, "biases": biases},
        "data": {"inputs": [draw(unit) for _ in range(layers[0])], "targets": [draw(unit) for _ in range(layers[-1])]},
        "training": {"learning_rate": draw(st.sampled_from([0.1, 0.5, 1.0])),
                     "update": draw(st.sampled_from(["simultaneous", "sequential"])),
                     "iterations": draw(st.integers(0, 30))},
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_a_valid_spec_derives_renders_and_its_gradients_are_right(spec):
    derivation = explainer.derive(spec)  # raises DerivationMismatch if a gradient disagrees with its checks
    assert all(mpmath.isfinite(v) for v in derivation.values.values())
    for fmt in ("markdown", "latex", "html"):
        assert render(derivation, fmt).strip()
    # And one more check of our own: the first weight's gradient against a float central difference.
    network = derivation.network
    if spec["training"]["update"] == "simultaneous" or network.layers[1] is network.outputs:
        w = network.weights[0]
        point = {k: numeric.mp(v) for k, v in network.parameter_values().items()}
        with mpmath.workdps(30):
            h = mpmath.mpf("1e-10")
            up, down = dict(point), dict(point)
            up[w.key] += h
            down[w.key] -= h
            difference = (numeric.forward_error(network, up)[0] - numeric.forward_error(network, down)[0]) / (2 * h)
        assert math.isclose(float(difference), float(derivation.values[f"dE_total/d{w.key}"]), rel_tol=1e-8, abs_tol=1e-15)
