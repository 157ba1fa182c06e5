"""The network diagram: one layout, printed as TikZ and as SVG.

The layout places the layers in columns from left to right (inputs, hidden
layers, outputs), each column centred.  Each weight is labelled on its
connection with its name and its value as the user wrote it; the inputs'
values stand to the left of the inputs and the targets to the right of the
outputs.  A bias shared by a layer is drawn as the source draws it: a node
1 below the gap before the layer, joined to each of its neurons (``net = … +
b_1 * 1``, as the document writes it), with the bias written under it; a
neuron's own bias is written under the neuron.

Labels are placed, never over each other or over a neuron.  Weight by
weight, a label takes the first place along its connection (near the
source first, where the connections of one neuron fan out) that is clear of
the labels placed before it and of the neurons: first where no other
connection runs under it, else where none crosses its middle and none
crosses its own connection under it (the label has a white background, so
such a crossing would be hidden).  When that fails, roomier grids are tried
(``ROOMY``); when they all fail (wide layers: the source's 2-2-2 and a
2-3-2-2 network are labelled, a 3-4-1 one is not), the figure shows only the
neurons and their connections, the columns shrink to fit the page, and the
weights and biases are left to the document's tables.  The SVG names every
connection and neuron in a tooltip (``<title>``) either way.

Lengths are in centimetres, y upwards, as in TikZ; the SVG printer scales and
flips them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from ..maths.network import Network, Neuron
from .svg import MathText, attribute, document, number, plain_number, title

GAP = 4.0  # between two columns
SPACING = 2.2  # between two neurons of a column, when there is room
# Grids (gap, spacing) tried in turn until every label fits.
ROOMY = ((GAP, SPACING), (5.0, 2.6), (6.0, 3.0))
MAX_COLUMN = 13.0  # the tallest column, from its first centre to its last
RADIUS = 0.42
NAME_RADIUS = 0.3  # below this a neuron's name does not fit inside it
BIAS_RADIUS = 0.24
BIAS_AT = 0.5  # where the bias node stands in the gap before its layer
# Where a label may sit along its connection, in order of preference: near
# the source, where the connections of one neuron fan out, else further on.
FRACTIONS = (0.3, 0.25, 0.35, 0.2, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75)
MIDDLE = 0.5  # the part of a label no other connection may cross
EM = 0.3175  # cm: the labels' font, 9 pt (TikZ \footnotesize in an 11 pt document)
LABEL_HEIGHT = 1.15 * EM
PAD = 0.06  # white space kept around a label
SVG_SCALE = 40.0  # px per cm
SVG_FONT = 12.5  # px, ≈ 9 pt at SVG_SCALE
FILL = {"input": "#dbe9f6", "hidden": "#d8f0d2", "output": "#fde0c5", "bias": "#eeeeee"}


@dataclass(frozen=True)
class Node:
    """A circle: a neuron, or the constant 1 of a layer's bias."""

    key: str  # the neuron's name (h1), or for the constant 1 the key of the shared bias it carries (b1)
    kind: str  # input, hidden, output or bias
    x: float
    y: float
    r: float
    text: MathText | None  # written inside, when it fits
    tooltip: str


@dataclass(frozen=True)
class Edge:
    """A connection, drawn between the borders of its two circles."""

    key: str  # the weight's key (w5), or the bias's (b1)
    x1: float
    y1: float
    x2: float
    y2: float
    tooltip: str

    def at(self, t: float) -> tuple[float, float]:
        return self.x1 + t * (self.x2 - self.x1), self.y1 + t * (self.y2 - self.y1)


@dataclass(frozen=True)
class Label:
    """Text at (x, y): centred, or ``west`` (starting there) or ``east`` (ending there)."""

    key: str
    text: MathText
    x: float
    y: float
    anchor: str = "center"

    @cached_property
    def width(self) -> float:
        return self.text.width() * EM + 2 * PAD

    def box(self) -> tuple[float, float, float, float]:
        left = {"center": self.x - self.width / 2, "west": self.x, "east": self.x - self.width}[self.anchor]
        half = LABEL_HEIGHT / 2 + PAD
        return left, self.y - half, left + self.width, self.y + half


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    labels: tuple[Label, ...]
    weights_labelled: bool  # False: the weights are left to the document's tables
    box: tuple[float, float, float, float]  # left, bottom, right, top

    @property
    def large(self) -> bool:
        return not self.weights_labelled


