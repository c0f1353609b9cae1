"""Tasks the committee publishes to volunteers: title and description encrypted, matching
facts and times in clear, and the member's "sent X of N" progress message. The creator and
the chat of the progress message are stored as pseudonyms, with the real ids encrypted beside
them (the bot writes to both)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.ids import Ids
from bot.storage.cases import REF_ALPHABET, REF_ATTEMPTS
from bot.storage.db import Database, iso, parse_iso, utcnow

OPEN, CANCELLED = "open", "cancelled"
NO_WORDS = {"title": "", "description": ""}

# A task with how many volunteers hold a slot in it.
SELECT_TASK = (
    "SELECT t.*, (SELECT COUNT(*) FROM assignments a2 WHERE a2.task_id = t.id AND "
    "a2.status = 'accepted') AS taken FROM tasks t"
)


@dataclass(frozen=True)
class Task:
    """A published task."""

    id: int
    ref: str
    creator_id: int
    status: str
    title: str
    description: str
    skill: str
    area: str
    starts_at: datetime
    duration_min: int
    needed: int
    taken: int
    offered_to: int | None = None  # the one volunteer's pseudonym, for a direct offer


@dataclass(frozen=True)
class Progress:
    """How far a task's broadcast has gone."""

    task_id: int
    ref: str
    chat_id: int
    message_id: int
    sent: int
    blocked: int
    failed: int
    total: int

    @property
    def finished(self) -> bool:
        """Every offer was sent or given up."""
        return self.sent + self.blocked + self.failed >= self.total


def _task(ids: Ids, row: aiosqlite.Row) -> Task:
    # Empty once retention removed the words of an ended task; its facts stay.
    content = ids.cipher.decrypt_json(row["content"]) if row["content"] else NO_WORDS
    return Task(
        row["id"],
        row["ref"],
        ids.open(row["creator"]),
        row["status"],
        content["title"],
        content["description"],
        row["skill"],
        row["area"],
        parse_iso(row["starts_at"]),
        row["duration_min"],
        row["needed"],
        row["taken"],
        row["offered_to"],
    )


def _content(ids: Ids, title: str, description: str) -> bytes:
    return ids.cipher.encrypt_json({"title": title, "description": description})


async def by_ref(db: Database, ids: Ids, ref: str) -> Task | None:
    """The task with this reference (any case)."""
    rows = await db.fetchall(SELECT_TASK + " WHERE t.ref = ?", (ref.upper(),))
    return _task(ids, rows[0]) if rows else None


async def by_id(db: Database, ids: Ids, task_id: int) -> Task | None:
    """The task with this id."""
    rows = await db.fetchall(SELECT_TASK + " WHERE t.id = ?", (task_id,))
    return _task(ids, rows[0]) if rows else None


async def upcoming(db: Database, ids: Ids) -> list[Task]:
    """Open tasks that have not started, soonest first (not those offered to one volunteer)."""
    rows = await db.fetchall(
        SELECT_TASK + " WHERE t.status = 'open' AND t.starts_at > ? AND t.offered_to IS NULL "
        "ORDER BY t.starts_at",
        (iso(utcnow()),),
    )
    return [_task(ids, r) for r in rows]


async def held_by(db: Database, ids: Ids, volunteer_id: int) -> list[tuple[Task, str]]:
    """Open tasks the volunteer holds or waits for, with their status there, soonest first."""
    rows = await db.fetchall(
        "SELECT t.*, a.status AS mine, (SELECT COUNT(*) FROM assignments a2 WHERE "
        "a2.task_id = t.id AND a2.status = 'accepted') AS taken FROM tasks t JOIN "
        "assignments a ON a.task_id = t.id AND a.volunteer_id = ? WHERE a.status IN "
        "('accepted', 'waitlisted') AND t.status = 'open' ORDER BY t.starts_at",
        (ids.pid(volunteer_id),),
    )
    return [(_task(ids, r), str(r["mine"])) for r in rows]


async def insert(
    conn: aiosqlite.Connection,
    ids: Ids,
    *,
    creator_id: int,
    title: str,
    description: str,
    skill: str,
    area: str,
    starts_at: datetime,
    duration_min: int,
    needed: int,
    case_id: int | None,
    offered_to: int | None = None,
) -> tuple[int, str]:
    """Create a task with a fresh reference inside the caller's transaction: (id, ref);
    ``offered_to``: the one volunteer (their Telegram id) a direct offer is for."""
    content = _content(ids, title, description)
    now = iso(utcnow())
    for _ in range(REF_ATTEMPTS):
        ref = "T" + "".join(secrets.choice(REF_ALPHABET) for _ in range(5))
        async with conn.execute("SELECT 1 FROM tasks WHERE ref = ?", (ref,)) as cursor:
            if await cursor.fetchone() is None:
                break
    cursor = await conn.execute(
        "INSERT INTO tasks (ref, creator_id, creator, content, skill, area, starts_at, "
        "duration_min, needed, case_id, offered_to, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref,
            ids.pid(creator_id),
            ids.seal(creator_id),
            content,
            skill,
            area,
            iso(starts_at),
            duration_min,
            needed,
            case_id,
            ids.maybe_pid(offered_to),
            now,
            now,
        ),
    )
    return int(cursor.lastrowid or 0), ref


