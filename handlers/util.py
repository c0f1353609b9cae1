"""Small helpers shared by the handler modules."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType


def private(update: Update) -> bool:
    """Whether the update comes from a private chat."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Send ``text`` to the chat the update came from."""
    if update.effective_chat is None:
        return None
    return await update.get_bot().send_message(update.effective_chat.id, text, **kwargs)
