"""Counts for reports and charts, across tables, on a reader connection.

Only clear columns are read (statuses, times, option ids, durations): nothing is decrypted
and nothing here names a person. Times are compared as stored (ISO 8601 in UTC); the caller
gives the bounds of a month in the organisation's time zone.
"""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from bot.storage.db import iso

# The audit events that are a decision on a case, as /report counts them.
DECISIONS = ("case_approved", "case_declined", "case_renewed", "case_closed", "case_reopened")
# Days from submission to decision, in these ranges (the last one open): (low, high) included.
DECISION_DAYS = ((0, 1), (2, 3), (4, 7), (8, 14), (15, 30), (31, None))


async def statuses_between(
    reader: aiosqlite.Connection, start: datetime, end: datetime
) -> dict[str, int]:
    """The cases submitted from ``start`` to before ``end``, by their status now."""
    async with reader.execute(
        "SELECT status, COUNT(*) AS n FROM cases WHERE created_at >= ? AND created_at < ? "
        "GROUP BY status",
        (iso(start), iso(end)),
    ) as cursor:
        return {str(r["status"]): int(r["n"]) for r in await cursor.fetchall()}


async def decisions_between(
    reader: aiosqlite.Connection, start: datetime, end: datetime
) -> dict[str, int]:
    """The decisions taken from ``start`` to before ``end``, by audit event (a case approved
    and later closed counts once for each)."""
    marks = ", ".join("?" for _ in DECISIONS)
    async with reader.execute(
        f"SELECT action, COUNT(*) AS n FROM audit WHERE at >= ? AND at < ? "  # noqa: S608
        f"AND action IN ({marks}) GROUP BY action",
        (iso(start), iso(end), *DECISIONS),
    ) as cursor:
        return {str(r["action"]): int(r["n"]) for r in await cursor.fetchall()}


async def families_supported(reader: aiosqlite.Connection, first: date, last: date) -> int:
    """How many cases were given support between two days (both included), whatever its
    kind: a family given food and money counts once."""
    async with reader.execute(
        "SELECT COUNT(DISTINCT case_id) FROM support_given WHERE given_on BETWEEN ? AND ?",
        (first.isoformat(), last.isoformat()),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def first_support_day(reader: aiosqlite.Connection) -> date | None:
    """The day of the first support given, or None before any."""
    async with reader.execute("SELECT MIN(given_on) FROM support_given") as cursor:
        row = await cursor.fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


async def volunteer_work(
    reader: aiosqlite.Connection, start: datetime, end: datetime
) -> tuple[int, int]:
    """``(volunteers, minutes)`` of the tasks that started from ``start`` to before ``end``
    and that volunteers marked done: how many volunteers, and the tasks' durations summed
    over them (two volunteers on a two-hour task gave four hours)."""
    async with reader.execute(
        "SELECT COUNT(DISTINCT a.volunteer_id), COALESCE(SUM(t.duration_min), 0) "
        "FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "WHERE a.outcome = 'done' AND t.starts_at >= ? AND t.starts_at < ?",
        (iso(start), iso(end)),
    ) as cursor:
        row = await cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def decision_days(reader: aiosqlite.Connection) -> list[int]:
    """How many decided cases took each range of :data:`DECISION_DAYS` to be decided."""
    days = "CAST(julianday(decided_at) - julianday(created_at) AS INTEGER)"
    found = []
    for low, high in DECISION_DAYS:
        async with reader.execute(
            f"SELECT COUNT(*) FROM cases WHERE decided_at IS NOT NULL "  # noqa: S608
            f"AND {days} >= ? AND (? IS NULL OR {days} <= ?)",
            (low, high, high),
        ) as cursor:
            row = await cursor.fetchone()
        found.append(int(row[0]) if row else 0)
    return found
