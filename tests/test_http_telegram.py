"""The fake Bot API over HTTP (tests/fakes/http_telegram.py), alone and with the real bot."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TimedOut
from telegram.request import HTTPXRequest

from tests.fakes.http_telegram import HttpTelegram
from tests.fakes.telegram import BOT_ID, Call, FakeTelegram, UpdateFactory

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST"
USER = 42

JSONDict = dict[str, Any]


@pytest.fixture
async def server() -> AsyncIterator[HttpTelegram]:
    """A running server expecting :data:`TOKEN`."""
    async with HttpTelegram(TOKEN) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client."""
    async with aiohttp.ClientSession() as client:
        yield client


async def call_api(
    session: aiohttp.ClientSession,
    server: HttpTelegram,
    method: str,
    *,
    token: str = TOKEN,
    **params: object,
) -> tuple[int, JSONDict]:
    """POST ``params`` form-encoded, the way python-telegram-bot does; (status, JSON answer)."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with session.post(f"{server.base_url}{token}/{method}", data=form) as response:
        return response.status, await response.json()


# --------------------------------------------------------------------------------------------
# The server alone
# --------------------------------------------------------------------------------------------


async def test_get_me_over_raw_http(server: HttpTelegram, session: aiohttp.ClientSession) -> None:
    assert server.base_url == f"http://127.0.0.1:{server.port}/bot"
    status, body = await call_api(session, server, "getMe")
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["id"] == BOT_ID
    async with session.get(f"{server.base_url}{TOKEN}/getMe") as response:
        assert response.status == 200
    assert [c.method for c in server.fake.calls] == ["getMe", "getMe"]


async def test_invalid_html_is_a_violation(
    server: HttpTelegram, session: aiohttp.ClientSession
) -> None:
    status, body = await call_api(
        session, server, "sendMessage", chat_id=USER, text="<p>Hello</p>", parse_mode="HTML"
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: Unsupported start")
    assert len(server.fake.violations) == 1
    assert server.fake.calls[-1].status == 400
    assert server.fake.texts(USER) == []


async def test_json_typed_parameters_are_decoded(
    server: HttpTelegram, session: aiohttp.ClientSession
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    status, body = await call_api(
        session, server, "sendMessage", chat_id=USER, text="Sure?", reply_markup=keyboard
    )
    assert status == 200, body
    call = server.fake.last(USER)
    assert call.params["chat_id"] == USER  # "42" on the wire, an int as in process
    assert FakeTelegram.buttons(call) == [("Yes", "y")]
    assert body["result"]["reply_markup"] == keyboard

    status, body = await call_api(
        session, server, "sendMessage", chat_id=USER, text="x", reply_markup="{not json"
    )
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't parse reply keyboard markup JSON object",
    )
    assert len(server.fake.violations) == 1


async def test_ptb_requests_arrive_as_in_process(server: HttpTelegram) -> None:
    """The same PTB calls, over HTTP and in process, are recorded with equal params/files."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go:1")]])
    local = FakeTelegram()

    async def scenario(bot: Bot) -> bytes:
        await bot.send_message(USER, "<b>Hi</b> &amp; welcome", parse_mode="HTML",
                               reply_markup=keyboard, disable_notification=True)  # fmt: skip
        sent = await bot.send_document(USER, b"%PDF-1.4 test", filename="report.pdf",
                                       caption="Report")  # fmt: skip
        assert sent.document is not None
        file = await bot.get_file(sent.document.file_id)
        return bytes(await file.download_as_bytearray())

    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.file_base_url) as bot:
        over_http = await scenario(bot)
    async with Bot(TOKEN, request=local, get_updates_request=local) as bot:
        in_process = await scenario(bot)

    assert over_http == in_process == b"%PDF-1.4 test"

    def recorded(calls: list[Call]) -> list[tuple[str, JSONDict, dict[str, Any]]]:
        return [(c.method, c.params, c.files) for c in calls]

    assert recorded(server.fake.calls) == recorded(local.calls)
    upload = server.fake.calls[2].files["document"]
    assert (upload.filename, upload.mime_type) == ("report.pdf", "application/pdf")
    assert server.fake.violations == local.violations == []


