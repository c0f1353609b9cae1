"""The in-process fake Telegram (tests/fakes/telegram.py) behaves like the Bot API."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.warnings import PTBUserWarning

from tests.fakes.telegram import (
    BOT_ID,
    BOT_USERNAME,
    FakeTelegram,
    HtmlParseError,
    UpdateFactory,
    parse_html,
)

USER = 42
GROUP = -1001234567890

AnyApp = Application


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the command's arguments."""
    assert update.message is not None
    await update.message.reply_text(" ".join(context.args or []) or "empty")


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show two buttons."""
    assert update.message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="m:y")],
            [InlineKeyboardButton("No", callback_data="m:n")],
        ]
    )
    await update.message.reply_text("<b>Sure?</b>", parse_mode="HTML", reply_markup=keyboard)


async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the tap and replace the question with the choice."""
    query = update.callback_query
    assert query is not None
    await query.answer("Noted")
    await query.edit_message_text(f"You chose {query.data}")


@pytest_asyncio.fixture
async def fake() -> FakeTelegram:
    """A fresh fake Telegram."""
    return FakeTelegram()


@pytest_asyncio.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[AnyApp]:
    """The real Application, talking to ``fake``."""
    application = (
        ApplicationBuilder()
        .token("123:ABC")
        .request(fake)
        .get_updates_request(fake)
        .updater(None)
        .build()
    )
    application.add_handler(CommandHandler("echo", echo))
    application.add_handler(CommandHandler("menu", menu))
    application.add_handler(CallbackQueryHandler(chosen, pattern=r"^m:"))
    await application.initialize()
    try:
        yield application
    finally:
        await application.shutdown()


@pytest.fixture
def updates(app: AnyApp) -> UpdateFactory:
    """Builders of incoming updates for ``app.bot``."""
    return UpdateFactory(app.bot)


@pytest.mark.asyncio
async def test_get_me_identifies_the_test_bot(app: AnyApp, fake: FakeTelegram) -> None:
    assert app.bot.id == BOT_ID
    assert app.bot.username == BOT_USERNAME
    assert fake.calls[0].method == "getMe"


@pytest.mark.asyncio
async def test_command_handler_echo_is_recorded(
    app: AnyApp, fake: FakeTelegram, updates: UpdateFactory
) -> None:
    update = updates.text(USER, "/echo hello world")
    assert update.message is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/echo")

    await app.process_update(update)
    await app.process_update(updates.command(USER, "echo again"))

    assert fake.texts(USER) == ["hello world", "again"]
    last = fake.last(USER)
    assert last.method == "sendMessage"
    assert last.chat_id == USER
    assert last.ok and last.delivered
    assert last.result["chat"]["type"] == "private"
    assert last.result["from"]["id"] == BOT_ID
    first_id = fake.sent(USER)[0].result["message_id"]
    assert last.result["message_id"] > first_id  # ids grow per chat
    assert fake.violations == []


@pytest.mark.asyncio
async def test_buttons_press_and_edit(
    app: AnyApp, fake: FakeTelegram, updates: UpdateFactory
) -> None:
    await app.process_update(updates.text(USER, "/menu"))
    question = fake.last(USER)
    assert fake.buttons(question) == [("Yes", "m:y"), ("No", "m:n")]
    assert isinstance(question.params["reply_markup"], dict)
    assert question.result["text"] == "Sure?"  # entities parsed, like Telegram answers

    press = updates.press(question, "Yes")
    assert isinstance(press.callback_query, CallbackQuery)
    assert isinstance(press.callback_query.message, Message)
    assert press.callback_query.message.message_id == question.result["message_id"]
    await app.process_update(press)

    methods = [call.method for call in fake.calls[-2:]]
    assert methods == ["answerCallbackQuery", "editMessageText"]
    assert fake.texts(USER)[-1] == "You chose m:y"
    shown = fake.messages(USER)[-1]
    assert shown["text"] == "You chose m:y"
    assert "reply_markup" not in shown  # an edit without markup removes the keyboard
    assert fake.violations == []


