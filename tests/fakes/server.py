"""The fake Telegram Bot API itself, whatever carries the requests to it.

:class:`FakeBotApi` answers one request (a method, its :class:`~telegram.request.RequestData`)
with the status and JSON body ``api.telegram.org`` would send: it records the call, checks it
(:mod:`tests.fakes.spec`, :mod:`tests.fakes.checks`), applies injected faults, and carries it
out over the chats (:mod:`tests.fakes.state`). It also offers the tests' side: fault injection,
state set-up and assertions. The in-process transport (:mod:`tests.fakes.telegram`) and the
HTTP one (:mod:`tests.fakes.http_telegram`) are thin layers over it, so both behave alike.
"""

from __future__ import annotations

import contextlib
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from telegram.error import TimedOut
from telegram.request import RequestData

from tests.fakes.checks import Checks
from tests.fakes.objects import JSONDict, chat_key, chat_member_json, clone
from tests.fakes.records import ApiError, Call, Journal, UploadedFile, is_message_method
from tests.fakes.spec import ApiMethod, ApiSpec
from tests.fakes.state import HANDLERS, ChatState, commands_key

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


@dataclass
class _Fault:
    status: int = 0
    description: str = ""
    parameters: JSONDict | None = None
    timeout: bool = False
    delivered: bool = False


