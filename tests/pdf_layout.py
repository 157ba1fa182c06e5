"""Reading a PDF's layout back, as a reader sees it: where its words are (``pdftotext -bbox``) and
where its ink is (``pdftoppm``), page by page.  The layout tests of the handout and the slides use it."""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy

from conftest import require_tool

POINTS_PER_INCH = 72


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    words: tuple[Word, ...]
    ink: numpy.ndarray  # True where the page is dark, one cell per pixel at ``dpi``
    dpi: int

    def ink_rows(self) -> numpy.ndarray:
        """The y (in points) of every pixel row with ink."""
        return numpy.nonzero(self.ink.any(axis=1))[0] * POINTS_PER_INCH / self.dpi

    def ink_outside(self, left: float, top: float, right: float, bottom: float) -> list[tuple[float, float]]:
        """The points (x, y) with ink outside the rectangle (in points, y from the top)."""
        scale = POINTS_PER_INCH / self.dpi
        ys, xs = numpy.nonzero(self.ink)
        x, y = xs * scale, ys * scale
        outside = (x < left) | (x > right) | (y < top) | (y > bottom)
        return list(zip(x[outside].tolist(), y[outside].tolist()))


def read_pages(pdf: bytes, dpi: int = 36) -> list[Page]:
    """Every page of the PDF: its words with their boxes and its ink, as ``pdftotext`` and ``pdftoppm`` see them."""
    pdftotext, pdftoppm = require_tool("pdftotext"), require_tool("pdftoppm")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "document.pdf"
        path.write_bytes(pdf)
        boxes = subprocess.run([pdftotext, "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
        subprocess.run([pdftoppm, "-gray", "-r", str(dpi), str(path), str(Path(directory) / "page")], check=True)
        images = sorted(Path(directory).glob("page-*.pgm"), key=lambda p: int(p.stem.split("-")[1]))
        inks = [_dark(_read_pgm(image)) for image in images]
    pages = []
    for (size, words), ink in zip(_pages_of(boxes), inks, strict=True):
        pages.append(Page(*size, words, ink, dpi))
    return pages


def _pages_of(boxes: str):
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', boxes, re.S):
        words = tuple(Word(html.unescape(text), *map(float, box)) for *box, text in re.findall(
            r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>', page.group(3)))
        yield (float(page.group(1)), float(page.group(2))), words


def _read_pgm(path: Path) -> numpy.ndarray:
    data = path.read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(header.group(1)), int(header.group(2))
    return numpy.frombuffer(data[header.end():header.end() + width * height], dtype=numpy.uint8).reshape(height, width)


def _dark(gray: numpy.ndarray) -> numpy.ndarray:
    return gray < 200


def first_band(words, top: bool, height: float = 12.0) -> list[Word]:
    """The words of the first (or last) line of text: those within ``height`` of the top-most (bottom-most) word."""
    if not words:
        return []
    if top:
        edge = min(w.y_min for w in words)
        return [w for w in words if w.y_min <= edge + height]
    edge = max(w.y_max for w in words)
    return [w for w in words if w.y_max >= edge - height]


def starts_with_equals(band: list[Word]) -> bool:
    """Whether a line is the continuation row of a chain: its left-most word is the equals sign."""
    return bool(band) and min(band, key=lambda w: w.x_min).text.startswith("=")
