"""Tasks once published: /tasks and /mytasks for volunteers and their Accept / Decline /
Withdraw buttons; /task for members, to follow, change or cancel one.

Changing a task is a one-step wizard kept in the member's session: which field, then the new
value typed. A volunteer never sees a family's data: the member writes what the task says.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot import contributions, reminders, render
from bot.buttons import TaskAnswer, TaskManagePress
from bot.context import SanadContext
from bot.forms import AREAS, SKILLS
from bot.i18n import N_, Translator, escape
from bot.render import bold, confirm_keyboard
from bot.storage import utcnow, volunteers
from bot.tasks import ACCEPTED, DECLINED, WAITLISTED, WITHDRAWN, Answer, Task, TaskService
from bot.text import MAX_MESSAGE
from handlers.members import Press, committee_gate, member_press, to_member
from handlers.sessions import Session, forget_session, route, save_session
from handlers.task_wizard import DESCRIPTION_LIMIT
from handlers.util import STALE, own_chat, reply, stale
from handlers.validators import checked_text, typed_datetime
from handlers.when_steps import LAST_DAY

OUTCOMES = {"c": "coming", "y": "done", "n": "not_done"}
# What the pressed message says once answered ("Your answer: Accepted"), by what was stored.
ANSWERED = {
    ACCEPTED: N_("Accepted"),
    WAITLISTED: N_("On the waiting list"),
    DECLINED: N_("Not available"),
    WITHDRAWN: N_("I can't make it"),
    "coming": N_("I'm coming"),
    "done": N_("Done"),
    "not_done": N_("It did not happen"),
}
# Answers after which the pressed message's buttons can do nothing any more.
CLOSED = "closed"
ANSWERS: dict[str, Callable[[TaskService, str, int], Awaitable[Answer]]] = {
    "a": TaskService.accept,
    "d": TaskService.decline,
    "w": TaskService.withdraw,
}


# --- volunteers -----------------------------------------------------------------------------


async def _profile(context: SanadContext, user_id: int) -> volunteers.Volunteer | None:
    """The volunteer's stored profile."""
    return await context.services.volunteers.get(user_id)


async def task_answer(update: Update, context: SanadContext, press: TaskAnswer) -> None:
    """Accept, Decline or Withdraw: tk:<a|d|w>:<task ref>; and the follow-up c|y|n."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    services = context.services
    user_id = update.effective_user.id
    verb, ref = press.verb, press.task
    profile = await _profile(context, user_id)
    if profile is None or profile.status != volunteers.ACTIVE:
        await query.answer(
            t.raw("Only active volunteers can answer tasks: send /volunteer."), show_alert=True
        )
        return
    if verb in OUTCOMES:
        await _outcome(update, context, ref, OUTCOMES[verb])
        return
    answering = ANSWERS.get(verb)
    if answering is None:
        await stale(query, t)
        return
    answer = await answering(services.tasks, ref, user_id)
    await query.answer()
    await answered(query, t, answer.status)
    await reply(update, _answer_text(context, answer))
    services.delivery.kick()
    await reminders.sync(context.application, services)


async def answered(query: CallbackQuery, t: Translator, status: str) -> None:
    """The pressed message shows the answer (:data:`ANSWERED`) and loses its buttons; with
    ``CLOSED`` (a closed task, a confirmation answered) it only loses them.

    A message whose buttons are already gone (answered before, or a forged press) is left
    alone: an edit would change nothing, and Telegram answers it with "message is not
    modified". The press carries the message as it is now, so this costs no call.
    """
    message = query.message
    if not own_chat(query) or not isinstance(message, Message) or message.reply_markup is None:
        return
    label = ANSWERED.get(status)
    if status != CLOSED and label is None:
        return  # nothing was answered (already answered, unfit): the buttons stay
    # Cosmetic, after the durable write: a failure must not bring an apology.
    with contextlib.suppress(TelegramError):
        if label is None or message.text is None:
            await query.edit_message_reply_markup(reply_markup=None)
            return
        line = t("Your answer: {answer}", answer=t.raw(label))
        text = f"{message.text_html}\n\n{bold(line)}"
        if len(text) > MAX_MESSAGE:
            await query.edit_message_reply_markup(reply_markup=None)
            return
        await query.edit_message_text(text, reply_markup=None)


def _answer_text(context: SanadContext, answer: Answer) -> str:
    """What the volunteer is told once their answer is stored."""
    t = context.t
    if answer.status == WAITLISTED:
        return t(
            "The task is full. You are number {n} on the waiting list; you will be told "
            "if a place becomes free.",
            n=t.number(answer.position),
        )
    if answer.status == ACCEPTED:
        return render.task_joined(t, context.services.settings.reminder_offsets)
    messages = {
        "declined": t.raw("Noted, thank you. Other tasks will come."),
        "withdrawn": t.raw("You are out of this task. Thank you for telling us."),
        "closed": t.raw("This task is closed: it was cancelled, has started or is over."),
        "already": t.raw("You already answered this task. See /mytasks."),
        "unfit": t.raw("This task does not fit your skills or areas."),
        "inactive": t.raw("Only active volunteers can answer tasks: send /volunteer."),
    }
    return messages.get(answer.status, t.raw(STALE))


async def _outcome(update: Update, context: SanadContext, ref: str, outcome: str) -> None:
    """The volunteer says, after the task, whether it happened."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    recorded = await context.services.tasks.outcome(ref, update.effective_user.id, outcome)
    await query.answer()
    await answered(query, t, outcome if recorded else CLOSED)
    await reply(
        update,
        t.raw("Thank you, noted.")
        if recorded
        else t.raw("This task is closed: it was cancelled, has started or is over."),
    )
    context.services.delivery.kick()


