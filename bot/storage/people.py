"""People: language and reachability, keyed by the pseudonym of their Telegram id."""

from __future__ import annotations

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, utcnow


async def get_language(db: Database, ids: Ids, user_id: int) -> str | None:
    """The stored language of ``user_id``, or None for someone new."""
    row = await db.fetchone("SELECT language FROM people WHERE user_id = ?", (ids.pid(user_id),))
    return None if row is None else str(row["language"])


async def set_language(db: Database, ids: Ids, user_id: int, language: str) -> None:
    """Create the person or change their language."""
    now = iso(utcnow())
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO people (user_id, language, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET language = excluded.language, "
            "updated_at = excluded.updated_at",
            (ids.pid(user_id), language, now, now),
        )


async def add(conn: aiosqlite.Connection, ids: Ids, user_id: int, language: str) -> None:
    """Create the person with this language, unless they exist (caller's transaction)."""
    now = iso(utcnow())
    await conn.execute(
        "INSERT OR IGNORE INTO people (user_id, language, created_at, updated_at) "
        "VALUES (?, ?, ?, ?)",
        (ids.pid(user_id), language, now, now),
    )


async def set_reachable(db: Database, ids: Ids, user_id: int, reachable: bool) -> bool:
    """Record whether the bot can write to the person (False: they blocked it)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE people SET reachable = ?, updated_at = ? WHERE user_id = ?",
            (int(reachable), iso(utcnow()), ids.pid(user_id)),
        )
    return cursor.rowcount == 1


async def delete(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> None:
    """Forget the person (erasure) inside the caller's transaction."""
    await conn.execute("DELETE FROM people WHERE user_id = ?", (ids.pid(user_id),))


async def needed(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> bool:
    """Whether the person still has a case, a volunteer profile, a draft or a session (their
    row must stay), inside the caller's transaction."""
    pid = ids.pid(user_id)
    async with conn.execute(
        "SELECT EXISTS (SELECT 1 FROM cases WHERE user_id = ?) OR "
        "EXISTS (SELECT 1 FROM volunteers WHERE user_id = ?) OR "
        "EXISTS (SELECT 1 FROM drafts WHERE user_id = ?) OR "
        "EXISTS (SELECT 1 FROM sessions WHERE user_id = ?)",
        (pid, pid, pid, pid),
    ) as cursor:
        row = await cursor.fetchone()
    return bool(row and row[0])
