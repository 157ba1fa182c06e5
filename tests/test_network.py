"""The network's look-ups (weights in and out of a neuron, between two neurons, into a layer) against
a plain scan of every weight, and their cost, which must grow with the weights and not faster."""

from __future__ import annotations

import gc
import time

import explainer
from explainer.maths.network import Network
from explainer.spec.reading import spec_from_mapping

from conftest import WIDE_HIDDEN_DEEP


def network_of(layers: list[int]) -> Network:
    return Network(spec_of(layers))


def spec_of(layers: list[int]):
    weights = [[[0.01 * ((i + j + l) % 7 + 1) for i in range(layers[l])] for j in range(layers[l + 1])]
               for l in range(len(layers) - 1)]
    data = {"network": {"layers": layers, "weights": weights, "biases": [0.1] * (len(layers) - 1)},
            "data": {"inputs": [0.5] * layers[0], "targets": [0.5] * layers[-1]}}
    return spec_from_mapping(data, "<test>", "test")


def test_look_ups_agree_with_a_scan_of_every_weight():
    for n in (Network(explainer.load_spec()), Network(explainer.load_spec(WIDE_HIDDEN_DEEP)), network_of([3, 5, 4, 2])):
        for layer in n.layers:
            for x in layer:
                assert n.incoming(x) == tuple(w for w in n.weights if w.target == x)
                assert n.outgoing(x) == tuple(w for w in n.weights if w.source == x)
        for l in range(len(n.layers)):
            assert n.weights_into_layer(l) == tuple(w for w in n.weights if w.target.layer == l)
        for w in n.weights:
            assert n.weight_between(w.source, w.target) is w and n.weight(w.key) is w
        assert n.weight("w0") is None and n.weight("b1") is None


def test_setting_up_a_network_grows_with_its_weights():
    def seconds(spec):
        # The collector's passes over every object made so far would blur the algorithm's own growth.
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            Network(spec)
            return time.perf_counter() - start
        finally:
            gc.enable()

    small, large = spec_of([20, 40, 20]), spec_of([80, 160, 80])  # 1,600 and 25,600 weights: 16 times as many
    ratio = min(seconds(large) for _ in range(3)) / min(seconds(small) for _ in range(3))
    assert ratio < 40, ratio  # a scan per neuron would make it about 100
