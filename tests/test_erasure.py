"""Erasure is complete: after /delete_my_data, and after the retention purge of a family's
case, nothing left in the database (its encrypted values read with the key, its id columns,
its WAL) ties the person to anything."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot import privacy
from bot.__main__ import _rotate
from bot.storage.db import iso, utcnow
from bot.storage.encrypted import ENCRYPTED
from bot.storage.migrations.m007_pseudonyms import IDS
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness, make_settings, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import Answers, act, apply_and_consent, script
from tests.test_review import approve
from tests.test_tasks import new_task, volunteer

FAMILY = 7301946285  # long enough that its digits never occur by chance
OTHER_DRIVER = 1399
ANSWERS = Answers(
    name="Khadija Qasrawi",
    phone="0791112233",
    area="Wadi Seer street nine",
    other="Our roof fell in during the storm",
    story="unused: the description is a voice note",
)
VOICE = "voice-file-khadija-77"
ANSWER_WORDS = "Clinic of Dr Marwan in Zarqa"
# What must be gone: the family's words, name, phone, voice note and Telegram id as text.
SECRETS = (
    "Khadija",
    "Qasrawi",
    "791112233",
    "Wadi Seer",
    "roof fell",
    VOICE,
    "Dr Marwan",
    str(FAMILY),
)


async def apply_with_voice(h: Harness, user: int) -> str:
    """The whole intake, the description sent as a voice note; return the reference."""
    h.languages[user] = "en"
    await apply_and_consent(h, user)
    for action in script(ANSWERS):
        if action == ("say", ANSWERS.story):
            await h.feed(h.updates.voice(user, file_id=VOICE, duration=20))
        else:
            await act(h, user, action)
    await h.press(user, r":review:S:$")
    row = await h.services.db.fetchone(
        "SELECT ref FROM cases WHERE user_id = ? ORDER BY id DESC", (h.services.ids.pid(user),)
    )
    assert row is not None
    return str(row["ref"])


async def question_and_answer(h: Harness, ref: str) -> None:
    """A member asks; the family answers in words."""
    await h.say(MEMBER, "/start")
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Which clinic treats you?")
    await h.press(FAMILY, r"^fa:\d+$")
    await h.say(FAMILY, ANSWER_WORDS)


async def traces(h: Harness) -> list[tuple[str, bytes]]:
    """Every encrypted value that holds something of the person (their old ciphertexts),
    with the column it is in."""
    found = []
    for table, _, column in ENCRYPTED:
        for row in await h.services.db.fetchall(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608
        ):
            text = h.services.ids.cipher.decrypt(row[column])
            if any(secret in text for secret in SECRETS):
                found.append((f"{table}.{column}", bytes(row[column])))
    return found


async def assert_nothing_left(h: Harness, old: list[tuple[str, bytes]]) -> None:
    """(a) no encrypted value holds anything of the person; (b) no id column holds their
    pseudonym; (c) neither the database file nor its WAL holds one of their old ciphertexts."""
    assert [where for where, _ in await traces(h)] == []
    pid = h.services.ids.pid(FAMILY)
    for table, column, _ in IDS:
        rows = await h.services.db.fetchall(
            f"SELECT rowid FROM {table} WHERE {column} = ?",  # noqa: S608
            (pid,),
        )
        assert rows == [], f"{table}.{column} still names the person"
    path = h.services.settings.database_path
    wal = path.with_name(path.name + "-wal")
    stored = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert old
    for where, token in old:
        assert token[16:64] not in stored, f"an old value of {where} is still on disk"


async def test_delete_my_data_leaves_nothing_of_the_person(harness: Harness) -> None:
    h = harness
    pid = h.services.ids.pid(FAMILY)
    ref = await apply_with_voice(h, FAMILY)
    await question_and_answer(h, ref)
    # The same person volunteers, holds the only slot of a task; another driver waits.
    await volunteer(h, FAMILY)
    await volunteer(h, OTHER_DRIVER)
    task = await new_task(h, needed=1)
    await h.press_data(FAMILY, f"tk:a:{task}", chat_id=FAMILY)
    await h.press_data(OTHER_DRIVER, f"tk:a:{task}", chat_id=OTHER_DRIVER)
    # A second application begun: a draft.
    await h.say(FAMILY, "/apply")
    await h.press(FAMILY, r"^ap:n:")  # yes, another application
    await h.press(FAMILY, r"^ic:y$")
    await h.press(FAMILY, r":situation:o:orphans$")
    await h.say(FAMILY, "/start")
    # A second question left unanswered: a question in the family's chat, a pending session.
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "And the street?")
    await h.press(FAMILY, r"^fa:\d+$")
    await approve(h, ref)  # a family notice is sent to the family's chat
    for table in ("drafts", "sessions", "volunteers", "assignments"):
        key = "volunteer_id" if table == "assignments" else "user_id"
        query = f"SELECT * FROM {table} WHERE {key} = ?"  # noqa: S608
        assert await h.services.db.fetchall(query, (pid,)), f"nothing in {table} to erase"
    old = await traces(h)

    await h.say(FAMILY, "/delete_my_data")
    await h.press(FAMILY, r"^pd:y$")

    await assert_nothing_left(h, old)
    # The slot was given back: the driver waiting is in the task now.
    row = await h.services.db.fetchone("SELECT status FROM assignments")
    assert row is not None and row["status"] == "accepted"
    # The case keeps its anonymous figures.
    case = await h.services.db.fetchone("SELECT answers FROM cases WHERE ref = ?", (ref,))
    assert case is not None and '"situation": ["orphans", "other"]' in case["answers"]


async def test_retention_purge_leaves_nothing_of_the_family(harness: Harness) -> None:
    h = harness
    ref = await apply_with_voice(h, FAMILY)
    await question_and_answer(h, ref)
    await approve(h, ref)
    old = await traces(h)
    long_ago = iso(utcnow() - timedelta(days=400))
    async with h.services.db.transaction() as conn:
        for table in ("cases", "people"):
            await conn.execute(f"UPDATE {table} SET updated_at = ?", (long_ago,))  # noqa: S608
        await conn.execute("UPDATE outbox SET created_at = ?", (long_ago,))
        await conn.execute("UPDATE audit SET at = ?", (long_ago,))

    counts = await privacy.purge(
        h.services.db, h.services.ids, h.services.settings.retention, COMMITTEE_CHAT
    )
    assert counts["cases"] == 1

    await assert_nothing_left(h, old)
    events = [r["action"] for r in await h.services.db.fetchall("SELECT action FROM audit")]
    assert "case_submitted" in events and "retention_purge" in events  # events, no person


async def test_rotation_leaves_no_value_under_the_old_key_on_disk(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")  # a generated key file
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    try:
        ref = await apply_with_voice(h, FAMILY)
        await question_and_answer(h, ref)
        assert await _rotate(settings, finish=False) == 0
    finally:
        await stop_app(app)
    app = await start_app(settings, fake)  # restarted with the new key first
    h = Harness(app, fake)
    try:
        old = await traces(h)
        assert await _rotate(settings, finish=True) == 0
        path = settings.database_path
        stored = path.read_bytes() + path.with_name(path.name + "-wal").read_bytes()
        for where, token in old:
            assert token[16:64] not in stored, f"{where} under the old key is still on disk"
    finally:
        await stop_app(app)


async def test_the_wal_is_cut_at_each_reset_and_deleted_content_zeroed(harness: Harness) -> None:
    row = await harness.services.db.fetchone("PRAGMA journal_size_limit")
    assert row is not None and row[0] == 0
    row = await harness.services.db.fetchone("PRAGMA secure_delete")
    assert row is not None and row[0] == 1
