"""Volunteers register, see and edit their profile, pause, resume, or leave (/volunteer).

Registration walks ``data/forms/volunteer.toml`` with the same engine, draft and buttons as the
family intake (handlers/intake.py); only consent, submit and the profile are specific here.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot import render
from bot.context import SanadContext
from bot.forms import Form
from bot.intake import REVIEW, Draft
from bot.render import bold, button
from bot.storage import volunteers
from handlers.intake import send_step
from handlers.util import close_buttons, reply

log = logging.getLogger(__name__)


def _form(context: SanadContext) -> Form:
    return context.services.intake.forms["volunteer"]


async def volunteer_command(update: Update, context: SanadContext) -> None:
    """/volunteer: the profile with its buttons, or the registration."""
    assert update.effective_user is not None
    user_id = update.effective_user.id
    t = context.t
    services = context.services
    profile = await volunteers.get(services.db, services.cipher, user_id)
    if profile is not None:
        await show_profile(update, context, profile)
        return
    draft = await services.intake.load(user_id)
    if draft is not None and draft.form == "volunteer":
        await reply(update, t.raw("Your registration is saved. Let's continue."))
        await send_step(update, context, draft)
        return
    if draft is not None:
        await reply(
            update,
            t.raw(
                "You have an unfinished application. Send /apply to finish it, or /cancel to "
                "delete it, then /volunteer again."
            ),
        )
        return
    await reply(
        update,
        "\n\n".join(
            [
                bold(t("Volunteer with the committee")),
                t.raw(
                    "Volunteers help families with visits, transport, meals, lessons, "
                    "translation and more. I will ask your name, optionally your phone, your "
                    "skills, the areas and languages you can help in, and when you are available."
                ),
                t.raw(
                    "Only the committee sees your name and phone, to send you tasks that fit you. "
                    "You can pause, change or delete your profile at any time with /volunteer."
                ),
                t.raw("Do you agree that we store these answers for this purpose?"),
            ]
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [button(t.raw("✅ I agree"), "vo", "y")],
                [button(t.raw("Not now"), "vo", "n")],
            ]
        ),
    )


async def show_profile(
    update: Update, context: SanadContext, profile: volunteers.Volunteer
) -> None:
    """Everything stored about the volunteer, with Edit, Pause/Resume and Leave."""
    t = context.t
    answers = {**profile.answers, **profile.personal}
    text = render.volunteer_profile(t, _form(context), answers, profile.status)
    toggle = (
        button(t.raw("⏸ Pause"), "vo", "p")
        if profile.status == volunteers.ACTIVE
        else button(t.raw("▶️ Resume"), "vo", "r")
    )
    markup = InlineKeyboardMarkup(
        [
            [button(t.raw("✏️ Edit"), "vo", "e"), toggle],
            [button(t.raw("🚪 Leave and delete my data"), "vo", "l")],
        ]
    )
    await reply(update, text, reply_markup=markup)


async def volunteer_button(update: Update, context: SanadContext) -> None:
    """vo:<verb>: consent, edit, pause, resume, leave (with confirmation)."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    t = context.t
    services = context.services
    user_id = update.effective_user.id
    verb = query.data.split(":", 1)[1]
    profile = await volunteers.get(services.db, services.cipher, user_id)
    await close_buttons(query)
    if verb == "y" and profile is None:
        await query.answer()
        draft = await services.intake.load(user_id)
        if draft is None:
            draft = await services.intake.start(user_id, t.lang, "volunteer")
            services.languages.setdefault(user_id, t.lang)
        await send_step(update, context, draft)
    elif verb == "n":
        await query.answer()
        await reply(update, t.raw("No problem: nothing was stored."))
    elif verb == "e" and profile is not None:
        await query.answer()
        draft = Draft.new(_form(context))
        draft.answers = {**profile.answers, **profile.personal}
        draft.step = REVIEW
        await services.intake.save(user_id, draft)
        await send_step(update, context, draft)
    elif verb in ("p", "r") and profile is not None:
        status = volunteers.PAUSED if verb == "p" else volunteers.ACTIVE
        await volunteers.set_status(services.db, user_id, status)
        await query.answer()
        if status == volunteers.PAUSED:
            text = t.raw("Your profile is paused: you will receive no tasks until you resume it.")
        else:
            text = t.raw("Welcome back: you will receive tasks again.")
        await reply(update, text)
    elif verb == "l" and profile is not None:
        await query.answer()
        await reply(
            update,
            t.raw(
                "Do you want to leave? Your volunteer profile and personal data will be deleted."
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [button(t.raw("Yes, delete it"), "vo", "L")],
                    [button(t.raw("No, keep it"), "vo", "k")],
                ]
            ),
        )
    elif verb == "L" and profile is not None:
        await volunteers.delete(services.db, user_id)
        await query.answer()
        log.info("Volunteer %d left", user_id)
        await reply(
            update,
            t.raw(
                "Your volunteer profile and personal data were deleted. Thank you for your help."
            ),
        )
    elif verb == "k":
        await query.answer()
        await reply(update, t.raw("Good, nothing was changed."))
    else:
        await query.answer(t.raw("This button no longer works."))


async def submit(update: Update, context: SanadContext, draft: Draft) -> None:
    """Save the profile from a finished registration (or edit)."""
    assert update.effective_user is not None
    services = context.services
    open_answers, personal = _form(context).split(draft.answers)
    await volunteers.save(
        services.db, services.cipher, update.effective_user.id, open_answers, personal
    )
    await services.intake.forget(update.effective_user.id)
    await reply(
        update,
        context.t.raw(
            "Thank you: your volunteer profile is saved. The committee will send you tasks that "
            "fit you. Send /volunteer to see or change it."
        ),
    )
