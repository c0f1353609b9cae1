"""Walking a form (data/forms/*.toml): the questions, their buttons, typed answers, the review
screen, and leaving it. The family intake and the volunteer registration share all of it.

The position and the answers live in an encrypted draft row saved after every step, so a
restart at any moment loses nothing already answered. What submitting a finished form does
belongs to the module of that form, which registers it with :func:`on_submit`.

Buttons: in:<draft>:<step>:<verb>:<arg> for a question or the review, cx:<y|n>:<draft> for
"do you want to cancel?".
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, TelegramError

from bot import render
from bot.buttons import CancelChoice, FormPress
from bot.context import SanadContext
from bot.forms import CALL_ME, Form, Step
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
from bot.render import confirm_keyboard
from handlers.util import (
    close_buttons,
    edit_in_place,
    has_buttons,
    own_chat,
    reply,
    stale,
    voice_answer,
)

Submit = Callable[[Update, SanadContext, Draft], Awaitable[None]]
# What submitting a finished draft does, by form id; filled by the forms' modules.
ON_SUBMIT: dict[str, Submit] = {}


def on_submit(form_id: str) -> Callable[[Submit], Submit]:
    """Register the decorated function as what submitting a draft of ``form_id`` does."""

    def register(submit: Submit) -> Submit:
        if form_id in ON_SUBMIT:
            raise ValueError(f"form {form_id!r} has two submit handlers")
        ON_SUBMIT[form_id] = submit
        return submit

    return register


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def load_draft(context: SanadContext, user_id: int) -> Draft | None:
    """The person's draft, its answers read under the current form: a draft saved before a
    question changed kind (the area, once typed) is walked and submitted as if new."""
    draft = await context.services.intake.load(user_id)
    if draft is not None:
        draft.answers = context.services.intake.form_of(draft).upgrade(draft.answers)
    return draft


async def show_step(
    update: Update,
    context: SanadContext,
    draft: Draft,
    *,
    query: CallbackQuery | None = None,
    lead: str | None = None,
) -> None:
    """Show the draft's current question (or its review) as its one live question.

    With ``query`` (a press on the live question: Back, Change, Continue), the pressed message
    becomes the question in place. Otherwise the live copy, if any, loses its buttons and the
    question is sent anew: a chat never holds two questions with live buttons. ``lead`` is a
    line put above the question, in the same message (where the application stands, after an
    interruption). The message shown is remembered in the draft.
    """
    services = context.services
    form = services.intake.form_of(draft)
    draft.answers = form.upgrade(draft.answers)
    on_live = query is not None and bool(draft.live) and query_message_id(query) == draft.live
    keep_recap(form, draft, on_live)
    text, markup = _screen(context, draft, lead)
    if query is not None and await edit_in_place(query, text, markup):
        pressed = query_message_id(query)
        if draft.live != pressed:
            await close_live(update, draft)
        draft.live = pressed if any(markup.inline_keyboard) else 0
        await services.intake.save(_user_id(update), draft)
        return
    if draft.answered_here:  # the message could not be edited: a new one, without the recap
        draft.answered_here = []
        text, markup = _screen(context, draft, lead)
    # The new question goes first and its old copy closes after: a private chat takes about
    # one message a second, and the person is reading the new one meanwhile.
    old, draft.live = draft.live, 0
    message = await reply(update, text, reply_markup=markup)
    live = message is not None and any(markup.inline_keyboard)
    draft.live = message.message_id if message is not None and live else 0
    await services.intake.save(_user_id(update), draft)
    if old:
        services.delivery.tidy(close_message(update, old))


def _screen(
    context: SanadContext, draft: Draft, lead: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The current question or the review, with ``lead`` above it."""
    form = context.services.intake.form_of(draft)
    if draft.step == REVIEW:
        text, markup = render.review(context.t, form, draft)
    else:
        text, markup = render.question(context.t, form, draft)
    return (text if lead is None else f"{lead}\n\n{text}"), markup


def keep_recap(form: Form, draft: Draft, on_live: bool) -> None:
    """Which tapped answers the live message keeps showing above its question: those of the
    steps before the current one (after Back, the later ones go), none on the review (it
    lists them all) nor on a new message."""
    if not on_live or draft.step == REVIEW:
        draft.answered_here = []
        return
    asked = [s.id for s in form.applicable(draft.answers)]
    if draft.step not in asked:
        draft.answered_here = []
        return
    before = set(asked[: asked.index(draft.step)])
    draft.answered_here = [i for i in draft.answered_here if i in before and i in draft.answers]


