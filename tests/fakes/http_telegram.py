"""The fake Telegram Bot API of :mod:`tests.fakes.telegram`, served over HTTP.

Tests that start the bot as a separate process (crash and restart tests, the
broadcast benchmark) point it at this server with ``TELEGRAM_API_BASE_URL``::

    async with HttpTelegram("123456:TEST") as server:
        env = {..., "BOT_TOKEN": "123456:TEST", "TELEGRAM_API_BASE_URL": server.base_url}
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env)
        await server.push(server.text(42, "/start"))
        await server.wait_for(lambda fake: fake.texts(42))
        ...
    assert server.fake.violations == []

Every API call is handed to an inner :class:`~tests.fakes.telegram.FakeTelegram`
(:attr:`HttpTelegram.fake`), so validation against ``api.json``, the recorded
:attr:`~tests.fakes.telegram.FakeTelegram.calls` and ``violations``, the assertion helpers
(``texts``, ``sent``, ``buttons``, ``messages``) and fault injection (``block``,
``fail_next``, ``timeout_next``...) are exactly those of the in-process fake. What this module
adds is the transport (the updates it queues are built by the same
:class:`~tests.fakes.updates.IncomingJson` as ``UpdateFactory``'s):

* **Parameters.** python-telegram-bot's ``HTTPXRequest`` posts
  :attr:`telegram.request.RequestData.json_parameters` as form fields
  (``application/x-www-form-urlencoded``, or ``multipart/form-data`` when it uploads files):
  strings as they are, every other value ``json.dumps``-ed, so ``42`` arrives as ``"42"``,
  ``True`` as ``"true"`` and ``reply_markup`` as a JSON string. The server turns each field
  back into the value PTB had before encoding, guided by the parameter's types in ``api.json``
  (as Telegram does: a JSON-typed parameter is parsed, an ``Integer or String`` ``chat_id`` that
  looks like a number is a number; see :mod:`tests.fakes.form`), rebuilds a
  :class:`~telegram.request.RequestData` with the uploaded files and calls
  :meth:`FakeTelegram.do_request`; so a :class:`~tests.fakes.telegram.Call` recorded over HTTP
  has the same ``params`` and ``files`` as in process. JSON bodies and query strings are
  accepted too. A JSON-typed parameter that is not valid JSON is answered 400 and recorded as
  a violation.
* **Long polling.** ``getUpdates`` honours ``offset``, ``limit``, ``timeout`` (capped by
  ``max_poll_seconds``) and ``allowed_updates``. Tests queue updates with :meth:`push`; an
  update is redelivered until a later ``offset`` confirms it, as on Telegram (what crash tests
  rely on). A second ``getUpdates`` while one is waiting answers the older one 409 Conflict
  (counted in :attr:`HttpTelegram.conflicts`); a long poll whose client went away (a bot
  stopping or killed mid-poll) is recorded with status 0 and delivers nothing.
* **Timeouts.** A call made to time out with ``fake.timeout_next(...)`` is held open until the
  client gives up (or ``timeout_hold`` passes), so the bot sees a real read timeout.
* **Flood limits** (``rate_limits=True``, off by default): 429 with ``retry_after`` beyond
  30 messages/s overall, about 1 message/s per private chat (bursts of 3) or 20 messages/min
  per group (:mod:`tests.fakes.flood`); counted in :attr:`HttpTelegram.too_many`.
* **Authentication.** Any other token than the expected one is answered 401 Unauthorized.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Mapping
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self, TypeVar

from aiohttp import web
from telegram import Update
from telegram.error import TimedOut
from telegram.request import RequestData

from tests.fakes.flood import Limiter, RateLimits
from tests.fakes.form import Malformed, form_chat_key, read_request
from tests.fakes.objects import JSONDict, clone
from tests.fakes.records import Call, is_message_method
from tests.fakes.telegram import FakeTelegram
from tests.fakes.updates import IncomingJson

__all__ = ["DEFAULT_TOKEN", "HttpTelegram", "RateLimits"]

_T = TypeVar("_T")

DEFAULT_TOKEN: Final = "123456:TEST"
"""The token :class:`HttpTelegram` expects unless told otherwise."""

MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
"""The Bot API's upload limit for bots."""

_DEFAULT_EXCLUDED_UPDATES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_MESSAGE_UPDATES: Final = (
    "message", "edited_message", "channel_post", "edited_channel_post",
    "business_message", "edited_business_message",
)  # fmt: skip
_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_GONE: Final = "Client closed the request"
_HOLD_POLL_SECONDS: Final = 0.05


