"""Vetted volunteers: pending until a member approves their card, which shows matching facts
only; name and phone in a member's private chat, audited; suspension and restoration; leaving
and suspension give back every slot; only active volunteers take tasks that fit them."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from bot.config import Settings
from bot.notices import VOLUNTEER_NOTICES
from bot.storage.db import migrations
from bot.vetting import DECLINE
from tests.conftest import (
    COMMITTEE_CHAT,
    MEMBER,
    OTHER_MEMBER,
    OUTSIDER,
    Harness,
    start_app,
    stop_app,
)
from tests.fakes.telegram import FakeTelegram
from tests.flows import approve_volunteer, full_intake
from tests.test_tasks import new_task, volunteer
from tests.test_volunteers import NAME, register

PENDING_ONE = 1501
PHONE = "+962795551234"
WAITING = 1502


async def status_of(h: Harness, user: int) -> str | None:
    row = await h.services.db.fetchone(
        "SELECT status FROM volunteers WHERE user_id = ?", (h.services.ids.pid(user),)
    )
    return None if row is None else str(row["status"])


async def ref_of(h: Harness, user: int) -> str:
    row = await h.services.db.fetchone(
        "SELECT ref FROM volunteers WHERE user_id = ?", (h.services.ids.pid(user),)
    )
    assert row is not None
    return str(row["ref"])


async def audit_rows(h: Harness) -> list[tuple[Any, str, Any]]:
    """The audit's rows, each actor's pseudonym read back as the test's Telegram id."""
    rows = await h.services.db.fetchall("SELECT actor_id, action, detail FROM audit ORDER BY id")
    people = (MEMBER, OTHER_MEMBER, OUTSIDER, PENDING_ONE, WAITING)
    known = {h.services.ids.pid(user): user for user in people}
    return [(known.get(r["actor_id"], r["actor_id"]), r["action"], r["detail"]) for r in rows]


def offers(h: Harness, user: int) -> list[str]:
    """The task offers a person received: messages with an Accept button."""
    return [
        data
        for call in h.fake.sent(user)
        for _, data in h.fake.buttons(call)
        if data is not None and data.startswith("tk:a:")
    ]


def group_calls_hold_nothing_personal(h: Harness) -> None:
    """Every call the bot made to the committee group, whatever its kind, holds no name and
    no phone of a volunteer."""
    group = [c for c in h.fake.calls if c.chat_id == COMMITTEE_CHAT]
    assert group
    for call in group:
        dumped = json.dumps(call.params, ensure_ascii=False)
        assert "Omar" not in dumped and "Haddad" not in dumped
        assert PHONE not in dumped and "795551234" not in dumped


async def test_a_new_volunteer_is_pending_and_receives_no_offer(harness: Harness) -> None:
    h = harness
    await register(h, PENDING_ONE, approved=False)
    assert await status_of(h, PENDING_ONE) == "pending"
    calls = await h.say(PENDING_ONE, "/volunteer")
    profile = h.texts(calls)[0]
    assert "Waiting for approval" in profile and "once it approves you" in profile
    assert "vo:p" not in str([c.params for c in calls])  # no Pause for a pending profile
    calls = await h.press_data(PENDING_ONE, "vo:r", chat_id=PENDING_ONE)  # forged Resume
    assert "no longer works" in h.alerts(calls)[0]
    assert await status_of(h, PENDING_ONE) == "pending"
    calls = await h.say(PENDING_ONE, "/tasks")
    assert "waiting for the committee's approval" in h.texts(calls)[0]
    ref = await new_task(h)
    assert offers(h, PENDING_ONE) == []
    calls = await h.press_data(PENDING_ONE, f"tk:a:{ref}", chat_id=PENDING_ONE)
    assert "Only active volunteers" in h.alerts(calls)[0]
    assert await h.services.tasks.mine(PENDING_ONE) == []


