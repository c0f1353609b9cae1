"""Tasks (part of issue 4): /newtask for members, /tasks and /mytasks for volunteers, and the
Accept / Decline / Withdraw buttons.

The task wizard keeps its state in the member's encrypted session row, like the review
wizards. A volunteer never sees a family's data: the member writes what the task says.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot import reminders, render
from bot.context import SanadContext
from bot.forms import Form
from bot.i18n import Translator, escape
from bot.render import bold, button
from bot.storage import utcnow, volunteers
from bot.tasks import ACCEPTED, WAITLISTED, Task
from bot.text import normalize_digits, whole_number
from handlers.review import (
    CaseNotFound,
    checked_text,
    committee_gate,
    end_session,
    load_session,
    member_press,
    save_session,
    to_member,
)
from handlers.util import close_buttons, reply

log = logging.getLogger(__name__)

TITLE_LIMIT = 100
DESCRIPTION_LIMIT = 1000
DURATIONS = (60, 120, 180, 240)
QUICK_TIMES = ("09:00", "12:00", "17:00")
OUTCOMES = {"c": "coming", "y": "done", "n": "not_done"}
# A day this close to the end of the calendar is a typing error, not a task: its end and its
# reminders would not fit in a datetime.
LAST_DAY = date.max - timedelta(days=7)
STEPS = (
    "title",
    "description",
    "skill",
    "area",
    "day",
    "time",
    "duration",
    "needed",
    "case",
    "preview",
)


def _form(context: SanadContext) -> Form:
    return context.services.intake.forms["volunteer"]


# --- the member's wizard --------------------------------------------------------------------


async def newtask_command(update: Update, context: SanadContext) -> None:
    """/newtask: describe a task, see how many volunteers match, publish it."""
    t = await committee_gate(update, context)
    if t is None or update.effective_user is None:
        return
    session: dict[str, Any] = {"kind": "task", "step": "title"}
    await save_session(context, update.effective_user.id, session)
    await to_member(update, context, *task_screen(t, context, session))


def task_screen(
    t: Translator, context: SanadContext, session: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    """The wizard's current question (tw:<verb>:<arg> buttons)."""
    form = _form(context)
    step = session["step"]
    cancel = button(t.raw("✖️ Cancel"), "tw", "x", "")
    rows: list[list[Any]] = []
    lines = [bold(t.raw("New task"))]
    if step == "title":
        lines.append(t.raw("Send a short title, for example: Drive a family to the hospital."))
    elif step == "description":
        lines.append(
            t.raw(
                "Describe the task for the volunteers. Do not write the family's "
                "name, phone or situation: volunteers see exactly what you write."
            )
        )
    elif step in ("skill", "area"):
        source = form.step("skills" if step == "skill" else "areas")
        assert source is not None
        lines.append(
            t.raw("Which skill is needed?") if step == "skill" else t.raw("In which area?")
        )
        buttons = [button(t.raw(o.label), "tw", step[0], o.id) for o in source.options]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    elif step == "day":
        lines.append(t.raw("Which day? Press a button or send a date like 2027-03-31."))
        rows.append(
            [button(t.raw("Today"), "tw", "d", 0), button(t.raw("Tomorrow"), "tw", "d", 1)]
        )
    elif step == "time":
        lines.append(t.raw("At what time? Press a button or send a time like 14:30."))
        rows.append([button(q, "tw", "t", q.replace(":", "")) for q in QUICK_TIMES])
    elif step == "duration":
        lines.append(t.raw("How long will it take?"))
        rows.append(
            [button(t.plural("{n} minute", "{n} minutes", m), "tw", "u", m) for m in DURATIONS]
        )
    elif step == "needed":
        lines.append(t.raw("How many volunteers are needed? Press a number or send it."))
        rows.append([button(t.number(n), "tw", "n", n) for n in range(1, 7)])
    elif step == "case":
        lines.append(t.raw("Which case does it serve? Send its reference, or press Skip."))
        rows.append([button(t.raw("Skip"), "tw", "c", "")])
    elif step == "preview":
        lines += preview_lines(t, context, session)
        rows.append([button(t.raw("📣 Publish"), "tw", "p", "")])
    rows.append([cancel])
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def preview_lines(t: Translator, context: SanadContext, session: dict[str, Any]) -> list[str]:
    """The task exactly as volunteers will see it, and how many will receive it."""
    draft = Task(
        id=0,
        ref="",
        creator_id=0,
        status="open",
        title=session["title"],
        description=session["description"],
        skill=session["skill"],
        area=session["area"],
        starts_at=datetime.fromisoformat(session["starts_at"]),
        duration_min=session["duration"],
        needed=session["needed"],
        taken=0,
    )
    return [
        render.task_text(t, _form(context), draft, context.services.settings.tz),
        t.plural(
            "{n} active volunteer matches and will receive it.",
            "{n} active volunteers match and will receive it.",
            session["matches"],
        ),
    ]


