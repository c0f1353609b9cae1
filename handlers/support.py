"""Support given: the member's wizard (from a case's private view) and the family's receipt.

The wizard's buttons are sg:<verb>:<arg>, in the member's private chat, for members only;
its state is the member's session, saved after every step, and the record is stored in the
transaction that ends it. The session keeps the id of the wizard's live message (its current
question): a press from any other message (an old or finished wizard's) is stale and loses its
buttons, and a question answered by typing loses its buttons too. The family's buttons are
sr:<y|n>:<support>, accepted only from the case's family, and lose their buttons once answered.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import date, timedelta
from decimal import Decimal

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden

from bot import render, workflow
from bot.buttons import ReceiptPress, SupportPress
from bot.context import SanadContext
from bot.errors import CaseNotFound
from bot.forms import SUPPORT
from bot.i18n import Translator, escape
from bot.render import field
from bot.storage.cases import Case
from bot.support import FINANCIAL, OTHER, Answer, Entry, parse_amount
from bot.support_text import OTHER_LABEL, history_lines, kind_label
from bot.text import whole_number
from handlers.form_walk import query_message_id
from handlers.members import alert, member_name, member_press, member_t, moved_on
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
from handlers.wizard import Outcome, Parts, Rows, Wizard, WizardStep, cancel_button

log = logging.getLogger(__name__)

KIND = "support"
OTHER_LIMIT = 200
NOTE_LIMIT = 500


# --- on the case's private view ---------------------------------------------------------------


def with_support_button(
    t: Translator, case: Case, markup: InlineKeyboardMarkup
) -> InlineKeyboardMarkup:
    """The private view's buttons, with "Record support given" when the case is approved."""
    if case.status != workflow.APPROVED:
        return markup
    rows = [list(row) for row in markup.inline_keyboard]
    rows.append([SupportPress("new", case.ref).button(t.raw("📦 Record support given"))])
    return InlineKeyboardMarkup(rows)


async def history(context: SanadContext, t: Translator, case: Case) -> list[str]:
    """The case's support given, for a member's private chat."""
    service = context.services.support
    records = await service.history(case.id)
    if not records:
        return []
    tasks = {task.id: task.ref for task in await service.tasks_of(case.id)}
    return history_lines(t, context.services.form, records, tasks)


# --- the wizard's steps ----------------------------------------------------------------------


def _cancel(t: Translator) -> Rows:
    return [[cancel_button(t, SupportPress)]]


def _kind_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    options = context.services.form.role(SUPPORT).options
    rows = [[SupportPress("k", option.id).button(t.raw(option.label))] for option in options]
    rows.append([SupportPress("k", OTHER).button(t.raw(OTHER_LABEL))])
    rows += _cancel(t)
    return [t.raw("What was given?")], rows


def _other_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    return [t.raw("Describe in a few words what was given.")], _cancel(t)


def _amount_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    currencies = [
        SupportPress("c", code).button(
            (render.CHECKED if code == session["currency"] else render.UNCHECKED) + code
        )
        for code in context.services.settings.currencies
    ]
    rows = [
        currencies,
        [cancel_button(t, SupportPress), SupportPress("skip", "").button(t.raw("Skip"))],
    ]
    return [t.raw("Send the amount (digits only), choose the currency, or press Skip.")], rows


def _note_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    rows = [[cancel_button(t, SupportPress), SupportPress("skip", "").button(t.raw("Skip"))]]
    return [
        t.raw("Add a note for the committee (the family does not see it), or press Skip.")
    ], rows


def _when_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    quick = [SupportPress("w", "0").button(t.raw("Today"))]
    if context.services.support.today() - timedelta(days=1) >= _since(session):
        quick.append(SupportPress("w", "1").button(t.raw("Yesterday")))
    rows = [
        quick,
        [SupportPress("w", "d").button(t.raw("📅 Another day"))],
        *_cancel(t),
    ]
    return [t.raw("When was it given?")], rows


def _date_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    return [t.raw("Send the day as year-month-day, for example 2026-03-12.")], _cancel(t)


