"""One command table: the registry, the menus and /help say the same, for every audience."""

from __future__ import annotations

import re

import pytest
from telegram.ext import CommandHandler, filters

from handlers.commands import COMMANDS, distinct
from tests.conftest import MEMBER, Harness

FAMILY = 4242
COMMAND = re.compile(r"/([a-z_]+)")


def named(text: str) -> list[str]:
    """The commands a text names, in the order they first appear."""
    return list(dict.fromkeys(COMMAND.findall(text)))


def menu_names(harness: Harness, chat_id: int | None, lang: str) -> list[str]:
    scope = None if chat_id is None else {"type": "chat", "chat_id": chat_id}
    return [c["command"] for c in harness.fake.commands(scope, lang)]


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_help_lists_exactly_the_menu_of_a_family(harness: Harness, lang: str) -> None:
    h = harness
    h.languages[FAMILY] = lang
    [text, *_] = h.texts(await h.say(FAMILY, "/help"))
    menu = menu_names(h, None, lang)
    assert named(text) == menu  # the same commands, in the same order
    assert {"mydata", "delete_my_data"} <= set(menu)


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_help_lists_exactly_the_menu_of_a_member(harness: Harness, lang: str) -> None:
    h = harness
    h.languages[MEMBER] = lang
    [text, *_] = h.texts(await h.say(MEMBER, "/help"))
    menu = menu_names(h, MEMBER, lang)
    assert set(named(text)) == set(menu)
    assert {"task", "newtask", "cases", "mydata"} <= set(menu)


async def test_new_help_lines_are_translated(harness: Harness) -> None:
    h = harness
    h.languages[FAMILY] = "ar"
    [text, *_] = h.texts(await h.say(FAMILY, "/help"))
    for command in COMMANDS:
        if command.menu is not None:
            assert command.menu not in text
    h.languages[FAMILY] = "en"
    [text, *_] = h.texts(await h.say(FAMILY, "/help"))
    assert "See what is stored about me: /mydata" in text
    assert "Erase my personal data: /delete_my_data" in text
    # A family is told how to volunteer, not the volunteers' own commands.
    assert "Want to volunteer? /volunteer" in text and "/mytasks" not in text


async def test_every_registered_command_is_the_tables(harness: Harness) -> None:
    registered = [h for h in harness.app.handlers[0] if isinstance(h, CommandHandler)]
    table = distinct()
    assert [set(h.commands) for h in registered] == [{c.name} for c in table]
    for handler, command in zip(registered, table, strict=True):
        assert handler.callback is command.callback
        # No filter: PTB's default, any chat's messages.
        assert handler.filters is (command.chat or filters.UpdateType.MESSAGES)
    for command in COMMANDS:  # a name listed twice (/help, for the group) is one command
        same = next(c for c in table if c.name == command.name)
        assert (command.callback, command.chat) == (same.callback, same.chat)


def test_chat_filters_are_those_the_commands_always_had() -> None:
    private = {c.name for c in COMMANDS if c.chat is filters.ChatType.PRIVATE}
    assert private == {
        "start",
        "language",
        "apply",
        "cancel",
        "status",
        "volunteer",
        "tasks",
        "mydata",
        "delete_my_data",
        "mytasks",
        "feedback",
        "feedbacks",
    }
    anywhere = {c.name for c in COMMANDS if c.chat is None}
    members = {
        "newtask",
        "task",
        "case",
        "note",
        "cases",
        "audit",
        "export",
        "stats",
        "report",
        "volunteers",
        "newactivity",
        "activities",
    }
    assert anywhere == {"help"} | members  # they check who asks, and where, themselves


def test_every_help_line_names_its_command() -> None:
    for command in COMMANDS:
        if command.help is not None:
            assert f"/{command.name}" in command.help
        if command.told_with is not None:
            told = next(c for c in COMMANDS if c.name == command.told_with)
            assert told.help is not None and f"/{command.name}" in told.help
