"""/stats and /export on years of cases: counted in SQL, streamed in pages, split for Telegram.

The statistics count over the clear columns in SQL, and the exports read the cases page by
page on a connection of their own: neither loads every case at once (nor decrypts anything,
for the statistics). The full export is recorded once in the audit log, naming how many cases
it holds; a CSV over Telegram's upload limit is sent as several files, each with its header.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path

import pytest

from bot import reports
from bot.export_rows import Export, Job
from bot.review import days_between
from bot.storage import cases as case_repo
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness
from tests.flows import NAME, full_intake
from tests.test_reports import read_csv
from tests.test_review import approve, new_case


@pytest.fixture
def nothing_loaded_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading every case in one list fails the test."""

    async def every(*_: object) -> None:
        raise AssertionError("every case loaded at once")

    monkeypatch.setattr(case_repo, "every", every)


async def some_cases(h: Harness) -> list[str]:
    ref = await new_case(h)
    await approve(h, ref)
    refs = [ref] + [await full_intake(h, 900_000 + i) for i in range(4)]
    await h.press(MEMBER, rf"^cv:decline:{refs[1]}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:r:criteria$")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    return refs


async def test_the_statistics_are_those_of_every_case(harness: Harness) -> None:
    h = harness
    await some_cases(h)
    s = h.services
    every = await case_repo.every(s.db, s.ids)
    figures = await reports.gather_stats(s.db, s.form, s.settings.tz)
    situation, support = s.form.role_id("situation"), s.form.role_id("support")
    assert figures.total == len(every) == 5
    assert figures.by_status == Counter(c.status for c in every)
    assert figures.by_situation == Counter(o for c in every for o in c.answers[situation])
    assert figures.by_support == Counter(o for c in every for o in c.answers[support])
    tz = s.settings.tz
    months = Counter(c.created_at.astimezone(tz).strftime("%Y-%m") for c in every)
    assert figures.by_month == months
    days = [days_between(c.created_at, c.decided_at) for c in every if c.decided_at]
    assert figures.median_days == pytest.approx(statistics.median(days), abs=1e-4)


async def test_stats_and_exports_never_load_every_case(
    harness: Harness, nothing_loaded_at_once: None
) -> None:
    h = harness
    await some_cases(h)
    calls = await h.say(MEMBER, "/stats")
    assert "5 cases" in "\n".join(h.texts(calls))
    for kind in ("full", "anon"):
        await h.say(MEMBER, "/export")
        calls = await h.press(MEMBER, rf"^ex:{kind}$")
        [document] = [c for c in calls if c.method == "sendDocument"]
        assert len(read_csv(next(iter(document.files.values())).content)) == 6


async def test_a_full_export_is_one_audit_row(harness: Harness) -> None:
    h = harness
    await some_cases(h)
    await h.say(MEMBER, "/export")
    await h.press(MEMBER, r"^ex:full$")
    rows = await h.services.db.fetchall(
        "SELECT actor, case_id, detail FROM audit WHERE action = 'export_full'"
    )
    assert [(h.services.ids.open(r["actor"]), r["case_id"], r["detail"]) for r in rows] == [
        (MEMBER, None, "5 cases")
    ]


