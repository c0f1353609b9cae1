"""Need-to-know in the committee group: a card with only what triage needs, the area as one of
the committee's own areas (a typed "other" area kept private), nothing forwardable in the group
or in a member's Details, and Details messages deleted from the member's chat after a while."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import expiry, notices
from bot.config import load_settings
from bot.errors import ConfigError
from bot.forms import FORMS_DIR, load_form, parse_form
from bot.intake import Draft
from bot.kinds import Kind
from bot.storage import drafts, outbox, utcnow
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
from tests.flows import AREA, Answers, answer_all, apply_and_consent, full_intake, submit

FAMILY = 4101
INTAKE = load_form("intake")
VOLUNTEER = load_form("volunteer")
# Every Bot API method that can put a message in a chat takes protect_content.
SENDS = ("sendMessage", "sendVoice", "sendPhoto", "sendDocument", "copyMessage")


@pytest.fixture
async def english(tmp_path: Path, key: str) -> AsyncIterator[Harness]:
    """The bot with an English-speaking committee, so that the card can be read here."""
    settings = make_settings(tmp_path, ENCRYPTION_KEY=key, COMMITTEE_LANGUAGE="en")
    async with running(settings) as harness:
        yield harness


# --- the card -------------------------------------------------------------------------------


def test_the_card_shows_reference_situation_support_and_urgency_only() -> None:
    assert [s.id for s in INTAKE.card_steps()] == ["situation", "support", "urgency"]


async def test_the_card_leaves_out_household_call_time_and_area(english: Harness) -> None:
    h = english
    ref = await full_intake(h, FAMILY)
    card = h.fake.sent(COMMITTEE_CHAT)[0].text or ""
    assert ref in card
    assert "Situation:</b>" in card and "Support needed:</b>" in card and "Urgency:</b>" in card
    for hidden in ("Household", "Children", "Best time", "Evening", "Area", AREA):
        assert hidden not in card
    await h.say(MEMBER, "/start")
    calls = await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    details = "".join(h.texts([c for c in calls if c.chat_id == MEMBER]))
    for shown in ("People in the household", "Evening", AREA):
        assert shown in details
    assert "These messages are deleted from this chat in 60 minutes." in details


async def test_a_form_may_put_the_area_choice_on_the_card(english: Harness) -> None:
    h = english
    with (FORMS_DIR / "intake.toml").open("rb") as handle:
        spec = tomllib.load(handle)
    for step in spec["steps"]:
        if step["id"] == "area":
            step["on_card"] = True
    form = parse_form(spec)
    assert "area" in [s.id for s in form.card_steps()]
    assert "area_other" not in [s.id for s in form.card_steps()]
    ref = await full_intake(h, FAMILY, Answers(area_choice="north"))
    case = await h.services.review.find(ref)
    assert case is not None
    services = h.services
    sources = notices.Sources(
        services.settings,
        services.db,
        services.cipher,
        services.i18n,
        {"intake": form},
        services.review,
        services.tasks,
        services.people,
        services.volunteers,
    )
    assert "Area:</b> North" in notices.card_text(sources, case)
    assert "Area:</b>" not in (h.fake.sent(COMMITTEE_CHAT)[0].text or "")


def test_a_personal_step_cannot_go_on_the_card() -> None:
    with (FORMS_DIR / "intake.toml").open("rb") as handle:
        spec = tomllib.load(handle)
    for step in spec["steps"]:
        if step["id"] == "name":
            step["on_card"] = True
    with pytest.raises(Exception, match="personal"):
        parse_form(spec)


# --- the area ---------------------------------------------------------------------------------


def test_the_area_is_a_choice_among_the_committees_areas_or_other() -> None:
    with (FORMS_DIR.parent / "areas.toml").open("rb") as handle:
        areas = [a["id"] for a in tomllib.load(handle)["options"]]
    step = INTAKE.step("area")
    assert step is not None and step.kind == "choice" and step.personal
    assert [o.id for o in step.options] == [*areas, "other"]
    typed = INTAKE.step("area_other")
    assert typed is not None and typed.personal and typed.only_if == ("area", "other")
    # Volunteers choose among the same areas, so that tasks can be matched to families.
    volunteer = VOLUNTEER.role("areas")
    assert [o.id for o in volunteer.options][: len(areas)] == areas


async def test_a_listed_area_is_tapped_and_no_area_is_typed(english: Harness) -> None:
    h = english
    ref = await full_intake(h, FAMILY, Answers(area_choice="north"))
    case = await h.services.review.find(ref)
    assert case is not None and "area" not in case.answers  # encrypted, erased with the name
    personal = h.services.review.personal(case)
    assert personal["area"] == "north" and "area_other" not in personal
    assert "North" not in (h.fake.sent(COMMITTEE_CHAT)[0].text or "")


async def test_the_area_chosen_is_erased_with_the_familys_data(english: Harness) -> None:
    h = english
    ref = await full_intake(h, FAMILY, Answers(area_choice="north"))
    await h.say(FAMILY, "/delete_my_data")
    await h.press(FAMILY, r"^pd:y$")
    row = await h.services.db.fetchone("SELECT answers, personal FROM cases WHERE ref = ?", (ref,))
    assert row is not None and row["personal"] is None and "north" not in row["answers"]


async def test_other_area_is_typed_kept_private_and_off_the_card(english: Harness) -> None:
    h = english
    ref = await full_intake(h, FAMILY)  # the flows tap Other and type AREA
    case = await h.services.review.find(ref)
    assert case is not None and "area" not in case.answers
    personal = h.services.review.personal(case)
    assert personal["area"] == "other" and personal["area_other"] == AREA
    assert AREA not in "".join(h.fake.texts(COMMITTEE_CHAT))


async def test_a_draft_with_a_typed_area_is_resumed_and_submitted(english: Harness) -> None:
    """A draft saved when the area was typed: the typed area becomes the private "other"."""
    h = english
    services = h.services
    await full_intake(h, FAMILY + 1)  # the family exists; now an old draft, written directly
    old = Draft.new(INTAKE)
    old.answers = {
        "situation": ["orphans"],
        "support": ["financial"],
        "household_size": 4,
        "children": 2,
        "area": AREA,
        "name": "Huda",
        "phone": "+962791234567",
        "call_time": "any",
        "description": None,
        "urgency": "normal",
    }
    old.step = "review"
    services.intake.drop_cached(FAMILY + 1)
    payload = {**old.__dict__}
    await drafts.save(services.db, services.ids, FAMILY + 1, payload)
    await h.say(FAMILY + 1, "/apply")
    await h.press(FAMILY + 1, r"^ap:c:")  # continue where it was left
    review = h.fake.texts(FAMILY + 1)[-1]
    assert "Another area" in review and AREA in review
    await h.press(FAMILY + 1, r":review:S:$")
    rows = await services.db.fetchall(
        "SELECT ref FROM cases WHERE user_id = ? ORDER BY id DESC LIMIT 1",
        (services.ids.pid(FAMILY + 1),),
    )
    case = await services.review.find(str(rows[0]["ref"]))
    assert case is not None and AREA not in str(case.answers)
    personal = services.review.personal(case)
    assert personal["area"] == "other" and personal["area_other"] == AREA


def test_a_case_submitted_with_a_typed_area_shows_it_in_details() -> None:
    answers = INTAKE.upgrade({"area": AREA, "urgency": "normal"})
    assert answers == {"area": "other", "area_other": AREA, "urgency": "normal"}
    assert INTAKE.upgrade(answers) == answers
    assert INTAKE.upgrade({"area": "north"}) == {"area": "north"}


async def test_support_end_reminders_in_the_group_are_protected(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, FAMILY)
    case = await h.services.review.find(ref)
    assert case is not None
    async with h.services.db.transaction() as conn:
        await outbox.enqueue(
            conn, h.services.ids, Kind.SUPPORT_END, COMMITTEE_CHAT, case_id=case.id
        )
    before = len(h.fake.calls)
    await h.services.delivery.flush()
    sent = [c for c in h.fake.calls[before:] if c.method == "sendMessage"]
    assert len(sent) == 1 and sent[0].chat_id == COMMITTEE_CHAT
    assert sent[0].params.get("protect_content") is True


# --- protect_content --------------------------------------------------------------------------


async def test_everything_sent_to_the_group_and_details_is_protected(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    await h.press(FAMILY, r":review:e:description$")
    await h.feed(h.updates.voice(FAMILY, file_id="voice-file-xyz", duration=12))
    ref = await submit(h, FAMILY)
    await h.say(MEMBER, "/start")
    before = len(h.fake.calls)
    await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    details = [c for c in h.fake.calls[before:] if c.chat_id == MEMBER and c.method in SENDS]
    await h.press(MEMBER, rf"^cv:take:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "/help", chat_id=COMMITTEE_CHAT)  # a reply in the group
    group = [c for c in h.fake.calls if c.chat_id == COMMITTEE_CHAT and c.method in SENDS]
    assert len(group) >= 2 and {c.method for c in details} == {"sendMessage", "sendVoice"}
    for call in group + details:
        assert call.params.get("protect_content") is True, call.method
    # A family's own messages stay theirs to keep.
    family = [c for c in h.fake.calls if c.chat_id == FAMILY and c.method in SENDS]
    assert all(not c.params.get("protect_content") for c in family)


# --- DETAILS_TTL ----------------------------------------------------------------------------


def test_details_ttl_defaults_to_an_hour_and_must_stay_under_48_hours(tmp_path: Path) -> None:
    base = {"BOT_TOKEN": "123456:TEST-TOKEN-never-real", "DATA_DIR": str(tmp_path)}
    assert load_settings(base, env_file=None).details_ttl == timedelta(hours=1)
    assert load_settings({**base, "DETAILS_TTL": "47h"}, env_file=None).details_ttl == timedelta(
        hours=47
    )
    for wrong in ("48h", "3d", "soon", "0s"):
        with pytest.raises(ConfigError, match="DETAILS_TTL"):
            load_settings({**base, "DETAILS_TTL": wrong}, env_file=None)


def _member_messages(fake: FakeTelegram) -> set[int]:
    return {
        int(c.result["message_id"])
        for c in fake.calls
        if c.chat_id == MEMBER and c.method in SENDS and isinstance(c.result, dict)
    }


async def test_details_are_deleted_after_the_ttl_even_after_a_restart(
    tmp_path: Path, key: str
) -> None:
    settings = make_settings(tmp_path, ENCRYPTION_KEY=key)
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await full_intake(h, FAMILY)
    await h.say(MEMBER, "/start")
    before = _member_messages(fake)
    await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    shown = _member_messages(fake) - before
    assert shown
    services = h.services
    # Not yet due: nothing is deleted.
    assert await expiry.sweep(services.db, services.cipher, app.bot) == 0
    assert not {m for c, m in fake.state.deleted if c == MEMBER} & shown
    await stop_app(app)

    app = await start_app(settings, fake)  # a restart: the rows are still there
    try:
        assert app.job_queue is not None and app.job_queue.get_jobs_by_name(expiry.JOB)
        services = app.bot_data["services"]
        later = utcnow() + settings.details_ttl + timedelta(seconds=1)
        assert await expiry.sweep(services.db, services.cipher, app.bot, now=later) == 1
        deleted = {m for c, m in fake.state.deleted if c == MEMBER}
        assert shown <= deleted
        assert await expiry.sweep(services.db, services.cipher, app.bot, now=later) == 0
        assert await services.db.fetchall("SELECT * FROM expiring_messages") == []
    finally:
        await stop_app(app)


async def test_a_delete_that_fails_is_dropped_after_48_hours(harness: Harness) -> None:
    h = harness
    services = h.services
    sent = utcnow() - timedelta(hours=49)
    await expiry.remember(services.db, services.cipher, MEMBER, [1, 2], timedelta(hours=1), sent)
    before = len(h.fake.calls)
    assert await expiry.sweep(services.db, services.cipher, h.app.bot) == 1
    assert not [c for c in h.fake.calls[before:] if c.method.startswith("delete")]
    assert await services.db.fetchall("SELECT * FROM expiring_messages") == []


async def test_details_sent_before_a_failure_are_deleted_too(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    await h.press(FAMILY, r":review:e:description$")
    await h.feed(h.updates.voice(FAMILY, file_id="voice-file-xyz", duration=12))
    ref = await submit(h, FAMILY)
    await h.say(MEMBER, "/start")
    h.fake.fail_next("sendVoice", 400, "Bad Request: wrong file identifier")
    before = _member_messages(h.fake)
    await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    shown = _member_messages(h.fake) - before
    assert shown  # the text arrived, the voice note did not
    services = h.services
    later = utcnow() + services.settings.details_ttl + timedelta(seconds=1)
    assert await expiry.sweep(services.db, services.cipher, h.app.bot, now=later) == 1
    assert shown <= {m for c, m in h.fake.state.deleted if c == MEMBER}
