"""Student ids: read from a roster, or numbered; each one safe as a file name.

A student's id names their files (``questions/ID.md``, ``keys/ID.json``, the
sheet ``ID.txt`` they hand in) and, with the seed, picks their numbers.  So an
id is a few letters, digits, ``-`` and ``_``: no spaces, dots, slashes or
characters some file system refuses, nor a name Windows keeps for a device
(``CON``, ``NUL``, ``COM1``, …), and two ids may not differ only in case
(they would be one file on macOS and Windows).
"""

from __future__ import annotations

import re

from ..spec.errors import ExerciseError

MAX_LENGTH = 64
MAX_COUNT = 10_000
_SAFE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_LENGTH - 1}}}")
# Names Windows keeps for devices, whatever the extension: CON.md is not a file there.
_RESERVED = re.compile(r"(?:con|prn|aux|nul|com[1-9]|lpt[1-9])", re.IGNORECASE)
SAFE_IDS = (f"letters, digits, - and _, starting with a letter or digit, at most {MAX_LENGTH} characters, "
            "and not a device name such as CON or NUL")


def read_roster(text: str, source: str) -> tuple[str, ...]:
    """The ids of a roster, one per line, in the order listed; ``source`` names it in errors."""
    text = text.removeprefix("\ufeff")
    ids: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        student = line.strip()
        if not student:
            raise ExerciseError(f"{source}: line {number}: blank line; expected one student id per line")
        if not is_safe(student):
            raise ExerciseError(f"{source}: line {number}: {student!r} cannot name a file; expected {SAFE_IDS}")
        folded = student.casefold()
        if folded in seen:
            raise ExerciseError(f"{source}: line {number}: {student!r} repeats line {seen[folded]}; "
                                f"expected each student once (ids that differ only in case name one file)")
        seen[folded] = number
        ids.append(student)
    if not ids:
        raise ExerciseError(f"{source}: no students; expected one student id per line")
    return tuple(ids)


def numbered(count: int) -> tuple[str, ...]:
    """``count`` ids, 1 to count, zero-padded to one width so that they sort in order: 01 … 12."""
    if not 1 <= count <= MAX_COUNT:
        raise ExerciseError(f"--count: expected 1 to {MAX_COUNT} students, got {count}")
    width = len(str(count))
    return tuple(f"{n:0{width}d}" for n in range(1, count + 1))


def is_safe(student: str) -> bool:
    return _SAFE.fullmatch(student) is not None and _RESERVED.fullmatch(student) is None


def checked_id(student: str, where: str) -> str:
    """``student`` if it is a safe id; ``where`` names the option or file in the error."""
    if not is_safe(student):
        raise ExerciseError(f"{where}: {student!r} is not a student id; expected {SAFE_IDS}")
    return student
