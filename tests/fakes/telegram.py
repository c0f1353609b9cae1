"""In-process fake of the Telegram Bot API, and builders for real incoming updates.

Design §7: tests build the real :class:`telegram.ext.Application` around a fake transport,
feed it real :class:`telegram.Update` objects and assert on what it sent::

    fake = FakeTelegram()
    app = (
        ApplicationBuilder().token("123:ABC")
        .request(fake).get_updates_request(fake).updater(None)
        .build()
    )
    await app.initialize()
    updates = UpdateFactory(app.bot)          # finds ``fake`` through ``app.bot.request``
    await app.process_update(updates.text(42, "/start"))
    assert fake.texts(42) == ["Welcome"]
    assert fake.violations == []

:class:`FakeTelegram` is a :class:`telegram.request.BaseRequest`: python-telegram-bot hands it
each API call (URL + :class:`~telegram.request.RequestData`) and it answers with the JSON bytes
the Bot API would send. It keeps just enough state to answer realistically (message ids per
chat, the current text and keyboard of every message, bot commands, member statuses).

It rejects what Telegram rejects, with Telegram's own status and wording, so PTB raises the
same :class:`telegram.error.BadRequest` it would raise in production. Each such rejection that
points at a bug in the bot is also appended to :attr:`FakeTelegram.violations`; tests assert
that list is empty. Checked:

* method and parameter names, and required parameters, against the machine-readable Bot API
  (``shared/telegram-bot-api/api.json``, see :class:`ApiSpec`);
* message text 1-4096 characters and captions up to 1024 after entity parsing;
* HTML in ``parse_mode="HTML"`` texts, parsed the way TDLib (the Bot API server) parses it
  (:func:`parse_html`), plus, by default, the documented rule that stray ``&`` and ``>``
  must be escaped too (the real server tolerates those two; see ``strict_html``);
* inline keyboards: at most 100 buttons, non-empty labels, ``callback_data`` 1-64 bytes, one
  action per button;
* ``answerCallbackQuery`` text up to 200 characters, bot command names and descriptions.

Unknown parameters are violations but, as on Telegram, not errors (Telegram ignores them);
those that ``telegram.ext.Defaults`` adds to every send/edit call (``parse_mode`` on
``sendLocation``...) are tolerated, since PTB sends them whatever the method.

"message is not modified" answers exactly like Telegram but goes to
:attr:`FakeTelegram.not_modified` instead: it is a normal outcome a bot must tolerate.

Faults are injected explicitly: :meth:`FakeTelegram.block`, :meth:`FakeTelegram.unreachable`,
:meth:`FakeTelegram.fail_next` (any status, 429 with ``retry_after``) and
:meth:`FakeTelegram.timeout_next`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar, Final, NoReturn

from telegram import Bot, Update
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USERNAME",
    "ApiMethod",
    "ApiSpec",
    "Call",
    "FakeTelegram",
    "HtmlParseError",
    "UpdateFactory",
    "UploadedFile",
    "bot_user_json",
    "chat_member_json",
    "parse_html",
    "visible_text",
]

JSONDict = dict[str, Any]
"""A decoded JSON object."""

ChatKey = int | str
"""A chat as the fake keys it: the numeric id, or ``"@username"`` for public chats."""

BOT_ID: Final = 1000
BOT_USERNAME: Final = "sanad_test_bot"
BOT_FIRST_NAME: Final = "Sanad"

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_INLINE_BUTTONS: Final = 100
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
MAX_BOT_COMMANDS: Final = 100

SPEC_ENV_VAR: Final = "SANAD_BOT_API_SPEC"
"""Environment variable that may point at ``api.json`` if it is not in ``../shared``."""

_SPEC_RELATIVE_PATH: Final = Path("shared") / "telegram-bot-api" / "api.json"

# Methods whose target chat is refused with 403 once the chat is blocked or unreachable.
_CHAT_WRITE_PREFIXES: Final = ("send", "edit", "copy", "forward")
# Methods that produce or change something the user sees (see FakeTelegram.sent).
_MESSAGE_METHOD_PREFIXES: Final = ("send", "edit", "copy", "forward")
_NOT_MESSAGES: Final = frozenset({"sendchataction"})

# What ``telegram.ext.Defaults`` may add to *every* call routed through PTB's _send_message,
# whether the method takes it or not (e.g. parse_mode on sendLocation). Telegram ignores them.
_PTB_DEFAULT_PARAMS: Final = frozenset(
    {
        "allow_sending_without_reply", "disable_notification", "do_quote",
        "explanation_parse_mode", "link_preview_options", "parse_mode", "protect_content",
        "question_parse_mode", "text_parse_mode",
    }
)  # fmt: skip

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

_DEFAULT_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


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


def _bot_sender_json() -> JSONDict:
    """The bot as the ``from`` of a message it sent (Telegram omits the capability flags)."""
    return {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}


def _now() -> int:
    return int(time.time())


def _clone(value: Any) -> Any:
    """A deep copy of JSON data (a JSON round trip: several times faster than deepcopy)."""
    return json.loads(json.dumps(value))


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _chat_key(value: object) -> ChatKey:
    """Normalise a ``chat_id`` parameter: ``42``, ``"42"`` -> ``42``; ``"@name"`` stays."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    try:
        return int(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------------------------
# The Bot API, machine-readable
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiMethod:
    """One Bot API method as ``api.json`` describes it."""

    name: str
    fields: Mapping[str, tuple[str, ...]]
    """Parameter name -> accepted types (``"Integer"``, ``"InlineKeyboardMarkup"``...)."""
    required: frozenset[str]
    returns: tuple[str, ...]


class ApiSpec:
    """The Bot API methods from ``api.json`` (the PaulSonOfLars/telegram-bot-api-spec format).

    Use :meth:`load`; it finds ``shared/telegram-bot-api/api.json`` in a parent directory of
    this file, or the file named by the ``SANAD_BOT_API_SPEC`` environment variable, and caches
    the parsed result per path.
    """

    _cache: ClassVar[dict[Path, ApiSpec]] = {}
    """Parsed specs by resolved path (filled lazily by :meth:`load`)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Index the ``methods`` of a decoded ``api.json``."""
        self.version: str = str(data.get("version", "unknown"))
        self._methods: dict[str, ApiMethod] = {}
        for name, method in data["methods"].items():
            fields = method.get("fields", [])
            self._methods[name.lower()] = ApiMethod(
                name=name,
                fields={f["name"]: tuple(f.get("types", ())) for f in fields},
                required=frozenset(f["name"] for f in fields if f.get("required")),
                returns=tuple(method.get("returns", ())),
            )

    @classmethod
    def default_path(cls) -> Path:
        """Where ``api.json`` is: ``$SANAD_BOT_API_SPEC`` or ``<ancestor>/shared/...``."""
        override = os.environ.get(SPEC_ENV_VAR)
        if override:
            return Path(override)
        here = Path(__file__).resolve()
        for parent in here.parents:
            candidate = parent / _SPEC_RELATIVE_PATH
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(
            f"Cannot find {_SPEC_RELATIVE_PATH} above {here.parent}; "
            f"set {SPEC_ENV_VAR} to the path of the Bot API's api.json"
        )

    @classmethod
    def load(cls, path: Path | str | None = None) -> ApiSpec:
        """Parse (once per path) and return the spec at ``path`` or :meth:`default_path`."""
        resolved = (Path(path) if path is not None else cls.default_path()).resolve()
        spec = cls._cache.get(resolved)
        if spec is None:
            spec = cls(json.loads(resolved.read_text(encoding="utf-8")))
            cls._cache[resolved] = spec
        return spec

    def method(self, name: str) -> ApiMethod | None:
        """The method called ``name`` (Telegram matches method names case-insensitively)."""
        return self._methods.get(name.lower())

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a Bot API method."""
        return isinstance(name, str) and name.lower() in self._methods


# --------------------------------------------------------------------------------------------
# HTML, parsed the way TDLib's parse_html does
# --------------------------------------------------------------------------------------------


class HtmlParseError(ValueError):
    """Why Telegram cannot parse an HTML text, in TDLib's words (e.g. ``Unsupported start tag
    "p" at byte offset 0``). The Bot API prefixes it with ``Bad Request: can't parse entities:``.
    """


_ALLOWED_TAGS: Final = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
        "span", "tg-spoiler", "blockquote", "tg-emoji", "tg-time",
    }
)  # fmt: skip
_SIMPLE_ENTITIES: Final[Mapping[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES: Final[Mapping[bytes, int]] = {
    b"lt": 0x3C,
    b"gt": 0x3E,
    b"amp": 0x26,
    b"quot": 0x22,
}
_LT, _GT, _AMP, _SLASH, _EQ, _DQ, _SQ, _SEMI = (ord(c) for c in "<>&/=\"';")
_SPACES: Final = frozenset(b" \t\r\n\v\x00")  # TDLib's is_space counts the terminating NUL
_USER_LINK = re.compile(r"tg://user\?id=(\d+)$", re.IGNORECASE)


def _is_alpha(byte: int) -> bool:
    return 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _is_digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _is_hex(byte: int) -> bool:
    return _is_digit(byte) or 0x41 <= byte <= 0x46 or 0x61 <= byte <= 0x66


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the visible text where the tag starts
    result_pos: int  # byte position in the visible text where the tag starts


class _HtmlParser:
    """A port of TDLib's ``do_parse_html`` (error messages and byte offsets included)."""

    def __init__(self, text: str, *, strict: bool) -> None:
        self.data = text.encode("utf-8")
        self.strict = strict
        self.out = bytearray()
        self.entities: list[JSONDict] = []
        self.stack: list[_OpenTag] = []
        self.utf16 = 0
        self.bad_surrogate = False

    def at(self, i: int) -> int:
        """The byte at ``i``, or 0 past the end (TDLib reads a NUL-terminated string)."""
        return self.data[i] if i < len(self.data) else 0

    def decode_entity(self, pos: int) -> tuple[int, int, bool] | None:
        """Decode ``&...`` at ``pos``: (code point, end position, ended with ';') or None."""
        end = pos + 1
        code = 0
        if self.at(pos + 1) == ord("#"):
            end += 1
            if self.at(pos + 2) == ord("x"):
                end += 1
                while _is_hex(self.at(end)):
                    code = code * 16 + int(chr(self.at(end)), 16)
                    end += 1
            else:
                while _is_digit(self.at(end)):
                    code = code * 10 + self.at(end) - 0x30
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return None
        else:
            while _is_alpha(self.at(end)):
                end += 1
            named = _NAMED_ENTITIES.get(bytes(self.data[pos + 1 : end]))
            if named is None:
                return None
            code = named
        if self.at(end) == _SEMI:
            return code, end + 1, True
        return code, end, False

    def append_code_point(self, code: int, into: bytearray) -> None:
        if 0xD800 <= code <= 0xDFFF:
            self.bad_surrogate = True
            return
        into += chr(code).encode("utf-8")

    def parse(self) -> tuple[str, list[JSONDict]]:
        i = 0
        n = len(self.data)
        while i < n:
            c = self.data[i]
            if c == _AMP:
                decoded = self.decode_entity(i)
                if decoded is not None:
                    code, end, terminated = decoded
                    if self.strict and not terminated:
                        raise HtmlParseError(
                            f"Character reference at byte offset {i} must end with ';'"
                        )
                    self.append_code_point(code, self.out)
                    self.utf16 += 2 if code > 0xFFFF else 1
                    i = end
                    continue
                if self.strict:
                    raise HtmlParseError(
                        f"Character '&' at byte offset {i} must be escaped as &amp;"
                    )
            if c != _LT:
                if self.strict and c == _GT:
                    raise HtmlParseError(
                        f"Character '>' at byte offset {i} must be escaped as &gt;"
                    )
                if c & 0xC0 != 0x80:  # first byte of a UTF-8 sequence
                    self.utf16 += 2 if c >= 0xF0 else 1
                self.out.append(c)
                i += 1
                continue
            i = self.end_tag(i) if self.at(i + 1) == _SLASH else self.start_tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)  # a language only counts for <pre><code>
        if self.bad_surrogate:
            raise HtmlParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return self.out.decode("utf-8"), self.entities

    def start_tag(self, begin: int) -> int:
        """Parse ``<tag attr=...>`` at ``begin``; return the position after ``>``."""
        at = self.at
        i = begin + 1
        while at(i) not in _SPACES and at(i) != _GT:
            i += 1
        if at(i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        tag = self.data[begin + 1 : i].decode("utf-8", "replace").lower()
        if tag not in _ALLOWED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        argument = ""
        while at(i) != _GT:
            while at(i) != 0 and at(i) in _SPACES:
                i += 1
            if at(i) == _GT:
                break
            attr_begin = i
            while at(i) not in _SPACES and at(i) not in (_EQ, _GT, _SLASH, _DQ, _SQ):
                i += 1
            attribute = self.data[attr_begin:i].decode("utf-8", "replace")
            if not attribute:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                )
            while at(i) != 0 and at(i) in _SPACES:
                i += 1
            if at(i) != _EQ:
                if at(i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if tag == "blockquote" and attribute == "expandable":
                    argument = "1"
                continue
            i += 1
            while at(i) != 0 and at(i) in _SPACES:
                i += 1
            if at(i) == 0:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            value, i = self.attribute_value(i)
            if at(i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            if (tag, attribute) in (("a", "href"), ("tg-emoji", "emoji-id")):
                argument = value
            elif (tag, attribute) == ("code", "class") and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif (tag, attribute) == ("span", "class") and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif (tag, attribute) == ("blockquote", "expandable"):
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        self.stack.append(_OpenTag(tag, argument, self.utf16, len(self.out)))
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        """Read a quoted string or a name token at ``i``; return it and the position after."""
        at = self.at
        quote = at(i)
        if quote not in (_DQ, _SQ):
            token_begin = i
            while _is_alpha(at(i)) or _is_digit(at(i)) or at(i) in (ord("."), ord("-")):
                i += 1
            if at(i) not in _SPACES and at(i) != _GT:
                raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
            return self.data[token_begin:i].decode("ascii").lower(), i
        i += 1
        value = bytearray()
        while at(i) != quote and at(i) != 0:
            if at(i) == _AMP:
                decoded = self.decode_entity(i)
                if decoded is not None:
                    self.append_code_point(decoded[0], value)
                    i = decoded[1]
                    continue
            value.append(at(i))
            i += 1
        if at(i) == quote:
            i += 1
        return value.decode("utf-8", "replace"), i

    def end_tag(self, begin: int) -> int:
        """Parse ``</tag>`` at ``begin``, closing the innermost open tag."""
        at = self.at
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while at(i) not in _SPACES and at(i) != _GT:
            i += 1
        end_name = self.data[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) != _GT:
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{open_tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > open_tag.offset:
            self.add_entity(open_tag, self.utf16 - open_tag.offset)
        self.stack.pop()
        return i + 1

    def add_entity(self, tag: _OpenTag, length: int) -> None:
        """Turn a closed tag into the MessageEntity Telegram would report."""
        entity: JSONDict = {"offset": tag.offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last["offset"] == tag.offset and last["length"] == length
        if tag.name in _SIMPLE_ENTITIES:
            self.entities.append({"type": _SIMPLE_ENTITIES[tag.name], **entity})
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or not 0 < int(tag.argument) < 2**63:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            self.entities.append(
                {"type": "custom_emoji", **entity, "custom_emoji_id": tag.argument}
            )
        elif tag.name == "a":
            url = tag.argument or self.out[tag.result_pos :].decode("utf-8", "replace")
            user_link = _USER_LINK.match(url)
            if user_link:
                user = {"id": int(user_link.group(1)), "is_bot": False, "first_name": "User"}
                self.entities.append({"type": "text_mention", **entity, "user": user})
            elif url:
                self.entities.append({"type": "text_link", **entity, "url": url})
        elif tag.name == "pre":
            if same_span and last is not None and last["type"] == "code" and "language" in last:
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", **entity})
        elif tag.name == "code":
            if same_span and last is not None and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
            else:
                code: JSONDict = {"type": "code", **entity}
                if tag.argument:
                    code["language"] = tag.argument
                self.entities.append(code)
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            self.entities.append({"type": kind, **entity})
        # tg-time: a date_time entity; its text is shown as is, so nothing to record here.


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into (visible text, MessageEntity dicts with UTF-16 offsets).

    Follows TDLib, the Bot API server: supported tags are ``b strong i em u ins s strike del
    a code pre span(class="tg-spoiler") tg-spoiler blockquote(expandable) tg-emoji tg-time``;
    tags must nest and close; ``&lt; &gt; &amp; &quot;`` and numeric references are decoded;
    a ``<`` that does not start a valid tag is an error. With ``strict`` (the default) a stray
    ``&`` or ``>``, or a reference without ``;``, is an error too: Telegram's documentation
    requires escaping them although the server tolerates them.

    Raises:
        HtmlParseError: with TDLib's description of the first problem.
    """
    return _HtmlParser(text, strict=strict).parse()


def visible_text(text: str, parse_mode: str | None = "HTML") -> str:
    """What the user sees of ``text``: tags stripped and entities decoded for HTML.

    Lenient (never raises): invalid HTML is returned as is.
    """
    if parse_mode is None or parse_mode.upper() != "HTML":
        return text
    try:
        return parse_html(text, strict=False)[0]
    except HtmlParseError:
        return text


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file uploaded with a call (``multipart/form-data`` part)."""

    part: str
    """Part name: the parameter (``"document"``) or an ``attach://`` name."""
    filename: str
    content: bytes
    mime_type: str | None


@dataclass
class Call:
    """One request the bot made, as the fake received and answered it."""

    method: str
    """Bot API method name as requested, e.g. ``"sendMessage"``."""
    params: JSONDict
    """Parameters, JSON-decoded: ``reply_markup`` is a dict, ``chat_id`` as sent."""
    files: dict[str, UploadedFile] = field(default_factory=dict)
    """Uploaded files by part name."""
    status: int = 200
    """HTTP status of the answer; 0 when the request timed out."""
    error: str | None = None
    """The ``description`` of an error answer (or of the timeout)."""
    result: Any = None
    """The ``result`` of a successful answer (e.g. the sent Message as a dict)."""
    delivered: bool = False
    """Whether Telegram carried it out (True on success, and for ``delivered`` timeouts)."""

    @property
    def ok(self) -> bool:
        """Whether the bot got a successful answer."""
        return self.status == HTTPStatus.OK

    @property
    def chat_id(self) -> ChatKey | None:
        """The ``chat_id`` parameter, normalised to an int where possible."""
        value = self.params.get("chat_id")
        return None if value is None else _chat_key(value)

    @property
    def text(self) -> str | None:
        """The ``text`` (or else ``caption``) parameter, as sent (HTML source)."""
        value = self.params.get("text", self.params.get("caption"))
        return None if value is None else str(value)

    @property
    def reply_markup(self) -> JSONDict | None:
        """The ``reply_markup`` parameter, decoded."""
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None


@dataclass
class _Fault:
    status: int = 0
    description: str = ""
    parameters: JSONDict | None = None
    timeout: bool = False
    delivered: bool = False


class _ApiError(Exception):
    """An error answer: raised inside the fake, turned into an HTTP answer by do_request."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = int(status)
        self.description = description
        self.parameters = parameters

    def payload(self) -> bytes:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return json.dumps(body).encode()


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


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


_Handler = Callable[["FakeTelegram", Call], Any]


class FakeTelegram(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` that plays the Telegram Bot API in memory.

    Pass the same instance to ``ApplicationBuilder().request(...)`` and
    ``.get_updates_request(...)``. Everything it was asked is in :attr:`calls`; what Telegram
    would have rejected as a bug is in :attr:`violations`.

    Args:
        spec: the Bot API to check calls against; default :meth:`ApiSpec.load`.
        strict_html: also reject stray ``&``/``>`` in HTML (documented rule, see
            :func:`parse_html`); ``False`` accepts exactly what the real server accepts.
        read_timeout: what :attr:`read_timeout` reports to PTB.
        latency: seconds each answer takes (``asyncio.sleep``); 0 answers synchronously.
    """

    def __init__(
        self,
        *,
        spec: ApiSpec | None = None,
        strict_html: bool = True,
        read_timeout: float | None = 5.0,
        latency: float = 0.0,
    ) -> None:
        """Create an empty fake: no calls, no chats, no faults."""
        self.spec: ApiSpec = spec if spec is not None else ApiSpec.load()
        self.strict_html = strict_html
        self.latency = latency
        self._read_timeout = read_timeout
        self.initialized = False

        self.calls: list[Call] = []
        """Every request, in order, including failed ones."""
        self.violations: list[str] = []
        """Requests Telegram would reject (or silently mangle) because of a bot bug."""
        self.not_modified: list[str] = []
        """Edits answered with "message is not modified" (normal, but worth a look)."""
        self.unknown_methods: list[str] = []
        """Valid Bot API methods the fake cannot answer faithfully (answered ``True``)."""

        self._faults: dict[str, deque[_Fault]] = {}
        self._blocked: set[ChatKey] = set()
        self._unreachable: set[ChatKey] = set()
        self._next_ids: dict[ChatKey, int] = {}
        self._messages: dict[tuple[ChatKey, int], JSONDict] = {}
        self._deleted: set[tuple[ChatKey, int]] = set()
        self._unknown_content: set[tuple[ChatKey, int]] = set()
        self._users: dict[int, JSONDict] = {}
        self._members: dict[tuple[ChatKey, int], str] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._menu_buttons: dict[ChatKey | None, JSONDict] = {}
        self._files: dict[str, bytes] = {}
        self._file_counter = itertools.count(1)
        self._query_counter = itertools.count(1)

    # -- BaseRequest -------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout PTB should assume (the fake never waits that long)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open; PTB calls this once per request slot (twice for one instance)."""
        self.initialized = True

    async def shutdown(self) -> None:
        """Nothing to close; state and records are kept for assertions after shutdown."""
        self.initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer one HTTP request: ``(status, JSON body)`` like ``api.telegram.org``."""
        if self.latency:
            await asyncio.sleep(self.latency)
        if "/file/bot" in url:
            return self._download(url)
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params, files = self._decode(api_method, request_data)
        call = Call(api_method, params, files)
        self.calls.append(call)
        try:
            result = self._answer(call)
        except _ApiError as error:
            call.status, call.error = error.status, error.description
            return error.status, error.payload()
        call.result, call.delivered = result, True
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- fault injection ---------------------------------------------------------------------

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: sends to ``chat_id`` answer 403 until :meth:`unblock`."""
        self._blocked.add(_chat_key(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        """Undo :meth:`block` and :meth:`unreachable`."""
        self._blocked.discard(_chat_key(chat_id))
        self._unreachable.discard(_chat_key(chat_id))

    def unreachable(self, chat_id: int | str) -> None:
        """The user never started the bot: sends answer 403 "can't initiate conversation"."""
        self._unreachable.add(_chat_key(chat_id))

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        *,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next call of ``method`` fail once with ``status`` (queued per method).

        A 429 carries ``parameters.retry_after`` (default 1; PTB raises
        :class:`~telegram.error.RetryAfter` only for a value of at least 1). Without a
        ``description`` the usual Telegram wording for ``status`` is used.

        Note: reading ``RetryAfter.retry_after`` (PTB >= 22.2) warns unless the environment
        has ``PTB_TIMEDELTA=1``, which also makes it a :class:`datetime.timedelta`.
        """
        parameters: JSONDict = {}
        if status == HTTPStatus.TOO_MANY_REQUESTS or retry_after is not None:
            retry_after = 1 if retry_after is None else retry_after
            if retry_after < 1:
                raise ValueError("retry_after must be >= 1: PTB ignores a retry_after of 0")
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None:
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status) or _status_phrase(status)
        fault = _Fault(status=status, description=description, parameters=parameters or None)
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def timeout_next(self, method: str, *, delivered: bool = False) -> None:
        """Make the next call of ``method`` raise :class:`telegram.error.TimedOut` once.

        With ``delivered`` Telegram carries the call out and only the answer is lost (the
        case that makes naive retries send twice).
        """
        fault = _Fault(timeout=True, delivered=delivered)
        self._faults.setdefault(method.lower(), deque()).append(fault)

    # -- state the tests can set up ----------------------------------------------------------

    def remember_user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """Record a user's profile; private chats with them then carry their name."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user

    def remember_message(self, message: JSONDict) -> None:
        """Record an incoming Message (dict) so edits, deletes and replies can refer to it."""
        key = (_chat_key(message["chat"]["id"]), int(message["message_id"]))
        self._messages[key] = _clone(message)
        self._next_ids[key[0]] = max(self._next_ids.get(key[0], 1), key[1] + 1)

    def set_member_status(self, chat_id: int | str, user_id: int, status: str) -> None:
        """What ``getChatMember(chat_id, user_id)`` answers (default ``"member"``)."""
        chat_member_json(status, {})  # validate the status early
        self._members[(_chat_key(chat_id), user_id)] = status

    def add_file(self, file_id: str, content: bytes) -> None:
        """Make ``getFile(file_id)`` and its download serve ``content``."""
        self._files[file_id] = content

    def next_message_id(self, chat_id: int | str) -> int:
        """Allocate the next message id in a chat (ids are shared by both sides)."""
        key = _chat_key(chat_id)
        message_id = self._next_ids.get(key, 1)
        self._next_ids[key] = message_id + 1
        return message_id

    # -- assertions --------------------------------------------------------------------------

    def sent(
        self, chat_id: int | str | None = None, *, include_failed: bool = False
    ) -> list[Call]:
        """Message calls (``send*`` but sendChatAction, ``edit*``, copy, forward), in order.

        Only those Telegram carried out unless ``include_failed``; all chats if ``chat_id``
        is None.
        """
        key = None if chat_id is None else _chat_key(chat_id)
        return [
            call
            for call in self.calls
            if _is_message_method(call.method)
            and (include_failed or call.delivered)
            and (key is None or call.chat_id == key)
        ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """The ``text`` of every delivered sendMessage and editMessageText, in order."""
        return [
            str(call.params.get("text", ""))
            for call in self.sent(chat_id)
            if call.method in ("sendMessage", "editMessageText")
        ]

    def last(self, chat_id: int | str | None = None) -> Call:
        """The last delivered message call (see :meth:`sent`); AssertionError if none."""
        sent = self.sent(chat_id)
        if not sent:
            raise AssertionError(
                f"nothing was sent to chat {chat_id}; calls: {[c.method for c in self.calls]}"
            )
        return sent[-1]

    @staticmethod
    def buttons(call: Call | Mapping[str, Any]) -> list[tuple[str, str | None]]:
        """``(text, callback_data)`` of each inline button, row by row (url buttons: None).

        Accepts a :class:`Call`, a Message dict or a ``reply_markup`` dict.
        """
        source: Any = call.params if isinstance(call, Call) else call
        markup = source.get("reply_markup", source) if isinstance(source, Mapping) else None
        if not isinstance(markup, Mapping):
            return []
        rows = markup.get("inline_keyboard") or []
        return [(str(b.get("text")), b.get("callback_data")) for row in rows for b in row]

    def messages(self, chat_id: int | str) -> list[JSONDict]:
        """The chat as the user would see it now: live messages (dicts), oldest first."""
        key = _chat_key(chat_id)
        found = [m for (chat, _), m in self._messages.items() if chat == key]
        return [_clone(m) for m in sorted(found, key=lambda m: int(m["message_id"]))]

    def message(self, chat_id: int | str, message_id: int) -> JSONDict | None:
        """One live message as currently shown (after edits), or None."""
        found = self._messages.get((_chat_key(chat_id), message_id))
        return _clone(found) if found is not None else None

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The bot commands set for a scope (dict, default scope) and language."""
        return _clone(self._commands.get(_commands_key(scope, language_code), []))

    def assert_clean(self) -> None:
        """Fail the test with the list of violations, if any."""
        if self.violations:
            raise AssertionError("Telegram would reject:\n  " + "\n  ".join(self.violations))

    def clear(self) -> None:
        """Forget the records (calls, violations, not_modified, unknown_methods).

        Chat state (message ids, texts, blocks, queued faults, commands) is kept.
        """
        self.calls.clear()
        self.violations.clear()
        self.not_modified.clear()
        self.unknown_methods.clear()

    # -- request decoding --------------------------------------------------------------------

    def _decode(
        self, method: str, request_data: RequestData | None
    ) -> tuple[JSONDict, dict[str, UploadedFile]]:
        """Parameters as Telegram sees them (JSON values decoded) and uploaded files."""
        if request_data is None:
            return {}, {}
        spec_method = self.spec.method(method)
        params: JSONDict = {}
        for name, value in request_data.parameters.items():
            types = spec_method.fields.get(name, ()) if spec_method else ()
            if isinstance(value, str):
                # Over HTTP, JSON-typed parameters arrive as JSON strings: decode them.
                if types and "String" not in types:
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                params[name] = value
            else:
                params[name] = json.loads(json.dumps(value))  # tuples -> lists, plain types
        files: dict[str, UploadedFile] = {}
        if request_data.contains_files:
            for part, (filename, content, mime_type) in request_data.multipart_data.items():
                raw = content if isinstance(content, bytes) else content.read()
                data = raw if isinstance(raw, bytes) else str(raw).encode()
                files[part] = UploadedFile(part, str(filename), data, mime_type)
        return params, files

    def _download(self, url: str) -> tuple[int, bytes]:
        """Serve ``https://api.telegram.org/file/bot<token>/<file_path>``."""
        file_path = url.split("/file/bot", 1)[1].split("/", 1)[-1]
        file_id = file_path.removeprefix("files/")
        self.calls.append(Call("downloadFile", {"file_path": file_path}, delivered=True))
        content = self._files.get(file_id)
        if content is None:
            return 404, _ApiError(404, "Not Found").payload()
        return 200, content

    # -- answering ---------------------------------------------------------------------------

    def _violation(self, call: Call, description: str, detail: str = "") -> NoReturn:
        """Record a bot bug and answer 400 with Telegram's ``description``."""
        chat = call.params.get("chat_id")
        where = call.method if chat is None else f"{call.method}(chat_id={chat})"
        self.violations.append(f"{where}: {description}{f' [{detail}]' if detail else ''}")
        raise _ApiError(HTTPStatus.BAD_REQUEST, description)

    def _answer(self, call: Call) -> Any:
        """Validate ``call`` like Telegram, apply it and return the ``result``."""
        spec_method = self.spec.method(call.method)
        if spec_method is None:
            self.unknown_methods.append(call.method)
            self.violations.append(f"{call.method}: not a method of Bot API {self.spec.version}")
            raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found")

        faults = self._faults.get(call.method.lower())
        fault = faults.popleft() if faults else None
        if fault is not None and not fault.timeout:
            raise _ApiError(fault.status, fault.description, fault.parameters)
        if fault is not None:  # a timeout
            call.status, call.error = 0, "Timed out"
            if fault.delivered:
                call.result = self._apply(call, spec_method)
                call.delivered = True
            raise TimedOut()
        return self._apply(call, spec_method)

    def _apply(self, call: Call, spec_method: ApiMethod) -> Any:
        self._check_parameters(call, spec_method)
        self._check_content(call)
        self._check_reachable(call)
        handler = _HANDLERS.get(spec_method.name)
        if handler is not None:
            return handler(self, call)
        if spec_method.returns != ("Boolean",):
            self.unknown_methods.append(call.method)
        return True

    def _check_parameters(self, call: Call, spec_method: ApiMethod) -> None:
        present = set(call.params) | {part for part in call.files if part in spec_method.fields}
        for name in sorted(present - set(spec_method.fields) - _PTB_DEFAULT_PARAMS):
            # Telegram silently ignores unknown parameters: that is the bug, not an error.
            self.violations.append(
                f"{call.method}: unknown parameter {name!r} (ignored by Telegram)"
            )
        missing = sorted(spec_method.required - present)
        if missing:
            name = missing[0]
            description = (
                "Bad Request: message text is empty"
                if name == "text" and call.method.lower() in ("sendmessage", "editmessagetext")
                else f"Bad Request: {name} is empty"
            )
            self._violation(call, description, f"missing required parameter {name!r}")

    def _check_content(self, call: Call) -> None:
        method = call.method.lower()
        params = call.params
        parse_mode = params.get("parse_mode")
        if method in ("sendmessage", "editmessagetext") and "text" in params:
            text, _ = self._parse_text(call, str(params["text"]), parse_mode, "text")
            if not text.strip():
                self._violation(call, "Bad Request: message text is empty")
            if len(text) > MAX_TEXT_LENGTH:
                self._violation(
                    call, "Bad Request: message is too long", f"{len(text)} characters"
                )
        captions = [(params["caption"], parse_mode)] if "caption" in params else []
        if method == "sendmediagroup" and isinstance(params.get("media"), list):
            captions += [
                (item["caption"], item.get("parse_mode"))
                for item in params["media"]
                if isinstance(item, dict) and "caption" in item
            ]
        for raw_caption, caption_mode in captions:
            caption, _ = self._parse_text(call, str(raw_caption), caption_mode, "caption")
            if len(caption) > MAX_CAPTION_LENGTH:
                self._violation(
                    call, "Bad Request: message caption is too long", f"{len(caption)} characters"
                )
        if method == "answercallbackquery":
            answer = str(params.get("text", ""))
            if len(answer) > MAX_CALLBACK_ANSWER_LENGTH:
                self._violation(call, "Bad Request: MESSAGE_TOO_LONG", f"{len(answer)} characters")
        if method == "setmycommands":
            self._check_commands(call)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            self._check_inline_keyboard(call, markup)

    def _parse_text(
        self, call: Call, text: str, parse_mode: object, what: str
    ) -> tuple[str, list[JSONDict]]:
        """Visible text and entities of ``text``/``caption``; 400 if Telegram can't parse it."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self._violation(call, "Bad Request: strings must be encoded in UTF-8", what)
        if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
            try:
                return parse_html(text, strict=self.strict_html)
            except HtmlParseError as error:
                self._violation(
                    call, f"Bad Request: can't parse entities: {error}", f"{what}: {text[:200]!r}"
                )
        entities = call.params.get("entities" if what == "text" else "caption_entities")
        return text, list(entities) if isinstance(entities, list) else []

    def _check_inline_keyboard(self, call: Call, markup: Mapping[str, Any]) -> None:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            self._violation(call, "Bad Request: can't parse inline keyboard button: "
                            "InlineKeyboardMarkup must be an Array of Arrays")  # fmt: skip
        buttons = [button for row in rows for button in row]
        if len(buttons) > MAX_INLINE_BUTTONS:
            self._violation(call, "Bad Request: REPLY_MARKUP_TOO_LONG", f"{len(buttons)} buttons")
        for button in buttons:
            label = str(button.get("text", ""))
            if not label.strip():
                self._violation(call, "Bad Request: BUTTON_TEXT_INVALID", f"button {button}")
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    self._violation(
                        call, "Bad Request: BUTTON_DATA_INVALID", f"{size} bytes: {data!r}"
                    )
            actions = set(button) - {"text", "icon_custom_emoji_id", "style"}
            if not actions:
                self._violation(
                    call,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                    f"button {label!r}",
                )

    def _check_commands(self, call: Call) -> None:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            self._violation(call, "Bad Request: can't parse commands JSON object")
        if len(commands) > MAX_BOT_COMMANDS:
            self._violation(call, "Bad Request: too many commands", f"{len(commands)}")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                self._violation(call, "Bad Request: BOT_COMMAND_INVALID", repr(name))
            description = str(command.get("description", ""))
            if not 1 <= len(description.strip()) <= 256:
                self._violation(call, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID", f"/{name}")

    def _check_reachable(self, call: Call) -> None:
        method = call.method.lower()
        if not method.startswith(_CHAT_WRITE_PREFIXES) or call.chat_id is None:
            return
        if call.chat_id in self._blocked:
            raise _ApiError(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
        if call.chat_id in self._unreachable:
            raise _ApiError(
                HTTPStatus.FORBIDDEN, "Forbidden: bot can't initiate conversation with a user"
            )

    # -- helpers for the handlers ------------------------------------------------------------

    def _chat_json(self, key: ChatKey) -> JSONDict:
        if isinstance(key, str):
            username = key.lstrip("@")
            chat_id = -1_001_000_000_000 - zlib.crc32(username.encode()) % 1_000_000_000
            return {"id": chat_id, "type": "channel", "title": username, "username": username}
        if key > 0:
            user = self._users.get(key, {"first_name": "Test"})
            chat: JSONDict = {"id": key, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            return chat
        return {"id": key, "type": "supergroup", "title": "Test group"}

    def _new_message(self, call: Call, content: JSONDict) -> JSONDict:
        """Store and return a new bot message in the call's chat."""
        key = _chat_key(call.params["chat_id"])
        message: JSONDict = {
            "message_id": self.next_message_id(key),
            "from": _bot_sender_json(),
            "chat": self._chat_json(key),
            "date": _now(),
            **content,
        }
        markup = call.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards are echoed back
        reply = call.params.get("reply_parameters")
        if isinstance(reply, dict):
            original = self._messages.get((key, int(reply.get("message_id", 0))))
            if original is not None:
                message["reply_to_message"] = {
                    k: v for k, v in original.items() if k != "reply_to_message"
                }
        self._messages[(key, message["message_id"])] = message
        return _clone(message)

    def _formatted(self, call: Call, what: str) -> JSONDict:
        """``{what: visible text, what_entities: [...]}`` for text or caption."""
        raw = call.params.get(what)
        if raw is None:
            return {}
        text, entities = self._parse_text(call, str(raw), call.params.get("parse_mode"), what)
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
            self._files[file_id] = upload.content
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
            self._violation(call, "Bad Request: message identifier is not specified")
        key = _chat_key(call.params["chat_id"])
        message_id = int(call.params["message_id"])
        if (key, message_id) in self._deleted:
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message to edit not found")
        stored = self._messages.get((key, message_id))
        if stored is None:
            # A message from before the test (or a hand-built callback): take it as a bot
            # message whose content we do not know, so any edit modifies it.
            stored = {
                "message_id": message_id,
                "from": _bot_sender_json(),
                "chat": self._chat_json(key),
                "date": _now(),
            }
            self._messages[(key, message_id)] = stored
            self._unknown_content.add((key, message_id))
        elif stored.get("from", {}).get("id") != BOT_ID:
            self._violation(call, "Bad Request: message can't be edited", "not sent by the bot")
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
            self.not_modified.append(f"{call.method}(chat_id={call.params.get('chat_id')}, "
                                     f"message_id={call.params.get('message_id')})")  # fmt: skip
            raise _ApiError(HTTPStatus.BAD_REQUEST, _NOT_MODIFIED)
        for k in (*keys, "reply_markup"):
            if k in new:
                stored[k] = new[k]
            else:
                stored.pop(k, None)
        stored["edit_date"] = _now()
        return _clone(stored)

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
        source_key = _chat_key(call.params["from_chat_id"])
        source = self._messages.get((source_key, int(call.params["message_id"])), {})
        content = {k: v for k, v in source.items() if k in ("text", "entities", "caption")}
        message = self._new_message(call, content)
        return {"message_id": message["message_id"]}

    def _forward_message(self, call: Call) -> JSONDict:
        source_key = _chat_key(call.params["from_chat_id"])
        source = self._messages.get((source_key, int(call.params["message_id"])), {})
        skip = ("message_id", "from", "chat", "date", "reply_markup", "edit_date")
        content = {k: v for k, v in source.items() if k not in skip}
        return self._new_message(call, content)

    def _edit_text(self, call: Call) -> JSONDict | bool:
        target = self._stored_target(call)
        if target is None:
            return True
        key, message_id, stored = target
        if "text" not in stored and (key, message_id) not in self._unknown_content:
            self._violation(call, "Bad Request: there is no text in the message to edit")
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
        key = (_chat_key(call.params["chat_id"]), int(call.params["message_id"]))
        if key in self._deleted:
            raise _ApiError(HTTPStatus.BAD_REQUEST, "Bad Request: message to delete not found")
        self._messages.pop(key, None)
        self._deleted.add(key)
        return True

    def _delete_messages(self, call: Call) -> bool:
        chat = _chat_key(call.params["chat_id"])
        for message_id in call.params.get("message_ids", []):
            self._messages.pop((chat, int(message_id)), None)
            self._deleted.add((chat, int(message_id)))
        return True

    def _set_my_commands(self, call: Call) -> bool:
        key = _commands_key(call.params.get("scope"), call.params.get("language_code", ""))
        self._commands[key] = list(call.params.get("commands", []))
        return True

    def _delete_my_commands(self, call: Call) -> bool:
        key = _commands_key(call.params.get("scope"), call.params.get("language_code", ""))
        self._commands.pop(key, None)
        return True

    def _get_my_commands(self, call: Call) -> list[JSONDict]:
        key = _commands_key(call.params.get("scope"), call.params.get("language_code", ""))
        return _clone(self._commands.get(key, []))

    def _set_chat_menu_button(self, call: Call) -> bool:
        chat = call.params.get("chat_id")
        button = call.params.get("menu_button") or {"type": "default"}
        self._menu_buttons[None if chat is None else _chat_key(chat)] = button
        return True

    def _get_chat_menu_button(self, call: Call) -> JSONDict:
        chat = call.params.get("chat_id")
        key = None if chat is None else _chat_key(chat)
        return _clone(
            self._menu_buttons.get(key) or self._menu_buttons.get(None) or {"type": "commands"}
        )

    def _get_chat(self, call: Call) -> JSONDict:
        chat = self._chat_json(_chat_key(call.params["chat_id"]))
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
        chat = _chat_key(call.params["chat_id"])
        user_id = int(call.params["user_id"])
        if user_id == BOT_ID:
            user = _bot_sender_json()
        else:
            user = self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "Test"})
        return chat_member_json(self._members.get((chat, user_id), "member"), user)

    def _get_file(self, call: Call) -> JSONDict:
        file_id = str(call.params["file_id"])
        content = self._files.get(file_id, b"")
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


def _commands_key(scope: object, language_code: object) -> tuple[str, str]:
    scope = scope if isinstance(scope, dict) else {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(language_code or "")


def _is_message_method(method: str) -> bool:
    lowered = method.lower()
    return lowered.startswith(_MESSAGE_METHOD_PREFIXES) and lowered not in _NOT_MESSAGES


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _always_true(fake: FakeTelegram, call: Call) -> bool:
    return True


_HANDLERS: Final[Mapping[str, _Handler]] = {
    "getMe": FakeTelegram._get_me,
    "sendMessage": FakeTelegram._send_message,
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
        FakeTelegram._send_media,
    ),
    "sendMediaGroup": FakeTelegram._send_media_group,
    "copyMessage": FakeTelegram._copy_message,
    "forwardMessage": FakeTelegram._forward_message,
    "editMessageText": FakeTelegram._edit_text,
    "editMessageCaption": FakeTelegram._edit_caption,
    "editMessageReplyMarkup": FakeTelegram._edit_reply_markup,
    "deleteMessage": FakeTelegram._delete_message,
    "deleteMessages": FakeTelegram._delete_messages,
    "answerCallbackQuery": _always_true,
    "setMyCommands": FakeTelegram._set_my_commands,
    "deleteMyCommands": FakeTelegram._delete_my_commands,
    "getMyCommands": FakeTelegram._get_my_commands,
    "setChatMenuButton": FakeTelegram._set_chat_menu_button,
    "getChatMenuButton": FakeTelegram._get_chat_menu_button,
    "getChat": FakeTelegram._get_chat,
    "getChatMember": FakeTelegram._get_chat_member,
    "getFile": FakeTelegram._get_file,
    "getUpdates": FakeTelegram._get_updates,
    "getWebhookInfo": FakeTelegram._get_webhook_info,
    "deleteWebhook": _always_true,
    "close": _always_true,
    "logOut": _always_true,
}
"""Method (as spelled in api.json) -> handler. Boolean methods not listed answer True."""


# --------------------------------------------------------------------------------------------
# Incoming updates
# --------------------------------------------------------------------------------------------


class UpdateFactory:
    """Builds real :class:`telegram.Update` objects, as Telegram would deliver them.

    Every update gets a fresh ``update_id`` and the current date. Private chats are the
    default (``chat_id`` = ``user_id``); pass a negative ``chat_id`` for a group (typed
    ``supergroup``).

    If ``bot`` talks through a :class:`FakeTelegram` (or ``fake`` is given), message ids are
    drawn from the fake's per-chat sequence, incoming messages are registered with it, and
    callbacks can point at messages the bot really sent (:meth:`press`).
    """

    def __init__(
        self, bot: Bot, fake: FakeTelegram | None = None, *, first_update_id: int = 1
    ) -> None:
        """Bind the factory to the ``bot`` that ``de_json`` attaches to the objects."""
        self.bot = bot
        request = bot.request
        self.fake = fake if fake is not None else (
            request if isinstance(request, FakeTelegram) else None
        )  # fmt: skip
        self._update_ids = itertools.count(first_update_id)
        self._query_ids = itertools.count(1)
        self._own_ids: dict[ChatKey, int] = {}
        self._last_incoming: dict[ChatKey, int] = {}

    # -- plumbing ----------------------------------------------------------------------------

    def _update(self, payload: JSONDict) -> Update:
        return Update.de_json({"update_id": next(self._update_ids), **payload}, self.bot)

    def _message_id(self, chat: ChatKey) -> int:
        if self.fake is not None:
            return self.fake.next_message_id(chat)
        message_id = self._own_ids.get(chat, 1)
        self._own_ids[chat] = message_id + 1
        return message_id

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

    def _incoming(
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
            "message_id": message_id if message_id is not None else self._message_id(chat),
            "from": user,
            "chat": self.chat_json(chat, first_name=first_name),
            "date": _now(),
            **content,
        }
        if self.fake is not None:
            self.fake.remember_user(
                user_id, first_name, username=username, language_code=language_code
            )
            self.fake.remember_message(message)
        self._last_incoming[chat] = message["message_id"]
        return message

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
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            command = re.split(r"\s", text, maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        message = self._incoming(
            user_id,
            content,
            chat_id=chat_id,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        return self._update({"message": message})

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
            message_id = self._last_incoming.get(chat)
        message = self._incoming(
            user_id,
            {"text": text, "edit_date": _now()},
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
        message = self._incoming(
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
        message = self._incoming(
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
        message = self._incoming(
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
        message = self._incoming(
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
        message = self._incoming(
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
        message = self._incoming(
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
        chat = user_id if chat_id is None else chat_id
        message = self._bot_message(chat, message_id)
        if message is None:
            message = {
                "message_id": message_id if message_id is not None else self._message_id(chat),
                "from": _bot_sender_json(),
                "chat": self.chat_json(chat),
                "date": _now(),
                "text": message_text,
            }
        query = {
            "id": f"{user_id}-{next(self._query_ids)}",
            "from": self.user_json(user_id, first_name=first_name, language_code=language_code),
            "chat_instance": str(zlib.crc32(f"{chat}".encode())),
            "data": data,
            "message": message,
        }
        return self._update({"callback_query": query})

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
            for text, data in FakeTelegram.buttons(call)
            if button in (text, data) and data is not None
        ]
        if len(matches) != 1:
            raise AssertionError(
                f"{len(matches)} callback buttons match {button!r} in {FakeTelegram.buttons(call)}"
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

    def _bot_message(self, chat: int, message_id: int | None) -> JSONDict | None:
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
        bot_user = _bot_sender_json()
        change = {
            "chat": self.chat_json(chat, first_name=first_name),
            "from": self.user_json(user_id, first_name=first_name, language_code=language_code),
            "date": _now(),
            "old_chat_member": chat_member_json(old_status, bot_user),
            "new_chat_member": chat_member_json(new_status, bot_user),
        }
        return self._update({"my_chat_member": change})
