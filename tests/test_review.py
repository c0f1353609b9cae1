"""The committee reviews and decides from Telegram; families hear back in their language."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import COMMITTEE_CHAT, MEMBER, OTHER_MEMBER, OUTSIDER, Harness
from tests.flows import NAME, PHONE_E164, STORY, full_intake, live_buttons

FAMILY = 808


async def new_case(h: Harness, lang: str = "en") -> str:
    h.languages[FAMILY] = lang
    ref = await full_intake(h, FAMILY)
    for member in (MEMBER, OTHER_MEMBER):
        await h.say(member, "/start")
    return ref


async def status(h: Harness, ref: str) -> str:
    row = await h.services.db.fetchone("SELECT status FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    return str(row["status"])


async def audit(h: Harness) -> list[tuple[int | None, str]]:
    rows = await h.services.db.fetchall("SELECT actor, action FROM audit ORDER BY id")
    return [(h.services.ids.maybe_open(r["actor"]), r["action"]) for r in rows]


def card_text(h: Harness) -> str:
    cards = [m for m in h.fake.messages(COMMITTEE_CHAT)]
    assert len(cards) == 1, "the card is edited in place, never sent again"
    return str(cards[0].get("text", ""))


async def approve(
    h: Harness,
    ref: str,
    member: int = MEMBER,
    months: int = 3,
    message: str | None = "We will call you on Sunday <3",
) -> None:
    await h.press(member, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(member, r"^rv:sd:$")
    await h.press(member, rf"^rv:p:{months}$")
    if message is None:
        await h.press(member, r"^rv:skip:$")
    else:
        await h.say(member, message)
    await h.press(member, r"^rv:ok:$")


async def test_take_assigns_and_edits_the_card(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    calls = await h.press(MEMBER, rf"^cv:take:{ref}$", chat_id=COMMITTEE_CHAT)
    assert await status(h, ref) == "in_review"
    assert any(c.method == "editMessageText" for c in calls)
    text = card_text(h)
    assert "قيد المراجعة" in text or "In review" in text
    assert "Test" in text  # the member's first name, as Telegram shows it
    assert (MEMBER, "case_taken") in await audit(h)


@pytest.mark.parametrize("family_lang", ["en", "ar"])
async def test_approve_tells_the_family_in_its_language(
    harness: Harness, family_lang: str
) -> None:
    h = harness
    ref = await new_case(h, family_lang)
    h.languages[MEMBER] = "en"
    await approve(h, ref)
    assert await status(h, ref) == "approved"
    notice = h.fake.texts(FAMILY)[-1]
    assert ref in notice
    assert "We will call you on Sunday &lt;3" in notice
    if family_lang == "ar":
        assert "أخبار سارّة" in notice and "دعم معنوي، دعم مالي" in notice
    else:
        assert "Good news" in notice and "Moral support, Financial support" in notice
    card = card_text(h)
    assert "Sunday" not in card  # the member's message to the family is not in the group
    row = await h.services.db.fetchone("SELECT support_until FROM cases WHERE ref = ?", (ref,))
    assert row is not None and row["support_until"]
    reminders = await h.services.db.fetchall("SELECT kind, status FROM reminders")
    assert [(r["kind"], r["status"]) for r in reminders] == [
        ("support_end", "pending"),
        ("support_followup", "pending"),  # the family is asked how things are, before the end
    ]
    assert (MEMBER, "case_approved") in await audit(h)


async def test_approve_with_chosen_support_and_custom_date(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:s:moral$")  # unselect moral
    await h.press(MEMBER, r"^rv:s:logistics$")
    await h.press(MEMBER, r"^rv:sd:$")
    await h.press(MEMBER, r"^rv:pc:$")
    calls = await h.say(MEMBER, "yesterday")
    assert "2027-03-31" in h.texts(calls)[0]
    calls = await h.say(MEMBER, "2001-01-01")
    assert "future" in h.texts(calls)[0]
    await h.say(MEMBER, "٢٠٣٠-٠٦-٣٠")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    row = await h.services.db.fetchone("SELECT decision FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    assert row["decision"] == '{"support": ["financial", "logistics"], "until": "2030-06-30"}'


@pytest.mark.parametrize("family_lang", ["en", "ar"])
async def test_decline_is_kind_and_says_what_next(harness: Harness, family_lang: str) -> None:
    h = harness
    ref = await new_case(h, family_lang)
    await h.press(MEMBER, rf"^cv:decline:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:r:debt$")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    assert await status(h, ref) == "declined"
    notice = h.fake.texts(FAMILY)[-1]
    assert ref in notice and "/apply" in notice
    if family_lang == "en":
        assert "not a debt relief program" in notice
    assert (MEMBER, "case_declined") in await audit(h)


async def test_ask_and_the_family_answers_by_text(harness: Harness) -> None:
    h = harness
    ref = await new_case(h, "ar")
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Which hospital treats you?")
    assert await status(h, ref) == "info_requested"
    question = h.fake.last(FAMILY)
    assert "Which hospital treats you?" in (question.text or "")
    await h.press(FAMILY, r"^fa:\d+$")
    await h.say(FAMILY, "Al-Bashir hospital, every Tuesday")
    assert await status(h, ref) == "in_review"
    asked = h.fake.message(FAMILY, int(question.result["message_id"]))
    assert asked is not None and not h.fake.buttons(asked)  # answered: no Answer button left
    told = h.fake.texts(MEMBER)[-1]
    assert "Al-Bashir hospital" in told
    assert "Al-Bashir" not in card_text(h)
    raw = b"".join(p.read_bytes() for p in h.services.settings.data_dir.glob("sanad.db*"))
    assert b"Al-Bashir" not in raw and b"Which hospital" not in raw
    # The answer is part of the case for members.
    calls = await h.say(MEMBER, f"/case {ref}")
    assert any("Al-Bashir" in (c.text or "") for c in calls)


async def test_family_answers_by_voice(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Please describe the treatment")
    await h.press(FAMILY, r"^fa:\d+$")
    await h.feed(h.updates.voice(FAMILY, file_id="answer-voice", duration=30))
    assert await status(h, ref) == "in_review"
    calls = await h.say(MEMBER, f"/case {ref}")
    assert any(c.method == "sendVoice" and c.params["voice"] == "answer-voice" for c in calls)
    assert any("Voice note, 30 seconds" in (c.text or "") for c in calls)
    calls = await h.say(FAMILY, "/mydata")
    assert any("Voice note, 30 seconds" in (c.text or "") for c in calls)


async def test_concurrent_decisions_exactly_one_wins(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    h.languages[OTHER_MEMBER] = "en"
    for member in (MEMBER, OTHER_MEMBER):
        await h.press(member, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
        await h.press(member, r"^rv:sd:$")
        await h.press(member, r"^rv:p:1$")
        await h.press(member, r"^rv:skip:$")
    first = h.updates.callback(MEMBER, "rv:ok:", chat_id=MEMBER)
    second = h.updates.callback(OTHER_MEMBER, "rv:ok:", chat_id=OTHER_MEMBER)
    p = h.app.update_processor
    await asyncio.gather(
        p.process_update(first, h.app.process_update(first)),
        p.process_update(second, h.app.process_update(second)),
    )
    await h.services.delivery.wait_idle()
    decided = [a for a in await audit(h) if a[1] == "case_approved"]
    assert len(decided) == 1
    winner = decided[0][0]
    loser = OTHER_MEMBER if winner == MEMBER else MEMBER
    assert "Already decided by" in h.fake.texts(loser)[-1]
    notices = [t for t in h.fake.texts(FAMILY) if "Good news" in t]
    assert len(notices) == 1


async def test_forged_and_replayed_buttons_from_non_members(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    before = await h.services.db.fetchone("SELECT * FROM cases WHERE ref = ?", (ref,))
    for data in (
        f"cv:approve:{ref}",
        f"cv:take:{ref}",
        f"cv:close:{ref}",
        "rv:ok:",
        f"cd:{ref}",
        "cv:approve:NOPE",
    ):
        calls = await h.press_data(OUTSIDER, data, chat_id=COMMITTEE_CHAT)
        assert [c.method for c in calls] == ["answerCallbackQuery"], data
    after = await h.services.db.fetchone("SELECT * FROM cases WHERE ref = ?", (ref,))
    assert tuple(before) == tuple(after)  # type: ignore[arg-type]
    refused = [a for a in await audit(h) if a[0] == OUTSIDER]
    assert len(refused) == 6 and all("refused" in a for _, a in refused)
    for secret in (NAME, PHONE_E164, STORY):
        assert all(secret not in (c.text or "") for c in h.fake.sent(OUTSIDER))


async def test_buttons_after_the_case_moved_on(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    calls = await h.press_data(OTHER_MEMBER, f"cv:decline:{ref}", chat_id=COMMITTEE_CHAT)
    assert "Already decided by" in h.alerts(calls)[0]
    assert await status(h, ref) == "approved"
    calls = await h.press_data(OTHER_MEMBER, f"cv:take:{ref}", chat_id=COMMITTEE_CHAT)
    assert await status(h, ref) == "approved"
    # A wizard started before the decision, confirmed after it, changes nothing.
    await h.press_data(MEMBER, f"cv:close:{ref}", chat_id=COMMITTEE_CHAT)
    assert await status(h, ref) == "closed"
    calls = await h.press_data(MEMBER, "rv:ok:")
    assert "no longer works" in h.alerts(calls)[0]


async def test_close_and_reopen(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:decline:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:r:criteria$")
    await h.say(MEMBER, "Please contact the municipality's social office.")
    await h.press(MEMBER, r"^rv:ok:$")
    await h.press(MEMBER, rf"^cv:reopen:{ref}$", chat_id=COMMITTEE_CHAT)
    assert await status(h, ref) == "in_review"
    await h.press(MEMBER, rf"^cv:decline:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:r:other$")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    await h.press(MEMBER, rf"^cv:close:{ref}$", chat_id=COMMITTEE_CHAT)
    assert await status(h, ref) == "closed"


async def test_wizard_survives_a_restart_and_cancel_changes_nothing(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:sd:$")
    h.services.people.cache.clear()  # a fresh process remembers only the database
    calls = await h.press(MEMBER, r"^rv:p:6$")
    assert calls
    await h.say(MEMBER, "/cancel")
    assert await status(h, ref) == "new"
    calls = await h.press_data(MEMBER, "rv:ok:")
    assert "no longer works" in h.alerts(calls)[0]


async def test_notes_are_private_and_encrypted(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.say(MEMBER, f"/note {ref}")
    await h.say(MEMBER, "Neighbour confirms the situation")
    calls = await h.say(MEMBER, f"/case {ref}")
    assert any("Neighbour confirms" in (c.text or "") for c in calls)
    calls = await h.say(OUTSIDER, f"/note {ref}")
    assert "don't know that command" in h.texts(calls)[0]
    raw = b"".join(p.read_bytes() for p in h.services.settings.data_dir.glob("sanad.db*"))
    assert b"Neighbour" not in raw


async def test_forged_actions_from_a_member_change_nothing(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "A question")
    for data in (f"cv:answer:{ref}", f"cv:bogus:{ref}", "cv:take", "rv:zz:", "fa:999", "fa:x"):
        calls = await h.press_data(MEMBER, data, chat_id=COMMITTEE_CHAT)
        assert [c.method for c in calls] == ["answerCallbackQuery"], data
    assert await status(h, ref) == "info_requested"
    # The family's own button cannot be pressed by someone else.
    _, answer = h.find_button(FAMILY, r"^fa:\d+$")
    calls = await h.press_data(OUTSIDER, answer)
    assert "already answered or closed" in h.alerts(calls)[0]


async def reachable(h: Harness, user: int) -> int:
    row = await h.services.db.fetchone(
        "SELECT reachable FROM people WHERE user_id = ?", (h.services.ids.pid(user),)
    )
    assert row is not None
    return int(row["reachable"])


async def test_blocks_and_unblocks_are_remembered(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.feed(h.updates.my_chat_member(FAMILY, "member", "kicked"))
    assert await reachable(h, FAMILY) == 0
    await h.feed(h.updates.my_chat_member(FAMILY, "kicked", "member"))
    assert await reachable(h, FAMILY) == 1
    # A family that blocked the bot without the update reaching us: learned from the 403.
    h.fake.block(FAMILY)
    await approve(h, ref)
    assert await reachable(h, FAMILY) == 0
    row = await h.services.db.fetchone(
        "SELECT status, error FROM outbox WHERE kind = 'family_notice'"
    )
    assert row is not None and (row["status"], row["error"]) == ("failed", "Forbidden")
    assert await status(h, ref) == "approved"  # the decision stands


async def test_a_decision_that_fails_keeps_the_wizard(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wizard ends in the decision's own transaction: a failure (or a crash) in between
    never leaves the member with neither a wizard nor a decision."""
    from bot.review import ReviewService

    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:sd:$")
    await h.press(MEMBER, r"^rv:p:3$")
    await h.press(MEMBER, r"^rv:skip:$")
    real_update = ReviewService._update

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ReviewService, "_update", broken)
    await h.press(MEMBER, r"^rv:ok:$")
    assert "something went wrong" in h.fake.texts(MEMBER)[-1]
    assert await status(h, ref) == "new"
    session = await h.services.db.fetchone(
        "SELECT 1 FROM sessions WHERE user_id = ?", (h.services.ids.pid(MEMBER),)
    )
    assert session is not None  # still waiting at the confirmation

    monkeypatch.setattr(ReviewService, "_update", real_update)
    await h.press_data(MEMBER, "rv:ok:")
    assert await status(h, ref) == "approved"
    assert await h.services.db.fetchone("SELECT 1 FROM sessions") is None


async def test_a_wizard_screen_answered_by_typing_loses_its_buttons(harness: Harness) -> None:
    """The approval's message step is answered by typing: once the next screen is there, the
    screen answered keeps no button (the chat never holds two live screens); the same for a
    note, whose screen is the whole wizard."""
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:sd:$")
    await h.press(MEMBER, r"^rv:p:3$")
    await h.say(MEMBER, "We will call you on Sunday")
    await h.services.delivery.wait_idle()
    [confirm] = live_buttons(h, MEMBER, "rv:")
    assert confirm == h.fake.messages(MEMBER)[-1]["message_id"]
    await h.press(MEMBER, r"^rv:ok:$")
    assert live_buttons(h, MEMBER, "rv:") == []
    await h.say(MEMBER, f"/note {ref}")
    assert len(live_buttons(h, MEMBER, "rv:")) == 1
    await h.say(MEMBER, "Called them, all fine")
    await h.services.delivery.wait_idle()
    assert live_buttons(h, MEMBER, "rv:") == []
