"""Reminders on PTB's JobQueue, rebuilt from the database.

The JobQueue keeps jobs in memory only, so every reminder is a row; at start-up (and after a
change) the scheduler is rebuilt from the pending rows due within :data:`HORIZON`, with fixed
job ids and ``replace_existing``, and a daily job does the same for the days to come: years of
approved cases leave a reminder for each over the year ahead, and a job for each of them in
memory would buy nothing. A due reminder is claimed in the database before its message is
queued, in one transaction, so a restart neither loses nor repeats it; one whose time passed
while the bot was down fires at start-up, however late the scheduler starts (no misfire
limit).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram.ext import Application, JobQueue

from bot.context import SanadContext
from bot.kinds import Kind
from bot.services import Services
from bot.storage import reminders as reminder_repo
from bot.storage import utcnow

log = logging.getLogger(__name__)

# Reminders due within this are jobs; the daily job (every RESCHEDULE seconds, more often than
# the horizon is long) schedules the next ones before they fall due.
HORIZON = timedelta(hours=36)
RESCHEDULE = 86_400
JOB = "reminders"


def job_id(reminder_id: int) -> str:
    """The fixed job id of a reminder."""
    return f"reminder-{reminder_id}"


async def start(app: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    """At start-up: schedule the reminders due soon, and the daily job for the next ones."""
    await sync(app, services)
    if app.job_queue is not None:
        app.job_queue.run_repeating(_daily, interval=RESCHEDULE, first=RESCHEDULE, name=JOB)


async def _daily(context: SanadContext) -> None:
    """Daily: the reminders that fall due within the horizon become jobs."""
    await sync(context.application, context.services)


async def sync(app: Application[Any, Any, Any, Any, Any, Any], services: Services) -> int:
    """Schedule every pending reminder due within :data:`HORIZON` (idempotent); return how
    many are scheduled."""
    queue: JobQueue[Any] | None = app.job_queue
    if queue is None:
        return 0
    now = utcnow()
    pending = await reminder_repo.pending(services.db, now + HORIZON)
    for reminder_id, due in pending:
        queue.run_once(
            fire,
            when=max(due, now),
            data=reminder_id,
            name=job_id(reminder_id),
            # No misfire limit: APScheduler's default (1 s) silently drops a job that runs
            # later than that. At start-up the jobs are added before the scheduler starts
            # (after post_init and the first Bot API calls); a slow start-up would lose every
            # reminder due while the bot was down, its row left pending.
            job_kwargs={
                "id": job_id(reminder_id),
                "replace_existing": True,
                "misfire_grace_time": None,
            },
        )
    return len(pending)


async def fire(context: SanadContext) -> None:
    """A reminder is due: claim it, then send what it queued."""
    assert context.job is not None
    reminder_id = context.job.data
    assert isinstance(reminder_id, int)
    services = context.services
    if await claim(services, reminder_id):
        log.info("Reminder %d fired", reminder_id)
        await services.delivery.flush()


async def claim(services: Services, reminder_id: int) -> bool:
    """Claim a due reminder with the service that owns its kind; False if already claimed."""
    kind = await services.review.reminder_kind(reminder_id)
    if kind is None:
        return False
    if kind.startswith("task_"):
        return await services.tasks.claim_reminder(reminder_id)
    if kind == Kind.SUPPORT_FOLLOWUP:
        return await services.followup.claim_reminder(reminder_id)
    if kind.startswith("activity_"):
        return await services.activities.claim_reminder(reminder_id)
    return await services.review.claim_reminder(reminder_id)
