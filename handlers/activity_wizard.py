"""/newactivity: a member describes a community activity step by step, sees how many people
it will reach, and announces it.

The wizard keeps its state in the member's encrypted session (a restart loses nothing) and is
declared as a step table (handlers/wizard.py), like /newtask. Its buttons are aw:<verb>:<arg>.
The member writes what the activity says: nobody invited sees anyone else's data.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from bot.activities import ANYWHERE, AUDIENCES, BOTH, FAMILIES, OPEN, VOLUNTEERS, Activity
from bot.activity_views import AUDIENCE_LABELS, activity_text, counts_keyboard, counts_text
from bot.buttons import ActivityWizardPress
from bot.context import SanadContext
from bot.forms import AREAS
from bot.i18n import Translator
from bot.text import normalize_digits, whole_number
from handlers.members import committee_gate, member_press, to_member
from handlers.sessions import Session, remember_screen, route, save_session
from handlers.task_wizard import DESCRIPTION_LIMIT, TITLE_LIMIT
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

PLACE_LIMIT = 200
CAPACITIES = (10, 20, 30, 50)
MOST = 10_000  # a typed capacity above this is a typing error
NO_LIMIT = "0"
EVERY_AREA = ""


async def newactivity_command(update: Update, context: SanadContext) -> None:
    """/newactivity: describe an activity, see how many it reaches, announce it."""
    t = await committee_gate(update, context)
    if t is None or update.effective_user is None:
        return
    session: Session = {"kind": "activity", "step": "title"}
    await save_session(context, update.effective_user.id, session)
    sent = await to_member(update, context, *activity_screen(t, context, session))
    await remember_screen(context, update.effective_user.id, session, sent)


def activity_screen(
    t: Translator, context: SanadContext, session: Session
) -> tuple[str, InlineKeyboardMarkup]:
    """The wizard's current question (aw:<verb>:<arg> buttons)."""
    return NEW_ACTIVITY.screen(t, context, session, t.raw("New community activity"))


def _draft(session: Session) -> Activity:
    """The activity as the session describes it, for the preview."""
    return Activity(
        id=0,
        ref="",
        creator_id=0,
        status=OPEN,
        title=session["title"],
        description=session["description"],
        place=session["place"],
        starts_at=datetime.fromisoformat(session["starts_at"]),
        capacity=session.get("capacity"),
        audience=session["audience"],
        area=session.get("area"),
    )


# --- screens --------------------------------------------------------------------------------


def _screen(build: Screen) -> Screen:
    """Every screen of the wizard ends with Cancel."""

    def screen(t: Translator, context: SanadContext, session: Session) -> Parts:
        lines, rows = build(t, context, session)
        return lines, [*rows, [cancel_button(t, ActivityWizardPress)]]

    return screen


def _title_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    return [t.raw("Send a short title, for example: Football afternoon for the children.")], []


def _description_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    text = t.raw(
        "Describe the activity: what happens, for whom, what to bring. Everyone invited "
        "reads exactly what you write."
    )
    return [text], []


def _place_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    return [t.raw("Where does it take place? Send the place.")], []


def _capacity_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    row = [ActivityWizardPress("c", str(n)).button(t.number(n)) for n in CAPACITIES]
    unlimited = [ActivityWizardPress("c", NO_LIMIT).button(t.raw("No limit"))]
    question = t.raw("How many people can come? Press a number, send it, or press No limit.")
    return [question], [row, unlimited]


def _audience_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    rows = [[ActivityWizardPress("u", a).button(t.raw(AUDIENCE_LABELS[a]))] for a in AUDIENCES]
    note = t.raw(
        "Who is invited? Families: those with an approved case who agreed to hear about "
        "activities. Volunteers: approved and active ones."
    )
    return [note], rows


def _area_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    source = context.services.volunteer_form.role(AREAS)
    buttons = [
        ActivityWizardPress("a", o.id).button(t.raw(o.label))
        for o in source.options
        if o.id != ANYWHERE
    ]
    every = [ActivityWizardPress("a", EVERY_AREA).button(t.raw("Every area"))]
    rows = [every, *(buttons[i : i + 2] for i in range(0, len(buttons), 2))]
    return [t.raw("In which area? Only people of that area are invited.")], rows


