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

from bot import reminders, render
from bot.buttons import VolunteerPress
from bot.context import SanadContext
from bot.intake import REVIEW, Draft
from bot.render import bold, confirm_keyboard
from bot.storage import volunteers
from handlers import menus
from handlers.form_walk import on_submit, show_step
from handlers.util import close_buttons, reply, stale

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
        await show_step(
            update, context, draft, lead=t.raw("Your registration is saved. Let's continue.")
        )
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
                [VolunteerPress("y").button(t.raw("✅ I agree"))],
                [VolunteerPress("n").button(t.raw("Not now"))],
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
    # Pausing and resuming are the volunteer's own; pending and suspended are the committee's.
    toggles = {
        volunteers.ACTIVE: [VolunteerPress("p").button(t.raw("⏸ Pause"))],
        volunteers.PAUSED: [VolunteerPress("r").button(t.raw("▶️ Resume"))],
    }
    markup = InlineKeyboardMarkup(
        [
            [VolunteerPress("e").button(t.raw("✏️ Edit")), *toggles.get(profile.status, [])],
            [VolunteerPress("l").button(t.raw("🚪 Leave and delete my data"))],
        ]
    )
    await reply(update, text, reply_markup=markup)


async def volunteer_button(update: Update, context: SanadContext, press: VolunteerPress) -> None:
    """vo:<verb>: consent, edit, pause, resume, leave (with confirmation)."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    profile = await _profile(context, update.effective_user.id)
    await close_buttons(query)
    action = ACTIONS.get(press.verb)
    if action is None or not action.applies(profile):
        await stale(query, context.t)
        return
    await action.run(update, context, profile)


Run = Callable[[Update, SanadContext, Any], Awaitable[None]]


@dataclass(frozen=True)
class ProfileAction:
    """What a vo: button does: whether it needs a profile (True), no profile (False) or
    either (None)."""

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
    await show_step(update, context, draft)


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
    await show_step(update, context, draft)


def _set_status(status: str) -> Run:
    """p / r: pause or resume the tasks sent to the volunteer."""

    async def run(update: Update, context: SanadContext, profile: volunteers.Volunteer) -> None:
        assert update.callback_query is not None and update.effective_user is not None
        t = context.t
        if not await _store_status(context, update.effective_user.id, status):
            await stale(update.callback_query, t)
            return
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
        reply_markup=confirm_keyboard(
            t.raw("Yes, delete it"), VolunteerPress("L"), t.raw("No, keep it"), VolunteerPress("k")
        ),
    )


async def _leave(update: Update, context: SanadContext, profile: volunteers.Volunteer) -> None:
    assert update.callback_query is not None and update.effective_user is not None
    await context.services.vetting.leave(update.effective_user.id)
    await update.callback_query.answer()
    log.info("A volunteer left")
    await menus.refresh(context, update.effective_user.id, volunteer=False)
    context.services.delivery.kick()  # the creators of their tasks, the promoted volunteers
    await reminders.sync(context.application, context.services)
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


ACTIONS = {
    "y": ProfileAction(_agree, profile=False),
    "n": ProfileAction(_not_now, profile=None),
    "e": ProfileAction(_edit, profile=True),
    "p": ProfileAction(_set_status(volunteers.PAUSED), profile=True),
    "r": ProfileAction(_set_status(volunteers.ACTIVE), profile=True),
    "l": ProfileAction(_ask_leave, profile=True),
    "L": ProfileAction(_leave, profile=True),
    "k": ProfileAction(_keep, profile=None),
}


# --- the volunteers' storage, one helper per call ----------------------------------------------


async def _profile(context: SanadContext, user_id: int) -> volunteers.Volunteer | None:
    return await context.services.volunteers.get(user_id)


async def _store_status(context: SanadContext, user_id: int, status: str) -> bool:
    return await context.services.volunteers.set_status(user_id, status)


@on_submit("volunteer")
async def submit(update: Update, context: SanadContext, draft: Draft) -> None:
    """Save the profile from a finished registration (or edit): a new one waits for the
    committee's approval, its card on the way to the group."""
    assert update.effective_user is not None
    services = context.services
    open_answers, personal = context.services.volunteer_form.split(draft.answers)
    user_id = update.effective_user.id
    new = await context.services.vetting.register(user_id, open_answers, personal)
    await services.intake.forget(user_id)
    await menus.refresh(context, user_id, volunteer=True)
    saved = await _profile(context, user_id)
    if new or (saved is not None and saved.status == volunteers.PENDING):
        text = context.t.raw(
            "Thank you: your volunteer profile is saved. The committee will look at it and you "
            "will be told when it is approved; then you will receive the tasks that fit you. "
            "Send /volunteer to see or change it."
        )
        services.delivery.kick()
    else:
        text = context.t.raw(
            "Thank you: your volunteer profile is saved. The committee will send you tasks that "
            "fit you. Send /volunteer to see or change it."
        )
    await reply(update, text)
