"""What an activity looks like: to the people invited (the announcement and its buttons) and
to the member who published it (the counts message, edited in place, with its buttons).

Counts are numbers only: no message names anyone who answered.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot import when
from bot.activities import BOTH, COMING, FAMILIES, NOT_COMING, OPEN, WAITING, Activity, Counts
from bot.buttons import ActivityAnswer, ActivityManagePress, ActivityOptIn
from bot.forms import AREAS, Form
from bot.i18n import N_, Translator, escape
from bot.render import bold, field
from bot.storage import utcnow

AUDIENCE_LABELS = {
    FAMILIES: N_("Families"),
    "volunteers": N_("Volunteers"),
    BOTH: N_("Families and volunteers"),
}
# What the pressed announcement says once answered ("Your answer: I'll come").
ANSWERED = {
    COMING: N_("I'll come"),
    WAITING: N_("On the waiting list"),
    NOT_COMING: N_("Not this time"),
}


def area_label(t: Translator, areas: Form, area: str | None) -> str:
    """The area's name from the committee's list (every area: None)."""
    if area is None:
        return t.raw("Every area")
    option = areas.role(AREAS).option(area)
    return t.raw(option.label) if option else area


def activity_text(t: Translator, activity: Activity, tz: ZoneInfo) -> str:
    """The activity as the people invited read it: what, where, when."""
    return "\n".join(
        [
            bold(escape(activity.title)),
            escape(activity.description),
            "",
            field(t.raw("Place"), escape(activity.place)),
            field(t.raw("When"), escape(when.when(t, activity.starts_at, tz))),
        ]
    )


def headed(head: str, t: Translator, activity: Activity, tz: ZoneInfo) -> str:
    """The activity under a bold first line."""
    return bold(escape(head)) + "\n\n" + activity_text(t, activity, tz)


def answer_keyboard(t: Translator, ref: str) -> InlineKeyboardMarkup:
    """ "I'll come" and "Not this time"."""
    return InlineKeyboardMarkup(
        [
            [
                ActivityAnswer("c", ref).button(t.raw("✅ I'll come")),
                ActivityAnswer("n", ref).button(t.raw("Not this time")),
            ]
        ]
    )


def change_of_mind(t: Translator, ref: str, status: str) -> InlineKeyboardMarkup:
    """The one button an answered announcement keeps until the activity starts: the other
    answer."""
    if status == NOT_COMING:
        button = ActivityAnswer("c", ref).button(t.raw("I'll come after all"))
    else:
        button = ActivityAnswer("n", ref).button(t.raw("I can't come after all"))
    return InlineKeyboardMarkup([[button]])


def counts_text(
    t: Translator, areas: Form, activity: Activity, counts: Counts, tz: ZoneInfo
) -> str:
    """The member's view: the activity, who it went to, and how many answered what."""
    lines = [
        bold(t("Activity {ref}: {title}", ref=activity.ref, title=activity.title)),
        field(t.raw("When"), escape(when.when(t, activity.starts_at, tz))),
        field(t.raw("Place"), escape(activity.place)),
        field(t.raw("For"), escape(t.raw(AUDIENCE_LABELS[activity.audience]))),
        field(t.raw("Area"), escape(area_label(t, areas, activity.area))),
    ]
    if activity.capacity is not None:
        lines.append(field(t.raw("Places"), t.number(activity.capacity)))
    lines.append("")
    if counts.pending:
        lines.append(
            t(
                "Sent to {sent} of {total}…",
                sent=t.number(counts.sent),
                total=t.number(counts.invited),
            )
        )
    else:
        lines.append(
            t.plural("Announced to {n} person.", "Announced to {n} people.", counts.invited)
        )
    lines.append(
        t(
            "Coming: {coming}. Not coming: {not_coming}. Waiting list: {waiting}.",
            coming=t.number(counts.coming),
            not_coming=t.number(counts.not_coming),
            waiting=t.number(counts.waiting),
        )
    )
    if activity.status != OPEN:
        lines += ["", bold(escape(t.raw("This activity is cancelled.")))]
    return "\n".join(lines)


def counts_keyboard(t: Translator, activity: Activity) -> InlineKeyboardMarkup | None:
    """Change the time or the place, or cancel: while the activity is open and to come."""
    if activity.status != OPEN or activity.starts_at <= utcnow():
        return None
    ref = activity.ref
    return InlineKeyboardMarkup(
        [
            [
                ActivityManagePress("t", ref).button(t.raw("🕒 Change the time")),
                ActivityManagePress("p", ref).button(t.raw("📍 Change the place")),
            ],
            [ActivityManagePress("x", ref).button(t.raw("✖️ Cancel the activity"))],
        ]
    )


OPT_IN_QUESTION = N_(
    "The committee sometimes organises community activities: gatherings, sports days, "
    "classes. Would you like to hear about them here? You can change your answer at any "
    "time in /mydata."
)


def opt_in_keyboard(t: Translator, wanted: bool | None) -> InlineKeyboardMarkup:
    """Yes and No when never asked; else the one button that changes the choice."""
    yes = ActivityOptIn("y").button(t.raw("✅ Yes, tell me"))
    no = ActivityOptIn("n").button(t.raw("No, thank you"))
    if wanted is None:
        return InlineKeyboardMarkup([[yes, no]])
    if wanted:
        return InlineKeyboardMarkup(
            [[ActivityOptIn("n").button(t.raw("Stop telling me about activities"))]]
        )
    return InlineKeyboardMarkup(
        [[ActivityOptIn("y").button(t.raw("Tell me about community activities"))]]
    )


def opt_in_line(t: Translator, wanted: bool | None) -> str:
    """What /mydata and /status say about the choice."""
    if wanted:
        return t.raw("Community activities: you hear about them.")
    return t.raw("Community activities: you do not hear about them.")