async def test_the_card_shows_matching_facts_and_a_member_approves(harness: Harness) -> None:
    h = harness
    await h.say(MEMBER, "/start")
    await register(h, PENDING_ONE, approved=False)
    ref = await ref_of(h, PENDING_ONE)
    assert ref.startswith("V-") and str(PENDING_ONE) not in ref
    card = h.fake.messages(COMMITTEE_CHAT)[-1]
    text = card["text"]
    for fact in (ref, "Driving", "Cooking", "North", "Arabic", "English", "Weekends"):
        assert fact in text or h.services.i18n.get("ar").raw(fact) in text, fact
    buttons = [data for _, data in h.fake.buttons(card)]
    assert buttons == [f"vv:a:{ref}", f"vv:d:{ref}", f"vv:i:{ref}"]

    # Someone outside the committee presses Approve (in the group, or forged): refused, audited.
    calls = await h.press(OUTSIDER, rf"^vv:a:{ref}$", chat_id=COMMITTEE_CHAT)
    assert "Only committee members" in h.alerts(calls)[0]
    calls = await h.press_data(OUTSIDER, f"vv:s:{ref}", chat_id=OUTSIDER)
    assert "Only committee members" in h.alerts(calls)[0]
    assert await status_of(h, PENDING_ONE) == "pending"
    refused = [row for row in await audit_rows(h) if row[1] == "action_refused"]
    assert [row[0] for row in refused] == [OUTSIDER, OUTSIDER]

    await approve_volunteer(h)
    assert await status_of(h, PENDING_ONE) == "active"
    assert (MEMBER, "volunteer_approved", f"volunteer {ref}") in await audit_rows(h)
    edited = h.fake.message(COMMITTEE_CHAT, int(card["message_id"]))
    assert edited is not None and "reply_markup" not in edited  # answered: no buttons left
    approved_by = h.services.i18n.get("ar").raw("Approved by {name}.").split("{name}")[0]
    assert ref in edited["text"] and approved_by in edited["text"]  # the committee's language
    told = h.fake.texts(PENDING_ONE)[-1]
    assert "approved your volunteer profile" in told
    # A second press (another member, an old client) is told it is decided; nothing changes.
    calls = await h.press_data(MEMBER, f"vv:a:{ref}", chat_id=COMMITTEE_CHAT)
    assert "not possible any more" in h.alerts(calls)[0]
    await new_task(h)
    assert len(offers(h, PENDING_ONE)) == 1
    group_calls_hold_nothing_personal(h)


async def test_name_and_phone_reach_only_the_members_private_chat(harness: Harness) -> None:
    h = harness
    await h.say(MEMBER, "/start")
    await register(h, PENDING_ONE, approved=False)
    ref = await ref_of(h, PENDING_ONE)
    before = len(h.fake.sent(MEMBER))
    calls = await h.press(MEMBER, rf"^vv:i:{ref}$", chat_id=COMMITTEE_CHAT)
    assert "private chat" in h.alerts(calls)[0]
    details = [c.text or "" for c in h.fake.sent(MEMBER)[before:]]
    assert len(details) == 1
    assert "Omar &lt;i&gt;Haddad&lt;/i&gt;" in details[0] and PHONE in details[0]
    assert (MEMBER, "volunteer_viewed", f"volunteer {ref}") in await audit_rows(h)
    # Not to anyone else.
    calls = await h.press_data(OUTSIDER, f"vv:i:{ref}", chat_id=COMMITTEE_CHAT)
    assert "Only committee members" in h.alerts(calls)[0]
    assert all(NAME not in (c.text or "") for c in h.fake.sent(OUTSIDER))
    assert [r[0] for r in await audit_rows(h) if r[1] == "action_refused"] == [OUTSIDER]
    await approve_volunteer(h)
    await h.say(MEMBER, "/volunteers", chat_id=COMMITTEE_CHAT)  # answered in private
    group_calls_hold_nothing_personal(h)


