"""Reading an uploaded spreadsheet (CSV or XLSX) into rows of cells.

Nothing in a file is ever run: a cell that starts with ``=`` is the text
the person typed, in a CSV as in a workbook (formulas are read, not
computed). Limits are checked before and while reading, so a small file
that unpacks into a huge one is refused instead of filling the memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.i18n import N_
from server.participants.forms import Problem

MAX_BYTES = 512 * 1024  # the file travels back with the confirmation: under the body limit
MAX_ROWS = 2000
MAX_COLUMNS = 30
MAX_UNPACKED = 20 * 1024 * 1024  # an XLSX is a zip; what it may unpack into

Cell = str | date | float | int | None
Row = tuple[int, list[Cell]]  # the row's number as the spreadsheet shows it, its cells


class Unreadable(Exception):
    """The file as a whole cannot be used; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class Sheet:
    format: str  # "csv" | "xlsx"
    rows: list[Row]  # rows with anything in them, the header first


def kind_of(filename: str) -> str | None:
    name = filename.lower().strip()
    if name.endswith(".csv") or name.endswith(".txt"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    return None


def read(filename: str, content: bytes) -> Sheet:
    """The rows of the file, the header row first.

    Raises:
        Unreadable: not a CSV or XLSX file, too large, too many rows, or damaged.
    """
    kind = kind_of(filename)
    if kind is None:
        raise Unreadable(Problem(N_("Please choose a CSV or XLSX file (a spreadsheet).")))
    if len(content) > MAX_BYTES:
        raise Unreadable(
            Problem(
                N_("The file is too large. Most kilobytes allowed: %(max)s."),
                {"max": MAX_BYTES // 1024},
            )
        )
    return Sheet(kind, _csv(content) if kind == "csv" else _xlsx(content))


def _keep(rows: list[Row], number: int, row: list[Cell]) -> None:
    """Add a row that has anything in it; blank rows are not counted."""
    if any(_filled(cell) for cell in row):
        if len(rows) > MAX_ROWS:  # the header and MAX_ROWS rows
            raise _too_many()
        rows.append((number, row))


def _too_many() -> Unreadable:
    return Unreadable(
        Problem(N_("The file has too many rows. Most rows allowed: %(max)s."), {"max": MAX_ROWS})
    )


def _filled(cell: Cell) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))


def _csv(content: bytes) -> list[Row]:
    # Excel's "Unicode Text" is UTF-16 with its byte-order mark (and tabs).
    encoding = "utf-16" if content[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        # utf-8-sig: Excel writes a byte-order mark, most other tools do not.
        text = content.decode(encoding)
    except UnicodeDecodeError as error:
        raise Unreadable(
            Problem(N_('Please save the file as CSV in UTF-8 (Excel: "CSV UTF-8") and try again.'))
        ) from error
    if "\x00" in text:
        raise Unreadable(Problem(N_("This file could not be read as a spreadsheet.")))
    # Excel in Russian, Kazakh or French writes ";" between columns; others ",".
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    rows: list[Row] = []
    try:
        # Records, not lines: a quoted cell may hold a new line. Spreadsheets
        # number records, so that is what an officer looks for.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, row in enumerate(reader, start=1):
            _keep(rows, number, list(row[:MAX_COLUMNS]))
    except csv.Error as error:
        raise Unreadable(Problem(N_("This file could not be read as a spreadsheet."))) from error
    return rows


def _xlsx(content: bytes) -> list[Row]:
    from openpyxl import load_workbook

    damaged = Unreadable(Problem(N_("This file could not be read as a spreadsheet.")))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise Unreadable(
                    Problem(
                        N_("The file is too large. Most kilobytes allowed: %(max)s."),
                        {"max": MAX_BYTES // 1024},
                    )
                )
        # read_only streams the sheet; data_only=False keeps a formula as its text.
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Unreadable:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise damaged from error
    try:
        sheet = book.worksheets[0]
        rows: list[Row] = []
        cells = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        for number, values in enumerate(cells, start=1):
            _keep(rows, number, [_cell(value) for value in values])
    except Unreadable:
        raise
    except Exception as error:
        raise damaged from error
    finally:
        book.close()
    return rows


def _cell(value: Any) -> Cell:
    if isinstance(value, datetime):
        return value.date()  # Excel's date cells come as midnight datetimes
    if isinstance(value, date | str | int | float) and not isinstance(value, bool):
        return value
    return None if value is None else str(value)