async def close_live(update: Update, draft: Draft, text: str | None = None) -> None:
    """Take the buttons off the draft's live question, showing ``text`` instead if given (the
    question with its answer)."""
    live, draft.live = draft.live, 0
    await close_message(update, live, text)


async def close_message(update: Update, message_id: int, text: str | None = None) -> None:
    """Take the buttons off one of the bot's messages in the update's chat (with ``text``
    instead, if given). Best effort: the person may have deleted the message."""
    if not message_id or update.effective_chat is None:
        return
    bot = update.get_bot()
    with contextlib.suppress(TelegramError):
        if text is None:
            await bot.edit_message_reply_markup(
                update.effective_chat.id, message_id, reply_markup=None
            )
        else:
            await bot.edit_message_text(text, update.effective_chat.id, message_id)


# --- buttons --------------------------------------------------------------------------------


async def form_button(update: Update, context: SanadContext, press: FormPress) -> None:
    """A button of a question or of the review: in:<draft>:<step>:<verb>:<arg>."""
    query = update.callback_query
    assert query is not None
    t = context.t
    services = context.services
    step_id, verb, arg = press.step, press.verb, press.arg
    draft = await load_draft(context, _user_id(update))
    if draft is None or draft.id != press.draft:
        await query.answer(t.raw("This button belongs to an application that is closed."))
        await close_buttons(query)
        return
    pressed = query_message_id(query)
    old_copy = bool(draft.live) and pressed < draft.live  # message ids grow in a chat
    if step_id != draft.step or old_copy:
        await query.answer(t.raw("Please answer the last question in this chat."))
        if old_copy:
            await close_buttons(query)  # an old copy; the live question keeps its buttons
        return
    if not has_buttons(query):
        await stale(query, t)  # the live question, but its buttons are gone: forged or old
        return
    if pressed != draft.live:
        # A newer message of the current question than the one remembered (the bot stopped
        # between sending it and saving which it was): it is the live one.
        services.delivery.tidy(close_message(update, draft.live))
        draft.live = pressed
    if step_id == REVIEW:
        handled = await REVIEW_PRESSES.get(verb, _stale)(update, context, draft, arg)
    else:
        step = services.intake.form_of(draft).step(step_id)
        assert step is not None
        handled = await STEP_PRESSES.get(verb, _stale_step)(update, context, draft, step, arg)
    if not handled:
        await stale(query, t)


def query_message_id(query: CallbackQuery) -> int:
    """The id of the message a button was pressed on (0 if Telegram did not say)."""
    return query.message.message_id if query.message is not None else 0


# A question's button; False when the question does not take it (the press is stale).
# The answer is saved before anything is shown: an edit may wait for the chat's pace.
StepPress = Callable[[Update, SanadContext, Draft, Step, str], Awaitable[bool]]


async def _stale_step(
    update: Update, context: SanadContext, draft: Draft, step: Step, arg: str
) -> bool:
    return False


