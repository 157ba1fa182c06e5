"""The training benchmark's baselines, written without explainer: the fastest plain
Python and numpy a programmer would write for one network.

Sigmoid neurons, E = Σ ½ (target − out)², one sample, every weight updated
simultaneously, biases kept fixed: the default network's setting.

- ``straight_line``: one round fully unrolled for the network's shape, one local
  variable per weight and per quantity, no lists and no loops inside a round:
  what one writes by hand for a 2-2-2 network.  Generated here only so that
  it fits any shape; the round itself is plain straight-line code.
- ``numpy_loop``: the same rounds as matrix products for networks too large
  to unroll.
"""

from __future__ import annotations

import math


def _floats(spec):
    weights = [[[float(w) for w in row] for row in matrix] for matrix in spec.weights]
    biases = [[float(b[0])] * width if shared else [float(v) for v in b]
              for width, b, shared in zip(spec.layers[1:], spec.biases, spec.shared_biases)]
    return weights, biases, [float(v) for v in spec.inputs], [float(t) for t in spec.targets], float(spec.learning_rate)


def straight_line_source(spec) -> str:
    """Python source of ``run(rounds)``: the rounds, unrolled, for ``spec``'s shape and numbers."""
    weights, biases, inputs, targets, rate = _floats(spec)
    layers = spec.layers
    w = {(l, j, i): f"w{l}_{j}_{i}" for l, matrix in enumerate(weights) for j, row in enumerate(matrix)
         for i in range(len(row))}
    out = lambda l, j: f"x{j}" if l == 0 else f"o{l}_{j}"  # noqa: E731
    body = []
    for l in range(1, len(layers)):
        for j in range(layers[l]):
            terms = " + ".join(f"{w[l - 1, j, i]} * {out(l - 1, i)}" for i in range(layers[l - 1]))
            body.append(f"{out(l, j)} = 1.0 / (1.0 + exp(-({terms} + {biases[l - 1][j]!r})))")
    last = len(layers) - 1
    for j in range(layers[last]):
        body.append(f"d{last}_{j} = ({out(last, j)} - {targets[j]!r}) * {out(last, j)} * (1.0 - {out(last, j)})")
    for l in range(last - 1, 0, -1):
        for i in range(layers[l]):
            back = " + ".join(f"d{l + 1}_{j} * {w[l, j, i]}" for j in range(layers[l + 1]))
            body.append(f"d{l}_{i} = ({back}) * {out(l, i)} * (1.0 - {out(l, i)})")
    for (l, j, i), name in w.items():
        body.append(f"{name} -= {rate!r} * d{l + 1}_{j} * {out(l, i)}")
    lines = ["def run(rounds):"]
    lines += [f"    x{i} = {v!r}" for i, v in enumerate(inputs)]
    lines += [f"    {name} = {weights[l][j][i]!r}" for (l, j, i), name in w.items()]
    lines.append("    for _ in range(rounds):")
    lines += [f"        {line}" for line in body]
    forward = [line for line in body if line.startswith("o")]
    lines += [f"    {line}" for line in forward]
    outputs = [out(last, j) for j in range(layers[last])]
    error = " + ".join(f"0.5 * ({t!r} - {o}) ** 2" for t, o in zip(targets, outputs))
    lines.append(f"    return {error}, [{', '.join(outputs)}]")
    return "\n".join(lines) + "\n"


def straight_line(spec):
    """``run(rounds) -> (E_total, outputs)``, compiled from ``straight_line_source``."""
    namespace = {"exp": math.exp}
    exec(compile(straight_line_source(spec), "<straight-line baseline>", "exec"), namespace)
    return namespace["run"]


def numpy_loop(spec):
    """``run(rounds) -> (E_total, outputs)`` with numpy matrices."""
    import numpy as np

    weights, biases, inputs, targets, rate = _floats(spec)

    def run(rounds: int):
        W = [np.array(m) for m in weights]
        b = [np.array(v) for v in biases]
        x, t = np.array(inputs), np.array(targets)
        for _ in range(rounds):
            outs = [x]
            for matrix, bias in zip(W, b):
                outs.append(1.0 / (1.0 + np.exp(-(matrix @ outs[-1] + bias))))
            delta = (outs[-1] - t) * outs[-1] * (1.0 - outs[-1])
            for l in range(len(W) - 1, -1, -1):
                gradient = np.outer(delta, outs[l])
                if l:
                    delta = (W[l].T @ delta) * outs[l] * (1.0 - outs[l])
                W[l] -= rate * gradient
        out = x
        for matrix, bias in zip(W, b):
            out = 1.0 / (1.0 + np.exp(-(matrix @ out + bias)))
        return float(np.sum(0.5 * (t - out) ** 2)), [float(v) for v in out]

    return run
