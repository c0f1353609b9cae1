"""Community activities: the families' opt-in, /newactivity, the announcement to the right
people in their language, "I'll come" / "Not this time", the counts in place, the waiting
list, the day-before reminder, changes and cancellation, erasure and retention."""

from __future__ import annotations

from datetime import timedelta

from bot import reminders
from bot.config import Settings
from bot.storage import people, utcnow
from bot.storage import volunteers as volunteer_repo
from tests.conftest import MEMBER, OUTSIDER, Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import DRIVER, Answers, add_volunteers, full_intake, live_buttons
from tests.test_review import approve

HELPERS = [1400, 1401, 1402]
SOUTH = {**DRIVER, "areas": ["south"]}
FAMILY_A, FAMILY_B, FAMILY_C = 2501, 2502, 2503


def in_days(days: int) -> str:
    """A date ``days`` from now, typed as a member would."""
    return (utcnow() + timedelta(days=days)).date().isoformat()


async def new_activity(
    h: Harness,
    *,
    capacity: str = "0",
    audience: str = "volunteers",
    area: str = "",
    day: str | None = None,
) -> str:
    """The member walks /newactivity and announces it; return its reference."""
    await h.say(MEMBER, "/start")
    await h.say(MEMBER, "/newactivity")
    await h.say(MEMBER, "Football afternoon")
    await h.say(MEMBER, "Games for the children; bring water.")
    await h.say(MEMBER, "The school playground")
    if day is None:
        await h.press(MEMBER, r"^aw:d:1$")
    else:
        await h.say(MEMBER, day)
    await h.say(MEMBER, "١٧:٣٠")
    if capacity in ("0", "10", "20", "30", "50"):
        await h.press(MEMBER, rf"^aw:c:{capacity}$")
    else:
        await h.say(MEMBER, capacity)
    await h.press(MEMBER, rf"^aw:u:{audience}$")
    await h.press(MEMBER, rf"^aw:a:{area}$")
    await h.press(MEMBER, r"^aw:p:$")
    row = await h.services.db.fetchone("SELECT ref FROM activities ORDER BY id DESC LIMIT 1")
    assert row is not None
    return str(row["ref"])


def announced_to(h: Harness, people: list[int], ref: str) -> list[int]:
    """Who among ``people`` received the announcement of ``ref``."""
    return [
        person
        for person in people
        if any(
            data == f"aa:c:{ref}"
            for call in h.fake.sent(person)
            for _, data in h.fake.buttons(call)
        )
    ]


async def counts_message(h: Harness, ref: str) -> str:
    """The member's counts message as it shows now."""
    row = await h.services.db.fetchone(
        "SELECT counts_message_id FROM activities WHERE ref = ?", (ref,)
    )
    assert row is not None and row["counts_message_id"] is not None
    [message] = [m for m in h.fake.messages(MEMBER) if m["message_id"] == row["counts_message_id"]]
    return str(message.get("text", ""))


async def family(h: Harness, user: int, lang: str, area: str, *, opt_in: str | None) -> str:
    """A family applies (in ``area``), answers the activities question (or not), and the
    committee approves its case; return the reference."""
    h.languages[user] = lang
    ref = await full_intake(h, user, Answers(area_choice=area))
    assert [d for _, d in h.fake.buttons(h.fake.messages(user)[-1])] == ["ao:y", "ao:n"]
    if opt_in is not None:
        await h.press(user, rf"^ao:{opt_in}$")
    await h.say(MEMBER, "/start")
    await approve(h, ref)
    return ref


