"""The loss curve: E_total over the rounds of training, as pgfplots and as SVG.

The training loop records the error after a few hundred rounds (every round
for short runs, rounds spaced evenly in log k for long ones: see
``numeric.history_rounds``).  An axis is logarithmic where that helps: the
rounds when there are more than a few hundred of them, the error when it
spans more than a factor of ten.  The error after one round and after the
last round are marked and labelled with the values the document prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .svg import (
    MathText,
    attribute,
    document,
    escape,
    number,
    plain_number,
    superscript,
)

LOG_ROUNDS_FROM = 200  # more rounds than this: a logarithmic axis of rounds
LOG_ERROR_RATIO = 10.0  # the error spans more than this factor: a logarithmic axis of errors

WIDTH, HEIGHT = 600.0, 340.0  # px, the SVG
LEFT, RIGHT, TOP, BOTTOM = 74.0, 22.0, 14.0, 52.0  # px around the plot area
FONT = 13.0
TICK_FONT = 12.0


@dataclass(frozen=True)
class Mark:
    """A marked point: ``words`` (such as "after one round") and the value as the document prints it."""

    round: int
    error: float
    words: str
    shown: str

    def tex(self) -> str:
        return f"{self.words}: ${self.shown}$"

    def plain(self) -> str:
        return f"{self.words}: {plain_number(self.shown)}"


@dataclass(frozen=True)
class Curve:
    points: tuple[tuple[int, float], ...]
    first: Mark
    last: Mark
    x_log: bool
    y_log: bool

    @property
    def falling(self) -> bool:
        return self.last.error <= self.first.error


def curve(history, first: Mark, last: Mark) -> Curve:
    """The curve of ``history`` ((round, error) pairs, rounds from 1), with its two marks."""
    points = tuple((k, e) for k, e in history if math.isfinite(e))
    errors = [e for _, e in points]
    x_log = points[-1][0] > LOG_ROUNDS_FROM
    y_log = min(errors) > 0 and max(errors) / min(errors) > LOG_ERROR_RATIO
    return Curve(points, first, last, x_log, y_log)


# --- pgfplots -------------------------------------------------------------------------


def pgfplots(c: Curve, x_label: str) -> str:
    """A ``tikzpicture`` with one pgfplots axis, as wide as the line (needs ``\\usepackage{pgfplots}``)."""
    options = [
        "width=\\linewidth", "height=0.5\\linewidth", "scale only axis=false",
        f"xmin={c.points[0][0]}", f"xmax={c.points[-1][0]}",
        f"xlabel={{{x_label}}}", "ylabel={$E_{total}$}",
        "grid=major", "grid style={black!12}", "axis line style={black!60}",
        "tick label style={font=\\footnotesize}", "label style={font=\\small}",
        "enlarge y limits=0.08", "clip=false",
    ]
    if c.x_log:
        # Rounds read better as 1, 10, 100, 1,000 than as powers of ten.
        ticks = _ticks(c.points[0][0], c.points[-1][0], log=True, whole=True)
        labels = ",".join(f"{{{_tick_label(t, log=True, whole=True)}}}" for t in ticks)
        options += ["xmode=log", "log basis x=10", f"xtick={{{','.join(str(round(t)) for t in ticks)}}}",
                    f"xticklabels={{{labels}}}"]
    else:
        options += ["scaled x ticks=false", "xticklabel style={/pgf/number format/1000 sep={,}}"]
    if c.y_log:
        options += ["ymode=log", "log basis y=10"]
    else:
        options += ["scaled y ticks=false", "yticklabel style={/pgf/number format/fixed}"]
    coordinates = " ".join(f"({k},{_coordinate(e)})" for k, e in c.points)
    first_anchor = "north west" if c.falling else "south west"
    shift = "yshift=-7pt" if c.falling else "yshift=7pt"
    lines = [
        "\\begin{tikzpicture}",
        "\\begin{axis}[" + ", ".join(options) + "]",
        f"\\addplot[line width=1pt, color=black!75] coordinates {{{coordinates}}};",
        f"\\addplot[only marks, mark=*, mark size=2pt, color=black] coordinates {{({c.first.round},{_coordinate(c.first.error)}) ({c.last.round},{_coordinate(c.last.error)})}};",
        f"\\node[anchor={first_anchor}, {shift}, font=\\footnotesize, inner sep=2pt] at (axis cs:{c.first.round},{_coordinate(c.first.error)}) {{{c.first.tex()}}};",
        f"\\node[anchor=east, xshift=-5pt, font=\\footnotesize, inner sep=2pt] at (axis cs:{c.last.round},{_coordinate(c.last.error)}) {{{c.last.tex()}}};",
        "\\end{axis}",
        "\\end{tikzpicture}",
    ]
    return "\n".join(lines)


def _coordinate(value: float) -> str:
    """Nine significant digits: far finer than the plot, and the same text on every machine."""
    return f"{value:.9g}"


# --- SVG ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    low: float
    high: float
    log: bool
    start: float  # px of low
    end: float  # px of high

    def __call__(self, value: float) -> float:
        if self.log:
            value, low, high = math.log10(value), math.log10(self.low), math.log10(self.high)
        else:
            low, high = self.low, self.high
        share = (value - low) / (high - low) if high > low else 0.5
        return self.start + share * (self.end - self.start)


def svg(c: Curve, x_label: str, description: str) -> str:
    """A standalone SVG file of the curve; ``description`` is its accessible title (the figure's caption)."""
    rounds = [k for k, _ in c.points]
    errors = [e for _, e in c.points]
    x = _Axis(*_range(min(rounds), max(rounds), c.x_log, whole=True), c.x_log, LEFT, WIDTH - RIGHT)
    y = _Axis(*_range(min(errors), max(errors), c.y_log, whole=False), c.y_log, HEIGHT - BOTTOM, TOP)
    body = [f'<g class="ex-ink" font-size="{number(TICK_FONT)}" fill="#333333">']
    for tick in _ticks(x.low, x.high, c.x_log, whole=True):
        px = number(x(tick))
        body.append(f'<line x1="{px}" y1="{number(TOP)}" x2="{px}" y2="{number(HEIGHT - BOTTOM)}" class="ex-grid" stroke="#e6e6e6"/>')
        body.append(f'<text x="{px}" y="{number(HEIGHT - BOTTOM + 17)}" text-anchor="middle">{escape(_tick_label(tick, c.x_log, True))}</text>')
    for tick in _ticks(y.low, y.high, c.y_log, whole=False):
        py = number(y(tick))
        body.append(f'<line x1="{number(LEFT)}" y1="{py}" x2="{number(WIDTH - RIGHT)}" y2="{py}" class="ex-grid" stroke="#e6e6e6"/>')
        body.append(f'<text x="{number(LEFT - 7)}" y="{py}" dy="0.35em" text-anchor="end">{escape(_tick_label(tick, c.y_log, False))}</text>')
    body.append("</g>")
    frame = f"M{number(LEFT)},{number(TOP)} V{number(HEIGHT - BOTTOM)} H{number(WIDTH - RIGHT)}"
    body.append(f'<path class="ex-faint" d="{frame}" fill="none" stroke="#999999"/>')
    curve = [(x(k), y(e)) for k, e in c.points]
    path = " ".join(f"{'M' if i == 0 else 'L'}{number(px)},{number(py)}" for i, (px, py) in enumerate(curve))
    body.append(f'<path class="ex-curve" d="{path}" fill="none" stroke="#404040" stroke-width="1.6" stroke-linejoin="round"/>')
    body += _svg_mark(c.first, x, y, "start", 1 if c.falling else -1, curve)
    body += _svg_mark(c.last, x, y, "end", 0, curve)
    centre = number((LEFT + WIDTH - RIGHT) / 2)
    body.append(f'<text class="ex-ink" x="{centre}" y="{number(HEIGHT - 12)}" text-anchor="middle" font-size="{number(FONT)}">{escape(x_label)}</text>')
    middle = number((TOP + HEIGHT - BOTTOM) / 2)
    label = MathText("E", "total").svg(FONT)
    body.append(f'<text class="ex-ink" x="16" y="{middle}" font-size="{number(FONT)}" text-anchor="middle" transform="rotate(-90 16 {middle})">{label}</text>')
    return document(WIDTH, HEIGHT, body, description)


def _svg_mark(mark: Mark, x: _Axis, y: _Axis, anchor: str, below: int, curve: list[tuple[float, float]]) -> list[str]:
    """A dot, and the label beside it, at the first place near the dot where the
    label's box keeps off the curve and inside the figure: below-right of the first
    point of a falling curve (above-right of a rising one), left of the last, else
    further above or below."""
    px, py = x(mark.round), y(mark.error)
    text = mark.plain()
    width = MathText(rest=text).width() * TICK_FONT
    dx = 6 if anchor == "start" else -8
    near = [below * 17] if below else [0]
    rows = near + [sign * 17 * step for step in range(1, 12) for sign in ((below or 1), -(below or 1))]
    # Further along the curve's own side too: a label may move sideways as well as up and down.
    candidates = [(px + dx + shift, py + row) for shift in (0, 40 if anchor == "start" else -40) for row in rows]
    tx, ty = next((c for c in candidates if _fits(_label_box(c, anchor, width), curve)), candidates[0])
    return [
        f'<circle class="ex-ink" cx="{number(px)}" cy="{number(py)}" r="3.2" fill="#000000"/>',
        f'<text class="ex-halo" x="{number(tx)}" y="{number(ty)}" dy="0.35em" text-anchor={attribute(anchor)} font-size="{number(TICK_FONT)}" '
        f'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">{escape(text)}</text>',
    ]


def _label_box(at: tuple[float, float], anchor: str, width: float) -> tuple[float, float, float, float]:
    """The box a label of ``width`` px takes, its text centred on ``at``'s height (dy 0.35em)."""
    tx, ty = at
    x0 = tx if anchor == "start" else tx - width
    return x0 - 2, ty - 0.55 * TICK_FONT, x0 + width + 2, ty + 0.55 * TICK_FONT


def label_crosses(box: tuple[float, float, float, float], curve: list[tuple[float, float]]) -> bool:
    """Whether a polyline (px) passes through a box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    for (ax, ay), (bx, by) in zip(curve, curve[1:]):
        if max(ax, bx) < x0 or min(ax, bx) > x1 or max(ay, by) < y0 or min(ay, by) > y1:
            continue
        steps = max(2, int(abs(bx - ax) + abs(by - ay)))
        if any(x0 <= ax + (bx - ax) * i / steps <= x1 and y0 <= ay + (by - ay) * i / steps <= y1 for i in range(steps + 1)):
            return True
    return False


def _fits(box: tuple[float, float, float, float], curve: list[tuple[float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return x0 >= 0 and x1 <= WIDTH and y0 >= 0 and y1 <= HEIGHT - BOTTOM and not label_crosses(box, curve)


def _range(low: float, high: float, log: bool, whole: bool) -> tuple[float, float]:
    """The axis's range: the data's rounds exactly; errors out to whole powers of ten, or padded a little."""
    if whole:
        return low, high
    if log:
        return 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high))
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    return max(low - pad, 0.0) if low >= 0 else low - pad, high + pad


def _ticks(low: float, high: float, log: bool, whole: bool) -> list[float]:
    if log:
        return [10.0**e for e in range(math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9) + 1)]
    step = _nice_step((high - low) / 5)
    if whole:
        step = max(step, 1.0)
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _nice_step(rough: float) -> float:
    if rough <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)


def _tick_label(value: float, log: bool, whole: bool) -> str:
    if log and whole:
        return f"{round(value):,}"
    if log:
        exponent = round(math.log10(value))
        return "1" if exponent == 0 else "10" + superscript(str(exponent))
    if whole:
        return f"{round(value):,}"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return plain_number("0" if text in ("-0", "") else text)

