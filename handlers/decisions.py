"""The committee decides: the approve, renew and decline wizard, opened from a case card.

Its buttons are rv:<verb>:<arg>, in the member's private chat; its state is the member's
session, saved after every step, and the decision is stored in the same transaction that ends
it, so a crash keeps either the open wizard or the decision.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import reminders, render, workflow
from bot.buttons import DecisionPress
from bot.context import SanadContext
from bot.errors import CaseNotFound
from bot.forms import SUPPORT, Form
from bot.i18n import Translator, escape
from bot.render import DECLINE_REASONS, field
from bot.review import PERIOD_MONTHS, Decision
from bot.storage.cases import Case
from bot.text import whole_number
from handlers.members import (
    member_name,
    member_press,
    member_t,
    moved_on,
)
from handlers.questions import MESSAGE_LIMIT
from handlers.sessions import (
    Session,
    close_screen,
    forget_session,
    load_session,
    remember_screen,
    route,
    save_session,
)
from handlers.util import close_buttons, has_buttons, own_chat, reply, stale
from handlers.validators import checked_text, typed_date
from handlers.wizard import Outcome, Parts, Wizard, WizardStep, cancel_button

log = logging.getLogger(__name__)

DECISION_KINDS = (workflow.APPROVE, workflow.RENEW, workflow.DECLINE)
TITLES: dict[str, Callable[[Translator, str], str]] = {
    workflow.APPROVE: lambda t, ref: t("Approve case {ref}", ref=ref),
    workflow.RENEW: lambda t, ref: t("Renew the support of case {ref}", ref=ref),
    workflow.DECLINE: lambda t, ref: t("Decline case {ref}", ref=ref),
}


# --- the wizard's first step and screen ----------------------------------------------------


def support_first(form: Form, kind: str, case: Case) -> Session:
    """Approve or renew: the support step, with what was approved or asked for preselected."""
    asked = case.answers.get(form.role_id(SUPPORT), [])
    support = (case.decision or {}).get("support") or asked
    return {"kind": kind, "ref": case.ref, "step": "support", "support": list(support)}


def reason_first(_form: Form, kind: str, case: Case) -> Session:
    """Decline: the reason step."""
    return {"kind": kind, "ref": case.ref, "step": "reason"}


def decision_screen(
    t: Translator, context: SanadContext, case: Case, session: Session
) -> tuple[str, InlineKeyboardMarkup]:
    """The decision wizard's current question, titled with the case (rv:<verb>:<arg>)."""
    title = TITLES[session["kind"]](t, t.isolate(case.ref))
    return DECISIONS.screen(t, context, session, title)


# --- the wizard's steps ---------------------------------------------------------------------


def _support_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    support = context.services.form.role(SUPPORT)
    rows = [
        [
            DecisionPress("s", option.id).button(
                (render.CHECKED if option.id in session["support"] else render.UNCHECKED)
                + t.raw(option.label)
            )
        ]
        for option in support.options
    ]
    rows.append([cancel_button(t, DecisionPress), DecisionPress("sd", "").button(t.raw("Done »"))])
    return [t.raw("Which support is approved? The family's request is preselected.")], rows


def _period_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    months = [
        DecisionPress("p", str(m)).button(t.plural("{n} month", "{n} months", m))
        for m in PERIOD_MONTHS
    ]
    rows = [
        months,
        [DecisionPress("pc", "").button(t.raw("📅 Another end date"))],
        [cancel_button(t, DecisionPress)],
    ]
    return [t.raw("For how long?")], rows


def _date_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    lines = [t.raw("Send the end date as year-month-day, for example 2027-03-31.")]
    return lines, [[cancel_button(t, DecisionPress)]]


def _reason_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    rows = [
        [DecisionPress("r", reason).button(t.raw(label))]
        for reason, label in DECLINE_REASONS.items()
    ]
    rows.append([cancel_button(t, DecisionPress)])
    return [t.raw("Why is the application declined?")], rows


def _message_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    lines = [
        t.raw("Write a message for the family (it will be sent as you write it), or press Skip.")
    ]
    return lines, [
        [cancel_button(t, DecisionPress), DecisionPress("skip", "").button(t.raw("Skip"))]
    ]


