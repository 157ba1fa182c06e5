"""The rendered documents: the committed output, real Markdown parsing, real pdflatex."""

from __future__ import annotations

import dataclasses
import re
import subprocess

import mpmath
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

import explainer
from conftest import ROOT, WIDE_HIDDEN_DEEP, as_words, require_tool, run_cli

SOURCE_HEADINGS = [
    "A Step by Step Backpropagation Example",
    "The Network",
    "The Forward Pass",
    "Calculating the Total Error",
    "The Backwards Pass",
    "Output Layer",
    "Hidden Layer",
    "The Result",
]

DEEP = WIDE_HIDDEN_DEEP


def parse_markdown(text: str):
    parser = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=True).use(footnote_plugin)
    return parser.parse(text)


def inline_children(tokens):
    return [child for token in tokens if token.type == "inline" for child in token.children]


@pytest.mark.parametrize("suffix, method", [(".md", "to_markdown"), (".tex", "to_latex")])
def test_committed_output_is_what_the_code_renders(default_derivation, suffix, method):
    committed = (ROOT / "output" / f"backpropagation-example{suffix}").read_text(encoding="utf-8")
    assert getattr(default_derivation, method)() == committed, (
        "output/ is stale: run `explainer render` and commit the result"
    )


EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.toml"))


@pytest.fixture(scope="module")
def example_derivations():
    return {name: explainer.derive(str(ROOT / "examples" / f"{name}.toml")) for name in EXAMPLES}


def test_the_shipped_examples():
    assert EXAMPLES == ["adam", "adamw", "backpropagation-example", "minibatch-adam", "momentum", "nesterov", "relu-regression",
                        "rmsprop", "softmax-classifier", "source-with-bias-training", "two-hidden-layers",
                        "two-hidden-layers-tanh", "weight-decay", "xor"]


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("suffix, method", [(".md", "to_markdown"), (".tex", "to_latex")])
def test_committed_output_of_every_example_is_what_the_code_renders(example_derivations, name, suffix, method):
    committed = (ROOT / "output" / f"{name}{suffix}").read_text(encoding="utf-8")
    assert getattr(example_derivations[name], method)() == committed, (
        f"output/{name}{suffix} is stale: run `explainer render examples/{name}.toml` and commit the result"
    )


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("detail", ["source", "full"])
def test_markdown_math_of_every_example_is_all_parsed_as_math(example_derivations, name, detail):
    text = example_derivations[name].to_markdown(detail=detail)
    tokens = parse_markdown(text)
    blocks = [t for t in tokens if t.type == "math_block"]
    assert len(blocks) == text.count("\n$$") - text.count("\n$$\n\\begin")
    for child in inline_children(tokens):
        if child.type == "text":
            assert "$" not in child.content and "\\frac" not in child.content, child.content


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("detail", ["source", "full"])
def test_latex_of_every_example_compiles_cleanly(example_derivations, tmp_path, name, detail):
    log = _compile(example_derivations[name].to_latex(detail=detail), tmp_path)
    assert not re.search(r"Overfull|Underfull \\hbox|undefined|LaTeX Error", log), re.findall(r".*(?:Overfull|undefined).*", log)


def test_markdown_has_the_sources_sections_in_order(default_derivation):
    tokens = parse_markdown(default_derivation.to_markdown())
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == SOURCE_HEADINGS


def test_markdown_math_is_all_parsed_as_math(default_derivation):
    text = default_derivation.to_markdown()
    tokens = parse_markdown(text)
    blocks = [t for t in tokens if t.type == "math_block"]
    assert len(blocks) == text.count("\n$$") - text.count("\n$$\n\\begin")  # every display became a math block
    for child in inline_children(tokens):
        if child.type == "text":
            assert "$" not in child.content and "\\frac" not in child.content, child.content
    assert all("\\begin{aligned}" in b.content or "&" not in b.content for b in blocks)


