"""Follow-ups at the end of support: one row per case and support period.

The row is written with the approval (or renewal) that sets the period, beside the reminder
that asks the family, and answered with one conditional UPDATE: two taps, or a tap and a
restart, record one answer. The choice (better, same, worse) and the family's words are
both encrypted: "things are worse" beside a case is what the family said about itself, as
personal as its words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, parse_iso, utcnow

BETTER, SAME, WORSE = "better", "same", "worse"
CHOICES = (BETTER, SAME, WORSE)


@dataclass(frozen=True)
class Followup:
    """One follow-up: asked or not yet, answered or not, with the family's words."""

    id: int
    case_id: int
    until: date  # the last day of the support period it is about
    due_at: datetime
    asked_at: datetime | None
    answer: str | None  # one of CHOICES
    words: str | None  # decrypted
    answered_at: datetime | None


_COLUMNS = "id, case_id, until, due_at, asked_at, answer, words, answered_at"


def _when(text: str | None) -> datetime | None:
    return None if text is None else parse_iso(text)


def _followup(ids: Ids, row: aiosqlite.Row) -> Followup:
    return Followup(
        id=int(row["id"]),
        case_id=int(row["case_id"]),
        until=date.fromisoformat(row["until"]),
        due_at=parse_iso(row["due_at"]),
        asked_at=_when(row["asked_at"]),
        answer=ids.cipher.decrypt(row["answer"]) if row["answer"] else None,
        words=ids.cipher.decrypt(row["words"]) if row["words"] else None,
        answered_at=_when(row["answered_at"]),
    )


async def add(conn: aiosqlite.Connection, case_id: int, until: date, due: datetime) -> bool:
    """The follow-up of the period ending ``until``, inside the caller's transaction, once:
    False when the period already has one."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO followups (case_id, until, due_at, created_at) VALUES (?, ?, ?, ?)",
        (case_id, until.isoformat(), iso(due), iso(utcnow())),
    )
    return cursor.rowcount == 1


async def get(db: Database, ids: Ids, followup_id: int) -> Followup | None:
    """One follow-up, or None."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM followups WHERE id = ?",  # noqa: S608
        (followup_id,),
    )
    return None if row is None else _followup(ids, row)


async def for_case(db: Database, ids: Ids, case_id: int) -> list[Followup]:
    """The case's follow-ups, oldest period first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM followups WHERE case_id = ? ORDER BY until, id",  # noqa: S608
        (case_id,),
    )
    return [_followup(ids, row) for row in rows]


async def of_period(db: Database, ids: Ids, case_id: int, until: date) -> Followup | None:
    """The follow-up of the case's period ending ``until``, if there is one."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM followups WHERE case_id = ? AND until = ?",  # noqa: S608
        (case_id, until.isoformat()),
    )
    return None if row is None else _followup(ids, row)


async def for_reminder(conn: aiosqlite.Connection, ids: Ids, reminder_id: int) -> Followup | None:
    """The follow-up a reminder asks (same case, same time), inside the caller's
    transaction: a reminder of an earlier period never asks about the current one."""
    async with conn.execute(
        "SELECT f.id, f.case_id, f.until, f.due_at, f.asked_at, f.answer, f.words, "
        "f.answered_at FROM followups f JOIN reminders r ON r.case_id = f.case_id "
        "AND r.due_at = f.due_at WHERE r.id = ?",
        (reminder_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else _followup(ids, row)


async def missing(db: Database, today: date) -> list[tuple[int, date]]:
    """Approved cases whose period ends ``today`` or later and has no follow-up yet (those
    approved before follow-ups existed): (case id, last day)."""
    rows = await db.fetchall(
        "SELECT c.id, c.support_until FROM cases c WHERE c.status = 'approved' "
        "AND c.family IS NOT NULL AND c.support_until IS NOT NULL AND c.support_until >= ? "
        "AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.case_id = c.id "
        "AND f.until = c.support_until) ORDER BY c.id",
        (today.isoformat(),),
    )
    return [(int(r["id"]), date.fromisoformat(r["support_until"])) for r in rows]


async def current(conn: aiosqlite.Connection, followup_id: int) -> bool:
    """Whether the follow-up is still about its case's period: approved, not renewed to
    another end, and the family not erased."""
    async with conn.execute(
        "SELECT 1 FROM followups f JOIN cases c ON c.id = f.case_id WHERE f.id = ? "
        "AND c.status = 'approved' AND c.support_until = f.until AND c.family IS NOT NULL",
        (followup_id,),
    ) as cursor:
        return await cursor.fetchone() is not None


async def mark_asked(conn: aiosqlite.Connection, followup_id: int) -> None:
    """The question was queued for the family."""
    await conn.execute(
        "UPDATE followups SET asked_at = ? WHERE id = ?", (iso(utcnow()), followup_id)
    )


async def answer(conn: aiosqlite.Connection, ids: Ids, followup_id: int, choice: str) -> bool:
    """Record the family's choice (encrypted), once: False if it was answered before."""
    assert choice in CHOICES
    cursor = await conn.execute(
        "UPDATE followups SET answer = ?, answered_at = ? WHERE id = ? AND answer IS NULL "
        "AND asked_at IS NOT NULL",
        (ids.cipher.encrypt(choice), iso(utcnow()), followup_id),
    )
    return cursor.rowcount == 1


async def add_words(conn: aiosqlite.Connection, ids: Ids, followup_id: int, words: str) -> bool:
    """The family's words (encrypted) after its choice, once: False if there are already
    words, or no choice yet."""
    cursor = await conn.execute(
        "UPDATE followups SET words = ? WHERE id = ? AND answer IS NOT NULL AND words IS NULL",
        (ids.cipher.encrypt(words), followup_id),
    )
    return cursor.rowcount == 1


async def anonymise_for_case(conn: aiosqlite.Connection, case_id: int) -> None:
    """The family's words go with the case's personal data; the choice stays (encrypted, a
    figure of the case's outcome beside no name)."""
    await conn.execute("UPDATE followups SET words = NULL WHERE case_id = ?", (case_id,))
