"""Support given to an approved case, and the family's confirmation that it arrived.

A member records what was given; in the same transaction the audit row, the family's
question ("Did you receive …?") and the card's update are queued, so a crash keeps both or
neither. The family's answer moves the record once (compare-and-set), whoever taps twice;
"Not received", or no answer within RECEIPT_DAYS, alerts the member who recorded it privately,
exactly once (``support.mark_alerted``), or every member when the recorder is no longer one;
a "Not received" after the timeout alerts once more, since it tells something new. A case
whose family is gone asks nobody and alerts nobody: its receipts are closed at once.
Nothing about support reaches the committee group but the card's count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum

from bot import workflow
from bot.config import Settings
from bot.errors import CaseNotFound
from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import Connection, Database, audit, outbox, sessions, support, utcnow
from bot.storage import cases as case_repo
from bot.storage import tasks as task_repo
from bot.storage.support import NOT_RECEIVED, PENDING, RECEIVED, UNANSWERED, Summary, Support
from bot.storage.tasks import Task
from bot.text import normalize_digits

# The kind of support that is none of the form's options: described in the member's words.
OTHER = "other"
# The support option whose gifts have an amount and a currency.
FINANCIAL = "financial"
# Why the recorder is alerted (the alert's payload).
SAID_NOT_RECEIVED, NO_ANSWER = "not_received", "unanswered"
# A "Not received" that came after the timeout had already alerted the recorder.
LATE_NOT_RECEIVED = "late_not_received"
# The largest amount a member may type, and its decimals.
MAX_AMOUNT = Decimal("1000000000")
AMOUNT_PLACES = 2


def parse_amount(text: str) -> Decimal | None:
    """An amount typed in any digit system ("150", "١٥٠٫٥", "1,250.75"), or None.

    Positive, at most two decimals and below :data:`MAX_AMOUNT`; the Arabic decimal
    separator (U+066B) and thousands separators (U+066C, ",", spaces) are understood.
    """
    cleaned = normalize_digits(text).strip().replace("\u066b", ".")
    for separator in ("\u066c", ",", " ", "\u00a0"):
        cleaned = cleaned.replace(separator, "")
    if not cleaned or not all(c.isdigit() or c == "." for c in cleaned) or not cleaned.isascii():
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent > AMOUNT_PLACES:
        return None
    if amount <= 0 or amount >= MAX_AMOUNT:
        return None
    return amount


@dataclass(frozen=True)
class Entry:
    """What a member records, before it is stored."""

    kind: str  # a support option id, or OTHER
    given_on: date
    amount: Decimal | None = None
    currency: str | None = None
    note: str | None = None
    other: str | None = None  # what was given, when the kind is OTHER
    task_id: int | None = None


class Answer(Enum):
    """What became of the family's tap."""

    SAVED = "saved"
    ALREADY = "already"  # answered before (or the timeout passed and the answer was kept)
    NOT_THEIRS = "not_theirs"  # the presser is not the case's family
    GONE = "gone"  # no such record, or its case no longer knows its family


