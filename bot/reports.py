"""Exports and statistics of cases, without Telegram.

The full export carries personal data (it is audited and sent only to a member in private);
the anonymised one carries no reference, name, phone, area or free text, only what a report
needs. Both are CSV in UTF-8 with a byte-order mark, so spreadsheet programs show Arabic
correctly, and in both a cell that a spreadsheet would run as a formula is made text.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.crypto import Cipher
from bot.forms import CHILDREN, HOUSEHOLD_SIZE, SITUATION, SUPPORT, URGENCY, Form
from bot.i18n import Translator, available_languages
from bot.ids import Ids
from bot.render import status_label
from bot.review import days_between
from bot.storage import Database, audit
from bot.storage import cases as case_repo
from bot.storage.cases import Case, personal
from bot.workflow import STATUSES

# A spreadsheet runs a cell that starts with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def neutralise(cell: str) -> str:
    """The cell as text a spreadsheet shows and never runs: ``'`` before a formula start.

    What people typed (a name such as ``=HYPERLINK(...)``) reaches the full export; a plain
    number, negative ones included, stays a number.
    """
    if cell.startswith(FORMULA_STARTS) and NUMBER.fullmatch(cell) is None:
        return "'" + cell
    return cell


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


ANONYMOUS_ROLES = (SITUATION, SUPPORT, HOUSEHOLD_SIZE, CHILDREN, URGENCY)


class Columns:
    """The columns of one export in one language: the header, and each case's row.

    Everything that is the same for every case (the steps kept, the option labels, the
    statuses and the languages' names in the member's language) is worked out once here, not
    once per case: on years of cases the rows are most of an export's time.
    """

    def __init__(self, t: Translator, form: Form, tz: ZoneInfo, *, full: bool) -> None:
        self.tz = tz
        self.separator = t.separator
        self.voice = t.raw("Voice note")
        self.statuses = {s: status_label(t, s) for s in STATUSES}
        self.languages = {code: t.language_name(code) for code in available_languages()}
        kept = {form.role_id(role) for role in ANONYMOUS_ROLES}
        anonymous = [s for s in form.steps if s.id in kept and not s.personal]
        self.steps = list(form.steps) if full else anonymous
        self.labels = {
            (s.id, o.id): t.raw(o.label)
            for s in self.steps
            if s.kind in ("multi", "choice")
            for o in s.options
        }
        self.chosen = {s.id for s in self.steps if s.kind in ("multi", "choice")}
        names = [t.raw(s.label) for s in self.steps]
        if full:
            self.header = [t.raw("Reference"), t.raw("Status"), t.raw("Submitted")]
            self.header += [t.raw("Language"), *names]
            self.header += [t.raw("Decided by"), t.raw("Decided on"), t.raw("Until")]
        else:
            self.header = ["#", t.raw("Status"), t.raw("Month"), *names]
            self.header.append(t.raw("Days to decision"))

    def cell(self, step_id: str, value: object) -> str:
        """One answer as the export shows it: option labels, the words of a voice note's
        text, or the value."""
        if value is None:
            return ""
        if step_id in self.chosen:
            chosen = value if isinstance(value, list) else [value]
            labels = self.labels
            return self.separator.join(
                label for i in chosen if (label := labels.get((step_id, str(i))))
            )
        if isinstance(value, dict):
            return str(value["text"]) if "text" in value else self.voice
        return str(value)

    def anonymous_row(self, number: int, case: Case) -> list[str]:
        """One case in the anonymised export: no reference, name, phone, area or free text."""
        status = self.statuses.get(case.status, case.status)
        row = [str(number), status, case.created_at.astimezone(self.tz).strftime("%Y-%m")]
        row += [self.cell(s.id, case.answers.get(s.id)) for s in self.steps]
        days = days_between(case.created_at, case.decided_at) if case.decided_at else None
        return [*row, f"{days:.1f}" if days is not None else ""]

    def full_row(self, case: Case, cipher: Cipher) -> list[str]:
        """One case in the full export: every answer, personal ones included."""
        answers = {**case.answers, **personal(cipher, case)}
        row = [
            case.ref,
            self.statuses.get(case.status, case.status),
            case.created_at.astimezone(self.tz).isoformat(timespec="minutes"),
            self.languages.get(case.language, case.language),
        ]
        row += [self.cell(s.id, answers.get(s.id)) for s in self.steps]
        return [
            *row,
            case.decided_by_name or "",
            case.decided_at.astimezone(self.tz).date().isoformat() if case.decided_at else "",
            case.support_until or "",
        ]


def export_anonymised(t: Translator, form: Form, cases: Sequence[Case], tz: ZoneInfo) -> bytes:
    """Only what reports need: no reference, name, phone, area or free text."""
    columns = Columns(t, form, tz, full=False)
    rows = [columns.anonymous_row(n, c) for n, c in enumerate(cases, start=1)]
    return _csv(columns.header, rows)


# Telegram refuses an upload over 50 MB: an export is split into files under this size, each
# with the header row (and a spreadsheet opens each alone).
MAX_FILE_BYTES = 45 * 1024 * 1024
BOM = "\ufeff".encode()


@dataclass(frozen=True)
class Export:
    """A written export: its files (in order, in a temporary folder) and how many cases."""

    files: list[Path]
    cases: int


# From this many cases on, an export is written by processes of its own: building and
# decrypting the rows of years of cases takes seconds of CPU, which a thread of the bot's
# process would take from the event loop (one interpreter lock), delaying every reply.
# Below it, starting a process would cost more than the export.
PROCESS_FROM = 5_000
# How many processes share a long export (each writes a run of the cases), at most one a core.
WORKERS = 2


@dataclass(frozen=True)
class _Job:
    """Everything an export's worker needs, and nothing that cannot cross to a process: the
    database file, the keys (in the pseudonyms' object; they go through a pipe to a child
    of the bot, never to disk), the columns worked out in the member's language, and which
    run of the cases: the ids after ``after`` up to ``until``, ``before`` cases before it."""

    path: Path
    ids: Ids
    columns: Columns
    folder: Path
    full: bool
    max_bytes: int
    after: int = 0
    until: int | None = None
    before: int = 0
    prefix: str = "part"


def _write(job: _Job) -> Export:
    """Read the job's cases page by page and write their files (in a thread or a process)."""
    columns = job.columns
    writer = _ExportWriter(job.folder, columns.header, job.max_bytes, job.prefix)
    writer.number = job.before
    try:
        for page in case_repo.read_pages(job.path, job.ids, after=job.after, until=job.until):
            for case in page:
                writer.number += 1
                writer.write(
                    columns.full_row(case, job.ids.cipher)
                    if job.full
                    else columns.anonymous_row(writer.number, case)
                )
        writer.finish()
    finally:
        writer.close()
    return Export(writer.files, writer.number - job.before)


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
    """Write the full or the anonymised export of every case as CSV files in ``folder``.

    The cases are read page by page on a connection of the worker's own (the bot's stays
    free for everyone else) and written as they come: memory does not grow with the number
    of cases. The worker is a thread; from :data:`PROCESS_FROM` cases, :data:`WORKERS`
    processes started for this export each write a run of the cases, and their files are
    joined, so that the bot's event loop keeps answering and the export takes half the time.
    """
    columns = Columns(t, form, tz, full=full)
    job = _Job(db.path, ids, columns, folder, full, max_bytes or MAX_FILE_BYTES)
    if sum((await case_repo.counts_by_status(db)).values()) < PROCESS_FROM:
        return await asyncio.to_thread(_write, job)
    workers = max(1, min(WORKERS, os.cpu_count() or 1))
    starts = [(0, 0), *await case_repo.cut_points(db, workers)]
    jobs = [
        replace(job, after=after, before=before, until=next_after, prefix=f"run{number}")
        for number, ((after, before), (next_after, _)) in enumerate(
            zip(starts, [*starts[1:], (None, 0)], strict=True)
        )
    ]
    loop = asyncio.get_running_loop()
    # "spawn": a fresh interpreter, never a fork of a process with threads and open files.
    pool = ProcessPoolExecutor(max_workers=len(jobs), mp_context=get_context("spawn"))
    try:
        runs = await asyncio.gather(*(loop.run_in_executor(pool, _write, j) for j in jobs))
    finally:
        await asyncio.to_thread(pool.shutdown)
    files = await asyncio.to_thread(_join, runs, len(_header_bytes(columns.header)), job.max_bytes)
    return Export(files, sum(run.cases for run in runs))