async def tasks_command(update: Update, context: SanadContext) -> None:
    """/tasks: open tasks that fit the volunteer."""
    assert update.effective_user is not None
    t = context.t
    services = context.services
    profile = await _profile(context, update.effective_user.id)
    if profile is None:
        await reply(update, t.raw("Register first with /volunteer to see tasks."))
        return
    if profile.status == volunteers.PENDING:
        await reply(
            update,
            t.raw(
                "Your registration is waiting for the committee's approval: you will see "
                "tasks once it approves you."
            ),
        )
        return
    if profile.status != volunteers.ACTIVE:
        await reply(update, t.raw("Only active volunteers can answer tasks: send /volunteer."))
        return
    form = services.volunteer_form
    found = await services.tasks.open_for(
        profile.answers.get(form.role_id(SKILLS), []), profile.answers.get(form.role_id(AREAS), [])
    )
    if not found:
        await reply(
            update, t.raw("No open task fits you right now. You will be told when one does.")
        )
        return
    for task in found[:10]:
        await reply(
            update,
            render.task_text(t, context.services.volunteer_form, task, services.settings.tz),
            reply_markup=render.task_keyboard(t, task.ref),
        )


async def mytasks_command(update: Update, context: SanadContext) -> None:
    """/mytasks: the tasks the volunteer holds or waits for, upcoming first."""
    assert update.effective_user is not None
    t = context.t
    services = context.services
    mine = await services.tasks.mine(update.effective_user.id)
    total = await contributions.of_volunteer(services.db, services.ids, update.effective_user.id)
    if (line := contributions.mine_line(t, total)) is not None:
        await reply(update, line)
    if not mine:
        await reply(update, t.raw("You have no task yet. Send /tasks to see the open ones."))
        return
    for task, status in mine[:20]:
        label = t.raw("You are in") if status == ACCEPTED else t.raw("On the waiting list")
        form, tz = context.services.volunteer_form, services.settings.tz
        text = bold(escape(label)) + "\n\n" + render.task_text(t, form, task, tz, places=False)
        markup = InlineKeyboardMarkup(
            [[TaskAnswer("w", task.ref).button(t.raw("I can't make it"))]]
        )
        await reply(update, text, reply_markup=markup)


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
            render.task_text(
                t, context.services.volunteer_form, task, context.services.settings.tz
            ),
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
                    TaskManagePress("t", task.ref).button(t.raw("🕒 Change the time")),
                    TaskManagePress("d", task.ref).button(t.raw("📝 Change the description")),
                ],
                [TaskManagePress("x", task.ref).button(t.raw("🗑 Cancel the task"))],
            ]
        )
    await to_member(update, context, text, markup)


