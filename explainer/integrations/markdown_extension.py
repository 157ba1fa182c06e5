"""A Python-Markdown extension: a fenced ``explainer`` block becomes the derivation.

For MkDocs, the plugin (``plugins: [explainer]``, see ``mkdocs_plugin``) loads
this extension; on its own it is one line in ``mkdocs.yml``::

    markdown_extensions:
      - explainer.integrations.markdown_extension

and in a page, a spec in TOML, or ``file: PATH`` naming a spec file (an empty
block is the built-in example)::

    ```explainer detail=full
    [network]
    layers = [2, 2, 2]
    …
    ```

A block may be indented (in a list item, an admonition, a content tab): the
derivation takes its place at the same indentation.  It is written in the
``mkdocs`` Markdown flavor before Python-Markdown reads the page, so its
headings join the table of contents and its math goes through
pymdownx.arithmatex like the rest of the site's; its figures (inline SVG) are
stashed as raw HTML, which Python-Markdown would not find inside a container.
The extension loads ``tables``, ``footnotes`` and ``pymdownx.arithmatex``
(generic mode) unless the site already has them.

Options, as extension settings or after the word ``explainer`` in a block:
``detail`` (source or full), ``decimals`` or ``digits``, and ``heading_level``
(the level of the derivation's title, 1 to 6; default 1).  ``base_path`` (a
setting) is the directory ``file:`` paths are relative to (default: the
working directory; the plugin sets each page's own).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from markdown import Extension
from markdown.preprocessors import Preprocessor

from ..spec.errors import ExplainerError

# A fence opens with three or more backticks or tildes, at any indentation (containers indent it).
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*)$")
_OPTIONS = ("detail", "decimals", "digits", "heading_level")
_FIGURE = re.compile(r'^<figure class="explainer-figure">\n.*?\n</figure>$', re.S | re.M)
# What the derivation's Markdown needs, and the settings it is loaded with if the site lacks it.
_NEEDED = (
    ("markdown.extensions.tables", {}),
    ("markdown.extensions.footnotes", {}),
    ("pymdownx.arithmatex", {"generic": True}),
)


class ExplainerBlocks(Preprocessor):
    """Replaces every ``explainer`` fence with the Markdown of its derivation."""

    def __init__(self, md, extension: ExplainerExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        result: list[str] = []
        i = 0
        while i < len(lines):
            opening = _FENCE.match(lines[i])
            if not opening:
                result.append(lines[i])
                i += 1
                continue
            indent = opening["indent"]
            end = _closing_fence(lines, i, opening["fence"])
            words = opening["info"].split()
            if words[:1] != ["explainer"]:
                result.extend(lines[i : end + 1])  # another code block, perhaps showing an explainer block
            else:
                where = f"{self.extension.page}explainer block at line {i + 1}"
                if end == len(lines):
                    raise self.extension.error(f"{where}: no closing {opening['fence']}")
                settings = self.extension.getConfigs()
                options = {key: settings[key] for key in _OPTIONS}
                try:
                    options.update(_block_options(words[1:], where))
                    content = "\n".join(_dedent(line, indent) for line in lines[i + 1 : end])
                    self.extension.note_file(content, where)
                    markdown = block_markdown(content, where, Path(settings["base_path"] or "."), **options)
                except ExplainerError as error:
                    raise self.extension.error(str(error)) from None
                # Inside a container, raw HTML is not recognised: the figures go into the stash.
                markdown = _FIGURE.sub(lambda figure: self.md.htmlStash.store(figure.group()), markdown)
                body = [indent + line if line.strip() else "" for line in markdown.splitlines()]
                result.extend(["", *body, ""])
            i = end + 1
        return result


def _dedent(line: str, indent: str) -> str:
    return line[len(indent):] if line.startswith(indent) else line.lstrip(" \t")


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """The index of the line closing the fence opened at ``start`` (or ``len(lines)``)."""
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    return next((j for j in range(start + 1, len(lines)) if closing.match(lines[j])), len(lines))


def _block_options(words: list[str], where: str) -> dict:
    options = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or key not in _OPTIONS:
            raise ExplainerError(f"{where}: expected options {', '.join(o + '=…' for o in _OPTIONS)}, got {word!r}")
        options[key] = value.strip("\"'")
    return options


def block_markdown(content: str, where: str, base: Path, **options) -> str:
    """The derivation of a block's content (TOML, ``file: PATH`` or blank) in the mkdocs flavor."""
    from .blocks import resolve, spec_file

    path = spec_file(content)
    if path is not None:
        # A file's text is part of the key: an edited spec file is derived again.
        resolved = resolve(path, where, base)
        return _file_markdown(str(resolved), resolved.read_bytes(), where, **options)
    return derivation_markdown(content, where, **options)


