"""Per-student variants: deterministic draws, the teacher's shape kept, a nice exercise or a clear error."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

import explainer
from explainer.exercises import variants
from explainer.spec.errors import ExerciseError
from explainer.outputs.formatting import NumberFormat
from explainer.exercises.nice import first_problem
from explainer.exercises.variants import draw, nice_variant
from explainer.spec.reading import spec_mapping

from conftest import THREE_INPUTS_ONE_OUTPUT, WIDE_HIDDEN_DEEP

BUILTIN = explainer.load_spec()
SHAPES = {
    "[2, 2, 2]": BUILTIN,
    "[3, 2, 1]": explainer.load_spec(THREE_INPUTS_ONE_OUTPUT),
    "[2, 3, 2, 2]": explainer.load_spec(WIDE_HIDDEN_DEEP),
}


def numbers(spec) -> dict[str, list[Decimal]]:
    return {
        "weights": [v for matrix in spec.weights for row in matrix for v in row],
        "biases": [v for layer in spec.biases for v in layer],
        "inputs": list(spec.inputs),
        "targets": list(spec.targets),
    }


def test_the_same_seed_and_student_give_the_same_variant():
    assert draw(BUILTIN, "2024", "alice") == draw(BUILTIN, "2024", "alice")
    assert draw(BUILTIN, 2024, "alice") == draw(BUILTIN, "2024", "alice")  # the seed is read as text


def test_another_student_seed_or_attempt_gives_other_numbers():
    alice = numbers(draw(BUILTIN, "2024", "alice"))
    for other in (draw(BUILTIN, "2024", "bob"), draw(BUILTIN, "2025", "alice"), draw(BUILTIN, "2024", "alice", attempt=1)):
        assert numbers(other) != alice


def test_the_draws_are_pinned():
    """SHA-256 of seed, student, attempt and counter: these numbers hold on every platform and Python."""
    text = {kind: [str(v) for v in values] for kind, values in numbers(draw(BUILTIN, "2024", "alice")).items()}
    assert text == {
        "weights": ["0.42", "0.38", "0.91", "0.95", "0.74", "0.61", "0.54", "0.50"],
        "biases": ["0.95", "0.56"],
        "inputs": ["0.22", "0.29"],
        "targets": ["0.81", "0.24"],
    }


def test_a_variant_keeps_the_shape_the_signs_and_the_settings():
    for spec in SHAPES.values():
        variant = draw(spec, "s", "carol")
        for field in ("layers", "activations", "loss", "shared_biases", "learning_rate", "update", "train_biases", "iterations"):
            assert getattr(variant, field) == getattr(spec, field), field
        for kind, (old, new) in {k: (numbers(spec)[k], numbers(variant)[k]) for k in numbers(spec)}.items():
            assert len(old) == len(new)
            assert [value < 0 for value in old] == [value < 0 for value in new], kind
            assert all(value.as_tuple().exponent == -2 for value in new), new  # two decimals, as written: 0.40
            assert len({abs(value) for value in new}) == len(new), f"{kind}: two of the same size"
        sizes = numbers(variant)
        assert all(Decimal("0.05") <= abs(v) <= Decimal("0.95") for v in sizes["weights"] + sizes["biases"])
        assert all(Decimal("0.01") <= abs(v) <= Decimal("0.99") for v in sizes["inputs"] + sizes["targets"])
        assert "carol" in variant.title and variant.name == "carol"


@pytest.fixture(scope="module")
def class_variants():
    """Three students under two seeds for the source's shape, one of another (the deep one: test_exercise)."""
    classes = {"[2, 2, 2]": (("1", "spring"), ("01", "02", "03")), "[3, 2, 1]": (("2024",), ("01",))}
    return {(shape, seed, student): nice_variant(SHAPES[shape], seed, student)
            for shape, (seeds, students) in classes.items() for seed in seeds for student in students}


