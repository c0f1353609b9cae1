"""Every encrypted column of the schema, read and rewritten generically (key rotation)."""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from bot.storage.db import Database

# Every encrypted column: (table, key column, value column).
ENCRYPTED = (
    ("drafts", "user_id", "payload"),
    ("sessions", "user_id", "payload"),
    ("cases", "id", "personal"),
    ("cases", "id", "decision_message"),
    ("info_requests", "id", "question"),
    ("info_requests", "id", "answer"),
    ("notes", "id", "body"),
    ("support_given", "id", "note"),
    ("support_given", "id", "other"),
    ("followups", "id", "words"),
    ("followups", "id", "answer"),
    ("volunteers", "user_id", "personal"),
    ("tasks", "id", "content"),
    ("activities", "id", "content"),
    ("outbox", "id", "payload"),
    ("feedback", "id", "body"),
    ("feedback", "id", "answer"),
    # The real Telegram ids kept beside their pseudonyms, and the database's own secrets.
    ("cases", "id", "family"),
    ("audit", "id", "actor"),
    ("outbox", "id", "chat"),
    ("volunteers", "user_id", "chat"),
    ("assignments", "rowid", "volunteer"),
    ("reminders", "id", "volunteer"),
    ("tasks", "id", "creator"),
    ("tasks", "id", "progress_to"),
    ("info_requests", "id", "member"),
    ("support_given", "id", "recorder"),
    ("meta", "name", "value"),
    ("expiring_messages", "id", "target"),
    ("feedback", "id", "person"),
    ("activities", "id", "creator"),
    ("activities", "id", "counts_to"),
    ("activity_answers", "rowid", "person"),
)
# Not encrypted, so not here: ``case_keys.digest``, keyed hashes (HMAC under a sub-key of the
# pseudonym key, which rotation re-encrypts and never changes): valid across every rotation.


async def values(db: Database, table: str, key: str, column: str) -> list[tuple[object, bytes]]:
    """(row key, encrypted value) of every non-empty value of one column."""
    rows = await db.fetchall(
        f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
        f"AND length({column}) > 0"
    )
    return [(row[key], row[column]) for row in rows]


async def apply(
    conn: aiosqlite.Connection,
    table: str,
    key: str,
    column: str,
    changes: Sequence[tuple[object, bytes, bytes]],
) -> int:
    """Write re-encrypted values, each only if the row still holds the value it was made
    from (compare-and-set); return how many were written."""
    written = 0
    for row_id, old, new in changes:
        cursor = await conn.execute(
            f"UPDATE {table} SET {column} = ? WHERE {key} = ? AND {column} = ?",  # noqa: S608
            (new, row_id, old),
        )
        written += cursor.rowcount
    return written
