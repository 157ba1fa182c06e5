"""The long training loop (float64): straight-line Python for small networks,
numpy matrix operations for large ones.
"""

from __future__ import annotations

from .network import Network
from .numeric import Training
from .scalar_training import train_scalar

# Up to this many weights one round is generated as straight-line Python on
# floats: for small networks numpy's per-call overhead costs more than the
# arithmetic itself.  Larger networks run as matrix operations in numpy.
# Measured (benchmarks/run.py, 10,000 rounds of two- and three-layer networks):
# straight-line Python takes 0.7 of numpy's time at 300 weights, 1.1 at 480.
SCALAR_LIMIT = 400


def train(network: Network, iterations: int) -> Training:
    """Run ``iterations`` rounds of gradient descent (float64).

    A round is one step on the whole batch (``mode = "batch"``: the gradient
    of the summed or averaged error) or one step per sample in turn
    (``"stochastic"``).  ``simultaneous``: every gradient from the weights
    before the step.  ``sequential``: each layer's error signal passed down
    with the weights of the layer above already updated (the source's
    10,000-round figures).  An optimizer other than plain SGD (or weight
    decay) takes its step from each round's gradient with the rule
    ``optimizers.rule`` prints in the document.
    """
    if len(network.weights) <= SCALAR_LIMIT:
        return train_scalar(network, iterations)
    from .numpy_training import (
        train_numpy,  # numpy loads only for the networks that need it
    )

    return train_numpy(network, iterations)