async def test_an_export_over_the_limit_is_split_with_a_header_each(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    h = harness
    await some_cases(h)
    s = h.services
    t = s.i18n.get("en")
    whole = await reports.write_export(s.db, s.ids, t, s.form, s.settings.tz, tmp_path, full=True)
    [single] = whole.files
    one = read_csv(single.read_bytes())
    monkeypatch.setattr(reports, "MAX_FILE_BYTES", len(single.read_bytes()) // 3)
    await h.say(MEMBER, "/export")
    calls = await h.press(MEMBER, r"^ex:full$")
    documents = [c for c in calls if c.method == "sendDocument"]
    assert len(documents) >= 3
    parts = [read_csv(next(iter(d.files.values())).content) for d in documents]
    assert all(part[0] == one[0] for part in parts)  # each opens alone in a spreadsheet
    assert [row for part in parts for row in part[1:]] == one[1:]
    names = [next(iter(d.files.values())).filename for d in documents]
    assert names[0].endswith("-1.csv") and len(set(names)) == len(names)
    assert any(NAME in row for row in one[1:])


async def test_years_of_cases_are_written_by_a_process_of_their_own(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """From PROCESS_FROM cases on, the rows are built (and decrypted) in processes of their
    own, each a run of the cases, so the bot's event loop keeps answering; the runs joined
    are the files a thread writes: one file when it fits, the rows in order, the anonymised
    numbers following on."""
    h = harness
    await some_cases(h)
    s = h.services
    t = s.i18n.get("ar")
    started: list[tuple[str, int]] = []
    real = reports.ProcessPoolExecutor

    def pool(*, max_workers: int, mp_context: BaseContext) -> ProcessPoolExecutor:
        started.append((mp_context.get_start_method(), max_workers))
        return real(max_workers=max_workers, mp_context=mp_context)

    monkeypatch.setattr(reports.os, "cpu_count", lambda: 2)

    monkeypatch.setattr(reports, "ProcessPoolExecutor", pool)
    for full in (True, False):
        for name in ("thread", "process"):
            (tmp_path / f"{name}-{full}").mkdir()
        monkeypatch.setattr(reports, "PROCESS_FROM", 10**9)
        here = await reports.write_export(
            s.db, s.ids, t, s.form, s.settings.tz, tmp_path / f"thread-{full}", full=full
        )
        monkeypatch.setattr(reports, "PROCESS_FROM", 0)
        there = await reports.write_export(
            s.db, s.ids, t, s.form, s.settings.tz, tmp_path / f"process-{full}", full=full
        )
        assert there.cases == here.cases == 5
        assert [p.read_bytes() for p in there.files] == [p.read_bytes() for p in here.files]
        # Over the upload limit, each file of the runs opens alone, and none is over it
        # (but for a file of one case longer than the limit).
        small = len(here.files[0].read_bytes()) // 3
        split = await reports.write_export(
            s.db,
            s.ids,
            t,
            s.form,
            s.settings.tz,
            tmp_path / f"process-{full}",
            full=full,
            max_bytes=small,
        )
        parts = [read_csv(p.read_bytes()) for p in split.files]
        assert len(parts) >= 3
        sizes = [p.stat().st_size for p in split.files]
        assert all(
            size <= small or len(part) == 2 for size, part in zip(sizes, parts, strict=True)
        )
        assert all(part[0] == parts[0][0] for part in parts)
        assert [row for part in parts for row in part[1:]] == read_csv(here.files[0].read_bytes())[
            1:
        ]
    # A fresh interpreter, never a fork of the bot; two runs on two cores.
    assert started == [("spawn", 2)] * 4


def test_an_export_worker_starts_without_the_bot() -> None:
    """An export's worker process imports the rows' module and the storage, not Telegram,
    Babel or the handlers: a fresh interpreter starts it in a fraction of the time the bot's
    modules take (spawn runs no ``bot.__main__`` again)."""
    probe = (
        "import sys, bot.export_rows; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'telegram', 'babel', 'handlers', 'httpx', 'xlsxwriter', 'PIL'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


async def test_only_a_full_export_is_given_the_keys(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The keys go to an export's worker only when it decrypts (the full export): the
    anonymised one reads no personal answer, and its worker never holds a key."""
    h = harness
    await some_cases(h)
    s = h.services
    given: list[object] = []
    real = reports.write

    def spy(job: Job) -> Export:
        given.append(job.cipher)
        return real(job)

    monkeypatch.setattr(reports, "write", spy)
    t = s.i18n.get("en")
    for full in (False, True):
        (tmp_path / str(full)).mkdir()
        await reports.write_export(
            s.db, s.ids, t, s.form, s.settings.tz, tmp_path / str(full), full=full
        )
    assert given == [None, s.ids.cipher]
