"""The follow-up at the end of support: asked FOLLOWUP_DAYS before the period ends, in the
family's language, answered by the family only, once, across restarts; shown to members with
the support-end reminder (in the group only whether the family answered) and in /case (the
choice and the words, in private); the choice is encrypted like the words."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import handlers.followup
from bot import followup_render, reminders
from bot.config import Settings
from bot.errors import ConfigError
from bot.followup import due
from bot.kinds import Kind
from bot.storage import utcnow
from tests.conftest import COMMITTEE_CHAT, MEMBER, OUTSIDER, Harness, make_settings, running
from tests.flows import NAME
from tests.test_review import FAMILY, approve, new_case

AMMAN = ZoneInfo("Asia/Amman")
WORDS = "The rent is paid, my son is back at school"


async def reminder_of(h: Harness, kind: str) -> int:
    row = await h.services.db.fetchone(
        "SELECT id FROM reminders WHERE kind = ? AND status = 'pending' ORDER BY id DESC",
        (kind,),
    )
    assert row is not None
    return int(row["id"])


async def followup_row(h: Harness) -> dict[str, Any]:
    row = await h.services.db.fetchone("SELECT * FROM followups ORDER BY id DESC")
    assert row is not None
    return dict(row)


async def stored_choice(h: Harness) -> str | None:
    """The family's choice as stored: encrypted, read with the key."""
    stored = (await followup_row(h))["answer"]
    assert stored is None or isinstance(stored, bytes)
    return None if stored is None else h.services.ids.cipher.decrypt(stored)


async def ask(h: Harness) -> int:
    """The follow-up's reminder falls due: the family is asked; return the follow-up's id."""
    assert await reminders.claim(h.services, await reminder_of(h, Kind.SUPPORT_FOLLOWUP))
    await h.services.delivery.flush()
    return int((await followup_row(h))["id"])


def followup_messages(h: Harness, chat: int) -> int:
    """How many messages the chat received with the follow-up's buttons."""
    return sum(
        1
        for call in h.fake.sent(chat)
        if call.method == "sendMessage"
        and any(
            d and d.startswith("fu:") and not d.startswith("fu:k:")
            for _, d in h.fake.buttons(call)
        )
    )


def test_due_is_days_before_the_end_or_half_a_short_period() -> None:
    today = date(2026, 12, 1)
    at_nine = time(9)
    assert due(date(2027, 3, 1), 7, today, AMMAN) == datetime.combine(
        date(2027, 2, 22), at_nine, tzinfo=AMMAN
    )
    # Seven days or fewer: asked at the half, so the family still answers before the end.
    assert due(date(2026, 12, 7), 7, today, AMMAN) == datetime.combine(
        date(2026, 12, 4), at_nine, tzinfo=AMMAN
    )
    assert due(date(2026, 12, 3), 7, today, AMMAN) == datetime.combine(
        date(2026, 12, 2), at_nine, tzinfo=AMMAN
    )
    assert due(date(2026, 12, 2), 7, today, AMMAN) is None  # one day: no time to answer


