"""The outbox worker: sends queued messages, retrying what is worth retrying.

Messages are written to the outbox in the same transaction as the change that causes them
(a submitted case queues its committee card), so a crash between "saved" and "sent" loses
nothing: the worker sends pending items at start-up, after each change, and every minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.ids import Ids
from bot.kinds import BULK, CONFIDENTIAL, Kind
from bot.limits import Priority, priority
from bot.storage import Database, outbox, people, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BATCH = 200
# How many messages the outbox remembers the look of (to skip an edit that changes nothing).
SHOWN_CACHE = 10_000
CONCURRENCY = 16
PRIVATE_CHAT_INTERVAL = 1.0  # ~1 message/s per chat
WAIT_FOR_RETRY = 30.0  # a retry due this soon is waited for; later ones wait for the job


@dataclass(frozen=True)
class Outgoing:
    """What to send for an outbox item: a new message, or an edit of ``edit`` (message id)."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    edit: int | None = None


Renderer = Callable[[outbox.Item], Awaitable[Outgoing | None]]


@dataclass(frozen=True)
class Edited:
    """How editing a sent message went: ``error`` is the name of Telegram's refusal, if any."""

    error: str | None = None
    final: bool = True  # False: the error may pass, so the edit is worth trying again


def _digest(text: str, markup: InlineKeyboardMarkup | None) -> bytes:
    """A short fingerprint of a message's text and buttons (no text is kept in memory)."""
    buttons = json.dumps(markup.to_dict() if markup is not None else None, sort_keys=True)
    return hashlib.blake2b(f"{text}\0{buttons}".encode(), digest_size=16).digest()


def backoff(attempts: int) -> timedelta:
    """Exponential backoff: 5 s, 10 s, 20 s … capped at one hour."""
    return timedelta(seconds=min(5 * 2**attempts, 3600))


