"""A member finds a volunteer for one case and offers them a task: the ranking, then the flow
from /case through the real Application on the fake Telegram."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import reminders
from bot.assign import ANSWER_WAIT, answer_due
from bot.config import Settings
from bot.matching import CaseNeeds, Profile, rank, slots
from bot.storage import people, volunteers
from bot.vetting import DECLINE
from tests.conftest import MEMBER, OUTSIDER, Harness, running
from tests.flows import (
    NAME,
    PHONE_E164,
    STORY,
    Answers,
    add_volunteers,
    full_intake,
)
from tests.test_review import approve

FAMILY = 808
AMMAN = ZoneInfo("Asia/Amman")
FRIDAY_EVENING = datetime(2027, 3, 5, 18, 0, tzinfo=AMMAN)
MONDAY_MORNING = datetime(2027, 3, 8, 9, 0, tzinfo=AMMAN)


def person(ref: str, **fields: object) -> Profile:
    """A volunteer who fits a financial need in the north, and nothing else, unless told."""
    values: dict[str, object] = {
        "skills": ["financial"],
        "areas": ["north"],
        "languages": ["fr"],
        "availability": ["weekdays"],
        "load": 0,
    }
    values.update(fields)
    return Profile(ref, **values)  # type: ignore[arg-type]


CASE = CaseNeeds(("financial", "moral"), "north", "ar", MONDAY_MORNING)


# --- the ranking, without Telegram ----------------------------------------------------------


def test_more_needs_covered_rank_first_then_area_language_availability_load() -> None:
    profiles = [
        person("V-LOADED", skills=["financial", "moral"], load=3),
        person("V-ONE"),
        person("V-BOTH", skills=["financial", "moral"]),
        person("V-ANYWHERE", areas=["anywhere"]),
        person("V-ARABIC", languages=["ar"]),
        person("V-EVENINGS", availability=["evenings"]),
    ]
    order = [m.profile.ref for m in rank(CASE, profiles)]
    assert order == ["V-BOTH", "V-LOADED", "V-ARABIC", "V-ONE", "V-EVENINGS", "V-ANYWHERE"]
    best = rank(CASE, profiles)[0]
    assert best.covered == ("financial", "moral") and best.same_area and best.available


def test_area_outranks_language_which_outranks_availability() -> None:
    profiles = [
        person("V-FREE", areas=["anywhere"], languages=["fr"], availability=["weekdays"]),
        person("V-SPEAKS", areas=["anywhere"], languages=["ar"], availability=["weekends"]),
        person("V-NEAR", areas=["north"], languages=["fr"], availability=["weekends"]),
    ]
    assert [m.profile.ref for m in rank(CASE, profiles)] == ["V-NEAR", "V-SPEAKS", "V-FREE"]


def test_equals_keep_their_order_and_load_breaks_ties() -> None:
    profiles = [person(f"V-{n}") for n in range(5)]
    assert [m.profile.ref for m in rank(CASE, profiles)] == [f"V-{n}" for n in range(5)]
    profiles[0] = person("V-0", load=1)
    assert [m.profile.ref for m in rank(CASE, profiles)][-1] == "V-0"


def test_who_fits_no_need_or_no_area_is_left_out() -> None:
    profiles = [
        person("V-COOK", skills=["cooking"]),
        person("V-SOUTH", areas=["south"]),
        person("V-FITS"),
    ]
    assert [m.profile.ref for m in rank(CASE, profiles)] == ["V-FITS"]


def test_availability_follows_the_time_of_the_task() -> None:
    assert slots(FRIDAY_EVENING) == {"weekends", "evenings"}
    assert slots(MONDAY_MORNING) == {"weekdays"}
    weekend = CaseNeeds(("financial",), "north", "ar", FRIDAY_EVENING)
    found = rank(weekend, [person("V-WEEKDAYS"), person("V-WEEKENDS", availability=["weekends"])])
    assert [m.profile.ref for m in found] == ["V-WEEKENDS", "V-WEEKDAYS"]
    unknown = CaseNeeds(("financial",), "north", "ar", None)
    assert not any(m.available for m in rank(unknown, [person("V-X")]))


def test_the_member_hears_of_silence_in_time_to_ask_someone_else() -> None:
    now = MONDAY_MORNING
    assert answer_due(now, now + timedelta(days=5)) == now + ANSWER_WAIT
    assert answer_due(now, now + timedelta(hours=6)) == now + timedelta(hours=3)


# --- the flow -------------------------------------------------------------------------------

# Volunteers written straight to the database: (telegram id, answers).
HELPER = {
    "skills": ["financial", "moral"],
    "areas": ["north"],
    "languages": ["ar"],
    "availability": ["weekdays", "evenings"],
}
PARTIAL = {**HELPER, "skills": ["moral"], "areas": ["anywhere"], "languages": ["en"]}
COOK = {**HELPER, "skills": ["cooking"]}
BEST, SECOND, NOBODY_NEEDS, PENDING, DECLINED = 1500, 1501, 1502, 1503, 1504
TITLE = "Bring the winter coats"
WORDS = "Collect them from the centre at 17:00 and bring them to the address I will send you."


async def approved_case(h: Harness, family_lang: str = "ar") -> str:
    """A family in the north asks for financial and moral support; a member approves it."""
    h.languages[FAMILY] = family_lang
    ref = await full_intake(h, FAMILY, Answers(area_choice="north"))
    await h.say(MEMBER, "/start")
    await approve(h, ref)
    return ref


async def helpers(h: Harness) -> None:
    """SECOND covers one need anywhere, BEST both in the family's area; the cook fits none."""
    db, ids = h.services.db, h.services.ids
    await add_volunteers(db, ids, [SECOND], answers=PARTIAL)
    await add_volunteers(db, ids, [BEST], answers=HELPER)
    await add_volunteers(db, ids, [NOBODY_NEEDS], answers=COOK)


