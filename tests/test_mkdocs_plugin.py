"""The MkDocs plugin, in real ``mkdocs build --strict`` runs of a Material site:
blocks at any indentation, spec files beside the page, one-line build errors,
the math script and the style sheet added when the site has none."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, require_module
from test_markdown_extension import KEY_NUMBERS, SMALL_SPEC

# The configuration docs/docs-sites.md documents: the theme, and the plugin.
MINIMAL_CONFIG = "site_name: Course\ntheme:\n  name: material\nplugins:\n  - explainer\n"
CONTAINERS = "markdown_extensions:\n  - admonition\n  - pymdownx.superfences\n  - pymdownx.tabbed:\n      alternate_style: true\n"
# MkDocs Material's documented KaTeX set-up (arithmatex in generic mode, auto-render).
KATEX_CONFIG = """\
markdown_extensions:
  - pymdownx.arithmatex:
      generic: true
extra_javascript:
  - javascripts/katex.js
  - https://unpkg.com/katex@0/dist/katex.min.js
  - https://unpkg.com/katex@0/dist/contrib/auto-render.min.js
extra_css:
  - https://unpkg.com/katex@0/dist/katex.min.css
"""
KATEX_SCRIPT = """\
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$",  right: "$$",  display: true },
      { left: "$",   right: "$",   display: false },
      { left: "\\\\(", right: "\\\\)", display: false },
      { left: "\\\\[", right: "\\\\]", display: true }
    ],
  })
})
"""

CONTAINER_PAGE = textwrap.dedent("""\
    # Course

    !!! note "The default"

        ```explainer heading_level=2
        ```

    === "A file"

        ```explainer heading_level=2
        file: specs/small.toml
        ```

    === "Other"

        Nothing here.

    1. In a list:

        ```explainer heading_level=3 detail=full
    {spec}    ```
    """).format(spec=textwrap.indent(SMALL_SPEC, " " * 8))


def build(site: Path, config: str, pages: dict[str, str], files: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    require_module("mkdocs")
    require_module("material")
    (site / "mkdocs.yml").write_text(config, encoding="utf-8")
    for name, text in {**pages, **(files or {})}.items():
        path = site / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=site,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True, text=True, timeout=600,
    )


def container_site(site: Path) -> Path:
    result = build(site, MINIMAL_CONFIG + CONTAINERS, {"index.md": CONTAINER_PAGE}, {"specs/small.toml": SMALL_SPEC})
    assert result.returncode == 0, result.stderr
    return site / "site"


def katex_site(site: Path) -> Path:
    result = build(site, MINIMAL_CONFIG + KATEX_CONFIG, {"index.md": "# Course\n\n```explainer heading_level=2\n```\n"},
                   {"javascripts/katex.js": KATEX_SCRIPT})
    assert result.returncode == 0, result.stderr
    return site / "site"


def slate_site(site: Path) -> Path:
    """Material's dark scheme, chosen in mkdocs.yml."""
    config = MINIMAL_CONFIG.replace("  name: material\n", "  name: material\n  palette:\n    scheme: slate\n")
    result = build(site, config, {"index.md": "# Course\n\n```explainer heading_level=2\n```\n"})
    assert result.returncode == 0, result.stderr
    return site / "site"


@pytest.fixture(scope="session")
def mkdocs_sites(tmp_path_factory):
    built = {}

    def site(kind: str) -> Path:
        if kind not in built:
            built[kind] = {"containers": container_site, "katex": katex_site, "slate": slate_site}[kind](tmp_path_factory.mktemp(f"mkdocs-{kind}"))
        return built[kind]

    return site


def test_blocks_in_admonitions_tabs_and_lists_are_expanded(mkdocs_sites):
    page = (mkdocs_sites("containers") / "index.html").read_text(encoding="utf-8")
    for number in KEY_NUMBERS:
        assert number in page
    # the default in the admonition, the file's network in the tab, the spec in the list item: three derivations
    assert page.count('<figure class="explainer-figure">') == 6
    assert re.search(r'<div class="admonition note">.*?A Step by Step Backpropagation Example', page, re.S)
    assert re.search(r'<div class="tabbed-block">\s*<h2 id="three-inputs-one-output">', page)
    assert re.search(r'<li>\s*<p>In a list:</p>\s*<h3 id="three-inputs-one-output_1">', page)
    assert "<code>explainer" not in page and "file: specs" not in page


def test_the_plugin_adds_mathjax_and_its_style_sheet_to_a_site_without_math(mkdocs_sites):
    site = mkdocs_sites("containers")
    page = (site / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts[-2:] == ["assets/javascripts/explainer-mathjax.js", "https://unpkg.com/mathjax@3/es5/tex-mml-chtml.js"]
    assert 'href="assets/stylesheets/explainer.css"' in page and (site / "assets/stylesheets/explainer.css").is_file()


def test_a_site_with_katex_keeps_it(mkdocs_sites):
    page = (mkdocs_sites("katex") / "index.html").read_text(encoding="utf-8")
    assert "mathjax" not in page.lower() and "katex.min.js" in page


@pytest.mark.parametrize(
    "block, message",
    [
        ("!!! note\n\n    ```explainer\n    [network]\n    layers = [2]\n    ```\n",
         "bad.md, explainer block at line 5: network.layers: expected at least two layers"),
        ("```explainer\nfile: nowhere.toml\n```\n", "bad.md, explainer block at line 3: file: nowhere.toml: no such file"),
        ("```explainer decimals=many\n```\n", "bad.md, explainer block at line 3: decimals: expected a whole number"),
        ("```explainer\nfile: broken.toml\n```\n", "bad.md, explainer block at line 3: "),
    ],
)
def test_a_bad_block_fails_the_build_in_one_line(tmp_path, block, message):
    result = build(tmp_path, MINIMAL_CONFIG, {"bad.md": f"# Bad\n\n{block}"}, {"broken.toml": "[network]\nlayerz = [2, 1]\n"})
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "site" / "bad" / "index.html").exists()
    if "broken" in block:
        assert "network.layerz: unknown key" in result.stderr


def test_mkdocs_serve_watches_the_spec_files_blocks_name(tmp_path):
    require_module("material")
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    container_site(tmp_path)
    config = load_config(str(tmp_path / "mkdocs.yml"))
    config.plugins.on_startup(command="build", dirty=False)
    mkdocs_build(config)
    watched = []

    class Server:
        def watch(self, path, recursive=True):
            watched.append(path)

    config.plugins["explainer"].on_serve(Server(), config=config, builder=None)
    assert watched == [str(tmp_path / "docs" / "specs" / "small.toml")]


def test_the_sites_built_here_are_configured_as_the_docs_say():
    page = (ROOT / "docs" / "docs-sites.md").read_text(encoding="utf-8")
    mkdocs = page.split("## MkDocs\n", 1)[1]
    assert "site_name: Course\n" + re.search(r"```yaml\n(.*?)```", mkdocs, re.S).group(1) == MINIMAL_CONFIG
    sphinx = page.split("## Sphinx\n", 1)[1]
    assert re.search(r"```python\n(.*?)```", sphinx, re.S).group(1) == 'extensions = ["explainer.integrations.sphinx"]\n'