class SupportService:
    """Records support given and follows the family's confirmation."""

    def __init__(self, db: Database, ids: Ids, settings: Settings) -> None:
        self.db = db
        self.ids = ids
        self.settings = settings

    # --- looking up ---------------------------------------------------------------------

    async def history(self, case_id: int) -> list[Support]:
        """The case's support given, oldest first."""
        return await support.for_case(self.db, self.ids, case_id)

    async def summary(self, case_id: int) -> Summary:
        """How many times, and the last day (the card's line)."""
        return await support.summary(self.db, case_id)

    async def get(self, support_id: int) -> Support | None:
        """One record."""
        return await support.get(self.db, self.ids, support_id)

    async def tasks_of(self, case_id: int) -> list[Task]:
        """The tasks that serve the case: support may have gone through one of them."""
        return await task_repo.for_case(self.db, self.ids, case_id)

    def today(self) -> date:
        """Today in the organisation's time zone."""
        return utcnow().astimezone(self.settings.tz).date()

    # --- recording ----------------------------------------------------------------------

    async def record(
        self,
        ref: str,
        member_id: int,
        member_name: str,
        entry: Entry,
        *,
        ends_session: bool = False,
    ) -> int:
        """Store support given to an approved case; return its id.

        One transaction: the record, its audit row (the kind only), the family's question
        and the card's update. Raises :class:`CaseNotFound`, or
        :class:`workflow.InvalidTransition` when the case is no longer approved.
        """
        async with self.db.transaction() as conn:
            if ends_session:
                await sessions.end(conn, self.ids, member_id)
            case = await case_repo.load(conn, self.ids, ref)
            if case is None:
                raise CaseNotFound(ref)
            if case.status != workflow.APPROVED:
                raise workflow.InvalidTransition("support", case.status)
            support_id = await support.add(
                conn,
                self.ids,
                case.id,
                kind=entry.kind,
                given_on=entry.given_on,
                member_id=member_id,
                amount=entry.amount,
                currency=entry.currency if entry.amount is not None else None,
                note=entry.note,
                task_id=entry.task_id,
                other=entry.other,
                member_name=member_name,
            )
            await audit.record(
                conn,
                self.ids,
                "support_recorded",
                actor_id=member_id,
                case_id=case.id,
                detail=json.dumps({"kind": entry.kind}),
            )
            if case.user_id is None:  # the family's data is erased: nobody to ask
                await support.close_pending(conn, case.id)
            else:
                await outbox.enqueue(
                    conn,
                    self.ids,
                    Kind.SUPPORT_RECEIPT,
                    case.user_id,
                    case_id=case.id,
                    payload=self.ids.cipher.encrypt_json({"support": support_id}),
                )
            if self.settings.committee_chat_id is not None:
                await outbox.enqueue_group(
                    conn, Kind.CARD_UPDATE, self.settings.committee_chat_id, case_id=case.id
                )
        return support_id

    # --- the family's answer, and the timeout ---------------------------------------------

    async def family_of(self, record: Support) -> int | None:
        """The Telegram id of the family the record is about (None once anonymised)."""
        case = await case_repo.by_id(self.db, self.ids, record.case_id)
        return None if case is None else case.user_id

    async def answer(self, support_id: int, family_id: int, received: bool) -> Answer:
        """The family taps Received or Not received: stored once; "Not received" alerts the
        recorder (once). A late answer after the timeout is kept, and a late "Not received" alerts
        the recorder a second time (once)."""
        record = await self.get(support_id)
        if record is None:
            return Answer.GONE
        family = await self.family_of(record)
        if family is None:
            return Answer.GONE  # the case's family was erased: nobody's button any more
        if family != family_id:
            return Answer.NOT_THEIRS
        receipt = RECEIVED if received else NOT_RECEIVED
        async with self.db.transaction() as conn:
            late = False
            if not await support.set_receipt(conn, support_id, receipt, only_from=(PENDING,)):
                late = True  # after the timeout: kept, and "Not received" tells something new
                if not await support.set_receipt(
                    conn, support_id, receipt, only_from=(UNANSWERED,)
                ):
                    return Answer.ALREADY
            await audit.record(
                conn,
                self.ids,
                "support_receipt_answered",
                actor_id=family_id,
                case_id=record.case_id,
                detail=json.dumps({"receipt": receipt}),
            )
            if late and not received:
                # Once: the record leaves "unanswered" only once (compare-and-set above).
                await self._alert(conn, record, LATE_NOT_RECEIVED, again=True)
            elif not received:
                await self._alert(conn, record, SAID_NOT_RECEIVED)
        return Answer.SAVED

    async def expire(self) -> int:
        """Records the family left unanswered for RECEIPT_DAYS: marked, and their recorders
        alerted, each once, whatever restarts came between; return how many."""
        before = utcnow() - timedelta(days=self.settings.receipt_days)
        count = 0
        for support_id in await support.unanswered_since(self.db, before):
            record = await self.get(support_id)
            if record is None:
                continue
            async with self.db.transaction() as conn:
                if not await support.set_receipt(
                    conn, support_id, UNANSWERED, only_from=(PENDING,)
                ):
                    continue  # the family answered meanwhile
                await audit.record_anonymous(
                    conn, "support_receipt_timeout", case_id=record.case_id
                )
                await self._alert(conn, record, NO_ANSWER)
                count += 1
        return count

    async def _alert(
        self, conn: Connection, record: Support, why: str, *, again: bool = False
    ) -> None:
        """Tell the recorder (or, if they are no longer a member, every member) privately,
        once: the record's ``alerted_at`` is set with compare-and-set. ``again``: the second
        alert of a late "Not received", made once by its caller's compare-and-set."""
        if not await support.mark_alerted(conn, record.id) and not again:
            return
        recorder = record.recorder
        if recorder is not None and self.settings.is_member(recorder):
            recipients, to = [recorder], "recorder"
        else:
            recipients, to = sorted(self.settings.committee_member_ids), "committee"
        payload = self.ids.cipher.encrypt_json({"support": record.id, "why": why})
        for member in recipients:
            await outbox.enqueue(
                conn, self.ids, Kind.SUPPORT_ALERT, member, case_id=record.case_id, payload=payload
            )
        await audit.record(
            conn,
            self.ids,
            "support_alert_sent",
            actor_id=None,
            case_id=record.case_id,
            detail=json.dumps({"why": why, "to": to}),
        )
