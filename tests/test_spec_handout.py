"""The spec's title block (author, course, date) and handout layout, and replacing them from the command line."""

from __future__ import annotations

import pytest

from explainer.spec.errors import SpecError
from explainer.spec.reading import Handout, load_spec, parse_spec_text, with_overrides
from test_spec import BASE_TOML


def parsed(extra_top: str = "", handout: str = ""):
    text = extra_top + BASE_TOML + (f"\n[handout]\n{handout}\n" if handout else "")
    return parse_spec_text(text, "h.toml", "toml")


def test_defaults_leave_the_title_block_empty_and_the_layout_plain():
    spec = load_spec()
    assert (spec.author, spec.course, spec.date) == ("", "", "")
    assert spec.handout == Handout(paper="a4", equation_numbers=False, columns=1)


def test_title_block_and_handout_table_are_read():
    spec = parsed('author = "Ada Lovelace"\ncourse = "CS 101: Neural Networks"\ndate = "Spring 2025"\n',
                  'paper = "letter"\nequation_numbers = true\ncolumns = 2')
    assert (spec.author, spec.course, spec.date) == ("Ada Lovelace", "CS 101: Neural Networks", "Spring 2025")
    assert spec.handout == Handout(paper="letter", equation_numbers=True, columns=2)


def test_a_toml_date_is_printed_as_iso():
    assert parsed("date = 2025-03-12\n").date == "2025-03-12"


@pytest.mark.parametrize(
    "top, handout, field, message",
    [
        ("author = 3\n", "", "author", "expected a string, got 3"),
        ('course = "a\\nb"\n', "", "course", "expected a one-line string, got a line break"),
        ("date = 2025-03-12T10:00:00\n", "", "date", "expected a date such as 2025-03-12 or a string, got a time"),
        ("autor = \"x\"\n", "", "autor", "unknown key; did you mean 'author'?"),
        ("", 'paper = "a5"', "handout.paper", "unknown paper size 'a5'; expected 'a4' or 'letter'"),
        ("", 'paper = "leter"', "handout.paper", "did you mean 'letter'?"),
        ("", "columns = 3", "handout.columns", "expected 1 or 2 (the compact two-column layout), got 3"),
        ("", "columns = 2.0", "handout.columns", "got 2.0"),
        ("", "columns = true", "handout.columns", "got true"),
        ("", 'equation_numbers = "yes"', "handout.equation_numbers", "expected true or false, got the string 'yes'"),
        ("", 'colums = 2', "handout.colums", "unknown key; did you mean 'columns'?"),
    ],
)
def test_bad_title_block_or_handout_names_the_field(top, handout, field, message):
    with pytest.raises(SpecError) as error:
        parsed(top, handout)
    assert error.value.field == field and message in error.value.message, str(error.value)


def test_handout_must_be_a_table():
    with pytest.raises(SpecError, match="handout: expected a table"):
        parse_spec_text(BASE_TOML.replace('title = "T"', 'title = "T"\nhandout = 2'), "h.toml", "toml")


def test_overrides_replace_fields_checked_as_the_spec_checks_them():
    spec = with_overrides(load_spec(), {"title": "Week 3", "author": "Ada", "handout.columns": 2,
                                        "handout.paper": "letter", "handout.equation_numbers": True})
    assert (spec.title, spec.author, spec.course) == ("Week 3", "Ada", "")
    assert spec.handout == Handout(paper="letter", equation_numbers=True, columns=2)
    assert with_overrides(spec, {}) == spec
    with pytest.raises(SpecError) as error:
        with_overrides(spec, {"course": "two\nlines"})
    assert str(error.value) == "the command line: course: expected a one-line string, got a line break"


def test_an_override_of_a_field_that_is_not_a_document_field_is_a_bug():
    with pytest.raises(ValueError):
        with_overrides(load_spec(), {"network.layers": [1, 1]})
