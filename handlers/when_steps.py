"""The steps the dated wizards share (/newtask, /newactivity, Find a volunteer): a free text,
the day and the time. Each wizard passes its own button family and the step that follows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from telegram import Update

from bot.context import SanadContext
from bot.i18n import Translator
from bot.storage import utcnow
from handlers.sessions import Session
from handlers.util import reply
from handlers.validators import button_time, checked_text, typed_date
from handlers.validators import typed_time as read_time
from handlers.wizard import Action, Outcome, Parts, Screen, WizardButtons

QUICK_TIMES = ("09:00", "12:00", "17:00")
# A day this close to the end of the calendar is a typing error, not a task: its end and its
# reminders would not fit in a datetime.
LAST_DAY = date.max - timedelta(days=7)


def typed_text(field: str, limit: int, then: str) -> Action:
    """A free-text step (a title, a description, a place): checked, stored as ``field``."""

    async def take(update: Update, context: SanadContext, session: Session, text: str) -> Outcome:
        value = await checked_text(update, context.t, text, limit)
        if value is None:
            return Outcome.DONE
        session.update({field: value, "step": then})
        return Outcome.MOVED

    return take


def day_screen(family: WizardButtons) -> Screen:
    """Which day: Today, Tomorrow, or a typed date."""

    def screen(t: Translator, context: SanadContext, session: Session) -> Parts:
        row = [family("d", "0").button(t.raw("Today")), family("d", "1").button(t.raw("Tomorrow"))]
        return [t.raw("Which day? Press a button or send a date like 2027-03-31.")], [row]

    return screen


def time_screen(family: WizardButtons) -> Screen:
    """At what time: a few usual times, or a typed one."""

    def screen(t: Translator, context: SanadContext, session: Session) -> Parts:
        row = [family("t", q.replace(":", "")).button(q) for q in QUICK_TIMES]
        return [t.raw("At what time? Press a button or send a time like 14:30.")], [row]

    return screen


async def day_button(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    """Today or Tomorrow (d:0, d:1), then the time."""
    if arg not in ("0", "1"):
        return Outcome.STALE
    day = utcnow().astimezone(context.services.settings.tz).date() + timedelta(days=int(arg))
    session.update(day=day.isoformat(), step="time")
    return Outcome.MOVED


async def typed_day(update: Update, context: SanadContext, session: Session, text: str) -> Outcome:
    """A typed date, then the time."""
    day = typed_date(text, LAST_DAY)
    if day is None:
        await reply(update, context.t.raw("Please send a date like 2027-03-31."))
        return Outcome.DONE
    session.update(day=day.isoformat(), step="time")
    return Outcome.MOVED


def time_button(then: str) -> Action:
    """A usual time's button: the start on the chosen day, then ``then``."""

    async def take(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
        at = button_time(arg)
        if at is None:
            return Outcome.STALE
        if not await _set_time(update, context, session, at, then):
            assert update.callback_query is not None
            await update.callback_query.answer()
            return Outcome.DONE
        return Outcome.MOVED

    return take


def typed_time(then: str) -> Action:
    """A typed time: the start on the chosen day, then ``then``."""

    async def take(update: Update, context: SanadContext, session: Session, text: str) -> Outcome:
        at = read_time(text)
        if at is None:
            await reply(update, context.t.raw("Please send a time like 14:30."))
            return Outcome.DONE
        if not await _set_time(update, context, session, at, then):
            return Outcome.DONE
        return Outcome.MOVED

    return take


async def _set_time(
    update: Update, context: SanadContext, session: Session, at: time, then: str
) -> bool:
    """The start on the chosen day; False (and the member told) when it has passed."""
    starts = datetime.combine(
        date.fromisoformat(session["day"]), at, tzinfo=context.services.settings.tz
    )
    if starts <= utcnow():
        await reply(
            update, context.t.raw("This time has already passed. Please choose a later time.")
        )
        return False
    session.update(starts_at=starts.isoformat(), step=then)
    return True