async def ref_of(h: Harness, user: int) -> str:
    profile = await h.services.volunteers.get(user)
    assert profile is not None
    return profile.ref


async def to_shortlist(h: Harness, ref: str) -> list[str]:
    """/case, Find a volunteer, tomorrow at 17:00: the references offered, in order."""
    await h.say(MEMBER, f"/case {ref}")
    await h.press(MEMBER, rf"^av:f:{ref}$")
    await h.press(MEMBER, r"^av:d:1$")
    await h.press(MEMBER, r"^av:t:1700$")
    message = h.fake.messages(MEMBER)[-1]
    return [str(d)[5:] for _, d in h.fake.buttons(message) if str(d).startswith("av:v:")]


async def write_task(h: Harness, volunteer_ref: str) -> None:
    await h.press(MEMBER, rf"^av:v:{re.escape(volunteer_ref)}$")
    await h.press(MEMBER, r"^av:u:120$")
    await h.say(MEMBER, TITLE)
    await h.say(MEMBER, WORDS)


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_the_chosen_volunteer_alone_is_offered_and_accepts_with_one_tap(
    harness: Harness, lang: str
) -> None:
    h = harness
    h.languages[MEMBER] = lang
    h.languages[BEST] = lang
    ref = await approved_case(h)
    await helpers(h)
    best, second = await ref_of(h, BEST), await ref_of(h, SECOND)
    assert await to_shortlist(h, ref) == [best, second]
    listing = h.newest(MEMBER)
    assert ("same area" in listing) if lang == "en" else ("المنطقة نفسها" in listing)
    await write_task(h, best)
    preview = h.newest(MEMBER)
    assert TITLE in preview and best in preview
    before = {u: len(h.fake.sent(u)) for u in (BEST, SECOND, NOBODY_NEEDS)}
    await h.press(MEMBER, r"^av:p:$")
    await h.services.delivery.wait_idle()
    # Every screen of the wizard lost its buttons, those answered by typing too (the /case
    # view keeps its Find a volunteer).
    assert [
        data
        for m in h.fake.messages(MEMBER)
        for _, data in h.fake.buttons(m)
        if data and data.startswith("av:") and not data.startswith("av:f:")
    ] == []
    assert len(h.fake.sent(SECOND)) == before[SECOND]
    assert len(h.fake.sent(NOBODY_NEEDS)) == before[NOBODY_NEEDS]
    assert len(h.fake.sent(BEST)) == before[BEST] + 1
    offer = h.fake.last(BEST)
    text = offer.text or ""
    assert TITLE in text and "Collect them from the centre" in text
    for secret in ("Fatima", PHONE_E164, "kidney", STORY, NAME, ref, "North", "الشمال"):
        assert secret not in text
    task = await h.services.db.fetchone("SELECT ref, case_id, needed FROM tasks")
    assert task is not None and task["needed"] == 1 and task["case_id"] is not None
    task_ref = str(task["ref"])
    assert await h.services.tasks.open_for(["financial", "moral"], ["north"]) == []  # not /tasks

    calls = await h.press(BEST, rf"^tk:a:{task_ref}$")
    told = [c.text or "" for c in calls if c.chat_id == MEMBER]
    # The member is told by the reference they chose from, as in /volunteers: no name.
    assert told and best in told[-1] and task_ref in told[-1] and f"V{BEST}" not in told[-1]
    assert h.find_button(BEST, r"^tk:", history=True)
    assert not [d for m in h.fake.messages(BEST)[-3:] for _, d in h.fake.buttons(m)]
    actions = [r["action"] for r in await h.services.db.fetchall("SELECT action FROM audit")]
    assert "task_offered" in actions and "task_accepted" in actions
    # No reminder waits for an answer any more: only the task's own reminders are left.
    kinds = [r["kind"] for r in await h.services.db.fetchall("SELECT kind FROM reminders")]
    assert "task_offer_answer" not in kinds and "task_followup" in kinds


