"""The family answers the follow-up at the end of its support: a tap (better, the same,
worse), then its words typed, or Skip.

Only the family of the case may answer: a press carries the follow-up's id, checked against
the presser on the server (anyone else gets the one stale answer and changes nothing). The
question loses its buttons once answered, showing the answer; the words are a session of the
family's, begun in the transaction that records the choice (before the prompt is sent), so a
restart between the tap and the words loses nothing; they are awaited for
:data:`WORDS_WINDOW`, after which a text goes where it would have gone without them.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from telegram import Message, Update
from telegram.error import TelegramError

from bot import followup_render
from bot.buttons import FollowupPress
from bot.context import SanadContext
from bot.i18n import N_, Translator
from bot.storage import utcnow
from bot.storage.db import iso, parse_iso
from bot.text import MAX_MESSAGE
from handlers import form_walk
from handlers.sessions import Session, forget_session, load_session, route, save_session
from handlers.util import close_buttons, own_chat, reply, stale
from handlers.validators import checked_text

KIND = "followup"
WORDS_LIMIT = 1000
# The words are awaited this long after the choice: a family that neither wrote nor skipped
# must not have, days later, the first text of a new application taken for them.
WORDS_WINDOW = timedelta(days=2)
THANKS = N_("Thank you. The committee will read your answer before deciding what comes next.")


async def followup_button(update: Update, context: SanadContext, press: FollowupPress) -> None:
    """fu:<b|s|w>:<followup>: the family's choice; fu:k:<followup>: no words."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    family = update.effective_user.id
    found = await context.services.followup.asked_of(press.followup, family)
    if found is None:
        await stale(query, t)  # someone else's, or forged: nothing is said about it
        return
    if press.verb == followup_render.SKIP:
        await _skip(update, context, press.followup)
        return
    choice = followup_render.VERBS[press.verb]
    session: Session = {"kind": KIND, "followup": found.id, "message": 0, "at": iso(utcnow())}
    if not await context.services.followup.answer(found.id, family, choice, session=session):
        await query.answer(t.raw("You already answered this question. Thank you."))
        await close_buttons(query)
        return
    await query.answer()
    await _show_answer(update, t, choice)
    prompt = await reply(
        update,
        followup_render.words_prompt(t),
        reply_markup=followup_render.skip_keyboard(t, found.id),
    )
    if prompt is not None:  # so that the words take the Skip button away
        await save_session(context, family, {**session, "message": prompt.message_id})


async def _show_answer(update: Update, t: Translator, choice: str) -> None:
    """The question shows the answer under it and loses its buttons (best effort)."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if not own_chat(query) or not isinstance(message, Message) or message.text is None:
        return
    text = f"{message.text_html}\n\n{followup_render.answered_line(t, choice)}"
    with contextlib.suppress(TelegramError):
        if len(text) > MAX_MESSAGE:
            await query.edit_message_reply_markup(reply_markup=None)
        else:
            await query.edit_message_text(text, reply_markup=None)


async def _skip(update: Update, context: SanadContext, followup_id: int) -> None:
    """Skip: no words; the prompt loses its button."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    family = update.effective_user.id
    session = await load_session(context, family)
    await close_buttons(query)
    if session is None or session.get("kind") != KIND or session.get("followup") != followup_id:
        await stale(query, context.t)
        return
    await forget_session(context, family)
    await query.answer()
    await reply(update, context.t.raw(THANKS))


@route(KIND, members_only=False)
async def followup_words(update: Update, context: SanadContext, session: Session) -> None:
    """The family's words after its choice, stored encrypted."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    family = update.effective_user.id
    if utcnow() - parse_iso(str(session["at"])) > WORDS_WINDOW:
        await forget_session(context, family)
        await form_walk.form_message(update, context)  # as if no words were awaited
        return
    if message.text is None:
        await reply(update, t.raw("Please type a few words, or press Skip."))
        return
    words = await checked_text(update, t, message.text, WORDS_LIMIT)
    if words is None:
        return
    stored = await context.services.followup.add_words(
        int(session["followup"]), family, words, ends_session=True
    )
    if not stored:
        await forget_session(context, family)
    if session.get("message"):
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(
                family, int(session["message"]), reply_markup=None
            )
    await reply(update, t.raw(THANKS))
