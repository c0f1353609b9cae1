"""The committee vets volunteers: the buttons of a volunteer's card (Approve, Decline,
Details) and /volunteers, which lists them by reference with Suspend and Restore.

Every press is checked against COMMITTEE_MEMBER_IDS (handlers/members.py): a forged press
changes nothing and is audited. The card in the group shows matching facts only; a name and a
phone reach a member only through Details, in their private chat, audited before it is sent.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import reminders, render
from bot.buttons import VettingPress
from bot.context import SanadContext
from bot.forms import AREAS, SKILLS
from bot.i18n import N_, Translator, escape
from bot.render import bold
from bot.storage.volunteers import ACTIVE, PAUSED, PENDING, SUSPENDED
from bot.vetting import APPROVE, DECLINE, ON_CARD, RESTORE, SUSPEND
from handlers.members import (
    Press,
    alert,
    committee_gate,
    member_name,
    member_press,
    send_private,
    to_member,
)
from handlers.util import close_buttons

DECISIONS = {"a": APPROVE, "d": DECLINE, "s": SUSPEND, "r": RESTORE}
LISTED = 30  # volunteers in one /volunteers message (each with its row of buttons)


async def vetting_button(update: Update, context: SanadContext) -> None:
    """vv:<verb>:<ref>, on a card in the group or on /volunteers in private."""
    press = await member_press(update, context, VettingPress, private_only=False)
    if press is None:
        return
    if press.data.verb == "i":
        await _details(context, press)
        return
    await _decide(update, context, press, DECISIONS[press.data.verb])


async def _decide(
    update: Update, context: SanadContext, press: Press[VettingPress], decision: str
) -> None:
    query, t, ref = press.query, press.t, press.data.volunteer
    card = _card(press, context) if decision in ON_CARD else None
    decided = await context.services.vetting.decide(
        ref, decision, press.member, member_name(update), card
    )
    if not decided.done:
        if decided.volunteer is None:
            text = t.raw("This volunteer is no longer registered.")
        else:
            status = render.volunteer_status(t, decided.volunteer.status)
            text = t(
                "This is not possible any more: the volunteer is now {status}.", status=status
            )
        await query.answer(alert(text), show_alert=True)
        if card is not None:
            await context.services.vetting.refresh_card(ref, card)
            context.services.delivery.kick()
        elif decided.volunteer is None or decided.volunteer.status != PENDING:
            await close_buttons(query)
        return
    await query.answer(alert(t(DONE[decision], ref=ref)))
    if card is None:
        await close_buttons(query)
    context.services.delivery.kick()
    await reminders.sync(context.application, context.services)


def _card(press: Press[VettingPress], context: SanadContext) -> int | None:
    """The id of the volunteer's card the press came from: a message in the committee group
    that carries this very button (a press forged on another message edits nothing)."""
    message = press.query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return None
    if message.chat.id != context.services.settings.committee_chat_id:
        return None
    carried = {
        button.callback_data for row in message.reply_markup.inline_keyboard for button in row
    }
    return message.message_id if press.data.pack() in carried else None


DONE = {
    APPROVE: N_("Volunteer {ref} is approved and is being told."),
    DECLINE: N_("Volunteer {ref} is declined and is being told; the profile was deleted."),
    SUSPEND: N_("Volunteer {ref} is suspended: no more tasks, and their places were given back."),
    RESTORE: N_("Volunteer {ref} is active again."),
}


async def _details(context: SanadContext, press: Press[VettingPress]) -> None:
    """The volunteer's name and phone, in the member's private chat (audited first)."""
    query, t = press.query, press.t
    found = await context.services.vetting.viewed(press.data.volunteer, press.member)
    if found is None:
        await query.answer(t.raw("This volunteer is no longer registered."), show_alert=True)
        return
    text = render.volunteer_details(t, context.services.volunteer_form, found.ref, found)
    if await send_private(context, press.member, text):
        await query.answer(t.raw("I sent you the details in a private chat."))
        return
    await query.answer(
        t.raw(
            "I cannot write to you yet: open a private chat with me, press Start, "
            "then press Details again."
        ),
        show_alert=True,
    )


async def volunteers_command(update: Update, context: SanadContext) -> None:
    """/volunteers: every volunteer by reference and status, pending first, with the buttons
    their status allows; in the member's private chat."""
    t = await committee_gate(update, context)
    if t is None:
        return
    listed = await context.services.volunteers.listing()
    if not listed:
        await to_member(update, context, t.raw("No volunteer has registered yet."))
        return
    form = context.services.volunteer_form
    lines = [bold(t.plural("{n} volunteer", "{n} volunteers", len(listed))), ""]
    rows = []
    for ref, status, answers in listed[:LISTED]:
        facts = [
            render.answer_text(t, form, form.role(role), answers[form.role_id(role)])
            for role in (SKILLS, AREAS)
            if form.role_id(role) in answers
        ]
        label = escape(render.volunteer_status(t, status))
        lines.append(" · ".join([bold(escape(ref)), label, *facts]))
        rows.append(_row(t, ref, status))
    if len(listed) > LISTED:
        more = len(listed) - LISTED
        lines += ["", t.plural("… and {n} more.", "… and {n} more.", more)]
    await to_member(update, context, "\n".join(lines), InlineKeyboardMarkup(rows))


def _row(t: Translator, ref: str, status: str) -> list[InlineKeyboardButton]:
    """A listed volunteer's buttons: what their status allows, and Details."""
    actions = {
        PENDING: [("a", t("✅ Approve {ref}", ref=ref)), ("d", t("✖️ Decline {ref}", ref=ref))],
        ACTIVE: [("s", t("⛔ Suspend {ref}", ref=ref))],
        PAUSED: [("s", t("⛔ Suspend {ref}", ref=ref))],
        SUSPENDED: [("r", t("▶️ Restore {ref}", ref=ref))],
    }.get(status, [])
    details = ("i", f"🔍 {ref}")
    return [VettingPress(verb, ref).button(label) for verb, label in [*actions, details]]