@lru_cache(maxsize=32)
def _file_markdown(path: str, content: bytes, where: str, **options) -> str:
    from .blocks import block_spec

    spec = block_spec(f"file: {path}", where)
    return _markdown(spec, where, **options)


@lru_cache(maxsize=32)
def derivation_markdown(spec_text: str, where: str, detail="source", decimals=9, digits=0, heading_level=1) -> str:
    """The derivation of the TOML ``spec_text`` (blank: the built-in example) in the mkdocs flavor."""
    from .blocks import block_spec

    options = dict(detail=detail, decimals=decimals, digits=digits, heading_level=heading_level)
    _checked(where, **options)  # before the spec: a bad option is named even in a bad block
    return _markdown(block_spec(spec_text, where), where, **options)


def _markdown(spec, where: str, **options) -> str:
    from .jupyter import derive

    return derive(spec).to_markdown(flavor="mkdocs", standalone=False, **_checked(where, **options))


def _checked(where: str, *, detail="source", decimals=9, digits=0, heading_level=1) -> dict:
    """The rendering options, from settings or block words, as ``render`` takes them."""
    if detail not in ("source", "full"):
        raise ExplainerError(f"{where}: detail: expected source or full, got {detail!r}")
    numbers = {}
    for name, value, low, high in (("decimals", decimals, 0, 30), ("digits", digits, 0, 30), ("heading_level", heading_level, 1, 6)):
        try:
            numbers[name] = int(value)
        except (TypeError, ValueError):
            raise ExplainerError(f"{where}: {name}: expected a whole number, got {value!r}") from None
        if not low <= numbers[name] <= high:
            raise ExplainerError(f"{where}: {name}: expected a number from {low} to {high}, got {value!r}")
    return {
        "detail": detail,
        "decimals": numbers["decimals"],
        "digits": numbers["digits"] or None,  # 0: round to decimal places instead
        "heading_offset": numbers["heading_level"] - 1,
    }


def _build_error(message: str) -> Exception:
    """The error a block's mistake raises: under MkDocs, a build error, which MkDocs
    reports as one line (no traceback); elsewhere an ExplainerError."""
    try:
        from mkdocs.exceptions import PluginError
    except ImportError:
        return ExplainerError(message)
    return _mkdocs_error_type(PluginError)(message)


@lru_cache(maxsize=1)
def _mkdocs_error_type(plugin_error: type) -> type:
    return type("ExplainerBuildError", (ExplainerError, plugin_error), {"__module__": __name__})


class ExplainerExtension(Extension):
    def __init__(self, **kwargs) -> None:
        self.config = {
            "detail": ["source", "source: the first neuron and weight of each kind in full; full: all"],
            "decimals": [9, "round shown values to this many decimal places"],
            "digits": [0, "round shown values to this many significant digits (0: use decimals)"],
            "heading_level": [1, "the heading level of the derivation's title (1 to 6)"],
            "base_path": ["", "the directory that file: paths are relative to (default: the working directory)"],
        }
        super().__init__(**kwargs)
        self.page = ""  # "PAGE, " in error messages, when the plugin knows the page
        self.error = _build_error
        self.files: set[str] = set()  # the spec files blocks have named, for mkdocs serve to watch

    def note_file(self, content: str, where: str) -> None:
        from .blocks import resolve, spec_file

        path = spec_file(content)
        if path is not None:
            self.files.add(str(resolve(path, where, Path(self.getConfig("base_path") or "."))))

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        loaded = {type(extension).__module__ for extension in md.registeredExtensions}
        for module, configs in _NEEDED:
            if module not in loaded:
                md.registerExtensions([module], {module: configs})
        # Before fenced code (25) reads the fences, after whitespace is normalised (30).
        md.preprocessors.register(ExplainerBlocks(md, self), "explainer", 28)


def makeExtension(**kwargs) -> ExplainerExtension:  # noqa: N802 (Python-Markdown's name)
    return ExplainerExtension(**kwargs)
