"""What a person types into a wizard, checked: free text, a date, a time, a day and time.

The wizards (decisions, questions, tasks) share these, so every "please send a date like…"
accepts the same spellings, Arabic-Indic digits included.
"""

from __future__ import annotations

from datetime import date, datetime, time

from telegram import Update

from bot.i18n import Translator
from bot.text import clean_answer, normalize_digits, whole_number
from handlers.util import reply


def tidy_text(text: str, limit: int) -> str | None:
    """Typed text, tidied; None when nothing is left or it is longer than ``limit``."""
    cleaned = clean_answer(text)
    return cleaned if cleaned and len(cleaned) <= limit else None


async def checked_text(update: Update, t: Translator, text: str, limit: int) -> str | None:
    """Typed text, tidied; None (and the person told the limit) when empty or too long."""
    cleaned = tidy_text(text, limit)
    if cleaned is None:
        await reply(
            update,
            t.plural(
                "Please keep it under {n} character.",
                "Please keep it under {n} characters.",
                limit,
            ),
        )
    return cleaned


def typed_date(text: str, latest: date = date.max) -> date | None:
    """A typed year-month-day up to ``latest``, or None."""
    try:
        day = date.fromisoformat(normalize_digits(text).strip())
    except ValueError:
        return None
    return day if day <= latest else None


def typed_time(text: str) -> time | None:
    """A typed time of day ("14:30", or a bare hour "9"), or None."""
    typed = normalize_digits(text).strip()
    try:
        return time.fromisoformat(typed if len(typed) > 2 else f"{typed}:00")
    except ValueError:
        return None


def typed_datetime(text: str, latest: date = date.max) -> datetime | None:
    """A typed day and time ("2027-03-31 14:30") on a day up to ``latest``, or None."""
    try:
        moment = datetime.fromisoformat(normalize_digits(text).strip())
    except ValueError:
        return None
    return moment if moment.date() <= latest else None


def button_time(arg: str) -> time | None:
    """The time of a quick-time button (HHMM), None if forged into something else."""
    value = whole_number(arg) if len(arg) == 4 else None
    if value is None or value // 100 > 23 or value % 100 > 59:
        return None
    return time(value // 100, value % 100)
