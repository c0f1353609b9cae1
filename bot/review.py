"""The committee's review of cases: actions, decisions, questions, notes, reminders.

Every action is one transaction: the conditional UPDATE of the case (status in the
transition's sources), the audit entry, and the messages it causes (family notice, card
update, reminder) written to the outbox, so that a crash loses nothing and sends nothing
twice. Authorisation is the caller's job (handlers check membership for every press); what
the committee sees, exports or is refused is audited here.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import followup, workflow
from bot.errors import CaseNotFound
from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import Connection, Database, outbox, reminders, sessions, utcnow
from bot.storage import audit as audit_log
from bot.storage import cases as case_repo
from bot.storage import notes as note_repo
from bot.storage import requests as request_repo
from bot.storage.audit import AuditEntry
from bot.storage.cases import Case
from bot.storage.db import iso
from bot.storage.notes import Note
from bot.storage.requests import InfoRequest

REASONS = ("criteria", "debt", "information", "other")
PERIOD_MONTHS = (1, 3, 6, 12)
REMINDER_HOUR = 9
DECISION_EVENTS = {
    workflow.APPROVE: "case_approved",
    workflow.DECLINE: "case_declined",
    workflow.RENEW: "case_renewed",
}


@dataclass(frozen=True)
class Decision:
    """What a member decided, before it is applied."""

    support: tuple[str, ...] = ()
    until: date | None = None
    reason: str | None = None
    message: str | None = None


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError("no such date")  # pragma: no cover


class ReviewService:
    """Applies the committee's actions to cases, and answers what the committee looks up."""

    def __init__(
        self,
        db: Database,
        ids: Ids,
        committee_chat_id: int | None,
        tz: ZoneInfo,
        followup_days: int = 7,
    ) -> None:
        self.followup_days = followup_days
        self.db = db
        self.ids = ids
        self.cipher = ids.cipher
        self.committee_chat_id = committee_chat_id
        self.tz = tz

    # --- looking cases up ---------------------------------------------------------------

    async def get(self, ref: str) -> Case:
        """The case with this reference."""
        case = await case_repo.by_ref(self.db, self.ids, ref)
        if case is None:
            raise CaseNotFound(ref)
        return case

    async def find(self, ref: str) -> Case | None:
        """The case with this reference, None if there is none."""
        return await case_repo.by_ref(self.db, self.ids, ref)

    async def by_id(self, case_id: int) -> Case | None:
        """The case with this id."""
        return await case_repo.by_id(self.db, self.ids, case_id)

    async def page(self, status: str | None, offset: int, limit: int) -> tuple[list[Case], int]:
        """Cases with ``status`` (all when None), newest first, and how many there are."""
        return await case_repo.page(self.db, self.ids, status, offset, limit)

    async def counts_by_status(self) -> dict[str, int]:
        """How many cases are in each status."""
        return await case_repo.counts_by_status(self.db)

    async def history(self, case_id: int) -> list[AuditEntry]:
        """Who saw or changed what on the case, oldest first."""
        return await audit_log.for_case(self.db, self.ids, case_id)

    def personal(self, case: Case) -> dict[str, Any]:
        """The case's personal answers, decrypted."""
        return case_repo.personal(self.cipher, case)

    # --- what the committee sees, exports or is refused (audited) ----------------------

    async def record_refused(self, actor_id: int | None, ref: str | None) -> None:
        """Someone outside the committee pressed a committee button (on case ``ref``)."""
        case = None
        if ref:
            with contextlib.suppress(CaseNotFound):
                case = await self.get(ref)
        await self._record("action_refused", actor_id, case)

    async def record_view_refused(self, actor_id: int, case: Case | None) -> None:
        """Someone outside the committee asked for a case's details."""
        await self._record("view_refused", actor_id, case)

    async def record_viewed(self, member_id: int, case: Case) -> None:
        """A member was shown the full case."""
        await self._record("case_viewed", member_id, case)

    async def _record(self, action: str, actor_id: int | None, case: Case | None) -> None:
        async with self.db.transaction() as conn:
            await audit_log.record(
                conn, self.ids, action, actor_id=actor_id, case_id=case.id if case else None
            )

    # --- actions --------------------------------------------------------------------------

    async def _load(self, conn: Connection, ref: str) -> Case:
        case = await case_repo.load(conn, self.ids, ref)
        if case is None:
            raise CaseNotFound(ref)
        return case

    async def _update(
        self, conn: Connection, case: Case, action: str, fields: dict[str, Any]
    ) -> Case:
        """The conditional UPDATE: applies only if the status is still one the action allows."""
        new_status = workflow.target(action, case.status)
        sources = workflow.TRANSITIONS[action].sources
        if not await case_repo.transition(conn, self.ids, case.id, new_status, sources, fields):
            raise workflow.InvalidTransition(action, case.status)
        return await self._load(conn, case.ref)

    async def _card_update(self, conn: Connection, case_id: int) -> None:
        if self.committee_chat_id is not None:
            await outbox.enqueue_group(
                conn, Kind.CARD_UPDATE, self.committee_chat_id, case_id=case_id
            )

    async def refresh_card(self, case: Case) -> bool:
        """Queue an update of the case's card in the committee group; False if there is
        no committee group (nothing to send)."""
        if self.committee_chat_id is None:
            return False
        async with self.db.transaction() as conn:
            await self._card_update(conn, case.id)
        return True

    async def _family_notice(
        self, conn: Connection, case: Case, notice: str, **extra: Any
    ) -> None:
        if case.user_id is not None:
            payload = self.cipher.encrypt_json({"notice": notice, **extra})
            await outbox.enqueue(
                conn,
                self.ids,
                Kind.FAMILY_NOTICE,
                case.user_id,
                case_id=case.id,
                payload=payload,
            )

    async def take(self, ref: str, member_id: int, member_name: str) -> Case:
        """Assign the case to the member (new → in review)."""
        async with self.db.transaction() as conn:
            case = await self._load(conn, ref)
            case = await self._update(
                conn, case, workflow.TAKE, {"assignee_id": member_id, "assignee_name": member_name}
            )
            await audit_log.record(
                conn, self.ids, "case_taken", actor_id=member_id, case_id=case.id
            )
            await self._card_update(conn, case.id)
        return case

    async def decide(
        self,
        ref: str,
        action: str,
        member_id: int,
        member_name: str,
        decision: Decision,
        *,
        ends_session: bool = False,
    ) -> Case:
        """Approve or decline; the family is told in its language; one decision wins.

        ``ends_session``: the member's wizard ends in the same transaction, so a crash keeps
        both the wizard and no decision, or neither.
        """
        assert action in (workflow.APPROVE, workflow.DECLINE, workflow.RENEW)
        facts: dict[str, Any] = {}
        if action in (workflow.APPROVE, workflow.RENEW):
            assert decision.until is not None
            facts = {"support": list(decision.support), "until": decision.until.isoformat()}
        else:
            assert decision.reason in REASONS
            facts = {"reason": decision.reason}
        message = self.cipher.encrypt(decision.message) if decision.message else None
        fields: dict[str, Any] = {
            "decided_by": member_id,
            "decided_by_name": member_name,
            "decided_at": iso(utcnow()),
            "decision": json.dumps(facts),
            "decision_message": message,
            "support_until": facts.get("until"),
        }
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, member_id)
            case = await self._load(conn, ref)
            case = await self._update(conn, case, action, fields)
            await audit_log.record(
                conn,
                self.ids,
                DECISION_EVENTS[action],
                actor_id=member_id,
                case_id=case.id,
                detail=json.dumps(facts),
            )
            await self._family_notice(conn, case, action)
            await self._card_update(conn, case.id)
            if decision.until is not None:
                due = datetime.combine(decision.until, time(REMINDER_HOUR), tzinfo=self.tz)
                await reminders.add(conn, self.ids, Kind.SUPPORT_END, due, case_id=case.id)
                await followup.schedule(
                    conn, self.ids, case.id, decision.until, self.followup_days, self.tz
                )
        return case

    async def close(self, ref: str, member_id: int) -> Case:
        """Close a decided case."""
        return await self._simple(ref, workflow.CLOSE, member_id, "case_closed")

    async def reopen(self, ref: str, member_id: int) -> Case:
        """Reopen a declined or closed case for review."""
        return await self._simple(ref, workflow.REOPEN, member_id, "case_reopened")

    async def _simple(self, ref: str, action: str, member_id: int, event: str) -> Case:
        async with self.db.transaction() as conn:
            case = await self._load(conn, ref)
            case = await self._update(conn, case, action, {})
            await audit_log.record(conn, self.ids, event, actor_id=member_id, case_id=case.id)
            await self._card_update(conn, case.id)
        return case

    # --- questions to the family, and notes ------------------------------------------------

    async def ask(
        self, ref: str, member_id: int, question: str, *, ends_session: bool = False
    ) -> Case:
        """Send the family a question; the case waits for the answer."""
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, member_id)
            case = await self._load(conn, ref)
            case = await self._update(conn, case, workflow.ASK, {})
            request_id = await request_repo.add(conn, self.ids, case.id, member_id, question)
            await audit_log.record(
                conn, self.ids, "info_requested", actor_id=member_id, case_id=case.id
            )
            await self._family_notice(conn, case, "question", request=request_id)
            await self._card_update(conn, case.id)
        return case

    async def open_request(self, request_id: int) -> InfoRequest | None:
        """An unanswered question, if it still is."""
        return await request_repo.open_one(self.db, self.ids, request_id)

    async def open_request_of(self, request_id: int, family_id: int) -> InfoRequest | None:
        """The unanswered question, if it is about a case of ``family_id`` (None otherwise:
        answered, closed, or someone else's)."""
        request = await self.open_request(request_id)
        if request is None:
            return None
        case = await case_repo.by_id(self.db, self.ids, request.case_id)
        return request if case is not None and case.user_id == family_id else None

    async def answer(
        self,
        request_id: int,
        family_id: int,
        answer: dict[str, Any],
        *,
        ends_session: bool = False,
    ) -> Case:
        """Store the family's answer (encrypted); the case returns to review."""
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, family_id)
            pending = await request_repo.unanswered(conn, self.ids, request_id)
            if pending is None or pending.family_id != family_id:
                raise CaseNotFound(str(request_id))
            await request_repo.set_answer(conn, self.ids, request_id, answer)
            case = await self._load(conn, pending.case_ref)
            case = await self._update(conn, case, workflow.ANSWER, {})
            await audit_log.record(
                conn, self.ids, "info_answered", actor_id=family_id, case_id=case.id
            )
            await outbox.enqueue(
                conn,
                self.ids,
                Kind.MEMBER_NOTICE,
                pending.member_id,
                case_id=case.id,
                payload=self.cipher.encrypt_json({"request": request_id}),
            )
            await self._card_update(conn, case.id)
        return case

    async def requests(self, case_id: int) -> list[InfoRequest]:
        """The case's questions and answers, oldest first."""
        return await request_repo.for_case(self.db, self.ids, case_id)

    async def add_note(
        self, ref: str, member_id: int, body: str, *, ends_session: bool = False
    ) -> Case:
        """An internal note (encrypted), audited without its text."""
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, member_id)
            case = await self._load(conn, ref)
            await note_repo.add(conn, self.ids, case.id, member_id, body)
            await audit_log.record(
                conn, self.ids, "note_added", actor_id=member_id, case_id=case.id
            )
        return case

    async def notes(self, case_id: int) -> list[Note]:
        """The case's notes, oldest first."""
        return await note_repo.for_case(self.db, self.ids, case_id)

    def message_of(self, case: Case) -> str | None:
        """The member's message to the family with the decision, decrypted."""
        return self.cipher.decrypt(case.decision_message) if case.decision_message else None

    def default_until(self, months: int) -> date:
        """Today (in the organisation's time zone) plus ``months``."""
        return add_months(utcnow().astimezone(self.tz).date(), months)

    # --- reminders ------------------------------------------------------------------------

    async def due_reminders(self) -> list[tuple[int, datetime]]:
        """Pending reminders (of cases and of tasks) and their times."""
        return await reminders.pending(self.db)

    async def reminder_kind(self, reminder_id: int) -> str | None:
        """The kind of a reminder (which service claims it); None if there is none."""
        return await reminders.kind_of(self.db, reminder_id)

    async def claim_reminder(self, reminder_id: int) -> bool:
        """Mark a reminder sent and queue its message, once: False if it was claimed before."""
        async with self.db.transaction() as conn:
            claimed = await reminders.claim(conn, self.ids, reminder_id)
            if claimed is None:
                return False
            status = None
            if claimed.case_id is not None:
                status = await case_repo.status_of(conn, claimed.case_id)
            if status != workflow.APPROVED:
                return True  # decided otherwise since: nothing to remind
            assert claimed.case_id is not None
            if self.committee_chat_id is not None:
                await outbox.enqueue_group(
                    conn, claimed.kind, self.committee_chat_id, case_id=claimed.case_id
                )
        return True


def days_between(start: datetime, end: datetime) -> float:
    """Days from ``start`` to ``end``."""
    return (end - start) / timedelta(days=1)
