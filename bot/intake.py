"""The intake: a family's draft application and its rules, without Telegram.

A :class:`Draft` is saved (encrypted) after every answer, so a family that stops halfway, or
a bot that restarts, loses nothing. Answers are validated here; the handlers only translate
between Telegram and these functions.
"""

from __future__ import annotations

import copy
import secrets
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

import phonenumbers

from bot import workflow
from bot.duplicates import Keyer
from bot.errors import Invalid
from bot.forms import Answers, Form, Step
from bot.ids import Ids
from bot.kinds import Kind
from bot.storage import Database, drafts, outbox, people, utcnow
from bot.storage import audit as audit_log
from bot.storage import cases as case_repo
from bot.storage.db import iso
from bot.text import clean_answer, normalize_digits, parse_int

REVIEW = "review"
DRAFT_CACHE_SIZE = 10_000


@dataclass
class Draft:
    """An application in progress."""

    id: str
    step: str
    answers: Answers = field(default_factory=dict)
    form: str = "intake"
    pending: list[str] = field(default_factory=list)
    editing: bool = False
    started_at: str = ""
    # The message that shows the current question with its buttons (0: none): the one live
    # question, closed when the answer comes, however it comes.
    live: int = 0
    # The steps answered by a tap on the live message, shown above its current question: a tap
    # edits the one message (Telegram paces a private chat to about a message a second).
    answered_here: list[str] = field(default_factory=list)

    @classmethod
    def new(cls, form: Form) -> Draft:
        """A fresh draft at the form's first step."""
        return cls(
            id=secrets.token_hex(3), step=form.first().id, form=form.id, started_at=iso(utcnow())
        )

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Draft:
        """A draft read back from storage."""
        return cls(**payload)


def validate_number(form: Form, step: Step, answers: Answers, text: str) -> int:
    """A number answer, in any digit system, within the step's bounds."""
    value = parse_int(text)
    low, high = form.number_bounds(step, answers)
    if value is None:
        raise Invalid("not_a_number", min=low, max=high)
    if not low <= value <= high:
        raise Invalid("out_of_range", min=low, max=high)
    return value


def validate_text(step: Step, text: str) -> str:
    """A typed answer, tidied, within the step's length."""
    cleaned = clean_answer(text)
    if not cleaned:
        raise Invalid("empty")
    if len(cleaned) > step.max_length:
        raise Invalid("too_long", max=step.max_length, length=len(cleaned))
    return cleaned


