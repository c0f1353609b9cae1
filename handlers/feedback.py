"""/feedback: a person writes to the committee's trustees; the trustees' buttons and
/feedbacks.

The person chooses what it is about, then writes or speaks their words; the walk is a
session (a restart in the middle loses nothing) on one live message, with Back and Cancel.
A trustee answers (one typed text, a session as well) or closes from the notice they
received privately; every trustee button refuses anyone who is not a trustee, the
committee members who are not included.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot.buttons import FeedbackPress, TrusteePress, pressed_here
from bot.context import SanadContext
from bot.feedback import (
    ANSWER_LIMIT,
    TOPICS,
    WORDS_LIMIT,
    Feedback,
    status_label,
    topic_label,
    trustee_keyboard,
    trustee_text,
)
from bot.i18n import Translator, escape
from bot.render import bold, field
from bot.storage.feedback import CLOSED, OPEN
from bot.text import clean_answer
from handlers.members import is_member
from handlers.sessions import Session, forget_session, load_session, route, save_session
from handlers.util import close_buttons, edit_in_place, own_chat, reply, stale, voice_answer
from handlers.validators import checked_text
from handlers.wizard import Outcome, Parts, Wizard, WizardStep, cancel_button

log = logging.getLogger(__name__)

WALK = "feedback"
ANSWERING = "fbanswer"


# --- the person's walk ------------------------------------------------------------------------


def _topics(t: Translator, context: SanadContext, session: Session) -> Parts:
    lines = [
        t.raw(
            "Write to the trustees of the committee: thanks, a problem with the help you "
            "received, or a concern about a volunteer or a committee member. Only the "
            "trustees read it, never the committee group."
        ),
        t.raw("What is it about?"),
    ]
    rows = [[FeedbackPress("t", topic).button(t.raw(label))] for topic, label in TOPICS.items()]
    return lines, [*rows, [cancel_button(t, FeedbackPress)]]


def _words(t: Translator, context: SanadContext, session: Session) -> Parts:
    lines = [
        field(t.raw("Subject"), escape(topic_label(t, session["topic"]))),
        t.raw("Write your message now, or send a voice note."),
    ]
    back = FeedbackPress("b", "").button(t.raw("« Back"))
    return lines, [[back, cancel_button(t, FeedbackPress)]]


async def _choose(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if arg not in TOPICS:
        return Outcome.STALE
    session.update(topic=arg, step="words")
    return Outcome.MOVED


async def _back(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    session["step"] = "topic"
    return Outcome.MOVED


WALK_STEPS = Wizard(
    {
        "topic": WizardStep(_topics, buttons={"t": _choose}),
        "words": WizardStep(_words, buttons={"b": _back}),
    }
)


def _screen(
    t: Translator, context: SanadContext, session: Session
) -> tuple[str, InlineKeyboardMarkup]:
    return WALK_STEPS.screen(t, context, session, t.raw("Feedback and concerns"))


async def feedback_command(update: Update, context: SanadContext) -> None:
    """/feedback: anyone in a private chat (a family, a volunteer, a member too: a member may
    have a concern about another) writes to the trustees."""
    assert update.effective_user is not None
    t = context.t
    session: Session = {"kind": WALK, "step": "topic"}
    text, markup = _screen(t, context, session)
    sent = await reply(update, text, reply_markup=markup)
    session["message"] = sent.message_id if sent is not None else 0
    await save_session(context, update.effective_user.id, session)


async def walk_button(update: Update, context: SanadContext, press: FeedbackPress) -> None:
    """fw:<verb>:<arg> on the walk's live message: a topic, Back or Cancel."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    user = update.effective_user.id
    session = await load_session(context, user)
    live = query.message.message_id if query.message is not None else None
    if session is None or session.get("kind") != WALK or session.get("message") != live:
        await stale(query, t)
        await close_buttons(query)
        return
    if press.verb == "x":
        await forget_session(context, user)
        await query.answer()
        if not await edit_in_place(query, t.raw("Cancelled: nothing was changed.")):
            await reply(update, t.raw("Cancelled: nothing was changed."))
        return
    if await WALK_STEPS.press(update, context, session, press.verb, press.arg) is Outcome.STALE:
        await stale(query, t)
        return
    await save_session(context, user, session)
    await query.answer()
    text, markup = _screen(t, context, session)
    if not await edit_in_place(query, text, markup):
        sent = await reply(update, text, reply_markup=markup)
        session["message"] = sent.message_id if sent is not None else 0
        await save_session(context, user, session)


