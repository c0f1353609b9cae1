"""Volunteers: their profile (matching facts in clear, name and phone encrypted)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.crypto import Cipher
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


async def get(db: Database, cipher: Cipher, user_id: int) -> Volunteer | None:
    """The volunteer's profile, decrypted."""
    row = await db.fetchone("SELECT * FROM volunteers WHERE user_id = ?", (user_id,))
    if row is None:
        return None
    return Volunteer(
        row["user_id"],
        row["status"],
        json.loads(row["answers"]),
        dict(cipher.decrypt_json(row["personal"])),
    )


async def active_reachable(db: Database) -> list[tuple[int, dict[str, Any]]]:
    """Active volunteers the bot can write to, with their matching answers."""
    rows = await db.fetchall(
        "SELECT v.user_id, v.answers FROM volunteers v JOIN people p ON p.user_id = "
        "v.user_id WHERE v.status = ? AND p.reachable = 1",
        (ACTIVE,),
    )
    return [(int(r["user_id"]), json.loads(r["answers"])) for r in rows]


async def upsert(
    conn: aiosqlite.Connection,
    cipher: Cipher,
    user_id: int,
    answers: dict[str, Any],
    personal: dict[str, Any],
) -> None:
    """Create or update the profile inside the caller's transaction."""
    now = iso(utcnow())
    await conn.execute(
        "INSERT INTO volunteers (user_id, answers, personal, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
        "answers = excluded.answers, personal = excluded.personal, "
        "updated_at = excluded.updated_at",
        (user_id, json.dumps(answers), cipher.encrypt_json(personal), now, now),
    )


async def update_status(conn: aiosqlite.Connection, user_id: int, status: str) -> bool:
    """Pause or resume inside the caller's transaction; False if there is no such volunteer."""
    cursor = await conn.execute(
        "UPDATE volunteers SET status = ?, updated_at = ? WHERE user_id = ?",
        (status, iso(utcnow()), user_id),
    )
    return cursor.rowcount == 1


async def remove(conn: aiosqlite.Connection, user_id: int) -> bool:
    """Delete the profile and its personal data inside the caller's transaction."""
    cursor = await conn.execute("DELETE FROM volunteers WHERE user_id = ?", (user_id,))
    return cursor.rowcount == 1