def validate_phone(text: str, region: str | None) -> str:
    """A phone number valid for ``region`` (or in international form), as E.164."""
    raw = normalize_digits(text).strip()
    if len(raw) > 40:
        raise Invalid("bad_phone")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("bad_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("bad_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def advance(form: Form, draft: Draft, answered: Step) -> None:
    """Move the draft on after ``answered`` got its answer."""
    draft.pending = []
    if draft.editing:
        missing = form.first_unanswered(draft.answers)
        draft.step = missing.id if missing else REVIEW
        draft.editing = missing is not None
        return
    following = form.after(answered.id, draft.answers)
    draft.step = following.id if following else REVIEW


def go_back(form: Form, draft: Draft) -> None:
    """Move the draft one question back (from the review: the last; when editing: the review)."""
    draft.pending = []
    if draft.editing:
        draft.editing = False
        draft.step = REVIEW
        return
    if draft.step == REVIEW:
        draft.step = form.applicable(draft.answers)[-1].id
        return
    previous = form.before(draft.step, draft.answers)
    if previous is not None:
        draft.step = previous.id


def edit(form: Form, draft: Draft, step_id: str) -> bool:
    """Jump from the review to one question; False if it is not asked."""
    step = form.step(step_id)
    if step is None or not form.applies(step, draft.answers):
        return False
    draft.step = step.id
    draft.editing = True
    current = draft.answers.get(step.id)
    draft.pending = list(current) if step.kind == "multi" and isinstance(current, list) else []
    return True


class IntakeService:
    """Drafts and submissions, stored through the repositories."""

    def __init__(self, db: Database, ids: Ids, forms: dict[str, Form]) -> None:
        self.db = db
        self.ids = ids
        self.forms = forms
        self.form = forms["intake"]
        self.duplicates = Keyer.of(ids)  # the keyed hashes a new case is compared by
        # Write-through cache of the drafts in progress (this process is the only writer):
        # a step reads its draft from memory and still writes it durably before replying.
        self._cache: OrderedDict[int, dict[str, Any] | None] = OrderedDict()

    def _remember(self, user_id: int, payload: dict[str, Any] | None) -> None:
        self._cache[user_id] = payload
        self._cache.move_to_end(user_id)
        while len(self._cache) > DRAFT_CACHE_SIZE:
            self._cache.popitem(last=False)

    def forget_cached(self) -> None:
        """Forget every cached draft (retention deleted some in the database)."""
        self._cache.clear()

    async def load(self, user_id: int) -> Draft | None:
        """The person's draft, if any (a fresh copy: callers may change it)."""
        if user_id in self._cache:
            payload = self._cache[user_id]
        else:
            payload = await drafts.load(self.db, self.ids, user_id)
            self._remember(user_id, payload)
        return None if payload is None else Draft.from_payload(copy.deepcopy(payload))

    async def save(self, user_id: int, draft: Draft) -> None:
        """Store the draft durably."""
        payload = asdict(draft)
        self._cache.pop(user_id, None)  # if the write fails, the next load reads the database
        await drafts.save(self.db, self.ids, user_id, payload)
        self._remember(user_id, payload)

    def form_of(self, draft: Draft) -> Form:
        """The form a draft walks through."""
        return self.forms[draft.form]

    async def start(self, user_id: int, language: str, form_id: str = "intake") -> Draft:
        """After consent: the person (with their language, if new) and a fresh draft, at once."""
        draft = Draft.new(self.forms[form_id])
        payload = asdict(draft)
        self._cache.pop(user_id, None)
        async with self.db.transaction() as conn:
            await people.add(conn, self.ids, user_id, language)
            await drafts.write(conn, self.ids, user_id, payload)
        self._remember(user_id, payload)
        return draft

    def drop_cached(self, user_id: int) -> None:
        """Forget the cached draft (its row was deleted by someone else)."""
        self._cache.pop(user_id, None)

    async def forget(self, user_id: int) -> None:
        """The draft was deleted with the row it became: drop it from the cache."""
        self._cache.pop(user_id, None)
        self._remember(user_id, None)

    async def discard(self, user_id: int) -> None:
        """Delete the person's draft."""
        self._cache.pop(user_id, None)
        async with self.db.transaction() as conn:
            await drafts.delete(conn, self.ids, user_id)
        self._remember(user_id, None)

    async def cases_of(self, user_id: int) -> list[case_repo.Case]:
        """The person's cases, newest first."""
        return await case_repo.for_user(self.db, self.ids, user_id)

    async def open_cases(self, user_id: int) -> list[case_repo.Case]:
        """The person's cases still being handled."""
        return [
            c
            for c in await case_repo.for_user(self.db, self.ids, user_id)
            if c.status in workflow.OPEN
        ]

    async def submit(
        self, user_id: int, language: str, draft: Draft, committee_chat_id: int | None
    ) -> case_repo.Case:
        """Turn the draft into a case; the committee alert is queued in the same transaction."""
        open_answers, personal = self.form.split(draft.answers)
        async with self.db.transaction() as conn:
            case = await case_repo.insert(
                conn,
                self.ids,
                user_id=user_id,
                language=language,
                status="new",
                answers=open_answers,
                personal_answers=personal,
            )
            await drafts.delete(conn, self.ids, user_id)
            self._cache.pop(user_id, None)
            await audit_log.record(
                conn, self.ids, "case_submitted", actor_id=user_id, case_id=case.id
            )
            await self.duplicates.flag(conn, self.form, case.id, draft.answers)
            if committee_chat_id is not None:
                await outbox.enqueue_group(
                    conn, Kind.COMMITTEE_CARD, committee_chat_id, case_id=case.id
                )
        self._remember(user_id, None)
        return case
