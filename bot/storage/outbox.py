"""The outbox: messages to send, written in the same transaction as their cause.

A message to a person is addressed by the person's pseudonym (``chat_id``, what erasure looks
for) and carries their chat id encrypted (``chat``), opened only when it is sent; a message
to a group (a negative chat id, such as the committee's) names the group in clear.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, utcnow


@dataclass(frozen=True)
class Item:
    """One message waiting to be sent."""

    id: int
    kind: str
    chat_id: int  # the real chat id, opened
    case_id: int | None
    attempts: int
    payload: bytes | None = None
    task_id: int | None = None
    activity_id: int | None = None


async def enqueue(
    conn: aiosqlite.Connection,
    ids: Ids,
    kind: str,
    chat_id: int,
    *,
    case_id: int | None = None,
    task_id: int | None = None,
    payload: bytes | None = None,
    activity_id: int | None = None,
) -> None:
    """Queue a message inside the caller's transaction (``payload``: encrypted specifics)."""
    sealed = None if chat_id < 0 else ids.seal(chat_id)
    await _insert(conn, kind, ids.chat(chat_id), sealed, case_id, task_id, payload, activity_id)


async def enqueue_group(
    conn: aiosqlite.Connection, kind: str, group_id: int, *, case_id: int | None = None
) -> None:
    """Queue a message to a group (a negative chat id) inside the caller's transaction."""
    if group_id >= 0:
        raise ValueError("a group's chat id is negative")
    await _insert(conn, kind, group_id, None, case_id, None, None)


async def _insert(
    conn: aiosqlite.Connection,
    kind: str,
    chat_key: int,
    sealed: bytes | None,
    case_id: int | None,
    task_id: int | None,
    payload: bytes | None,
    activity_id: int | None = None,
) -> None:
    now = iso(utcnow())
    await conn.execute(
        "INSERT INTO outbox (kind, chat_id, chat, case_id, task_id, payload, next_attempt_at, "
        "created_at, activity_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, chat_key, sealed, case_id, task_id, payload, now, now, activity_id),
    )


async def enqueue_offers(
    conn: aiosqlite.Connection, kind: str, task_id: int, to: Sequence[tuple[int, bytes]]
) -> None:
    """Queue a task's offer to each of ``to`` (a person's pseudonym and their chat id as
    stored, encrypted) inside the caller's transaction, in one statement, and count them on
    the task (its "sent X of N"; migration 13)."""
    now = iso(utcnow())
    await conn.executemany(
        "INSERT INTO outbox (kind, chat_id, chat, task_id, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(kind, pid, sealed, task_id, now, now) for pid, sealed in to],
    )
    await conn.execute(
        "UPDATE tasks SET offers_total = offers_total + ? WHERE id = ?", (len(to), task_id)
    )


def _item(ids: Ids, r: aiosqlite.Row) -> Item:
    """A row as an item, its private chat opened (a group's id is stored in clear)."""
    return Item(
        r["id"],
        r["kind"],
        r["chat_id"] if r["chat"] is None else ids.open(r["chat"]),
        r["case_id"],
        r["attempts"],
        r["payload"],
        r["task_id"],
        r["activity_id"],
    )


async def due(db: Database, ids: Ids, now: datetime, limit: int = 50) -> list[Item]:
    """Pending messages whose time has come, oldest first, their chats opened."""
    rows = await db.fetchall(
        "SELECT id, kind, chat_id, chat, case_id, attempts, payload, task_id, activity_id "
        "FROM outbox "
        "WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        (iso(now), limit),
    )
    return [_item(ids, r) for r in rows]


async def pending_of_kinds(db: Database, ids: Ids, kinds: Collection[str]) -> list[Item]:
    """Every pending message of these kinds, whenever it is due, oldest first."""
    marks = ", ".join("?" for _ in kinds)
    rows = await db.fetchall(
        "SELECT id, kind, chat_id, chat, case_id, attempts, payload, task_id, activity_id "  # noqa: S608
        f"FROM outbox WHERE status = 'pending' AND kind IN ({marks}) ORDER BY id",
        tuple(kinds),
    )
    return [_item(ids, r) for r in rows]


async def cancel(conn: aiosqlite.Connection, item_id: int, reason: str) -> None:
    """Inside the caller's transaction: a pending message will not be sent (``reason``: a
    short label, never personal data)."""
    await conn.execute(
        "UPDATE outbox SET status = 'skipped', error = ? WHERE id = ? AND status = 'pending'",
        (reason, item_id),
    )


