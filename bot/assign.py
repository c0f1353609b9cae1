"""A member offers one volunteer a task for one case: the shortlist, then the offer.

The shortlist ranks the active volunteers the bot can write to (bot/matching.py) by the
case's needs, the family's area and language and the task's time. The offer is a task like
the broadcast's, tied to the case, with one place, sent to that volunteer alone: it stays off
everyone else's /tasks and only they may take it. Its words are the member's; its area is
"anywhere", so that nothing of the family (whose area is personal data) reaches the
volunteer but what the member chose to write. The volunteer's Accept or Decline reaches the
member (bot/tasks.py); so does their silence, by a reminder row that fires if they have not
answered within :data:`ANSWER_WAIT`, or half the time left before the task if that is less.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.forms import AREA, AREAS, AVAILABILITY, LANGUAGES, SKILLS, SUPPORT, Form
from bot.ids import Ids
from bot.kinds import Kind
from bot.matching import CaseNeeds, Match, Profile, match, rank
from bot.storage import Database, assignments, audit, outbox, reminders, sessions, utcnow
from bot.storage import cases as case_repo
from bot.storage import tasks as task_repo
from bot.storage import volunteers as volunteer_repo
from bot.storage.cases import Case
from bot.storage.tasks import Task
from bot.tasks import ANYWHERE

ANSWER_WAIT = timedelta(hours=24)


def answer_due(now: datetime, starts_at: datetime) -> datetime:
    """When the member hears that the volunteer has not answered: after ANSWER_WAIT, or
    halfway to the task when it is sooner, so that there is time to ask someone else."""
    return now + min(ANSWER_WAIT, max(starts_at - now, timedelta(0)) / 2)


class AssignService:
    """The shortlist of volunteers for a case, and the direct offer."""

    def __init__(self, db: Database, ids: Ids, forms: Mapping[str, Form], tz: ZoneInfo) -> None:
        self.db = db
        self.ids = ids
        self.tz = tz
        self.intake = forms["intake"]
        self.volunteer = forms["volunteer"]

    def needs(self, case: Case, at: datetime | None = None) -> CaseNeeds:
        """What the case asks of a volunteer: the support approved (else the support asked),
        the family's area (decrypted) and language, and the task's time in local time."""
        decided = (case.decision or {}).get("support")
        support = decided or case.answers.get(self.intake.role_id(SUPPORT), [])
        personal = case_repo.personal(self.ids.cipher, case)
        area = personal.get(self.intake.role_id(AREA), "")
        local = None if at is None else at.astimezone(self.tz)
        return CaseNeeds(tuple(support), str(area), case.language, local)

    def _profile(self, volunteer: volunteer_repo.Reachable, load: int) -> Profile:
        answers, form = volunteer.answers, self.volunteer
        return Profile(
            volunteer.ref,
            answers.get(form.role_id(SKILLS), []),
            answers.get(form.role_id(AREAS), []),
            answers.get(form.role_id(LANGUAGES), []),
            answers.get(form.role_id(AVAILABILITY), []),
            load,
        )

    async def _candidates(self) -> list[tuple[Profile, volunteer_repo.Reachable]]:
        loads = await assignments.loads(self.db)
        return [
            (self._profile(volunteer, loads.get(volunteer.pid, 0)), volunteer)
            for volunteer in await volunteer_repo.reachable(self.db)
        ]

    async def shortlist(self, case: Case, at: datetime | None = None) -> list[Match]:
        """The active volunteers who fit the case, best first, with the tasks they hold."""
        return rank(self.needs(case, at), [p for p, _ in await self._candidates()])

    async def offer(
        self,
        member_id: int,
        case: Case,
        volunteer_ref: str,
        title: str,
        description: str,
        starts_at: datetime,
        duration_min: int,
        *,
        ends_session: bool = False,
    ) -> Task | None:
        """Create the task for the case and queue its offer to the one volunteer; None when
        they no longer fit it (paused, suspended, gone, their skills changed).

        ``ends_session``: the member's wizard ends in the same transaction.
        """
        needs = self.needs(case, starts_at)
        found = [
            (fit, volunteer)
            for profile, volunteer in await self._candidates()
            if profile.ref == volunteer_ref and (fit := match(needs, profile)) is not None
        ]
        if not found:
            return None
        fit, volunteer = found[0]
        volunteer_id = self.ids.open(volunteer.sealed)
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, member_id)
            task_id, ref = await task_repo.insert(
                conn,
                self.ids,
                creator_id=member_id,
                title=title,
                description=description,
                skill=fit.covered[0],
                area=ANYWHERE,
                starts_at=starts_at,
                duration_min=duration_min,
                needed=1,
                case_id=case.id,
                offered_to=volunteer_id,
            )
            await outbox.enqueue_offers(
                conn, Kind.TASK_OFFER, task_id, [(volunteer.pid, volunteer.sealed)]
            )
            due = answer_due(utcnow(), starts_at)
            await reminders.add(
                conn,
                self.ids,
                Kind.TASK_OFFER_ANSWER,
                due,
                task_id=task_id,
                volunteer_id=volunteer_id,
            )
            await audit.record(
                conn,
                self.ids,
                "task_offered",
                actor_id=member_id,
                case_id=case.id,
                detail=f"task {task_id}, volunteer {volunteer_ref}",
            )
        return await task_repo.by_ref(self.db, self.ids, ref)
