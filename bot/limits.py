"""Telegram's limits, kept by construction, and what to do when Telegram misbehaves.

:class:`TelegramLimiter` is the bot's rate limiter (every API call but ``getUpdates`` goes
through it). Like PTB's ``AIORateLimiter`` it keeps the bot under ~30 messages/s overall and
20 messages/min per group; unlike it, it also decides what a failed call deserves:

========================================  ================================================
Telegram answers                           The limiter
========================================  ================================================
429 with a short ``retry_after`` (≤ 5 s)   waits that long, then retries *that call only*
429 with a longer one                      raises :class:`RetryAfter` (the outbox reschedules)
5xx answers, no connection, pool full      retries with backoff 0.5 s, 1 s, 2 s, then raises
                                           (Telegram did not carry the call out)
timeout, connection lost mid-call          the same for calls safe to repeat (answers, edits,
                                           reads, menus); a send raises at once: the message
                                           may have arrived, and sending it again could
                                           duplicate it (the outbox decides; interactive
                                           replies are not repeated)
"message is not modified"                  success: the message already says that
"query is too old" / "query id invalid"    success: the button was handled, only the little
                                           spinner answer came too late
403, other 400, 401, 409                   raises: retrying cannot help
========================================  ================================================

The 30 messages/s are one :class:`Budget` shared by everything the bot sends, spent by
:class:`Priority`: a reply somebody waits for goes first, tidying next, a broadcast (the
outbox's bulk kinds) takes what is left. An idle bot broadcasts at the full rate; a busy one
slows the broadcast, never the replies. The calls of a task take the level of
:data:`PRIORITY` (a reply unless said otherwise; :func:`priority` sets it for a block).

It also paces each private chat (a burst of 3, then one message a second), which PTB's limiter
leaves to Telegram's 429s. A cosmetic call (:attr:`Priority.TIDY`: an answered question losing
its buttons) gives way in a busy chat: it waits until the chat's bucket could still take the
person's next reply, so that tidying never delays an answer. And PTB's limiter holds *every*
request while one chat waits out a 429; here only the call that got the 429 waits, so one slow
chat never delays everyone else.

:class:`FloodGate` protects the bot from one person sending faster than anybody could read:
a token bucket per person (a burst of ``burst`` updates, then ``per_minute``). Updates over
the limit are not processed; the person is told so, at most once per ``notice_every`` seconds.
As shipped (a burst of 20, then 2 a second) it only catches what no human does: a person
acting once a second, or tapping several options of a question in a quick burst, never
reaches it; several updates a second for more than a few seconds do. A button tap weighs as
much as a message: it costs the bot as much (a durable write and an edit, which Telegram paces
like a message), the burst already absorbs a quick run of taps, and a lighter tap would let a
script press twice as fast.
The check is made when an update arrives (:meth:`FloodGate.admit`, from the update
processor), before it queues behind the person's earlier updates: what counts is how fast the
person sends, not how fast the bot answers. Only what a person sends is judged (messages,
edits, button taps); membership changes always go through.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, IntEnum
from typing import Any, Protocol

import httpx
from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """Who goes first when the budget of messages is spent: the lower, the sooner."""

    REPLY = 0
    """Somebody waits for it: an answer, a card, a notice (the default)."""
    TIDY = 1
    """Nobody waits for it, but it belongs to a conversation going on: an answered question
    losing its buttons. It also gives way in a busy chat."""
    BULK = 2
    """A broadcast (``bot.kinds.BULK``): takes what the others leave."""


# Set in the task that makes the calls (a reply unless said otherwise).
PRIORITY: contextvars.ContextVar[Priority] = contextvars.ContextVar(
    "priority", default=Priority.REPLY
)


@contextlib.contextmanager
def priority(level: Priority) -> Iterator[None]:
    """Make the calls of this block at ``level``."""
    token = PRIORITY.set(level)
    try:
        yield
    finally:
        PRIORITY.reset(token)


# How long a cosmetic call gives way at most before it takes its turn like any other.
COSMETIC_PATIENCE = 30.0
GIVE_WAY_STEP = 0.25

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

SAFE_TO_REPEAT = frozenset(
    {
        "answerCallbackQuery",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "deleteMessage",
        "getMe",
        "getChat",
        "getChatMember",
        "getFile",
        "getWebhookInfo",
        "setWebhook",
        "deleteWebhook",
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
    }
)
"""Methods whose second call does no harm if the first one did arrive."""

NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request left: repeating it cannot duplicate anything."""

