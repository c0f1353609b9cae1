"""The chats as Telegram keeps them, and the Bot API methods that read and change them.

:class:`ChatState` holds just enough to answer realistically (message ids per chat, the
current text and keyboard of every message, bot commands, menu buttons, member statuses,
files) and carries each supported method out over it; :data:`HANDLERS` maps method names to
those handlers. Whoever calls it (the server) has validated the call first.
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any, Final

from tests.fakes.checks import Checks
from tests.fakes.html import visible_text
from tests.fakes.objects import (
    BOT_ID,
    ChatKey,
    JSONDict,
    bot_sender_json,
    bot_user_json,
    chat_key,
    chat_member_json,
    clone,
    now,
)
from tests.fakes.records import ApiError, Call, Journal

# Methods whose target chat is refused with 403 once the chat is blocked or unreachable.
_CHAT_WRITE_PREFIXES: Final = ("send", "edit", "copy", "forward")

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class ChatState:
    """What Telegram knows of the bot's chats, and how each method changes it.

    Args:
        checks: the rules texts are parsed and refused by (shared with the server).
        journal: where "message is not modified" answers are recorded.
    """

    def __init__(self, checks: Checks, journal: Journal) -> None:
        """Empty chats: no messages, users, commands or files."""
        self.checks = checks
        self.journal = journal
        self.blocked: set[ChatKey] = set()
        self.unreachable: set[ChatKey] = set()
        self.next_ids: dict[ChatKey, int] = {}
        self.messages: dict[tuple[ChatKey, int], JSONDict] = {}
        self.deleted: set[tuple[ChatKey, int]] = set()
        self.unknown_content: set[tuple[ChatKey, int]] = set()
        self.users: dict[int, JSONDict] = {}
        self.members: dict[tuple[ChatKey, int], str] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.menu_buttons: dict[ChatKey | None, JSONDict] = {}
        self.files: dict[str, bytes] = {}
        self._file_counter = itertools.count(1)

    def next_message_id(self, key: ChatKey) -> int:
        """Allocate the next message id in a chat (ids are shared by both sides)."""
        message_id = self.next_ids.get(key, 1)
        self.next_ids[key] = message_id + 1
        return message_id

    def check_reachable(self, call: Call) -> None:
        """Refuse with 403 a write to a chat whose user blocked or never started the bot."""
        method = call.method.lower()
        if not method.startswith(_CHAT_WRITE_PREFIXES) or call.chat_id is None:
            return
        if call.chat_id in self.blocked:
            raise ApiError(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
        if call.chat_id in self.unreachable:
            raise ApiError(
                HTTPStatus.FORBIDDEN, "Forbidden: bot can't initiate conversation with a user"
            )

    # -- helpers for the handlers ------------------------------------------------------------

    def _chat_json(self, key: ChatKey) -> JSONDict:
        if isinstance(key, str):
            username = key.lstrip("@")
            chat_id = -1_001_000_000_000 - zlib.crc32(username.encode()) % 1_000_000_000
            return {"id": chat_id, "type": "channel", "title": username, "username": username}
        if key > 0:
            user = self.users.get(key, {"first_name": "Test"})
            chat: JSONDict = {"id": key, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            return chat
        return {"id": key, "type": "supergroup", "title": "Test group"}

    def _new_message(self, call: Call, content: JSONDict) -> JSONDict:
        """Store and return a new bot message in the call's chat."""
        key = chat_key(call.params["chat_id"])
        message: JSONDict = {
            "message_id": self.next_message_id(key),
            "from": bot_sender_json(),
            "chat": self._chat_json(key),
            "date": now(),
            **content,
        }
        markup = call.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards are echoed back
        reply = call.params.get("reply_parameters")
        if isinstance(reply, dict):
            original = self.messages.get((key, int(reply.get("message_id", 0))))
            if original is not None:
                message["reply_to_message"] = {
                    k: v for k, v in original.items() if k != "reply_to_message"
                }
        self.messages[(key, message["message_id"])] = message
        return clone(message)

    def _formatted(self, call: Call, what: str) -> JSONDict:
        """``{what: visible text, what_entities: [...]}`` for text or caption."""
        raw = call.params.get(what)
        if raw is None:
            return {}
        text, entities = self.checks.parse_text(
            call, str(raw), call.params.get("parse_mode"), what
        )
        content: JSONDict = {what: text}
        if entities:
            content["entities" if what == "text" else "caption_entities"] = entities
        return content

    def _file_json(self, call: Call, part: str, extra: JSONDict) -> JSONDict:
        """A file object for an upload (kept for getFile) or a re-sent file_id/URL."""
        upload = call.files.get(part)
        value = call.params.get(part)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = call.files.get(value.removeprefix("attach://"))
        if upload is not None:
            file_id = f"{part}-{next(self._file_counter)}"
            self.files[file_id] = upload.content
            info: JSONDict = {"file_id": file_id, "file_unique_id": f"u-{file_id}"}
            info["file_size"] = len(upload.content)
            if part not in ("photo", "sticker", "voice", "video_note"):
                info["file_name"] = upload.filename
            if upload.mime_type and part not in ("photo", "sticker"):
                info["mime_type"] = upload.mime_type
        else:
            file_id = str(value)
            info = {"file_id": file_id, "file_unique_id": f"u-{file_id}"}
        return info | extra

    def _stored_target(self, call: Call) -> tuple[ChatKey, int, JSONDict] | None:
        """The message an edit refers to; None for inline messages. 400 if unusable."""
        if "inline_message_id" in call.params:
            return None
        if "chat_id" not in call.params or "message_id" not in call.params:
            self.checks.reject(call, "Bad Request: message identifier is not specified")
        key = chat_key(call.params["chat_id"])
        message_id = int(call.params["message_id"])
        if (key, message_id) in self.deleted:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message to edit not found")
        stored = self.messages.get((key, message_id))
        if stored is None:
            # A message from before the test (or a hand-built callback): take it as a bot
            # message whose content we do not know, so any edit modifies it.
            stored = {
                "message_id": message_id,
                "from": bot_sender_json(),
                "chat": self._chat_json(key),
                "date": now(),
            }
            self.messages[(key, message_id)] = stored
            self.unknown_content.add((key, message_id))
        elif stored.get("from", {}).get("id") != BOT_ID:
            self.checks.reject(call, "Bad Request: message can't be edited", "not sent by the bot")
        return key, message_id, stored

    def _finish_edit(
        self, call: Call, stored: JSONDict, new: JSONDict, keys: Iterable[str]
    ) -> JSONDict:
        """Apply ``new`` over ``keys`` of ``stored``, or answer "not modified"."""
        keys = tuple(keys)
        markup = call.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        if all(stored.get(k) == new.get(k) for k in (*keys, "reply_markup")):
            self.journal.not_modified.append(
                f"{call.method}(chat_id={call.params.get('chat_id')}, "
                f"message_id={call.params.get('message_id')})"
            )
            raise ApiError(HTTPStatus.BAD_REQUEST, _NOT_MODIFIED)
        for k in (*keys, "reply_markup"):
            if k in new:
                stored[k] = new[k]
            else:
                stored.pop(k, None)
        stored["edit_date"] = now()
        return clone(stored)

    # -- handlers ----------------------------------------------------------------------------

    def _get_me(self, call: Call) -> JSONDict:
        return bot_user_json()

    def _send_message(self, call: Call) -> JSONDict:
        return self._new_message(call, self._formatted(call, "text"))

    def _send_media(self, call: Call) -> JSONDict:
        method = call.method.lower()
        content = self._formatted(call, "caption")
        if method == "sendphoto":
            photo = self._file_json(call, "photo", {})
            sizes = [(90, 90), (320, 320), (800, 800)]
            content["photo"] = [
                photo | {"file_id": f"{photo['file_id']}-{w}", "width": w, "height": h}
                for w, h in sizes
            ]
        elif method == "senddocument":
            content["document"] = self._file_json(call, "document", {})
        elif method == "sendaudio":
            content["audio"] = self._file_json(call, "audio", {"duration": 1})
        elif method == "sendvideo":
            content["video"] = self._file_json(
                call, "video", {"width": 640, "height": 360, "duration": 1}
            )
        elif method == "sendanimation":
            content["animation"] = self._file_json(
                call, "animation", {"width": 320, "height": 240, "duration": 1}
            )
        elif method == "sendvoice":
            content["voice"] = self._file_json(call, "voice", {"duration": 1})
        elif method == "sendvideonote":
            content["video_note"] = self._file_json(
                call, "video_note", {"length": 240, "duration": 1}
            )
        elif method == "sendsticker":
            content["sticker"] = self._file_json(
                call,
                "sticker",
                {"type": "regular", "width": 512, "height": 512,
                 "is_animated": False, "is_video": False},
            )  # fmt: skip
        elif method == "sendlocation":
            content["location"] = {
                "latitude": call.params["latitude"],
                "longitude": call.params["longitude"],
            }
        elif method == "sendcontact":
            content["contact"] = {
                k: call.params[k]
                for k in ("phone_number", "first_name", "last_name", "vcard")
                if k in call.params
            }
        return self._new_message(call, content)

    def _copy_message(self, call: Call) -> JSONDict:
        source_key = chat_key(call.params["from_chat_id"])
        source = self.messages.get((source_key, int(call.params["message_id"])), {})
        content = {k: v for k, v in source.items() if k in ("text", "entities", "caption")}
        message = self._new_message(call, content)
        return {"message_id": message["message_id"]}

    def _forward_message(self, call: Call) -> JSONDict:
        source_key = chat_key(call.params["from_chat_id"])
        source = self.messages.get((source_key, int(call.params["message_id"])), {})
        skip = ("message_id", "from", "chat", "date", "reply_markup", "edit_date")
        content = {k: v for k, v in source.items() if k not in skip}
        return self._new_message(call, content)

    def _edit_text(self, call: Call) -> JSONDict | bool:
        target = self._stored_target(call)
        if target is None:
            return True
        key, message_id, stored = target
        if "text" not in stored and (key, message_id) not in self.unknown_content:
            self.checks.reject(call, "Bad Request: there is no text in the message to edit")
        return self._finish_edit(call, stored, self._formatted(call, "text"), ("text", "entities"))

    def _edit_caption(self, call: Call) -> JSONDict | bool:
        target = self._stored_target(call)
        if target is None:
            return True
        _, _, stored = target
        new = self._formatted(call, "caption")
        return self._finish_edit(call, stored, new, ("caption", "caption_entities"))

    def _edit_reply_markup(self, call: Call) -> JSONDict | bool:
        target = self._stored_target(call)
        if target is None:
            return True
        return self._finish_edit(call, target[2], {}, ())

    def _delete_message(self, call: Call) -> bool:
        key = (chat_key(call.params["chat_id"]), int(call.params["message_id"]))
        if key in self.deleted:
            raise ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message to delete not found")
        self.messages.pop(key, None)
        self.deleted.add(key)
        return True

    def _delete_messages(self, call: Call) -> bool:
        chat = chat_key(call.params["chat_id"])
        for message_id in call.params.get("message_ids", []):
            self.messages.pop((chat, int(message_id)), None)
            self.deleted.add((chat, int(message_id)))
        return True

    def _set_my_commands(self, call: Call) -> bool:
        key = commands_key(call.params.get("scope"), call.params.get("language_code", ""))
        self.commands[key] = list(call.params.get("commands", []))
        return True

    def _delete_my_commands(self, call: Call) -> bool:
        key = commands_key(call.params.get("scope"), call.params.get("language_code", ""))
        self.commands.pop(key, None)
        return True

    def _get_my_commands(self, call: Call) -> list[JSONDict]:
        key = commands_key(call.params.get("scope"), call.params.get("language_code", ""))
        return clone(self.commands.get(key, []))

    def _set_chat_menu_button(self, call: Call) -> bool:
        chat = call.params.get("chat_id")
        button = call.params.get("menu_button") or {"type": "default"}
        self.menu_buttons[None if chat is None else chat_key(chat)] = button
        return True

    def _get_chat_menu_button(self, call: Call) -> JSONDict:
        chat = call.params.get("chat_id")
        key = None if chat is None else chat_key(chat)
        return clone(
            self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}
        )

    def _get_chat(self, call: Call) -> JSONDict:
        chat = self._chat_json(chat_key(call.params["chat_id"]))
        return chat | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_member(self, call: Call) -> JSONDict:
        chat = chat_key(call.params["chat_id"])
        user_id = int(call.params["user_id"])
        if user_id == BOT_ID:
            user = bot_sender_json()
        else:
            user = self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "Test"})
        return chat_member_json(self.members.get((chat, user_id), "member"), user)

    def _get_file(self, call: Call) -> JSONDict:
        file_id = str(call.params["file_id"])
        content = self.files.get(file_id, b"")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(content),
            "file_path": f"files/{file_id}",
        }

    def _get_updates(self, call: Call) -> list[JSONDict]:
        return []

    def _get_webhook_info(self, call: Call) -> JSONDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def _send_media_group(self, call: Call) -> list[JSONDict]:
        messages = []
        group_id = str(next(self._file_counter))
        for item in call.params.get("media", []):
            kind = str(item.get("type", "document"))
            media = str(item.get("media", ""))
            sub = Call(call.method, {"chat_id": call.params["chat_id"], kind: media}, call.files)
            if kind == "photo":
                photo = self._file_json(sub, "photo", {"width": 800, "height": 800})
                content: JSONDict = {"photo": [photo]}
            else:
                content = {kind: self._file_json(sub, kind, {})}
            if "caption" in item:
                content["caption"] = visible_text(str(item["caption"]), item.get("parse_mode"))
            messages.append(self._new_message(sub, content | {"media_group_id": group_id}))
        return messages