async def test_wrong_token_is_unauthorized(
    server: HttpTelegram, session: aiohttp.ClientSession
) -> None:
    status, body = await call_api(session, server, "getMe", token="123456:WRONG")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert server.fake.calls == []
    assert server.unauthorized == 1


async def test_long_poll_returns_a_pushed_update(session: aiohttp.ClientSession) -> None:
    async with HttpTelegram(TOKEN, max_poll_seconds=5.0) as server:
        started = time.monotonic()
        poll = asyncio.create_task(call_api(session, server, "getUpdates", timeout=30))
        await asyncio.sleep(0.2)
        assert not poll.done()  # held open: nothing queued yet
        pushed = await server.push(server.text(USER, "/start"))
        status, body = await poll
        assert status == 200
        assert time.monotonic() - started < 2.0
        assert body["result"] == [pushed]
        message = body["result"][0]["message"]
        assert message["text"] == "/start"
        assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        assert message["from"]["language_code"] == "en"


async def test_long_poll_timeout_is_capped(session: aiohttp.ClientSession) -> None:
    async with HttpTelegram(TOKEN, max_poll_seconds=0.3) as server:
        started = time.monotonic()
        status, body = await call_api(session, server, "getUpdates", timeout=30)
        assert (status, body["result"]) == (200, [])
        assert 0.25 < time.monotonic() - started < 2.0


async def test_unconfirmed_updates_are_redelivered(
    server: HttpTelegram, session: aiohttp.ClientSession
) -> None:
    first = await server.push(server.text(USER, "one"))
    second = await server.push(server.callback(USER, "ic:y"))
    assert second["update_id"] == first["update_id"] + 1

    for _ in range(2):  # no offset: nothing is confirmed, everything comes again
        _, body = await call_api(session, server, "getUpdates", timeout=0)
        assert [u["update_id"] for u in body["result"]] == [
            first["update_id"],
            second["update_id"],
        ]

    _, body = await call_api(session, server, "getUpdates", offset=first["update_id"] + 1)
    assert body["result"] == [second]
    _, body = await call_api(session, server, "getUpdates", offset=second["update_id"] + 1)
    assert body["result"] == []
    assert server.pending == []


async def test_push_accepts_update_factory_updates(
    server: HttpTelegram, session: aiohttp.ClientSession
) -> None:
    updates = UpdateFactory(Bot(TOKEN), server.fake)
    pushed = await server.push(updates.photo(USER, caption="Receipt"))
    _, body = await call_api(session, server, "getUpdates")
    assert body["result"] == [pushed]
    message = body["result"][0]["message"]
    assert message["caption"] == "Receipt"
    assert message["from"]["id"] == USER
    assert [size["width"] for size in message["photo"]] == [90, 320, 1280]


async def test_allowed_updates_filter(
    server: HttpTelegram, session: aiohttp.ClientSession
) -> None:
    await server.push(server.text(USER, "dropped"))
    kept = await server.push(server.callback(USER, "x"))
    _, body = await call_api(session, server, "getUpdates", allowed_updates=["callback_query"])
    assert body["result"] == [kept]


async def test_a_second_poller_conflicts_with_the_first(session: aiohttp.ClientSession) -> None:
    async with HttpTelegram(TOKEN, max_poll_seconds=5.0) as server:
        older = asyncio.create_task(call_api(session, server, "getUpdates", timeout=5))
        await asyncio.sleep(0.1)
        newer = asyncio.create_task(call_api(session, server, "getUpdates", timeout=0))
        status, body = await older
        assert status == 409
        assert body["description"].startswith("Conflict: terminated by other getUpdates")
        assert (await newer)[0] == 200
        assert server.conflicts == 1