def _task_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    rows = [
        [SupportPress("t", str(task_id)).button(label)]
        for task_id, label in session.get("tasks", [])
    ]
    rows.append([cancel_button(t, SupportPress), SupportPress("t", "").button(t.raw("Skip"))])
    return [t.raw("Did it go through one of the case's tasks?")], rows


def _confirm_screen(t: Translator, context: SanadContext, session: Session) -> Parts:
    form = context.services.form
    what = escape(kind_label(t, form, session["what"]))
    if session.get("other"):
        what += escape(": " + session["other"])
    lines = [field(t.raw("Support given"), what)]
    if session.get("amount"):
        lines.append(
            field(t.raw("Amount"), t.isolate(f"{session['amount']} {session['currency']}"))
        )
    lines.append(field(t.raw("Day"), escape(t.date(date.fromisoformat(session["given_on"])))))
    if session.get("task_label"):
        lines.append(field(t.raw("Through task"), escape(session["task_label"])))
    if session.get("note"):
        lines.append(field(t.raw("Note"), escape(session["note"])))
    lines.append(
        t.raw("The family will be asked, in its own language, whether it arrived. Confirm?")
    )
    rows = [[cancel_button(t, SupportPress), SupportPress("ok", "").button(t.raw("✅ Confirm"))]]
    return lines, rows