def commands_key(scope: object, language_code: object) -> tuple[str, str]:
    """How commands are stored: per scope (a dict, default scope) and language."""
    scope = scope if isinstance(scope, dict) else {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(language_code or "")


def _always_true(state: ChatState, call: Call) -> bool:
    return True


HANDLERS: Final[Mapping[str, Callable[[ChatState, Call], Any]]] = {
    "getMe": ChatState._get_me,
    "sendMessage": ChatState._send_message,
    **dict.fromkeys(
        (
            "sendPhoto",
            "sendDocument",
            "sendAudio",
            "sendVideo",
            "sendAnimation",
            "sendVoice",
            "sendVideoNote",
            "sendSticker",
            "sendLocation",
            "sendContact",
        ),
        ChatState._send_media,
    ),
    "sendMediaGroup": ChatState._send_media_group,
    "copyMessage": ChatState._copy_message,
    "forwardMessage": ChatState._forward_message,
    "editMessageText": ChatState._edit_text,
    "editMessageCaption": ChatState._edit_caption,
    "editMessageReplyMarkup": ChatState._edit_reply_markup,
    "deleteMessage": ChatState._delete_message,
    "deleteMessages": ChatState._delete_messages,
    "answerCallbackQuery": _always_true,
    "setMyCommands": ChatState._set_my_commands,
    "deleteMyCommands": ChatState._delete_my_commands,
    "getMyCommands": ChatState._get_my_commands,
    "setChatMenuButton": ChatState._set_chat_menu_button,
    "getChatMenuButton": ChatState._get_chat_menu_button,
    "getChat": ChatState._get_chat,
    "getChatMember": ChatState._get_chat_member,
    "getFile": ChatState._get_file,
    "getUpdates": ChatState._get_updates,
    "getWebhookInfo": ChatState._get_webhook_info,
    "deleteWebhook": _always_true,
    "close": _always_true,
    "logOut": _always_true,
}
"""Method (as spelled in api.json) -> handler. Boolean methods not listed answer True."""
