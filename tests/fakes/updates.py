"""Builders of the updates Telegram delivers to the bot: JSON payloads and real ``Update`` objects.

:class:`IncomingJson` builds the JSON (without ``update_id``) the way Telegram shapes it and
registers it with the fake Bot API, so that message ids never collide and a callback can point
at a message the bot really sent; :class:`UpdateFactory` numbers those payloads and turns them
into :class:`telegram.Update` objects for in-process tests, and the HTTP fake queues the same
payloads for ``getUpdates``.
"""

from __future__ import annotations

import itertools
import re
import zlib

from telegram import Bot, Update

from tests.fakes.objects import (
    BOT_ID,
    ChatKey,
    JSONDict,
    bot_sender_json,
    chat_member_json,
    now,
)
from tests.fakes.records import Call
from tests.fakes.server import FakeBotApi


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class IncomingJson:
    """The JSON of incoming updates, without ``update_id``, as Telegram would shape it.

    With a ``fake``, message ids are drawn from the fake's per-chat sequence, incoming
    messages and their senders are registered with it, and callbacks point at the messages the
    bot sent there; without one, ids are counted here.
    """

    def __init__(self, fake: FakeBotApi | None) -> None:
        """Build for ``fake`` (or for no fake at all)."""
        self.fake = fake
        self._query_ids = itertools.count(1)
        self._own_ids: dict[ChatKey, int] = {}
        self._last_incoming: dict[ChatKey, int] = {}

    def message_id(self, chat: ChatKey) -> int:
        """The next message id in ``chat``."""
        if self.fake is not None:
            return self.fake.next_message_id(chat)
        message_id = self._own_ids.get(chat, 1)
        self._own_ids[chat] = message_id + 1
        return message_id

    def latest(self, chat: ChatKey) -> int | None:
        """The id of the latest message a user sent in ``chat`` through this builder."""
        return self._last_incoming.get(chat)

    @staticmethod
    def user_json(
        user_id: int,
        *,
        first_name: str = "Test",
        language_code: str | None = "en",
        username: str | None = None,
    ) -> JSONDict:
        """A human ``User`` object."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        return user

    @staticmethod
    def chat_json(
        chat_id: int, *, first_name: str = "Test", title: str = "Test group"
    ) -> JSONDict:
        """A ``Chat``: private for positive ids, supergroup for negative ones."""
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": "supergroup", "title": title}

    def message(
        self,
        user_id: int,
        content: JSONDict,
        *,
        chat_id: int | None,
        language_code: str | None,
        first_name: str,
        username: str | None = None,
        message_id: int | None = None,
    ) -> JSONDict:
        """A user's Message dict, registered with the fake."""
        chat = user_id if chat_id is None else chat_id
        user = self.user_json(
            user_id, first_name=first_name, language_code=language_code, username=username
        )
        message: JSONDict = {
            "message_id": message_id if message_id is not None else self.message_id(chat),
            "from": user,
            "chat": self.chat_json(chat, first_name=first_name),
            "date": now(),
            **content,
        }
        if self.fake is not None:
            self.fake.remember_user(
                user_id, first_name, username=username, language_code=language_code
            )
            self.fake.remember_message(message)
        self._last_incoming[chat] = message["message_id"]
        return message

    def text(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str | None = "en",
        chat_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
    ) -> JSONDict:
        """A text message; a leading ``/command`` gets its ``bot_command`` entity."""
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            command = re.split(r"\s", text, maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        message = self.message(
            user_id,
            content,
            chat_id=chat_id,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        return {"message": message}

    def callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
        message_text: str = "…",
    ) -> JSONDict:
        """The user tapped an inline button with ``data`` under a bot message.

        The message is the one the fake knows by ``message_id`` (default: the bot's latest
        message with an inline keyboard in the chat, else its latest message); otherwise a bot
        message with ``message_text`` is made up.
        """
        chat = user_id if chat_id is None else chat_id
        message = self.bot_message(chat, message_id)
        if message is None:
            message = {
                "message_id": message_id if message_id is not None else self.message_id(chat),
                "from": bot_sender_json(),
                "chat": self.chat_json(chat),
                "date": now(),
                "text": message_text,
            }
        query = {
            "id": f"{user_id}-{next(self._query_ids)}",
            "from": self.user_json(user_id, first_name=first_name, language_code=language_code),
            "chat_instance": str(zlib.crc32(f"{chat}".encode())),
            "data": data,
            "message": message,
        }
        return {"callback_query": query}

    def bot_message(self, chat: int, message_id: int | None) -> JSONDict | None:
        """The bot's message ``message_id`` in ``chat`` as the fake shows it, or by default its
        latest one with an inline keyboard, else its latest; None without a fake or a match."""
        if self.fake is None:
            return None
        if message_id is not None:
            found = self.fake.message(chat, message_id)
        else:
            ours = [m for m in self.fake.messages(chat) if m.get("from", {}).get("id") == BOT_ID]
            with_buttons = [m for m in ours if "reply_markup" in m]
            candidates = with_buttons or ours
            found = candidates[-1] if candidates else None
        if found is not None:
            found.pop("reply_to_message", None)
        return found


class UpdateFactory:
    """Builds real :class:`telegram.Update` objects, as Telegram would deliver them.

    Every update gets a fresh ``update_id`` and the current date. Private chats are the
    default (``chat_id`` = ``user_id``); pass a negative ``chat_id`` for a group (typed
    ``supergroup``).

    If ``bot`` talks through a :class:`~tests.fakes.telegram.FakeTelegram` (or ``fake`` is
    given), message ids are drawn from the fake's per-chat sequence, incoming messages are
    registered with it, and callbacks can point at messages the bot really sent (:meth:`press`).
    """

    user_json = staticmethod(IncomingJson.user_json)
    chat_json = staticmethod(IncomingJson.chat_json)

    def __init__(
        self, bot: Bot, fake: FakeBotApi | None = None, *, first_update_id: int = 1
    ) -> None:
        """Bind the factory to the ``bot`` that ``de_json`` attaches to the objects."""
        self.bot = bot
        request = bot.request
        self.fake = fake if fake is not None else (
            request if isinstance(request, FakeBotApi) else None
        )  # fmt: skip
        self.incoming = IncomingJson(self.fake)
        """The JSON builder behind the updates (shares the fake's message ids)."""
        self._update_ids = itertools.count(first_update_id)

    # -- plumbing ----------------------------------------------------------------------------

    def _update(self, payload: JSONDict) -> Update:
        return Update.de_json({"update_id": next(self._update_ids), **payload}, self.bot)

    # -- messages ----------------------------------------------------------------------------

    def text(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str | None = "en",
        chat_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
    ) -> Update:
        """A text message; a leading ``/command`` gets its ``bot_command`` entity."""
        return self._update(
            self.incoming.text(
                user_id,
                text,
                language_code=language_code,
                chat_id=chat_id,
                first_name=first_name,
                username=username,
            )
        )

    def command(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str | None = "en",
        chat_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
    ) -> Update:
        """Same as :meth:`text`; the leading ``/`` may be omitted (``command(1, "start")``)."""
        return self.text(
            user_id,
            text if text.startswith("/") else f"/{text}",
            language_code=language_code,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
        )

    def edited_text(
        self,
        user_id: int,
        text: str,
        *,
        message_id: int | None = None,
        language_code: str | None = "en",
        chat_id: int | None = None,
        first_name: str = "Test",
    ) -> Update:
        """The user edited a message (default: their latest one in that chat) to ``text``."""
        chat = user_id if chat_id is None else chat_id
        if message_id is None:
            message_id = self.incoming.latest(chat)
        message = self.incoming.message(
            user_id,
            {"text": text, "edit_date": now()},
            chat_id=chat_id,
            language_code=language_code,
            first_name=first_name,
            message_id=message_id,
        )
        message["date"] = message["edit_date"] - 60
        return self._update({"edited_message": message})

    def sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
    ) -> Update:
        """A sticker message."""
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "u-sticker-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        message = self.incoming.message(
            user_id,
            {"sticker": sticker},
            chat_id=chat_id,
            language_code=language_code,
            first_name=first_name,
        )
        return self._update({"message": message})

    def photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        file_id: str = "photo-1",
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
    ) -> Update:
        """A photo message (three sizes, like Telegram sends)."""
        sizes = [
            {
                "file_id": f"{file_id}-{w}",
                "file_unique_id": f"u-{file_id}-{w}",
                "width": w,
                "height": w * 3 // 4,
                "file_size": w * 100,
            }
            for w in (90, 320, 1280)
        ]
        content: JSONDict = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        message = self.incoming.message(
            user_id, content, chat_id=chat_id, language_code=language_code, first_name=first_name
        )
        return self._update({"message": message})

    def document(
        self,
        user_id: int,
        *,
        file_name: str = "file.pdf",
        mime_type: str = "application/pdf",
        file_id: str = "document-1",
        caption: str | None = None,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
    ) -> Update:
        """A document (file) message."""
        document = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 1024,
        }
        content: JSONDict = {"document": document}
        if caption is not None:
            content["caption"] = caption
        message = self.incoming.message(
            user_id, content, chat_id=chat_id, language_code=language_code, first_name=first_name
        )
        return self._update({"message": message})

    def location(
        self,
        user_id: int,
        lat: float,
        lon: float,
        *,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
    ) -> Update:
        """A shared location."""
        message = self.incoming.message(
            user_id,
            {"location": {"latitude": lat, "longitude": lon}},
            chat_id=chat_id,
            language_code=language_code,
            first_name=first_name,
        )
        return self._update({"message": message})

    def voice(
        self,
        user_id: int,
        file_id: str = "voice-1",
        duration: int = 5,
        *,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
    ) -> Update:
        """A voice note."""
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": duration * 2000,
        }
        message = self.incoming.message(
            user_id,
            {"voice": voice},
            chat_id=chat_id,
            language_code=language_code,
            first_name=first_name,
        )
        return self._update({"message": message})

    def contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None = None,
        first_name: str = "X",
        chat_id: int | None = None,
        language_code: str | None = "en",
        sender_first_name: str = "Test",
    ) -> Update:
        """A shared contact; ``contact_user_id=user_id`` means "my own number" (the button)."""
        contact: JSONDict = {"phone_number": phone_number, "first_name": first_name}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        message = self.incoming.message(
            user_id,
            {"contact": contact},
            chat_id=chat_id,
            language_code=language_code,
            first_name=sender_first_name,
        )
        return self._update({"message": message})

    # -- callbacks ---------------------------------------------------------------------------

    def callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
        message_text: str = "…",
    ) -> Update:
        """The user tapped an inline button with ``data`` under a bot message.

        The message is the one the fake knows by ``message_id`` (default: the bot's latest
        message with an inline keyboard in the chat, else its latest message); otherwise a bot
        message with ``message_text`` is made up.
        """
        return self._update(
            self.incoming.callback(
                user_id,
                data,
                message_id=message_id,
                chat_id=chat_id,
                language_code=language_code,
                first_name=first_name,
                message_text=message_text,
            )
        )

    def press(
        self,
        call: Call,
        button: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Test",
    ) -> Update:
        """Tap the button labelled (or with callback_data) ``button`` in a message call.

        ``call`` is a delivered send/edit call, e.g. ``fake.last(chat_id)``; ``user_id``
        defaults to the chat (private chats).
        """
        matches = [
            data
            for text, data in FakeBotApi.buttons(call)
            if button in (text, data) and data is not None
        ]
        if len(matches) != 1:
            raise AssertionError(
                f"{len(matches)} callback buttons match {button!r} in {FakeBotApi.buttons(call)}"
            )
        result: JSONDict = call.result if isinstance(call.result, dict) else {}
        chat = call.chat_id if isinstance(call.chat_id, int) else None
        raw_id = result.get("message_id", call.params.get("message_id"))
        if chat is None or raw_id is None:
            raise AssertionError(f"{call.method} call has no message to press a button on")
        message_id = int(raw_id)
        who = user_id if user_id is not None else chat
        return self.callback(
            who,
            matches[0],
            message_id=message_id,
            chat_id=chat,
            language_code=language_code,
            first_name=first_name,
        )

    # -- membership --------------------------------------------------------------------------

    def my_chat_member(
        self,
        user_id: int,
        old_status: str,
        new_status: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
        language_code: str | None = "en",
    ) -> Update:
        """The bot's own membership changed, e.g. ``("member", "kicked")`` = user blocked it.

        In a private chat the linked fake follows suit: after ``"kicked"`` sends to the user
        answer 403 "bot was blocked by the user"; after ``"member"`` they work again.
        """
        chat = user_id if chat_id is None else chat_id
        if self.fake is not None and chat > 0:
            if new_status == "kicked":
                self.fake.block(chat)
            elif new_status == "member":
                self.fake.unblock(chat)
        bot_user = bot_sender_json()
        change = {
            "chat": self.chat_json(chat, first_name=first_name),
            "from": self.user_json(user_id, first_name=first_name, language_code=language_code),
            "date": now(),
            "old_chat_member": chat_member_json(old_status, bot_user),
            "new_chat_member": chat_member_json(new_status, bot_user),
        }
        return self._update({"my_chat_member": change})
