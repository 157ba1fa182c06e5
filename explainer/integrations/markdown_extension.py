"""A Python-Markdown extension: a fenced ``explainer`` block becomes the derivation.

For MkDocs, one line in ``mkdocs.yml``::

    markdown_extensions:
      - explainer.markdown_extension

and in a page, a spec in TOML (an empty block is the built-in example)::

    ```explainer detail=full
    [network]
    layers = [2, 2, 2]
    …
    ```

The block is replaced by the derivation in the ``mkdocs`` Markdown flavor
before Python-Markdown reads the page, so its headings join the table of
contents and its math goes through pymdownx.arithmatex like the rest of the
site's.  The extension loads ``tables``, ``footnotes`` and
``pymdownx.arithmatex`` (generic mode) unless the site already has them.

Options, as extension settings or after the word ``explainer`` in a block:
``detail`` (source or full), ``decimals`` or ``digits``, and ``heading_level``
(the level of the derivation's title, 1 to 6; default 1).
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown import Extension
from markdown.preprocessors import Preprocessor

from ..spec.errors import ExplainerError

# A fence opens with three or more backticks or tildes, indented at most three spaces.
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*)$")
_OPTIONS = ("detail", "decimals", "digits", "heading_level")
# What the derivation's Markdown needs, and the settings it is loaded with if the site lacks it.
_NEEDED = (
    ("markdown.extensions.tables", {}),
    ("markdown.extensions.footnotes", {}),
    ("pymdownx.arithmatex", {"generic": True}),
)


class ExplainerBlocks(Preprocessor):
    """Replaces every ``explainer`` fence with the Markdown of its derivation."""

    def __init__(self, md, settings: dict) -> None:
        super().__init__(md)
        self.settings = settings

    def run(self, lines: list[str]) -> list[str]:
        result: list[str] = []
        i = 0
        while i < len(lines):
            opening = _FENCE.match(lines[i])
            if not opening:
                result.append(lines[i])
                i += 1
                continue
            end = _closing_fence(lines, i, opening["fence"])
            words = opening["info"].split()
            if words[:1] != ["explainer"]:
                result.extend(lines[i : end + 1])  # another code block, perhaps showing an explainer block
            else:
                where = f"explainer block at line {i + 1}"
                if end == len(lines):
                    raise ExplainerError(f"{where}: no closing {opening['fence']}")
                options = {**self.settings, **_block_options(words[1:], where)}
                spec_text = "\n".join(lines[i + 1 : end])
                result.extend(["", *derivation_markdown(spec_text, where, **options).splitlines(), ""])
            i = end + 1
        return result


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """The index of the line closing the fence opened at ``start`` (or ``len(lines)``)."""
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    return next((j for j in range(start + 1, len(lines)) if closing.match(lines[j])), len(lines))


def _block_options(words: list[str], where: str) -> dict:
    options = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or key not in _OPTIONS:
            raise ExplainerError(f"{where}: expected options {', '.join(o + '=…' for o in _OPTIONS)}, got {word!r}")
        options[key] = value.strip("\"'")
    return options


@lru_cache(maxsize=32)
def derivation_markdown(spec_text: str, where: str, detail="source", decimals=9, digits=0, heading_level=1) -> str:
    """The derivation of the TOML ``spec_text`` (blank: the built-in example) in the mkdocs flavor."""
    from ..spec.reading import load_spec, parse_spec_text
    from .jupyter import derive

    options = _checked(where, detail=detail, decimals=decimals, digits=digits, heading_level=heading_level)
    spec = parse_spec_text(spec_text, where, "toml") if spec_text.strip() else load_spec()
    return derive(spec).to_markdown(flavor="mkdocs", standalone=False, **options)


def _checked(where: str, *, detail, decimals, digits, heading_level) -> dict:
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


class ExplainerExtension(Extension):
    def __init__(self, **kwargs) -> None:
        self.config = {
            "detail": ["source", "source: the first neuron and weight of each kind in full; full: all"],
            "decimals": [9, "round shown values to this many decimal places"],
            "digits": [0, "round shown values to this many significant digits (0: use decimals)"],
            "heading_level": [1, "the heading level of the derivation's title (1 to 6)"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        loaded = {type(extension).__module__ for extension in md.registeredExtensions}
        for module, configs in _NEEDED:
            if module not in loaded:
                md.registerExtensions([module], {module: configs})
        # Before fenced code (25) reads the fences, after whitespace is normalised (30).
        md.preprocessors.register(ExplainerBlocks(md, self.getConfigs()), "explainer", 28)


def makeExtension(**kwargs) -> ExplainerExtension:  # noqa: N802 (Python-Markdown's name)
    return ExplainerExtension(**kwargs)
