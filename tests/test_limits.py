"""The size limits: each refused up front, in one line naming the field and the limit."""

from __future__ import annotations

import pytest

import explainer
from explainer.spec import limits
from explainer.spec.errors import SpecError
from explainer.outputs.render import render


def spec(layers, iterations=1, weight=0.1, **network):
    return {
        "network": {"layers": layers,
                    "weights": [[[weight] * layers[l] for _ in range(layers[l + 1])] for l in range(len(layers) - 1)],
                    "biases": [0.1] * (len(layers) - 1), **network},
        "data": {"inputs": [0.5] * layers[0], "targets": [0.5] * layers[-1]},
        "training": {"iterations": iterations},
    }


def test_weight_count():
    assert limits.weight_count((2, 2, 2)) == 8
    assert limits.weight_count((10, 30, 20, 10)) == 1_100


@pytest.mark.parametrize(
    "layers, field, words",
    [
        ([2] * 13, "network.layers", "expected at most 12 layers, got 13"),
        ([1001, 1], "network.layers[0]", "at most 1,000 neurons, got 1,001"),
        ([150, 150, 1], "network.layers", "expected at most 20,000 weights for explainer values, got 22,650"),
    ],
)
def test_too_large_for_values(layers, field, words):
    with pytest.raises(SpecError) as error:
        explainer.derive(spec(layers))
    assert error.value.field == field and words in str(error.value) and "\n" not in str(error.value)


def test_a_network_for_values_may_be_too_large_for_a_document():
    derivation = explainer.derive(spec([40, 40, 1], iterations=0))  # 1,640 weights: fine for values
    with pytest.raises(SpecError, match="expected at most 1,500 weights for a readable document, got 1,640"):
        render(derivation, "markdown")


def test_training_work_is_bounded():
    with pytest.raises(SpecError) as error:
        explainer.derive(spec([20, 20, 20], iterations=10_000_000))
    assert error.value.field == "training.iterations"
    assert "expected at most 2,500,000 rounds for 800 weights, got 10,000,000" in str(error.value)


@pytest.mark.parametrize(
    "weight, words",
    [(1e7, "expected a number between -1e6 and 1e6, got 10000000.0"),
     (-2e300, "expected a number between -1e6 and 1e6"),
     ("0.1234567890123456789012345678901", "expected at most 30 significant digits")],
)
def test_enormous_or_overly_precise_parameters(tmp_path, weight, words):
    path = tmp_path / "net.toml"
    path.write_text(f"[network]\nlayers = [1, 1]\nweights = [[[{weight}]]]\nbiases = [0.1]\n"
                    "[data]\ninputs = [0.5]\ntargets = [0.5]\n")
    with pytest.raises(SpecError) as error:
        explainer.derive(str(path))
    assert error.value.field == "network.weights[0][0][0]" and words in str(error.value)


def test_the_limits_leave_the_shipped_sizes_alone():
    explainer.derive(spec([10, 30, 20, 10], iterations=2))  # the largest network the benchmarks use


def test_every_sample_is_within_the_limits():
    data = [{"inputs": [0.5], "targets": [0.5]}, {"inputs": [2e6], "targets": [0.5]}]
    with pytest.raises(SpecError) as error:
        explainer.derive({"network": {"layers": [1, 1], "weights": [[[0.1]]], "biases": [0.1]}, "data": data})
    assert error.value.field == "data[1].inputs[0]" and "between -1e6 and 1e6" in str(error.value)
