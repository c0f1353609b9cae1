"""The committee: the Details button on a case card and /case REF, for members only.

Authorisation is checked here, on the server, for every press: callback_data is chosen by the
client and can be forged. Every reveal, and every refused attempt, is audited.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden

from bot import expiry, followup_render, render
from bot.buttons import DetailsPress
from bot.context import SanadContext
from bot.storage import cases as case_repo
from handlers import assign, duplicates
from handlers.members import case_from_args, committee_gate, member_t
from handlers.support import history, with_support_button
from handlers.util import stale

log = logging.getLogger(__name__)


async def reveal(context: SanadContext, member_id: int, case: case_repo.Case) -> bool:
    """Send the full case to the member's private chat; False if the bot cannot reach them.

    The family's answers, the committee's questions and answers and its internal notes, with
    the buttons of every action the case allows. The view is audited before anything is
    sent: a send that fails half-way (a voice note Telegram refuses, a timeout) has shown the
    member part of the case already, and a view must never go unrecorded. Every message is
    protected (no forwarding or saving) and is deleted from the chat after DETAILS_TTL,
    including those sent before a failure.
    """
    services = context.services
    t = member_t(context, member_id)
    personal = services.review.personal(case)
    tz = services.settings.tz
    ttl = services.settings.details_ttl
    text = render.details(t, services.form, case, personal, tz)
    text += "\n" + render.expires_note(t, ttl)
    extra = render.decision_lines(t, services.form, case, tz)
    requests = await services.review.requests(case.id)
    notes = await services.review.notes(case.id)
    voices = []
    for step in services.form.steps:
        spoken = personal.get(step.id)
        if isinstance(spoken, dict) and spoken.get("voice"):
            caption = t(
                "{question}: voice note of case {ref}",
                question=t.raw(step.label),
                ref=t.isolate(case.ref),
            )
            voices.append((spoken["voice"], caption))
    for request in requests:
        extra.append(render.field(t.raw("Question"), render.escape(request.question)))
        if request.answer is None:
            extra.append(render.escape(t.raw("(not answered yet)")))
        else:
            extra.append(render.field(t.raw("Answer"), render.free_answer(t, request.answer)))
            if "voice" in request.answer:
                voices.append(
                    (request.answer["voice"], t("Answer of case {ref}", ref=t.isolate(case.ref)))
                )
    for note in notes:
        extra.append(
            render.field(t("Note, {date}", date=t.datetime(note.at, tz)), render.escape(note.body))
        )
    extra += await history(context, t, case)
    extra += followup_render.case_lines(t, await services.followup.for_case(case.id), tz)
    await services.review.record_viewed(member_id, case)
    log.info("Case %d viewed by a member", case.id)
    bot = context.bot
    sent: list[int] = []
    try:
        first = await bot.send_message(
            member_id,
            text,
            reply_markup=with_support_button(t, case, assign.case_keyboard(t, case)),
            protect_content=True,
        )
        sent.append(first.message_id)
        for chunk in render.chunks(extra):
            sent.append(
                (await bot.send_message(member_id, chunk, protect_content=True)).message_id
            )
        for flag_text, flag_markup in await duplicates.screens(context, t, case):
            flagged = await bot.send_message(
                member_id, flag_text, reply_markup=flag_markup, protect_content=True
            )
            sent.append(flagged.message_id)
        for file_id, caption in voices:
            voice = await bot.send_voice(member_id, file_id, caption=caption, protect_content=True)
            sent.append(voice.message_id)
    except Forbidden:
        return False
    finally:
        if sent:
            await expiry.remember(services.db, services.cipher, member_id, sent, ttl)
    return True


async def details_button(update: Update, context: SanadContext) -> None:
    """The Details button on a card: cd:<ref>.

    A non-member is refused and audited whatever the data says; a member's press of data
    that is no Details button is stale.
    """
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    user_id = update.effective_user.id
    press = DetailsPress.unpack(query.data)
    case = None if press is None else await context.services.review.find(press.case)
    if not context.services.settings.is_member(user_id):
        await context.services.review.record_view_refused(user_id, case)
        log.warning("Details refused to a non-member")
        await query.answer(
            t.raw("Only committee members can see the details of a case."), show_alert=True
        )
        return
    if press is None:
        await stale(query, t)
        return
    if case is None:
        await query.answer(t.raw("This case no longer exists."), show_alert=True)
        return
    if await reveal(context, user_id, case):
        await query.answer(t.raw("I sent you the details in a private chat."))
    else:
        await query.answer(
            t.raw(
                "I cannot write to you yet: open a private chat with me, press Start, "
                "then press Details again."
            ),
            show_alert=True,
        )


async def case_command(update: Update, context: SanadContext) -> None:
    """/case REF: the full case in the member's private chat (others: unknown command)."""
    t = await committee_gate(update, context)
    if t is None:
        return
    assert update.effective_user is not None
    usage = t.raw("Send /case followed by the case reference, for example /case K7P-4RD.")
    case = await case_from_args(update, context, t, usage)
    if case is not None:
        await reveal(context, update.effective_user.id, case)