async def _back(update: Update, context: SanadContext, draft: Draft, step: Step, arg: str) -> bool:
    """b: back to the previous question, shown in place of this one."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    go_back(context.services.intake.form_of(draft), draft)
    await context.services.intake.save(_user_id(update), draft)
    await show_step(update, context, draft, query=update.callback_query)
    return True


async def _keep(update: Update, context: SanadContext, draft: Draft, step: Step, arg: str) -> bool:
    """k: keep the answer given before (after going back or editing)."""
    if step.id not in draft.answers:
        return False
    await _accept(update, context, draft, step, draft.answers[step.id])
    return True


async def _share(
    update: Update, context: SanadContext, draft: Draft, step: Step, arg: str
) -> bool:
    """p: show the keyboard that shares the account's phone number (Telegram puts it under the
    typing field, and only a message can bring it; the question stays where it is)."""
    if step.kind != "phone":
        return False
    assert update.callback_query is not None
    await update.callback_query.answer()
    t = context.t
    share = ReplyKeyboardMarkup(
        [[KeyboardButton(t.raw("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await reply(
        update,
        t.raw("Press «📱 Share my phone number» at the bottom of your screen."),
        reply_markup=share,
    )
    return True


async def _call_me(
    update: Update, context: SanadContext, draft: Draft, step: Step, arg: str
) -> bool:
    """c: the family would rather be called: only the form's ``call_me`` steps are asked.
    f: back to answering the questions (the answers given so far are kept)."""
    form = context.services.intake.form_of(draft)
    calling = arg != "f"
    if not form.call_me or form.before(step.id, draft.answers) is not None or draft.editing:
        return False
    if calling == bool(draft.answers.get(CALL_ME)):
        return False
    assert update.callback_query is not None
    await update.callback_query.answer()
    if calling:
        draft.answers[CALL_ME] = True
    else:
        draft.answers.pop(CALL_ME, None)
    draft.pending = []
    draft.step = form.first(draft.answers).id
    await context.services.intake.save(_user_id(update), draft)
    await show_step(update, context, draft, query=update.callback_query)
    return True


async def _full_form(
    update: Update, context: SanadContext, draft: Draft, step: Step, arg: str
) -> bool:
    """f: answer the questions after all."""
    return await _call_me(update, context, draft, step, "f")


async def _option(
    update: Update, context: SanadContext, draft: Draft, step: Step, arg: str
) -> bool:
    """o: toggle an option of a multiple choice, or answer a single choice."""
    if not step.option(arg):
        return False
    if step.kind == "choice":
        await _accept(update, context, draft, step, arg)
        return True
    if step.kind != "multi":
        return False
    query = update.callback_query
    assert query is not None
    chosen = [o for o in draft.pending if o != arg]
    if len(chosen) == len(draft.pending):
        chosen.append(arg)
    draft.pending = [o.id for o in step.options if o.id in chosen]
    await context.services.intake.save(_user_id(update), draft)
    await query.answer()
    _, markup = render.question(context.t, context.services.intake.form_of(draft), draft)
    if own_chat(query):
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(reply_markup=markup)
    return True


async def _done(update: Update, context: SanadContext, draft: Draft, step: Step, arg: str) -> bool:
    """d: the options of a multiple choice are chosen."""
    if step.kind != "multi":
        return False
    if len(draft.pending) < step.min:
        assert update.callback_query is not None
        await update.callback_query.answer(
            context.t.raw("Please choose at least one option, then press Done."), show_alert=True
        )
        return True
    await _accept(update, context, draft, step, list(draft.pending))
    return True


async def _number(
    update: Update, context: SanadContext, draft: Draft, step: Step, arg: str
) -> bool:
    """n: a number offered as a button."""
    if step.kind != "number":
        return False
    form = context.services.intake.form_of(draft)
    try:
        value = validate_number(form, step, draft.answers, arg)
    except Invalid:
        return False
    await _accept(update, context, draft, step, value)
    return True


async def _skip(update: Update, context: SanadContext, draft: Draft, step: Step, arg: str) -> bool:
    """s: skip an optional question."""
    if not step.optional:
        return False
    await _accept(update, context, draft, step, None)
    return True


STEP_PRESSES: dict[str, StepPress] = {
    "b": _back,
    "k": _keep,
    "o": _option,
    "d": _done,
    "n": _number,
    "s": _skip,
    "p": _share,
    "c": _call_me,
    "f": _full_form,
}

# A button of the review screen; False when stale.
ReviewPress = Callable[[Update, SanadContext, Draft, str], Awaitable[bool]]


async def _stale(update: Update, context: SanadContext, draft: Draft, arg: str) -> bool:
    return False


async def _edit(update: Update, context: SanadContext, draft: Draft, arg: str) -> bool:
    """e: change one answer."""
    if not edit(context.services.intake.form_of(draft), draft, arg):
        return False
    assert update.callback_query is not None
    await update.callback_query.answer()
    await context.services.intake.save(_user_id(update), draft)
    await show_step(update, context, draft, query=update.callback_query)
    return True


async def _submit(update: Update, context: SanadContext, draft: Draft, arg: str) -> bool:
    """S: submit, unless a question became unanswered (then it is asked)."""
    query = update.callback_query
    assert query is not None
    missing = context.services.intake.form_of(draft).first_unanswered(draft.answers)
    await query.answer()
    if missing is not None:
        edit(context.services.intake.form_of(draft), draft, missing.id)
        await context.services.intake.save(_user_id(update), draft)
        await show_step(update, context, draft, query=query)
        return True
    await ON_SUBMIT[draft.form](update, context, draft)
    await close_buttons(query)
    return True


async def _cancel(update: Update, context: SanadContext, draft: Draft, arg: str) -> bool:
    """X: ask before discarding."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await ask_cancel(update, context, draft)
    return True


