"""A person's data: what is stored about them (/mydata), and its erasure (/delete_my_data).

Erasure keeps only what statistics need and cannot identify anyone: a case keeps its option
ids and counts; its personal answers, the questions and answers, the notes, the member's
message to the family, the messages to people about it, the tasks' link to it and the link
to the family's Telegram account are deleted. Every other row that names the person goes
(drafts, sessions, their profile, task answers and reminders, every message to them, sent or
not), and the audit log keeps the events but forgets who they were. Volunteers leave the
tasks they held (the waiting list moves up). Retention applies the same to cases nobody
touched for a long time, and removes what is left behind: see :func:`purge`.
What they wrote to the trustees (/feedback) is deleted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.activities import COMING, ActivityService
from bot.config import Retention
from bot.ids import Ids
from bot.kinds import NAMING_A_VOLUNTEER, NOBODY, Kind
from bot.storage import (
    Connection,
    Database,
    assignments,
    audit,
    drafts,
    duplicates,
    followups,
    notes,
    outbox,
    people,
    reminders,
    requests,
    retention,
    sessions,
    support,
    utcnow,
    volunteers,
)
from bot.storage import activities as activity_repo
from bot.storage import cases as case_repo
from bot.storage import feedback as feedback_repo
from bot.storage import tasks as task_repo
from bot.tasks import TaskService

# What retention counts and removes, in the order it does so (``purge --dry-run`` lists them).
KINDS = (
    "cases",
    "drafts",
    "sessions",
    "outbox",
    "tasks",
    "people",
    "feedback",
    "activities",
    "activity_answers",
)


@dataclass
class Stored:
    """Everything stored about one person, decrypted for them."""

    language: str | None
    cases: list[tuple[case_repo.Case, dict[str, Any], list[tuple[str, Any]]]] = field(
        default_factory=list
    )
    draft: dict[str, Any] | None = None
    volunteer: volunteers.Volunteer | None = None
    support: dict[int, list[support.Support]] = field(default_factory=dict)  # by case id
    feedback: list[feedback_repo.Feedback] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing at all is stored."""
        return not (self.language or self.cases or self.draft or self.volunteer or self.feedback)


class PrivacyService:
    """What is stored about a person, and its erasure, at the person's request."""

    def __init__(
        self,
        db: Database,
        ids: Ids,
        tasks: TaskService,
        committee_chat_id: int | None,
        activities: ActivityService | None = None,
    ) -> None:
        self.db = db
        self.ids = ids
        self.tasks = tasks
        self.committee_chat_id = committee_chat_id
        self.activities = activities

    async def collect(self, user_id: int) -> Stored:
        """What the bot stores about ``user_id``."""
        db, ids = self.db, self.ids
        stored = Stored(language=await people.get_language(db, ids, user_id))
        for case in await case_repo.for_user(db, ids, user_id):
            exchanges = [(r.question, r.answer) for r in await requests.for_case(db, ids, case.id)]
            stored.cases.append((case, case_repo.personal(ids.cipher, case), exchanges))
            stored.support[case.id] = await support.for_case(db, ids, case.id)
        stored.draft = await drafts.load(db, ids, user_id)
        stored.volunteer = await volunteers.get(db, ids, user_id)
        stored.feedback = await feedback_repo.of_person(db, ids, user_id)
        return stored

    async def erase(self, user_id: int) -> int:
        """Delete the person's data; return how many cases were anonymised.

        The tasks the person holds are given back first, through the task service (the
        waiting list moves up, the creator is told "a volunteer"), and so are their places in
        activities (the first waiting is told); then, in one transaction,
        their cases are anonymised and every other row that names them goes. Last, the WAL
        is cut, so that no old copy of what was deleted stays on disk.
        """
        for task, _ in await self.tasks.mine(user_id):
            await self.tasks.withdraw(task.ref, user_id)
        if self.activities is not None:  # their places go to those waiting
            for activity, answer in await self.activities.answered_by(user_id):
                if answer == COMING:
                    await self.activities.answer(activity.ref, user_id, coming=False)
        # A direct offer not answered yet is cancelled as if declined: the member who made
        # it is told that the volunteer is not available (unnamed once their data is gone).
        for ref in await task_repo.offered_to(self.db, self.ids, user_id):
            await self.tasks.decline(ref, user_id)
        ids = self.ids
        async with self.db.transaction() as conn:
            case_ids = await case_repo.ids_of_user(conn, ids, user_id)
            for case_id in case_ids:
                await _anonymise(conn, case_id, self.committee_chat_id)
            await _forget(conn, ids, user_id)
            for case_id in case_ids:
                await audit.record(conn, ids, "data_erased", actor_id=None, case_id=case_id)
            if not case_ids:
                await audit.record(conn, ids, "data_erased", actor_id=None)
        await self.db.checkpoint()
        return len(case_ids)


