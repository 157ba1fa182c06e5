"""The package's plan: one sub-package a stage, data flowing one way.

Every module's imports are read with ``ast`` (function-level imports too, since
a lazy import is still a dependency) and each import of another part of the
package must go to the same stage or one below it.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import explainer

PACKAGE = Path(explainer.__file__).parent

# Lowest first: a stage may import the stages before it and itself, never one after it.
STAGES = ("spec", "maths", "outputs", "grading", "exercises", "integrations")
# The top: the command line (with its cache and processes), the public API and the two entry-point
# aliases may import any stage.
TOP = {"explainer", "explainer.cli", "explainer.writing", "explainer.processes", "explainer.caching", "explainer.__main__", "explainer.markdown_extension", "explainer.sphinx"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """The names of the package's modules (or packages) that ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "explainer"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "explainer":
                continue
            # ``from . import numeric`` names a module; ``from .x import f`` names x.
            submodules = {f"{target}.{alias.name}" for alias in node.names}
            found |= {m for m in submodules if m in modules()} or {target}
    return found


def stage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_every_module_belongs_to_a_stage_or_the_top():
    assert {name for name in modules() if stage(name) is None} == TOP


def test_every_stage_says_what_it_holds_and_may_import():
    for name in STAGES:
        doc = importlib.import_module(f"explainer.{name}").__doc__
        assert doc and "import" in doc, name


@pytest.mark.parametrize("name", [n for n in modules() if stage(n)])
def test_no_stage_imports_one_above_it(name):
    own = STAGES.index(stage(name))
    against = {target for target in imported(name, modules()[name])
               if stage(target) is None or STAGES.index(stage(target)) > own}
    assert not against, f"{name} imports {sorted(against)}, above its stage {stage(name)!r}"


def test_no_import_circles():
    graph = {name: {t for t in imported(name, path) if t in modules() and t != name}
             for name, path in modules().items()}
    # A package's __init__ is imported with every module in it: count it as an edge only where it
    # imports something itself (the stages' __init__ files import nothing).
    visiting, done, circles = [], set(), []

    def visit(node):
        if node in visiting:
            circles.append(visiting[visiting.index(node):] + [node])
            return
        if node in done:
            return
        visiting.append(node)
        for target in sorted(graph[node]):
            visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert not circles, circles


def test_the_reader_of_imports_sees_relative_and_lazy_imports():
    # The test above would pass on a reader that finds nothing; it finds what is known to be there.
    assert "explainer.maths.numeric" in imported("explainer.maths.derivation", modules()["explainer.maths.derivation"])
    training = imported("explainer.maths.training", modules()["explainer.maths.training"])
    assert "explainer.maths.numpy_training" in training  # a function-level import
    assert "explainer.outputs.render" in imported("explainer.cli", modules()["explainer.cli"])


def test_the_public_api_is_small_and_flat():
    assert set(explainer.__all__) == {"load_spec", "derive", "check", "exercise", "Derivation", "Spec",
                                      "SpecError", "ExplainerError", "__version__"}
    derivation = explainer.derive()
    for method in ("to_markdown", "to_latex", "to_html", "to_pdf"):
        assert callable(getattr(derivation, method))
    assert isinstance(derivation, explainer.Derivation)
    assert derivation.values["out_h1"] > 0


def test_the_public_check_and_exercise():
    verdicts = explainer.check("out_h1 = 0.593269992\nout_o1 = 0.2", explainer.derive())
    assert [v.verdict for v in verdicts] == ["correct", "wrong"]
    files = explainer.exercise(student="ada", seed=7)
    assert {"questions/ada.md", "solutions/ada.tex", "keys/ada.json"} <= set(files)
    assert files == explainer.exercise(student="ada", seed=7)


def test_the_old_entry_point_names_still_work():
    from explainer import markdown_extension, sphinx
    from explainer.integrations import markdown_extension as new_markdown, sphinx as new_sphinx

    assert markdown_extension.makeExtension is new_markdown.makeExtension
    assert sphinx.setup is new_sphinx.setup
