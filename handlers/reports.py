"""Members' views of the work: /cases, /audit REF, /export, /stats, /report (private chat
only)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from telegram import CallbackQuery, InlineKeyboardMarkup, InputFile, Update

from bot import charts, contributions, monthly, render, reports, xlsx
from bot.buttons import CasesPage, ExportChoice, pressed_here
from bot.context import SanadContext
from bot.forms import SITUATION, SUPPORT
from bot.i18n import N_, Markup, Translator, escape
from bot.render import bold
from bot.storage import cases as case_repo
from bot.storage import utcnow
from bot.workflow import STATUSES
from handlers.members import case_from_args, committee_gate, member_press, to_member
from handlers.util import edit_in_place, stale

log = logging.getLogger(__name__)
PAGE = 10
# What each /export button sends, as its menu says once pressed.
EXPORTS = {
    "full": N_("The full export (CSV) is on its way."),
    "full-xlsx": N_("The full export (Excel) is on its way."),
    "anon": N_("The anonymised export (CSV) is on its way."),
    "anon-xlsx": N_("The anonymised export (Excel) is on its way."),
}

EVENTS = {
    "case_submitted": N_("submitted by the family"),
    "case_viewed": N_("details viewed"),
    "view_refused": N_("details refused to a non-member"),
    "action_refused": N_("action refused to a non-member"),
    "case_taken": N_("taken"),
    "case_approved": N_("approved"),
    "case_declined": N_("declined"),
    "case_renewed": N_("support renewed"),
    "case_closed": N_("closed"),
    "case_reopened": N_("reopened"),
    "info_requested": N_("information requested"),
    "info_answered": N_("the family answered"),
    "note_added": N_("note added"),
    "export_full": N_("included in a full export"),
    "support_recorded": N_("support given recorded"),
    "support_receipt_answered": N_("the family answered about the support given"),
    "support_receipt_timeout": N_("the family did not confirm the support given in time"),
    "support_alert_sent": N_("the member who recorded the support was alerted"),
    "duplicate_dismissed": N_("not a duplicate: the flag dismissed"),
    "case_merged": N_("closed as a duplicate of another case"),
}


def cases_page(
    t: Translator,
    context: SanadContext,
    status: str | None,
    page: int,
    found: list[case_repo.Case],
    total: int,
    counts: dict[str, int],
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of cases, with status filters and paging buttons."""
    tz = context.services.settings.tz
    form = context.services.form
    title = render.status_label(t, status) if status else t.raw("All cases")
    lines = [bold(escape(title)), t.plural("{n} case", "{n} cases", total)]
    situation = form.role(SITUATION)
    for case in found:
        labels = [
            t.raw(o.label)
            for i in case.answers.get(situation.id, [])
            if (o := situation.option(i))
        ]
        lines.append(
            t(
                "• {ref}: {status}, {situation} ({date})",
                ref=t.isolate(case.ref),
                status=render.status_label(t, case.status),
                situation=t.join(labels),
                date=t.datetime(case.created_at, tz),
            )
        )
    if not found:
        lines.append(t.raw("No case here."))
    lines.append(t.raw("Send /case followed by a reference to open a case."))
    filters = [
        CasesPage(s, 0).button(f"{render.status_label(t, s)} ({t.number(counts.get(s, 0))})")
        for s in STATUSES
        if counts.get(s)
    ]
    rows = [filters[i : i + 2] for i in range(0, len(filters), 2)]
    rows.append([CasesPage("all", 0).button(t.raw("All cases"))])
    paging = []
    key = status or "all"
    if page > 0:
        paging.append(CasesPage(key, page - 1).button(t.raw("« Previous")))
    if (page + 1) * PAGE < total:
        paging.append(CasesPage(key, page + 1).button(t.raw("Next »")))
    if paging:
        rows.append(paging)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def cases_command(update: Update, context: SanadContext) -> None:
    """/cases: the cases that need the committee, newest first, by status."""
    t = await committee_gate(update, context)
    if t is None:
        return
    await _send_page(update, context, t, None, 0, edit=False)


async def cases_button(update: Update, context: SanadContext) -> None:
    """A filter or paging button of /cases: cl:<status|all>:<page>."""
    press = await member_press(update, context, CasesPage)
    if press is None:
        return
    query, t, key = press.query, press.t, press.data.key
    status = key if key in STATUSES else None
    await query.answer()
    await _send_page(update, context, t, status, min(press.data.page, 10_000), edit=True)


