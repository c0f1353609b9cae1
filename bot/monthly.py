"""Figures by month, without Telegram: the summary a committee hands to its donors
(/report YYYY-MM), and the recent months the /stats charts show.

For one calendar month in the organisation's time zone: applications received, decisions
taken, families supported and support given by type (with the sums of financial support per
currency), volunteers who did a task, and the hours they gave. Everything is counted in SQL
over clear columns: no case is decrypted and no person is named.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from bot.forms import Form
from bot.i18n import N_, Translator, escape
from bot.render import bold, status_label
from bot.storage import Database, figures
from bot.storage import cases as case_repo
from bot.storage import support as support_repo
from bot.support_text import kind_label
from bot.text import normalize_digits
from bot.when import duration

# 2026-03, 2026/03 or 2026.3, in any digit system.
MONTH = re.compile(r"(\d{4})[-/.](\d{1,2})")

# A decision that leaves a case in a status is named as /stats and /cases name the status.
DECISION_STATUSES = {
    "case_approved": "approved",
    "case_declined": "declined",
    "case_closed": "closed",
}
DECISION_LABELS = {
    "case_renewed": N_("Support renewed"),
    "case_reopened": N_("Reopened"),
}


@dataclass(frozen=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @property
    def first(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        """Its last day."""
        return date(self.year, self.month, monthrange(self.year, self.month)[1])

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """From its first midnight to the next month's, in ``tz``."""
        after = self.last + timedelta(days=1)
        return (
            datetime(self.year, self.month, 1, tzinfo=tz),
            datetime(after.year, after.month, 1, tzinfo=tz),
        )

    def previous(self) -> Month:
        """The month before."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(text: str) -> Month | None:
    """``YYYY-MM`` (also with ``/`` or ``.``, and in Arabic-Indic digits), or None."""
    found = MONTH.fullmatch(normalize_digits(text).strip())
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    return Month(year, month) if 2000 <= year <= 9999 and 1 <= month <= 12 else None


def this_month(now: datetime, tz: ZoneInfo) -> Month:
    """The month under way in ``tz``."""
    local = now.astimezone(tz)
    return Month(local.year, local.month)


@dataclass(frozen=True)
class MonthlyReport:
    """The counts of one month."""

    month: Month
    applications: int
    decisions: dict[str, int]  # audit event -> how many
    families: int  # cases given any support
    families_by_kind: dict[str, int]  # support option id -> cases given it
    times_by_kind: dict[str, int]  # support option id -> times given
    sums: dict[str, Decimal]  # currency -> financial support given
    volunteers: int  # volunteers who did a task that started in the month
    minutes: int  # the durations of those tasks, summed over the volunteers


async def gather(db: Database, month: Month, tz: ZoneInfo) -> MonthlyReport:
    """Count one month, on a reader connection (and the support by its day given)."""
    start, end = month.bounds(tz)
    async with db.reader() as reader:
        applications = sum((await figures.statuses_between(reader, start, end)).values())
        decisions = await figures.decisions_between(reader, start, end)
        families = await figures.families_supported(reader, month.first, month.last)
        volunteers, minutes = await figures.volunteer_work(reader, start, end)
    given = await support_repo.per_month(db, month.first, month.last)
    return MonthlyReport(
        month=month,
        applications=applications,
        decisions=decisions,
        families=families,
        families_by_kind={row.kind: row.cases for row in given},
        times_by_kind={row.kind: row.times for row in given},
        sums=await support_repo.amounts(db, month.first, month.last),
        volunteers=volunteers,
        minutes=minutes,
    )


def month_name(t: Translator, month: Month) -> str:
    """ "March 2026", «آذار 2026» in Jordan."""
    return format_date(month.first, "LLLL y", locale=t.locale)


def decision_label(t: Translator, action: str) -> str:
    """A decision's audit event in words: "Approved", as the status it leaves."""
    if action in DECISION_STATUSES:
        return status_label(t, DECISION_STATUSES[action])
    return t.raw(DECISION_LABELS.get(action, action))


def lines(t: Translator, form: Form, report: MonthlyReport, *, partial: bool) -> list[str]:
    """The report as message lines: one figure a line, the breakdowns under their total."""

    def kind(option_id: str) -> str:
        return kind_label(t, form, option_id)

    def breakdown(counts: dict[str, int], label: Callable[[str], str]) -> list[str]:
        named: dict[str, int] = {}  # "other" and a removed type share their label
        for key, n in counts.items():
            named[label(key)] = named.get(label(key), 0) + n
        ordered = sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))
        return [f"  • {escape(name)}: {t.number(n)}" for name, n in ordered]

    title = t("Monthly report, {month}", month=month_name(t, report.month))
    found = [bold(title)]
    if partial:
        found.append(t.raw("This month is not over: the figures so far."))
    found.append("")
    found.append(t("Applications received: {n}", n=t.number(report.applications)))
    found.append(t("Decisions: {n}", n=t.number(sum(report.decisions.values()))))
    found += breakdown(report.decisions, lambda a: decision_label(t, a))
    found.append(t("Families supported: {n}", n=t.number(report.families)))
    found += breakdown(report.families_by_kind, kind)
    times = sum(report.times_by_kind.values())
    found.append(t.plural("Support given: {n} time", "Support given: {n} times", times))
    found += breakdown(report.times_by_kind, kind)
    for currency, total in sorted(report.sums.items()):
        amount = (
            format_currency(total, currency, locale=t.locale)
            if currency
            else format_decimal(total, locale=t.locale)
        )
        found.append("  • " + t("Amount given: {amount}", amount=amount))
    found.append(t("Volunteers active: {n}", n=t.number(report.volunteers)))
    found.append(t("Hours given: {hours}", hours=duration(t, report.minutes)))
    return found


@dataclass(frozen=True)
class Recent:
    """What the /stats charts show: the last months (oldest first, from the first case's or
    the first support given's, whichever is earlier), the cases of each by status, the
    support given in them, and the days decisions took."""

    months: list[str]  # YYYY-MM
    statuses: dict[str, dict[str, int]]  # month -> status -> cases submitted that month
    support: list[support_repo.MonthRow]
    decision_days: list[int]  # one count per range of figures.DECISION_DAYS


async def recent(db: Database, tz: ZoneInfo, now: datetime, count: int = 12) -> Recent:
    """The last ``count`` months up to ``now``'s, none before the first case's or the first
    support given's."""
    async with db.reader() as reader:
        span = await case_repo.created_span(reader)
        given_first = await figures.first_support_day(reader)
        months = [this_month(now, tz)]
        starts = [this_month(span[0], tz)] if span else []
        starts += [Month(given_first.year, given_first.month)] if given_first else []
        first = min(starts, key=lambda m: (m.year, m.month), default=months[0])
        while len(months) < count and (months[-1].year, months[-1].month) > (
            first.year,
            first.month,
        ):
            months.append(months[-1].previous())
        months.reverse()
        statuses = {str(m): await figures.statuses_between(reader, *m.bounds(tz)) for m in months}
        days = await figures.decision_days(reader)
    given = await support_repo.per_month(db, months[0].first, months[-1].last)
    return Recent([str(m) for m in months], statuses, given, days)