async def test_families_opt_in_after_intake_or_later_and_only_they_hear(harness: Harness) -> None:
    h = harness
    await family(h, FAMILY_A, "en", "north", opt_in="y")
    shown = h.fake.messages(FAMILY_A)
    question = next(m for m in shown if "community activities" in str(m.get("text")))
    assert "you hear about them" in str(question["text"])
    assert not h.fake.buttons(question)  # answered: its buttons are gone
    await family(h, FAMILY_B, "ar", "north", opt_in=None)  # never answers: no
    await family(h, FAMILY_C, "en", "north", opt_in="n")

    # /status offers the choice later; /mydata shows it and changes it back.
    calls = await h.say(FAMILY_C, "/status")
    assert [d for c in calls for _, d in h.fake.buttons(c)] == ["ao:y"]
    await h.press(FAMILY_C, r"^ao:y$")
    assert await h.services.activities.wants(FAMILY_C) is True
    calls = await h.say(FAMILY_A, "/mydata")
    assert any("Community activities: you hear about them." in t for t in h.texts(calls))
    await h.press(FAMILY_A, r"^ao:n$")
    assert await h.services.activities.wants(FAMILY_A) is False
    calls = await h.say(FAMILY_B, "/mydata")
    assert any("الأنشطة المجتمعية: لا تصلك أخبارها." in t for t in h.texts(calls))
    assert await h.services.activities.wants(FAMILY_B) is None

    ref = await new_activity(h, audience="families")
    assert announced_to(h, [FAMILY_A, FAMILY_B, FAMILY_C], ref) == [FAMILY_C]

    # Said no after an announcement was queued, before it was sent: it is not sent.
    delivery = h.services.delivery
    flush = delivery.flush

    async def nothing() -> int:
        return 0

    delivery.flush = nothing  # type: ignore[method-assign]
    later = await new_activity(h, audience="families")
    await h.say(FAMILY_C, "/mydata")
    await h.press(FAMILY_C, r"^ao:n$")
    delivery.flush = flush  # type: ignore[method-assign]
    await delivery.flush()
    assert announced_to(h, [FAMILY_C], later) == []


async def test_the_audience_is_approved_families_and_active_volunteers_of_the_area(
    harness: Harness,
) -> None:
    h = harness
    db, ids = h.services.db, h.services.ids
    await add_volunteers(db, ids, HELPERS[:1], ("ar",))
    await add_volunteers(db, ids, HELPERS[1:2], ("en",), SOUTH)
    async with db.transaction() as conn:  # registered, never approved
        await people.add(conn, ids, HELPERS[2], "en")
        await volunteer_repo.upsert(conn, ids, HELPERS[2], DRIVER, {"name": "P", "phone": None})
    await family(h, FAMILY_A, "en", "north", opt_in="y")
    h.languages[FAMILY_B] = "en"
    await full_intake(h, FAMILY_B, Answers(area_choice="north"))  # not approved
    await h.press(FAMILY_B, r"^ao:y$")

    north = await new_activity(h, audience="both", area="north")
    assert announced_to(h, [*HELPERS, FAMILY_A, FAMILY_B], north) == [HELPERS[0], FAMILY_A]
    arabic = h.fake.last(HELPERS[0]).text or ""
    assert "نشاط" in arabic and "The school playground" in arabic
    assert "Community activity" in (h.fake.last(FAMILY_A).text or "")
    assert "Sent to" in await counts_message(h, north) or "Announced to 2 people." in (
        await counts_message(h, north)
    )

    volunteers_only = await new_activity(h, audience="volunteers")
    assert announced_to(h, [*HELPERS, FAMILY_A], volunteers_only) == HELPERS[:2]
    english = h.fake.last(HELPERS[1]).text or ""
    assert "Community activity" in english and "Football afternoon" in english


async def test_answers_counts_in_place_and_the_waiting_list_moves_up(harness: Harness) -> None:
    h = harness
    await add_volunteers(h.services.db, h.services.ids, HELPERS, ("en",))
    ref = await new_activity(h, capacity="1")
    row = await h.services.db.fetchone("SELECT counts_message_id FROM activities")
    assert row is not None
    counts_id = row[0]
    assert "Announced to 3 people." in await counts_message(h, ref)

    calls = await h.press(HELPERS[0], rf"^aa:c:{ref}$")
    assert "Your answer: I'll come" in h.texts(calls)[0]
    [answered] = h.fake.messages(HELPERS[0])
    assert [d for _, d in h.fake.buttons(answered)] == [f"aa:n:{ref}"]  # a change of mind
    calls = await h.press(HELPERS[1], rf"^aa:c:{ref}$")
    assert "number 1 on the waiting list" in h.texts(calls)[0]
    await h.press(HELPERS[2], rf"^aa:n:{ref}$")
    shown = await counts_message(h, ref)
    assert "Coming: 1. Not coming: 1. Waiting list: 1." in shown
    # The same message, edited in place: no new counts message was sent.
    assert len([m for m in h.fake.messages(MEMBER) if "Coming:" in str(m.get("text"))]) == 1
    row = await h.services.db.fetchone("SELECT counts_message_id FROM activities")
    assert row is not None and row[0] == counts_id

    # A forged answer from somebody not invited is refused, and changes nothing.
    calls = await h.press_data(OUTSIDER, f"aa:c:{ref}", chat_id=OUTSIDER)
    assert "not announced to you" in h.alerts(calls)[0]
    # The first changes their mind: the one waiting gets the place and is told privately.
    calls = await h.press(HELPERS[0], rf"^aa:n:{ref}$")
    promoted = [c for c in calls if c.chat_id == HELPERS[1]]
    assert promoted and "A place became free" in (promoted[-1].text or "")
    assert "Coming: 1. Not coming: 2. Waiting list: 0." in await counts_message(h, ref)
    # Nobody's name anywhere: the volunteers are "V1400"... in their profiles.
    for chat in (MEMBER, *HELPERS):
        assert not any(f"V{p}" in text for p in HELPERS for text in h.fake.texts(chat))


