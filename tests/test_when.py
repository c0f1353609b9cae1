"""When a task happens, said relative to today in the organisation's time zone, in both
languages: today / tomorrow with the weekday, "in one hour" when soon, hours not minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n, Translator
from bot.when import duration, when

AMMAN = ZoneInfo("Asia/Amman")  # UTC+3 all year
# Tuesday 1 December 2026, 09:00 in Amman.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=AMMAN)


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n("ar")


def tr(i18n: I18n, lang: str) -> Translator:
    return i18n.get(lang)


def at(day: int, hour: int, minute: int = 0, tz: ZoneInfo = AMMAN) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=tz)


@pytest.mark.parametrize(
    ("moment", "english", "arabic"),
    [
        (at(1, 18, 30), "today, Tuesday 6:30\u202fPM", "اليوم، الثلاثاء 6:30 م"),
        (at(2, 10), "tomorrow, Wednesday 10:00\u202fAM", "غدًا، الأربعاء 10:00 ص"),
        (at(4, 9), "in 3 days, Friday 9:00\u202fAM", "بعد 3 أيام، الجمعة 9:00 ص"),
        (NOW + timedelta(minutes=60), "in one hour", "بعد ساعة واحدة"),
        (NOW + timedelta(minutes=59, seconds=40), "in one hour", "بعد ساعة واحدة"),
        (NOW + timedelta(minutes=90), "in one hour 30 minutes", "بعد ساعة واحدة و30 دقيقةً"),
        (NOW + timedelta(minutes=45), "in 45 minutes", "بعد 45 دقيقةً"),
    ],
)
def test_relative_day_and_time_in_both_languages(
    i18n: I18n, moment: datetime, english: str, arabic: str
) -> None:
    assert when(tr(i18n, "en"), moment, AMMAN, NOW) == english
    assert when(tr(i18n, "ar"), moment, AMMAN, NOW) == arabic


def test_two_hours_or_more_ahead_has_the_weekday_not_a_delay(i18n: I18n) -> None:
    said = when(tr(i18n, "en"), NOW + timedelta(hours=2), AMMAN, NOW)
    assert said == "today, Tuesday 11:00\u202fAM"


def test_tomorrow_starts_at_the_organisations_midnight(i18n: I18n) -> None:
    t = tr(i18n, "en")
    late = at(1, 23, 0)  # Tuesday 23:00 in Amman: 20:00 UTC
    assert when(t, at(2, 1, 30), AMMAN, late) == "tomorrow, Wednesday 1:30\u202fAM"
    assert when(t, at(1, 23, 55), AMMAN, at(1, 21, 0)) == "today, Tuesday 11:55\u202fPM"


def test_the_same_instants_read_differently_in_another_time_zone(i18n: I18n) -> None:
    t = tr(i18n, "en")
    now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # Wednesday 01:30 in Amman
    moment = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 18:00 in Amman
    assert when(t, moment, AMMAN, now) == "today, Wednesday 6:00\u202fPM"
    assert when(t, moment, ZoneInfo("UTC"), now) == "tomorrow, Wednesday 3:00\u202fPM"
    ar = tr(i18n, "ar")
    assert when(ar, moment, AMMAN, now) == "اليوم، الأربعاء 6:00 م"
    assert when(ar, moment, ZoneInfo("UTC"), now) == "غدًا، الأربعاء 3:00 م"


def test_a_week_ahead_or_in_the_past_gives_the_date(i18n: I18n) -> None:
    t = tr(i18n, "en")
    far = when(t, at(9, 10), AMMAN, NOW)
    assert "December" in far and "9" in far and "10:00" in far
    past = when(t, at(1, 8), AMMAN, at(3, 9))
    assert "December" in past and "in " not in past


@pytest.mark.parametrize(
    ("minutes", "english", "arabic"),
    [
        (120, "2 hours", "ساعتان"),
        (90, "one hour 30 minutes", "ساعة واحدة و30 دقيقةً"),
        (60, "one hour", "ساعة واحدة"),
        (45, "45 minutes", "45 دقيقةً"),
        (300, "5 hours", "5 ساعات"),
    ],
)
def test_durations_in_hours(i18n: I18n, minutes: int, english: str, arabic: str) -> None:
    assert duration(tr(i18n, "en"), minutes) == english
    assert duration(tr(i18n, "ar"), minutes) == arabic