NOT_MODIFIED = "message is not modified"
QUERY_GONE = ("query is too old", "query id is invalid")


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def repeatable(endpoint: str, error: NetworkError) -> bool:
    """Whether a failed call may be made again without risking doing it twice."""
    cause = error.__cause__
    if isinstance(cause, NEVER_SENT):
        return True
    if isinstance(error, TimedOut) or isinstance(cause, httpx.HTTPError):
        # The request went out and the answer was lost: only calls safe to repeat.
        return endpoint in SAFE_TO_REPEAT
    return True  # Telegram answered with a 5xx: it did not carry the call out


def harmless(endpoint: str, error: BadRequest) -> bool:
    """Whether a 400 only says that there was nothing (more) to do."""
    text = error.message.lower()
    if endpoint.startswith("edit") and NOT_MODIFIED in text:
        return True
    return endpoint == "answerCallbackQuery" and any(phrase in text for phrase in QUERY_GONE)


PACE = 0.9
"""A broadcast's pace, as a share of the window's ``window / per_window`` between calls."""
INSTANT = 1e-6
"""A wait shorter than this is none (the clock's rounding must not keep a call waiting)."""
RESERVE = 2
"""A broadcast leaves the window's last slot free unless another frees up within this many
slots' time (``window / per_window`` each)."""


class Timer(Protocol):
    """What ``call_later`` returns: a call to come that can be called off."""

    def cancel(self) -> None:
        """Call it off."""


