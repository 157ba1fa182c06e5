"""Mutated specs and answer sheets: whatever the input, the command line ends in 0, 1 or 2, with at
most one line on standard error for 2, nothing written after a failure, and in bounded time."""

from __future__ import annotations

import json
import time
import tomllib
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explainer import cli
from conftest import ROOT

SPECS = sorted((ROOT / "examples").glob("*.toml"))
ANSWERS = (ROOT / "examples" / "answers.txt").read_text()
SECONDS_PER_CASE = 30
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30), st.sampled_from([10**5000, -1, 0, 10**7]),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["1e1000000", "1e-999999999", "-0.0"]).map(Decimal),
    st.text(max_size=20), st.just("x" * 100_000), st.just("\ud800"), st.lists(st.integers(0, 3), max_size=4),
    st.just([[[[[[1]]]]]]), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def paths(document, prefix=()):
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, (*prefix, index))


@st.composite
def mutated_specs(draw):
    path = draw(st.sampled_from(SPECS))
    text = path.read_text()
    kind = draw(st.sampled_from(["structure", "text", "bytes"]))
    if kind == "bytes":
        raw = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 4))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return "spec.toml", bytes(raw)
    if kind == "text":
        at = draw(st.integers(0, len(text)))
        inserted = draw(st.sampled_from(["[", "]", "=", '"', "\n", "[[data]]\n", "e99999", "-", "1" * 5000, "\\u0000"]))
        cut = draw(st.integers(0, 10))
        return "spec.toml", (text[:at] + inserted + text[at + cut:]).encode()
    document = tomllib.loads(text, parse_float=Decimal)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(list(paths(document))[1:]))
        parent = document
        for step in where[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "replace", "nest"]))
        if action == "delete":
            del parent[where[-1]]
        elif action == "nest":
            parent[where[-1]] = [parent[where[-1]]]
        else:
            parent[where[-1]] = draw(VALUES)
        if action == "delete" and not isinstance(parent, dict):
            break  # indices after a deleted list item have moved
    return "spec.json", json.dumps(document, default=lambda v: float(v) if isinstance(v, Decimal) else str(v)).encode()


@st.composite
def mutated_answers(draw):
    lines = ANSWERS.splitlines()
    for _ in range(draw(st.integers(1, 5))):
        index = draw(st.integers(0, len(lines) - 1))
        change = draw(st.sampled_from(["delete", "digits", "junk", "long", "duplicate"]))
        if change == "delete":
            del lines[index]
        elif change == "digits":
            lines[index] = lines[index].replace("0.", draw(st.sampled_from(["1e999999", "9" * 5000 + ".", "-0.", "0.0e"])))
        elif change == "junk":
            lines[index] += draw(st.text(max_size=30))
        elif change == "long":
            lines[index] = "x" * 200_000 + " = 1"
        else:
            lines.insert(index, lines[index])
        if not lines:
            break
    raw = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        raw += b"\xff\xfe"
    return raw


def assert_well_behaved(status: int, err: str, started: float, folder) -> None:
    assert status in (0, 1, 2), err
    assert time.perf_counter() - started < SECONDS_PER_CASE
    if status == 2:
        assert err.count("\n") == 1 and err.startswith("explainer: error: ") and len(err) < 400, err[:400]
        assert folder is None or not folder.exists() or not any(folder.iterdir())


@FUZZ
@given(case=mutated_specs(), command=st.sampled_from(["render", "values"]))
def test_mutated_specs(tmp_path_factory, capsys, case, command):
    folder = tmp_path_factory.mktemp("fuzz")
    name, raw = case
    spec = folder / name
    spec.write_bytes(raw)
    out = folder / "out"
    args = [command, str(spec)] + (["--output", str(out), "--format", "markdown", "--detail", "full"]
                                   if command == "render" else [])
    started = time.perf_counter()
    status = cli.main(args)  # any exception escaping here is a traceback for the user
    assert_well_behaved(status, capsys.readouterr().err, started, out)


@FUZZ
@given(raw=mutated_answers())
def test_mutated_answer_sheets(tmp_path_factory, capsys, raw):
    folder = tmp_path_factory.mktemp("fuzz")
    sheet = folder / "answers.txt"
    sheet.write_bytes(raw)
    started = time.perf_counter()
    status = cli.main(["check", str(sheet), "--format", "json"])
    assert_well_behaved(status, capsys.readouterr().err, started, None)
