"""The committee card, the Details button and /case: members only, every view audited."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.storage import outbox
from tests.conftest import COMMITTEE_CHAT, MEMBER, OUTSIDER, Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import AREA, NAME, OTHER, PHONE_E164, STORY, full_intake

FAMILY = 303
PERSONAL = (NAME, "Fatima", PHONE_E164, "791234567", OTHER, STORY, "kidney")


async def audit_actions(h: Harness) -> list[tuple[int | None, str]]:
    rows = await h.services.db.fetchall("SELECT actor, action FROM audit ORDER BY id")
    return [(h.services.ids.maybe_open(r["actor"]), r["action"]) for r in rows]


@pytest.mark.parametrize("family_lang", ["en", "ar"])
async def test_card_in_committee_language_without_personal_data(
    harness: Harness, family_lang: str
) -> None:
    h = harness
    h.languages[FAMILY] = family_lang
    ref = await full_intake(h, FAMILY)
    card = h.fake.last(COMMITTEE_CHAT)
    text = card.text or ""
    assert ref in text
    for secret in PERSONAL:
        assert secret not in text
    assert AREA not in text  # need-to-know: the area typed under "other" stays in Details
    assert [data for _, data in h.fake.buttons(card)] == [
        f"cd:{ref}",
        f"cv:take:{ref}",
        f"cv:approve:{ref}",
        f"cv:decline:{ref}",
        f"cv:ask:{ref}",
    ]
    # COMMITTEE_LANGUAGE=ar whatever the family's language: Arabic labels.
    assert "طلب جديد" in text
    # Household size and children identify a family: they are in Details, not on the card.
    assert "5 أشخاص" not in text and "3 أطفال" not in text


async def test_card_in_english_committee(tmp_path: object, key: str) -> None:
    from pathlib import Path

    from tests.conftest import make_settings, start_app, stop_app
    from tests.fakes.telegram import FakeTelegram

    assert isinstance(tmp_path, Path)
    settings = make_settings(tmp_path, ENCRYPTION_KEY=key, COMMITTEE_LANGUAGE="en")
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    try:
        h = Harness(app, fake)
        ref = await full_intake(h, FAMILY)
        text = fake.last(COMMITTEE_CHAT).text or ""
    finally:
        await stop_app(app)
    assert f"New case {ref}" in text
    assert "Situation:</b> Orphans without support, Other" in text
    assert "Support needed:</b> Moral support, Financial support" in text
    assert "Household" not in text and "children" not in text
    assert "Urgency:</b> Urgent: this month" in text
    assert "Submitted:</b>" in text
    fake.assert_clean()


async def test_details_for_a_member_arrive_privately_and_are_audited(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    await h.say(MEMBER, "/start")
    calls = await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    private = [c for c in calls if c.chat_id == MEMBER and c.method == "sendMessage"]
    assert len(private) == 1
    details = private[0].text or ""
    assert "Fatima &lt;b&gt;Al-Zahra&lt;/b&gt; &amp; Sons" in details
    assert PHONE_E164 in details and STORY in details and OTHER in details
    assert all(c.chat_id != COMMITTEE_CHAT for c in calls if c.method == "sendMessage")
    assert (MEMBER, "case_viewed") in await audit_actions(h)


async def test_details_refused_to_a_non_member(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    calls = await h.press(OUTSIDER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "Only committee members" in h.alerts(calls)[0]
    assert (OUTSIDER, "view_refused") in await audit_actions(h)
    assert (OUTSIDER, "case_viewed") not in await audit_actions(h)


async def test_forged_details_for_a_non_member_reveal_nothing(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    calls = await h.press_data(OUTSIDER, f"cd:{ref}")  # from their own private chat
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    calls = await h.press_data(OUTSIDER, "cd:AAA-AAA")
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_member_who_never_started_the_bot_is_told_to(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    h.fake.unreachable(MEMBER)
    calls = await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    assert "private chat" in h.alerts(calls)[-1]
    # A view is audited before anything is sent (a send can fail half-way): the attempt is in
    # the audit, although this first send already failed.
    assert (MEMBER, "case_viewed") in await audit_actions(h)


async def test_voice_note_is_forwarded_to_the_member(harness: Harness) -> None:
    h = harness
    from tests.flows import answer_all, apply_and_consent, submit

    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    await h.press(FAMILY, r":review:e:description$")
    await h.feed(h.updates.voice(FAMILY, file_id="voice-file-xyz", duration=12))
    ref = await submit(h, FAMILY)
    calls = await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    voices = [c for c in calls if c.method == "sendVoice"]
    assert len(voices) == 1 and voices[0].params["voice"] == "voice-file-xyz"
    assert voices[0].chat_id == MEMBER


async def test_case_command_for_members_only(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    await h.say(MEMBER, "/start")  # the member chose English
    calls = await h.say(MEMBER, f"/case {ref.lower().replace('-', '')}")
    assert PHONE_E164 in h.texts(calls)[0]
    calls = await h.say(OUTSIDER, f"/case {ref}")
    assert "don't know that command" in h.texts(calls)[0]
    calls = await h.feed(h.updates.text(MEMBER, f"/case {ref}", chat_id=COMMITTEE_CHAT))
    sent = [c for c in calls if c.method.startswith("send")]
    assert sent and all(
        c.chat_id == MEMBER for c in sent
    )  # answered privately, never in the group
    calls = await h.feed(h.updates.text(OUTSIDER, f"/case {ref}", chat_id=COMMITTEE_CHAT))
    assert calls == []  # a non-member in the group: silence
    calls = await h.feed(h.updates.text(MEMBER, f"/case {ref}", chat_id=-100999))
    assert calls == []  # another group: silence
    calls = await h.say(MEMBER, "/case NOPE")
    assert "No case" in h.texts(calls)[0]


async def test_card_survives_a_crash_between_saving_and_sending(
    settings: Settings,
) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)

    async def crash_before_sending() -> int:
        return 0

    h.services.delivery.flush = crash_before_sending  # type: ignore[method-assign]
    ref = await full_intake(h, FAMILY)
    assert fake.sent(COMMITTEE_CHAT) == []
    await stop_app(app)

    fake2 = FakeTelegram()
    app2 = await start_app(settings, fake2)  # start-up sends what the outbox holds
    await stop_app(app2)
    cards = fake2.sent(COMMITTEE_CHAT)
    assert len(cards) == 1 and ref in (cards[0].text or "")


async def test_card_retried_after_flood_control(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    case = await h.services.db.fetchone("SELECT id FROM cases WHERE ref = ?", (ref,))
    assert case is not None
    async with h.services.db.transaction() as conn:
        await outbox.enqueue_group(conn, "committee_card", COMMITTEE_CHAT, case_id=case["id"])
    h.fake.fail_next("sendMessage", 429, retry_after=60)  # longer than flush waits
    assert await h.services.delivery.flush() == 0
    row = await h.services.db.fetchone(
        "SELECT status, attempts, next_attempt_at FROM outbox ORDER BY id DESC LIMIT 1"
    )
    assert row is not None and row["status"] == "pending" and row["attempts"] == 1
    assert await h.services.delivery.flush() == 0  # not due yet: nothing is hammered
    async with h.services.db.transaction() as conn:
        await conn.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
    assert await h.services.delivery.flush() == 1
    assert len(h.fake.sent(COMMITTEE_CHAT)) == 2


async def test_card_given_up_when_the_bot_is_not_in_the_group(harness: Harness) -> None:
    h = harness
    h.fake.block(COMMITTEE_CHAT)
    await full_intake(h, FAMILY)
    row = await h.services.db.fetchone("SELECT status, error FROM outbox")
    assert row is not None and row["status"] == "failed" and row["error"] == "Forbidden"
    # The family is not affected ([-1] is the question about community activities).
    assert "Your reference is" in h.fake.texts(FAMILY)[-2]


@pytest.mark.parametrize("presser", [OUTSIDER, MEMBER, FAMILY])
async def test_forged_buttons_on_the_card_never_touch_it(harness: Harness, presser: int) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    await h.say(MEMBER, "/start")
    [card] = h.fake.messages(COMMITTEE_CHAT)
    draft_like = "in:abcdef:situation:o:orphans"
    for data in (
        draft_like,
        "lang:en",
        "ic:y",
        "ic:n",
        "cx:y:abcdef",
        "ap:r:abcdef",
        "rv:x:",
        "rv:ok:",
        "cl:all:0",
        "fa:1",
        f"cd:{ref}",
        "junk",
    ):
        await h.press_data(presser, data, message_id=card["message_id"], chat_id=COMMITTEE_CHAT)
    assert h.fake.messages(COMMITTEE_CHAT) == [card]
    assert all(c.chat_id != COMMITTEE_CHAT for c in h.fake.sent() if c.method.startswith("edit"))


async def test_a_short_flood_wait_is_honoured_within_the_flush(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    case = await h.services.db.fetchone("SELECT id FROM cases WHERE ref = ?", (ref,))
    assert case is not None
    async with h.services.db.transaction() as conn:
        await outbox.enqueue_group(conn, "committee_card", COMMITTEE_CHAT, case_id=case["id"])
    h.fake.fail_next("sendMessage", 429, retry_after=1)
    before = len(h.fake.calls)
    # The rate limiter waits the second out for this one message, then sends it again.
    assert await h.services.delivery.flush() == 1
    assert [c.status for c in h.fake.calls[before:] if c.method == "sendMessage"] == [429, 200]
    row = await h.services.db.fetchone(
        "SELECT status, attempts FROM outbox ORDER BY id DESC LIMIT 1"
    )
    assert row is not None and (row["status"], row["attempts"]) == ("sent", 1)