# --- the layout ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    gap: float  # between two columns
    spacing: float  # between two neurons of a column
    radius: float


def layout(network: Network, shown: Mapping[str, str]) -> Diagram:
    """The diagram of ``network``; ``shown`` gives each parameter's value as printed (w5 → 0.40).

    The first of the ``ROOMY`` grids on which every label fits; else the
    compact one, without weight labels.
    """
    for gap, spacing in ROOMY:
        diagram = _labelled(network, shown, _grid(network, gap, spacing))
        if diagram is not None:
            return diagram
    return _unlabelled(network, shown, _grid(network, GAP, SPACING))


def _grid(network: Network, gap: float, spacing: float) -> _Grid:
    spacing = min(spacing, MAX_COLUMN / max(max(network.spec.layers) - 1, 1))
    return _Grid(gap, spacing, min(RADIUS, 0.36 * spacing))


def _labelled(network: Network, shown, grid: _Grid) -> Diagram | None:
    centres = _centres(network, grid)
    nodes = [_neuron_node(n, *centres[n], grid.radius, network, shown) for layer in network.layers for n in layer]
    bias_nodes = _bias_nodes(network, centres, grid)
    nodes += bias_nodes.values()
    edges = [_weight_edge(w, centres, grid.radius, shown) for w in network.weights]
    edges += _bias_edges(network, centres, bias_nodes, grid.radius, shown)
    fixed = _data_labels(network, centres, grid, shown) + _bias_labels(network, centres, bias_nodes, grid, shown)
    if not all(_clear_middle(label, fixed[:i], nodes, edges) for i, label in enumerate(fixed)):
        return None
    weight_labels = _weight_labels(network, edges, nodes, fixed, shown)
    if weight_labels is None:
        return None
    labels = tuple(fixed + weight_labels)
    return Diagram(tuple(nodes), tuple(edges), labels, True, _bounding_box(nodes, labels))


def _unlabelled(network: Network, shown, grid: _Grid) -> Diagram:
    """Neurons and weights only; the names of each column's ends when they do not fit inside."""
    centres = _centres(network, grid)
    nodes = [_neuron_node(n, *centres[n], grid.radius, network, shown) for layer in network.layers for n in layer]
    edges = [_weight_edge(w, centres, grid.radius, shown) for w in network.weights]
    labels = _data_labels(network, centres, grid, shown)
    if grid.radius < NAME_RADIUS:
        labels += _column_ends(network, centres, grid.radius)
    return Diagram(tuple(nodes), tuple(edges), tuple(labels), False, _bounding_box(nodes, labels))


def _centres(network: Network, grid: _Grid) -> dict[Neuron, tuple[float, float]]:
    centres = {}
    for l, layer in enumerate(network.layers):
        top = (len(layer) - 1) * grid.spacing / 2
        for n in layer:
            centres[n] = (l * grid.gap, top - n.index * grid.spacing)
    return centres


def _name(name: str) -> MathText:
    """A neuron's or a bias's name as the document prints it: ``h2_1`` → h with subscript ``2,1``."""
    return MathText(name[0], name[1:].replace("_", ","))


def _neuron_node(n: Neuron, x: float, y: float, r: float, network: Network, shown) -> Node:
    kind = "input" if n.layer == 0 else "output" if n in network.outputs else "hidden"
    text = _name(n.name) if r >= NAME_RADIUS else None
    if n.layer == 0:
        # With several samples an input has no one value: its name alone.
        tooltip = f"{n.name} = {plain_number(shown[n.out_key])}" if n.out_key in shown else n.name
    else:
        bias = network.bias(n)
        tooltip = f"{n.name}, bias {bias.key} = {plain_number(shown[bias.key])}"
        if kind == "output" and f"target_{n.name}" in shown:
            tooltip += f", target {plain_number(shown['target_' + n.name])}"
    return Node(n.name, kind, x, y, r, text, tooltip)