async def test_approval_schedules_the_followup_days_before_the_end(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref, months=3)
    row = await h.services.db.fetchone("SELECT id, support_until FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    until = date.fromisoformat(row["support_until"])
    expected = datetime.combine(until - timedelta(days=7), time(9), tzinfo=AMMAN)
    followup = await followup_row(h)
    assert followup["case_id"] == row["id"] and followup["until"] == until.isoformat()
    assert datetime.fromisoformat(str(followup["due_at"])) == expected
    kinds = await h.services.db.fetchall("SELECT kind, due_at FROM reminders ORDER BY id")
    assert [r["kind"] for r in kinds] == ["support_end", "support_followup"]
    assert datetime.fromisoformat(kinds[1]["due_at"]) == expected
    assert followup["asked_at"] is None and followup["answer"] is None


@pytest.mark.parametrize("bad", ["0", "-3", "a week"])
def test_followup_days_must_be_a_whole_number_of_days(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="FOLLOWUP_DAYS"):
        make_settings(tmp_path, FOLLOWUP_DAYS=bad)


async def test_followup_days_is_a_setting(tmp_path: Path, key: str) -> None:
    settings = make_settings(tmp_path, ENCRYPTION_KEY=key, FOLLOWUP_DAYS="14")
    assert settings.followup_days == 14
    async with running(settings) as h:
        ref = await new_case(h)
        await approve(h, ref, months=3)
        followup = await followup_row(h)
        until = date.fromisoformat(str(followup["until"]))
        assert datetime.fromisoformat(str(followup["due_at"])).astimezone(AMMAN).date() == (
            until - timedelta(days=14)
        )


@pytest.mark.parametrize(
    ("lang", "verb", "question", "said"),
    [
        ("en", "b", "How are things now?", "The family said: things are better"),
        ("en", "s", "How are things now?", "The family said: things are the same"),
        ("ar", "w", "كيف الأحوال الآن؟", "The family said: things are worse"),
    ],
)
async def test_the_family_answers_in_its_language(
    harness: Harness, lang: str, verb: str, question: str, said: str
) -> None:
    h = harness
    ref = await new_case(h, lang)
    await approve(h, ref)
    followup = await ask(h)
    [asked] = [m for m in h.fake.messages(FAMILY) if question in str(m.get("text", ""))]
    assert ref in str(asked["text"])
    assert [d for _, d in h.fake.buttons(asked)] == [f"fu:{v}:{followup}" for v in "bsw"]
    h.languages[FAMILY] = lang
    await h.press(FAMILY, rf"^fu:{verb}:{followup}$")
    shown = next(m for m in h.fake.messages(FAMILY) if m["message_id"] == asked["message_id"])
    assert h.fake.buttons(shown) == []  # answered: the buttons are gone, the answer shown
    assert ("Your answer" if lang == "en" else "إجابتك") in str(shown["text"])
    assert h.fake.buttons(h.fake.messages(FAMILY)[-1]) != []  # the words' Skip
    await h.say(FAMILY, WORDS)
    assert h.fake.buttons(h.fake.messages(FAMILY)[-2]) == []  # Skip gone with the words
    stored = await followup_row(h)
    choice = {"b": "better", "s": "same", "w": "worse"}[verb]
    assert await stored_choice(h) == choice
    assert choice.encode() not in stored["answer"]  # encrypted, like the words
    assert WORDS.encode() not in stored["words"]
    assert await h.services.sessions.load(FAMILY) is None
    calls = await h.say(MEMBER, f"/case {ref}")  # the member reads English
    private = "\n".join(h.texts(calls))
    assert said in private and WORDS in private


async def test_skip_leaves_no_words_and_a_second_tap_changes_nothing(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    followup = await ask(h)
    await h.press(FAMILY, rf"^fu:s:{followup}$")
    calls = await h.press(FAMILY, rf"^fu:k:{followup}$")
    assert any("committee will read your answer" in text for text in h.texts(calls))
    assert h.fake.buttons(h.fake.messages(FAMILY)[-2]) == []
    # An old client taps Worse on the answered question: nothing changes.
    calls = await h.press_data(FAMILY, f"fu:w:{followup}")
    assert await stored_choice(h) == "same"
    assert (await followup_row(h))["words"] is None
    calls = await h.say(FAMILY, "Something typed later")
    assert (await followup_row(h))["words"] is None  # no pending words: the intake's reply
    assert calls


async def test_the_buttons_refuse_anybody_but_the_family(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    followup = await ask(h)
    await h.say(OUTSIDER, "/start")
    for person in (OUTSIDER, MEMBER):
        calls = await h.press_data(person, f"fu:b:{followup}")
        assert h.alerts(calls) == ["This button no longer works."]
        assert not [c for c in calls if c.method.startswith("edit")]
    assert (await followup_row(h))["answer"] is None
    assert await h.services.sessions.load(OUTSIDER) is None


@pytest.mark.parametrize("verb", ["b", "w"])
async def test_the_support_end_reminder_says_only_that_the_family_answered(
    harness: Harness, verb: str
) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    followup = await ask(h)
    await h.press(FAMILY, rf"^fu:{verb}:{followup}$")
    await h.say(FAMILY, WORDS)
    before = len(h.fake.sent(COMMITTEE_CHAT))
    assert await reminders.claim(h.services, await reminder_of(h, Kind.SUPPORT_END))
    await h.services.delivery.flush()
    [reminder] = h.fake.sent(COMMITTEE_CHAT)[before:]
    text = reminder.text or ""
    committee = h.services.i18n.get("ar")
    answered = committee("The family answered the follow-up: see /case {ref}", ref=ref)
    assert answered in text
    said = [
        committee.raw(x)
        for x in (*followup_render.SAID.values(), *followup_render.BUTTONS.values())
    ]
    for secret in (WORDS, "rent", NAME, "أفضل", "أسوأ", *said):
        assert secret not in text  # what the family said is not for the group
    # In private, the member reads the choice and the words.
    h.languages[MEMBER] = "en"
    private = "\n".join(h.texts(await h.say(MEMBER, f"/case {ref}")))
    assert followup_render.SAID[followup_render.VERBS[verb]] in private and WORDS in private


async def test_the_support_end_reminder_says_when_the_family_did_not_answer(
    harness: Harness,
) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await ask(h)
    before = len(h.fake.sent(COMMITTEE_CHAT))
    assert await reminders.claim(h.services, await reminder_of(h, Kind.SUPPORT_END))
    await h.services.delivery.flush()
    [reminder] = h.fake.sent(COMMITTEE_CHAT)[before:]
    committee = h.services.i18n.get("ar")
    said = reminder.text or ""
    assert committee.raw("The family has not answered the follow-up yet.") in said
    h.languages[MEMBER] = "en"
    calls = await h.say(MEMBER, f"/case {ref}")
    assert "The family has not answered the follow-up yet." in "\n".join(h.texts(calls))


async def test_the_question_is_asked_exactly_once_across_restarts(settings: Settings) -> None:
    async with running(settings) as h:
        ref = await new_case(h)
        await approve(h, ref)
        reminder = await reminder_of(h, Kind.SUPPORT_FOLLOWUP)
        assert await reminders.claim(h.services, reminder) is True
        await h.services.delivery.flush()
        assert followup_messages(h, FAMILY) == 1
        followup = int((await followup_row(h))["id"])
        await h.press(FAMILY, rf"^fu:w:{followup}$")  # the words come after the restart
    async with running(settings) as h:
        assert await reminders.claim(h.services, reminder) is False
        await h.services.delivery.flush()
        assert followup_messages(h, FAMILY) == 0
        await h.say(FAMILY, WORDS)  # the pending words survived the restart
        stored = await followup_row(h)
        assert await stored_choice(h) == "worse" and stored["words"]
        rows = await h.services.db.fetchall("SELECT id FROM followups")
        assert len(rows) == 1  # the start-up pass made no second follow-up


async def test_cases_approved_before_the_upgrade_get_one_followup(settings: Settings) -> None:
    async with running(settings) as h:
        ref = await new_case(h)
        await approve(h, ref)
        async with h.services.db.transaction() as conn:  # as before follow-ups existed
            await conn.execute("DELETE FROM followups")
            await conn.execute("DELETE FROM reminders WHERE kind = 'support_followup'")
    for _ in range(2):
        async with running(settings) as h:
            rows = await h.services.db.fetchall("SELECT case_id, due_at FROM followups")
            assert len(rows) == 1
            kinds = await h.services.db.fetchall(
                "SELECT kind FROM reminders WHERE kind = 'support_followup'"
            )
            assert len(kinds) == 1
            assert datetime.fromisoformat(rows[0]["due_at"]) > utcnow()


async def test_a_renewed_period_is_not_asked_about_by_the_old_reminder(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref, months=1)
    old = await reminder_of(h, Kind.SUPPORT_FOLLOWUP)
    assert await reminders.claim(h.services, await reminder_of(h, Kind.SUPPORT_END))
    await h.services.delivery.flush()  # the reminder, with Renew
    await h.press(MEMBER, rf"^cv:renew:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:sd:$")
    await h.press(MEMBER, r"^rv:p:6$")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    assert len(await h.services.db.fetchall("SELECT id FROM followups")) == 2
    assert await reminders.claim(h.services, old) is True
    await h.services.delivery.flush()
    assert followup_messages(h, FAMILY) == 0  # the old period's question: not asked
    rows = await h.services.db.fetchall("SELECT asked_at FROM followups")
    assert [r["asked_at"] for r in rows] == [None, None]


async def test_erasure_removes_the_familys_words(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    followup = await ask(h)
    await h.press(FAMILY, rf"^fu:b:{followup}$")
    await h.say(FAMILY, WORDS)
    calls = await h.say(FAMILY, "/mydata")
    assert WORDS in "\n".join(h.texts(calls))  # the family sees its own answer
    await h.services.privacy.erase(FAMILY)
    stored = await followup_row(h)
    assert stored["words"] is None  # the words go
    assert await stored_choice(h) == "better"  # the choice stays, encrypted: a figure


async def test_words_left_unwritten_do_not_take_a_later_text(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    followup = await ask(h)
    await h.press(FAMILY, rf"^fu:b:{followup}$")
    session = await h.services.sessions.load(FAMILY)
    assert session is not None
    old = utcnow() - timedelta(days=3)  # three days later, neither written nor skipped
    await h.services.sessions.save(FAMILY, {**session, "at": old.isoformat()})
    await h.say(FAMILY, "Fatima")
    assert (await followup_row(h))["words"] is None
    assert await h.services.sessions.load(FAMILY) is None


async def test_a_restart_between_the_tap_and_the_prompt_keeps_the_words_for_the_followup(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(settings) as h:
        ref = await new_case(h)
        await approve(h, ref)
        followup = await ask(h)

        async def crash(*args: object, **kwargs: object) -> None:
            raise RuntimeError("the bot stops before the prompt is sent")

        with monkeypatch.context() as patched:
            patched.setattr(handlers.followup, "reply", crash)
            await h.press(FAMILY, rf"^fu:s:{followup}$")
        assert await stored_choice(h) == "same"
    async with running(settings) as h:  # restarted: the family writes its words
        await h.say(FAMILY, WORDS)
        stored = await followup_row(h)
        assert stored["words"] and h.services.ids.cipher.decrypt(stored["words"]) == WORDS
        assert await h.services.sessions.load(FAMILY) is None
        assert not await h.services.db.fetchone("SELECT 1 FROM drafts")  # not an application
