"""Checking in the course's notation: every name a notation prints is a name ``check`` reads, to the same key.

The names each book writes are taken from the books' conventions (see
tests/test_notations.py): Nielsen's z^l_j, a^l_j, δ^l_j, w^l_{jk}, b^l_j and
∂C/∂w^l_{jk}, with the input layer numbered 1; Ng's z^{[l]}_j, a^{[l]}_j, the
batch's capitals Z^{[l]} and the gradients' shorthand dZ^{[l]}, dW^{[l]},
db^{[l]} for ∂L/∂Z^{[l]}, …; Bishop's a_j (net input) and z_j (output) of a
hidden unit, y_k of an output, δ_j, with the layer in parentheses.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

import explainer
from conftest import ROOT, run_cli
from explainer.grading.check import check_answers
from explainer.spec.notation import PRESET_NAMES, notation

# Networks of one sample (several samples' documents work one sample under unmarked names).
EXAMPLES = [None, "two-hidden-layers", "two-hidden-layers-tanh", "source-with-bias-training"]
PER_NEURON = {
    "network": {"layers": [2, 2, 2], "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
                "biases": [[0.35, 0.35], [0.60, 0.60]]},
    "data": {"inputs": [0.05, 0.10], "targets": [0.01, 0.99]},
    "training": {"iterations": 1, "train_biases": True},
}


def derived(example, preset: str, form: str = "chain"):
    spec = explainer.load_spec(example if not isinstance(example, str) else ROOT / "examples" / f"{example}.toml")
    return explainer.derive(dataclasses.replace(spec, notation=notation(preset, form=form)))


def claimed(text: str, derivation) -> tuple[Counter, list]:
    """The keys the document's claims are read as, and the verdicts that are not 'correct'
    (lines of prose, which state numbers in words and hold no '=', left out)."""
    verdicts = check_answers(text, derivation)
    keys = Counter(v.key for v in verdicts if v.verdict != "not understood")
    bad = [(v.line, v.key, v.verdict, str(v.given)) for v in verdicts
           if v.verdict != "correct" and not (v.verdict == "not understood" and "=" not in str(v.given))]
    return keys, bad


@pytest.fixture(scope="module")
def source_claims():
    cache = {}

    def claims(example, form, fmt):
        if (example, form, fmt) not in cache:
            d = derived(example, "source", form)
            text = d.to_markdown(detail="full") if fmt == "md" else d.to_latex(detail="full")
            cache[example, form, fmt] = claimed(text, d)[0]
        return cache[example, form, fmt]

    return claims


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("form", ["chain", "delta", "matrix"])
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_every_name_a_document_prints_is_read_back_to_its_key(preset, form, example, source_claims):
    """Render, read every ``name = … = value`` of the document back, check: all correct, and the very
    quantities the source's notation gives (so no name went unread or to another key)."""
    d = derived(example, preset, form)
    for fmt, text in (("md", d.to_markdown(detail="full")), ("tex", d.to_latex(detail="full"))):
        keys, bad = claimed(text, d)
        assert bad == [], (fmt, bad[:5])
        assert keys == source_claims(example, form, fmt), fmt
        if form == "matrix":  # the vectors and matrices are read entry by entry
            weights = [w.key for w in d.network.weights]
            assert all(keys[f"dE_total/d{w}"] >= 2 for w in weights), fmt


def sheet(derivation, *names: str) -> str:
    """A sheet giving each ``(name, key)``'s value to 9 decimals under the name."""
    return "\n".join(f"{name} = {float(derivation.values.get(key, derivation.parameters.get(key))):.9f}"
                     for name, key in names)


def read(text: str, derivation) -> list[tuple[str, str]]:
    return [(v.key, v.verdict) for v in check_answers(text, derivation)]


