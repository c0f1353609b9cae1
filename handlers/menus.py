"""A person's own command menu: a registered volunteer's shows the volunteers' commands.

Telegram keeps a menu per chat once it is set, so it is set when a person registers as a
volunteer and reset when they leave or erase their data; the default menu (everybody's) and
the members' are published at start-up (bot/app.py). The command table lives in
handlers/commands.py, which imports the handlers: it hands its menu function over through
``bot_data`` (see :data:`MENUS`), as it does its /help lines.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.context import SanadContext

# Where handlers.register puts the command table's menu: (member, volunteer) -> entries.
MENUS = "personal_menus"
Menu = Callable[[bool, bool], list[tuple[str, str]]]


async def refresh(context: SanadContext, user_id: int, *, volunteer: bool) -> None:
    """Set the person's menu for what they are now (best effort: a menu is a convenience)."""
    services = context.services
    member = user_id in services.settings.committee_member_ids
    scope = BotCommandScopeChat(user_id)
    languages: list[str | None] = [None, *services.i18n.languages]
    bot = context.bot
    with contextlib.suppress(TelegramError):
        if not member and not volunteer:
            for lang in languages:
                await bot.delete_my_commands(scope=scope, language_code=lang)
            return
        entries = context.bot_data[MENUS](member, volunteer)
        for lang in languages:
            t = context.t if lang is None else services.i18n.get(lang)
            commands = [BotCommand(name, t.raw(text)) for name, text in entries]
            await bot.set_my_commands(commands, scope=scope, language_code=lang)
