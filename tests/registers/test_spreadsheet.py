"""The one CSV-injection guard that every export writes its cells through."""

import datetime

import pytest

from registers.spreadsheet import spreadsheet_cell, spreadsheet_row


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://evil.example","Klikkaa")', '\'=HYPERLINK("http://evil.example","Klikkaa")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("-15", "'-15"),
        ("+358401234567", "'+358401234567"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("Merituuli Oy", "Merituuli Oy"),
        ("a=b", "a=b"),
        ("'already text", "'already text"),
        ("", ""),
        (None, ""),
        (-15, "'-15"),
        (42, "42"),
    ],
)
def test_a_cell_that_starts_like_a_formula_gets_a_quote(value, expected):
    assert spreadsheet_cell(value) == expected


def test_a_row_is_its_cells():
    at = datetime.datetime(2030, 1, 2, 3, 4, tzinfo=datetime.UTC)
    assert spreadsheet_row(at.isoformat(), None, "@staff", "Oy") == ["2030-01-02T03:04:00+00:00", "", "'@staff", "Oy"]
    assert spreadsheet_row() == []