def _header_bytes(header: list[str]) -> bytes:
    return BOM + _LineWriter()(header)


def _join(runs: Sequence[Export], header: int, max_bytes: int) -> list[Path]:
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


class _ExportWriter:
    """CSV files of at most ``max_bytes`` each, every one starting with the header."""

    def __init__(self, folder: Path, header: list[str], max_bytes: int, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self.header = header
        self.max_bytes = max_bytes
        self.files: list[Path] = []
        self.number = 0
        self._line = _LineWriter()
        self._out: io.BufferedWriter | None = None
        self._size = max_bytes

    def write(self, row: list[str]) -> None:
        """One line, in a new file when this one would go over the limit."""
        data = self._line(row)
        if self._out is None or self._size + len(data) > self.max_bytes:
            self._open()
        assert self._out is not None
        self._out.write(data)
        self._size += len(data)

    def _open(self) -> None:
        self.close()
        self.files.append(self.folder / f"{self.prefix}-{len(self.files) + 1}.csv")
        self._out = self.files[-1].open("wb")
        self._out.write(BOM + self._line(self.header))
        self._size = self._out.tell()

    def finish(self) -> None:
        """With no case at all, one file with the header alone."""
        if not self.files:
            self._open()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


class _LineWriter:
    """One CSV line at a time, its cells neutralised, as UTF-8 bytes."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def __call__(self, row: list[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([neutralise(cell) for cell in row])
        return self._buffer.getvalue().encode("utf-8")


async def record_export(db: Database, ids: Ids, member_id: int, cases: int, *, full: bool) -> None:
    """One audit row per export, naming the member and how many cases it holds."""
    async with db.transaction() as conn:
        await audit.record(
            conn,
            ids,
            "export_full" if full else "export_anonymised",
            actor_id=member_id,
            detail=f"{cases} cases",
        )


@dataclass(frozen=True)
class Stats:
    """Counts of cases, and how long decisions take."""

    total: int
    by_status: Counter[str]
    by_situation: Counter[str]
    by_support: Counter[str]
    by_month: Counter[str]
    median_days: float | None


async def gather_stats(db: Database, form: Form, tz: ZoneInfo) -> Stats:
    """Count the cases, in SQL over the clear columns, on a reader connection: nothing is
    decrypted and no case is loaded."""
    async with db.reader() as reader:
        by_status = Counter(await case_repo.tally_by_status(reader))
        situation = await case_repo.tally_by_option(reader, form.role_id(SITUATION))
        support = await case_repo.tally_by_option(reader, form.role_id(SUPPORT))
        months: Counter[str] = Counter()
        span = await case_repo.created_span(reader)
        if span is not None:
            for month, start, end in _months(span[0], span[1], tz):
                found = await case_repo.created_between(reader, start, end)
                if found:
                    months[month] = found
        median = await case_repo.median_days_to_decision(reader)
    return Stats(
        total=sum(by_status.values()),
        by_status=by_status,
        by_situation=Counter(situation),
        by_support=Counter(support),
        by_month=months,
        median_days=median,
    )


def _months(first: datetime, last: datetime, tz: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """``(YYYY-MM, start, end)`` of each month, in ``tz``, from ``first``'s to ``last``'s."""
    local = first.astimezone(tz)
    year, month = local.year, local.month
    found: list[tuple[str, datetime, datetime]] = []
    while True:
        start = datetime(year, month, 1, tzinfo=tz)
        if start > last:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        found.append((start.strftime("%Y-%m"), start, datetime(year, month, 1, tzinfo=tz)))