@route(WALK, members_only=False)
async def walk_message(update: Update, context: SanadContext, session: Session) -> None:
    """The person's words (text or a voice note), once the topic is chosen."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    if session.get("step") != "words":
        await reply(update, t.raw("Please choose one of the buttons above first."))
        return
    words = voice_answer(message)
    if words is None:
        if message.text is None:
            await reply(update, t.raw("Please type a message or send a voice note."))
            return
        too_long = t.plural(
            "Your message is longer than the {n} character the trustees can receive. "
            "Nothing was sent yet and your text is still above: please shorten it and send "
            "it again, or send a voice note.",
            "Your message is longer than the {n} characters the trustees can receive. "
            "Nothing was sent yet and your text is still above: please shorten it and send "
            "it again, or send a voice note.",
            WORDS_LIMIT,
        )
        text = await _within(update, t, message.text, WORDS_LIMIT, too_long)
        if text is None:
            return
        words = {"text": text}
    services = context.services
    user = update.effective_user.id
    language = context.lang or services.i18n.default
    sent = await services.feedback.submit(user, language, str(session["topic"]), words)
    if session.get("message"):
        services.delivery.tidy(_unbutton(context, user, int(session["message"])))
    days = services.settings.feedback.answer_days
    await reply(
        update,
        t.plural(
            "Thank you. Your message has the reference {ref}. Only the trustees of the "
            "committee read it, never the committee group. You can expect an answer here "
            "within {n} day.",
            "Thank you. Your message has the reference {ref}. Only the trustees of the "
            "committee read it, never the committee group. You can expect an answer here "
            "within {n} days.",
            days,
            ref=sent.ref,
        ),
    )
    services.delivery.kick()


async def _within(
    update: Update, t: Translator, typed: str, limit: int, too_long: str
) -> str | None:
    """Typed text, tidied; None when empty or over ``limit``, the writer told ``too_long``:
    kindly, to shorten it (their text stays in the chat above, nothing is lost)."""
    if len(clean_answer(typed)) > limit:
        await reply(update, too_long)
        return None
    return await checked_text(update, t, typed, limit)


async def _unbutton(context: SanadContext, chat: int, message: int) -> None:
    """A message whose question is answered (the walk's, a trustee's prompt) loses its
    buttons."""
    await context.bot.edit_message_reply_markup(chat, message, reply_markup=None)


# --- the trustees -----------------------------------------------------------------------------


def trustee_t(context: SanadContext, trustee: int) -> Translator:
    """The trustee's language (their own choice, else the committee's)."""
    services = context.services
    return services.language_of(trustee, services.settings.committee_language)


async def trustee_button(update: Update, context: SanadContext) -> None:
    """ft:<verb>:<feedback>: only a trustee, in their own private chat."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    services = context.services
    trustee = update.effective_user.id
    if not services.feedback.is_trustee(trustee):
        await services.feedback.refused(trustee)
        log.warning("A feedback button was refused to someone who is not a trustee")
        await query.answer(
            context.t.raw("Only the trustees of the committee can do this."), show_alert=True
        )
        return
    press = TrusteePress.unpack(query.data)
    t = trustee_t(context, trustee)
    if press is None or not own_chat(query):
        await stale(query, t)
        return
    feedback = await services.feedback.get(press.feedback)
    if feedback is None:
        await query.answer(t.raw("This message is no longer stored."))
        if press.verb != "s":  # the /feedbacks list keeps the buttons of the others
            await close_buttons(query)
        return
    if press.verb == "s":
        await query.answer()
        await reply(
            update,
            trustee_text(t, feedback, services.settings.tz),
            protect_content=True,
            **_markup(t, feedback),
        )
    elif press.verb == "l":
        await _listen(update, context, t, feedback)
    elif press.verb == "a":
        await _start_answer(update, context, t, feedback)
    elif press.verb == "k":
        await _keep(update, context, t, feedback)
    else:
        await _close(update, context, t, feedback)