class FakeBotApi:
    """The Telegram Bot API in memory: every call is in :attr:`calls`; what Telegram would
    have rejected as a bug is in :attr:`violations`.

    Args:
        spec: the Bot API to check calls against; default :meth:`ApiSpec.load`.
        strict_html: also reject stray ``&``/``>`` in HTML (documented rule, see
            :func:`~tests.fakes.html.parse_html`); ``False`` accepts exactly what the real
            server accepts.
    """

    def __init__(self, *, spec: ApiSpec | None = None, strict_html: bool = True) -> None:
        """Create an empty fake: no calls, no chats, no faults."""
        self.spec: ApiSpec = spec if spec is not None else ApiSpec.load()
        self.journal = Journal()
        self.checks = Checks(self.journal, strict_html=strict_html)
        self.state = ChatState(self.checks, self.journal)
        self._faults: dict[str, deque[_Fault]] = {}

    # -- records -----------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request, in order, including failed ones."""
        return self.journal.calls

    @property
    def violations(self) -> list[str]:
        """Requests Telegram would reject (or silently mangle) because of a bot bug."""
        return self.journal.violations

    @property
    def not_modified(self) -> list[str]:
        """Edits answered with "message is not modified" (normal, but worth a look)."""
        return self.journal.not_modified

    @property
    def unknown_methods(self) -> list[str]:
        """Valid Bot API methods the fake cannot answer faithfully (answered ``True``)."""
        return self.journal.unknown_methods

    @property
    def strict_html(self) -> bool:
        """Whether stray ``&``/``>`` in HTML are refused too."""
        return self.checks.strict_html

    @strict_html.setter
    def strict_html(self, value: bool) -> None:
        self.checks.strict_html = value

    def record_violation(self, call: Call, description: str, detail: str = "") -> None:
        """Record a bot bug found in ``call`` by a transport (e.g. a body that is not JSON)."""
        self.checks.record(call, description, detail)

    # -- fault injection ---------------------------------------------------------------------

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: sends to ``chat_id`` answer 403 until :meth:`unblock`."""
        self.state.blocked.add(chat_key(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        """Undo :meth:`block` and :meth:`unreachable`."""
        self.state.blocked.discard(chat_key(chat_id))
        self.state.unreachable.discard(chat_key(chat_id))

    def unreachable(self, chat_id: int | str) -> None:
        """The user never started the bot: sends answer 403 "can't initiate conversation"."""
        self.state.unreachable.add(chat_key(chat_id))

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
        self.state.users[user_id] = user

    def remember_message(self, message: JSONDict) -> None:
        """Record an incoming Message (dict) so edits, deletes and replies can refer to it."""
        key = (chat_key(message["chat"]["id"]), int(message["message_id"]))
        self.state.messages[key] = clone(message)
        self.state.next_ids[key[0]] = max(self.state.next_ids.get(key[0], 1), key[1] + 1)

    def set_member_status(self, chat_id: int | str, user_id: int, status: str) -> None:
        """What ``getChatMember(chat_id, user_id)`` answers (default ``"member"``)."""
        chat_member_json(status, {})  # validate the status early
        self.state.members[(chat_key(chat_id), user_id)] = status

    def add_file(self, file_id: str, content: bytes) -> None:
        """Make ``getFile(file_id)`` and its download serve ``content``."""
        self.state.files[file_id] = content

    def next_message_id(self, chat_id: int | str) -> int:
        """Allocate the next message id in a chat (ids are shared by both sides)."""
        return self.state.next_message_id(chat_key(chat_id))

    # -- assertions --------------------------------------------------------------------------

    def sent(
        self, chat_id: int | str | None = None, *, include_failed: bool = False
    ) -> list[Call]:
        """Message calls (``send*`` but sendChatAction, ``edit*``, copy, forward), in order.

        Only those Telegram carried out unless ``include_failed``; all chats if ``chat_id``
        is None.
        """
        key = None if chat_id is None else chat_key(chat_id)
        return [
            call
            for call in self.calls
            if is_message_method(call.method)
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
        key = chat_key(chat_id)
        found = [m for (chat, _), m in self.state.messages.items() if chat == key]
        return [clone(m) for m in sorted(found, key=lambda m: int(m["message_id"]))]

    def message(self, chat_id: int | str, message_id: int) -> JSONDict | None:
        """One live message as currently shown (after edits), or None."""
        found = self.state.messages.get((chat_key(chat_id), message_id))
        return clone(found) if found is not None else None

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The bot commands set for a scope (dict, default scope) and language."""
        return clone(self.state.commands.get(commands_key(scope, language_code), []))

    def assert_clean(self) -> None:
        """Fail the test with the list of violations, if any."""
        if self.violations:
            raise AssertionError("Telegram would reject:\n  " + "\n  ".join(self.violations))

    def clear(self) -> None:
        """Forget the records (calls, violations, not_modified, unknown_methods).

        Chat state (message ids, texts, blocks, queued faults, commands) is kept.
        """
        self.journal.calls.clear()
        self.journal.violations.clear()
        self.journal.not_modified.clear()
        self.journal.unknown_methods.clear()

    # -- answering ---------------------------------------------------------------------------

    def handle(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """Answer one request to ``url``: ``(status, JSON body)`` like ``api.telegram.org``.

        Raises:
            TimedOut: for a call made to time out (:meth:`timeout_next`); the call is
                recorded first, so a transport can find it as the last of :attr:`calls`.
        """
        if "/file/bot" in url:
            return self._download(url)
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params, files = self.decode(api_method, request_data)
        call = Call(api_method, params, files)
        self.journal.calls.append(call)
        try:
            result = self._answer(call)
        except ApiError as error:
            call.status, call.error = error.status, error.description
            return error.status, error.payload()
        call.result, call.delivered = result, True
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def decode(
        self, method: str, request_data: RequestData | None
    ) -> tuple[JSONDict, dict[str, UploadedFile]]:
        """Parameters as Telegram sees them (JSON values decoded) and uploaded files."""
        if request_data is None:
            return {}, {}
        spec_method = self.spec.method(method)
        params: JSONDict = {}
        for name, value in request_data.parameters.items():
            types = spec_method.types(name) if spec_method else ()
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
        self.journal.calls.append(Call("downloadFile", {"file_path": file_path}, delivered=True))
        content = self.state.files.get(file_id)
        if content is None:
            return 404, ApiError(404, "Not Found").payload()
        return 200, content

    def _answer(self, call: Call) -> Any:
        """Validate ``call`` like Telegram, apply it and return the ``result``."""
        spec_method = self.spec.method(call.method)
        if spec_method is None:
            self.journal.unknown_methods.append(call.method)
            self.journal.violations.append(
                f"{call.method}: not a method of Bot API {self.spec.version}"
            )
            raise ApiError(HTTPStatus.NOT_FOUND, "Not Found")

        faults = self._faults.get(call.method.lower())
        fault = faults.popleft() if faults else None
        if fault is not None and not fault.timeout:
            raise ApiError(fault.status, fault.description, fault.parameters)
        if fault is not None:  # a timeout
            call.status, call.error = 0, "Timed out"
            if fault.delivered:
                call.result = self._apply(call, spec_method)
                call.delivered = True
            raise TimedOut()
        return self._apply(call, spec_method)

    def _apply(self, call: Call, spec_method: ApiMethod) -> Any:
        self.checks.parameters(call, spec_method)
        self.checks.content(call)
        self.state.check_reachable(call)
        handler = HANDLERS.get(spec_method.name)
        if handler is not None:
            return handler(self.state, call)
        if spec_method.returns != ("Boolean",):
            self.journal.unknown_methods.append(call.method)
        return True


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"