def _confirm_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    rows = [[cancel_button(t, DecisionPress), DecisionPress("ok", "").button(t.raw("✅ Confirm"))]]
    return confirm_lines(t, context, session), rows


def confirm_lines(t: Translator, context: SanadContext, session: Session) -> list[str]:
    """The summary shown before a decision is applied."""
    form = context.services.form
    lines = []
    if session["kind"] in ("approve", "renew"):
        lines.append(
            field(t.raw("Support approved"), render.support_labels(t, form, session["support"]))
        )
        lines.append(field(t.raw("Until"), escape(t.date(date.fromisoformat(session["until"])))))
    else:
        reason = DECLINE_REASONS[session["reason"]]
        lines.append(field(t.raw("Reason"), escape(t.raw(reason))))
    if session.get("message"):
        lines.append(field(t.raw("Message for the family"), escape(session["message"])))
    lines.append(t.raw("The family will be told in its own language. Confirm?"))
    return lines


async def _toggle_support(
    update: Update, context: SanadContext, session: Session, arg: str
) -> Outcome:
    support = context.services.form.role(SUPPORT)
    if not support.option(arg):
        return Outcome.STALE
    chosen = set(session["support"]) ^ {arg}
    session["support"] = [o.id for o in support.options if o.id in chosen]
    return Outcome.MOVED


async def _support_done(
    update: Update, context: SanadContext, session: Session, arg: str
) -> Outcome:
    if not session["support"]:
        assert update.callback_query is not None and update.effective_user is not None
        t = member_t(context, update.effective_user.id)
        await update.callback_query.answer(
            t.raw("Please choose at least one option, then press Done."), show_alert=True
        )
        return Outcome.DONE
    session["step"] = "period"
    return Outcome.MOVED