async def test_timeout_next_is_a_real_read_timeout(server: HttpTelegram) -> None:
    server.fake.timeout_next("sendMessage", delivered=True)
    request = HTTPXRequest(read_timeout=0.3)
    bot = Bot(TOKEN, base_url=server.base_url, request=request)
    async with bot:
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "Hello")
        await bot.send_message(USER, "Again")
    assert server.fake.texts(USER) == ["Hello", "Again"]  # the first one did arrive
    assert [c.status for c in server.fake.sent(USER)] == [0, 200]


async def test_flood_limits_answer_429(session: aiohttp.ClientSession) -> None:
    async with HttpTelegram(TOKEN, rate_limits=True) as server:
        results = await asyncio.gather(
            *(
                call_api(session, server, "sendMessage", chat_id=1000 + i, text=f"News {i}")
                for i in range(40)
            )
        )
        statuses = [status for status, _ in results]
        assert statuses.count(200) == 30
        assert statuses.count(429) == 10
        refused = [body for status, body in results if status == 429]
        assert all(body["parameters"]["retry_after"] >= 1 for body in refused)
        assert refused[0]["description"].startswith("Too Many Requests: retry after ")
        assert server.too_many == 10
        assert len(server.fake.sent(include_failed=True)) == 40
        assert server.fake.violations == []


async def test_flood_limits_per_private_chat(session: aiohttp.ClientSession) -> None:
    async with HttpTelegram(TOKEN, rate_limits=True) as server:
        statuses = [
            (await call_api(session, server, "sendMessage", chat_id=USER, text=f"{i}"))[0]
            for i in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]


async def test_wait_for_reports_the_calls(
    server: HttpTelegram, session: aiohttp.ClientSession
) -> None:
    await call_api(session, server, "getMe")
    with pytest.raises(TimeoutError, match=r"getMe"):
        await server.wait_for(lambda fake: fake.texts(USER), timeout=0.1)


# --------------------------------------------------------------------------------------------
# The real bot, as a process
# --------------------------------------------------------------------------------------------


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if the bot does not stop within 10 s."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


def consent_message(fake: FakeTelegram) -> Call | None:
    """The /apply consent message (with its "I agree" button), once sent."""
    return next((c for c in fake.sent(USER) if ("ic:y" in dict(fake.buttons(c)).values())), None)


async def test_real_bot_process_over_http(tmp_path: Path) -> None:
    async with HttpTelegram(TOKEN) as server:
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATA_DIR": str(tmp_path),
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "COMMITTEE_CHAT_ID": "-1001",
            "COMMITTEE_MEMBER_IDS": "900",
            "PYTHONPATH": str(ROOT),
            "TIMEZONE": "UTC",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert process.stdout is not None
        output = asyncio.create_task(process.stdout.read())
        try:
            await server.push(server.text(USER, "/start", language_code="en"))
            await server.wait_for(
                lambda fake: any("Welcome to Sanad" in text for text in fake.texts(USER))
            )
            await server.push(server.text(USER, "/apply", language_code="en"))
            consent = await server.wait_for(consent_message)
            assert consent.text is not None
            assert "This is not a debt relief program." in consent.text
            await server.push(server.callback(USER, "ic:y"))
            await server.wait_for(
                lambda fake: any(c.method == "answerCallbackQuery" and c.ok for c in fake.calls)
            )
        except TimeoutError as error:
            await stop(process)
            log = (await output).decode(errors="replace")
            pytest.fail(f"{error}\n--- bot output ---\n{log[-4000:]}")
        finally:
            await stop(process)
        log = (await output).decode(errors="replace")

    assert process.returncode == 0, log[-4000:]
    assert TOKEN not in log
    assert (tmp_path / "sanad.db").is_file()
    assert server.pending == []  # PTB confirmed every update on shutdown
    assert server.fake.violations == [], server.fake.violations
    assert server.errors == []
