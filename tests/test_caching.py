"""The command line's cache: a shape's composed derivatives, compiled, kept between runs.

A later run evaluates the kept function instead of differentiating again; the
check itself runs every time, and the symbolic derivatives still decide
wherever the kept function gives no number or disagrees.
"""

from __future__ import annotations

import json

import mpmath
import pytest

import explainer
from conftest import run_cli
from explainer.caching import OFF, FolderStore, user_store
from explainer.maths import checks, shapes
from explainer.maths.derivation import Derivation
from explainer.spec.errors import DerivationMismatch

ROOT_EXAMPLES = (None, "examples/relu-regression.toml", "examples/softmax-classifier.toml",
                 "examples/two-hidden-layers-tanh.toml", "examples/xor.toml")


def derived(spec, store):
    """A derivation as a new process makes it: no shape worked out yet, ``store`` as its cache."""
    shapes.forget()
    with shapes.keeping(store):
        return Derivation(spec)


def never_differentiated(monkeypatch):
    def refuse(self, nets, pattern):
        raise AssertionError("differentiated again")

    monkeypatch.setattr(checks.ComposedGradients, "_for_branches", refuse)


def test_every_activation_and_loss_is_kept_and_evaluated_compiled(tmp_path, monkeypatch):
    # Half of test_combinations' pairings, per-neuron biases and three samples, with every activation
    # and every loss among them: each kept by its first run and read back by the second.
    from test_combinations import CASES, OUTPUT_FOR_LOSS

    store = FolderStore(tmp_path)
    cases = CASES[2::8]
    assert {"sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "softmax"} <= {
        name for param in cases for name in param.values[0].activations}
    assert {param.values[0].loss for param in cases} == set(OUTPUT_FOR_LOSS)
    cold = {}
    for param in cases:
        cold[param.id] = derived(explainer.load_spec(param.values[0].spec()), store)
        assert shapes.work_for(cold[param.id].spec).composed._compiled, param.id
    never_differentiated(monkeypatch)
    for param in cases:
        assert derived(explainer.load_spec(param.values[0].spec()), store).values == cold[param.id].values, param.id


def test_a_derivative_with_no_python_form_is_evaluated_by_sympy():
    import sympy

    x = sympy.Symbol("x")
    assert checks.ComposedGradients._source({"w1": sympy.Function("f")(x)}) is None
    names, source = checks.ComposedGradients._source({"w1": sympy.Abs(x) * sympy.erf(x)})
    assert checks.ComposedGradients._function(source)(mpmath.mpf(-1)) == [mpmath.erf(-1)]


@pytest.mark.parametrize("path", ROOT_EXAMPLES)
def test_a_second_run_of_a_shape_evaluates_the_kept_derivatives(path, tmp_path, monkeypatch):
    spec = explainer.load_spec(path)
    store = FolderStore(tmp_path)
    cold = derived(spec, store)
    assert list(tmp_path.glob("*.json")), "nothing kept"
    never_differentiated(monkeypatch)
    warm = derived(spec, store)
    assert warm.values == cold.values and warm.equations == cold.equations


def test_a_kept_function_is_still_a_check(tmp_path):
    # With the derivatives kept, a wrong gradient is still caught: the kept function is compared.
    spec = explainer.load_spec()
    store = FolderStore(tmp_path)
    derivation = derived(spec, store)
    shapes.forget()
    with shapes.keeping(store):
        composed = checks.ComposedGradients.for_network(derivation.network, shapes.Kept(store, repr(shapes.shape_key(spec))))
    with mpmath.workdps(50):
        point = {k: mpmath.mpf(str(v)) for k, v in derivation.parameters.items()}
        gradient = {p.key: derivation.values[f"dE_total/d{p.key}"] for p in checks.checked_parameters(derivation.network)}
        composed.check(point, gradient)
        assert composed._compiled and not composed._derivatives  # evaluated kept, not differentiated
        gradient["w6"] += mpmath.mpf("1e-25")
        with pytest.raises(DerivationMismatch, match="dw6"):
            composed.check(point, gradient)


