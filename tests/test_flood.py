"""One person flooding the bot is slowed down and told so; everybody else is served as usual.

The gate's clock is a fake one here, so the verdicts are exact; ``bench/flood.py`` measures
the delay the others see in real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest
from telegram import Update

from bot.limits import FloodGate, Verdict
from tests.conftest import MEMBER, Harness, make_settings, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import script
from tests.test_review import reachable

FLOODER = 4040
OTHER = 4041
NOTICE_EN = "You are sending messages faster than I can answer them"
NOTICE_AR = "أنت ترسل الرسائل أسرع مما أستطيع الرد عليها"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def gated_bot(
    tmp_path: Path, key: str, **limits: str
) -> AsyncIterator[tuple[Harness, Clock]]:
    """The bot with a flood limit and a clock the test moves."""
    settings = make_settings(tmp_path, ENCRYPTION_KEY=key, **limits)
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    clock = Clock()
    gate: FloodGate = app.bot_data["flood"]
    gate.clock = clock
    try:
        yield Harness(app, fake), clock
    finally:
        await stop_app(app)
    fake.assert_clean()


@pytest.fixture
async def flood(tmp_path: Path, key: str) -> AsyncIterator[tuple[Harness, Clock]]:
    """A burst of 20, then 60 a minute: round figures for the arithmetic below."""
    async for bot in gated_bot(tmp_path, key, FLOOD_BURST="20", FLOOD_PER_MINUTE="60"):
        yield bot


@pytest.fixture
async def shipped(tmp_path: Path, key: str) -> AsyncIterator[tuple[Harness, Clock]]:
    """The limit as shipped (FLOOD_BURST and FLOOD_PER_MINUTE unset)."""
    async for bot in gated_bot(tmp_path, key, FLOOD_BURST="", FLOOD_PER_MINUTE=""):
        yield bot


def replies(h: Harness, chat: int) -> tuple[int, int]:
    """(help answers, slow-down notices) sent to ``chat`` so far."""
    texts = h.fake.texts(chat)
    notices = sum(NOTICE_EN in t or NOTICE_AR in t for t in texts)
    return len(texts) - notices, notices


async def test_hundred_messages_in_two_seconds(flood: tuple[Harness, Clock]) -> None:
    h, clock = flood
    other_answers = 0
    for i in range(100):
        clock.now += 0.02  # 100 messages in 2 s
        await h.say(FLOODER, "/help")
        if i % 10 == 0:  # someone else talks to the bot meanwhile
            calls = await h.say(OTHER, "/help")
            assert h.texts(calls), "the other person was not answered"
            other_answers += 1
    answered, notices = replies(h, FLOODER)
    # The burst of 20, plus one message per second refilled in the 1.98 s after the first.
    assert answered == 21
    assert notices == 1  # told once, not once per message
    assert other_answers == 10 and replies(h, OTHER) == (10, 0)
    gate: FloodGate = h.app.bot_data["flood"]
    assert gate.dropped == 79

    # Slowed down, not shut out: after a pause the person is served again.
    clock.now += 5
    calls = await h.say(FLOODER, "/help")
    assert h.texts(calls) and NOTICE_EN not in h.texts(calls)[0]


async def test_told_again_only_after_a_while_and_in_own_language(
    flood: tuple[Harness, Clock],
) -> None:
    h, clock = flood
    h.languages[FLOODER] = "ar"
    for _ in range(60):
        clock.now += 0.01
        await h.say(FLOODER, "/help")
    assert replies(h, FLOODER)[1] == 1
    assert NOTICE_AR in h.fake.texts(FLOODER)[20]
    clock.now += 31  # the bucket refilled, and the notice is due again if the flood goes on
    for _ in range(60):
        clock.now += 0.01
        await h.say(FLOODER, "/help")
    assert replies(h, FLOODER)[1] == 2


async def test_flooded_buttons_are_answered_without_being_processed(
    flood: tuple[Harness, Clock],
) -> None:
    h, clock = flood
    await h.say(FLOODER, "/language")
    message_id, data = h.find_button(FLOODER, r"^lang:en$")
    presses = []
    for _ in range(40):  # the same button, tapped again and again
        clock.now += 0.01
        presses.append(await h.press_data(FLOODER, data, message_id=message_id))
    answers = [c for calls in presses for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 40  # every tap's spinner stops
    slowed = [c for c in answers if NOTICE_EN in str(c.params.get("text", ""))]
    assert len(slowed) == 40 - 20 + 1  # the language message itself took one token


async def test_concurrent_flood_does_not_hold_up_others(flood: tuple[Harness, Clock]) -> None:
    """The flood arrives all at once and goes through the update processor, as with polling:
    the gate judges each update on arrival, and what it refuses does not queue behind the
    person's earlier updates."""
    h, _ = flood
    app = h.app

    def process(update: Update) -> Awaitable[None]:
        return app.update_processor.process_update(update, app.process_update(update))

    flood_updates = [h.updates.text(FLOODER, "/help") for _ in range(100)]
    other = h.updates.text(OTHER, "/help")
    await asyncio.gather(
        *(process(u) for u in flood_updates[:50]),
        process(other),
        *(process(u) for u in flood_updates[50:]),
    )
    await h.services.delivery.wait_idle()
    assert replies(h, OTHER) == (1, 0)
    assert replies(h, FLOODER) == (20, 1)
    gate: FloodGate = app.bot_data["flood"]
    assert gate.dropped == 80


