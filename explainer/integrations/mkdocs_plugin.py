"""The MkDocs plugin: ``plugins: [explainer]`` in ``mkdocs.yml``.

It loads the Markdown extension (``markdown_extension``) with the plugin's
options, tells it each page's directory, so that a block's ``file: PATH`` is
read beside its page (and watched by ``mkdocs serve``), and its name, so that
a bad block fails the build with one line naming the page, the block and the
field.  A site with no math engine yet gets MathJax 3, set up as MkDocs
Material documents it for arithmatex; every site gets explainer's small style
sheet for its figures.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File

from .markdown_extension import ExplainerExtension

_EXTENSION_NAMES = ("explainer.integrations.markdown_extension", "explainer.markdown_extension")
MATHJAX = "https://unpkg.com/mathjax@3/es5/tex-mml-chtml.js"
MATHJAX_CONFIG = "assets/javascripts/explainer-mathjax.js"
STYLESHEET = "assets/stylesheets/explainer.css"

# arithmatex's generic output, for MathJax 3; Material's instant navigation swaps
# pages without loading them, so each new page is typeset too.
_MATHJAX_CONFIG_TEXT = """\
window.MathJax = {
  tex: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]], processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}
};
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.startup.output.clearCache(); MathJax.typesetClear(); MathJax.texReset(); MathJax.typesetPromise();
    }
  });
}
"""

_STYLESHEET_TEXT = """\
/* explainer's figures: centred, never wider than the page, captions as in its documents.
   Their colours come from the page (see the <style> inside each SVG). */
.explainer-figure { margin: 1.2em 0; text-align: center; }
.explainer-figure svg { max-width: 100%; height: auto; }
.explainer-figure figcaption { font-size: 0.92em; font-style: italic; margin-top: 0.4em; }
"""


class ExplainerConfig(Config):
    detail = config_options.Choice(("source", "full"), default="source")
    decimals = config_options.Type(int, default=9)
    digits = config_options.Type(int, default=0)
    heading_level = config_options.Type(int, default=1)
    # "auto": MathJax 3 unless the site loads MathJax or KaTeX itself; "none": never.
    math = config_options.Choice(("auto", "none"), default="auto")


class ExplainerPlugin(BasePlugin[ExplainerConfig]):
    def __init__(self) -> None:
        self.extension: ExplainerExtension | None = None
        self.adds_mathjax = False

    def on_config(self, config):
        settings = {key: self.config[key] for key in ("detail", "decimals", "digits", "heading_level")}
        # The extension named in markdown_extensions too: the plugin's instance replaces it, with its settings.
        for name in _EXTENSION_NAMES:
            if name in config.markdown_extensions:
                config.markdown_extensions.remove(name)
                settings.update(config.mdx_configs.pop(name, {}) or {})
        self.extension = ExplainerExtension(**settings)
        config.markdown_extensions.append(self.extension)
        scripts = [str(script) for script in config.extra_javascript]
        self.adds_mathjax = self.config.math == "auto" and not any(
            "mathjax" in script.lower() or "katex" in script.lower() for script in scripts)
        if self.adds_mathjax:
            config.extra_javascript.extend([MATHJAX_CONFIG, MATHJAX])
        config.extra_css.append(STYLESHEET)
        return config

    def on_files(self, files, config):
        files.append(File.generated(config, STYLESHEET, content=_STYLESHEET_TEXT))
        if self.adds_mathjax:
            files.append(File.generated(config, MATHJAX_CONFIG, content=_MATHJAX_CONFIG_TEXT))
        return files

    def on_page_markdown(self, markdown, page, config, files):
        self.extension.page = f"{page.file.src_uri}, "
        source = page.file.abs_src_path
        self.extension.setConfig("base_path", str(Path(source).parent) if source else config.docs_dir)
        return markdown

    def on_serve(self, server, config, builder):
        for path in sorted(self.extension.files):
            server.watch(path, recursive=False)
        return server
