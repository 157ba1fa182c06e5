"""The user's cache folder, where the command line keeps a shape's compiled work between runs.

A render of a network differentiates its fully composed E_total with SymPy,
the larger part of a small render's time; the derivatives depend only on the
network's shape, so they are kept here, compiled, and a later run of the same
shape evaluates them at its own point instead of differentiating again.  The
check itself still runs every time.

One small file a shape, and one for what every shape shares (what SymPy
says of a net input's generic terms): a run that finds both imports no SymPy
at all.  A file is named by a hash of what it holds the work of and of the
code that made it (explainer's mathematics, SymPy and mpmath), so a new
version never reads an old one's files.  The folder is
``$XDG_CACHE_HOME/explainer/shapes`` (``~/.cache/explainer/shapes``), beside
the compiled templates, and ``EXPLAINER_NO_CACHE=1`` turns both off.  A
folder that cannot be read or written is no error: the work is done again.
Since the kept functions are code that runs, a file is read only where it
and its folder are the user's own and no one else may write them.
Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

OFF = "EXPLAINER_NO_CACHE"


def user_store() -> FolderStore | None:
    """The user's cache folder for shapes, or None where ``EXPLAINER_NO_CACHE`` turns it off."""
    if os.environ.get(OFF, "") not in ("", "0"):
        return None
    try:
        # As the XDG base directories have it: a relative $XDG_CACHE_HOME is ignored.
        given = os.environ.get("XDG_CACHE_HOME", "")
        root = Path(given) if os.path.isabs(given) else Path.home() / ".cache"
    except RuntimeError:  # no home directory to be found
        return None
    return FolderStore(root / "explainer" / "shapes")


class FolderStore:
    """Texts by name, one file each, in a folder made when the first is written."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._version: str | None = None

    def _path(self, name: str) -> Path:
        if self._version is None:
            self._version = _code_version()
        digest = hashlib.sha256(f"{self._version}\n{name}".encode()).hexdigest()
        return self.folder / f"{digest[:40]}.json"

    def get(self, name: str) -> str | None:
        """The text kept under ``name``, if its file and folder are the user's own and no one else may write
        them: what the folder holds is code that runs."""
        try:
            path = self._path(name)
            if not (_owned(path.parent) and _owned(path)):
                return None
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, name: str, text: str) -> None:
        """Write the file whole or not at all (a reader never sees half of it), and say nothing if it fails."""
        try:
            path = self._path(name)
            path.parent.parent.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(text)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            pass


def _owned(path: Path) -> bool:
    """Whether ``path`` belongs to this user and only this user may write it (always, where there are no
    owners to ask)."""
    if not hasattr(os, "getuid"):
        return True
    status = path.stat()
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _code_version() -> str:
    """What the kept work depends on besides its shape: the mathematics' source, SymPy's and mpmath's versions."""
    import mpmath

    from . import __version__

    digest = hashlib.sha256()
    for part in ("maths", "spec"):
        for path in sorted((Path(__file__).parent / part).glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"explainer {__version__} {digest.hexdigest()} sympy {_sympy_version()} mpmath {mpmath.__version__}"


def _sympy_version() -> str:
    """SymPy's version, read off its ``release.py`` without importing SymPy: a run that finds its
    shape's work kept needs none of SymPy, whose import is the larger part of a small run's time."""
    import importlib.util

    spec = importlib.util.find_spec("sympy")
    release = Path(spec.origin).with_name("release.py") if spec and spec.origin else None
    try:
        text = release.read_text(encoding="utf-8") if release else ""
    except OSError:
        text = ""
    found = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if found:
        return found.group(1)
    import sympy

    return sympy.__version__