async def test_a_declined_volunteer_is_told_kindly_in_their_language(harness: Harness) -> None:
    h = harness
    await register(h, PENDING_ONE, lang="ar", approved=False)
    ref = await ref_of(h, PENDING_ONE)
    await h.press(MEMBER, rf"^vv:d:{ref}$", chat_id=COMMITTEE_CHAT)
    assert await status_of(h, PENDING_ONE) is None  # the profile and its personal data: gone
    ar = h.services.i18n.get("ar")
    told = h.fake.texts(PENDING_ONE)[-1]
    assert told == ar.raw(VOLUNTEER_NOTICES[DECLINE]) and "Thank" not in told
    card = h.fake.messages(COMMITTEE_CHAT)[-1]
    assert "reply_markup" not in card and ref in card["text"]
    assert (MEMBER, "volunteer_declined", f"volunteer {ref}") in await audit_rows(h)
    group_calls_hold_nothing_personal(h)


async def test_members_suspend_and_restore_a_volunteer(harness: Harness) -> None:
    h = harness
    await volunteer(h, PENDING_ONE)
    await volunteer(h, WAITING)
    ref = await ref_of(h, PENDING_ONE)
    task = await new_task(h, needed=1)
    await h.press_data(PENDING_ONE, f"tk:a:{task}", chat_id=PENDING_ONE)
    await h.press_data(WAITING, f"tk:a:{task}", chat_id=WAITING)  # on the waiting list
    await h.say(MEMBER, "/start")
    calls = await h.say(MEMBER, "/volunteers")
    listing = h.texts(calls)[-1]
    assert ref in listing and "Active" in listing and str(PENDING_ONE) not in listing
    assert "Omar" not in listing
    told_before = len(h.fake.sent(MEMBER))
    calls = await h.press(MEMBER, rf"^vv:s:{ref}$")
    assert "suspended" in h.alerts(calls)[0]
    assert await status_of(h, PENDING_ONE) == "suspended"
    assert await h.services.tasks.mine(PENDING_ONE) == []
    assert [s for _, s in await h.services.tasks.mine(WAITING)] == ["accepted"]
    assert "A place became free" in h.fake.texts(WAITING)[-1]
    creator = [c.text or "" for c in h.fake.sent(MEMBER)[told_before:]]
    assert any("can't make it" in text and task in text for text in creator)
    assert "suspended your volunteer profile" in h.fake.texts(PENDING_ONE)[-1]
    left = await h.services.db.fetchall(
        "SELECT 1 FROM reminders WHERE volunteer_id = ?", (h.services.ids.pid(PENDING_ONE),)
    )
    assert left == []
    # Suspended: no offer, no accept, no resume of their own.
    await new_task(h)
    assert len(offers(h, PENDING_ONE)) == 1  # the first task's offer only
    calls = await h.say(PENDING_ONE, "/volunteer")
    assert "Suspended" in h.texts(calls)[0]
    calls = await h.press_data(PENDING_ONE, "vo:r", chat_id=PENDING_ONE)
    assert await status_of(h, PENDING_ONE) == "suspended"
    # Restored.
    await h.say(MEMBER, "/volunteers")
    calls = await h.press(MEMBER, rf"^vv:r:{ref}$")
    assert await status_of(h, PENDING_ONE) == "active"
    assert "restored your volunteer profile" in h.fake.texts(PENDING_ONE)[-1]
    await new_task(h)
    assert len(offers(h, PENDING_ONE)) == 2
    actions = [(a, d) for actor, a, d in await audit_rows(h) if actor == MEMBER]
    assert ("volunteer_suspended", f"volunteer {ref}") in actions
    assert ("volunteer_restored", f"volunteer {ref}") in actions


