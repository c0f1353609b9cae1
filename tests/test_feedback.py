"""/feedback: a person writes to the committee's trustees, privately; the trustees answer and
close. Nothing of it ever reaches the committee group, or a member who is not a trustee."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot import privacy
from bot.__main__ import _rotate
from bot.config import ConfigError, Settings, load_settings
from bot.crypto import Cipher
from bot.feedback import ANSWER_LIMIT, WORDS_LIMIT
from bot.storage import utcnow
from bot.storage.db import iso
from bot.text import MAX_MESSAGE
from tests.conftest import (
    COMMITTEE_CHAT,
    MEMBER,
    OTHER_MEMBER,
    Harness,
    make_settings,
    running,
    start_app,
    stop_app,
)
from tests.fakes.html import visible_text
from tests.fakes.telegram import Call, FakeTelegram

FAMILY = 4242
VOLUNTEER = 4343
TRUSTEE = 950  # a trustee chosen apart from the committee: not a member
WORDS = "The volunteer who came on Tuesday was rude to my mother"
ANSWER = "Thank you for telling us; we have spoken with the volunteer"
VOICE = "voice-feedback-77"


@pytest.fixture
def settings(tmp_path: Path, key: str) -> Settings:
    """The committee's first member and an outside trustee read feedback; the second
    member does not."""
    return make_settings(tmp_path, ENCRYPTION_KEY=key, FEEDBACK_MEMBER_IDS=f"{MEMBER},{TRUSTEE}")


async def send_feedback(h: Harness, user: int, topic: str, words: str | None) -> str:
    """/feedback, a topic, then the words (or a voice note when None); the reference given."""
    await h.say(user, "/feedback")
    await h.press(user, rf"^fw:t:{topic}$")
    if words is None:
        calls = await h.feed(
            h.updates.voice(user, VOICE, 12, language_code=h.languages.get(user, "en"))
        )
    else:
        calls = await h.say(user, words)
    [confirmation] = to(h, calls, user)
    found = re.search(r"F-[A-Z0-9]{3}-[A-Z0-9]{3}", confirmation)
    assert found is not None, confirmation
    return found.group(0)


def to(h: Harness, calls: list[Call], chat: int) -> list[str]:
    """The texts of ``calls`` sent or edited in ``chat``."""
    return h.texts([c for c in calls if c.chat_id == chat])


async def feedback_id(h: Harness, ref: str) -> int:
    row = await h.services.db.fetchone("SELECT id FROM feedback WHERE ref = ?", (ref,))
    assert row is not None
    return int(row["id"])


def only_trustees_saw(h: Harness, *secrets: str) -> None:
    """No message to any chat but the trustees' and the author's holds the feedback's words,
    its voice note or its reference; the group and the other member got none of it."""
    for call in h.fake.sent(include_failed=True):
        shown = " ".join(
            str(v)
            for v in (
                call.params.get("text"),
                call.params.get("caption"),
                call.params.get("voice"),
            )
            if v
        )
        if any(secret in shown for secret in secrets):
            assert call.chat_id in (MEMBER, TRUSTEE, FAMILY, VOLUNTEER), (call.chat_id, shown)
    for chat in (COMMITTEE_CHAT, OTHER_MEMBER):
        for call in h.fake.sent(chat, include_failed=True):
            assert "F-" not in (call.text or ""), call.text


async def test_a_family_writes_in_english_and_only_the_trustees_read_it(harness: Harness) -> None:
    h = harness
    calls = await h.say(FAMILY, "/feedback")
    [screen] = h.texts(calls)
    assert "trustees" in screen and "never the committee group" in screen
    topics = [data for _, data in h.fake.buttons(calls[-1])]
    assert topics == ["fw:t:thanks", "fw:t:help", "fw:t:person", "fw:t:other", "fw:x:"]
    calls = await h.press(FAMILY, r"^fw:t:person$")
    assert "A concern about a volunteer or committee member" in h.newest(FAMILY)
    assert [d for _, d in h.fake.buttons(h.fake.messages(FAMILY)[-1])] == ["fw:b:", "fw:x:"]
    calls = await h.say(FAMILY, WORDS)
    [confirmation] = to(h, calls, FAMILY)
    ref = re.search(r"F-\w{3}-\w{3}", confirmation)
    assert ref is not None
    assert "Only the trustees of the committee read it" in confirmation
    assert "within 7 days" in confirmation
    # The walk's message lost its buttons; each trustee has the words, privately.
    assert not any(h.fake.buttons(m) for m in h.fake.messages(FAMILY))
    for trustee in (MEMBER, TRUSTEE):
        [notice] = [m for m in h.fake.messages(trustee) if ref.group(0) in m.get("text", "")]
        assert WORDS in notice["text"]
        # What was said in confidence cannot be forwarded or saved out of the trustee's chat.
        [sent] = [
            c
            for c in h.fake.calls
            if c.method == "sendMessage" and c.chat_id == trustee and WORDS in c.params["text"]
        ]
        assert sent.params.get("protect_content") is True
        assert [d for _, d in h.fake.buttons(notice)] == [
            f"ft:a:{await feedback_id(h, ref.group(0))}",
            f"ft:c:{await feedback_id(h, ref.group(0))}",
        ]
    only_trustees_saw(h, WORDS, ref.group(0))
    queued = await h.services.db.fetchall("SELECT chat_id FROM outbox WHERE kind LIKE 'feedback%'")
    assert sorted(r["chat_id"] for r in queued) == sorted(
        h.services.ids.pid(t) for t in (MEMBER, TRUSTEE)
    )
    entries = await h.services.db.fetchall("SELECT action, detail FROM audit")
    assert ("feedback_received", ref.group(0)) in [(e["action"], e["detail"]) for e in entries]
    assert not any(WORDS in str(e["detail"]) for e in entries)


async def test_back_and_cancel(harness: Harness) -> None:
    h = harness
    await h.say(FAMILY, "/feedback")
    await h.press(FAMILY, r"^fw:t:thanks$")
    await h.press(FAMILY, r"^fw:b:$")
    assert "What is it about?" in h.newest(FAMILY)
    await h.press(FAMILY, r"^fw:t:other$")
    await h.press(FAMILY, r"^fw:x:$")
    assert "Cancelled" in h.newest(FAMILY)
    await h.say(FAMILY, "Some words")
    assert await h.services.db.fetchone("SELECT 1 FROM feedback") is None
    # The old walk's buttons no longer work.
    calls = await h.press_data(FAMILY, "fw:t:help")
    assert "no longer works" in h.alerts(calls)[0]


async def test_a_voice_note_in_arabic_reaches_the_trustees_only(harness: Harness) -> None:
    h = harness
    h.languages[FAMILY] = "ar"
    h.languages[MEMBER] = "ar"
    await h.say(FAMILY, "/feedback")
    assert "أمناء" in h.newest(FAMILY)
    ref = await send_feedback_after_start(h)
    confirmation = h.newest(FAMILY)
    assert "شكرًا" in confirmation and ref in confirmation and "أيام" in confirmation
    notice = next(m for m in h.fake.messages(MEMBER) if ref in m.get("text", ""))
    assert "12" in notice["text"] or "١٢" in notice["text"]
    identifier = await feedback_id(h, ref)
    calls = await h.press(MEMBER, rf"^ft:l:{identifier}$")
    [voice] = [c for c in calls if c.method == "sendVoice"]
    assert voice.chat_id == MEMBER and voice.params["voice"] == VOICE
    assert voice.params.get("protect_content") is True
    # Someone who is not a trustee cannot have it sent.
    calls = await h.press_data(OTHER_MEMBER, f"ft:l:{identifier}")
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    only_trustees_saw(h, VOICE, ref)


async def send_feedback_after_start(h: Harness) -> str:
    """The walk already started: a topic and a voice note."""
    await h.press(FAMILY, r"^fw:t:help$")
    calls = await h.feed(h.updates.voice(FAMILY, VOICE, 12, language_code="ar"))
    found = re.search(r"F-\w{3}-\w{3}", " ".join(to(h, calls, FAMILY)))
    assert found is not None
    return found.group(0)


async def test_the_trustee_answers_in_the_persons_language_then_closes(
    harness: Harness,
) -> None:
    h = harness
    for trustee in (MEMBER, TRUSTEE):
        await h.services.people.set_language(trustee, "en")
    h.languages[FAMILY] = "ar"
    ref = await send_feedback(h, FAMILY, "help", "المساعدة لم تصل")
    identifier = await feedback_id(h, ref)
    await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    calls = await h.say(TRUSTEE, ANSWER)
    assert "Your answer was sent" in to(h, calls, TRUSTEE)[0]
    [told] = [c for c in calls if c.chat_id == FAMILY]
    assert ANSWER in (told.text or "") and ref in (told.text or "")
    assert "رد" in (told.text or "")  # the person's language, not the trustee's
    # The trustee's notice keeps only Close; the other trustee's Answer is refused kindly.
    notice = next(m for m in h.fake.messages(TRUSTEE) if ref in m.get("text", ""))
    assert [d for _, d in h.fake.buttons(notice)] == [f"ft:c:{identifier}"]
    assert [d for m in h.fake.messages(TRUSTEE) for _, d in h.fake.buttons(m)] == [
        f"ft:c:{identifier}"
    ]  # the prompt's Cancel is gone too
    calls = await h.press_data(TRUSTEE, f"ft:k:{identifier}", chat_id=TRUSTEE)
    assert "no longer works" in h.alerts(calls)[0]
    calls = await h.press(MEMBER, rf"^ft:a:{identifier}$")
    assert "already answered" in h.alerts(calls)[0]
    calls = await h.press(MEMBER, rf"^ft:c:{identifier}$")
    assert "Closed" in h.alerts(calls)[0]
    [closed] = [c for c in calls if c.chat_id == FAMILY]
    assert ref in (closed.text or "") and "أغلق" in (closed.text or "")
    assert not any(h.fake.buttons(m) for m in h.fake.messages(MEMBER) if ref in m.get("text", ""))
    calls = await h.press_data(TRUSTEE, f"ft:c:{identifier}", chat_id=TRUSTEE)
    assert "already closed" in h.alerts(calls)[0]
    only_trustees_saw(h, ANSWER, ref)
    actions = [e["action"] for e in await h.services.db.fetchall("SELECT action FROM audit")]
    assert {"feedback_answered", "feedback_closed"} <= set(actions)


async def test_a_member_who_is_not_a_trustee_is_refused(harness: Harness) -> None:
    h = harness
    ref = await send_feedback(h, VOLUNTEER, "person", WORDS)
    identifier = await feedback_id(h, ref)
    for verb in ("a", "c", "s", "l", "k"):
        calls = await h.press_data(OTHER_MEMBER, f"ft:{verb}:{identifier}", chat_id=OTHER_MEMBER)
        assert [c.method for c in calls] == ["answerCallbackQuery"]
        assert "Only the trustees" in h.alerts(calls)[0]
    calls = await h.say(OTHER_MEMBER, "/feedbacks")
    assert "Only the trustees" in h.texts(calls)[0]
    calls = await h.say(FAMILY, "/feedbacks")
    assert "don't know that command" in h.texts(calls)[0]
    row = await h.services.db.fetchone("SELECT status FROM feedback WHERE id = ?", (identifier,))
    assert row is not None and row["status"] == "open"
    actions = [e["action"] for e in await h.services.db.fetchall("SELECT action FROM audit")]
    assert actions.count("feedback_refused") == 5
    # The trustees list it, and show it again with its buttons.
    calls = await h.say(TRUSTEE, "/feedbacks")
    assert ref in h.texts(calls)[0]
    calls = await h.press(TRUSTEE, rf"^ft:s:{identifier}$")
    assert WORDS in h.texts(calls)[-1]
    only_trustees_saw(h, WORDS, ref)


async def test_the_trustees_default_to_the_committee_members(tmp_path: Path, key: str) -> None:
    async with running(make_settings(tmp_path, ENCRYPTION_KEY=key)) as h:
        ref = await send_feedback(h, FAMILY, "thanks", "Thank you all")
        for member in (MEMBER, OTHER_MEMBER):
            assert any(ref in m.get("text", "") for m in h.fake.messages(member))
        assert all(ref not in (c.text or "") for c in h.fake.sent(COMMITTEE_CHAT))


def test_settings() -> None:
    base = {"BOT_TOKEN": "1:x", "COMMITTEE_MEMBER_IDS": "1,2"}
    settings = make_settings(Path("/tmp/unused"), FEEDBACK_MEMBER_IDS="3, 4")
    assert settings.trustees == {3, 4} and not settings.is_trustee(MEMBER)
    assert settings.feedback.answer_days == 7
    with pytest.raises(ConfigError) as bad:
        load_settings(
            {**base, "FEEDBACK_MEMBER_IDS": "3,abc", "FEEDBACK_ANSWER_DAYS": "0"}, env_file=None
        )
    assert any("FEEDBACK_MEMBER_IDS" in p for p in bad.value.problems)
    assert any("FEEDBACK_ANSWER_DAYS" in p for p in bad.value.problems)


async def test_a_restart_in_the_middle_loses_nothing(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    first = await send_feedback(h, VOLUNTEER, "other", WORDS)
    await h.say(FAMILY, "/feedback")
    await h.press(FAMILY, r"^fw:t:help$")  # the person is mid-walk
    await h.press(TRUSTEE, rf"^ft:a:{await feedback_id(h, first)}$")  # the trustee mid-answer
    await stop_app(app)

    app2 = await start_app(settings, fake)
    h2 = Harness(app2, fake)
    try:
        calls = await h2.say(FAMILY, "The parcel never arrived")
        assert "Only the trustees of the committee read it" in to(h2, calls, FAMILY)[0]
        calls = await h2.say(TRUSTEE, ANSWER)
        assert any(c.chat_id == VOLUNTEER and ANSWER in (c.text or "") for c in calls)
        assert any("The parcel never arrived" in (c.text or "") for c in fake.sent(TRUSTEE))
    finally:
        await stop_app(app2)
    fake.assert_clean()


async def test_mydata_lists_it_and_erasure_removes_it(harness: Harness) -> None:
    h = harness
    ref = await send_feedback(h, FAMILY, "person", WORDS)
    [text, *_] = h.texts(await h.say(FAMILY, "/mydata"))
    assert ref in text and WORDS in text
    await h.say(FAMILY, "/delete_my_data")
    await h.press(FAMILY, r"^pd:y$")
    assert await h.services.db.fetchone("SELECT 1 FROM feedback") is None
    assert "Nothing is stored" in h.texts(await h.say(FAMILY, "/mydata"))[0]
    # The trustees' old buttons say so kindly.
    calls = await h.press(MEMBER, r"^ft:a:")
    assert "لم تعد محفوظة" in h.alerts(calls)[0]  # the committee's language
    rows = await h.services.db.fetchall("SELECT actor_id FROM audit WHERE action LIKE 'feedback%'")
    assert rows and all(r["actor_id"] is None for r in rows)


async def test_retention_removes_feedback_nobody_touched(harness: Harness) -> None:
    h = harness
    await send_feedback(h, FAMILY, "thanks", "Thank you")
    await send_feedback(h, VOLUNTEER, "other", "Recent")
    old = iso(utcnow() - timedelta(days=400))
    await h.services.db.write(
        "UPDATE feedback SET updated_at = ? WHERE user_id = ?", (old, h.services.ids.pid(FAMILY))
    )
    settings = h.services.settings
    counts = await privacy.purge(
        h.services.db, h.services.ids, settings.retention, settings.committee_chat_id, dry_run=True
    )
    assert counts["feedback"] == 1
    await privacy.purge(
        h.services.db, h.services.ids, settings.retention, settings.committee_chat_id
    )
    rows = await h.services.db.fetchall("SELECT user_id FROM feedback")
    assert [r["user_id"] for r in rows] == [h.services.ids.pid(VOLUNTEER)]


async def test_the_words_are_not_readable_at_rest(harness: Harness) -> None:
    h = harness
    ref = await send_feedback(h, FAMILY, "person", WORDS)
    await send_feedback(h, VOLUNTEER, "help", None)
    await h.press(MEMBER, rf"^ft:a:{await feedback_id(h, ref)}$")
    await h.say(MEMBER, ANSWER)
    raw = b"".join(p.read_bytes() for p in h.services.settings.data_dir.glob("sanad.db*"))
    for secret in (WORDS, ANSWER, VOICE):
        assert secret.encode() not in raw, secret


async def test_key_rotation_reencrypts_the_feedback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = make_settings(data, FEEDBACK_MEMBER_IDS=str(MEMBER))  # a generated key file
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await send_feedback(h, FAMILY, "person", WORDS)
    await h.press(MEMBER, rf"^ft:a:{await feedback_id(h, ref)}$")
    await h.say(MEMBER, ANSWER)
    await stop_app(app)
    assert await _rotate(settings, finish=False) == 0
    app = await start_app(settings, fake)
    try:
        assert await _rotate(settings, finish=True) == 0
    finally:
        await stop_app(app)
    [new_key] = settings.key_file.read_text().split()
    only_new = make_settings(data, ENCRYPTION_KEY=new_key, FEEDBACK_MEMBER_IDS=str(MEMBER))
    app = await start_app(only_new, fake)
    try:
        services = app.bot_data["services"]
        [stored] = await services.feedback.of_person(FAMILY)
        assert stored.words == {"text": WORDS} and stored.answer == ANSWER
        row = await services.db.fetchone("SELECT body, answer, person FROM feedback")
        assert row is not None
        for column in ("body", "answer", "person"):
            Cipher((new_key,)).decrypt(row[column])
    finally:
        await stop_app(app)


async def test_the_trustee_can_cancel_an_answer(harness: Harness) -> None:
    h = harness
    ref = await send_feedback(h, FAMILY, "other", WORDS)
    identifier = await feedback_id(h, ref)
    await h.press(MEMBER, rf"^ft:a:{identifier}$")
    await h.press(MEMBER, rf"^ft:k:{identifier}$")
    assert await h.services.sessions.load(MEMBER) is None
    before = len(h.fake.sent(FAMILY))
    await h.say(MEMBER, "/start")
    assert len(h.fake.sent(FAMILY)) == before  # nothing went to the person
    row = await h.services.db.fetchone("SELECT status FROM feedback WHERE id = ?", (identifier,))
    assert row is not None and row["status"] == "open"


def shown_lengths(h: Harness, chats: tuple[int, ...]) -> list[int]:
    """How many characters each text sent or edited in ``chats`` holds once Telegram has
    parsed its HTML (what Telegram measures against its limit)."""
    return [
        len(visible_text(str(c.params["text"]), c.params.get("parse_mode")))
        for c in h.fake.calls
        if c.method in ("sendMessage", "editMessageText") and c.chat_id in chats
    ]


@pytest.mark.parametrize(("lang", "letter"), [("en", "w"), ("ar", "ص")])
async def test_the_longest_words_and_answer_fit_in_one_message(
    harness: Harness, lang: str, letter: str
) -> None:
    h = harness
    h.languages[FAMILY] = lang
    await h.services.people.set_language(TRUSTEE, lang)
    # The longest words allowed, in lines as people write, and the longest answer.
    words = (letter * 99 + "\n") * (WORDS_LIMIT // 100 - 1) + letter * 100
    answer = (letter * 99 + "\n") * (ANSWER_LIMIT // 100 - 1) + letter * 100
    assert len(words) == WORDS_LIMIT and len(answer) == ANSWER_LIMIT
    ref = await send_feedback(h, FAMILY, "help", words)
    identifier = await feedback_id(h, ref)
    await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    calls = await h.say(TRUSTEE, answer)
    assert any(c.chat_id == FAMILY and answer in (c.text or "") for c in calls)
    # The notice shows the answer now, and kept only Close.
    notice = next(m for m in h.fake.messages(TRUSTEE) if ref in m.get("text", ""))
    assert answer in notice["text"]
    assert [d for _, d in h.fake.buttons(notice)] == [f"ft:c:{identifier}"]
    await h.say(TRUSTEE, "/feedbacks")
    calls = await h.press(TRUSTEE, rf"^ft:s:{identifier}$")
    [shown] = [c for c in calls if c.method == "sendMessage"]
    assert words in (shown.text or "") and answer in (shown.text or "")
    await h.say(FAMILY, "/mydata")
    assert h.fake.violations == []
    assert max(shown_lengths(h, (FAMILY, TRUSTEE))) <= MAX_MESSAGE


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_words_too_long_are_kept_and_the_writer_asked_to_shorten_them(
    harness: Harness, lang: str
) -> None:
    h = harness
    h.languages[FAMILY] = lang
    await h.services.people.set_language(TRUSTEE, lang)
    await h.say(FAMILY, "/feedback")
    await h.press(FAMILY, r"^fw:t:other$")
    calls = await h.say(FAMILY, "x" * (WORDS_LIMIT + 1))
    [kind] = to(h, calls, FAMILY)
    assert ("shorten" if lang == "en" else "اختصار") in kind
    assert "1,500" in kind or "1500" in kind
    assert await h.services.db.fetchone("SELECT 1 FROM feedback") is None
    # Nothing is lost: the walk still waits for the words.
    ref = await send_feedback_words(h, FAMILY, "x" * WORDS_LIMIT)
    identifier = await feedback_id(h, ref)
    await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    calls = await h.say(TRUSTEE, "y" * (ANSWER_LIMIT + 1))
    [kind] = to(h, calls, TRUSTEE)
    assert ("shorten" if lang == "en" else "اختصار") in kind
    assert not any(c.chat_id == FAMILY for c in calls)
    # The prompt still waits, its Cancel still there; a shorter answer goes.
    assert h.find_button(TRUSTEE, rf"^ft:k:{identifier}$")
    calls = await h.say(TRUSTEE, "y" * ANSWER_LIMIT)
    assert any(c.chat_id == FAMILY for c in calls)


async def send_feedback_words(h: Harness, user: int, words: str) -> str:
    """The walk waits for the words: send them; the reference given."""
    [confirmation] = to(h, await h.say(user, words), user)
    found = re.search(r"F-[A-Z0-9]{3}-[A-Z0-9]{3}", confirmation)
    assert found is not None, confirmation
    return found.group(0)


async def test_nobody_is_told_the_answer_is_translated(harness: Harness) -> None:
    h = harness
    await h.services.people.set_language(TRUSTEE, "en")
    await h.services.people.set_language(MEMBER, "ar")
    h.languages[FAMILY] = "ar"
    ref = await send_feedback(h, FAMILY, "help", "المساعدة لم تصل")
    identifier = await feedback_id(h, ref)
    # Each trustee is shown which language the person reads, in the trustee's language.
    notice = next(m for m in h.fake.messages(TRUSTEE) if ref in m.get("text", ""))
    assert "Writes in: Arabic" in notice["text"]
    arabic = next(m for m in h.fake.messages(MEMBER) if ref in m.get("text", ""))
    assert "العربية" in arabic["text"]
    calls = await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    [prompt] = to(h, calls, TRUSTEE)
    assert "Arabic" in prompt and "if you can" in prompt
    calls = await h.say(TRUSTEE, ANSWER)
    [told] = [c.text or "" for c in calls if c.chat_id == FAMILY]
    assert "رد أمناء اللجنة على رسالتك" in told and ref in told
    assert ANSWER in told  # the trustee's words, as written
    await h.press(MEMBER, rf"^ft:c:{identifier}$")
    for call in h.fake.sent(include_failed=True):
        shown = str(call.params.get("text", ""))
        for claim in ("own language", "in their language", "يصل بلغة", "ردك بلغة"):
            assert claim not in shown, shown


async def test_every_message_with_the_words_to_a_trustee_is_protected(harness: Harness) -> None:
    h = harness
    ref = await send_feedback(h, FAMILY, "person", WORDS)
    identifier = await feedback_id(h, ref)
    calls = await h.say(TRUSTEE, "/feedbacks")
    [listed] = [c for c in calls if c.method == "sendMessage"]
    assert listed.params.get("protect_content") is True
    calls = await h.press(TRUSTEE, rf"^ft:s:{identifier}$")
    [shown] = [c for c in calls if c.method == "sendMessage"]
    assert WORDS in (shown.text or "") and shown.params.get("protect_content") is True
    # Answering from the shown copy edits it (an edit keeps its protection), sends nothing.
    await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    calls = await h.say(TRUSTEE, ANSWER)
    for call in calls:
        if call.method == "sendMessage" and call.chat_id == TRUSTEE:
            assert WORDS not in (call.text or "")
    edited = [c for c in calls if c.method == "editMessageText" and c.chat_id == TRUSTEE]
    assert isinstance(shown.result, dict)
    assert [c.params["message_id"] for c in edited] == [shown.result["message_id"]]
    assert all(
        c.params.get("protect_content") is True
        for c in h.fake.calls
        if c.method == "sendMessage" and c.chat_id == TRUSTEE and WORDS in (c.text or "")
    )


async def test_an_answer_given_meanwhile_or_started_twice_leaves_no_stale_buttons(
    harness: Harness,
) -> None:
    h = harness
    await h.services.people.set_language(TRUSTEE, "en")
    ref = await send_feedback(h, FAMILY, "other", WORDS)
    identifier = await feedback_id(h, ref)
    # The trustee presses Answer twice: only the newest prompt keeps its Cancel.
    await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    cancels = [
        d
        for m in h.fake.messages(TRUSTEE)
        for _, d in h.fake.buttons(m)
        if (d or "").startswith("ft:k")
    ]
    assert cancels == [f"ft:k:{identifier}"]
    # The other trustee answers first; this one's answer is refused and the notice refreshed.
    await h.press(MEMBER, rf"^ft:a:{identifier}$")
    await h.say(MEMBER, ANSWER)
    calls = await h.say(TRUSTEE, "Another answer")
    assert "already answered" in to(h, calls, TRUSTEE)[0]
    assert [d for m in h.fake.messages(TRUSTEE) for _, d in h.fake.buttons(m)] == [
        f"ft:c:{identifier}"
    ]


async def test_the_list_keeps_its_buttons_when_one_feedback_is_gone(harness: Harness) -> None:
    h = harness
    await h.services.people.set_language(TRUSTEE, "en")
    gone = await feedback_id(h, await send_feedback(h, FAMILY, "other", WORDS))
    kept = await feedback_id(h, await send_feedback(h, VOLUNTEER, "thanks", "Thank you"))
    await h.say(TRUSTEE, "/feedbacks")
    listed = int(h.fake.messages(TRUSTEE)[-1]["message_id"])
    await h.say(FAMILY, "/delete_my_data")
    await h.press(FAMILY, r"^pd:y$")
    calls = await h.press_data(TRUSTEE, f"ft:s:{gone}", message_id=listed, chat_id=TRUSTEE)
    assert "no longer stored" in h.alerts(calls)[0]
    [message] = [m for m in h.fake.messages(TRUSTEE) if m["message_id"] == listed]
    assert [d for _, d in h.fake.buttons(message)] == [f"ft:s:{gone}", f"ft:s:{kept}"]
    calls = await h.press_data(TRUSTEE, f"ft:s:{kept}", message_id=listed, chat_id=TRUSTEE)
    assert "Thank you" in h.texts(calls)[-1]
    # Pressed by someone who is not a trustee, the list's button is refused kindly.
    calls = await h.press_data(OTHER_MEMBER, f"ft:s:{kept}", message_id=listed, chat_id=TRUSTEE)
    assert "Only the trustees" in h.alerts(calls)[0]


async def test_data_forged_onto_another_message_never_writes_the_words_into_it(
    harness: Harness,
) -> None:
    h = harness
    ref = await send_feedback(h, FAMILY, "person", WORDS)
    identifier = await feedback_id(h, ref)
    await h.press(TRUSTEE, rf"^ft:a:{identifier}$")
    prompt, _ = h.find_button(TRUSTEE, rf"^ft:k:{identifier}$")  # not protected: no words
    for verb in ("a", "c", "a"):  # Answer while open, Close, Answer once closed
        calls = await h.press_data(
            TRUSTEE, f"ft:{verb}:{identifier}", message_id=prompt, chat_id=TRUSTEE
        )
        for call in calls:
            if call.method == "editMessageText" and call.params["message_id"] == prompt:
                assert WORDS not in (call.text or "")
    row = await h.services.db.fetchone("SELECT status FROM feedback WHERE id = ?", (identifier,))
    assert row is not None and row["status"] == "closed"
