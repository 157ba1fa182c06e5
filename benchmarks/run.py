"""Benchmarks of explainer, as ratios against baselines measured in the same run.

    python benchmarks/run.py [--runs N] [--students N]

Whole processes are timed (wall clock), each command in turn with its
baseline so that a change in the machine's load touches both alike, and the
figure is the median over the runs (after a warm-up) of their ratios.  The
training loop is timed in-process against loops written for the network
without explainer (``benchmarks/baselines.py``).  explainer's modules are
byte-compiled first, as ``pip install`` leaves them.  These are not tests:
they print each figure beside its baseline and target and never fail a build.
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
EXPLAINER = [PYTHON, "-m", "explainer"]
BARE = [PYTHON, "-c", "pass"]
# The imports render needs, and the same exit: the program skips the last garbage collections too.
IMPORTS = [PYTHON, "-c", "import sympy, jinja2; import gc; gc.freeze()"]
# Networks for the growth of `values`, by their true number of weights.
GROWTH = {8: [2, 2, 2], 1100: [10, 30, 20, 10], 2500: [20, 50, 30], 4900: [30, 70, 40],
          9800: [40, 100, 58], 19600: [60, 140, 80]}
DETAIL = [20, 50, 10]  # 1,500 weights
# Networks for the training loop's two paths: straight-line Python and numpy.
TRAINING = {8: [2, 2, 2], 32: [4, 4, 4], 112: [4, 8, 8, 2], 300: [10, 20, 5], 640: [16, 32, 4]}

# The variable that turns off the program's caches (compiled templates, shapes' derivatives: explainer.caching).
CACHE_OFF = "EXPLAINER_NO_CACHE"
ENV = ["env"]
ROWS: list[tuple[str, str, str, str]] = []  # (benchmark, baseline, target, measured), for the README


def run(command: list[str], cwd: Path = ROOT) -> tuple[float, int]:
    """Wall time in seconds and peak resident memory in KiB of one process.

    ``check`` exits with 1 when a sheet has a wrong number, as a third of the class's do."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in ((0, 1) if "check" in command else (0,)):
        raise SystemExit(f"failed: {' '.join(command)}: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss


def interleaved(commands: list[list[str]], runs: int, warm: bool = True) -> list[list[float]]:
    """Wall times of each command, the commands run in turn ``runs`` times (after one warm-up round)."""
    if warm:
        for command in commands:
            run(command)
    times = [[] for _ in commands]
    for _ in range(runs):
        for i, command in enumerate(commands):
            times[i].append(run(command)[0])
    return times


def ratio(command: list[str], baseline: list[str], runs: int) -> tuple[float, float, float]:
    """Median time of each, and the median of their ratios run by run."""
    ours, base = interleaved([command, baseline], runs)
    return statistics.median(ours), statistics.median(base), statistics.median(a / b for a, b in zip(ours, base))


def report(name: str, baseline: str, target: float, value: float, detail: str = "", ok: bool | None = None) -> None:
    ok = value <= target if ok is None else ok
    print(f"{name:62} {value:7.2f}  target ≤ {target:<5} {'ok' if ok else 'OVER'}  {detail}", flush=True)
    ROWS.append((name, baseline, f"≤ {target}", f"{value:.2f}" + ("" if ok else " (over)")))


def spec_of_shape(layers: list[int], seed: int = 0, iterations: int | None = None) -> dict:
    rng = random.Random(seed)

    def number() -> float:
        return round(rng.uniform(-0.5, 0.5), 2)

    spec = {
        "title": f"{'-'.join(map(str, layers))} network",
        "network": {
            "layers": layers,
            "weights": [[[number() for _ in range(layers[l])] for _ in range(layers[l + 1])] for l in range(len(layers) - 1)],
            "biases": [number() for _ in layers[1:]],
        },
        "data": {"inputs": [round(rng.uniform(0, 1), 2) for _ in range(layers[0])],
                 "targets": [round(rng.uniform(0.1, 0.9), 2) for _ in range(layers[-1])]},
    }
    if iterations is not None:
        spec["training"] = {"iterations": iterations}
    return spec


def weights_of(layers: list[int]) -> int:
    return sum(a * b for a, b in zip(layers, layers[1:]))


def startup(runs: int) -> None:
    for option in ("--help", "--version"):
        ours, bare, r = ratio([*EXPLAINER, option], BARE, runs)
        report(f"`explainer {option}`", "`python -c pass`", 1.3, r, f"({ours * 1000:.0f} ms vs {bare * 1000:.0f} ms)")


def render(runs: int, folder: Path) -> None:
    """A render of the default example, as every run after the first of its shape (the shape's compiled
    derivatives and the compiled templates read from the cache), and as a first run: with the caches off,
    every run compiles the templates and differentiates the composed E_total."""
    command = [*EXPLAINER, "render", "--output", str(folder / "render")]
    baseline = '`python -c "import sympy, jinja2; import gc; gc.freeze()"`'
    ours, imports, r = ratio(command, IMPORTS, runs)
    report("`explainer render` of the default example", baseline, 1.3, r,
           f"({ours * 1000:.0f} ms vs {imports * 1000:.0f} ms)")
    ours, imports, r = ratio([*ENV, f"{CACHE_OFF}=1", *command], IMPORTS, runs)
    report("`explainer render` of the default example, caches off (every run a first run)", baseline, 1.3, r,
           f"({ours * 1000:.0f} ms vs {imports * 1000:.0f} ms)")


def class_scale(runs: int, students: int, folder: Path) -> None:
    """A class: its exercise sheets made, and its answer sheets graded with the keys, each against one render."""
    exercise = [*EXPLAINER, "exercise", "--count", str(students), "--seed", "benchmark", "--quiet",
                "--output", str(folder / "class")]
    one_render = [*EXPLAINER, "render", "--output", str(folder / "render")]
    ours, base, r = ratio(exercise, one_render, runs)
    report(f"`explainer exercise --count {students}`", "one `explainer render`", 10, r,
           f"({ours:.1f} s vs {base * 1000:.0f} ms; {ours / students * 1000:.0f} ms a student, {os.cpu_count()} cores)")
    sheets = folder / "sheets"
    sheets.mkdir(exist_ok=True)
    for i, key in enumerate(sorted((folder / "class" / "keys").glob("*.json"))):
        text = key.read_text()
        if i % 3 == 0:  # a third of the class gets a number wrong, so that hints are looked for
            text = text.replace('"out_h1": ', '"out_h1": 1', 1)
        (sheets / key.name).write_text(text)
    check = [*EXPLAINER, "check", str(sheets), "--keys", str(folder / "class" / "keys"), "--quiet",
             "--output", str(folder / "summary.csv")]
    ours, base, r = ratio(check, one_render, runs)
    report(f"`explainer check` of {students} sheets with `--keys`", "one `explainer render`", 4, r,
           f"({ours:.1f} s vs {base * 1000:.0f} ms)")


def growth(runs: int, folder: Path) -> None:
    """``values`` from 1,100 to 19,600 weights: the exponent of the time beyond the 8-weight network's."""
    commands = {}
    for weights, layers in GROWTH.items():
        assert weights_of(layers) == weights, (layers, weights_of(layers))
        path = folder / f"net{weights}.json"
        path.write_text(json.dumps(spec_of_shape(layers)))
        commands[weights] = [*EXPLAINER, "values", str(path)]
    times = interleaved(list(commands.values()), runs, warm=False)
    seconds = {w: statistics.median(t) for w, t in zip(commands, times)}
    for weights, layers in GROWTH.items():
        print(f"  explainer values, {'-'.join(map(str, layers)):12} ({weights:6,} weights): {seconds[weights]:7.2f} s")
    points = [(math.log(w), math.log(seconds[w] - seconds[8])) for w in GROWTH if w > 8]
    mx, my = statistics.mean(x for x, _ in points), statistics.mean(y for _, y in points)
    exponent = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    report("growth of `explainer values`, 1,100 → 19,600 weights (exponent)", "linear: 1", 1.05, exponent,
           f"(fit of log(t − t₈) on log weights, {len(points)} sizes)")
    report("`explainer values` of 19,600 weights, seconds", "—", 5, seconds[19600])
    _, peak = run(commands[19600])
    _, base = run(IMPORTS)
    report("peak memory of `explainer values`, 19,600 weights", "importing sympy, jinja2", 3, peak / base,
           f"({peak / 1024:.0f} MiB vs {base / 1024:.0f} MiB)")


def detail(runs: int, folder: Path) -> None:
    path = folder / "detail.json"
    path.write_text(json.dumps(spec_of_shape(DETAIL, iterations=100)))
    full = [*EXPLAINER, "render", str(path), "--detail", "full", "--output", str(folder / "full")]
    source = [*EXPLAINER, "render", str(path), "--detail", "source", "--output", str(folder / "source")]
    ours, base, r = ratio(full, source, runs)
    report(f"`render --detail full`, {weights_of(DETAIL):,} weights", "`--detail source`", 1.5, r,
           f"({ours:.1f} s vs {base:.1f} s)")


def training(runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import explainer
    from baselines import numpy_loop, straight_line
    from explainer.maths import numpy_training, scalar_training, training as loop
    from explainer.maths.network import Network
    from explainer.spec.reading import spec_from_mapping

    def timed(function, repeat: int) -> tuple[list[float], object]:
        times, result = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
        return times, result

    def against(ours, baseline, repeat: int):
        """Median of the ratios, the two run in turn, and both results."""
        timed(ours, 1), timed(baseline, 1)
        pairs, a, b = [], None, None
        for _ in range(repeat):
            (t1,), a = timed(ours, 1)
            (t2,), b = timed(baseline, 1)
            pairs.append((t1, t2))
        return (statistics.median(x for x, _ in pairs), statistics.median(y for _, y in pairs),
                statistics.median(x / y for x, y in pairs), a, b)

    def difference(trained, result) -> float:
        error, outputs = result
        return max(abs(x - y) for x, y in zip((trained.error, *trained.outputs[0]), (error, *outputs)))

    network = Network(explainer.load_spec())
    rounds = network.spec.iterations
    fast = straight_line(network.spec)
    ours, base, r, trained, result = against(lambda: loop.train(network, rounds), lambda: fast(rounds), runs)
    gap = difference(trained, result)
    report(f"{rounds:,} training rounds of the default network", "an unrolled plain-Python loop (`benchmarks/baselines.py`)",
           1.2, r, f"({ours * 1000:.1f} ms vs {base * 1000:.1f} ms; results differ by {gap:.0e})",
           ok=r <= 1.2 and gap <= 1e-12)

    print(f"  where each path of explainer's loop is faster (limit for straight-line Python: {loop.SCALAR_LIMIT} weights):")
    for weights, layers in TRAINING.items():
        n = Network(spec_from_mapping(spec_of_shape(layers, iterations=1000), "<benchmark>", "benchmark"))
        scalar, matrices, r, _, _ = against(lambda: scalar_training.train_scalar(n, 1000),
                                            lambda: numpy_training.train_numpy(n, 1000), max(3, runs // 2))
        print(f"    {weights:5} weights: straight-line {scalar * 1000:7.1f} ms, numpy {matrices * 1000:7.1f} ms "
              f"({'straight-line' if r < 1 else 'numpy'} faster)")
    layers = TRAINING[640]  # above the straight-line limit: explainer's numpy path
    assert weights_of(layers) > loop.SCALAR_LIMIT
    n = Network(spec_from_mapping(spec_of_shape(layers, iterations=rounds), "<benchmark>", "benchmark"))
    matrices = numpy_loop(n.spec)
    ours, base, r, trained, result = against(lambda: loop.train(n, rounds), lambda: matrices(rounds), max(3, runs // 2))
    gap = difference(trained, result)
    report(f"{rounds:,} training rounds of {'-'.join(map(str, layers))} ({weights_of(layers)} weights)",
           "a numpy loop written for the shape", 1.2, r,
           f"({ours * 1000:.0f} ms vs {base * 1000:.0f} ms; results differ by {gap:.0e})", ok=r <= 1.2 and gap <= 1e-12)


def table() -> str:
    lines = ["| benchmark | baseline | target | measured |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in ROWS]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each quick command (default: 7)")
    parser.add_argument("--students", type=int, default=300, help="the size of the class (default: 300)")
    parser.add_argument("--skip", action="append", default=[], metavar="PART",
                        choices=("startup", "class", "growth", "detail", "training", "tex"), help="leave a part out")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "explainer", quiet=1)
    slow = max(3, args.runs // 2)
    folder = Path(tempfile.mkdtemp(prefix="explainer-benchmark-"))
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")  # where the program keeps its caches: the benchmark's own
    os.environ.pop(CACHE_OFF, None)
    try:
        if "startup" not in args.skip:
            startup(args.runs)
            render(args.runs, folder)
        if "class" not in args.skip:
            class_scale(slow, args.students, folder)
        if "detail" not in args.skip:
            detail(slow, folder)
        if "growth" not in args.skip:
            growth(max(1, slow - 2), folder)
        if "training" not in args.skip:
            training(args.runs)
        if "tex" not in args.skip:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from tex import tex_ratios  # the PDF and the slides against a bare latexmk (benchmarks/tex.py)

            tex_ratios(slow, report)
    finally:
        shutil.rmtree(folder)
    print()
    print(table())


if __name__ == "__main__":
    main()
