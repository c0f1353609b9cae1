"""Feedback and concerns sent to the trustees: the person by pseudonym with their Telegram id
sealed, their words or voice note and the trustee's answer encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.ids import Ids
from bot.storage.cases import REF_ATTEMPTS, new_ref
from bot.storage.db import Database, iso, parse_iso, utcnow

OPEN = "open"
ANSWERED = "answered"
CLOSED = "closed"
# What a trustee may still close; answering is for an open one only.
UNCLOSED = (OPEN, ANSWERED)
PREFIX = "F-"


@dataclass(frozen=True)
class Feedback:
    """One feedback, decrypted: ``words`` is ``{"text": …}`` or ``{"voice": …, "duration": …}``."""

    id: int
    ref: str
    user_id: int  # the person's real Telegram id, opened
    language: str
    topic: str
    words: dict[str, Any]
    status: str
    answer: str | None
    created_at: datetime
    updated_at: datetime


def _feedback(ids: Ids, row: aiosqlite.Row) -> Feedback:
    return Feedback(
        id=row["id"],
        ref=row["ref"],
        user_id=ids.open(row["person"]),
        language=row["language"],
        topic=row["topic"],
        words=dict(ids.cipher.decrypt_json(row["body"])),
        status=row["status"],
        answer=ids.cipher.decrypt(row["answer"]) if row["answer"] else None,
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
    )


async def add(
    conn: aiosqlite.Connection,
    ids: Ids,
    user_id: int,
    language: str,
    topic: str,
    words: dict[str, Any],
) -> tuple[int, str]:
    """Store a new feedback inside the caller's transaction; return its id and reference."""
    for _ in range(REF_ATTEMPTS):
        ref = PREFIX + new_ref()
        async with conn.execute("SELECT 1 FROM feedback WHERE ref = ?", (ref,)) as cursor:
            if await cursor.fetchone() is None:
                break
    else:  # pragma: no cover - 27**6 references make this practically impossible
        raise RuntimeError("could not find a free feedback reference")
    now = iso(utcnow())
    cursor = await conn.execute(
        "INSERT INTO feedback (ref, user_id, person, language, topic, body, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref,
            ids.pid(user_id),
            ids.seal(user_id),
            language,
            topic,
            ids.cipher.encrypt_json(words),
            now,
            now,
        ),
    )
    return int(cursor.lastrowid or 0), ref


async def get(db: Database, ids: Ids, feedback_id: int) -> Feedback | None:
    """The feedback, whatever its status."""
    row = await db.fetchone("SELECT * FROM feedback WHERE id = ?", (feedback_id,))
    return None if row is None else _feedback(ids, row)


async def load(conn: aiosqlite.Connection, ids: Ids, feedback_id: int) -> Feedback | None:
    """The feedback, read inside the caller's transaction."""
    async with conn.execute("SELECT * FROM feedback WHERE id = ?", (feedback_id,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else _feedback(ids, row)


async def set_answer(conn: aiosqlite.Connection, ids: Ids, feedback_id: int, answer: str) -> bool:
    """Inside the caller's transaction: store the trustee's answer (encrypted) if the
    feedback is still open; False when it is not (answered or closed meanwhile)."""
    cursor = await conn.execute(
        "UPDATE feedback SET answer = ?, status = ?, updated_at = ? WHERE id = ? AND status = ?",
        (ids.cipher.encrypt(answer), ANSWERED, iso(utcnow()), feedback_id, OPEN),
    )
    return cursor.rowcount == 1


async def close(conn: aiosqlite.Connection, feedback_id: int) -> bool:
    """Inside the caller's transaction: close the feedback; False when it already was."""
    now = iso(utcnow())
    cursor = await conn.execute(
        "UPDATE feedback SET status = ?, closed_at = ?, updated_at = ? "
        "WHERE id = ? AND status IN (?, ?)",
        (CLOSED, now, now, feedback_id, *UNCLOSED),
    )
    return cursor.rowcount == 1


async def unclosed(db: Database, ids: Ids, limit: int) -> list[Feedback]:
    """The feedback not closed yet, oldest first, at most ``limit``."""
    rows = await db.fetchall(
        "SELECT * FROM feedback WHERE status IN (?, ?) ORDER BY id LIMIT ?", (*UNCLOSED, limit)
    )
    return [_feedback(ids, r) for r in rows]


async def of_person(db: Database, ids: Ids, user_id: int) -> list[Feedback]:
    """Everything the person sent, oldest first (/mydata)."""
    rows = await db.fetchall(
        "SELECT * FROM feedback WHERE user_id = ? ORDER BY id", (ids.pid(user_id),)
    )
    return [_feedback(ids, r) for r in rows]


async def delete_for_person(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> None:
    """Inside the caller's transaction: forget everything the person sent (erasure)."""
    await conn.execute("DELETE FROM feedback WHERE user_id = ?", (ids.pid(user_id),))
