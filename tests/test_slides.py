"""Beamer slides: the document's words in frames, each chain revealed one side at a time, no frame overflowing."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

import explainer
from explainer.outputs import pdf
from explainer.outputs.slides import render_slides
from conftest import ROOT, require_tool, run_cli

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def frames_of(tex: str) -> list[str]:
    return re.findall(r"\\begin\{frame\}(.*?)\\end\{frame\}", tex, re.S)


def test_the_frames_of_the_default_example(default_derivation):
    tex = render_slides(default_derivation)
    assert tex.startswith("\\documentclass[aspectratio=169,11pt]{beamer}")
    frames = frames_of(tex)
    assert "\\titlepage" in frames[0]
    assert frames[1].startswith("[t]{The Network}") and "\\begin{tikzpicture}" in frames[1]
    assert "w_{5} = 0.40" in frames[1]  # the diagram with its weights
    # One frame per step, titled by its section; every chain revealed one equals sign at a time.
    net_h1 = next(f for f in frames if "net_{h1} &=" in f)
    assert net_h1.startswith("[t]{The Forward Pass}")
    assert "The total net input of $h_1$ is the weighted sum of its inputs plus its bias:" in net_h1
    assert ("net_{h1} &= w_1 * i_1 + w_2 * i_2 + b_1 * 1 \\\\\n\\pause &= 0.15 * 0.05 + 0.20 * 0.10 + 0.35 * 1 \\\\\n"
            "\\pause &= 0.3775") in net_h1
    assert any(f.startswith("[t]{The Backwards Pass: Output Layer}") for f in frames)
    last = frames[-1]
    assert "\\begin{axis}" in last and "after 10,000 rounds" in last  # the loss curve, marked
    assert "\\footnote{" not in tex  # the errata are the handout's


def test_the_words_are_the_documents(default_derivation):
    """Every sentence of the slides is one of the document's (the words live once, in document.j2)."""
    document = default_derivation.to_latex()
    slides = render_slides(default_derivation)
    body = slides[slides.index("\\titlepage"):]
    sentences = [line for line in body.splitlines() if line and line[0].isupper() and line.endswith((".", ":"))]
    assert len(sentences) > 30
    for sentence in sentences:
        assert sentence in document, sentence


def test_a_derivation_writes_its_own_slides(default_derivation):
    assert default_derivation.to_beamer(aspect="4:3") == render_slides(default_derivation, "4:3")


def test_aspect_and_detail(default_derivation):
    assert render_slides(default_derivation, aspect="4:3").startswith("\\documentclass[aspectratio=43,11pt]{beamer}")
    full = render_slides(default_derivation, detail="full")
    assert len(frames_of(full)) > len(frames_of(render_slides(default_derivation)))
    with pytest.raises(ValueError, match="aspect"):
        render_slides(default_derivation, aspect="21:9")


def test_a_long_display_goes_on_over_several_frames():
    tex = render_slides(explainer.derive(str(ROOT / "examples" / "softmax-classifier.toml")))
    for frame in frames_of(tex):
        for display in re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", frame, re.S):
            assert display.count("\\\\") < 6


@pytest.fixture(scope="module")
def compiled_slides():
    require_tool("latexmk")
    require_tool("pdflatex")
    texts = {path.stem: render_slides(explainer.derive(str(path))) for path in EXAMPLES}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(texts, pool.map(pdf.compile_pdf, texts.values()))), texts


@pytest.mark.parametrize("name", [path.stem for path in EXAMPLES])
def test_no_frame_of_any_example_overflows(compiled_slides, name):
    (document, report), tex = compiled_slides[0][name], compiled_slides[1][name]
    assert document.startswith(b"%PDF")
    assert not report.problems(), report.problems()[:3]
    assert not [line for line in report.underfull if "hbox" in line]


def test_each_pause_is_a_page(compiled_slides, tmp_path):
    (document, _), tex = compiled_slides[0]["backpropagation-example"], compiled_slides[1]["backpropagation-example"]
    (tmp_path / "slides.pdf").write_bytes(document)
    info = subprocess.run([require_tool("pdfinfo"), "slides.pdf"], cwd=tmp_path, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages == sum(1 + frame.count("\\pause") for frame in frames_of(tex))
    assert "453.543 x 255.118 pts" in info  # 16:9 (16 cm x 9 cm)


def test_committed_slides_are_what_the_code_renders(default_derivation):
    committed = (ROOT / "output" / "backpropagation-example-slides.tex").read_text(encoding="utf-8")
    assert render_slides(default_derivation) == committed, "output/ is stale: run `explainer render --format beamer`"


def test_the_slides_pdf_is_the_same_bytes_every_time(tmp_path):
    require_tool("latexmk")
    result = run_cli("render", "--format", "slides", cwd=tmp_path, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout == "output/backpropagation-example-slides.pdf\n"
    built = (tmp_path / "output" / "backpropagation-example-slides.pdf").read_bytes()
    assert built == (ROOT / "output" / "backpropagation-example-slides.pdf").read_bytes()
