"""Same input, same bytes: across runs and processes, whatever Python's hash seed."""

from __future__ import annotations

import hashlib

import pytest

from conftest import ROOT, run_cli

EXAMPLE = str(ROOT / "examples" / "two-hidden-layers.toml")


def digest_of_outputs(directory, seed: str) -> dict[str, str]:
    """Run every command in a fresh process with ``PYTHONHASHSEED=seed``; the digest of each output."""
    env = {"PYTHONHASHSEED": seed}
    digests = {}
    for name, argv in {
        "render": ["render", EXAMPLE, "--output", str(directory / seed)],
        "html": ["render", EXAMPLE, "--format", "html", "--output", "-"],
        "values": ["values", EXAMPLE],
        "check": ["check", str(ROOT / "examples" / "answers.txt"), "--format", "json"],
    }.items():
        result = run_cli(*argv, env=env)
        assert result.returncode in (0, 1), result.stderr
        if name != "render":  # render prints the paths it wrote, which differ here by design
            digests[name] = hashlib.sha256(result.stdout.encode()).hexdigest()
    for path in sorted((directory / seed).iterdir()):
        digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("runs")
    return [digest_of_outputs(directory, seed) for seed in ("0", "1", "4242")]


def test_every_output_is_byte_identical_whatever_the_hash_seed(runs):
    first = runs[0]
    assert len(first) >= 7  # three commands' output, four files (.md, two .svg, .tex)
    for other in runs[1:]:
        assert other == first