def _markup(t: Translator, feedback: Feedback) -> dict[str, InlineKeyboardMarkup]:
    """The feedback's buttons as a send's keyword, when it has any."""
    keyboard = trustee_keyboard(t, feedback)
    return {} if keyboard is None else {"reply_markup": keyboard}


async def _refresh(
    update: Update, context: SanadContext, t: Translator, feedback: Feedback
) -> None:
    """The pressed notice shows the feedback as it is now (its buttons those still useful).

    Only a message that carries the pressed button is edited: those were all sent protected
    and an edit keeps that, while the data forged onto another message must not write the
    words into it.
    """
    query = update.callback_query
    assert query is not None
    if pressed_here(query):
        text = trustee_text(t, feedback, context.services.settings.tz)
        await edit_in_place(query, text, trustee_keyboard(t, feedback))


async def _listen(
    update: Update, context: SanadContext, t: Translator, feedback: Feedback
) -> None:
    """The voice note, sent to the trustee's private chat only (audited first)."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    voice = feedback.words.get("voice")
    if not voice or feedback.status == CLOSED:
        await stale(query, t)
        return
    await context.services.feedback.heard(feedback, update.effective_user.id)
    await query.answer()
    await context.bot.send_voice(
        update.effective_user.id,
        str(voice),
        caption=t("Voice note of {ref}", ref=feedback.ref),
        protect_content=True,
    )


async def _start_answer(
    update: Update, context: SanadContext, t: Translator, feedback: Feedback
) -> None:
    """Answer: the trustee's next text is the answer (a session: it survives a restart)."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if feedback.status != OPEN:
        await query.answer(t.raw("This message was already answered or closed."))
        await _refresh(update, context, t, feedback)
        return
    trustee = update.effective_user.id
    earlier = await load_session(context, trustee)
    if earlier is not None and earlier.get("kind") == ANSWERING and earlier.get("prompt"):
        # The answer started before is given up: its prompt loses its Cancel.
        context.services.delivery.tidy(_unbutton(context, trustee, int(earlier["prompt"])))
    # The notice shown again once answered: the pressed message, if it carries the button.
    notice = query.message.message_id if query.message is not None and pressed_here(query) else 0
    session = {"kind": ANSWERING, "step": "answer", "feedback": feedback.id, "message": notice}
    await save_session(context, trustee, session)
    await query.answer()
    cancel = TrusteePress("k", feedback.id).button(t.raw("✖️ Cancel"))
    prompt = await reply(
        update,
        t(
            "Write your answer to {ref}. The person writes in {language}: please answer in "
            "it if you can, as nothing translates it. Your words are sent as you write them, "
            "under the reference, without your name.",
            ref=feedback.ref,
            language=t.language_name(feedback.language),
        ),
        reply_markup=InlineKeyboardMarkup([[cancel]]),
    )
    if prompt is not None:  # its Cancel goes once the answer is in
        session["prompt"] = prompt.message_id
        await save_session(context, update.effective_user.id, session)


