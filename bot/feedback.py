"""Feedback and concerns: a person writes to the committee's trustees, who answer and close.

A concern may be about a committee member, so it never passes through the committee group
nor reaches a member who is not a trustee: each trustee (FEEDBACK_MEMBER_IDS, by default the
members) is written to privately through the outbox, and the renderer checks again at send
time that the recipient is still a trustee. The person's words or voice note and the answer
are encrypted; the audit names the event and the reference, never the words.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.buttons import TrusteePress
from bot.config import Settings
from bot.i18n import N_, Translator, escape
from bot.ids import Ids
from bot.kinds import Kind
from bot.render import bold, field, free_answer
from bot.storage import Connection, Database, audit, outbox, sessions
from bot.storage import feedback as repo
from bot.storage.feedback import ANSWERED, CLOSED, OPEN, Feedback

# The person's choice, in the order of the buttons: option id -> label.
TOPICS = {
    "thanks": N_("Thanks"),
    "help": N_("A problem with the help I received"),
    "person": N_("A concern about a volunteer or committee member"),
    "other": N_("Something else"),
}

STATUSES = {
    OPEN: N_("Waiting for an answer"),
    ANSWERED: N_("Answered"),
    CLOSED: N_("Closed"),
}

# How many open feedbacks /feedbacks lists at once (each with its button).
LISTED = 20

# The longest words a person may send, and the longest answer a trustee may give: a trustee
# reads both in one message with the heading, which Telegram caps at 4096 characters.
WORDS_LIMIT = 1500
ANSWER_LIMIT = 1500


class FeedbackService:
    """Receive feedback, and the trustees' answers and closing."""

    def __init__(self, db: Database, ids: Ids, settings: Settings) -> None:
        self.db = db
        self.ids = ids
        self.settings = settings

    def is_trustee(self, user_id: int | None) -> bool:
        """Whether ``user_id`` may read, answer and close feedback."""
        return self.settings.is_trustee(user_id)

    async def submit(
        self, user_id: int, language: str, topic: str, words: dict[str, object]
    ) -> Feedback:
        """Store the person's feedback and queue it to every trustee but the person; the
        person's /feedback session ends in the same transaction."""
        async with self.db.transaction() as conn:
            await sessions.end(conn, self.ids, user_id)
            feedback_id, ref = await repo.add(conn, self.ids, user_id, language, topic, words)
            await audit.record(conn, self.ids, "feedback_received", actor_id=user_id, detail=ref)
            for trustee in sorted(self.settings.trustees - {user_id}):
                await self._notify(conn, Kind.FEEDBACK_NOTICE, trustee, feedback_id)
            stored = await repo.load(conn, self.ids, feedback_id)
        assert stored is not None
        return stored

    async def get(self, feedback_id: int) -> Feedback | None:
        """The feedback, whatever its status; None once erased or purged."""
        return await repo.get(self.db, self.ids, feedback_id)

    async def answer(self, feedback_id: int, trustee: int, text: str) -> Feedback | None:
        """The trustee's answer, sent to the person as written; None when the
        feedback is no longer open (answered or closed meanwhile, or gone). The trustee's
        answering session ends with it."""
        async with self.db.transaction() as conn:
            await sessions.end(conn, self.ids, trustee)
            if not await repo.set_answer(conn, self.ids, feedback_id, text):
                return None
            answered = await repo.load(conn, self.ids, feedback_id)
            assert answered is not None
            await audit.record(
                conn, self.ids, "feedback_answered", actor_id=trustee, detail=answered.ref
            )
            await self._notify(conn, Kind.FEEDBACK_ANSWER, answered.user_id, feedback_id)
        return answered

    async def close(self, feedback_id: int, trustee: int) -> Feedback | None:
        """Close the feedback and tell the person; None when it already was (or is gone)."""
        async with self.db.transaction() as conn:
            if not await repo.close(conn, feedback_id):
                return None
            closed = await repo.load(conn, self.ids, feedback_id)
            assert closed is not None
            await audit.record(
                conn, self.ids, "feedback_closed", actor_id=trustee, detail=closed.ref
            )
            await self._notify(conn, Kind.FEEDBACK_CLOSED, closed.user_id, feedback_id)
        return closed

    async def heard(self, feedback: Feedback, trustee: int) -> None:
        """A trustee is sent the voice note: audited before it is sent."""
        async with self.db.transaction() as conn:
            await audit.record(
                conn, self.ids, "feedback_heard", actor_id=trustee, detail=feedback.ref
            )

    async def refused(self, user_id: int | None) -> None:
        """Someone who is not a trustee pressed a trustee's button: audited."""
        async with self.db.transaction() as conn:
            await audit.record(conn, self.ids, "feedback_refused", actor_id=user_id)

    async def unclosed(self) -> list[Feedback]:
        """The feedback not closed yet, oldest first (/feedbacks)."""
        return await repo.unclosed(self.db, self.ids, LISTED)

    async def of_person(self, user_id: int) -> list[Feedback]:
        """What the person sent (/mydata)."""
        return await repo.of_person(self.db, self.ids, user_id)

    async def _notify(self, conn: Connection, kind: Kind, to: int, feedback_id: int) -> None:
        """Queue a message about ``feedback_id`` to ``to`` inside the transaction."""
        payload = self.ids.cipher.encrypt_json({"feedback": feedback_id})
        await outbox.enqueue(conn, self.ids, kind, to, payload=payload)


