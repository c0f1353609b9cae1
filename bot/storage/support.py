"""Support given: what the committee gave a family, when, and whether it arrived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, parse_iso, utcnow

# What the family answered: nothing yet, the two buttons, or nothing within RECEIPT_DAYS.
PENDING, RECEIVED, NOT_RECEIVED, UNANSWERED = "pending", "received", "not_received", "unanswered"
RECEIPTS = (PENDING, RECEIVED, NOT_RECEIVED, UNANSWERED)


@dataclass(frozen=True)
class Support:
    """One delivery of support to a case."""

    id: int
    case_id: int
    kind: str  # a support type's option id
    amount: Decimal | None
    currency: str | None
    note: str | None  # the member's words, decrypted
    given_on: date
    recorded_by: int | None  # the member's pseudonym
    recorder: int | None  # the member's Telegram id (None once the case is anonymised)
    task_id: int | None
    receipt: str
    receipt_at: datetime | None
    alerted_at: datetime | None
    created_at: datetime
    other: str | None = None  # what was given, in the member's words, for an "other" kind
    recorded_by_name: str | None = None  # the member's first name, as on a card


@dataclass(frozen=True)
class Summary:
    """What the card shows: how many times support was given, and the last day."""

    times: int
    last: date | None


@dataclass(frozen=True)
class MonthRow:
    """Support given in one month of one kind: how many times, to how many cases, and the
    financial sums per currency."""

    month: str  # YYYY-MM
    kind: str
    times: int
    cases: int


_COLUMNS = (
    "id, case_id, kind, amount, currency, note, given_on, recorded_by, recorder, task_id, "
    "receipt, receipt_at, alerted_at, created_at, other, recorded_by_name"
)


def _support(ids: Ids, row: aiosqlite.Row) -> Support:
    return Support(
        id=int(row["id"]),
        case_id=int(row["case_id"]),
        kind=str(row["kind"]),
        amount=None if row["amount"] is None else Decimal(row["amount"]),
        currency=row["currency"],
        note=None if not row["note"] else ids.cipher.decrypt(row["note"]),
        given_on=date.fromisoformat(row["given_on"]),
        recorded_by=row["recorded_by"],
        recorder=ids.maybe_open(row["recorder"]),
        task_id=row["task_id"],
        receipt=str(row["receipt"]),
        receipt_at=None if row["receipt_at"] is None else parse_iso(row["receipt_at"]),
        alerted_at=None if row["alerted_at"] is None else parse_iso(row["alerted_at"]),
        created_at=parse_iso(row["created_at"]),
        other=None if not row["other"] else ids.cipher.decrypt(row["other"]),
        recorded_by_name=row["recorded_by_name"],
    )


def _supports(ids: Ids, rows: list[aiosqlite.Row]) -> list[Support]:
    return [_support(ids, row) for row in rows]


async def add(
    conn: aiosqlite.Connection,
    ids: Ids,
    case_id: int,
    *,
    kind: str,
    given_on: date,
    member_id: int,
    amount: Decimal | None = None,
    currency: str | None = None,
    note: str | None = None,
    task_id: int | None = None,
    other: str | None = None,
    member_name: str | None = None,
) -> int:
    """Record support given, inside the caller's transaction; return its id."""
    cursor = await conn.execute(
        "INSERT INTO support_given (case_id, kind, amount, currency, note, given_on, "
        "recorded_by, recorder, task_id, created_at, other, recorded_by_name) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            kind,
            None if amount is None else str(amount),
            currency,
            None if not note else ids.cipher.encrypt(note),
            given_on.isoformat(),
            ids.pid(member_id),
            ids.seal(member_id),
            task_id,
            iso(utcnow()),
            None if not other else ids.cipher.encrypt(other),
            member_name,
        ),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


async def get(db: Database, ids: Ids, support_id: int) -> Support | None:
    """One record, or None."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM support_given WHERE id = ?",  # noqa: S608
        (support_id,),
    )
    return None if row is None else _support(ids, row)


async def for_case(db: Database, ids: Ids, case_id: int) -> list[Support]:
    """The case's history, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM support_given WHERE case_id = ? "  # noqa: S608
        "ORDER BY given_on, id",
        (case_id,),
    )
    return [_support(ids, row) for row in rows]


async def summary(db: Database, case_id: int) -> Summary:
    """How many times support was given to the case, and the last day (no decryption)."""
    row = await db.fetchone(
        "SELECT COUNT(*) AS times, MAX(given_on) AS last FROM support_given WHERE case_id = ?",
        (case_id,),
    )
    if row is None or not row["times"]:
        return Summary(0, None)
    return Summary(int(row["times"]), date.fromisoformat(row["last"]))


