"""The family's intake: /apply, consent, submitting a case, /cancel and /status.

The questions themselves are walked by handlers/form_walk.py, shared with the volunteer
registration; this module holds what is the family's own: the way in, what submitting
creates, and the way out.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, ReplyKeyboardRemove, Update

from bot import render
from bot.buttons import ApplyChoice, ConsentChoice
from bot.config import Settings
from bot.context import SanadContext
from bot.forms import CALL_ME
from bot.i18n import Markup, Translator
from bot.intake import Draft
from bot.render import bold
from handlers import activities
from handlers.form_walk import ask_cancel, close_live, on_submit, show_step
from handlers.sessions import forget_session, load_session
from handlers.util import close_buttons, edit_in_place, has_buttons, private, reply, stale

log = logging.getLogger(__name__)


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def resume_hint(update: Update, context: SanadContext) -> None:
    """After an interruption (/help, /start…), remind the person where their application is."""
    if not private(update) or update.effective_user is None:
        return
    draft = await context.services.intake.load(update.effective_user.id)
    if draft is None:
        return
    lead = context.t.raw("Your application is saved. To continue, answer this question.")
    await show_step(update, context, draft, lead=lead)


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
                    [ApplyChoice("c", draft.id).button(t.raw("Continue"))],
                    [ApplyChoice("r", draft.id).button(t.raw("Start over"))],
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
                refs=Markup(refs),
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [ApplyChoice("n", "").button(t.raw("Yes, a new application"))],
                    [ApplyChoice("x", "").button(t.raw("No"))],
                ]
            ),
        )
        return
    await send_consent(update, context)


def consent_text(t: Translator, settings: Settings, *, details: bool = False) -> str:
    """What the program is, that it is not debt relief, who reads the answers and how to stop,
    short enough for one small screen; ``details`` adds what is collected and how long it is
    kept, read when the family presses "Privacy and details"."""
    parts = [
        bold(t("Before you start")),
        t.raw(
            "The solidarity committee gives temporary support to families in critical situations."
        ),
        bold(t("This is not a debt relief program.")),
        t.raw(
            "Only committee members read your answers. You can stop at any time, and "
            "/delete_my_data erases everything."
        ),
    ]
    if details:
        parts += [
            t.raw(
                "The program is for chronic illness that prevents work, the death of the head "
                "of the household, orphans, disability, and widows and elderly people without "
                "support."
            ),
            t.raw(
                "I will ask about your situation, the support you need, your household, your "
                "area and how to contact you. Your answers are encrypted. Every time a member "
                "opens your case it is recorded."
            ),
            t(
                "Your data is kept while your case is handled and deleted {period} after it "
                "is closed. /mydata shows what is kept.",
                period=period(t, settings.retention.cases),
            ),
            t.raw(
                "If you stop halfway, your answers are kept: /apply continues where you left "
                "off, and /cancel deletes them."
            ),
        ]
    parts.append(bold(t("Do you agree that we keep your answers for this purpose?")))
    return "\n\n".join(parts)


def period(t: Translator, days: int) -> str:
    """A retention period the way people say it: in years, months or days."""
    if days % 365 == 0:
        return t.plural("{n} year", "{n} years", days // 365)
    if days % 30 == 0:
        return t.plural("{n} month", "{n} months", days // 30)
    return t.plural("{n} day", "{n} days", days)


def consent_keyboard(t: Translator, *, details: bool = False) -> InlineKeyboardMarkup:
    """I agree, call me instead, the privacy details (until read), not now."""
    rows = [
        [ConsentChoice("y").button(t.raw("✅ I agree"))],
        [ConsentChoice("c").button(t.raw("📞 I agree, but please call me instead"))],
    ]
    if not details:
        rows.append([ConsentChoice("p").button(t.raw("🔒 Privacy and details"))])
    rows.append([ConsentChoice("n").button(t.raw("Not now"))])
    return InlineKeyboardMarkup(rows)


async def send_consent(
    update: Update, context: SanadContext, query: CallbackQuery | None = None
) -> None:
    """The consent, in place of the pressed message when there is one."""
    t = context.t
    text = consent_text(t, context.services.settings)
    markup = consent_keyboard(t)
    if query is not None and await edit_in_place(query, text, markup):
        return
    await reply(update, text, reply_markup=markup)


async def apply_choice(update: Update, context: SanadContext, choice: ApplyChoice) -> None:
    """The buttons of /apply: continue, start over, a new case, or not; each shown in place of
    the question's message."""
    query = update.callback_query
    assert query is not None
    t = context.t
    user_id = _user_id(update)
    intake = context.services.intake
    verb = choice.verb
    draft = await intake.load(user_id)
    if verb in ("c", "r") and (draft is None or draft.id != choice.draft):
        await stale(query, t)
        await close_buttons(query)
        return
    await query.answer()
    if verb == "a":  # the welcome's button: as /apply, the welcome stays as it is
        context.services.delivery.tidy(close_buttons(query))
        await apply_command(update, context)
    elif verb == "c" and draft is not None:
        await show_step(update, context, draft, query=query)
    elif verb == "r" and draft is not None:
        await close_live(update, draft)
        await intake.discard(user_id)
        await send_consent(update, context, query)
    elif verb == "n":
        if draft is not None:
            await show_step(update, context, draft, query=query)
        else:
            await send_consent(update, context, query)
    else:
        await close_buttons(query)
        await reply(update, t.raw("All right. Send /status to follow your application."))


