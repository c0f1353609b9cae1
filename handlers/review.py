"""The committee's review from Telegram: card actions, decision wizards, questions, notes.

Every press and every command is checked here against COMMITTEE_MEMBER_IDS: callback_data is
chosen by the client and can be forged. A refused attempt changes nothing, reveals nothing
and is audited. The multi-step wizards (approve, decline, ask) keep their state in an
encrypted session row, so a restart in the middle loses nothing.
"""

from __future__ import annotations

import contextlib
import html
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden

from bot import reminders, render, workflow
from bot.context import SanadContext
from bot.errors import CaseNotFound, Invalid
from bot.forms import Step
from bot.i18n import Markup, Translator, escape
from bot.intake import validate_text
from bot.render import DECLINE_REASONS, bold, button, field
from bot.review import PERIOD_MONTHS, Decision
from bot.storage import drafts
from bot.storage.cases import Case
from bot.text import normalize_digits, whole_number
from handlers.util import close_buttons, own_chat, private, reply, voice_answer

log = logging.getLogger(__name__)

# What a member may start from a card or a reminder ("answer" is the family's, not a button).
CARD_ACTIONS = (
    workflow.TAKE,
    workflow.APPROVE,
    workflow.DECLINE,
    workflow.ASK,
    workflow.CLOSE,
    workflow.REOPEN,
    workflow.RENEW,
)
MESSAGE_LIMIT = 1000
NOTE_LIMIT = 2000
FAMILY_ANSWER_LIMIT = 2000


# --- sessions -------------------------------------------------------------------------------


async def load_session(context: SanadContext, user_id: int) -> dict[str, Any] | None:
    """The person's pending interaction, if any."""
    services = context.services
    return await drafts.load(services.db, services.cipher, user_id, "sessions")


async def save_session(context: SanadContext, user_id: int, session: dict[str, Any]) -> None:
    """Store the pending interaction durably."""
    services = context.services
    await drafts.save(services.db, services.cipher, user_id, session, "sessions")


async def end_session(context: SanadContext, user_id: int) -> None:
    """Forget the pending interaction."""
    async with context.services.db.transaction() as conn:
        await drafts.delete(conn, user_id, "sessions")


# --- helpers --------------------------------------------------------------------------------


def member_name(update: Update) -> str:
    """The member's first name as Telegram shows it (not family data)."""
    user = update.effective_user
    return (user.first_name if user else "")[:64] or "?"


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


async def refuse(update: Update, context: SanadContext, ref: str | None) -> None:
    """A non-member pressed a committee button: nothing happens, the attempt is audited."""
    user_id = update.effective_user.id if update.effective_user else None
    case_id = None
    if ref:
        with contextlib.suppress(CaseNotFound):
            case_id = (await context.services.review.get(ref)).id
    async with context.services.db.transaction() as conn:
        from bot.storage import audit

        await audit.record(conn, "action_refused", actor_id=user_id, case_id=case_id)
    log.warning("Committee action refused to non-member %s", user_id)
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


