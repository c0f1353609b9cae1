"""/report YYYY-MM: the counts a committee hands to its donors for one month, through the
real Application; a month it cannot read, or one not begun, gets a kind answer with an
example in the member's language; without a month, the last complete one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bot import monthly, render
from bot.storage import assignments, support, utcnow
from bot.storage import tasks as task_repo
from bot.storage.db import iso
from tests.conftest import COMMITTEE_CHAT, MEMBER, OUTSIDER, Harness
from tests.flows import full_intake
from tests.test_review import approve

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)


async def _case_id(h: Harness, ref: str) -> int:
    row = await h.services.db.fetchone("SELECT id FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    return int(row["id"])


async def _move(h: Harness, ref: str, when: datetime) -> None:
    """As if the case had come in, and been decided, at ``when``."""
    case_id = await _case_id(h, ref)
    db = h.services.db
    await db.write("UPDATE cases SET created_at = ? WHERE id = ?", (iso(when), case_id))
    await db.write("UPDATE audit SET at = ? WHERE case_id = ?", (iso(when), case_id))


async def _task(h: Harness, starts: datetime, minutes: int, outcomes: dict[int, str]) -> None:
    async with h.services.db.transaction() as conn:
        task_id, _ = await task_repo.insert(
            conn,
            h.services.ids,
            creator_id=MEMBER,
            title="Deliver parcels",
            description="From the hall",
            skill="driving",
            area="north",
            starts_at=starts,
            duration_min=minutes,
            needed=len(outcomes),
            case_id=None,
        )
        for volunteer, outcome in outcomes.items():
            assert await assignments.take_slot(conn, h.services.ids, task_id, volunteer, 9)
            await assignments.set_outcome(conn, h.services.ids, task_id, volunteer, outcome)


async def seeded_march(h: Harness) -> None:
    """Three applications in March 2026 (one approved, one declined, one new), one in April;
    support given three times in March and once in April; volunteers' work in both."""
    await h.say(MEMBER, "/start")
    approved = await full_intake(h, 801)
    declined = await full_intake(h, 802)
    waiting = await full_intake(h, 803)
    later = await full_intake(h, 804)
    await approve(h, approved)
    await h.press(MEMBER, rf"^cv:decline:{declined}$", chat_id=COMMITTEE_CHAT)
    for button in (r"^rv:r:criteria$", r"^rv:skip:$", r"^rv:ok:$"):
        await h.press(MEMBER, button)
    for ref in (approved, declined, waiting):
        await _move(h, ref, MARCH)
    await _move(h, later, APRIL)
    case_id, ids = await _case_id(h, approved), h.services.ids
    async with h.services.db.transaction() as conn:
        for kind, day, amount in (
            ("financial", date(2026, 3, 2), Decimal("100.50")),
            ("financial", date(2026, 3, 20), Decimal("20")),
            ("moral", date(2026, 3, 21), None),
            ("other", date(2026, 3, 22), None),
            ("financial", date(2026, 4, 1), Decimal("999")),
        ):
            await support.add(
                conn,
                ids,
                case_id,
                kind=kind,
                given_on=day,
                member_id=MEMBER,
                amount=amount,
                currency="JOD" if amount else None,
            )
    await _task(h, datetime(2026, 3, 12, 8, 0, tzinfo=UTC), 90, {501: "done", 502: "done"})
    await _task(h, datetime(2026, 3, 14, 8, 0, tzinfo=UTC), 60, {503: "not_done"})
    await _task(h, datetime(2026, 4, 2, 8, 0, tzinfo=UTC), 600, {504: "done"})


async def test_march_in_english(harness: Harness) -> None:
    h = harness
    await seeded_march(h)
    calls = await h.say(MEMBER, "/report 2026-03")
    assert {c.chat_id for c in calls if c.method == "sendMessage"} == {MEMBER}
    text = "\n".join(h.texts(calls))
    assert "Monthly report, March 2026" in text
    assert "not over" not in text
    assert "Applications received: 3" in text
    # The decisions named as /stats names the statuses they leave.
    assert "Decisions: 2" in text and "• Approved: 1" in text and "• Declined: 1" in text
    assert "Families supported: 1" in text
    assert "• Financial support: 1" in text and "• Moral support: 1" in text
    assert "Support given: 4 times" in text and "• Financial support: 2" in text
    assert "• Other support: 1" in text and "• other" not in text
    assert "Amount given: JOD120.500" in text
    assert "Volunteers active: 2" in text
    assert "Hours given: 3 hours" in text
    # In the committee group: answered in private, nothing in the group.
    calls = await h.feed(h.updates.text(MEMBER, "/report 2026-04", chat_id=COMMITTEE_CHAT))
    assert [c.chat_id for c in calls if c.method == "sendMessage"] == [MEMBER]
    assert "Applications received: 1" in "\n".join(h.texts(calls))


