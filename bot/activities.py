"""Community activities, without Telegram: who is invited, who comes, who waits, who is told.

An activity goes to families with an approved case who agreed to hear about activities, to
approved and active volunteers, or to both, optionally in one area. Everyone invited gets a
row: only they can answer, and the counts are made of those rows (numbers only: nobody learns
who else comes). A full activity puts further "I'll come" on a waiting list, which moves up
when someone cancels; every message this causes goes through the outbox, written in the
transaction of the change. The day-before reminder is a row claimed exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.crypto import Cipher
from bot.forms import AREAS, Form, load_form
from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import Connection, Database, audit, outbox, sessions, utcnow
from bot.storage import activities as repo
from bot.storage import volunteers as volunteer_repo
from bot.storage.activities import (
    CANCELLED,
    COMING,
    INVITED,
    NOT_COMING,
    OPEN,
    WAITING,
    Activity,
    Counts,
    Shown,
)

log = logging.getLogger(__name__)

FAMILIES, VOLUNTEERS, BOTH = "families", "volunteers", "both"
AUDIENCES = (FAMILIES, VOLUNTEERS, BOTH)
ANYWHERE = "anywhere"  # a volunteer who helps in every area
REMINDER_BEFORE = timedelta(days=1)
FAMILY_AREA = "area"  # the intake step whose option is the family's area (data/areas.toml)

__all__ = [
    "AUDIENCES",
    "BOTH",
    "CANCELLED",
    "COMING",
    "FAMILIES",
    "INVITED",
    "NOT_COMING",
    "OPEN",
    "VOLUNTEERS",
    "WAITING",
    "Activity",
    "ActivityService",
    "Counts",
    "Reply",
    "Shown",
]


@dataclass(frozen=True)
class Reply:
    """What happened to an answer: coming, waiting (``position``), not_coming, or refused
    (closed: cancelled or started; uninvited; already: the same answer again)."""

    status: str
    position: int = 0


class ActivityService:
    """Announcing activities, answering them, reminding and telling those coming."""

    def __init__(
        self,
        db: Database,
        ids: Ids,
        intake_form: Form | None = None,
        volunteer_form: Form | None = None,
    ) -> None:
        self.db = db
        self.ids = ids
        self.cipher: Cipher = ids.cipher
        intake = intake_form or load_form("intake")
        self._family_area = FAMILY_AREA if intake.step(FAMILY_AREA) else None
        volunteers = volunteer_form or load_form("volunteer")
        self._volunteer_areas = volunteers.role_id(AREAS)

    # --- who is invited ---------------------------------------------------------------------

    async def audience(self, audience: str, area: str | None) -> list[tuple[int, bytes]]:
        """(pseudonym, encrypted chat id) of everyone an activity for ``audience`` in
        ``area`` (None: every area) goes to, each person once."""
        found: dict[int, bytes] = {}
        if audience in (FAMILIES, BOTH):
            for pid, sealed, personal in await repo.families(self.db):
                if pid in found:
                    continue
                if area is None or self._family_lives_in(personal, area):
                    found[pid] = sealed
        if audience in (VOLUNTEERS, BOTH):
            for volunteer in await volunteer_repo.reachable(self.db):
                areas = volunteer.answers.get(self._volunteer_areas, [])
                if area is None or area in areas or ANYWHERE in areas:
                    found.setdefault(volunteer.pid, volunteer.sealed)
        return list(found.items())

    def _family_lives_in(self, personal: bytes | None, area: str) -> bool:
        """Whether the case's area (a personal answer, encrypted) is ``area``."""
        if personal is None or self._family_area is None:
            return False
        return self.cipher.decrypt_json(personal).get(self._family_area) == area

    async def still_for(self, activity: Activity, person: int) -> bool:
        """Whether the person is still among those the activity is for, when its
        announcement is sent: an active volunteer, or a family that still wants to hear
        about activities (one that said no meanwhile gets nothing)."""
        if activity.audience in (VOLUNTEERS, BOTH):
            volunteer = await volunteer_repo.get(self.db, self.ids, person)
            if volunteer is not None and volunteer.status == volunteer_repo.ACTIVE:
                return True
        return activity.audience in (FAMILIES, BOTH) and bool(await self.wants(person))

    async def count_audience(self, audience: str, area: str | None) -> int:
        """How many people an activity would reach (the member's preview)."""
        return len(await self.audience(audience, area))

    # --- the member -------------------------------------------------------------------------

    async def publish(
        self,
        creator_id: int,
        *,
        title: str,
        description: str,
        place: str,
        starts_at: datetime,
        capacity: int | None,
        audience: str,
        area: str | None,
        ends_session: bool = False,
    ) -> tuple[Activity, int]:
        """Create the activity and queue its announcement to everyone invited, at once.

        ``ends_session``: the creator's wizard ends in the same transaction.
        """
        invited = await self.audience(audience, area)
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, creator_id)
            activity_id, _ = await repo.insert(
                conn,
                self.ids,
                creator_id=creator_id,
                title=title,
                description=description,
                place=place,
                starts_at=starts_at,
                capacity=capacity,
                audience=audience,
                area=area,
            )
            await repo.invite(conn, activity_id, invited)
            await audit.record(
                conn,
                self.ids,
                "activity_published",
                actor_id=creator_id,
                detail=f"activity {activity_id}, {len(invited)} people",
            )
        activity = await self.by_id(activity_id)
        assert activity is not None
        return activity, len(invited)

    async def show_counts(self, activity_id: int, chat_id: int, message_id: int) -> None:
        """Remember the member's counts message, edited in place from now on."""
        await repo.show_counts(self.db, self.ids, activity_id, chat_id, message_id)

    async def counts(self, activity_id: int) -> Counts:
        """Invited, sent, and the answers: numbers only."""
        return await repo.counts(self.db, activity_id)

    async def announcing(self) -> list[Shown]:
        """The counts messages of announcements still going out."""
        return await repo.announcing(self.db, self.ids)

    async def announced(self, activity_id: int) -> None:
        """The announcement is over (every message sent or given up)."""
        await repo.announced(self.db, activity_id)

    async def counts_message(self, activity_id: int) -> Shown | None:
        """Where the member's counts message is."""
        return await repo.counts_message(self.db, self.ids, activity_id)

    async def cancel(self, ref: str, member_id: int) -> Activity | None:
        """Cancel an open activity; those coming and waiting are told."""
        async with self.db.transaction() as conn:
            activity_id = await repo.cancel(conn, ref)
            if activity_id is None:
                return None
            await self._tell(conn, activity_id, Kind.ACTIVITY_CANCELLED)
            await repo.drop_reminders(conn, self.ids, activity_id)
            await self._refresh(conn, activity_id)
            await audit.record(
                conn,
                self.ids,
                "activity_cancelled",
                actor_id=member_id,
                detail=f"activity {activity_id}",
            )
        return await self.get(ref)

    async def change(
        self,
        ref: str,
        member_id: int,
        *,
        starts_at: datetime | None = None,
        place: str | None = None,
        ends_session: bool = False,
    ) -> Activity | None:
        """A new time or place; those coming and waiting are told, reminders follow the time.

        ``ends_session``: the member's change wizard ends in the same transaction.
        """
        activity = await self.get(ref)
        if activity is None or activity.status != OPEN or activity.starts_at <= utcnow():
            return None
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, member_id)
            await repo.rewrite(
                conn,
                self.ids,
                activity,
                place=place or activity.place,
                starts_at=starts_at or activity.starts_at,
            )
            if starts_at is not None:
                await repo.drop_reminders(conn, self.ids, activity.id)
                for person in await repo.with_status(conn, self.ids, activity.id, (COMING,)):
                    await self._remind(conn, activity.id, starts_at, person)
            await self._tell(conn, activity.id, Kind.ACTIVITY_CHANGED)
            await self._refresh(conn, activity.id)
            await audit.record(
                conn,
                self.ids,
                "activity_changed",
                actor_id=member_id,
                detail=f"activity {activity.id}",
            )
        return await self.get(ref)

    async def _tell(self, conn: Connection, activity_id: int, kind: str) -> None:
        """Those coming and waiting are sent ``kind``."""
        for person in await repo.with_status(conn, self.ids, activity_id, (COMING, WAITING)):
            await outbox.enqueue(conn, self.ids, kind, person, activity_id=activity_id)

    async def _refresh(self, conn: Connection, activity_id: int) -> None:
        """The member's counts message is edited to the counts as they are (once queued)."""
        chat = await repo.counts_chat(conn, self.ids, activity_id)
        if chat is None or await repo.refresh_pending(conn, activity_id, Kind.ACTIVITY_COUNTS):
            return
        await outbox.enqueue(conn, self.ids, Kind.ACTIVITY_COUNTS, chat, activity_id=activity_id)

    # --- the people invited -----------------------------------------------------------------

    async def answer(self, ref: str, person: int, coming: bool) -> Reply:
        """ "I'll come" (a place, else the waiting list) or "Not this time"; refused to anyone
        who was not invited, and once the activity is cancelled or has started. A change of
        mind is allowed until then; "not this time" from someone coming frees their place
        for the first who waits, who is told."""
        async with self.db.transaction() as conn:
            found = await repo.open_id(conn, ref)
            if found is None:
                return Reply("closed")
            activity_id, capacity = found
            mine = await repo.answer_of(conn, self.ids, activity_id, person)
            if mine is None:
                return Reply("uninvited")
            status, position = mine
            if coming:
                if status in (COMING, WAITING):
                    return Reply("already", position)
                reply = await self._come(conn, activity_id, capacity, person)
            else:
                if status == NOT_COMING:
                    return Reply("already")
                before = await repo.not_coming(conn, self.ids, activity_id, person)
                await repo.drop_reminders(conn, self.ids, activity_id, person)
                if before == COMING:
                    await self._promote(conn, activity_id)
                reply = Reply(NOT_COMING)
            await self._refresh(conn, activity_id)
        return reply

    async def _come(
        self, conn: Connection, activity_id: int, capacity: int | None, person: int
    ) -> Reply:
        if await repo.take_place(conn, self.ids, activity_id, person, capacity):
            await self._remind(conn, activity_id, await self._starts(conn, activity_id), person)
            return Reply(COMING)
        return Reply(WAITING, await repo.wait(conn, self.ids, activity_id, person))

    async def _promote(self, conn: Connection, activity_id: int) -> None:
        """The first who waits takes the free place, is told, and will be reminded."""
        promoted = await repo.promote_first(conn, self.ids, activity_id)
        if promoted is None:
            return
        await self._remind(conn, activity_id, await self._starts(conn, activity_id), promoted)
        await outbox.enqueue(
            conn, self.ids, Kind.ACTIVITY_PROMOTED, promoted, activity_id=activity_id
        )

    async def _starts(self, conn: Connection, activity_id: int) -> datetime:
        found = await repo.state(conn, activity_id)
        assert found is not None
        return found[1]

    async def _remind(
        self, conn: Connection, activity_id: int, starts_at: datetime, person: int
    ) -> None:
        """The day-before reminder, unless the day before has already come."""
        due = starts_at - REMINDER_BEFORE
        if due > utcnow():
            await repo.add_reminder(
                conn, self.ids, Kind.ACTIVITY_REMINDER, due, activity_id, person
            )

    async def claim_reminder(self, reminder_id: int) -> bool:
        """Mark a reminder done and queue its message, once; a person no longer coming, or
        an activity cancelled or started meanwhile, gets nothing."""
        async with self.db.transaction() as conn:
            claimed = await repo.claim_reminder(conn, self.ids, reminder_id)
            if claimed is None:
                return False
            activity_id, person = claimed
            found = await repo.state(conn, activity_id)
            mine = await repo.answer_of(conn, self.ids, activity_id, person)
            if (
                found is None
                or found[0] != OPEN
                or found[1] <= utcnow()
                or mine is None
                or mine[0] != COMING
            ):
                log.info("Activity reminder %d not needed any more", reminder_id)
                return True
            await outbox.enqueue(
                conn, self.ids, Kind.ACTIVITY_REMINDER, person, activity_id=activity_id
            )
        return True

    async def answer_of(self, activity_id: int, person: int) -> str | None:
        """The person's answer to the activity, None if they were not invited."""
        async with self.db.transaction() as conn:
            mine = await repo.answer_of(conn, self.ids, activity_id, person)
        return None if mine is None else mine[0]

    # --- reading ----------------------------------------------------------------------------

    async def get(self, ref: str) -> Activity | None:
        """The activity with this reference."""
        return await repo.by_ref(self.db, self.ids, ref)

    async def by_id(self, activity_id: int) -> Activity | None:
        """The activity with this id (outbox items name their activity by id)."""
        return await repo.by_id(self.db, self.ids, activity_id)

    async def upcoming(self) -> list[Activity]:
        """Open activities that have not started (a member's /activities)."""
        return await repo.upcoming(self.db, self.ids)

    async def answered_by(self, person: int) -> list[tuple[Activity, str]]:
        """The open activities the person was invited to, with their answer (/mydata)."""
        return await repo.answered_by(self.db, self.ids, person)

    # --- the families' choice ---------------------------------------------------------------

    async def wants(self, person: int) -> bool | None:
        """Whether the person wants to hear about activities (None: never asked, so no)."""
        return await repo.wants(self.db, self.ids, person)

    async def set_wants(self, person: int, wanted: bool, language: str) -> None:
        """Store the person's choice."""
        await repo.set_wants(self.db, self.ids, person, wanted, language)
