"""The rows of an export, and its CSV files, from the cases as they are stored.

What is the same for every case (the columns kept, the option labels, the statuses and the
languages' names in the member's language) is worked out once, by ``bot.reports``, into
:class:`Columns`, plain data; a stored case (:class:`~bot.storage.cases.Record`) then becomes
its row with a dictionary lookup or two a cell. On years of cases the rows are most of an
export's time.

This module imports neither Telegram nor Babel: an export of years of cases is written by
processes started for it, and each imports this module and the storage alone (about a tenth
of a second) instead of the bot (more than half a second).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.crypto import Cipher
from bot.storage import cases as case_repo
from bot.storage.cases import Record

# A spreadsheet runs a cell that starts with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
CHOSEN = ("multi", "choice")
DAY = timedelta(days=1)
BOM = "\ufeff".encode()


def neutralise(cell: str) -> str:
    """The cell as text a spreadsheet shows and never runs: ``'`` before a formula start.

    What people typed (a name such as ``=HYPERLINK(...)``) reaches the full export; a plain
    number, negative ones included, stays a number.
    """
    if cell.startswith(FORMULA_STARTS) and NUMBER.fullmatch(cell) is None:
        return "'" + cell
    return cell


def unchanged(cell: str) -> str:
    """The cell as it is (a workbook marks its text cells itself)."""
    return cell


@dataclass(frozen=True)
class Column:
    """One step of the form kept in an export: its id, its kind, and for a choice its
    options' labels (option id to label) in the member's language."""

    id: str
    kind: str
    labels: dict[str, str] | None = None


@dataclass
class Columns:
    """The columns of one export in one language: the header, and each case's row.

    ``safe`` is applied to every cell whose text is not the export's own (an answer, a
    label, a name): :func:`neutralise` for CSV, :func:`unchanged` for a workbook, which marks
    its text cells itself. Labels, statuses and languages are made safe here, once.
    """

    header: list[str]
    steps: list[Column]
    statuses: dict[str, str]
    languages: dict[str, str]
    separator: str
    voice: str
    tz: ZoneInfo
    full: bool
    safe: Callable[[str], str] = neutralise
    _cells: list[tuple[str, dict[str, str] | None, dict[str, str]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        safe = self.safe
        self.header = [safe(name) for name in self.header]
        self.statuses = {key: safe(name) for key, name in self.statuses.items()}
        self.languages = {key: safe(name) for key, name in self.languages.items()}
        self.voice = safe(self.voice)
        # Per step: its id, its labels (None but for a choice), and each label made safe
        # (an answer that is one option).
        self._cells = [
            (s.id, s.labels, {k: safe(v) for k, v in (s.labels or {}).items()}) for s in self.steps
        ]

    def cells(self, answers: dict[str, object]) -> list[str]:
        """The answers as the export shows them, a cell a step: option labels (several
        joined), the words of a voice note's text, or the value."""
        safe, separator = self.safe, self.separator
        row: list[str] = []
        for step_id, labels, single in self._cells:
            value = answers.get(step_id)
            if value is None:
                row.append("")
            elif labels is not None:
                if isinstance(value, list):
                    chosen = [label for i in value if (label := labels.get(str(i)))]
                    row.append(safe(separator.join(chosen)))
                else:
                    row.append(single.get(str(value), ""))
            elif isinstance(value, dict):
                row.append(safe(str(value["text"])) if "text" in value else self.voice)
            else:
                row.append(safe(str(value)))
        return row

    def status(self, status: str) -> str:
        """A status in the member's language (an unknown one as stored)."""
        found = self.statuses.get(status)
        return self.safe(status) if found is None else found

    def anonymous_row(self, number: int, record: Record) -> list[str]:
        """One case in the anonymised export: no reference, name, phone, area or free text."""
        created = datetime.fromisoformat(record.created_at)
        local = created.astimezone(self.tz)
        row = [str(number), self.status(record.status), f"{local.year:04d}-{local.month:02d}"]
        row += self.cells(json.loads(record.answers))
        if record.decided_at:
            days = (datetime.fromisoformat(record.decided_at) - created) / DAY
            row.append(f"{days:.1f}")
        else:
            row.append("")
        return row

    def full_row(self, record: Record, cipher: Cipher) -> list[str]:
        """One case in the full export: every answer, personal ones included."""
        answers = json.loads(record.answers)
        if record.sealed is not None:
            answers.update(cipher.decrypt_json(record.sealed))
        safe = self.safe
        created = datetime.fromisoformat(record.created_at).astimezone(self.tz)
        language = self.languages.get(record.language)
        language = safe(record.language) if language is None else language
        row = [safe(record.ref), self.status(record.status)]
        row += [created.isoformat(timespec="minutes"), language]
        row += self.cells(answers)
        decided = record.decided_at
        row.append(safe(record.decided_by_name or ""))
        row.append(
            datetime.fromisoformat(decided).astimezone(self.tz).date().isoformat()
            if decided
            else ""
        )
        row.append(safe(record.support_until or ""))
        return row


