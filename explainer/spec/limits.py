"""How large a network explainer takes on, and why.

A derivation grows with the number of weights: ``values`` computes every
quantity to 50 digits (about a quarter of a millisecond per weight), a document prints a
few equations per weight, and the training loop runs ``iterations`` rounds
over all of them.  Past these limits a run would take minutes or print a
document nobody can read, so it is refused up front with a message that says
which limit and by how much.
"""

from __future__ import annotations

from decimal import Decimal

from .errors import SpecError

# Enough for any network a lecture or an exercise draws (10-30-20-10 has 1,100 weights).
MAX_WEIGHTS_RENDER = 1_500
# `values` prints no document: it may go further (about 5 s at this size on a 2-core machine).
MAX_WEIGHTS_VALUES = 20_000
MAX_LAYERS = 12
MAX_WIDTH = 1_000
# Rounds × weights of float64 training: about a minute at the most.
MAX_TRAINING_WORK = 2_000_000_000
# A parameter beyond this is a typo (or a saturated network) rather than a lesson.
MAX_MAGNITUDE = Decimal(1_000_000)
# A parameter other than 0 smaller than this is a typo too; exact arithmetic
# would carry its digits (1e-999999999 is a rational with a billion-digit denominator).
MIN_MAGNITUDE = Decimal("1e-30")
MAX_DIGITS = 30  # significant digits of a parameter as written


def weight_count(layers) -> int:
    return sum(a * b for a, b in zip(layers, layers[1:]))


def check_size(spec, purpose: str) -> None:
    """Raise ``SpecError`` when ``spec`` is beyond what ``purpose`` ("render" or "values") handles."""
    layers = spec.layers
    if len(layers) > MAX_LAYERS:
        raise SpecError(spec.source, "network.layers", f"expected at most {MAX_LAYERS} layers, got {len(layers)}")
    for index, width in enumerate(layers):
        if width > MAX_WIDTH:
            raise SpecError(spec.source, f"network.layers[{index}]",
                            f"expected a layer of at most {MAX_WIDTH:,} neurons, got {width:,}")
    weights = weight_count(layers)
    limit = MAX_WEIGHTS_RENDER if purpose == "render" else MAX_WEIGHTS_VALUES
    if weights > limit:
        what = "a readable document" if purpose == "render" else "explainer values"
        raise SpecError(spec.source, "network.layers",
                        f"expected at most {limit:,} weights for {what}, got {weights:,}")
    if spec.iterations * weights > MAX_TRAINING_WORK:
        most = MAX_TRAINING_WORK // weights
        raise SpecError(spec.source, "training.iterations",
                        f"expected at most {most:,} rounds for {weights:,} weights, got {spec.iterations:,}")
    for field, value in _parameters(spec):
        # copy_abs and compare need no arithmetic context: abs() would overflow on 1e1000000.
        size = value.copy_abs()
        if size > MAX_MAGNITUDE:
            raise SpecError(spec.source, field, f"expected a number between -1e6 and 1e6, got {value}")
        if size and size < MIN_MAGNITUDE:
            raise SpecError(spec.source, field, f"expected 0 or a number at least 1e-30 in size, got {value}")
        if len(value.as_tuple().digits) > MAX_DIGITS:
            raise SpecError(spec.source, field, f"expected at most {MAX_DIGITS} significant digits, got {value}")


def _parameters(spec):
    """Every number of the spec with the field that holds it."""
    for l, matrix in enumerate(spec.weights):
        for j, row in enumerate(matrix):
            for i, value in enumerate(row):
                yield f"network.weights[{l}][{j}][{i}]", value
    for l, values in enumerate(spec.biases):
        shared = spec.shared_biases[l]
        for j, value in enumerate(values):
            yield (f"network.biases[{l}]" if shared else f"network.biases[{l}][{j}]"), value
    several = len(spec.samples) > 1
    for s, sample in enumerate(spec.samples):
        for name in ("inputs", "targets"):
            for i, value in enumerate(getattr(sample, name)):
                yield (f"data[{s}].{name}[{i}]" if several else f"data.{name}[{i}]"), value
    for l, slope in enumerate(spec.slopes):
        if slope is not None:
            yield (f"network.activation[{l}].slope" if len(set(spec.slopes)) > 1 else "network.activation.slope"), slope
    yield "training.learning_rate", spec.learning_rate
