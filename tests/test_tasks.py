"""Tasks: the member publishes, matching volunteers receive it, slots are exact (part of #4)."""

from __future__ import annotations

import asyncio

from bot.config import Settings
from tests.conftest import MEMBER, OUTSIDER, Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import act, approve_volunteer, full_intake, live_buttons
from tests.test_volunteers import REGISTRATION

DRIVERS = [1300 + i for i in range(10)]


async def volunteer(
    h: Harness, user: int, lang: str = "en", skill: str = "driving", area: str = "north"
) -> None:
    h.languages[user] = lang
    await h.say(user, "/volunteer")
    await h.press(user, r"^vo:y$")
    for kind, value in REGISTRATION:
        if value.endswith(":o:driving$"):
            value = value.replace("driving", skill)
        if value.endswith(":o:north$"):
            value = value.replace("north", area)
        if value.endswith(":o:cooking$"):
            continue
        await act(h, user, (kind, value))
    await h.press(user, r":review:S:$")
    await approve_volunteer(h)  # a member approves the card: offers come from then on


async def new_task(h: Harness, needed: int = 3, *, ref: str | None = None) -> str:
    await h.say(MEMBER, "/start")
    await h.say(MEMBER, "/newtask")
    await h.say(MEMBER, "Drive a family to the hospital")
    await h.say(MEMBER, "Pick-up at 10:00 near the mosque, back by noon.")
    await h.press(MEMBER, r"^tw:s:driving$")
    await h.press(MEMBER, r"^tw:a:north$")
    await h.press(MEMBER, r"^tw:d:1$")
    await h.say(MEMBER, "١٠:٠٠")
    await h.press(MEMBER, r"^tw:u:120$")
    await h.say(MEMBER, str(needed))
    if ref:
        await h.say(MEMBER, ref)
    else:
        await h.press(MEMBER, r"^tw:c:$")
    await h.press(MEMBER, r"^tw:p:$")
    row = await h.services.db.fetchone("SELECT ref FROM tasks ORDER BY id DESC LIMIT 1")
    assert row is not None
    return str(row["ref"])


async def test_publish_reaches_matching_active_volunteers_in_their_language(
    harness: Harness,
) -> None:
    h = harness
    await volunteer(h, 1300, "en")
    await volunteer(h, 1301, "ar")
    await volunteer(h, 1302, "en", skill="tutoring")  # no match: skill
    await volunteer(h, 1303, "en", area="south")  # no match: area
    await volunteer(h, 1304, "en", area="anywhere")
    await volunteer(h, 1305, "en")
    await h.say(1305, "/volunteer")
    await h.press(1305, r"^vo:p$")  # paused: no offer
    family_ref = await full_intake(h, 99)
    before = {u: len(h.fake.sent(u)) for u in range(1300, 1306)}
    await h.say(MEMBER, "/start")
    await h.say(MEMBER, "/newtask")
    await h.say(MEMBER, "Drive a family to the hospital")
    await h.say(MEMBER, "Pick-up at 10:00 near the mosque, back by noon.")
    await h.press(MEMBER, r"^tw:s:driving$")
    await h.press(MEMBER, r"^tw:a:north$")
    await h.press(MEMBER, r"^tw:d:1$")
    await h.press(MEMBER, r"^tw:t:0900$")
    await h.press(MEMBER, r"^tw:u:120$")
    await h.press(MEMBER, r"^tw:n:2$")
    calls = await h.say(MEMBER, family_ref)
    assert "3 active volunteers match" in h.texts(calls)[-1]
    await h.press(MEMBER, r"^tw:p:$")
    received = {u for u in range(1300, 1306) if len(h.fake.sent(u)) > before[u]}
    assert received == {1300, 1301, 1304}
    arabic = h.fake.texts(1301)[-1]
    assert "Drive a family" in arabic and "القيادة" in arabic
    offer = h.fake.last(1300)
    assert str(next(d for _, d in h.fake.buttons(offer))).startswith("tk:a:T")
    for secret in ("Fatima", "+962791234567", "kidney", family_ref):
        assert secret not in (offer.text or "")


