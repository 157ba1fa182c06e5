"""The network diagram: its layout, its SVG (parsed as XML) and its TikZ (compiled by real LaTeX)."""

from __future__ import annotations

import random
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from explainer.outputs import diagram
from explainer.maths.network import Network
from explainer.spec.reading import load_spec
from conftest import require_tool

SVG = "{http://www.w3.org/2000/svg}"


def random_spec(layers, seed=1, per_neuron_biases=False):
    r = random.Random(seed)
    weights = [[[round(r.uniform(-1, 1), 2) for _ in range(layers[l])] for _ in range(layers[l + 1])]
               for l in range(len(layers) - 1)]
    biases = [[round(r.uniform(-1, 1), 2) for _ in range(width)] if per_neuron_biases else round(r.uniform(-1, 1), 2)
              for width in layers[1:]]
    return {"network": {"layers": list(layers), "weights": weights, "biases": biases},
            "data": {"inputs": [round(r.uniform(0, 1), 2) for _ in range(layers[0])],
                     "targets": [round(r.uniform(0, 1), 2) for _ in range(layers[-1])]},
            "training": {"iterations": 0}}


SHAPES = {
    "source": None,
    "2-3-2-2, a bias per neuron": random_spec((2, 3, 2, 2), per_neuron_biases=True),
    "1-1": random_spec((1, 1)),
    "3-4-1": random_spec((3, 4, 1)),
    "10-30-20-10": random_spec((10, 30, 20, 10), seed=2),
}


LABELLED = ["source", "2-3-2-2, a bias per neuron", "1-1"]


def drawn(name: str):
    """The network of a shape, its parameters as written, and its diagram."""
    network = Network(load_spec(SHAPES[name]))
    shown = {key: str(value) for key, value in network.parameter_values().items()}
    return network, shown, diagram.layout(network, shown)


@pytest.fixture(scope="module", params=list(SHAPES), ids=list(SHAPES))
def case(request):
    return drawn(request.param)


@pytest.fixture(scope="module", params=LABELLED, ids=LABELLED)
def labelled_case(request):
    return drawn(request.param)


def text_of(element) -> str:
    """The characters of a <text>, its tspans joined; spaces left out (some are offsets, dx)."""
    return "".join(element.itertext()).replace("\u00a0", "").replace(" ", "")


def test_svg_parses_and_names_every_weight_and_neuron(case):
    network, shown, layout = case
    root = ET.fromstring(diagram.svg(layout, "The network"))
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title").text == "The network"
    lines = {line.find(f"{SVG}title").text for line in root.iter(f"{SVG}line")}
    for w in network.weights:
        # A tooltip is text, not math: a negative weight has its minus sign.
        assert f"{w.key} = {shown[w.key].replace('-', '−')} ({w.source.name} → {w.target.name})" in lines
    neurons = {circle.find(f"{SVG}title").text.split(",")[0].split(" ")[0] for circle in root.iter(f"{SVG}circle")}
    assert {n.name for layer in network.layers for n in layer} <= neurons


def test_a_labelled_diagram_shows_every_weight_bias_input_and_target(labelled_case):
    network, shown, layout = labelled_case
    assert layout.weights_labelled
    texts = {text_of(t) for t in ET.fromstring(diagram.svg(layout, "x")).iter(f"{SVG}text")}
    minus = str.maketrans({"-": "−"})
    for w in network.weights:
        assert f"w{w.key[1:]}={shown[w.key]}".translate(minus) in texts, w.key
    for b in network.biases:
        assert f"b{b.key[1:].replace('_', ',')}={shown[b.key]}".translate(minus) in texts, b.key
    for i in network.inputs:
        assert shown[i.out_key] in texts
    for o in network.outputs:
        assert f"target{o.name}={shown['target_' + o.name]}" in texts


def test_labels_overlap_neither_each_other_nor_the_neurons(case):
    _, _, layout = case
    boxes = [label.box() for label in layout.labels]
    for i, a in enumerate(boxes):
        assert not any(diagram._boxes_meet(a, b) for b in boxes[:i]), layout.labels[i]
        assert not any(diagram._circle_meets_box(n, a) for n in layout.nodes), layout.labels[i]


def test_the_source_and_small_networks_are_labelled_wider_ones_are_not():
    labelled = {name: drawn(name)[2].weights_labelled for name in SHAPES}
    assert labelled == {"source": True, "2-3-2-2, a bias per neuron": True, "1-1": True,
                        "3-4-1": False, "10-30-20-10": False}


def test_a_large_diagram_fits_the_page_and_names_the_ends_of_its_columns():
    _, _, layout = drawn("10-30-20-10")
    left, bottom, right, top = layout.box
    assert top - bottom < 16 and right - left < 16  # cm, before \fitwidth shrinks it to the line
    names = {label.key for label in layout.labels}
    assert {"i1", "i10", "h1_1", "h1_30", "h2_1", "h2_20", "o1", "o10"} <= names
    assert all(n.text is None for n in layout.nodes)  # too small to write in


def test_the_caption_is_escaped_in_the_svg():
    svg = diagram.svg(drawn("source")[2], 'A <b> & "c"')
    assert ET.fromstring(svg).find(f"{SVG}title").text == 'A <b> & "c"'


def test_svg_and_tikz_are_the_same_every_time():
    first, again = drawn("2-3-2-2, a bias per neuron")[2], drawn("2-3-2-2, a bias per neuron")[2]
    assert diagram.svg(first, "x") == diagram.svg(again, "x") and diagram.tikz(first) == diagram.tikz(again)


def test_tikz_of_the_source_network_labels_every_weight():
    tikz = diagram.tikz(drawn("source")[2])
    for k, value in zip(range(1, 9), ("0.15", "0.20", "0.25", "0.30", "0.40", "0.45", "0.50", "0.55")):
        assert f"{{$w_{{{k}}} = {value}$}}" in tikz
    assert "{$b_{1} = 0.35$}" in tikz and "{$target_{o1} = 0.01$}" in tikz


@pytest.mark.parametrize("name", ["source", "10-30-20-10"])
def test_tikz_compiles_without_layout_warnings(name, tmp_path):
    latexmk = require_tool("latexmk")
    require_tool("pdflatex")
    picture = diagram.tikz(drawn(name)[2])
    (tmp_path / "figure.tex").write_text(
        "\\documentclass[11pt]{article}\\usepackage[T1]{fontenc}\\usepackage{lmodern}\\usepackage{tikz}\n"
        "\\usepackage[a4paper,margin=2.5cm]{geometry}\\begin{document}\n\\centering\n" + picture + "\n\\end{document}\n")
    result = subprocess.run([latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "figure.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = (tmp_path / "figure.log").read_text(encoding="latin-1")
    assert result.returncode == 0, log[-2000:]
    assert not re.search(r"Overfull|LaTeX Error", log)
