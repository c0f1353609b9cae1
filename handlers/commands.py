"""The one table of commands: it drives the handler registry, every command menu and /help.

A command is added here once, with who it is for, the chats it works in, its menu text and
its /help line, so that the three cannot drift apart. Texts are English msgids translated
through the catalogs; the menus and /help translate them for each person.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram.ext import CommandHandler, filters

from bot.i18n import N_, Translator
from handlers import committee, common, intake, privacy, reports, review, tasks, volunteers
from handlers.util import Callback

PRIVATE = filters.ChatType.PRIVATE


class Audience(Enum):
    """Whose menu and /help a command appears in."""

    EVERYONE = "everyone"  # anybody in a private chat: the families first
    VOLUNTEER = "volunteer"  # shown to everybody too: anybody may volunteer
    MEMBER = "member"  # committee members, in their private chat
    GROUP = "group"  # the committee group


# What a private chat shows to anybody, and in addition to a committee member.
PUBLIC = (Audience.EVERYONE, Audience.VOLUNTEER)
MEMBERS = (*PUBLIC, Audience.MEMBER)


@dataclass(frozen=True)
class Command:
    """One command: its handler, its audience, and the texts that present it.

    ``chat`` is the handler's filter (None: any chat; the handler then decides). ``menu`` is
    the menu text (None: in no menu, like /start). ``help`` is its /help line, which names the
    command; None means the menu text followed by the command, the way the Arabic lines are
    written. ``told_with`` names the command whose /help line mentions this one as well.
    """

    name: str
    callback: Callback
    audience: Audience
    chat: filters.BaseFilter | None
    menu: str | None = None
    help: str | None = None
    told_with: str | None = None

    def help_line(self, t: Translator) -> str | None:
        """Its line in /help, translated; None if it has none of its own."""
        if self.menu is None or self.told_with is not None:
            return None
        if self.help is not None:
            return t.raw(self.help)
        return f"{t.raw(self.menu)}: /{self.name}"


E, V, M, G = Audience.EVERYONE, Audience.VOLUNTEER, Audience.MEMBER, Audience.GROUP
# In the order of the menus and of /help. A name may appear once per audience (/help also
# has the group's menu text); it is registered once, from its first entry.
COMMANDS = (
    Command("start", common.start, E, PRIVATE),
    Command(
        "apply",
        intake.apply_command,
        E,
        PRIVATE,
        N_("Apply for support"),
        N_("/apply: apply for support (about five minutes)"),
    ),
    Command(
        "status",
        intake.status_command,
        E,
        PRIVATE,
        N_("Follow my applications"),
        N_("/status: follow your applications"),
    ),
    Command(
        "volunteer",
        volunteers.volunteer_command,
        V,
        PRIVATE,
        N_("Volunteer with the committee"),
        N_("/volunteer: volunteer with the committee"),
    ),
    Command(
        "tasks",
        tasks.tasks_command,
        V,
        PRIVATE,
        N_("Open tasks for volunteers"),
        N_("/tasks and /mytasks: tasks for volunteers"),
    ),
    Command(
        "mytasks",
        tasks.mytasks_command,
        V,
        PRIVATE,
        N_("My tasks as a volunteer"),
        told_with="tasks",
    ),
    Command("mydata", privacy.mydata_command, E, PRIVATE, N_("See what is stored about me")),
    Command("delete_my_data", privacy.delete_command, E, PRIVATE, N_("Erase my personal data")),
    Command(
        "language",
        common.language_command,
        E,
        PRIVATE,
        N_("Change the language"),
        N_("/language: change the language"),
    ),
    Command(
        "cancel",
        intake.cancel_command,
        E,
        PRIVATE,
        N_("Cancel what I am doing"),
        N_("/cancel: cancel what you are doing"),
    ),
    Command(
        "help",
        common.help_command,
        E,
        None,
        N_("What this bot can do"),
        N_("/help: show this message"),
    ),
    Command(
        "cases",
        reports.cases_command,
        M,
        None,
        N_("Cases by status"),
        N_("/cases: cases by status"),
    ),
    Command(
        "case",
        committee.case_command,
        M,
        None,
        N_("Show a case in full: /case REF"),
        N_("/case REF: a case in full, with its actions"),
    ),
    Command(
        "note",
        review.note_command,
        M,
        None,
        N_("Add an internal note: /note REF"),
        N_("/note REF: an internal note on a case"),
    ),
    Command(
        "audit",
        reports.audit_command,
        M,
        None,
        N_("History of a case: /audit REF"),
        N_("/audit REF: the history of a case"),
    ),
    Command(
        "export",
        reports.export_command,
        M,
        None,
        N_("Export the cases as CSV"),
        N_("/export: the cases as a spreadsheet (CSV)"),
    ),
    Command(
        "stats",
        reports.stats_command,
        M,
        None,
        N_("Statistics"),
        N_("/stats: statistics and a chart"),
    ),
    Command(
        "newtask",
        tasks.newtask_command,
        M,
        None,
        N_("Publish a task to volunteers"),
        N_("/newtask: publish a task to volunteers"),
    ),
    Command(
        "task",
        tasks.task_command,
        M,
        None,
        N_("Follow, change or cancel a task: /task REF"),
        N_("Follow, change or cancel a task: /task REF"),
    ),
    Command("help", common.help_command, G, None, N_("What the committee can do here")),
)


def of(*audiences: Audience) -> Iterator[Command]:
    """The commands of these audiences, in the table's order."""
    return (c for c in COMMANDS if c.audience in audiences)


def distinct() -> list[Command]:
    """Each command name once, from its first entry, in the table's order."""
    first: dict[str, Command] = {}
    for command in COMMANDS:
        first.setdefault(command.name, command)
    return list(first.values())


def handlers() -> list[CommandHandler[Any, Any]]:
    """One CommandHandler per command name, with its filter."""
    return [CommandHandler(c.name, c.callback, filters=c.chat) for c in distinct()]


def menu(*audiences: Audience) -> list[tuple[str, str]]:
    """``(name, menu msgid)`` of the commands of these audiences that have a menu text."""
    return [(c.name, c.menu) for c in of(*audiences) if c.menu is not None]


def help_lines(t: Translator, committee: bool) -> list[str]:
    """The /help lines of everybody's commands, or (``committee``) of the members' own."""
    audiences = (Audience.MEMBER,) if committee else PUBLIC
    return [line for c in of(*audiences) if (line := c.help_line(t)) is not None]
