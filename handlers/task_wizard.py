"""/newtask: a member describes a task step by step, sees how many volunteers match, publishes.

The wizard keeps its state in the member's encrypted session, like the case wizards, and is
declared as a step table (handlers/wizard.py). Its buttons are tw:<verb>:<arg>. A volunteer
never sees a family's data: the member writes what the task says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from bot import render, when
from bot.buttons import TaskWizardPress
from bot.context import SanadContext
from bot.errors import CaseNotFound
from bot.forms import AREAS, SKILLS
from bot.i18n import Translator
from bot.tasks import Task
from bot.text import normalize_digits, whole_number
from handlers.members import committee_gate, member_press, to_member
from handlers.sessions import (
    Session,
    remember_screen,
    route,
    save_session,
)
from handlers.util import close_buttons, reply
from handlers.when_steps import (
    day_button,
    day_screen,
    time_button,
    time_screen,
    typed_day,
    typed_text,
    typed_time,
)
from handlers.wizard import (
    Action,
    Outcome,
    Parts,
    Screen,
    Wizard,
    WizardStep,
    cancel_button,
    drive_press,
    drive_text,
)

log = logging.getLogger(__name__)

TITLE_LIMIT = 100
DESCRIPTION_LIMIT = 1000
DURATIONS = (60, 120, 180, 240)


async def newtask_command(update: Update, context: SanadContext) -> None:
    """/newtask: describe a task, see how many volunteers match, publish it."""
    t = await committee_gate(update, context)
    if t is None or update.effective_user is None:
        return
    session: Session = {"kind": "task", "step": "title"}
    await save_session(context, update.effective_user.id, session)
    sent = await to_member(update, context, *task_screen(t, context, session))
    await remember_screen(context, update.effective_user.id, session, sent)


def task_screen(
    t: Translator, context: SanadContext, session: Session
) -> tuple[str, InlineKeyboardMarkup]:
    """The wizard's current question (tw:<verb>:<arg> buttons)."""
    return NEW_TASK.screen(t, context, session, t.raw("New task"))


def preview_lines(t: Translator, context: SanadContext, session: Session) -> list[str]:
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
        render.task_text(t, context.services.volunteer_form, draft, context.services.settings.tz),
        t.plural(
            "{n} active volunteer matches and will receive it.",
            "{n} active volunteers match and will receive it.",
            session["matches"],
        ),
    ]


# --- screens --------------------------------------------------------------------------------


def _screen(build: Screen) -> Screen:
    """Every screen of the wizard ends with Cancel."""

    def screen(t: Translator, context: SanadContext, session: Session) -> Parts:
        lines, rows = build(t, context, session)
        return lines, [*rows, [cancel_button(t, TaskWizardPress)]]

    return screen


def _options_screen(role: str, verb: str) -> Screen:
    """The options of the volunteer form's step of ``role`` (skills, areas), two per row."""

    def screen(t: Translator, context: SanadContext, session: Session) -> Parts:
        source = context.services.volunteer_form.role(role)
        question = t.raw("Which skill is needed?") if verb == "s" else t.raw("In which area?")
        buttons = [TaskWizardPress(verb, o.id).button(t.raw(o.label)) for o in source.options]
        return [question], [buttons[i : i + 2] for i in range(0, len(buttons), 2)]

    return screen


def _title_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    return [t.raw("Send a short title, for example: Drive a family to the hospital.")], []


def _description_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    text = t.raw(
        "Describe the task for the volunteers. Do not write the family's "
        "name, phone or situation: volunteers see exactly what you write."
    )
    return [text], []


def _duration_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    row = [TaskWizardPress("u", str(m)).button(when.duration(t, m)) for m in DURATIONS]
    return [t.raw("How long will it take?")], [row]


def _needed_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    row = [TaskWizardPress("n", str(n)).button(t.number(n)) for n in range(1, 7)]
    return [t.raw("How many volunteers are needed? Press a number or send it.")], [row]


def _case_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    row = [TaskWizardPress("c", "").button(t.raw("Skip"))]
    return [t.raw("Which case does it serve? Send its reference, or press Skip.")], [row]


