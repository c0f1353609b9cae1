"""Start-up schedules only the reminders due soon; a daily job schedules the next ones.

A committee with years of approved cases has a support-end reminder pending for every one of
them, spread over the year ahead: holding a job for each in memory, and logging two lines for
each at every start, bought nothing. Only those due within reminders.HORIZON are jobs; the
daily job (which runs more often than the horizon is long) adds the next ones before they are
due, and a restart finds them again from their rows.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import reminders
from bot.app import quiet_libraries
from bot.config import Settings
from bot.storage import utcnow
from bot.storage.db import iso
from tests.conftest import Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.test_review import approve, new_case


def reminder_jobs(h: Harness) -> list[str]:
    assert h.app.job_queue is not None
    return [j.name for j in h.app.job_queue.jobs() if j.name and j.name.startswith("reminder-")]


async def move_due(h: Harness, due: timedelta) -> None:
    async with h.services.db.transaction() as conn:
        # The support-end reminders (the follow-up's, days earlier, are tested on their own).
        await conn.execute(
            "UPDATE reminders SET due_at = ? WHERE kind = 'support_end'", (iso(utcnow() + due),)
        )


async def test_only_reminders_due_soon_are_jobs_and_the_daily_job_adds_the_next(
    harness: Harness,
) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref, months=6)
    assert timedelta(seconds=reminders.RESCHEDULE) < reminders.HORIZON  # no reminder missed
    assert reminder_jobs(h) == []  # due in six months: a row, not a job
    assert await reminders.sync(h.app, h.services) == 0
    assert h.app.job_queue is not None
    [daily] = h.app.job_queue.get_jobs_by_name(reminders.JOB)
    assert daily.job.trigger.interval == timedelta(seconds=reminders.RESCHEDULE)
    # Six months later, the day before: the daily job schedules it, once.
    await move_due(h, reminders.HORIZON - timedelta(hours=1))
    await daily.run(h.app)
    await daily.run(h.app)  # the same job again (replaced once the scheduler runs)
    assert set(reminder_jobs(h)) == {"reminder-1"}


async def test_a_restart_schedules_what_is_due_soon(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await new_case(h)
    await approve(h, ref, months=1)
    await move_due(h, timedelta(hours=3))
    await stop_app(app)
    app2 = await start_app(settings, FakeTelegram())
    try:
        assert reminder_jobs(Harness(app2, fake)) == ["reminder-1"]
        assert app2.job_queue is not None and app2.job_queue.get_jobs_by_name(reminders.JOB)
    finally:
        await stop_app(app2)


def test_the_scheduler_logs_no_line_per_job() -> None:
    before = logging.getLogger("apscheduler").level
    try:
        quiet_libraries("DEBUG")
        assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
        quiet_libraries("INFO")
        assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
    finally:
        logging.getLogger("apscheduler").setLevel(before)
