"""Cases: submitted applications."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.crypto import Cipher
from bot.storage.db import Database, iso, parse_iso, utcnow

# Easy to read over the phone: no 0/O, 1/I/L, 5/S, 8/B confusions.
REF_ALPHABET = "234679ACDEFGHJKMNPQRTUVWXYZ"
REF_ATTEMPTS = 20


def new_ref() -> str:
    """A random case reference such as ``K7P-4RD``."""
    chars = "".join(secrets.choice(REF_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def normalize_ref(text: str) -> str:
    """A reference as typed by a person (any case, spaces, no dash) in canonical form."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{cleaned[:3]}-{cleaned[3:]}" if len(cleaned) == 6 else text.strip().upper()


@dataclass(frozen=True)
class Case:
    """A submitted case; ``personal`` is encrypted until :func:`personal` opens it."""

    id: int
    ref: str
    user_id: int | None
    language: str
    status: str
    answers: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    sealed: bytes | None


def _case(row: aiosqlite.Row) -> Case:
    return Case(
        id=row["id"],
        ref=row["ref"],
        user_id=row["user_id"],
        language=row["language"],
        status=row["status"],
        answers=json.loads(row["answers"]),
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
        sealed=row["personal"],
    )


def personal(cipher: Cipher, case: Case) -> dict[str, Any]:
    """The case's personal answers, decrypted."""
    return {} if case.sealed is None else dict(cipher.decrypt_json(case.sealed))


async def insert(
    conn: aiosqlite.Connection,
    cipher: Cipher,
    *,
    user_id: int,
    language: str,
    status: str,
    answers: dict[str, Any],
    personal_answers: dict[str, Any],
) -> Case:
    """Create a case with a fresh unique reference, inside the caller's transaction."""
    now = iso(utcnow())
    sealed = cipher.encrypt_json(personal_answers)
    for _ in range(REF_ATTEMPTS):
        ref = new_ref()
        async with conn.execute("SELECT 1 FROM cases WHERE ref = ?", (ref,)) as cursor:
            if await cursor.fetchone() is None:
                break
    else:  # pragma: no cover - 27**6 references make this practically impossible
        raise RuntimeError("could not find a free case reference")
    cursor = await conn.execute(
        "INSERT INTO cases (ref, user_id, language, status, answers, personal, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (ref, user_id, language, status, json.dumps(answers), sealed, now, now),
    )
    async with conn.execute("SELECT * FROM cases WHERE id = ?", (cursor.lastrowid,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return _case(row)


async def by_ref(db: Database, ref: str) -> Case | None:
    """The case with this reference."""
    row = await db.fetchone("SELECT * FROM cases WHERE ref = ?", (normalize_ref(ref),))
    return None if row is None else _case(row)


async def by_id(db: Database, case_id: int) -> Case | None:
    """The case with this id."""
    row = await db.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
    return None if row is None else _case(row)


async def for_user(db: Database, user_id: int) -> list[Case]:
    """The cases of one person, newest first."""
    rows = await db.fetchall("SELECT * FROM cases WHERE user_id = ? ORDER BY id DESC", (user_id,))
    return [_case(r) for r in rows]
