"""Shared fixtures: settings in a temporary DATA_DIR, the real Application on a fake Telegram,
and a harness that talks to it like families and committee members would."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from telegram import Update

from bot.app import SanadApp, build_application
from bot.config import Settings, load_settings
from bot.services import Services
from tests.fakes.telegram import Call, FakeTelegram, UpdateFactory

COMMITTEE_CHAT = -1001234567890
MEMBER = 900
OTHER_MEMBER = 901
OUTSIDER = 666


def make_settings(data_dir: Path, **overrides: str) -> Settings:
    """Settings as a committee in Amman would write them, in a temporary DATA_DIR."""
    env = {
        "BOT_TOKEN": "123456:TEST-TOKEN-never-real",
        "COMMITTEE_CHAT_ID": str(COMMITTEE_CHAT),
        "COMMITTEE_MEMBER_IDS": f"{MEMBER},{OTHER_MEMBER}",
        "COMMITTEE_LANGUAGE": "ar",
        "DATA_DIR": str(data_dir),
        "DEFAULT_LANGUAGE": "ar",
        "TIMEZONE": "Asia/Amman",
        "PHONE_REGION": "JO",
        "FLOOD_PER_MINUTE": "0",  # tests type faster than people; test_flood turns it on
        # A generated key goes beside the data folder, never into it (nor into the real home).
        "ENCRYPTION_KEY_FILE": str(data_dir.parent / f"{data_dir.name}.key"),
        **overrides,
    }
    return load_settings(env, env_file=None, available_languages=("ar", "en"))


class Harness:
    """The running bot, a fake Telegram, and helpers to talk to it."""

    def __init__(self, app: SanadApp, fake: FakeTelegram) -> None:
        self.app = app
        self.fake = fake
        self.updates = UpdateFactory(app.bot, fake)
        self.languages: dict[int, str | None] = {}

    @property
    def services(self) -> Services:
        """The running services."""
        return self.app.bot_data["services"]

    async def feed(self, update: Update) -> list[Call]:
        """Process one update; return the calls the bot made for it."""
        before = len(self.fake.calls)
        # Through the update processor, as polling and the webhook do (per-person order, the
        # flood gate), not straight to the handlers.
        await self.app.update_processor.process_update(update, self.app.process_update(update))
        await self.services.delivery.wait_idle()  # what the update queued, sent
        return self.fake.calls[before:]

    async def say(self, user_id: int, text: str, **kwargs: Any) -> list[Call]:
        """The user sends a text (or a /command) in their private chat."""
        kwargs.setdefault("language_code", self.languages.get(user_id, "en"))
        return await self.feed(self.updates.text(user_id, text, **kwargs))

    def find_button(self, chat_id: int, pattern: str, *, history: bool = False) -> tuple[int, str]:
        """``(message_id, callback_data)`` of the newest button in the chat matching pattern.

        By default only buttons still on screen count; ``history`` also finds buttons the bot
        has since removed (as an old client, or a forger, could still send them).
        """
        for message in reversed(self.fake.messages(chat_id)):
            for _, data in self.fake.buttons(message):
                if data is not None and re.search(pattern, data):
                    return int(message["message_id"]), data
        if history:
            for call in reversed(self.fake.sent(chat_id)):
                for _, data in self.fake.buttons(call):
                    if data is not None and re.search(pattern, data):
                        result = call.result if isinstance(call.result, dict) else call.params
                        return int(result["message_id"]), data
        raise AssertionError(f"no button matching {pattern!r} in chat {chat_id}")

    async def press(self, user_id: int, pattern: str, *, chat_id: int | None = None) -> list[Call]:
        """The user taps the newest button whose callback_data matches ``pattern``."""
        chat = user_id if chat_id is None else chat_id
        message_id, data = self.find_button(chat, pattern)
        return await self.press_data(user_id, data, message_id=message_id, chat_id=chat)

    async def press_data(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> list[Call]:
        """The user taps a button with exactly this callback_data (possibly forged)."""
        update = self.updates.callback(
            user_id,
            data,
            message_id=message_id,
            chat_id=chat_id,
            language_code=self.languages.get(user_id, "en"),
        )
        return await self.feed(update)

    def newest(self, chat_id: int) -> str:
        """The text of the newest message in the chat, as it shows now (after edits): the
        question asked last, even when an older one was closed after it was sent."""
        messages = self.fake.messages(chat_id)
        return str(messages[-1].get("text", "")) if messages else ""

    def newest_html(self, chat_id: int) -> str:
        """The HTML the bot last wrote into the newest message of the chat (sent or edited)."""
        messages = self.fake.messages(chat_id)
        if not messages:
            return ""
        newest = int(messages[-1]["message_id"])
        for call in reversed(self.fake.sent(chat_id)):
            result = call.result if isinstance(call.result, dict) else {}
            shown = result.get("message_id", call.params.get("message_id"))
            if shown is not None and int(shown) == newest and call.text is not None:
                return call.text
        return ""

    def texts(self, calls: list[Call]) -> list[str]:
        """The texts sent or edited in ``calls``."""
        return [c.text for c in calls if c.text is not None and c.ok]

    def alerts(self, calls: list[Call]) -> list[str]:
        """The texts of callback answers in ``calls``."""
        return [str(c.params.get("text", "")) for c in calls if c.method == "answerCallbackQuery"]


async def start_app(settings: Settings, fake: FakeTelegram) -> SanadApp:
    """Build and start the real Application on the fake, as ``run_polling`` would."""
    app = build_application(settings, request=fake, rate_limit=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    return app


async def stop_app(app: SanadApp) -> None:
    """Stop the Application and close its resources."""
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


@pytest.fixture
def key() -> str:
    """A fresh encryption key for one test."""
    return Fernet.generate_key().decode()


@pytest.fixture
def settings(tmp_path: Path, key: str) -> Settings:
    """Settings in a temporary DATA_DIR."""
    return make_settings(tmp_path, ENCRYPTION_KEY=key)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Harness]:
    """The bot running with ``settings`` on a fresh fake Telegram; fails on leaving if
    Telegram would have rejected a call."""
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    try:
        yield Harness(app, fake)
    finally:
        await stop_app(app)
    fake.assert_clean()


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    """The running bot on a fake Telegram; fails the test if Telegram would reject a call."""
    async with running(settings) as harness:
        yield harness
