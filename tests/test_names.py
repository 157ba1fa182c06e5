"""What users write for a quantity, and the key it names."""

from __future__ import annotations

import pytest

import explainer
from explainer.grading.names import Names, canonical

DEEP = {
    "network": {
        "layers": [2, 2, 2, 1],
        "weights": [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]], [[0.9, 1.0]]],
        "biases": [[0.1, 0.2], 0.3, 0.4],
    },
    "data": {"inputs": [0.5, 1.0], "targets": [0.25]},
    "training": {"iterations": 1},
}


@pytest.fixture(scope="module")
def names(default_derivation) -> Names:
    return Names(default_derivation)


@pytest.fixture(scope="module")
def deep_names() -> Names:
    return Names(explainer.derive(DEEP))


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("out_h1", "out_h1"),
        ("out_{h1}", "out_h1"),
        (r"\text{out}_{h1}", "out_h1"),
        ("out_{h_1}", "out_h1"),
        ("out_{ h1 }", "out_h1"),
        ("net_{o2}", "net_o2"),
        ("w_5", "w5"),
        ("w5", "w5"),
        ("w_5^+", "w5+"),
        ("w_{5}^{+}", "w5+"),
        ("w5+", "w5+"),
        ("i_1", "i1"),
        ("out_{i1}", "i1"),
        ("b_1", "b1"),
        ("target_{o1}", "target_o1"),
        (r"\eta", "eta"),
        ("η", "eta"),
        ("E_{total}", "E_total"),
        ("E_{o1}", "E_o1"),
        ("E_total@1", "E_total@1"),
        ("out_o1@10000", "out_o1@10000"),
        ("w1@10000", "w1@10000"),
        ("dE_total/dw5", "dE_total/dw5"),
        ("dE_o1/dnet_o1", "dE_o1/dnet_o1"),
    ],
)
def test_a_name_as_written_names_its_key(names, written, key):
    assert names.key(written) == key


@pytest.mark.parametrize("written", ["out_{h3}", "w_9", "w9+", "net_{i1}", "E_{o3}", "output", "x", "E_total@2"])
def test_a_name_of_nothing_in_the_network_is_none(names, written):
    assert names.key(written) is None


@pytest.mark.parametrize(
    ("of", "wrt", "key"),
    [
        ("E_{total}", "w_5", "dE_total/dw5"),
        ("E_{total}", "out_{o1}", "dE_total/dout_o1"),
        # The document writes ∂E_o1/∂out_o1 inside the error signal; its value is ∂E_total/∂out_o1.
        ("E_{o1}", "out_{o1}", "dE_total/dout_o1"),
        ("E_{o1}", "net_{o1}", "dE_o1/dnet_o1"),
        ("E_{o2}", "out_{h1}", "dE_o2/dout_h1"),
        ("net_{o1}", "out_{h1}", "dnet_o1/dout_h1"),
        ("out_{h1}", "net_{h1}", "dout_h1/dnet_h1"),
        ("net_{h1}", "w_1", "dnet_h1/dw1"),
    ],
)
def test_a_partial_derivative_names_its_key(names, of, wrt, key):
    assert names.partial(of, wrt) == key


def test_a_partial_derivative_of_nothing_is_none(names):
    assert names.partial("E_{total}", "w_9") is None
    assert names.partial("net_{o1}", "w_1") is None


def test_names_in_deeper_networks(deep_names):
    assert deep_names.key("out_{h2,1}") == "out_h2_1"
    assert deep_names.key("out_h1_2") == "out_h1_2"
    assert deep_names.key("b_{1,2}") == "b1_2"
    assert deep_names.key("b_2") == "b2"
    assert deep_names.partial("E_{total}", "net_{h2,1}") == "dE_total/dnet_h2_1"
    assert deep_names.key("dE_total/dnet_h2_1") == "dE_total/dnet_h2_1"


def test_the_transposed_weight_is_the_first_partner(names):
    # w2: i2→h1 and w3: i1→h2 are the same matrix entry read the two ways round.
    assert names.partners("w2")[0] == "w3"
    assert names.partners("w6")[0] == "w7"
    assert set(names.partners("w5")) == {"w6", "w7", "w8"}
    assert names.partners("w2+")[0] == "w3+"
    assert names.partners("i1") == ("i2",)
    assert names.partners("out_h1") == ("out_h2",)
    assert names.partners("dE_total/dw5") == ()


def test_net_and_out_are_counterparts(names):
    assert names.counterpart("out_h1") == "net_h1"
    assert names.counterpart("net_o2") == "out_o2"
    assert names.counterpart("i1") is None


def test_canonical_spelling():
    assert canonical(r"w_{5}^{+}") == canonical("w5+") == "w5+"
    assert canonical(r"out_{h2,1}") == canonical("out_h2_1")
    assert canonical(r"\eta") == "eta"