@pytest.mark.parametrize("detail", ["source", "full"])
def test_markdown_footnotes_all_resolve(default_derivation, detail):
    tokens = parse_markdown(default_derivation.to_markdown(detail=detail))
    refs = [c for c in inline_children(tokens) if c.type == "footnote_ref"]
    definitions = [t for t in tokens if t.type == "footnote_open"]
    assert len(refs) == len(definitions) == 4


def test_substituted_forms_use_the_printed_values(default_derivation):
    markdown = default_derivation.to_markdown()
    for line in [
        r"net_{h1} = w_1 * i_1 + w_2 * i_2 + b_1 * 1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35 * 1 = 0.3775",
        r"out_{h1} = \frac{1}{1 + e^{-net_{h1}}} = \frac{1}{1 + e^{-0.3775}} = 0.593269992",
        r"E_{o1} = \frac{1}{2}(target_{o1} - out_{o1})^{2} = \frac{1}{2}(0.01 - 0.75136507)^{2} = 0.274811083",
        r"= 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041",
        r"w_5^+ = w_5 - \eta * \frac{\partial E_{total}}{\partial w_5} = 0.40 - 0.5 * 0.082167041 = 0.35891648",
        r"= 0.74136507 * 0.186815602 = 0.138498562",
        r"= 0.138498562 * 0.40 = 0.055399425",
        r"= 0.055399425 + (-0.019049118) = 0.036350306",
        r"out_{h1}(1 - out_{h1}) = 0.593269992(1 - 0.593269992) = 0.241300709",
        r"net_{h1} = w_1 * i_1 + w_2 * i_2 + b_1 * 1$$",
        r"= 0.036350306 * 0.241300709 * 0.05 = 0.000438568",
        r"= 0.15 - 0.5 * 0.000438568 = 0.149780716",
    ]:
        assert as_words(line) in markdown, as_words(line)


def test_every_weight_is_listed_with_its_start_and_end(default_derivation):
    text = default_derivation.to_markdown()
    assert "| $w_5$ | $h_1$ | $o_1$ | $0.40$ |" in text
    assert "| $w_8$ | $0.55$ | $0.561370121$ |" in text
    assert "| $b_1$ | $h_1$ and $h_2$ | $0.35$ |" in text


def test_detail_full_writes_every_weight_in_full(default_derivation):
    source = default_derivation.to_markdown()
    full = default_derivation.to_markdown(detail="full")
    w6 = as_words(r"\frac{\partial E_{total}}{\partial w_6} = 0.74136507 * 0.186815602 * 0.596884378 = 0.082667628")
    assert w6 not in source and w6 in full
    assert as_words(r"out_{h2} = \frac{1}{1 + e^{-net_{h2}}} = \frac{1}{1 + e^{-0.3925}} = 0.596884378") in full
    assert as_words(r"\frac{\partial E_{total}}{\partial w_4} = 0.041370323 * 0.240613417 * 0.10 = 0.000995425") in full


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"decimals": 4}, r"= \frac{1}{1 + e^{-0.3775}} = 0.5933"),
        ({"digits": 3}, r"= \frac{1}{1 + e^{-0.378}} = 0.593"),
        ({"decimals": 12}, r"= 0.593269992107"),
    ],
)
def test_precision_options(default_derivation, options, expected):
    assert expected in default_derivation.to_markdown(**options)


def test_sequential_update_is_explained_and_reproduces_the_source():
    spec = dataclasses.replace(explainer.load_spec(), update="sequential")
    text = explainer.derive(spec).to_markdown()
    assert "0.291027924" in text
    assert as_words(r"\frac{\partial net_{o1}}{\partial out_{h1}} = w_5^+ = 0.35891648") in text
    assert "[^E_total-1]" not in text  # the source's figure is right for this update