async def test_the_shipped_limit_never_slows_a_real_person(shipped: tuple[Harness, Clock]) -> None:
    """A family going through the whole intake quickly (one action a second: multi-select
    options, Done, numbers, texts), and a member tapping through a decision wizard at one tap
    a second, are never told to slow down."""
    h, clock = shipped
    gate: FloodGate = h.app.bot_data["flood"]
    assert (gate.burst, gate.per_minute) == (20, 120)

    async def brisk(action: Awaitable[object], pause: float) -> None:
        clock.now += pause
        await action

    await brisk(h.say(FLOODER, "/apply"), 1.0)
    await brisk(h.press(FLOODER, r"^ic:y$"), 1.0)
    for kind, value in script():
        step = h.press(FLOODER, value) if kind == "press" else h.say(FLOODER, value)
        await brisk(step, 1.0)
    await brisk(h.press(FLOODER, r":review:S:$"), 1.0)
    assert await h.services.db.fetchone(
        "SELECT 1 FROM cases WHERE user_id = ?", (h.services.ids.pid(FLOODER),)
    )
    for _ in range(12):  # a member's taps, one a second
        await brisk(h.say(MEMBER, "/help"), 1.0)
    assert replies(h, FLOODER)[1] == 0 and replies(h, MEMBER)[1] == 0
    assert gate.dropped == 0


async def test_one_action_a_second_is_never_gated(shipped: tuple[Harness, Clock]) -> None:
    """120 actions, one a second (messages and taps alternately): a quick human, all served."""
    h, clock = shipped
    await h.say(FLOODER, "/language")
    message_id, data = h.find_button(FLOODER, r"^lang:en$")
    for i in range(120):
        clock.now += 1.0
        if i % 2:
            await h.press_data(FLOODER, data, message_id=message_id)
        else:
            await h.say(FLOODER, "/help")
    gate: FloodGate = h.app.bot_data["flood"]
    assert gate.dropped == 0 and replies(h, FLOODER)[1] == 0


async def test_five_actions_a_second_sustained_is_gated(shipped: tuple[Harness, Clock]) -> None:
    """5 actions a second for 30 s is what no human does: the burst of 20, then 2 a second."""
    h, clock = shipped
    for _ in range(150):
        clock.now += 0.2
        await h.say(FLOODER, "/help")
    answered, notices = replies(h, FLOODER)
    # 20 at once, plus 2 a second refilled in the 29.8 s after the first.
    assert answered == 20 + 59
    assert notices == 1  # told once in 30 s, not once per message
    gate: FloodGate = h.app.bot_data["flood"]
    assert gate.dropped == 150 - answered


async def test_membership_changes_are_never_gated(flood: tuple[Harness, Clock]) -> None:
    """A person who floods and then blocks the bot: the block is still recorded."""
    h, _ = flood
    await h.say(FLOODER, "/language")
    await h.press(FLOODER, r"^lang:en$")  # a known person
    for _ in range(40):
        await h.say(FLOODER, "/help")
    calls = await h.feed(h.updates.my_chat_member(FLOODER, "member", "kicked"))
    assert calls == []
    assert await reachable(h, FLOODER) == 0


async def test_an_update_delivered_twice_is_judged_once(flood: tuple[Harness, Clock]) -> None:
    h, _ = flood
    gate: FloodGate = h.app.bot_data["flood"]
    for _ in range(20):  # the burst, used up
        gate.check(FLOODER)
    first = gate.admit(1, FLOODER)
    assert first is Verdict.TELL
    assert gate.admit(1, FLOODER) is Verdict.TELL  # the redelivery: the same verdict
    assert gate.dropped == 1
