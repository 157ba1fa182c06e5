"""The package as it is published: its metadata, the wheel and sdist that
``python -m build`` makes, and the wheel installed in a fresh virtual
environment, used from a folder that is not the checkout."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, require_module, run_cli

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def test_the_version_is_written_once_and_the_command_says_it():
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "explainer.__version__"}
    import explainer

    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"explainer {explainer.__version__}\n"
    assert importlib.metadata.version("explainer") == explainer.__version__


def test_the_metadata_is_complete_and_valid():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert PROJECT["authors"] and PROJECT["keywords"]
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(PROJECT["urls"])
    known = require_module("trove_classifiers").classifiers
    assert [c for c in PROJECT["classifiers"] if c not in known] == []
    # A license classifier beside an SPDX expression is refused by the build tools.
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])
    for extra, framework in (("mkdocs", "Framework :: MkDocs"), ("sphinx", "Framework :: Sphinx :: Extension")):
        assert extra in PROJECT["optional-dependencies"] and framework in PROJECT["classifiers"]
    supported = [c for c in PROJECT["classifiers"] if c.startswith("Programming Language :: Python :: 3.")]
    assert f"Programming Language :: Python :: {PROJECT['requires-python'].removeprefix('>=')}" in supported


@pytest.fixture(scope="module")
def distributions(tmp_path_factory) -> dict[str, Path]:
    """The wheel and the sdist, built from the checkout as a release is."""
    require_module("build")
    require_module("setuptools")
    out = tmp_path_factory.mktemp("dist")
    # Without isolation the build uses this environment's setuptools (the test extra has it): no network.
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    return {"wheel": wheels[0], "sdist": sdists[0]}


@pytest.mark.slow
def test_twine_accepts_the_wheel_and_the_sdist(distributions):
    require_module("twine")
    result = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                             str(distributions["wheel"]), str(distributions["sdist"])],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2
    # twine passes Markdown it cannot render; make sure it could, as PyPI will.
    markdown = require_module("readme_renderer.markdown")
    rendered = markdown.render((ROOT / "README.md").read_text(encoding="utf-8"))
    assert rendered is not None and "<table>" in rendered


@pytest.mark.slow
def test_the_wheel_and_the_sdist_ship_the_license_examples_and_templates(distributions):
    import explainer

    names = zipfile.ZipFile(distributions["wheel"]).namelist()
    version = explainer.__version__
    assert f"explainer-{version}.dist-info/licenses/LICENSE" in names
    shipped = sorted(path.name for path in (ROOT / "examples").iterdir() if path.is_file())
    assert sorted(n.removeprefix("explainer/examples/") for n in names if n.startswith("explainer/examples/")) == shipped
    # The templates, and the files the reveal.js slides inline (vendored: they need no network at view time).
    templates = sorted(path.relative_to(ROOT / "templates").as_posix() for path in (ROOT / "templates").rglob("*")
                       if path.is_file() and (path.suffix == ".j2" or "vendor" in path.parts))
    assert sorted(n.removeprefix("explainer/templates/") for n in names if n.startswith("explainer/templates/")) \
        == templates
    metadata = zipfile.ZipFile(distributions["wheel"]).read(f"explainer-{version}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    with tarfile.open(distributions["sdist"]) as sdist:
        members = set(sdist.getnames())
    top = f"explainer-{version}"
    for name in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "examples/xor.toml", "templates/document.j2",
                 "templates/vendor/reveal.js/reveal.js", "templates/vendor/reveal.js/LICENSE"):
        assert f"{top}/{name}" in members, name


@pytest.mark.slow
def test_the_wheel_works_in_a_fresh_environment_from_any_folder(distributions, tmp_path):
    """A user's first commands, with the wheel installed alone (its dependencies are
    borrowed from this environment, so the test needs no network) and run in an
    empty folder, far from the checkout's examples/, templates/ and output/."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # Only the directories listed in a .pth file are added, never the .pth files inside them, so an
    # editable install of the checkout in this environment stays out of the fresh one.
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    # --ignore-installed: where this environment holds a regular install of the same version (as in
    # CI), pip would otherwise find it through the .pth file and install nothing.
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--no-cache-dir",
                              "--ignore-installed", "--disable-pip-version-check", "--quiet",
                              str(distributions["wheel"])],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    work = tmp_path / "somewhere"
    work.mkdir()
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment["XDG_CACHE_HOME"] = str(tmp_path / "cache")

    def explainer(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "explainer"), *args], cwd=work, env=environment,
                              capture_output=True, text=True, timeout=300)

    where = subprocess.run([str(python), "-c", "import explainer; print(explainer.__file__)"], cwd=work,
                           env=environment, capture_output=True, text=True, check=True).stdout
    assert Path(where).is_relative_to(venv), where
    import explainer as checkout

    assert explainer("--version").stdout == f"explainer {checkout.__version__}\n"
    rendered = explainer("render", "xor")
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.splitlines() == ["output/xor.md", "output/xor-network.svg", "output/xor-loss.svg",
                                            "output/xor.tex"]
    for name in ("xor.md", "xor-network.svg", "xor-loss.svg", "xor.tex"):
        assert (work / "output" / name).read_bytes() == (ROOT / "output" / name).read_bytes(), name
    listed = explainer("examples")
    assert listed.returncode == 0 and "xor" in listed.stdout and "answers.txt" in listed.stdout
    (work / "answers.txt").write_text(explainer("examples", "answers.txt").stdout, encoding="utf-8")
    checked = explainer("check", "answers.txt")
    assert checked.returncode == 1, checked.stderr  # the sheet's slips are found
    assert "20 checked: 11 correct, 2 rounding, 3 carried forward, 3 wrong, 1 unknown." in checked.stdout
    values = subprocess.run([str(venv / "bin" / "explainer"), "values"], cwd=work, env=environment,
                            capture_output=True, text=True, timeout=300)
    agreed = explainer("check", "-")  # standard input: nothing, so no answers
    assert agreed.returncode == 2 and "no answers found" in agreed.stderr
    fed = subprocess.run([str(venv / "bin" / "explainer"), "check", "-"], input=values.stdout, cwd=work,
                         env=environment, capture_output=True, text=True, timeout=300)
    assert fed.returncode == 0, fed.stdout + fed.stderr