async def expired(db: Database, days: int) -> list[tuple[int, str]]:
    """Cases untouched for ``days`` (any status) that still hold personal data: (id, ref)."""
    return await case_repo.expired(db, utcnow() - timedelta(days=days))


async def purge(
    db: Database,
    ids: Ids,
    keep: Retention,
    committee_chat_id: int | None,
    *,
    dry_run: bool = False,
) -> dict[str, int]:
    """Retention: how many of each kind (:data:`KINDS`) are stale, removed unless
    ``dry_run``.

    Cases untouched for ``keep.cases`` days lose their personal data, and their family is
    forgotten with its last case; then drafts and sessions left for ``keep.drafts`` days,
    messages sent ``keep.outbox`` days ago, the words and case of tasks ended ``keep.tasks``
    days ago, and people with nothing left go. The WAL is cut afterwards.
    """
    now = utcnow()
    cutoffs = {
        "drafts": now - timedelta(days=keep.drafts),
        "sessions": now - timedelta(days=keep.drafts),
        "outbox": now - timedelta(days=keep.outbox),
        "tasks": now - timedelta(days=keep.tasks),
        "people": now - timedelta(days=keep.cases),
        "feedback": now - timedelta(days=keep.cases),
        "activities": now - timedelta(days=keep.tasks),
        "activity_answers": now - timedelta(days=keep.tasks),
    }
    found = await expired(db, keep.cases)
    if dry_run:
        counts = {"cases": len(found)}
        for kind, before in cutoffs.items():
            counts[kind] = await retention.count(db, kind, before)
        return counts
    async with db.transaction() as conn:
        for case_id, _ in found:
            await _expire(conn, ids, case_id, committee_chat_id)
        counts = {"cases": len(found)}
        for kind, before in cutoffs.items():
            counts[kind] = await retention.apply(conn, kind, before)
    await db.checkpoint()
    return counts


async def _expire(conn: Connection, ids: Ids, case_id: int, committee_chat_id: int | None) -> None:
    """Retention of one case: anonymised, and its family forgotten with its last case."""
    family = await case_repo.family_of(conn, ids, case_id)
    await _anonymise(conn, case_id, committee_chat_id)
    await audit.record_anonymous(conn, "retention_purge", case_id=case_id)
    if family is None:
        return
    await audit.forget_actor(conn, ids, family, case_id=case_id)
    if not await people.needed(conn, ids, family):
        await _forget(conn, ids, family)


async def _anonymise(conn: Connection, case_id: int, committee_chat_id: int | None) -> None:
    """Keep a case's figures, drop everything that could identify the family."""
    await case_repo.anonymise(conn, case_id)
    await requests.delete_for_case(conn, case_id)
    await notes.delete_for_case(conn, case_id)
    await support.anonymise_for_case(conn, case_id)
    await duplicates.delete_for_case(conn, case_id)
    await followups.anonymise_for_case(conn, case_id)
    await outbox.forget_case(conn, case_id)
    await task_repo.unlink_case(conn, case_id)
    if committee_chat_id is not None:
        await outbox.enqueue_group(conn, Kind.CARD_UPDATE, committee_chat_id, case_id=case_id)


async def _forget(conn: Connection, ids: Ids, user_id: int) -> None:
    """Every row outside the cases that names the person: their profile, draft, session,
    task answers and reminders, the messages to them or naming them, their language, who
    they were in the audit log, and their feedback (deleted, not anonymised: their own words
    could say who they are)."""
    await volunteers.remove(conn, ids, user_id)
    await drafts.delete(conn, ids, user_id)
    await sessions.end(conn, ids, user_id)
    await reminders.delete_for_volunteer(conn, ids, user_id)
    await assignments.delete_for_volunteer(conn, ids, user_id)
    await task_repo.forget_offeree(conn, ids, user_id)
    await activity_repo.forget_person(conn, ids, user_id)
    await outbox.forget_chat(conn, ids, user_id)
    await outbox.unname(conn, ids, user_id, NAMING_A_VOLUNTEER, NOBODY)
    await people.delete(conn, ids, user_id)
    await audit.forget_actor(conn, ids, user_id)
    await feedback_repo.delete_for_person(conn, ids, user_id)
