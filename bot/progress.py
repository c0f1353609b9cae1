"""The member's "sent X of N" message, kept up to date while a task's offers go out.

The delivery worker calls :func:`report` after each batch it sends. The message is edited in
place; once every offer is sent or given up, the last edit is the summary and the task's
progress is done. An edit that failed for a passing reason is made again after the next batch.
"""

from __future__ import annotations

import logging

from bot.delivery import Delivery
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