async def mark_sent(db: Database, item_id: int, message_id: int) -> None:
    """Record a successful send."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, "
            "attempts = attempts + 1 WHERE id = ?",
            (iso(utcnow()), message_id, item_id),
        )


async def retry_later(db: Database, item_id: int, delay: timedelta, error: str) -> None:
    """Try again after ``delay``."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, error = ? "
            "WHERE id = ?",
            (iso(utcnow() + delay), error, item_id),
        )


async def give_up(db: Database, item_id: int, error: str) -> None:
    """Stop trying; the error (a class name, never personal data) is kept."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, error = ? WHERE id = ?",
            (error, item_id),
        )


async def message_of(db: Database, ids: Ids, kind: str, case_id: int) -> tuple[int, int] | None:
    """``(chat_id, message_id)`` of the sent message of this kind about a case."""
    row = await db.fetchone(
        "SELECT chat_id, chat, message_id FROM outbox WHERE kind = ? AND case_id = ? "
        "AND status = 'sent' ORDER BY id DESC LIMIT 1",
        (kind, case_id),
    )
    if row is None:
        return None
    chat = int(row["chat_id"]) if row["chat"] is None else ids.open(row["chat"])
    return chat, int(row["message_id"])


async def skip(db: Database, item_id: int, reason: str) -> None:
    """Nothing to send any more (e.g. a card update for a card never sent)."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'skipped', error = ? WHERE id = ?", (reason, item_id)
        )


async def seconds_to_next(db: Database, now: datetime) -> float | None:
    """Seconds until the next pending item is due (None: nothing pending)."""
    row = await db.fetchone("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
    if row is None or row[0] is None:
        return None
    return (datetime.fromisoformat(row[0]) - now).total_seconds()


async def forget_chat(conn: aiosqlite.Connection, ids: Ids, chat_id: int) -> None:
    """Delete every message to ``chat_id``, sent or not (erasure): none is left to say that
    the bot wrote to them, or about what."""
    await conn.execute("DELETE FROM outbox WHERE chat_id = ?", (ids.chat(chat_id),))


async def forget_tasks_to(conn: aiosqlite.Connection, ids: Ids, chat_id: int) -> None:
    """Delete every task message to ``chat_id`` (offers, reminders, changes), sent or not: a
    volunteer who leaves is no longer tied to the tasks they were offered."""
    await conn.execute(
        "DELETE FROM outbox WHERE chat_id = ? AND task_id IS NOT NULL", (ids.chat(chat_id),)
    )


async def forget_case(conn: aiosqlite.Connection, case_id: int) -> None:
    """Delete the messages about a case to people, sent or not (anonymisation): each ties
    someone's chat to the case. Those to the group (its card and updates) name no one."""
    await conn.execute("DELETE FROM outbox WHERE case_id = ? AND chat_id > 0", (case_id,))


async def unname(
    conn: aiosqlite.Connection, ids: Ids, person: int, kinds: tuple[str, ...], nobody: int
) -> None:
    """Messages of ``kinds`` whose encrypted payload names ``person`` as its volunteer (a
    task's creator is told who): those sent are deleted, those still to send name
    ``nobody`` instead (erasure)."""
    marks = ", ".join("?" for _ in kinds)
    async with conn.execute(
        f"SELECT id, status, payload FROM outbox WHERE kind IN ({marks}) "  # noqa: S608
        "AND payload IS NOT NULL",
        kinds,
    ) as cursor:
        rows = await cursor.fetchall()
    for row in rows:
        payload = ids.cipher.decrypt_json(row["payload"])
        if payload.get("volunteer") != person:
            continue
        if row["status"] == "pending":
            sealed = ids.cipher.encrypt_json({**payload, "volunteer": nobody})
            await conn.execute("UPDATE outbox SET payload = ? WHERE id = ?", (sealed, row["id"]))
        else:
            await conn.execute("DELETE FROM outbox WHERE id = ?", (row["id"],))


async def drop_pending_to(conn: aiosqlite.Connection, ids: Ids, chat_id: int) -> None:
    """Forget every message still waiting to be sent to ``chat_id`` (erasure)."""
    await conn.execute(
        "DELETE FROM outbox WHERE chat_id = ? AND status = 'pending'", (ids.chat(chat_id),)
    )
