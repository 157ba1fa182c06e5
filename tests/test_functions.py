"""Every printed derivative of every activation and loss is proved with sympy.diff."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from explainer import functions
from explainer.errors import DerivationMismatch
from explainer.notation import Add, Mul, Num, Paren


@pytest.mark.parametrize("activation, loss", itertools.product(functions.ACTIVATIONS, functions.LOSSES))
def test_printed_derivatives_are_the_derivatives(activation, loss):
    functions.check_derivatives.cache_clear()
    functions.check_derivatives(activation, loss)


def test_a_wrong_printed_derivative_is_refused(monkeypatch):
    wrong = dataclasses.replace(
        functions.ACTIVATIONS["sigmoid"],
        derivative=lambda out, net: Mul((out, Paren(Add((Num("1"), out)))), juxtapose=True),
    )
    monkeypatch.setitem(functions.ACTIVATIONS, "sigmoid", wrong)
    functions.check_derivatives.cache_clear()
    try:
        with pytest.raises(DerivationMismatch):
            functions.check_derivatives("sigmoid", "half_squared_error")
    finally:
        functions.check_derivatives.cache_clear()


def test_a_wrong_loss_derivative_step_is_refused(monkeypatch):
    loss = functions.LOSSES["half_squared_error"]
    wrong = dataclasses.replace(loss, derivative_steps=lambda t, o: (*loss.derivative_steps(t, o)[:-1], Add((t, o))))
    monkeypatch.setitem(functions.LOSSES, "half_squared_error", wrong)
    functions.check_derivatives.cache_clear()
    try:
        with pytest.raises(DerivationMismatch):
            functions.check_derivatives("sigmoid", "half_squared_error")
    finally:
        functions.check_derivatives.cache_clear()