async def to_member(
    update: Update, context: SanadContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer a committee command in the member's private chat."""
    assert update.effective_user is not None
    if not await send_private(context, update.effective_user.id, text, markup):
        log.info("Member %d has not started a private chat yet", update.effective_user.id)


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


async def send_private(
    context: SanadContext, member_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> bool:
    """Write to a member's private chat; False when they never started the bot."""
    try:
        await context.bot.send_message(member_id, text, reply_markup=markup)
    except Forbidden:
        return False
    return True


def member_t(context: SanadContext, member_id: int) -> Translator:
    """The member's language (their own choice, else the committee's)."""
    services = context.services
    return services.language_of(member_id, services.settings.committee_language)


@dataclass(frozen=True)
class Press:
    """A committee button pressed by an authorised member."""

    query: CallbackQuery
    parts: list[str]
    member: int
    t: Translator

    @property
    def verb(self) -> str:
        """The action of a ``prefix:verb:arg`` button ('' when malformed)."""
        return self.parts[1] if len(self.parts) == 3 else ""

    @property
    def arg(self) -> str:
        """The argument of a ``prefix:verb:arg`` button ('' when malformed)."""
        return self.parts[2] if len(self.parts) == 3 else ""


async def member_press(
    update: Update, context: SanadContext, ref: str | None = None, *, private_only: bool = True
) -> Press | None:
    """The press of a committee button, or None once refused.

    A non-member is refused and audited. A member's press of a button that exists only in
    their private chat (wizards, /cases, /export), forged on another message, is refused too.
    """
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    if not is_member(update, context):
        await refuse(update, context, ref)
        return None
    if private_only and not own_chat(query):
        await query.answer(context.t.raw("This button no longer works."))
        return None
    member = update.effective_user.id
    return Press(query, query.data.split(":"), member, member_t(context, member))


# --- card actions ---------------------------------------------------------------------------


async def card_action(update: Update, context: SanadContext) -> None:
    """A committee button: cv:<action>:<ref>."""
    assert update.callback_query is not None and update.callback_query.data is not None
    parts = update.callback_query.data.split(":")
    action, ref = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    press = await member_press(update, context, ref or None, private_only=False)
    if press is None:
        return
    query, member, t = press.query, press.member, press.t
    review = context.services.review
    try:
        case = await review.get(ref)
    except CaseNotFound:
        await query.answer(t.raw("This case no longer exists."), show_alert=True)
        return
    if action not in CARD_ACTIONS:
        await query.answer(t.raw("This button no longer works."))
        return
    if action not in workflow.allowed(case.status):
        await query.answer(alert(moved_on(t, context, case)), show_alert=True)
        await refresh_card(context, case)
        return
    if action in ("take", "close", "reopen"):
        try:
            if action == "take":
                case = await review.take(ref, member, member_name(update))
            elif action == "close":
                case = await review.close(ref, member)
            else:
                case = await review.reopen(ref, member)
        except workflow.InvalidTransition:
            case = await review.get(ref)
            await query.answer(alert(moved_on(t, context, case)), show_alert=True)
            return
        await query.answer(
            alert(t("Done: the case is now {status}.", status=render.status_label(t, case.status)))
        )
        context.services.delivery.kick()
        return
    session: dict[str, Any] = {"kind": action, "ref": case.ref, "step": "start"}
    if action in ("approve", "renew"):
        session.update(
            step="support",
            support=list((case.decision or {}).get("support") or case.answers.get("support", [])),
        )
    elif action == "decline":
        session["step"] = "reason"
    elif action == "ask":
        session["step"] = "question"
    await save_session(context, member, session)
    text, markup = wizard_screen(t, context, case, session)
    if not await send_private(context, member, text, markup):
        await end_session(context, member)
        await query.answer(
            t.raw(
                "I cannot write to you yet: open a private chat with me, "
                "press Start, then press the button again."
            ),
            show_alert=True,
        )
        return
    await query.answer(t.raw("I sent you the next step in our private chat."))


async def refresh_card(context: SanadContext, case: Case) -> None:
    """Queue an update of the card and send it."""
    services = context.services
    if services.settings.committee_chat_id is None:
        return
    from bot.storage import outbox

    async with services.db.transaction() as conn:
        await outbox.enqueue(
            conn, "card_update", services.settings.committee_chat_id, case_id=case.id
        )
    services.delivery.kick()


# --- wizards --------------------------------------------------------------------------------


def wizard_screen(
    t: Translator, context: SanadContext, case: Case, session: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The wizard's current question, with its buttons (rv:<verb>:<arg>)."""
    form = context.services.form
    ref = t.isolate(case.ref)
    kind, step = session["kind"], session["step"]
    cancel = button(t.raw("✖️ Cancel"), "rv", "x", "")
    title = {
        "approve": t("Approve case {ref}", ref=ref),
        "renew": t("Renew the support of case {ref}", ref=ref),
        "decline": t("Decline case {ref}", ref=ref),
        "ask": t("Ask the family of case {ref}", ref=ref),
        "note": t("Note on case {ref}", ref=ref),
    }[kind]
    lines = [bold(title)]
    rows: list[list[Any]] = []
    if step == "support":
        lines.append(t.raw("Which support is approved? The family's request is preselected."))
        support = form.step("support")
        assert support is not None
        for option in support.options:
            mark = render.CHECKED if option.id in session["support"] else render.UNCHECKED
            rows.append([button(mark + t.raw(option.label), "rv", "s", option.id)])
        rows.append([cancel, button(t.raw("Done »"), "rv", "sd", "")])
    elif step == "period":
        lines.append(t.raw("For how long?"))
        rows.append(
            [button(t.plural("{n} month", "{n} months", m), "rv", "p", m) for m in PERIOD_MONTHS]
        )
        rows.append([button(t.raw("📅 Another end date"), "rv", "pc", "")])
        rows.append([cancel])
    elif step == "date":
        lines.append(t.raw("Send the end date as year-month-day, for example 2027-03-31."))
        rows.append([cancel])
    elif step == "reason":
        lines.append(t.raw("Why is the application declined?"))
        rows += [
            [button(t.raw(label), "rv", "r", reason)] for reason, label in DECLINE_REASONS.items()
        ]
        rows.append([cancel])
    elif step == "message":
        lines.append(
            t.raw(
                "Write a message for the family (it will be sent as you write it), or press Skip."
            )
        )
        rows.append([cancel, button(t.raw("Skip"), "rv", "skip", "")])
    elif step == "question":
        lines.append(
            t.raw(
                "Write your question for the family. They receive it with an "
                "introduction in their own language; your words are sent as you "
                "write them."
            )
        )
        rows.append([cancel])
    elif step == "note":
        lines.append(t.raw("Write the note. Only committee members can read it."))
        rows.append([cancel])
    elif step == "confirm":
        lines += confirm_lines(t, context, session)
        rows.append([cancel, button(t.raw("✅ Confirm"), "rv", "ok", "")])
    return "\n\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def confirm_lines(t: Translator, context: SanadContext, session: dict[str, Any]) -> list[str]:
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


async def wizard_button(update: Update, context: SanadContext) -> None:
    """A button of a wizard in the member's private chat: rv:<verb>:<arg>."""
    press = await member_press(update, context)
    if press is None:
        return
    query, member, t = press.query, press.member, press.t
    verb, arg = press.verb, press.arg
    session = await load_session(context, member)
    if session is None or session.get("kind") not in ("approve", "renew", "decline"):
        if verb == "x" and session is not None:
            await end_session(context, member)
            await query.answer(t.raw("Cancelled."))
            await close_buttons(query)
            return
        await query.answer(t.raw("This button no longer works."))
        return
    form = context.services.form
    support = form.step("support")
    step = session["step"]
    if verb == "x":
        await end_session(context, member)
        await query.answer(t.raw("Cancelled: nothing was changed."))
        await close_buttons(query)
        return
    if verb == "s" and step == "support" and support and support.option(arg):
        chosen = set(session["support"]) ^ {arg}
        session["support"] = [o.id for o in support.options if o.id in chosen]
    elif verb == "sd" and step == "support":
        if not session["support"]:
            await query.answer(
                t.raw("Please choose at least one option, then press Done."), show_alert=True
            )
            return
        session["step"] = "period"
    elif verb == "p" and step == "period" and whole_number(arg) in PERIOD_MONTHS:
        session["until"] = context.services.review.default_until(int(arg)).isoformat()
        session["step"] = "message"
    elif verb == "pc" and step == "period":
        session["step"] = "date"
    elif verb == "r" and step == "reason" and arg in DECLINE_REASONS:
        session["reason"] = arg
        session["step"] = "message"
    elif verb == "skip" and step == "message":
        session["message"] = None
        session["step"] = "confirm"
    elif verb == "ok" and step == "confirm":
        await query.answer()
        await apply_decision(update, context, session)  # durable first: the edit may wait
        await close_buttons(query)
        return
    else:
        await query.answer(t.raw("This button no longer works."))
        return
    await save_session(context, member, session)
    await query.answer()
    await _show(update, context, session, edit=step == session["step"])


async def _show(
    update: Update, context: SanadContext, session: dict[str, Any], *, edit: bool
) -> None:
    """Show the wizard's current screen: in place for toggles, as a new message otherwise."""
    assert update.effective_user is not None
    t = member_t(context, update.effective_user.id)
    try:
        case = await context.services.review.get(session["ref"])
    except CaseNotFound:
        await reply(update, t.raw("This case no longer exists."))
        return
    text, markup = wizard_screen(t, context, case, session)
    if edit and update.callback_query is not None:
        if own_chat(update.callback_query):
            with contextlib.suppress(BadRequest):
                await update.callback_query.edit_message_reply_markup(reply_markup=markup)
        return
    if update.callback_query is not None:
        await close_buttons(update.callback_query)
    await reply(update, text, reply_markup=markup)


async def apply_decision(update: Update, context: SanadContext, session: dict[str, Any]) -> None:
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
        await end_session(context, member)
        await reply(update, t.raw("This case no longer exists."))
        return
    except workflow.InvalidTransition:
        await end_session(context, member)
        case = await review.get(session["ref"])
        await reply(update, moved_on(t, context, case))
        return
    log.info("Case %d: %s by member %d", case.id, session["kind"], member)
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


async def wizard_message(update: Update, context: SanadContext, session: dict[str, Any]) -> None:
    """A member typed something while a wizard waits for text."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    member = update.effective_user.id
    t = member_t(context, member)
    step = session["step"]
    if message.text is None or step not in ("date", "message", "question", "note"):
        await reply(update, t.raw("Please use the buttons of the last message, or press Cancel."))
        return
    if step == "date":
        try:
            until = date.fromisoformat(normalize_digits(message.text).strip())
        except ValueError:
            await reply(update, t.raw("Please send a date like 2027-03-31."))
            return
        if until <= context.services.review.default_until(0):
            await reply(update, t.raw("The end date must be in the future."))
            return
        session["until"] = until.isoformat()
        session["step"] = "message"
        await save_session(context, member, session)
        await _show(update, context, session, edit=False)
        return
    limit = NOTE_LIMIT if step == "note" else MESSAGE_LIMIT
    text = await checked_text(update, t, message.text, limit)
    if text is None:
        return
    review = context.services.review
    if step == "message":
        session["message"] = text
        session["step"] = "confirm"
        await save_session(context, member, session)
        await _show(update, context, session, edit=False)
        return
    try:
        if step == "note":
            case = await review.add_note(session["ref"], member, text, ends_session=True)
            await reply(update, t("Note saved on case {ref}.", ref=t.isolate(case.ref)))
            return
        case = await review.ask(session["ref"], member, text, ends_session=True)
    except CaseNotFound:
        await end_session(context, member)
        await reply(update, t.raw("This case no longer exists."))
        return
    except workflow.InvalidTransition:
        await end_session(context, member)
        await reply(update, moved_on(t, context, await review.get(session["ref"])))
        return
    await reply(
        update,
        t(
            "Your question was sent to the family of case {ref}. You will be "
            "told here when they answer.",
            ref=t.isolate(case.ref),
        ),
    )
    context.services.delivery.kick()


async def checked_text(update: Update, t: Translator, text: str, limit: int) -> str | None:
    """Typed text, tidied; None (and the person told the limit) when empty or too long."""
    try:
        return validate_text(
            Step(id="free", kind="text", prompt="", label="", max_length=limit), text
        )
    except Invalid:
        await reply(
            update,
            t.plural(
                "Please keep it under {n} character.",
                "Please keep it under {n} characters.",
                limit,
            ),
        )
        return None


# --- the family answers a question ------------------------------------------------------------


async def answer_button(update: Update, context: SanadContext) -> None:
    """The family pressed Answer under the committee's question: fa:<request id>."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    t = context.t
    request_id = whole_number(query.data.split(":", 1)[1])
    review = context.services.review
    request = None if request_id is None else await review.open_request(request_id)
    case = None
    if request is not None:
        case = await context.services.intake.db.fetchone(
            "SELECT user_id FROM cases WHERE id = ?", (request.case_id,)
        )
    if request is None or case is None or case["user_id"] != update.effective_user.id:
        await query.answer(t.raw("This question is already answered or closed."))
        return
    await save_session(
        context,
        update.effective_user.id,
        {"kind": "answer", "request": request.id, "step": "answer"},
    )
    await query.answer()
    await reply(update, t.raw("Please send your answer now, as a message or a voice note."))


async def family_answer(update: Update, context: SanadContext, session: dict[str, Any]) -> None:
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
        await end_session(context, family)
        await reply(update, t.raw("This question is already answered or closed."))
        return
    await reply(update, t.raw("Thank you. The committee has your answer."))
    context.services.delivery.kick()


async def route_session(update: Update, context: SanadContext) -> bool:
    """Give a private message to the person's pending interaction; False if there is none."""
    if update.effective_user is None:
        return False
    session = await load_session(context, update.effective_user.id)
    if session is None:
        return False
    if session.get("kind") == "answer":
        await family_answer(update, context, session)
        return True
    if not is_member(update, context):
        await end_session(context, update.effective_user.id)
        return False
    if session.get("kind") in ("task", "taskedit"):
        from handlers.tasks import task_edit_message, task_message

        handler = task_message if session["kind"] == "task" else task_edit_message
        await handler(update, context, session)
        return True
    await wizard_message(update, context, session)
    return True


# --- commands -------------------------------------------------------------------------------


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
    text, markup = wizard_screen(t, context, case, session)
    await to_member(update, context, text, markup)


__all__ = [
    "Markup",
    "answer_button",
    "card_action",
    "note_command",
    "route_session",
    "wizard_button",
]