def _shared(network: Network, layer: int) -> bool:
    """Whether one bias serves the whole layer: drawn as the source does, a node 1 joined to the layer."""
    return network.spec.shared_biases[layer - 1]


def _bias_nodes(network: Network, centres, grid: _Grid) -> dict[int, Node]:
    """For each layer with a shared bias, the constant 1 it multiplies, below the gap before the layer."""
    nodes = {}
    for b in network.biases:
        if _shared(network, b.layer):
            bottom = min(centres[n][1] for n in (*network.layers[b.layer - 1], *network.layers[b.layer]))
            x = (b.layer - 1 + BIAS_AT) * grid.gap
            y = bottom - max(0.8 * grid.spacing, 1.0)
            nodes[b.layer] = Node(b.key, "bias", x, y, BIAS_RADIUS, MathText(rest="1"), f"1, multiplied by {b.key}")
    return nodes


def _between(x1, y1, r1, x2, y2, r2) -> tuple[float, float, float, float]:
    """The segment joining two circles, from border to border."""
    dx, dy = x2 - x1, y2 - y1
    length = (dx * dx + dy * dy) ** 0.5
    ux, uy = dx / length, dy / length
    return x1 + ux * r1, y1 + uy * r1, x2 - ux * r2, y2 - uy * r2


def _weight_edge(w, centres, radius: float, shown) -> Edge:
    (x1, y1), (x2, y2) = centres[w.source], centres[w.target]
    tooltip = f"{w.key} = {plain_number(shown[w.key])} ({w.source.name} → {w.target.name})"
    return Edge(w.key, *_between(x1, y1, radius, x2, y2, radius), tooltip)


def _bias_edges(network: Network, centres, bias_nodes, radius: float, shown) -> list[Edge]:
    edges = []
    for b in network.biases:
        if b.layer in bias_nodes:
            node = bias_nodes[b.layer]
            for n in b.neurons:
                x, y = centres[n]
                tooltip = f"{b.key} = {plain_number(shown[b.key])} (bias of {n.name})"
                edges.append(Edge(b.key, *_between(node.x, node.y, node.r, x, y, radius), tooltip))
    return edges


def _data_labels(network: Network, centres, grid: _Grid, shown) -> list[Label]:
    """The inputs' values to their left, the targets to the right of the outputs, while they fit.

    With several samples there is no one value to write: the samples' table says them.
    """
    if grid.spacing < LABEL_HEIGHT + 2 * PAD or len(network.spec.samples) > 1:
        return []
    labels = []
    for n in network.inputs:
        x, y = centres[n]
        labels.append(Label(n.name, MathText(rest=shown[n.out_key]), x - grid.radius - 0.12, y, "east"))
    for n in network.outputs:
        x, y = centres[n]
        text = MathText("target", n.name, f" = {shown['target_' + n.name]}")
        labels.append(Label("target_" + n.name, text, x + grid.radius + 0.12, y, "west"))
    return labels


def _bias_labels(network: Network, centres, bias_nodes, grid: _Grid, shown) -> list[Label]:
    """A shared bias under its node; a neuron's own bias under the neuron."""
    labels = []
    below = 0.1 + LABEL_HEIGHT / 2 + PAD
    for b in network.biases:
        text = _bias_text(b.key, shown)
        if b.layer in bias_nodes:
            node = bias_nodes[b.layer]
            labels.append(Label(b.key, text, node.x, node.y - node.r - below))
        else:
            x, y = centres[b.neurons[0]]
            labels.append(Label(b.key, text, x, y - grid.radius - below))
    return labels


def _bias_text(key: str, shown) -> MathText:
    name = _name(key)
    return MathText(name.symbol, name.subscript, f" = {shown[key]}")


def _weight_labels(network: Network, edges, nodes, fixed, shown) -> list[Label] | None:
    """Labels on every weight's connection, or None when they cannot all fit.

    Each label takes the first place along its connection that is clear of
    the labels placed before it and of the neurons: first where no other
    connection runs under it, then where none runs through its middle.
    """
    placed = list(fixed)
    labels = []
    for edge in (e for e in edges if e.key.startswith("w")):
        others = [e for e in edges if e is not edge]
        label = next((label for clear in (_clear, _clear_middle) for fraction in FRACTIONS
                      if clear(label := _edge_label(edge, fraction, shown), placed, nodes, others, edge)), None)
        if label is None:
            return None
        labels.append(label)
        placed.append(label)
    return labels


