"""Which samples each step of a round takes: the mini-batches of ``batch_size``.

A round is one pass over every sample (an epoch).  Its samples are cut into
batches of ``batch_size`` in turn, the last one smaller when the size does
not divide their number (a PyTorch DataLoader with ``drop_last=False``); each
batch makes one step.  Batch mode is one batch of every sample, stochastic
mode a batch per sample.

Without ``shuffle_seed`` every round takes the samples in the order the spec
gives them.  With it, each round (the first too) takes them in an order of
its own, drawn as follows, so that it is the same on every machine and with
every version of Python: one generator ``random.Random(shuffle_seed)`` for
the whole training; for each round, starting from the samples in the spec's
order, for i from S − 1 down to 1 the sample at i is swapped with the one at
j = ⌊u · (i + 1)⌋, u being the generator's next ``random()`` (a Fisher–Yates
shuffle; Python guarantees the sequence of ``random()`` for a seed).
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def round_orders(count: int, seed: int | None) -> Iterator[tuple[int, ...]]:
    """The order of the samples (0-based indices) in each round, round after round, without end."""
    given = tuple(range(count))
    if seed is None:
        while True:
            yield given
    generator = random.Random(seed)
    while True:
        order = list(given)
        for i in range(count - 1, 0, -1):
            j = int(generator.random() * (i + 1))
            order[i], order[j] = order[j], order[i]
        yield tuple(order)


def cut(order: tuple[int, ...], size: int) -> tuple[tuple[int, ...], ...]:
    """``order`` cut into batches of ``size``, the last one holding what is left."""
    return tuple(order[start:start + size] for start in range(0, len(order), size))


def round_batches(spec) -> Iterator[tuple[tuple[int, ...], ...]]:
    """The batches of each round of ``spec``'s training (0-based sample indices), round after round."""
    for order in round_orders(len(spec.samples), spec.shuffle_seed):
        yield cut(order, spec.batch_size)


def first_round(spec) -> tuple[tuple[int, ...], ...]:
    """The batches of the first round."""
    return next(round_batches(spec))


def steps_per_round(spec) -> int:
    """The optimizer's steps in one round: one per batch."""
    return -(-len(spec.samples) // spec.batch_size)


def batch_scale(spec, size: int) -> float:
    """The factor of a batch's summed gradient: 1/size for the mean error, 1 for the sum."""
    return 1 / size if spec.reduction == "mean" else 1.0
