"""The spec of an explainer block in a docs page: TOML written in the block, a
``file:`` line naming a spec file beside the page, or nothing (the built-in
example).  The MkDocs extension and the Sphinx directive share it."""

from __future__ import annotations

import re
from pathlib import Path

from ..spec.errors import ExplainerError

_FILE_LINE = re.compile(r"^file:\s*(?P<path>.*?)\s*$")


def spec_file(content: str) -> str | None:
    """The path a block's ``file: PATH`` line names, or None for a block holding TOML."""
    lines = [line for line in content.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    match = _FILE_LINE.match(lines[0].strip()) if len(lines) == 1 else None
    return match["path"].strip("\"'") if match else None


def block_spec(content: str, where: str, base: Path | None = None):
    """The spec of a block: its TOML, the file it names (relative to ``base``), or the built-in example."""
    from ..spec.reading import load_spec, parse_spec_text

    path = spec_file(content)
    if path is not None:
        try:
            return load_spec(resolve(path, where, base))
        except ExplainerError as error:
            if str(error).startswith(where):
                raise
            raise ExplainerError(f"{where}: {error}") from None
    return parse_spec_text(content, where, "toml") if content.strip() else load_spec()


def resolve(path: str, where: str, base: Path | None) -> Path:
    """A spec file's path, relative to ``base``; an error naming the block when it is not a file."""
    if not path:
        raise ExplainerError(f"{where}: file: expected the path of a spec file (.toml or .json)")
    resolved = (base or Path.cwd()) / path
    if not resolved.is_file():
        raise ExplainerError(f"{where}: file: {path}: no such file (relative to {base or Path.cwd()})")
    return resolved
