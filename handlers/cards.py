"""The buttons of a case card: cv:<action>:<ref>, pressed in the committee group or privately.

An action either moves the case at once (take, close, reopen) or opens a wizard in the
member's private chat: approve, renew and decline (handlers/decisions.py), ask
(handlers/questions.py). The status is checked again here: a card can be older than the case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from bot import render, workflow
from bot.buttons import CardPress
from bot.context import SanadContext
from bot.errors import CaseNotFound
from bot.forms import Form
from bot.i18n import Translator
from bot.review import ReviewService
from bot.storage.cases import Case
from handlers.decisions import decision_screen, reason_first, support_first
from handlers.members import Press, alert, member_name, member_press, moved_on, send_private
from handlers.questions import first_question, question_screen
from handlers.sessions import Session, forget_session, remember_screen, save_session
from handlers.util import stale

CaseScreen = Callable[[Translator, SanadContext, Case, Session], tuple[str, InlineKeyboardMarkup]]


async def card_action(update: Update, context: SanadContext) -> None:
    """A committee button: cv:<action>:<ref>."""
    press = await member_press(
        update, context, CardPress, private_only=False, audit_ref=lambda data: data.case
    )
    if press is None:
        return
    query, t, action = press.query, press.t, press.data.action
    try:
        case = await context.services.review.get(press.data.case)
    except CaseNotFound:
        await query.answer(t.raw("This case no longer exists."), show_alert=True)
        return
    run = CARD_PRESSES.get(action)
    if run is None:
        await stale(query, t)
        return
    if action not in workflow.allowed(case.status):
        await query.answer(alert(moved_on(t, context, case)), show_alert=True)
        await refresh_card(context, case)
        return
    await run(update, context, press, case)


CardAction = Callable[[Update, SanadContext, Press[CardPress], Case], Awaitable[None]]
Change = Callable[[ReviewService, Update, str, int], Awaitable[Case]]


def _transition(change: Change) -> CardAction:
    """A card action that moves the case at once, and says where it is now."""

    async def apply(
        update: Update, context: SanadContext, press: Press[CardPress], case: Case
    ) -> None:
        query, t, review = press.query, press.t, context.services.review
        try:
            case = await change(review, update, press.data.case, press.member)
        except workflow.InvalidTransition:
            case = await review.get(press.data.case)
            await query.answer(alert(moved_on(t, context, case)), show_alert=True)
            return
        await query.answer(
            alert(t("Done: the case is now {status}.", status=render.status_label(t, case.status)))
        )
        context.services.delivery.kick()

    return apply


@dataclass(frozen=True)
class WizardStart:
    """A card action that opens a wizard in the member's private chat."""

    first: Callable[[Form, str, Case], Session]
    screen: CaseScreen

    async def __call__(
        self, update: Update, context: SanadContext, press: Press[CardPress], case: Case
    ) -> None:
        query, member, t = press.query, press.member, press.t
        session = self.first(context.services.form, press.data.action, case)
        await save_session(context, member, session)
        text, markup = self.screen(t, context, case, session)
        sent = await send_private(context, member, text, markup)
        if sent is None:
            await forget_session(context, member)
            await query.answer(
                t.raw(
                    "I cannot write to you yet: open a private chat with me, "
                    "press Start, then press the button again."
                ),
                show_alert=True,
            )
            return
        await remember_screen(context, member, session, sent)
        await query.answer(t.raw("I sent you the next step in our private chat."))


# What a member may do from a card or a reminder ("answer" is the family's, not a button).
CARD_PRESSES: dict[str, CardAction] = {
    workflow.TAKE: _transition(
        lambda review, update, ref, member: review.take(ref, member, member_name(update))
    ),
    workflow.APPROVE: WizardStart(support_first, decision_screen),
    workflow.DECLINE: WizardStart(reason_first, decision_screen),
    workflow.ASK: WizardStart(lambda _form, _kind, case: first_question(case), question_screen),
    workflow.CLOSE: _transition(lambda review, update, ref, member: review.close(ref, member)),
    workflow.REOPEN: _transition(lambda review, update, ref, member: review.reopen(ref, member)),
    workflow.RENEW: WizardStart(support_first, decision_screen),
}


async def refresh_card(context: SanadContext, case: Case) -> None:
    """Queue an update of the card and send it."""
    if await context.services.review.refresh_card(case):
        context.services.delivery.kick()
