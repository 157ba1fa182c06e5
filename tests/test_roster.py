"""Student ids: a roster read line by line, or numbered; each one safe as a file name."""

from __future__ import annotations

import pytest

from explainer.spec.errors import ExerciseError
from explainer.exercises.roster import checked_id, numbered, read_roster


def test_a_roster_in_its_order():
    assert read_roster("alice\nbob_2\nC-3PO\nconrad\ncom10\n", "r.txt") == ("alice", "bob_2", "C-3PO", "conrad", "com10")
    assert read_roster("\ufeffalice\r\n  bob  \r\n", "r.txt") == ("alice", "bob")  # a BOM, CRLF, spaces around


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alice\n\nbob\n", "r.txt: line 2: blank line; expected one student id per line"),
        ("alice\nbob\n \n", "r.txt: line 3: blank line; expected one student id per line"),
        ("alice\nbob\nalice\n", "r.txt: line 3: 'alice' repeats line 1; expected each student once"),
        ("Alice\nalice\n", "r.txt: line 2: 'alice' repeats line 1;"),
        ("ada lovelace\n", "r.txt: line 1: 'ada lovelace' cannot name a file; expected letters, digits, - and _"),
        ("../etc\n", "r.txt: line 1: '../etc' cannot name a file"),
        ("a.b\n", "r.txt: line 1: 'a.b' cannot name a file"),
        ("-rf\n", "r.txt: line 1: '-rf' cannot name a file"),
        ("zoë\n", "r.txt: line 1: 'zoë' cannot name a file"),
        ("ada\nNul\n", "r.txt: line 2: 'Nul' cannot name a file"),
        ("com1\n", "r.txt: line 1: 'com1' cannot name a file"),
        ("x" * 65 + "\n", "cannot name a file"),
        ("", "r.txt: no students; expected one student id per line"),
    ],
)
def test_a_bad_roster_is_one_line(text, message):
    with pytest.raises(ExerciseError) as caught:
        read_roster(text, "r.txt")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_numbered_students_sort_in_order():
    assert numbered(3) == ("1", "2", "3")
    assert numbered(12)[:2] == ("01", "02") and numbered(12)[-1] == "12"
    assert list(numbered(100)) == sorted(numbered(100))
    for count in (0, -1, 10_001):
        with pytest.raises(ExerciseError, match="--count: expected 1 to 10000 students"):
            numbered(count)


def test_a_student_id_given_alone():
    assert checked_id("alice", "--student") == "alice"
    with pytest.raises(ExerciseError, match=r"^--student: 'a/b' is not a student id; expected letters"):
        checked_id("a/b", "--student")
