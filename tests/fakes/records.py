"""What the fake Bot API records of each request, and the error answers it gives.

Both transports hand the server a :class:`Call` and read the same records afterwards, so a
test asserts on a call made over HTTP exactly as on one made in process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from tests.fakes.objects import ChatKey, JSONDict, chat_key

# Methods that produce or change something the user sees (see FakeBotApi.sent).
_MESSAGE_METHOD_PREFIXES: Final = ("send", "edit", "copy", "forward")
_NOT_MESSAGES: Final = frozenset({"sendchataction"})


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
        return None if value is None else chat_key(value)

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
class Journal:
    """The records of one fake, shared by the parts that add to them."""

    calls: list[Call] = field(default_factory=list)
    """Every request, in order, including failed ones."""
    violations: list[str] = field(default_factory=list)
    """Requests Telegram would reject (or silently mangle) because of a bot bug."""
    not_modified: list[str] = field(default_factory=list)
    """Edits answered with "message is not modified" (normal, but worth a look)."""
    unknown_methods: list[str] = field(default_factory=list)
    """Valid Bot API methods the fake cannot answer faithfully (answered ``True``)."""


class ApiError(Exception):
    """An error answer: raised inside the fake, turned into an HTTP answer by the transport."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        """An answer of ``status`` with Telegram's ``description`` (and ``parameters``)."""
        super().__init__(description)
        self.status = int(status)
        self.description = description
        self.parameters = parameters

    def payload(self) -> bytes:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return json.dumps(body).encode()


def is_message_method(method: str) -> bool:
    """Whether ``method`` shows or changes a message (``send*`` but sendChatAction, ``edit*``,
    copy, forward): what :meth:`FakeBotApi.sent` lists and the flood limits count."""
    lowered = method.lower()
    return lowered.startswith(_MESSAGE_METHOD_PREFIXES) and lowered not in _NOT_MESSAGES
