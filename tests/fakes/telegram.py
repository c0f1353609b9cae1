"""In-process fake of the Telegram Bot API, and builders for real incoming updates.

Tests build the real :class:`telegram.ext.Application` around a fake transport,
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
the Bot API would send. The answering is :class:`~tests.fakes.server.FakeBotApi`'s, shared
with the HTTP fake; this module adds the transport and is the entry point tests import from.
It keeps just enough state to answer realistically (message ids per chat, the current text and
keyboard of every message, bot commands, member statuses).

It rejects what Telegram rejects, with Telegram's own status and wording, so PTB raises the
same :class:`telegram.error.BadRequest` it would raise in production. Each such rejection that
points at a bug in the bot is also appended to :attr:`FakeTelegram.violations`; tests assert
that list is empty. Checked:

* method and parameter names, and required parameters, against the machine-readable Bot API
  (``shared/telegram-bot-api/api.json``, see :class:`ApiSpec`, :mod:`tests.fakes.spec`);
* message text 1-4096 characters and captions up to 1024 after entity parsing;
* HTML in ``parse_mode="HTML"`` texts, parsed the way TDLib (the Bot API server) parses it
  (:func:`parse_html`, :mod:`tests.fakes.html`), plus, by default, the documented rule that
  stray ``&`` and ``>`` must be escaped too (the real server tolerates those two; see
  ``strict_html``);
* inline keyboards: at most 100 buttons, non-empty labels, ``callback_data`` 1-64 bytes, one
  action per button;
* ``answerCallbackQuery`` text up to 200 characters, bot command names and descriptions
  (:mod:`tests.fakes.checks`).

Unknown parameters are violations but, as on Telegram, not errors (Telegram ignores them);
those that ``telegram.ext.Defaults`` adds to every send/edit call (``parse_mode`` on
``sendLocation``...) are tolerated, since PTB sends them whatever the method.

"message is not modified" answers exactly like Telegram but goes to
:attr:`FakeTelegram.not_modified` instead: it is a normal outcome a bot must tolerate.

Incoming updates are built by :class:`UpdateFactory` (:mod:`tests.fakes.updates`).

Faults are injected explicitly: :meth:`FakeTelegram.block`, :meth:`FakeTelegram.unreachable`,
:meth:`FakeTelegram.fail_next` (any status, 429 with ``retry_after``) and
:meth:`FakeTelegram.timeout_next`.
"""

from __future__ import annotations

import asyncio

from telegram.request import BaseRequest, RequestData

from tests.fakes.html import HtmlParseError, parse_html, visible_text
from tests.fakes.objects import (
    BOT_FIRST_NAME,
    BOT_ID,
    BOT_USERNAME,
    bot_user_json,
    chat_member_json,
)
from tests.fakes.records import Call, UploadedFile
from tests.fakes.server import FakeBotApi
from tests.fakes.spec import ApiMethod, ApiSpec
from tests.fakes.updates import UpdateFactory

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


class FakeTelegram(FakeBotApi, BaseRequest):
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
        super().__init__(spec=spec, strict_html=strict_html)
        self.latency = latency
        self._read_timeout = read_timeout
        self.initialized = False

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
        return self.handle(url, request_data)
