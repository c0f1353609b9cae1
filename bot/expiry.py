"""Details messages leave the member's chat after ``DETAILS_TTL``.

What a member was shown of a case should not stay on their phone for ever. Each Details
message is remembered in the database when it is sent (so a restart forgets none), and a
periodic job deletes those whose time has come. Telegram lets a bot delete its own messages
for 48 hours only: a row that could not be deleted by then is dropped, not retried for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.crypto import Cipher
from bot.storage import Database, expiring, utcnow

log = logging.getLogger(__name__)

JOB = "details-expiry"
INTERVAL = 60.0  # seconds between sweeps: a message goes at most a minute after its time
DELETABLE = timedelta(hours=48)  # Telegram's limit for a bot deleting its own messages


async def remember(
    db: Database,
    cipher: Cipher,
    chat_id: int,
    message_ids: Sequence[int],
    ttl: timedelta,
    sent_at: datetime | None = None,
) -> None:
    """The messages just sent to ``chat_id`` are to be deleted after ``ttl``."""
    sent = sent_at or utcnow()
    await expiring.add(db, cipher, chat_id, message_ids, sent, sent + ttl)


async def sweep(db: Database, cipher: Cipher, bot: Bot, now: datetime | None = None) -> int:
    """Delete the messages whose time has come; return how many rows were settled.

    A message already gone, or a chat that blocked the bot, is settled too (there is nothing
    more to do); a network failure leaves the row for the next sweep, until 48 hours have
    passed since the message was sent.
    """
    moment = now or utcnow()
    settled = 0
    for row in await expiring.due(db, cipher, moment):
        if moment - row.sent_at < DELETABLE:
            try:
                await bot.delete_messages(row.chat_id, row.message_ids)
            except (BadRequest, Forbidden):
                pass
            except TelegramError as exc:
                log.warning("Could not delete expired messages yet: %s", type(exc).__name__)
                continue
        await expiring.remove(db, row.id)
        settled += 1
    if settled:
        log.info("Expired messages deleted from %d chats", settled)
    return settled
