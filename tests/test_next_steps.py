"""What happens next, always: the confirmation says when to expect news, /status gives one
next step per status, every decline fits its reason and names the committee's contact, and
/help shows that contact and each audience its own commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from tests.conftest import (
    COMMITTEE_CHAT,
    MEMBER,
    Harness,
    make_settings,
    running,
    start_app,
    stop_app,
)
from tests.fakes.telegram import FakeTelegram
from tests.flows import full_intake
from tests.test_commands import menu_names, named
from tests.test_tasks import volunteer

FAMILY = 515
BASE = {"BOT_TOKEN": "123456:ABC", "PHONE_REGION": "JO"}


def test_review_days_and_contact_settings() -> None:
    s = load_settings(BASE, env_file=None)
    assert (s.contact.review_days, s.contact.phone, s.contact.hours) == (7, None, None)
    s = load_settings(
        {
            **BASE,
            "REVIEW_DAYS": "3",
            "CONTACT_PHONE": "06 555 0100",
            "CONTACT_HOURS": "Sunday to Thursday, 9:00 to 15:00",
        },
        env_file=None,
    )
    assert s.contact.review_days == 3
    assert s.contact.phone == "+962 6 555 0100"  # local to PHONE_REGION, shown international
    assert s.contact.hours == "Sunday to Thursday, 9:00 to 15:00"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"REVIEW_DAYS": "0"}, "REVIEW_DAYS"),
        ({"REVIEW_DAYS": "a week"}, "REVIEW_DAYS"),
        ({"CONTACT_PHONE": "12"}, "CONTACT_PHONE"),
        ({"CONTACT_PHONE": "call us"}, "CONTACT_PHONE"),
    ],
)
def test_bad_review_days_and_contact_phone(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, **env}, env_file=None)
    [problem] = info.value.problems
    assert needle in problem and env[needle] not in problem


@pytest.fixture
async def reachable(tmp_path: Path, key: str) -> AsyncIterator[Harness]:
    """The bot of a committee that answers within 3 days and gives its phone and hours."""
    settings = make_settings(
        tmp_path,
        ENCRYPTION_KEY=key,
        REVIEW_DAYS="3",
        CONTACT_PHONE="06 555 0100",
        CONTACT_HOURS="Sunday to Thursday, 9:00 to 15:00",
    )
    async with running(settings) as harness:
        yield harness


async def status_text(h: Harness) -> str:
    [text] = h.texts(await h.say(FAMILY, "/status"))
    return text


async def decide(h: Harness, ref: str, action: str, *steps: str) -> None:
    await h.press(MEMBER, rf"^cv:{action}:{ref}$", chat_id=COMMITTEE_CHAT)
    for step in steps:
        await h.press(MEMBER, step)


async def new_case(h: Harness, lang: str = "en") -> str:
    h.languages[FAMILY] = lang
    ref = await full_intake(h, FAMILY)
    await h.say(MEMBER, "/start")
    return ref


async def test_confirmation_says_when_to_expect_news(reachable: Harness) -> None:
    h = reachable
    await new_case(h)
    # [-1] is the question about community activities that follows the confirmation.
    assert "The committee usually answers within 3 days." in h.fake.texts(FAMILY)[-2]


async def test_confirmation_says_one_day_in_arabic(tmp_path: Path, key: str) -> None:
    fake = FakeTelegram()
    app = await start_app(make_settings(tmp_path, ENCRYPTION_KEY=key, REVIEW_DAYS="1"), fake)
    try:
        h = Harness(app, fake)
        await new_case(h, "ar")
        assert "يوم واحد" in h.fake.texts(FAMILY)[-2]
    finally:
        await stop_app(app)
    fake.assert_clean()


async def test_status_gives_the_next_step_of_each_status(reachable: Harness) -> None:
    h = reachable
    ref = await new_case(h)
    assert "Next: the committee will look at it within 3 days." in await status_text(h)
    await decide(h, ref, "take")
    assert "may call you" in await status_text(h)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Which hospital treats you?")
    assert "Press Answer" in await status_text(h)
    await h.press(FAMILY, r"^fa:\d+$")
    await h.say(FAMILY, "Al-Bashir hospital")
    await decide(h, ref, "approve", r"^rv:sd:$", r"^rv:p:3$", r"^rv:skip:$", r"^rv:ok:$")
    approved = await status_text(h)
    assert "until" in approved and "will contact you" in approved
    await decide(h, ref, "close")
    assert "send /apply to apply again" in await status_text(h)


async def test_status_of_a_decline_gives_the_reason_and_the_contact(reachable: Harness) -> None:
    h = reachable
    ref = await new_case(h)
    await decide(h, ref, "decline", r"^rv:r:criteria$", r"^rv:skip:$", r"^rv:ok:$")
    text = await status_text(h)
    assert "Reason: The situation is not within the program's criteria." in text
    assert "+962 6 555 0100" in text and "Sunday to Thursday" in text


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_decline_for_missing_information_invites_an_answer_or_a_new_application(
    reachable: Harness, lang: str
) -> None:
    h = reachable
    ref = await new_case(h, lang)
    await decide(h, ref, "decline", r"^rv:r:information$", r"^rv:skip:$", r"^rv:ok:$")
    notice = h.fake.texts(FAMILY)[-1]
    assert "/apply" in notice and "+962 6 555 0100" in notice
    assert "Sunday to Thursday, 9:00 to 15:00" in notice  # shown as given
    if lang == "en":
        assert "answer it here" in notice and "tell us more" in notice
        assert "if your situation changes" not in notice.lower()


async def test_decline_as_debt_relief_explains_what_the_program_does(reachable: Harness) -> None:
    h = reachable
    ref = await new_case(h)
    await decide(h, ref, "decline", r"^rv:r:debt$", r"^rv:skip:$", r"^rv:ok:$")
    notice = h.fake.texts(FAMILY)[-1]
    assert "temporary support" in notice and "cannot pay debts" in notice
    assert "+962 6 555 0100" in notice


async def test_decline_without_a_contact_names_none(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await decide(h, ref, "decline", r"^rv:r:other$", r"^rv:skip:$", r"^rv:ok:$")
    notice = h.fake.texts(FAMILY)[-1]
    assert "/apply" in notice and "call" not in notice


async def test_help_shows_the_contact(reachable: Harness) -> None:
    [text, *_] = reachable.texts(await reachable.say(FAMILY, "/help"))
    assert "To talk to the committee, call +962 6 555 0100 (Sunday to Thursday" in text


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_a_registered_volunteer_sees_the_volunteers_commands(
    harness: Harness, lang: str
) -> None:
    h = harness
    family = h.texts(await h.say(FAMILY, "/help"))[0]
    assert {"tasks", "mytasks"}.isdisjoint(named(family)) and "volunteer" in named(family)
    await volunteer(h, 1400, lang)
    [text, *_] = h.texts(await h.say(1400, "/help"))
    assert named(text) == [
        "apply",
        "status",
        "feedback",
        "volunteer",
        "tasks",
        "mytasks",
        "mydata",
        "delete_my_data",
        "language",
        "cancel",
        "help",
    ]
    assert text.count("/mytasks") == 1  # told with /tasks, not on a line of its own
    if lang == "en":
        assert "Want to volunteer?" not in text


async def test_a_member_sees_theirs_after_everybodys(harness: Harness) -> None:
    h = harness
    [text, *_] = h.texts(await h.say(MEMBER, "/help"))
    assert "tasks" not in named(text)  # the member has not registered as a volunteer
    assert set(named(text)) == set(menu_names(h, MEMBER, "en"))