def kept_file(folder):
    """The file of the shape's work (not the generic factors every shape shares, written once a process)."""
    (path,) = (p for p in folder.glob("*.json") if '"weighted/w"' not in p.read_text())
    return path


def test_a_kept_function_that_disagrees_is_overruled_and_replaced(tmp_path):
    spec = explainer.load_spec()
    store = FolderStore(tmp_path)
    cold = derived(spec, store)
    path = kept_file(tmp_path)
    good = json.loads(path.read_text())
    wrong = dict(good, source=good["source"].replace("return [", "return [1 + ", 1))
    path.write_text(json.dumps(wrong))
    assert derived(spec, store).values == cold.values
    assert json.loads(path.read_text()) == good


@pytest.mark.parametrize("damage", ["", "{", "[1, 2]", '{"keys": ["w1"], "names": [], "source": "def gradients(): return []"}',
                                    '{"keys": ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"], "names": [], '
                                    '"source": "import os\\ndef gradients(): return []"}',
                                    "\udcff"])
def test_a_damaged_file_is_worked_out_again(damage, tmp_path):
    spec = explainer.load_spec()
    store = FolderStore(tmp_path)
    cold = derived(spec, store)
    path = kept_file(tmp_path)
    good = path.read_text()
    path.write_bytes(damage.encode("utf-8", "surrogateescape"))
    assert derived(spec, store).values == cold.values
    assert path.read_text() == good


BROKEN_SOURCES = {
    "an unknown function": lambda kept: dict(kept, source=kept["source"].replace("mpmath.exp", "mpmath.expp", 1)),
    "an unknown argument": lambda kept: dict(kept, names=["zz", *kept["names"][1:]]),
    "no list": lambda kept: dict(kept, source=kept["source"].replace("return [", "return None and [", 1)),
    "a number": lambda kept: dict(kept, source=kept["source"].replace("return [", "return 5 or [", 1)),
    "strings": lambda kept: dict(kept, source=kept["source"].replace("return [", "return ['x'] * 8 or [", 1)),
    "lists": lambda kept: dict(kept, source=kept["source"].replace("return [", "return [[1]] * 8 or [", 1)),
    "a name not defined": lambda kept: dict(kept, source=kept["source"].replace("return [", "return [undefined] + [", 1)),
    "an index": lambda kept: dict(kept, source=kept["source"].replace("return [", "return [1, 2][5] or [", 1)),
    "a recursion": lambda kept: dict(kept, source=kept["source"].replace("return [", "return gradients(*[p0] * 14) or [", 1)),
    "too few": lambda kept: dict(kept, source=kept["source"].replace("return [", "return [1] or [", 1)),
}


@pytest.mark.parametrize("breaking", BROKEN_SOURCES.values(), ids=BROKEN_SOURCES)
def test_a_kept_function_that_fails_is_made_again(breaking, tmp_path):
    spec = explainer.load_spec()
    store = FolderStore(tmp_path)
    cold = derived(spec, store)
    path = kept_file(tmp_path)
    good = json.loads(path.read_text())
    path.write_text(json.dumps(breaking(good)))
    assert derived(spec, store).values == cold.values
    assert json.loads(path.read_text()) == good  # replaced by the one the derivatives make


def test_a_folder_that_cannot_be_written_is_no_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    spec = explainer.load_spec()
    assert derived(spec, FolderStore(blocked / "cache")).values == derived(spec, None).values


