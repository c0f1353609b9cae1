"""The export as Excel workbooks (.xlsx), without Telegram.

The same columns as the CSV export (``bot.reports``), with what CSV cannot say: dates are
dates and counts are numbers (a spreadsheet sorts and sums them), the header row stays in
view, and the sheets run right to left for a member who reads Arabic. A second sheet lists
the support given, a third the volunteers' totals (a number each, never a reference). Text
is written as a string, which a workbook never runs as a formula: what :func:`neutralise`
still marks is only what a spreadsheet would run once the sheet is saved again as CSV.

XlsxWriter's ``constant_memory`` mode writes each row to a temporary file as it comes, and
the cases and the support are read page by page: years of cases never sit in memory. Like the
CSV, an export that would go over Telegram's upload limit comes as several workbooks, each
with every sheet and its header.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from bot import contributions, reports
from bot.crypto import Cipher
from bot.export_rows import NUMBER, Column, Columns, Export, unchanged
from bot.export_rows import neutralise as neutralise_csv
from bot.forms import Form
from bot.i18n import N_, Translator
from bot.ids import Ids
from bot.reports import MAX_FILE_BYTES
from bot.storage import Database
from bot.storage import cases as case_repo
from bot.storage import support as support_repo
from bot.storage.cases import Record
from bot.storage.db import parse_iso
from bot.storage.support import Support
from bot.support import OTHER
from bot.support_text import kind_label


class Month(date):
    """A month, written ``yyyy-mm`` (the anonymised export gives no day)."""


Cell = str | int | float | Decimal | date | datetime | None

# Excel's limit is 1,048,576 rows a sheet; a workbook is closed well before it.
MAX_ROWS = 1_000_000
# What one cell adds to a sheet's XML besides its text (its tag, reference and type): the
# text plus this, summed, is more than the compressed file, so a part stays under the limit.
CELL_OVERHEAD = 48
ROW_OVERHEAD = 48  # and a row, its tag and span
SHEET_OVERHEAD = 1024  # and a sheet, its view, frozen pane and column widths
SHEET_NAME = re.compile(r"[\[\]:*?/\\\u2066-\u2069]")
# A phone number as typed (``+962 79 123 4567``): saved again as CSV and reopened, a
# spreadsheet reads it as a number at worst, never as a call, a reference or a command.
PLAIN_NUMBER = re.compile(r"[+-]?[\d ]+")

RECEIPTS = {
    support_repo.PENDING: N_("Waiting for the family"),
    support_repo.RECEIVED: N_("Receipt confirmed by the family"),
    support_repo.NOT_RECEIVED: N_("Not received, says the family"),
    support_repo.UNANSWERED: N_("No answer from the family"),
}


def neutralise(cell: str) -> str:
    """Text a workbook shows as typed and no spreadsheet runs, even after a save as CSV.

    In the workbook itself a string cell is never a formula, so the CSV's apostrophe would
    only be noise on every phone number. What it still marks is what could run once the sheet
    is saved as CSV and opened again (``=HYPERLINK(...)``, ``@SUM(...)``, ``+cmd|...``):
    everything the CSV neutralises but a number, digits and spaces after one sign.
    """
    return cell if PLAIN_NUMBER.fullmatch(cell) else neutralise_csv(cell)


def _sheet_name(title: str) -> str:
    """A name Excel accepts: none of ``[]:*?/\\`` (nor bidi isolates), at most 31 characters."""
    return SHEET_NAME.sub("", title).strip()[:31] or "Sheet"


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A moment as the organisation's wall-clock time: Excel dates have no time zone."""
    return moment.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def _number(text: str) -> Cell:
    """A number answer as a number (an empty one stays empty)."""
    if NUMBER.fullmatch(text) is None:
        return text
    return float(text) if "." in text else int(text)


def _numbered(offset: int, row: list[Cell], steps: Sequence[Column]) -> None:
    """The number answers of ``row`` (from column ``offset``, one a step) as numbers."""
    for index, step in enumerate(steps, start=offset):
        if step.kind == "number" and isinstance(row[index], str):
            row[index] = _number(str(row[index]))