REVIEW_PRESSES: dict[str, ReviewPress] = {"e": _edit, "S": _submit, "X": _cancel}


# --- answers ---------------------------------------------------------------------------------


async def _accept(
    update: Update, context: SanadContext, draft: Draft, step: Step, value: Any
) -> None:
    """Store an answer, move on and save; then close the question with its answer (the pressed
    message, or the live one for a typed answer) and ask the next question."""
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
    query = update.callback_query
    if query is not None:
        await query.answer()
        if draft.live and query_message_id(query) == draft.live:
            # A tap: the one message shows the answer and becomes the next question, one edit
            # (a private chat takes about a message a second: a person tapping once a second
            # is never kept waiting).
            draft.answered_here.append(step.id)
            await show_step(update, context, draft, query=query)
            return
    # A typed answer (or a spoken one, a shared contact): the next question first, then the
    # answered one shows its answer, buttons gone, while the person reads the new one.
    closed = render.answered(t, form, step, value, draft)
    answered_on, draft.live = draft.live, 0
    await show_step(update, context, draft)
    if answered_on:
        context.services.delivery.tidy(close_message(update, answered_on, closed))


async def form_message(update: Update, context: SanadContext) -> None:
    """Anything a person sends in private that is not a command nor for a session."""
    message = update.effective_message
    assert message is not None
    t = context.t
    services = context.services
    draft = await load_draft(context, _user_id(update))
    if draft is None:
        await reply(
            update, t.raw("To apply for support send /apply. /help shows everything I can do.")
        )
        return
    if draft.step == REVIEW:
        await reply(
            update,
            t.raw(
                "Your answers are ready. Please use the buttons under them: "
                "change an answer, Submit or Cancel."
            ),
        )
        return
    step = services.intake.form_of(draft).step(draft.step)
    assert step is not None
    problem = await _answer_from_message(update, context, draft, step)
    if problem is not None:
        # One short line; the question stays where it is, with its buttons.
        await reply(update, problem)


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
        if step.kind != "description" and not step.voice:
            return t.raw("Please type this answer: a voice note cannot be read here.")
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
    if message.contact is not None:
        return t.raw("Thank you, but this question is not about the phone number.")
    if message.text is None:
        if step.kind == "description" or step.voice:
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


# --- leaving the form -----------------------------------------------------------------------


async def ask_cancel(update: Update, context: SanadContext, draft: Draft) -> None:
    """Ask before discarding a draft."""
    t = context.t
    await reply(
        update,
        t.raw("Do you want to cancel your application? Everything you answered will be deleted."),
        reply_markup=confirm_keyboard(
            t.raw("Yes, delete it"),
            CancelChoice("y", draft.id),
            t.raw("No, keep it"),
            CancelChoice("n", draft.id),
        ),
    )


async def cancel_choice(update: Update, context: SanadContext, choice: CancelChoice) -> None:
    """The answer to 'do you want to cancel?': the question's message says what was done."""
    query = update.callback_query
    assert query is not None
    t = context.t
    services = context.services
    user_id = _user_id(update)
    draft = await load_draft(context, user_id)
    if draft is None or draft.id != choice.draft:
        await stale(query, t)
        await close_buttons(query)
        return
    await query.answer()
    if choice.verb == "y":
        await services.intake.discard(user_id)
        await close_live(update, draft)
        await close_buttons(query)
        await reply(
            update,
            t.raw(
                "Your application was cancelled and your answers deleted. Send /apply whenever "
                "you want to start again."
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    kept = t.raw("Good, nothing was lost. Please continue with the question above.")
    if draft.live and await edit_in_place(query, kept):
        return  # the question (or the review) is still live above: nothing else to send
    await close_buttons(query)
    await show_step(update, context, draft)
