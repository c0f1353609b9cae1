"""Unlinkable at rest: no Telegram id of a person in any SQLite file of DATA_DIR.

Realistic ids (ten digits) are used on purpose: a short id such as 900 turns up by chance in
base64 ciphertext or in a 19-digit pseudonym, a ten-digit one practically never.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from cryptography.fernet import Fernet

from bot import reminders
from bot.crypto import Cipher
from bot.storage import Database, meta, outbox, utcnow, volunteers
from bot.storage import cases as case_repo
from bot.storage.db import migrations
from tests.conftest import COMMITTEE_CHAT, Harness, make_settings, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import approve_volunteer, full_intake
from tests.test_volunteers import REGISTRATION

FAMILY = 7_301_234_567
OTHER_FAMILY = 7_301_234_999
MEMBER = 5_123_456_789
DRIVER = 6_234_567_890
PEOPLE = (FAMILY, OTHER_FAMILY, MEMBER, DRIVER)


def sqlite_files(data_dir: Path) -> list[Path]:
    """The database and its -wal and -shm files, as they are on disk."""
    files = sorted(data_dir.glob("sanad.db*"))
    assert any(f.name == "sanad.db" for f in files)
    return files


def cells(path: Path) -> Iterable[tuple[str, str, object]]:
    """Every cell of every table: (table, column, value), read without any key."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = conn.execute(f"SELECT * FROM {table}")  # noqa: S608
            names = [d[0] for d in cursor.description]
            for row in cursor:
                yield from ((table, name, value) for name, value in zip(names, row, strict=True))


def assert_no_telegram_id(data_dir: Path, people: Iterable[int] = PEOPLE) -> int:
    """No cell equals or contains an id, and no file's bytes hold one as decimal text;
    returns how many cells were looked at."""
    people = tuple(people)
    for path in sqlite_files(data_dir):
        blob = path.read_bytes()
        for person in people:
            assert str(person).encode() not in blob, f"{person} in the bytes of {path.name}"
    looked = 0
    for table, column, value in cells(data_dir / "sanad.db"):
        looked += 1
        for person in people:
            text = str(person)
            found = (
                value == person
                or (isinstance(value, str) and text in value)
                or (isinstance(value, bytes) and text.encode() in value)
            )
            assert not found, f"{table}.{column} holds the Telegram id {person}"
    return looked


async def register(h: Harness, user: int) -> None:
    h.languages[user] = "en"
    await h.say(user, "/volunteer")
    await h.press(user, r"^vo:y$")
    for kind, value in REGISTRATION:
        if kind == "say":
            await h.say(user, value)
        else:
            await h.press(user, value)
    await h.press(user, r":review:S:$")
    await approve_volunteer(h, MEMBER)  # offers go to approved volunteers only


async def publish(h: Harness) -> str:
    await h.say(MEMBER, "/newtask")
    await h.say(MEMBER, "Drive a family to the hospital")
    await h.say(MEMBER, "Pick-up at 10:00 near the mosque, back by noon.")
    await h.press(MEMBER, r"^tw:s:driving$")
    await h.press(MEMBER, r"^tw:a:north$")
    await h.press(MEMBER, r"^tw:d:1$")
    await h.say(MEMBER, "10:00")
    await h.press(MEMBER, r"^tw:u:120$")
    await h.say(MEMBER, "2")
    await h.press(MEMBER, r"^tw:c:$")
    await h.press(MEMBER, r"^tw:p:$")
    row = await h.services.db.fetchone("SELECT ref FROM tasks ORDER BY id DESC LIMIT 1")
    assert row is not None
    return str(row["ref"])


