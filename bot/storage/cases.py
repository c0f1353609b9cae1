"""Cases: submitted applications.

The family is stored as a pseudonym (``user_id``) for look-ups, and as its Telegram id
encrypted (``family``) for the messages the bot sends it; the members who took or decided a
case only as pseudonyms. :class:`Case` carries the family's real id, opened on reading.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import aiosqlite

from bot.crypto import Cipher
from bot.ids import Ids
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
    version: int = 0
    assignee_id: int | None = None  # the member's pseudonym
    assignee_name: str | None = None
    decided_by: int | None = None  # the member's pseudonym
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    decision: dict[str, Any] | None = None
    decision_message: bytes | None = None
    support_until: str | None = None


# Fields of a transition that name a member: stored as pseudonyms.
MEMBER_FIELDS = ("assignee_id", "decided_by")


def _case(ids: Ids, row: sqlite3.Row) -> Case:
    return Case(
        id=row["id"],
        ref=row["ref"],
        user_id=ids.maybe_open(row["family"]),
        language=row["language"],
        status=row["status"],
        answers=json.loads(row["answers"]),
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
        sealed=row["personal"],
        version=row["version"],
        assignee_id=row["assignee_id"],
        assignee_name=row["assignee_name"],
        decided_by=row["decided_by"],
        decided_by_name=row["decided_by_name"],
        decided_at=parse_iso(row["decided_at"]) if row["decided_at"] else None,
        decision=json.loads(row["decision"]) if row["decision"] else None,
        decision_message=row["decision_message"],
        support_until=row["support_until"],
    )


def personal(cipher: Cipher, case: Case) -> dict[str, Any]:
    """The case's personal answers, decrypted."""
    return {} if case.sealed is None else dict(cipher.decrypt_json(case.sealed))