async def cancel(conn: aiosqlite.Connection, ref: str) -> int | None:
    """Cancel the task if it is open (one conditional UPDATE); its id, or None."""
    cursor = await conn.execute(
        "UPDATE tasks SET status = 'cancelled', updated_at = ? WHERE ref = ? AND "
        "status = 'open' RETURNING id",
        (iso(utcnow()), ref.upper()),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return None if row is None else int(row["id"])


async def rewrite(
    conn: aiosqlite.Connection,
    ids: Ids,
    task_id: int,
    *,
    title: str,
    description: str,
    starts_at: datetime,
) -> None:
    """Replace the words and the start of a task inside the caller's transaction."""
    await conn.execute(
        "UPDATE tasks SET content = ?, starts_at = ?, updated_at = ? WHERE id = ?",
        (_content(ids, title, description), iso(starts_at), iso(utcnow()), task_id),
    )


async def timing(conn: aiosqlite.Connection, task_id: int) -> tuple[datetime, int]:
    """When the task starts and how many minutes it lasts."""
    async with conn.execute(
        "SELECT starts_at, duration_min FROM tasks WHERE id = ?", (task_id,)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return parse_iso(row["starts_at"]), int(row["duration_min"])


async def open_slots(conn: aiosqlite.Connection, ref: str) -> tuple[int, int] | None:
    """(id, needed) of the task if it is open and has not started, inside a transaction."""
    async with conn.execute(
        "SELECT id, needed FROM tasks WHERE ref = ? AND status = 'open' AND starts_at > ?",
        (ref.upper(), iso(utcnow())),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else (int(row["id"]), int(row["needed"]))


async def creator_of(conn: aiosqlite.Connection, ids: Ids, task_id: int) -> int | None:
    """Who published the task."""
    async with conn.execute("SELECT creator FROM tasks WHERE id = ?", (task_id,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else ids.open(row["creator"])


async def free_slots(conn: aiosqlite.Connection, task_id: int) -> int:
    """How many more volunteers the task needs (negative: overfull, never by design)."""
    async with conn.execute(
        "SELECT needed - (SELECT COUNT(*) FROM assignments WHERE task_id = t.id AND "
        "status = 'accepted') AS free FROM tasks t WHERE id = ?",
        (task_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row["free"]) if row else 0


async def unlink_case(conn: aiosqlite.Connection, case_id: int) -> None:
    """The tasks about a case no longer say which (erasure of the family)."""
    await conn.execute("UPDATE tasks SET case_id = NULL WHERE case_id = ?", (case_id,))


async def track(db: Database, ids: Ids, task_id: int, chat_id: int, message_id: int) -> None:
    """Remember the member's progress message of a broadcast."""
    await db.write(
        "UPDATE tasks SET progress_chat = ?, progress_to = ?, progress_message_id = ? "
        "WHERE id = ?",
        (ids.chat(chat_id), ids.seal(chat_id), message_id, task_id),
    )


async def progress(db: Database, ids: Ids) -> list[Progress]:
    """Broadcasts whose progress message is not final yet, with the counts of their offers.

    The counts are kept on the task by the database as its offers change (migration 13's
    triggers): read after every batch the outbox sends, they cost one row per broadcast,
    however many offers it has.
    """
    rows = await db.fetchall(
        "SELECT id, ref, progress_to, progress_message_id, offers_sent AS sent, "
        "offers_blocked AS blocked, offers_failed AS failed, offers_total AS total "
        "FROM tasks WHERE progress_message_id IS NOT NULL AND progress_done = 0 "
        "AND offers_total > 0"
    )
    return [
        Progress(
            int(r["id"]),
            r["ref"],
            ids.open(r["progress_to"]),
            int(r["progress_message_id"]),
            int(r["sent"] or 0),
            int(r["blocked"] or 0),
            int(r["failed"] or 0),
            int(r["total"]),
        )
        for r in rows
    ]


async def progress_done(db: Database, task_id: int) -> None:
    """The final summary of the broadcast was shown."""
    await db.write("UPDATE tasks SET progress_done = 1 WHERE id = ?", (task_id,))


async def for_case(db: Database, ids: Ids, case_id: int) -> list[Task]:
    """The tasks that serve a case, soonest first."""
    rows = await db.fetchall(SELECT_TASK + " WHERE t.case_id = ? ORDER BY t.starts_at", (case_id,))
    return [_task(ids, row) for row in rows]


async def forget_offeree(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> None:
    """The tasks offered to this volunteer no longer say to whom (erasure): they stay direct
    offers, which nobody else may take."""
    await conn.execute("UPDATE tasks SET offered_to = 0 WHERE offered_to = ?", (ids.pid(user_id),))


async def offered_to(db: Database, ids: Ids, user_id: int) -> list[str]:
    """The open tasks offered to this volunteer alone (direct offers), by reference."""
    rows = await db.fetchall(
        "SELECT ref FROM tasks WHERE offered_to = ? AND status = 'open' ORDER BY id",
        (ids.pid(user_id),),
    )
    return [str(r["ref"]) for r in rows]