async def test_slots_are_exact_when_many_accept_at_once(harness: Harness) -> None:
    h = harness
    for user in DRIVERS:
        await volunteer(h, user)
    ref = await new_task(h, needed=3)
    updates = [h.updates.callback(u, f"tk:a:{ref}", chat_id=u) for u in DRIVERS]
    for update in updates:  # the offers the volunteers press are their own messages
        assert update.callback_query is not None
    processor = h.app.update_processor
    await asyncio.gather(*(processor.process_update(u, h.app.process_update(u)) for u in updates))
    rows = await h.services.db.fetchall(
        "SELECT volunteer, status, position FROM assignments ORDER BY position"
    )
    accepted = [h.services.ids.open(r["volunteer"]) for r in rows if r["status"] == "accepted"]
    waiting = [r["position"] for r in rows if r["status"] == "waitlisted"]
    assert len(accepted) == 3 and waiting == list(range(1, 8))


async def test_withdraw_promotes_the_first_on_the_waitlist(harness: Harness) -> None:
    h = harness
    for user in DRIVERS[:3]:
        await volunteer(h, user)
    ref = await new_task(h, needed=1)
    await h.press_data(DRIVERS[0], f"tk:a:{ref}", chat_id=DRIVERS[0])
    calls = await h.press_data(DRIVERS[1], f"tk:a:{ref}", chat_id=DRIVERS[1])
    assert "number 1 on the waiting list" in h.texts(calls)[-1]
    await h.press_data(DRIVERS[2], f"tk:a:{ref}", chat_id=DRIVERS[2])
    calls = await h.press_data(DRIVERS[0], f"tk:a:{ref}", chat_id=DRIVERS[0])
    assert "already answered" in h.texts(calls)[-1]

    await h.say(DRIVERS[0], "/mytasks")
    calls = await h.press(DRIVERS[0], rf"^tk:w:{ref}$")
    promoted = [c for c in calls if c.chat_id == DRIVERS[1]]
    assert promoted and "place became free" in (promoted[-1].text or "")
    mine = await h.say(DRIVERS[1], "/mytasks")
    assert "You are in" in h.texts(mine)[0]
    mine = await h.say(DRIVERS[2], "/mytasks")
    assert "waiting list" in h.texts(mine)[0]


async def test_tasks_lists_what_fits_and_strangers_cannot_answer(harness: Harness) -> None:
    h = harness
    await volunteer(h, 1300)
    ref = await new_task(h)
    calls = await h.say(1300, "/tasks")
    assert ref in str(h.fake.buttons(calls[-1]))
    calls = await h.press_data(OUTSIDER, f"tk:a:{ref}", chat_id=OUTSIDER)
    assert "/volunteer" in h.alerts(calls)[0]
    assert await h.services.db.fetchall("SELECT * FROM assignments") == []
    calls = await h.say(OUTSIDER, "/newtask")
    assert "don't know that command" in h.texts(calls)[0]
    calls = await h.press_data(OUTSIDER, "tw:p:", chat_id=OUTSIDER)
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_a_decline_is_recorded(harness: Harness) -> None:
    h = harness
    await volunteer(h, 1300)
    ref = await new_task(h)
    calls = await h.press_data(1300, f"tk:d:{ref}", chat_id=1300)
    assert "Noted" in h.texts(calls)[-1]
    row = await h.services.db.fetchone("SELECT status FROM assignments")
    assert row is not None and row["status"] == "declined"


async def reminder_ids(h: Harness, kind: str, volunteer: int) -> list[int]:
    rows = await h.services.db.fetchall(
        "SELECT id FROM reminders WHERE kind = ? AND volunteer_id = ? AND status = 'pending' "
        "ORDER BY due_at",
        (kind, h.services.ids.pid(volunteer)),
    )
    return [int(r["id"]) for r in rows]


