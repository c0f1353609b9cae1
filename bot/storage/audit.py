"""The audit log: who did or saw what, when. Ids and event names only, never personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.db import Database, iso, parse_iso, utcnow


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    actor_id: int | None
    case_id: int | None
    action: str
    detail: str | None


async def record(
    conn: aiosqlite.Connection,
    action: str,
    *,
    actor_id: int | None,
    case_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Write an entry inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO audit (at, actor_id, case_id, action, detail) VALUES (?, ?, ?, ?, ?)",
        (iso(utcnow()), actor_id, case_id, action, detail),
    )


async def for_case(db: Database, case_id: int) -> list[AuditEntry]:
    """The case's history, oldest first."""
    rows = await db.fetchall(
        "SELECT at, actor_id, case_id, action, detail FROM audit WHERE case_id = ? ORDER BY id",
        (case_id,),
    )
    return [
        AuditEntry(parse_iso(r["at"]), r["actor_id"], r["case_id"], r["action"], r["detail"])
        for r in rows
    ]


async def forget_actor(conn: aiosqlite.Connection, actor_id: int) -> None:
    """The log no longer says who ``actor_id`` was (erasure); the events stay."""
    await conn.execute("UPDATE audit SET actor_id = NULL WHERE actor_id = ?", (actor_id,))
