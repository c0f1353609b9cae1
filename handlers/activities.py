"""Community activities once announced: the invited person's "I'll come" / "Not this time",
the families' choice to hear about activities at all, and the member's buttons to change the
time or the place of an activity, or cancel it; /activities lists those to come.

An answer is shown in place on the pressed message, which keeps one button until the
activity starts: the other answer (a change of mind). Nobody but the member sees counts, and
no message names who answered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot import reminders
from bot.activities import COMING, OPEN, WAITING, Activity, Reply
from bot.activity_views import (
    ANSWERED,
    OPT_IN_QUESTION,
    change_of_mind,
    counts_keyboard,
    counts_text,
    headed,
    opt_in_keyboard,
    opt_in_line,
)
from bot.buttons import ActivityAnswer, ActivityManagePress, ActivityOptIn
from bot.context import SanadContext
from bot.i18n import N_, Translator, escape
from bot.render import bold, confirm_keyboard, field
from bot.storage import utcnow
from bot.text import MAX_MESSAGE
from handlers.activity_wizard import PLACE_LIMIT
from handlers.members import Press, committee_gate, member_press, to_member
from handlers.sessions import Session, forget_session, route, save_session
from handlers.util import own_chat, reply
from handlers.validators import checked_text, typed_datetime
from handlers.when_steps import LAST_DAY

CLOSED = N_("This activity is cancelled or has started.")

# --- the people invited ---------------------------------------------------------------------


async def activity_answer(update: Update, context: SanadContext, press: ActivityAnswer) -> None:
    """aa:<c|n>:<ref>: "I'll come" or "Not this time", shown in place."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    services = context.services
    answer = await services.activities.answer(
        press.activity, update.effective_user.id, press.verb == "c"
    )
    if answer.status == "uninvited":
        await query.answer(t.raw("This activity was not announced to you."), show_alert=True)
        return
    if answer.status == "already":
        await query.answer(t.raw("You already gave this answer."))
        return
    activity = await services.activities.get(press.activity)
    if answer.status == "closed" or activity is None:
        await query.answer(t.raw(CLOSED))
        await _show(query, "", None)
        return
    await query.answer()
    text = headed(t.raw("Community activity"), t, activity, services.settings.tz)
    await _show(
        query, _answer_lines(t, text, answer), change_of_mind(t, activity.ref, answer.status)
    )
    services.delivery.kick()
    await reminders.sync(context.application, services)


def _answer_lines(t: Translator, text: str, answer: Reply) -> str:
    """The activity with the answer under it and what follows from it."""
    lines = [text, "", bold(t("Your answer: {answer}", answer=t.raw(ANSWERED[answer.status])))]
    if answer.status == WAITING:
        lines.append(
            t(
                "The activity is full: you are number {n} on the waiting list. You will be "
                "told here if a place becomes free.",
                n=t.number(answer.position),
            )
        )
    elif answer.status == COMING:
        lines.append(t.raw("Thank you! You will be reminded the day before."))
    return "\n".join(lines)


async def _show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """The pressed message shows ``text`` and ``markup`` (the change-of-mind button), or
    only loses its buttons (no ``text``). Cosmetic, after the durable write: a failure must
    not bring an apology."""
    message = query.message
    if not own_chat(query) or not isinstance(message, Message) or message.reply_markup is None:
        return
    with contextlib.suppress(TelegramError):
        if not text or message.text is None or len(text) > MAX_MESSAGE:
            await query.edit_message_reply_markup(reply_markup=None)
            return
        await query.edit_message_text(text, reply_markup=markup)


async def opt_in_button(update: Update, context: SanadContext, press: ActivityOptIn) -> None:
    """ao:<y|n>: whether the person wants to hear about community activities."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    wanted = press.choice == "y"
    await context.services.activities.set_wants(update.effective_user.id, wanted, t.lang)
    await query.answer(
        t.raw("Noted: you will hear about community activities here.")
        if wanted
        else t.raw("Noted: you will not hear about community activities.")
    )
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        return
    await _show(query, f"{message.text_html}\n\n{bold(escape(opt_in_line(t, wanted)))}", None)


async def ask_after_intake(update: Update, context: SanadContext) -> None:
    """After an application: the one question whether to hear about activities, unless the
    person already answered it (default: no)."""
    assert update.effective_user is not None
    if await context.services.activities.wants(update.effective_user.id) is not None:
        return
    t = context.t
    await reply(update, escape(t.raw(OPT_IN_QUESTION)), reply_markup=opt_in_keyboard(t, None))


async def choice_message(update: Update, context: SanadContext) -> None:
    """/mydata: the person's choice, with the button that changes it, and their answers to
    the activities to come."""
    assert update.effective_user is not None
    t = context.t
    services = context.services
    person = update.effective_user.id
    wanted = await services.activities.wants(person)
    lines = [escape(opt_in_line(t, wanted))]
    for activity, answer in await services.activities.answered_by(person):
        if answer in ANSWERED:
            lines.append(field(escape(activity.title), escape(t.raw(ANSWERED[answer]))))
    await reply(update, "\n".join(lines), reply_markup=choice_keyboard_for(t, wanted))


def choice_keyboard_for(t: Translator, wanted: bool | None) -> InlineKeyboardMarkup:
    """The button under /status that changes the choice (never asked: no)."""
    return opt_in_keyboard(t, bool(wanted))


async def status_keyboard(context: SanadContext, person: int) -> InlineKeyboardMarkup:
    """/status's button: hear about community activities, or stop."""
    return choice_keyboard_for(context.t, await context.services.activities.wants(person))


