"""Exports and statistics of cases, without Telegram.

The full export carries personal data (it is audited and sent only to a member in private);
the anonymised one carries no reference, name, phone, area or free text, only what a report
needs. Both are CSV in UTF-8 with a byte-order mark, so spreadsheet programs show Arabic
correctly, and in both a cell that a spreadsheet would run as a formula is made text.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.export_rows import (
    CHOSEN,
    Column,
    Columns,
    Export,
    Job,
    csv_bytes,
    header_bytes,
    join,
    neutralise,
    write,
)
from bot.forms import CHILDREN, HOUSEHOLD_SIZE, SITUATION, SUPPORT, URGENCY, Form
from bot.i18n import Translator, available_languages
from bot.ids import Ids
from bot.render import status_label
from bot.storage import Database, audit
from bot.storage import cases as case_repo
from bot.storage.cases import Record
from bot.workflow import STATUSES

ANONYMOUS_ROLES = (SITUATION, SUPPORT, HOUSEHOLD_SIZE, CHILDREN, URGENCY)


def columns(
    t: Translator,
    form: Form,
    tz: ZoneInfo,
    *,
    full: bool,
    safe: Callable[[str], str] = neutralise,
) -> Columns:
    """The columns of the full or the anonymised export in ``t``'s language: the steps
    kept (every one, or only the categorical ones that name nobody), their option labels,
    the statuses and the languages' names, worked out once for every case."""
    kept = {form.role_id(role) for role in ANONYMOUS_ROLES}
    anonymous = [s for s in form.steps if s.id in kept and not s.personal]
    steps = list(form.steps) if full else anonymous
    names = [t.raw(s.label) for s in steps]
    if full:
        header = [t.raw("Reference"), t.raw("Status"), t.raw("Submitted"), t.raw("Language")]
        header += [*names, t.raw("Decided by"), t.raw("Decided on"), t.raw("Until")]
    else:
        header = ["#", t.raw("Status"), t.raw("Month"), *names, t.raw("Days to decision")]
    return Columns(
        header=header,
        steps=[
            Column(
                s.id,
                s.kind,
                {o.id: t.raw(o.label) for o in s.options} if s.kind in CHOSEN else None,
            )
            for s in steps
        ],
        statuses={s: status_label(t, s) for s in STATUSES},
        languages={code: t.language_name(code) for code in available_languages()},
        separator=t.separator,
        voice=t.raw("Voice note"),
        tz=tz,
        full=full,
        safe=safe,
    )


def export_anonymised(t: Translator, form: Form, records: Sequence[Record], tz: ZoneInfo) -> bytes:
    """Only what reports need: no reference, name, phone, area or free text."""
    chosen = columns(t, form, tz, full=False)
    rows = [chosen.anonymous_row(n, r) for n, r in enumerate(records, start=1)]
    return csv_bytes(chosen.header, rows)


# Telegram refuses an upload over 50 MB: an export is split into files under this size, each
# with the header row (and a spreadsheet opens each alone).
MAX_FILE_BYTES = 45 * 1024 * 1024

# From this many cases on, an export is written by processes of its own: building and
# decrypting the rows of years of cases takes seconds of CPU, which a thread of the bot's
# process would take from the event loop (one interpreter lock), delaying every reply.
# Below it, starting a process would cost more than the export.
PROCESS_FROM = 5_000
# How many processes share a long export, at most one a core, and into how many runs of the
# cases it is cut for them: a process that is done takes the next run, so that neither waits
# for the other when one part of the years costs more (recent cases still have their personal
# answers to decrypt; old ones were anonymised).
WORKERS = 2
RUNS_PER_WORKER = 4


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
    processes started for this export write runs of the cases, and the runs' files are
    joined, so that the bot's event loop keeps answering and the export takes half the time.
    """
    chosen = columns(t, form, tz, full=full)
    cipher = ids.cipher if full else None
    job = Job(db.path, cipher, chosen, folder, max_bytes or MAX_FILE_BYTES)
    if sum((await case_repo.counts_by_status(db)).values()) < PROCESS_FROM:
        return await asyncio.to_thread(write, job)
    workers = max(1, min(WORKERS, os.cpu_count() or 1))
    starts = [(0, 0), *await case_repo.cut_points(db, workers * RUNS_PER_WORKER)]
    jobs = [
        replace(job, after=after, before=before, until=next_after, prefix=f"run{number}")
        for number, ((after, before), (next_after, _)) in enumerate(
            zip(starts, [*starts[1:], (None, 0)], strict=True)
        )
    ]
    loop = asyncio.get_running_loop()
    # "spawn": a fresh interpreter, never a fork of a process with threads and open files.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    try:
        runs = await asyncio.gather(*(loop.run_in_executor(pool, write, j) for j in jobs))
    finally:
        await asyncio.to_thread(pool.shutdown)
    header = len(header_bytes(chosen.header))
    files = await asyncio.to_thread(join, runs, header, job.max_bytes)
    return Export(files, sum(run.cases for run in runs))


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
