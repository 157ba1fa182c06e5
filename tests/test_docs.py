"""The documentation site: its generated parts, a real ``mkdocs build --strict``
with explainer's own Markdown extension, and the built pages in headless
Chromium with the site's KaTeX, as a reader sees them."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, _missing, require_module, require_tool
from explainer.spec.examples import shipped_examples
from explainer.spec.fields import described_fields, undescribed_leftovers
from explainer.spec.reading import spec_fields

KATEX_CDN = "https://cdn.jsdelivr.net/npm/katex@{version}/dist/"


def hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_spec_field_is_described_and_nothing_else():
    assert [field.path for field in described_fields()] == list(spec_fields())
    assert undescribed_leftovers() == ()
    for field in described_fields():
        assert field.holds and field.meaning, field.path
        assert "|" not in field.holds + field.default + field.meaning, f"{field.path} would break the table"


def test_the_spec_reference_names_every_field_with_the_readers_defaults():
    table = hooks().spec_fields_table()
    for path in spec_fields():
        assert f"| `{path}` |" in table
    assert "| `training.learning_rate` | a number > 0 | `0.5` |" in table
    assert "| `training.iterations` | an integer from 0 to 10,000,000 | `10000` |" in table


def test_the_command_line_reference_is_every_parsers_help():
    from explainer.cli import build_parser

    reference = hooks().command_line_reference()
    commands = re.findall(r"^## `(.*)`$", reference, re.M)
    assert commands == ["explainer", "explainer render", "explainer values", "explainer check", "explainer exercise",
                        "explainer examples"]
    assert reference == hooks().command_line_reference()
    assert "--equation-numbers, --no-equation-numbers" in reference
    assert build_parser().description in reference.replace("\n", " ")


def test_every_shipped_spec_gets_a_page_with_its_derivation():
    module = hooks()
    for example in shipped_examples():
        if not example.is_spec:
            continue
        page = module.example_page(example)
        assert page.startswith(f"# {example.name}\n\n{example.summary}\n")
        assert f"```explainer heading_level=3\n{example.text().rstrip()}\n```" in page


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_module("mkdocs")
    require_module("material")
    require_module("mkdocstrings")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-4000:]
    assert "WARNING" not in result.stderr, result.stderr[-4000:]
    return out


def test_the_site_builds_strictly_with_every_page(site):
    pages = ["index.html", "render/index.html", "spec/index.html", "check/index.html", "exercises/index.html",
             "docs-sites/index.html", "python/index.html", "command-line/index.html", "limits/index.html",
             "mistakes/index.html", "how-it-works/index.html", "performance/index.html", "contributing/index.html",
             "changelog/index.html", "examples/index.html", "assets/backpropagation-example-network.svg"]
    for page in pages:
        assert (site / page).is_file(), page


def test_every_example_is_rendered_live_by_the_extension(site):
    for example in shipped_examples():
        if not example.is_spec:
            continue
        page = (site / "examples" / example.name / "index.html").read_text(encoding="utf-8")
        assert page.count('class="arithmatex"') > 50, example.name
        assert "The Forward Pass" in page, example.name
        assert f'href="{example.name}/"' in (site / "examples" / "index.html").read_text(encoding="utf-8")


def test_the_generated_references_are_in_the_built_pages(site):
    spec = (site / "spec" / "index.html").read_text(encoding="utf-8")
    for path in spec_fields():
        assert f"<code>{path}</code>" in spec, path
    command_line = (site / "command-line" / "index.html").read_text(encoding="utf-8")
    assert "usage: explainer examples [-h] [NAME]" in command_line
    python = (site / "python" / "index.html").read_text(encoding="utf-8")
    for name in ("spec.reading.load_spec", "integrations.jupyter.derive", "check", "exercise",
                 "integrations.jupyter.Derivation"):
        assert f'id="explainer.{name}"' in python, name
    assert "the name of a shipped example" in python  # load_spec's docstring


def test_the_sites_katex_is_the_one_the_tests_run():
    version = json.loads((ROOT / "tests" / "package.json").read_text(encoding="utf-8"))["dependencies"]["katex"]
    assert KATEX_CDN.format(version=version) in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", ["examples/backpropagation-example/index.html", "examples/xor/index.html"])
def test_chromium_typesets_every_formula_of_the_page(site, tmp_path, page):
    """The built page, with the site's KaTeX served from this machine (the same
    version as the site loads from its CDN), in a real browser."""
    browser = require_tool("chromium")
    katex = ROOT / "tests" / "node_modules" / "katex" / "dist"
    if not katex.is_dir():
        _missing("KaTeX is not installed (npm ci --prefix tests)")
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    shutil.copytree(katex, copy / "katex")
    version = json.loads((ROOT / "tests" / "package.json").read_text(encoding="utf-8"))["dependencies"]["katex"]
    path = copy / page
    local = "../" * page.count("/") + "katex/"
    text = path.read_text(encoding="utf-8")
    assert KATEX_CDN.format(version=version) in text
    path.write_text(text.replace(KATEX_CDN.format(version=version), local), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--window-size=1200,1600"]
    result = subprocess.run([browser, *flags, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                            timeout=180)
    dom = result.stdout
    formulas = [dom[m.end(): m.end() + 200] for m in re.finditer(r'class="arithmatex">', dom)]
    assert len(formulas) == text.count('class="arithmatex"') > 50, result.stderr[-2000:]
    untypeset = [f for f in formulas if 'class="katex' not in f]
    assert untypeset == [], untypeset[:3]
    assert "katex-error" not in dom


def test_the_html_pages_size_in_the_docs_is_that_of_the_committed_page():
    text = (ROOT / "docs" / "docs-sites.md").read_text(encoding="utf-8")
    stated = int(re.search(r"page is about (\d+) KB", text)[1])
    actual = (ROOT / "output" / "backpropagation-example.html").stat().st_size / 1000
    assert abs(stated - actual) <= 5, f"the docs say about {stated} KB, the page is {actual:.0f} KB"


SITE_URL = "https://explainer.readthedocs.io/"


def test_the_readmes_links_work_off_site_and_reach_pages_that_exist():
    """The README is also the package's page on PyPI, where a relative link leads nowhere."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"site_url: {SITE_URL}" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)|<(https?://[^>]+)>", readme)
    links = [a or b for a, b in links]
    assert links
    assert [link for link in links if not link.startswith("https://")] == []
    for link in links:
        if link.startswith(SITE_URL):
            page = link.removeprefix(SITE_URL).split("#")[0].strip("/")
            candidates = [ROOT / "docs" / f"{page}.md", ROOT / "docs" / page / "index.md"] if page else \
                [ROOT / "docs" / "index.md"]
            assert any(path.is_file() for path in candidates), link