async def test_reminders_exactly_once_with_coming_and_cant_make_it(harness: Harness) -> None:
    from bot import reminders

    h = harness
    for user in DRIVERS[:2]:
        await volunteer(h, user)
    ref = await new_task(h, needed=1)
    await h.press_data(DRIVERS[0], f"tk:a:{ref}", chat_id=DRIVERS[0])
    await h.press_data(DRIVERS[1], f"tk:a:{ref}", chat_id=DRIVERS[1])  # waitlisted
    before = await reminder_ids(h, "task_reminder", DRIVERS[0])
    assert len(before) == 2  # 24h and 1h before (REMINDER_OFFSETS default)
    assert len(await reminder_ids(h, "task_followup", DRIVERS[0])) == 1
    assert await reminder_ids(h, "task_reminder", DRIVERS[1]) == []  # not in the task

    first = before[0]
    assert await reminders.claim(h.services, first) is True
    assert await reminders.claim(h.services, first) is False  # a restarted process
    await h.services.delivery.flush()
    reminder = h.fake.last(DRIVERS[0])
    assert "Reminder" in (reminder.text or "")
    assert [d for _, d in h.fake.buttons(reminder)] == [f"tk:c:{ref}", f"tk:w:{ref}"]

    await h.press(DRIVERS[0], rf"^tk:c:{ref}$")
    row = await h.services.db.fetchone(
        "SELECT outcome FROM assignments WHERE volunteer_id = ?", (h.services.ids.pid(DRIVERS[0]),)
    )
    assert row is not None and row["outcome"] == "coming"

    calls = await h.press_data(DRIVERS[0], f"tk:w:{ref}", chat_id=DRIVERS[0])
    assert await reminder_ids(h, "task_reminder", DRIVERS[0]) == []  # no more reminders
    told = [c for c in calls if c.chat_id == MEMBER]
    assert told and "can't make it" in (told[-1].text or "") and "Omar" in (told[-1].text or "")
    promoted = [c for c in calls if c.chat_id == DRIVERS[1]]
    assert promoted and "place became free" in (promoted[-1].text or "")
    assert len(await reminder_ids(h, "task_reminder", DRIVERS[1])) == 2


async def test_late_reminder_skipped_once_the_task_started_and_followup(harness: Harness) -> None:
    from bot import reminders

    h = harness
    await volunteer(h, DRIVERS[0])
    ref = await new_task(h, needed=1)
    await h.press_data(DRIVERS[0], f"tk:a:{ref}", chat_id=DRIVERS[0])
    async with h.services.db.transaction() as conn:  # the bot was down past the start
        await conn.execute("UPDATE tasks SET starts_at = '2001-01-01T09:00:00+00:00'")
    [early, _] = await reminder_ids(h, "task_reminder", DRIVERS[0])
    sent = len(h.fake.sent(DRIVERS[0]))
    assert await reminders.claim(h.services, early) is True
    await h.services.delivery.flush()
    assert len(h.fake.sent(DRIVERS[0])) == sent  # skipped, not sent
    row = await h.services.db.fetchone("SELECT status FROM reminders WHERE id = ?", (early,))
    assert row is not None and row["status"] == "skipped"
    [followup] = await reminder_ids(h, "task_followup", DRIVERS[0])
    assert await reminders.claim(h.services, followup) is True
    await h.services.delivery.flush()
    await h.press(DRIVERS[0], rf"^tk:y:{ref}$")
    assert "was done" in h.fake.texts(MEMBER)[-1]


async def test_the_member_sees_progress_and_a_summary(harness: Harness) -> None:
    h = harness
    for user in DRIVERS[:3]:
        await volunteer(h, user)
    h.fake.block(DRIVERS[2])
    ref = await new_task(h)
    texts = [str(m.get("text")) for m in h.fake.messages(MEMBER)]
    assert f"Task {ref} sent: 2 delivered, 1 blocked the bot, 0 failed." in texts
    row = await h.services.db.fetchone(
        "SELECT reachable FROM people WHERE user_id = ?", (h.services.ids.pid(DRIVERS[2]),)
    )
    assert row is not None and row["reachable"] == 0


async def test_blocked_volunteers_are_skipped_next_time(harness: Harness) -> None:
    h = harness
    for user in DRIVERS[:2]:
        await volunteer(h, user)
    await h.feed(h.updates.my_chat_member(DRIVERS[1], "member", "kicked"))
    await new_task(h)
    offers = await h.services.db.fetchall("SELECT chat FROM outbox WHERE kind = 'task_offer'")
    assert [h.services.ids.open(r["chat"]) for r in offers] == [DRIVERS[0]]


