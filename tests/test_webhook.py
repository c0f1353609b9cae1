"""Webhook mode, with the real bot process: only Telegram (which knows the secret) gets in."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet

from tests.fakes.http_telegram import HttpTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST"
SECRET = "s3cret_-Token"
USER = 4242
INTRUDER = 4343
HEADER = "X-Telegram-Bot-Api-Secret-Token"
CANARY = "Qasimcanary dialysiscanary 0791122334"
_update_ids = itertools.count(9000)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Webhook:
    """The bot running in webhook mode, and the fake Telegram it talks to."""

    def __init__(self, server: HttpTelegram, url: str, output: bytearray) -> None:
        self.server = server
        self.url = url
        self.output = output

    async def post(
        self, session: aiohttp.ClientSession, update: dict[str, Any], secret: str | None
    ) -> int:
        """POST one update as Telegram would; the HTTP status."""
        headers = {} if secret is None else {HEADER: secret}
        async with session.post(self.url, json=update, headers=headers) as response:
            return response.status


@pytest.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[Webhook]:
    """``python -m bot run`` with WEBHOOK_URL set, serving on a local port."""
    async with HttpTelegram(TOKEN) as server:
        port = free_port()  # after the fake has its own port, so that the two cannot meet
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATA_DIR": str(tmp_path),
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "COMMITTEE_CHAT_ID": "-1001",
            "COMMITTEE_MEMBER_IDS": "900",
            "PYTHONPATH": str(ROOT),
            "TIMEZONE": "UTC",
            "WEBHOOK_URL": "https://sanad.example.org/telegram/hook+v1.(x)",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "DEBUG",  # the most talkative a committee can choose
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert process.stdout is not None
        output = bytearray()

        async def collect() -> None:
            assert process.stdout is not None
            while chunk := await process.stdout.read(4096):
                output.extend(chunk)

        reader = asyncio.create_task(collect())
        try:
            try:
                await server.wait_for(
                    lambda fake: any(c.method == "setWebhook" for c in fake.calls), timeout=20
                )
            except TimeoutError:
                pytest.fail(output.decode(errors="replace")[-3000:])
            yield Webhook(server, f"http://127.0.0.1:{port}/telegram/hook+v1.(x)", output)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            await reader
        assert process.returncode == 0, output.decode(errors="replace")[-3000:]
        assert server.fake.violations == []


def update(server: HttpTelegram, user: int, text: str) -> dict[str, Any]:
    """A message update as Telegram would post it."""
    return {"update_id": next(_update_ids), **server.text(user, text)}


async def test_webhook_refuses_requests_without_the_secret(webhook: Webhook) -> None:
    server = webhook.server
    set_webhook = next(c for c in server.fake.calls if c.method == "setWebhook")
    assert set_webhook.params["url"] == "https://sanad.example.org/telegram/hook+v1.(x)"
    assert set_webhook.params["secret_token"] == SECRET
    assert "edited_message" in set_webhook.params["allowed_updates"]

    async with aiohttp.ClientSession() as session:
        assert await webhook.post(session, update(server, INTRUDER, "/start"), None) == 403
        assert await webhook.post(session, update(server, INTRUDER, "/start"), "wrong") == 403
        assert await webhook.post(session, update(server, INTRUDER, "/help"), SECRET[:-1]) == 403

        # A family's words, posted with the wrong secret and then the right one.
        assert await webhook.post(session, update(server, USER, CANARY), "wrong") == 403
        assert await webhook.post(session, update(server, USER, CANARY), SECRET) == 200
        genuine = update(server, USER, "/start")
        assert await webhook.post(session, genuine, SECRET) == 200
        await server.wait_for(lambda fake: len(fake.texts(USER)) >= 2)
        # Telegram posts an update again when it did not get our answer: processed once.
        assert await webhook.post(session, genuine, SECRET) == 200
        assert await webhook.post(session, update(server, USER, "/language"), SECRET) == 200
        # One person's updates are handled in order: once /language is answered, the
        # repeated /start has been dealt with too.
        await server.wait_for(lambda fake: "Choose your language" in fake.texts(USER)[-1])

    texts = server.fake.texts(USER)
    assert len(texts) == 3, texts  # the canary's answer, /start once, /language
    assert server.fake.texts(INTRUDER) == []  # nothing the intruder posted was processed
    assert not any(c.method == "getUpdates" for c in server.fake.calls)
    assert TOKEN not in webhook.output.decode(errors="replace")
    assert SECRET not in webhook.output.decode(errors="replace")
    for word in CANARY.split():  # not in the logs of a real process at DEBUG
        assert word not in webhook.output.decode(errors="replace")


async def test_webhook_refuses_bodies_over_1_mb_before_reading_them(webhook: Webhook) -> None:
    server = webhook.server
    port = int(webhook.url.split(":")[2].split("/")[0])
    path = webhook.url.split(str(port), 1)[1]
    # Only the headers: a server that reads a body this size first would wait for it.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{HEADER}: {SECRET}\r\nContent-Length: 2000000\r\n\r\n".encode("ascii")
    )
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status.split()[1] in (b"400", b"413"), status

    big = update(server, USER, "/start")
    big["padding"] = "x" * 2_000_000  # a genuine update, with the secret, but 2 MB
    async with aiohttp.ClientSession() as session:
        body = io.BytesIO(json.dumps(big).encode())
        headers = {HEADER: SECRET, "Content-Type": "application/json"}
        try:
            async with session.post(webhook.url, data=body, headers=headers) as response:
                assert response.status in (400, 413)
        except aiohttp.ClientError:
            pass  # refused before the body was sent: the connection was closed
        assert await webhook.post(session, update(server, USER, "/help"), SECRET) == 200
        await server.wait_for(lambda fake: len(fake.texts(USER)) >= 1)
    await asyncio.sleep(0.5)
    assert len(server.fake.texts(USER)) == 1  # /help only: the big /start was never processed
