"""The audit log: who did or saw what, when. Ids and event names only, never personal data.

The actor is stored as a pseudonym (what erasure looks for) and as their Telegram id
encrypted (what the case history shows); never in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.ids import Ids
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
    ids: Ids,
    action: str,
    *,
    actor_id: int | None,
    case_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Write an entry inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO audit (at, actor_id, actor, case_id, action, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            iso(utcnow()),
            ids.maybe_pid(actor_id),
            ids.maybe_seal(actor_id),
            case_id,
            action,
            detail,
        ),
    )


async def record_anonymous(
    conn: aiosqlite.Connection, action: str, *, case_id: int | None = None
) -> None:
    """Write an entry without an actor (the bot itself: retention) inside the transaction."""
    await conn.execute(
        "INSERT INTO audit (at, case_id, action) VALUES (?, ?, ?)",
        (iso(utcnow()), case_id, action),
    )


async def for_case(db: Database, ids: Ids, case_id: int) -> list[AuditEntry]:
    """The case's history, oldest first, with the actors' Telegram ids."""
    rows = await db.fetchall(
        "SELECT at, actor, case_id, action, detail FROM audit WHERE case_id = ? ORDER BY id",
        (case_id,),
    )
    return [
        AuditEntry(
            parse_iso(r["at"]), ids.maybe_open(r["actor"]), r["case_id"], r["action"], r["detail"]
        )
        for r in rows
    ]


async def forget_actor(
    conn: aiosqlite.Connection, ids: Ids, actor_id: int, *, case_id: int | None = None
) -> None:
    """The log no longer says who ``actor_id`` was (erasure; only on ``case_id`` when given:
    retention of one case); the events stay."""
    sql = "UPDATE audit SET actor_id = NULL, actor = NULL WHERE actor_id = ?"
    if case_id is None:
        await conn.execute(sql, (ids.pid(actor_id),))
    else:
        await conn.execute(sql + " AND case_id = ?", (ids.pid(actor_id), case_id))


async def forget_actor_of(
    conn: aiosqlite.Connection, ids: Ids, actor_id: int, actions: tuple[str, ...]
) -> None:
    """The log no longer says who ``actor_id`` was on these ``actions`` (a volunteer who
    leaves: their own volunteering events; what they did as a family or a member stays)."""
    marks = ", ".join("?" for _ in actions)
    await conn.execute(
        "UPDATE audit SET actor_id = NULL, actor = NULL "  # noqa: S608
        f"WHERE actor_id = ? AND action IN ({marks})",
        (ids.pid(actor_id), *actions),
    )