async def task_button(update: Update, context: SanadContext) -> None:
    """A button of the task wizard: tw:<verb>:<arg>."""
    press = await member_press(update, context)
    if press is None:
        return
    query, member, t = press.query, press.member, press.t
    verb, arg = press.verb, press.arg
    session = await load_session(context, member)
    if session is None or session.get("kind") != "task":
        await query.answer(t.raw("This button no longer works."))
        return
    step = session["step"]
    form = _form(context)
    tz = context.services.settings.tz
    if verb == "x":
        await end_session(context, member)
        await query.answer(t.raw("Cancelled: nothing was changed."))
        return
    if verb == "s" and step == "skill" and _has_option(form, "skills", arg):
        session.update(skill=arg, step="area")
    elif verb == "a" and step == "area" and _has_option(form, "areas", arg):
        session.update(area=arg, step="day")
    elif verb == "d" and step == "day" and arg in ("0", "1"):
        day = utcnow().astimezone(tz).date() + timedelta(days=int(arg))
        session.update(day=day.isoformat(), step="time")
    elif verb == "t" and step == "time" and (at := _quick_time(arg)) is not None:
        if not await _set_time(update, context, session, at):
            await query.answer()
            return
    elif verb == "u" and step == "duration" and whole_number(arg) in DURATIONS:
        session.update(duration=int(arg), step="needed")
    elif verb == "n" and step == "needed" and 1 <= (whole_number(arg) or 0) <= 6:
        session.update(needed=int(arg), step="case")
    elif verb == "c" and step == "case":
        await _to_preview(context, session)
    elif verb == "p" and step == "preview":
        await query.answer()
        await publish(update, context, member, session)
        return
    else:
        await query.answer(t.raw("This button no longer works."))
        return
    await save_session(context, member, session)
    await query.answer()
    text, markup = task_screen(t, context, session)
    await reply(update, text, reply_markup=markup)


