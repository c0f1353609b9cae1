"""/case's "Find a volunteer": the member chooses when, one volunteer of the shortlist, how
long and what the task says, and it is offered to that volunteer alone.

The time comes first, so that the shortlist can rank who is usually free then. The wizard
keeps its state in the member's encrypted session, as the task wizard does, and takes that
wizard's steps (day, time, duration, title, description) as they are, leading them here to
this wizard's next step. The shortlist is kept in the session as it was shown, so a restart
shows the same page; the offer checks again that the volunteer still fits. Volunteers are
shown by their reference, as in /volunteers. Buttons: av:<verb>:<arg>.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot import reminders, render, when, workflow
from bot.buttons import AssignPress
from bot.context import SanadContext
from bot.forms import SKILLS
from bot.i18n import Translator, escape
from bot.matching import Match
from bot.render import bold
from bot.storage.cases import Case
from bot.tasks import ANYWHERE, Task
from bot.text import whole_number
from handlers.members import member_press
from handlers.sessions import (
    Session,
    close_screen,
    forget_session,
    load_session,
    remember_screen,
    route,
    save_session,
)
from handlers.task_wizard import DESCRIPTION_LIMIT, DURATIONS, TITLE_LIMIT, _duration
from handlers.util import close_buttons, reply, stale
from handlers.when_steps import (
    day_button,
    day_screen,
    time_button,
    time_screen,
    typed_day,
    typed_text,
    typed_time,
)
from handlers.wizard import Action, Outcome, Parts, Screen, Wizard, WizardStep, cancel_button

log = logging.getLogger(__name__)

KIND = "assign"
PAGE = 6  # volunteers on a page of the shortlist (buttons and text stay well within limits)


def case_keyboard(t: Translator, case: Case) -> InlineKeyboardMarkup:
    """The private /case keyboard: the card's buttons, and "Find a volunteer" once the case
    is approved."""
    markup = render.case_keyboard(t, case)
    if case.status != workflow.APPROVED:
        return markup
    rows = [list(row) for row in markup.inline_keyboard]
    rows.append([AssignPress("f", case.ref).button(t.raw("🤝 Find a volunteer"))])
    return InlineKeyboardMarkup(rows)


# --- screens --------------------------------------------------------------------------------


def _screen(build: Screen) -> Screen:
    """Every screen of the wizard ends with Cancel."""

    def screen(t: Translator, context: SanadContext, session: Session) -> Parts:
        lines, rows = build(t, context, session)
        return lines, [*rows, [cancel_button(t, AssignPress)]]

    return screen


def _entry(t: Translator, context: SanadContext, number: int, entry: dict[str, Any]) -> str:
    """One volunteer of the shortlist: what of the case they cover, why they rank there, and
    how many tasks they hold now."""
    source = context.services.volunteer_form.role(SKILLS)
    covered = [source.option(need) for need in entry["covered"]]
    labels = t.join(t.raw(o.label) for o in covered if o is not None)
    facts = [escape(labels)]
    if entry["area"]:
        facts.append(escape(t.raw("same area")))
    if entry["language"]:
        facts.append(escape(t.raw("speaks the family's language")))
    if entry["available"]:
        facts.append(escape(t.raw("usually free then")))
    load = int(entry["load"])
    facts.append(escape(t.plural("holds {n} task now", "holds {n} tasks now", load)))
    return f"{t.number(number)}. {bold(t.isolate(entry['ref']))}: " + " · ".join(facts)


def _pick_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    shortlist: list[dict[str, Any]] = session["shortlist"]
    if not shortlist:
        return [t.raw("No active volunteer fits this case now.")], []
    page = session.get("page", 0)
    first = page * PAGE
    shown = shortlist[first : first + PAGE]
    lines = [
        t(
            "Volunteers who fit case {ref}, best first. Whom do you want to ask?",
            ref=t.isolate(session["case"]),
        ),
        "\n".join(_entry(t, context, first + n, entry) for n, entry in enumerate(shown, start=1)),
    ]
    rows = [
        [AssignPress("v", str(entry["ref"])).button(f"{t.number(first + n)}. {entry['ref']}")]
        for n, entry in enumerate(shown, start=1)
    ]
    turn = []
    if page > 0:
        turn.append(AssignPress("g", str(page - 1)).button(t.raw("« Previous")))
    if first + PAGE < len(shortlist):
        turn.append(AssignPress("g", str(page + 1)).button(t.raw("Next »")))
    return lines, [*rows, turn] if turn else rows


def _duration_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    row = [AssignPress("u", str(m)).button(when.duration(t, m)) for m in DURATIONS]
    return [t.raw("How long will it take?")], [row]


def _title_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    return [t.raw("Send a short title, for example: Drive a family to the hospital.")], []


def _description_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    text = t.raw(
        "Describe the task for the volunteers. Do not write the family's "
        "name, phone or situation: volunteers see exactly what you write."
    )
    return [text], []


def draft(session: Session) -> Task:
    """The task as the volunteer will see it."""
    return Task(
        id=0,
        ref="",
        creator_id=0,
        status="open",
        title=session["title"],
        description=session["description"],
        skill=session["skill"],
        area=ANYWHERE,
        starts_at=datetime.fromisoformat(session["starts_at"]),
        duration_min=session["duration"],
        needed=1,
        taken=0,
    )


def _preview_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    services = context.services
    lines = [
        render.task_text(t, services.volunteer_form, draft(session), services.settings.tz),
        t("Only {volunteer} receives this offer.", volunteer=t.isolate(session["volunteer"])),
    ]
    return lines, [[AssignPress("p", "").button(t.raw("📨 Send the offer"))]]


# --- what the steps take --------------------------------------------------------------------

Prepare = Callable[[SanadContext, Session], Awaitable[None]]


def _then(action: Action, step: str, prepare: Prepare | None = None) -> Action:
    """One of the task wizard's steps, leading here to ``step`` (once ``prepare`` has run)."""

    async def take(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
        outcome = await action(update, context, session, arg)
        if outcome is Outcome.MOVED:
            session["step"] = step
            if prepare is not None:
                await prepare(context, session)
        return outcome

    return take


def _row(found: Match) -> dict[str, Any]:
    """A volunteer of the shortlist as the session keeps it."""
    return {
        "ref": found.profile.ref,
        "covered": list(found.covered),
        "area": found.same_area,
        "language": found.same_language,
        "available": found.available,
        "load": found.profile.load,
    }


async def _shortlist(context: SanadContext, session: Session) -> None:
    """The volunteers who fit the case at the chosen time, kept as they are shown."""
    services = context.services
    case = await services.review.find(session["case"])
    at = datetime.fromisoformat(session["starts_at"])
    found = [] if case is None else await services.assign.shortlist(case, at)
    session.update(shortlist=[_row(m) for m in found], page=0)


async def _page(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    page = whole_number(arg)
    if page is None or not page * PAGE < len(session["shortlist"]):
        return Outcome.STALE
    session["page"] = page
    return Outcome.MOVED


async def _pick(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    chosen = [entry for entry in session["shortlist"] if entry["ref"] == arg]
    if not chosen:
        return Outcome.STALE
    session.update(volunteer=arg, skill=chosen[0]["covered"][0], step="duration")
    return Outcome.MOVED


async def _send(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    assert update.callback_query is not None and update.effective_user is not None
    await update.callback_query.answer()
    await send(update, context, update.effective_user.id, session)
    return Outcome.DONE


OFFER = Wizard(
    {
        "day": WizardStep(_screen(day_screen(AssignPress)), {"d": day_button}, text=typed_day),
        "time": WizardStep(
            _screen(time_screen(AssignPress)),
            {"t": _then(time_button("pick"), "pick", _shortlist)},
            text=_then(typed_time("pick"), "pick", _shortlist),
        ),
        "pick": WizardStep(_screen(_pick_screen), {"v": _pick, "g": _page}),
        "duration": WizardStep(_screen(_duration_screen), {"u": _then(_duration, "title")}),
        "title": WizardStep(
            _screen(_title_screen), text=typed_text("title", TITLE_LIMIT, "description")
        ),
        "description": WizardStep(
            _screen(_description_screen),
            text=typed_text("description", DESCRIPTION_LIMIT, "preview"),
        ),
        "preview": WizardStep(_screen(_preview_screen), {"p": _send}),
    }
)


def offer_screen(
    t: Translator, context: SanadContext, session: Session
) -> tuple[str, InlineKeyboardMarkup]:
    """The wizard's current question."""
    return OFFER.screen(t, context, session, t.raw("Offer a task to one volunteer"))


# --- driving the wizard ---------------------------------------------------------------------


async def assign_button(update: Update, context: SanadContext) -> None:
    """av:<verb>:<arg>: "Find a volunteer" on /case (f), then the wizard's buttons."""
    press = await member_press(update, context, AssignPress)
    if press is None:
        return
    query, member, t, verb = press.query, press.member, press.t, press.data.verb
    if verb == "f":
        await _start(update, context, member, t, press.data.arg)
        return
    session = await load_session(context, member)
    if session is None or session.get("kind") != KIND:
        await stale(query, t)
        return
    if verb == "x":
        await forget_session(context, member)
        await query.answer(t.raw("Cancelled: nothing was changed."))
        await close_buttons(query)
        return
    outcome = await OFFER.press(update, context, session, verb, press.data.arg)
    if outcome is Outcome.STALE:
        await stale(query, t)
    elif outcome is Outcome.MOVED:
        await save_session(context, member, session)
        await query.answer()
        text, markup = offer_screen(t, context, session)
        if verb == "g":  # another page of the same list: in place
            with contextlib.suppress(TelegramError):
                await query.edit_message_text(text, reply_markup=markup)
            return
        await close_buttons(query)
        await remember_screen(
            context, member, session, await reply(update, text, reply_markup=markup)
        )


async def _start(
    update: Update, context: SanadContext, member: int, t: Translator, ref: str
) -> None:
    """The wizard opens for an approved case."""
    query = update.callback_query
    assert query is not None
    case = await context.services.review.find(ref)
    if case is None:
        await query.answer(t.raw("This case no longer exists."), show_alert=True)
        return
    if case.status != workflow.APPROVED:
        await query.answer(t.raw("Volunteers are found for approved cases only."), show_alert=True)
        return
    session: Session = {"kind": KIND, "case": case.ref, "step": "day"}
    await save_session(context, member, session)
    await query.answer()
    text, markup = offer_screen(t, context, session)
    await remember_screen(context, member, session, await reply(update, text, reply_markup=markup))


@route(KIND)
async def assign_message(update: Update, context: SanadContext, session: Session) -> None:
    """Typed answers of the offer wizard: date, time, title, description."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    if message.text is None:
        await reply(update, t.raw("Please type your answer."))
        return
    outcome = await OFFER.typed(update, context, session, message.text)
    if outcome is Outcome.STALE:
        await reply(update, t.raw("Please use the buttons of the last message, or press Cancel."))
    elif outcome is Outcome.MOVED:
        await save_session(context, update.effective_user.id, session)
        close_screen(update, context, session)
        text, markup = offer_screen(t, context, session)
        sent = await reply(update, text, reply_markup=markup)
        await remember_screen(context, update.effective_user.id, session, sent)


async def send(update: Update, context: SanadContext, member: int, session: Session) -> None:
    """The offer is queued for the one volunteer; a volunteer who no longer fits brings the
    member back to a fresh shortlist."""
    t = context.t
    services = context.services
    assert update.callback_query is not None
    await close_buttons(update.callback_query)
    case = await services.review.find(session["case"])
    if case is None or case.status != workflow.APPROVED:
        await forget_session(context, member)
        await reply(update, t.raw("This case is no longer approved: nothing was sent."))
        return
    task = await services.assign.offer(
        member,
        case,
        session["volunteer"],
        session["title"],
        session["description"],
        datetime.fromisoformat(session["starts_at"]),
        session["duration"],
        ends_session=True,
    )
    if task is None:
        session["step"] = "pick"
        await _shortlist(context, session)
        await save_session(context, member, session)
        await reply(
            update,
            t(
                "{volunteer} can no longer take this task. Please choose another volunteer.",
                volunteer=t.isolate(session["volunteer"]),
            ),
        )
        text, markup = offer_screen(t, context, session)
        await reply(update, text, reply_markup=markup)
        return
    log.info("Task %d offered to one volunteer", task.id)
    await reply(
        update,
        t(
            "Task {ref} was offered to {volunteer}. You will be told their answer.",
            ref=task.ref,
            volunteer=t.isolate(session["volunteer"]),
        ),
    )
    await reply(update, t("Send /task {ref} to follow, change or cancel it.", ref=task.ref))
    services.delivery.kick()
    await reminders.sync(context.application, services)
