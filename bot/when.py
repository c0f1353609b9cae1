"""When a task happens, said the way a person would: "tomorrow, Wednesday 10:00", "in one hour".

A volunteer reads an offer or a reminder on the go: a relative day with its weekday is read at
a glance, where a date must be worked out. Days are counted in the organisation's time zone
(``settings.tz``), so "tomorrow" changes at its midnight, not at UTC's. Durations are said in
hours and minutes ("1 hour 30 minutes"), never as a count of minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.i18n import Translator
from bot.storage import utcnow

# Under this, a moment is said as a delay ("in one hour"): the weekday would add nothing.
SOON = timedelta(hours=2)
# A delay is rounded to this many minutes: a reminder sent a few seconds late is "in one
# hour", not "in 59 minutes".
ROUNDING = 5
# From this many days on, the date is given in full rather than "in 5 days".
WEEK = 7


def duration(t: Translator, minutes: int) -> str:
    """``minutes`` said in hours and minutes: "2 hours", "1 hour 30 minutes", "45 minutes"."""
    hours, rest = divmod(max(minutes, 0), 60)
    said_hours = t.plural("one hour", "{n} hours", hours) if hours else None
    said_minutes = t.plural("{n} minute", "{n} minutes", rest) if rest or not hours else None
    if said_hours and said_minutes:
        return t("{hours} {minutes}", hours=said_hours, minutes=said_minutes)
    return said_hours or said_minutes or ""


def durations(t: Translator, spans: Sequence[timedelta]) -> str:
    """Several spans said as one list: "24 hours and one hour" (each at least a minute)."""
    said = [duration(t, max(1, round(span.total_seconds() / 60))) for span in spans]
    if len(said) < 2:
        return "".join(said)
    return t("{items} and {last}", items=t.join(said[:-1]), last=said[-1])


def _soon(t: Translator, delay: timedelta) -> str | None:
    """ "in 45 minutes", "in one hour": a moment under :data:`SOON` from now (else None)."""
    minutes = round(delay.total_seconds() / 60 / ROUNDING) * ROUNDING
    if delay <= timedelta(0) or minutes >= SOON.total_seconds() / 60:
        return None
    return t("in {duration}", duration=duration(t, max(minutes, ROUNDING)))


def when(t: Translator, moment: datetime, tz: ZoneInfo, now: datetime | None = None) -> str:
    """``moment`` relative to ``now`` (default: the present), in the reader's language.

    Under two hours ahead: "in one hour". Otherwise the day relative to today in ``tz``, its
    weekday and the time: "today, Tuesday 18:30", "tomorrow, Wednesday 10:00", "in 3 days,
    Friday 09:00"; a week or more ahead (or in the past, but not today), the full date.
    """
    now = now or utcnow()
    soon = _soon(t, moment - now)
    if soon is not None:
        return soon
    local = moment.astimezone(tz)
    weekday = format_date(local, "EEEE", locale=t.locale)
    time = format_time(local, "short", locale=t.locale)
    days = (local.date() - now.astimezone(tz).date()).days
    if days == 0:
        return t("today, {weekday} {time}", weekday=weekday, time=time)
    if days == 1:
        return t("tomorrow, {weekday} {time}", weekday=weekday, time=time)
    if 1 < days < WEEK:
        return t.plural(
            "in {n} day, {weekday} {time}",
            "in {n} days, {weekday} {time}",
            days,
            weekday=weekday,
            time=time,
        )
    return t("{date}, {time}", date=t.date(local.date()), time=time)
