"""Reminders: rows the scheduler is rebuilt from at start-up.

A due reminder is claimed (status 'pending' -> 'sent') with one conditional UPDATE before its
message is queued, in the same transaction, so it is neither lost nor sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, parse_iso


@dataclass(frozen=True)
class Reminder:
    """A claimed reminder: about a case (``case_id``) or a volunteer's task."""

    id: int
    kind: str
    case_id: int | None
    task_id: int | None
    volunteer_id: int | None


async def add(
    conn: aiosqlite.Connection,
    ids: Ids,
    kind: str,
    due: datetime,
    *,
    case_id: int | None = None,
    task_id: int | None = None,
    volunteer_id: int | None = None,
) -> None:
    """Schedule a reminder inside the caller's transaction, once (the same one is ignored)."""
    await conn.execute(
        "INSERT OR IGNORE INTO reminders (kind, case_id, task_id, volunteer_id, volunteer, "
        "due_at) VALUES (?, ?, ?, ?, ?, ?)",
        (
            kind,
            case_id,
            task_id,
            ids.maybe_pid(volunteer_id),
            ids.maybe_seal(volunteer_id),
            iso(due),
        ),
    )


async def pending(db: Database, until: datetime | None = None) -> list[tuple[int, datetime]]:
    """Pending reminders and their times, soonest first: those due by ``until`` when given
    (late ones included), else all."""
    if until is None:
        rows = await db.fetchall(
            "SELECT id, due_at FROM reminders WHERE status = 'pending' ORDER BY due_at"
        )
    else:
        rows = await db.fetchall(
            "SELECT id, due_at FROM reminders WHERE status = 'pending' AND due_at <= ? "
            "ORDER BY due_at",
            (iso(until),),
        )
    return [(int(r["id"]), parse_iso(r["due_at"])) for r in rows]


async def kind_of(db: Database, reminder_id: int) -> str | None:
    """The kind of a reminder, None if there is no such reminder."""
    row = await db.fetchone("SELECT kind FROM reminders WHERE id = ?", (reminder_id,))
    return None if row is None else str(row["kind"])


async def claim(conn: aiosqlite.Connection, ids: Ids, reminder_id: int) -> Reminder | None:
    """Mark a pending reminder sent, in one conditional UPDATE; None if it was claimed before."""
    cursor = await conn.execute(
        "UPDATE reminders SET status = 'sent' WHERE id = ? AND status = 'pending' "
        "RETURNING id, kind, case_id, task_id, volunteer",
        (reminder_id,),
    )
    row = await cursor.fetchone()
    await cursor.close()
    if row is None:
        return None
    return Reminder(
        int(row["id"]),
        str(row["kind"]),
        row["case_id"],
        row["task_id"],
        ids.maybe_open(row["volunteer"]),
    )


async def skip(conn: aiosqlite.Connection, reminder_id: int) -> None:
    """A claimed reminder that will not be sent after all."""
    await conn.execute("UPDATE reminders SET status = 'skipped' WHERE id = ?", (reminder_id,))


async def drop_for_task(
    conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int | None = None
) -> None:
    """Forget the task's pending reminders (only the volunteer's, when given)."""
    if volunteer_id is None:
        await conn.execute(
            "DELETE FROM reminders WHERE task_id = ? AND status = 'pending'", (task_id,)
        )
    else:
        await conn.execute(
            "DELETE FROM reminders WHERE task_id = ? AND volunteer_id = ? AND status = 'pending'",
            (task_id, ids.pid(volunteer_id)),
        )


async def delete_for_volunteer(conn: aiosqlite.Connection, ids: Ids, volunteer_id: int) -> None:
    """Forget every reminder of the volunteer (erasure)."""
    await conn.execute("DELETE FROM reminders WHERE volunteer_id = ?", (ids.pid(volunteer_id),))