class Budget:
    """At most ``per_window`` calls in any ``window`` seconds, the most urgent waiting first.

    Telegram counts messages in a sliding window of a second. A call holds its slot from the
    moment it is let through until ``window`` seconds after it *ended*: Telegram received it in
    between, so the call that takes the slot after it arrives a full window later, whatever the
    network's jitter. The limit is kept by construction (never a 429 of ours) at the cost of
    one round trip per window: 30 calls per ~1.01 s against a local server.

    Calls wait in one queue per :class:`Priority`; a slot that frees goes to the first call of
    the most urgent queue, so a reply never waits behind a broadcast. Three rules keep its
    wait for a free slot short while a broadcast runs:

    * a broadcast keeps to a pace of about ``per_window`` a window: every call moves the pace
      on by :attr:`spacing` and a bulk call waits for it, so a broadcast spreads over the
      window instead of taking its slots at once (a reply would then wait for the window to
      roll over), and every reply pushes the broadcast back by one slot;
    * the pace is a little faster than the window (:data:`PACE`), so that a wake-up a little
      late (the event loop was busy) is not lost: the window stays what limits the rate;
    * a bulk call takes the window's last free slot only when another frees up within
      :data:`RESERVE` slots' time: a reply coming meanwhile finds it.

    ``clock`` and ``call_later`` (the event loop's by default) are injectable for tests.
    """

    def __init__(
        self,
        per_window: int = 30,
        window: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        call_later: Callable[[float, Callable[[], None]], Timer] | None = None,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.spacing = PACE * window / per_window
        self._clock = clock
        self._call_later = call_later
        self._busy = 0  # calls let through and not ended
        self._ends: deque[float] = deque()  # when the slots of ended calls free up, in order
        self._paced = -math.inf  # when a bulk call may go next
        self._queues: dict[Priority, deque[asyncio.Future[None]]] = {
            level: deque() for level in Priority
        }
        self._serving: Priority | None = None  # the level of the first waiting call
        self._stalled = False  # it waits for a call in flight to end
        self._timer: Timer | None = None  # for when it may go

    @contextlib.asynccontextmanager
    async def slot(self, level: Priority = Priority.REPLY) -> AsyncIterator[None]:
        """Wait for a slot at ``level``; hold it for the block and ``window`` seconds after."""
        await self._acquire(level)
        try:
            yield
        finally:
            self._ends.append(self._clock() + self.window)
            self._busy -= 1
            if self._stalled:
                self._dispatch()

    def _delay(self, level: Priority) -> float | None:
        """Seconds until a call at ``level`` could go, were nobody waiting; None: not before
        a call in flight ends."""
        now = self._clock()
        while self._ends and self._ends[0] <= now:
            self._ends.popleft()
        used = self._busy + len(self._ends)
        # A bulk call needs one slot more than it takes (RESERVE).
        needed = self.per_window - (level is Priority.BULK)
        if used < needed:
            wait = self._paced - now if level is Priority.BULK else 0.0
            return wait if wait > INSTANT else 0.0
        if self._busy >= needed:
            return None
        wait = self._ends[used - needed] - now
        if level is Priority.BULK:
            wait = max(wait - RESERVE * self.window / self.per_window, self._paced - now)
            if used >= self.per_window:
                wait = max(wait, self._ends[used - self.per_window] - now)
        return wait if wait > INSTANT else 0.0

    def _take(self) -> None:
        self._busy += 1
        self._paced = max(self._paced, self._clock()) + self.spacing

    def _first(self, most: Priority) -> tuple[Priority, asyncio.Future[None]] | None:
        """The first call waiting at ``most`` or a more urgent level (cancelled ones dropped)."""
        for level in Priority:
            if level > most:
                break
            queue = self._queues[level]
            while queue and queue[0].done():
                queue.popleft()
            if queue:
                return level, queue[0]
        return None

    async def _acquire(self, level: Priority) -> None:
        if self._first(level) is None and self._delay(level) == 0:
            self._take()
            return
        future = asyncio.get_running_loop().create_future()
        self._queues[level].append(future)
        if self._serving is None or level < self._serving:
            self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # let through, but gone: give it back
                self._busy -= 1
            self._dispatch()
            raise

    def _dispatch(self) -> None:
        """Let through the waiting calls that may go now, the most urgent first; set a timer
        for the next (or wait for a call in flight to end)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._serving, self._stalled = None, None, False
        while (first := self._first(max(Priority))) is not None:
            level, future = first
            wait = self._delay(level)
            if wait == 0:
                self._queues[level].popleft()
                self._take()
                future.set_result(None)
                continue
            self._serving = level
            if wait is None:
                self._stalled = True
            else:
                later = self._call_later or asyncio.get_running_loop().call_later
                self._timer = later(wait, self._dispatch)
            return


class TelegramLimiter(BaseRateLimiter[int]):
    """Rate limits, retries with backoff, and harmless errors turned into success.

    Args:
        overall_per_second: messages in any second for the whole bot (a :class:`Budget`
            spent by :data:`PRIORITY`); 0 turns the limit off.
        group_per_minute: messages per minute to one group; 0 turns the limit off.
        chat_burst: messages at once to one private chat, then one per second; 0 turns the
            limit off.
        retries: how many times a call is repeated after a retryable failure.
        first_backoff: seconds before the first repeat; doubled each time.
        max_wait: the longest ``retry_after`` waited for here (longer ones are raised).
    """

    def __init__(
        self,
        overall_per_second: int = 30,
        group_per_minute: float = 20,
        chat_burst: float = 3,
        *,
        retries: int = 3,
        first_backoff: float = 0.5,
        max_wait: float = 5.0,
    ) -> None:
        self._overall = Budget(overall_per_second) if overall_per_second else None
        self._group_per_minute = group_per_minute
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._chat_burst = chat_burst
        self._chats: dict[int, AsyncLimiter] = {}
        self.retries = retries
        self.first_backoff = first_backoff
        self.max_wait = max_wait
        self.retried = 0
        """How many calls were repeated (for logs and tests)."""

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _group(self, chat: int | str) -> AsyncLimiter:
        limiter = self._groups.get(chat)
        if limiter is None:
            if len(self._groups) > 1024:  # forget idle groups (bucket drained)
                self._groups = {
                    k: v for k, v in self._groups.items() if not v.has_capacity(v.max_rate)
                }
            limiter = AsyncLimiter(self._group_per_minute, 60)
            self._groups[chat] = limiter
        return limiter

    def _chat(self, chat: int) -> AsyncLimiter:
        limiter = self._chats.get(chat)
        if limiter is None:
            if len(self._chats) > 10_000:  # forget idle chats (bucket drained)
                self._chats = {
                    k: v for k, v in self._chats.items() if not v.has_capacity(v.max_rate)
                }
            # A leaky bucket of ``chat_burst`` draining at a little under one message per
            # second: a little, so that network jitter cannot make two sends look closer.
            limiter = AsyncLimiter(self._chat_burst, self._chat_burst * 1.05)
            self._chats[chat] = limiter
        return limiter

    async def _limited(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
    ) -> JSONResult:
        chat = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat = int(chat)  # type: ignore[arg-type]
        async with contextlib.AsyncExitStack() as stack:
            if self._group_per_minute and (
                (isinstance(chat, int) and chat < 0) or isinstance(chat, str)
            ):
                await stack.enter_async_context(self._group(chat))
            elif self._chat_burst and isinstance(chat, int) and chat > 0:
                limiter = self._chat(chat)
                if PRIORITY.get() is Priority.TIDY:
                    await self._give_way(limiter)
                await stack.enter_async_context(limiter)
            if chat is not None and self._overall is not None:
                await stack.enter_async_context(self._overall.slot(PRIORITY.get()))
            return await callback(*args, **kwargs)

    async def _give_way(self, limiter: AsyncLimiter) -> None:
        """Wait until the chat's bucket could take this call and still one more (the person's
        next reply), or until :data:`COSMETIC_PATIENCE` has passed."""
        spare = min(2.0, limiter.max_rate)
        # The bucket drains with time: nothing to wait on but the clock.
        for _ in range(int(COSMETIC_PATIENCE / GIVE_WAY_STEP)):
            if limiter.has_capacity(spare):
                return
            await asyncio.sleep(GIVE_WAY_STEP)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Make the call within the limits; retry what is worth retrying; see the module."""
        retries = self.retries if rate_limit_args is None else rate_limit_args
        delay = self.first_backoff
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                return await self._limited(callback, args, kwargs, data)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if last or wait > self.max_wait:
                    raise
                pause = wait + 0.1
            except BadRequest as exc:
                if harmless(endpoint, exc):
                    return True
                raise
            except NetworkError as exc:  # timeouts, 5xx, transport errors
                if last or not repeatable(endpoint, exc):
                    raise
                pause, delay = delay, delay * 2
            self.retried += 1
            log.info("%s failed; retrying in %.1f s", endpoint, pause)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover


