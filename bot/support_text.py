"""Support given, in words: the card's one line, a case's history for members, the family's
question and its /mydata lines, and the alert to the member who recorded it.

Who reads what: the committee group only the count and the last day; the family the kind of
support and the day (never the amount or the member's note); members, privately, all of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from babel.numbers import format_currency, format_decimal

from bot.forms import SUPPORT, Form
from bot.i18n import N_, Markup, Translator, escape
from bot.render import bold, field
from bot.storage.cases import Case
from bot.storage.support import NOT_RECEIVED, PENDING, RECEIVED, UNANSWERED, Summary, Support
from bot.support import LATE_NOT_RECEIVED, NO_ANSWER, OTHER

OTHER_LABEL = N_("Other support")
RECEIPTS = {
    PENDING: N_("waiting for the family's answer"),
    RECEIVED: N_("received"),
    NOT_RECEIVED: N_("not received"),
    UNANSWERED: N_("no answer from the family"),
}
# An alert shows the last few deliveries, their words shortened: with the longest notes and
# names, in either language, it stays well under Telegram's 4,096 characters.
ALERT_LAST = 5
ALERT_NOTE = 100
ALERT_OTHER = 60


def kind_label(t: Translator, form: Form, kind: str) -> str:
    """A support type by its label in the form ("Other support" for what is none of them)."""
    option = form.role(SUPPORT).option(kind) if kind != OTHER else None
    return t.raw(option.label if option is not None else OTHER_LABEL)


def what(t: Translator, form: Form, record: Support) -> str:
    """What was given, for members (HTML): the kind, the member's words for "other", and the
    amount."""
    text = escape(kind_label(t, form, record.kind))
    if record.kind == OTHER and record.other:
        text += escape(": " + record.other)
    if record.amount is not None:
        text += ", " + t.isolate(amount_text(t, record))
    return text


def amount_text(t: Translator, record: Support) -> str:
    """An amount in its currency, written the language's way."""
    assert record.amount is not None
    if record.currency:
        return format_currency(record.amount, record.currency, locale=t.locale)
    return format_decimal(record.amount, locale=t.locale)


def card_line(t: Translator, summary: Summary) -> str | None:
    """The card's one line (HTML, its label bold like the card's other fields): how many times
    support was given, and the last day."""
    if not summary.times or summary.last is None:
        return None
    return field(
        t.raw("Support given"),
        t.plural(
            "{n} time, last {date}",
            "{n} times, last {date}",
            summary.times,
            date=t.date(summary.last),
        ),
    )


def history_lines(
    t: Translator, form: Form, records: Sequence[Support], tasks: Mapping[int, str]
) -> list[str]:
    """A case's support given, for a member's private chat: what, when, by whom, through
    which task, the member's note, and whether the family confirmed it."""
    if not records:
        return []
    lines = [bold(escape(t.raw("Support given")))]
    for record in records:
        lines.append(
            t(
                "• {date}: {what}, by {name} (receipt: {receipt})",
                date=t.date(record.given_on),
                what=Markup(what(t, form, record)),
                name=record.recorded_by_name or t.raw("a member"),
                receipt=t.raw(RECEIPTS.get(record.receipt, RECEIPTS[PENDING])),
            )
        )
        if record.task_id is not None and record.task_id in tasks:
            lines.append(field(t.raw("Through task"), t.isolate(tasks[record.task_id])))
        if record.note:
            lines.append(field(t.raw("Note"), escape(record.note)))
    return lines


def family_question(t: Translator, form: Form, case: Case, record: Support) -> str:
    """The family is asked, in its language, whether the support arrived: its kind and day
    only."""
    return t(
        "The committee noted that it gave you support for your application {ref}: {what}, "
        "on {date}. Did you receive it?",
        ref=t.isolate(case.ref),
        what=kind_label(t, form, record.kind),
        date=t.date(record.given_on),
    )


def family_lines(t: Translator, form: Form, records: Sequence[Support]) -> list[str]:
    """/mydata: the support recorded for the family (kind, day, receipt)."""
    if not records:
        return []
    lines = ["", bold(escape(t.raw("Support given")))]  # apart from the case's details
    lines += [
        t(
            "• {date}: {what} (receipt: {receipt})",
            date=t.date(record.given_on),
            what=kind_label(t, form, record.kind),
            receipt=t.raw(RECEIPTS.get(record.receipt, RECEIPTS[PENDING])),
        )
        for record in records
    ]
    return lines


def shorten(text: str | None, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def alert_history(
    t: Translator,
    form: Form,
    case: Case,
    records: Sequence[Support],
    tasks: Mapping[int, str],
) -> list[str]:
    """The delivery history an alert carries: the last :data:`ALERT_LAST` records, their notes
    and descriptions shortened, and where to read the earlier ones (/case)."""
    shown = [
        replace(r, note=shorten(r.note, ALERT_NOTE), other=shorten(r.other, ALERT_OTHER))
        for r in records[-ALERT_LAST:]
    ]
    lines = history_lines(t, form, shown, tasks)
    earlier = len(records) - len(shown)
    if earlier:
        lines.append(
            t.plural(
                "… and {n} earlier: /case {ref}",
                "… and {n} earlier: /case {ref}",
                earlier,
                ref=case.ref,
            )
        )
    return lines


def alert_text(
    t: Translator,
    form: Form,
    case: Case,
    record: Support,
    why: str,
    history: Sequence[str],
    receipt_days: int,
) -> str:
    """The member who recorded support is told the family did not confirm it, with the
    case's delivery history (``history``, from :func:`alert_history`)."""
    if why == NO_ANSWER:
        head = t.plural(
            "Case {ref}: the family has not confirmed within {n} day that it received "
            "the support of {date} ({what}).",
            "Case {ref}: the family has not confirmed within {n} days that it received "
            "the support of {date} ({what}).",
            receipt_days,
            ref=t.isolate(case.ref),
            date=t.date(record.given_on),
            what=kind_label(t, form, record.kind),
        )
    elif why == LATE_NOT_RECEIVED:
        head = t(
            "Case {ref}: the family has now answered that it did not receive the support of "
            "{date} ({what}).",
            ref=t.isolate(case.ref),
            date=t.date(record.given_on),
            what=kind_label(t, form, record.kind),
        )
    else:
        head = t(
            "Case {ref}: the family says it did not receive the support of {date} ({what}).",
            ref=t.isolate(case.ref),
            date=t.date(record.given_on),
            what=kind_label(t, form, record.kind),
        )
    lines = [bold(head), escape(t.raw("Please check with the family and the volunteers.")), ""]
    return "\n".join([*lines, *history])
