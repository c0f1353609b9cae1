"""Drafts: one intake or registration in progress per person, encrypted in one row."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, utcnow

UPSERT = (
    "INSERT INTO drafts (user_id, payload, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(user_id) DO UPDATE SET payload = excluded.payload, "
    "updated_at = excluded.updated_at"
)


async def load(db: Database, ids: Ids, user_id: int) -> dict[str, Any] | None:
    """The decrypted draft of ``user_id``, or None."""
    row = await db.fetchone("SELECT payload FROM drafts WHERE user_id = ?", (ids.pid(user_id),))
    return None if row is None else dict(ids.cipher.decrypt_json(row["payload"]))


async def save(db: Database, ids: Ids, user_id: int, payload: dict[str, Any]) -> None:
    """Store the draft durably (committed before this returns)."""
    await db.write(UPSERT, _row(ids, user_id, payload))


async def write(
    conn: aiosqlite.Connection, ids: Ids, user_id: int, payload: dict[str, Any]
) -> None:
    """Store the draft inside the caller's transaction."""
    await conn.execute(UPSERT, _row(ids, user_id, payload))


def _row(ids: Ids, user_id: int, payload: dict[str, Any]) -> tuple[Any, ...]:
    return (ids.pid(user_id), ids.cipher.encrypt_json(payload), iso(utcnow()))


async def delete(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> None:
    """Remove the draft inside the caller's transaction."""
    await conn.execute("DELETE FROM drafts WHERE user_id = ?", (ids.pid(user_id),))
