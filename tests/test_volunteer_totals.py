"""Volunteers' totals: the tasks a volunteer confirmed as done and their hours, in /mytasks for
the volunteer and in /stats for members; an export numbers the volunteers, never names them."""

from __future__ import annotations

import pytest

from bot import contributions, reminders
from bot.i18n import I18n
from tests.conftest import MEMBER, Harness
from tests.test_tasks import DRIVERS, new_task, reminder_ids, volunteer


async def done(h: Harness, users: list[int], ref: str, *, minutes: int = 120) -> None:
    """The volunteers take the task, it takes place (``minutes`` long), and they confirm it
    was done from its follow-up."""
    for user in users:
        await h.press_data(user, f"tk:a:{ref}", chat_id=user)
    async with h.services.db.transaction() as conn:
        await conn.execute(
            "UPDATE tasks SET starts_at = '2001-01-01T09:00:00+00:00', duration_min = ? "
            "WHERE ref = ?",
            (minutes, ref),
        )
    for user in users:
        [followup] = await reminder_ids(h, "task_followup", user)
        assert await reminders.claim(h.services, followup) is True
        await h.services.delivery.flush()
        await h.press(user, rf"^tk:y:{ref}$")


async def test_mytasks_shows_the_tasks_done_and_their_hours(harness: Harness) -> None:
    h = harness
    english, arabic = DRIVERS[0], DRIVERS[1]
    await volunteer(h, english, "en")
    await volunteer(h, arabic, "ar")
    calls = await h.say(english, "/mytasks")
    assert not any("Your help so far" in text for text in h.texts(calls))  # nothing done yet
    first = await new_task(h, needed=2)
    await done(h, [english, arabic], first, minutes=120)
    second = await new_task(h, needed=2)
    await done(h, [english], second, minutes=90)
    calls = await h.say(english, "/mytasks")
    texts = h.texts(calls)
    assert "Tasks you confirmed as done: 2 tasks, 3 hours 30 minutes." in texts[0]
    calls = await h.say(arabic, "/mytasks")
    said = h.texts(calls)[0]
    assert "مساعدتك حتى الآن" in said and "مهمة واحدة" in said and "ساعتان" in said
    # Another volunteer's "It did not happen" counts for nothing.
    other = DRIVERS[2]
    await volunteer(h, other, "en")
    third = await new_task(h, needed=3)
    await h.press_data(other, f"tk:a:{third}", chat_id=other)
    [followup] = await reminder_ids(h, "task_followup", other)
    assert await reminders.claim(h.services, followup) is True
    await h.services.delivery.flush()
    await h.press(other, rf"^tk:n:{third}$")
    calls = await h.say(other, "/mytasks")
    assert not any("Your help so far" in text for text in h.texts(calls))


async def test_stats_shows_the_volunteers_totals(harness: Harness) -> None:
    h = harness
    await volunteer(h, DRIVERS[0], "en")
    await volunteer(h, DRIVERS[1], "en")
    ref = await new_task(h, needed=2)
    await done(h, DRIVERS[:2], ref, minutes=60)
    second = await new_task(h, needed=1)
    await done(h, [DRIVERS[0]], second, minutes=30)
    await h.say(MEMBER, "/start")
    calls = await h.say(MEMBER, "/stats")
    text = "\n".join(h.texts(calls))
    assert "2 volunteers did 3 tasks, 2 hours 30 minutes." in text
    refs = await h.services.db.fetchall("SELECT ref FROM volunteers ORDER BY user_id")
    assert all(r["ref"] in text for r in refs)
    assert "V" + str(DRIVERS[0]) not in text  # a reference, never a name
    totals = await contributions.of_everyone(h.services.db)
    assert [(x.tasks, x.minutes) for x in totals] == [(2, 90), (1, 60)]
    rows = contributions.export_rows(totals)
    assert rows == [["1", "2", "1.5"], ["2", "1", "1.0"]]
    exported = "\n".join(",".join(row) for row in rows)
    assert all(r["ref"] not in exported for r in refs)


async def test_stats_in_arabic_counts_volunteers_with_the_right_plural(harness: Harness) -> None:
    h = harness
    await volunteer(h, DRIVERS[0], "en")
    ref = await new_task(h, needed=1)
    await done(h, [DRIVERS[0]], ref, minutes=60)
    t = h.services.i18n.get("ar")
    lines = "\n".join(contributions.stats_lines(t, await contributions.of_everyone(h.services.db)))
    assert "متطوع واحد" in lines and "ساعة واحدة" in lines


@pytest.mark.parametrize(
    ("n", "volunteers", "tasks", "hours", "minutes"),
    [
        (2, "متطوعان", "مهمتان", "ساعتان", "دقيقتان"),
        (5, "5 متطوعين", "5 مهام", "5 ساعات", "5 دقائق"),
        (11, "11 متطوعًا", "11 مهمةً", "11 ساعةً", "11 دقيقةً"),
        (100, "100 متطوع", "100 مهمة", "100 ساعة", "100 دقيقة"),
    ],
)
def test_arabic_totals_count_with_each_plural_form(
    n: int, volunteers: str, tasks: str, hours: str, minutes: str
) -> None:
    """2, 3–10, 11–99 (tanween, accusative) and 100 and more (genitive) each have their form."""
    t = I18n("ar").get("ar")
    lines = contributions.stats_lines(t, [contributions.Total(1, 60)] * n)
    assert t("{volunteers} did {total}.", volunteers=volunteers, total=f"{tasks}، {hours}") in (
        lines
    )
    assert t.plural("{n} minute", "{n} minutes", n) == minutes  # 100 and more: only in a total
    if n < 60:
        mine = contributions.mine_line(t, contributions.Total(n, n))
        assert mine is not None and f"{tasks}، {minutes}" in mine


def test_a_total_of_no_time_is_said_none() -> None:
    i18n = I18n("ar")
    english, arabic = i18n.get("en"), i18n.get("ar")
    assert contributions.hours(english, 0) == "none"
    assert contributions.hours(arabic, 0) == "لا شيء"
    assert contributions.hours(english, 90) == "one hour 30 minutes"


async def test_tasks_that_took_no_time_say_no_duration(harness: Harness) -> None:
    h = harness
    english, arabic = DRIVERS[0], DRIVERS[1]
    await volunteer(h, english, "en")
    await volunteer(h, arabic, "ar")
    ref = await new_task(h, needed=2)
    await done(h, [english, arabic], ref, minutes=0)
    said = h.texts(await h.say(english, "/mytasks"))[0]
    assert "Tasks you confirmed as done: 1 task." in said and "0 minutes" not in said
    said = h.texts(await h.say(arabic, "/mytasks"))[0]
    assert "مهمة واحدة" in said and "أقل من دقيقة" not in said
    await h.say(MEMBER, "/start")
    text = "\n".join(h.texts(await h.say(MEMBER, "/stats")))
    assert "2 volunteers did 2 tasks." in text and "0 minutes" not in text