async def _send_page(
    update: Update,
    context: SanadContext,
    t: Translator,
    status: str | None,
    page: int,
    *,
    edit: bool,
) -> None:
    review = context.services.review
    found, total = await review.page(status, page * PAGE, PAGE)
    counts = await review.counts_by_status()
    text, markup = cases_page(t, context, status, page, found, total, counts)
    query = update.callback_query
    if not (edit and query is not None and await edit_in_place(query, text, markup)):
        # A new list, also when the button was forged on a photo, a document or a voice note.
        await to_member(update, context, text, markup)


async def audit_command(update: Update, context: SanadContext) -> None:
    """/audit REF: who saw or changed what on a case, and when."""
    t = await committee_gate(update, context)
    if t is None:
        return
    case = await case_from_args(
        update, context, t, t.raw("Send /audit followed by the case reference.")
    )
    if case is None:
        return
    entries = await context.services.review.history(case.id)
    tz = context.services.settings.tz
    lines = [bold(t("History of case {ref}", ref=t.isolate(case.ref)))]
    for entry in entries:
        if entry.actor_id is not None and entry.actor_id == case.user_id:
            who = t.raw("the family")
        elif context.services.settings.is_member(entry.actor_id):
            who = t("member {id}", id=entry.actor_id)
        else:
            who = t("user {id}", id=entry.actor_id)
        what = t.raw(EVENTS.get(entry.action, entry.action))
        lines.append(
            t(
                "• {date}: {event}, {who}",
                date=t.datetime(entry.at, tz),
                event=what,
                who=Markup(who),
            )
        )
    for chunk in render.chunks(lines):
        await to_member(update, context, chunk)


async def export_command(update: Update, context: SanadContext) -> None:
    """/export: choose the full (audited) or the anonymised CSV."""
    t = await committee_gate(update, context)
    if t is None:
        return
    await to_member(  # never in the group: the buttons work only in the private chat
        update,
        context,
        t.raw(
            "Which export? The full one contains personal data: keep it safe, and every case in "
            "it is recorded as viewed by you. The anonymised one is for reports."
        )
        + "\n\n"
        + t.raw(
            "CSV opens anywhere. Excel (.xlsx) keeps dates and numbers as such, and has a "
            "second sheet with the support given and a third with the volunteers' totals "
            "(a number for each volunteer)."
        ),
        InlineKeyboardMarkup(
            [
                [
                    ExportChoice("full").button(t.raw("🔒 Full, CSV")),
                    ExportChoice("full-xlsx").button(t.raw("🔒 Full, Excel")),
                ],
                [
                    ExportChoice("anon").button(t.raw("📊 Anonymised, CSV")),
                    ExportChoice("anon-xlsx").button(t.raw("📊 Anonymised, Excel")),
                ],
            ]
        ),
    )


async def export_button(update: Update, context: SanadContext) -> None:
    """ex:full or ex:anon (CSV), ex:full-xlsx or ex:anon-xlsx (Excel): as a document (or
    several, each under Telegram's upload limit), to the member's private chat only. Written
    page by page to a temporary folder, deleted once sent.

    A menu gives one export: once pressed, it says which one is coming and loses its buttons;
    a second press of the same menu (a double tap, before the edit reached the phone) is
    stale."""
    press = await member_press(update, context, ExportChoice)
    if press is None:
        return
    query, member, t = press.query, press.member, press.t
    if not pressed_here(query) or not _first_press(context, query):
        await stale(query, t)
        return
    services = context.services
    full, suffix = press.data.full, ".xlsx" if press.data.xlsx else ".csv"
    write = xlsx.write_export if press.data.xlsx else reports.write_export
    stamp = datetime.now(services.settings.tz).strftime("%Y-%m-%d")
    await query.answer()
    await edit_in_place(query, escape(t.raw(EXPORTS[press.data.kind])))
    with tempfile.TemporaryDirectory(prefix="sanad-export-") as folder:
        export = await write(
            services.db,
            services.ids,
            t,
            services.form,
            services.settings.tz,
            Path(folder),
            full=full,
        )
        await reports.record_export(services.db, services.ids, member, export.cases, full=full)
        if full:
            log.info("Full export by a member (%d cases)", export.cases)
        base = f"sanad-cases-{'full' if full else 'anonymised'}-{stamp}"
        for number, path in enumerate(export.files, start=1):
            name = f"{base}{suffix}" if len(export.files) == 1 else f"{base}-{number}{suffix}"
            with path.open("rb") as data:
                await context.bot.send_document(
                    member,
                    InputFile(data, filename=name),
                    caption=t.plural("{n} case", "{n} cases", export.cases),
                )