NAMES = {
    "nielsen": [("z^2_1", "net_h1"), ("a^2_1", "out_h1"), ("a^1_2", "i2"), ("δ^2_1", "dE_total/dnet_h1"),
                (r"\delta^3_2", "dE_total/dnet_o2"), ("w^2_{11}", "w1"), ("w^3_{12}", "w6"), ("b^2_1", "b1_1"),
                ("b^3_2", "b2_2"), ("∂C/∂w^2_{11}", "dE_total/dw1"), (r"\frac{\partial C}{\partial b^3_1}", "dE_total/db2_1"),
                ("z_1^2", "net_h1"), ("y_2", "target_o2"), ("C", "E_total"), ("{w^3_{11}}^+", "w5+")],
    "deeplearning-ai": [("z^{[1]}_2", "net_h2"), ("Z^{[1]}_2", "net_h2"), ("a^{[1]}_2", "out_h2"),
                        ("A^{[2]}_1", "out_o1"), ("dz^{[2]}_1", "dE_total/dnet_o1"), ("dZ^{[2]}_1", "dE_total/dnet_o1"),
                        ("dZ^{[1]}_2", "dE_total/dnet_h2"), ("w^{[2]}_{12}", "w6"), ("W^{[2]}_{12}", "w6"),
                        ("dW^{[2]}_{12}", "dE_total/dw6"), ("dw^{[1]}_{21}", "dE_total/dw3"),
                        ("db^{[2]}_1", "dE_total/db2_1"), (r"\frac{\partial \mathcal{L}}{\partial w^{[1]}_{11}}", "dE_total/dw1"),
                        ("x_1", "i1"), ("y_1", "target_o1")],
    "bishop": [("a^{(1)}_1", "net_h1"), ("z^{(1)}_2", "out_h2"), ("z_1", "out_h1"), ("z_2", "out_h2"),
               ("y_1", "out_o1"), ("t_2", "target_o2"), (r"\delta^{(2)}_1", "dE_total/dnet_o1"),
               ("δ^{(1)}_2", "dE_total/dnet_h2"), ("w^{(2)}_{12}", "w6"), ("∂E/∂w^{(1)}_{21}", "dE_total/dw3"),
               ("x_2", "i2")],
}


@pytest.mark.parametrize("preset", sorted(NAMES))
def test_each_book_names_its_quantities(preset):
    d = derived(PER_NEURON, preset)
    names = NAMES[preset]
    assert read(sheet(d, *names), d) == [(key, "correct") for _, key in names]
    # The canonical keys are read too, whatever the notation.
    assert read(sheet(d, *((key, key) for _, key in names)), d) == [(key, "correct") for _, key in names]


def test_a_name_the_notation_does_not_give_is_not_read():
    d = derived(PER_NEURON, "bishop")
    # Bishop's a_1 may be the hidden or the output unit's: it names neither.
    assert read("a_1 = 0.3775", d) == [("a_1", "unknown")]
    nielsen = derived(PER_NEURON, "nielsen")
    # Nielsen's layers are numbered from 1: there is no layer 4, and z^3 is a vector.
    assert read("z^4_1 = 0.3775", nielsen)[0][1] in ("unknown", "not understood")
    assert read("b2_1 = 0.60", nielsen) == [("b2_1", "correct")]  # a key, not b^2_1


def test_a_whole_vector_is_one_claim_checked_entry_by_entry(default_derivation):
    d = default_derivation
    assert read(r"\delta^{(2)} = [0.1385, -0.0381]", d) == [
        ("dE_total/dnet_o1", "correct"), ("dE_total/dnet_o2", "correct")]
    # One entry wrong: that entry only.
    assert read("δ^{(2)} = [0.1385, 0.0381]", d) == [("dE_total/dnet_o1", "correct"), ("dE_total/dnet_o2", "wrong")]
    # A column written as a transposed row, or in a column of its own.
    assert read("z^{(1)} = [0.3775, 0.3925]^T", d) == [("net_h1", "correct"), ("net_h2", "correct")]
    assert read("a^{(2)} = [[0.75136507], [0.772928465]]", d) == [("out_o1", "correct"), ("out_o2", "correct")]
    # The wrong number of entries is not understood, never matched up by guesswork.
    (verdict,) = check_answers("δ^{(2)} = [0.1385, -0.0381, 0.5]", d)
    assert verdict.verdict == "not understood" and "3 numbers for 2 numbers" in verdict.given


