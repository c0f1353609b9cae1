"""/cases, /audit, /export, /stats and the support-period reminder."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from bot import reminders, render
from bot.config import Settings
from bot.storage import utcnow
from bot.storage.db import iso
from tests.conftest import COMMITTEE_CHAT, MEMBER, OUTSIDER, Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import AREA, NAME, PHONE_E164, STORY, full_intake
from tests.test_review import approve, new_case

FAMILY = 808


async def test_cases_lists_by_status_with_paging(harness: Harness) -> None:
    h = harness
    refs = [await full_intake(h, 900_000 + i) for i in range(12)]
    await h.say(MEMBER, "/start")
    calls = await h.say(MEMBER, "/cases")
    first = calls[-1].text or ""
    assert "12 cases" in first and refs[-1] in first and refs[0] not in first
    calls = await h.press(MEMBER, r"^cl:all:1$")
    assert refs[0] in (calls[-1].text or "")
    await h.press(MEMBER, r"^cl:new:0$")
    calls = await h.say(OUTSIDER, "/cases")
    assert "don't know that command" in h.texts(calls)[0]
    calls = await h.feed(h.updates.text(MEMBER, "/cases", chat_id=COMMITTEE_CHAT))
    assert [c.chat_id for c in calls if c.method == "sendMessage"] == [MEMBER]
    calls = await h.press_data(OUTSIDER, "cl:all:0")
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_audit_shows_every_reveal_and_decision(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press_data(OUTSIDER, f"cd:{ref}", chat_id=COMMITTEE_CHAT)
    await approve(h, ref)
    calls = await h.say(MEMBER, f"/audit {ref}")
    history = "\n".join(h.texts(calls))
    for event in ("submitted by the family", "details viewed", "details refused", "approved"):
        assert event in history
    assert NAME not in history and PHONE_E164 not in history


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark spreadsheets need
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_full_export_is_audited_and_private(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "ar"
    ref = await new_case(h, "ar")
    await h.say(MEMBER, "/export")
    calls = await h.press(MEMBER, r"^ex:full$")
    [document] = [c for c in calls if c.method == "sendDocument"]
    assert document.chat_id == MEMBER
    rows = read_csv(next(iter(document.files.values())).content)
    t = h.services.i18n.get("ar")
    assert rows[0][0] == t.raw("Reference") != "Reference"
    # The phone starts with "+": a spreadsheet would run it as a formula, so it is text.
    assert rows[1][0] == ref and NAME in rows[1] and "'" + PHONE_E164 in rows[1]
    # The status and the language in the member's language, as the headers are.
    assert rows[1][1] == render.status_label(t, "new") != "new"
    assert rows[1][3] == t.language_name("ar") == "العربية"
    assert any("أيتام بلا معيل" in cell for cell in rows[1])
    actions = await h.services.db.fetchall("SELECT actor, action FROM audit")
    opened = h.services.ids.maybe_open
    assert (MEMBER, "export_full") in [(opened(r["actor"]), r["action"]) for r in actions]


async def test_anonymised_export_has_no_personal_data(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await h.say(MEMBER, "/export")
    calls = await h.press(MEMBER, r"^ex:anon$")
    [document] = [c for c in calls if c.method == "sendDocument"]
    content = next(iter(document.files.values())).content
    text = content.decode("utf-8-sig")
    for secret in (ref, NAME, "Fatima", PHONE_E164, AREA, STORY):
        assert secret not in text
    rows = read_csv(content)
    assert rows[1][1] == "Approved" and rows[1][-1] != ""  # the status as /stats names it
    calls = await h.press_data(OUTSIDER, "ex:full")
    assert all(c.method != "sendDocument" for c in calls)


async def test_stats_with_chart(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await full_intake(h, FAMILY + 1)
    calls = await h.say(MEMBER, "/stats")
    text = "\n".join(h.texts(calls))
    assert "2 cases" in text and "Orphans without support: 2" in text
    assert "Median time from submission to decision" in text
    # Cases per month by status, and the days to a decision (no support given: no chart).
    photos = [c for c in calls if c.method == "sendPhoto"]
    assert [p.params["caption"] for p in photos] == [
        "Cases per month, by status",
        "Days from submission to decision",
    ]
    assert all(next(iter(p.files.values())).content.startswith(b"\x89PNG") for p in photos)


async def due_soon(h: Harness) -> None:
    """Move the pending support-end reminders to an hour from now: within the horizon of the
    jobs (one due later is a row only, made a job by the daily job when its day comes). The
    follow-up's reminders, days earlier, are tested in tests/test_followup.py."""
    async with h.services.db.transaction() as conn:
        await conn.execute(
            "UPDATE reminders SET due_at = ? WHERE status = 'pending' AND kind = 'support_end'",
            (iso(utcnow() + timedelta(hours=1)),),
        )


async def test_support_end_reminder_exactly_once_across_restarts(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref, months=1)
    await due_soon(h)
    assert await reminders.sync(h.app, h.services) == 1
    jobs = [j.name for j in h.app.job_queue.jobs()] if h.app.job_queue else []
    assert any(name and name.startswith("reminder-") for name in jobs)
    assert await reminders.sync(h.app, h.services) == 1  # idempotent: same id, replaced
    [row] = await h.services.db.fetchall("SELECT id FROM reminders WHERE kind = 'support_end'")
    before = len(h.fake.sent(COMMITTEE_CHAT))
    assert await h.services.review.claim_reminder(row["id"]) is True
    assert await h.services.review.claim_reminder(row["id"]) is False  # a second process
    await h.services.delivery.flush()
    sent = h.fake.sent(COMMITTEE_CHAT)[before:]
    assert len(sent) == 1 and ref in (sent[0].text or "")
    assert [d for _, d in h.fake.buttons(sent[0])] == [f"cv:renew:{ref}", f"cv:close:{ref}"]
    assert await reminders.sync(h.app, h.services) == 0
    # Renew from the reminder: a new period and a new reminder.
    await h.press(MEMBER, rf"^cv:renew:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:sd:$")
    await h.press(MEMBER, r"^rv:p:6$")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    pending = await h.services.db.fetchall(
        "SELECT kind FROM reminders WHERE status = 'pending' ORDER BY id"
    )
    # The new period's reminder, beside the first period's follow-up and the new one's.
    assert [r["kind"] for r in pending] == ["support_followup", "support_end", "support_followup"]
    assert "extended" in h.fake.texts(FAMILY)[-1]


async def test_reminders_are_rescheduled_after_a_restart(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await new_case(h)
    await approve(h, ref, months=12)
    await due_soon(h)  # a year later: due within the horizon
    await stop_app(app)

    app2 = await start_app(settings, FakeTelegram())
    try:
        assert app2.job_queue is not None
        names = [job.name for job in app2.job_queue.jobs()]
        assert "reminder-1" in names  # rebuilt from the row, with its fixed id
    finally:
        await stop_app(app2)
