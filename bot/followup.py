"""The follow-up at the end of support: some days before an approved period ends, the family
is asked how things are now (better, the same, worse, then optionally in its words), so the
committee decides to renew or close knowing it.

The question is a reminder row written with the approval or renewal (:func:`schedule`, in the
decision's transaction), claimed exactly once like every reminder, and queued for the family
through the outbox; a case approved before follow-ups existed gets its row at start-up
(:meth:`FollowupService.schedule_missing`). A period shorter than ``FOLLOWUP_DAYS`` is asked
at its half (see :func:`due`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import Connection, Database, followups, outbox, reminders, sessions, utcnow
from bot.storage import cases as case_repo
from bot.storage.followups import Followup

# The hour of the family's day the question is sent: that of the support-end reminder.
ASK_HOUR = 9
# Follow-ups scheduled at start-up per transaction.
BATCH = 1_000


def due(until: date, days: int, today: date, tz: ZoneInfo) -> datetime | None:
    """When to ask about a period ending ``until``: ``days`` before its end, or, for a
    period of ``days`` or fewer, at its half; None for a period under two days.

    A short period is asked at its half rather than skipped: it is the one the committee
    reconsiders soonest, and half of it gives the family time to feel the support and still
    answer before the support-end reminder. Under two days there is no such time.
    """
    period = (until - today).days
    if period > days:
        day = until - timedelta(days=days)
    elif period >= 2:
        day = today + timedelta(days=period // 2)
    else:
        return None
    return datetime.combine(day, time(ASK_HOUR), tzinfo=tz)


async def schedule(
    conn: Connection, ids: Ids, case_id: int, until: date, days: int, tz: ZoneInfo
) -> bool:
    """Inside the decision's transaction: the follow-up of the period ending ``until`` and
    its reminder, once per period; False when none is due (a short period, or one already
    scheduled)."""
    when = due(until, days, utcnow().astimezone(tz).date(), tz)
    if when is None or not await followups.add(conn, case_id, until, when):
        return False
    await reminders.add(conn, ids, Kind.SUPPORT_FOLLOWUP, when, case_id=case_id)
    return True


class FollowupService:
    """Schedules, asks and records the follow-ups; reads them for the committee."""

    def __init__(self, db: Database, ids: Ids, days: int, tz: ZoneInfo) -> None:
        self.db = db
        self.ids = ids
        self.days = days
        self.tz = tz

    async def schedule_missing(self) -> int:
        """At start-up: a follow-up for each approved case whose period has none (approved
        before follow-ups existed); return how many were scheduled.

        After the upgrade that brought follow-ups there can be tens of thousands: they are
        written :data:`BATCH` to a transaction (one commit each, not one per case). At every
        later start the one query finds none.
        """
        today = utcnow().astimezone(self.tz).date()
        missing = await followups.missing(self.db, today)
        scheduled = 0
        for start in range(0, len(missing), BATCH):
            async with self.db.transaction() as conn:
                for case_id, until in missing[start : start + BATCH]:
                    scheduled += await schedule(conn, self.ids, case_id, until, self.days, self.tz)
        return scheduled

    async def claim_reminder(self, reminder_id: int) -> bool:
        """Claim a due follow-up reminder and queue the question for the family, once: False
        if it was claimed before. A period renewed, closed or erased since asks nothing."""
        async with self.db.transaction() as conn:
            claimed = await reminders.claim(conn, self.ids, reminder_id)
            if claimed is None:
                return False
            found = await followups.for_reminder(conn, self.ids, reminder_id)
            family = None if claimed.case_id is None else await self._family(conn, claimed.case_id)
            if found is None or family is None or not await followups.current(conn, found.id):
                await reminders.skip(conn, reminder_id)
                return True
            await followups.mark_asked(conn, found.id)
            await outbox.enqueue(
                conn,
                self.ids,
                Kind.SUPPORT_FOLLOWUP,
                family,
                case_id=found.case_id,
                payload=self.ids.cipher.encrypt_json({"followup": found.id}),
            )
        return True

    async def _family(self, conn: Connection, case_id: int) -> int | None:
        return await case_repo.family_of(conn, self.ids, case_id)

    async def get(self, followup_id: int) -> Followup | None:
        """One follow-up."""
        return await followups.get(self.db, self.ids, followup_id)

    async def for_case(self, case_id: int) -> list[Followup]:
        """The case's follow-ups, oldest period first."""
        return await followups.for_case(self.db, self.ids, case_id)

    async def of_period(self, case_id: int, until: date) -> Followup | None:
        """The follow-up of the case's period ending ``until``."""
        return await followups.of_period(self.db, self.ids, case_id, until)

    async def asked_of(self, followup_id: int, family_id: int) -> Followup | None:
        """The follow-up, if it was asked of ``family_id`` (None: someone else's, never
        asked, or gone)."""
        found = await self.get(followup_id)
        if found is None or found.asked_at is None:
            return None
        case = await case_repo.by_id(self.db, self.ids, found.case_id)
        return found if case is not None and case.user_id == family_id else None

    async def answer(
        self,
        followup_id: int,
        family_id: int,
        choice: str,
        *,
        session: dict[str, Any] | None = None,
    ) -> bool:
        """The family's choice (encrypted), once: False if it is not theirs or was answered
        before. ``session``: the family's pending words begin in the same transaction, so a
        restart right after the tap still takes its words for the follow-up."""
        if await self.asked_of(followup_id, family_id) is None:
            return False
        async with self.db.transaction() as conn:
            if not await followups.answer(conn, self.ids, followup_id, choice):
                return False
            if session is not None:
                await sessions.begin(conn, self.ids, family_id, session)
            return True

    async def add_words(
        self, followup_id: int, family_id: int, words: str, *, ends_session: bool = False
    ) -> bool:
        """The family's words after its choice (encrypted), once; ``ends_session``: the
        family's pending words end in the same transaction."""
        if await self.asked_of(followup_id, family_id) is None:
            return False
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, family_id)
            return await followups.add_words(conn, self.ids, followup_id, words)