def test_a_matrix_as_rows_or_pasted_from_latex():
    d = derived(None, "deeplearning-ai")
    expected = [("w5", "correct"), ("w6", "correct"), ("w7", "correct"), ("w8", "correct")]
    assert read("W^{[2]} = [[0.40, 0.45], [0.50, 0.55]]", d) == expected
    assert read("W^{[2]} = [0.40, 0.45; 0.50, 0.55]", d) == expected
    pasted = "$$W^{[2]} = \\begin{bmatrix} 0.40 & 0.45 \\\\\n0.50 & 0.55 \\end{bmatrix}$$"
    assert read(pasted, d) == expected
    gradients = "dW^{[2]} = \\begin{bmatrix} 0.082167041 & 0.082667628 \\\\ -0.02260254 & -0.022740242 \\end{bmatrix}"
    assert read(gradients, d) == [(f"dE_total/dw{i}", "correct") for i in (5, 6, 7, 8)]
    updated = "{W^{[2]}}^+ = [[0.35891648, 0.408666186], [0.51130127, 0.561370121]]"
    assert read(updated, d) == [(f"w{i}+", "correct") for i in (5, 6, 7, 8)]
    # The transposed matrix, the usual slip, is wrong where the entries differ.
    assert [v for _, v in read("W^{[2]} = [[0.40, 0.50], [0.45, 0.55]]", d)] == ["correct", "wrong", "wrong", "correct"]
    # A matrix's own shape only.
    (verdict,) = check_answers("W^{[2]} = [0.40, 0.45, 0.50, 0.55]", d)
    assert verdict.verdict == "not understood" and "a 2×2 matrix" in verdict.given


def test_check_takes_the_notation_on_the_command_line(tmp_path):
    answers = tmp_path / "answers.txt"
    answers.write_text("z^2_1 = 0.3775\nδ^3 = [0.1385, -0.0381]\n∂C/∂w^3_{11} = 0.082167041\n", encoding="utf-8")
    result = run_cli("check", str(answers), "--notation", "nielsen")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "4 checked: 4 correct."
    # Without it the layer-marked names mean nothing in the source's notation.
    assert run_cli("check", str(answers)).returncode == 1
    wrong = run_cli("check", str(answers), "--notation", "nielson")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "did you mean 'nielsen'?" in wrong.stderr


