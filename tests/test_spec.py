"""Tests of explainer.spec.reading: the built-in example, the three formats, and every malformed spec."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from explainer.spec.errors import SpecError
from explainer.spec.reading import (
    BUILTIN_NAME,
    Sample,
    Spec,
    load_spec,
    parse_spec_text,
    spec_from_mapping,
)

ROOT = Path(__file__).resolve().parents[1]

# The DESIGN.md spec, one field per line so that cases can edit a single line.
BASE_TOML = """\
title = "T"

[network]
layers = [2, 2, 2]
activation = "sigmoid"
loss = "half_squared_error"
weights = [[[0.15, 0.20], [0.25, 0.30]],
           [[0.40, 0.45], [0.50, 0.55]]]
biases = [0.35, 0.60]

[data]
inputs = [0.05, 0.10]
targets = [0.01, 0.99]

[training]
learning_rate = 0.5
update = "simultaneous"
train_biases = false
iterations = 10000
"""

BASE_DICT = {
    "title": "T",
    "network": {
        "layers": [2, 2, 2],
        "activation": "sigmoid",
        "loss": "half_squared_error",
        "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
        "biases": [0.35, 0.60],
    },
    "data": {"inputs": [0.05, 0.10], "targets": [0.01, 0.99]},
    "training": {"learning_rate": 0.5, "update": "simultaneous", "train_biases": False, "iterations": 10000},
}


def D(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(value) for value in values)


def toml_spec(text: str) -> Spec:
    return parse_spec_text(text, "case.toml", "toml")


def assert_spec_error(err: SpecError, source: str, field: str, phrase: str) -> None:
    message = str(err)
    assert "\n" not in message
    assert err.source == source
    assert err.field == field, message
    assert phrase in err.message, message
    assert message.startswith(f"{source}: {field}: " if field else f"{source}: ")


# --- The built-in example -------------------------------------------------------


def test_builtin_has_the_design_values():
    spec = load_spec()
    assert spec.name == BUILTIN_NAME == "backpropagation-example"
    assert spec.source == "<built-in example>"
    assert spec.title == "A Step by Step Backpropagation Example"
    assert spec.layers == (2, 2, 2)
    assert spec.activations == ("sigmoid", "sigmoid")
    assert spec.loss == "half_squared_error"
    assert spec.weights == ((D("0.15", "0.20"), D("0.25", "0.30")), (D("0.40", "0.45"), D("0.50", "0.55")))
    assert spec.biases == (D("0.35"), D("0.60"))
    assert spec.shared_biases == (True, True)
    assert spec.samples == (Sample(D("0.05", "0.10"), D("0.01", "0.99")),)
    assert (spec.inputs, spec.targets) == (D("0.05", "0.10"), D("0.01", "0.99"))
    assert spec.slopes == (None, None)
    assert spec.learning_rate == Decimal("0.5")
    assert spec.update == "simultaneous"
    assert spec.train_biases is False
    assert spec.iterations == 10000
    assert (spec.mode, spec.reduction) == ("batch", "mean")


def test_builtin_keeps_the_numbers_as_written():
    spec = load_spec()
    assert str(spec.weights[1][0][0]) == "0.40"
    assert str(spec.biases[1][0]) == "0.60"
    assert str(spec.inputs[1]) == "0.10"


def test_builtin_and_examples_copy_are_identical():
    shipped = (ROOT / "explainer" / "spec" / "backpropagation-example.toml").read_bytes()
    example = (ROOT / "examples" / "backpropagation-example.toml").read_bytes()
    assert shipped == example


def test_examples_copy_loads_like_the_builtin():
    from_file = load_spec(ROOT / "examples" / "backpropagation-example.toml")
    assert from_file.name == "backpropagation-example"
    assert dataclasses.replace(from_file, source="<built-in example>") == load_spec()


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_spec().iterations = 1


def test_import_does_not_pull_in_sympy_or_numpy():
    code = "import sys, explainer.spec.reading; print(sorted({'sympy', 'numpy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- The three formats ------------------------------------------------------------


def test_toml_json_and_dict_give_equal_specs(tmp_path):
    toml_path = tmp_path / "net.toml"
    toml_path.write_text(BASE_TOML, encoding="utf-8")
    json_path = tmp_path / "other.json"
    # Written by hand rather than json.dumps so that 0.20 keeps its trailing zero.
    json_path.write_text(json.dumps(BASE_DICT).replace("0.2,", "0.20,"), encoding="utf-8")
    from_toml = load_spec(toml_path)
    from_json = load_spec(str(json_path))
    from_dict = load_spec(BASE_DICT)
    assert (from_toml.name, from_toml.source) == ("net", str(toml_path))
    assert (from_json.name, from_json.source) == ("other", str(json_path))
    assert (from_dict.name, from_dict.source) == ("network", "<dict>")
    same = {"name": "x", "source": "y"}
    assert dataclasses.replace(from_toml, **same) == dataclasses.replace(from_json, **same)
    assert dataclasses.replace(from_toml, **same) == dataclasses.replace(from_dict, **same)


def test_json_keeps_the_numbers_as_written():
    spec = parse_spec_text(json.dumps(BASE_DICT).replace("0.4,", "0.40,"), "n.json", "json")
    assert str(spec.weights[1][0][0]) == "0.40"
    assert spec.name == "n"


def test_dict_numbers_become_decimals():
    data = copy.deepcopy(BASE_DICT)
    data["network"]["weights"][0][0] = (1, Decimal("0.20"))  # tuples and ints are fine in a dict
    data["data"]["inputs"] = [0.1, 0.3]
    spec = spec_from_mapping(data, "<dict>", "mine")
    assert spec.name == "mine"
    assert spec.weights[0][0] == (Decimal(1), Decimal("0.20"))
    assert [str(x) for x in spec.inputs] == ["0.1", "0.3"]  # not 0.1000000000000000055...


def test_per_neuron_biases():
    spec = toml_spec(BASE_TOML.replace("biases = [0.35, 0.60]", "biases = [[0.35, 0.36], 0.60]"))
    assert spec.biases == (D("0.35", "0.36"), D("0.60"))
    assert spec.shared_biases == (False, True)


def test_activation_list_and_deeper_network():
    text = (BASE_TOML.replace("layers = [2, 2, 2]", "layers = [2, 3, 1]")
            .replace('activation = "sigmoid"', 'activation = ["sigmoid", "sigmoid"]')
            .replace("[[0.15, 0.20], [0.25, 0.30]],", "[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]],")
            .replace("[[0.40, 0.45], [0.50, 0.55]]]", "[[0.7, 0.8, 0.9]]]")
            .replace("targets = [0.01, 0.99]", "targets = [0.5]"))
    spec = toml_spec(text)
    assert spec.layers == (2, 3, 1)
    assert spec.activations == ("sigmoid", "sigmoid")
    assert spec.weights[1] == (D("0.7", "0.8", "0.9"),)
    assert spec.targets == D("0.5")


def test_optional_fields_take_their_defaults():
    text = BASE_TOML.replace('title = "T"\n', "").replace('activation = "sigmoid"\n', "")
    text = text.replace('loss = "half_squared_error"\n', "").split("[training]")[0]
    spec = toml_spec(text)
    assert spec.title == "A Step by Step Backpropagation Example"
    assert spec.activations == ("sigmoid", "sigmoid")
    assert spec.loss == "half_squared_error"
    assert (spec.learning_rate, spec.update, spec.train_biases, spec.iterations) == (
        Decimal("0.5"), "simultaneous", False, 10000)


def test_sequential_update_and_zero_iterations():
    text = BASE_TOML.replace('"simultaneous"', '"sequential"').replace("= 10000", "= 0")
    spec = toml_spec(text)
    assert (spec.update, spec.iterations) == ("sequential", 0)


def test_every_activation_and_loss_by_name():
    text = BASE_TOML.replace('activation = "sigmoid"', 'activation = ["tanh", "softmax"]')
    spec = toml_spec(text.replace('"half_squared_error"', '"cross_entropy"'))
    assert (spec.activations, spec.loss, spec.slopes) == (("tanh", "softmax"), "cross_entropy", (None, None))
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus"):
        for loss in ("half_squared_error", "squared_error", "mean_squared_error"):
            spec = toml_spec(BASE_TOML.replace('"sigmoid"', f'"{name}"').replace('"half_squared_error"', f'"{loss}"'))
            assert spec.activations == (name, name) and spec.loss == loss


def test_leaky_relu_slope_defaults_and_is_kept_as_written():
    spec = toml_spec(BASE_TOML.replace('activation = "sigmoid"', 'activation = "leaky_relu"'))
    assert spec.slopes == (Decimal("0.01"), Decimal("0.01"))
    text = BASE_TOML.replace('activation = "sigmoid"', 'activation = [{ name = "leaky_relu", slope = 0.20 }, "sigmoid"]')
    spec = toml_spec(text)
    assert spec.activations == ("leaky_relu", "sigmoid")
    assert str(spec.slopes[0]) == "0.20" and spec.slopes[1] is None
    assert toml_spec(BASE_TOML.replace('activation = "sigmoid"', 'activation = { name = "tanh" }')).activations == (
        "tanh", "tanh")


def test_binary_cross_entropy_accepts_targets_at_0_and_1():
    text = BASE_TOML.replace('"half_squared_error"', '"binary_cross_entropy"').replace("[0.01, 0.99]", "[0, 1]")
    assert toml_spec(text).targets == D("0", "1")


SAMPLE_ROWS = ("inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]\n"
               "targets = [[0, 1], [1, 0], [1, 0], [0, 1]]")
SAMPLE_TABLES = "\n".join(f"[[data]]\ninputs = [{a}, {b}]\ntargets = [{int(a != b)}, {int(a == b)}]"
                          for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)))


@pytest.mark.parametrize("data", [f"[data]\n{SAMPLE_ROWS}", SAMPLE_TABLES], ids=["rows", "array of tables"])
def test_several_samples(data):
    text = BASE_TOML.replace("[data]\ninputs = [0.05, 0.10]\ntargets = [0.01, 0.99]", data)
    text = text.replace("iterations = 10000", 'iterations = 10000\nmode = "stochastic"\nreduction = "sum"')
    spec = toml_spec(text)
    assert len(spec.samples) == 4
    assert spec.samples[1] == Sample(D("0", "1"), D("1", "0"))
    assert (spec.mode, spec.reduction) == ("stochastic", "sum")
    assert spec.inputs == D("0", "0")  # the first sample's


def test_training_the_biases():
    assert toml_spec(BASE_TOML.replace("train_biases = false", "train_biases = true")).train_biases is True


# --- Malformed specs ---------------------------------------------------------------

# (id, text replaced in BASE_TOML, its replacement, field, phrase of the message)
TOML_CASES = [
    ("top-level typo", "title = ", "titel = ", "titel", "unknown key; did you mean 'title'?"),
    ("network typo", "activation = ", "activaton = ", "network.activaton", "did you mean 'activation'?"),
    ("unknown key, nothing close", "update = ", "speed = ", "training.speed",
     "unknown key; expected one of: learning_rate, update, train_biases, iterations, mode, reduction"),
    ("title not a string", 'title = "T"', "title = 5", "title", "expected a string, got 5"),
    ("missing layers", "layers = [2, 2, 2]\n", "", "network.layers", "missing; expected a list of layer widths"),
    ("layers not a list", "layers = [2, 2, 2]", "layers = 2", "network.layers", "expected a list of layer widths"),
    ("one layer", "layers = [2, 2, 2]", "layers = [2]", "network.layers",
     "expected at least two layers (inputs and outputs), got 1"),
    ("zero width", "layers = [2, 2, 2]", "layers = [2, 0, 2]", "network.layers[1]",
     "expected a positive integer width, got 0"),
    ("float width", "layers = [2, 2, 2]", "layers = [2, 2.0, 2]", "network.layers[1]", "got 2.0"),
    ("bool width", "layers = [2, 2, 2]", "layers = [2, true, 2]", "network.layers[1]", "got true"),
    ("too many activations", 'activation = "sigmoid"', 'activation = ["sigmoid", "sigmoid", "sigmoid"]',
     "network.activation", "expected 2 names (one per non-input layer), got 3"),
    ("activation not a name", 'activation = "sigmoid"', "activation = 1", "network.activation",
     "expected an activation name or a list of names, got 1"),
    ("activation typo", 'activation = "sigmoid"', 'activation = "sigmod"', "network.activation",
     "unknown activation 'sigmod'; did you mean 'sigmoid'?"),
    ("unknown activation in list", 'activation = "sigmoid"', 'activation = ["sigmoid", "relux"]',
     "network.activation[1]", "unknown activation 'relux'; did you mean 'relu'?"),
    ("unknown activation, nothing close", 'activation = "sigmoid"', 'activation = "step"', "network.activation",
     "unknown activation 'step'; expected 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'linear', 'softplus' or 'softmax'"),
    ("activation table without name", 'activation = "sigmoid"', 'activation = { slope = 0.1 }',
     "network.activation.name", "missing; expected 'sigmoid', 'tanh'"),
    ("activation table typo", 'activation = "sigmoid"', 'activation = { name = "leaky_relu", slop = 0.1 }',
     "network.activation.slop", "unknown key; did you mean 'slope'?"),
    ("slope on another activation", 'activation = "sigmoid"', 'activation = ["sigmoid", { name = "relu", slope = 0.1 }]',
     "network.activation[1].slope", "only leaky_relu has a slope, not relu"),
    ("slope out of range", 'activation = "sigmoid"', 'activation = { name = "leaky_relu", slope = 1.5 }',
     "network.activation.slope", "expected a number between 0 and 1 (exclusive) such as 0.01, got 1.5"),
    ("slope not a number", 'activation = "sigmoid"', 'activation = { name = "leaky_relu", slope = "small" }',
     "network.activation.slope", "expected a number, got the string 'small'"),
    ("softmax on every layer", 'activation = "sigmoid"', 'activation = "softmax"', "network.activation",
     "softmax is only for the output layer"),
    ("softmax on a hidden layer", 'activation = "sigmoid"', 'activation = ["softmax", "sigmoid"]',
     "network.activation[0]", "softmax is only for the output layer"),
    ("cross-entropy without softmax", '"half_squared_error"', '"cross_entropy"', "network.loss",
     "cross_entropy needs softmax on the output layer, got sigmoid; for one sigmoid output per class use "
     "binary_cross_entropy"),
    ("binary cross-entropy on relu", 'activation = "sigmoid"\nloss = "half_squared_error"',
     'activation = "relu"\nloss = "binary_cross_entropy"', "network.loss",
     "binary_cross_entropy needs outputs between 0 and 1 (sigmoid or softmax on the output layer), got relu"),
    ("missing weights", "weights = [[[0.15, 0.20], [0.25, 0.30]],\n           [[0.40, 0.45], [0.50, 0.55]]]\n",
     "", "network.weights", "missing; expected"),
    ("weights not a list", "weights = [[[0.15, 0.20], [0.25, 0.30]],\n           [[0.40, 0.45], [0.50, 0.55]]]",
     "weights = 0.5", "network.weights", "expected a list of 2 matrices (one per pair of adjacent layers), got 0.5"),
    ("one matrix short", ",\n           [[0.40, 0.45], [0.50, 0.55]]]", "]", "network.weights",
     "expected 2 matrices (one per pair of adjacent layers), got 1"),
    ("matrix row missing", "[[0.40, 0.45], [0.50, 0.55]]", "[[0.40, 0.45]]", "network.weights[1]",
     "expected 2 rows (one per neuron of layer 2), got 1"),
    ("row too long", "[0.40, 0.45]", "[0.40, 0.45, 0.47]", "network.weights[1][0]",
     "expected 2 numbers (one per neuron of layer 1), got 3"),
    ("row not a list", "[0.40, 0.45]", "0.40", "network.weights[1][0]", "expected a list of 2 numbers"),
    ("string as number", "0.45", '"0.45"', "network.weights[1][0][1]", "expected a number, got the string '0.45'"),
    ("bool as number", "0.45", "true", "network.weights[1][0][1]", "expected a number, got true"),
    ("nan", "0.45", "nan", "network.weights[1][0][1]", "expected a finite number, got NaN"),
    ("inf", "0.15", "-inf", "network.weights[0][0][0]", "expected a finite number, got -Infinity"),
    ("missing biases", "biases = [0.35, 0.60]\n", "", "network.biases", "missing; expected one bias per non-input layer"),
    ("too many biases", "biases = [0.35, 0.60]", "biases = [0.35, 0.60, 0.7]", "network.biases",
     "expected 2 entries (one per non-input layer), got 3"),
    ("bias list too long", "biases = [0.35, 0.60]", "biases = [0.35, [0.60, 0.61, 0.62]]", "network.biases[1]",
     "expected 2 numbers (one per neuron of layer 2), got 3"),
    ("bias not a number", "biases = [0.35, 0.60]", 'biases = [0.35, "x"]', "network.biases[1]",
     "expected a number (shared by layer 2) or a list of 2 numbers, got the string 'x'"),
    ("bias inf", "biases = [0.35, 0.60]", "biases = [inf, 0.60]", "network.biases[0]", "expected a finite number"),
    ("missing data", "[data]\ninputs = [0.05, 0.10]\ntargets = [0.01, 0.99]\n", "", "data",
     "missing; expected a table with inputs and targets"),
    ("unknown data key", "inputs = ", "input = ", "data.input", "did you mean 'inputs'?"),
    ("too few inputs", "inputs = [0.05, 0.10]", "inputs = [0.05]", "data.inputs",
     "expected 2 numbers (one per input neuron, as layers[0] says), got 1"),
    ("inputs not a list", "inputs = [0.05, 0.10]", "inputs = 0.05", "data.inputs", "expected a list of 2 numbers"),
    ("too many targets", "targets = [0.01, 0.99]", "targets = [0.01, 0.99, 0.5]", "data.targets",
     "expected 2 numbers (one per output neuron, as layers[-1] says), got 3"),
    ("missing targets", "targets = [0.01, 0.99]\n", "", "data.targets", "missing; expected 2 numbers"),
    ("target string", "targets = [0.01, 0.99]", 'targets = [0.01, "high"]', "data.targets[1]",
     "expected a number, got the string 'high'"),
    ("learning rate 0", "learning_rate = 0.5", "learning_rate = 0", "training.learning_rate",
     "expected a number > 0, got 0"),
    ("negative learning rate", "learning_rate = 0.5", "learning_rate = -0.5", "training.learning_rate",
     "expected a number > 0, got -0.5"),
    ("learning rate string", "learning_rate = 0.5", 'learning_rate = "fast"', "training.learning_rate",
     "expected a number, got the string 'fast'"),
    ("update typo", '"simultaneous"', '"sequental"', "training.update",
     "unknown update 'sequental'; did you mean 'sequential'?"),
    ("unknown update", '"simultaneous"', '"batch"', "training.update", "expected 'simultaneous' or 'sequential'"),
    ("mode typo", "iterations = 10000", 'iterations = 10000\nmode = "stochastc"', "training.mode",
     "unknown mode 'stochastc'; did you mean 'stochastic'?"),
    ("reduction unknown", "iterations = 10000", 'iterations = 10000\nreduction = "max"', "training.reduction",
     "unknown reduction 'max'; expected 'mean' or 'sum'"),
    ("train biases not a bool", "train_biases = false", 'train_biases = "no"', "training.train_biases",
     "expected true or false, got the string 'no'"),
    ("negative iterations", "iterations = 10000", "iterations = -1", "training.iterations",
     "expected an integer >= 0, got -1"),
    ("float iterations", "iterations = 10000", "iterations = 10.0", "training.iterations",
     "expected an integer >= 0 such as 10000, got 10.0"),
    ("exponent iterations", "iterations = 10000", "iterations = 1e4", "training.iterations", "got 1E+4"),
    ("too many iterations", "iterations = 10000", "iterations = 10_000_001", "training.iterations",
     "expected at most 10000000 iterations, got 10000001"),
    ("first problem wins", "layers = [2, 2, 2]", "layers = [2, 0]", "network.layers[1]", "got 0"),
]


@pytest.mark.parametrize(("old", "new", "field", "phrase"), [case[1:] for case in TOML_CASES],
                         ids=[case[0] for case in TOML_CASES])
def test_malformed_toml(old, new, field, phrase):
    assert old in BASE_TOML
    with pytest.raises(SpecError) as caught:
        toml_spec(BASE_TOML.replace(old, new, 1))
    assert_spec_error(caught.value, "case.toml", field, phrase)


# (id, replacements in BASE_TOML, field, phrase): cases that need more than one edit.
MULTI_EDIT_CASES = [
    ("binary cross-entropy target above 1",
     [('"half_squared_error"', '"binary_cross_entropy"'), ("targets = [0.01, 0.99]", "targets = [0.01, 1.5]")],
     "data.targets[1]", "expected a number from 0 to 1 for binary_cross_entropy, got 1.5"),
    ("cross-entropy targets not adding up to 1",
     [('activation = "sigmoid"', 'activation = ["tanh", "softmax"]'), ('"half_squared_error"', '"cross_entropy"'),
      ("targets = [0.01, 0.99]", "targets = [0.2, 0.7]")],
     "data.targets", "expected targets that add up to 1 for cross_entropy (a probability per class), got a sum of 0.9"),
    ("cross-entropy negative target",
     [('activation = "sigmoid"', 'activation = ["tanh", "softmax"]'), ('"half_squared_error"', '"cross_entropy"'),
      ("targets = [0.01, 0.99]", "targets = [-0.5, 1.5]")],
     "data.targets[0]", "expected a number from 0 to 1 for cross_entropy, got -0.5"),
    ("softmax with one output",
     [("layers = [2, 2, 2]", "layers = [2, 2, 1]"), ('activation = "sigmoid"', 'activation = ["tanh", "softmax"]'),
      ("[[0.40, 0.45], [0.50, 0.55]]]", "[[0.40, 0.45]]]"), ("targets = [0.01, 0.99]", "targets = [1]")],
     "network.activation", "softmax needs at least 2 output neurons"),
    ("rows of targets missing",
     [("inputs = [0.05, 0.10]", "inputs = [[0.05, 0.10], [0.2, 0.3]]"), ("targets = [0.01, 0.99]", "targets = [[0.01, 0.99]]")],
     "data.targets", "expected 2 rows of 2 numbers (one per row of inputs), got a list of 1 item"),
    ("row of inputs too short",
     [("inputs = [0.05, 0.10]", "inputs = [[0.05, 0.10], [0.2]]"), ("targets = [0.01, 0.99]", "targets = [[0.01, 0.99], [0, 1]]")],
     "data.inputs[1]", "expected 2 numbers (one per input neuron, as layers[0] says), got 1"),
    ("array of tables, bad target",
     [("[data]\ninputs = [0.05, 0.10]\ntargets = [0.01, 0.99]",
       "[[data]]\ninputs = [0.05, 0.10]\ntargets = [0.01, 0.99]\n[[data]]\ninputs = [0.1, 0.2]\ntargets = [0.5, \"x\"]")],
     "data[1].targets[1]", "expected a number, got the string 'x'"),
    ("array of tables, typo",
     [("[data]\ninputs = [0.05, 0.10]\ntargets = [0.01, 0.99]",
       "[[data]]\ninputs = [0.05, 0.10]\ntarget = [0.01, 0.99]")],
     "data[0].target", "unknown key; did you mean 'targets'?"),
    ("sequential batch of several samples",
     [("inputs = [0.05, 0.10]", "inputs = [[0.05, 0.10], [0.2, 0.3]]"),
      ("targets = [0.01, 0.99]", "targets = [[0.01, 0.99], [0, 1]]"), ('"simultaneous"', '"sequential"')],
     "training.update", "sequential updates the layers one sample at a time; with several samples expected "
                        "mode = 'stochastic' or update = 'simultaneous'"),
]


@pytest.mark.parametrize(("edits", "field", "phrase"), [case[1:] for case in MULTI_EDIT_CASES],
                         ids=[case[0] for case in MULTI_EDIT_CASES])
def test_malformed_toml_with_several_edits(edits, field, phrase):
    text = BASE_TOML
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    with pytest.raises(SpecError) as caught:
        toml_spec(text)
    assert_spec_error(caught.value, "case.toml", field, phrase)


def _set(path: str, value):
    def edit(data):
        *parents, last = path.split(".")
        table = data
        for key in parents:
            table = table[key]
        table[last] = value
    return edit


DICT_CASES = [
    ("network not a table", _set("network", 3), "network", "expected a table, got 3"),
    ("training not a table", _set("training", []), "training", "expected a table, got a list of 0 items"),
    ("float nan", _set("data.inputs", [0.05, float("nan")]), "data.inputs[1]", "expected a finite number, got nan"),
    ("float inf", _set("data.targets", [float("inf"), 0.5]), "data.targets[0]", "expected a finite number, got inf"),
    ("Decimal NaN", _set("training.learning_rate", Decimal("NaN")), "training.learning_rate",
     "expected a finite number, got NaN"),
    ("bool target", _set("data.targets", [True, 0.5]), "data.targets[0]", "expected a number, got true"),
    ("None learning rate", _set("training.learning_rate", None), "training.learning_rate",
     "expected a number, got null"),
    ("bool iterations", _set("training.iterations", True), "training.iterations", "got true"),
    ("iterations as float", _set("training.iterations", 100.0), "training.iterations", "got 100.0"),
    ("bool layer", _set("network.layers", [2, False]), "network.layers[1]", "got false"),
    ("multi-line title", _set("title", "A\nB"), "title", "expected a one-line string"),
    ("update not a string", _set("training.update", 1), "training.update",
     "expected 'simultaneous' or 'sequential', got 1"),
    ("multi-line key", _set("data.in\nputs", 1), 'data."in\\nputs"', "unknown key"),
]


@pytest.mark.parametrize(("edit", "field", "phrase"), [case[1:] for case in DICT_CASES],
                         ids=[case[0] for case in DICT_CASES])
def test_malformed_dict(edit, field, phrase):
    data = copy.deepcopy(BASE_DICT)
    edit(data)
    with pytest.raises(SpecError) as caught:
        load_spec(data)
    assert_spec_error(caught.value, "<dict>", field, phrase)


def test_top_level_not_a_mapping():
    with pytest.raises(SpecError) as caught:
        spec_from_mapping([1, 2], "<dict>", "network")
    assert_spec_error(caught.value, "<dict>", "", "expected a table at the top level, got a list of 2 items")


def test_load_spec_rejects_other_types():
    with pytest.raises(TypeError):
        load_spec(42)


# --- Files -----------------------------------------------------------------------

JSON_TEXT = json.dumps(BASE_DICT)

# (id, file name, content, field, phrase); content None means no file is written.
FILE_CASES = [
    ("missing file", "absent.toml", None, "", "cannot read: No such file or directory"),
    ("unknown suffix", "spec.yaml", BASE_TOML.encode(), "", "expected a .toml or .json file, got 'spec.yaml'"),
    ("invalid UTF-8", "spec.toml", b'title = "\xff"\n', "", "cannot read: not UTF-8 text"),
    ("bad TOML", "spec.toml", BASE_TOML.replace("[2, 2, 2]", "[2, 2, 2").encode(), "",
     "invalid TOML: "),
    ("bad JSON", "spec.json", b'{"title": "T",\n "network": }', "", "invalid JSON: Expecting value (line 2, column"),
    ("JSON list", "spec.json", b"[1, 2]", "", "expected a table at the top level, got a list of 2 items"),
    ("JSON NaN", "spec.json", JSON_TEXT.replace('"learning_rate": 0.5', '"learning_rate": NaN').encode(),
     "training.learning_rate",
     "expected a finite number, got nan"),
    ("JSON bool", "spec.json", JSON_TEXT.replace("0.05", "false").encode(), "data.inputs[0]",
     "expected a number, got false"),
    ("JSON typo", "spec.json", JSON_TEXT.replace('"layers"', '"layer"').encode(), "network.layer",
     "did you mean 'layers'?"),
]


@pytest.mark.parametrize(("filename", "content", "field", "phrase"), [case[1:] for case in FILE_CASES],
                         ids=[case[0] for case in FILE_CASES])
def test_malformed_file(tmp_path, filename, content, field, phrase):
    path = tmp_path / filename
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpecError) as caught:
        load_spec(str(path))
    assert_spec_error(caught.value, str(path), field, phrase)


def test_bad_toml_names_line_and_column(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(BASE_TOML.replace("iterations = 10000", "iterations = "), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert "line 19" in caught.value.message and "column" in caught.value.message


def test_directory_cannot_be_read(tmp_path):
    path = tmp_path / "dir.toml"
    path.mkdir()
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert_spec_error(caught.value, str(path), "", "cannot read: ")


@pytest.mark.parametrize(("filename", "text"), [("bom.toml", BASE_TOML), ("bom.json", JSON_TEXT)])
def test_byte_order_mark_is_tolerated(tmp_path, filename, text):
    path = tmp_path / filename
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_spec(path).layers == (2, 2, 2)


def test_source_is_the_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("net.toml").write_text(BASE_TOML, encoding="utf-8")
    spec = load_spec("net.toml")
    assert (spec.source, spec.name) == ("net.toml", "net")


def test_the_mapping_of_a_spec_reads_back_as_the_spec():
    from explainer.spec.reading import spec_from_mapping, spec_mapping

    from conftest import shipped_and_other_specs

    for name, source in shipped_and_other_specs().items():
        spec = load_spec(source)
        again = spec_from_mapping(spec_mapping(spec), spec.source, spec.name)
        assert again == spec, name
    mapping = spec_mapping(load_spec())
    assert mapping["network"]["weights"][1][0] == [Decimal("0.40"), Decimal("0.45")]  # as written
    assert mapping["network"]["activation"] == "sigmoid" and mapping["network"]["biases"] == [Decimal("0.35"), Decimal("0.60")]


def test_the_mapping_keeps_the_other_fields_of_a_spec_at_the_top_level():
    from explainer.spec.reading import Spec, spec_mapping

    @dataclasses.dataclass(frozen=True)
    class Layout:
        paper: str = "a4"

    @dataclasses.dataclass(frozen=True)
    class Annotated(Spec):
        semester: str = "Week 1"
        layout: Layout = Layout()

    spec = Annotated(**{field.name: getattr(load_spec(), field.name) for field in dataclasses.fields(Spec)})
    mapping = spec_mapping(spec)
    assert (mapping["semester"], mapping["layout"]) == ("Week 1", {"paper": "a4"})
    assert {"title", "semester", "layout", "network", "data", "training"} <= set(mapping)
