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
from handlers import (
    activities,
    activity_wizard,
    committee,
    common,
    feedback,
    intake,
    privacy,
    questions,
    reports,
    task_wizard,
    tasks,
    vetting,
    volunteers,
)
from handlers.util import Callback

PRIVATE = filters.ChatType.PRIVATE
ANY_CHAT = None  # no filter: the handler itself decides who may use it where


class Audience(Enum):
    """Whose menu and /help a command appears in."""

    EVERYONE = "everyone"  # anybody in a private chat: the families first
    JOIN = "join"  # anybody not registered as a volunteer: how to become one
    VOLUNTEER = "volunteer"  # registered volunteers only: their profile and tasks
    MEMBER = "member"  # committee members, in their private chat
    GROUP = "group"  # the committee group


# What a private chat shows to anybody (a family), to a registered volunteer instead, and
# to a committee member.
PUBLIC = (Audience.EVERYONE, Audience.JOIN)
VOLUNTEERS = (Audience.EVERYONE, Audience.VOLUNTEER)
MEMBERS = (*PUBLIC, Audience.MEMBER)


@dataclass(frozen=True)
class Command:
    """One command: its handler, its audience, and the texts that present it.

    ``chat`` is the handler's filter (``ANY_CHAT``: none). ``menu`` is the menu text (None: in
    no menu, like /start). ``help`` is its /help line, which names the command; None means the
    menu text followed by the command, the way the Arabic lines are written, so that a command
    can be listed without a new text to translate. ``told_with`` names the command whose /help
    line mentions this one as well.
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
        return f"{t.raw(self.menu)}: {t.isolate('/' + self.name)}"


EVERYONE, JOIN, VOLUNTEER, MEMBER, GROUP = (
    Audience.EVERYONE,
    Audience.JOIN,
    Audience.VOLUNTEER,
    Audience.MEMBER,
    Audience.GROUP,
)
# In the order of the menus and of /help (and of the registry: each handler matches its own
# command only, so their order among themselves changes nothing). A name may appear once per
# audience (/help also has the group's menu text); it is registered once, from its first entry.
COMMANDS = (
    Command("start", common.start, EVERYONE, PRIVATE),
    Command(
        "apply",
        intake.apply_command,
        EVERYONE,
        PRIVATE,
        menu=N_("Apply for support"),
        help=N_("/apply: apply for support (about five minutes)"),
    ),
    Command(
        "status",
        intake.status_command,
        EVERYONE,
        PRIVATE,
        menu=N_("Follow my applications"),
        help=N_("/status: follow your applications"),
    ),
    Command(
        "feedback",
        feedback.feedback_command,
        EVERYONE,
        PRIVATE,
        menu=N_("Thanks, a problem or a concern"),
        help=N_("/feedback: thanks, a problem or a concern, for the committee's trustees"),
    ),
    Command(
        "volunteer",
        volunteers.volunteer_command,
        VOLUNTEER,
        PRIVATE,
        menu=N_("My volunteer profile"),
        help=N_("/volunteer: your volunteer profile"),
    ),
    Command(
        "tasks",
        tasks.tasks_command,
        VOLUNTEER,
        PRIVATE,
        menu=N_("Open tasks for volunteers"),
        help=N_("/tasks and /mytasks: tasks for volunteers"),
    ),
    Command(
        "mytasks",
        tasks.mytasks_command,
        VOLUNTEER,
        PRIVATE,
        menu=N_("My tasks as a volunteer"),
        told_with="tasks",
    ),
    Command(
        "mydata", privacy.mydata_command, EVERYONE, PRIVATE, menu=N_("See what is stored about me")
    ),
    Command(
        "delete_my_data",
        privacy.delete_command,
        EVERYONE,
        PRIVATE,
        menu=N_("Erase my personal data"),
    ),
    Command(
        "language",
        common.language_command,
        EVERYONE,
        PRIVATE,
        menu=N_("Change the language"),
        help=N_("/language: change the language"),
    ),
    Command(
        "cancel",
        intake.cancel_command,
        EVERYONE,
        PRIVATE,
        menu=N_("Cancel what I am doing"),
        help=N_("/cancel: cancel what you are doing"),
    ),
    Command(
        "help",
        common.help_command,
        EVERYONE,
        ANY_CHAT,
        menu=N_("What this bot can do"),
        help=N_("/help: show this message"),
    ),
    Command(
        "volunteer",
        volunteers.volunteer_command,
        JOIN,
        PRIVATE,
        menu=N_("Volunteer with the committee"),
        help=N_("Want to volunteer? /volunteer"),
    ),
    Command(
        "cases",
        reports.cases_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Cases by status"),
        help=N_("/cases: cases by status"),
    ),
    Command(
        "case",
        committee.case_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Show a case in full: /case REF"),
        help=N_("/case REF: a case in full, with its actions"),
    ),
    Command(
        "note",
        questions.note_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Add an internal note: /note REF"),
        help=N_("/note REF: an internal note on a case"),
    ),
    Command(
        "audit",
        reports.audit_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("History of a case: /audit REF"),
        help=N_("/audit REF: the history of a case"),
    ),
    Command(
        "export",
        reports.export_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Export the cases (CSV or Excel)"),
        help=N_("/export: the cases as a spreadsheet (CSV or Excel)"),
    ),
    Command(
        "stats",
        reports.stats_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Statistics"),
        help=N_("/stats: statistics and charts"),
    ),
    Command(
        "report",
        reports.report_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Monthly report for donors: /report YYYY-MM"),
        help=N_("/report YYYY-MM: a month's figures for donors (without a month: last month)"),
    ),
    Command(
        "newtask",
        task_wizard.newtask_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Publish a task to volunteers"),
        help=N_("/newtask: publish a task to volunteers"),
    ),
    Command(
        "task",
        tasks.task_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Follow, change or cancel a task: /task REF"),
        help=N_("Follow, change or cancel a task: /task REF"),
    ),
    Command(
        "volunteers",
        vetting.volunteers_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Volunteers: approve, suspend, restore"),
        help=N_("/volunteers: approve, suspend or restore volunteers"),
    ),
    Command(
        "feedbacks",
        feedback.feedbacks_command,
        MEMBER,
        PRIVATE,
        menu=N_("Feedback for the trustees"),
        help=N_("/feedbacks: feedback and concerns not closed yet (trustees)"),
    ),
    Command(
        "newactivity",
        activity_wizard.newactivity_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Announce a community activity"),
        help=N_("/newactivity: announce a community activity"),
    ),
    Command(
        "activities",
        activities.activities_command,
        MEMBER,
        ANY_CHAT,
        menu=N_("Community activities to come"),
        help=N_("/activities: activities to come, their counts, change or cancel"),
    ),
    Command(
        "help", common.help_command, GROUP, ANY_CHAT, menu=N_("What the committee can do here")
    ),
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


def personal_menu(member: bool, volunteer: bool) -> list[tuple[str, str]]:
    """The menu of one person's chat: everybody's, a registered volunteer's, a member's."""
    audiences = VOLUNTEERS if volunteer else PUBLIC
    return menu(*audiences, *((Audience.MEMBER,) if member else ()))


def help_lines(t: Translator, committee: bool, volunteer: bool = False) -> list[str]:
    """The /help lines of everybody's commands with, for a registered ``volunteer``, theirs
    (else how to volunteer); or (``committee``) the members' own."""
    if committee:
        audiences: tuple[Audience, ...] = (Audience.MEMBER,)
    else:
        audiences = VOLUNTEERS if volunteer else PUBLIC
    return [line for c in of(*audiences) if (line := c.help_line(t)) is not None]