def _edge_label(edge: Edge, fraction: float, shown) -> Label:
    return Label(edge.key, MathText("w", edge.key[1:], f" = {shown[edge.key]}"), *edge.at(fraction))


def _clear_middle(label: Label, placed, nodes, others, own: Edge | None = None) -> bool:
    """Clear of labels and neurons; another connection may cross an end of it, hidden by its white
    background, but not its middle, nor its own connection under it (which way would each go on?)."""
    box = label.box()
    if any(_boxes_meet(box, other.box()) for other in placed) or any(_circle_meets_box(n, box) for n in nodes):
        return False
    left, bottom, right, top = box
    middle = (label.x - MIDDLE * (right - left) / 2, bottom, label.x + MIDDLE * (right - left) / 2, top)
    if any(_segment_meets_box(e, middle) for e in others):
        return False
    return own is None or not any(_inside(_crossing(own, e), box) for e in others)


def _clear(label: Label, placed, nodes, others, own: Edge | None = None) -> bool:
    """Clear of labels, neurons and every other connection."""
    return _clear_middle(label, placed, nodes, others) and not any(_segment_meets_box(e, label.box()) for e in others)


def _crossing(a: Edge, b: Edge) -> tuple[float, float] | None:
    """Where two connections cross, if they do."""
    dax, day, dbx, dby = a.x2 - a.x1, a.y2 - a.y1, b.x2 - b.x1, b.y2 - b.y1
    denominator = dax * dby - day * dbx
    if denominator == 0:
        return None
    t = ((b.x1 - a.x1) * dby - (b.y1 - a.y1) * dbx) / denominator
    u = ((b.x1 - a.x1) * day - (b.y1 - a.y1) * dax) / denominator
    return a.at(t) if 0 <= t <= 1 and 0 <= u <= 1 else None


