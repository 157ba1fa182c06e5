"""Benchmarks of explainer, as ratios against baselines measured in the same run.

    python benchmarks/run.py [--runs N]

Whole processes are timed (wall clock, median of N runs after a warm-up), so
start-up and imports count as a user feels them.  explainer's modules are
byte-compiled first, as ``pip install`` does, so that they load as SymPy's do
even where PYTHONDONTWRITEBYTECODE is set.  These are not tests: they
print each figure beside its target and never fail a build.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
EXPLAINER = [PYTHON, "-m", "explainer"]
IMPORTS = [PYTHON, "-c", "import sympy, jinja2, numpy"]
# Networks of about 10, 100 and 1,000 weights.
SHAPES = {10: [2, 2, 2], 100: [4, 8, 8, 2], 1000: [10, 30, 20, 10]}


def run(command: list[str]) -> tuple[float, int]:
    """Wall time in seconds and peak resident memory in KiB of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(command)}: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss


def median_time(command: list[str], runs: int) -> float:
    run(command)  # warm-up: file caches, Jinja's template cache
    return statistics.median(run(command)[0] for _ in range(runs))


def median_ratio(command: list[str], baseline: list[str], runs: int) -> tuple[float, float, float]:
    """Median times of both and the median of their ratios, the two run in turn
    so that a change in the machine's load touches both alike."""
    run(command)
    run(baseline)
    pairs = [(run(command)[0], run(baseline)[0]) for _ in range(runs)]
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(a / b for a, b in pairs))


def spec_of_shape(layers: list[int], seed: int = 0) -> dict:
    rng = random.Random(seed)

    def number() -> float:
        return round(rng.uniform(-0.5, 0.5), 2)

    return {
        "title": f"{'-'.join(map(str, layers))} network",
        "network": {
            "layers": layers,
            "weights": [[[number() for _ in range(layers[l])] for _ in range(layers[l + 1])] for l in range(len(layers) - 1)],
            "biases": [number() for _ in layers[1:]],
        },
        "data": {"inputs": [round(rng.uniform(0, 1), 2) for _ in range(layers[0])],
                 "targets": [round(rng.uniform(0.1, 0.9), 2) for _ in range(layers[-1])]},
    }


def report(name: str, value: float, target: str, ok: bool, detail: str = "") -> None:
    print(f"{name:58} {value:8.3f}  target {target:8} {'ok' if ok else 'OVER'}  {detail}")


def startup(runs: int) -> None:
    for option in ("--help", "--version"):
        seconds, bare, ratio = median_ratio([*EXPLAINER, option], [PYTHON, "-c", "pass"], runs)
        report(f"explainer {option} / python -c pass", ratio, "≤ 1.3", ratio <= 1.3,
               f"({seconds * 1000:.0f} ms vs {bare * 1000:.0f} ms)")


def render(runs: int) -> None:
    with tempfile.TemporaryDirectory() as output:
        seconds, imports, ratio = median_ratio([*EXPLAINER, "render", "--output", output], IMPORTS, runs)
    report("explainer render / import sympy, jinja2, numpy", ratio, "≤ 1.3", ratio <= 1.3,
           f"({seconds * 1000:.0f} ms vs {imports * 1000:.0f} ms)")


def scaling(runs: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        seconds, peak = {}, {}
        for weights, layers in SHAPES.items():
            path = Path(directory) / f"net{weights}.json"
            path.write_text(json.dumps(spec_of_shape(layers)))
            command = [*EXPLAINER, "values", str(path)]
            seconds[weights] = median_time(command, runs)
            peak[weights] = run(command)[1]
    # The cost of each weight beyond a fixed start (imports, first use of SymPy):
    # the time beyond that of the 10-weight network, per additional weight.
    per_weight = {w: (seconds[w] - seconds[10]) / (w - 10) for w in (100, 1000)}
    for weights, layers in SHAPES.items():
        extra = f", {per_weight[weights] * 1000:6.3f} ms per additional weight" if weights in per_weight else ""
        print(f"  explainer values, {'-'.join(map(str, layers)):12} ({weights:4} weights): {seconds[weights] * 1000:7.0f} ms{extra}")
    ratio = per_weight[1000] / per_weight[100]
    report("time per weight, 1,000 weights / 100 weights", ratio, "≤ 2", ratio <= 2)
    base_memory = run(IMPORTS)[1]
    memory = peak[1000] / base_memory
    report("peak RSS, values on 1,000 weights / imports", memory, "≤ 2", memory <= 2,
           f"({peak[1000] / 1024:.0f} MiB vs {base_memory / 1024:.0f} MiB)")


def training(runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import explainer
    from explainer.maths import numpy_training
    from explainer.maths.training import train
    from explainer.maths.network import Network
    from plain_training import plain_python_training

    network = Network(explainer.load_spec())
    rounds = network.spec.iterations

    def best_of(function) -> tuple[float, object]:
        times, result = [], None
        for _ in range(runs):
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
        return statistics.median(times), result

    ours, trained = best_of(lambda: train(network, rounds))
    matrices, trained_numpy = best_of(lambda: numpy_training.train_numpy(network, rounds))
    plain, (error, outputs) = best_of(lambda: plain_python_training(network.spec, rounds))
    difference = max(abs(a - b) for a, b in zip((trained.error, *trained.outputs[0]), (error, *outputs)))
    difference_numpy = max(abs(a - b) for a, b in zip((trained_numpy.error, *trained_numpy.outputs[0]), (error, *outputs)))
    print(f"  {rounds:,} rounds of the default network: explainer {ours * 1000:.1f} ms, numpy matrices "
          f"{matrices * 1000:.1f} ms, plain Python {plain * 1000:.1f} ms")
    report("training loop / plain Python loop", ours / plain, "≤ 0.2", ours / plain <= 0.2 and difference <= 1e-12,
           f"(results differ by {difference:.1e}; numpy path by {difference_numpy:.1e})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "explainer", quiet=1)
    startup(args.runs)
    render(args.runs)
    scaling(max(3, args.runs // 2))
    training(args.runs)
    from tex import tex_ratios  # the PDF and the slides against a bare latexmk (benchmarks/tex.py)

    tex_ratios(max(3, args.runs // 2), report)


if __name__ == "__main__":
    main()