async def _kind(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if arg != OTHER and context.services.form.role(SUPPORT).option(arg) is None:
        return Outcome.STALE
    session["what"] = arg
    session["step"] = "other" if arg == OTHER else "amount" if arg == FINANCIAL else "note"
    return Outcome.MOVED


def _t(update: Update, context: SanadContext) -> Translator:
    assert update.effective_user is not None
    return member_t(context, update.effective_user.id)


async def _typed_other(
    update: Update, context: SanadContext, session: Session, text: str
) -> Outcome:
    words = await checked_text(update, _t(update, context), text, OTHER_LIMIT)
    if words is None:
        return Outcome.DONE
    session.update(other=words, step="note")
    return Outcome.MOVED


async def _currency(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if arg not in context.services.settings.currencies:
        return Outcome.STALE
    session["currency"] = arg
    return Outcome.MOVED


async def _typed_amount(
    update: Update, context: SanadContext, session: Session, text: str
) -> Outcome:
    amount = parse_amount(text)
    if amount is None:
        await reply(
            update, _t(update, context).raw("Please send the amount in digits, for example 150.")
        )
        return Outcome.DONE
    session.update(amount=str(amount), step="note")
    return Outcome.MOVED


async def _skip_amount(
    update: Update, context: SanadContext, session: Session, arg: str
) -> Outcome:
    session.update(amount=None, step="note")
    return Outcome.MOVED


async def _typed_note(
    update: Update, context: SanadContext, session: Session, text: str
) -> Outcome:
    note = await checked_text(update, _t(update, context), text, NOTE_LIMIT)
    if note is None:
        return Outcome.DONE
    session.update(note=note, step="when")
    return Outcome.MOVED


async def _skip_note(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    session.update(note=None, step="when")
    return Outcome.MOVED


def _since(session: Session) -> date:
    """The first day support may be dated: the day the case was submitted."""
    return date.fromisoformat(session["since"]) if session.get("since") else date.min


def _submitted_on(context: SanadContext, case: Case) -> date:
    """The day the case was submitted, in the organisation's time zone."""
    return case.created_at.astimezone(context.services.settings.tz).date()


async def _given_on(update: Update, context: SanadContext, session: Session, day: date) -> Outcome:
    """The day is known: on to the case's tasks, if it has any, else to the confirmation. A
    day before the case was submitted, or after today, is refused and the step kept."""
    service = context.services.support
    try:
        case = await context.services.review.get(session["ref"])
    except CaseNotFound:
        return Outcome.STALE
    first = _submitted_on(context, case)
    if not first <= day <= service.today():
        t = _t(update, context)
        refusal = t("The day must be between {first} and today.", first=t.date(first))
        if update.callback_query is not None:
            await update.callback_query.answer(alert(refusal), show_alert=True)
        else:
            await reply(update, refusal)
        return Outcome.DONE
    session["given_on"] = day.isoformat()
    tasks = await service.tasks_of(case.id)
    session["tasks"] = [(task.id, f"{task.ref}: {task.title}"[:60]) for task in tasks]
    session["step"] = "task" if tasks else "confirm"
    return Outcome.MOVED


async def _when(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    if arg == "d":
        session["step"] = "date"
        return Outcome.MOVED
    days = whole_number(arg)
    if days not in (0, 1):
        return Outcome.STALE
    return await _given_on(
        update, context, session, context.services.support.today() - timedelta(days=days)
    )


async def _typed_day(
    update: Update, context: SanadContext, session: Session, text: str
) -> Outcome:
    day = typed_date(text)
    if day is None:
        await reply(
            update,
            _t(update, context).raw("Please send a day like 2026-03-12, not in the future."),
        )
        return Outcome.DONE
    return await _given_on(update, context, session, day)


async def _task(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    labels = {str(task_id): label for task_id, label in session.get("tasks", [])}
    if arg and arg not in labels:
        return Outcome.STALE
    session.update(task=int(arg) if arg else None, task_label=labels.get(arg), step="confirm")
    return Outcome.MOVED


async def _confirm(update: Update, context: SanadContext, session: Session, arg: str) -> Outcome:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await record(update, context, session)  # durable first: the edit may wait
    await close_buttons(update.callback_query)
    return Outcome.DONE


SUPPORT_GIVEN = Wizard(
    {
        "kind": WizardStep(_kind_screen, {"k": _kind}),
        "other": WizardStep(_other_screen, text=_typed_other),
        "amount": WizardStep(
            _amount_screen, {"c": _currency, "skip": _skip_amount}, text=_typed_amount
        ),
        "note": WizardStep(_note_screen, {"skip": _skip_note}, text=_typed_note),
        "when": WizardStep(_when_screen, {"w": _when}),
        "date": WizardStep(_date_screen, text=_typed_day),
        "task": WizardStep(_task_screen, {"t": _task}),
        "confirm": WizardStep(_confirm_screen, {"ok": _confirm}),
    }
)


def support_screen(
    t: Translator, context: SanadContext, session: Session
) -> tuple[str, InlineKeyboardMarkup]:
    """The wizard's current question, titled with the case."""
    title = t("Support given to case {ref}", ref=t.isolate(session["ref"]))
    return SUPPORT_GIVEN.screen(t, context, session, title)


# --- driving the wizard ----------------------------------------------------------------------


async def support_button(update: Update, context: SanadContext) -> None:
    """A button of the support wizard, or "Record support given": sg:<verb>:<arg>."""
    press = await member_press(update, context, SupportPress)
    if press is None:
        return
    query, member, t = press.query, press.member, press.t
    verb, arg = press.data.verb, press.data.arg
    if verb == "new":
        await _start(update, context, member, t, arg)
        return
    session = await load_session(context, member)
    if (
        session is None
        or session.get("kind") != KIND
        or not _live(session, query_message_id(query))
    ):
        await stale(query, t)  # an old or finished wizard's button: nothing is changed
        await close_buttons(query)
        return
    if verb == "x":
        await forget_session(context, member)
        await query.answer(t.raw("Cancelled: nothing was changed."))
        await close_buttons(query)
        return
    step = session["step"]
    outcome = await SUPPORT_GIVEN.press(update, context, session, verb, arg)
    if outcome is Outcome.STALE:
        await stale(query, t)
    elif outcome is Outcome.MOVED:
        await save_session(context, member, session)
        await query.answer()
        await _show(update, context, session, edit=step == session["step"])


async def _start(
    update: Update, context: SanadContext, member: int, t: Translator, ref: str
) -> None:
    """Open the wizard for an approved case."""
    query = update.callback_query
    assert query is not None
    try:
        case = await context.services.review.get(ref)
    except CaseNotFound:
        await query.answer(t.raw("This case no longer exists."), show_alert=True)
        return
    if case.status != workflow.APPROVED:
        await query.answer(alert(moved_on(t, context, case)), show_alert=True)
        return
    currencies = context.services.settings.currencies
    session: Session = {
        "kind": KIND,
        "ref": case.ref,
        "step": "kind",
        "currency": currencies[0],
        "since": _submitted_on(context, case).isoformat(),
        "screen": 0,
    }
    await save_session(context, member, session)
    await query.answer()
    text, markup = support_screen(t, context, session)
    try:
        prompt = await context.bot.send_message(member, text, reply_markup=markup)
    except Forbidden:  # they never started the bot
        await forget_session(context, member)
        return
    await remember_screen(context, member, session, prompt)


def _live(session: Session, message_id: int) -> bool:
    """Whether a press comes from the wizard's live message (the screen it remembers)."""
    return session.get("screen") == message_id


@route(KIND)
async def support_message(update: Update, context: SanadContext, session: Session) -> None:
    """A member typed something while the support wizard is open."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    outcome = Outcome.STALE
    if message.text is not None:
        outcome = await SUPPORT_GIVEN.typed(update, context, session, message.text)
    if outcome is Outcome.STALE:
        t = _t(update, context)
        await reply(update, t.raw("Please use the buttons of the last message, or press Cancel."))
    elif outcome is Outcome.MOVED:
        await save_session(context, update.effective_user.id, session)
        await _show(update, context, session, edit=False)


async def _show(update: Update, context: SanadContext, session: Session, *, edit: bool) -> None:
    """The current screen: in place for a currency chosen, as a new message otherwise (the
    question answered loses its buttons, and the new one becomes the live message). The
    confirmation shows the amount and the note: it is sent protected, like /case."""
    text, markup = support_screen(_t(update, context), context, session)
    query = update.callback_query
    if edit and query is not None:
        if own_chat(query) and has_buttons(query):
            with contextlib.suppress(BadRequest):
                await query.edit_message_reply_markup(reply_markup=markup)
        return
    if query is not None:
        await close_buttons(query)
    close_screen(update, context, session)  # the question answered by typing
    sent = await reply(
        update, text, reply_markup=markup, protect_content=session["step"] == "confirm"
    )
    assert update.effective_user is not None
    await remember_screen(context, update.effective_user.id, session, sent)


async def record(update: Update, context: SanadContext, session: Session) -> None:
    """Store what the wizard gathered; the family is asked whether it arrived."""
    assert update.effective_user is not None
    member = update.effective_user.id
    t = member_t(context, member)
    entry = Entry(
        kind=session["what"],
        given_on=date.fromisoformat(session["given_on"]),
        amount=Decimal(session["amount"]) if session.get("amount") else None,
        currency=session.get("currency"),
        note=session.get("note"),
        other=session.get("other"),
        task_id=session.get("task"),
    )
    service = context.services.support
    try:
        await service.record(session["ref"], member, member_name(update), entry, ends_session=True)
    except CaseNotFound:
        await forget_session(context, member)
        await reply(update, t.raw("This case no longer exists."))
        return
    except workflow.InvalidTransition:
        await forget_session(context, member)
        await reply(
            update, moved_on(t, context, await context.services.review.get(session["ref"]))
        )
        return
    log.info("Support given recorded by a member")
    await reply(
        update,
        t(
            "Done: the support given to case {ref} is recorded. The family is asked whether it "
            "arrived.",
            ref=t.isolate(session["ref"]),
        ),
    )
    context.services.delivery.kick()


# --- the family's answer -----------------------------------------------------------------------


async def receipt_button(update: Update, context: SanadContext, data: ReceiptPress) -> None:
    """The family taps Received or Not received: sr:<y|n>:<support>. Anybody else is refused
    (and audited); a second or late tap is thanked and changes nothing."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    user = update.effective_user.id
    received = data.verb == "y"
    result = await context.services.support.answer(data.support, user, received)
    if result is Answer.GONE:
        await stale(query, t)
        return
    if result is Answer.NOT_THEIRS:
        await context.services.review.record_refused(user, None)
        log.warning("A receipt button refused to someone who is not the family")
        await query.answer(t.raw("This button is not for you."), show_alert=True)
        return
    if result is Answer.ALREADY:
        await query.answer(t.raw("You have already answered. Thank you!"), show_alert=True)
        await close_buttons(query)
        return
    await query.answer()
    await close_buttons(query)
    thanks = (
        t.raw("Thank you for confirming.")
        if received
        else t.raw("Thank you for telling us. The committee will look into it.")
    )
    await reply(update, thanks)
    context.services.delivery.kick()
