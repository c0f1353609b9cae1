"""Notes: the committee's internal notes on a case, encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, parse_iso, utcnow


@dataclass(frozen=True)
class Note:
    """An internal note of the committee."""

    author_id: int  # the member's pseudonym
    at: datetime
    body: str


async def add(
    conn: aiosqlite.Connection, ids: Ids, case_id: int, author_id: int, body: str
) -> None:
    """Store a note inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO notes (case_id, author_id, at, body) VALUES (?, ?, ?, ?)",
        (case_id, ids.pid(author_id), iso(utcnow()), ids.cipher.encrypt(body)),
    )


async def for_case(db: Database, ids: Ids, case_id: int) -> list[Note]:
    """The case's notes, oldest first."""
    rows = await db.fetchall(
        "SELECT author_id, at, body FROM notes WHERE case_id = ? ORDER BY id", (case_id,)
    )
    return [Note(r["author_id"], parse_iso(r["at"]), ids.cipher.decrypt(r["body"])) for r in rows]


async def delete_for_case(conn: aiosqlite.Connection, case_id: int) -> None:
    """Forget the case's notes (anonymisation)."""
    await conn.execute("DELETE FROM notes WHERE case_id = ?", (case_id,))