def test_deep_network_names_its_hidden_layers():
    text = explainer.derive(DEEP).to_markdown(detail="full")
    assert "### Hidden Layer 2" in text and "### Hidden Layer 1" in text
    assert text.index("### Hidden Layer 2") < text.index("### Hidden Layer 1")
    assert as_words(r"out_{h2,1}") in text and as_words(r"\frac{\partial E_{total}}{\partial net_{h2,1}}") in text
    assert "[^" not in text  # no notes about the source on another network


def test_rendering_is_deterministic_across_processes(tmp_path):
    outputs = []
    for seed in ("0", "1", "12345"):
        result = run_cli("render", "--format", "markdown", "--output", "-", env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]


def _compile(tex: str, directory, name: str = "document"):
    latexmk = require_tool("latexmk")
    require_tool("pdflatex")
    (directory / f"{name}.tex").write_text(tex, encoding="utf-8")
    result = subprocess.run(
        [latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=directory, capture_output=True, text=True, timeout=300,
    )
    log = (directory / f"{name}.log").read_text(encoding="latin-1")
    assert result.returncode == 0, log[-3000:]
    assert (directory / f"{name}.pdf").stat().st_size > 10_000
    return log


@pytest.mark.parametrize("detail", ["source", "full"])
def test_latex_compiles_cleanly(default_derivation, tmp_path, detail):
    log = _compile(default_derivation.to_latex(detail=detail), tmp_path)
    assert not re.search(r"Overfull|Underfull \\hbox|undefined|LaTeX Error", log), re.findall(r".*(?:Overfull|undefined).*", log)


def test_latex_of_a_deep_network_compiles_cleanly(tmp_path):
    log = _compile(explainer.derive(DEEP).to_latex(detail="full"), tmp_path)
    assert "Overfull" not in log and "undefined" not in log


# --- the words of activations, losses, biases, softmax and several samples ---------------


def test_relu_states_its_convention_at_zero(example_derivations):
    text = example_derivations["relu-regression"].to_markdown()
    assert "At exactly 0 the derivative does not exist; we use 0 there" in text
    assert as_words(r"\frac{\partial out_{h1}}{\partial net_{h1}} = \begin{cases} 1 & \text{if } net_{h1} > 0 \\ "
                    r"0 & \text{otherwise} \end{cases}") in text
    assert "Then we pass it through the ReLU function to get the output of $h_1$:" in text


def test_tanh_explains_its_derivative(example_derivations):
    text = example_derivations["two-hidden-layers-tanh"].to_markdown()
    assert "The derivative of the tanh function is 1 minus the square of its output:" in text
    assert as_words(r"out_{h2,1} = \tanh(net_{h2,1}) = \frac{e^{net_{h2,1}} - e^{-net_{h2,1}}}{e^{net_{h2,1}} + e^{-net_{h2,1}}}") in text


def test_softmax_shows_its_jacobian_and_the_cross_entropy_simplification(example_derivations):
    d = example_derivations["softmax-classifier"]
    text = d.to_markdown()
    assert "the *Jacobian* of the softmax function" in text
    assert as_words(r"\frac{\partial out_{o2}}{\partial net_{o1}} &= -out_{o2} * out_{o1} = ") in text
    assert as_words(r"&= -target_{o1} + out_{o1}(target_{o1} + target_{o2} + target_{o3}) \\") in text
    assert as_words(r"&= out_{o1} - target_{o1} \\") in text
    # The general sum through the Jacobian and out - target are the same number.
    values = d.values
    with mpmath.workdps(50):
        for o in (1, 2, 3):
            assert abs(values[f"dE_total/dnet_o{o}[1]"] - (values[f"out_o{o}[1]"] - d.parameters[f"target_o{o}[1]"])) < 1e-40


def test_shared_bias_gradient_is_explained_as_a_sum(example_derivations):
    text = example_derivations["source-with-bias-training"].to_markdown()
    assert "Its gradient is therefore the sum over the layer's neurons" in text
    assert as_words(r"\frac{\partial E_{total}}{\partial b_2} = \frac{\partial E_{o1}}{\partial net_{o1}} * "
                    r"\frac{\partial net_{o1}}{\partial b_2} + \frac{\partial E_{o2}}{\partial net_{o2}} * "
                    r"\frac{\partial net_{o2}}{\partial b_2}") in text
    assert r"= 0.138498562 * 1 + (-0.038098237) * 1 = 0.100400325" in text
    assert as_words(r"b_2^+ = b_2 - \eta * \frac{\partial E_{total}}{\partial b_2} = 0.60 - 0.5 * 0.100400325 = 0.549799837") in text
    # The source's first two mistakes are still noted; its figures after training are not its network's any more.
    assert "[^dE_o2-dout_h1]" in text and "[^net_h1]" in text
    assert "[^E_total-1]" not in text and "[^training]" not in text


def test_per_neuron_bias_has_one_term(example_derivations):
    text = example_derivations["xor"].to_markdown()
    assert "is added to the total net input of $h_1$ only, so its gradient has a single term" in text


def test_batch_combines_the_samples_gradients(example_derivations):
    d = example_derivations["xor"]
    text = d.to_markdown()
    assert "## Combining the Samples" in text
    assert as_words(r"\frac{\partial E_{total}}{\partial w_5} &= \frac{1}{4}\left(\frac{\partial E_{total}^{(1)}}{\partial w_5}") in text
    assert "We work through the first sample in full." in text
    values = d.values
    with mpmath.workdps(50):
        mean = mpmath.fsum(values[f"dE_total/dw5[{s}]"] for s in range(1, 5)) / 4
        assert abs(values["dE_total/dw5"] - mean) < 1e-45


def test_stochastic_mode_reports_the_other_samples(example_derivations):
    text = example_derivations["relu-regression"].to_markdown()
    assert "## The Other Samples" in text and "## Combining the Samples" not in text
    assert "| 3 | $0.0$ | $0.0$ |" in text


def test_losses_are_named_in_the_error_section():
    for loss, words in [("squared_error", "here without the factor"), ("mean_squared_error", "*mean squared error*"),
                        ("binary_cross_entropy", "*binary cross-entropy*")]:
        spec = dataclasses.replace(explainer.load_spec(), loss=loss, iterations=0)
        text = explainer.derive(spec).to_markdown()
        assert words in text, loss


def test_diverging_training_is_said_so_not_a_crash():
    spec = {"network": {"layers": [1, 1], "activation": "linear", "weights": [[[0.5]]], "biases": [0]},
            "data": {"inputs": [10], "targets": [1]}, "training": {"learning_rate": 5, "iterations": 1000}}
    text = explainer.derive(spec).to_markdown()
    assert "does not converge" in text and r"$\text{NaN}$ (vs 1 target)" in text
    assert "the total error has gone up to" in text


def test_non_finite_numbers_are_printed_not_refused():
    from explainer.outputs.formatting import NumberFormat

    assert NumberFormat()(mpmath.mpf("nan")) == r"\text{NaN}"
    assert NumberFormat()(mpmath.mpf("-inf")) == r"-\infty"
    assert NumberFormat(digits=3)(mpmath.mpf("inf")) == r"\infty"


def test_two_markdown_fragments_on_one_page_keep_their_own_footnotes(default_derivation):
    other = explainer.derive(dataclasses.replace(default_derivation.spec, update="sequential"))
    page = "\n\n".join(d.to_markdown(standalone=False) for d in (default_derivation, other))
    tokens = parse_markdown(page)
    refs = [c.meta["label"] for c in inline_children(tokens) if c.type == "footnote_ref"]
    definitions = [t.meta["label"] for t in tokens if t.type == "footnote_open"]
    # the sequential update's figures are the source's: two notes fewer
    assert len(refs) == len(set(refs)) == 4 + 2
    assert sorted(refs) == sorted(definitions)


# --- typography: a negative number in running text has a minus sign, not a hyphen -------

# A hyphen-minus starting a number: not after a letter or digit (``2-2-2``, ``float64``).
HYPHEN_NUMBER = re.compile(r"(?<![\w.])-(?=\.?\d)")
MINUS_EXAMPLES = ("relu-regression", "two-hidden-layers", "two-hidden-layers-tanh", "softmax-classifier",
                  "backpropagation-example")


def markdown_prose(text: str) -> str:
    """The running text of a Markdown document, as markdown-it reads it: no math (MyST's
    ``align*`` included), no code."""
    from mdit_py_plugins.amsmath import amsmath_plugin

    parser = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin).use(amsmath_plugin).use(footnote_plugin)
    words = []

    def walk(tokens):
        for token in tokens:
            if token.type == "text":
                words.append(token.content)
            walk(token.children or [])

    walk(parser.parse(text))
    return "\n".join(words)


