"""Drafts: one intake or registration in progress per person, encrypted in one row."""

from __future__ import annotations

from typing import Any, Literal

import aiosqlite

from bot.crypto import Cipher
from bot.storage import sessions
from bot.storage.db import Database, iso, utcnow

UPSERT = (
    "INSERT INTO drafts (user_id, payload, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(user_id) DO UPDATE SET payload = excluded.payload, "
    "updated_at = excluded.updated_at"
)

# ``table="sessions"``: kept only for handlers/review.py, which reads and writes sessions
# through this module until it calls bot.sessions.SessionService (switched at merge; then
# drop the parameter and this alias).
Table = Literal["drafts", "sessions"]


async def load(
    db: Database, cipher: Cipher, user_id: int, table: Table = "drafts"
) -> dict[str, Any] | None:
    """The decrypted draft of ``user_id``, or None."""
    if table == "sessions":
        return await sessions.load(db, cipher, user_id)
    row = await db.fetchone("SELECT payload FROM drafts WHERE user_id = ?", (user_id,))
    return None if row is None else dict(cipher.decrypt_json(row["payload"]))


async def save(
    db: Database, cipher: Cipher, user_id: int, payload: dict[str, Any], table: Table = "drafts"
) -> None:
    """Store the draft durably (committed before this returns)."""
    if table == "sessions":
        await sessions.save(db, cipher, user_id, payload)
        return
    await db.write(UPSERT, _row(cipher, user_id, payload))


async def write(
    conn: aiosqlite.Connection, cipher: Cipher, user_id: int, payload: dict[str, Any]
) -> None:
    """Store the draft inside the caller's transaction."""
    await conn.execute(UPSERT, _row(cipher, user_id, payload))


def _row(cipher: Cipher, user_id: int, payload: dict[str, Any]) -> tuple[Any, ...]:
    return (user_id, cipher.encrypt_json(payload), iso(utcnow()))


async def delete(conn: aiosqlite.Connection, user_id: int, table: Table = "drafts") -> None:
    """Remove the draft inside the caller's transaction."""
    if table == "sessions":
        await sessions.end(conn, user_id)
        return
    await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