class Verdict(Enum):
    """What to do with one update, by :meth:`FloodGate.check`."""

    ALLOW = "allow"
    TELL = "tell"  # drop it and tell the person to slow down
    DROP = "drop"  # drop it; the person was told a moment ago


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    told: float | None = None


class FloodGate:
    """A token bucket per person: ``burst`` updates at once, then ``per_minute``.

    ``per_minute`` 0 turns the gate off. ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        burst: int = 20,
        per_minute: float = 120,
        *,
        notice_every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.per_minute = per_minute
        self.notice_every = notice_every
        self.clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._verdicts: OrderedDict[int, Verdict] = OrderedDict()
        self.dropped = 0

    @property
    def enabled(self) -> bool:
        """Whether the gate limits anybody."""
        return self.per_minute > 0 and self.burst > 0

    def check(self, key: int) -> Verdict:
        """Take one update of person ``key`` through the gate."""
        if not self.enabled:
            return Verdict.ALLOW
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= 10_000:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        rate = self.per_minute / 60
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.ALLOW
        self.dropped += 1
        if bucket.told is None or now - bucket.told >= self.notice_every:
            bucket.told = now
            return Verdict.TELL
        return Verdict.DROP

    def admit(self, update_id: int, key: int) -> Verdict:
        """Check an update when it arrives (before it waits for the person's earlier ones).

        What counts is how fast the person sends, not how fast the bot answers.
        """
        recorded = self._verdicts.get(update_id)
        if recorded is not None:  # the same update delivered again: judged once
            return recorded
        verdict = self._verdicts[update_id] = self.check(key)
        if len(self._verdicts) > 10_000:  # updates that never reached the handler
            self._verdicts.popitem(last=False)
        return verdict

    def verdict(self, update_id: int, key: int) -> Verdict:
        """The verdict :meth:`admit` gave, or a check now for an update that skipped it."""
        recorded = self._verdicts.pop(update_id, None)
        return recorded if recorded is not None else self.check(key)

    def _prune(self, now: float) -> None:
        """Forget people whose bucket has refilled (they are not flooding)."""
        rate = self.per_minute / 60
        self._buckets = {
            key: b
            for key, b in self._buckets.items()
            if b.tokens + (now - b.stamp) * rate < self.burst
        }