def full_cells(columns: Columns, record: Record, cipher: Cipher, tz: ZoneInfo) -> list[Cell]:
    """The CSV's full row, with the submission and decision as dates and counts as numbers."""
    row: list[Cell] = list(columns.full_row(record, cipher))
    row[2] = _local(parse_iso(record.created_at), tz)
    _numbered(4, row, columns.steps)
    decided = record.decided_at
    row[-2] = parse_iso(decided).astimezone(tz).date() if decided else None
    row[-1] = _day(record.support_until)
    return row


def _day(text: str | None) -> Cell:
    """A stored day (``YYYY-MM-DD``) as a date; anything else as it is."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return text


def anonymised_cells(columns: Columns, number: int, record: Record, tz: ZoneInfo) -> list[Cell]:
    """The CSV's anonymised row, with the number, the month and the days as values."""
    row: list[Cell] = list(columns.anonymous_row(number, record))
    local = parse_iso(record.created_at).astimezone(tz)
    row[0], row[2] = number, Month(local.year, local.month, 1)
    _numbered(3, row, columns.steps)
    row[-1] = float(str(row[-1])) if row[-1] else None
    return row


def support_header(t: Translator, *, full: bool) -> list[str]:
    """The columns of the support sheet: the case (its reference, or its number in the
    anonymised cases sheet), what (and, in the full one, the member's words for an "other"
    kind), how much, when, and the family's answer."""
    first = t.raw("Reference") if full else "#"
    header = [first, t.raw("Support type")]
    header += [t.raw("What was given")] if full else []
    header += [t.raw("Amount"), t.raw("Currency")]
    header += [t.raw("Given on") if full else t.raw("Month"), t.raw("Receipt")]
    return [*header, t.raw("Note")] if full else header


def support_cells(
    t: Translator, form: Form, given: Support, case: Cell, *, full: bool
) -> list[Cell]:
    """One delivery; the anonymised sheet has its month only, and none of the member's words."""
    when: Cell = given.given_on if full else Month(given.given_on.year, given.given_on.month, 1)
    row: list[Cell] = [case, kind_label(t, form, given.kind)]
    if full:
        row.append(given.other if given.kind == OTHER and given.other else "")
    row += [
        given.amount,
        given.currency or "",
        when,
        t.raw(RECEIPTS.get(given.receipt, given.receipt)),
    ]
    return [*row, given.note or ""] if full else row


def volunteer_cells(row: list[str]) -> list[Cell]:
    """A volunteer's row of the export (their number, tasks done, hours) as numbers."""
    number, tasks, hours = row
    return [int(number), int(tasks), float(hours)]