def test_every_variant_of_a_few_seeds_passes_every_rule(class_variants):
    for (shape, seed, student), variant in class_variants.items():
        assert first_problem(variant.derivation) is None, (shape, seed, student)
        assert variant.spec == draw(SHAPES[shape], seed, student, variant.attempt)
        assert (variant.student, variant.seed) == (student, seed)
    # Each a variant of its own.
    assert len({str(numbers(v.spec)) for v in class_variants.values()}) == len(class_variants)


def test_a_draw_that_breaks_a_rule_is_drawn_again():
    # At 6 decimal places about half the draws have a value too small to write.
    fmt = NumberFormat(decimals=6)
    variant = next(v for v in (nice_variant(BUILTIN, "redraw", f"s{i}", fmt) for i in range(20)) if v.attempt > 0)
    for attempt in range(variant.attempt):
        assert first_problem(explainer.derive(draw(BUILTIN, "redraw", variant.student, attempt)), fmt) is not None
    assert first_problem(variant.derivation, fmt) is None


def test_no_nice_draw_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(variants, "MAX_ATTEMPTS", 3)
    # Rounded to one decimal place, the hidden gradients of this network always vanish.
    with pytest.raises(ExerciseError) as caught:
        nice_variant(BUILTIN, "x", "eve", NumberFormat(decimals=1))
    message = str(caught.value)
    assert message.startswith("<built-in example>: no draw of 3 for student eve (seed x) makes a good exercise")
    assert "too small to write at this precision" in message and "\n" not in message


def test_a_shape_with_more_weights_than_sizes_is_refused_at_once():
    wide = {"network": {"layers": [10, 10], "weights": [[[0.1] * 10] * 10], "biases": [0.1]},
            "data": {"inputs": [0.1] * 10, "targets": [0.5] * 10}}
    with pytest.raises(ExerciseError) as caught:
        draw(explainer.load_spec(wide), "1", "x")
    assert str(caught.value) == ("<dict>: network.weights: 100 weights, but a variant draws them from only 91 different "
                                 "sizes (0.05 to 0.95); expected at most 91")


def test_a_variant_changes_only_the_numbers():
    variant = draw(BUILTIN, "1", "frank")
    unchanged = dataclasses.replace(variant, name=BUILTIN.name, title=BUILTIN.title, source=BUILTIN.source, weights=BUILTIN.weights,
                                    biases=BUILTIN.biases, samples=BUILTIN.samples)
    assert unchanged == BUILTIN


def softmax_spec(targets: list) -> explainer.Spec:
    return explainer.load_spec({
        "title": "One-sample softmax",
        "network": {"layers": [2, 2, 3], "activation": ["sigmoid", "softmax"], "loss": "cross_entropy",
                    "weights": [[[0.15, 0.2], [0.25, 0.3]], [[0.4, 0.45], [0.5, 0.55], [0.1, 0.2]]],
                    "biases": [0.35, 0.6]},
        "data": {"inputs": [0.05, 0.1], "targets": targets},
    })


@pytest.mark.parametrize("targets", [[0, 1, 0], [0.2, 0.7, 0.1]], ids=["one-hot", "soft"])
def test_a_cross_entropy_variant_has_targets_that_add_up_to_1(targets):
    # Before, the targets were drawn as for any loss, and the derivation's own check of
    # softmax's simplified error signal (out - target) failed with a traceback.
    spec = softmax_spec(targets)
    for student in map(str, range(1, 13)):
        variant = nice_variant(spec, "seed", student)
        drawn = list(variant.spec.targets)
        assert sum(drawn) == 1, drawn
        explainer.load_spec(spec_mapping(variant.spec))  # the reader takes it, as check --keys reads it
        if targets == [0, 1, 0]:
            assert sorted(drawn) == [0, 0, 1]
        else:
            assert len(set(drawn)) == 3 and all(Decimal("0.01") <= t < 1 for t in drawn)
    if targets == [0, 1, 0]:
        classes = {list(nice_variant(spec, "seed", str(s)).spec.targets).index(1) for s in range(1, 13)}
        assert classes == {0, 1, 2}  # the class is drawn, not kept
