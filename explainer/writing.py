"""Writing a run's files all together or not at all.

Every file is first written whole into a staging folder made inside the
folder it belongs in (so that the final rename stays on one file system),
then all are renamed into place; a file they replace is kept aside until
every rename has succeeded.  Any failure (a full disk, a name that is a
folder, no permission) undoes what was done, leaves every folder as it was,
and is reported as one ``ExplainerError`` naming the file the user asked
for, never a temporary one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

from .spec.errors import ExplainerError

STAGING_PREFIX = ".explainer-"


def write_all(files: Mapping[Path, str | bytes]) -> None:
    """Write each ``path → content`` (text as UTF-8 with ``\\n`` line ends); all of them, or none."""
    for path in files:
        if path.is_dir():
            raise ExplainerError(f"{path}: is a folder; expected a file name (or end the name with / for a folder)")
    created: list[Path] = []
    staging: dict[Path, Path] = {}
    placed: list[tuple[Path, Path | None]] = []
    current = None
    try:
        for path, content in files.items():
            current = path
            folder = path.parent
            if folder not in staging:
                created += _made_folders(folder)
                staging[folder] = Path(tempfile.mkdtemp(dir=folder, prefix=STAGING_PREFIX))
            _write_file(staging[folder] / path.name, content)
        for path in files:
            current = path
            kept = None
            if os.path.lexists(path):
                kept = staging[path.parent] / f".kept-{path.name}"
                os.replace(path, kept)
            placed.append((path, kept))
            os.replace(staging[path.parent] / path.name, path)
    except OSError as error:
        _undo(placed, staging, created)
        raise ExplainerError(f"{current}: cannot write: {error.strerror or error}") from None
    except BaseException:
        _undo(placed, staging, created)
        raise
    for folder in staging.values():
        shutil.rmtree(folder, ignore_errors=True)


def _write_file(path: Path, content: str | bytes) -> None:
    """One file, whole; the mode any new file would get (mkstemp's would be private)."""
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def _made_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, outermost first."""
    missing = []
    at = folder
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def _undo(placed, staging, created) -> None:
    """Put back every file that was replaced, remove every new one, the staging and the new folders."""
    for path, kept in reversed(placed):
        try:
            if kept is not None:
                os.replace(kept, path)
            elif os.path.lexists(path):
                os.unlink(path)
        except OSError:
            pass
    for folder in staging.values():
        shutil.rmtree(folder, ignore_errors=True)
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            pass
