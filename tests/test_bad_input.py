"""Bad input gets a clear, kind answer in the person's language, and nothing is lost."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.intake import Draft
from tests.conftest import Harness
from tests.flows import NAME, answer_all, apply_and_consent, full_intake, live_questions

FAMILY = 202


async def at_step(h: Harness, step: str, lang: str = "en") -> Draft:
    """Walk a family to ``step`` and return its draft there."""
    h.languages[FAMILY] = lang
    await apply_and_consent(h, FAMILY)
    script = [
        ("press", r":situation:o:orphans$"),
        ("press", r":situation:d:$"),
        ("press", r":support:o:moral$"),
        ("press", r":support:d:$"),
        ("say", "4"),
        ("press", r":children:n:2$"),
        ("press", r":area:o:other$"),
        ("say", "Zarqa"),
        ("say", "Huda"),
        ("say", "0791234567"),
        ("press", r":call_time:o:any$"),
    ]
    for kind, value in script:
        draft = await h.services.intake.load(FAMILY)
        assert draft is not None
        if draft.step == step:
            return draft
        if kind == "press":
            await h.press(FAMILY, value)
        else:
            await h.say(FAMILY, value)
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == step
    return draft


async def unchanged(h: Harness, before: Draft) -> None:
    """The draft's answers and position are exactly as they were (the question may have been
    shown again, in a new message: which message is live may change)."""
    after = await h.services.intake.load(FAMILY)
    assert after is not None
    assert (
        dataclasses.replace(after, live=before.live, answered_here=before.answered_here) == before
    )


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_sticker_photo_location_where_text_expected(harness: Harness, lang: str) -> None:
    h = harness
    before = await at_step(h, "area_other", lang)
    for update in (
        h.updates.sticker(FAMILY, language_code=lang),
        h.updates.photo(FAMILY, language_code=lang),
        h.updates.location(FAMILY, 31.95, 35.91, language_code=lang),
        h.updates.document(FAMILY, language_code=lang),
    ):
        calls = await h.feed(update)
        texts = h.texts(calls)
        assert len(texts) == 1  # one short line: the question stays where it is
        expected = "typed text" if lang == "en" else "النص"
        assert expected in texts[0]
        await unchanged(h, before)


async def test_voice_note_outside_description_and_name_is_refused(harness: Harness) -> None:
    h = harness
    before = await at_step(h, "area_other")
    calls = await h.feed(h.updates.voice(FAMILY))
    assert h.texts(calls) == ["Please type this answer: a voice note cannot be read here."]
    await unchanged(h, before)


async def test_the_name_may_be_a_voice_note(harness: Harness) -> None:
    h = harness
    await at_step(h, "name")
    calls = await h.feed(h.updates.voice(FAMILY, duration=4))
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == "phone"
    assert draft.answers["name"]["voice"] and draft.answers["name"]["duration"] == 4
    edited = [c for c in calls if c.method == "editMessageText"]
    assert "Your answer: Voice note, 4 seconds" in edited[0].params["text"]


async def test_voice_note_accepted_as_description(harness: Harness) -> None:
    h = harness
    await at_step(h, "description")
    await h.feed(h.updates.voice(FAMILY, file_id="voice-secret-id", duration=42))
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == "urgency"
    assert draft.answers["description"] == {"voice": "voice-secret-id", "duration": 42}
    await h.press(FAMILY, r":urgency:o:normal$")
    assert "Voice note, 42 seconds" in h.newest(FAMILY)


async def test_description_can_be_skipped(harness: Harness) -> None:
    h = harness
    await at_step(h, "description")
    await h.press(FAMILY, r":description:s:$")
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["description"] is None


@pytest.mark.parametrize(("lang", "limit"), [("en", "100"), ("ar", "100")])
async def test_five_thousand_characters_told_the_limit(
    harness: Harness, lang: str, limit: str
) -> None:
    h = harness
    before = await at_step(h, "name", lang)
    calls = await h.say(FAMILY, "ن" * 5000)
    assert limit in h.texts(calls)[0]
    await unchanged(h, before)
    assert all(len(c.text or "") <= 4096 for c in calls)


async def test_long_description_told_its_own_limit(harness: Harness) -> None:
    h = harness
    before = await at_step(h, "description")
    calls = await h.say(FAMILY, "x " * 2500)
    assert "2,000" in h.texts(calls)[0]
    await unchanged(h, before)
    await h.say(FAMILY, "y" * 2000)  # exactly the limit is fine, and the review still fits
    await h.press(FAMILY, r":urgency:o:normal$")
    assert len(h.newest(FAMILY)) <= 4096


async def test_html_and_markdown_in_a_name_are_shown_literally(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    review = h.newest_html(FAMILY)
    assert "Fatima &lt;b&gt;Al-Zahra&lt;/b&gt; &amp; Sons *_`" in review
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["name"] == NAME


@pytest.mark.parametrize(
    "phone", ["12", "not a phone", "+1 000", "٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠"]
)
async def test_invalid_phone(harness: Harness, phone: str) -> None:
    h = harness
    before = await at_step(h, "phone")
    calls = await h.say(FAMILY, phone)
    assert "valid phone number" in h.texts(calls)[0]
    await unchanged(h, before)


async def test_shared_contact_is_accepted_as_phone(harness: Harness) -> None:
    h = harness
    await at_step(h, "phone")
    calls = await h.press(FAMILY, r":phone:p:$")
    (share,) = [c for c in calls if c.method == "sendMessage"]
    assert share.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    calls = await h.feed(h.updates.contact(FAMILY, "962791112233", contact_user_id=FAMILY))
    # The question is closed with the number, and the next one asked: nothing else is sent.
    (closed,) = [c for c in calls if c.method == "editMessageText"]
    assert "Your answer: +962791112233" in closed.params["text"]
    (sent,) = [c for c in calls if c.method == "sendMessage"]
    assert "best time" in str(sent.params["text"])
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["phone"] == "+962791112233"


@pytest.mark.parametrize(("typed", "stored"), [("٥", 5), ("۱۲", 12), (" 3 ", 3)])
async def test_arabic_indic_and_persian_digits(harness: Harness, typed: str, stored: int) -> None:
    h = harness
    await at_step(h, "household_size")
    await h.say(FAMILY, typed)
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["household_size"] == stored


@pytest.mark.parametrize(
    ("lang", "typed"),
    [("en", "0"), ("en", "500"), ("ar", "٥٠٠"), ("en", "five"), ("en", "-3"), ("en", "2.5")],
)
async def test_absurd_household_sizes_are_refused_kindly(
    harness: Harness, lang: str, typed: str
) -> None:
    h = harness
    before = await at_step(h, "household_size", lang)
    calls = await h.say(FAMILY, typed)
    assert len(h.texts(calls)) == 1
    await unchanged(h, before)


async def test_more_children_than_people_is_refused(harness: Harness) -> None:
    h = harness
    before = await at_step(h, "children")  # household of 4
    calls = await h.say(FAMILY, "6")
    assert "from 0 to 4" in h.texts(calls)[0]
    await unchanged(h, before)
    forged = f"in:{before.id}:children:n:9"
    calls = await h.press_data(FAMILY, forged)
    await unchanged(h, before)


@pytest.mark.parametrize("command", ["/start", "/help"])
async def test_start_or_help_during_intake_answers_and_continues(
    harness: Harness, command: str
) -> None:
    h = harness
    before = await at_step(h, "area_other")
    calls = await h.say(FAMILY, command)
    texts = h.texts(calls)
    assert ("Welcome to Sanad" if command == "/start" else "/apply") in texts[0]
    # The question comes again in the same message as the reminder, its old copy closed.
    assert len(texts) == 2
    assert "Your application is saved" in texts[-1] and "In which area" in texts[-1]
    assert live_questions(h) == 1
    await unchanged(h, before)
    await h.say(FAMILY, "Irbid")
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["area_other"] == "Irbid"


async def test_unknown_command_during_intake(harness: Harness) -> None:
    h = harness
    before = await at_step(h, "area_other")
    calls = await h.say(FAMILY, "/whatever@sanad_test_bot now")
    texts = h.texts(calls)
    assert "don't know that command" in texts[0]
    assert "In which area" in texts[-1]
    await unchanged(h, before)


async def test_text_where_a_button_is_expected(harness: Harness) -> None:
    h = harness
    before = await at_step(h, "call_time")
    calls = await h.say(FAMILY, "evening please")
    assert "buttons" in h.texts(calls)[0]
    await unchanged(h, before)


async def test_button_from_a_finished_conversation(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    message_id, old = h.find_button(FAMILY, r":urgency:o:high$", history=True)
    await h.press(FAMILY, r":review:S:$")
    cases = await h.services.db.fetchall("SELECT * FROM cases")
    calls = await h.press_data(FAMILY, old, message_id=message_id)
    assert "closed" in h.alerts(calls)[0]
    assert await h.services.db.fetchall("SELECT * FROM cases") == cases
    assert await h.services.intake.load(FAMILY) is None


async def test_old_question_button_in_a_live_draft(harness: Harness) -> None:
    h = harness
    await at_step(h, "support")
    _, old = h.find_button(FAMILY, r":situation:o:head_death$", history=True)
    before = await h.services.intake.load(FAMILY)
    calls = await h.press_data(FAMILY, old)
    assert "last question" in h.alerts(calls)[0]
    assert await h.services.intake.load(FAMILY) == before


async def test_button_pressed_twice_quickly_counts_once(harness: Harness) -> None:
    h = harness
    await at_step(h, "call_time")
    message_id, data = h.find_button(FAMILY, r":call_time:o:morning$")
    first = h.updates.callback(FAMILY, data, message_id=message_id)
    second = h.updates.callback(FAMILY, data, message_id=message_id)
    processor = h.app.update_processor
    await asyncio.gather(
        processor.process_update(first, h.app.process_update(first)),
        processor.process_update(second, h.app.process_update(second)),
    )
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == "description"
    questions = [t for t in h.fake.texts(FAMILY) if "describe your situation" in t]
    assert len(questions) == 1


async def test_submit_pressed_twice_creates_one_case(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    message_id, data = h.find_button(FAMILY, r":review:S:$")
    await h.press_data(FAMILY, data, message_id=message_id)
    calls = await h.press_data(FAMILY, data, message_id=message_id)
    assert h.alerts(calls)
    assert len(await h.services.db.fetchall("SELECT * FROM cases")) == 1


@pytest.mark.parametrize(
    "data",
    [
        "in:",
        "in:a:b:c:d:e:f",
        "in:zzzzzz:situation:o:orphans",
        "lang:xx",
        "ic:maybe",
        "cx:y:nothing",
        "ap:c:nope",
        "totally-unknown",
        "cd:",
        "in:::::",
    ],
)
async def test_forged_buttons_change_nothing(harness: Harness, data: str) -> None:
    h = harness
    before = await at_step(h, "area_other")
    calls = await h.press_data(FAMILY, data)
    assert any(c.method == "answerCallbackQuery" for c in calls)
    await unchanged(h, before)


async def test_forged_option_of_the_current_step(harness: Harness) -> None:
    h = harness
    before = await at_step(h, "call_time")
    calls = await h.press_data(FAMILY, f"in:{before.id}:call_time:o:midnight")
    assert "no longer works" in h.alerts(calls)[0]
    await unchanged(h, before)


async def test_edited_message_is_explained(harness: Harness) -> None:
    h = harness
    before = await at_step(h, "area_other")
    calls = await h.feed(h.updates.edited_text(FAMILY, "changed"))
    assert "edited messages" in h.texts(calls)[0]
    await unchanged(h, before)


async def test_text_without_a_draft_points_to_apply(harness: Harness) -> None:
    calls = await harness.say(FAMILY, "hello?")
    assert "/apply" in harness.texts(calls)[0]


async def test_text_at_review_points_to_buttons(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    calls = await h.say(FAMILY, "is this ok?")
    assert "use the buttons" in h.texts(calls)[0]


async def test_an_unexpected_error_apologises_and_keeps_the_draft(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    before = await at_step(h, "area_other")
    original = h.services.intake.save

    async def broken(*args: object) -> None:
        raise RuntimeError("boom with Fatima's secret")

    h.services.intake.save = broken  # type: ignore[method-assign, assignment]
    calls = await h.say(FAMILY, "Irbid")
    h.services.intake.save = original  # type: ignore[method-assign]
    assert "Sorry, something went wrong" in h.texts(calls)[-1]
    assert "Fatima" not in caplog.text and "Irbid" not in caplog.text
    await unchanged(h, before)
    await h.say(FAMILY, "Irbid")
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["area_other"] == "Irbid"


async def test_intake_is_private_only(harness: Harness) -> None:
    h = harness
    group = -100777
    calls = await h.feed(h.updates.text(FAMILY, "/apply", chat_id=group))
    assert calls == []
    calls = await h.feed(h.updates.text(FAMILY, "hello group", chat_id=group))
    assert calls == []


async def test_full_intake_with_every_bad_input_still_submits(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    assert ref


async def test_the_same_update_delivered_twice_is_processed_once(harness: Harness) -> None:
    h = harness
    await at_step(h, "area_other")
    update = h.updates.text(FAMILY, "Irbid")
    first = await h.feed(update)
    again = await h.feed(update)  # same update_id, as after a failed webhook answer
    assert first and again == []
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.answers["area_other"] == "Irbid" and draft.step == "name"
