"""Tasks and their slots, without Telegram.

Many volunteers accepting at once never overfill a task (the slot is taken with one
conditional statement); the others join the waitlist in arrival order. Withdrawing frees the
slot and promotes the first on the waitlist in the same transaction; every message this
causes goes through the outbox, written in the transaction of the change. Only active
volunteers take a slot, and only in a task that fits their skills and areas: an offer's
button can be forged with any task's reference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.forms import AREAS, SKILLS, Form, load_form
from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import (
    Connection,
    Database,
    assignments,
    audit,
    outbox,
    reminders,
    sessions,
    utcnow,
)
from bot.storage import tasks as task_repo
from bot.storage import volunteers as volunteer_repo
from bot.storage.assignments import ACCEPTED, DECLINED, WAITLISTED, WITHDRAWN
from bot.storage.tasks import OPEN, Progress, Task

log = logging.getLogger(__name__)

ANYWHERE = "anywhere"
OUTCOMES_TOLD = ("done", "not_done")  # the outcomes the task's creator is told of
SILENT = "silent"  # a direct offer nobody answered in time


@dataclass(frozen=True)
class Answer:
    """What happened to a volunteer's Accept, Decline or Withdraw."""

    # accepted | waitlisted | declined | withdrawn | full | closed | already | unfit | inactive
    status: str
    position: int = 0
    promoted: int | None = None


def fits(skill: str, area: str, skills: list[str], areas: list[str]) -> bool:
    """A task of ``skill`` in ``area`` suits someone with these skills who helps in these
    areas (or anywhere); a task anywhere suits every area."""
    return skill in skills and (area in areas or ANYWHERE in areas or area == ANYWHERE)