# --- the member: /activities and the counts message's buttons ------------------------------


async def activities_command(update: Update, context: SanadContext) -> None:
    """/activities: the activities to come, each with its counts and its buttons."""
    t = await committee_gate(update, context)
    if t is None:
        return
    services = context.services
    upcoming = await services.activities.upcoming()
    if not upcoming:
        await to_member(update, context, t.raw("No activity is planned. Send /newactivity."))
        return
    for activity in upcoming[:10]:
        counts = await services.activities.counts(activity.id)
        text = counts_text(t, services.volunteer_form, activity, counts, services.settings.tz)
        await to_member(update, context, text, counts_keyboard(t, activity))


Manage = Callable[[Update, SanadContext, Press[ActivityManagePress], Activity], Awaitable[None]]


async def manage_button(update: Update, context: SanadContext) -> None:
    """am:<verb>:<ref>: change the time or the place, or cancel (after confirming)."""
    press = await member_press(update, context, ActivityManagePress)
    if press is None:
        return
    query, t = press.query, press.t
    activity = await context.services.activities.get(press.data.activity)
    if activity is None or activity.status != OPEN or activity.starts_at <= utcnow():
        await query.answer(t.raw(CLOSED))
        return
    await query.answer()
    await MANAGE[press.data.verb](update, context, press, activity)


async def _ask_cancel(
    update: Update, context: SanadContext, press: Press[ActivityManagePress], activity: Activity
) -> None:
    t = press.t
    await reply(
        update,
        t(
            "Cancel activity {ref}? Everyone coming or waiting will be told.",
            ref=activity.ref,
        ),
        reply_markup=confirm_keyboard(
            t.raw("Yes, cancel it"),
            ActivityManagePress("X", activity.ref),
            t.pgettext("activity", "No, keep it"),
            ActivityManagePress("k", activity.ref),
        ),
    )


async def _cancel(
    update: Update, context: SanadContext, press: Press[ActivityManagePress], activity: Activity
) -> None:
    await _show(press.query, "", None)
    await context.services.activities.cancel(activity.ref, press.member)
    await reply(
        update,
        press.t(
            "Activity {ref} is cancelled; everyone coming or waiting is being told.",
            ref=activity.ref,
        ),
    )
    context.services.delivery.kick()


async def _keep(
    update: Update, context: SanadContext, press: Press[ActivityManagePress], activity: Activity
) -> None:
    await _show(press.query, "", None)
    await reply(update, press.t.raw("Good, nothing was changed."))


@dataclass(frozen=True)
class Change:
    """One field a member may change: the session step, what the member is asked, and how
    the typed value is read (None once the member is told what is wrong with it)."""

    step: str
    prompt: str
    read: Callable[[Update, SanadContext, str], Awaitable[dict[str, Any] | None]]


async def _new_time(update: Update, context: SanadContext, text: str) -> dict[str, Any] | None:
    t = context.t
    starts = typed_datetime(text, LAST_DAY)
    if starts is None:
        await reply(update, t.raw("Please send the day and time like 2027-03-31 14:30."))
        return None
    starts = starts.replace(tzinfo=context.services.settings.tz)
    if starts <= utcnow():
        await reply(update, t.raw("This time has already passed. Please choose a later time."))
        return None
    return {"starts_at": starts}


async def _new_place(update: Update, context: SanadContext, text: str) -> dict[str, Any] | None:
    place = await checked_text(update, context.t, text, PLACE_LIMIT)
    return None if place is None else {"place": place}


CHANGES = {
    "time": Change("time", N_("Send the new day and time, like 2027-03-31 14:30."), _new_time),
    "place": Change("place", N_("Send the new place."), _new_place),
}


def _start_change(change: Change) -> Manage:
    """am:t or am:p: the session waits for the new value."""

    async def start(
        update: Update,
        context: SanadContext,
        press: Press[ActivityManagePress],
        activity: Activity,
    ) -> None:
        await save_session(
            context,
            press.member,
            {"kind": "activityedit", "ref": activity.ref, "step": change.step},
        )
        await reply(update, press.t.raw(change.prompt))

    return start


MANAGE: dict[str, Manage] = {
    "x": _ask_cancel,
    "X": _cancel,
    "k": _keep,
    "t": _start_change(CHANGES["time"]),
    "p": _start_change(CHANGES["place"]),
}


@route("activityedit")
async def activity_edit_message(update: Update, context: SanadContext, session: Session) -> None:
    """The new time or place of an activity, typed by the member."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    member = update.effective_user.id
    if message.text is None:
        await reply(update, t.raw("Please type your answer."))
        return
    change = CHANGES["time" if session["step"] == "time" else "place"]
    fields = await change.read(update, context, message.text)
    if fields is None:
        return
    changed = await context.services.activities.change(
        session["ref"], member, **fields, ends_session=True
    )
    if changed is None:
        await forget_session(context, member)
        await reply(update, t.raw(CLOSED))
        return
    await reply(
        update,
        t("Activity {ref} changed; everyone coming or waiting is being told.", ref=changed.ref),
    )
    context.services.delivery.kick()
    await reminders.sync(context.application, context.services)