def _quick_time(arg: str) -> time | None:
    """The time of a quick-time button (HHMM), None if forged into something else."""
    value = whole_number(arg) if len(arg) == 4 else None
    if value is None or value // 100 > 23 or value % 100 > 59:
        return None
    return time(value // 100, value % 100)


def _has_option(form: Form, step_id: str, option_id: str) -> bool:
    step = form.step(step_id)
    return step is not None and step.option(option_id) is not None


async def _set_time(
    update: Update, context: SanadContext, session: dict[str, Any], at: time
) -> bool:
    starts = datetime.combine(
        date.fromisoformat(session["day"]), at, tzinfo=context.services.settings.tz
    )
    if starts <= utcnow():
        await reply(
            update, context.t.raw("This time has already passed. Please choose a later time.")
        )
        return False
    session.update(starts_at=starts.isoformat(), step="duration")
    return True


async def _to_preview(context: SanadContext, session: dict[str, Any]) -> None:
    matches = await context.services.tasks.matching_volunteers(session["skill"], session["area"])
    session.update(matches=len(matches), step="preview")


async def task_message(update: Update, context: SanadContext, session: dict[str, Any]) -> None:
    """Typed answers of the task wizard: title, description, date, time, number, case."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    member = update.effective_user.id
    t = context.t
    step = session["step"]
    text = message.text
    if text is None:
        await reply(update, t.raw("Please type your answer."))
        return
    typed = normalize_digits(text).strip()
    if step in ("title", "description"):
        limit = TITLE_LIMIT if step == "title" else DESCRIPTION_LIMIT
        value = await checked_text(update, t, text, limit)
        if value is None:
            return
        session.update({step: value, "step": "description" if step == "title" else "skill"})
    elif step == "day":
        try:
            day = date.fromisoformat(typed)
            if day > LAST_DAY:
                raise ValueError(typed)
        except ValueError:
            await reply(update, t.raw("Please send a date like 2027-03-31."))
            return
        session.update(day=day.isoformat(), step="time")
    elif step == "time":
        try:
            at = time.fromisoformat(typed if len(typed) > 2 else f"{typed}:00")
        except ValueError:
            await reply(update, t.raw("Please send a time like 14:30."))
            return
        if not await _set_time(update, context, session, at):
            return
    elif step == "needed" and 1 <= (needed := whole_number(typed) or 0) <= 500:
        session.update(needed=needed, step="case")
    elif step == "case":
        try:
            case = await context.services.review.get(typed[:20])
        except CaseNotFound:
            await reply(update, t.raw("No case has this reference."))
            return
        session["case_id"] = case.id
        await _to_preview(context, session)
    else:
        await reply(update, t.raw("Please use the buttons of the last message, or press Cancel."))
        return
    await save_session(context, member, session)
    text, markup = task_screen(t, context, session)
    await reply(update, text, reply_markup=markup)


async def publish(
    update: Update, context: SanadContext, member: int, session: dict[str, Any]
) -> None:
    """Publish: the offers are queued for every matching volunteer and sent at Telegram's pace."""
    t = context.t
    task, count = await context.services.tasks.publish(
        member,
        session["title"],
        session["description"],
        session["skill"],
        session["area"],
        datetime.fromisoformat(session["starts_at"]),
        session["duration"],
        session["needed"],
        session.get("case_id"),
        ends_session=True,
    )
    log.info("Task %d published to %d volunteers by member %d", task.id, count, member)
    message = await reply(
        update,
        t.plural(
            "Task {ref} published: it is being sent to {n} volunteer.",
            "Task {ref} published: it is being sent to {n} volunteers.",
            count,
            ref=task.ref,
        ),
    )
    if message is not None and count:
        await context.services.tasks.track(task.id, message.chat_id, message.message_id)
    await reply(update, t("Send /task {ref} to follow, change or cancel it.", ref=task.ref))
    context.services.delivery.kick()


# --- volunteers -----------------------------------------------------------------------------


async def task_answer(update: Update, context: SanadContext) -> None:
    """Accept, Decline or Withdraw: tk:<a|d|w>:<task ref>."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    t = context.t
    services = context.services
    user_id = update.effective_user.id
    parts = query.data.split(":")
    verb, ref = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    profile = await volunteers.get(services.db, services.cipher, user_id)
    if profile is None or profile.status != volunteers.ACTIVE:
        await query.answer(
            t.raw("Only active volunteers can answer tasks: send /volunteer."), show_alert=True
        )
        return
    tasks = services.tasks
    if verb == "a":
        answer = await tasks.accept(ref, user_id)
    elif verb == "d":
        answer = await tasks.decline(ref, user_id)
    elif verb == "w":
        answer = await tasks.withdraw(ref, user_id)
    elif verb in OUTCOMES:
        recorded = await tasks.outcome(ref, user_id, OUTCOMES[verb])
        await query.answer()
        await close_buttons(query)
        await reply(
            update,
            t.raw("Thank you, noted.")
            if recorded
            else t.raw("This task is closed: it was cancelled, has started or is over."),
        )
        services.delivery.kick()
        return
    else:
        await query.answer(t.raw("This button no longer works."))
        return
    messages = {
        ACCEPTED: t.raw("Thank you! You are in. /mytasks lists your tasks."),
        "declined": t.raw("Noted, thank you. Other tasks will come."),
        "withdrawn": t.raw("You are out of this task. Thank you for telling us."),
        "closed": t.raw("This task is closed: it was cancelled, has started or is over."),
        "already": t.raw("You already answered this task. See /mytasks."),
    }
    if answer.status == WAITLISTED:
        text = t(
            "The task is full. You are number {n} on the waiting list; you will be told "
            "if a place becomes free.",
            n=t.number(answer.position),
        )
    else:
        text = messages.get(answer.status, t.raw("This button no longer works."))
    await query.answer()
    await reply(update, text)
    services.delivery.kick()
    await reminders.sync(context.application, services)


async def tasks_command(update: Update, context: SanadContext) -> None:
    """/tasks: open tasks that fit the volunteer."""
    assert update.effective_user is not None
    t = context.t
    services = context.services
    profile = await volunteers.get(services.db, services.cipher, update.effective_user.id)
    if profile is None:
        await reply(update, t.raw("Register first with /volunteer to see tasks."))
        return
    found = await services.tasks.open_for(
        profile.answers.get("skills", []), profile.answers.get("areas", [])
    )
    if not found:
        await reply(
            update, t.raw("No open task fits you right now. You will be told when one does.")
        )
        return
    for task in found[:10]:
        await reply(
            update,
            render.task_text(t, _form(context), task, services.settings.tz),
            reply_markup=render.task_keyboard(t, task.ref),
        )


async def mytasks_command(update: Update, context: SanadContext) -> None:
    """/mytasks: the tasks the volunteer holds or waits for, upcoming first."""
    assert update.effective_user is not None
    t = context.t
    services = context.services
    mine = await services.tasks.mine(update.effective_user.id)
    if not mine:
        await reply(update, t.raw("You have no task yet. Send /tasks to see the open ones."))
        return
    for task, status in mine[:20]:
        label = t.raw("You are in") if status == ACCEPTED else t.raw("On the waiting list")
        text = (
            bold(escape(label))
            + "\n\n"
            + render.task_text(t, _form(context), task, services.settings.tz)
        )
        markup = InlineKeyboardMarkup([[button(t.raw("I can't make it"), "tk", "w", task.ref)]])
        await reply(update, text, reply_markup=markup)


__all__ = [
    "Task",
    "mytasks_command",
    "newtask_command",
    "task_answer",
    "task_button",
    "task_message",
    "tasks_command",
]


# --- the member manages a task --------------------------------------------------------------


async def task_command(update: Update, context: SanadContext) -> None:
    """/task REF: a published task, who answered, and Change / Cancel."""
    t = await committee_gate(update, context)
    if t is None:
        return
    if not context.args:
        await to_member(update, context, t.raw("Send /task followed by the task reference."))
        return
    task = await context.services.tasks.get(context.args[0][:10])
    if task is None:
        await to_member(update, context, t.raw("No task has this reference."))
        return
    counts = await context.services.tasks.people_of(task.id)
    text = "\n\n".join(
        [
            render.task_text(t, _form(context), task, context.services.settings.tz),
            t(
                "{accepted} accepted, {waiting} on the waiting list, {declined} declined.",
                accepted=t.number(counts.get(ACCEPTED, 0)),
                waiting=t.number(counts.get(WAITLISTED, 0)),
                declined=t.number(counts.get("declined", 0)),
            ),
        ]
    )
    markup = None
    if task.status == "open":
        markup = InlineKeyboardMarkup(
            [
                [
                    button(t.raw("🕒 Change the time"), "tm", "t", task.ref),
                    button(t.raw("📝 Change the description"), "tm", "d", task.ref),
                ],
                [button(t.raw("🗑 Cancel the task"), "tm", "x", task.ref)],
            ]
        )
    await to_member(update, context, text, markup)


async def manage_button(update: Update, context: SanadContext) -> None:
    """tm:<verb>:<ref>: change the time or the description, or cancel (after confirming)."""
    press = await member_press(update, context)
    if press is None:
        return
    query, member, t = press.query, press.member, press.t
    verb, ref = press.verb, press.arg
    tasks = context.services.tasks
    task = await tasks.get(ref)
    if task is None or task.status != "open":
        await query.answer(t.raw("This task is closed: it was cancelled, has started or is over."))
        return
    await query.answer()
    if verb == "x":
        await reply(
            update,
            t("Cancel task {ref}? Everyone who accepted it will be told.", ref=task.ref),
            reply_markup=InlineKeyboardMarkup(
                [
                    [button(t.raw("Yes, cancel it"), "tm", "X", task.ref)],
                    [button(t.raw("No, keep it"), "tm", "k", task.ref)],
                ]
            ),
        )
    elif verb == "X":
        await close_buttons(query)
        await tasks.cancel(task.ref, member)
        await reply(
            update, t("Task {ref} is cancelled; the volunteers are being told.", ref=task.ref)
        )
        context.services.delivery.kick()
    elif verb in ("t", "d"):
        await save_session(
            context,
            member,
            {
                "kind": "taskedit",
                "ref": task.ref,
                "step": "time" if verb == "t" else "description",
            },
        )
        await reply(
            update,
            t.raw("Send the new day and time, like 2027-03-31 14:30.")
            if verb == "t"
            else t.raw("Send the new description."),
        )
    else:
        await close_buttons(query)
        await reply(update, t.raw("Good, nothing was changed."))


async def task_edit_message(
    update: Update, context: SanadContext, session: dict[str, Any]
) -> None:
    """The new time or description of a task, typed by the member."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    member = update.effective_user.id
    tasks = context.services.tasks
    if message.text is None:
        await reply(update, t.raw("Please type your answer."))
        return
    if session["step"] == "time":
        try:
            starts = datetime.fromisoformat(normalize_digits(message.text).strip())
            if starts.date() > LAST_DAY:
                raise ValueError(message.text)
        except ValueError:
            await reply(update, t.raw("Please send the day and time like 2027-03-31 14:30."))
            return
        starts = starts.replace(tzinfo=context.services.settings.tz)
        if starts <= utcnow():
            await reply(update, t.raw("This time has already passed. Please choose a later time."))
            return
        changed = await tasks.change(session["ref"], member, starts_at=starts, ends_session=True)
    else:
        text = await checked_text(update, t, message.text, DESCRIPTION_LIMIT)
        if text is None:
            return
        changed = await tasks.change(session["ref"], member, description=text, ends_session=True)
    if changed is None:
        await end_session(context, member)
        await reply(
            update, t.raw("This task is closed: it was cancelled, has started or is over.")
        )
        return
    await reply(update, t("Task {ref} changed; the volunteers are being told.", ref=changed.ref))
    context.services.delivery.kick()
    await reminders.sync(context.application, context.services)