async def test_a_full_run_leaves_no_telegram_id_in_the_database_files(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, ENCRYPTION_KEY=Fernet.generate_key().decode(), COMMITTEE_MEMBER_IDS=str(MEMBER)
    )
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    await h.say(MEMBER, "/start")
    # A case submitted, a question answered, a decision, a draft left half way.
    ref = await full_intake(h, FAMILY)
    await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Which hospital treats you?")
    await h.press(FAMILY, r"^fa:\d+$")
    await h.say(FAMILY, "Al-Bashir hospital, every Tuesday")
    await h.press(MEMBER, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:sd:$")
    await h.press(MEMBER, r"^rv:p:3$")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    await h.say(OTHER_FAMILY, "/apply")
    await h.press(OTHER_FAMILY, r"^ic:y$")
    # A volunteer, a task published and accepted, a reminder sent, an export.
    await register(h, DRIVER)
    task = await publish(h)
    await h.press_data(DRIVER, f"tk:a:{task}", chat_id=DRIVER)
    [(due, _), *_] = await h.services.review.due_reminders()
    assert await reminders.claim(h.services, due)
    await h.services.delivery.flush()
    await h.press(MEMBER, r"^cd:", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "/export")
    await h.press(MEMBER, r"^ex:full$")
    sent = {c.chat_id for c in fake.calls if c.method.startswith("send")}
    assert {FAMILY, OTHER_FAMILY, MEMBER, DRIVER} <= sent  # everyone was written to

    assert assert_no_telegram_id(settings.data_dir) > 100
    await stop_app(app)
    assert assert_no_telegram_id(settings.data_dir) > 100
    # The committee group is not a person: its chat id stays in clear.
    values = {value for _, column, value in cells(settings.data_dir / "sanad.db")}
    assert COMMITTEE_CHAT in values


OLD_ROWS = (
    "INSERT INTO people VALUES ({family}, 'ar', 1, '2025-01-01', '2025-01-01')",
    "INSERT INTO people VALUES ({driver}, 'en', 1, '2025-01-01', '2025-01-01')",
    "INSERT INTO people VALUES ({member}, 'en', 1, '2025-01-01', '2025-01-01')",
    "INSERT INTO drafts VALUES ({driver}, X'00', '2025-01-01')",
    "INSERT INTO sessions VALUES ({member}, X'00', '2025-01-01')",
    "INSERT INTO cases (id, ref, user_id, language, status, answers, created_at, updated_at, "
    "assignee_id, decided_by) VALUES (1, 'K7P-4RD', {family}, 'ar', 'approved', '{{}}', "
    "'2025-01-01', '2025-01-01', {member}, {member})",
    "INSERT INTO audit (at, actor_id, case_id, action) VALUES ('2025-01-01', {family}, 1, "
    "'case_submitted')",
    "INSERT INTO outbox (kind, chat_id, case_id, next_attempt_at, created_at) VALUES "
    "('family_notice', {family}, 1, '2025-01-01', '2025-01-01')",
    "INSERT INTO outbox (kind, chat_id, case_id, next_attempt_at, created_at) VALUES "
    "('committee_card', {group}, 1, '2025-01-01', '2025-01-01')",
    "INSERT INTO info_requests (case_id, member_id, question, asked_at) VALUES (1, {member}, "
    "X'00', '2025-01-01')",
    "INSERT INTO notes (case_id, author_id, at, body) VALUES (1, {member}, '2025-01-01', X'00')",
    "INSERT INTO volunteers VALUES ({driver}, 'active', '{{}}', X'00', '2025-01-01', "
    "'2025-01-01')",
    "INSERT INTO tasks (id, ref, creator_id, content, skill, area, starts_at, duration_min, "
    "needed, created_at, updated_at, progress_chat, progress_message_id) VALUES (1, 'TAAAAA', "
    "{member}, X'00', 'driving', 'north', '2025-02-01', 60, 1, '2025-01-01', '2025-01-01', "
    "{member}, 5)",
    "INSERT INTO assignments (task_id, volunteer_id, status, created_at, updated_at) VALUES "
    "(1, {driver}, 'accepted', '2025-01-01', '2025-01-01')",
    "INSERT INTO reminders (kind, task_id, volunteer_id, due_at) VALUES ('task_reminder', 1, "
    "{driver}, '2025-01-31')",
)


def old_database(path: Path) -> None:
    """A database as the code before pseudonyms left it: migrations 1 to 6, ids in clear."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for number, script in migrations():
            if number <= 6:
                assert isinstance(script, str)
                conn.executescript(script)
                conn.execute(f"PRAGMA user_version={number}")
        names = {"family": FAMILY, "driver": DRIVER, "member": MEMBER, "group": COMMITTEE_CHAT}
        for statement in OLD_ROWS:
            conn.execute(statement.format(**names))
        conn.commit()


async def test_migration_pseudonymises_an_existing_database_in_place(tmp_path: Path) -> None:
    path = tmp_path / "sanad.db"
    old_database(path)
    people = (FAMILY, DRIVER, MEMBER)
    assert any(value == FAMILY for _, _, value in cells(path))  # the old schema: in clear
    cipher = Cipher((Fernet.generate_key().decode(),))
    db = Database(path)
    await db.open(cipher)
    try:
        ids = await meta.load_ids(db, cipher)
        [case] = await case_repo.for_user(db, ids, FAMILY)
        assert case.user_id == FAMILY and case.assignee_id == ids.pid(MEMBER)
        assert await volunteers.active_reachable(db, ids) == [(DRIVER, {})]
        targets = sorted(item.chat_id for item in await outbox.due(db, ids, utcnow()))
        assert targets == sorted([FAMILY, COMMITTEE_CHAT])
        row = await db.fetchone("SELECT user_id FROM people WHERE user_id = ?", (ids.pid(DRIVER),))
        assert row is not None
        assert await db.fetchone("PRAGMA foreign_key_check") is None
    finally:
        await db.close()
    assert assert_no_telegram_id(tmp_path, people) > 50


async def test_migration_needs_the_key(tmp_path: Path) -> None:
    from bot.errors import StorageError

    old_database(tmp_path / "sanad.db")
    db = Database(tmp_path / "sanad.db")
    try:
        await db.open()
    except StorageError as exc:
        assert "needs the encryption key" in str(exc)
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("migrated without the key")
    finally:
        await db.close()
