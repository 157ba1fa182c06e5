"""Shared test helpers: the project's paths, the command line, real external tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def require_tool(name: str) -> str:
    """The path of a real tool; a skip on a laptop without it, a failure under CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run every test")
        pytest.skip(message)
    return path


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
