"""The application factory: command menus, the Bot API address, per-person ordering."""

from __future__ import annotations

import asyncio
import gc

from bot.app import build_application
from bot.config import Settings
from bot.processor import PerPersonProcessor, update_key
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness, make_settings, stop_app
from tests.fakes.telegram import FakeTelegram


def names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


async def test_command_menus_per_language_and_for_the_committee(harness: Harness) -> None:
    fake = harness.fake
    english = fake.commands(None, "en")
    arabic = fake.commands(None, "ar")
    assert (
        names(english)
        == names(arabic)
        == [
            "apply",
            "status",
            "feedback",  # thanks, a problem or a concern, for the trustees
            "mydata",
            "delete_my_data",
            "language",
            "cancel",
            "help",
            "volunteer",  # how to volunteer; the volunteers' own commands are theirs only
        ]
    )
    assert english[0]["description"] == "Apply for support"
    assert arabic[0]["description"] != "Apply for support"
    assert names(fake.commands(None, "")) == names(english)  # default menu, default language
    member = fake.commands({"type": "chat", "chat_id": MEMBER}, "en")
    assert "case" in names(member)
    assert names(fake.commands({"type": "chat", "chat_id": COMMITTEE_CHAT}, "")) == ["help"]


def test_api_base_url_carries_the_token_like_ptb(settings: Settings) -> None:
    custom = make_settings(settings.data_dir, TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot")
    app = build_application(custom)
    assert app.bot.base_url == "http://127.0.0.1:8081/bot" + custom.bot_token
    assert app.bot.base_file_url.startswith("http://127.0.0.1:8081/file/bot")


async def test_group_help_describes_the_committee_flow(harness: Harness) -> None:
    h = harness
    calls = await h.feed(h.updates.text(MEMBER, "/help", chat_id=COMMITTEE_CHAT))
    assert "Details" in (calls[-1].text or "")
    calls = await h.feed(h.updates.text(MEMBER, "/help", chat_id=-100999))  # another group
    assert calls == []


async def test_start_in_an_unknown_language_asks_which_one(harness: Harness) -> None:
    h = harness
    calls = await h.say(505, "/start", language_code="fr")
    assert calls[-1].text == "اختر لغتك / Choose your language"
    assert [d for _, d in h.fake.buttons(calls[-1])] == ["lang:ar", "lang:en"]
    assert [t for t, _ in h.fake.buttons(calls[-1])] == ["العربية", "English"]
    calls = await h.press(505, r"^lang:en$")
    assert "Welcome to Sanad" in h.texts(calls)[-1]
    calls = await h.say(505, "/help", language_code="fr")
    assert "/apply" in h.texts(calls)[0] and "apply for support" in h.texts(calls)[0]


async def test_start_greets_in_the_telegram_language(harness: Harness) -> None:
    h = harness
    calls = await h.say(506, "/start", language_code="ar-JO")
    assert "مرحب" in h.texts(calls)[0]
    calls = await h.say(507, "/start", language_code="en-GB")
    assert "Welcome to Sanad" in h.texts(calls)[0]


async def test_language_switch_is_remembered(harness: Harness) -> None:
    h = harness
    await h.say(508, "/start", language_code="en")
    await h.say(508, "/language")
    await h.press(508, r"^lang:ar$")
    calls = await h.say(508, "/help", language_code="en")  # Telegram still says English
    assert "/apply" in h.texts(calls)[0] and "Apply" not in h.texts(calls)[0]
    row = await h.services.db.fetchone(
        "SELECT language FROM people WHERE user_id = ?", (h.services.ids.pid(508),)
    )
    assert row is not None and row["language"] == "ar"


async def test_processor_keeps_one_persons_updates_in_order() -> None:
    processor = PerPersonProcessor(8)
    order: list[str] = []

    async def work(name: str, delay: float) -> None:
        order.append(f"start {name}")
        await asyncio.sleep(delay)
        order.append(f"end {name}")

    from datetime import UTC, datetime

    from telegram import Chat, Message, Update, User

    def update(uid: int, user: int) -> Update:
        message = Message(
            1,
            datetime.now(UTC),
            Chat(user, "private"),
            from_user=User(user, "x", False),
            text="hi",
        )
        return Update(uid, message=message)

    assert update_key(update(1, 42)) == 42 and update_key(object()) is None
    await asyncio.gather(
        processor.process_update(update(1, 42), work("a1", 0.02)),
        processor.process_update(update(2, 42), work("a2", 0)),
        processor.process_update(update(3, 43), work("b1", 0)),
    )
    assert order.index("end a1") < order.index("start a2")  # same person: one at a time
    assert order.index("end b1") < order.index("end a1")  # another person is not held up


async def test_a_long_running_bot_settles_what_start_up_built(settings: Settings) -> None:
    """Under ``python -m bot run`` (long_running) what start-up built is moved out of the
    garbage collector's generations once the bot has started, so that a full collection no
    longer walks it in the middle of somebody's step; tests and tools leave it as it is."""
    assert gc.get_freeze_count() == 0
    plain = build_application(settings, request=FakeTelegram(), rate_limit=False)
    await plain.initialize()
    assert plain.post_init is not None
    await plain.post_init(plain)
    try:
        assert gc.get_freeze_count() == 0
    finally:
        await stop_app(plain)
    app = build_application(settings, request=FakeTelegram(), rate_limit=False, long_running=True)
    await app.initialize()
    assert app.post_init is not None
    try:
        await app.post_init(app)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
        await stop_app(app)
