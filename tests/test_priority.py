"""The bot's budget of 30 messages a second: replies first, tidying next, broadcasts last.

The budget runs on a virtual clock here (:class:`VirtualTime`: time moves only when the test
says so), so a simulated minute takes a fraction of a real second and every figure is exact;
``bench/broadcast.py`` measures the same against the HTTP fake's real 429s.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bot.limits import PRIORITY, Budget, Priority, TelegramLimiter, priority
from tests.conftest import MEMBER, Harness
from tests.flows import apply_and_consent
from tests.test_tasks import DRIVERS, new_task, volunteer
from tests.test_telegram_faults import limiter

SETTLE = 30
LATENCY = 0.005  # a call's round trip to a local server
FAMILY = 5060


class Due:
    """A callback due at a virtual time."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        """Call it off."""
        self.callback = None


class VirtualTime:
    """A clock, ``call_later`` and ``sleep`` that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, Due]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Due:
        """Call ``callback`` once the test has moved the clock ``seconds`` on."""
        due = Due(callback)
        heapq.heappush(self._timers, (self.now + seconds, next(self._order), due))
        return due

    async def sleep(self, seconds: float) -> None:
        """Wait until the test has moved the clock ``seconds`` on."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self.call_later(seconds, wake)
        await future

    async def settle(self) -> None:
        """Let every task that can run do so."""
        for _ in range(SETTLE):
            await asyncio.sleep(0)

    async def run_until(self, deadline: float) -> None:
        """Move the clock to ``deadline``, waking every sleeper on the way at its time."""
        await self.settle()
        while self._timers and self._timers[0][0] <= deadline:
            when, _, due = heapq.heappop(self._timers)
            if due.callback is None:  # called off
                continue
            self.now = max(self.now, when)
            due.callback()
            await self.settle()
        self.now = deadline
        await self.settle()


@pytest.fixture
def clock() -> VirtualTime:
    """A fresh virtual clock."""
    return VirtualTime()


def budget(clock: VirtualTime, per_window: int = 30) -> Budget:
    """A budget of ``per_window`` messages a second on the virtual clock."""
    return Budget(per_window, clock=clock, call_later=clock.call_later)


def caller(
    clock: VirtualTime, spent: Budget, level: Priority, log: list[float], latency: float
) -> Callable[[], Coroutine[Any, Any, None]]:
    """A sender that makes calls at ``level`` one after the other, logging when each went."""

    async def send() -> None:
        while True:
            async with spent.slot(level):
                log.append(clock.now)
                await clock.sleep(latency)

    return send


def never_more_than(per_window: int, times: list[float]) -> bool:
    """Whether no second holds more than ``per_window`` of ``times`` (a sliding window)."""
    times = sorted(times)
    later = times[per_window:]
    return all(b - a >= 1.0 for a, b in zip(times[: len(later)], later, strict=True))


async def test_an_idle_budget_lets_a_reply_through_at_once(clock: VirtualTime) -> None:
    spent = budget(clock)
    for _ in range(30):  # a burst as large as Telegram's allowance
        async with spent.slot():
            pass
    assert clock.now == 0.0 and not clock._timers


async def test_waiting_replies_go_before_tidying_and_tidying_before_a_broadcast(
    clock: VirtualTime,
) -> None:
    spent = budget(clock, 3)
    for _ in range(3):  # the window is full until t = 1
        async with spent.slot():
            pass
    order: list[str] = []

    async def call(name: str, level: Priority) -> None:
        async with spent.slot(level):
            order.append(name)

    waiting = [
        asyncio.create_task(call(name, level))
        for name, level in (
            ("bulk 1", Priority.BULK),
            ("bulk 2", Priority.BULK),
            ("tidy", Priority.TIDY),
            ("reply 1", Priority.REPLY),
            ("reply 2", Priority.REPLY),
            ("bulk 3", Priority.BULK),
        )
    ]
    await clock.settle()
    assert order == []
    await clock.run_until(3.0)
    assert order == ["reply 1", "reply 2", "tidy", "bulk 1", "bulk 2", "bulk 3"]
    await asyncio.gather(*waiting)


async def test_a_broadcast_alone_reaches_the_full_rate_without_a_429(clock: VirtualTime) -> None:
    spent = budget(clock)
    sent: list[float] = []
    senders = [
        asyncio.create_task(caller(clock, spent, Priority.BULK, sent, LATENCY)())
        for _ in range(16)
    ]
    await clock.run_until(60.0)
    for sender in senders:
        sender.cancel()
    await asyncio.gather(*senders, return_exceptions=True)
    assert len(sent) >= 0.97 * 30 * 60
    assert never_more_than(30, sent)
    # Smooth: a broadcast never takes its slots in a burst that a reply would wait behind.
    assert min(b - a for a, b in itertools.pairwise(sent)) >= 0.9 / 30 - 1e-9


async def test_replies_slow_the_broadcast_not_the_other_way_round(clock: VirtualTime) -> None:
    spent = budget(clock)
    offers: list[float] = []
    senders = [
        asyncio.create_task(caller(clock, spent, Priority.BULK, offers, LATENCY)())
        for _ in range(16)
    ]
    replies: list[float] = []
    waits: list[float] = []

    async def reply() -> None:
        asked = clock.now
        async with spent.slot(Priority.REPLY):
            replies.append(clock.now)
            waits.append(clock.now - asked)
            await clock.sleep(LATENCY)

    asking: list[asyncio.Task[None]] = []
    for tick in range(1, 600):  # ten replies a second for a minute, at uneven moments
        await clock.run_until(tick / 10 + (tick % 7) / 100)
        asking.append(asyncio.create_task(reply()))
    await clock.run_until(61.0)
    for sender in senders:
        sender.cancel()
    await asyncio.gather(*senders, return_exceptions=True)
    await asyncio.gather(*asking)
    assert len(waits) == 599
    assert max(waits) <= 3 / 30  # a slot soon, never behind the broadcast
    assert never_more_than(30, offers + replies)
    during = [t for t in offers + replies if 1.0 <= t < 60.0]
    assert len(during) >= 0.97 * 30 * 59  # the whole allowance is used
    assert len([t for t in offers if 1.0 <= t < 60.0]) <= 21 * 59  # offers took the rest


async def test_with_every_slot_in_flight_the_next_call_waits_for_one_to_end(
    clock: VirtualTime,
) -> None:
    spent = budget(clock, 2)
    went: list[float] = []

    async def one(level: Priority, seconds: float) -> None:
        async with spent.slot(level):
            went.append(clock.now)
            await clock.sleep(seconds)

    slow = [asyncio.create_task(one(Priority.REPLY, 5.0)) for _ in range(2)]
    await clock.settle()
    third = asyncio.create_task(one(Priority.BULK, 0.0))
    await clock.run_until(5.5)
    assert went == [0.0, 0.0]
    await clock.run_until(6.0)  # ended at 5.0, counted for a second more
    assert went == [0.0, 0.0, 6.0] and third.done()
    await asyncio.gather(*slow)


async def test_a_caller_that_gives_up_waiting_leaves_no_slot_taken(clock: VirtualTime) -> None:
    spent = budget(clock, 2)
    for _ in range(2):
        async with spent.slot():
            pass

    async def one(level: Priority) -> float:
        async with spent.slot(level):
            return clock.now

    impatient = asyncio.create_task(one(Priority.REPLY))
    patient = asyncio.create_task(one(Priority.BULK))
    await clock.settle()
    impatient.cancel()
    await clock.run_until(1.0)
    assert impatient.cancelled() and await patient == 1.0
    async with spent.slot():  # the other slot is free: nothing leaked
        assert clock.now == 1.0


async def test_a_failed_call_counts_for_a_second_like_any_other(clock: VirtualTime) -> None:
    spent = budget(clock, 1)
    with pytest.raises(RuntimeError):
        async with spent.slot():
            raise RuntimeError("Telegram said no")

    async def one() -> float:
        async with spent.slot():
            return clock.now

    waiting = asyncio.create_task(one())
    await clock.run_until(2.0)
    assert await waiting == 1.0


async def test_the_limiter_spends_the_budget_at_the_callers_priority() -> None:
    spent = TelegramLimiter(30, 0, 0)._overall
    assert spent is not None
    levels: list[Priority] = []
    original = spent.slot

    def slot(level: Priority = Priority.REPLY) -> Any:
        levels.append(level)
        return original(level)

    limiter = TelegramLimiter(30, 0, 0)
    limiter._overall = spent
    spent.slot = slot  # type: ignore[method-assign]

    async def call() -> bool:
        return True

    await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 5}, None)
    with priority(Priority.BULK):
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 6}, None)
    await limiter.process_request(call, (), {}, "answerCallbackQuery", {}, None)  # no chat
    assert levels == [Priority.REPLY, Priority.BULK]
    assert PRIORITY.get() is Priority.REPLY


Made = list[tuple[str, object, Priority]]


@pytest.fixture
def made(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Made:
    """Every call the bot makes from now on: its method, chat and priority."""
    inner = limiter(harness)
    calls: Made = []
    original = inner.process_request

    async def recording(*args: Any) -> Any:
        endpoint, data = args[3], args[4]
        calls.append((endpoint, data.get("chat_id"), PRIORITY.get()))
        return await original(*args)

    monkeypatch.setattr(inner, "process_request", recording)
    return calls


async def test_offers_go_out_as_a_broadcast_and_everything_else_as_replies(
    harness: Harness, made: Made
) -> None:
    h = harness
    for user in DRIVERS[:3]:
        await volunteer(h, user)
    made.clear()
    await new_task(h, needed=2)
    await h.say(MEMBER, "/help")
    assert {level for _, chat, level in made if chat in DRIVERS[:3]} == {Priority.BULK}
    # The member's wizard: every reply at once; only taking the buttons off a screen answered
    # by typing is tidying.
    member = {(method, level) for method, chat, level in made if chat == MEMBER}
    assert {level for method, level in member if method != "editMessageReplyMarkup"} == {
        Priority.REPLY
    }
    assert {level for method, level in member if level is not Priority.REPLY} <= {Priority.TIDY}


async def test_closing_an_answered_question_is_tidying(harness: Harness, made: Made) -> None:
    await apply_and_consent(harness, FAMILY)
    levels = {(method, level) for method, chat, level in made if chat == FAMILY}
    assert ("sendMessage", Priority.REPLY) in levels
    assert {level for method, level in levels if method.startswith("edit")} == {Priority.TIDY}
