"""Migration 7: no Telegram id in clear any more.

Adds the ``meta`` table (the key check value and the pseudonym key), then replaces every
Telegram id of a person by its pseudonym; where the bot must still write to the person, the
real id is kept encrypted in a new column beside it. Group chats (negative ids) stay as they
are. Runs in one transaction with foreign keys checked at its end: the people and the rows
that refer to them change together.
"""

from __future__ import annotations

import aiosqlite

from bot.crypto import Cipher
from bot.ids import Ids
from bot.storage import meta

# (table, id column, column of the sealed real id or None where it is never needed)
IDS = (
    ("people", "user_id", None),
    ("drafts", "user_id", None),
    ("sessions", "user_id", None),
    ("cases", "user_id", "family"),
    ("cases", "assignee_id", None),
    ("cases", "decided_by", None),
    ("audit", "actor_id", "actor"),
    ("outbox", "chat_id", "chat"),
    ("volunteers", "user_id", "chat"),
    ("assignments", "volunteer_id", "volunteer"),
    ("reminders", "volunteer_id", "volunteer"),
    ("tasks", "creator_id", "creator"),
    ("tasks", "progress_chat", "progress_to"),
    ("info_requests", "member_id", "member"),
    ("notes", "author_id", None),
)


async def upgrade(conn: aiosqlite.Connection, cipher: Cipher, now: str) -> None:
    """Create the keys, add the sealed columns, pseudonymise every stored id."""
    ids = Ids(cipher, await meta.create(conn, cipher, now))
    for table, _, sealed in IDS:
        if sealed is not None:
            await conn.execute(f"ALTER TABLE {table} ADD COLUMN {sealed} BLOB")
    for table, column, sealed in IDS:
        async with conn.execute(
            f"SELECT rowid, {column} FROM {table} WHERE {column} > 0"  # noqa: S608
        ) as cursor:
            rows = [(int(r[0]), int(r[1])) for r in await cursor.fetchall()]
        for rowid, telegram_id in rows:
            if sealed is None:
                await conn.execute(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?",  # noqa: S608
                    (ids.pid(telegram_id), rowid),
                )
            else:
                await conn.execute(
                    f"UPDATE {table} SET {column} = ?, {sealed} = ? WHERE rowid = ?",  # noqa: S608
                    (ids.pid(telegram_id), ids.seal(telegram_id), rowid),
                )
