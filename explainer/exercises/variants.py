"""Per-student variants of a spec: the same network with fresh two-decimal numbers.

A variant keeps the teacher's shape, activations, loss, learning rate, update
mode and number of rounds, and draws new weights, biases, inputs and targets.
Each number has two decimals and keeps the sign of the one it replaces; within
a kind (the weights, the biases, the inputs, the targets) no two have the same
size, so that exchanging two of them is a visible mistake.

The draws come from SHA-256 of ``seed:student:attempt:counter``: the same
seed and student give the same variant in every process, on every platform
and Python version (neither ``hash()`` nor ``random`` is involved).  A draw
that breaks a rule of ``explainer.nice`` is drawn again, with the next
attempt number, up to MAX_ATTEMPTS times.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from ..outputs.formatting import NumberFormat
from ..spec.errors import ExerciseError
from ..spec.reading import Sample, Spec

MAX_ATTEMPTS = 100
HUNDREDTH = Decimal("0.01")

# The sizes each kind of number is drawn from, in hundredths.
WEIGHT_SIZES = range(5, 96)  # 0.05 … 0.95
BIAS_SIZES = range(5, 96)
INPUT_SIZES = range(1, 100)  # 0.01 … 0.99
TARGET_SIZES = range(1, 100)  # inside a sigmoid's (0, 1)


@dataclass(frozen=True)
class Variant:
    """One student's variant: its spec, its derivation and the attempt that made it nice."""

    student: str
    seed: str
    spec: Spec
    derivation: object
    attempt: int


class _Draws:
    """Whole numbers drawn from SHA-256 of the seed, the student, the attempt and a counter."""

    def __init__(self, seed: str, student: str, attempt: int) -> None:
        self.prefix = f"{seed}:{student}:{attempt}:"
        self.counter = 0

    def below(self, n: int) -> int:
        digest = hashlib.sha256(f"{self.prefix}{self.counter}".encode()).digest()
        self.counter += 1
        # 256 bits reduced modulo a number below 100: the bias is far below 2^-240.
        return int.from_bytes(digest, "big") % n

    def distinct(self, sizes: range, count: int) -> list[int]:
        """``count`` different members of ``sizes``, in the order drawn (a partial Fisher–Yates shuffle)."""
        pool = list(sizes)
        for i in range(count):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:count]


def draw(spec: Spec, seed: str | int, student: str, attempt: int = 0) -> Spec:
    """One draw of the variant of ``spec`` for ``student`` (pure: the same arguments, the same spec)."""
    _check_drawable(spec)
    draws = _Draws(str(seed), student, attempt)
    weights = _signed(_flat_weights(spec), draws.distinct(WEIGHT_SIZES, len(_flat_weights(spec))))
    biases = _signed(_flat_biases(spec), draws.distinct(BIAS_SIZES, len(_flat_biases(spec))))
    inputs = _signed(spec.inputs, draws.distinct(INPUT_SIZES, len(spec.inputs)))
    targets = _targets(spec, draws)
    return dataclasses.replace(
        spec,
        name=student,  # it names the student's files
        source=f"{spec.source} (student {student}, seed {seed})",
        title=f"{spec.title} \u2014 student {student}",
        weights=_shaped_weights(spec, weights),
        biases=_shaped_biases(spec, biases),
        samples=(Sample(tuple(inputs), tuple(targets)),),
    )


def nice_variant(spec: Spec, seed: str | int, student: str, number_format: NumberFormat = NumberFormat()) -> Variant:
    """The first draw for ``student`` that passes every rule of ``explainer.nice`` at ``number_format``.

    Raises ``ExerciseError`` when MAX_ATTEMPTS draws all break a rule.
    """
    from ..outputs.document import derive
    from .nice import first_problem

    problem = None
    for attempt in range(MAX_ATTEMPTS):
        variant = draw(spec, seed, student, attempt)
        derivation = derive(variant)
        problem = first_problem(derivation, number_format)
        if problem is None:
            return Variant(student, str(seed), variant, derivation, attempt)
    raise ExerciseError(
        f"{spec.source}: no draw of {MAX_ATTEMPTS} for student {student} (seed {seed}) makes a good exercise "
        f"at this precision; the last: {problem}"
    )


# --- the spec's numbers in a row, and back ----------------------------------------------


def _check_drawable(spec: Spec) -> None:
    if len(spec.samples) > 1:
        # A sheet asks for one sample's derivation; several would need their own questions.
        raise ExerciseError(f"{spec.source}: data: {len(spec.samples)} samples; an exercise variant expects one")
    kinds = (
        ("network.weights", len(_flat_weights(spec)), "weights", WEIGHT_SIZES),
        ("network.biases", len(_flat_biases(spec)), "biases", BIAS_SIZES),
        ("data.inputs", len(spec.inputs), "inputs", INPUT_SIZES),
        ("data.targets", len(spec.targets), "targets", TARGET_SIZES),
    )
    for field, count, noun, sizes in kinds:
        if count > len(sizes):
            raise ExerciseError(
                f"{spec.source}: {field}: {count} {noun}, but a variant draws them from only {len(sizes)} different "
                f"sizes ({_size(sizes[0])} to {_size(sizes[-1])}); expected at most {len(sizes)}"
            )


def _targets(spec: Spec, draws: _Draws) -> list[Decimal]:
    """The variant's targets.  For cross_entropy they are a probability per class and add up to 1, as the
    reader requires: a one-hot target has its class drawn afresh; other targets are distinct hundredths
    adding up to 1 (the teacher's own where no such draw exists, past 13 classes)."""
    count = len(spec.targets)
    if spec.loss != "cross_entropy":
        return _signed(spec.targets, draws.distinct(TARGET_SIZES, count))
    zero, one = min(spec.targets), max(spec.targets)
    if one == 1 and sorted(spec.targets) == [zero] * (count - 1) + [one]:
        hot = draws.below(count)
        return [one if k == hot else zero for k in range(count)]
    # Sizes about a fair share, so that most draws leave a last share of its own.
    sizes = range(1, max(2, 200 // count))
    if count - 1 <= len(sizes):
        for _ in range(MAX_ATTEMPTS):
            drawn = draws.distinct(sizes, count - 1)
            last = 100 - sum(drawn)
            if last >= 1 and last not in drawn:
                return [_size(size) for size in (*drawn, last)]
    return list(spec.targets)


def _signed(originals, sizes: list[int]) -> list[Decimal]:
    """Each drawn size, in hundredths, with the sign of the number it replaces."""
    return [(-1 if original < 0 else 1) * _size(size) for original, size in zip(originals, sizes)]


def _size(hundredths: int) -> Decimal:
    return (Decimal(hundredths) * HUNDREDTH).quantize(HUNDREDTH)


def _flat_weights(spec: Spec) -> list[Decimal]:
    return [value for matrix in spec.weights for row in matrix for value in row]


def _flat_biases(spec: Spec) -> list[Decimal]:
    return [value for layer in spec.biases for value in layer]


def _shaped_weights(spec: Spec, values: list[Decimal]):
    numbers = iter(values)
    return tuple(tuple(tuple(next(numbers) for _ in row) for row in matrix) for matrix in spec.weights)


def _shaped_biases(spec: Spec, values: list[Decimal]):
    numbers = iter(values)
    return tuple(tuple(next(numbers) for _ in layer) for layer in spec.biases)
