"""The baseline for the training benchmark: gradient descent written plainly in
Python, with lists and loops, the way one would without explainer.

Sigmoid neurons, E = Σ ½ (target − out)², one sample; the same arithmetic as
``explainer.maths.numeric.train`` (simultaneous or sequential update).
"""

from __future__ import annotations

import math


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def plain_python_training(spec, rounds: int) -> tuple[float, list[float]]:
    """E_total and the outputs after ``rounds`` rounds of gradient descent."""
    weights = [[[float(w) for w in row] for row in matrix] for matrix in spec.weights]
    biases = [[float(b[0])] * width if shared else [float(v) for v in b]
              for width, b, shared in zip(spec.layers[1:], spec.biases, spec.shared_biases)]
    x = [float(v) for v in spec.inputs]
    targets = [float(t) for t in spec.targets]
    rate = float(spec.learning_rate)
    sequential = spec.update == "sequential"

    def forward():
        outs = [x]
        for matrix, bias in zip(weights, biases):
            previous = outs[-1]
            outs.append([sigmoid(sum(w * o for w, o in zip(row, previous)) + b) for row, b in zip(matrix, bias)])
        return outs

    for _ in range(rounds):
        outs = forward()
        deltas = [-(t - o) * o * (1 - o) for t, o in zip(targets, outs[-1])]
        for layer in range(len(weights) - 1, -1, -1):
            matrix = weights[layer]
            below = outs[layer]
            gradients = [[d * o for o in below] for d in deltas]
            if layer and not sequential:
                deltas = [sum(deltas[j] * matrix[j][i] for j in range(len(matrix))) * o * (1 - o) for i, o in enumerate(below)]
            for j, row in enumerate(matrix):
                for i in range(len(row)):
                    row[i] -= rate * gradients[j][i]
            if layer and sequential:
                deltas = [sum(deltas[j] * matrix[j][i] for j in range(len(matrix))) * o * (1 - o) for i, o in enumerate(below)]

    outputs = forward()[-1]
    return sum(0.5 * (t - o) ** 2 for t, o in zip(targets, outputs)), outputs
