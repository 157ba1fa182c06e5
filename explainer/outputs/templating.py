"""The Jinja environment of the templates, and the filters the templates use.

Kept apart from ``render`` (which needs SymPy, through the derivation's
formulas) so that a template that depends on the spec alone, such as a
LaTeX preamble (``preamble``), renders without importing SymPy.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import jinja2

_NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()


def template_directory() -> Path:
    """The templates: inside the installed package, or beside it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "document.j2").is_file():
            return candidate
    raise FileNotFoundError("explainer's templates are missing from the installation")


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's cache of compiled templates, so a run does not recompile them.

    It lives in the user's cache directory and only holds what Jinja can
    recompile at any time; where that directory cannot be made, no cache.
    """
    if os.environ.get("EXPLAINER_NO_CACHE", "") not in ("", "0"):
        return None
    try:
        # As the XDG base directories have it: a relative $XDG_CACHE_HOME is ignored.
        given = os.environ.get("XDG_CACHE_HOME", "")
        root = (Path(given) if os.path.isabs(given) else Path.home() / ".cache") / "explainer" / "templates"
        root.parent.mkdir(parents=True, exist_ok=True)
        root.mkdir(mode=0o700, exist_ok=True)
        status = root.stat()
    except (OSError, RuntimeError):  # RuntimeError: no home directory to be found
        return None
    # Jinja writes each entry to a temporary file and renames it, so two processes sharing the cache
    # cannot corrupt it.  What it holds is code that runs: only a folder of the user's own, that no one
    # else may write, is used.
    if not os.access(root, os.W_OK | os.X_OK):
        return None
    if hasattr(os, "getuid") and (status.st_uid != os.getuid() or status.st_mode & 0o022):
        return None
    return _TemplateCache(str(root))


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's cache, where an entry that cannot be read back (a damaged file) is compiled again."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - whatever a damaged entry holds, the template is compiled again
            bucket.reset()


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_directory()),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["count"] = count_words
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["join_words"] = join_words
    # ``items|map("apply", f.m)``: map a markup method, which Jinja's map cannot name
    env.filters["apply"] = lambda item, function: function(item)
    return env


def count_words(n: int, noun: str, plural: str | None = None) -> str:
    """``two inputs``, ``one output neuron``: how the source counts."""
    word = _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)
    return f"{word} {noun if n == 1 else plural or noun + 's'}"


def join_words(items) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
