"""reveal.js slides: the Beamer slides' frames and pauses in one HTML file that needs
no network, stepped through fragment by fragment in headless Chromium."""

from __future__ import annotations

import re
from functools import cache

import pytest

import explainer
from browser import Browser, contrast, file_url, raw_tex
from conftest import ROOT, as_words, run_cli, shipped_and_other_specs
from explainer.outputs.revealjs import render_revealjs
from explainer.outputs.slides import render_slides
from explainer.spec.reading import load_spec, with_notation

EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("*.toml"))
CASES = ["default", *EXAMPLES]


@cache
def derivation(name: str):
    return explainer.derive(None if name == "default" else ROOT / "examples" / f"{name}.toml")


@cache
def beamer_frames(name: str, detail: str = "source") -> list[str]:
    tex = render_slides(derivation(name), detail=detail)
    return re.findall(r"\\begin\{frame\}(.*?)\\end\{frame\}", tex, re.S)


# Math in the Beamer frames, figures taken out (their labels are not MathML on the page).
_FIGURE = re.compile(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", re.S)
_MATH = re.compile(r"\\begin\{align\*\}(.*?)\\end\{align\*\}|\\\[(.*?)\\\]|(?<!\\)\$(.*?)(?<!\\)\$", re.S)
_PLAIN_NUMBER = re.compile(r"-?[\d.,]+")


def normalized(tex: str) -> str:
    tex = re.sub(r"\\begin\{aligned\}|\\end\{aligned\}|\\pause |\\phantom\{=\}", "", tex)
    return re.sub(r"\s+", " ", tex).strip()


def beamer_formulas(name: str, detail: str = "source") -> list[str]:
    """Every formula of the Beamer slides in order, except a bare number (which the HTML writes as text)."""
    found = []
    for frame in beamer_frames(name, detail):
        for match in _MATH.finditer(_FIGURE.sub("", frame)):
            tex = normalized(next(group for group in match.groups() if group is not None))
            if not _PLAIN_NUMBER.fullmatch(tex):
                found.append(tex)
    return found


@cache
def slides(name: str, detail: str = "source", aspect: str = "16:9") -> str:
    return render_revealjs(derivation(name), aspect, detail=detail)


@pytest.fixture(scope="module")
def browser():
    chromium = Browser()
    yield chromium
    chromium.close()


# Every slide from the first, every fragment of each: what each step shows, and whether each slide fits.
_STEP_THROUGH = """(() => {
  const {width, height} = Reveal.getConfig();
  Reveal.slide(0, 0, -1);
  const slides = Reveal.getSlides().map(() => ({steps: 0, fits: true, size: null, wrong: []}));
  for (let guard = 0; guard < 100000; guard++) {
    const {h, f} = Reveal.getIndices();
    const slide = Reveal.getCurrentSlide();
    const record = slides[h];
    document.getAnimations().forEach((animation) => animation.finish());  // the fade-in, at its end
    if (f !== undefined && f >= 0) record.steps = Math.max(record.steps, f + 1);
    // What is shown is what reveal.js says it shows: the fragments up to this one, and no other.
    for (const fragment of slide.querySelectorAll('.fragment')) {
      const shown = Number(fragment.dataset.fragmentIndex) <= (f === undefined ? -1 : f);
      if (getComputedStyle(fragment).visibility !== (shown ? 'visible' : 'hidden')) record.wrong.push([f, fragment.dataset.fragmentIndex]);
    }
    if (slide.scrollHeight > height || slide.scrollWidth > width) {
      record.fits = false; record.size = [slide.scrollWidth, slide.scrollHeight];
    }
    if (Reveal.isLastSlide() && !Reveal.availableFragments().next) break;
    Reveal.next();
  }
  return {slides, width, height};
})()"""


@pytest.mark.parametrize("aspect", ["16:9", "4:3"])
@pytest.mark.parametrize("name", CASES)
def test_the_slides_step_through_the_beamer_frames_offline(browser, tmp_path, name, aspect):
    path = tmp_path / "slides.html"
    path.write_text(slides(name, aspect=aspect), encoding="utf-8")
    page = browser.load(file_url(path), width=1280 if aspect == "16:9" else 1024, height=720 if aspect == "16:9" else 768)
    try:
        result = page.evaluate(_STEP_THROUGH)
        frames = beamer_frames(name)
        # One slide a frame (the title's included), as many steps on each as the frame has pauses.
        assert [s["steps"] for s in result["slides"]] == [frame.count("\\pause") for frame in frames]
        assert [s["wrong"] for s in result["slides"] if s["wrong"]] == []
        too_big = [(i, s["size"]) for i, s in enumerate(result["slides"]) if not s["fits"]]
        assert too_big == [], f"slides larger than {result['width']}x{result['height']}: {too_big}"
        report = page.report()
        assert report["mathml"] == len(beamer_formulas(name)) + page.evaluate(
            "[...document.querySelectorAll('math annotation')].filter(a => /^-?[0-9.,]+$/.test(a.textContent.trim())).length")
        assert report["errors"] == 0
        assert raw_tex(report["text"]) == []
        assert page.blocked == [] and page.errors() == []
    finally:
        page.close()


@pytest.mark.parametrize("name", ["default", "two-hidden-layers"])
def test_the_formulas_are_the_beamer_formulas(name):
    """The MathML's TeX, in order, is the Beamer slides' (less the bare numbers the HTML writes as text,
    its multi-letter names set as words)."""
    page = slides(name)
    annotations = [normalized(re.sub(r"&amp;", "&", tex)) for tex in re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', page, re.S)]
    annotations = [tex.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#x27;", "'")
                   for tex in annotations if not _PLAIN_NUMBER.fullmatch(tex)]
    assert annotations == [as_words(tex) for tex in beamer_formulas(name)]  # names set as words on the web


@pytest.mark.parametrize("dark", [False, True])
def test_readable_in_light_and_dark_mode(browser, tmp_path, dark):
    path = tmp_path / "slides.html"
    path.write_text(slides("default"), encoding="utf-8")
    page = browser.load(file_url(path), width=1280, height=720, dark=dark)
    try:
        colours = page.evaluate("""(() => {
          const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const background = rgb(getComputedStyle(document.querySelector('.reveal-viewport') || document.body).backgroundColor);
          const slide = Reveal.getSlides().findIndex((s) => s.querySelector('p math') && s.querySelector('.equation math'));
          Reveal.slide(slide, 0, 99);
          const text = rgb(getComputedStyle(Reveal.getCurrentSlide().querySelector('p')).color);
          const math = rgb(getComputedStyle(Reveal.getCurrentSlide().querySelector('.equation math')).color);
          return {background, text, math};
        })()""")
        assert (sum(colours["background"]) < 150) == dark
        assert contrast(colours["text"], colours["background"]) >= 7
        assert contrast(colours["math"], colours["background"]) >= 7
        assert page.errors() == []
    finally:
        page.close()


def test_full_detail_and_the_other_aspect():
    full = slides("default", "full")
    assert full.count("<section") == len(beamer_frames("default", "full")) > len(beamer_frames("default"))
    assert "width: 1024, height: 768" in render_revealjs(derivation("default"), "4:3")
    with pytest.raises(ValueError, match="aspect"):
        render_revealjs(derivation("default"), "3:2")


def test_the_file_holds_everything_it_shows():
    page = slides("default")
    assert page.startswith("<!DOCTYPE html>\n") and page.count("<script") == 2
    markup = re.sub(r"<(script|style)>.*?</\1>", "", page, flags=re.S)
    assert not re.search(r"<(?:link|img|iframe|object|embed)\b|\b(?:src|href)=", markup)
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, re.S))
    assert "@import" not in styles and re.findall(r"url\((?!data:)", styles) == []
    assert "reveal.js 5.2.0" in page  # the vendored build's own banner (the npm package 5.2.1)
    assert (ROOT / "templates" / "vendor" / "reveal.js" / "LICENSE").read_text().startswith("Copyright (C) 2011")


