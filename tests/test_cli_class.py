"""A whole class at once: the process pool, the progress bar, and grading that derives only what it grades."""

from __future__ import annotations

import fcntl
import os
import pickle
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

import explainer
from explainer.grading.check import claims_after_training, graded_spec
from explainer.spec.errors import SpecError

from conftest import ROOT, run_cli

SEED = "autumn"


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """The same class of seven made with one process and with three, and its sheets handed in."""
    root = tmp_path_factory.mktemp("class")
    runs = {}
    for jobs in (1, 3):
        result = run_cli("exercise", "--count", "7", "--seed", SEED, "--jobs", str(jobs),
                         "--output", str(root / f"jobs{jobs}"), cwd=root)
        assert result.returncode == 0, result.stderr
        runs[jobs] = result
    sheets = root / "sheets"
    sheets.mkdir()
    for key in sorted((root / "jobs1" / "keys").glob("*.json")):
        text = key.read_text()
        if key.stem == "3":  # a wrong number, for a hint computed in a worker
            text = text.replace('"net_h1": ', '"net_h1": 1', 1)
        (sheets / key.name).write_text(text)
    (sheets / "5.json").unlink()
    (sheets / "5.txt").write_text("nothing to grade here\n")
    return root, runs


def test_exercise_files_do_not_depend_on_the_number_of_processes(classes):
    root, runs = classes
    assert files_of(root / "jobs1") == files_of(root / "jobs3")
    assert runs[1].stdout.replace("jobs1", "jobs3") == runs[3].stdout
    assert runs[1].stderr == runs[3].stderr == ""  # no progress bar off a terminal


def test_class_summary_does_not_depend_on_the_number_of_processes(classes):
    root, _ = classes
    results = [run_cli("check", str(root / "sheets"), "--keys", str(root / "jobs1" / "keys"), "--jobs", str(jobs))
               for jobs in (1, 2)]
    assert results[0].returncode == results[1].returncode == 1
    assert results[0].stdout == results[1].stdout
    assert results[0].stderr == results[1].stderr
    assert "5.txt" in results[0].stderr and results[0].stdout.count("\n") == 1 + 7  # header, students (totals: a file of their own)
    by_student = {line.split(",")[0]: line for line in results[0].stdout.splitlines()}
    assert ",wrong," in by_student["3"] and ",wrong," not in by_student["1"]


def test_jobs_must_be_at_least_one():
    result = run_cli("exercise", "--count", "2", "--seed", SEED, "--jobs", "0")
    assert result.returncode == 2 and "--jobs" in result.stderr and result.stderr.count("\n") == 1


def run_on_a_terminal(*args: str, cwd: Path) -> tuple[int, str]:
    """The command with standard error on a pseudo-terminal; its status and what the terminal showed."""
    controller, terminal = pty.openpty()
    # A window of 24 rows and 100 columns, as a terminal has (a bare pseudo-terminal has none).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "explainer", *args], cwd=cwd, env=environment,
                               stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(timeout=300), shown.decode(errors="replace")


def test_a_progress_bar_on_a_terminal_and_none_when_quiet(tmp_path):
    status, shown = run_on_a_terminal("exercise", "--count", "3", "--seed", SEED, "--jobs", "1",
                                      "--output", str(tmp_path / "a"), cwd=tmp_path)
    assert status == 0 and "3/3" in shown and "students" in shown
    status, shown = run_on_a_terminal("exercise", "--count", "3", "--seed", SEED, "--quiet",
                                      "--output", str(tmp_path / "b"), cwd=tmp_path)
    assert status == 0 and shown == ""
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_a_sheet_without_values_after_training_is_graded_without_training():
    spec = explainer.load_spec()
    assert not claims_after_training("out_o1 = 0.75\nw5+ = 0.3589\nE_total@1 = 0.29")
    assert claims_after_training("E_total@10000 = 0.0000351")
    assert graded_spec(spec, "out_o1 = 0.75").iterations == 1
    assert graded_spec(spec, "E_total@10000 = 0.0000351") is spec
    short, whole = explainer.derive(graded_spec(spec, "out_o1 = 1")), explainer.derive(spec)
    assert all(whole.values[key] == value for key, value in short.values.items())
    assert set(whole.values) - set(short.values) == {k for k in whole.values if k.endswith("@10000")}


def test_a_spec_error_crosses_from_a_worker_whole():
    error = pickle.loads(pickle.dumps(SpecError("a.toml", "network.weights", "expected numbers")))
    assert str(error) == "a.toml: network.weights: expected numbers" and error.field == "network.weights"


def _frozen_objects(task):
    import gc

    return task, gc.get_freeze_count()


def test_workers_inherit_the_first_tasks_objects_frozen_and_the_parent_unfreezes():
    """The workers' garbage collections leave out what they inherit; the results keep the tasks' order."""
    import gc

    from explainer.processes import in_processes

    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("without fork the workers inherit nothing")
    before = gc.get_freeze_count()
    results = list(in_processes(_frozen_objects, list(range(6)), 2, True, "tasks"))
    assert [task for task, _ in results] == list(range(6))
    assert results[0][1] == before  # the first task runs here, before the freeze
    assert all(frozen > 0 for _, frozen in results[1:])
    assert gc.get_freeze_count() == before
