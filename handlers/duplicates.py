"""Possible duplicates in Details and /case: the flags, and the members' answers to them.

Each open flag is one message with "Not a duplicate" and "Merge" (du:<n|m>:<flag>), sent
with the rest of the case to the member's private chat only, never to the group. A press is
authorised (members only, audited otherwise), applied once in the database, and the message
then shows the answer without its buttons; a second press, or one on an old copy of the
message, changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from telegram import CallbackQuery, InlineKeyboardMarkup, Update

from bot import duplicates, workflow
from bot.buttons import DuplicatePress
from bot.context import SanadContext
from bot.errors import CaseNotFound
from bot.i18n import N_, Translator
from bot.storage import duplicates as repo
from bot.storage.cases import Case
from bot.storage.duplicates import Flag
from handlers.members import alert, member_press, moved_on
from handlers.util import close_buttons, edit_in_place

REASONS = {
    duplicates.SAME_PHONE: N_("same phone"),
    duplicates.SAME_NAME_AREA: N_("same name and area"),
    duplicates.BOTH: N_("same phone, name and area"),
}


def _sides(flag: Flag, seen_from: int | None) -> tuple[str, str]:
    """The case shown and the other one: the flag is read from either of its two cases
    (from the newer one, flagged, unless ``seen_from`` is the earlier one)."""
    if seen_from == flag.other_id:
        return flag.other_ref, flag.case_ref
    return flag.case_ref, flag.other_ref


def flag_text(t: Translator, flag: Flag, seen_from: int | None = None) -> str:
    """ "Possible duplicate of K7P-4RD (same phone)", for the member's private chat."""
    ref, other = _sides(flag, seen_from)
    return t(
        "⚠️ Case {ref}: possible duplicate of {other} ({reason}).",
        ref=t.isolate(ref),
        other=t.isolate(other),
        reason=t.raw(REASONS[flag.reason]),
    )


def settled_text(t: Translator, flag: Flag, seen_from: int | None = None) -> str:
    """What became of a flag once a member answered it."""
    if flag.state == repo.MERGED:
        return t(
            "Merged: case {ref} was closed as a duplicate of {other}.",
            ref=t.isolate(flag.case_ref),
            other=t.isolate(flag.other_ref),
        )
    _, other = _sides(flag, seen_from)
    return t("Not a duplicate of {other}: a member checked.", other=t.isolate(other))


def flag_keyboard(t: Translator, flag: Flag, seen_from: int | None = None) -> InlineKeyboardMarkup:
    """The member's two answers to an open flag, the same on both of its cases: "Merge"
    always closes the newer one, named when the earlier one is shown."""
    if seen_from == flag.other_id:
        merge = t("Merge: close case {ref}", ref=t.isolate(flag.case_ref))
    else:
        merge = t.raw("Merge: close this case")
    return InlineKeyboardMarkup(
        [
            [DuplicatePress("n", flag.id).button(t.raw("Not a duplicate"))],
            [DuplicatePress("m", flag.id).button(merge)],
        ]
    )


async def screens(
    context: SanadContext, t: Translator, case: Case
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The messages Details and /case add for the flags naming the case, as the newer case
    or the earlier one: one per open flag, with its buttons, and one listing those already
    answered (none when no flag names the case)."""
    flags = await context.services.duplicates.flags(case.id)
    shown: list[tuple[str, InlineKeyboardMarkup | None]] = [
        (flag_text(t, f, case.id), flag_keyboard(t, f, case.id))
        for f in flags
        if f.state == repo.OPEN
    ]
    settled = [settled_text(t, f, case.id) for f in flags if f.state != repo.OPEN]
    if settled:
        shown.append(("\n".join(settled), None))
    return shown


async def duplicate_button(update: Update, context: SanadContext) -> None:
    """du:<n|m>:<flag>, pressed in a member's private chat."""
    press = await member_press(update, context, DuplicatePress)
    if press is None:
        return
    query, t, service = press.query, press.t, context.services.duplicates
    flag = await service.get(press.data.flag)
    if flag is None:
        await query.answer(t.raw("This case no longer exists."), show_alert=True)
        await close_buttons(query)
        return
    if flag.state != repo.OPEN:
        await _answered_before(query, t, flag)
        return
    if press.data.verb == "n":
        settled = await service.dismiss(flag.id, press.member)
        result = None if settled is None else replace(settled, state=repo.DISMISSED)
    else:
        try:
            merged = await service.merge(flag.id, press.member)
        except (workflow.InvalidTransition, CaseNotFound):
            case = await context.services.review.find(flag.case_ref)
            gone = t.raw("This case no longer exists.")
            await query.answer(
                alert(gone if case is None else moved_on(t, context, case)), show_alert=True
            )
            return
        result = None if merged is None else replace(merged[0], state=repo.MERGED)
    if result is None:  # another member answered in between
        fresh = await service.get(flag.id)
        await _answered_before(query, t, fresh or flag)
        return
    outcome = settled_text(t, result)
    await query.answer(alert(outcome))
    await edit_in_place(query, f"{flag_text(t, flag)}\n{outcome}")
    context.services.delivery.kick()


async def _answered_before(query: CallbackQuery, t: Translator, flag: Flag) -> None:
    """A press on a flag answered already: say what became of it, and drop the buttons."""
    await query.answer(alert(settled_text(t, flag)), show_alert=True)
    await close_buttons(query)
