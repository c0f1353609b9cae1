"""The family's intake, end to end, on the real Application."""

from __future__ import annotations

import pytest

from bot.config import Settings
from tests.conftest import COMMITTEE_CHAT, Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import (
    NAME,
    OTHER,
    PHONE_E164,
    STORY,
    answer_all,
    apply_and_consent,
    full_intake,
    submit,
)

FAMILY = 101


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_whole_intake_creates_case_and_alerts_committee(harness: Harness, lang: str) -> None:
    h = harness
    h.languages[FAMILY] = lang
    ref = await full_intake(h, FAMILY)

    # The confirmation, then the one question about community activities.
    confirmation = str(h.fake.messages(FAMILY)[-2].get("text"))
    assert ref in confirmation
    assert [d for _, d in h.fake.buttons(h.fake.messages(FAMILY)[-1])] == ["ao:y", "ao:n"]
    cards = h.fake.sent(COMMITTEE_CHAT)
    assert len(cards) == 1
    card = cards[0].text or ""
    assert ref in card
    for secret in (NAME, "Fatima", PHONE_E164, "791234567", OTHER, STORY, "kidney"):
        assert secret not in card
    assert "Jabal Al-Hussein" not in card  # the area typed under "other" is private
    case = await h.services.intake.db.fetchone("SELECT * FROM cases WHERE ref = ?", (ref,))
    assert case is not None and case["status"] == "new" and case["language"] == lang


async def current_step(h: Harness, user: int) -> str | None:
    """The step the user's draft is at (None without a draft)."""
    draft = await h.services.intake.load(user)
    return None if draft is None else draft.step


async def test_consent_refused_stores_nothing(harness: Harness) -> None:
    h = harness
    await h.say(FAMILY, "/apply")
    calls = await h.press(FAMILY, r"^ic:n$")
    assert "nothing was stored" in h.texts(calls)[-1]
    assert await h.services.db.fetchall("SELECT * FROM drafts") == []
    assert await h.services.db.fetchall("SELECT * FROM cases") == []


async def test_consent_text_names_what_is_not_offered(harness: Harness) -> None:
    calls = await harness.say(FAMILY, "/apply")
    assert "This is not a debt relief program." in harness.texts(calls)[0]