class UsedMenus:
    """The /export menus already pressed (chat and message), the most recent ones: a press
    carries the menu as it was when tapped, so a double tap shows buttons twice."""

    def __init__(self, size: int = 1_000) -> None:
        self.size = size
        self._menus: OrderedDict[tuple[int, int], None] = OrderedDict()

    def first_time(self, menu: tuple[int, int]) -> bool:
        """True the first time a menu is pressed (remembering it), False afterwards."""
        if menu in self._menus:
            return False
        self._menus[menu] = None
        if len(self._menus) > self.size:
            self._menus.popitem(last=False)
        return True


def _first_press(context: SanadContext, query: CallbackQuery) -> bool:
    """Whether this is the first press of its /export menu."""
    message = query.message
    assert message is not None  # a press checked by pressed_here has its message
    used: UsedMenus = context.bot_data.setdefault("export_menus", UsedMenus())
    return used.first_time((message.chat.id, message.message_id))


async def stats_command(update: Update, context: SanadContext) -> None:
    """/stats: counts by status, situation, support and month, and a chart."""
    t = await committee_gate(update, context)
    if t is None or update.effective_user is None:
        return
    services = context.services
    figures = await reports.gather_stats(services.db, services.form, services.settings.tz)
    form = services.form

    def section(title: str, counter: dict[str, int], label: Callable[[str], str]) -> list[str]:
        rows = [bold(escape(title))]
        for key, count in sorted(counter.items(), key=lambda kv: -kv[1]):
            rows.append(f"• {escape(label(key))}: {t.number(count)}")
        return rows

    def option(role: str) -> Callable[[str], str]:
        step = form.role(role)

        def name(key: str) -> str:
            found = step.option(key)
            return t.raw(found.label) if found else key

        return name

    lines = [bold(t.raw("Statistics")), t.plural("{n} case", "{n} cases", figures.total), ""]
    lines += section(t.raw("By status"), figures.by_status, lambda s: render.status_label(t, s))
    lines += section(t.raw("By situation"), figures.by_situation, option(SITUATION))
    lines += section(t.raw("By support requested"), figures.by_support, option(SUPPORT))
    lines += section(t.raw("By month"), figures.by_month, str)
    if figures.median_days is not None:
        lines.append(
            t(
                "Median time from submission to decision: {days} days",
                days=f"{figures.median_days:.1f}",
            )
        )
    lines += contributions.stats_lines(t, await contributions.of_everyone(services.db))
    for chunk in render.chunks(lines):
        await to_member(update, context, chunk)
    if figures.total:
        await send_charts(update.effective_user.id, context, t)


async def send_charts(member: int, context: SanadContext, t: Translator) -> None:
    """The /stats charts as photos, each drawn in a thread (off the event loop): cases per
    month by status, support given per month by type, and the days decisions took."""
    services = context.services
    recent = await monthly.recent(services.db, services.settings.tz, utcnow())
    found = [charts.cases_chart(t, recent.months, recent.statuses)]
    if recent.support:
        found.append(charts.support_chart(t, services.form, recent.months, recent.support))
    if any(recent.decision_days):
        found.append(charts.decision_chart(t, recent.decision_days))
    painter = charts.Painter(services.settings.chart_font)
    for number, chart in enumerate(found, start=1):
        picture = await asyncio.to_thread(painter.paint, chart)
        await context.bot.send_photo(
            member,
            InputFile(picture.png, filename=f"chart-{number}.png"),
            caption=escape(picture.caption),
        )


async def report_command(update: Update, context: SanadContext) -> None:
    """/report YYYY-MM: the month's figures for donors; without a month, the last complete
    one (what a committee reports on at the start of a month)."""
    t = await committee_gate(update, context)
    if t is None:
        return
    services = context.services
    tz = services.settings.tz
    current = monthly.this_month(utcnow(), tz)
    example = str(current.previous())
    args = context.args or []
    month = monthly.parse_month("".join(args)) if args else current.previous()
    if month is None:
        await to_member(
            update,
            context,
            t(
                "I could not read that month. Send /report with the year and the month, "
                "for example /report {example}.",
                example=example,
            ),
        )
        return
    if (month.year, month.month) > (current.year, current.month):
        await to_member(
            update,
            context,
            t(
                "{month} has not begun yet. For the last complete month, send /report {example}.",
                month=monthly.month_name(t, month),
                example=example,
            ),
        )
        return
    report = await monthly.gather(services.db, month, tz)
    found = monthly.lines(t, services.form, report, partial=month == current)
    for chunk in render.chunks(found):
        await to_member(update, context, chunk)