def test_committed_slides_are_what_the_code_renders_every_time(tmp_path):
    committed = (ROOT / "output" / "backpropagation-example-slides.html").read_text(encoding="utf-8")
    assert slides("default") == committed, "output/ is stale: run `explainer render --format revealjs`"
    result = run_cli("render", "--format", "revealjs", cwd=tmp_path, env={"SOURCE_DATE_EPOCH": "0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "output/backpropagation-example-slides.html\n"
    assert (tmp_path / "output" / "backpropagation-example-slides.html").read_text(encoding="utf-8") == committed


def _counts(page: str) -> list[int]:
    """The fragments of each slide: its distinct fragment indices."""
    sections = re.findall(r"<section\b.*?</section>", page, re.S)
    return [len(set(re.findall(r'data-fragment-index="(\d+)"', section))) for section in sections]


@pytest.mark.parametrize("form", ["chain", "delta", "matrix", "all"])
@pytest.mark.parametrize("name", sorted(shipped_and_other_specs()))
def test_every_spec_and_form_has_the_beamer_frames_and_pauses(name, form):
    spec = with_notation(load_spec(shipped_and_other_specs()[name]), None, form)
    d = explainer.derive(spec)
    frames = re.findall(r"\\begin\{frame\}(.*?)\\end\{frame\}", render_slides(d), re.S)
    assert _counts(render_revealjs(d)) == [frame.count("\\pause") for frame in frames]
