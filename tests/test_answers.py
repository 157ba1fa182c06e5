"""Reading answer sheets: every accepted form, the digits as written, and what is not a claim."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from explainer.grading.answers import Claim, normalised, parse_answers
from explainer.spec.errors import AnswersError, ExplainerError
from explainer.grading.names import Names
from explainer.maths.formulas import latex

SOURCE = Path(__file__).parent / "data" / "step-by-step-backpropagation.md"


@pytest.fixture(scope="module")
def names(default_derivation) -> Names:
    return Names(default_derivation)


def read(text: str, names: Names) -> list[Claim]:
    return list(parse_answers(text, names))


def one(text: str, names: Names) -> Claim:
    (claim,) = read(text, names)
    return claim


# --- the forms of a claim -------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "out_h1 = 0.593269992",
        "out_{h1} = 0.593269992",
        r"\text{out}_{h1} = 0.593269992",
        "$out_{h1} = 0.593269992$",
        "$$out_{h1} = 0.593269992$$",
        r"\[ out_{h1} = 0.593269992 \]",
        '"out_h1" = 0.593269992',
        '"out_h1": 0.593269992,',
        "  - out_h1 = 0.593269992   # from the sigmoid",
        "out_h1 ≈ 0.593269992.",
        r"out_{h1} \approx 0.593269992",
    ],
)
def test_one_value_in_every_form(names, line):
    claim = one(line, names)
    assert (claim.key, claim.given.text, claim.line) == ("out_h1", "0.593269992", 1)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("dE_total/dw5 = 0.082167041", "dE_total/dw5"),
        (r"\frac{\partial E_{total}}{\partial w_5} = 0.082167041", "dE_total/dw5"),
        (r"\dfrac{\partial E_{total}}{\partial w_{5}} = 0.082167041", "dE_total/dw5"),
        ("∂E_total/∂w5 = 0.082167041", "dE_total/dw5"),
        (r"\partial E_{total} / \partial w_5 = 0.082167041", "dE_total/dw5"),
        ("w_5^+ = 0.082167041", "w5+"),
        ("w5+ = 0.082167041", "w5+"),
        ("w₅⁺ = 0.082167041", "w5+"),
        ('"E_total@1" = 0.082167041', "E_total@1"),
    ],
)
def test_names_as_keys_latex_and_unicode(names, line, key):
    assert one(line, names).key == key


@pytest.mark.parametrize(
    "line",
    ["net_h1 = 0.3775 so out_h1 = 0.593269992", "net_h1 = 0.3775, then out_h1 = 0.593269992",
     "net_h1 = 0.3775 -> out_h1 = 0.593269992", "net_h1 = 0.3775 => out_h1 = 0.593269992",
     "net_h1 = 0.3775 → out_h1 = 0.593269992", "net_h1 = 0.3775. Then out_h1 = 0.593269992.",
     "net_h1 = 0.3775 which gives outₕ₁ = 0.593269992 (rounded)"],
)
def test_two_claims_joined_as_students_join_them(names, line):
    claims = parse_answers(line, names)
    assert [(c.key, c.given.text) for c in claims] == [("net_h1", "0.3775"), ("out_h1", "0.593269992")]


def test_numbers_keep_the_digits_written(names):
    claims = read("dnet_o1/dout_h1 = 0.40\nw7+ = 0.511301270\nnet_h1 = 1\n", names)
    assert [c.given.value for c in claims] == [Decimal("0.40"), Decimal("0.511301270"), Decimal("1")]
    assert [c.given.unit for c in claims] == [Decimal("0.01"), Decimal("1e-9"), Decimal("1")]


@pytest.mark.parametrize(
    "written",
    ["−0.019049119", "-0.019049119", "- 0.019049119", "(-0.019049119)", r"-1.9049119 \times 10^{-2}",
     r"-1.9049119 \cdot 10^{-2}", "-1.9049119e-2", "-1.9049119E-02", "−1.9049119 × 10^{-2}"],
)
def test_negative_and_scientific_numbers(names, written):
    claim = one(f"dE_o2/dout_h1 = {written}", names)
    assert claim.given.value == Decimal("-0.019049119")
    assert claim.given.unit == Decimal("1e-9")


def test_a_chain_gives_its_formulas_and_its_substituted_form(names):
    claim = one(r"net_{o1} = w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1 = 0.4 * 0.593269992 + 0.45 * 0.596884378 + 0.6 * 1 = 1.105905967", names)
    assert claim.key == "net_o1"
    assert claim.given.text == "1.105905967"
    assert [latex(f) for f in claim.formulas] == ["w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1"]
    assert [latex(f) for f in claim.substituted] == ["0.4 * 0.593269992 + 0.45 * 0.596884378 + 0.6 * 1"]
    assert [leaf.key for leaf in _names(claim.formulas[0])] == ["w5", "out_h1", "w6", "out_h2", "b2"]


def test_products_written_every_way(names):
    for product in ("0.75136507(1 - 0.75136507)", r"0.75136507 \cdot (1 - 0.75136507)", r"0.75136507 \times \left(1 - 0.75136507\right)",
                    "0.75136507 · (1 − 0.75136507)", "0.75136507 * (1 - 0.75136507)"):
        claim = one(f"dout_o1/dnet_o1 = {product} = 0.186815602", names)
        assert len(claim.substituted) == 1, product


def test_a_formula_without_a_number_is_a_claim(names):
    claim = one(r"$$\frac{\partial E_{total}}{\partial out_{o1}} = 2 * \frac{1}{2}(\text{target}_{o1} - \text{out}_{o1})^{2-1} * -1 + 0$$", names)
    assert claim.given is None
    assert latex(claim.formulas[0]) == r"2 * \frac{1}{2} * (target_{o1} - out_{o1})^{2 - 1} * (-1) + 0"


def test_aligned_rows_continue_the_chain_above(names):
    text = "\n".join([
        "$$",
        r"\begin{aligned}",
        r"net_{o1} &= w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1 \\",
        r"&= 0.40 * 0.593269992 + 0.45 * 0.596884378 \\",
        r"&\quad + 0.60 * 1 \\",
        r"&= 1.105905967 \\",
        r"out_{o1} &= 0.75136507",
        r"\end{aligned}",
        "$$",
    ])
    first, second = read(text, names)
    assert (first.key, first.line, first.given.text) == ("net_o1", 3, "1.105905967")
    assert [latex(f) for f in first.substituted] == ["0.40 * 0.593269992 + 0.45 * 0.596884378 + 0.60 * 1"]
    assert (second.key, second.line) == ("out_o1", 7)


@pytest.mark.parametrize("fence", ["```", "~~~", "````"])
def test_a_math_fence_is_display_math(names, fence):
    """GitHub's and GitLab's display math: rows read as in ``$$``, lines counted in the sheet."""
    text = "\n".join([
        "We feed the inputs forward:",
        "",
        f"{fence}math",
        r"\begin{aligned}",
        r"net_{o1} &= w_5 * out_{h1} + w_6 * out_{h2} + b_2 * 1 \\",
        r"&= 0.40 * 0.593269992 + 0.45 * 0.596884378 + 0.60 * 1 \\",
        r"&= 1.105905967",
        r"\end{aligned}",
        fence,
        "",
        f"{fence}math",
        r"out_{o1} = \frac{1}{1 + e^{-net_{o1}}} = 0.75136507",
        fence,
    ])
    first, second = read(text, names)
    assert (first.key, first.line, first.given.text) == ("net_o1", 5, "1.105905967")
    assert [latex(f) for f in first.substituted] == ["0.40 * 0.593269992 + 0.45 * 0.596884378 + 0.60 * 1"]
    assert (second.key, second.line, second.given.text) == ("out_o1", 12, "0.75136507")
    assert [latex(f) for f in second.formulas] == [r"\frac{1}{1 + e^{-net_{o1}}}"]
    # An unclosed fence is no display: its lines are read one by one, and the next fence is a fence of its own.
    unclosed = read(f"{fence}math\nout_{{h1}} = 0.593269992\n\n{fence}math\nE_{{o1}} = 0.274811083\n{fence}\n", names)
    assert [(c.key, c.line) for c in unclosed] == [("out_h1", 2), ("E_o1", 5)]


def test_a_github_document_reads_as_the_same_document_in_dollars(names, default_derivation):
    """A student pasting the github flavor is read as one pasting the commonmark flavor."""
    def claims(flavor):
        text = default_derivation.to_markdown(flavor=flavor, detail="full")
        return [(c.key, c.given, c.formulas, c.substituted) for c in read(text, names)]

    github = claims("github")
    assert len(github) > 80 and github == claims("commonmark")


def test_latex_environments(names):
    text = "\\begin{align*}\nE_{o1} &= 0.274811083 \\\\\nE_{o2} &= 0.023560026 % the other output\n\\end{align*}\n" \
           "\\begin{equation}\nE_{total} = 0.298371109 \\label{eq:total}\n\\end{equation}\n"
    assert [(c.key, c.line) for c in read(text, names)] == [("E_o1", 2), ("E_o2", 3), ("E_total", 6)]


def test_inline_math_in_prose(names):
    claims = read("We get $E_{o1} = 0.274811083$ and then $E_{o2} = 0.023560026$, so the error is 0.3.", names)
    assert [c.key for c in claims] == ["E_o1", "E_o2"]


def test_a_json_object_with_line_numbers(names):
    text = json.dumps({"out_h1": 0.5932699921071872, "round": {"E_total@1": 0.29102777369359933}, "w5+": "0.35891648"}, indent=2)
    claims = read(text, names)
    assert [(c.key, c.line, c.given.text) for c in claims] == [
        ("out_h1", 2, "0.5932699921071872"), ("E_total@1", 4, "0.29102777369359933"), ("w5+", 6, "0.35891648")]


def test_a_json_object_of_latex_names(names):
    claims = read(json.dumps({r"\frac{\partial E_{total}}{\partial w_5}": 0.082167041}), names)
    assert claims[0].key == "dE_total/dw5"


def test_toml_with_tables_and_comments(names):
    text = '# my answers\n[forward]\nout_h1 = 0.593269992  # sigmoid\n\n[backward]\n"dE_total/dw5" = 0.082167041  # the chain rule\n'
    assert [(c.key, c.line) for c in read(text, names)] == [("out_h1", 3), ("dE_total/dw5", 6)]


# --- what is not a claim --------------------------------------------------------------


def test_lines_that_are_not_claims_are_skipped(names):
    text = "\n".join([
        "# The forward pass",
        "First we feed the inputs forward.",
        r"$$E_{total} = \sum \frac{1}{2}(target - output)^2$$",
        r"$$\downarrow$$",
        "| $w_1$ | $0.15$ |",
        "```",
        "out_h1 = 0.593269992",
        "```",
    ])
    # A Markdown table row is read: its first cell names the quantity, its last holds the number.
    assert [c.key for c in read(text, names)] == ["w1", "out_h1"]


def test_an_unknown_quantity_is_kept_for_the_report(names):
    claim = one("out_{h3} = 0.5", names)
    assert (claim.key, claim.name, claim.given.text) == (None, "out_{h3}", "0.5")


def test_a_sheet_without_claims_is_an_error(names):
    with pytest.raises(AnswersError, match=r"^sheet\.txt: no answers found") as caught:
        parse_answers("nothing to see\n\n", names, "sheet.txt")
    assert isinstance(caught.value, ExplainerError) and "\n" not in str(caught.value)


def test_a_byte_order_mark_is_ignored(names):
    assert one("\ufeffout_h1 = 0.593269992", names).key == "out_h1"


def test_normalised_writes_variants_one_way():
    assert normalised(r"a \cdot b \times c · d × e") == "a * b * c * d * e"
    assert normalised(r"\left( x \right) − y") == "( x ) - y"
    assert normalised(r"\mathrm{out}_{h1}\, =\; 0.5.") == "out_{h1}  =  0.5"


# --- the source document ---------------------------------------------------------------


def test_the_source_document(names):
    claims = read(SOURCE.read_text(encoding="utf-8"), names)
    assert all(c.key is not None for c in claims)
    numbers = {(c.key, c.given.text) for c in claims if c.given is not None}
    assert {("net_h1", "0.3775"), ("net_o1", "1.105905967"), ("out_o1", "0.75136507"), ("dE_o2/dout_h1", "-0.019049119"),
            ("dE_total/dw5", "0.082167041"), ("w5+", "0.35891648"), ("w7+", "0.511301270"), ("w4+", "0.29950229")} <= numbers
    formulas = [latex(f) for c in claims for f in c.formulas if c.key == "net_h1"]
    assert formulas == ["w_1 * i_1 + w_2 * i_2 + b_1 * 1", "w_1 * i_1 + w_3 * i_2 + b_1 * 1"]


def _names(node):
    from explainer.grading.formula_parts import leaves
    from explainer.maths.formulas import Num

    return [leaf for leaf in leaves(node) if not isinstance(leaf, Num)]
