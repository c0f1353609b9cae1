"""The committee's review of cases: actions, decisions, questions, notes, reminders.

Every action is one transaction: the conditional UPDATE of the case (status in the
transition's sources), the audit entry, and the messages it causes (family notice, card
update, reminder) written to the outbox, so that a crash loses nothing and sends nothing
twice. Authorisation is the caller's job (handlers check membership for every press).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot import workflow
from bot.crypto import Cipher
from bot.errors import CaseNotFound
from bot.storage import Database, outbox, utcnow
from bot.storage import audit as audit_log
from bot.storage.cases import Case, _case, normalize_ref
from bot.storage.db import iso, parse_iso
from bot.storage.drafts import end_session

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


@dataclass(frozen=True)
class InfoRequest:
    """A question from a member, and the family's answer."""

    id: int
    case_id: int
    member_id: int
    question: str
    answer: dict[str, Any] | None
    asked_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class Note:
    """An internal note of the committee."""

    author_id: int
    at: datetime
    body: str


class ReviewService:
    """Applies the committee's actions to cases."""

    def __init__(
        self, db: Database, cipher: Cipher, committee_chat_id: int | None, tz: ZoneInfo
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.committee_chat_id = committee_chat_id
        self.tz = tz

    async def get(self, ref: str) -> Case:
        """The case with this reference."""
        row = await self.db.fetchone("SELECT * FROM cases WHERE ref = ?", (normalize_ref(ref),))
        if row is None:
            raise CaseNotFound(ref)
        return _case(row)

    async def _load(self, conn: aiosqlite.Connection, ref: str) -> Case:
        async with conn.execute("SELECT * FROM cases WHERE ref = ?", (normalize_ref(ref),)) as c:
            row = await c.fetchone()
        if row is None:
            raise CaseNotFound(ref)
        return _case(row)

    async def _update(
        self, conn: aiosqlite.Connection, case: Case, action: str, fields: dict[str, Any]
    ) -> Case:
        """The conditional UPDATE: applies only if the status is still one the action allows."""
        new_status = workflow.target(action, case.status)
        sources = workflow.TRANSITIONS[action].sources
        assignments = ", ".join(f"{name} = ?" for name in fields)
        marks = ", ".join("?" for _ in sources)
        cursor = await conn.execute(
            f"UPDATE cases SET status = ?, version = version + 1, updated_at = ?"  # noqa: S608
            f"{', ' if fields else ''}{assignments} WHERE id = ? AND status IN ({marks})",
            (new_status, iso(utcnow()), *fields.values(), case.id, *sources),
        )
        if cursor.rowcount != 1:
            raise workflow.InvalidTransition(action, case.status)
        return await self._load(conn, case.ref)

    async def _card_update(self, conn: aiosqlite.Connection, case: Case) -> None:
        if self.committee_chat_id is not None:
            await outbox.enqueue(conn, "card_update", self.committee_chat_id, case_id=case.id)

    async def _family_notice(
        self, conn: aiosqlite.Connection, case: Case, notice: str, **extra: Any
    ) -> None:
        if case.user_id is not None:
            payload = self.cipher.encrypt_json({"notice": notice, **extra})
            await outbox.enqueue(
                conn, "family_notice", case.user_id, case_id=case.id, payload=payload
            )

    async def take(self, ref: str, member_id: int, member_name: str) -> Case:
        """Assign the case to the member (new → in review)."""
        async with self.db.transaction() as conn:
            case = await self._load(conn, ref)
            case = await self._update(
                conn, case, workflow.TAKE, {"assignee_id": member_id, "assignee_name": member_name}
            )
            await audit_log.record(conn, "case_taken", actor_id=member_id, case_id=case.id)
            await self._card_update(conn, case)
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

        ``ends_session``: the member's wizard ends in the same transaction (see
        :func:`end_session`), so a crash keeps both the wizard and no decision, or neither.
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
                await end_session(conn, member_id)
            case = await self._load(conn, ref)
            case = await self._update(conn, case, action, fields)
            await audit_log.record(
                conn,
                DECISION_EVENTS[action],
                actor_id=member_id,
                case_id=case.id,
                detail=json.dumps(facts),
            )
            await self._family_notice(conn, case, action)
            await self._card_update(conn, case)
            if decision.until is not None:
                due = datetime.combine(decision.until, time(REMINDER_HOUR), tzinfo=self.tz)
                await conn.execute(
                    "INSERT OR IGNORE INTO reminders (kind, case_id, due_at) VALUES (?, ?, ?)",
                    ("support_end", case.id, iso(due)),
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
            await audit_log.record(conn, event, actor_id=member_id, case_id=case.id)
            await self._card_update(conn, case)
        return case

    async def ask(
        self, ref: str, member_id: int, question: str, *, ends_session: bool = False
    ) -> Case:
        """Send the family a question; the case waits for the answer."""
        async with self.db.transaction() as conn:
            if ends_session:
                await end_session(conn, member_id)
            case = await self._load(conn, ref)
            case = await self._update(conn, case, workflow.ASK, {})
            cursor = await conn.execute(
                "INSERT INTO info_requests (case_id, member_id, question, asked_at) "
                "VALUES (?, ?, ?, ?)",
                (case.id, member_id, self.cipher.encrypt(question), iso(utcnow())),
            )
            await audit_log.record(conn, "info_requested", actor_id=member_id, case_id=case.id)
            await self._family_notice(conn, case, "question", request=cursor.lastrowid)
            await self._card_update(conn, case)
        return case

    async def open_request(self, request_id: int) -> InfoRequest | None:
        """An unanswered question, if it still is."""
        row = await self.db.fetchone(
            "SELECT * FROM info_requests WHERE id = ? AND answered_at IS NULL", (request_id,)
        )
        return None if row is None else self._request(row)

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
                await end_session(conn, family_id)
            async with conn.execute(
                "SELECT r.*, c.ref, c.user_id FROM info_requests r JOIN cases c "
                "ON c.id = r.case_id WHERE r.id = ? AND r.answered_at IS NULL",
                (request_id,),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None or row["user_id"] != family_id:
                raise CaseNotFound(str(request_id))
            await conn.execute(
                "UPDATE info_requests SET answer = ?, answered_at = ? WHERE id = ?",
                (self.cipher.encrypt_json(answer), iso(utcnow()), request_id),
            )
            case = await self._load(conn, row["ref"])
            case = await self._update(conn, case, workflow.ANSWER, {})
            await audit_log.record(conn, "info_answered", actor_id=family_id, case_id=case.id)
            await outbox.enqueue(
                conn,
                "member_notice",
                row["member_id"],
                case_id=case.id,
                payload=self.cipher.encrypt_json({"request": request_id}),
            )
            await self._card_update(conn, case)
        return case

    def _request(self, row: aiosqlite.Row) -> InfoRequest:
        return InfoRequest(
            id=row["id"],
            case_id=row["case_id"],
            member_id=row["member_id"],
            question=self.cipher.decrypt(row["question"]),
            answer=self.cipher.decrypt_json(row["answer"]) if row["answer"] else None,
            asked_at=parse_iso(row["asked_at"]),
            answered_at=parse_iso(row["answered_at"]) if row["answered_at"] else None,
        )

    async def requests(self, case_id: int) -> list[InfoRequest]:
        """The case's questions and answers, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM info_requests WHERE case_id = ? ORDER BY id", (case_id,)
        )
        return [self._request(r) for r in rows]

    async def add_note(
        self, ref: str, member_id: int, body: str, *, ends_session: bool = False
    ) -> Case:
        """An internal note (encrypted), audited without its text."""
        async with self.db.transaction() as conn:
            if ends_session:
                await end_session(conn, member_id)
            case = await self._load(conn, ref)
            await conn.execute(
                "INSERT INTO notes (case_id, author_id, at, body) VALUES (?, ?, ?, ?)",
                (case.id, member_id, iso(utcnow()), self.cipher.encrypt(body)),
            )
            await audit_log.record(conn, "note_added", actor_id=member_id, case_id=case.id)
        return case

    async def notes(self, case_id: int) -> list[Note]:
        """The case's notes, oldest first."""
        rows = await self.db.fetchall(
            "SELECT author_id, at, body FROM notes WHERE case_id = ? ORDER BY id", (case_id,)
        )
        return [
            Note(r["author_id"], parse_iso(r["at"]), self.cipher.decrypt(r["body"])) for r in rows
        ]

    async def audit(self, case: Case, actor_id: int, action: str) -> None:
        """Record a view or an export of the case."""
        async with self.db.transaction() as conn:
            await audit_log.record(conn, action, actor_id=actor_id, case_id=case.id)

    def message_of(self, case: Case) -> str | None:
        """The member's message to the family with the decision, decrypted."""
        return self.cipher.decrypt(case.decision_message) if case.decision_message else None

    def default_until(self, months: int) -> date:
        """Today (in the organisation's time zone) plus ``months``."""
        return add_months(utcnow().astimezone(self.tz).date(), months)

    async def due_reminders(self) -> list[tuple[int, datetime]]:
        """Pending reminders and their times."""
        rows = await self.db.fetchall(
            "SELECT id, due_at FROM reminders WHERE status = 'pending' ORDER BY due_at"
        )
        return [(int(r["id"]), parse_iso(r["due_at"])) for r in rows]

    async def claim_reminder(self, reminder_id: int) -> bool:
        """Mark a reminder sent and queue its message, once: False if it was claimed before."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE reminders SET status = 'sent' WHERE id = ? AND status = 'pending'",
                (reminder_id,),
            )
            if cursor.rowcount != 1:
                return False
            async with conn.execute(
                "SELECT r.kind, r.case_id, c.status FROM reminders r JOIN cases c "
                "ON c.id = r.case_id WHERE r.id = ?",
                (reminder_id,),
            ) as cur:
                row = await cur.fetchone()
            if row is None or row["status"] != workflow.APPROVED:
                return True  # decided otherwise since: nothing to remind
            if self.committee_chat_id is not None:
                await outbox.enqueue(
                    conn, row["kind"], self.committee_chat_id, case_id=row["case_id"]
                )
        return True


def days_between(start: datetime, end: datetime) -> float:
    """Days from ``start`` to ``end``."""
    return (end - start) / timedelta(days=1)