async def consent_choice(update: Update, context: SanadContext, choice: ConsentChoice) -> None:
    """I agree (or: call me instead): create the draft and ask the first question. Privacy and
    details: the consent shows them in place. Not now: store nothing."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    services = context.services
    user_id = update.effective_user.id
    if not has_buttons(query):
        # Telegram sends the message as it is now: its buttons are gone, the choice was made.
        await stale(query, t)
        return
    await query.answer()
    if choice.choice == "p":
        text = consent_text(t, services.settings, details=True)
        await edit_in_place(query, text, consent_keyboard(t, details=True))
        return
    if choice.choice == "n":
        await close_buttons(query)
        await reply(
            update, t.raw("No problem: nothing was stored. Send /apply whenever you are ready.")
        )
        return
    draft = await services.intake.load(user_id)
    if draft is None:
        draft = await services.intake.start(user_id, context.t.lang)
        services.people.remember(user_id, context.t.lang)
        if choice.choice == "c":
            form = services.intake.form_of(draft)
            draft.answers[CALL_ME] = True
            draft.step = form.first(draft.answers).id
    await show_step(update, context, draft)
    services.delivery.tidy(close_buttons(query))  # the person reads the first question


# --- submit, cancel, status -----------------------------------------------------------------


@on_submit("intake")
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
                    ref=Markup(bold(t.isolate(case.ref))),
                ),
                t.raw(
                    "The committee studies every case carefully and in confidence. "
                    "A member may call you. "
                    "You will receive the committee's answer here, in this chat."
                ),
                t.plural(
                    "The committee usually answers within {n} day.",
                    "The committee usually answers within {n} days.",
                    services.settings.contact.review_days,
                ),
                t.raw("Send /status at any time to see where your application is."),
            ]
        ),
        reply_markup=ReplyKeyboardRemove(),  # the phone's share keyboard, if it was shown
    )
    services.delivery.kick()
    await activities.ask_after_intake(update, context)


async def cancel_command(update: Update, context: SanadContext) -> None:
    """/cancel: end a pending interaction, or (after confirmation) discard the draft."""
    if await load_session(context, _user_id(update)) is not None:
        await forget_session(context, _user_id(update))
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


async def status_command(update: Update, context: SanadContext) -> None:
    """/status: each of the person's cases and its status, in their language."""
    services = context.services
    user_id = _user_id(update)
    mine = await services.intake.cases_of(user_id)
    draft = await services.intake.load(user_id)
    settings = services.settings
    text = render.status_list(
        context.t, services.form, mine, settings.tz, draft is not None, settings.contact
    )
    markup = await activities.status_keyboard(context, user_id) if mine else None
    await reply(update, text, reply_markup=markup)