class _Workbooks:
    """Workbooks of the same sheets, each under about ``max_bytes``, rows written as they come."""

    def __init__(
        self,
        folder: Path,
        sheets: list[tuple[str, list[str]]],
        *,
        rtl: bool,
        max_bytes: int,
    ) -> None:
        self.folder = folder
        self.sheets = sheets
        self.rtl = rtl
        self.max_bytes = max_bytes
        self.files: list[Path] = []
        self._book: Any = None
        self._pages: list[Any] = []
        self._rows: list[int] = []
        self._size = 0
        self._formats: dict[str, Any] = {}

    def write(self, sheet: int, row: list[Cell]) -> None:
        """One row of sheet ``sheet`` (0: cases, 1: support, 2: volunteers), in a new workbook
        when this one is full."""
        size = ROW_OVERHEAD + sum(
            CELL_OVERHEAD + len(str(c).encode("utf-8")) for c in row if c is not None
        )
        full = self._book is None or self._size + size > self.max_bytes
        if full or self._rows[sheet] >= MAX_ROWS:
            self._open()
        page, number = self._pages[sheet], self._rows[sheet]
        for column, cell in enumerate(row):
            self._cell(page, number, column, cell)
        self._rows[sheet] += 1
        self._size += size

    def _cell(self, page: Any, row: int, column: int, cell: Cell) -> None:
        if cell is None or cell == "":
            return
        if isinstance(cell, str):
            page.write_string(row, column, neutralise(cell))
        elif isinstance(cell, Month):
            page.write_datetime(row, column, datetime(cell.year, cell.month, 1), self._f("month"))
        elif isinstance(cell, datetime):
            page.write_datetime(row, column, cell, self._f("datetime"))
        elif isinstance(cell, date):
            page.write_datetime(
                row, column, datetime(cell.year, cell.month, cell.day), self._f("date")
            )
        else:
            page.write_number(row, column, float(cell) if isinstance(cell, Decimal) else cell)

    def _f(self, name: str) -> Any:
        return self._formats[name]

    def _open(self) -> None:
        self.close()
        self.files.append(self.folder / f"part-{len(self.files) + 1}.xlsx")
        options = {"constant_memory": True, "tmpdir": str(self.folder)}
        self._book = xlsxwriter.Workbook(str(self.files[-1]), options)
        bold = self._book.add_format({"bold": True})
        self._formats = {
            "date": self._book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": self._book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "month": self._book.add_format({"num_format": "yyyy-mm"}),
        }
        self._pages, self._rows, self._size = [], [], 0
        for title, header in self.sheets:
            page = self._book.add_worksheet(_sheet_name(title))
            if self.rtl:
                page.right_to_left()
            page.freeze_panes(1, 0)
            page.set_column(0, len(header) - 1, 16)
            for column, cell in enumerate(header):
                page.write_string(0, column, neutralise(cell), bold)
            self._pages.append(page)
            self._rows.append(1)
            self._size += SHEET_OVERHEAD + ROW_OVERHEAD
            self._size += sum(CELL_OVERHEAD + len(c.encode("utf-8")) for c in header)

    def finish(self) -> None:
        """With nothing at all, one workbook with the headers alone."""
        if not self.files:
            self._open()

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None


@dataclass
class _Progress:
    """The cases written so far, and how the support sheet names each one."""

    number: int = 0
    names: dict[int, Cell] = field(default_factory=dict)


async def write_export(
    db: Database,
    ids: Ids,
    t: Translator,
    form: Form,
    tz: ZoneInfo,
    folder: Path,
    *,
    full: bool,
    max_bytes: int | None = None,
) -> Export:
    """Write the full or the anonymised export as .xlsx workbooks in ``folder``.

    Cases, then support given, are read page by page (the cases on a connection of the
    thread's own, the support on a reader connection) and written in a thread as they come
    (a full row decrypts); then the volunteers' totals, one row per volunteer.
    """
    columns = reports.columns(t, form, tz, full=full, safe=unchanged)
    sheets = [
        (t.raw("Cases"), columns.header),
        (t.raw("Support given"), support_header(t, full=full)),
        (t.raw("Volunteers"), contributions.export_header(t)),
    ]
    books = _Workbooks(folder, sheets, rtl=t.rtl, max_bytes=max_bytes or MAX_FILE_BYTES)
    done = _Progress()
    names = done.names

    def cases() -> None:
        for page in case_repo.read_records(db.path, personal=full):
            for record in page:
                done.number += 1
                if full:
                    books.write(0, full_cells(columns, record, ids.cipher, tz))
                    names[record.id] = record.ref
                else:
                    books.write(0, anonymised_cells(columns, done.number, record, tz))
                    names[record.id] = done.number

    def given(page: list[Support]) -> None:
        for row in page:
            books.write(1, support_cells(t, form, row, names.get(row.case_id), full=full))

    def volunteers(rows: list[list[str]]) -> None:
        for row in rows:
            books.write(2, volunteer_cells(row))

    try:
        await asyncio.to_thread(cases)
        async with db.reader() as reader:
            async for records in support_repo.pages(reader, ids):
                await asyncio.to_thread(given, records)
        totals = contributions.export_rows(await contributions.of_everyone(db))
        await asyncio.to_thread(volunteers, totals)
        books.finish()
    finally:
        await asyncio.to_thread(books.close)
    return Export(books.files, done.number)
