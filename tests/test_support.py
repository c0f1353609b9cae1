"""Support given: a member records it from /case, the card shows only a count, the family
confirms receipt in its language with one tap, and "Not received" or no answer within
RECEIPT_DAYS alerts the member who recorded it, privately and once, across restarts."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot import receipts
from bot.config import Settings
from bot.errors import ConfigError
from bot.storage import support, utcnow
from bot.storage.db import iso
from bot.support import OTHER, Answer, Entry, parse_amount
from bot.support_text import card_line
from handlers.support import NOTE_LIMIT, OTHER_LIMIT
from handlers.util import plain
from tests.conftest import (
    COMMITTEE_CHAT,
    MEMBER,
    OTHER_MEMBER,
    OUTSIDER,
    Harness,
    make_settings,
    start_app,
    stop_app,
)
from tests.fakes.telegram import FakeTelegram
from tests.test_review import FAMILY, approve, new_case

NOTE = "Paid the March rent to the landlord <Abu Sami>"


async def record_financial(h: Harness, ref: str, member: int = MEMBER) -> None:
    """The member opens /case, presses "Record support given" and goes through the wizard:
    financial, in USD, an amount typed in Arabic-Indic digits, a note, today."""
    await h.say(member, f"/case {ref}")
    await h.press(member, rf"^sg:new:{ref}$")
    await h.press(member, r"^sg:k:financial$")
    await h.press(member, r"^sg:c:USD$")
    await h.say(member, "١٥٠٫٥")
    await h.say(member, NOTE)
    await h.press(member, r"^sg:w:0$")
    await h.press(member, r"^sg:ok:$")


async def records(h: Harness) -> list[support.Support]:
    row = await h.services.db.fetchone("SELECT id FROM cases ORDER BY id DESC LIMIT 1")
    assert row is not None
    return await support.for_case(h.services.db, h.services.ids, int(row["id"]))


async def audit_rows(h: Harness, prefix: str = "support_") -> list[tuple[str, str | None]]:
    rows = await h.services.db.fetchall(
        "SELECT action, detail FROM audit WHERE action LIKE ? ORDER BY id", (prefix + "%",)
    )
    return [(r["action"], r["detail"]) for r in rows]


def group_texts(h: Harness) -> list[str]:
    """Everything the bot wrote into the committee group (sent and edited)."""
    return [c.text for c in h.fake.sent(COMMITTEE_CHAT) if c.text is not None]


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_a_member_records_support_from_case_and_the_family_is_asked(
    harness: Harness, lang: str
) -> None:
    h = harness
    h.languages[MEMBER] = lang
    ref = await new_case(h, lang)
    await h.say(MEMBER, "/start", language_code=lang)
    await approve(h, ref)
    await record_financial(h, ref)

    [given] = await records(h)
    assert (given.kind, given.amount, given.currency) == ("financial", Decimal("150.5"), "USD")
    assert given.note == NOTE and given.recorder == MEMBER and given.receipt == support.PENDING
    assert given.given_on == h.services.support.today()
    assert given.recorded_by_name == "Test"
    raw = await h.services.db.fetchone("SELECT note FROM support_given")
    assert raw is not None and b"landlord" not in bytes(raw["note"])  # encrypted
    [(action, detail)] = await audit_rows(h)
    assert action == "support_recorded" and json.loads(detail or "{}") == {"kind": "financial"}

    # The family is asked in its language: the kind and the day, never the amount or note.
    question = h.fake.texts(FAMILY)[-1]
    assert ref in question and "150" not in question and "١٥٠" not in question
    assert "landlord" not in question
    t = h.services.i18n.get(lang)
    assert t.raw("Financial support") in question
    assert h.find_button(FAMILY, rf"^sr:y:{given.id}$")

    # The member's private view shows the history.
    await h.say(MEMBER, f"/case {ref}")
    private = "\n".join(h.fake.texts(MEMBER)[-3:])
    assert "landlord" in private and t.raw("waiting for the family's answer") in private

    # The group: only the count line on the card, nothing else about it.
    committee = h.services.i18n.get("ar")
    line = card_line(committee, support.Summary(1, given.given_on))
    assert line is not None
    card = h.fake.messages(COMMITTEE_CHAT)[0]
    assert plain(line) in str(card.get("text"))
    assert all("landlord" not in text and "150" not in text for text in group_texts(h))
    assert not any("sg:" in (data or "") for _, data in h.fake.buttons(card))
    assert len(h.fake.messages(COMMITTEE_CHAT)) == 1  # the card, edited; no message of its own


async def test_the_card_counts_in_plural(harness: Harness) -> None:
    h = harness
    en, ar = h.services.i18n.get("en"), h.services.i18n.get("ar")
    day = date(2026, 3, 12)
    assert card_line(en, support.Summary(0, None)) is None
    # The label bold, like the card's other fields.
    assert card_line(en, support.Summary(3, day)) == (
        "<b>Support given:</b> 3 times, last Thursday, March 12, 2026"
    )
    assert card_line(en, support.Summary(1, day)).startswith("<b>Support given:</b> 1 time,")  # type: ignore[union-attr]
    assert card_line(ar, support.Summary(3, day)) != card_line(ar, support.Summary(11, day))
    # Arabic: "last on <weekday>", never «في الثلاثاء».
    for times in (1, 2, 3, 11, 100):
        line = card_line(ar, support.Summary(times, day))
        assert line is not None and line.startswith("<b>الدعم المقدَّم:</b> ")
        assert "يوم الخميس" in line and "في الخميس" not in line


def test_amounts_are_read_in_any_digits() -> None:
    assert parse_amount("١٥٠٫٥") == Decimal("150.5")
    assert parse_amount("1,250.75") == Decimal("1250.75")
    assert parse_amount("۲۰۰") == Decimal("200")
    for bad in ("", "abc", "0", "-5", "1.234", "1e3", "²", "9999999999"):
        assert parse_amount(bad) is None, bad


async def test_the_family_confirms_and_a_second_press_changes_nothing(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await record_financial(h, ref)
    calls = await h.press(FAMILY, r"^sr:y:")
    assert any(c.method == "editMessageReplyMarkup" for c in calls)  # buttons removed
    assert "Thank you for confirming." in h.texts(calls)
    [given] = await records(h)
    assert given.receipt == support.RECEIVED and given.alerted_at is None
    # A stale press (an old client) is thanked in a popup; nothing changes, nobody is alerted.
    calls = await h.press_data(FAMILY, f"sr:n:{given.id}")
    assert h.alerts(calls) == ["You have already answered. Thank you!"]
    assert (await records(h))[0].receipt == support.RECEIVED
    assert [a for a, _ in await audit_rows(h)] == ["support_recorded", "support_receipt_answered"]
    assert not [t for t in h.fake.texts(MEMBER) if "did not receive" in t]


async def test_receipt_buttons_refuse_anybody_but_the_family(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await record_financial(h, ref)
    [given] = await records(h)
    for intruder in (OUTSIDER, MEMBER):
        await h.say(intruder, "/start")
        calls = await h.press_data(intruder, f"sr:n:{given.id}")
        assert h.alerts(calls) == ["This button is not for you."]
    assert (await records(h))[0].receipt == support.PENDING
    # Forged on the committee card: refused without a word to the group.
    calls = await h.press_data(FAMILY, f"sr:y:{given.id}", chat_id=COMMITTEE_CHAT)
    assert h.alerts(calls) == ["This button no longer works."]
    assert (await records(h))[0].receipt == support.PENDING
    # Nor can a non-member open the wizard.
    calls = await h.press_data(OUTSIDER, f"sg:new:{ref}")
    assert h.alerts(calls) == ["Only committee members can do this."]


async def test_not_received_alerts_the_recorder_privately_with_the_history(
    harness: Harness,
) -> None:
    h = harness
    ref = await new_case(h, "ar")
    h.languages[MEMBER] = "en"
    await approve(h, ref)
    await record_financial(h, ref)
    group_before = len(group_texts(h))
    calls = await h.press(FAMILY, r"^sr:n:")
    [given] = await records(h)
    assert given.receipt == support.NOT_RECEIVED and given.alerted_at is not None
    [alert] = [c.text for c in calls if c.chat_id == MEMBER and c.text]
    assert ref in alert and "did not receive" in alert
    assert "landlord" in alert and "not received" in alert  # the delivery history
    assert not [c for c in calls if c.chat_id == OTHER_MEMBER]
    # The group: at most the card edited, never the alert.
    assert all("did not receive" not in t for t in group_texts(h)[group_before:])
    assert [a for a, _ in await audit_rows(h)] == [
        "support_recorded",
        "support_receipt_answered",
        "support_alert_sent",
    ]
    # The family's /mydata shows the support recorded for it, with its answer.
    mydata = "\n".join(h.texts(await h.say(FAMILY, "/mydata", language_code="ar")))
    ar = h.services.i18n.get("ar")
    assert ar.raw("Financial support") in mydata and ar.raw("not received") in mydata
    assert "landlord" not in mydata


async def _age(settings: Settings, days: int) -> None:
    """The records were made ``days`` ago (the clock moved on while the bot was down)."""
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    try:
        async with Harness(app, fake).services.db.transaction() as conn:
            await conn.execute(
                "UPDATE support_given SET created_at = ?", (iso(utcnow() - timedelta(days=days)),)
            )
    finally:
        await stop_app(app)


async def _run_receipts_job(h: Harness) -> None:
    assert h.app.job_queue is not None
    [job] = h.app.job_queue.get_jobs_by_name(receipts.JOB)
    await job.run(h.app)
    await h.services.delivery.wait_idle()


async def test_no_answer_alerts_the_recorder_once_across_restarts(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await new_case(h)
    await approve(h, ref)
    await record_financial(h, ref)
    await _run_receipts_job(h)  # not due yet
    assert (await records(h))[0].receipt == support.PENDING
    await stop_app(app)

    await _age(settings, settings.receipt_days + 1)
    alerts = 0
    for _ in range(2):  # two restarts, the job run twice after each
        fake2 = FakeTelegram()
        app2 = await start_app(settings, fake2)
        h2 = Harness(app2, fake2)
        try:
            await _run_receipts_job(h2)
            await _run_receipts_job(h2)
            alerts += len([t for t in fake2.texts(MEMBER) if ref in t and "not confirmed" in t])
            assert not fake2.texts(OTHER_MEMBER) and not fake2.texts(COMMITTEE_CHAT)
            [given] = await records(h2)
            assert given.receipt == support.UNANSWERED
            actions = [a for a, _ in await audit_rows(h2)]
        finally:
            await stop_app(app2)
        fake2.assert_clean()
    assert alerts == 1
    assert actions == ["support_recorded", "support_receipt_timeout", "support_alert_sent"]


async def test_a_recorder_no_longer_a_member_alerts_the_committee_privately(
    settings: Settings, key: str
) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await new_case(h)
    await approve(h, ref)
    await record_financial(h, ref)
    await stop_app(app)
    await _age(settings, settings.receipt_days + 1)
    fewer = make_settings(
        settings.data_dir, ENCRYPTION_KEY=key, COMMITTEE_MEMBER_IDS=f"{OTHER_MEMBER}"
    )
    fake2 = FakeTelegram()
    app2 = await start_app(fewer, fake2)
    try:
        await _run_receipts_job(Harness(app2, fake2))
        assert not fake2.texts(MEMBER)
        assert [t for t in fake2.texts(OTHER_MEMBER) if ref in t and "not confirmed" in t]
        assert not fake2.texts(COMMITTEE_CHAT)
    finally:
        await stop_app(app2)
    fake2.assert_clean()


async def test_other_support_through_a_task_on_a_typed_day(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    case = await h.services.review.get(ref)
    starts = utcnow() + timedelta(days=2)
    task, _ = await h.services.tasks.publish(
        MEMBER,
        "Bring the heater",
        "To the family's home",
        "driving",
        "north",
        starts,
        60,
        1,
        case.id,
    )
    await h.say(MEMBER, f"/case {ref}")
    await h.press(MEMBER, rf"^sg:new:{ref}$")
    await h.press(MEMBER, rf"^sg:k:{OTHER}$")
    await h.say(MEMBER, "A gas heater and its bottle")
    await h.press(MEMBER, r"^sg:skip:$")  # no note
    await h.press(MEMBER, r"^sg:w:d$")
    # Between the day the case was submitted (today) and today: anything else is refused.
    today = h.services.support.today()
    for wrong in (today + timedelta(days=1), today - timedelta(days=1), date(2026, 3, 12)):
        calls = await h.say(MEMBER, wrong.isoformat())
        assert "The day must be between" in " ".join(h.texts(calls))
    calls = await h.say(MEMBER, "next week")
    assert "not in the future" in " ".join(h.texts(calls))
    await h.say(MEMBER, today.isoformat().translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
    await h.press_data(MEMBER, "sg:t:999999")  # a task of no such case: stale
    await h.press(MEMBER, rf"^sg:t:{task.id}$")
    confirm = h.newest(MEMBER)
    assert "A gas heater" in confirm and task.ref in confirm
    await h.press(MEMBER, r"^sg:ok:$")
    [given] = await records(h)
    assert (given.kind, given.other, given.task_id) == (
        OTHER,
        "A gas heater and its bottle",
        task.id,
    )
    assert given.given_on == today and given.amount is None and given.note is None
    raw = await h.services.db.fetchone("SELECT other FROM support_given")
    assert raw is not None and b"heater" not in bytes(raw["other"])
    # The family reads "Other support", never the member's words.
    question = h.fake.texts(FAMILY)[-1]
    assert "Other support" in question and "heater" not in question
    await h.say(MEMBER, f"/case {ref}")
    assert task.ref in "\n".join(h.fake.texts(MEMBER)[-3:])
    # Anonymised with the case: the figures stay, the words go.
    await h.services.privacy.erase(FAMILY)
    [after] = await records(h)
    assert (after.kind, after.other, after.recorder) == (OTHER, None, None)


async def test_only_an_approved_case_takes_support(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.say(MEMBER, f"/case {ref}")
    assert not [
        d
        for m in h.fake.messages(MEMBER)
        for _, d in h.fake.buttons(m)
        if d and d.startswith("sg:")
    ]
    calls = await h.press_data(MEMBER, f"sg:new:{ref}")
    assert h.alerts(calls) and not await records(h)
    await approve(h, ref)
    await h.say(MEMBER, f"/case {ref}")
    await h.press(MEMBER, rf"^sg:new:{ref}$")
    await h.press(MEMBER, r"^sg:k:moral$")
    await h.press(MEMBER, r"^sg:skip:$")
    await h.press(MEMBER, r"^sg:w:0$")
    await h.press_data(MEMBER, f"cv:close:{ref}", chat_id=COMMITTEE_CHAT)  # closed meanwhile
    calls = await h.press(MEMBER, r"^sg:ok:$")
    assert not await records(h) and h.texts(calls)
    assert await h.services.sessions.load(MEMBER) is None


def test_currencies_and_receipt_days_are_settings(tmp_path: Path, key: str) -> None:
    folder = tmp_path
    default = make_settings(folder, ENCRYPTION_KEY=key)
    assert default.currencies == ("JOD", "USD") and default.receipt_days == 3
    chosen = make_settings(folder, ENCRYPTION_KEY=key, CURRENCIES="usd, eur", RECEIPT_DAYS="5")
    assert chosen.currencies == ("USD", "EUR") and chosen.receipt_days == 5
    for bad in ({"CURRENCIES": "dollars"}, {"RECEIPT_DAYS": "0"}, {"RECEIPT_DAYS": "soon"}):
        with pytest.raises(ConfigError) as problem:
            make_settings(folder, ENCRYPTION_KEY=key, **bad)
        assert next(iter(bad)) in str(problem.value)


async def test_the_wizard_and_the_receipt_buttons_survive_a_restart(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await new_case(h)
    await approve(h, ref)
    await h.say(MEMBER, f"/case {ref}")
    await h.press(MEMBER, rf"^sg:new:{ref}$")
    await h.press(MEMBER, r"^sg:k:moral$")
    await stop_app(app)
    app = await start_app(settings, fake)  # the same chats: their buttons are still there
    h = Harness(app, fake)
    try:
        await h.press(MEMBER, r"^sg:skip:$")
        await h.press(MEMBER, r"^sg:w:0$")
        await h.press(MEMBER, r"^sg:ok:$")
        assert [r.kind for r in await records(h)] == ["moral"]
    finally:
        await stop_app(app)
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    try:
        await h.press(FAMILY, r"^sr:y:")
        assert (await records(h))[0].receipt == support.RECEIVED
    finally:
        await stop_app(app)
    fake.assert_clean()


def _buttons_of(h: Harness, chat: int, message_id: int) -> list[str]:
    """The callback data of one message's buttons as it shows now."""
    [message] = [m for m in h.fake.messages(chat) if int(m["message_id"]) == message_id]
    return [d for _, d in h.fake.buttons(message) if d]


