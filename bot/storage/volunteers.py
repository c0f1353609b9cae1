"""Volunteers: their profile (matching facts in clear, name and phone encrypted), its status
and the short reference the committee knows it by; keyed by the pseudonym of their Telegram
id, with the id itself encrypted to send them offers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, utcnow

PENDING = "pending"  # registered, not approved by a member yet: receives nothing
ACTIVE = "active"
PAUSED = "paused"  # by the volunteer
SUSPENDED = "suspended"  # by a member


@dataclass(frozen=True)
class Volunteer:
    """A registered volunteer."""

    user_id: int
    status: str
    answers: dict[str, Any]
    personal: dict[str, Any]
    ref: str


def _volunteer(ids: Ids, row: aiosqlite.Row) -> Volunteer:
    return Volunteer(
        ids.open(row["chat"]),
        row["status"],
        json.loads(row["answers"]),
        dict(ids.cipher.decrypt_json(row["personal"])),
        row["ref"] or "",
    )


async def get(db: Database, ids: Ids, user_id: int) -> Volunteer | None:
    """The volunteer's profile, decrypted."""
    row = await db.fetchone("SELECT * FROM volunteers WHERE user_id = ?", (ids.pid(user_id),))
    return None if row is None else _volunteer(ids, row)


async def by_ref(db: Database, ids: Ids, ref: str) -> Volunteer | None:
    """The profile with this reference (as typed: any case), decrypted."""
    row = await db.fetchone("SELECT * FROM volunteers WHERE ref = ?", (ref.strip().upper(),))
    return None if row is None else _volunteer(ids, row)


async def listing(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    """``(ref, status, matching answers)`` of every volunteer, pending first, without the
    personal data (the committee's list shows no name)."""
    rows = await db.fetchall(
        "SELECT ref, status, answers FROM volunteers ORDER BY CASE status WHEN ? THEN 0 "
        "WHEN ? THEN 1 WHEN ? THEN 2 ELSE 3 END, created_at",
        (PENDING, ACTIVE, PAUSED),
    )
    return [(str(r["ref"]), str(r["status"]), json.loads(r["answers"])) for r in rows]


@dataclass(frozen=True)
class Reachable:
    """An active volunteer the bot can write to, as a broadcast or a shortlist needs them:
    their pseudonym, their chat id still encrypted (an offer carries it as it is), their
    matching answers and the reference members know them by."""

    pid: int
    sealed: bytes
    answers: dict[str, Any]
    ref: str


async def reachable(db: Database) -> list[Reachable]:
    """Every active volunteer the bot can write to, oldest registration first, nothing
    decrypted: a broadcast matches thousands and writes to them through the outbox, which
    opens each chat when it sends; a member's shortlist for one case ranks them."""
    rows = await db.fetchall(
        "SELECT v.ref, v.user_id, v.chat, v.answers FROM volunteers v JOIN people p ON "
        "p.user_id = v.user_id WHERE v.status = ? AND p.reachable = 1 ORDER BY v.created_at, "
        "v.ref",
        (ACTIVE,),
    )
    return [
        Reachable(int(r["user_id"]), r["chat"], json.loads(r["answers"]), str(r["ref"] or ""))
        for r in rows
    ]


async def active_reachable(db: Database, ids: Ids) -> list[tuple[int, dict[str, Any]]]:
    """Active volunteers the bot can write to, with their matching answers."""
    rows = await db.fetchall(
        "SELECT v.chat, v.answers FROM volunteers v JOIN people p ON p.user_id = "
        "v.user_id WHERE v.status = ? AND p.reachable = 1",
        (ACTIVE,),
    )
    return [(ids.open(r["chat"]), json.loads(r["answers"])) for r in rows]


async def standing(
    conn: aiosqlite.Connection, ids: Ids, user_id: int
) -> tuple[str, dict[str, Any]] | None:
    """``(status, matching answers)`` inside the caller's transaction."""
    async with conn.execute(
        "SELECT status, answers FROM volunteers WHERE user_id = ?", (ids.pid(user_id),)
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else (str(row["status"]), json.loads(row["answers"]))


async def upsert(
    conn: aiosqlite.Connection,
    ids: Ids,
    user_id: int,
    answers: dict[str, Any],
    personal: dict[str, Any],
) -> str | None:
    """Create (pending) or update the profile inside the caller's transaction; the new
    profile's reference, or None when an existing profile was updated (its status kept)."""
    existed = await user_ref(conn, ids, user_id) is not None
    now = iso(utcnow())
    await conn.execute(
        "INSERT INTO volunteers (user_id, chat, status, answers, personal, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
        "answers = excluded.answers, personal = excluded.personal, "
        "updated_at = excluded.updated_at",
        (
            ids.pid(user_id),
            ids.seal(user_id),
            PENDING,
            json.dumps(answers),
            ids.cipher.encrypt_json(personal),
            now,
            now,
        ),
    )
    return None if existed else await user_ref(conn, ids, user_id)


async def user_ref(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> str | None:
    """The volunteer's reference inside the caller's transaction; None if not registered."""
    async with conn.execute(
        "SELECT ref FROM volunteers WHERE user_id = ?", (ids.pid(user_id),)
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else str(row["ref"])


async def update_status(
    conn: aiosqlite.Connection, ids: Ids, user_id: int, status: str, *, before: tuple[str, ...]
) -> bool:
    """Move the volunteer to ``status`` from one of ``before`` inside the caller's
    transaction; False if there is no such volunteer in such a status."""
    cursor = await conn.execute(
        "UPDATE volunteers SET status = ?, updated_at = ? WHERE user_id = ? "
        "AND status IN (SELECT value FROM json_each(?))",
        (status, iso(utcnow()), ids.pid(user_id), json.dumps(before)),
    )
    return cursor.rowcount == 1


async def remove(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> bool:
    """Delete the profile and its personal data inside the caller's transaction."""
    cursor = await conn.execute("DELETE FROM volunteers WHERE user_id = ?", (ids.pid(user_id),))
    return cursor.rowcount == 1
