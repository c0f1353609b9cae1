"""The job that follows up receipts nobody confirmed: hourly, and soon after every start.

The records are rows (``support_given``): a record left unanswered for RECEIPT_DAYS is found
again by every run, and marked and alerted once (compare-and-set), so a restart neither loses
nor repeats an alert; an hour is fine enough for a period counted in days.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import Application

from bot.context import SanadContext

log = logging.getLogger(__name__)

JOB = "receipts"
INTERVAL = 3_600
FIRST = 30  # seconds after start-up: what fell due while the bot was down


def start(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Schedule the follow-up of unanswered receipts."""
    if app.job_queue is not None:
        app.job_queue.run_repeating(follow_up, interval=INTERVAL, first=FIRST, name=JOB)


async def follow_up(context: SanadContext) -> None:
    """Mark the receipts past RECEIPT_DAYS unanswered, alert their recorders, send."""
    services = context.services
    count = await services.support.expire()
    if count:
        log.info("%d support receipts unanswered: recorders alerted", count)
        services.delivery.kick()