async def test_an_erased_family_is_asked_nothing_and_alerts_nobody(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    try:
        ref = await new_case(h)
        await approve(h, ref)
        await record_financial(h, ref)
        await h.services.privacy.erase(FAMILY)  # /delete_my_data: the case is anonymised
        [given] = await records(h)
        assert given.receipt == support.UNANSWERED and given.alerted_at is not None
        assert given.recorded_by_name is None
        # Support recorded afterwards on the anonymised case: no question, closed at once.
        asked = len(h.fake.texts(FAMILY))
        entry = Entry(kind="moral", given_on=h.services.support.today())
        await h.services.support.record(ref, MEMBER, "Test", entry)
        later = (await records(h))[-1]
        assert later.receipt == support.UNANSWERED and later.alerted_at is not None
        assert len(h.fake.texts(FAMILY)) == asked
    finally:
        await stop_app(app)
    await _age(settings, settings.receipt_days + 1)
    fake2 = FakeTelegram()
    app2 = await start_app(settings, fake2)
    try:
        await _run_receipts_job(Harness(app2, fake2))
        assert not fake2.texts(MEMBER) and not fake2.texts(OTHER_MEMBER)
    finally:
        await stop_app(app2)


async def test_a_pending_record_of_a_case_without_family_is_not_followed(
    harness: Harness,
) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await record_financial(h, ref)
    # Anonymised behind the repository's back (as an old database could hold it).
    async with h.services.db.transaction() as conn:
        await conn.execute("UPDATE cases SET family = NULL, user_id = NULL")
    later = utcnow() + timedelta(days=30)
    assert await support.unanswered_since(h.services.db, later) == []


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_the_alert_shows_the_last_deliveries_under_telegram_s_limit(
    harness: Harness, lang: str
) -> None:
    h = harness
    h.languages[MEMBER] = lang
    ref = await new_case(h)
    await approve(h, ref)
    service = h.services.support
    long_words = "ن" * NOTE_LIMIT
    made = [
        await service.record(
            ref,
            MEMBER,
            "M" * 64,
            Entry(
                kind=OTHER,
                given_on=service.today(),
                note=long_words,
                other="و" * OTHER_LIMIT,
                amount=Decimal("999999999.99"),
                currency="JOD",
            ),
        )
        for _ in range(7)
    ]
    assert await service.answer(made[-1], FAMILY, False) is Answer.SAVED
    h.services.delivery.kick()
    await h.services.delivery.wait_idle()
    t = h.services.i18n.get(lang)
    check = t.raw("Please check with the family and the volunteers.")
    [alert] = [c for c in h.fake.sent(MEMBER) if c.text and check in c.text and c.ok]
    assert alert.text is not None and len(alert.text) < 4096
    assert "…" in alert.text and long_words not in alert.text
    assert (
        t.plural("… and {n} earlier: /case {ref}", "… and {n} earlier: /case {ref}", 2, ref=ref)
        in alert.text
    )


async def test_a_late_not_received_alerts_the_recorder_once_more(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await new_case(h)
    await approve(h, ref)
    await record_financial(h, ref)
    await stop_app(app)
    await _age(settings, settings.receipt_days + 1)
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    try:
        await _run_receipts_job(h)
        assert [t for t in fake.texts(MEMBER) if ref in t and "not confirmed" in t]
        await h.press(FAMILY, r"^sr:n:")
        calls = await h.press_data(FAMILY, f"sr:n:{(await records(h))[0].id}")
        assert h.alerts(calls) == ["You have already answered. Thank you!"]
        late = [t for t in fake.texts(MEMBER) if ref in t and "now answered" in t]
        assert len(late) == 1
        [given] = await records(h)
        assert given.receipt == support.NOT_RECEIVED
        actions = [a for a, _ in await audit_rows(h)]
        assert actions.count("support_alert_sent") == 2
    finally:
        await stop_app(app)


async def test_a_finished_wizard_s_buttons_do_not_act_on_the_next(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await h.say(MEMBER, f"/case {ref}")
    await h.press(MEMBER, rf"^sg:new:{ref}$")
    await h.press(MEMBER, r"^sg:k:financial$")
    old_skip, _ = h.find_button(MEMBER, r"^sg:skip:$")
    await h.press(MEMBER, r"^sg:skip:$")
    await h.press(MEMBER, r"^sg:skip:$")
    await h.press(MEMBER, r"^sg:w:0$")
    await h.press(MEMBER, r"^sg:ok:$")
    # A second wizard, at its amount step: the first wizard's old Skip must not move it.
    await h.say(MEMBER, f"/case {ref}")
    await h.press(MEMBER, rf"^sg:new:{ref}$")
    await h.press(MEMBER, r"^sg:k:financial$")
    calls = await h.press_data(MEMBER, "sg:skip:", message_id=old_skip)
    assert h.alerts(calls) == ["This button no longer works."]
    session = await h.services.sessions.load(MEMBER)
    assert session is not None and session["step"] == "amount"
    # A finished wizard's button: refused, and its buttons go.
    await h.press(MEMBER, r"^sg:x:$")
    message_id, _ = h.find_button(MEMBER, r"^sg:c:USD$", history=True)
    calls = await h.press_data(MEMBER, "sg:c:USD", message_id=message_id)
    assert h.alerts(calls) == ["This button no longer works."]
    assert not _buttons_of(h, MEMBER, message_id)


async def test_a_typed_answer_takes_the_buttons_off_its_question(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await h.say(MEMBER, f"/case {ref}")
    await h.press(MEMBER, rf"^sg:new:{ref}$")
    await h.press(MEMBER, r"^sg:k:financial$")
    amount_prompt, _ = h.find_button(MEMBER, r"^sg:skip:$")
    await h.say(MEMBER, "150")
    await h.services.delivery.wait_idle()
    assert not _buttons_of(h, MEMBER, amount_prompt)
    note_prompt, _ = h.find_button(MEMBER, r"^sg:skip:$")
    assert note_prompt != amount_prompt
    await h.say(MEMBER, "A note")
    await h.services.delivery.wait_idle()
    assert not _buttons_of(h, MEMBER, note_prompt)
    # Yesterday is before the case was submitted (today): not offered, and refused if forged.
    when, _ = h.find_button(MEMBER, r"^sg:w:0$")
    assert "sg:w:1" not in _buttons_of(h, MEMBER, when)
    calls = await h.press_data(MEMBER, "sg:w:1", message_id=when)
    assert [a for a in h.alerts(calls) if "The day must be between" in a]
    assert (await h.services.sessions.load(MEMBER) or {})["step"] == "when"
    # The confirmation shows the amount and the note: sent protected.
    calls = await h.press(MEMBER, r"^sg:w:0$")
    [confirm] = [c for c in calls if c.method == "sendMessage" and c.chat_id == MEMBER]
    assert confirm.params.get("protect_content") is True


async def test_record_support_has_its_own_button(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await h.say(MEMBER, f"/case {ref}")
    [label] = [
        text
        for m in h.fake.messages(MEMBER)
        for text, data in h.fake.buttons(m)
        if data == f"sg:new:{ref}"
    ]
    assert label.startswith("📦") and "🤝" not in label
