"""Tests of the notations (explainer.spec.notation, maths.network.Naming) and the delta form.

The characteristic lines each preset must print are written from the books'
own conventions, not from the program's output:

- Nielsen, *Neural Networks and Deep Learning*, chapter 2: the input layer is
  layer 1 (a^1 = x), z^l_j = Σ_k w^l_jk a^{l-1}_k + b^l_j, a^l_j = σ(z^l_j),
  cost C, δ^l_j = ∂C/∂z^l_j; (BP1) δ^L_j = ∂C/∂a^L_j σ'(z^L_j), (BP2)
  δ^l_j = Σ_k w^{l+1}_kj δ^{l+1}_k σ'(z^l_j), (BP4) ∂C/∂w^l_jk = a^{l-1}_k δ^l_j.
- deeplearning.ai: a^[0] = x, z^[l] = W^[l] a^[l-1] + b^[l], learning rate α,
  loss L, dz^[l] = ∂L/∂z^[l]; with a sigmoid output and the cross-entropy,
  dz^[2] = a^[2] - y.
- Bishop, *PRML* §5.3: a_j = Σ_i w_ji z_i (the "activation" is the net input),
  z_j = h(a_j), outputs y_k, targets t_k, error E; (5.56) δ_j = h'(a_j) Σ_k w_kj δ_k,
  (5.53) ∂E/∂w_ji = δ_j z_i.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import pytest

import explainer
from conftest import ROOT, katex_failures, plain_names, run_cli
import explainer.outputs.formatting
import explainer.outputs.markup
from explainer.outputs.render import render_with_figures
from explainer.spec.errors import SpecError
from explainer.spec.notation import PRESET_NAMES, notation
from explainer.spec.reading import parse_spec_text, spec_from_mapping, spec_mapping

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
FORMS = ("chain", "delta", "all")

# The source's network with a bias per neuron, as the books give every neuron its own.
PER_NEURON = {
    "network": {"layers": [2, 2, 2], "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
                "biases": [[0.35, 0.35], [0.60, 0.60]]},
    "data": {"inputs": [0.05, 0.10], "targets": [0.01, 0.99]},
    "training": {"iterations": 2},
}


def in_notation(spec, preset: str = "source", **overrides):
    return explainer.derive(dataclasses.replace(explainer.load_spec(spec), notation=notation(preset, **overrides)))


def display_math(markdown: str) -> str:
    """Every display of a Markdown document (``$$…$$`` or ```` ```math ````), one a line,
    with ``&`` and line breaks taken out."""
    formulas = [a or b for a, b in re.findall(r"\$\$(.*?)\$\$|^```math\n(.*?)\n```$", markdown, re.S | re.M)]
    return "\n".join(re.sub(r"\s*\\\\\s*|&", " ", f).replace("  ", " ") for f in formulas)


def assert_lines(document: str, *lines: str):
    # The lines as LaTeX prints them: the web formats' \mathit around a multi-letter name is their typography.
    text = re.sub(r"\s+", " ", plain_names(display_math(document)))
    for line in lines:
        assert re.sub(r"\s+", " ", line) in text, line


# --- the numbers never change -----------------------------------------------------------


@pytest.mark.parametrize("preset", PRESET_NAMES[1:])
def test_every_value_is_the_same_in_every_notation(preset):
    for example in [None, *EXAMPLES]:
        source = explainer.derive(explainer.load_spec(example))
        other = in_notation(example, preset, form="all")
        assert other.float_values() == source.float_values(), example


def test_the_values_gain_the_error_signals_of_every_neuron(default_derivation):
    values = default_derivation.values
    # δ_o1 = ∂E/∂out_o1 · ∂out_o1/∂net_o1, δ_h1 = (w5 δ_o1 + w7 δ_o2) · out_h1(1 - out_h1)
    assert float(values["dE_total/dnet_o1"]) == pytest.approx(0.74136507 * 0.186815602, rel=1e-8)
    delta_h1 = (0.40 * float(values["dE_total/dnet_o1"]) + 0.50 * float(values["dE_total/dnet_o2"])) * 0.241300709
    assert float(values["dE_total/dnet_h1"]) == pytest.approx(delta_h1, rel=1e-8)
    assert {"dE_total/dnet_o2", "dE_total/dnet_h2"} <= set(values)


# --- each preset speaks its book -------------------------------------------------------


def test_nielsen():
    document = in_notation(PER_NEURON, "nielsen", form="delta").to_markdown()
    assert_lines(document,
                 r"z^2_1 = w^2_{11} a^1_1 + w^2_{12} a^1_2 + b^2_1",
                 r"a^2_1 = \frac{1}{1 + e^{-z^2_1}}",
                 r"C = C_1 + C_2",
                 r"\delta^3_1 = \frac{\partial C}{\partial a^3_1} \sigma'(z^3_1)",
                 r"\delta^2_1 = (w^3_{11} \delta^3_1 + w^3_{21} \delta^3_2) \sigma'(z^2_1)",
                 r"\frac{\partial C}{\partial w^3_{11}} = \delta^3_1 a^2_1",
                 r"{w^3_{11}}^+ = w^3_{11} - \eta \frac{\partial C}{\partial w^3_{11}}")
    assert "weighted input" in document and "(Nielsen's equation BP2)" in document


def test_deeplearning_ai():
    spec = copy.deepcopy(PER_NEURON)
    spec["network"]["loss"] = "binary_cross_entropy"
    document = in_notation(spec, "deeplearning-ai", form="all").to_markdown()
    assert_lines(document,
                 r"z^{[1]}_1 = w^{[1]}_{11} \cdot x_1 + w^{[1]}_{12} \cdot x_2 + b^{[1]}_1",
                 r"z^{[2]}_1 = w^{[2]}_{11} \cdot a^{[1]}_1 + w^{[2]}_{12} \cdot a^{[1]}_2 + b^{[2]}_1",
                 r"dz^{[2]}_1 = \frac{\partial \mathcal{L}}{\partial a^{[2]}_1} \cdot g^{[2]\prime}(z^{[2]}_1) = a^{[2]}_1 - y_1",
                 r"- \alpha \cdot \frac{\partial \mathcal{L}}{\partial w^{[2]}_{11}}",
                 # Ng's dZ^[2] = A^[2] - Y, for the one example here
                 r"dz^{[2]} = \nabla_{a^{[2]}} \mathcal{L} \odot g^{[2]\prime}(z^{[2]}) = a^{[2]} - y")


def test_bishop():
    document = in_notation(PER_NEURON, "bishop", form="delta").to_markdown()
    assert_lines(document,
                 r"a^{(1)}_1 = w^{(1)}_{11} x_1 + w^{(1)}_{12} x_2 + b^{(1)}_1",
                 r"z^{(1)}_1 = \frac{1}{1 + e^{-a^{(1)}_1}}",
                 r"y_1 = \frac{1}{1 + e^{-a^{(2)}_1}}",
                 r"E_1 = \frac{1}{2}(t_1 - y_1)^{2}",
                 r"\delta^{(1)}_1 = (w^{(2)}_{11} \delta^{(2)}_1 + w^{(2)}_{21} \delta^{(2)}_2) h'(a^{(1)}_1)",
                 r"\frac{\partial E}{\partial w^{(2)}_{11}} = \delta^{(2)}_1 z^{(1)}_1")
    # Bishop's "activation" is the net input, the reverse of Nielsen's.
    assert "The activation of $h_1$ is the weighted sum of its inputs plus its bias" in document


def test_the_source_keeps_its_own_notation_and_gains_the_delta_rule():
    document = in_notation(None, form="delta").to_markdown()
    assert_lines(document, r"net_{h1} = w_1 * i_1 + w_2 * i_2 + b_1 * 1",
                 r"\delta_{o1} = \frac{\partial E_{total}}{\partial out_{o1}} * \frac{\partial out_{o1}}{\partial net_{o1}}",
                 r"\frac{\partial E_{total}}{\partial w_5} = \delta_{o1} * out_{h1} = 0.138498562 * 0.593269992 = 0.082167041")
    assert explainer.derive().to_markdown() == in_notation(None, form="chain").to_markdown()


def test_overrides_replace_single_symbols():
    document = in_notation(None, "nielsen", net="s", out="o", total="J", times="\\cdot",
                           learning_rate="\\alpha").to_markdown()
    assert_lines(document, r"s^2_1 = w^2_{11} \cdot o^1_1 + w^2_{12} \cdot o^1_2 + b^2",
                 r"J = C_1 + C_2", r"- \alpha \cdot \frac{\partial J}{\partial w^3_{11}}")
    numbered = in_notation(None, "nielsen", weights="numbered", layers="names").to_markdown()
    assert_lines(numbered, r"z_{h1} = w_1 a_{i1}")


def test_weights_indexed_from_to():
    document = in_notation(None, "bishop", weight_order="from_to").to_markdown()
    assert_lines(document, r"a^{(2)}_1 = w^{(2)}_{11} z^{(1)}_1 + w^{(2)}_{21} z^{(1)}_2")


# --- the spec and the command line --------------------------------------------------------


def test_the_spec_names_a_preset_or_a_table():
    text = 'notation = "bishop"\n' + (ROOT / "examples/backpropagation-example.toml").read_text()
    assert parse_spec_text(text, "n.toml", "toml").notation.preset == "bishop"
    table = {**PER_NEURON, "notation": {"preset": "nielsen", "net": "s", "form": "delta"}}
    spec = explainer.load_spec(table)
    assert (spec.notation.net, spec.notation.form, spec.notation.out) == ("s", "delta", "a")
    # What spec_mapping writes, spec_from_mapping reads back.
    again = spec_from_mapping(spec_mapping(spec), "x", "x")
    assert again.notation == spec.notation


@pytest.mark.parametrize("notation_table, message", [
    ("nielsn", "notation: unknown notation 'nielsn'; did you mean 'nielsen'?"),
    ({"preset": "bishop", "nett": "z"}, "notation.nett: unknown symbol; did you mean 'net'?"),
    ({"net": "\\frac{z"}, "notation.net: expected balanced braces in '\\frac{z'"),
    ({"net": "\\zeta_"}, "notation.net: expected each ^ and _ to be followed by its script in '\\zeta_'"),
    ({"out": "\\lamda"}, "notation.out: unknown TeX command '\\lamda' in '\\lamda'; did you mean '\\lambda'?"),
    ({"out": "a$"}, "notation.out: expected a symbol in TeX without $ % # & ~ or line breaks, got 'a$'"),
    ({"times": "x"}, "notation.times: unknown multiplication sign 'x'; expected '*', '\\cdot', '\\times', 'juxtapose'"),
    ({"form": "matrx"}, "notation.form: unknown form 'matrx'; did you mean 'matrix'?"),
    (3, "notation: expected a preset name or a table, got 3"),
])
def test_bad_notations_are_one_line_errors(notation_table, message):
    with pytest.raises(SpecError) as error:
        explainer.load_spec({**PER_NEURON, "notation": notation_table})
    assert str(error.value).endswith(message), str(error.value)


def test_form_is_never_taken_for_format(tmp_path):
    result = run_cli("render", "--form", "delta", "--notation", "nielsen", "--format", "markdown",
                     "--output", str(tmp_path / "n.md"))
    assert result.returncode == 0, result.stderr
    assert "The Delta Rule" in (tmp_path / "n.md").read_text()
    abbreviated = run_cli("render", "--form", "delta", "--forma", "markdown")
    assert abbreviated.returncode == 2 and "unrecognized arguments: --forma" in abbreviated.stderr
    bad = run_cli("render", "--notation", "nelsen", "--output", str(tmp_path / "x"))
    assert bad.returncode == 2 and not (tmp_path / "x").exists()
    assert bad.stderr == "explainer: error: the command line: --notation: unknown notation 'nelsen'; did you mean 'nielsen'?\n"


def test_values_are_the_same_on_the_command_line():
    source = json.loads(run_cli("values").stdout)
    assert "dE_total/dnet_h1" in source
    spec = ROOT / "examples" / "backpropagation-example.toml"
    assert json.loads(run_cli("values", str(spec)).stdout) == source


# --- every formula typesets -----------------------------------------------------------------


def test_every_formula_of_every_preset_and_form_parses_in_katex():
    from test_flavors import commonmark_formulas

    formulas = set()
    for preset in PRESET_NAMES:
        for example in [PER_NEURON, WIDE, *EXAMPLES]:
            formulas.update(commonmark_formulas(in_notation(example, preset, form="all").to_markdown(detail="full")))
        overridden = in_notation(None, preset, net="\\mathcal{N}", out="\\hat{o}", times="\\times", form="all")
        formulas.update(commonmark_formulas(overridden.to_markdown()))
    assert len(formulas) > 1000
    assert katex_failures(sorted(formulas)) == []


def test_committed_renders_of_each_preset():
    for preset in PRESET_NAMES:
        path = ROOT / "output" / "notations" / f"{preset}.md"
        text, figures = render_with_figures(in_notation(None, preset, form="all"),
                                                                      figure_prefix=preset)
        assert path.read_text() == text, f"{path} is stale: python -m explainer render --notation {preset} --form all"
        for name, svg in figures.items():
            assert (path.parent / name).read_text() == svg


# Each preset on the built-in example in full, and on a network of another shape.
COMPILED = [("nielsen", None), ("deeplearning-ai", None), ("bishop", None), ("source", None),
            ("nielsen", "two-hidden-layers-tanh.toml"), ("deeplearning-ai", "softmax-classifier.toml"),
            ("bishop", "xor.toml")]


def test_every_preset_compiles_with_pdflatex_without_overfull_boxes():
    from concurrent.futures import ThreadPoolExecutor

    from conftest import require_tool
    from explainer.outputs import pdf
    from test_pdf import assert_clean

    require_tool("latexmk")
    require_tool("pdflatex")
    texts = [in_notation(example and ROOT / "examples" / example, preset, form="all").to_latex(detail="full")
             for preset, example in COMPILED]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for (document, report), job in zip(pool.map(pdf.compile_pdf, texts), COMPILED):
            assert document.startswith(b"%PDF"), job
            assert_clean(report)


# --- the matrix form ---------------------------------------------------------------------------


def test_the_matrix_form_in_each_notation():
    assert_lines(in_notation(None, form="matrix").to_markdown(),
                 r"z^{(1)} = W^{(1)}x + b^{(1)}",
                 r"\delta^{(2)} = \nabla_{a^{(2)}} E_{total} \odot \sigma'(z^{(2)})",
                 r"\delta^{(1)} = ((W^{(2)})^T\delta^{(2)}) \odot \sigma'(z^{(1)})",
                 r"\frac{\partial E_{total}}{\partial W^{(1)}} = \delta^{(1)}x^T",
                 # δ^(2) of the source's network, entry by entry
                 r"= \begin{bmatrix} 0.138498562 -0.038098237 \end{bmatrix}")
    nielsen = in_notation(None, "nielsen", form="matrix").to_markdown()
    # Nielsen's (BP1), (BP2) and (BP4) in matrix form, with his layers 1 (the input) to 3.
    assert_lines(nielsen, r"z^2 = W^2a^1 + b^2", r"\delta^3 = \nabla_{a^3} C \odot \sigma'(z^3)",
                 r"\delta^2 = ((W^3)^T\delta^3) \odot \sigma'(z^2)", r"\frac{\partial C}{\partial W^3} = \delta^3(a^2)^T")
    assert_lines(in_notation(None, "deeplearning-ai", form="matrix").to_markdown(),
                 r"z^{[1]} = W^{[1]}x + b^{[1]}", r"dz^{[1]} = ((W^{[2]})^Tdz^{[2]}) \odot g^{[1]\prime}(z^{[1]})")


def test_each_matrix_entry_is_the_scalar_derivations_value():
    d = in_notation(ROOT / "examples" / "two-hidden-layers-tanh.toml", "bishop", form="matrix")
    gradients = [step.eq["gradient"].forms[-1] for step in d.section("matrix").steps if step.kind == "matrix_backward"]
    keys = [entry.key for matrix in gradients for row in matrix.rows for entry in row]
    assert sorted(keys) == sorted(f"dE_total/d{w.key}" for w in d.network.weights)


def test_matrices_too_wide_for_the_page_are_given_by_their_shapes():
    spec = {"network": {"layers": [7, 1], "weights": [[[0.1] * 7]], "biases": [0.5]},
            "data": {"inputs": [0.1] * 7, "targets": [1]}, "training": {"iterations": 1}}
    document = in_notation(spec, form="matrix").to_markdown()
    assert "$W^{(1)}$ has one row and seven columns" in document
    matrices = re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", document, re.S)
    # Each result only, its first three columns, the gap and the last: no matrix of seven columns.
    assert matrices and all(row.count("&") <= 4 for m in matrices for row in m.split("\\\\"))
    assert r"\cdots" in document


WIDE = {"network": {"layers": [3, 10, 2],
                    "weights": [[[round(0.1 * ((3 * j + i) % 7) - 0.3, 2) for i in range(3)] for j in range(10)],
                                [[round(0.05 * ((j + 4 * i) % 9) - 0.2, 2) for i in range(10)] for j in range(2)]],
                    "biases": [0.1, 0.2]},
        "data": {"inputs": [0.5, -0.2, 0.1], "targets": [0.2, 0.8]}, "training": {"iterations": 1}}


def test_a_wide_layer_shows_its_matrices_first_entries_and_last():
    d = in_notation(WIDE, "nielsen", form="matrix")
    document = d.to_markdown(detail="full")
    assert "$W^3$ has two rows and ten columns" in document
    gradient = d.section("matrix").steps[-2].eq["gradient"].forms[-1]  # ∂C/∂W^3, 2 × 10
    shown = explainer.outputs.markup.shown_values(d, explainer.outputs.formatting.NumberFormat())
    first, third, last = (shown[gradient.rows[0][c].key] for c in (0, 2, 9))
    assert f"{first} & " in document and f"{third} & \\cdots & {last} \\\\" in document
    assert shown[gradient.rows[0][3].key] not in document.split("### In Matrix Form")[1].split("## The Result")[0]
    # Tall ones: the first three rows, the gap, the last.
    assert "\\vdots \\\\" in document
    # Every entry is in the values output.
    assert all(entry.key in d.values for row in gradient.rows for entry in row)


def test_a_wide_layer_compiles_with_pdflatex_without_overfull_boxes():
    from conftest import require_tool
    from explainer.outputs import pdf
    from test_pdf import assert_clean

    require_tool("latexmk")
    require_tool("pdflatex")
    for preset in ("source", "deeplearning-ai"):
        document, report = pdf.compile_pdf(in_notation(WIDE, preset, form="all").to_latex(detail="full"))
        assert document.startswith(b"%PDF"), preset
        assert_clean(report)


def test_the_matrix_form_changes_no_value():
    assert in_notation(None, form="matrix").float_values() == explainer.derive().float_values()


def test_the_delta_and_matrix_forms_follow_a_sequential_update():
    """Above a hidden layer the sequential update uses the updated weights, in every form."""
    spec = {**PER_NEURON, "training": {"update": "sequential", "iterations": 1}}
    d = in_notation(spec, "nielsen", form="all")
    assert d.float_values() == explainer.derive(spec).float_values()
    assert_lines(d.to_markdown(), r"\delta^2_1 = ({w^3_{11}}^+ \delta^3_1 + {w^3_{21}}^+ \delta^3_2) \sigma'(z^2_1)",
                 r"\delta^2 = (({W^3}^+)^T\delta^3) \odot \sigma'(z^2)")


def test_exercises_ask_for_the_error_signals_in_the_delta_form(tmp_path):
    result = run_cli("exercise", "--count", "1", "--seed", "s", "--notation", "nielsen", "--form", "delta",
                     "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    sheet = (tmp_path / "questions" / "1.md").read_text()
    assert "### The Delta Rule" in sheet and r"| `dE_total/dnet_h1` | $\delta^2_1$ |" in sheet
    assert "$z^2_1$" in sheet
    key = tmp_path / "keys" / "1.json"
    assert run_cli("check", str(key), "--key", str(key)).stdout.splitlines()[-1] == "60 checked: 60 correct."


def test_the_delta_forms_equations_are_the_documents():
    """Every equation of the derivation ends, in the full document, with its value (as test_macros asks of
    the chain form); the δs are equations of the document in the delta form."""
    d = in_notation(None, "nielsen", form="delta")
    document = d.to_latex(detail="full")
    shown = explainer.outputs.markup.shown_values(d, explainer.outputs.formatting.NumberFormat())
    assert {"dE_total/dnet_o1", "dE_total/dnet_h1"} <= set(d.equations)
    for key in d.equations:
        assert re.search(rf"= {re.escape(shown[key])}(\n| \\\\)", document), key


def test_the_batch_in_matrix_form_one_column_a_sample():
    """Z^(l) = W^(l) A^(l-1) + b^(l) with one column a sample, and ∂E/∂W = (1/m) Δ A^T, each entry the scalar
    derivation's value; the products worked out again here with numpy from the spec alone."""
    import numpy as np

    spec = explainer.load_spec(ROOT / "examples" / "xor.toml")
    d = in_notation(ROOT / "examples" / "xor.toml", "deeplearning-ai", form="matrix")
    values = {k: float(v) for k, v in {**d.parameters, **d.values}.items()}
    steps = d.section("matrix_batch").steps
    forward = [s for s in steps if s.kind == "batch_forward"]
    backward = {int(s.subject): s for s in steps if s.kind == "batch_backward"}

    def entries(matrix):
        return np.array([[values[x.key] for x in row] for row in matrix.rows])

    A = np.array([[float(x) for x in sample.inputs] for sample in spec.samples]).T  # one column a sample
    activations = [A]
    for l, (step, weights, biases) in enumerate(zip(forward, spec.weights, spec.biases), start=1):
        W = np.array(weights, dtype=float)
        Z = W @ A + np.array([float(b) for b in biases])[:, None] * np.ones((1, A.shape[1]))
        assert step.eq["net"].forms[0].tex == f"Z^{{[{l}]}}"
        assert entries(step.eq["net"].forms[-1]) == pytest.approx(Z, rel=1e-12, abs=1e-15)
        A = 1 / (1 + np.exp(-Z))  # xor's layers are sigmoid
        assert entries(step.eq["out"].forms[-1]) == pytest.approx(A, rel=1e-12)
        activations.append(A)
    Y = np.array([[float(x) for x in sample.targets] for sample in spec.samples]).T
    count = A.shape[1]
    delta = (A - Y) * A * (1 - A)  # xor's: half the squared error of sigmoid outputs, per sample
    for l in range(len(spec.weights), 0, -1):
        step = backward[l]
        assert entries(step.eq["signal"].forms[-1]) == pytest.approx(delta, rel=1e-10)
        gradient = delta @ activations[l - 1].T / count
        assert entries(step.eq["gradient"].forms[-1]) == pytest.approx(gradient, rel=1e-10)
        # …and those entries are the batch gradients of the scalar derivation, weight by weight.
        assert [x.key for row in step.eq["gradient"].forms[-1].rows for x in row] == \
            [f"dE_total/d{w.key}" for w in d.network.weights_into_layer(l)]
        W = np.array(spec.weights[l - 1], dtype=float)
        delta = (W.T @ delta) * activations[l - 1] * (1 - activations[l - 1])
    document = d.to_markdown(detail="full")
    assert_lines(document, r"Z^{[1]} = W^{[1]}X + b^{[1]}", r"A^{[1]} = g^{[1]}(Z^{[1]})",
                 r"dZ^{[1]} = ((W^{[2]})^TdZ^{[2]}) \odot g^{[1]\prime}(Z^{[1]})",
                 r"\frac{\partial J}{\partial W^{[1]}} = \frac{1}{4}dZ^{[1]}X^T")
    assert "### The Batch in Matrix Form" not in in_notation(ROOT / "examples" / "xor.toml", "deeplearning-ai").to_markdown()
    # Sigmoid outputs with the binary cross-entropy: the derivatives cancel, Ng's dZ^{[L]} = A^{[L]} - Y.
    bce = spec_mapping(spec)
    bce["network"]["loss"] = "binary_cross_entropy"
    d = in_notation(bce, "deeplearning-ai", form="matrix")
    (output,) = [s for s in d.section("matrix_batch").steps if s.kind == "batch_backward" and s.facts["output"]]
    assert_lines(d.to_markdown(detail="full"), r"dZ^{[2]} = A^{[2]} - Y")
    outs = [[values_of(d)[f"out_o1[{s}]"] - float(sample.targets[0]) for s, sample in enumerate(spec.samples, 1)]]
    assert entries_of(d, output.eq["signal"].forms[-1]) == pytest.approx(np.array(outs), rel=1e-12)


def values_of(d):
    return {k: float(v) for k, v in {**d.parameters, **d.values}.items()}


def entries_of(d, matrix):
    import numpy as np

    values = values_of(d)
    return np.array([[values[x.key] for x in row] for row in matrix.rows])
