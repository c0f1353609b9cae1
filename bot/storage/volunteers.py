"""Volunteers: their profile (matching facts in clear, name and phone encrypted), keyed by
the pseudonym of their Telegram id, with the id itself encrypted to send them offers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, utcnow

ACTIVE = "active"
PAUSED = "paused"


@dataclass(frozen=True)
class Volunteer:
    """A registered volunteer."""

    user_id: int
    status: str
    answers: dict[str, Any]
    personal: dict[str, Any]


async def get(db: Database, ids: Ids, user_id: int) -> Volunteer | None:
    """The volunteer's profile, decrypted."""
    row = await db.fetchone("SELECT * FROM volunteers WHERE user_id = ?", (ids.pid(user_id),))
    if row is None:
        return None
    return Volunteer(
        user_id,
        row["status"],
        json.loads(row["answers"]),
        dict(ids.cipher.decrypt_json(row["personal"])),
    )


async def active_reachable(db: Database, ids: Ids) -> list[tuple[int, dict[str, Any]]]:
    """Active volunteers the bot can write to, with their matching answers."""
    rows = await db.fetchall(
        "SELECT v.chat, v.answers FROM volunteers v JOIN people p ON p.user_id = "
        "v.user_id WHERE v.status = ? AND p.reachable = 1",
        (ACTIVE,),
    )
    return [(ids.open(r["chat"]), json.loads(r["answers"])) for r in rows]


async def upsert(
    conn: aiosqlite.Connection,
    ids: Ids,
    user_id: int,
    answers: dict[str, Any],
    personal: dict[str, Any],
) -> None:
    """Create or update the profile inside the caller's transaction."""
    now = iso(utcnow())
    await conn.execute(
        "INSERT INTO volunteers (user_id, chat, answers, personal, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
        "answers = excluded.answers, personal = excluded.personal, "
        "updated_at = excluded.updated_at",
        (
            ids.pid(user_id),
            ids.seal(user_id),
            json.dumps(answers),
            ids.cipher.encrypt_json(personal),
            now,
            now,
        ),
    )


async def update_status(conn: aiosqlite.Connection, ids: Ids, user_id: int, status: str) -> bool:
    """Pause or resume inside the caller's transaction; False if there is no such volunteer."""
    cursor = await conn.execute(
        "UPDATE volunteers SET status = ?, updated_at = ? WHERE user_id = ?",
        (status, iso(utcnow()), ids.pid(user_id)),
    )
    return cursor.rowcount == 1


async def remove(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> bool:
    """Delete the profile and its personal data inside the caller's transaction."""
    cursor = await conn.execute("DELETE FROM volunteers WHERE user_id = ?", (ids.pid(user_id),))
    return cursor.rowcount == 1
