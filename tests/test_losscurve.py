"""The loss curve: scales chosen from the data, marks with the document's numbers, SVG and pgfplots."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

import explainer
from explainer.outputs import losscurve
from explainer.outputs.formatting import NumberFormat
from explainer.outputs.render import Latex, Markdown

SVG = "{http://www.w3.org/2000/svg}"


def falling(n: int, start=0.3, rate=1.0):
    return tuple((k, start / (1 + rate * k)) for k in range(1, n + 1))


def make(history, first_words="after one round", last_words="after N rounds"):
    (k1, e1), (n, en) = history[0], history[-1]
    return losscurve.curve(history, losscurve.Mark(k1, e1, first_words, "0.15"),
                           losscurve.Mark(n, en, last_words, "3.5 \\times 10^{-5}"))


def test_the_default_curve_has_both_axes_logarithmic_and_marks_the_document_numbers(default_derivation):
    markup = Markdown(default_derivation, NumberFormat())
    curve = markup.loss_curve("after one round", "after 10,000 rounds")
    assert curve.x_log and curve.y_log and curve.falling
    assert curve.first.plain() == "after one round: 0.291027774"
    assert curve.last.plain() == "after 10,000 rounds: 0.000035102"
    assert (curve.first.round, curve.last.round) == (1, 10_000)


def test_scales_follow_the_data():
    short_and_flat = make(tuple((k, 0.3 - 0.001 * k) for k in range(1, 51)))
    assert not short_and_flat.x_log and not short_and_flat.y_log
    long_and_steep = make(((1, 0.3), (10, 0.1), (1000, 0.0001)))
    assert long_and_steep.x_log and long_and_steep.y_log
    with_a_zero = make(((1, 0.3), (2, 0.0)))
    assert not with_a_zero.y_log


def test_svg_parses_and_shows_the_marks_axis_and_ticks():
    svg = losscurve.svg(make(falling(10_000)), "rounds of training", "The <total> error")
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "The <total> error"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "after one round: 0.15" in texts
    assert "after N rounds: 3.5 × 10⁻⁵" in texts
    assert "rounds of training" in texts and "Etotal" in texts
    assert {"1", "10", "100", "1,000", "10,000"} <= set(texts)  # rounds on a log axis
    assert "10⁻⁴" in texts or "10⁻³" in texts
    assert len(root.findall(f"{SVG}circle")) == 2


def test_svg_of_a_rising_curve_and_of_a_constant_one_still_draws():
    for history in (tuple((k, 0.1 + 0.001 * k) for k in range(1, 30)), ((1, 0.2), (2, 0.2))):
        ET.fromstring(losscurve.svg(make(history), "rounds", "x"))


def test_pgfplots_axis_options_and_coordinates():
    tex = losscurve.pgfplots(make(falling(10_000)), "rounds of training")
    assert "xmode=log" in tex and "ymode=log" in tex
    assert "xtick={1,10,100,1000,10000}" in tex and "xticklabels={{1},{10},{100},{1,000},{10,000}}" in tex
    assert "xlabel={rounds of training}" in tex and "ylabel={$E_{total}$}" in tex
    assert "{after one round: $0.15$}" in tex and "{after N rounds: $3.5 \\times 10^{-5}$}" in tex
    assert "(10000,2.99970003e-05)" in tex
    linear = losscurve.pgfplots(make(falling(50, rate=0.001)), "rounds")
    assert "xmode" not in linear and "ymode" not in linear


def test_latex_and_markdown_place_the_same_curve(default_derivation):
    latex = default_derivation.to_latex()
    assert "\\begin{axis}" in latex and "\\label{fig:loss}" in latex
    assert "after 10,000 rounds: $0.000035102$" in latex
    markdown = default_derivation.to_markdown()
    assert "](backpropagation-example-loss.svg)" in markdown


@pytest.mark.parametrize("iterations, has_curve", [(0, False), (1, False), (2, True)])
def test_a_curve_needs_at_least_two_rounds(iterations, has_curve):
    d = explainer.derive(dataclasses.replace(explainer.load_spec(), iterations=iterations))
    assert ("\\begin{axis}" in d.to_latex()) == has_curve
    assert (Latex(d, NumberFormat()).loss_curve("a", "b") is not None) == has_curve


def _marks(svg: str):
    """The curve's points (px) and each mark's label box, read back from an SVG."""
    import re

    from explainer.outputs import losscurve
    from explainer.outputs.svg import MathText

    path = re.search(r'class="ex-curve" d="([^"]+)"', svg).group(1)
    curve = [tuple(map(float, point[1:].split(","))) for point in path.split()]
    labels = re.findall(r'<text class="ex-halo" x="([-\d.]+)" y="([-\d.]+)" dy="0.35em" text-anchor="(\w+)"[^>]*>([^<]+)</text>', svg)
    boxes = [(text, losscurve._label_box((float(x), float(y)), anchor, MathText(rest=text).width() * losscurve.TICK_FONT))
             for x, y, anchor, text in labels]
    return curve, boxes


def test_the_after_one_round_label_never_crosses_the_curve():
    from conftest import ROOT
    from explainer.outputs.losscurve import HEIGHT, WIDTH, label_crosses

    figures = sorted((ROOT / "output").glob("*-loss.svg"))
    assert len(figures) >= 7
    for figure in figures:
        curve, boxes = _marks(figure.read_text(encoding="utf-8"))
        (text, box), _ = boxes
        assert text.startswith("after one round")
        assert not label_crosses(box, curve), figure.name
        assert 0 <= box[0] and box[2] <= WIDTH and 0 <= box[1] and box[3] <= HEIGHT
