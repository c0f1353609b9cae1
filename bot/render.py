"""Messages and keyboards, rendered in one language from domain objects.

Every value that comes from a person is HTML-escaped here (through :class:`Translator`), and
every button carries language-neutral callback_data, typed by its family (bot/buttons.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import when, workflow
from bot.buttons import (
    CallbackData,
    CardPress,
    DetailsPress,
    FormPress,
    TaskAnswer,
    VettingPress,
)
from bot.config import Contact
from bot.forms import (
    AREAS,
    CALL_ME,
    CHILDREN,
    HOUSEHOLD_SIZE,
    SKILLS,
    SUPPORT,
    Answers,
    Form,
    Step,
)
from bot.i18n import N_, Markup, Translator, escape
from bot.intake import REVIEW, Draft
from bot.storage.cases import Case
from bot.text import MAX_MESSAGE

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


def confirm_keyboard(
    yes_label: str, yes: CallbackData, no_label: str, no: CallbackData
) -> InlineKeyboardMarkup:
    """A confirmation before something that cannot be undone: Yes above No, one per row."""
    return InlineKeyboardMarkup([[yes.button(yes_label)], [no.button(no_label)]])


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
    return free_answer(t, value)


def free_answer(t: Translator, value: Any) -> str:
    """A person's own words: typed text, or a voice note (shown by its length)."""
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
    lines = [line for line in (recap(t, form, draft),) if line]
    lines.append(bold(t("Question {n} of {total}", n=t.number(n), total=t.number(total))))
    if draft.answers.get(CALL_ME) and n == 1:
        lines.append(
            t.raw("A member of the committee will call you and ask the questions on the phone.")
        )
    lines.append(escape(t.raw(step.prompt)))
    if step.kind == "number":
        low, high = form.number_bounds(step, draft.answers)
        lines.append(t("Tap a number or type it ({low} to {high}).", low=low, high=high))
    if step.id in draft.answers and step.kind not in ("multi", "choice"):
        current = answer_text(t, form, step, draft.answers[step.id])
        lines.append(t("Current answer: {answer}", answer=Markup(current)))
        lines.append(t.raw("Send a new answer, or press Keep to leave it as it is."))
    rows: list[list[InlineKeyboardButton]] = []

    def press(verb: str, arg: str = "") -> FormPress:
        return FormPress(draft.id, step.id, verb, arg)

    if step.kind == "multi":
        chosen = set(draft.pending)
        for option in step.options:
            mark = CHECKED if option.id in chosen else UNCHECKED
            rows.append([press("o", option.id).button(mark + t.raw(option.label))])
    elif step.kind == "choice":
        picked = draft.answers.get(step.id)
        for option in step.options:
            mark = CHECKED if option.id == picked else ""
            rows.append([press("o", option.id).button(mark + t.raw(option.label))])
    elif step.kind == "number":
        low, high = form.number_bounds(step, draft.answers)
        values = list(range(low, min(high, low + 7) + 1))
        rows.extend(
            [press("n", str(v)).button(t.number(v)) for v in values[i : i + 4]]
            for i in range(0, len(values), 4)
        )
    if step.kind == "phone":
        rows.append([press("p").button(t.raw("📱 Share this account's number"))])
    first = form.before(step.id, draft.answers) is None and not draft.editing
    if first and form.call_me and not draft.answers.get(CALL_ME):
        rows.append([press("c").button(t.raw("📞 Please call me instead"))])
    elif first and draft.answers.get(CALL_ME):
        rows.append([press("f").button(t.raw("📝 Answer the questions instead"))])
    last: list[InlineKeyboardButton] = []
    if not first:
        last.append(press("b").button(t.raw("« Back")))
    if step.optional:
        last.append(press("s").button(t.raw("Skip")))
    if step.id in draft.answers and step.kind not in ("multi", "choice"):
        last.append(press("k").button(t.raw("Keep")))
    if step.kind == "multi":
        last.append(press("d").button(t.raw("Done »")))
    if last:
        rows.append(last)
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def recap(t: Translator, form: Form, draft: Draft) -> str | None:
    """The answers tapped on the live message, one line each (None if there are none)."""
    rows = []
    for step_id in draft.answered_here:
        step = form.step(step_id)
        if step is not None and step_id in draft.answers:
            value = answer_text(t, form, step, draft.answers[step_id])
            rows.append("✅ " + field(t.raw(step.label), value))
    return "\n".join(rows) or None


