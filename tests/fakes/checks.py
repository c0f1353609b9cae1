"""Telegram's rules on what a call carries: parameters, text lengths, HTML, keyboards, commands.

Each rule a call breaks is a bug in the bot, so it is both recorded in the journal's
``violations`` (tests assert that list is empty) and answered 400 with Telegram's own wording,
so that python-telegram-bot raises the ``BadRequest`` it would raise in production.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final, NoReturn

from tests.fakes.html import HtmlParseError, parse_html
from tests.fakes.objects import JSONDict
from tests.fakes.records import ApiError, Call, Journal
from tests.fakes.spec import ApiMethod

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_INLINE_BUTTONS: Final = 100
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
MAX_BOT_COMMANDS: Final = 100


class Checks:
    """Validates calls like Telegram; what it refuses goes to ``journal.violations``.

    Args:
        journal: where violations are recorded.
        strict_html: also reject stray ``&``/``>`` in HTML (see :func:`parse_html`).
    """

    def __init__(self, journal: Journal, *, strict_html: bool) -> None:
        """Check calls with these settings, recording into ``journal``."""
        self.journal = journal
        self.strict_html = strict_html

    def record(self, call: Call, description: str, detail: str = "") -> None:
        """Record a bot bug in ``call`` (Telegram's ``description``, our ``detail``)."""
        chat = call.params.get("chat_id")
        where = call.method if chat is None else f"{call.method}(chat_id={chat})"
        self.journal.violations.append(f"{where}: {description}{f' [{detail}]' if detail else ''}")

    def reject(self, call: Call, description: str, detail: str = "") -> NoReturn:
        """Record a bot bug and answer 400 with Telegram's ``description``."""
        self.record(call, description, detail)
        raise ApiError(HTTPStatus.BAD_REQUEST, description)

    def parameters(self, call: Call, spec_method: ApiMethod) -> None:
        """Unknown parameters are recorded (Telegram ignores them); a missing one is refused."""
        present = set(call.params) | {part for part in call.files if part in spec_method.fields}
        for name in spec_method.unknown(present):
            # Telegram silently ignores unknown parameters: that is the bug, not an error.
            self.journal.violations.append(
                f"{call.method}: unknown parameter {name!r} (ignored by Telegram)"
            )
        missing = spec_method.missing(present)
        if missing:
            name = missing[0]
            description = (
                "Bad Request: message text is empty"
                if name == "text" and call.method.lower() in ("sendmessage", "editmessagetext")
                else f"Bad Request: {name} is empty"
            )
            self.reject(call, description, f"missing required parameter {name!r}")

    def content(self, call: Call) -> None:
        """Texts, captions, callback answers, commands and inline keyboards within limits."""
        method = call.method.lower()
        params = call.params
        parse_mode = params.get("parse_mode")
        if method in ("sendmessage", "editmessagetext") and "text" in params:
            text, _ = self.parse_text(call, str(params["text"]), parse_mode, "text")
            if not text.strip():
                self.reject(call, "Bad Request: message text is empty")
            if len(text) > MAX_TEXT_LENGTH:
                self.reject(call, "Bad Request: message is too long", f"{len(text)} characters")
        captions = [(params["caption"], parse_mode)] if "caption" in params else []
        if method == "sendmediagroup" and isinstance(params.get("media"), list):
            captions += [
                (item["caption"], item.get("parse_mode"))
                for item in params["media"]
                if isinstance(item, dict) and "caption" in item
            ]
        for raw_caption, caption_mode in captions:
            caption, _ = self.parse_text(call, str(raw_caption), caption_mode, "caption")
            if len(caption) > MAX_CAPTION_LENGTH:
                self.reject(
                    call, "Bad Request: message caption is too long", f"{len(caption)} characters"
                )
        if method == "answercallbackquery":
            answer = str(params.get("text", ""))
            if len(answer) > MAX_CALLBACK_ANSWER_LENGTH:
                self.reject(call, "Bad Request: MESSAGE_TOO_LONG", f"{len(answer)} characters")
        if method == "setmycommands":
            self._commands(call)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            self._inline_keyboard(call, markup)

    def parse_text(
        self, call: Call, text: str, parse_mode: object, what: str
    ) -> tuple[str, list[JSONDict]]:
        """Visible text and entities of ``text``/``caption``; 400 if Telegram can't parse it."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.reject(call, "Bad Request: strings must be encoded in UTF-8", what)
        if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
            try:
                return parse_html(text, strict=self.strict_html)
            except HtmlParseError as error:
                self.reject(
                    call, f"Bad Request: can't parse entities: {error}", f"{what}: {text[:200]!r}"
                )
        entities = call.params.get("entities" if what == "text" else "caption_entities")
        return text, list(entities) if isinstance(entities, list) else []

    def _inline_keyboard(self, call: Call, markup: Mapping[str, Any]) -> None:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            self.reject(call, "Bad Request: can't parse inline keyboard button: "
                            "InlineKeyboardMarkup must be an Array of Arrays")  # fmt: skip
        buttons = [button for row in rows for button in row]
        if len(buttons) > MAX_INLINE_BUTTONS:
            self.reject(call, "Bad Request: REPLY_MARKUP_TOO_LONG", f"{len(buttons)} buttons")
        for button in buttons:
            label = str(button.get("text", ""))
            if not label.strip():
                self.reject(call, "Bad Request: BUTTON_TEXT_INVALID", f"button {button}")
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    self.reject(
                        call, "Bad Request: BUTTON_DATA_INVALID", f"{size} bytes: {data!r}"
                    )
            actions = set(button) - {"text", "icon_custom_emoji_id", "style"}
            if not actions:
                self.reject(
                    call,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                    f"button {label!r}",
                )

    def _commands(self, call: Call) -> None:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            self.reject(call, "Bad Request: can't parse commands JSON object")
        if len(commands) > MAX_BOT_COMMANDS:
            self.reject(call, "Bad Request: too many commands", f"{len(commands)}")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                self.reject(call, "Bad Request: BOT_COMMAND_INVALID", repr(name))
            description = str(command.get("description", ""))
            if not 1 <= len(description.strip()) <= 256:
                self.reject(call, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID", f"/{name}")