@pytest.mark.asyncio
async def test_html_validator(app: AnyApp, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities.*end tag"):
        await app.bot.send_message(USER, "<b>x", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await app.bot.send_message(USER, "a < b", parse_mode="HTML")
    assert len(fake.violations) == 2

    sent = await app.bot.send_message(USER, "<b>a &lt; b</b>", parse_mode="HTML")
    assert sent.text == "a < b"
    assert sent.entities[0].type == "bold"
    assert len(fake.violations) == 2
    # Without parse_mode nothing is parsed.
    await app.bot.send_message(USER, "a < b")
    assert len(fake.violations) == 2


def test_parse_html_like_tdlib() -> None:
    assert parse_html("<b>a</b> &amp; <i>b</i>")[0] == "a & b"
    text, entities = parse_html('<pre><code class="language-py">x</code></pre>')
    assert (text, entities) == ("x", [{"type": "pre", "offset": 0, "length": 1, "language": "py"}])
    assert parse_html('<span class="tg-spoiler">s</span>')[1][0]["type"] == "spoiler"
    assert parse_html("<blockquote expandable>q</blockquote>")[1][0]["type"] == (
        "expandable_blockquote"
    )
    assert parse_html("😀<b>x</b>")[1][0]["offset"] == 2  # UTF-16 offsets
    for bad in ("<p>x</p>", "<b><i>x</b></i>", "<span>x</span>", "x</b>", "a & b", "a > b"):
        with pytest.raises(HtmlParseError):
            parse_html(bad)
    assert parse_html("a & b > c", strict=False)[0] == "a & b > c"  # what the server accepts


@pytest.mark.asyncio
async def test_text_length_is_counted_after_entities(app: AnyApp, fake: FakeTelegram) -> None:
    await app.bot.send_message(USER, "x" * 4096)
    await app.bot.send_message(USER, "<b>" + "&lt;" * 4096 + "</b>", parse_mode="HTML")
    assert fake.violations == []
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await app.bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await app.bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    assert len(fake.violations) == 2


@pytest.mark.asyncio
async def test_callback_data_over_64_bytes_is_rejected(app: AnyApp, fake: FakeTelegram) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="س" * 32)]])  # 64 B
    await app.bot.send_message(USER, "fits", reply_markup=ok)
    assert fake.violations == []
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await app.bot.send_message(USER, "too long", reply_markup=too_long)
    assert "BUTTON_DATA_INVALID" in fake.violations[0]
    assert not fake.calls[-1].ok


@pytest.mark.asyncio
async def test_not_modified_is_not_a_violation(app: AnyApp, fake: FakeTelegram) -> None:
    message = await app.bot.send_message(USER, "same")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_text("same", chat_id=USER, message_id=message.message_id)
    assert len(fake.not_modified) == 1
    assert fake.violations == []


@pytest.mark.asyncio
async def test_unknown_and_missing_parameters(app: AnyApp, fake: FakeTelegram) -> None:
    await app.bot.send_message(USER, "x", api_kwargs={"colour": "red"})  # Telegram ignores it
    assert fake.violations == ["sendMessage: unknown parameter 'colour' (ignored by Telegram)"]
    fake.clear()
    with pytest.warns(PTBUserWarning), pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await app.bot.do_api_request("sendMessage", api_kwargs={"chat_id": USER})
    assert "missing required parameter 'text'" in fake.violations[0]


@pytest.mark.asyncio
async def test_block_and_unreachable_are_forbidden(app: AnyApp, fake: FakeTelegram) -> None:
    fake.block(USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await app.bot.send_message(USER, "hi")
    fake.unreachable(USER + 1)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await app.bot.send_message(USER + 1, "hi")
    fake.unblock(USER)
    await app.bot.send_message(USER, "hi again")
    assert [c.status for c in fake.sent(USER, include_failed=True)] == [403, 200]
    assert fake.violations == []


@pytest.mark.asyncio
async def test_fail_next_429_raises_retry_after_once(
    app: AnyApp, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, PTB >= 22.2 warns when RetryAfter is built (an error here).
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await app.bot.send_message(GROUP, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    await app.bot.send_message(GROUP, "hi")  # one-shot
    assert fake.last(GROUP).result["chat"]["type"] == "supergroup"


@pytest.mark.asyncio
async def test_timeout_next(app: AnyApp, fake: FakeTelegram) -> None:
    fake.timeout_next("sendMessage")
    with pytest.raises(TimedOut):
        await app.bot.send_message(USER, "lost")
    fake.timeout_next("sendMessage", delivered=True)
    with pytest.raises(TimedOut):
        await app.bot.send_message(USER, "arrived, answer lost")
    assert fake.texts(USER) == ["arrived, answer lost"]


@pytest.mark.asyncio
async def test_update_builders(app: AnyApp, updates: UpdateFactory) -> None:
    built = [
        updates.sticker(USER),
        updates.photo(USER),
        updates.location(USER, 31.95, 35.91),
        updates.voice(USER),
        updates.contact(USER, "+962791234567", contact_user_id=USER),
        updates.edited_text(USER, "fixed"),
        updates.my_chat_member(USER, "member", "kicked"),
        updates.callback(USER, "x:1", chat_id=GROUP, message_id=77),
    ]
    assert len({u.update_id for u in built}) == len(built)
    sticker, photo, location, voice, contact, edited, member, callback = built
    assert sticker.message is not None and sticker.message.sticker is not None
    assert photo.message is not None and photo.message.photo
    assert location.message is not None and location.message.location is not None
    assert voice.message is not None and voice.message.voice is not None
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.user_id == USER
    assert edited.edited_message is not None and edited.edited_message.text == "fixed"
    assert member.my_chat_member is not None
    assert member.my_chat_member.new_chat_member.status == "kicked"
    assert callback.callback_query is not None and callback.callback_query.data == "x:1"
    assert isinstance(callback.callback_query.message, Message)
    assert callback.callback_query.message.chat.type == "supergroup"
    assert callback.callback_query.message.message_id == 77
    assert callback.effective_user is not None and callback.effective_user.id == USER
    now = dtm.datetime.now(dtm.UTC)
    assert sticker.message.date is not None
    assert abs((now - sticker.message.date).total_seconds()) < 60
