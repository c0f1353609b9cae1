"""The member's "sent X of N" message, kept up to date while a task's offers go out.

The delivery worker calls :func:`report` after each batch it sends. The message is edited in
place; once every offer is sent or given up, the last edit is the summary and the task's
progress is done. An edit that failed for a passing reason is made again after the next batch.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import activity_views
from bot.activities import ActivityService
from bot.config import Settings
from bot.delivery import Delivery
from bot.forms import Form
from bot.i18n import I18n, Translator
from bot.people import PeopleService
from bot.tasks import Progress, TaskService

log = logging.getLogger(__name__)


def progress_text(t: Translator, progress: Progress) -> str:
    """The running count, or the summary once the broadcast is finished."""
    if progress.finished:
        return t(
            "Task {ref} sent: {sent} delivered, {blocked} blocked the bot, {failed} failed.",
            ref=progress.ref,
            sent=t.number(progress.sent),
            blocked=t.number(progress.blocked),
            failed=t.number(progress.failed),
        )
    return t(
        "Task {ref}: sent {sent} of {total}…",
        ref=progress.ref,
        sent=t.number(progress.sent),
        total=t.number(progress.total),
    )


async def report(
    delivery: Delivery, tasks: TaskService, people: PeopleService, i18n: I18n, fallback: str
) -> None:
    """Edit each member's progress message, in their language (else ``fallback``)."""
    for progress in await tasks.progress():
        t = i18n.get(await people.language(progress.chat_id) or fallback)
        edited = await delivery.edit(
            progress.chat_id, progress.message_id, progress_text(t, progress)
        )
        if edited.error is not None:
            log.warning("Progress of task %d not shown: %s", progress.task_id, edited.error)
        if progress.finished and edited.final:  # shown, or gone: no use trying again
            await tasks.progress_done(progress.task_id)


async def report_activities(
    delivery: Delivery,
    activities: ActivityService,
    people: PeopleService,
    i18n: I18n,
    settings: Settings,
    areas: Form,
) -> None:
    """Edit the counts message of each activity whose announcement is going out ("sent X of
    N"), with its buttons; once nothing is left to send, the answers alone update it."""
    for shown in await activities.announcing():
        activity = await activities.by_id(shown.activity_id)
        if activity is None:
            continue
        counts = await activities.counts(activity.id)
        t = i18n.get(await people.language(shown.chat_id) or settings.committee_language)
        text = activity_views.counts_text(t, areas, activity, counts, settings.tz)
        markup = activity_views.counts_keyboard(t, activity)
        edited = await delivery.edit(shown.chat_id, shown.message_id, text, markup)
        if edited.error is not None:
            log.warning("Counts of activity %d not shown: %s", activity.id, edited.error)
        if not counts.pending and edited.final:
            await activities.announced(activity.id)


async def each(*reports: Callable[[], Awaitable[None]]) -> None:
    """Run every report after a batch, in turn."""
    for report_one in reports:
        await report_one()