def test_the_spec_s_notation_is_the_checks(tmp_path):
    spec = tmp_path / "net.toml"
    spec.write_text('notation = "bishop"\n' + (ROOT / "examples" / "backpropagation-example.toml").read_text(),
                    encoding="utf-8")
    answers = tmp_path / "answers.txt"
    answers.write_text("a^{(1)}_1 = 0.3775\nz_1 = 0.593269992\n", encoding="utf-8")
    result = run_cli("check", str(answers), "--spec", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "2 checked: 2 correct."


def test_a_matrix_cut_short_claims_the_entries_it_shows():
    from test_notations import WIDE

    source = derived(WIDE, "source", "matrix")
    for preset in ("source", "nielsen"):
        d = derived(WIDE, preset, "matrix")
        keys, bad = claimed(d.to_markdown(detail="full"), d)
        assert bad == [] and keys == claimed(source.to_markdown(detail="full"), source)[0]
        gradient = f"dE_total/d{d.network.weights[-1].key}"  # the last column of the last layer's gradient
        assert keys[gradient] >= 2
    d = derived(WIDE, "deeplearning-ai")
    row = [float(d.values[f"dE_total/dw{n}"]) for n in range(31, 41)]
    written = " & ".join(f"{x:.9f}" for x in row[:3]) + f" & \\cdots & {row[-1]:.9f}"
    other = " & ".join(f"{float(d.values[f'dE_total/dw{n}']):.9f}" for n in (41, 42, 43)) + \
        f" & \\cdots & {float(d.values['dE_total/dw50']):.9f}"
    verdicts = read(f"dW^{{[2]}} = \\begin{{bmatrix}} {written} \\\\ {other} \\end{{bmatrix}}", d)
    assert verdicts == [(f"dE_total/dw{n}", "correct") for n in (31, 32, 33, 40, 41, 42, 43, 50)]
    # A gap in a matrix that has no room for one is not understood.
    (verdict,) = check_answers(r"W^{[2]} = \begin{bmatrix} 1 & \cdots & 2 \end{bmatrix}", derived(None, "deeplearning-ai"))
    assert verdict.verdict == "not understood"


@pytest.mark.parametrize("text", [
    "x = " + r"\begin{bmatrix} 1 " * 5000,  # unclosed matrices: once quadratic (14 s)
    "$$" + r"a \\ \begin{bmatrix} " * 5000 + "$$",  # (24 s)
    r"W^{(2)} = " + r"\begin{bmatrix} 1 & " * 5000 + r"\end{bmatrix}",
    r"\delta^{(2)} = [" + "0.1, " * 50_000 + "]",  # more entries than any network has
])
def test_matrices_are_read_in_time_linear_in_the_sheet(default_derivation, text):
    import time

    started = time.perf_counter()
    verdicts = None
    try:
        verdicts = check_answers(text, default_derivation)
    except explainer.ExplainerError:
        pass
    assert time.perf_counter() - started < 5  # well under a second on an idle machine
    assert verdicts is None or all(v.verdict in ("not understood", "unknown") for v in verdicts)


def test_a_batch_as_a_matrix_one_column_a_sample():
    d = derived("xor", "deeplearning-ai")  # the chain form: the batch's matrices are read all the same
    Z = [[float(d.values[f"net_h{j}[{s}]"]) for s in range(1, 5)] for j in (1, 2)]
    written = "Z^{[1]} = [" + ", ".join("[" + ", ".join(f"{x:.9f}" for x in row) + "]" for row in Z) + "]"
    assert read(written, d) == [(f"net_h{j}[{s}]", "correct") for j in (1, 2) for s in range(1, 5)]
    gradient = [[float(d.values[f"dE_total/dw{i}"]) for i in (5, 6)]]
    assert read(f"dW^{{[2]}} = [{gradient[0][0]:.9f}, {gradient[0][1]:.9f}]", d) == [
        ("dE_total/dw5", "correct"), ("dE_total/dw6", "correct")]


# As students type them: two-digit subscripts without braces, the quotient's d for ∂, a trailing + for the update.
TYPED = {
    "nielsen": [("∂C/∂w^3_11", "dE_total/dw5"), ("∂C/∂w^3_12", "dE_total/dw6"), ("w^3_11", "w5"),
                ("w^3_12", "w6"), ("dC/dw^3_{11}", "dE_total/dw5"), ("dC/dw^3_11", "dE_total/dw5"),
                ("dE/dw^3_12", "dE_total/dw6"), (r"\frac{\partial C}{\partial w^3_11}", "dE_total/dw5"),
                ("dC/dz^3_1", "dE_total/dnet_o1"), ("w^3_{11}+", "w5+"), ("w^3_11+", "w5+"), ("w^3_12'", "w6+"),
                ("w^3_11^+", "w5+"), ("{w^3_12}^+", "w6+"), ("w^2_21", "w3")],
    "deeplearning-ai": [("w^{[2]}_11", "w5"), ("W^{[2]}_12", "w6"), ("dW^{[2]}_11", "dE_total/dw5"),
                        ("dw^{[1]}_21", "dE_total/dw3"), ("∂L/∂w^{[2]}_12", "dE_total/dw6"),
                        ("dL/dw^{[2]}_12", "dE_total/dw6"), ("dL/dw^{[2]}_{11}", "dE_total/dw5"),
                        ("w^{[2]}_12+", "w6+"), ("w^{[2]}_{11}+", "w5+")],
    "bishop": [("w^{(2)}_12", "w6"), ("∂E/∂w^{(1)}_21", "dE_total/dw3"), ("dE/dw^{(1)}_21", "dE_total/dw3"),
               ("dE/dw^{(2)}_{11}", "dE_total/dw5"), ("w^{(2)}_12+", "w6+"), ("w^{(2)}_{11}+", "w5+"),
               ("w^{(2)}_12'", "w6+")],
}


@pytest.mark.parametrize("preset", sorted(TYPED))
def test_names_as_students_type_them(preset):
    d = derived(None, preset)
    names = TYPED[preset]
    assert read(sheet(d, *names), d) == [(key, "correct") for _, key in names]


def test_a_line_is_never_read_as_part_of_its_name():
    d = derived(None, "nielsen")
    # The gradient's value under the weight's name would be the weight, wrong: it is the gradient, right.
    assert read("∂C/∂w^3_11 = 0.0822", d) == [("dE_total/dw5", "correct")]
    # A derivative of a name the notation does not give is not the bare name after its ∂C/∂.
    for line in ("∂C/∂w^3_1,1 = 0.0822", "∂C/∂ (w^3_11 = 0.0822", "2 * w^3_11 = 0.80"):
        assert all(key not in ("w5", "w6") for key, _ in read(line, d)), line
    # Prose before a name is still passed over.
    assert read("The new weight w^3_11+ = 0.3589", d) == [("w5+", "correct")]


def test_check_reads_an_unbraced_gradient_on_the_command_line(tmp_path):
    answers = tmp_path / "s.txt"
    answers.write_text("∂C/∂w^3_11 = 0.0822\n∂C/∂w^3_12 = 0.0827\nw^3_11 = 0.40\n", encoding="utf-8")
    result = run_cli("check", str(answers), "--notation", "nielsen")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dE_total/dw5" in result.stdout and "dE_total/dw6" in result.stdout
    assert result.stdout.splitlines()[-1] == "3 checked: 3 correct."
