"""Sessions: one person's pending multi-step interaction (a member's wizard, a family
answering a question), the whole state encrypted in one row so a restart loses nothing."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, utcnow

# A person has one session: a new one replaces theirs.
_UPSERT = (
    "INSERT INTO sessions (user_id, payload, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(user_id) DO UPDATE SET payload = excluded.payload, "
    "updated_at = excluded.updated_at"
)


def _row(ids: Ids, user_id: int, payload: dict[str, Any]) -> tuple[int, bytes, str]:
    return ids.pid(user_id), ids.cipher.encrypt_json(payload), iso(utcnow())


async def load(db: Database, ids: Ids, user_id: int) -> dict[str, Any] | None:
    """The decrypted session of ``user_id``, or None."""
    row = await db.fetchone("SELECT payload FROM sessions WHERE user_id = ?", (ids.pid(user_id),))
    return None if row is None else dict(ids.cipher.decrypt_json(row["payload"]))


async def save(db: Database, ids: Ids, user_id: int, payload: dict[str, Any]) -> None:
    """Store the session durably (committed before this returns)."""
    await db.write(_UPSERT, _row(ids, user_id, payload))


async def end(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> None:
    """Inside the caller's transaction: the person's session is over.

    Written together with what completes it, a crash keeps both or neither: never a finished
    wizard whose result is lost.
    """
    await conn.execute("DELETE FROM sessions WHERE user_id = ?", (ids.pid(user_id),))


async def everyone(db: Database, ids: Ids) -> list[tuple[int, dict[str, Any]]]:
    """``(pseudonym, session)`` of every pending session (the start-up membership check: a
    session row holds no Telegram id, so members are recognised by their pseudonyms)."""
    rows = await db.fetchall("SELECT user_id, payload FROM sessions ORDER BY user_id")
    return [(int(r["user_id"]), dict(ids.cipher.decrypt_json(r["payload"]))) for r in rows]


async def drop(conn: aiosqlite.Connection, pseudonym: int) -> None:
    """Inside the caller's transaction: forget the session of the person ``pseudonym``."""
    await conn.execute("DELETE FROM sessions WHERE user_id = ?", (pseudonym,))


async def begin(
    conn: aiosqlite.Connection, ids: Ids, user_id: int, payload: dict[str, Any]
) -> None:
    """Inside the caller's transaction: the person's session begins (or replaces theirs).

    Written together with what opens it, a crash keeps both or neither: never a step
    recorded whose next step is lost.
    """
    await conn.execute(_UPSERT, _row(ids, user_id, payload))
