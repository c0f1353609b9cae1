"""The vocabulary every part of the fake Bot API shares: JSON types, chat keys, the bot itself.

The server, the update builders and both transports build these objects from here, so the bot
sees one identity and one shape of ``User`` and ``ChatMember`` whichever fake answers it.
"""

from __future__ import annotations

import json
import time
from typing import Any, Final

JSONDict = dict[str, Any]
"""A decoded JSON object."""

ChatKey = int | str
"""A chat as the fake keys it: the numeric id, or ``"@username"`` for public chats."""

BOT_ID: Final = 1000
BOT_USERNAME: Final = "sanad_test_bot"
BOT_FIRST_NAME: Final = "Sanad"


def bot_user_json() -> JSONDict:
    """The bot's own ``User`` object, as ``getMe`` returns it."""
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": BOT_USERNAME,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def bot_sender_json() -> JSONDict:
    """The bot as the ``from`` of a message it sent (Telegram omits the capability flags)."""
    return {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}


def chat_member_json(status: str, user: JSONDict, *, until_date: int = 0) -> JSONDict:
    """A ``ChatMember`` of the given ``status`` with every field its type requires."""
    member: JSONDict = {"status": status, "user": user}
    if status == "creator":
        member |= {"is_anonymous": False}
    elif status == "administrator":
        member |= dict.fromkeys(
            (
                "can_be_edited", "is_anonymous", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info",
                "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
            ),
            False,
        ) | {"can_manage_chat": True}  # fmt: skip
    elif status == "restricted":
        member |= dict.fromkeys(
            (
                "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
                "can_send_videos", "can_send_video_notes", "can_send_voice_notes",
                "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
                "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics",
                "can_react_to_messages", "can_edit_tag",
            ),
            False,
        ) | {"is_member": True, "until_date": until_date}  # fmt: skip
    elif status == "kicked":
        member |= {"until_date": until_date}
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    return member


def now() -> int:
    """The current Unix time, the unit of every ``date`` field."""
    return int(time.time())


def clone(value: Any) -> Any:
    """A deep copy of JSON data (a JSON round trip: several times faster than deepcopy).

    Raises TypeError for what JSON cannot carry.
    """
    return json.loads(json.dumps(value))


def chat_key(value: object) -> ChatKey:
    """Normalise a ``chat_id`` parameter: ``42``, ``"42"`` -> ``42``; ``"@name"`` stays."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    try:
        return int(text)
    except ValueError:
        return text
