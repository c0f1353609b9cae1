"""What volunteers read: an offer under a heading, when as a relative day with its weekday,
durations in hours, no places left once they hold one; after Accept, who gives the address and
when the reminders come; every answered message loses its buttons, and a press on a message
whose buttons are gone costs no edit."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date

from bot.storage import utcnow
from tests.conftest import MEMBER, Harness
from tests.test_tasks import DRIVERS, new_task, reminder_ids, volunteer

EDITS = ("editMessageText", "editMessageReplyMarkup", "editMessageCaption")


def tomorrow(h: Harness, lang: str) -> str:
    day = (utcnow() + timedelta(days=1)).astimezone(h.services.settings.tz)
    return format_date(day, "EEEE", locale=lang)


async def test_an_offer_has_a_heading_a_relative_day_and_hours(harness: Harness) -> None:
    h = harness
    await volunteer(h, DRIVERS[0], "en")
    await volunteer(h, DRIVERS[1], "ar")
    await new_task(h)  # tomorrow at 10:00, for 120 minutes
    offer = str(h.fake.messages(DRIVERS[0])[-1]["text"])
    assert offer.startswith("New volunteer task in your area")
    assert f"When: tomorrow, {tomorrow(h, 'en')} 10:00" in offer
    assert "Duration: 2 hours" in offer and "minutes" not in offer
    assert "Places: 3 places left" in offer
    arabic = str(h.fake.messages(DRIVERS[1])[-1]["text"])
    assert f"غدًا، {tomorrow(h, 'ar')} 10:00" in arabic and "ساعتان" in arabic


async def test_accept_says_who_gives_the_address_and_when_reminders_come(
    harness: Harness,
) -> None:
    h = harness
    await volunteer(h, DRIVERS[0])
    ref = await new_task(h)
    calls = await h.press(DRIVERS[0], rf"^tk:a:{ref}$")
    [edit] = [c for c in calls if c.method in EDITS]
    assert "Your answer: Accepted" in (edit.text or "")
    offer = h.fake.messages(DRIVERS[0])[-2]
    assert "reply_markup" not in offer  # answered: no button left
    said = h.texts(calls)[-1]
    assert "The committee will give you the exact address before the task." in said
    assert "You will get a reminder 24 hours and one hour before it starts." in said
    for secret in ("Fatima", "+962"):
        assert secret not in said


async def test_declined_offer_shows_the_answer_without_buttons(harness: Harness) -> None:
    h = harness
    await volunteer(h, DRIVERS[0])
    ref = await new_task(h)
    await h.press(DRIVERS[0], rf"^tk:d:{ref}$")
    offer = h.fake.messages(DRIVERS[0])[-2]
    assert "Your answer: Not available" in offer["text"] and "reply_markup" not in offer


async def test_reminders_and_mytasks_have_no_places_and_lose_their_buttons(
    harness: Harness,
) -> None:
    from bot import reminders

    h = harness
    await volunteer(h, DRIVERS[0])
    ref = await new_task(h)
    await h.press(DRIVERS[0], rf"^tk:a:{ref}$")
    [first, _] = await reminder_ids(h, "task_reminder", DRIVERS[0])
    assert await reminders.claim(h.services, first)
    await h.services.delivery.flush()
    reminder = h.fake.messages(DRIVERS[0])[-1]
    assert reminder["text"].startswith("Reminder") and "Places" not in reminder["text"]
    assert "Duration: 2 hours" in reminder["text"]
    await h.press(DRIVERS[0], rf"^tk:c:{ref}$")
    answered = h.fake.message(DRIVERS[0], int(reminder["message_id"]))
    assert answered is not None and "reply_markup" not in answered
    assert "Your answer: I'm coming" in answered["text"]
    [mine] = h.texts(await h.say(DRIVERS[0], "/mytasks"))
    assert "Places" not in mine and "You are in" in mine


async def test_a_press_on_a_message_without_buttons_edits_nothing(harness: Harness) -> None:
    h = harness
    await volunteer(h, DRIVERS[0])
    ref = await new_task(h)
    message_id, _ = h.find_button(DRIVERS[0], rf"^tk:a:{ref}$")
    await h.press(DRIVERS[0], rf"^tk:a:{ref}$")
    forged = []
    for data in (f"tk:a:{ref}", f"tk:d:{ref}", f"tk:w:{ref}", f"tk:c:{ref}", f"tk:y:{ref}"):
        forged += await h.press_data(DRIVERS[0], data, message_id=message_id)
    assert [c.method for c in forged if c.method in EDITS] == []
    assert h.fake.journal.not_modified == []
    assert len([c for c in forged if c.method == "answerCallbackQuery"]) == 5


async def test_the_followup_shows_the_answer(harness: Harness) -> None:
    from bot import reminders

    h = harness
    await volunteer(h, DRIVERS[0])
    ref = await new_task(h)
    await h.press(DRIVERS[0], rf"^tk:a:{ref}$")
    [followup] = await reminder_ids(h, "task_followup", DRIVERS[0])
    assert await reminders.claim(h.services, followup)
    await h.services.delivery.flush()
    message = h.fake.messages(DRIVERS[0])[-1]
    await h.press(DRIVERS[0], rf"^tk:y:{ref}$")
    answered = h.fake.message(DRIVERS[0], int(message["message_id"]))
    assert answered is not None and "reply_markup" not in answered
    assert "Your answer: Done" in answered["text"]
    assert "was done" in h.fake.texts(MEMBER)[-1]


async def test_a_decision_press_on_a_message_without_buttons_edits_nothing(
    harness: Harness,
) -> None:
    from tests.conftest import COMMITTEE_CHAT
    from tests.flows import full_intake

    h = harness
    h.languages[77] = "en"
    ref = await full_intake(h, 77)
    await h.say(MEMBER, "/start")
    await h.press(MEMBER, rf"^cv:decline:{ref}$", chat_id=COMMITTEE_CHAT)
    reason, _ = h.find_button(MEMBER, r"^rv:r:debt$")
    await h.press(MEMBER, r"^rv:r:debt$")  # the reason screen loses its buttons
    assert "reply_markup" not in (h.fake.message(MEMBER, reason) or {})
    forged = []
    for data in ("rv:r:debt", "rv:skip:", "rv:x:", "rv:x:"):
        forged += await h.press_data(MEMBER, data, message_id=reason)
    assert [c.method for c in forged if c.method in EDITS] == []
    assert h.fake.journal.not_modified == []