async def _keep(update: Update, context: SanadContext, t: Translator, feedback: Feedback) -> None:
    """The answer's Cancel: nothing is sent, the feedback stays as it is."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    session = await load_session(context, update.effective_user.id)
    if session is None or session.get("kind") != ANSWERING or session["feedback"] != feedback.id:
        await stale(query, t)  # the answer went already, or another one is being written
        await close_buttons(query)
        return
    await forget_session(context, update.effective_user.id)
    await query.answer()
    if not await edit_in_place(query, t.raw("Cancelled: nothing was changed.")):
        await close_buttons(query)


async def _close(update: Update, context: SanadContext, t: Translator, feedback: Feedback) -> None:
    """Close: the person is told; the notice loses its buttons."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    services = context.services
    closed = await services.feedback.close(feedback.id, update.effective_user.id)
    if closed is None:
        await query.answer(t.raw("This message is already closed."))
        await _refresh(update, context, t, feedback)
        return
    await query.answer(t.raw("Closed. The person is told."))
    # Not the words written into a message the data was forged onto.
    shown = pressed_here(query) and await edit_in_place(
        query, trustee_text(t, closed, services.settings.tz)
    )
    if not shown:
        await close_buttons(query)
    services.delivery.kick()


@route(ANSWERING, members_only=False)
async def trustee_answer(update: Update, context: SanadContext, session: Session) -> None:
    """The trustee's typed answer: sent to the person, the notice keeps only Close."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services = context.services
    trustee = update.effective_user.id
    t = trustee_t(context, trustee)
    if not services.feedback.is_trustee(trustee):
        await forget_session(context, trustee)
        await reply(update, t.raw("Only the trustees of the committee can do this."))
        return
    if message.text is None:
        await reply(update, t.raw("Please type your answer: it is sent as a message."))
        return
    too_long = t.plural(
        "Your answer is longer than the {n} character the person can receive. It was not "
        "sent and your text is still above: please shorten it and send it again.",
        "Your answer is longer than the {n} characters the person can receive. It was not "
        "sent and your text is still above: please shorten it and send it again.",
        ANSWER_LIMIT,
    )
    text = await _within(update, t, message.text, ANSWER_LIMIT, too_long)
    if text is None:
        return
    answered = await services.feedback.answer(int(session["feedback"]), trustee, text)
    if session.get("prompt"):
        services.delivery.tidy(_unbutton(context, trustee, int(session["prompt"])))
    # The notice shows the feedback as it is now: answered by this trustee or meanwhile.
    now = answered or await services.feedback.get(int(session["feedback"]))
    if session.get("message") and now is not None:
        shown = trustee_text(t, now, services.settings.tz)
        notice = int(session["message"])
        services.delivery.tidy(_show(context, trustee, notice, shown, trustee_keyboard(t, now)))
    if answered is None:
        await reply(update, t.raw("This message was already answered or closed."))
        return
    await reply(update, t.raw("Your answer was sent to the person, as you wrote it."))
    services.delivery.kick()


async def _show(
    context: SanadContext,
    chat: int,
    message: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """The trustee's notice shows the feedback as it is now, with the buttons still useful
    (an edit keeps the notice's protection)."""
    await context.bot.edit_message_text(
        text, chat_id=chat, message_id=message, reply_markup=markup
    )


async def feedbacks_command(update: Update, context: SanadContext) -> None:
    """/feedbacks: the trustees' list of what is not closed yet, each with a button to show
    it; anyone else is answered as for a command that does not exist (a member who is not a
    trustee is told it is for the trustees)."""
    assert update.effective_user is not None
    services = context.services
    user = update.effective_user.id
    if not services.feedback.is_trustee(user):
        if is_member(update, context):
            await reply(update, context.t.raw("Only the trustees of the committee can do this."))
        else:
            await reply(
                update,
                context.t.raw("I don't know that command. Send /help to see what I can do."),
            )
        return
    t = trustee_t(context, user)
    waiting = await services.feedback.unclosed()
    if not waiting:
        await reply(update, t.raw("No feedback is waiting."))
        return
    tz = services.settings.tz
    lines = [bold(t.raw("Feedback not closed yet"))]
    rows = []
    for feedback in waiting:
        lines.append(
            f"{t.isolate(feedback.ref)} · {escape(topic_label(t, feedback.topic))} · "
            f"{escape(t.datetime(feedback.created_at, tz))} · "
            f"{escape(status_label(t, feedback.status))}"
        )
        rows.append([TrusteePress("s", feedback.id).button(feedback.ref)])
    await reply(
        update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows), protect_content=True
    )
