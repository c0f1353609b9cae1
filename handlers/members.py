"""Committee members: who may act, where, and how the bot writes to them privately.

Every committee press and command is checked here against COMMITTEE_MEMBER_IDS: callback_data
is chosen by the client and can be forged. A refused attempt changes nothing, reveals nothing
and is audited. Answers to members go to their private chat, so nothing personal reaches the
committee group.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import Forbidden

from bot import render
from bot.context import SanadContext
from bot.errors import CaseNotFound
from bot.i18n import Translator
from bot.storage.cases import Case
from handlers.util import D, own_chat, private, reply, stale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Press(Generic[D]):
    """A committee button pressed by an authorised member, with its typed data."""

    query: CallbackQuery
    data: D
    member: int
    t: Translator


async def member_press(
    update: Update,
    context: SanadContext,
    family: type[D],
    *,
    private_only: bool = True,
    audit_ref: Callable[[D], str] | None = None,
) -> Press[D] | None:
    """The press of a committee button of ``family``, or None once refused.

    Membership is checked first, whatever the data: a non-member is refused and audited (with
    the case reference ``audit_ref`` reads from the data, when it names one). A member's
    press of a button that exists only in their private chat (wizards, /cases, /export),
    forged on another message, and data that is not a button of the family, are stale.
    """
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    data = family.unpack(query.data)
    if not is_member(update, context):
        ref = audit_ref(data) if audit_ref is not None and data is not None else None
        await refuse(update, context, ref or None)
        return None
    if data is None or (private_only and not own_chat(query)):
        await stale(query, context.t)
        return None
    member = update.effective_user.id
    return Press(query, data, member, member_t(context, member))


async def refuse(update: Update, context: SanadContext, ref: str | None) -> None:
    """A non-member pressed a committee button: nothing happens, the attempt is audited."""
    user_id = update.effective_user.id if update.effective_user else None
    await context.services.review.record_refused(user_id, ref)
    log.warning("Committee action refused to a non-member")
    if update.callback_query is not None:
        await update.callback_query.answer(
            context.t.raw("Only committee members can do this."), show_alert=True
        )


async def committee_gate(update: Update, context: SanadContext) -> Translator | None:
    """Committee commands: members, in a private chat or in the committee group.

    The answer always goes to the member's private chat, so nothing personal reaches the
    group. Non-members are answered as for an unknown command in private, and not at all
    elsewhere: the commands' existence is not revealed.
    """
    user = update.effective_user
    if user is None or not committee_place(update, context):
        return None
    if not is_member(update, context):
        if private(update):
            await reply(
                update,
                context.t.raw("I don't know that command. Send /help to see what I can do."),
            )
        return None
    return member_t(context, user.id)


def committee_place(update: Update, context: SanadContext) -> bool:
    """Committee commands work in a private chat with the bot or in the committee group."""
    chat = update.effective_chat
    return chat is not None and (
        private(update) or chat.id == context.services.settings.committee_chat_id
    )


def is_member(update: Update, context: SanadContext) -> bool:
    """Whether the update comes from an authorised member."""
    user = update.effective_user
    return user is not None and context.services.settings.is_member(user.id)


def member_t(context: SanadContext, member_id: int) -> Translator:
    """The member's language (their own choice, else the committee's)."""
    services = context.services
    return services.language_of(member_id, services.settings.committee_language)


def member_name(update: Update) -> str:
    """The member's first name as Telegram shows it (not family data)."""
    user = update.effective_user
    return (user.first_name if user else "")[:64] or "?"


async def to_member(
    update: Update, context: SanadContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer a committee command in the member's private chat: the message sent, or None."""
    assert update.effective_user is not None
    sent = await send_private(context, update.effective_user.id, text, markup)
    if sent is None:
        log.info("A member has not started a private chat yet")
    return sent


async def send_private(
    context: SanadContext, member_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Write to a member's private chat: the message sent, or None when they never started
    the bot."""
    try:
        return await context.bot.send_message(member_id, text, reply_markup=markup)
    except Forbidden:
        return None


def moved_on(t: Translator, context: SanadContext, case: Case) -> str:
    """Why an action is no longer possible: the case's status, and who decided."""
    status = render.status_label(t, case.status)
    if case.decided_by_name and case.decided_at and case.status in ("approved", "declined"):
        return t(
            "Already decided by {name} on {date}: {status}.",
            name=case.decided_by_name,
            status=status,
            date=t.datetime(case.decided_at, context.services.settings.tz),
        )
    return t("This is not possible any more: the case is now {status}.", status=status)


def alert(html_text: str) -> str:
    """HTML text made plain for a callback alert (which Telegram shows without parsing)."""
    return html.unescape(html_text)


async def case_from_args(
    update: Update, context: SanadContext, t: Translator, usage: str
) -> Case | None:
    """The case named by a command's argument; the member is told when there is none."""
    if not context.args:
        await to_member(update, context, usage)
        return None
    try:
        return await context.services.review.get(" ".join(context.args)[:20])
    except CaseNotFound:
        await to_member(update, context, t.raw("No case has this reference."))
        return None
