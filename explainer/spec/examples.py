"""The shipped examples: the specs (and the answer sheet) in the top-level
``examples/`` folder, which the wheel installs as ``explainer/examples``.

A user who installed with pip has no checkout to copy them from, so the
command line lists them, prints one, and reads a spec by its name
(``explainer render xor``).  A spec is named by its file's stem (``xor``),
any other file by its whole name (``answers.txt``).  Only the standard
library is used: ``explainer examples`` must start at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from .errors import SpecError

SPEC_SUFFIX = ".toml"
# What the folder may hold besides specs: files for the other commands (an answer sheet for check).
_OTHER_SUFFIXES = (".txt", ".json")


@dataclass(frozen=True)
class Example:
    """One shipped example: the name it is asked for by, its file, and the line that describes it."""

    name: str
    path: Path
    summary: str

    @property
    def is_spec(self) -> bool:
        return self.path.suffix == SPEC_SUFFIX

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def examples_directory() -> Path:
    """The examples: inside the installed package, or beside it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "examples", package.parent / "examples"):
        if candidate.is_dir() and any(candidate.glob(f"*{SPEC_SUFFIX}")):
            return candidate
    raise FileNotFoundError("explainer's examples are missing from the installation")


def shipped_examples() -> tuple[Example, ...]:
    """Every shipped example, specs first, each group by name."""
    files = [path for path in examples_directory().iterdir()
             if path.is_file() and path.suffix in (SPEC_SUFFIX, *_OTHER_SUFFIXES)]
    found = [Example(_name(path), path, summary(path.read_text(encoding="utf-8"))) for path in files]
    return tuple(sorted(found, key=lambda example: (not example.is_spec, example.name)))


def example(name: str) -> Example:
    """The shipped example called ``name``; a ``SpecError`` naming the choices when there is none."""
    known = shipped_examples()
    for candidate in known:
        if candidate.name == name:
            return candidate
    raise SpecError("examples", "", f"no example named {name!r}{names_hint(name, [c.name for c in known])}")


def example_spec_path(name: str) -> Path | None:
    """The file of the shipped spec called ``name``, if there is one (``xor`` → …/examples/xor.toml)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    try:
        directory = examples_directory()
    except FileNotFoundError:
        return None
    path = directory / f"{name}{SPEC_SUFFIX}"
    return path if path.is_file() else None


def names_hint(name: str, names) -> str:
    """``; did you mean 'xor'?`` for a near miss, else the list of names to choose from."""
    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(names)}"


def example_names() -> tuple[str, ...]:
    """The names of the shipped specs, for messages that offer them."""
    return tuple(candidate.name for candidate in shipped_examples() if candidate.is_spec)


def summary(text: str) -> str:
    """The first sentence of a file's leading comment, else its title, else nothing."""
    comment = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        comment.append(stripped.lstrip("#").strip())
    words = " ".join(part for part in comment if part)
    if words:
        sentence, period, _ = words.partition(". ")
        return sentence.rstrip(".") + "." if period or sentence.endswith(".") else sentence
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if equals and key.strip() == "title":
            return value.strip().strip('"')
    return ""


def _name(path: Path) -> str:
    return path.stem if path.suffix == SPEC_SUFFIX else path.name
