"""Small helpers shared by the handler modules."""

from __future__ import annotations

import contextlib
import functools
import html
import re
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError

from bot.buttons import CallbackData, pressed_here
from bot.i18n import N_, Translator

# The one answer to a press the bot cannot act on: data of no family (old, foreign or
# forged), a verb its handler does not know, or a button whose moment has passed.
STALE = N_("This button no longer works.")

D = TypeVar("D", bound=CallbackData)


def private(update: Update) -> bool:
    """Whether the update comes from a private chat."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Send ``text`` to the chat the update came from."""
    if update.effective_chat is None:
        return None
    return await update.get_bot().send_message(update.effective_chat.id, text, **kwargs)


def own_chat(query: CallbackQuery | None) -> bool:
    """Whether the pressed button is on a message in the presser's own private chat.

    callback_data can be forged on any message of the bot that has buttons, the committee
    card included: the bot edits a message only when it is in the presser's private chat.
    """
    message = query.message if query is not None else None
    return (
        query is not None
        and message is not None
        and message.chat.type == ChatType.PRIVATE
        and message.chat.id == query.from_user.id
    )


def on_text(query: CallbackQuery | None) -> bool:
    """Whether the pressed message is a text message (one whose text can be edited).

    A button's callback_data can be forged on a photo, a document or a voice note of the bot;
    editing their text is refused by Telegram.
    """
    message = query.message if query is not None else None
    return isinstance(message, Message) and message.text is not None


def has_buttons(query: CallbackQuery) -> bool:
    """Whether the pressed message still shows buttons: a press carries the message as it is
    now, so a message whose buttons are already gone is not edited again (Telegram would answer
    400 "message is not modified")."""
    markup = getattr(query.message, "reply_markup", None)
    return markup is not None and any(markup.inline_keyboard)


def shows(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether the pressed message already shows ``text`` (HTML) with ``markup``."""
    message = query.message
    if not isinstance(message, Message):
        return False
    now = message.reply_markup if has_buttons(query) else None
    wanted = markup if markup is not None and any(markup.inline_keyboard) else None
    return message.text == plain(text) and now == wanted


def plain(html_text: str) -> str:
    """What a reader sees of a message written in Telegram's HTML: tags gone, entities read."""
    return html.unescape(TAG.sub("", html_text))


TAG = re.compile(r"<[^>]+>")


async def edit_in_place(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> bool:
    """Show ``text`` and ``markup`` on the pressed message, in the presser's own chat.

    True when the message shows them now; a message that already does is not edited (Telegram
    would answer 400 "message is not modified"). False when it cannot be edited here (another
    chat, a photo, a message too old or gone): the caller sends a new message instead.
    """
    if not own_chat(query) or not on_text(query):
        return False
    if shows(query, text, markup):
        return True
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest:
        return False
    return True


async def close_buttons(query: CallbackQuery) -> None:
    """Remove the buttons of the message a button was pressed on (best effort), if the press
    came from one of them."""
    if own_chat(query) and pressed_here(query):
        # Cosmetic, and often after the durable write: a failure must not bring an apology.
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)


def voice_answer(message: Message) -> dict[str, Any] | None:
    """A voice note (or audio) as a stored answer: its file id and length in seconds."""
    voice = message.voice or message.audio
    if voice is None:
        return None
    duration = voice.duration
    seconds = duration.total_seconds() if hasattr(duration, "total_seconds") else duration
    return {"voice": voice.file_id, "duration": int(seconds or 0)}


async def stale(query: CallbackQuery, t: Translator) -> None:
    """Answer a press that does nothing with the one :data:`STALE` answer."""
    await query.answer(t.raw(STALE))


Callback = Callable[[Update, Any], Coroutine[Any, Any, None]]
# A handler of one button family, given the press's typed data.
Pressed = Callable[[Update, Any, D], Coroutine[Any, Any, None]]


def private_button(family: type[D], handler: Pressed[D]) -> Callback:
    """Accept a button of ``family`` only on a message in the presser's own private chat, and
    hand ``handler`` its typed data.

    The family's and the wizards' buttons exist only there; the same data forged on another
    message (the committee card) is refused without a word to that chat, and so is data that
    is not a button of the family.
    """

    @functools.wraps(handler)
    async def guarded(update: Update, context: Any) -> None:
        query = update.callback_query
        assert query is not None
        data = family.unpack(query.data)
        if data is None or not own_chat(query):
            await stale(query, context.t)
            return
        await handler(update, context, data)

    return guarded