async def leave_and_check(h: Harness, leave: list[tuple[str, str]]) -> None:
    """A volunteer who holds the only place leaves: the waiting one moves up, the creator is
    told, the leaver's reminders are gone."""
    await volunteer(h, PENDING_ONE)
    await volunteer(h, WAITING)
    task = await new_task(h, needed=1)
    await h.press_data(PENDING_ONE, f"tk:a:{task}", chat_id=PENDING_ONE)
    await h.press_data(WAITING, f"tk:a:{task}", chat_id=WAITING)
    assert await h.services.db.fetchall(
        "SELECT 1 FROM reminders WHERE volunteer_id = ?", (h.services.ids.pid(PENDING_ONE),)
    )
    told_before = len(h.fake.sent(MEMBER))
    for kind, value in leave:
        if kind == "say":
            await h.say(PENDING_ONE, value)
        else:
            await h.press(PENDING_ONE, value)
    assert await status_of(h, PENDING_ONE) is None
    assert [s for _, s in await h.services.tasks.mine(WAITING)] == ["accepted"]
    assert "A place became free" in h.fake.texts(WAITING)[-1]
    assert await h.services.db.fetchall(
        "SELECT 1 FROM reminders WHERE volunteer_id = ?", (h.services.ids.pid(WAITING),)
    )
    left = await h.services.db.fetchall(
        "SELECT 1 FROM reminders WHERE volunteer_id = ?", (h.services.ids.pid(PENDING_ONE),)
    )
    assert left == []
    creator = [c.text or "" for c in h.fake.sent(MEMBER)[told_before:]]
    assert any("A volunteer can't make it" in text and task in text for text in creator)
    assert all("Omar" not in text for text in creator)
    counts = await h.services.tasks.people_of(
        (await h.services.tasks.get(task)).id  # type: ignore[union-attr]
    )
    assert counts.get("accepted") == 1
    # Nothing left names the leaver: no task message to them (sent offers and reminders
    # included), no audit row with their pseudonym, no notice naming them to the creator.
    pid = h.services.ids.pid(PENDING_ONE)
    assert (
        await h.services.db.fetchall(
            "SELECT kind FROM outbox WHERE chat_id = ? AND task_id IS NOT NULL", (pid,)
        )
        == []
    )
    assert (
        await h.services.db.fetchall("SELECT action FROM audit WHERE actor_id = ?", (pid,)) == []
    )
    for row in await h.services.db.fetchall(
        "SELECT payload FROM outbox WHERE payload IS NOT NULL"
    ):
        assert PENDING_ONE not in h.services.cipher.decrypt_json(row["payload"]).values()


async def test_leaving_gives_back_the_slot_and_drops_the_reminders(harness: Harness) -> None:
    await leave_and_check(
        harness, [("say", "/volunteer"), ("press", r"^vo:l$"), ("press", r"^vo:L$")]
    )


async def test_erasure_gives_back_the_slot_and_drops_the_reminders(harness: Harness) -> None:
    await leave_and_check(harness, [("say", "/delete_my_data"), ("press", r"^pd:y$")])


async def test_a_task_that_does_not_fit_cannot_be_accepted(harness: Harness) -> None:
    h = harness
    await volunteer(h, PENDING_ONE, skill="tutoring")
    task = await new_task(h)  # driving, in the north
    assert offers(h, PENDING_ONE) == []
    calls = await h.press_data(PENDING_ONE, f"tk:a:{task}", chat_id=PENDING_ONE)
    assert "does not fit" in h.texts(calls)[-1]
    assert await h.services.tasks.mine(PENDING_ONE) == []