class Delivery:
    """Sends what the outbox holds: chats in parallel, each chat's messages in order."""

    def __init__(self, db: Database, bot: Bot, ids: Ids) -> None:
        self.db = db
        self.bot = bot
        self.ids = ids  # opens the target chats of the outbox
        self.after_batch: Callable[[], Awaitable[None]] | None = None
        self._renderers: dict[str, Renderer] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._tidying: set[asyncio.Task[None]] = set()
        # A digest of what the outbox's recent messages show (cards, notices), by message.
        self._shown: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    def register(self, kind: Kind, renderer: Renderer) -> None:
        """Say how to render items of one kind; a second renderer for it is a mistake."""
        if kind in self._renderers:
            raise ValueError(f"Outbox kind {kind} already has a renderer")
        self._renderers[kind] = renderer

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds that have a renderer."""
        return frozenset(self._renderers)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Edited:
        """Edit a sent message's text (and buttons) now, outside the outbox: the caller
        decides what to do about a failure (a message that is gone cannot be edited, ever)."""
        self._shown.pop((chat_id, message_id), None)  # the outbox's memory of it is old now
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except BadRequest as exc:
            return Edited(type(exc).__name__)
        except TelegramError as exc:
            return Edited(type(exc).__name__, final=False)
        return Edited()

    def tidy(self, work: Awaitable[None]) -> None:
        """Make a cosmetic call in the background (an answered question losing its buttons):
        the person's next update does not wait for it, and in a busy chat it gives way to the
        replies (:attr:`bot.limits.Priority.TIDY`). Failures are ignored: it is tidying."""

        async def run() -> None:
            with priority(Priority.TIDY), contextlib.suppress(TelegramError):
                await work

        task = asyncio.create_task(run())
        self._tidying.add(task)
        task.add_done_callback(self._tidying.discard)

    def kick(self) -> None:
        """Send what is due in the background, so that nobody's reply waits for it."""
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._again:
            self._again = False
            try:
                await self.flush()
            except Exception as exc:  # the periodic job retries: never crash the worker
                log.error("Outbox flush failed: %s", type(exc).__name__)

    async def wait_idle(self) -> None:
        """Wait until the background sending started by :meth:`kick`, and the tidying, is
        over."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        while self._tidying:
            await asyncio.gather(*self._tidying, return_exceptions=True)

    async def flush(self) -> int:
        """Send every due item (waiting for retries due within 30 s); return how many."""
        sent = 0
        async with self._lock:
            while True:
                items = await outbox.due(self.db, self.ids, utcnow(), limit=BATCH)
                if not items:
                    wait = await outbox.seconds_to_next(self.db, utcnow())
                    if wait is None or wait > WAIT_FOR_RETRY:
                        break
                    await asyncio.sleep(max(wait, 0.05))
                    continue
                by_chat: dict[int, list[outbox.Item]] = {}
                for item in items:
                    by_chat.setdefault(item.chat_id, []).append(item)
                gate = asyncio.Semaphore(CONCURRENCY)
                counts = await asyncio.gather(*(self._chat(gate, q) for q in by_chat.values()))
                sent += sum(counts)
                if self.after_batch is not None:
                    await self.after_batch()
        return sent

    async def _chat(self, gate: asyncio.Semaphore, items: list[outbox.Item]) -> int:
        """One chat's due items, in order, about a second apart."""
        sent = 0
        async with gate:
            for number, item in enumerate(items):
                if number:
                    await asyncio.sleep(PRIVATE_CHAT_INTERVAL)
                # A broadcast takes what the replies leave of Telegram's 30 messages/s.
                level = Priority.BULK if item.kind in BULK else Priority.REPLY
                try:
                    with priority(level):
                        sent += await self._send(item)
                except Exception as exc:  # a broken item must not stop the others
                    await outbox.give_up(self.db, item.id, type(exc).__name__)
                    log.error(
                        "Outbox item %d (%s) failed: %s", item.id, item.kind, type(exc).__name__
                    )
        return sent

    async def _send(self, item: outbox.Item) -> int:
        renderer = self._renderers.get(item.kind)
        if renderer is None:
            await outbox.give_up(self.db, item.id, "unknown kind")
            log.error("Outbox item %d has an unknown kind %s", item.id, item.kind)
            return 0
        out = await renderer(item)
        if out is None:
            await outbox.skip(self.db, item.id, "nothing to send")
            return 0
        shown = _digest(out.text, out.markup)
        if out.edit is not None and self._shown.get((item.chat_id, out.edit)) == shown:
            # The message shows this already: Telegram would answer "message is not modified".
            await outbox.mark_sent(self.db, item.id, out.edit)
            return 0
        try:
            if out.edit is None:
                message = await self.bot.send_message(
                    item.chat_id,
                    out.text,
                    reply_markup=out.markup,
                    protect_content=item.kind in CONFIDENTIAL or None,
                )
                message_id = message.message_id
            else:
                # "message is not modified" is success: the rate limiter returns it as such.
                await self.bot.edit_message_text(
                    out.text, chat_id=item.chat_id, message_id=out.edit, reply_markup=out.markup
                )
                message_id = out.edit
        except RetryAfter as exc:
            delay = exc.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            await outbox.retry_later(self.db, item.id, timedelta(seconds=seconds), "RetryAfter")
        except (Forbidden, BadRequest) as exc:
            await outbox.give_up(self.db, item.id, type(exc).__name__)
            if isinstance(exc, Forbidden) and item.chat_id > 0:
                await people.set_reachable(self.db, self.ids, item.chat_id, False)
            log.error(
                "Outbox item %d (%s) refused by Telegram: %s",
                item.id,
                item.kind,
                type(exc).__name__,
            )
        except (NetworkError, TelegramError) as exc:
            if item.attempts + 1 >= MAX_ATTEMPTS:
                await outbox.give_up(self.db, item.id, type(exc).__name__)
                log.error(
                    "Outbox item %d (%s) given up after %d attempts",
                    item.id,
                    item.kind,
                    item.attempts + 1,
                )
            else:
                await outbox.retry_later(
                    self.db, item.id, backoff(item.attempts), type(exc).__name__
                )
        else:
            self._remember(item.chat_id, message_id, shown)
            await outbox.mark_sent(self.db, item.id, message_id)
            log.info("Outbox item %d (%s) sent", item.id, item.kind)
            return 1
        return 0

    def _remember(self, chat_id: int, message_id: int, shown: bytes) -> None:
        """What a message shows now, so that an edit to the same is not made (bounded)."""
        self._shown[(chat_id, message_id)] = shown
        self._shown.move_to_end((chat_id, message_id))
        while len(self._shown) > SHOWN_CACHE:
            self._shown.popitem(last=False)
