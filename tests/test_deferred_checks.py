"""The check against the composed E_total, deferred while TeX compiles a PDF: the same
values, and a mismatch still stops the command before anything is written."""

from __future__ import annotations

import pytest

from conftest import require_tool
from explainer import cli
from explainer.integrations.jupyter import Derivation
from explainer.maths import checks
from explainer.spec.errors import DerivationMismatch


def test_a_deferred_check_gives_the_same_derivation():
    deferred = Derivation.of(None, defer_checks=True)
    assert deferred._composed.pending  # waiting
    deferred.check()
    assert not deferred._composed.pending
    assert deferred.values == Derivation.of(None).values


@pytest.fixture
def mismatch(monkeypatch):
    def wrong(self, point, gradient):
        raise DerivationMismatch("dE_total/dw5 differs from the composed E_total's derivative")

    monkeypatch.setattr(checks.ComposedGradients, "check", wrong)


def test_a_mismatch_is_raised_at_once_or_by_check(mismatch):
    with pytest.raises(DerivationMismatch):
        Derivation.of(None)
    deferred = Derivation.of(None, defer_checks=True)
    with pytest.raises(DerivationMismatch):
        deferred.check()


@pytest.mark.parametrize("fmt", ["pdf", "slides"])
def test_a_mismatch_found_during_the_tex_run_writes_no_pdf(mismatch, tmp_path, fmt):
    require_tool("latexmk")
    out = tmp_path / "out.pdf"
    with pytest.raises(DerivationMismatch):
        cli.main(["render", "--format", fmt, "--output", str(out)])
    assert not out.exists()
