"""Small helpers shared by the handler modules."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest


def private(update: Update) -> bool:
    """Whether the update comes from a private chat."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Send ``text`` to the chat the update came from."""
    if update.effective_chat is None:
        return None
    return await update.get_bot().send_message(update.effective_chat.id, text, **kwargs)


async def close_buttons(query: CallbackQuery) -> None:
    """Remove the buttons of the message a button was pressed on (best effort)."""
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(reply_markup=None)


def voice_answer(message: Message) -> dict[str, Any] | None:
    """A voice note (or audio) as a stored answer: its file id and length in seconds."""
    voice = message.voice or message.audio
    if voice is None:
        return None
    duration = voice.duration
    seconds = duration.total_seconds() if hasattr(duration, "total_seconds") else duration
    return {"voice": voice.file_id, "duration": int(seconds or 0)}