async def insert(
    conn: aiosqlite.Connection,
    ids: Ids,
    *,
    user_id: int,
    language: str,
    status: str,
    answers: dict[str, Any],
    personal_answers: dict[str, Any],
) -> Case:
    """Create a case with a fresh unique reference, inside the caller's transaction."""
    now = iso(utcnow())
    sealed = ids.cipher.encrypt_json(personal_answers)
    for _ in range(REF_ATTEMPTS):
        ref = new_ref()
        async with conn.execute("SELECT 1 FROM cases WHERE ref = ?", (ref,)) as cursor:
            if await cursor.fetchone() is None:
                break
    else:  # pragma: no cover - 27**6 references make this practically impossible
        raise RuntimeError("could not find a free case reference")
    cursor = await conn.execute(
        "INSERT INTO cases (ref, user_id, family, language, status, answers, personal, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref,
            ids.pid(user_id),
            ids.seal(user_id),
            language,
            status,
            json.dumps(answers),
            sealed,
            now,
            now,
        ),
    )
    async with conn.execute("SELECT * FROM cases WHERE id = ?", (cursor.lastrowid,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return _case(ids, row)


async def by_ref(db: Database, ids: Ids, ref: str) -> Case | None:
    """The case with this reference."""
    row = await db.fetchone("SELECT * FROM cases WHERE ref = ?", (normalize_ref(ref),))
    return None if row is None else _case(ids, row)


async def by_id(db: Database, ids: Ids, case_id: int) -> Case | None:
    """The case with this id."""
    row = await db.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
    return None if row is None else _case(ids, row)


async def for_user(db: Database, ids: Ids, user_id: int) -> list[Case]:
    """The cases of one person, newest first."""
    rows = await db.fetchall(
        "SELECT * FROM cases WHERE user_id = ? ORDER BY id DESC", (ids.pid(user_id),)
    )
    return [_case(ids, r) for r in rows]


async def page(
    db: Database, ids: Ids, status: str | None, offset: int, limit: int
) -> tuple[list[Case], int]:
    """Cases with ``status`` (all when None), newest first, and how many there are.

    The page's ids are found in an index (by status, or the ids alone), skipping ``offset``
    of its small entries rather than whole rows, and the count is kept in ``case_counts``
    (migration 14): a deep page costs about what the first does.
    """
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    rows = await db.fetchall(
        "SELECT * FROM cases WHERE id IN (SELECT id FROM cases "  # noqa: S608
        f"{where} ORDER BY id DESC LIMIT ? OFFSET ?) ORDER BY id DESC",
        [*params, limit, offset],
    )
    counts = await counts_by_status(db)
    total = counts.get(status, 0) if status else sum(counts.values())
    return [_case(ids, r) for r in rows], total


async def counts_by_status(db: Database) -> dict[str, int]:
    """How many cases are in each status (kept as cases change: migration 14)."""
    rows = await db.fetchall("SELECT status, n FROM case_counts WHERE n > 0")
    return {r["status"]: int(r["n"]) for r in rows}


async def cut_points(db: Database, parts: int) -> list[tuple[int, int]]:
    """Where to cut the cases, oldest first, into ``parts`` runs of about the same length
    (an export written by several workers): for each run but the first, (the last id before
    it, how many cases come before it). Each point is found by skipping entries of the ids'
    index, not rows."""
    total = sum((await counts_by_status(db)).values())
    points: list[tuple[int, int]] = []
    for part in range(1, parts):
        before = part * total // parts
        row = await db.fetchone(
            "SELECT id FROM cases ORDER BY id LIMIT 1 OFFSET ?", (max(before - 1, 0),)
        )
        if row is not None and before > 0 and (not points or points[-1][0] != row["id"]):
            points.append((int(row["id"]), before))
    return points


class Record(NamedTuple):
    """A case as an export reads it: only its columns, as stored (the answers as JSON, the
    times as ISO text, the personal answers encrypted), so that reading years of cases costs
    no more than the rows themselves."""

    id: int
    ref: str
    status: str
    created_at: str
    language: str
    answers: str
    sealed: bytes | None
    decided_by_name: str | None
    decided_at: str | None
    support_until: str | None


READ_RECORDS = (
    "SELECT id, ref, status, created_at, language, answers, CASE WHEN ? THEN personal END, "
    "decided_by_name, decided_at, support_until FROM cases "
    "WHERE id > ? AND (? < 0 OR id <= ?) ORDER BY id LIMIT ?"
)


def read_records(
    path: Path,
    *,
    personal: bool,
    after: int = 0,
    until: int | None = None,
    size: int = 1000,
) -> Iterator[list[Record]]:
    """Every case, oldest first, ``size`` at a time, on a read-only connection of its own
    and without asyncio: an export's worker (a thread, or a process of its own for years of
    cases) reads the database itself, sees it as committed (WAL: no lock on the bot's
    connection) and never holds every case at once. Only the ids after ``after`` and up to
    ``until`` (when given) are read, and the encrypted personal answers only if
    ``personal``. Nothing names the family's account."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        last = until if until is not None else -1
        while True:
            rows = conn.execute(READ_RECORDS, (personal, after, last, last, size)).fetchall()
            if not rows:
                return
            yield [Record._make(row) for row in rows]
            after = rows[-1][0]
    finally:
        conn.close()


async def tally_by_status(reader: aiosqlite.Connection) -> dict[str, int]:
    """How many cases are in each status, on a reader connection."""
    async with reader.execute("SELECT status, COUNT(*) AS n FROM cases GROUP BY status") as cur:
        return {r["status"]: int(r["n"]) for r in await cur.fetchall()}


async def tally_by_option(reader: aiosqlite.Connection, step_id: str) -> dict[str, int]:
    """How many cases chose each option of a step (a case choosing several counts for
    each), counted in SQL over the clear answers."""
    async with reader.execute(
        "SELECT j.value AS option, COUNT(*) AS n FROM cases c, json_each(c.answers, ?) j "
        "GROUP BY j.value",
        (f'$."{step_id}"',),
    ) as cursor:
        return {str(r["option"]): int(r["n"]) for r in await cursor.fetchall()}


async def created_span(reader: aiosqlite.Connection) -> tuple[datetime, datetime] | None:
    """When the first and the last case came in (None: no case)."""
    async with reader.execute("SELECT MIN(created_at), MAX(created_at) FROM cases") as cursor:
        row = await cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return parse_iso(row[0]), parse_iso(row[1])


async def created_between(reader: aiosqlite.Connection, start: datetime, end: datetime) -> int:
    """How many cases came in from ``start`` to before ``end`` (by the index on the time)."""
    async with reader.execute(
        "SELECT COUNT(*) FROM cases WHERE created_at >= ? AND created_at < ?",
        (iso(start), iso(end)),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def median_days_to_decision(reader: aiosqlite.Connection) -> float | None:
    """The median of the days from submission to decision of the decided cases."""
    days = "julianday(decided_at) - julianday(created_at)"
    async with reader.execute("SELECT COUNT(*) FROM cases WHERE decided_at IS NOT NULL") as cur:
        row = await cur.fetchone()
    decided = int(row[0]) if row else 0
    if not decided:
        return None
    async with reader.execute(
        f"SELECT {days} AS d FROM cases WHERE decided_at IS NOT NULL ORDER BY d "  # noqa: S608
        "LIMIT ? OFFSET ?",
        (2 - decided % 2, (decided - 1) // 2),
    ) as cursor:
        middle = [float(r["d"]) for r in await cursor.fetchall()]
    return sum(middle) / len(middle)


async def every(db: Database, ids: Ids) -> list[Case]:
    """All cases, oldest first (exports and statistics)."""
    return [_case(ids, r) for r in await db.fetchall("SELECT * FROM cases ORDER BY id")]


async def load(conn: aiosqlite.Connection, ids: Ids, ref: str) -> Case | None:
    """The case with this reference, read inside the caller's transaction."""
    async with conn.execute("SELECT * FROM cases WHERE ref = ?", (normalize_ref(ref),)) as cur:
        row = await cur.fetchone()
    return None if row is None else _case(ids, row)


async def transition(
    conn: aiosqlite.Connection,
    ids: Ids,
    case_id: int,
    status: str,
    sources: tuple[str, ...],
    fields: dict[str, Any],
) -> bool:
    """Set the status (and ``fields``) with one conditional UPDATE that applies only while
    the case is still in one of ``sources``; False if another change came first. Members
    named in ``fields`` (:data:`MEMBER_FIELDS`) are given by Telegram id."""
    fields = {k: ids.maybe_pid(v) if k in MEMBER_FIELDS else v for k, v in fields.items()}
    assignments = "".join(f", {name} = ?" for name in fields)
    marks = ", ".join("?" for _ in sources)
    cursor = await conn.execute(
        f"UPDATE cases SET status = ?, version = version + 1, updated_at = ?{assignments} "  # noqa: S608
        f"WHERE id = ? AND status IN ({marks})",
        (status, iso(utcnow()), *fields.values(), case_id, *sources),
    )
    return cursor.rowcount == 1


async def status_of(conn: aiosqlite.Connection, case_id: int) -> str | None:
    """The case's status, read inside the caller's transaction; None if it is gone."""
    async with conn.execute("SELECT status FROM cases WHERE id = ?", (case_id,)) as cur:
        row = await cur.fetchone()
    return None if row is None else str(row["status"])


async def ids_of_user(conn: aiosqlite.Connection, ids: Ids, user_id: int) -> list[int]:
    """The ids of one person's cases, inside the caller's transaction."""
    async with conn.execute("SELECT id FROM cases WHERE user_id = ?", (ids.pid(user_id),)) as cur:
        return [int(r["id"]) for r in await cur.fetchall()]


async def expired(db: Database, before: datetime) -> list[tuple[int, str]]:
    """Cases untouched since ``before``, whatever their status (closed, declined, or open
    and forgotten), that still hold personal data: (id, ref)."""
    rows = await db.fetchall(
        "SELECT id, ref FROM cases WHERE updated_at < ? AND "
        "(personal IS NOT NULL OR user_id IS NOT NULL) ORDER BY id",
        (iso(before),),
    )
    return [(int(r["id"]), str(r["ref"])) for r in rows]


async def anonymise(conn: aiosqlite.Connection, case_id: int) -> None:
    """Drop the case's personal answers, the member's message and the family's account."""
    await conn.execute(
        "UPDATE cases SET personal = NULL, decision_message = NULL, user_id = NULL, "
        "family = NULL WHERE id = ?",
        (case_id,),
    )


async def family_of(conn: aiosqlite.Connection, ids: Ids, case_id: int) -> int | None:
    """The Telegram id of the case's family (None once anonymised), inside a transaction."""
    async with conn.execute("SELECT family FROM cases WHERE id = ?", (case_id,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else ids.maybe_open(row["family"])
