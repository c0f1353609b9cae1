"""Expiring messages: sent messages the bot deletes later, kept across restarts.

Which chat and which messages are encrypted together (a member's chat id is a Telegram id);
the rows are found by their time only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.crypto import Cipher
from bot.storage.db import Database, iso, parse_iso


@dataclass(frozen=True)
class Expiring:
    """Messages of one chat to delete once ``delete_at`` has passed."""

    id: int
    chat_id: int
    message_ids: tuple[int, ...]
    sent_at: datetime


async def add(
    db: Database,
    cipher: Cipher,
    chat_id: int,
    message_ids: Sequence[int],
    sent_at: datetime,
    delete_at: datetime,
) -> None:
    """Remember messages to delete at ``delete_at`` (durable when this returns)."""
    target = cipher.encrypt_json({"chat": chat_id, "messages": list(message_ids)})
    await db.write(
        "INSERT INTO expiring_messages (target, sent_at, delete_at) VALUES (?, ?, ?)",
        (target, iso(sent_at), iso(delete_at)),
    )


async def due(db: Database, cipher: Cipher, now: datetime) -> list[Expiring]:
    """The messages whose time has come, oldest first."""
    rows = await db.fetchall(
        "SELECT id, target, sent_at FROM expiring_messages WHERE delete_at <= ? ORDER BY id",
        (iso(now),),
    )
    found = []
    for row in rows:
        target = cipher.decrypt_json(row["target"])
        found.append(
            Expiring(
                int(row["id"]),
                int(target["chat"]),
                tuple(int(m) for m in target["messages"]),
                parse_iso(row["sent_at"]),
            )
        )
    return found


async def remove(db: Database, row_id: int) -> None:
    """Forget a row: its messages are deleted, or can no longer be."""
    await db.write("DELETE FROM expiring_messages WHERE id = ?", (row_id,))