async def set_receipt(
    conn: aiosqlite.Connection, support_id: int, receipt: str, *, only_from: tuple[str, ...]
) -> bool:
    """Move a record's receipt to ``receipt`` if it is still one of ``only_from``
    (compare-and-set: two taps, or a tap racing the timeout, change it once)."""
    marks = ", ".join("?" for _ in only_from)
    cursor = await conn.execute(
        f"UPDATE support_given SET receipt = ?, receipt_at = ? "  # noqa: S608
        f"WHERE id = ? AND receipt IN ({marks})",
        (receipt, iso(utcnow()), support_id, *only_from),
    )
    return cursor.rowcount == 1


async def mark_alerted(conn: aiosqlite.Connection, support_id: int) -> bool:
    """Note that the recorder was alerted, once (False if it already was)."""
    cursor = await conn.execute(
        "UPDATE support_given SET alerted_at = ? WHERE id = ? AND alerted_at IS NULL",
        (iso(utcnow()), support_id),
    )
    return cursor.rowcount == 1


async def unanswered_since(db: Database, before: datetime) -> list[int]:
    """Records still waiting for the family's answer that were made before ``before``; a case
    that no longer knows its family has nobody to answer, and is skipped."""
    rows = await db.fetchall(
        "SELECT s.id FROM support_given AS s JOIN cases AS c ON c.id = s.case_id "
        "WHERE s.receipt = ? AND s.created_at < ? AND c.family IS NOT NULL ORDER BY s.id",
        (PENDING, iso(before)),
    )
    return [int(row["id"]) for row in rows]


async def close_pending(conn: aiosqlite.Connection, case_id: int) -> None:
    """Close the receipts of a case whose family is gone: nobody can answer them, so they end
    unanswered and already alerted (nobody is told of an answer that cannot come)."""
    now = iso(utcnow())
    await conn.execute(
        "UPDATE support_given SET receipt = ?, receipt_at = ?, alerted_at = COALESCE("
        "alerted_at, ?) WHERE case_id = ? AND receipt = ?",
        (UNANSWERED, now, now, case_id, PENDING),
    )


async def per_month(db: Database, first: date, last: date) -> list[MonthRow]:
    """Support given between two days (both included), per month and kind."""
    rows = await db.fetchall(
        "SELECT substr(given_on, 1, 7) AS month, kind, COUNT(*) AS times, "
        "COUNT(DISTINCT case_id) AS cases FROM support_given "
        "WHERE given_on BETWEEN ? AND ? GROUP BY month, kind ORDER BY month, kind",
        (first.isoformat(), last.isoformat()),
    )
    return [MonthRow(r["month"], r["kind"], int(r["times"]), int(r["cases"])) for r in rows]


async def amounts(db: Database, first: date, last: date) -> dict[str, Decimal]:
    """Financial support given between two days (both included): the sum per currency."""
    rows = await db.fetchall(
        "SELECT currency, amount FROM support_given WHERE given_on BETWEEN ? AND ? "
        "AND amount IS NOT NULL",
        (first.isoformat(), last.isoformat()),
    )
    sums: dict[str, Decimal] = {}
    for row in rows:
        currency = row["currency"] or ""
        sums[currency] = sums.get(currency, Decimal(0)) + Decimal(row["amount"])
    return sums


async def anonymise_for_case(conn: aiosqlite.Connection, case_id: int) -> None:
    """Keep the figures of what was given (kind, day, amount), drop the member's words (the
    note, an "other" kind's description) and who recorded it (anonymisation of the case); the
    receipts still waiting are closed (:func:`close_pending`)."""
    await conn.execute(
        "UPDATE support_given SET note = NULL, other = NULL, recorder = NULL, "
        "recorded_by = NULL, recorded_by_name = NULL "
        "WHERE case_id = ?",
        (case_id,),
    )
    await close_pending(conn, case_id)


async def pages(
    reader: aiosqlite.Connection, ids: Ids, size: int = 500
) -> AsyncIterator[list[Support]]:
    """Every record, oldest first, ``size`` at a time, on a reader connection: an export
    never holds all of them in memory, and decrypting a page happens in a thread."""
    after = 0
    while True:
        async with reader.execute(
            f"SELECT {_COLUMNS} FROM support_given WHERE id > ? ORDER BY id LIMIT ?",  # noqa: S608
            (after, size),
        ) as cursor:
            rows = list(await cursor.fetchall())
        if not rows:
            return
        yield await asyncio.to_thread(_supports, ids, rows)
        after = int(rows[-1]["id"])
