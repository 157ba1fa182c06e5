"""The symbolic work is done once per shape; every derivation of the shape is still checked."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import mpmath
import pytest

import explainer
from explainer.exercises.variants import draw
from explainer.maths import checks, shapes
from explainer.maths.derivation import Derivation, values_at
from explainer.spec.errors import DerivationMismatch

ROOT_EXAMPLES = ("examples/relu-regression.toml", "examples/softmax-classifier.toml",
                 "examples/two-hidden-layers-tanh.toml")


def test_variants_of_one_shape_share_its_symbolic_work():
    spec = explainer.load_spec()
    first, second = Derivation(draw(spec, "s", "a")), Derivation(draw(spec, "s", "b"))
    assert first.values != second.values
    work = shapes.work_for(first.spec)
    assert work is shapes.work_for(second.spec)
    assert work.composed is not None and work.factors and work.equations


def test_the_numbers_do_not_enter_the_shape():
    spec = explainer.load_spec()
    other = dataclasses.replace(spec, learning_rate=Decimal("0.1"), iterations=3)
    assert shapes.shape_key(spec) == shapes.shape_key(draw(spec, "s", "a")) == shapes.shape_key(other)
    for change in ({"update": "sequential"}, {"train_biases": True}, {"loss": "cross_entropy"}):
        assert shapes.shape_key(dataclasses.replace(spec, **change)) != shapes.shape_key(spec)


def test_a_derivation_from_a_warm_shape_equals_one_from_a_cold_shape():
    spec = draw(explainer.load_spec(), "seed", "ada")
    shapes.forget()
    cold = Derivation(spec)
    Derivation(draw(explainer.load_spec(), "seed", "bob"))  # the compiled cross-check from here on
    warm = Derivation(spec)
    assert warm.values == cold.values and warm.equations == cold.equations


@pytest.mark.parametrize("path", (None, *ROOT_EXAMPLES))
def test_values_at_equals_a_new_derivation(path):
    spec = explainer.load_spec(path)
    Derivation(spec)  # the shape's equations
    changed = [draw(spec, "x", "y") if len(spec.samples) == 1 else spec,
               dataclasses.replace(spec, learning_rate=Decimal("0.05"), iterations=1)]
    for other in changed:
        assert values_at(other) == Derivation(other).values


def test_the_compiled_cross_check_still_catches_a_wrong_gradient():
    spec = explainer.load_spec()
    derivation = Derivation(spec)
    Derivation(draw(spec, "s", "c"))  # a second check of the shape compiles it
    composed = shapes.work_for(spec).composed
    assert composed._compiled  # one compiled function, for the one branch pattern of a smooth network
    with mpmath.workdps(50):
        point = {k: mpmath.mpf(str(v)) for k, v in derivation.parameters.items()}
        gradient = {p.key: derivation.values[f"dE_total/d{p.key}"] for p in checks.checked_parameters(derivation.network)}
        composed.check(point, gradient)
        gradient["w5"] += mpmath.mpf("1e-20")
        with pytest.raises(DerivationMismatch, match="dw5"):
            composed.check(point, gradient)


def test_kinked_networks_are_checked_on_their_active_branches():
    # The composed error of a ReLU network is built on the branch each neuron's net input selects,
    # a few patterns at most, and a pattern is compiled only once it is checked again.
    spec = explainer.load_spec("examples/relu-regression.toml")
    Derivation(spec)
    Derivation(spec)
    composed = shapes.work_for(spec).composed
    assert composed is not None and composed.kinked
    assert 1 <= len(composed._derivatives) <= checks.MAX_BRANCH_PATTERNS
    assert set(composed._compiled) <= set(composed._derivatives)
