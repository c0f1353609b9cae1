"""Telegram misbehaving: the bot keeps serving, retries what is worth retrying with backoff,
and gives up cleanly on the rest (see the table in bot/limits.py).

Outbox deliveries under the same faults are covered in test_committee.py (429, 403 on the
committee group) and test_review.py / test_tasks.py (a family or volunteer who blocked the
bot).
"""

from __future__ import annotations

import logging

import httpx
import pytest
from telegram.error import NetworkError, TimedOut

from bot.limits import TelegramLimiter
from bot.protection import ProtectGroup
from tests.conftest import Harness
from tests.fakes.telegram import Call
from tests.flows import apply_and_consent

FAMILY = 5050
TOO_OLD = "Bad Request: query is too old and response timeout expired or query id is invalid"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@pytest.fixture
def h(harness: Harness) -> Harness:
    """The harness, with the limiter's backoff shortened (the policy is the same)."""
    limiter(harness).first_backoff = 0.01
    return harness


def limiter(h: Harness) -> TelegramLimiter:
    """The bot's rate limiter (inside the wrapper that protects the group's messages)."""
    wrapper = h.app.bot.rate_limiter
    assert isinstance(wrapper, ProtectGroup) and isinstance(wrapper.inner, TelegramLimiter)
    return wrapper.inner


def statuses(calls: list[Call], method: str) -> list[int]:
    """The HTTP statuses of the calls of ``method`` (0 = timed out)."""
    return [c.status for c in calls if c.method == method]


def unhandled(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors the error handler logged."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Unhandled")]


