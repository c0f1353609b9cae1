"""The family's intake conversation: /apply, the questions, review, submit, /cancel, /status.

The position and the answers live in an encrypted draft row saved after every step (not in
PTB's ConversationHandler, whose state is flushed only periodically and whose timeouts are
not persisted), so a restart at any moment loses nothing the family already answered.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest

from bot import render
from bot.context import SanadContext
from bot.forms import Step
from bot.intake import (
    REVIEW,
    Draft,
    Invalid,
    advance,
    edit,
    go_back,
    validate_number,
    validate_phone,
    validate_text,
)
from bot.render import bold, button
from handlers.util import close_buttons, own_chat, private, reply, voice_answer

log = logging.getLogger(__name__)


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def send_step(update: Update, context: SanadContext, draft: Draft) -> None:
    """Send the draft's current question, or the review."""
    services = context.services
    t = context.t
    if draft.step == REVIEW:
        text, markup = render.review(t, services.intake.form_of(draft), draft)
        await reply(update, text, reply_markup=markup)
        return
    text, markup = render.question(t, services.intake.form_of(draft), draft)
    await reply(update, text, reply_markup=markup)
    step = services.intake.form_of(draft).step(draft.step)
    if step is not None and step.kind == "phone":
        share = ReplyKeyboardMarkup(
            [[KeyboardButton(t.raw("📱 Share my phone number"), request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await reply(update, t.raw("Or press the button below to share it."), reply_markup=share)


async def resume_hint(update: Update, context: SanadContext) -> None:
    """After an interruption (/help, /start…), remind the person where their application is."""
    if not private(update) or update.effective_user is None:
        return
    draft = await context.services.intake.load(update.effective_user.id)
    if draft is None:
        return
    await reply(
        update, context.t.raw("Your application is saved. To continue, answer the question below.")
    )
    await send_step(update, context, draft)


# --- /apply ---------------------------------------------------------------------------------


async def apply_command(update: Update, context: SanadContext) -> None:
    """/apply: continue a draft, warn about a case under review, or ask for consent."""
    t = context.t
    user_id = _user_id(update)
    intake = context.services.intake
    draft = await intake.load(user_id)
    if draft is not None:
        await reply(
            update,
            t.raw(
                "You have an unfinished application. Continue where you left off, or start over?"
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [button(t.raw("Continue"), "ap", "c", draft.id)],
                    [button(t.raw("Start over"), "ap", "r", draft.id)],
                ]
            ),
        )
        return
    open_cases = await intake.open_cases(user_id)
    if open_cases:
        refs = t.join(t.isolate(c.ref) for c in open_cases)
        await reply(
            update,
            t.plural(
                "Your application {refs} is still being reviewed by the committee. Do you want "
                "to submit another, separate application?",
                "Your applications {refs} are still being reviewed by the committee. Do you "
                "want to submit another, separate application?",
                len(open_cases),
                refs=render.Markup(refs),
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [button(t.raw("Yes, a new application"), "ap", "n", "")],
                    [button(t.raw("No"), "ap", "x", "")],
                ]
            ),
        )
        return
    await send_consent(update, context)


async def send_consent(update: Update, context: SanadContext) -> None:
    """What the program is, what is collected, who sees it; I agree / Not now."""
    t = context.t
    text = "\n\n".join(
        [
            bold(t("Before you start")),
            t.raw(
                "The solidarity program gives temporary support to families in the most critical "
                "situations: chronic illness that prevents work, the death of the head of the "
                "household, orphans, disability, widows and elderly people without support."
            ),
            bold(t("This is not a debt relief program.")),
            t.raw(
                "I will ask about your situation, the support you need, your household, your area "
                "and how to contact you. Your answers are encrypted. Only the members of the "
                "committee can read your name, phone and your own words; every time one of them "
                "opens your case it is recorded."
            ),
            t.raw(
                "Your data is kept while your case is handled and deleted one year after it is "
                "closed. You can ask for it to be deleted at any time. "
                "You can stop at any moment: your answers are kept and /apply continues "
                "where you left off, and /cancel deletes them."
            ),
            t.raw("Do you agree that we store your answers for this purpose?"),
        ]
    )
    markup = InlineKeyboardMarkup(
        [
            [button(t.raw("✅ I agree"), "ic", "y")],
            [button(t.raw("Not now"), "ic", "n")],
        ]
    )
    await reply(update, text, reply_markup=markup)


async def apply_choice(update: Update, context: SanadContext) -> None:
    """The buttons of /apply: continue, start over, a new case, or not."""
    query = update.callback_query
    assert query is not None and query.data is not None
    t = context.t
    user_id = _user_id(update)
    intake = context.services.intake
    _, verb, draft_id = ([*query.data.split(":"), "", ""])[:3]
    draft = await intake.load(user_id)
    await close_buttons(query)
    if verb in ("c", "r") and (draft is None or draft.id != draft_id):
        await query.answer(t.raw("This button no longer works."))
        return
    await query.answer()
    if verb == "c" and draft is not None:
        await send_step(update, context, draft)
    elif verb == "r":
        await intake.discard(user_id)
        await send_consent(update, context)
    elif verb == "n":
        if draft is not None:
            await send_step(update, context, draft)
        else:
            await send_consent(update, context)
    else:
        await reply(update, t.raw("All right. Send /status to follow your application."))


async def consent_choice(update: Update, context: SanadContext) -> None:
    """I agree: create the draft and ask the first question. Not now: store nothing."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    t = context.t
    services = context.services
    user_id = update.effective_user.id
    await query.answer()
    await close_buttons(query)
    if query.data != "ic:y":
        await reply(
            update, t.raw("No problem: nothing was stored. Send /apply whenever you are ready.")
        )
        return
    draft = await services.intake.load(user_id)
    if draft is None:
        draft = await services.intake.start(user_id, context.t.lang)
        services.languages.setdefault(user_id, context.t.lang)
    await send_step(update, context, draft)


# --- answering ------------------------------------------------------------------------------


async def intake_button(update: Update, context: SanadContext) -> None:
    """A button of a question or of the review: in:<draft>:<step>:<verb>:<arg>."""
    query = update.callback_query
    assert query is not None and query.data is not None
    t = context.t
    services = context.services
    user_id = _user_id(update)
    parts = query.data.split(":")
    if len(parts) != 5:
        await query.answer(t.raw("This button no longer works."))
        return
    _, draft_id, step_id, verb, arg = parts
    draft = await services.intake.load(user_id)
    if draft is None or draft.id != draft_id:
        await query.answer(t.raw("This button belongs to an application that is closed."))
        await close_buttons(query)
        return
    if step_id != draft.step:
        await query.answer(t.raw("This question is already answered."))
        return
    form = services.intake.form_of(draft)

    if step_id == REVIEW:
        await _review_button(update, context, draft, verb, arg)
        return
    step = form.step(step_id)
    assert step is not None
    # The answer is saved before anything is shown: an edit may wait for the chat's pace.
    if verb == "b":
        await query.answer()
        go_back(form, draft)
        await services.intake.save(user_id, draft)
        await close_buttons(query)
        await send_step(update, context, draft)
        return
    if verb == "k" and step.id in draft.answers:
        await query.answer()
        advance(form, draft, step)
        await services.intake.save(user_id, draft)
        await close_buttons(query)
        await send_step(update, context, draft)
        return
    if verb == "o" and step.kind == "multi" and step.option(arg):
        chosen = [o for o in draft.pending if o != arg]
        if len(chosen) == len(draft.pending):
            chosen.append(arg)
        draft.pending = [o.id for o in step.options if o.id in chosen]
        await services.intake.save(user_id, draft)
        await query.answer()
        _, markup = render.question(t, form, draft)
        if own_chat(query):
            with contextlib.suppress(BadRequest):
                await query.edit_message_reply_markup(reply_markup=markup)
        return
    if verb == "d" and step.kind == "multi":
        if len(draft.pending) < step.min:
            await query.answer(
                t.raw("Please choose at least one option, then press Done."), show_alert=True
            )
            return
        await _accept(update, context, draft, step, list(draft.pending), edit_question=True)
        return
    if verb == "o" and step.kind == "choice" and step.option(arg):
        await _accept(update, context, draft, step, arg, edit_question=True)
        return
    if verb == "n" and step.kind == "number":
        try:
            value = validate_number(form, step, draft.answers, arg)
        except Invalid:
            await query.answer(t.raw("This button no longer works."))
            return
        await _accept(update, context, draft, step, value, edit_question=True)
        return
    if verb == "s" and step.optional:
        await _accept(update, context, draft, step, None, edit_question=True)
        return
    await query.answer(t.raw("This button no longer works."))


async def _review_button(
    update: Update, context: SanadContext, draft: Draft, verb: str, arg: str
) -> None:
    query = update.callback_query
    assert query is not None
    services = context.services
    user_id = _user_id(update)
    t = context.t
    form = services.intake.form_of(draft)
    if verb == "e" and edit(form, draft, arg):
        await query.answer()
        await services.intake.save(user_id, draft)
        await close_buttons(query)
        await send_step(update, context, draft)
    elif verb == "S":
        missing = form.first_unanswered(draft.answers)
        if missing is not None:
            await query.answer()
            edit(form, draft, missing.id)
            await services.intake.save(user_id, draft)
            await send_step(update, context, draft)
            return
        await query.answer()
        if draft.form == "volunteer":
            from handlers.volunteers import submit as save_volunteer

            await save_volunteer(update, context, draft)
        else:
            await submit(update, context, draft)
        await close_buttons(query)
    elif verb == "X":
        await query.answer()
        await ask_cancel(update, context, draft)
    else:
        await query.answer(t.raw("This button no longer works."))


async def _accept(
    update: Update,
    context: SanadContext,
    draft: Draft,
    step: Step,
    value: Any,
    *,
    edit_question: bool = False,
) -> None:
    """Store an answer, move on, save, and ask the next question."""
    services = context.services
    t = context.t
    draft.answers[step.id] = value
    form = services.intake.form_of(draft)
    bounded = [s for s in form.steps if s.max_from == step.id and s.id in draft.answers]
    for dependent in bounded:
        low, high = form.number_bounds(dependent, draft.answers)
        if not low <= int(draft.answers[dependent.id]) <= high:
            del draft.answers[dependent.id]
    advance(form, draft, step)
    await services.intake.save(_user_id(update), draft)
    if edit_question and update.callback_query is not None:
        await update.callback_query.answer()
    if edit_question and own_chat(update.callback_query):
        assert update.callback_query is not None
        with contextlib.suppress(BadRequest):
            await update.callback_query.edit_message_text(render.answered(t, form, step, value))
    if step.kind == "phone":
        await reply(
            update, t.raw("Thank you, the number is noted."), reply_markup=ReplyKeyboardRemove()
        )
    await send_step(update, context, draft)


async def intake_message(update: Update, context: SanadContext) -> None:
    """Anything a person sends in private that is not a command."""
    message = update.effective_message
    assert message is not None
    t = context.t
    services = context.services
    user_id = _user_id(update)
    draft = await services.intake.load(user_id)
    if draft is None:
        await reply(
            update, t.raw("To apply for support send /apply. /help shows everything I can do.")
        )
        return
    if draft.step == REVIEW:
        await reply(
            update,
            t.raw(
                "Your answers are ready. Please use the buttons: "
                "change an answer, Submit or Cancel."
            ),
        )
        await send_step(update, context, draft)
        return
    step = services.intake.form_of(draft).step(draft.step)
    assert step is not None
    problem = await _answer_from_message(update, context, draft, step)
    if problem is not None:
        await reply(update, problem)
        await send_step(update, context, draft)


async def _answer_from_message(
    update: Update, context: SanadContext, draft: Draft, step: Step
) -> str | None:
    """Accept the message as the step's answer; return what is wrong with it otherwise."""
    message = update.effective_message
    assert message is not None
    t = context.t
    form = context.services.intake.form_of(draft)
    if step.kind in ("multi", "choice"):
        return t.raw("Please choose with the buttons under the question.")
    voice = voice_answer(message)
    if voice is not None:
        if step.kind != "description":
            return t.raw(
                "Voice notes are welcome only for the question about your situation in your "
                "own words. Please type your answer here."
            )
        await _accept(update, context, draft, step, voice)
        return None
    if message.contact is not None and step.kind == "phone":
        number = message.contact.phone_number or ""
        if number and not number.startswith("+"):
            number = "+" + number
        try:
            shared = validate_phone(number, context.services.settings.phone_region)
        except Invalid:
            return t.raw("This contact has no phone number I can use. Please type the number.")
        await _accept(update, context, draft, step, shared)
        return None
    if message.text is None:
        if step.kind == "description":
            return t.raw("Please type a message or send a voice note.")
        return t.raw("I can only read typed text here. Please type your answer.")
    try:
        value: Any
        if step.kind == "number":
            value = validate_number(form, step, draft.answers, message.text)
        elif step.kind == "phone":
            value = validate_phone(message.text, context.services.settings.phone_region)
        elif step.kind == "description":
            value = {"text": validate_text(step, message.text)}
        else:
            value = validate_text(step, message.text)
    except Invalid as problem:
        return _explain(context, problem)
    await _accept(update, context, draft, step, value)
    return None


def _explain(context: SanadContext, problem: Invalid) -> str:
    t = context.t
    limits = problem.limits
    if problem.reason == "not_a_number":
        return t(
            "Please send a number, for example {example}.", example=t.number(limits["min"] + 1)
        )
    if problem.reason == "out_of_range":
        return t(
            "Please send a number from {low} to {high}.",
            low=t.number(limits["min"]),
            high=t.number(limits["max"]),
        )
    if problem.reason == "too_long":
        return t.plural(
            "Your answer is too long: please keep it under {n} character.",
            "Your answer is too long: please keep it under {n} characters.",
            limits["max"],
        )
    if problem.reason == "bad_phone":
        return t.raw(
            "This does not look like a valid phone number. Please check it and send it again, "
            "with the country code if it is not a local number."
        )
    return t.raw("Please type your answer.")


# --- submit, cancel, status -----------------------------------------------------------------


async def submit(update: Update, context: SanadContext, draft: Draft) -> None:
    """Create the case, queue and send the committee card, and tell the family what follows."""
    services = context.services
    t = context.t
    case = await services.intake.submit(
        _user_id(update), t.lang, draft, services.settings.committee_chat_id
    )
    log.info("Case %d submitted", case.id)
    await reply(
        update,
        "\n\n".join(
            [
                bold(t("Thank you. Your application is received.")),
                t(
                    "Your reference is {ref}. Please keep it: "
                    "the committee may ask for it on the phone.",
                    ref=render.Markup(bold(t.isolate(case.ref))),
                ),
                t.raw(
                    "The committee studies every case carefully and in confidence. "
                    "A member may call you. "
                    "You will receive the committee's answer here, in this chat."
                ),
                t.raw("Send /status at any time to see where your application is."),
            ]
        ),
    )
    services.delivery.kick()


async def ask_cancel(update: Update, context: SanadContext, draft: Draft) -> None:
    """Ask before discarding a draft."""
    t = context.t
    await reply(
        update,
        t.raw("Do you want to cancel your application? Everything you answered will be deleted."),
        reply_markup=InlineKeyboardMarkup(
            [
                [button(t.raw("Yes, delete it"), "cx", "y", draft.id)],
                [button(t.raw("No, keep it"), "cx", "n", draft.id)],
            ]
        ),
    )


async def cancel_command(update: Update, context: SanadContext) -> None:
    """/cancel: end a pending interaction, or (after confirmation) discard the draft."""
    from handlers.review import end_session, load_session

    if await load_session(context, _user_id(update)) is not None:
        await end_session(context, _user_id(update))
        await reply(update, context.t.raw("Cancelled: nothing was changed."))
        return
    draft = await context.services.intake.load(_user_id(update))
    if draft is None:
        await reply(
            update,
            context.t.raw("There is nothing to cancel."),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await ask_cancel(update, context, draft)


async def cancel_choice(update: Update, context: SanadContext) -> None:
    """The answer to 'do you want to cancel?'."""
    query = update.callback_query
    assert query is not None and query.data is not None
    t = context.t
    services = context.services
    user_id = _user_id(update)
    _, verb, draft_id = ([*query.data.split(":"), "", ""])[:3]
    draft = await services.intake.load(user_id)
    await close_buttons(query)
    if draft is None or draft.id != draft_id:
        await query.answer(t.raw("This button no longer works."))
        return
    await query.answer()
    if verb == "y":
        await services.intake.discard(user_id)
        await reply(
            update,
            t.raw(
                "Your application was cancelled and your answers deleted. Send /apply whenever "
                "you want to start again."
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
    else:
        await reply(update, t.raw("Good, nothing was lost. Let's continue."))
        await send_step(update, context, draft)


async def status_command(update: Update, context: SanadContext) -> None:
    """/status: each of the person's cases and its status, in their language."""
    services = context.services
    user_id = _user_id(update)
    from bot.storage import cases

    mine = await cases.for_user(services.db, user_id)
    draft = await services.intake.load(user_id)
    await reply(
        update, render.status_list(context.t, mine, services.settings.tz, draft is not None)
    )
