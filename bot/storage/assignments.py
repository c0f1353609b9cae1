"""Assignments: who answered a task, and how.

A slot is taken with one conditional INSERT (it applies only while fewer than ``needed``
hold one), so many volunteers accepting at once never overfill a task; the waitlist keeps
arrival order in ``position``. The volunteer is stored as a pseudonym (``volunteer_id``) and
as their Telegram id encrypted (``volunteer``), opened where the bot writes to them.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, parse_iso, utcnow

ACCEPTED, WAITLISTED, DECLINED, WITHDRAWN = "accepted", "waitlisted", "declined", "withdrawn"


async def counts(db: Database, task_id: int) -> dict[str, int]:
    """How many volunteers of the task are in each status."""
    rows = await db.fetchall(
        "SELECT status, COUNT(*) AS n FROM assignments WHERE task_id = ? GROUP BY status",
        (task_id,),
    )
    return {r["status"]: int(r["n"]) for r in rows}


async def of(
    conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int
) -> tuple[str, int] | None:
    """(status, waitlist position) of the volunteer on the task, if they answered it."""
    async with conn.execute(
        "SELECT status, position FROM assignments WHERE task_id = ? AND volunteer_id = ?",
        (task_id, ids.pid(volunteer_id)),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else (str(row["status"]), int(row["position"]))


async def take_slot(
    conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int, needed: int
) -> bool:
    """Accept, in one conditional statement: False if every slot is taken."""
    now = iso(utcnow())
    cursor = await conn.execute(
        "INSERT INTO assignments (task_id, volunteer_id, volunteer, status, created_at, "
        "updated_at) SELECT ?, ?, ?, 'accepted', ?, ? WHERE (SELECT COUNT(*) FROM assignments "
        "WHERE task_id = ? AND status = 'accepted') < ? "
        "ON CONFLICT(task_id, volunteer_id) DO UPDATE SET status = 'accepted', "
        "position = 0, updated_at = excluded.updated_at",
        (task_id, ids.pid(volunteer_id), ids.seal(volunteer_id), now, now, task_id, needed),
    )
    return cursor.rowcount == 1


async def join_waitlist(
    conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int
) -> int:
    """Put the volunteer last on the waitlist; return their place on it (1: next)."""
    now = iso(utcnow())
    await conn.execute(
        "INSERT INTO assignments (task_id, volunteer_id, volunteer, status, position, "
        "created_at, updated_at) SELECT ?, ?, ?, 'waitlisted', COALESCE(MAX(position), 0) + 1, "
        "?, ? "
        "FROM assignments WHERE task_id = ? AND status = 'waitlisted' "
        "ON CONFLICT(task_id, volunteer_id) DO UPDATE SET status = 'waitlisted', "
        "position = excluded.position, updated_at = excluded.updated_at",
        (task_id, ids.pid(volunteer_id), ids.seal(volunteer_id), now, now, task_id),
    )
    async with conn.execute(
        "SELECT COUNT(*) FROM assignments WHERE task_id = ? AND status = 'waitlisted' AND "
        "position <= (SELECT position FROM assignments WHERE task_id = ? AND "
        "volunteer_id = ?)",
        (task_id, task_id, ids.pid(volunteer_id)),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def decline(conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int) -> bool:
    """Record 'not available', unless the volunteer already answered the task (False)."""
    now = iso(utcnow())
    cursor = await conn.execute(
        "INSERT INTO assignments (task_id, volunteer_id, volunteer, status, created_at, "
        "updated_at) VALUES (?, ?, ?, 'declined', ?, ?) "
        "ON CONFLICT(task_id, volunteer_id) DO NOTHING",
        (task_id, ids.pid(volunteer_id), ids.seal(volunteer_id), now, now),
    )
    return cursor.rowcount == 1


async def withdraw(conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int) -> bool:
    """Give back a slot or a place on the waitlist; False if the volunteer held neither."""
    cursor = await conn.execute(
        "UPDATE assignments SET status = 'withdrawn', updated_at = ? WHERE task_id = ? "
        "AND volunteer_id = ? AND status IN ('accepted', 'waitlisted')",
        (iso(utcnow()), task_id, ids.pid(volunteer_id)),
    )
    return cursor.rowcount == 1


async def first_waiting(conn: aiosqlite.Connection, ids: Ids, task_id: int) -> int | None:
    """The volunteer first on the task's waitlist."""
    async with conn.execute(
        "SELECT volunteer FROM assignments WHERE task_id = ? AND status = "
        "'waitlisted' ORDER BY position LIMIT 1",
        (task_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else ids.open(row["volunteer"])


async def promote(conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int) -> None:
    """Move the volunteer from the waitlist to a slot."""
    await conn.execute(
        "UPDATE assignments SET status = 'accepted', position = 0, updated_at = ? "
        "WHERE task_id = ? AND volunteer_id = ?",
        (iso(utcnow()), task_id, ids.pid(volunteer_id)),
    )


async def accepted(conn: aiosqlite.Connection, ids: Ids, task_id: int) -> list[int]:
    """The volunteers holding a slot on the task."""
    async with conn.execute(
        "SELECT volunteer FROM assignments WHERE task_id = ? AND status = 'accepted'",
        (task_id,),
    ) as cursor:
        return [ids.open(r["volunteer"]) for r in await cursor.fetchall()]


async def holders(conn: aiosqlite.Connection, ids: Ids, task_id: int) -> list[int]:
    """The volunteers holding a slot on the task or waiting for one."""
    async with conn.execute(
        "SELECT volunteer FROM assignments WHERE task_id = ? AND status IN "
        "('accepted', 'waitlisted')",
        (task_id,),
    ) as cursor:
        return [ids.open(r["volunteer"]) for r in await cursor.fetchall()]


async def held(
    conn: aiosqlite.Connection, ids: Ids, ref: str, volunteer_id: int
) -> tuple[int, int] | None:
    """(task id, creator id) of the task ``ref`` if the volunteer holds a slot on it."""
    async with conn.execute(
        "SELECT t.id, t.creator FROM tasks t JOIN assignments a ON a.task_id = t.id "
        "WHERE t.ref = ? AND a.volunteer_id = ? AND a.status = 'accepted'",
        (ref.upper(), ids.pid(volunteer_id)),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else (int(row["id"]), ids.open(row["creator"]))


async def set_outcome(
    conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int, outcome: str
) -> None:
    """What the volunteer said about the task: coming, done, not done."""
    await conn.execute(
        "UPDATE assignments SET outcome = ?, updated_at = ? WHERE task_id = ? AND "
        "volunteer_id = ?",
        (outcome, iso(utcnow()), task_id, ids.pid(volunteer_id)),
    )


async def standing(
    conn: aiosqlite.Connection, ids: Ids, task_id: int, volunteer_id: int
) -> tuple[str, datetime, str] | None:
    """(task status, task start, the volunteer's status on it), if they answered it."""
    async with conn.execute(
        "SELECT t.status, t.starts_at, a.status AS mine FROM tasks t JOIN assignments "
        "a ON a.task_id = t.id AND a.volunteer_id = ? WHERE t.id = ?",
        (ids.pid(volunteer_id), task_id),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return str(row["status"]), parse_iso(row["starts_at"]), str(row["mine"])


async def delete_for_volunteer(conn: aiosqlite.Connection, ids: Ids, volunteer_id: int) -> None:
    """Forget every answer of the volunteer (erasure)."""
    await conn.execute("DELETE FROM assignments WHERE volunteer_id = ?", (ids.pid(volunteer_id),))


async def loads(db: Database) -> dict[int, int]:
    """How many open tasks, not started yet, each volunteer (by pseudonym) holds or waits for."""
    rows = await db.fetchall(
        "SELECT a.volunteer_id, COUNT(*) AS n FROM assignments a JOIN tasks t ON t.id = "
        "a.task_id WHERE a.status IN ('accepted', 'waitlisted') AND t.status = 'open' AND "
        "t.starts_at > ? GROUP BY a.volunteer_id",
        (iso(utcnow()),),
    )
    return {int(r["volunteer_id"]): int(r["n"]) for r in rows}


async def done_by(db: Database, ids: Ids, volunteer_id: int) -> tuple[int, int]:
    """(tasks, minutes) the volunteer confirmed as done: each task counted with its duration."""
    row = await db.fetchone(
        "SELECT COUNT(*) AS tasks, COALESCE(SUM(t.duration_min), 0) AS minutes "
        "FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "WHERE a.volunteer_id = ? AND a.outcome = 'done'",
        (ids.pid(volunteer_id),),
    )
    return (0, 0) if row is None else (int(row["tasks"]), int(row["minutes"]))


async def done_by_everyone(reader: aiosqlite.Connection) -> list[tuple[str | None, int, int]]:
    """(reference, tasks, minutes) of every volunteer with a task confirmed as done, most
    hours first; the reference is None for a volunteer whose profile is gone."""
    async with reader.execute(
        "SELECT v.ref AS ref, COUNT(*) AS tasks, SUM(t.duration_min) AS minutes "
        "FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "LEFT JOIN volunteers v ON v.user_id = a.volunteer_id "
        "WHERE a.outcome = 'done' GROUP BY a.volunteer_id "
        "ORDER BY minutes DESC, tasks DESC, a.volunteer_id"
    ) as cursor:
        rows = await cursor.fetchall()
    return [(r["ref"], int(r["tasks"]), int(r["minutes"])) for r in rows]