async def test_the_card_buttons_work_after_a_restart(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    await register(h, PENDING_ONE, approved=False)
    ref = await ref_of(h, PENDING_ONE)
    await stop_app(app)

    app2 = await start_app(settings, fake)  # the same Telegram: the card is still there
    h2 = Harness(app2, fake)
    try:
        await approve_volunteer(h2)
        assert await status_of(h2, PENDING_ONE) == "active"
        card = fake.messages(COMMITTEE_CHAT)[-1]
        assert ref in card["text"] and "reply_markup" not in card
        await new_task(h2)
        assert len(offers(h2, PENDING_ONE)) == 1
    finally:
        await stop_app(app2)
    fake.assert_clean()


def test_volunteers_registered_before_vetting_stay_active(tmp_path: Any) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for number, script in migrations():
        if number > 6:
            break
        assert isinstance(script, str)
        conn.executescript(script)
    conn.execute(
        "INSERT INTO people (user_id, language, created_at, updated_at) "
        "VALUES (1, 'ar', '2026-01-01', '2026-01-01')"
    )
    conn.execute(
        "INSERT INTO volunteers (user_id, answers, personal, created_at, updated_at) "
        "VALUES (1, '{}', x'00', '2026-01-01', '2026-01-01')"
    )
    conn.execute("PRAGMA user_version=6")
    conn.commit()
    for number, script in migrations():
        if number > 6 and isinstance(script, str):  # the pseudonyms' Python step: test_at_rest
            conn.executescript(script)
    row = conn.execute("SELECT status, ref FROM volunteers").fetchone()
    assert row[0] == "active" and row[1].startswith("V-") and len(row[1]) == 8
    conn.close()


async def test_a_card_decided_elsewhere_shows_where_the_volunteer_is(harness: Harness) -> None:
    h = harness
    await h.say(MEMBER, "/start")
    await register(h, PENDING_ONE, approved=False)
    ref = await ref_of(h, PENDING_ONE)
    card_id, _ = h.find_button(COMMITTEE_CHAT, rf"^vv:a:{ref}$")
    await h.say(MEMBER, "/volunteers")
    calls = await h.press(MEMBER, rf"^vv:a:{ref}$")  # approved from the list, in private
    assert "approved" in h.alerts(calls)[0]
    assert await status_of(h, PENDING_ONE) == "active"
    card = h.fake.message(COMMITTEE_CHAT, card_id)
    assert card is not None and "reply_markup" in card  # the group's card does not know yet
    calls = await h.press(OTHER_MEMBER, rf"^vv:d:{ref}$", chat_id=COMMITTEE_CHAT)
    assert await status_of(h, PENDING_ONE) == "active"  # a decided volunteer stays decided
    card = h.fake.message(COMMITTEE_CHAT, card_id)
    assert card is not None and "reply_markup" not in card
    assert h.services.i18n.get("ar").raw("Active") in card["text"]

    # A volunteer who left while pending: their card says so once pressed.
    await register(h, WAITING, approved=False)
    other = await ref_of(h, WAITING)
    card_id, _ = h.find_button(COMMITTEE_CHAT, rf"^vv:a:{other}$")
    await h.say(WAITING, "/volunteer")
    await h.press(WAITING, r"^vo:l$")
    await h.press(WAITING, r"^vo:L$")
    calls = await h.press(MEMBER, rf"^vv:a:{other}$", chat_id=COMMITTEE_CHAT)
    assert "no longer registered" in h.alerts(calls)[0]
    card = h.fake.message(COMMITTEE_CHAT, card_id)
    assert card is not None and "reply_markup" not in card
    gone = h.services.i18n.get("ar").raw("This volunteer is no longer registered.")
    assert gone in card["text"]


async def test_a_press_forged_on_another_message_edits_nothing(harness: Harness) -> None:
    h = harness
    await register(h, PENDING_ONE, approved=False)
    ref = await ref_of(h, PENDING_ONE)
    case_ref = await full_intake(h, 99)
    case_card, _ = h.find_button(COMMITTEE_CHAT, rf"^cv:take:{case_ref}$")
    before = h.fake.message(COMMITTEE_CHAT, case_card)
    await h.press_data(MEMBER, f"vv:a:{ref}", message_id=case_card, chat_id=COMMITTEE_CHAT)
    assert await status_of(h, PENDING_ONE) == "active"  # a member's decision stands
    assert h.fake.message(COMMITTEE_CHAT, case_card) == before  # the case card is untouched


async def test_editing_keeps_the_status_and_sends_no_new_card(harness: Harness) -> None:
    h = harness
    await register(h, PENDING_ONE, approved=False)
    cards = len(h.fake.sent(COMMITTEE_CHAT))
    await h.say(PENDING_ONE, "/volunteer")
    await h.press(PENDING_ONE, r"^vo:e$")
    calls = await h.press(PENDING_ONE, r":review:S:$")
    assert "told when it is approved" in h.texts(calls)[-1]
    assert await status_of(h, PENDING_ONE) == "pending"
    assert len(h.fake.sent(COMMITTEE_CHAT)) == cards
    await approve_volunteer(h)
    await h.say(PENDING_ONE, "/volunteer")
    await h.press(PENDING_ONE, r"^vo:e$")
    calls = await h.press(PENDING_ONE, r":review:S:$")
    assert "will send you tasks" in h.texts(calls)[-1]
    assert await status_of(h, PENDING_ONE) == "active"
