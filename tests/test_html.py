"""The HTML page: self-contained, well formed, its math MathML that real KaTeX and
real Chromium both accept, readable at phone width."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import subprocess
import xml.etree.ElementTree as ElementTree
from functools import cache

import pytest

import explainer
from conftest import ROOT, katex_failures, require_tool, shipped_and_other_specs
from explainer.outputs.html import mathml

SPECS = shipped_and_other_specs()
KEY_NUMBERS = ("0.593269992", "0.298371109", "0.082167041", "0.35891648", "0.000438568")


@cache
def page_of(name: str, detail: str = "source") -> str:
    return explainer.derive(SPECS[name]).to_html(detail=detail)


def xml_tree(page: str) -> ElementTree.Element:
    """The page parsed as XML: a stray ``<`` or ``&`` anywhere would not parse."""
    assert page.startswith("<!DOCTYPE html>\n")
    return ElementTree.fromstring(page.removeprefix("<!DOCTYPE html>\n"))


def annotations(page: str) -> list[tuple[str, bool]]:
    """The TeX of every formula, and whether it is displayed."""
    found = []
    for math in xml_tree(page).iter("math"):
        annotation = math.find("semantics/annotation")
        assert annotation is not None and annotation.get("encoding") == "application/x-tex"
        found.append((annotation.text, math.get("display") == "block"))
    return found


def test_committed_html_is_what_the_code_renders(default_derivation):
    committed = (ROOT / "output" / "backpropagation-example.html").read_text(encoding="utf-8")
    assert default_derivation.to_html() == committed, (
        "output/ is stale: run `explainer render --format html --output output/backpropagation-example.html`"
    )


def test_the_page_is_well_formed_and_needs_nothing_from_outside(default_derivation):
    page = default_derivation.to_html()
    tree = xml_tree(page)
    assert [e.tag for e in tree] == ["head", "body"]
    assert not re.search(r"<(script|link|img|iframe)\b|\b(src|href)=\"(https?:)?//|@import|url\(", page)
    assert tree.find("head/meta[@name='viewport']") is not None
    headings = [h.text for h in tree.iter() if re.fullmatch(r"h[1-6]", h.tag)]
    assert headings == ["A Step by Step Backpropagation Example", "The Network", "The Forward Pass",
                        "Calculating the Total Error", "The Backwards Pass", "Output Layer", "Hidden Layer", "The Result"]


def test_the_page_has_the_derivations_numbers_and_footnotes(default_derivation):
    page = default_derivation.to_html()
    tree = xml_tree(page)
    text = "".join(tree.find("body").itertext())
    for number in KEY_NUMBERS:
        assert number in text
    ids = {e.get("id") for e in tree.iter() if e.get("id")}
    links = [a.get("href") for a in tree.iter("a")]
    assert len([link for link in links if link.startswith("#fn-")]) == 4
    assert all(link[1:] in ids for link in links)  # every footnote link and back link lands


@pytest.mark.parametrize("name", SPECS)
def test_every_formula_of_the_page_parses_in_katex(name):
    formulas = set()
    for detail in ("source", "full"):
        page = page_of(name, detail)
        assert "merror" not in page
        formulas.update(annotations(page))
    assert len(formulas) > 40
    assert katex_failures(sorted(formulas)) == []


def test_aligned_chains_become_two_column_tables():
    element = mathml("\\begin{aligned}\na &= b \\\\\n&= -(c)\n\\end{aligned}", display=True)
    assert element.startswith('<math display="block"><semantics><mrow><mtable')
    assert element.count("<mtr>") == 2 and '<mtd columnalign="right">' in element
    assert '<mo form="prefix">&#x02212;</mo>' in element  # a sign after "=" is not a subtraction
    assert element.endswith(
        '<annotation encoding="application/x-tex">\\begin{aligned}\na &amp;= b \\\\\n&amp;= -(c)\n\\end{aligned}'
        "</annotation></semantics></math>"
    )


def test_the_users_title_is_taken_literally(default_derivation):
    title = """<script>alert("x")</script> & 'quotes' $x$ \\frac"""
    page = explainer.derive(dataclasses.replace(default_derivation.spec, title=title)).to_html()
    tree = xml_tree(page)
    assert tree.find("head/title").text == title
    assert tree.find("body/main/h1").text == title
    assert "<script>" not in page


def test_the_fragment_for_notebooks_is_a_styled_div(default_derivation):
    fragment = default_derivation._repr_html_()
    tree = ElementTree.fromstring(fragment)
    assert tree.tag == "div" and tree.get("class") == "explainer"
    assert "<html" not in fragment and "<body" not in fragment
    css = re.sub(r"/\*.*?\*/", "", tree.find("style").text, flags=re.S)
    selectors = re.findall(r"([^{}]+)\{[^{}]*\}", re.sub(r"@media[^{]*\{", "", css))
    for selector in ",".join(selectors).split(","):
        assert selector.strip().startswith(".explainer"), selector  # leaves the notebook's own styles alone


# --- real Chromium ---------------------------------------------------------------------------

# The page is shown in a frame of the given size (headless Chromium's window is
# at least 500 pixels wide, wider than a phone); once the frame has loaded, this
# writes what it finds in it into the outer page, which --dump-dom then prints.
FRAME = """<!DOCTYPE html>
<html><body style="margin: 0">
<iframe id="frame" style="border: 0; width: {width}px; height: {height}px" srcdoc="{page}"></iframe>
<script>
document.getElementById("frame").addEventListener("load", (event) => {{
  const frame = event.target.contentWindow, page = frame.document;
  const maths = [...page.querySelectorAll("math")];
  const report = {{
    text: page.body.innerText,
    maths: maths.length,
    mathml: maths.filter((m) => m instanceof frame.MathMLElement).length,
    empty: maths.filter((m) => {{ const r = m.getBoundingClientRect(); return r.width < 1 || r.height < 1; }}).length,
    errors: page.querySelectorAll("merror, .katex-error").length,
    pageWidth: page.documentElement.scrollWidth,
    windowWidth: frame.innerWidth,
    tables: [...page.querySelectorAll("mtable")].map((t) => t.getBoundingClientRect().height),
  }};
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(report);
  document.body.append(out);
}});
</script>
</body></html>
"""


def chromium(*args: str, user_data) -> subprocess.CompletedProcess:
    browser = require_tool("chromium")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={user_data}"]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=180)


def probe(page: str, directory, width: int, height: int) -> dict:
    path = directory / f"probe-{width}.html"
    path.write_text(FRAME.format(width=width, height=height, page=html.escape(page)), encoding="utf-8")
    result = chromium("--window-size=1400,1000", "--dump-dom", path.as_uri(), user_data=directory / "profile")
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    return json.loads(html.unescape(found[1]))


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_chromium_renders_every_formula_and_the_key_numbers(default_derivation, tmp_path, width, height):
    page = default_derivation.to_html()
    report = probe(page, tmp_path, width, height)
    assert report["errors"] == 0
    assert report["maths"] == page.count("<math") > 150
    assert report["mathml"] == report["maths"]  # Chromium took them for MathML …
    assert report["empty"] == 0  # … and laid every one out
    for number in KEY_NUMBERS:
        assert number in report["text"], number
    assert "\\frac" not in report["text"] and "$" not in report["text"]  # the TeX stays hidden
    assert min(report["tables"]) > 40  # an aligned chain is several rows high, not one
    assert report["pageWidth"] <= report["windowWidth"]  # long chains scroll in their box, never the page


def test_chromium_renders_another_network(tmp_path):
    page = explainer.derive(SPECS["[2, 3, 2, 2]"]).to_html(detail="full")
    report = probe(page, tmp_path, 390, 844)
    assert report["errors"] == 0 and report["empty"] == 0 and report["mathml"] == report["maths"] > 150
    assert "Hidden Layer 1" in report["text"] and report["pageWidth"] <= report["windowWidth"]


def test_two_derivations_on_one_page_keep_their_own_ids(default_derivation):
    """Fragments (docs pages, notebooks) carry the spec's fingerprint in every id they define."""
    other = explainer.derive(dataclasses.replace(default_derivation.spec, update="sequential"))
    fragments = [d.to_html(standalone=False) for d in (default_derivation, other)]
    def page(body: str) -> ElementTree.Element:
        return xml_tree(f"<!DOCTYPE html>\n<html><head><title>t</title></head><body>{body}</body></html>")

    both = page("".join(fragments))
    ids = [e.get("id") for e in both.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for fragment, notes in zip(fragments, (4, 2)):
        tree = page(fragment)
        own = {e.get("id") for e in tree.iter() if e.get("id")}
        links = [a.get("href") for a in tree.iter("a") if a.get("href", "").startswith("#")]
        assert len(links) == 2 * notes and all(link[1:] in own for link in links)  # there and back
    assert default_derivation.to_html().count('id="fn-net_h1"') == 1  # a page of its own keeps plain ids