def html_prose(page: str) -> str:
    """The text of an HTML page outside its math, code, styles and scripts, the figures' labels and
    tooltips included."""
    from html.parser import HTMLParser

    class Prose(HTMLParser):
        def __init__(self):
            super().__init__()
            self.skipping, self.words = [], []

        def handle_starttag(self, tag, attrs):
            if tag in ("math", "code", "pre", "style", "script"):
                self.skipping.append(tag)

        def handle_endtag(self, tag):
            if self.skipping and self.skipping[-1] == tag:
                self.skipping.pop()

        def handle_data(self, data):
            if not self.skipping:
                self.words.append(data)

    reader = Prose()
    reader.feed(page)
    return "\n".join(reader.words)


@pytest.mark.parametrize("name", MINUS_EXAMPLES)
def test_a_negative_number_in_prose_has_a_minus_sign(name):
    derivation = explainer.derive(None if name == "backpropagation-example" else name)
    texts = {flavor: markdown_prose(derivation.to_markdown(flavor=flavor, detail=detail, standalone=standalone))
             for flavor in ("commonmark", "github", "mkdocs", "myst", "pandoc")
             for detail in ("source", "full") for standalone in (True, False)}
    texts["html"] = html_prose(derivation.to_html(detail="full"))
    texts["html fragment"] = html_prose(derivation.to_html(standalone=False))
    from explainer.outputs.render import render_with_figures

    _, figures = render_with_figures(derivation, "markdown", detail="full")
    texts.update({file: html_prose(svg) for file, svg in figures.items()})
    for where, text in texts.items():
        assert HYPHEN_NUMBER.findall(text) == [], (where, [text[m.start() - 40:m.end() + 10]
                                                           for m in HYPHEN_NUMBER.finditer(text)])
    assert "\u2212" in texts["commonmark"] and "\u2212" in texts["html"]


def test_the_minus_sign_stays_out_of_the_math_and_the_latex(default_derivation):
    """TeX writes its own minus sign: the math keeps the hyphen-minus, and LaTeX prose puts a
    negative number in math (a hyphen-minus in TeX's text is a hyphen)."""
    relu = explainer.derive("relu-regression")
    formulas = [token.content for token in parse_markdown(relu.to_markdown())
                if token.type == "math_block"]
    assert any("-" in formula for formula in formulas) and not any("\u2212" in formula for formula in formulas)
    latex = relu.to_latex(detail="full")
    assert "\u2212" not in latex and "the input $-1.0$" in latex
    body = latex[latex.index("\\begin{document}"):]
    body = re.sub(r"\\begin\{(tikzpicture|align\*?|equation\*?|gather\*?|longtable|tabular)\}.*?\\end\{\1\}", "", body,
                  flags=re.S)
    prose = re.sub(r"\$[^$]*\$|\\\[.*?\\\]", "", body, flags=re.S)
    assert HYPHEN_NUMBER.findall(prose) == [], [prose[m.start() - 40:m.end() + 10] for m in HYPHEN_NUMBER.finditer(prose)]
