"""Per-person encrypted rows: intake drafts (``drafts``) and pending interactions
(``sessions``: a member approving a case, a family answering a question).

Each table holds one row per person, the whole payload encrypted in one column.
"""

from __future__ import annotations

from typing import Any, Literal

import aiosqlite

from bot.crypto import Cipher
from bot.storage.db import Database, iso, utcnow

Table = Literal["drafts", "sessions"]
UPSERT = (
    "INSERT INTO {table} (user_id, payload, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT(user_id) DO UPDATE SET payload = excluded.payload, "
    "updated_at = excluded.updated_at"
)


async def load(
    db: Database, cipher: Cipher, user_id: int, table: Table = "drafts"
) -> dict[str, Any] | None:
    """The decrypted row of ``user_id``, or None."""
    row = await db.fetchone(f"SELECT payload FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608
    return None if row is None else dict(cipher.decrypt_json(row["payload"]))


async def save(
    db: Database, cipher: Cipher, user_id: int, payload: dict[str, Any], table: Table = "drafts"
) -> None:
    """Store the row durably (committed before this returns)."""
    await db.write(UPSERT.format(table=table), _row(cipher, user_id, payload))


async def write(
    conn: aiosqlite.Connection,
    cipher: Cipher,
    user_id: int,
    payload: dict[str, Any],
    table: Table = "drafts",
) -> None:
    """Store the row inside the caller's transaction."""
    await conn.execute(UPSERT.format(table=table), _row(cipher, user_id, payload))


def _row(cipher: Cipher, user_id: int, payload: dict[str, Any]) -> tuple[Any, ...]:
    return (user_id, cipher.encrypt_json(payload), iso(utcnow()))


async def delete(conn: aiosqlite.Connection, user_id: int, table: Table = "drafts") -> None:
    """Remove the row inside the caller's transaction."""
    await conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608


async def end_session(conn: aiosqlite.Connection, user_id: int) -> None:
    """Inside the caller's transaction: the person's pending interaction (a wizard, a question
    waiting for its answer) is over. Written together with what completes it, a crash keeps
    both or neither: never a finished wizard whose result is lost."""
    await delete(conn, user_id, "sessions")