async def _period(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if whole_number(arg) not in PERIOD_MONTHS:
        return Outcome.STALE
    session["until"] = context.services.review.default_until(int(arg)).isoformat()
    session["step"] = "message"
    return Outcome.MOVED


async def _other_date(
    update: Update, context: SanadContext, session: Session, arg: str
) -> Outcome:
    session["step"] = "date"
    return Outcome.MOVED


async def _typed_date(
    update: Update, context: SanadContext, session: Session, text: str
) -> Outcome:
    assert update.effective_user is not None
    t = member_t(context, update.effective_user.id)
    until = typed_date(text)
    if until is None:
        await reply(update, t.raw("Please send a date like 2027-03-31."))
        return Outcome.DONE
    if until <= context.services.review.default_until(0):
        await reply(update, t.raw("The end date must be in the future."))
        return Outcome.DONE
    session["until"] = until.isoformat()
    session["step"] = "message"
    return Outcome.MOVED


async def _reason(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if arg not in DECLINE_REASONS:
        return Outcome.STALE
    session["reason"] = arg
    session["step"] = "message"
    return Outcome.MOVED


async def _skip_message(
    update: Update, context: SanadContext, session: Session, arg: str
) -> Outcome:
    session["message"] = None
    session["step"] = "confirm"
    return Outcome.MOVED


async def _typed_message(
    update: Update, context: SanadContext, session: Session, text: str
) -> Outcome:
    assert update.effective_user is not None
    t = member_t(context, update.effective_user.id)
    message = await checked_text(update, t, text, MESSAGE_LIMIT)
    if message is None:
        return Outcome.DONE
    session["message"] = message
    session["step"] = "confirm"
    return Outcome.MOVED


async def _confirm(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await apply_decision(update, context, session)  # durable first: the edit may wait
    await close_buttons(update.callback_query)
    return Outcome.DONE


DECISIONS = Wizard(
    {
        "support": WizardStep(_support_screen, {"s": _toggle_support, "sd": _support_done}),
        "period": WizardStep(_period_screen, {"p": _period, "pc": _other_date}),
        "date": WizardStep(_date_screen, text=_typed_date),
        "reason": WizardStep(_reason_screen, {"r": _reason}),
        "message": WizardStep(_message_screen, {"skip": _skip_message}, text=_typed_message),
        "confirm": WizardStep(_confirm_screen, {"ok": _confirm}),
    }
)


# --- driving the wizard ---------------------------------------------------------------------


async def wizard_button(update: Update, context: SanadContext) -> None:
    """A button of a case wizard in the member's private chat: rv:<verb>:<arg>.

    Cancel works for any pending interaction (the ask and note screens carry it too); every
    other verb belongs to the decision wizard's current step.
    """
    press = await member_press(update, context, DecisionPress)
    if press is None:
        return
    query, member, t = press.query, press.member, press.t
    verb, arg = press.data.verb, press.data.arg
    session = await load_session(context, member)
    if session is None or session.get("kind") not in DECISION_KINDS:
        if verb == "x" and session is not None:
            await forget_session(context, member)
            await query.answer(t.raw("Cancelled."))
            await close_buttons(query)
            return
        await stale(query, t)
        return
    if verb == "x":
        await forget_session(context, member)
        await query.answer(t.raw("Cancelled: nothing was changed."))
        await close_buttons(query)
        return
    step = session["step"]
    outcome = await DECISIONS.press(update, context, session, verb, arg)
    if outcome is Outcome.STALE:
        await stale(query, t)
    elif outcome is Outcome.MOVED:
        await save_session(context, member, session)
        await query.answer()
        await _show(update, context, session, edit=step == session["step"])


@route(*DECISION_KINDS)
async def decision_message(update: Update, context: SanadContext, session: Session) -> None:
    """A member typed something while the decision wizard is open."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    member = update.effective_user.id
    outcome = Outcome.STALE
    if message.text is not None:
        outcome = await DECISIONS.typed(update, context, session, message.text)
    if outcome is Outcome.STALE:
        t = member_t(context, member)
        await reply(update, t.raw("Please use the buttons of the last message, or press Cancel."))
    elif outcome is Outcome.MOVED:
        await save_session(context, member, session)
        await _show(update, context, session, edit=False)


async def _show(update: Update, context: SanadContext, session: Session, *, edit: bool) -> None:
    """Show the wizard's current screen: in place for toggles, as a new message otherwise."""
    assert update.effective_user is not None
    t = member_t(context, update.effective_user.id)
    try:
        case = await context.services.review.get(session["ref"])
    except CaseNotFound:
        await reply(update, t.raw("This case no longer exists."))
        return
    text, markup = decision_screen(t, context, case, session)
    if edit and update.callback_query is not None:
        if own_chat(update.callback_query) and has_buttons(update.callback_query):
            with contextlib.suppress(BadRequest):
                await update.callback_query.edit_message_reply_markup(reply_markup=markup)
        return
    if update.callback_query is not None:
        await close_buttons(update.callback_query)
    close_screen(update, context, session)
    await remember_screen(
        context, update.effective_user.id, session, await reply(update, text, reply_markup=markup)
    )


async def apply_decision(update: Update, context: SanadContext, session: Session) -> None:
    """Apply an approval, renewal or refusal: exactly one decision wins."""
    assert update.effective_user is not None
    member = update.effective_user.id
    t = member_t(context, member)
    review = context.services.review
    decision = Decision(
        support=tuple(session.get("support", ())),
        until=date.fromisoformat(session["until"]) if session.get("until") else None,
        reason=session.get("reason"),
        message=session.get("message"),
    )
    try:
        case = await review.decide(
            session["ref"],
            session["kind"],
            member,
            member_name(update),
            decision,
            ends_session=True,
        )
    except CaseNotFound:
        await forget_session(context, member)
        await reply(update, t.raw("This case no longer exists."))
        return
    except workflow.InvalidTransition:
        await forget_session(context, member)
        case = await review.get(session["ref"])
        await reply(update, moved_on(t, context, case))
        return
    log.info("Case %d: %s by a member", case.id, session["kind"])
    await reply(
        update,
        t(
            "Done: case {ref} is now {status}. The family is being told.",
            ref=t.isolate(case.ref),
            status=render.status_label(t, case.status),
        ),
    )
    context.services.delivery.kick()
    await reminders.sync(context.application, context.services)