def _preview_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    publish_row = [TaskWizardPress("p", "").button(t.raw("📣 Publish"))]
    return preview_lines(t, context, session), [publish_row]


# --- what the steps take --------------------------------------------------------------------


def _option(role: str, field: str, then: str) -> Action:
    """A button choosing one option of the volunteer form's step of ``role``."""

    async def take(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
        if context.services.volunteer_form.role(role).option(arg) is None:
            return Outcome.STALE
        session.update({field: arg, "step": then})
        return Outcome.MOVED

    return take


async def _duration(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if whole_number(arg) not in DURATIONS:
        return Outcome.STALE
    session.update(duration=int(arg), step="needed")
    return Outcome.MOVED


def _needed(most: int, clean: Callable[[str], str]) -> Action:
    """How many volunteers: up to ``most`` (six on the buttons, more when typed); ``clean``
    prepares what was pressed or typed (a button's argument is taken as it is)."""

    async def take(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
        needed = whole_number(clean(arg)) or 0
        if not 1 <= needed <= most:
            return Outcome.STALE
        session.update(needed=needed, step="case")
        return Outcome.MOVED

    return take


async def _skip_case(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    await _to_preview(context, session)
    return Outcome.MOVED


async def _typed_case(
    update: Update, context: SanadContext, session: Session, text: str
) -> Outcome:
    try:
        case = await context.services.review.get(normalize_digits(text).strip()[:20])
    except CaseNotFound:
        await reply(update, context.t.raw("No case has this reference."))
        return Outcome.DONE
    session["case_id"] = case.id
    await _to_preview(context, session)
    return Outcome.MOVED


async def _to_preview(context: SanadContext, session: Session) -> None:
    matches = await context.services.tasks.count_matching(session["skill"], session["area"])
    session.update(matches=matches, step="preview")


async def _publish(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    assert update.callback_query is not None and update.effective_user is not None
    await update.callback_query.answer()
    await close_buttons(update.callback_query)  # the preview: published once
    await publish(update, context, update.effective_user.id, session)
    return Outcome.DONE


NEW_TASK = Wizard(
    {
        "title": WizardStep(
            _screen(_title_screen), text=typed_text("title", TITLE_LIMIT, "description")
        ),
        "description": WizardStep(
            _screen(_description_screen),
            text=typed_text("description", DESCRIPTION_LIMIT, "skill"),
        ),
        "skill": WizardStep(
            _screen(_options_screen(SKILLS, "s")), {"s": _option(SKILLS, "skill", "area")}
        ),
        "area": WizardStep(
            _screen(_options_screen(AREAS, "a")), {"a": _option(AREAS, "area", "day")}
        ),
        "day": WizardStep(_screen(day_screen(TaskWizardPress)), {"d": day_button}, text=typed_day),
        "time": WizardStep(
            _screen(time_screen(TaskWizardPress)),
            {"t": time_button("duration")},
            text=typed_time("duration"),
        ),
        "duration": WizardStep(_screen(_duration_screen), {"u": _duration}),
        "needed": WizardStep(
            _screen(_needed_screen),
            {"n": _needed(6, str)},
            text=_needed(500, lambda text: normalize_digits(text).strip()),
        ),
        "case": WizardStep(_screen(_case_screen), {"c": _skip_case}, text=_typed_case),
        "preview": WizardStep(_screen(_preview_screen), {"p": _publish}),
    }
)


# --- driving the wizard ---------------------------------------------------------------------


async def task_button(update: Update, context: SanadContext) -> None:
    """A button of the task wizard: tw:<verb>:<arg>."""
    press = await member_press(update, context, TaskWizardPress)
    if press is not None:
        await drive_press(
            update, context, NEW_TASK, "task", task_screen, press.data.verb, press.data.arg
        )


@route("task")
async def task_message(update: Update, context: SanadContext, session: Session) -> None:
    """Typed answers of the task wizard: title, description, date, time, number, case."""
    await drive_text(update, context, NEW_TASK, session, task_screen)


async def publish(update: Update, context: SanadContext, member: int, session: Session) -> None:
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
    log.info("Task %d published to %d volunteers", task.id, count)
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
