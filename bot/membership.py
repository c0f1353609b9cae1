"""Membership is checked when it matters, not when something was queued.

COMMITTEE_MEMBER_IDS is read at start-up, so a member is removed by a restart with the new
list. At that start :func:`forget_former_members` drops what still waits for people who are no
longer members: their wizards (a session of a member's kind) and the members' notices queued
for them (a family's answer, a volunteer's name). Each is audited without saying who it was
for. The notice renderers check membership again when they send, whatever queued the notice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from bot.config import Settings
from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import Database, audit, outbox, sessions
from bot.tasks import TaskService

log = logging.getLogger(__name__)

# Outbox kinds only a committee member may receive: they carry a family's answer or a
# volunteer's name, or a case's support history. (Cards go to the group, whose membership
# Telegram keeps.)
MEMBER_KINDS = frozenset(
    {
        Kind.MEMBER_NOTICE,
        Kind.TASK_DROPOUT,
        Kind.TASK_OUTCOME,
        Kind.SUPPORT_ALERT,
        Kind.TASK_OFFER_ANSWER,
        Kind.ACTIVITY_COUNTS,
    }
)

NOT_A_MEMBER = "not a member"


@dataclass(frozen=True)
class Forgotten:
    """What the start-up check dropped."""

    sessions: int
    notices: int
    progress: int


async def forget_former_members(
    db: Database,
    ids: Ids,
    settings: Settings,
    tasks: TaskService,
    member_sessions: Collection[str],
) -> Forgotten:
    """Drop the sessions of ``member_sessions`` kinds and the pending :data:`MEMBER_KINDS`
    notices of everyone who is not a member now, and stop updating their broadcast progress.

    Sessions of other kinds (a family answering a question) are left alone.
    """
    members = {ids.pid(member) for member in settings.committee_member_ids}
    dropped = 0
    for pseudonym, session in await sessions.everyone(db, ids):
        kind = str(session.get("kind"))
        if kind in member_sessions and pseudonym not in members:
            async with db.transaction() as conn:
                await sessions.drop(conn, pseudonym)
                await audit.record(conn, ids, "session_dropped", actor_id=None, detail=kind)
            dropped += 1
    cancelled = 0
    for item in await outbox.pending_of_kinds(db, ids, MEMBER_KINDS):
        if not settings.is_member(item.chat_id):
            async with db.transaction() as conn:
                await outbox.cancel(conn, item.id, NOT_A_MEMBER)
                await audit.record(
                    conn,
                    ids,
                    "notice_cancelled",
                    actor_id=None,
                    case_id=item.case_id,
                    detail=item.kind,
                )
            cancelled += 1
    stopped = 0
    for progress in await tasks.progress():
        if not settings.is_member(progress.chat_id):
            await tasks.progress_done(progress.task_id)
            stopped += 1
    if dropped or cancelled or stopped:
        log.info(
            "Former members: %d sessions dropped, %d notices cancelled, %d progress stopped",
            dropped,
            cancelled,
            stopped,
        )
    return Forgotten(dropped, cancelled, stopped)
