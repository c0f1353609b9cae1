"""Possible duplicates: the keyed hashes of each case (``case_keys``) and the flags that tie a
newer case to an earlier one (``case_duplicates``). No clear value is stored here: a digest
is an HMAC under a key kept, encrypted, in the database (see :mod:`bot.duplicates`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiosqlite

from bot.ids import Ids
from bot.storage.db import Database, iso, utcnow

OPEN, DISMISSED, MERGED = "open", "dismissed", "merged"


@dataclass(frozen=True)
class Flag:
    """A case flagged as a possible duplicate of an earlier one."""

    id: int
    case_id: int
    case_ref: str
    other_id: int
    other_ref: str
    reason: str
    state: str


_FLAG = (
    "SELECT d.id, d.case_id, c.ref AS case_ref, d.other_id, o.ref AS other_ref, d.reason, "
    "d.state FROM case_duplicates d JOIN cases c ON c.id = d.case_id "
    "JOIN cases o ON o.id = d.other_id"
)


def _flag(row: aiosqlite.Row) -> Flag:
    return Flag(
        id=int(row["id"]),
        case_id=int(row["case_id"]),
        case_ref=str(row["case_ref"]),
        other_id=int(row["other_id"]),
        other_ref=str(row["other_ref"]),
        reason=str(row["reason"]),
        state=str(row["state"]),
    )


async def add_keys(conn: aiosqlite.Connection, case_id: int, keys: Mapping[str, bytes]) -> None:
    """Store the case's digests (kind -> digest), inside the caller's transaction."""
    await conn.executemany(
        "INSERT OR REPLACE INTO case_keys (case_id, kind, digest) VALUES (?, ?, ?)",
        [(case_id, kind, digest) for kind, digest in keys.items()],
    )


async def matching(
    conn: aiosqlite.Connection, case_id: int, kind: str, digest: bytes, limit: int
) -> list[int]:
    """The earlier cases, newest first, with the same digest of this kind: never the case
    itself, never one whose personal data was erased (their keys are gone with it)."""
    async with conn.execute(
        "SELECT k.case_id FROM case_keys k JOIN cases c ON c.id = k.case_id "
        "WHERE k.kind = ? AND k.digest = ? AND k.case_id < ? AND c.personal IS NOT NULL "
        "ORDER BY k.case_id DESC LIMIT ?",
        (kind, digest, case_id, limit),
    ) as cursor:
        return [int(r["case_id"]) for r in await cursor.fetchall()]


async def add_flag(conn: aiosqlite.Connection, case_id: int, other_id: int, reason: str) -> None:
    """Flag ``case_id`` as a possible duplicate of ``other_id`` (once per pair)."""
    await conn.execute(
        "INSERT OR IGNORE INTO case_duplicates (case_id, other_id, reason, created_at) "
        "VALUES (?, ?, ?, ?)",
        (case_id, other_id, reason, iso(utcnow())),
    )


async def for_case(db: Database, case_id: int) -> list[Flag]:
    """The flags that name the case, on either side (it is the newer case flagged, or the
    earlier one it may repeat), of every state, oldest first."""
    rows = await db.fetchall(
        f"{_FLAG} WHERE d.case_id = ? OR d.other_id = ? ORDER BY d.id", (case_id, case_id)
    )
    return [_flag(r) for r in rows]


async def load(conn: aiosqlite.Connection, flag_id: int) -> Flag | None:
    """One flag, read inside the caller's transaction."""
    async with conn.execute(f"{_FLAG} WHERE d.id = ?", (flag_id,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else _flag(row)


async def by_id(db: Database, flag_id: int) -> Flag | None:
    """One flag."""
    row = await db.fetchone(f"{_FLAG} WHERE d.id = ?", (flag_id,))
    return None if row is None else _flag(row)


async def settle(
    conn: aiosqlite.Connection, ids: Ids, flag_id: int, state: str, member_id: int
) -> bool:
    """Dismiss or merge an open flag, once: False if it was settled (or erased) before."""
    cursor = await conn.execute(
        "UPDATE case_duplicates SET state = ?, decided_by = ?, decided_at = ? "
        "WHERE id = ? AND state = ?",
        (state, ids.pid(member_id), iso(utcnow()), flag_id, OPEN),
    )
    return cursor.rowcount == 1


async def delete_for_case(conn: aiosqlite.Connection, case_id: int) -> None:
    """Erasure: the case's digests, and every flag that names it, on either side."""
    await conn.execute("DELETE FROM case_keys WHERE case_id = ?", (case_id,))
    await conn.execute(
        "DELETE FROM case_duplicates WHERE case_id = ? OR other_id = ?", (case_id, case_id)
    )
