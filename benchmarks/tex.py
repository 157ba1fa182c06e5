"""What explainer adds to the TeX engine's own time, for ``--format pdf`` and ``--format slides``.

Each is a ratio against a bare ``latexmk`` compile of the same ``.tex`` in a
fresh directory, the two run in turn in the same run (target: at most 10 %
more).  Called from ``run.py``; ``python benchmarks/tex.py [--runs N]`` runs it alone.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPLAINER = [sys.executable, "-m", "explainer"]
# The .tex each PDF is compiled from, and the PDF format that compiles it.
FORMATS = {"pdf": "latex", "slides": "beamer"}


def _timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _bare_latexmk(tex: str, directory: Path) -> float:
    """A fresh compile of ``tex`` by latexmk alone, with the engine the document asks for."""
    program = "-pdflua" if tex.startswith("% !TEX program = lualatex") else "-pdf"
    work = Path(tempfile.mkdtemp(dir=directory))
    (work / "document.tex").write_text(tex, encoding="utf-8")
    return _timed(["latexmk", program, "-norc", "-interaction=nonstopmode", "-halt-on-error", "document.tex"], work)


def tex_ratios(runs: int, report) -> None:
    if shutil.which("latexmk") is None:
        print("pdf and slides: latexmk is not installed, skipped")
        return
    with tempfile.TemporaryDirectory(prefix="explainer-bench-") as scratch:
        directory = Path(scratch)
        for fmt, source in FORMATS.items():
            tex = subprocess.run([*EXPLAINER, "render", "--format", source, "--output", "-"], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout
            command = [*EXPLAINER, "render", "--format", fmt, "--output", str(directory / f"out-{fmt}.pdf")]
            _timed(command, ROOT)  # warm-up: file caches, fonts, Jinja's template cache
            _bare_latexmk(tex, directory)
            pairs = [(_timed(command, ROOT), _bare_latexmk(tex, directory)) for _ in range(runs)]
            ours = statistics.median(a for a, _ in pairs)
            bare = statistics.median(b for _, b in pairs)
            ratio = statistics.median(a / b for a, b in pairs)
            report(f"explainer render --format {fmt} / bare latexmk", "latexmk of the same .tex", 1.1, ratio,
                   f"({ours:.2f} s vs {bare:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import report

    tex_ratios(args.runs, report)


if __name__ == "__main__":
    main()
