"""Volunteers: their profile (matching facts in clear, name and phone encrypted)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.crypto import Cipher
from bot.storage import audit
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


async def save(
    db: Database, cipher: Cipher, user_id: int, answers: dict[str, Any], personal: dict[str, Any]
) -> None:
    """Create or update the profile, and drop the registration draft, in one transaction."""
    now = iso(utcnow())
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO volunteers (user_id, answers, personal, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
            "answers = excluded.answers, personal = excluded.personal, "
            "updated_at = excluded.updated_at",
            (user_id, json.dumps(answers), cipher.encrypt_json(personal), now, now),
        )
        await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
        await audit.record(conn, "volunteer_saved", actor_id=user_id)


async def set_status(db: Database, user_id: int, status: str) -> bool:
    """Pause or resume; False if there is no such volunteer."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE volunteers SET status = ?, updated_at = ? WHERE user_id = ?",
            (status, iso(utcnow()), user_id),
        )
        await audit.record(conn, f"volunteer_{status}", actor_id=user_id)
    return cursor.rowcount == 1


async def delete(db: Database, user_id: int) -> bool:
    """Leave: the profile and its personal data are deleted (audited without them)."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM volunteers WHERE user_id = ?", (user_id,))
        await audit.record(conn, "volunteer_left", actor_id=user_id)
    return cursor.rowcount == 1
