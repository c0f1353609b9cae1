"""/mydata and /delete_my_data: a family or a volunteer sees, and can erase, what is stored."""

from __future__ import annotations

import logging

from telegram import Update

from bot import followup_render, render
from bot.buttons import EraseChoice
from bot.context import SanadContext
from bot.feedback import mydata_lines
from bot.i18n import escape
from bot.render import bold, confirm_keyboard, field
from bot.support_text import family_lines
from handlers import activities, menus
from handlers.util import close_buttons, reply

log = logging.getLogger(__name__)


async def mydata_command(update: Update, context: SanadContext) -> None:
    """/mydata: everything stored about the person, in their language."""
    assert update.effective_user is not None
    t = context.t
    services = context.services
    stored = await services.privacy.collect(update.effective_user.id)
    if stored.empty:
        await reply(update, t.raw("Nothing is stored about you."))
        return
    tz = services.settings.tz
    form = services.form
    lines = [bold(t.raw("What is stored about you"))]
    if stored.language:
        lines.append(field(t.raw("Language"), escape(t.language_name(stored.language))))
    for case, personal, exchanges in stored.cases:
        lines += ["", render.details(t, form, case, personal, tz)]
        for question, answer in exchanges:
            lines.append(field(t.raw("Question"), escape(question)))
            if answer is not None:
                lines.append(field(t.raw("Answer"), render.free_answer(t, answer)))
        lines += family_lines(t, form, stored.support.get(case.id, []))
        lines += followup_render.family_lines(t, await services.followup.for_case(case.id))
    if stored.draft:
        draft_form = services.intake.forms.get(stored.draft.get("form", "intake"), form)
        answers = stored.draft.get("answers", {})
        lines += ["", bold(t.raw("Unfinished form"))]
        for step in draft_form.applicable(answers):
            if step.id in answers:
                lines.append(
                    field(
                        t.raw(step.label),
                        render.answer_text(t, draft_form, step, answers[step.id]),
                    )
                )
    if stored.volunteer:
        volunteer_form = services.volunteer_form
        lines += [
            "",
            render.volunteer_profile(
                t,
                volunteer_form,
                {**stored.volunteer.answers, **stored.volunteer.personal},
                stored.volunteer.status,
            ),
        ]
    lines += mydata_lines(t, stored.feedback, tz)
    lines += ["", t.raw("Send /delete_my_data to erase it.")]
    for chunk in render.chunks(lines):
        await reply(update, chunk)
    await activities.choice_message(update, context)


async def delete_command(update: Update, context: SanadContext) -> None:
    """/delete_my_data: ask, then erase."""
    t = context.t
    await reply(
        update,
        t.raw(
            "Do you want to erase your personal data? Your applications keep only anonymous "
            "figures for statistics; your name, phone, area and your own words are deleted, and "
            "so is your volunteer profile. This cannot be undone."
        ),
        reply_markup=confirm_keyboard(
            t.raw("Yes, erase my data"),
            EraseChoice("y"),
            t.pgettext("personal data", "No, keep it"),
            EraseChoice("n"),
        ),
    )


async def delete_button(update: Update, context: SanadContext, choice: EraseChoice) -> None:
    """pd:y erases, pd:n keeps."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    t = context.t
    services = context.services
    await query.answer()
    if choice.choice != "y":
        await close_buttons(query)
        await reply(update, t.raw("Good, nothing was changed."))
        return
    user_id = update.effective_user.id
    await services.privacy.erase(user_id)
    await close_buttons(query)
    services.intake.drop_cached(user_id)
    services.people.forget(user_id)
    log.info("A person's data was erased")
    await menus.refresh(context, user_id, volunteer=False)
    await reply(update, t.raw("Your personal data was erased. Thank you for your trust."))
    services.delivery.kick()