def answered(t: Translator, form: Form, step: Step, value: Any, draft: Draft | None = None) -> str:
    """A question with its answer, for editing a question message once it is answered (below
    the answers tapped on it before, if ``draft`` says there were some)."""
    parts = [recap(t, form, draft) if draft is not None else None]
    parts += [
        escape(t.raw(step.prompt)),
        t("Your answer: {answer}", answer=Markup(answer_text(t, form, step, value))),
    ]
    return "\n\n".join(p for p in parts if p)


def review(t: Translator, form: Form, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """Every answer of a draft, each with a button to change it, then Submit or Cancel."""
    lines = [bold(t("Please check your answers")), ""]
    rows = []
    for step in form.applicable(draft.answers):
        value = draft.answers.get(step.id)
        lines.append(field(t.raw(step.label), answer_text(t, form, step, value)))
        label = t("Change: {question}", question=t.raw(step.label))
        rows.append([FormPress(draft.id, REVIEW, "e", step.id).button(label)])
    lines += ["", t.raw("You can change any answer. When everything is right, press Submit.")]
    rows.append(
        [
            FormPress(draft.id, REVIEW, "S", "").button(t.raw("✅ Submit")),
            FormPress(draft.id, REVIEW, "X", "").button(t.raw("✖️ Cancel")),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def household(t: Translator, by_role: Answers) -> str | None:
    """'5 people, 3 of them children', with the language's plural forms.

    ``by_role`` holds the answers keyed by role (:meth:`Form.by_role`), not by step id.
    """
    size = by_role.get(HOUSEHOLD_SIZE)
    if not isinstance(size, int):
        return None
    people = t.plural("{n} person", "{n} people", size)
    children = by_role.get(CHILDREN)
    if not isinstance(children, int):
        return people
    if children == 0:
        return t("{people}, no children", people=people)
    kids = t.plural("{n} child", "{n} children", children)
    return t("{people}, including {children}", people=people, children=kids)


DECLINE_REASONS = {
    "criteria": N_("The situation is not within the program's criteria"),
    "debt": N_("The program is not a debt relief program"),
    "information": N_("There is not enough information"),
    "other": N_("Other reason"),
}


def support_labels(t: Translator, form: Form, ids: list[str]) -> str:
    """Support types, by their labels in the form."""
    step = form.role(SUPPORT)
    labels = [t.raw(o.label) for i in ids if (o := step.option(i)) is not None]
    return escape(t.join(labels))


def decision_lines(t: Translator, form: Form, case: Case, tz: ZoneInfo) -> list[str]:
    """Who took and who decided a case, and what: no personal data."""
    lines = []
    if case.assignee_name:
        lines.append(field(t.raw("Taken by"), escape(case.assignee_name)))
    if case.decided_by_name and case.decided_at and case.status != "in_review":
        when = escape(t.datetime(case.decided_at, tz))
        lines.append(
            field(
                t.raw("Decided by"),
                t("{name}, {date}", name=case.decided_by_name, date=Markup(when)),
            )
        )
    facts = case.decision or {}
    if case.status in ("approved", "closed") and facts.get("support"):
        lines.append(field(t.raw("Support approved"), support_labels(t, form, facts["support"])))
    if case.status in ("approved", "closed") and facts.get("until"):
        lines.append(field(t.raw("Until"), escape(t.date(date.fromisoformat(facts["until"])))))
    if case.status in ("declined", "closed") and facts.get("reason") in DECLINE_REASONS:
        reason = DECLINE_REASONS[facts["reason"]]
        lines.append(field(t.raw("Reason"), escape(t.raw(reason))))
    return lines


# On the card and the details of a family that pressed "Please call me instead".
CALL_ME_LINE = N_("📞 The family asked to be called: please ask the questions on the phone.")


def card(t: Translator, form: Form, case: Case, visible: Answers, tz: ZoneInfo) -> str:
    """The committee group's card, from the answers the group may see (``form.card_steps``)."""
    title = (
        t("New case {ref}", ref=t.isolate(case.ref))
        if case.status == "new"
        else t("Case {ref}", ref=t.isolate(case.ref))
    )
    lines = [bold(title), ""]
    if visible.get(CALL_ME):
        lines.append(escape(t.raw(CALL_ME_LINE)))
    size_line = household(t, form.by_role(visible))
    for step in form.card_steps():
        if step.id not in visible or (size_line and step.id == form.role_id(CHILDREN)):
            continue
        if size_line and step.id == form.role_id(HOUSEHOLD_SIZE):
            lines.append(field(t.raw("Household"), size_line))
        else:
            value = answer_text(t, form, step, visible[step.id])
            lines.append(field(t.raw(step.label), value))
    lines.append(field(t.raw("Submitted"), escape(t.datetime(case.created_at, tz))))
    lines.append(field(t.raw("Status"), bold(escape(status_label(t, case.status)))))
    lines += decision_lines(t, form, case, tz)
    if case.sealed is None:
        lines.append(escape(t.raw("The family's personal data was erased at their request.")))
    return "\n".join(lines)


CARD_BUTTONS = (
    ("take", N_("🙋 Take")),
    ("approve", N_("✅ Approve")),
    ("decline", N_("✖️ Decline")),
    ("ask", N_("❓ Ask for information")),
    ("close", N_("📁 Close")),
    ("reopen", N_("↩️ Reopen")),
)


def case_keyboard(t: Translator, case: Case) -> InlineKeyboardMarkup:
    """Details and every action the case's status allows (checked again on the server)."""
    possible = workflow.allowed(case.status)
    actions = [
        CardPress(action, case.ref).button(t.raw(label))
        for action, label in CARD_BUTTONS
        if action in possible
    ]
    rows = [[DetailsPress(case.ref).button(t.raw("🔒 Details"))]]
    rows += [actions[i : i + 2] for i in range(0, len(actions), 2)]
    return InlineKeyboardMarkup(rows)


def details(t: Translator, form: Form, case: Case, personal: Answers, tz: ZoneInfo) -> str:
    """The full case, for an authorised member's private chat."""
    answers = form.upgrade({**case.answers, **personal})
    lines = [bold(t("Case {ref}", ref=t.isolate(case.ref))), ""]
    if answers.get(CALL_ME):
        lines.append(escape(t.raw(CALL_ME_LINE)))
    for step in form.applicable(answers):
        if step.id in answers:
            value = answer_text(t, form, step, answers[step.id])
            lines.append(field(t.raw(step.label), value))
    lines.append(field(t.raw("Language"), escape(t.language_name(case.language))))
    lines.append(field(t.raw("Submitted"), escape(t.datetime(case.created_at, tz))))
    lines.append(field(t.raw("Status"), escape(status_label(t, case.status))))
    lines += ["", t.raw("Confidential: do not forward or share this message.")]
    return "\n".join(lines)


def expires_note(t: Translator, ttl: timedelta) -> str:
    """The line that tells a member when the bot deletes the Details it sent them."""
    minutes = max(1, round(ttl.total_seconds() / 60))
    return escape(
        t.plural(
            "These messages are deleted from this chat in {n} minute.",
            "These messages are deleted from this chat in {n} minutes.",
            minutes,
        )
    )


def contact_line(t: Translator, contact: Contact) -> str | None:
    """How to reach the committee (its phone and hours, when set), or None.

    The hours are the committee's own words, in whatever script it wrote them: isolated, so
    that an English text keeps its order inside an Arabic line.
    """
    if contact.phone and contact.hours:
        return t(
            "To talk to the committee, call {phone} ({hours}).",
            phone=t.isolate(contact.phone),
            hours=t.isolate(contact.hours),
        )
    if contact.phone:
        return t("To talk to the committee, call {phone}.", phone=t.isolate(contact.phone))
    if contact.hours:
        return t("The committee answers the phone: {hours}.", hours=t.isolate(contact.hours))
    return None


def next_step(t: Translator, form: Form, case: Case, contact: Contact) -> str:
    """What happens next for a case, in one line, by its status."""
    facts = case.decision or {}
    if case.status == "new":
        return t.plural(
            "Next: the committee will look at it within {n} day.",
            "Next: the committee will look at it within {n} days.",
            contact.review_days,
        )
    if case.status == "in_review":
        return escape(t.raw("Next: a committee member is studying it and may call you."))
    if case.status == "info_requested":
        return escape(
            t.raw(
                "Next: the committee asked you a question. Press Answer under its message, "
                "then send your answer as a message or a voice note."
            )
        )
    if case.status == "approved":
        support = Markup(support_labels(t, form, facts.get("support", [])))
        if facts.get("until"):
            return t(
                "Next: your support ({support}) is planned until {date}. A member of the "
                "committee will contact you.",
                support=support,
                date=t.date(date.fromisoformat(facts["until"])),
            )
        return t(
            "Next: your support ({support}) is approved. A member of the committee will "
            "contact you.",
            support=support,
        )
    if case.status == "declined":
        reason = DECLINE_REASONS.get(facts.get("reason", ""), DECLINE_REASONS["other"])
        line = t("Reason: {reason}.", reason=t.raw(reason))
        contact_text = contact_line(t, contact)
        return f"{line} {contact_text}" if contact_text else line
    return escape(
        t.raw("This application is closed. If your situation changes, send /apply to apply again.")
    )


def status_list(
    t: Translator,
    form: Form,
    cases: Sequence[Case],
    tz: ZoneInfo,
    has_draft: bool,
    contact: Contact,
) -> str:
    """A family's view of its cases, each with what happens next."""
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
            lines.append(next_step(t, form, case, contact))
    else:
        lines.append(t.raw("You have not submitted an application yet. Send /apply to start."))
    if has_draft:
        lines += ["", t.raw("You also have an unfinished application: send /apply to continue.")]
    return "\n".join(lines)


# What a declined family can do next, by the reason of the decline.
DECLINE_NEXT = {
    "information": N_(
        "The committee did not have enough information to support your application. If the "
        "committee asks you a question, please answer it here; you can also apply again with "
        "/apply and tell us more about your situation."
    ),
    "debt": N_(
        "This program gives temporary support to families in the most critical "
        "situations, for a limited time. It cannot pay debts or loans. If your situation "
        "changes, you can apply again with /apply; the committee can also tell you where "
        "to turn for other help."
    ),
    "criteria": N_(
        "If your situation changes, you can apply again with /apply. You can also ask the "
        "committee about other help in the community."
    ),
    "other": N_(
        "If your situation changes, you can apply again with /apply. You can also ask the "
        "committee about other help in the community."
    ),
}


def family_notice(
    t: Translator,
    form: Form,
    case: Case,
    notice: str,
    message: str | None,
    question: str | None = None,
    contact: Contact | None = None,
) -> str:
    """What the family is told, in its own language, whatever the member's language.

    A decline says what the family can do next for its reason, and how to reach the
    committee (``contact``, when its phone or hours are set).
    """
    ref = t.isolate(case.ref)
    facts = case.decision or {}
    parts: list[str] = []
    if notice in ("approve", "renew"):
        until = escape(t.date(date.fromisoformat(facts["until"])))
        if notice == "approve":
            parts.append(bold(t("Good news about your application {ref}", ref=ref)))
            parts.append(
                t(
                    "The committee approved: {support}.",
                    support=Markup(support_labels(t, form, facts.get("support", []))),
                )
            )
        else:
            parts.append(bold(t("Your support is extended ({ref})", ref=ref)))
        parts.append(t("The support is planned until {date}.", date=Markup(until)))
    elif notice == "decline":
        parts.append(bold(t("About your application {ref}", ref=ref)))
        parts.append(
            t.raw(
                "The committee studied your application carefully. We are sorry: it cannot be "
                "supported by this program."
            )
        )
        reason = DECLINE_REASONS.get(facts.get("reason", ""), DECLINE_REASONS["other"])
        parts.append(field(t.raw("Reason"), escape(t.raw(reason))))
    elif notice == "question":
        parts.append(bold(t("A question about your application {ref}", ref=ref)))
        parts.append(t.raw("The committee needs more information to study your application:"))
        parts.append(f"<blockquote>{escape(question or '')}</blockquote>")
        parts.append(t.raw("Press Answer, then send your answer as a message or a voice note."))
    if message:
        parts.append(t.raw("Message from the committee:"))
        parts.append(f"<blockquote>{escape(message)}</blockquote>")
    if notice == "approve":
        parts.append(t.raw("A member of the committee will contact you about the next steps."))
    if notice == "decline":
        next_text = DECLINE_NEXT.get(facts.get("reason", ""), DECLINE_NEXT["other"])
        parts.append(escape(t.raw(next_text)))
        reach = contact_line(t, contact) if contact is not None else None
        if reach:
            parts.append(reach)
    return "\n\n".join(parts)


def answer_notice(t: Translator, case: Case, answer: dict[str, object]) -> str:
    """A member is told that the family answered their question."""
    ref = t.isolate(case.ref)
    lines = [bold(t("The family answered your question about case {ref}", ref=ref))]
    if "voice" in answer:
        lines.append(free_answer(t, answer))
        lines.append(t("Send /case {ref} to receive it.", ref=Markup(escape(case.ref))))
    else:
        lines.append(f"<blockquote>{free_answer(t, answer)}</blockquote>")
    return "\n\n".join(lines)


def support_end(t: Translator, form: Form, case: Case) -> str:
    """The committee is reminded that a support period ends."""
    facts = case.decision or {}
    until = escape(t.date(date.fromisoformat(facts["until"]))) if facts.get("until") else ""
    return "\n\n".join(
        [
            bold(t("Support period ends: case {ref}", ref=t.isolate(case.ref))),
            t(
                "The support approved until {date} ends now. Renew it or close the case.",
                date=Markup(until),
            ),
        ]
    )


def chunks(lines: list[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Whole lines grouped into messages that fit Telegram's limit (each line is bounded)."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + len(line) + 1 > limit:
            out.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        out.append("\n".join(current))
    return out


VOLUNTEER_STATUSES = {
    "pending": N_("Waiting for approval"),
    "active": N_("Active"),
    "paused": N_("Paused"),
    "suspended": N_("Suspended"),
}
# What a volunteer's own profile adds under a status that is not theirs to change.
VOLUNTEER_STATUS_NOTES = {
    "pending": N_(
        "The committee will look at your registration: you will receive tasks once "
        "it approves you."
    ),
    "suspended": N_("The committee has suspended your profile: you receive no tasks."),
}


def volunteer_status(t: Translator, status: str) -> str:
    """A volunteer's status in the reader's language."""
    return t.raw(VOLUNTEER_STATUSES.get(status, status))


def volunteer_profile(t: Translator, form: Form, answers: Answers, status: str) -> str:
    """A volunteer's own view of everything stored about them."""
    lines = [bold(t("Your volunteer profile")), ""]
    for step in form.applicable(answers):
        if step.id in answers:
            lines.append(field(t.raw(step.label), answer_text(t, form, step, answers[step.id])))
    lines.append(field(t.raw("Status"), escape(volunteer_status(t, status))))
    if status in VOLUNTEER_STATUS_NOTES:
        lines += ["", escape(t.raw(VOLUNTEER_STATUS_NOTES[status]))]
    return "\n".join(lines)


def volunteer_facts(t: Translator, form: Form, answers: Answers) -> list[str]:
    """The matching facts of a profile (skills, areas, languages, availability): never a
    personal answer, so that they can be shown in the committee group."""
    return [
        field(t.raw(step.label), answer_text(t, form, step, answers[step.id]))
        for step in form.applicable(answers)
        if not step.personal and step.id in answers
    ]


def volunteer_card(t: Translator, form: Form, ref: str, answers: Answers | None) -> str:
    """A new volunteer's card in the committee group: their reference and matching facts
    (``answers`` None: the profile is gone)."""
    lines = [bold(t("New volunteer {ref}", ref=ref))]
    if answers is not None:
        lines += ["", *volunteer_facts(t, form, answers)]
    return "\n".join(lines)


def vetting_keyboard(t: Translator, ref: str) -> InlineKeyboardMarkup:
    """Approve, Decline and Details on a pending volunteer's card."""
    return InlineKeyboardMarkup(
        [
            [
                VettingPress("a", ref).button(t.raw("✅ Approve")),
                VettingPress("d", ref).button(t.raw("✖️ Decline")),
            ],
            [VettingPress("i", ref).button(t.raw("🔒 Details"))],
        ]
    )


def volunteer_details(t: Translator, form: Form, ref: str, volunteer: Any) -> str:
    """Everything about a volunteer, name and phone included: for a member's private chat."""
    answers = {**volunteer.answers, **volunteer.personal}
    lines = [bold(t("Volunteer {ref}", ref=ref)), ""]
    for step in form.applicable(answers):
        if step.id in answers:
            lines.append(field(t.raw(step.label), answer_text(t, form, step, answers[step.id])))
    lines.append(field(t.raw("Status"), escape(volunteer_status(t, volunteer.status))))
    return "\n".join(lines)


def task_text(t: Translator, form: Form, task: Any, tz: ZoneInfo, *, places: bool = True) -> str:
    """A task as volunteers see it: what, where, when, for how long, never family data.

    The when is relative to now ("tomorrow, Wednesday 10:00"), the duration in hours.
    ``places``: how many places are left, for those who may still take one (an offer, a
    list of open tasks), not for those who hold one (a reminder, /mytasks).
    """
    skill = form.role(SKILLS).option(task.skill)
    area = form.role(AREAS).option(task.area)
    lines = [
        bold(escape(task.title)),
        escape(task.description),
        "",
        field(t.raw("Skill needed"), escape(t.raw(skill.label) if skill else task.skill)),
        field(t.raw("Area"), escape(t.raw(area.label) if area else task.area)),
        field(t.raw("When"), escape(when.when(t, task.starts_at, tz))),
        field(t.raw("Duration"), escape(when.duration(t, task.duration_min))),
    ]
    if places:
        free = max(task.needed - task.taken, 0)
        lines.append(field(t.raw("Places"), t.plural("{n} place left", "{n} places left", free)))
    return "\n".join(lines)


def task_next(t: Translator, offsets: Sequence[timedelta]) -> str:
    """What comes for a volunteer who holds a place: who gives the address (the committee,
    never a family's name or phone) and when the reminders come."""
    lines = [escape(t.raw("The committee will give you the exact address before the task."))]
    if offsets:
        lines.append(
            t(
                "You will get a reminder {when} before it starts.",
                when=when.durations(t, offsets),
            )
        )
    return "\n\n".join(lines)


def task_joined(t: Translator, offsets: Sequence[timedelta]) -> str:
    """A volunteer's Accept took a place: thanks, then what comes (:func:`task_next`)."""
    return "\n\n".join(
        [
            bold(t("Thank you! You are in.")),
            task_next(t, offsets),
            escape(t.raw("/mytasks lists your tasks.")),
        ]
    )


def task_choices(ref: str, *choices: tuple[str, str]) -> InlineKeyboardMarkup:
    """A volunteer's answers about task ``ref`` on one row: (verb, translated label) each."""
    return InlineKeyboardMarkup([[TaskAnswer(verb, ref).button(label) for verb, label in choices]])


def task_keyboard(t: Translator, ref: str) -> InlineKeyboardMarkup:
    """Accept or Decline a task."""
    return task_choices(
        ref, ("a", t.raw("✅ Accept")), ("d", t.pgettext("task offer", "✖️ Decline"))
    )
