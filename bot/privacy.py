"""A person's data: what is stored about them (/mydata), and its erasure (/delete_my_data).

Erasure keeps only what statistics need and cannot identify anyone: a case keeps its option
ids and counts; its personal answers, the family's answers to questions, the member's message
to them and the link to their Telegram account are deleted, and the audit log forgets who
they were. Volunteers leave the tasks they held (the waiting list moves up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import (
    Connection,
    Database,
    assignments,
    audit,
    drafts,
    notes,
    outbox,
    people,
    reminders,
    requests,
    sessions,
    utcnow,
    volunteers,
)
from bot.storage import cases as case_repo
from bot.tasks import TaskService


@dataclass
class Stored:
    """Everything stored about one person, decrypted for them."""

    language: str | None
    cases: list[tuple[case_repo.Case, dict[str, Any], list[tuple[str, Any]]]] = field(
        default_factory=list
    )
    draft: dict[str, Any] | None = None
    volunteer: volunteers.Volunteer | None = None

    @property
    def empty(self) -> bool:
        """Nothing at all is stored."""
        return not (self.language or self.cases or self.draft or self.volunteer)


class PrivacyService:
    """What is stored about a person, and its erasure, at the person's request."""

    def __init__(
        self, db: Database, ids: Ids, tasks: TaskService, committee_chat_id: int | None
    ) -> None:
        self.db = db
        self.ids = ids
        self.tasks = tasks
        self.committee_chat_id = committee_chat_id

    async def collect(self, user_id: int) -> Stored:
        """What the bot stores about ``user_id``."""
        db, ids = self.db, self.ids
        stored = Stored(language=await people.get_language(db, ids, user_id))
        for case in await case_repo.for_user(db, ids, user_id):
            exchanges = [(r.question, r.answer) for r in await requests.for_case(db, ids, case.id)]
            stored.cases.append((case, case_repo.personal(ids.cipher, case), exchanges))
        stored.draft = await drafts.load(db, ids, user_id)
        stored.volunteer = await volunteers.get(db, ids, user_id)
        return stored

    async def erase(self, user_id: int) -> int:
        """Delete the person's data; return how many cases were anonymised."""
        for task, _ in await self.tasks.mine(user_id):
            await self.tasks.withdraw(task.ref, user_id)
        ids = self.ids
        async with self.db.transaction() as conn:
            case_ids = await case_repo.ids_of_user(conn, ids, user_id)
            for case_id in case_ids:
                await _anonymise(conn, case_id, self.committee_chat_id)
            await outbox.drop_pending_to(conn, ids, user_id)
            await volunteers.remove(conn, ids, user_id)
            await sessions.end(conn, ids, user_id)
            await reminders.delete_for_volunteer(conn, ids, user_id)
            await assignments.delete_for_volunteer(conn, ids, user_id)
            await people.delete(conn, ids, user_id)
            await audit.forget_actor(conn, ids, user_id)
            for case_id in case_ids:
                await audit.record(conn, ids, "data_erased", actor_id=None, case_id=case_id)
            if not case_ids:
                await audit.record(conn, ids, "data_erased", actor_id=None)
        return len(case_ids)


async def expired(db: Database, days: int) -> list[tuple[int, str]]:
    """Closed cases untouched for ``days`` that still hold personal data: (id, ref)."""
    return await case_repo.expired(db, utcnow() - timedelta(days=days))


async def purge(db: Database, days: int, committee_chat_id: int | None) -> int:
    """Retention: closed cases lose their personal data after ``days``; return how many."""
    found = await expired(db, days)
    async with db.transaction() as conn:
        for case_id, _ in found:
            await _anonymise(conn, case_id, committee_chat_id)
            await audit.record_anonymous(conn, "retention_purge", case_id=case_id)
    return len(found)


async def _anonymise(conn: Connection, case_id: int, committee_chat_id: int | None) -> None:
    """Keep a case's figures, drop everything that could identify the family."""
    await case_repo.anonymise(conn, case_id)
    await requests.delete_for_case(conn, case_id)
    await notes.delete_for_case(conn, case_id)
    if committee_chat_id is not None:
        await outbox.enqueue_group(conn, Kind.CARD_UPDATE, committee_chat_id, case_id=case_id)
