"""/export as an Excel workbook: opened again with openpyxl, it runs right to left for a member
who reads Arabic (and not for one who reads English), keeps its header in view, holds real
dates and numbers, statuses and languages in words, makes a formula a family typed harmless
text (and a phone number as typed), lists the support given on a second sheet and the
volunteers' totals, numbered, on a third, is audited like the CSV, splits under Telegram's
upload limit, and a menu gives one export."""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from bot import render, xlsx
from bot.storage import support
from handlers.util import STALE
from tests.conftest import MEMBER, OUTSIDER, Harness
from tests.flows import PHONE_E164, Answers, full_intake
from tests.test_monthly_report import _task
from tests.test_review import FAMILY, approve

FORMULA = '=HYPERLINK("http://example.com/x","click")'


async def seeded(h: Harness, lang: str) -> str:
    """A case whose name is a formula, approved, with financial support given twice."""
    h.languages[FAMILY] = lang
    ref = await full_intake(h, FAMILY, Answers(name=FORMULA))
    await h.say(MEMBER, "/start")
    await approve(h, ref)
    row = await h.services.db.fetchone("SELECT id FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    async with h.services.db.transaction() as conn:
        await support.add(
            conn,
            h.services.ids,
            int(row["id"]),
            kind="financial",
            given_on=date(2026, 3, 2),
            member_id=MEMBER,
            amount=Decimal("150.50"),
            currency="JOD",
            note="@SUM(A1) rent",
        )
        await support.add(
            conn, h.services.ids, int(row["id"]), kind="moral", given_on=date(2026, 3, 9),
            member_id=MEMBER,
        )  # fmt: skip
        await support.add(
            conn, h.services.ids, int(row["id"]), kind="other", given_on=date(2026, 3, 12),
            member_id=MEMBER, other="Winter blankets",
        )  # fmt: skip
    return ref


async def export(h: Harness, data: str) -> tuple[str, Workbook]:
    await h.say(MEMBER, "/export")
    calls = await h.press(MEMBER, rf"^ex:{data}$")
    [document] = [c for c in calls if c.method == "sendDocument"]
    assert document.chat_id == MEMBER
    [upload] = document.files.values()
    assert upload.content.startswith(b"PK")  # a zip: the xlsx container
    return upload.filename or "", load_workbook(io.BytesIO(upload.content))


async def test_full_workbook_in_arabic(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "ar"
    ref = await seeded(h, "ar")
    name, book = await export(h, "full-xlsx")
    assert name.endswith(".xlsx") and "full" in name
    cases, given, _ = book.worksheets
    t = h.services.i18n.get("ar")
    assert cases.title == t.raw("Cases") and given.title == t.raw("Support given")
    for sheet in (cases, given):
        assert sheet.sheet_view.rightToLeft is True
        assert sheet.freeze_panes == "A2"
    rows = [list(r) for r in cases.iter_rows(values_only=True)]
    assert rows[0][0] == t.raw("Reference")
    case = rows[1]
    # The status and the family's language in the member's words, not their codes.
    assert case[0] == ref and case[1] == render.status_label(t, "approved") != "approved"
    assert case[3] == t.language_name("ar") != "ar"
    assert isinstance(case[2], datetime)  # submitted: a date and time, not text
    header = rows[0]
    household = header.index(t.raw(h.services.form.role("household_size").label))
    assert case[household] == 5 and isinstance(case[household], int)
    assert isinstance(case[-2], datetime) and isinstance(case[-1], datetime)  # decided, until
    # What the family typed is never a formula: a string cell, and what would run once saved
    # as CSV keeps the CSV's apostrophe; a phone number shows as typed.
    assert "'" + FORMULA in case and PHONE_E164 in case
    assert not any(isinstance(c, str) and c.startswith("=") for r in rows for c in r)
    support_rows = [list(r) for r in given.iter_rows(values_only=True)]
    assert support_rows[0][:3] == [
        t.raw("Reference"),
        t.raw("Support type"),
        t.raw("What was given"),
    ]
    first, second, other = support_rows[1:]
    assert first[0] == ref and first[3] == 150.5 and first[4] == "JOD"
    assert first[5] == datetime(2026, 3, 2) and first[7] == "'@SUM(A1) rent"
    assert first[6] == t.raw("Waiting for the family")
    moral = h.services.form.role("support").option("moral")
    assert moral is not None and second[1] == t.raw(moral.label)
    assert second[2] is None and second[3] is None
    # "Other" in the member's language, with the member's words beside it.
    assert other[1] == t.raw("Other support") != "Other support"
    assert other[2] == "Winter blankets"
    actions = await h.services.db.fetchall("SELECT actor, action FROM audit")
    opened = h.services.ids.maybe_open
    assert (MEMBER, "export_full") in [(opened(r["actor"]), r["action"]) for r in actions]


async def test_anonymised_workbook_in_english(harness: Harness) -> None:
    h = harness
    await seeded(h, "en")
    name, book = await export(h, "anon-xlsx")
    assert "anonymised" in name
    cases, given, _ = book.worksheets
    assert cases.title == "Cases" and given.title == "Support given"
    for sheet in (cases, given):
        assert not sheet.sheet_view.rightToLeft
        assert sheet.freeze_panes == "A2"
    rows = [list(r) for r in cases.iter_rows(values_only=True)]
    assert rows[0][:3] == ["#", "Status", "Month"]
    number, status, month, *_, days = rows[1]
    assert number == 1 and isinstance(month, datetime) and month.day == 1
    assert status == "Approved"
    assert isinstance(days, int | float)  # a number of days (0.0 reads back as 0)
    cells = [c for r in rows for c in r] + [
        c for r in given.iter_rows(values_only=True) for c in r
    ]
    assert not any(FORMULA in str(c) or PHONE_E164 in str(c) or "rent" in str(c) for c in cells)
    assert not any("blankets" in str(c) for c in cells)  # the member's words stay out
    support_rows = [list(r) for r in given.iter_rows(values_only=True)]
    assert support_rows[0] == ["#", "Support type", "Amount", "Currency", "Month", "Receipt"]
    assert support_rows[1][0] == 1 and support_rows[1][4] == datetime(2026, 3, 1)
    assert support_rows[3][1] == "Other support"
    actions = [r["action"] for r in await h.services.db.fetchall("SELECT action FROM audit")]
    assert "export_anonymised" in actions


async def test_xlsx_export_refused_to_a_non_member(harness: Harness) -> None:
    h = harness
    await h.say(OUTSIDER, "/start")
    calls = await h.press_data(OUTSIDER, "ex:full-xlsx")
    assert all(c.method != "sendDocument" for c in calls)


async def test_a_large_export_comes_as_several_workbooks(harness: Harness) -> None:
    h = harness
    for i in range(6):
        await full_intake(h, 900_000 + i)
    services = h.services
    t = services.i18n.get("en")
    with tempfile.TemporaryDirectory() as folder:
        written = await xlsx.write_export(
            services.db,
            services.ids,
            t,
            services.form,
            services.settings.tz,
            Path(folder),
            full=True,
            max_bytes=6_000,  # three sheets and their headers: about 5 kB before any row
        )
        assert written.cases == 6 and len(written.files) > 1
        refs = []
        for path in written.files:
            with zipfile.ZipFile(path) as archive:  # the rows' XML stays under the limit
                sheets = [i for i in archive.infolist() if i.filename.startswith("xl/worksheets/")]
                assert sum(i.file_size for i in sheets) < 6_000
            book = load_workbook(path)
            rows = list(book.worksheets[0].iter_rows(values_only=True))
            assert rows[0][0] == "Reference"  # each part has its header
            refs += [r[0] for r in rows[1:]]
        assert len(refs) == 6


def test_a_phone_number_is_written_as_typed_and_a_formula_is_not() -> None:
    """In a workbook a string cell never runs: only what would run once the sheet is saved
    again as CSV keeps the apostrophe; a number with its sign (a phone) shows as typed."""
    for shown in (PHONE_E164, "+962 79 123 4567", "-12", "0791234567", "Fatima"):
        assert xlsx.neutralise(shown) == shown
    for runs in (FORMULA, "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "=1", "\t=1"):
        assert xlsx.neutralise(runs) == "'" + runs


async def test_volunteers_totals_on_a_third_sheet(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "ar"
    await seeded(h, "ar")
    await _task(h, datetime(2026, 3, 12, 8, 0, tzinfo=UTC), 90, {501: "done", 502: "done"})
    await _task(h, datetime(2026, 3, 14, 8, 0, tzinfo=UTC), 60, {501: "done", 503: "not_done"})
    t = h.services.i18n.get("ar")
    for kind in ("full-xlsx", "anon-xlsx"):
        _, book = await export(h, kind)
        volunteers = book.worksheets[2]
        assert volunteers.title == t.raw("Volunteers")
        assert volunteers.sheet_view.rightToLeft is True and volunteers.freeze_panes == "A2"
        rows = [list(r) for r in volunteers.iter_rows(values_only=True)]
        assert rows[0] == [t.raw("Volunteer"), t.raw("Tasks done"), t.raw("Hours")]
        # A number per volunteer, most hours first; numbers as numbers, no reference.
        assert rows[1:] == [[1, 2, 2.5], [2, 1, 1.5]]
        assert all(isinstance(c, int | float) for r in rows[1:] for c in r)


async def test_an_export_menu_gives_one_export(harness: Harness) -> None:
    h = harness
    await seeded(h, "en")
    await h.say(MEMBER, "/export")
    message_id, data = h.find_button(MEMBER, r"^ex:full-xlsx$")
    # A double tap: both presses carry the menu with its buttons.
    taps = [h.updates.callback(MEMBER, data, message_id=message_id) for _ in range(2)]
    first = await h.feed(taps[0])
    second = await h.feed(taps[1])
    assert [c.method for c in first].count("sendDocument") == 1
    assert all(c.method != "sendDocument" for c in second)
    assert h.alerts(second) == [STALE]
    # The menu says which export is coming, and has no button left.
    message = h.fake.message(MEMBER, message_id)
    assert message is not None and message["text"] == "The full export (Excel) is on its way."
    assert not message.get("reply_markup", {}).get("inline_keyboard")
    # Another button of the old menu, pressed later, is stale too.
    calls = await h.press_data(MEMBER, "ex:anon", message_id=message_id)
    assert all(c.method != "sendDocument" for c in calls) and h.alerts(calls) == [STALE]
