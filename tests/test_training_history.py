"""The error the training loop records along the way, for the loss curve.

Both loops (generated straight-line Python for small networks, numpy for
large ones) record the same history, and it agrees with the plain reference
loop of ``test_derive`` run for that many rounds.
"""

from __future__ import annotations

import dataclasses

import pytest

import explainer
import explainer.maths.numeric as numeric
import explainer.maths.numpy_training as numpy_training
import explainer.maths.scalar_training as scalar_training
from test_derive import SOURCE_NET, random_net, train


def network_of(net, iterations=1):
    return explainer.derive(net.spec(iterations)).network


def test_history_rounds_are_every_round_for_short_runs():
    assert numeric.history_rounds(0) == ()
    assert numeric.history_rounds(1) == (1,)
    assert numeric.history_rounds(numeric.HISTORY_POINTS) == tuple(range(1, numeric.HISTORY_POINTS + 1))


@pytest.mark.parametrize("iterations", [numeric.HISTORY_POINTS + 1, 10_000, 10_000_000])
def test_history_rounds_of_long_runs_are_log_spaced_from_first_to_last(iterations):
    rounds = numeric.history_rounds(iterations)
    assert rounds[0] == 1 and rounds[-1] == iterations
    assert list(rounds) == sorted(set(rounds))
    assert len(rounds) <= numeric.HISTORY_POINTS + 1
    # Evenly spaced in log k once the rounds are far enough apart to be distinct.
    late = [b / a for a, b in zip(rounds[-50:], rounds[-49:])]
    assert max(late) / min(late) < 1.05


@pytest.mark.parametrize("update", ["simultaneous", "sequential"])
@pytest.mark.parametrize("net", [SOURCE_NET, random_net((2, 3, 2, 2), per_neuron_biases=True, seed=5)],
                         ids=["source", "2-3-2-2"])
def test_both_loops_record_the_same_history(net, update):
    network = network_of(dataclasses.replace(net, update=update))
    scalar = scalar_training.train_scalar(network, 1000)
    vector = numpy_training.train_numpy(network, 1000)
    assert [k for k, _ in scalar.history] == [k for k, _ in vector.history] == list(numeric.history_rounds(1000))
    for (_, a), (_, b) in zip(scalar.history, vector.history):
        assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("train_with", [scalar_training.train_scalar, numpy_training.train_numpy])
def test_history_is_the_error_after_each_recorded_round(train_with):
    net = random_net((2, 3, 2), per_neuron_biases=False, seed=3)
    training = train_with(network_of(net), 30)
    assert [k for k, _ in training.history] == list(range(1, 31))
    for k, error in training.history[::7] + training.history[-1:]:
        assert error == pytest.approx(train(net, k)[0], rel=1e-12), k
    assert training.history[-1] == (30, training.error)


def test_the_derivation_keeps_the_history_of_its_training(default_derivation):
    history = default_derivation.section("training").facts["history"]
    assert history[0][0] == 1 and history[-1] == (10_000, float(default_derivation.values["E_total@10000"]))
    assert history[0][1] == pytest.approx(float(default_derivation.values["E_total@1"]), rel=1e-14)
    errors = [e for _, e in history]
    assert errors == sorted(errors, reverse=True)  # the source's network learns steadily