async def test_edit_from_review_returns_to_review(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    assert await current_step(h, FAMILY) == "review"

    await h.press(FAMILY, r":review:e:household_size$")
    assert await current_step(h, FAMILY) == "household_size"
    await h.say(FAMILY, "7")
    assert await current_step(h, FAMILY) == "review"
    review = h.newest(FAMILY)
    assert "7" in review and "Please check your answers" in review
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["household_size"] == 7
    assert draft.answers["name"] == NAME  # the rest is untouched


async def test_edit_multi_choice_drops_and_asks_follow_up(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    await h.press(FAMILY, r":review:e:situation$")
    await h.press(FAMILY, r":situation:o:other$")  # unselect "other"
    await h.press(FAMILY, r":situation:d:$")
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == "review"
    assert draft.answers["situation"] == ["orphans"]
    assert OTHER not in h.newest(FAMILY)  # no longer asked, no longer shown

    await h.press(FAMILY, r":review:e:situation$")
    await h.press(FAMILY, r":situation:o:disability$")
    await h.press(FAMILY, r":situation:o:other$")
    await h.press(FAMILY, r":situation:d:$")
    # "other" is chosen again and its description is still known: straight back to review.
    assert await current_step(h, FAMILY) == "review"


async def test_edit_then_keep_returns_to_review(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    await h.press(FAMILY, r":review:e:name$")
    await h.press(FAMILY, r":name:k:$")
    assert await current_step(h, FAMILY) == "review"


async def test_back_goes_to_previous_question_and_keeps_answers(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await h.press(FAMILY, r":situation:o:orphans$")
    await h.press(FAMILY, r":situation:d:$")
    assert await current_step(h, FAMILY) == "support"
    await h.press(FAMILY, r":support:b:$")
    assert await current_step(h, FAMILY) == "situation"
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["situation"] == ["orphans"]


async def test_multi_select_needs_one_option(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    calls = await h.press(FAMILY, r":situation:d:$")
    assert "at least one" in h.alerts(calls)[0]
    assert await current_step(h, FAMILY) == "situation"


async def test_cancel_asks_first_then_discards(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await h.press(FAMILY, r":situation:o:orphans$")
    await h.say(FAMILY, "/cancel")
    await h.press(FAMILY, r"^cx:n:")
    assert await current_step(h, FAMILY) == "situation"
    await h.say(FAMILY, "/cancel")
    calls = await h.press(FAMILY, r"^cx:y:")
    assert "cancelled" in h.texts(calls)[-1]
    assert await h.services.intake.load(FAMILY) is None
    calls = await h.say(FAMILY, "/cancel")
    assert "nothing to cancel" in h.texts(calls)[-1]


async def test_cancel_from_review_button(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    await h.press(FAMILY, r":review:X:$")
    await h.press(FAMILY, r"^cx:y:")
    assert await h.services.intake.load(FAMILY) is None


async def test_apply_again_offers_continue_or_start_over(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await h.press(FAMILY, r":situation:o:orphans$")
    await h.press(FAMILY, r":situation:d:$")
    calls = await h.say(FAMILY, "/apply")
    assert "unfinished application" in h.texts(calls)[-1]
    calls = await h.press(FAMILY, r"^ap:c:")
    assert "What kind of support" in h.texts(calls)[-1]

    await h.say(FAMILY, "/apply")
    await h.press(FAMILY, r"^ap:r:")
    assert await h.services.intake.load(FAMILY) is None  # nothing kept until consent again
    await h.press(FAMILY, r"^ic:y$")
    assert await current_step(h, FAMILY) == "situation"


async def test_second_case_only_after_confirmation(harness: Harness) -> None:
    h = harness
    first = await full_intake(h, FAMILY)
    calls = await h.say(FAMILY, "/apply")
    warning = h.texts(calls)[-1]
    assert first in warning and "still being reviewed" in warning
    await h.press(FAMILY, r"^ap:x:")
    assert await h.services.intake.load(FAMILY) is None

    await h.say(FAMILY, "/apply")
    await h.press(FAMILY, r"^ap:n:")
    await h.press(FAMILY, r"^ic:y$")
    await answer_all(h, FAMILY)
    second = await submit(h, FAMILY)
    assert second != first
    rows = await h.services.db.fetchall(
        "SELECT ref FROM cases WHERE user_id = ?", (h.services.ids.pid(FAMILY),)
    )
    assert len(rows) == 2


@pytest.mark.parametrize(("lang", "expected"), [("en", "New"), ("ar", "جديد")])
async def test_status_lists_cases_in_the_family_language(
    harness: Harness, lang: str, expected: str
) -> None:
    h = harness
    h.languages[FAMILY] = lang
    calls = await h.say(FAMILY, "/status")
    assert "/apply" in h.texts(calls)[-1]
    ref = await full_intake(h, FAMILY)
    calls = await h.say(FAMILY, "/status")
    text = h.texts(calls)[-1]
    assert ref in text and expected in text


async def test_resume_after_rebuilding_the_application(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    await apply_and_consent(h, FAMILY)
    await h.press(FAMILY, r":situation:o:head_death$")
    await h.press(FAMILY, r":situation:d:$")
    await h.press(FAMILY, r":support:o:logistics$")  # a pending multi-select, not yet Done
    await h.say(FAMILY, "/help")
    await stop_app(app)

    fake2 = FakeTelegram()
    app2 = await start_app(settings, fake2)
    h2 = Harness(app2, fake2)
    try:
        calls = await h2.say(FAMILY, "/apply")
        assert "unfinished application" in h2.texts(calls)[-1]
        calls = await h2.press(FAMILY, r"^ap:c:")
        # The question takes the place of the "unfinished application" message.
        question = next(c for c in calls if c.method == "editMessageText")
        assert "What kind of support" in (question.text or "")
        labels = [text for text, _ in fake2.buttons(question)]
        assert any(label.startswith("☑️") and "Logistics" in label for label in labels)
        await h2.press(FAMILY, r":support:d:$")
        draft = await h2.services.intake.load(FAMILY)
        assert draft is not None
        assert draft.answers == {"situation": ["head_death"], "support": ["logistics"]}
    finally:
        await stop_app(app2)
    fake2.assert_clean()
