"""The family's conversation as a person meets it: one live question, at most two messages per
action, mistakes answered in one line, and an intake a person who cannot type can finish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.forms import CALL_ME
from tests.conftest import COMMITTEE_CHAT, Harness, make_settings, running
from tests.fakes.telegram import Call
from tests.flows import apply_and_consent, live_buttons, live_questions

FAMILY = 202

# Buttons everywhere they can be, mistakes where people make them: ("press", regex),
# ("say", text), or ("feed", kind) for a sticker, a voice note or a shared contact.
WALK_WITH_MISTAKES: list[tuple[str, str]] = [
    ("say", "hello?"),  # text where buttons are expected
    ("press", r":situation:o:widow_elderly$"),
    ("press", r":situation:d:$"),
    ("feed", "sticker"),  # a sticker where buttons are expected
    ("press", r":support:o:financial$"),
    ("press", r":support:d:$"),
    ("say", "x" * 5000),  # 5,000 characters where a number is expected
    ("say", "٥"),
    ("press", r":children:b:$"),  # back, then forward again
    ("press", r":household_size:k:$"),
    ("press", r":children:n:2$"),
    ("press", r":area:o:north$"),
    ("feed", "sticker"),
    ("feed", "voice"),  # the name, spoken
    ("say", "12"),  # not a phone number
    ("press", r":phone:p:$"),
    ("feed", "contact"),
    ("say", "morning <b>please</b>"),
    ("press", r":call_time:o:morning$"),
    ("press", r":description:s:$"),
    ("press", r":urgency:o:normal$"),
    ("say", "/help"),  # a command in the middle
    ("say", "done?"),  # text on the review
    ("press", r":review:S:$"),
]


async def act(h: Harness, action: tuple[str, str]) -> list[Call]:
    """Carry out one action of a walk; return the calls the bot made for it."""
    kind, value = action
    if kind == "press":
        return await h.press(FAMILY, value)
    if kind == "say":
        return await h.say(FAMILY, value)
    lang = h.languages.get(FAMILY, "en")
    update = {
        "sticker": lambda: h.updates.sticker(FAMILY, language_code=lang),
        "voice": lambda: h.updates.voice(FAMILY, duration=3, language_code=lang),
        "contact": lambda: h.updates.contact(
            FAMILY, "962791112233", contact_user_id=FAMILY, language_code=lang
        ),
    }[value]()
    return await h.feed(update)


def sent(calls: list[Call]) -> list[Call]:
    """The messages the bot sent (edits and popups are not new messages)."""
    return [c for c in calls if c.method.startswith("send") and c.ok]


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_one_live_question_and_two_messages_at_most(harness: Harness, lang: str) -> None:
    h = harness
    h.languages[FAMILY] = lang
    await apply_and_consent(h, FAMILY)
    assert live_questions(h) == 1
    for action in WALK_WITH_MISTAKES:
        calls = await act(h, action)
        # Submit adds the one question whether to hear about community activities.
        most = 3 if action == ("press", r":review:S:$") else 2
        assert len(sent(calls)) <= most, (action, [c.text for c in sent(calls)])
        assert live_questions(h) <= 1, action
        # No question is ever sent again while a copy of it is still live.
        # (The committee card and the activities question after Submit are not questions.)
        questions = [
            c for c in sent(calls) if any(d and d.startswith("in:") for _, d in h.fake.buttons(c))
        ]
        assert len(questions) <= 1, action
    assert live_questions(h) == 0
    rows = await h.services.db.fetchall("SELECT ref FROM cases")
    assert len(rows) == 1
    assert not h.fake.not_modified  # no call that changes nothing


async def test_a_mistake_is_one_line_and_leaves_the_question(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    (question,) = live_buttons(h, FAMILY)
    calls = await h.say(FAMILY, "I don't know")
    assert [c.text for c in sent(calls)] == ["Please choose with the buttons under the question."]
    assert not [c for c in calls if c.method.startswith("edit")]
    assert live_buttons(h, FAMILY) == [question]


async def test_a_typed_answer_closes_the_question_with_it(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    for press in (r":situation:o:orphans$", r":situation:d:$"):
        await h.press(FAMILY, press)
    await h.press(FAMILY, r":support:o:moral$")
    await h.press(FAMILY, r":support:d:$")
    (asked,) = live_buttons(h, FAMILY)
    calls = await h.say(FAMILY, "4")
    closed = h.fake.message(FAMILY, asked)
    assert closed is not None and "Your answer: 4" in closed["text"]
    assert not h.fake.buttons(closed)  # its Back button is gone with it
    assert len(sent(calls)) == 1 and live_questions(h) == 1


async def test_back_shows_the_previous_question_in_place(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await h.press(FAMILY, r":situation:o:orphans$")
    await h.press(FAMILY, r":situation:d:$")
    (asked,) = live_buttons(h, FAMILY)
    calls = await h.press(FAMILY, r":support:b:$")
    assert not sent(calls)
    shown = h.fake.message(FAMILY, asked)
    assert shown is not None and "family's situation" in shown["text"]
    assert live_buttons(h, FAMILY) == [asked]


async def test_a_press_on_a_message_without_buttons_edits_nothing(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    consent, data = h.find_button(FAMILY, r"^ic:y$", history=True)
    calls = await h.press_data(FAMILY, data, message_id=consent)  # its buttons are gone
    assert not [c for c in calls if c.method.startswith("edit")]
    assert live_questions(h) == 1


# Only taps, a spoken name and a shared phone number: nothing typed.
NOTHING_TYPED: list[tuple[str, str]] = [
    ("press", r":situation:o:disability$"),
    ("press", r":situation:d:$"),
    ("press", r":support:o:logistics$"),
    ("press", r":support:d:$"),
    ("press", r":household_size:n:3$"),
    ("press", r":children:n:1$"),
    ("press", r":area:o:south$"),
    ("feed", "voice"),
    ("press", r":phone:p:$"),
    ("feed", "contact"),
    ("press", r":call_time:o:any$"),
    ("press", r":description:s:$"),
    ("press", r":urgency:o:high$"),
    ("press", r":review:S:$"),
]


async def test_the_intake_can_be_finished_without_typing(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    assert all(kind != "say" for kind, _ in NOTHING_TYPED)
    for action in NOTHING_TYPED:
        await act(h, action)
    (case,) = await h.services.db.fetchall("SELECT id FROM cases")
    stored = await h.services.review.by_id(int(case["id"]))
    assert stored is not None
    personal = h.services.review.personal(stored)
    assert personal["name"]["voice"] and personal["phone"] == "+962791112233"
    assert personal["area"] == "south"


async def test_the_minimum_typed_path_is_the_name_and_the_phone(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    typed = 0
    for kind, value in NOTHING_TYPED:
        if (kind, value) == ("feed", "voice"):
            kind, value = "say", "Huda Saleh"
        elif (kind, value) == ("feed", "contact"):
            kind, value = "say", "0791112233"
        elif value == r":phone:p:$":
            continue
        typed += kind == "say"
        await act(h, (kind, value))
    assert typed == 2
    assert len(await h.services.db.fetchall("SELECT id FROM cases")) == 1


async def test_please_call_me_instead(harness: Harness) -> None:
    h = harness
    await h.say(FAMILY, "/apply")
    await h.press(FAMILY, r"^ic:c$")
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == "phone" and draft.answers[CALL_ME]
    question = h.newest(FAMILY)
    assert "Question 1 of 2" in question and "will call you" in question
    await h.say(FAMILY, "0791112233")
    await h.press(FAMILY, r":call_time:o:evening$")
    review = h.newest(FAMILY)
    assert "Situation" not in review and "Best time to call" in review
    await h.press(FAMILY, r":review:S:$")
    card = h.fake.last(COMMITTEE_CHAT).text or ""
    assert "📞" in card and "+962" not in card


async def test_call_me_from_the_first_question_and_back(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    (asked,) = live_buttons(h, FAMILY)
    await h.press(FAMILY, r":situation:c:$")
    shown = h.fake.message(FAMILY, asked)
    assert shown is not None and "phone number" in shown["text"]
    await h.press(FAMILY, r":phone:f:$")
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == "situation" and CALL_ME not in draft.answers
    assert live_buttons(h, FAMILY) == [asked]


@pytest.fixture
async def half_year(tmp_path: Path, key: str) -> AsyncIterator[Harness]:
    """A committee that keeps closed cases 180 days."""
    settings = make_settings(tmp_path, ENCRYPTION_KEY=key, RETENTION_DAYS="180")
    async with running(settings) as harness:
        yield harness


async def test_consent_is_short_and_its_details_follow_the_settings(half_year: Harness) -> None:
    h = half_year
    calls = await h.say(FAMILY, "/apply")
    (consent,) = sent(calls)
    text = consent.text or ""
    visible = text.replace("<b>", "").replace("</b>", "")
    assert len(visible) <= 330, len(visible)
    assert "not a debt relief program" in text and "/delete_my_data" in text
    labels = [label for label, _ in h.fake.buttons(consent)]
    assert "🔒 Privacy and details" in labels
    calls = await h.press(FAMILY, r"^ic:p$")
    assert not sent(calls)
    shown = h.fake.last(FAMILY).text or ""
    assert "6 months after it is closed" in shown and "/mydata" in shown
    assert "🔒 Privacy and details" not in [
        label for label, _ in h.fake.buttons(h.fake.last(FAMILY))
    ]
    await h.press(FAMILY, r"^ic:y$")
    assert live_questions(h) == 1


async def test_the_welcome_has_an_apply_button_and_a_line_for_volunteers(
    harness: Harness,
) -> None:
    h = harness
    calls = await h.say(FAMILY, "/start")
    (welcome,) = sent(calls)
    assert "/volunteer" in (welcome.text or "")
    assert [data for _, data in h.fake.buttons(welcome)] == ["ap:a:"]
    calls = await h.press(FAMILY, r"^ap:a:$")
    (consent,) = sent(calls)
    assert "Before you start" in (consent.text or "")
    assert not h.fake.buttons(h.fake.message(FAMILY, int(welcome.result["message_id"])) or {})
    await h.press(FAMILY, r"^ic:y$")
    calls = await h.say(FAMILY, "/start")  # with an application under way: its question
    assert not any(data == "ap:a:" for c in sent(calls) for _, data in h.fake.buttons(c))
    assert live_questions(h) == 1


async def test_a_question_sent_but_not_remembered_still_answers(harness: Harness) -> None:
    # The bot stopped between sending a question and saving which message shows it.
    h = harness
    await apply_and_consent(h, FAMILY)
    await h.press(FAMILY, r":situation:o:orphans$")
    (first,) = live_buttons(h, FAMILY)
    await h.say(FAMILY, "/help")  # the question again, in a new message
    (asked,) = live_buttons(h, FAMILY)
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.live == asked > first
    draft.live = first  # as if the save after sending had been lost
    await h.services.intake.save(FAMILY, draft)
    calls = await h.press(FAMILY, r":situation:d:$")
    assert not [a for a in h.alerts(calls) if a]
    draft = await h.services.intake.load(FAMILY)
    assert draft is not None and draft.step == "support" and draft.live == asked