async def manage_button(update: Update, context: SanadContext) -> None:
    """tm:<verb>:<ref>: change the time or the description, or cancel (after confirming)."""
    press = await member_press(update, context, TaskManagePress)
    if press is None:
        return
    query, t = press.query, press.t
    task = await context.services.tasks.get(press.data.task)
    if task is None or task.status != "open":
        await query.answer(t.raw("This task is closed: it was cancelled, has started or is over."))
        return
    await query.answer()
    await MANAGE.get(press.data.verb, _keep)(update, context, press, task)


Manage = Callable[[Update, SanadContext, Press[TaskManagePress], Task], Awaitable[None]]


async def _ask_cancel(
    update: Update, context: SanadContext, press: Press[TaskManagePress], task: Task
) -> None:
    t = press.t
    await reply(
        update,
        t("Cancel task {ref}? Everyone who accepted it will be told.", ref=task.ref),
        reply_markup=confirm_keyboard(
            t.raw("Yes, cancel it"),
            TaskManagePress("X", task.ref),
            t.pgettext("task", "No, keep it"),
            TaskManagePress("k", task.ref),
        ),
    )


async def _cancel(
    update: Update, context: SanadContext, press: Press[TaskManagePress], task: Task
) -> None:
    await answered(press.query, press.t, CLOSED)
    await context.services.tasks.cancel(task.ref, press.member)
    await reply(
        update, press.t("Task {ref} is cancelled; the volunteers are being told.", ref=task.ref)
    )
    context.services.delivery.kick()


async def _keep(
    update: Update, context: SanadContext, press: Press[TaskManagePress], task: Task
) -> None:
    await answered(press.query, press.t, CLOSED)
    await reply(update, press.t.raw("Good, nothing was changed."))


# --- the change wizard: tm:t / tm:d, then the new value typed --------------------------------


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


async def _new_description(
    update: Update, context: SanadContext, text: str
) -> dict[str, Any] | None:
    description = await checked_text(update, context.t, text, DESCRIPTION_LIMIT)
    return None if description is None else {"description": description}


CHANGES = {
    "time": Change("time", N_("Send the new day and time, like 2027-03-31 14:30."), _new_time),
    "description": Change("description", N_("Send the new description."), _new_description),
}


def _start_change(change: Change) -> Manage:
    """tm:t or tm:d: the session waits for the new value."""

    async def start(
        update: Update, context: SanadContext, press: Press[TaskManagePress], task: Task
    ) -> None:
        await save_session(
            context, press.member, {"kind": "taskedit", "ref": task.ref, "step": change.step}
        )
        await reply(update, press.t.raw(change.prompt))

    return start


MANAGE: dict[str, Manage] = {
    "x": _ask_cancel,
    "X": _cancel,
    "t": _start_change(CHANGES["time"]),
    "d": _start_change(CHANGES["description"]),
}


@route("taskedit")
async def task_edit_message(update: Update, context: SanadContext, session: Session) -> None:
    """The new time or description of a task, typed by the member."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    member = update.effective_user.id
    if message.text is None:
        await reply(update, t.raw("Please type your answer."))
        return
    change = CHANGES["time" if session["step"] == "time" else "description"]
    fields = await change.read(update, context, message.text)
    if fields is None:
        return
    changed = await context.services.tasks.change(
        session["ref"], member, **fields, ends_session=True
    )
    if changed is None:
        await forget_session(context, member)
        await reply(
            update, t.raw("This task is closed: it was cancelled, has started or is over.")
        )
        return
    await reply(update, t("Task {ref} changed; the volunteers are being told.", ref=changed.ref))
    context.services.delivery.kick()
    await reminders.sync(context.application, context.services)
