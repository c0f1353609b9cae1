"""The follow-up's messages: the family's question and its buttons, and what members read.

Two audiences, two depths. The committee group (the support-end reminder) reads only whether
the family answered: its choice ("things are worse") is what the family said about itself, so
the choice and the words are shown only in a member's private chat (``/case REF``), with the
case's other personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.buttons import FollowupPress
from bot.i18n import N_, Markup, Translator, escape
from bot.render import bold, field
from bot.storage.followups import BETTER, SAME, WORSE, Followup

# The buttons' verbs and the choices they record.
VERBS = {"b": BETTER, "s": SAME, "w": WORSE}
SKIP = "k"

BUTTONS = {BETTER: N_("🙂 Better"), SAME: N_("😐 The same"), WORSE: N_("🙁 Worse")}
# How members read the family's choice: "things are better".
SAID = {
    BETTER: N_("The family said: things are better"),
    SAME: N_("The family said: things are the same"),
    WORSE: N_("The family said: things are worse"),
}
NOT_ANSWERED = N_("The family has not answered the follow-up yet.")


def question(t: Translator, ref: str, until_text: str) -> str:
    """The family's question, in its language: how things are now, before the period ends."""
    return "\n\n".join(
        [
            bold(escape(t.raw("How are things now?"))),
            t(
                "The support of the committee for your case {ref} ends on {date}. How are "
                "things for your family now, compared with before?",
                ref=t.isolate(ref),
                date=until_text,
            ),
        ]
    )


def keyboard(t: Translator, followup_id: int) -> InlineKeyboardMarkup:
    """Better / The same / Worse, one per row."""
    return InlineKeyboardMarkup(
        [
            [FollowupPress(verb, followup_id).button(t.raw(BUTTONS[choice]))]
            for verb, choice in VERBS.items()
        ]
    )


def words_prompt(t: Translator) -> str:
    """After the choice: the family's words, if it wants to add any."""
    return escape(
        t.raw(
            "Thank you. If you wish, write a few words for the committee about how things "
            "are now, or press Skip."
        )
    )


def skip_keyboard(t: Translator, followup_id: int) -> InlineKeyboardMarkup:
    """The words prompt's one button."""
    return InlineKeyboardMarkup([[FollowupPress(SKIP, followup_id).button(t.raw("Skip"))]])


def answered_line(t: Translator, choice: str) -> str:
    """What the question shows once answered, its buttons gone."""
    return bold(t("Your answer: {answer}", answer=t.raw(BUTTONS[choice])))


def group_line(t: Translator, followup: Followup | None, ref: str) -> str | None:
    """The line of the support-end reminder in the committee group: answered or not, never
    the choice nor the words (members read both with /case in private). None when the
    family was not asked."""
    if followup is None or followup.asked_at is None:
        return None
    if followup.answer is None:
        return escape(t.raw(NOT_ANSWERED))
    return t("The family answered the follow-up: see /case {ref}", ref=ref)


def case_lines(t: Translator, found: Sequence[Followup], tz: ZoneInfo) -> list[str]:
    """The follow-ups in a member's private view of the case, with the family's words."""
    lines = []
    for followup in found:
        label = t("Follow-up, support until {date}", date=t.date(followup.until))
        if followup.asked_at is None:
            value = t("To be asked on {date}.", date=t.date(followup.due_at.astimezone(tz).date()))
        elif followup.answer is None:
            value = escape(t.raw(NOT_ANSWERED))
        else:
            value = escape(t.raw(SAID[followup.answer]))
            if followup.words:
                value += Markup(" — «{}»").format(t.isolate(followup.words))
        lines.append(field(label, value))
    return lines


def family_lines(t: Translator, found: Sequence[Followup]) -> list[str]:
    """The family's own answers, in /mydata: its choice and its words."""
    lines = []
    for followup in found:
        if followup.answer is None:
            continue
        value = escape(t.raw(BUTTONS[followup.answer]))
        if followup.words:
            value += Markup(" — «{}»").format(t.isolate(followup.words))
        lines.append(
            field(t("Follow-up, support until {date}", date=t.date(followup.until)), value)
        )
    return lines