async def test_march_in_arabic_digits(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "ar"
    await seeded_march(h)
    calls = await h.say(MEMBER, "/report ٢٠٢٦-٠٣")  # the month typed in Arabic-Indic digits
    text = "\n".join(h.texts(calls))
    t = h.services.i18n.get("ar")
    assert monthly.month_name(t, monthly.Month(2026, 3)) in text
    assert t("Applications received: {n}", n=t.number(3)) in text
    assert t("Volunteers active: {n}", n=t.number(2)) in text
    # "Other" in Arabic, and support given named as on the card: «الدعم المقدَّم».
    assert f"• {t.raw('Other support')}: {t.number(1)}" in text and "other" not in text
    assert t.plural("Support given: {n} time", "Support given: {n} times", 4) in text
    assert "الدعم المقدَّم" in text and "المساعدات" not in text
    assert f"• {render.status_label(t, 'approved')}: {t.number(1)}" in text


async def test_the_charts_months_cover_support_given_before_the_first_case(
    harness: Harness,
) -> None:
    h = harness
    ref = await full_intake(h, 801)
    await _move(h, ref, APRIL)
    case_id = await _case_id(h, ref)
    async with h.services.db.transaction() as conn:
        await support.add(
            conn, h.services.ids, case_id, kind="moral", given_on=date(2026, 2, 20),
            member_id=MEMBER,
        )  # fmt: skip
    now = datetime(2026, 5, 3, tzinfo=UTC)
    recent = await monthly.recent(h.services.db, h.services.settings.tz, now)
    assert recent.months == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert [(r.month, r.kind, r.times) for r in recent.support] == [("2026-02", "moral", 1)]


async def test_without_a_month_the_last_complete_one(harness: Harness) -> None:
    h = harness
    await h.say(MEMBER, "/start")
    last = monthly.this_month(utcnow(), h.services.settings.tz).previous()
    calls = await h.say(MEMBER, "/report")
    t = h.services.i18n.get("en")
    assert f"Monthly report, {monthly.month_name(t, last)}" in "\n".join(h.texts(calls))
    calls = await h.say(MEMBER, f"/report {monthly.this_month(utcnow(), h.services.settings.tz)}")
    assert "This month is not over: the figures so far." in "\n".join(h.texts(calls))


async def test_bad_months_get_a_kind_answer(harness: Harness) -> None:
    h = harness
    await h.say(MEMBER, "/start")
    example = str(monthly.this_month(utcnow(), h.services.settings.tz).previous())
    for typed in ("13-2026", "2026-13", "March", "2026-03-01"):
        calls = await h.say(MEMBER, f"/report {typed}")
        [answer] = h.texts(calls)
        assert "I could not read that month" in answer and f"/report {example}" in answer
    calls = await h.say(MEMBER, "/report 2999-01")
    assert "January 2999 has not begun yet" in h.texts(calls)[0]


async def test_bad_month_in_arabic(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "ar"
    await h.say(MEMBER, "/start")
    example = str(monthly.this_month(utcnow(), h.services.settings.tz).previous())
    t = h.services.i18n.get("ar")
    calls = await h.say(MEMBER, "/report 13-2026")
    [answer] = h.texts(calls)
    assert answer == t(
        "I could not read that month. Send /report with the year and the month, "
        "for example /report {example}.",
        example=example,
    )
    assert "لم أفهم هذا الشهر" in answer


async def test_not_for_outsiders(harness: Harness) -> None:
    h = harness
    calls = await h.say(OUTSIDER, "/report 2026-03")
    assert "don't know that command" in h.texts(calls)[0]


def test_parse_month() -> None:
    assert monthly.parse_month("2026-03") == monthly.Month(2026, 3)
    assert monthly.parse_month(" ٢٠٢٦/٣ ") == monthly.Month(2026, 3)
    assert monthly.parse_month("۲۰۲۶-۱۲") == monthly.Month(2026, 12)
    for bad in ("13-2026", "2026-00", "2026-13", "", "26-03", "2026-03-01"):
        assert monthly.parse_month(bad) is None
    assert monthly.Month(2026, 1).previous() == monthly.Month(2025, 12)
    assert monthly.Month(2026, 2).last == date(2026, 2, 28)