# --- what the trustees and the person read ---------------------------------------------------


def topic_label(t: Translator, topic: str) -> str:
    """The topic in the reader's language."""
    return t.raw(TOPICS.get(topic, TOPICS["other"]))


def status_label(t: Translator, status: str) -> str:
    """A feedback's status in the reader's language."""
    return t.raw(STATUSES.get(status, STATUSES[OPEN]))


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut (words stored before
    the limits still fit in one message)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trustee_text(t: Translator, feedback: Feedback, tz: ZoneInfo) -> str:
    """A feedback as a trustee reads it: reference, topic, date, status, the language the
    person writes in (the answer is sent as written: nothing translates it), the words (a
    voice note by its length: Listen sends it) and the answer given, if any."""
    words = dict(feedback.words)
    if "text" in words:
        words["text"] = clip(str(words["text"]), WORDS_LIMIT)
    lines = [
        bold(t("Feedback {ref}", ref=feedback.ref)),
        field(t.raw("Subject"), escape(topic_label(t, feedback.topic))),
        field(t.raw("Received"), escape(t.datetime(feedback.created_at, tz))),
        field(t.raw("Status"), escape(status_label(t, feedback.status))),
        field(t.raw("Writes in"), escape(t.language_name(feedback.language))),
        "",
        free_answer(t, words),
    ]
    if feedback.answer is not None:
        lines += ["", field(t.raw("Answer"), escape(clip(feedback.answer, ANSWER_LIMIT)))]
    if feedback.status != CLOSED:
        lines += [
            "",
            t.raw(
                "Only the trustees receive this. Answer through the bot: the person receives "
                "your words as you write them, without your name: answer in the language they "
                "write in if you can."
            ),
        ]
    return "\n".join(lines)


def trustee_keyboard(t: Translator, feedback: Feedback) -> InlineKeyboardMarkup | None:
    """Answer (while open), Close (until closed) and Listen (a voice note, until closed)."""
    if feedback.status == CLOSED:
        return None
    row = []
    if feedback.status == OPEN:
        row.append(TrusteePress("a", feedback.id).button(t.raw("✍️ Answer")))
    row.append(TrusteePress("c", feedback.id).button(t.raw("📁 Close")))
    rows = [row]
    if "voice" in feedback.words:
        rows.append([TrusteePress("l", feedback.id).button(t.raw("🔊 Listen"))])
    return InlineKeyboardMarkup(rows)


def answer_text(t: Translator, feedback: Feedback) -> str:
    """The trustee's answer as the person reads it: the heading in the person's language, the
    trustee's words as written."""
    return "\n\n".join(
        [
            bold(
                t("Answer from the committee's trustees to your message {ref}:", ref=feedback.ref)
            ),
            escape(feedback.answer or ""),
            t.raw("You can write again at any time with /feedback."),
        ]
    )


def closed_text(t: Translator, feedback: Feedback) -> str:
    """The person is told their feedback was closed."""
    return t(
        "The trustees of the committee have closed your message {ref}. Thank you for "
        "writing. You can write again at any time with /feedback.",
        ref=feedback.ref,
    )


def mydata_lines(t: Translator, sent: list[Feedback], tz: ZoneInfo) -> list[str]:
    """What the person sent to the trustees, as /mydata lists it: each message with its
    reference, subject, date, status, their words and the answer."""
    lines: list[str] = []
    for feedback in sent:
        lines += [
            "",
            bold(t("Your message {ref}", ref=feedback.ref)),
            field(t.raw("Subject"), escape(topic_label(t, feedback.topic))),
            field(t.raw("Sent"), escape(t.datetime(feedback.created_at, tz))),
            field(t.raw("Status"), escape(status_label(t, feedback.status))),
            field(t.raw("Your words"), free_answer(t, feedback.words)),
        ]
        if feedback.answer is not None:
            lines.append(field(t.raw("Answer"), escape(feedback.answer)))
    return lines
