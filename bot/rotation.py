"""Key rotation: re-encrypt every encrypted value under a new key.

``python -m bot rotate-key`` puts a new key first (the key file keeps the old ones after it,
so everything stays readable throughout), re-encrypts every encrypted column under the new
key in one transaction per table, and says when the old keys can go: after the bot has been
restarted with the new key list, ``rotate-key --finish`` rotates again (rows the old process
wrote meanwhile) and drops the old keys from the key file.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.crypto import Cipher, generate_key
from bot.storage import Database

# Every encrypted column: (table, key column, value column).
ENCRYPTED = (
    ("drafts", "user_id", "payload"),
    ("sessions", "user_id", "payload"),
    ("cases", "id", "personal"),
    ("cases", "id", "decision_message"),
    ("info_requests", "id", "question"),
    ("info_requests", "id", "answer"),
    ("notes", "id", "body"),
    ("volunteers", "user_id", "personal"),
    ("tasks", "id", "content"),
    ("outbox", "id", "payload"),
)


async def reencrypt(db: Database, cipher: Cipher) -> int:
    """Re-encrypt every value under the cipher's first key; return how many values."""
    count = 0
    for table, key, column in ENCRYPTED:
        rows = await db.fetchall(
            f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
            f"AND length({column}) > 0"
        )
        async with db.transaction() as conn:
            for row in rows:
                await conn.execute(
                    f"UPDATE {table} SET {column} = ? WHERE {key} = ?",  # noqa: S608
                    (cipher.rotate(row[column]), row[key]),
                )
        count += len(rows)
    return count


def write_keys(path: Path, keys: tuple[str, ...]) -> None:
    """Replace the key file atomically, owner-only."""
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("".join(f"{k}\n" for k in keys))
    temporary.replace(path)


def new_key_list(keys: tuple[str, ...]) -> tuple[str, ...]:
    """A new key first, the current ones after it."""
    return (generate_key(), *keys)
