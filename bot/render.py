"""Messages and keyboards, rendered in one language from domain objects.

Every value that comes from a person is HTML-escaped here (through :class:`Translator`), and
every button carries language-neutral callback_data built with :func:`callback_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.forms import Answers, Form, Step
from bot.i18n import N_, Markup, Translator, escape
from bot.intake import REVIEW, Draft
from bot.storage.cases import Case
from bot.text import callback_data

CHECKED, UNCHECKED = "☑️ ", "▫️ "

STATUS_LABELS = {
    "new": N_("New"),
    "in_review": N_("In review"),
    "info_requested": N_("More information requested"),
    "approved": N_("Approved"),
    "declined": N_("Declined"),
    "closed": N_("Closed"),
}


def bold(html: str) -> str:
    """Safe HTML made bold."""
    return f"<b>{html}</b>"


def field(label: str, value_html: str) -> str:
    """A 'Label: value' line; the label is escaped, the value is already safe HTML."""
    return f"<b>{escape(label)}:</b> {value_html}"


def button(label: str, *parts: object) -> InlineKeyboardButton:
    """An inline button with checked callback_data."""
    return InlineKeyboardButton(label, callback_data=callback_data(*parts))


def status_label(t: Translator, status: str) -> str:
    """A case status in the reader's language."""
    return t.raw(STATUS_LABELS.get(status, status))


def answer_text(t: Translator, form: Form, step: Step, value: Any) -> str:
    """One answer, rendered as safe HTML."""
    if value is None:
        return escape(t.raw("(skipped)"))
    if step.kind in ("multi", "choice"):
        ids = value if isinstance(value, list) else [value]
        labels = [t.raw(o.label) for i in ids if (o := step.option(i)) is not None]
        return escape(t.join(labels))
    if step.kind == "number":
        return escape(t.number(int(value)))
    if step.kind == "phone":
        return t.isolate(value)
    if isinstance(value, dict) and "voice" in value:
        seconds = int(value.get("duration") or 0)
        return t.plural("Voice note, {n} second", "Voice note, {n} seconds", seconds)
    if isinstance(value, dict):
        return escape(value.get("text", ""))
    return escape(value)