def _as_int(value: object, default: int) -> int:
    try:
        return int(str(value)) if value is not None else default
    except ValueError:
        return default


def _as_float(value: object, default: float) -> float:
    try:
        return float(str(value)) if value is not None else default
    except ValueError:
        return default


def _update_type(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _gone(request: web.BaseRequest) -> bool:
    """Whether the client has closed the connection of ``request``."""
    transport = request.transport
    return transport is None or transport.is_closing()


def _error(status: int, description: str, parameters: JSONDict | None = None) -> web.Response:
    """An error answer in the Bot API's shape."""
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class HttpTelegram:
    """The Bot API on ``http://127.0.0.1:<port>``, backed by a :class:`FakeTelegram`.

    Use as an async context manager (or :meth:`start` / :meth:`close`). Point the bot at
    :attr:`base_url`; queue incoming updates with :meth:`push` (built with :meth:`text`,
    :meth:`callback`, or an :class:`~tests.fakes.telegram.UpdateFactory` ``Update``); assert
    on :attr:`fake` as with the in-process fake, waiting with :meth:`wait_for`.

    Args:
        token: the bot token the server accepts; other tokens get 401.
        fake: the inner fake (default: a new ``FakeTelegram()``).
        rate_limits: ``True`` for Telegram's flood limits, or custom :class:`RateLimits`.
        max_poll_seconds: cap on how long ``getUpdates`` holds a request open, whatever the
            ``timeout`` asked (keeps tests and shutdowns fast).
        timeout_hold: how long a call made to time out (``fake.timeout_next``) is held open
            at most while waiting for the client to give up.
        first_update_id: the ``update_id`` of the first pushed update.
        host: the interface to listen on.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        fake: FakeTelegram | None = None,
        rate_limits: bool | RateLimits = False,
        max_poll_seconds: float = 1.0,
        timeout_hold: float = 30.0,
        first_update_id: int = 1,
        host: str = "127.0.0.1",
    ) -> None:
        """Configure the server; nothing listens until :meth:`start`."""
        self.token = token
        self.fake: FakeTelegram = fake if fake is not None else FakeTelegram()
        """The inner fake: every call, violation, chat state and queued fault is there."""
        self.host = host
        self.port: int = 0
        """The listening port (0 until started)."""
        self.max_poll_seconds = max_poll_seconds
        self.timeout_hold = timeout_hold
        self.limits: RateLimits | None = (
            RateLimits() if rate_limits is True else rate_limits if rate_limits else None
        )
        """The flood limits enforced, or None."""
        self.too_many = 0
        """How many requests were answered 429 by the flood limits."""
        self.conflicts = 0
        """How many waiting ``getUpdates`` were ended by a newer one (two bots polling)."""
        self.unauthorized = 0
        """How many requests came with a wrong token."""
        self.errors: list[str] = []
        """Exceptions the inner fake raised (bugs in the fake; answered 500)."""

        self._limiter = Limiter(self.limits) if self.limits is not None else None
        self._pending: list[JSONDict] = []
        self._update_ids = itertools.count(first_update_id)
        self._incoming = IncomingJson(self.fake)
        self._allowed: frozenset[str] | None = None
        self._wakeup = asyncio.Event()
        self._poll_serial = 0
        self._closing = False
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/bot``: the value for ``TELEGRAM_API_BASE_URL``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        """``http://127.0.0.1:<port>/file/bot``: where file downloads are served."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        """Listen on an ephemeral port of :attr:`host`."""
        if self._runner is not None:
            raise RuntimeError("HttpTelegram is already running")
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self._closing = False
        self.port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Answer waiting long polls and stop listening. Records are kept."""
        self._closing = True
        self._wake()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.close()

    # -- incoming updates --------------------------------------------------------------------

    async def push(self, update: Mapping[str, Any] | Update) -> JSONDict:
        """Queue an incoming update for ``getUpdates``; return it with its ``update_id``.

        ``update`` is a JSON-able dict such as :meth:`text` builds, without ``update_id``
        (the server numbers updates in increasing order and replaces any given one), or a
        :class:`telegram.Update` (e.g. from an ``UpdateFactory``), sent as ``to_dict()``.
        Messages in it are registered with :attr:`fake` (edits and replies can refer to them).
        """
        payload: JSONDict = clone(update.to_dict() if isinstance(update, Update) else update)
        payload.pop("update_id", None)
        if not payload:
            raise ValueError("an update needs a payload such as {'message': {...}}")
        for key in _MESSAGE_UPDATES:
            message = payload.get(key)
            if isinstance(message, dict) and "chat" in message and "message_id" in message:
                self.fake.remember_message(message)
        stored: JSONDict = {"update_id": next(self._update_ids), **payload}
        self._pending.append(stored)
        self._wake()
        await asyncio.sleep(0)  # let a waiting long poll pick it up
        return clone(stored)

    @property
    def pending(self) -> list[JSONDict]:
        """The updates not yet confirmed by an ``offset``, oldest first (copies)."""
        return clone(self._pending)

    def text(
        self,
        user_id: int,
        text: str,
        language_code: str | None = "en",
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
    ) -> JSONDict:
        """A text message update (no ``update_id``), shaped like ``UpdateFactory.text``.

        A leading ``/command`` gets its ``bot_command`` entity; the message id comes from the
        fake's per-chat sequence and the message and user are registered with the fake.
        """
        return self._incoming.text(
            user_id,
            text,
            language_code=language_code,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
        )

    def callback(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        chat_id: int | None = None,
        *,
        language_code: str | None = "en",
        first_name: str = "Test",
        message_text: str = "…",
    ) -> JSONDict:
        """A ``callback_query`` update: the user tapped a button with ``data``.

        Shaped like ``UpdateFactory.callback``: the message is the one the fake knows by
        ``message_id`` (default: the bot's latest message with an inline keyboard in the chat,
        else its latest message); failing that a bot message with ``message_text``.
        """
        return self._incoming.callback(
            user_id,
            data,
            message_id=message_id,
            chat_id=chat_id,
            language_code=language_code,
            first_name=first_name,
            message_text=message_text,
        )

    # -- waiting -----------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[FakeTelegram], _T | None],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for a polled condition
        *,
        interval: float = 0.02,
    ) -> _T:
        """Poll until ``predicate(self.fake)`` is truthy and return that value.

        ``predicate`` may return a bool, or the thing looked for (a :class:`Call`...) or None.

        Raises:
            TimeoutError: after ``timeout`` seconds, listing the calls recorded so far.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate(self.fake)
            if result:
                return result
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"condition not met within {timeout} s; calls: {self.describe()}; "
                    f"violations: {self.fake.violations}"
                )
            await asyncio.sleep(interval)

    def describe(self) -> str:
        """The recorded calls in short (``sendMessage(42)``, ``getUpdates×12``...)."""
        parts: list[str] = []
        previous, count = "", 0
        for call in [*self.fake.calls, None]:
            label = "" if call is None else _describe_call(call)
            if label == previous:
                count += 1
                continue
            if previous:
                parts.append(previous if count == 1 else f"{previous}×{count}")
            previous, count = label, 1
        return ", ".join(parts) or "none"

    # -- HTTP handlers -----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """``/bot<token>/<method>``: one Bot API call."""
        if request.match_info["token"] != self.token:
            self.unauthorized += 1
            return _error(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        method = request.match_info["method"]
        lowered = method.lower()
        try:
            data, malformed = await read_request(self.fake.spec, method, request)
        except Malformed as error:
            return _error(HTTPStatus.BAD_REQUEST, f"Bad Request: {error}")
        if malformed:
            return self._reject_malformed(method, data, malformed)
        if self._limiter is not None and is_message_method(lowered):
            chat = data.parameters.get("chat_id")
            retry_after = self._limiter.acquire(None if chat is None else form_chat_key(chat))
            if retry_after is not None:
                return self._too_many_requests(method, data, retry_after)
        if lowered == "getupdates":
            return await self._get_updates(request, method, data)
        response, call = await self._dispatch(request, method, data)
        if (
            lowered == "deletewebhook"
            and call is not None
            and call.ok
            and call.params.get("drop_pending_updates") is True
        ):
            self._pending.clear()
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """``/file/bot<token>/<file_path>``: a file download (see ``fake.add_file``)."""
        if request.match_info["token"] != self.token:
            self.unauthorized += 1
            return _error(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        url = f"{self.file_base_url}{self.token}/{request.match_info['path']}"
        status, body = await self.fake.do_request(url, "GET")
        content_type = (
            "application/octet-stream" if status == HTTPStatus.OK else "application/json"
        )
        return web.Response(status=status, body=body, content_type=content_type)

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        """Anything else: Telegram's JSON 404."""
        return _error(HTTPStatus.NOT_FOUND, "Not Found")

    # -- refusals ----------------------------------------------------------------------------

    def _reject_malformed(
        self, method: str, data: RequestData, names: list[str]
    ) -> web.StreamResponse:
        """Record and answer a JSON-typed parameter that is not JSON, as Telegram would."""
        params, files = self.fake.decode(method, data)
        name = names[0]
        description = (
            "Bad Request: can't parse reply keyboard markup JSON object"
            if name == "reply_markup"
            else f"Bad Request: can't parse {name} JSON object"
        )
        call = Call(method, params, files, status=400, error=description)
        self.fake.calls.append(call)
        self.fake.record_violation(call, description, f"{name}: {params.get(name)!r:.200}")
        return _error(HTTPStatus.BAD_REQUEST, description)

    def _too_many_requests(
        self, method: str, data: RequestData, retry_after: int
    ) -> web.StreamResponse:
        """Record and answer a call refused by the flood limits."""
        params, files = self.fake.decode(method, data)
        description = f"Too Many Requests: retry after {retry_after}"
        self.fake.calls.append(Call(method, params, files, status=429, error=description))
        self.too_many += 1
        return _error(HTTPStatus.TOO_MANY_REQUESTS, description, {"retry_after": retry_after})

    # -- answering ---------------------------------------------------------------------------

    async def _dispatch(
        self, request: web.Request, method: str, data: RequestData
    ) -> tuple[web.StreamResponse, Call | None]:
        """Let the inner fake answer; return the HTTP answer and the recorded call."""
        url = f"{self.base_url}{self.token}/{method}"
        try:
            status, body = await self.fake.do_request(url, "POST", data)
        except TimedOut:
            # Nothing may suspend between the fake recording the call and here.
            call = self.fake.calls[-1]
            await self._hold(request)
            return _error(HTTPStatus.GATEWAY_TIMEOUT, "Gateway Timeout"), call
        except Exception as error:
            self.errors.append(f"{method}: {error!r}")
            return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error"), None
        call = self.fake.calls[-1]
        return web.Response(status=status, body=body, content_type="application/json"), call

    async def _hold(self, request: web.Request) -> None:
        """Keep a request unanswered until the client gives up (a timeout it can observe)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_hold
        while not self._closing and not _gone(request) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(_HOLD_POLL_SECONDS)

    async def _get_updates(
        self, request: web.Request, method: str, data: RequestData
    ) -> web.StreamResponse:
        """Long polling: validated and recorded by the fake, answered from the queue."""
        response, call = await self._dispatch(request, method, data)
        if call is None or not call.ok:
            return response
        params = call.params
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        timeout = max(0.0, _as_float(params.get("timeout"), 0.0))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed = frozenset(str(kind) for kind in allowed) or None
        self._confirm(offset)

        self._poll_serial += 1
        serial = self._poll_serial
        self._wake()  # an older long poll still waiting is now in conflict
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, self.max_poll_seconds)
        while True:
            if _gone(request):
                # The client gave up (cancelled, timed out, killed): nothing reaches it.
                call.status, call.error, call.result, call.delivered = 0, _GONE, None, False
                return _error(HTTPStatus.GATEWAY_TIMEOUT, _GONE)
            if serial != self._poll_serial:
                call.status, call.error, call.result, call.delivered = 409, _CONFLICT, None, False
                self.conflicts += 1
                return _error(HTTPStatus.CONFLICT, _CONFLICT)
            updates = self._deliverable(limit)
            remaining = deadline - loop.time()
            if updates or self._closing or remaining <= 0:
                break
            event = self._wakeup
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        call.result = clone(updates)
        return web.json_response({"ok": True, "result": updates})

    def _confirm(self, offset: int) -> None:
        """Forget the updates an ``offset`` confirms (a negative one keeps the last few)."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _deliverable(self, limit: int) -> list[JSONDict]:
        """Up to ``limit`` pending updates; those of types not allowed are dropped."""
        if self._allowed is None:
            keep = [u for u in self._pending if _update_type(u) not in _DEFAULT_EXCLUDED_UPDATES]
        else:
            keep = [u for u in self._pending if _update_type(u) in self._allowed]
        self._pending = keep
        return clone(keep[:limit])

    def _wake(self) -> None:
        """Wake every waiting long poll."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()


def _describe_call(call: Call) -> str:
    label = call.method
    if call.chat_id is not None:
        label += f"({call.chat_id})"
    if not call.ok:
        label += f"→{call.status}"
    return label
