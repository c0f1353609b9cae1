"""Questions to families and internal notes: the ask and note wizards, and the family's answer.

A member asks from a case card (Ask for information) or writes a note with /note; both are
one typed text, checked, then stored with the session's end in one transaction. The family
presses Answer under the question and replies with a text or a voice note, stored encrypted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot import workflow
from bot.buttons import DecisionPress, FamilyAnswerPress
from bot.context import SanadContext
from bot.errors import CaseNotFound
from bot.i18n import N_, Translator
from bot.storage.cases import Case
from handlers.members import case_from_args, committee_gate, member_t, moved_on, to_member
from handlers.sessions import (
    Session,
    close_screen,
    forget_session,
    remember_screen,
    route,
    save_session,
)
from handlers.util import close_buttons, reply, voice_answer
from handlers.validators import checked_text
from handlers.wizard import Outcome, Parts, Rows, Wizard, WizardStep, cancel_button

MESSAGE_LIMIT = 1000
NOTE_LIMIT = 2000
FAMILY_ANSWER_LIMIT = 2000

TITLES: dict[str, Callable[[Translator, str], str]] = {
    "ask": lambda t, ref: t("Ask the family of case {ref}", ref=ref),
    "note": lambda t, ref: t("Note on case {ref}", ref=ref),
}


def first_question(case: Case) -> Session:
    """The session of a question to the family of ``case``, waiting for its text."""
    return {"kind": "ask", "ref": case.ref, "step": "question"}


def question_screen(
    t: Translator, context: SanadContext, case: Case, session: Session
) -> tuple[str, InlineKeyboardMarkup]:
    """The ask or note wizard's screen, titled with the case."""
    title = TITLES[session["kind"]](t, t.isolate(case.ref))
    return QUESTIONS.screen(t, context, session, title)


def _prompt(text: str) -> Callable[[Translator, SanadContext, Session], tuple[list[str], Rows]]:
    """A screen that only asks for text (marked with N_, translated when shown), with Cancel."""

    def screen(t: Translator, context: SanadContext, session: Session) -> Parts:
        return [t.raw(text)], [[cancel_button(t, DecisionPress)]]

    return screen


async def _send_question(
    update: Update, context: SanadContext, session: Session, typed: str
) -> Outcome:
    """Send the member's question to the family; the session ends with it."""
    assert update.effective_user is not None
    member = update.effective_user.id
    t = member_t(context, member)
    text = await checked_text(update, t, typed, MESSAGE_LIMIT)
    if text is None:
        return Outcome.DONE
    try:
        case = await context.services.review.ask(session["ref"], member, text, ends_session=True)
    except (CaseNotFound, workflow.InvalidTransition) as gone:
        await _case_gone(update, context, session, gone)
        return Outcome.DONE
    await reply(
        update,
        t(
            "Your question was sent to the family of case {ref}. You will be "
            "told here when they answer.",
            ref=t.isolate(case.ref),
        ),
    )
    close_screen(update, context, session)
    context.services.delivery.kick()
    return Outcome.DONE


async def _save_note(
    update: Update, context: SanadContext, session: Session, typed: str
) -> Outcome:
    """Store the member's note on the case; the session ends with it."""
    assert update.effective_user is not None
    member = update.effective_user.id
    t = member_t(context, member)
    text = await checked_text(update, t, typed, NOTE_LIMIT)
    if text is None:
        return Outcome.DONE
    try:
        case = await context.services.review.add_note(
            session["ref"], member, text, ends_session=True
        )
        await reply(update, t("Note saved on case {ref}.", ref=t.isolate(case.ref)))
    except (CaseNotFound, workflow.InvalidTransition) as gone:
        await _case_gone(update, context, session, gone)
    close_screen(update, context, session)
    return Outcome.DONE


async def _case_gone(
    update: Update, context: SanadContext, session: Session, gone: Exception
) -> None:
    """The case was deleted, or moved to a status that takes no question: say so, forget."""
    assert update.effective_user is not None
    member = update.effective_user.id
    t = member_t(context, member)
    await forget_session(context, member)
    if isinstance(gone, CaseNotFound):
        await reply(update, t.raw("This case no longer exists."))
        return
    await reply(update, moved_on(t, context, await context.services.review.get(session["ref"])))


QUESTIONS = Wizard(
    {
        "question": WizardStep(
            _prompt(
                N_(
                    "Write your question for the family. They receive it with an "
                    "introduction in their own language; your words are sent as you "
                    "write them."
                )
            ),
            text=_send_question,
        ),
        "note": WizardStep(
            _prompt(N_("Write the note. Only committee members can read it.")), text=_save_note
        ),
    }
)


@route("ask", "note")
async def question_message(update: Update, context: SanadContext, session: Session) -> None:
    """A member typed their question or note."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = member_t(context, update.effective_user.id)
    if message.text is None or await QUESTIONS.typed(update, context, session, message.text) is (
        Outcome.STALE
    ):
        await reply(update, t.raw("Please use the buttons of the last message, or press Cancel."))


async def note_command(update: Update, context: SanadContext) -> None:
    """/note REF: write an internal note on a case (members)."""
    t = await committee_gate(update, context)
    if t is None:
        return
    assert update.effective_user is not None
    case = await case_from_args(
        update, context, t, t.raw("Send /note followed by the case reference.")
    )
    if case is None:
        return
    session = {"kind": "note", "ref": case.ref, "step": "note"}
    await save_session(context, update.effective_user.id, session)
    text, markup = question_screen(t, context, case, session)
    await remember_screen(
        context, update.effective_user.id, session, await to_member(update, context, text, markup)
    )


# --- the family answers -----------------------------------------------------------------------


async def answer_button(update: Update, context: SanadContext, press: FamilyAnswerPress) -> None:
    """The family pressed Answer under the committee's question: fa:<request id>."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    family = update.effective_user.id
    request = await context.services.review.open_request_of(press.request, family)
    if request is None:
        await query.answer(t.raw("This question is already answered or closed."))
        await close_buttons(query)
        return
    # The question's message loses its Answer button once the answer is in.
    question = query.message.message_id if query.message is not None else 0
    await save_session(
        context,
        update.effective_user.id,
        {"kind": "answer", "request": request.id, "step": "answer", "message": question},
    )
    await query.answer()
    await reply(update, t.raw("Please send your answer now, as a message or a voice note."))


@route("answer", members_only=False)
async def family_answer(update: Update, context: SanadContext, session: Session) -> None:
    """The family's answer to the committee's question (text or voice), stored encrypted."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    family = update.effective_user.id
    answer = voice_answer(message)
    if answer is None:
        if message.text is None:
            await reply(update, t.raw("Please type a message or send a voice note."))
            return
        text = await checked_text(update, t, message.text, FAMILY_ANSWER_LIMIT)
        if text is None:
            return
        answer = {"text": text}
    try:
        await context.services.review.answer(
            int(session["request"]), family, answer, ends_session=True
        )
    except (CaseNotFound, workflow.InvalidTransition):
        await forget_session(context, family)
        await reply(update, t.raw("This question is already answered or closed."))
        return
    if session.get("message"):
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(
                family, int(session["message"]), reply_markup=None
            )
    await reply(update, t.raw("Thank you. The committee has your answer."))
    context.services.delivery.kick()
