"""Volunteers register, see and edit their profile, pause, resume, or leave (/volunteer).

Registration walks ``data/forms/volunteer.toml`` with the same engine, draft and buttons as the
family intake (handlers/form_walk.py); only consent, submit and the profile are specific here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot import render
from bot.context import SanadContext
from bot.intake import REVIEW, Draft
from bot.render import bold, button
from bot.storage import volunteers
from handlers.form_walk import on_submit, send_step
from handlers.util import close_buttons, reply

log = logging.getLogger(__name__)


async def volunteer_command(update: Update, context: SanadContext) -> None:
    """/volunteer: the profile with its buttons, or the registration."""
    assert update.effective_user is not None
    user_id = update.effective_user.id
    t = context.t
    services = context.services
    profile = await _profile(context, user_id)
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
    text = render.volunteer_profile(t, context.services.volunteer_form, answers, profile.status)
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
    verb = query.data.split(":", 1)[1]
    profile = await _profile(context, update.effective_user.id)
    await close_buttons(query)
    press = PRESSES.get(verb)
    if press is None or not press.applies(profile):
        await query.answer(context.t.raw("This button no longer works."))
        return
    await press.run(update, context, profile)


Run = Callable[[Update, SanadContext, Any], Awaitable[None]]


@dataclass(frozen=True)
class VolunteerPress:
    """A vo: button: whether it needs a profile (True), no profile (False) or either (None)."""

    run: Run
    profile: bool | None

    def applies(self, profile: volunteers.Volunteer | None) -> bool:
        return self.profile is None or self.profile == (profile is not None)


async def _agree(update: Update, context: SanadContext, profile: None) -> None:
    """y: consent given; the registration starts (or continues)."""
    assert update.callback_query is not None and update.effective_user is not None
    user_id, t, services = update.effective_user.id, context.t, context.services
    await update.callback_query.answer()
    draft = await services.intake.load(user_id)
    if draft is None:
        draft = await services.intake.start(user_id, t.lang, "volunteer")
        services.people.remember(user_id, t.lang)
    await send_step(update, context, draft)


async def _not_now(update: Update, context: SanadContext, profile: Any) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(update, context.t.raw("No problem: nothing was stored."))


async def _edit(update: Update, context: SanadContext, profile: volunteers.Volunteer) -> None:
    """e: the profile becomes a draft at the review screen, where any answer can change."""
    assert update.callback_query is not None and update.effective_user is not None
    await update.callback_query.answer()
    draft = Draft.new(context.services.volunteer_form)
    draft.answers = {**profile.answers, **profile.personal}
    draft.step = REVIEW
    await context.services.intake.save(update.effective_user.id, draft)
    await send_step(update, context, draft)


def _set_status(status: str) -> Run:
    """p / r: pause or resume the tasks sent to the volunteer."""

    async def run(update: Update, context: SanadContext, profile: volunteers.Volunteer) -> None:
        assert update.callback_query is not None and update.effective_user is not None
        t = context.t
        await _store_status(context, update.effective_user.id, status)
        await update.callback_query.answer()
        if status == volunteers.PAUSED:
            text = t.raw("Your profile is paused: you will receive no tasks until you resume it.")
        else:
            text = t.raw("Welcome back: you will receive tasks again.")
        await reply(update, text)

    return run


async def _ask_leave(update: Update, context: SanadContext, profile: volunteers.Volunteer) -> None:
    assert update.callback_query is not None
    t = context.t
    await update.callback_query.answer()
    await reply(
        update,
        t.raw("Do you want to leave? Your volunteer profile and personal data will be deleted."),
        reply_markup=InlineKeyboardMarkup(
            [
                [button(t.raw("Yes, delete it"), "vo", "L")],
                [button(t.raw("No, keep it"), "vo", "k")],
            ]
        ),
    )


async def _leave(update: Update, context: SanadContext, profile: volunteers.Volunteer) -> None:
    assert update.callback_query is not None and update.effective_user is not None
    user_id = update.effective_user.id
    await _delete_profile(context, user_id)
    await update.callback_query.answer()
    log.info("A volunteer left")
    await reply(
        update,
        context.t.raw(
            "Your volunteer profile and personal data were deleted. Thank you for your help."
        ),
    )


async def _keep(update: Update, context: SanadContext, profile: Any) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(update, context.t.raw("Good, nothing was changed."))


PRESSES = {
    "y": VolunteerPress(_agree, profile=False),
    "n": VolunteerPress(_not_now, profile=None),
    "e": VolunteerPress(_edit, profile=True),
    "p": VolunteerPress(_set_status(volunteers.PAUSED), profile=True),
    "r": VolunteerPress(_set_status(volunteers.ACTIVE), profile=True),
    "l": VolunteerPress(_ask_leave, profile=True),
    "L": VolunteerPress(_leave, profile=True),
    "k": VolunteerPress(_keep, profile=None),
}


# --- the volunteers' storage, one helper per call ----------------------------------------------


async def _profile(context: SanadContext, user_id: int) -> volunteers.Volunteer | None:
    return await context.services.volunteers.get(user_id)


async def _store_status(context: SanadContext, user_id: int, status: str) -> None:
    await context.services.volunteers.set_status(user_id, status)


async def _delete_profile(context: SanadContext, user_id: int) -> None:
    await context.services.volunteers.delete(user_id)


async def _save_profile(
    context: SanadContext, user_id: int, open_answers: dict[str, Any], personal: dict[str, Any]
) -> None:
    await context.services.volunteers.save(user_id, open_answers, personal)


@on_submit("volunteer")
async def submit(update: Update, context: SanadContext, draft: Draft) -> None:
    """Save the profile from a finished registration (or edit)."""
    assert update.effective_user is not None
    services = context.services
    open_answers, personal = context.services.volunteer_form.split(draft.answers)
    await _save_profile(context, update.effective_user.id, open_answers, personal)
    await services.intake.forget(update.effective_user.id)
    await reply(
        update,
        context.t.raw(
            "Thank you: your volunteer profile is saved. The committee will send you tasks that "
            "fit you. Send /volunteer to see or change it."
        ),
    )
