"""Drafts: one intake or registration in progress per person, encrypted in one row."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.crypto import Cipher
from bot.storage.db import Database, iso, utcnow

UPSERT = (
    "INSERT INTO drafts (user_id, payload, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(user_id) DO UPDATE SET payload = excluded.payload, "
    "updated_at = excluded.updated_at"
)


async def load(db: Database, cipher: Cipher, user_id: int) -> dict[str, Any] | None:
    """The decrypted draft of ``user_id``, or None."""
    row = await db.fetchone("SELECT payload FROM drafts WHERE user_id = ?", (user_id,))
    return None if row is None else dict(cipher.decrypt_json(row["payload"]))


async def save(db: Database, cipher: Cipher, user_id: int, payload: dict[str, Any]) -> None:
    """Store the draft durably (committed before this returns)."""
    await db.write(UPSERT, _row(cipher, user_id, payload))


async def write(
    conn: aiosqlite.Connection, cipher: Cipher, user_id: int, payload: dict[str, Any]
) -> None:
    """Store the draft inside the caller's transaction."""
    await conn.execute(UPSERT, _row(cipher, user_id, payload))


def _row(cipher: Cipher, user_id: int, payload: dict[str, Any]) -> tuple[Any, ...]:
    return (user_id, cipher.encrypt_json(payload), iso(utcnow()))


async def delete(conn: aiosqlite.Connection, user_id: int) -> None:
    """Remove the draft inside the caller's transaction."""
    await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
