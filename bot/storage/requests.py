"""Information requests: the committee's questions to a family and the family's answers,
both encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, parse_iso, utcnow


@dataclass(frozen=True)
class InfoRequest:
    """A question from a member, and the family's answer."""

    id: int
    case_id: int
    member_id: int
    question: str
    answer: dict[str, Any] | None
    asked_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class Unanswered:
    """What answering a question needs: who asked, and the case and family it is about."""

    member_id: int
    case_ref: str
    family_id: int | None


def _request(ids: Ids, row: aiosqlite.Row) -> InfoRequest:
    return InfoRequest(
        id=row["id"],
        case_id=row["case_id"],
        member_id=ids.open(row["member"]),
        question=ids.cipher.decrypt(row["question"]),
        answer=ids.cipher.decrypt_json(row["answer"]) if row["answer"] else None,
        asked_at=parse_iso(row["asked_at"]),
        answered_at=parse_iso(row["answered_at"]) if row["answered_at"] else None,
    )


async def add(
    conn: aiosqlite.Connection, ids: Ids, case_id: int, member_id: int, question: str
) -> int:
    """Store a question inside the caller's transaction; return its id."""
    cursor = await conn.execute(
        "INSERT INTO info_requests (case_id, member_id, member, question, asked_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            case_id,
            ids.pid(member_id),
            ids.seal(member_id),
            ids.cipher.encrypt(question),
            iso(utcnow()),
        ),
    )
    return int(cursor.lastrowid or 0)


async def open_one(db: Database, ids: Ids, request_id: int) -> InfoRequest | None:
    """The question, if it is still unanswered."""
    row = await db.fetchone(
        "SELECT * FROM info_requests WHERE id = ? AND answered_at IS NULL", (request_id,)
    )
    return None if row is None else _request(ids, row)


async def unanswered(conn: aiosqlite.Connection, ids: Ids, request_id: int) -> Unanswered | None:
    """Inside the caller's transaction: the still unanswered question, with its case."""
    async with conn.execute(
        "SELECT r.member, c.ref, c.family FROM info_requests r JOIN cases c "
        "ON c.id = r.case_id WHERE r.id = ? AND r.answered_at IS NULL",
        (request_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return Unanswered(ids.open(row["member"]), row["ref"], ids.maybe_open(row["family"]))


async def set_answer(
    conn: aiosqlite.Connection, ids: Ids, request_id: int, answer: dict[str, Any]
) -> None:
    """Store the family's answer (encrypted) inside the caller's transaction."""
    await conn.execute(
        "UPDATE info_requests SET answer = ?, answered_at = ? WHERE id = ?",
        (ids.cipher.encrypt_json(answer), iso(utcnow()), request_id),
    )


async def for_case(db: Database, ids: Ids, case_id: int) -> list[InfoRequest]:
    """The case's questions and answers, oldest first."""
    rows = await db.fetchall(
        "SELECT * FROM info_requests WHERE case_id = ? ORDER BY id", (case_id,)
    )
    return [_request(ids, r) for r in rows]


async def delete_for_case(conn: aiosqlite.Connection, case_id: int) -> None:
    """Forget the case's questions and answers (anonymisation)."""
    await conn.execute("DELETE FROM info_requests WHERE case_id = ?", (case_id,))