async def test_5xx_is_retried_with_backoff(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h.fake.fail_next("sendMessage", 502)
    h.fake.fail_next("sendMessage", 500)
    calls = await h.say(FAMILY, "/help")
    assert statuses(calls, "sendMessage") == [502, 500, 200]
    assert limiter(h).retried == 2
    assert len(h.fake.texts(FAMILY)) == 1
    assert unhandled(caplog) == []


async def test_5xx_that_lasts_is_given_up_cleanly(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(4):  # the first try and all three repeats
        h.fake.fail_next("sendMessage", 502)
    calls = await h.say(FAMILY, "/help")
    # Given up after three repeats; the error handler's apology then gets through.
    assert statuses(calls, "sendMessage") == [502, 502, 502, 502, 200]
    assert "something went wrong" in h.fake.texts(FAMILY)[-1]
    assert unhandled(caplog) == [caplog.records[-1].getMessage()]
    assert "NetworkError" in unhandled(caplog)[0]
    # ...and the bot keeps serving.
    calls = await h.say(FAMILY, "/help")
    assert statuses(calls, "sendMessage") == [200]


@pytest.mark.parametrize(
    "method", ["sendMessage", "editMessageText", "answerCallbackQuery", "setMyCommands"]
)
async def test_429_with_a_short_retry_after_is_waited_for(
    h: Harness, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    await h.say(FAMILY, "/language")
    h.fake.fail_next(method, 429, retry_after=1)
    if method == "setMyCommands":
        from bot.app import publish_commands

        before = len(h.fake.calls)
        await publish_commands(h.app, h.services)
        calls = h.fake.calls[before:]
    else:
        calls = await h.press(FAMILY, r"^lang:en$")  # answers, edits, then sends
    assert statuses(calls, method)[:2] == [429, 200]
    assert limiter(h).retried == 1
    assert unhandled(caplog) == []
    if method != "setMyCommands":  # the language button was fully handled
        assert h.fake.texts(FAMILY)[-2].startswith("Language:")


async def test_429_with_a_long_retry_after_is_not_waited_for(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.fake.fail_next("sendMessage", 429, retry_after=60)
    calls = await h.say(FAMILY, "/help")
    assert statuses(calls, "sendMessage")[0] == 429
    assert limiter(h).retried == 0  # nobody waits a minute inside a handler
    assert len(unhandled(caplog)) == 1 and "RetryAfter" in unhandled(caplog)[0]


async def test_timeout_on_a_repeatable_call_is_retried(h: Harness) -> None:
    await apply_and_consent(h, FAMILY)
    h.fake.timeout_next("answerCallbackQuery")
    calls = await h.press(FAMILY, r":situation:o:orphans$")
    assert statuses(calls, "answerCallbackQuery") == [0, 200]
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.pending == ["orphans"]


async def test_timeout_on_a_send_is_not_repeated(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The message may have arrived (here it did): sending it again would duplicate it."""
    h.fake.timeout_next("sendMessage", delivered=True)
    calls = await h.say(FAMILY, "/help")
    assert statuses(calls, "sendMessage") == [0]
    assert len(h.fake.texts(FAMILY)) == 1  # delivered once, no apology on top
    assert unhandled(caplog) == []
    assert any("TimedOut" in r.getMessage() for r in caplog.records)
    calls = await h.say(FAMILY, "/help")
    assert statuses(calls, "sendMessage") == [200]


async def test_blocked_person_gets_no_retry_and_no_apology(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.fake.block(FAMILY)
    calls = await h.say(FAMILY, "/help")
    assert statuses(calls, "sendMessage") == [403]  # one try: retrying cannot help
    assert unhandled(caplog) == []
    h.fake.unblock(FAMILY)
    calls = await h.say(FAMILY, "/help")
    assert statuses(calls, "sendMessage") == [200]


async def test_message_not_modified_is_success(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await h.say(FAMILY, "/language")
    h.fake.fail_next("editMessageText", 400, NOT_MODIFIED)
    calls = await h.press(FAMILY, r"^lang:en$")
    assert statuses(calls, "editMessageText") == [400]
    assert statuses(calls, "sendMessage") == [200]  # the handler carried on after the edit
    assert unhandled(caplog) == []


async def test_query_too_old_still_saves_the_answer(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The family's tap arrived late: the spinner cannot be stopped, the answer still counts."""
    await apply_and_consent(h, FAMILY)
    h.fake.fail_next("answerCallbackQuery", 400, TOO_OLD)
    calls = await h.press(FAMILY, r":situation:o:orphans$")
    assert statuses(calls, "answerCallbackQuery") == [400]
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.pending == ["orphans"]
    assert any(c.method in ("editMessageReplyMarkup", "editMessageText") for c in calls)
    assert unhandled(caplog) == []


async def test_other_bad_requests_are_not_swallowed(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    h.fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    await h.say(FAMILY, "/help")
    assert len(unhandled(caplog)) == 1 and "BadRequest" in unhandled(caplog)[0]
    assert limiter(h).retried == 0


# -- the limiter's policy, call by call ------------------------------------------------------


class Flaky:
    """A Bot API call that fails with ``errors`` in turn, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, *args: object, **kwargs: object) -> bool:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return True


def transport(error: httpx.HTTPError, wrapper: type[NetworkError] = NetworkError) -> NetworkError:
    """What PTB raises for an httpx error: a NetworkError (or TimedOut) caused by it."""
    try:
        raise wrapper(f"httpx.{type(error).__name__}") from error
    except NetworkError as exc:
        return exc


@pytest.mark.parametrize(
    ("endpoint", "error", "calls"),
    [
        # Never left the machine: repeated, even a send.
        ("sendMessage", transport(httpx.ConnectError("refused")), 2),
        ("sendMessage", transport(httpx.PoolTimeout("pool"), TimedOut), 2),
        # Went out, answer lost: a send may have arrived, so it is not repeated...
        ("sendMessage", transport(httpx.ReadError("reset")), 1),
        ("sendMessage", transport(httpx.RemoteProtocolError("disconnected")), 1),
        ("sendMessage", transport(httpx.ReadTimeout("slow"), TimedOut), 1),
        # ... but an edit or a button answer is.
        ("editMessageText", transport(httpx.ReadError("reset")), 2),
        ("answerCallbackQuery", transport(httpx.ReadTimeout("slow"), TimedOut), 2),
        # Telegram answered 5xx: it did not carry the call out.
        ("sendMessage", NetworkError("Bad Gateway"), 2),
    ],
)
async def test_which_failures_are_repeated(endpoint: str, error: NetworkError, calls: int) -> None:
    limiter = TelegramLimiter(0, 0, 0, first_backoff=0.001)
    call = Flaky(error)
    if calls == 1:
        with pytest.raises(NetworkError):
            await limiter.process_request(call, (), {}, endpoint, {"chat_id": 5}, None)
    else:
        assert await limiter.process_request(call, (), {}, endpoint, {"chat_id": 5}, None)
    assert call.calls == calls


async def test_idle_chat_limiters_are_forgotten_busy_ones_kept() -> None:
    limiter = TelegramLimiter(0, 0, 3)
    busy = limiter._chat(1)
    await busy.acquire()
    for chat in range(2, 10_003):
        limiter._chat(chat)
    assert limiter._chat(1) is busy  # its pacing survives the clean-up
    assert len(limiter._chats) < 100