async def test_a_decline_or_silence_is_told_to_the_member(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "en"
    ref = await approved_case(h)
    await helpers(h)
    best = await ref_of(h, BEST)
    await to_shortlist(h, ref)
    await write_task(h, best)
    await h.press(MEMBER, r"^av:p:$")
    row = await h.services.db.fetchone("SELECT id FROM reminders WHERE kind = 'task_offer_answer'")
    assert row is not None
    # Nobody answered in time: the reminder fires, the member hears it once.
    calls_before = len(h.fake.sent(MEMBER))
    assert await reminders.claim(h.services, int(row["id"])) is True
    await h.services.delivery.flush()
    assert "has not answered" in h.fake.texts(MEMBER)[-1]
    assert await reminders.claim(h.services, int(row["id"])) is False
    assert len(h.fake.sent(MEMBER)) == calls_before + 1
    # Then the volunteer declines: the member is told, the offer is withdrawn.
    task = await h.services.db.fetchone("SELECT ref FROM tasks")
    assert task is not None
    await h.press(BEST, rf"^tk:d:{task['ref']}$")
    assert "is not available" in h.fake.texts(MEMBER)[-1]
    status = await h.services.db.fetchone("SELECT status FROM tasks")
    assert status is not None and status["status"] == "cancelled"


async def test_paused_and_suspended_volunteers_are_not_listed(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "en"
    ref = await approved_case(h)
    await helpers(h)
    async with h.services.db.transaction() as conn:
        ids = h.services.ids
        await volunteers.update_status(
            conn, ids, BEST, volunteers.PAUSED, before=(volunteers.ACTIVE,)
        )
        await volunteers.update_status(
            conn, ids, SECOND, volunteers.SUSPENDED, before=(volunteers.ACTIVE,)
        )
    # Two more register and wait for the committee; one of them is then declined.
    async with h.services.db.transaction() as conn:
        for uid in (PENDING, DECLINED):
            await people.add(conn, ids, uid, "en")
            await volunteers.upsert(conn, ids, uid, HELPER, {"name": f"V{uid}", "phone": None})
    declined = await ref_of(h, DECLINED)
    assert (await h.services.vetting.decide(declined, DECLINE, MEMBER, "Test")).done
    assert await to_shortlist(h, ref) == []
    assert "No active volunteer fits" in h.newest(MEMBER)


async def test_others_cannot_use_the_buttons_or_take_the_offer(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "en"
    ref = await approved_case(h)
    await helpers(h)
    calls = await h.press_data(OUTSIDER, f"av:f:{ref}", chat_id=OUTSIDER)
    assert "Only committee members" in h.alerts(calls)[0]
    calls = await h.press_data(OUTSIDER, "av:p:", chat_id=OUTSIDER)
    assert "Only committee members" in h.alerts(calls)[0]
    best = await ref_of(h, BEST)
    await to_shortlist(h, ref)
    await write_task(h, best)
    await h.press(MEMBER, r"^av:p:$")
    task = await h.services.db.fetchone("SELECT ref FROM tasks")
    assert task is not None
    calls = await h.press_data(SECOND, f"tk:a:{task['ref']}", chat_id=SECOND)  # forged
    assert "لا تناسب" in h.texts(calls)[-1]  # the volunteer speaks Arabic
    calls = await h.press_data(MEMBER, "av:p:")  # the wizard is over
    assert "no longer works" in h.alerts(calls)[0]
    assert await h.services.db.fetchall("SELECT * FROM assignments") == []


async def test_the_shortlist_turns_pages(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "en"
    ref = await approved_case(h)
    await add_volunteers(h.services.db, h.services.ids, range(1600, 1608), answers=HELPER)
    first = await to_shortlist(h, ref)
    assert len(first) == 6
    await h.press(MEMBER, r"^av:g:1$")
    message = h.fake.messages(MEMBER)[-1]
    second = [str(d)[5:] for _, d in h.fake.buttons(message) if str(d).startswith("av:v:")]
    assert len(second) == 2 and not set(first) & set(second)
    calls = await h.press_data(MEMBER, "av:g:7")
    assert "no longer works" in h.alerts(calls)[0]


async def test_a_restart_in_the_middle_loses_nothing(settings: Settings) -> None:
    async with running(settings) as h:
        h.languages[MEMBER] = "ar"
        ref = await approved_case(h)
        await helpers(h)
        best = await ref_of(h, BEST)
        shown = await to_shortlist(h, ref)
        await h.press(MEMBER, rf"^av:v:{re.escape(best)}$")
    async with running(settings) as h:  # a new process: only the database remembers
        h.languages[MEMBER] = "ar"
        await h.press_data(MEMBER, "av:u:120", chat_id=MEMBER)
        await h.say(MEMBER, TITLE)
        await h.say(MEMBER, WORDS)
        preview = h.newest(MEMBER)
        assert TITLE in preview and best in preview and "موجَّه" in preview
        await h.press_data(MEMBER, "av:p:", chat_id=MEMBER)
        assert shown[0] == best
        offer = h.fake.last(BEST)
        assert TITLE in (offer.text or "")


async def test_erasing_the_volunteer_leaves_no_pseudonym_on_the_offer(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "en"
    h.languages[BEST] = "en"
    ref = await approved_case(h)
    await helpers(h)
    await to_shortlist(h, ref)
    await write_task(h, await ref_of(h, BEST))
    await h.press(MEMBER, r"^av:p:$")
    pid = h.services.ids.pid(BEST)
    assert await h.services.db.fetchall("SELECT id FROM tasks WHERE offered_to = ?", (pid,))
    await h.say(BEST, "/delete_my_data")
    await h.press(BEST, r"^pd:y$")
    assert await h.services.db.fetchall("SELECT id FROM tasks WHERE offered_to = ?", (pid,)) == []
    assert (
        await h.services.db.fetchall("SELECT id FROM reminders WHERE volunteer_id = ?", (pid,))
        == []
    )
    task = await h.services.db.fetchone("SELECT ref, offered_to FROM tasks")
    assert task is not None and task["offered_to"] == 0  # still nobody else's to take
    await h.press_data(SECOND, f"tk:a:{task['ref']}", chat_id=SECOND)
    assert await h.services.db.fetchall("SELECT * FROM assignments") == []


async def test_a_forged_page_number_is_a_stale_press(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "en"
    ref = await approved_case(h)
    await add_volunteers(h.services.db, h.services.ids, range(1600, 1608), answers=HELPER)
    await to_shortlist(h, ref)
    for forged in ("²", "١", "-1", "9" * 40):  # isdigit() is true for the first two
        calls = await h.press_data(MEMBER, f"av:g:{forged}")
        assert "no longer works" in h.alerts(calls)[0]


async def test_an_erased_volunteer_s_open_offer_is_cancelled_and_the_member_told(
    harness: Harness,
) -> None:
    h = harness
    h.languages[MEMBER] = "en"
    h.languages[BEST] = "en"
    ref = await approved_case(h)
    await helpers(h)
    await to_shortlist(h, ref)
    await write_task(h, await ref_of(h, BEST))
    await h.press(MEMBER, r"^av:p:$")
    await h.say(BEST, "/delete_my_data")
    await h.press(BEST, r"^pd:y$")
    await h.services.delivery.flush()
    task = await h.services.db.fetchone("SELECT ref, status FROM tasks")
    assert task is not None and task["status"] == "cancelled"
    told = h.fake.texts(MEMBER)[-1]
    assert "A volunteer is not available" in told and str(task["ref"]) in told
    assert f"V{BEST}" not in told  # the erased volunteer is named nowhere