class TaskService:
    """Publishing tasks, taking slots, reminding volunteers."""

    def __init__(
        self,
        db: Database,
        ids: Ids,
        offsets: tuple[timedelta, ...] = (),
        committee_chat_id: int | None = None,
        volunteer_form: Form | None = None,
    ) -> None:
        self.db = db
        self.ids = ids
        self.cipher = ids.cipher
        self.offsets = offsets
        self.committee_chat_id = committee_chat_id
        # Which answers of the volunteer form hold the skills and the areas.
        form = volunteer_form or load_form("volunteer")
        self._skills, self._areas = form.role_id(SKILLS), form.role_id(AREAS)

    async def _remind(self, conn: Connection, task_id: int, volunteer: int) -> None:
        """The volunteer's reminders: before the start (REMINDER_OFFSETS), and after it."""
        starts, duration = await task_repo.timing(conn, task_id)
        now = utcnow()
        dues = [(Kind.TASK_REMINDER, max(starts - offset, now)) for offset in self.offsets]
        dues.append((Kind.TASK_FOLLOWUP, starts + timedelta(minutes=duration)))
        for kind, due in dues:
            await reminders.add(conn, self.ids, kind, due, task_id=task_id, volunteer_id=volunteer)

    async def claim_reminder(self, reminder_id: int) -> bool:
        """Mark a task reminder done and queue its message, once.

        A reminder due before the start whose time passed while the bot was down is still
        sent if the task has not started; otherwise it is skipped (and logged).
        """
        async with self.db.transaction() as conn:
            claimed = await reminders.claim(conn, self.ids, reminder_id)
            if claimed is None:
                return False
            assert claimed.task_id is not None and claimed.volunteer_id is not None
            state = await assignments.standing(
                conn, self.ids, claimed.task_id, claimed.volunteer_id
            )
            if claimed.kind == Kind.TASK_OFFER_ANSWER:
                if state is None:  # the one volunteer offered the task has not answered
                    await self._tell_offerer(conn, claimed.task_id, claimed.volunteer_id, SILENT)
                return True
            if state is None:
                return True
            status, starts_at, mine = state
            if status != OPEN or mine != ACCEPTED:
                return True
            if claimed.kind == Kind.TASK_REMINDER and starts_at <= utcnow():
                await reminders.skip(conn, reminder_id)
                log.info("Reminder %d skipped: its task has started", reminder_id)
                return True
            await outbox.enqueue(
                conn, self.ids, claimed.kind, claimed.volunteer_id, task_id=claimed.task_id
            )
        return True

    async def people_of(self, task_id: int) -> dict[str, int]:
        """How many volunteers accepted, wait, declined."""
        return await assignments.counts(self.db, task_id)

    async def cancel(self, ref: str, member_id: int) -> Task | None:
        """Cancel an open task; everyone who accepted or waits is told."""
        async with self.db.transaction() as conn:
            task_id = await task_repo.cancel(conn, ref)
            if task_id is None:
                return None
            await self._tell_holders(conn, task_id, Kind.TASK_CANCELLED)
            await reminders.drop_for_task(conn, self.ids, task_id)
            await audit.record(
                conn, self.ids, "task_cancelled", actor_id=member_id, detail=f"task {task_id}"
            )
        return await self.get(ref)

    async def change(
        self,
        ref: str,
        member_id: int,
        *,
        starts_at: datetime | None = None,
        description: str | None = None,
        ends_session: bool = False,
    ) -> Task | None:
        """Change the time or the description; holders are told, reminders follow the time.

        ``ends_session``: the member's change wizard ends in the same transaction.
        """
        task = await self.get(ref)
        if task is None or task.status != OPEN:
            return None
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, member_id)
            await task_repo.rewrite(
                conn,
                self.ids,
                task.id,
                title=task.title,
                description=description or task.description,
                starts_at=starts_at or task.starts_at,
            )
            if starts_at is not None:
                await reminders.drop_for_task(conn, self.ids, task.id)
                for volunteer in await assignments.accepted(conn, self.ids, task.id):
                    await self._remind(conn, task.id, volunteer)
            await self._tell_holders(conn, task.id, Kind.TASK_CHANGED)
            await audit.record(
                conn, self.ids, "task_changed", actor_id=member_id, detail=f"task {task.id}"
            )
        return await self.get(ref)

    async def _tell_offerer(
        self, conn: Connection, task_id: int, volunteer_id: int, answer: str
    ) -> None:
        """The one volunteer offered a task answered it (or ``SILENT``: not in time): the
        member who offered it is told, and the wait for an answer ends."""
        await reminders.drop_for_task(conn, self.ids, task_id, volunteer_id)
        creator = await task_repo.creator_of(conn, self.ids, task_id)
        if creator is not None:
            await outbox.enqueue(
                conn,
                self.ids,
                Kind.TASK_OFFER_ANSWER,
                creator,
                task_id=task_id,
                payload=self.cipher.encrypt_json({"volunteer": volunteer_id, "answer": answer}),
            )

    async def _tell_holders(self, conn: Connection, task_id: int, kind: str) -> None:
        for volunteer in await assignments.holders(conn, self.ids, task_id):
            await outbox.enqueue(conn, self.ids, kind, volunteer, task_id=task_id)

    async def track(self, task_id: int, chat_id: int, message_id: int) -> None:
        """Remember the member's progress message of a broadcast."""
        await task_repo.track(self.db, self.ids, task_id, chat_id, message_id)

    async def progress(self) -> list[Progress]:
        """Broadcasts whose progress message is not final yet, with their counts."""
        return await task_repo.progress(self.db, self.ids)

    async def progress_done(self, task_id: int) -> None:
        """The final summary was shown."""
        await task_repo.progress_done(self.db, task_id)

    async def outcome(self, ref: str, volunteer_id: int, outcome: str) -> bool:
        """Record 'coming', 'done' or 'not_done'; the task's creator is told of the last two."""
        async with self.db.transaction() as conn:
            held = await assignments.held(conn, self.ids, ref, volunteer_id)
            if held is None:
                return False
            task_id, creator_id = held
            await assignments.set_outcome(conn, self.ids, task_id, volunteer_id, outcome)
            if outcome in OUTCOMES_TOLD:
                await outbox.enqueue(
                    conn,
                    self.ids,
                    Kind.TASK_OUTCOME,
                    creator_id,
                    task_id=task_id,
                    payload=self.cipher.encrypt_json(
                        {"volunteer": volunteer_id, "outcome": outcome}
                    ),
                )
        return True

    async def get(self, ref: str) -> Task | None:
        """The task with this reference."""
        return await task_repo.by_ref(self.db, self.ids, ref)

    async def by_id(self, task_id: int) -> Task | None:
        """The task with this id (outbox items name their task by id)."""
        return await task_repo.by_id(self.db, self.ids, task_id)

    async def matching_volunteers(self, skill: str, area: str) -> list[int]:
        """Active, reachable volunteers with the skill who help in the area (or anywhere)."""
        return [self.ids.open(v.sealed) for v in await self._matching(skill, area)]

    async def count_matching(self, skill: str, area: str) -> int:
        """How many volunteers a task of ``skill`` in ``area`` would reach (the preview),
        without decrypting any of them."""
        return len(await self._matching(skill, area))

    async def _matching(self, skill: str, area: str) -> list[volunteer_repo.Reachable]:
        """The volunteers a task of ``skill`` in ``area`` goes to, nothing decrypted."""
        return [
            volunteer
            for volunteer in await volunteer_repo.reachable(self.db)
            if fits(
                skill,
                area,
                volunteer.answers.get(self._skills, []),
                volunteer.answers.get(self._areas, []),
            )
        ]

    async def publish(
        self,
        creator_id: int,
        title: str,
        description: str,
        skill: str,
        area: str,
        starts_at: datetime,
        duration_min: int,
        needed: int,
        case_id: int | None,
        *,
        ends_session: bool = False,
    ) -> tuple[Task, int]:
        """Create the task and queue its offer to every matching volunteer, at once.

        ``ends_session``: the creator's wizard ends in the same transaction.
        """
        volunteers = await self._matching(skill, area)
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, creator_id)
            task_id, ref = await task_repo.insert(
                conn,
                self.ids,
                creator_id=creator_id,
                title=title,
                description=description,
                skill=skill,
                area=area,
                starts_at=starts_at,
                duration_min=duration_min,
                needed=needed,
                case_id=case_id,
            )
            await outbox.enqueue_offers(
                conn, Kind.TASK_OFFER, task_id, [(v.pid, v.sealed) for v in volunteers]
            )
            await audit.record(
                conn,
                self.ids,
                "task_published",
                actor_id=creator_id,
                detail=f"task {task_id}, {len(volunteers)} volunteers",
            )
        task = await self.get(ref)
        assert task is not None
        return task, len(volunteers)

    async def accept(self, ref: str, volunteer_id: int) -> Answer:
        """Take a slot (one conditional INSERT), else join the waitlist; refused to a
        volunteer who is not active, and for a task that does not fit them."""
        found = await self.get(ref)
        async with self.db.transaction() as conn:
            task = await task_repo.open_slots(conn, ref)
            if task is None or found is None:
                return Answer("closed")
            task_id, needed = task
            if found.offered_to not in (None, self.ids.pid(volunteer_id)):
                return Answer("unfit")  # offered to one other volunteer
            standing = await volunteer_repo.standing(conn, self.ids, volunteer_id)
            if standing is None or standing[0] != volunteer_repo.ACTIVE:
                return Answer("inactive")
            answers = standing[1]
            skills, areas = answers.get(self._skills, []), answers.get(self._areas, [])
            if not fits(found.skill, found.area, skills, areas):
                return Answer("unfit")
            mine = await assignments.of(conn, self.ids, task_id, volunteer_id)
            if mine is not None and mine[0] in (ACCEPTED, WAITLISTED):
                return Answer("already", mine[1])
            if await assignments.take_slot(conn, self.ids, task_id, volunteer_id, needed):
                await audit.record(
                    conn,
                    self.ids,
                    "task_accepted",
                    actor_id=volunteer_id,
                    detail=f"task {task_id}",
                )
                if found.offered_to is not None:
                    await self._tell_offerer(conn, task_id, volunteer_id, ACCEPTED)
                await self._remind(conn, task_id, volunteer_id)
                return Answer(ACCEPTED)
            position = await assignments.join_waitlist(conn, self.ids, task_id, volunteer_id)
        return Answer(WAITLISTED, position)

    async def decline(self, ref: str, volunteer_id: int) -> Answer:
        """The volunteer is not available for this task. A task offered to them alone is
        then cancelled, and the member who offered it told."""
        found = await self.get(ref)
        async with self.db.transaction() as conn:
            task = await task_repo.open_slots(conn, ref)
            if task is None or found is None:
                return Answer("closed")
            if found.offered_to not in (None, self.ids.pid(volunteer_id)):
                return Answer("unfit")
            declined = await assignments.decline(conn, self.ids, task[0], volunteer_id)
            if declined and found.offered_to is not None:
                await task_repo.cancel(conn, ref)
                await self._tell_offerer(conn, task[0], volunteer_id, DECLINED)
                await reminders.drop_for_task(conn, self.ids, task[0])
                await audit.record(
                    conn,
                    self.ids,
                    "task_declined",
                    actor_id=volunteer_id,
                    detail=f"task {task[0]}",
                )
        return Answer(DECLINED)

    async def withdraw(self, ref: str, volunteer_id: int) -> Answer:
        """Give the slot back; the first on the waitlist is promoted and told."""
        async with self.db.transaction() as conn:
            task = await task_repo.open_slots(conn, ref)
            if task is None:
                return Answer("closed")
            answer = await self._give_back(conn, task[0], volunteer_id, volunteer_id)
        return answer or Answer("closed")

    async def held_tasks(self, volunteer_id: int) -> list[int]:
        """The open tasks the volunteer holds or waits for (read before :meth:`release`)."""
        return [task.id for task, _ in await self.mine(volunteer_id)]

    async def release(
        self, conn: Connection, volunteer_id: int, task_ids: list[int], *, named: bool
    ) -> None:
        """The volunteer leaves or is suspended: inside the caller's transaction, every slot
        and waiting place in ``task_ids`` is given back (each waiting list moves up, each
        task's creator is told, by name when ``named``) and every reminder is dropped."""
        for task_id in task_ids:
            await self._give_back(conn, task_id, volunteer_id, volunteer_id if named else None)
        await reminders.delete_for_volunteer(conn, self.ids, volunteer_id)

    async def _give_back(
        self, conn: Connection, task_id: int, volunteer_id: int, named: int | None
    ) -> Answer | None:
        """Withdraw the volunteer from one task: the creator is told (naming ``named``, or
        "a volunteer"), the waiting list moves up. None if they held nothing there."""
        if not await assignments.withdraw(conn, self.ids, task_id, volunteer_id):
            return None
        await reminders.drop_for_task(conn, self.ids, task_id, volunteer_id)
        creator = await task_repo.creator_of(conn, self.ids, task_id)
        if creator is not None:
            await outbox.enqueue(
                conn,
                self.ids,
                Kind.TASK_DROPOUT,
                creator,
                task_id=task_id,
                payload=self.cipher.encrypt_json({"volunteer": named}),
            )
        promoted = await self._promote(conn, task_id)
        await audit.record(
            conn, self.ids, "task_withdrawn", actor_id=named, detail=f"task {task_id}"
        )
        return Answer(WITHDRAWN, promoted=promoted)

    async def _promote(self, conn: Connection, task_id: int) -> int | None:
        """Fill free slots from the waitlist, in order; return the first promoted."""
        first = None
        for _ in range(max(await task_repo.free_slots(conn, task_id), 0)):
            volunteer = await assignments.first_waiting(conn, self.ids, task_id)
            if volunteer is None:
                break
            await assignments.promote(conn, self.ids, task_id, volunteer)
            await outbox.enqueue(conn, self.ids, Kind.TASK_PROMOTED, volunteer, task_id=task_id)
            await self._remind(conn, task_id, volunteer)
            first = first or volunteer
        return first

    async def open_for(self, skills: list[str], areas: list[str]) -> list[Task]:
        """Open tasks, not started yet, that fit a volunteer, soonest first."""
        return [
            task
            for task in await task_repo.upcoming(self.db, self.ids)
            if fits(task.skill, task.area, skills, areas)
        ]

    async def mine(self, volunteer_id: int) -> list[tuple[Task, str]]:
        """The tasks a volunteer holds or waits for, upcoming first."""
        return await task_repo.held_by(self.db, self.ids, volunteer_id)