async def test_an_interrupted_broadcast_finishes_after_a_restart(settings: Settings) -> None:
    from bot.storage import outbox, utcnow

    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    for user in DRIVERS:
        await volunteer(h, user)
    sent_before = {u: len(fake.sent(u)) for u in DRIVERS}
    delivery = h.services.delivery
    flush = delivery.flush

    async def nothing() -> int:
        return 0

    delivery.flush = nothing  # type: ignore[method-assign]
    await new_task(h)
    # The process sends four offers, then dies before the rest.
    for item in (await outbox.due(h.services.db, h.services.ids, utcnow(), limit=50))[:4]:
        await delivery._send(item)
    delivery.flush = flush  # type: ignore[method-assign]
    delivered = [u for u in DRIVERS if len(fake.sent(u)) > sent_before[u]]
    assert len(delivered) == 4
    await stop_app(app)

    fake2 = FakeTelegram()
    app2 = await start_app(settings, fake2)  # start-up sends what the outbox still holds
    await Harness(app2, fake2).services.delivery.wait_idle()
    await stop_app(app2)
    second = [u for u in DRIVERS if fake2.sent(u)]
    assert sorted(delivered + second) == sorted(DRIVERS)  # nobody missed, nobody twice


async def test_cancel_and_change_tell_the_volunteers(harness: Harness) -> None:
    h = harness
    for user in DRIVERS[:2]:
        await volunteer(h, user)
    ref = await new_task(h, needed=1)
    await h.press_data(DRIVERS[0], f"tk:a:{ref}", chat_id=DRIVERS[0])
    await h.press_data(DRIVERS[1], f"tk:a:{ref}", chat_id=DRIVERS[1])
    calls = await h.say(MEMBER, f"/task {ref}")
    assert "1 accepted, 1 on the waiting list, 0 declined." in h.texts(calls)[0]

    await h.press(MEMBER, rf"^tm:t:{ref}$")
    calls = await h.say(MEMBER, "2001-01-01 10:00")
    assert "already passed" in h.texts(calls)[0]
    calls = await h.say(MEMBER, "٢٠٣٠-٠١-٠٢ ١٠:٣٠")
    told = [c.chat_id for c in calls if c.text and "was changed" in c.text]
    assert sorted(str(c) for c in told) == sorted(str(d) for d in DRIVERS[:2])
    due = await h.services.db.fetchall(
        "SELECT due_at FROM reminders WHERE status = 'pending' AND kind = 'task_reminder'"
    )
    assert sorted(r["due_at"] for r in due) == [
        "2030-01-01T07:30:00+00:00",
        "2030-01-02T06:30:00+00:00",
    ]  # 10:30 in Amman (UTC+3): 24 h and 1 h before

    await h.say(MEMBER, f"/task {ref}")
    await h.press(MEMBER, rf"^tm:x:{ref}$")
    calls = await h.press(MEMBER, rf"^tm:X:{ref}$")
    told = [c.chat_id for c in calls if c.text and "cancelled" in c.text and c.chat_id != MEMBER]
    assert sorted(str(c) for c in told) == sorted(str(d) for d in DRIVERS[:2])
    calls = await h.press_data(DRIVERS[0], f"tk:w:{ref}", chat_id=DRIVERS[0])
    assert "closed" in h.texts(calls)[-1]
    assert await h.services.db.fetchall("SELECT * FROM reminders WHERE status = 'pending'") == []
    calls = await h.say(OUTSIDER, f"/task {ref}")
    assert "don't know that command" in h.texts(calls)[0]


async def test_every_screen_of_the_task_wizard_loses_its_buttons_once_answered(
    harness: Harness,
) -> None:
    """Typed steps and pressed ones alike, the preview included: once the task is
    published, no screen of the wizard keeps a live button."""
    h = harness
    await new_task(h)
    await h.services.delivery.wait_idle()
    assert live_buttons(h, MEMBER, "tw:") == []