def _preview_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    tz = context.services.settings.tz
    lines = [
        activity_text(t, _draft(session), tz),
        t.plural(
            "It will be announced to {n} person.",
            "It will be announced to {n} people.",
            session["reach"],
        ),
    ]
    return lines, [[ActivityWizardPress("p", "").button(t.raw("📣 Announce"))]]


# --- what the steps take --------------------------------------------------------------------


def _capacity(most: int) -> Action:
    """How many can come: 0 is no limit (a button), else 1 to ``most``."""

    async def take(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
        typed = normalize_digits(arg).strip()
        if typed == NO_LIMIT:
            session.update(capacity=None, step="audience")
            return Outcome.MOVED
        capacity = whole_number(typed) or 0
        if not 1 <= capacity <= most:
            return Outcome.STALE
        session.update(capacity=capacity, step="audience")
        return Outcome.MOVED

    return take


async def _audience(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if arg not in (FAMILIES, VOLUNTEERS, BOTH):
        return Outcome.STALE
    session.update(audience=arg, step="area")
    return Outcome.MOVED


async def _area(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    areas = context.services.volunteer_form.role(AREAS)
    if arg != EVERY_AREA and (arg == ANYWHERE or areas.option(arg) is None):
        return Outcome.STALE
    area = arg or None
    reach = await context.services.activities.count_audience(session["audience"], area)
    session.update(area=area, reach=reach, step="preview")
    return Outcome.MOVED


async def _publish(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    assert update.callback_query is not None and update.effective_user is not None
    await update.callback_query.answer()
    await close_buttons(update.callback_query)  # the preview: published once
    await publish(update, context, update.effective_user.id, session)
    return Outcome.DONE


NEW_ACTIVITY = Wizard(
    {
        "title": WizardStep(
            _screen(_title_screen), text=typed_text("title", TITLE_LIMIT, "description")
        ),
        "description": WizardStep(
            _screen(_description_screen),
            text=typed_text("description", DESCRIPTION_LIMIT, "place"),
        ),
        "place": WizardStep(_screen(_place_screen), text=typed_text("place", PLACE_LIMIT, "day")),
        "day": WizardStep(
            _screen(day_screen(ActivityWizardPress)), {"d": day_button}, text=typed_day
        ),
        "time": WizardStep(
            _screen(time_screen(ActivityWizardPress)),
            {"t": time_button("capacity")},
            text=typed_time("capacity"),
        ),
        "capacity": WizardStep(
            _screen(_capacity_screen), {"c": _capacity(max(CAPACITIES))}, text=_capacity(MOST)
        ),
        "audience": WizardStep(_screen(_audience_screen), {"u": _audience}),
        "area": WizardStep(_screen(_area_screen), {"a": _area}),
        "preview": WizardStep(_screen(_preview_screen), {"p": _publish}),
    }
)


# --- driving the wizard ---------------------------------------------------------------------


async def activity_button(update: Update, context: SanadContext) -> None:
    """A button of the activity wizard: aw:<verb>:<arg>."""
    press = await member_press(update, context, ActivityWizardPress)
    if press is not None:
        await drive_press(
            update,
            context,
            NEW_ACTIVITY,
            "activity",
            activity_screen,
            press.data.verb,
            press.data.arg,
        )


@route("activity")
async def activity_message(update: Update, context: SanadContext, session: Session) -> None:
    """Typed answers of the activity wizard: title, description, place, date, time, number."""
    await drive_text(update, context, NEW_ACTIVITY, session, activity_screen)


async def publish(update: Update, context: SanadContext, member: int, session: Session) -> None:
    """Announce: the messages are queued for everyone invited and sent at Telegram's pace;
    the member's counts message follows them, then the answers, in place."""
    t = context.t
    services = context.services
    activity, count = await services.activities.publish(
        member,
        title=session["title"],
        description=session["description"],
        place=session["place"],
        starts_at=datetime.fromisoformat(session["starts_at"]),
        capacity=session.get("capacity"),
        audience=session["audience"],
        area=session.get("area"),
        ends_session=True,
    )
    log.info("Activity %d announced to %d people", activity.id, count)
    counts = await services.activities.counts(activity.id)
    text = counts_text(t, services.volunteer_form, activity, counts, services.settings.tz)
    message = await reply(update, text, reply_markup=counts_keyboard(t, activity))
    if message is not None:
        await services.activities.show_counts(activity.id, message.chat_id, message.message_id)
    services.delivery.kick()