async def test_the_day_before_reminder_goes_once_across_a_restart(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    await add_volunteers(h.services.db, h.services.ids, HELPERS[:2], ("ar", "en"))
    ref = await new_activity(h, day=in_days(3))
    await h.press(HELPERS[0], rf"^aa:c:{ref}$")
    await h.press(HELPERS[1], rf"^aa:n:{ref}$")
    rows = await h.services.db.fetchall(
        "SELECT id, volunteer_id, due_at FROM reminders WHERE kind = 'activity_reminder'"
    )
    assert [r["volunteer_id"] for r in rows] == [h.services.ids.pid(HELPERS[0])]
    [reminder] = [int(r["id"]) for r in rows]
    await stop_app(app)

    fake2 = FakeTelegram()
    app2 = await start_app(settings, fake2)  # the reminder is rebuilt from its row
    assert app2.job_queue is not None
    h2 = Harness(app2, fake2)
    assert await reminders.claim(h2.services, reminder) is True
    assert await reminders.claim(h2.services, reminder) is False  # exactly once
    await h2.services.delivery.flush()
    [sent] = fake2.sent(HELPERS[0])
    assert "تذكير" in (sent.text or "")
    assert fake2.sent(HELPERS[1]) == []
    await stop_app(app2)


async def test_changes_and_a_cancellation_are_told_to_those_coming_and_waiting(
    harness: Harness,
) -> None:
    h = harness
    await add_volunteers(h.services.db, h.services.ids, HELPERS, ("en",))
    ref = await new_activity(h, capacity="1", day=in_days(4))
    await h.press(HELPERS[0], rf"^aa:c:{ref}$")
    await h.press(HELPERS[1], rf"^aa:c:{ref}$")  # waiting
    await h.press(HELPERS[2], rf"^aa:n:{ref}$")

    await h.press(MEMBER, rf"^am:p:{ref}$")
    calls = await h.say(MEMBER, "The community hall")
    told = sorted(int(str(c.chat_id)) for c in calls if c.text and "was changed" in c.text)
    assert told == HELPERS[:2]
    assert "The community hall" in (h.fake.last(HELPERS[0]).text or "")
    await h.press(MEMBER, rf"^am:t:{ref}$")
    await h.say(MEMBER, f"{in_days(5)} 10:00")
    due = await h.services.db.fetchall(
        "SELECT due_at FROM reminders WHERE kind = 'activity_reminder' AND status = 'pending'"
    )
    assert len(due) == 1

    await h.press(MEMBER, rf"^am:x:{ref}$")
    calls = await h.press(MEMBER, rf"^am:X:{ref}$")
    told = sorted(int(str(c.chat_id)) for c in calls if c.text and "is cancelled" in c.text)
    assert [chat for chat in told if chat != MEMBER] == HELPERS[:2]
    assert "This activity is cancelled." in await counts_message(h, ref)
    assert not any("is cancelled" in (c.text or "") for c in h.fake.sent(HELPERS[2]))
    assert (
        await h.services.db.fetchall(
            "SELECT 1 FROM reminders WHERE kind = 'activity_reminder' AND status = 'pending'"
        )
        == []
    )
    calls = await h.press_data(HELPERS[2], f"aa:c:{ref}", chat_id=HELPERS[2])
    assert "cancelled or has started" in h.alerts(calls)[0]


async def test_erasure_and_retention_remove_the_answers_and_words(harness: Harness) -> None:
    from bot import privacy

    h = harness
    db, ids = h.services.db, h.services.ids
    await add_volunteers(db, ids, HELPERS[:2], ("en",))
    ref = await new_activity(h, capacity="1", day=in_days(3))
    await h.press(HELPERS[0], rf"^aa:c:{ref}$")
    calls = await h.press(HELPERS[1], rf"^aa:c:{ref}$")  # waiting
    calls = await h.say(HELPERS[1], "/mydata")
    assert "Football afternoon:</b> On the waiting list" in h.texts(calls)[-1]
    await h.say(HELPERS[0], "/mydata")
    await h.press(HELPERS[0], r"^ao:y$")
    await h.say(HELPERS[0], "/delete_my_data")
    calls = await h.press(HELPERS[0], r"^pd:y$")
    promoted = [c for c in calls if c.chat_id == HELPERS[1]]  # the place went to them
    assert promoted and "A place became free" in (promoted[-1].text or "")
    pid = ids.pid(HELPERS[0])
    for table, key in (
        ("activity_answers", "person_id"),
        ("reminders", "volunteer_id"),
        ("activity_choices", "user_id"),
    ):
        query = f"SELECT 1 FROM {table} WHERE {key} = ?"  # noqa: S608
        assert await db.fetchall(query, (pid,)) == [], table

    async with db.transaction() as conn:  # the activity ended long ago
        await conn.execute("UPDATE activities SET starts_at = '2001-01-01T09:00:00+00:00'")
    counts = await privacy.purge(db, ids, h.services.settings.retention, None)
    assert counts["activities"] == 1 and counts["activity_answers"] == 1
    row = await db.fetchone("SELECT length(content) AS n FROM activities")
    assert row is not None and row["n"] == 0
    assert await db.fetchall("SELECT 1 FROM activity_answers") == []


async def test_key_rotation_reencrypts_every_activity_column(harness: Harness, key: str) -> None:
    from cryptography.fernet import Fernet

    from bot.crypto import Cipher
    from bot.rotation import reencrypt

    h = harness
    await add_volunteers(h.services.db, h.services.ids, HELPERS[:1], ("en",))
    ref = await new_activity(h, day=in_days(3))
    await h.press(HELPERS[0], rf"^aa:c:{ref}$")
    new = Fernet.generate_key().decode()
    assert await reencrypt(h.services.db, Cipher((new, key))) > 0
    only_new = Cipher((new,))
    for table, column in (
        ("activities", "content"),
        ("activities", "creator"),
        ("activities", "counts_to"),
        ("activity_answers", "person"),
    ):
        rows = await h.services.db.fetchall(f"SELECT {column} FROM {table}")  # noqa: S608
        assert rows, table
        for row in rows:
            only_new.decrypt(row[0])  # readable with the new key alone


async def test_the_wizard_is_kept_across_a_restart(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    await add_volunteers(h.services.db, h.services.ids, HELPERS[:1], ("en",))
    await h.say(MEMBER, "/start")
    await h.say(MEMBER, "/newactivity")
    await h.say(MEMBER, "Football afternoon")
    await stop_app(app)

    fake2 = FakeTelegram()
    app2 = await start_app(settings, fake2)
    h2 = Harness(app2, fake2)
    try:
        calls = await h2.say(MEMBER, "Games for the children")
        assert "Where does it take place?" in h2.texts(calls)[-1]
        await h2.say(MEMBER, "The school playground")
        await h2.press(MEMBER, r"^aw:d:1$")
        await h2.say(MEMBER, "17:30")
        await h2.press(MEMBER, r"^aw:c:0$")
        await h2.press(MEMBER, r"^aw:u:volunteers$")
        calls = await h2.press(MEMBER, r"^aw:a:$")
        assert "It will be announced to 1 person." in h2.texts(calls)[-1]
        await h2.press(MEMBER, r"^aw:p:$")
        assert "Football afternoon" in (fake2.last(HELPERS[0]).text or "")
    finally:
        await stop_app(app2)


async def test_every_screen_of_the_wizard_loses_its_buttons_once_answered(
    harness: Harness,
) -> None:
    """Typed steps (title, description, place, time) and pressed ones alike: once the
    activity is announced, no screen of the wizard keeps a live button."""
    h = harness
    await new_activity(h)
    await h.services.delivery.wait_idle()
    assert live_buttons(h, MEMBER, "aw:") == []
