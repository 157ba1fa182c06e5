"""Shared test helpers: the project's paths, the command line, real external tools."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A test is slow when it needs a real external tool: TeX, a browser, pandoc,
# KaTeX under Node, a docs-site or notebook build, a package build.  These are
# the calls that say so; ``-m "not slow"`` leaves such tests out.
SLOW_CALLS = frozenset({"require_tool", "katex_failures", "compile_pdf", "to_pdf"})
SLOW_MODULES = frozenset({"nbclient", "nbconvert", "sphinx", "mkdocs", "build", "twine"})


def pytest_collection_modifyitems(items):
    """Mark every test that needs a real external tool ``slow`` (see SLOW_CALLS),
    whether it calls the tool itself, through a helper of its module or through
    one of its fixtures, so that a new test is marked without being told."""
    verdicts: dict = {}
    for item in items:
        function = getattr(item, "function", None)
        if function is None or item.get_closest_marker("slow"):
            continue
        fixtures = [definition.func for definitions in getattr(item, "_fixtureinfo").name2fixturedefs.values()
                    for definition in definitions]
        if any(_needs_a_tool(candidate, verdicts) for candidate in (function, *fixtures)):
            item.add_marker(pytest.mark.slow)


def _needs_a_tool(function, verdicts: dict) -> bool:
    if function in verdicts:
        return verdicts[function]
    verdicts[function] = False  # a helper that calls itself ends here
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return False
    module = sys.modules.get(function.__module__)
    found = False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        argument = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
        if name in SLOW_CALLS or (name == "require_module" and argument in SLOW_MODULES):
            found = True
            break
        helper = getattr(module, name, None) if name else None
        if inspect.isfunction(helper) and helper.__module__ == function.__module__ and _needs_a_tool(helper, verdicts):
            found = True
            break
    verdicts[function] = found
    return found


def require_tool(name: str) -> str:
    """The path of a real tool; a skip on a laptop without it, a failure under CI."""
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} is not installed")
    return path


def require_module(name: str):
    """A Python package of the test extra, imported; a skip on a laptop without it, a failure under CI."""
    try:
        return importlib.import_module(name)
    except ImportError:
        _missing(f"{name} is not installed (python -m pip install '.[test]')")


def _missing(message: str):
    if os.environ.get("CI"):
        pytest.fail(f"{message}, and CI must run every test")
    pytest.skip(message)


def katex_failures(formulas) -> list[dict]:
    """The formulas, ``(tex, display)`` pairs, that real KaTeX cannot parse (with
    ``throwOnError`` and ``strict``), each as ``{tex, display, error}``."""
    node = require_tool("node")
    if not (ROOT / "tests" / "node_modules" / "katex").is_dir():
        _missing("KaTeX is not installed (npm ci --prefix tests)")
    formulas = [{"tex": tex, "display": display} for tex, display in formulas]
    result = subprocess.run(
        [node, str(ROOT / "tests" / "katex_check.js")],
        input=json.dumps(formulas), capture_output=True, text=True, timeout=300, check=True,
    )
    report = json.loads(result.stdout)
    assert report["checked"] == len(formulas)
    return report["failures"]


# The multi-letter names of the source's notation, and the words of its general formulas.
SOURCE_WORDS = ("net", "out", "target", "total", "output", "reg")


def as_words(tex: str, words=SOURCE_WORDS) -> str:
    """TeX as LaTeX prints it, set as the web formats set it: each multi-letter name one italic word."""
    for word in words:
        tex = re.sub(rf"(?<![A-Za-z\\]){word}(?![A-Za-z])", rf"\\mathit{{{word}}}", tex)
    return tex


def plain_names(tex: str) -> str:
    """The web formats' TeX with its multi-letter names as LaTeX prints them (``\\mathit{net}`` → ``net``)."""
    return re.sub(r"\\mathit\{([A-Za-z]+)\}", r"\1", tex)


@pytest.fixture(scope="session", autouse=True)
def _cache_of_the_session(tmp_path_factory):
    """The user's cache folder (compiled templates, shapes' derivatives) in a folder of the test session's
    own, for this process and the processes it starts: none of the user's is read or written."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m explainer ARGS`` in a fresh process."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "explainer", *args],
        cwd=cwd or ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="session")
def default_derivation():
    import explainer

    return explainer.derive()


# Networks of other shapes, for the tests that must hold for every network.
WIDE_HIDDEN_DEEP = {
    "title": "Two hidden layers",
    "network": {
        "layers": [2, 3, 2, 2],
        "weights": [
            [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]],
            [[0.7, -0.8, 0.9], [0.15, 0.25, -0.35]],
            [[0.45, -0.55], [0.65, 0.75]],
        ],
        "biases": [[0.1, 0.2, 0.3], 0.4, [0.5, -0.6]],
    },
    "data": {"inputs": [0.5, -1.0], "targets": [0.2, 0.8]},
    "training": {"learning_rate": 0.25, "iterations": 50},
}
THREE_INPUTS_ONE_OUTPUT = {
    "title": "Three inputs, one output",
    "network": {
        "layers": [3, 2, 1],
        "weights": [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[0.7, 0.8]]],
        "biases": [0.1, 0.2],
    },
    "data": {"inputs": [1.0, 0.5, -0.5], "targets": [0.25]},
    "training": {"iterations": 20, "update": "sequential"},
}


def shipped_and_other_specs() -> dict:
    """Every shipped example, and networks of other shapes, by name."""
    specs = {path.name: str(path) for path in sorted((ROOT / "examples").glob("*.toml"))}
    return {**specs, "[2, 3, 2, 2]": WIDE_HIDDEN_DEEP, "[3, 2, 1]": THREE_INPUTS_ONE_OUTPUT}