def test_the_folder_is_beside_the_templates_and_turned_off_with_them(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_store().folder == tmp_path / "xdg" / "explainer" / "shapes"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for unset in ("", "relative/cache"):  # a relative one is ignored, as the XDG base directories say
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        assert user_store().folder == tmp_path / "home" / ".cache" / "explainer" / "shapes"
    monkeypatch.setenv(OFF, "0")
    assert user_store() is not None
    monkeypatch.setenv(OFF, "1")
    assert user_store() is None


def test_a_file_someone_else_may_write_is_not_read(tmp_path, monkeypatch):
    # What the folder holds is code that runs: only the user's own, that no one else may write, is read.
    store = FolderStore(tmp_path / "shapes")
    store.put("shape\nname", "text")
    assert store.get("shape\nname") == "text"
    assert (tmp_path / "shapes").stat().st_mode & 0o777 == 0o700
    (path,) = (tmp_path / "shapes").iterdir()
    path.chmod(0o664)
    assert store.get("shape\nname") is None
    path.chmod(0o600)
    (tmp_path / "shapes").chmod(0o770)
    assert store.get("shape\nname") is None
    (tmp_path / "shapes").chmod(0o700)
    assert store.get("shape\nname") == "text"
    monkeypatch.setattr("os.getuid", lambda: 12345)  # as another user sees it
    assert store.get("shape\nname") is None


def test_a_new_version_of_the_code_reads_none_of_the_old_ones_files(tmp_path, monkeypatch):
    store = FolderStore(tmp_path)
    store.put("shape\nname", "text")
    assert store.get("shape\nname") == "text"
    other = FolderStore(tmp_path)
    monkeypatch.setattr("explainer.caching._code_version", lambda: "another version")
    assert other.get("shape\nname") is None


def test_the_command_line_writes_the_same_files_with_a_cold_and_a_warm_cache(tmp_path):
    cache = tmp_path / "cache"
    runs = []
    for run in ("cold", "warm"):
        result = run_cli("render", "--output", str(tmp_path / run), env={"XDG_CACHE_HOME": str(cache)})
        assert result.returncode == 0, result.stderr
        runs.append({p.name: p.read_bytes() for p in sorted((tmp_path / run).iterdir())})
    assert runs[0] == runs[1] and runs[0]
    # One file for the shape, one for what every shape shares (the net input's generic factors).
    assert len(list((cache / "explainer" / "shapes").glob("*.json"))) == 2
    off = run_cli("render", "--output", str(tmp_path / "off"), env={"XDG_CACHE_HOME": str(tmp_path / "off-cache"), OFF: "1"})
    assert off.returncode == 0, off.stderr
    assert not (tmp_path / "off-cache").exists()
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "off").iterdir())} == runs[0]


def test_the_library_keeps_no_shape_unless_asked():
    # Only the command line gives a store: a library call or a notebook keeps no shape's work on disk.
    folder = user_store().folder
    before = set(folder.iterdir()) if folder.exists() else set()
    shapes.forget()
    explainer.derive("examples/two-hidden-layers.toml")
    assert (set(folder.iterdir()) if folder.exists() else set()) == before


def test_a_run_that_finds_its_shape_kept_imports_no_sympy(tmp_path):
    # SymPy's import is most of a small run's start-up: with the shape's work kept, nothing needs it,
    # and the document is the same.
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    program = ("import sys; from explainer.cli import main; status = main(sys.argv[1:]); "
               "print('sympy' in sys.modules, file=sys.stderr); sys.exit(status)")
    imported, documents = [], []
    for run in ("cold", "warm"):
        result = subprocess.run([sys.executable, "-c", program, "render", "--output", str(tmp_path / run)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        imported.append(result.stderr.strip().splitlines()[-1])
        documents.append({p.name: p.read_bytes() for p in sorted((tmp_path / run).iterdir())})
    assert imported == ["True", "False"]
    assert documents[0] == documents[1]


def test_a_damaged_file_of_generic_factors_is_worked_out_again(monkeypatch):
    from explainer.maths import derivation

    class Damaged:
        def get(self, name):
            return "{not json" if name.startswith("every shape") else None

        def put(self, name, text):
            pass

    derivation._generic_factors.cache_clear()
    try:
        with shapes.keeping(Damaged()):
            assert derivation._generic_factors() == {"weighted/w": "out", "weighted/out": "w", "bias/b": "1"}
    finally:
        derivation._generic_factors.cache_clear()