def csv_bytes(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """A whole CSV file (a few rows): UTF-8 with a byte-order mark."""
    return BOM + _lines([header, *rows])


def _lines(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def header_bytes(header: list[str]) -> bytes:
    """A file's first line: the byte-order mark and the header."""
    return csv_bytes(header, ())


@dataclass(frozen=True)
class Export:
    """A written export: its files (in order, in a temporary folder) and how many cases."""

    files: list[Path]
    cases: int


@dataclass(frozen=True)
class Job:
    """Everything an export's worker needs, and nothing that cannot cross to a process: the
    database file, the keys for a full export only (they go through a pipe to a child of the
    bot, never to disk; an anonymised export decrypts nothing), the columns worked out in the
    member's language, and which run of the cases: the ids after ``after`` up to ``until``,
    ``before`` cases before it."""

    path: Path
    cipher: Cipher | None
    columns: Columns
    folder: Path
    max_bytes: int
    after: int = 0
    until: int | None = None
    before: int = 0
    prefix: str = "part"


def write(job: Job) -> Export:
    """Read the job's cases page by page and write their files (in a thread or a process)."""
    columns, cipher, number = job.columns, job.cipher, job.before
    files = CsvFiles(job.folder, columns.header, job.max_bytes, job.prefix)
    pages = case_repo.read_records(
        job.path, personal=columns.full, after=job.after, until=job.until
    )
    try:
        for page in pages:
            if columns.full:
                assert cipher is not None, "a full export's job carries the keys"
                files.write([columns.full_row(record, cipher) for record in page])
            else:
                files.write(
                    [columns.anonymous_row(number + i, r) for i, r in enumerate(page, start=1)]
                )
            number += len(page)
        files.finish()
    finally:
        files.close()
    return Export(files.files, number - job.before)


def join(runs: Sequence[Export], header: int, max_bytes: int) -> list[Path]:
    """The files of consecutive runs as one export: a run's first file goes on at the end of
    the previous run's last one (without its header) when both fit under ``max_bytes``, so
    an export that fits in one file is one file, whoever wrote it."""
    files: list[Path] = []
    for run in runs:
        parts = list(run.files)
        if files and run.cases == 0:
            for empty in parts:
                empty.unlink()
            continue
        if files and parts:
            last, first = files[-1], parts[0]
            if last.stat().st_size + first.stat().st_size - header <= max_bytes:
                with last.open("ab") as out, first.open("rb") as data:
                    data.seek(header)
                    shutil.copyfileobj(data, out)
                first.unlink()
                parts = parts[1:]
        files += parts
    return files


class CsvFiles:
    """CSV files of at most ``max_bytes`` each, every one starting with the header. Rows
    come a page at a time, and are encoded a page at a time."""

    def __init__(self, folder: Path, header: list[str], max_bytes: int, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.header = header
        self.max_bytes = max_bytes
        self.files: list[Path] = []
        self._out: io.BufferedWriter | None = None
        self._size = max_bytes

    def write(self, rows: list[list[str]]) -> None:
        """The rows, in this file if they fit, else each where it fits (a new file when one
        would go over the limit; a row longer than the limit alone in its file)."""
        data = _lines(rows)
        if self._out is None or self._size + len(data) > self.max_bytes:
            if len(rows) > 1:
                for row in rows:
                    self.write([row])
                return
            self._open()
        assert self._out is not None
        self._out.write(data)
        self._size += len(data)

    def _open(self) -> None:
        self.close()
        self.files.append(self.folder / f"{self.prefix}-{len(self.files) + 1}.csv")
        self._out = self.files[-1].open("wb")
        self._out.write(header_bytes(self.header))
        self._size = self._out.tell()

    def finish(self) -> None:
        """With no case at all, one file with the header alone."""
        if not self.files:
            self._open()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
