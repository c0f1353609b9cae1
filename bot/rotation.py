"""Key rotation without downtime beyond one restart.

1. ``python -m bot rotate-key`` puts a new key first in the key list (the key file is
   rewritten; with ``ENCRYPTION_KEY`` the new list is printed). Nothing is re-encrypted yet:
   the running bot only knows the old keys.
2. Restart the bot. It now writes under the new key and still reads the old ones.
3. ``python -m bot rotate-key --finish``, while the bot runs: every value still under an old
   key is re-encrypted under the new one, then the old keys are dropped from the key file.
   A row the bot rewrites meanwhile is left alone (the bot already wrote it under the new
   key): each update applies only if the value is still the one that was read.

The running bot keeps the old keys in memory until its next restart, which is harmless.
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
    """Re-encrypt every value under the cipher's first key; return how many were changed.

    Safe while the bot runs: an update applies only if the value is unchanged since it was
    read, so a value the bot has just rewritten is never overwritten with an older one.
    """
    count = 0
    for table, key, column in ENCRYPTED:
        rows = await db.fetchall(
            f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
            f"AND length({column}) > 0"
        )
        async with db.transaction() as conn:
            for row in rows:
                value = row[column]
                rotated = cipher.rotate(value)
                if rotated == value:
                    continue
                cursor = await conn.execute(
                    f"UPDATE {table} SET {column} = ? "  # noqa: S608
                    f"WHERE {key} = ? AND {column} = ?",
                    (rotated, row[key], value),
                )
                count += cursor.rowcount
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
