"""What volunteers gave: the tasks they confirmed as done, and their hours.

A task counts for a volunteer when they answered its follow-up "Done"; its hours are the
task's duration. The volunteer reads their own total in /mytasks; members read everyone's in
/stats, by volunteer reference (a private chat, where members see references anyway). An
export names no volunteer: each is a number, 1 for the most hours (:func:`export_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import Translator, escape
from bot.ids import Ids
from bot.render import bold
from bot.storage import Database, assignments
from bot.when import duration

# /stats lists this many volunteers by name of reference; the totals count everyone.
LISTED = 20


@dataclass(frozen=True)
class Total:
    """Tasks confirmed as done and their minutes; ``ref`` names the volunteer in /stats
    (None for one whose profile is gone)."""

    tasks: int
    minutes: int
    ref: str | None = None


async def of_volunteer(db: Database, ids: Ids, volunteer_id: int) -> Total:
    """The volunteer's own total."""
    tasks, minutes = await assignments.done_by(db, ids, volunteer_id)
    return Total(tasks, minutes)


async def of_everyone(db: Database) -> list[Total]:
    """Every volunteer's total, most hours first, read on a connection of its own."""
    async with db.reader() as reader:
        rows = await assignments.done_by_everyone(reader)
    return [Total(tasks, minutes, ref) for ref, tasks, minutes in rows]


def hours(t: Translator, minutes: int) -> str:
    """A total of time given: "4 hours 30 minutes", or "none" for zero (a duration of zero
    minutes reads "0 minutes", and in Arabic "less than a minute", which a total is not)."""
    return duration(t, minutes) if minutes > 0 else t.raw("none")


def _said(t: Translator, total: Total) -> str:
    """ "3 tasks, 4 hours 30 minutes"; "3 tasks" when they took no time on record."""
    tasks = t.plural("{n} task", "{n} tasks", total.tasks)
    if total.minutes <= 0:
        return tasks
    return t("{tasks}, {hours}", tasks=tasks, hours=hours(t, total.minutes))


def mine_line(t: Translator, total: Total) -> str | None:
    """The volunteer's total in /mytasks; None before their first task done."""
    if not total.tasks:
        return None
    return (
        bold(escape(t.raw("Your help so far")))
        + "\n"
        + t("Tasks you confirmed as done: {total}.", total=_said(t, total))
    )


def stats_lines(t: Translator, totals: Sequence[Total]) -> list[str]:
    """The volunteers' section of /stats: everyone's total, then each volunteer's."""
    if not totals:
        return []
    everyone = Total(sum(x.tasks for x in totals), sum(x.minutes for x in totals))
    lines = [
        "",
        bold(escape(t.raw("Volunteers"))),
        t(
            "{volunteers} did {total}.",
            volunteers=t.plural("{n} volunteer", "{n} volunteers", len(totals)),
            total=_said(t, everyone),
        ),
    ]
    for total in totals[:LISTED]:
        who = total.ref or t.raw("A former volunteer")
        lines.append(f"• {escape(who)}: {_said(t, total)}")
    return lines


def export_header(t: Translator) -> list[str]:
    """The columns of the volunteers' rows in an export."""
    return [t.raw("Volunteer"), t.raw("Tasks done"), t.raw("Hours")]


def export_rows(totals: Sequence[Total]) -> list[list[str]]:
    """The volunteers' rows of an export: a number per volunteer, never a reference or a
    name; hours with one decimal."""
    return [
        [str(number), str(total.tasks), f"{total.minutes / 60:.1f}"]
        for number, total in enumerate(totals, start=1)
    ]