def _inside(point: tuple[float, float] | None, box) -> bool:
    return point is not None and box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _boxes_meet(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _circle_meets_box(node: Node, box) -> bool:
    nearest_x = min(max(node.x, box[0]), box[2])
    nearest_y = min(max(node.y, box[1]), box[3])
    return (node.x - nearest_x) ** 2 + (node.y - nearest_y) ** 2 < node.r**2


def _segment_meets_box(edge: Edge, box) -> bool:
    """Whether the segment passes through the box (Liang–Barsky clipping)."""
    dx, dy = edge.x2 - edge.x1, edge.y2 - edge.y1
    low, high = 0.0, 1.0
    for p, q in ((-dx, edge.x1 - box[0]), (dx, box[2] - edge.x1), (-dy, edge.y1 - box[1]), (dy, box[3] - edge.y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def _column_ends(network: Network, centres, radius: float) -> list[Label]:
    """The names of each column's first and last neurons, above and below it, when names do not fit inside."""
    labels = []
    for layer in network.layers:
        for n, side in ((layer[0], 1), (layer[-1], -1))[: min(len(layer), 2)]:
            x, y = centres[n]
            labels.append(Label(n.name, _name(n.name), x, y + side * (radius + 0.1 + LABEL_HEIGHT / 2)))
    return labels


def _bounding_box(nodes, labels) -> tuple[float, float, float, float]:
    xs = [n.x - n.r for n in nodes] + [n.x + n.r for n in nodes]
    ys = [n.y - n.r for n in nodes] + [n.y + n.r for n in nodes]
    for label in labels:
        left, bottom, right, top = label.box()
        xs += [left, right]
        ys += [bottom, top]
    return min(xs), min(ys), max(xs), max(ys)


# --- TikZ -------------------------------------------------------------------------------


def tikz(diagram: Diagram) -> str:
    """A ``tikzpicture`` (needs ``\\usepackage{tikz}``)."""
    line = "line width=0.2pt, draw=black!45" if diagram.large else "line width=0.5pt, draw=black!60"
    lines = ["\\begin{tikzpicture}[font=\\footnotesize]"]
    for e in diagram.edges:
        lines.append(f"\\draw[{line}] ({_cm(e.x1)},{_cm(e.y1)}) -- ({_cm(e.x2)},{_cm(e.y2)});")
    for n in diagram.nodes:
        fill = "{rgb,255:red,%d;green,%d;blue,%d}" % _rgb(FILL[n.kind])
        lines.append(f"\\filldraw[fill={fill}, draw=black!70, line width=0.5pt] ({_cm(n.x)},{_cm(n.y)}) circle[radius={_cm(n.r)}];")
        if n.text is not None:
            lines.append(f"\\node[inner sep=0pt] at ({_cm(n.x)},{_cm(n.y)}) {{{n.text.tex()}}};")
    for label in diagram.labels:
        anchor = {"center": "", "west": ", anchor=west", "east": ", anchor=east"}[label.anchor]
        fill = ", fill=white" if _on_a_line(label) else ""
        lines.append(f"\\node[inner sep=1pt{fill}{anchor}] at ({_cm(label.x)},{_cm(label.y)}) {{{label.text.tex()}}};")
    lines.append("\\end{tikzpicture}")
    return "\n".join(lines)


def _cm(value: float) -> str:
    return number(value)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


# --- SVG ---------------------------------------------------------------------------------


def svg(diagram: Diagram, description: str) -> str:
    """A standalone SVG file; ``description`` is its accessible title (the figure's caption)."""
    left, bottom, right, top = diagram.box
    margin = 0.3

    def px(x: float) -> str:
        return number((x - left + margin) * SVG_SCALE)

    def py(y: float) -> str:
        return number((top - y + margin) * SVG_SCALE)

    stroke = ('class="ex-faint" stroke="#8c8c8c" stroke-width="0.5"' if diagram.large
              else 'class="ex-line" stroke="#666666" stroke-width="1.1"')
    body = [f"<g {stroke}>"]
    for e in diagram.edges:
        body.append(f'<line x1="{px(e.x1)}" y1="{py(e.y1)}" x2="{px(e.x2)}" y2="{py(e.y2)}">{title(e.tooltip)}</line>')
    body.append("</g>")
    body.append('<g class="ex-node" stroke="#4d4d4d" stroke-width="1.1">')
    for n in diagram.nodes:
        r = number(n.r * SVG_SCALE)
        body.append(f'<circle class="ex-{n.kind}" cx="{px(n.x)}" cy="{py(n.y)}" r="{r}" fill="{FILL[n.kind]}">{title(n.tooltip)}</circle>')
    body.append("</g>")
    body.append(f'<g class="ex-ink" font-size="{number(SVG_FONT)}" text-anchor="middle">')
    for n in diagram.nodes:
        if n.text is not None:
            body.append(_svg_text(n.text, px(n.x), py(n.y), "middle"))
    for label in diagram.labels:
        if _on_a_line(label):
            x0, y0, x1, y1 = label.box()
            w, h = number((x1 - x0) * SVG_SCALE), number((y1 - y0) * SVG_SCALE)
            body.append(f'<rect class="ex-paper" x="{px(x0)}" y="{py(y1)}" width="{w}" height="{h}" fill="#ffffff"/>')
        anchor = {"center": "middle", "west": "start", "east": "end"}[label.anchor]
        body.append(_svg_text(label.text, px(label.x), py(label.y), anchor))
    body.append("</g>")
    width = (right - left + 2 * margin) * SVG_SCALE
    height = (top - bottom + 2 * margin) * SVG_SCALE
    return document(width, height, body, description)


def _on_a_line(label: Label) -> bool:
    """Weight and bias labels sit on connections, on a white background that interrupts them."""
    return label.key.startswith(("w", "b"))


def _svg_text(text: MathText, x: str, y: str, anchor: str) -> str:
    # dy centres the text on y without dominant-baseline, which not every renderer honours.
    anchor_attribute = "" if anchor == "middle" else f" text-anchor={attribute(anchor)}"
    return f'<text x="{x}" y="{y}" dy="0.35em"{anchor_attribute}>{text.svg(SVG_FONT)}</text>'