def question(t: Translator, form: Form, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """The current question of a draft, with its buttons."""
    step = form.step(draft.step)
    assert step is not None
    n, total = form.position(step.id, draft.answers)
    lines = [bold(t("Question {n} of {total}", n=t.number(n), total=t.number(total)))]
    lines.append(escape(t.raw(step.prompt)))
    if step.kind == "number":
        low, high = form.number_bounds(step, draft.answers)
        lines.append(t("Tap a number or type it ({low} to {high}).", low=low, high=high))
    if step.id in draft.answers and step.kind not in ("multi", "choice"):
        current = answer_text(t, form, step, draft.answers[step.id])
        lines.append(t("Current answer: {answer}", answer=Markup(current)))
        lines.append(t.raw("Send a new answer, or press Keep to leave it as it is."))
    rows: list[list[InlineKeyboardButton]] = []
    prefix = ("in", draft.id, step.id)
    if step.kind == "multi":
        chosen = set(draft.pending)
        for option in step.options:
            mark = CHECKED if option.id in chosen else UNCHECKED
            rows.append([button(mark + t.raw(option.label), *prefix, "o", option.id)])
    elif step.kind == "choice":
        picked = draft.answers.get(step.id)
        for option in step.options:
            mark = CHECKED if option.id == picked else ""
            rows.append([button(mark + t.raw(option.label), *prefix, "o", option.id)])
    elif step.kind == "number":
        low, high = form.number_bounds(step, draft.answers)
        values = list(range(low, min(high, low + 7) + 1))
        rows.extend(
            [button(t.number(v), *prefix, "n", v) for v in values[i : i + 4]]
            for i in range(0, len(values), 4)
        )
    last: list[InlineKeyboardButton] = []
    if form.before(step.id, draft.answers) is not None or draft.editing:
        last.append(button(t.raw("« Back"), *prefix, "b", ""))
    if step.kind == "description" and step.optional:
        last.append(button(t.raw("Skip"), *prefix, "s", ""))
    if step.id in draft.answers and step.kind not in ("multi", "choice"):
        last.append(button(t.raw("Keep"), *prefix, "k", ""))
    if step.kind == "multi":
        last.append(button(t.raw("Done »"), *prefix, "d", ""))
    if last:
        rows.append(last)
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def answered(t: Translator, form: Form, step: Step, value: Any) -> str:
    """A question with its answer, for editing a question message once it is answered."""
    return "\n\n".join(
        [
            escape(t.raw(step.prompt)),
            t("Your answer: {answer}", answer=Markup(answer_text(t, form, step, value))),
        ]
    )


def review(t: Translator, form: Form, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """Every answer of a draft, each with a button to change it, then Submit or Cancel."""
    lines = [bold(t("Please check your answers")), ""]
    rows = []
    for step in form.applicable(draft.answers):
        value = draft.answers.get(step.id)
        lines.append(field(t.raw(step.label), answer_text(t, form, step, value)))
        label = t("Change: {question}", question=t.raw(step.label))
        rows.append([button(label, "in", draft.id, REVIEW, "e", step.id)])
    lines += ["", t.raw("You can change any answer. When everything is right, press Submit.")]
    rows.append(
        [
            button(t.raw("✅ Submit"), "in", draft.id, REVIEW, "S", ""),
            button(t.raw("✖️ Cancel"), "in", draft.id, REVIEW, "X", ""),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def household(t: Translator, answers: Answers) -> str | None:
    """'5 people, 3 of them children', with the language's plural forms."""
    size = answers.get("household_size")
    if not isinstance(size, int):
        return None
    people = t.plural("{n} person", "{n} people", size)
    children = answers.get("children")
    if not isinstance(children, int):
        return people
    if children == 0:
        return t("{people}, no children", people=people)
    kids = t.plural("{n} child", "{n} children", children)
    return t("{people}, including {children}", people=people, children=kids)


def card(t: Translator, form: Form, case: Case, visible: Answers, tz: ZoneInfo) -> str:
    """The committee group's card, from the answers the group may see (``form.card_steps``)."""
    lines = [bold(t("New case {ref}", ref=t.isolate(case.ref))), ""]
    size_line = household(t, visible)
    for step in form.card_steps():
        if step.id not in visible or (size_line and step.id == "children"):
            continue
        if size_line and step.id == "household_size":
            lines.append(field(t.raw("Household"), size_line))
        else:
            value = answer_text(t, form, step, visible[step.id])
            lines.append(field(t.raw(step.label), value))
    lines.append(field(t.raw("Submitted"), escape(t.datetime(case.created_at, tz))))
    lines.append(field(t.raw("Status"), escape(status_label(t, case.status))))
    return "\n".join(lines)


def card_keyboard(t: Translator, case: Case) -> InlineKeyboardMarkup:
    """The card's buttons."""
    return InlineKeyboardMarkup([[button(t.raw("🔒 Details"), "cd", case.ref)]])


def details(t: Translator, form: Form, case: Case, personal: Answers, tz: ZoneInfo) -> str:
    """The full case, for an authorised member's private chat."""
    answers = {**case.answers, **personal}
    lines = [bold(t("Case {ref}", ref=t.isolate(case.ref))), ""]
    for step in form.applicable(answers):
        if step.id in answers:
            value = answer_text(t, form, step, answers[step.id])
            lines.append(field(t.raw(step.label), value))
    lines.append(field(t.raw("Language"), escape(case.language)))
    lines.append(field(t.raw("Submitted"), escape(t.datetime(case.created_at, tz))))
    lines.append(field(t.raw("Status"), escape(status_label(t, case.status))))
    lines += ["", t.raw("Confidential: do not forward or share this message.")]
    return "\n".join(lines)


def status_list(t: Translator, cases: Sequence[Case], tz: ZoneInfo, has_draft: bool) -> str:
    """A family's view of its cases."""
    lines = []
    if cases:
        lines.append(
            t.plural("You have {n} application:", "You have {n} applications:", len(cases))
        )
        for case in cases:
            lines.append(
                t(
                    "• {ref}: {status} (submitted {date})",
                    ref=t.isolate(case.ref),
                    status=status_label(t, case.status),
                    date=t.datetime(case.created_at, tz),
                )
            )
    else:
        lines.append(t.raw("You have not submitted an application yet. Send /apply to start."))
    if has_draft:
        lines += ["", t.raw("You also have an unfinished application: send /apply to continue.")]
    return "\n".join(lines)
