"""Benchmarks of explainer, as ratios against baselines measured in the same run.

    python benchmarks/run.py [--runs N]

Whole processes are timed (wall clock, median of N runs after one warm-up),
so start-up and imports count as a user feels them.  These are not tests:
they print figures and their targets, and never fail a build.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    name: str
    command: list[str]
    baseline_name: str
    baseline: list[str]
    target: float  # the ratio command / baseline must not exceed this


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, check=True, capture_output=True)  # warm-up: file caches, template cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def comparisons(output: str) -> list[Comparison]:
    python = sys.executable
    imports = [python, "-c", "import sympy, jinja2, numpy"]
    return [
        Comparison("explainer render (default example)", [python, "-m", "explainer", "render", "--output", output],
                   "import sympy, jinja2, numpy", imports, 1.5),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as output:
        print(f"{'benchmark':40} {'time':>8} {'baseline':>9} {'ratio':>6} {'target':>7}")
        for c in comparisons(output):
            seconds = median_seconds(c.command, args.runs)
            base = median_seconds(c.baseline, args.runs)
            ratio = seconds / base
            verdict = "ok" if ratio <= c.target else "OVER"
            print(f"{c.name:40} {seconds:7.3f}s {base:8.3f}s {ratio:6.2f} {'≤':>2}{c.target:4.2f}  {verdict}  (baseline: {c.baseline_name})")


if __name__ == "__main__":
    main()
