"""The key apart from the data: where it lives, and a database never meets a new key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot import keyring
from bot.__main__ import _rotate
from bot.config import load_settings
from bot.crypto import Cipher
from bot.errors import ConfigError
from bot.keyring import KeyState
from bot.storage.encrypted import ENCRYPTED
from tests.conftest import Harness, make_settings, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.test_at_rest import DRIVER, MEMBER, old_database, publish, register
from tests.test_config import run_cli

FAMILY = 7_301_234_567


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "BOT_TOKEN": "123:abc",
        "DATA_DIR": str(data_dir),
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # nothing listens: unreachable
        **extra,
    }


async def a_database_with_data(tmp_path: Path, key: str) -> Path:
    """DATA_DIR holding one person's draft, written under ``key``."""
    data_dir = tmp_path / "data"
    app = await start_app(make_settings(data_dir, ENCRYPTION_KEY=key), fake := FakeTelegram())
    await Harness(app, fake).say(FAMILY, "/apply")
    await stop_app(app)
    return data_dir


def test_the_default_key_file_is_outside_the_data(tmp_path: Path) -> None:
    base = {"BOT_TOKEN": "1:x", "DATA_DIR": str(tmp_path / "data")}
    settings = load_settings({**base, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}, env_file=None)
    assert settings.key_file == tmp_path / "cfg" / "sanad" / "secret.key"
    systemd = load_settings({**base, "CREDENTIALS_DIRECTORY": "/run/credentials/sanad.service"})
    assert systemd.key_file == Path("/run/credentials/sanad.service/sanad.key")
    default = load_settings(base, env_file=None)
    assert default.key_file == Path("~/.config/sanad/secret.key").expanduser()


def test_a_key_file_inside_the_data_folder_is_refused_unless_allowed(tmp_path: Path) -> None:
    inside = {
        "BOT_TOKEN": "1:x",
        "DATA_DIR": str(tmp_path / "data"),
        "ENCRYPTION_KEY_FILE": str(tmp_path / "data" / "secret.key"),
    }
    with pytest.raises(ConfigError) as refused:
        load_settings(inside, env_file=None)
    [problem] = refused.value.problems
    assert "inside DATA_DIR" in problem and "ALLOW_KEY_IN_DATA_DIR=1" in problem
    allowed = load_settings({**inside, "ALLOW_KEY_IN_DATA_DIR": "1"}, env_file=None)
    assert allowed.key_file == tmp_path / "data" / "secret.key"
    # With ENCRYPTION_KEY the key file is not used: nothing to refuse.
    load_settings({**inside, "ENCRYPTION_KEY": Fernet.generate_key().decode()}, env_file=None)


async def test_a_new_database_without_a_key_gets_a_generated_one(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    assert keyring.state(settings) is KeyState.NEW
    assert not settings.key_file.exists()
    app = await start_app(settings, FakeTelegram())
    await stop_app(app)
    assert settings.key_file.exists()
    assert keyring.state(settings) is KeyState.MATCHES  # and it is used again next time


async def test_data_without_its_key_refuses_to_start_and_makes_no_key(tmp_path: Path) -> None:
    data_dir = await a_database_with_data(tmp_path, Fernet.generate_key().decode())
    settings = make_settings(data_dir)  # ENCRYPTION_KEY lost, no key file
    assert keyring.state(settings) is KeyState.MISSING
    with pytest.raises(ConfigError, match="No encryption key found"):
        await start_app(settings, FakeTelegram())
    assert not settings.key_file.exists()  # never a new key for a database with data

    for command in ("check", "run", "migrate"):
        result = run_cli(command, env=cli_env(data_dir), cwd=tmp_path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout
        said = (result.stdout + result.stderr).splitlines()
        assert len([line for line in said if "No encryption key found" in line]) == 1
        if command != "check":  # refused before anything else: one clear line
            assert len(result.stderr.strip().splitlines()) == 1
    assert not settings.key_file.exists()
    assert not (tmp_path / "config" / "sanad" / "secret.key").exists()


async def test_a_wrong_key_is_told_apart_from_a_missing_one(tmp_path: Path) -> None:
    data_dir = await a_database_with_data(tmp_path, Fernet.generate_key().decode())
    wrong = Fernet.generate_key().decode()
    assert keyring.state(make_settings(data_dir, ENCRYPTION_KEY=wrong)) is KeyState.WRONG
    for command in ("check", "run"):
        result = run_cli(command, env=cli_env(data_dir, ENCRYPTION_KEY=wrong), cwd=tmp_path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "does not open the database" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


async def test_check_says_the_key_matches(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    data_dir = await a_database_with_data(tmp_path, key)
    result = run_cli("check", env=cli_env(data_dir, ENCRYPTION_KEY=key), cwd=tmp_path)
    assert "matches the database" in result.stdout
    assert result.returncode == 1  # Telegram is unreachable here; the key is fine


async def test_an_old_database_with_a_wrong_key_is_refused_before_migrating(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old_database(data_dir / "sanad.db")
    right = Fernet.generate_key().decode()
    value = Cipher((right,)).encrypt("{}")
    with sqlite3.connect(data_dir / "sanad.db") as conn:  # values under the right key
        for table, column in (("drafts", "payload"), ("sessions", "payload"), ("notes", "body")):
            conn.execute(f"UPDATE {table} SET {column} = ?", (value,))  # noqa: S608
    wrong = make_settings(data_dir, ENCRYPTION_KEY=Fernet.generate_key().decode())
    assert keyring.state(wrong) is KeyState.WRONG
    assert keyring.state(make_settings(data_dir, ENCRYPTION_KEY=right)) is KeyState.MATCHES


async def test_rotation_keeps_the_check_value_and_the_pseudonyms(tmp_path: Path) -> None:
    members = {"COMMITTEE_MEMBER_IDS": str(MEMBER)}
    settings = make_settings(tmp_path / "data", **members)  # a generated key file
    app = await start_app(settings, fake := FakeTelegram())
    h = Harness(app, fake)
    await h.say(MEMBER, "/start")
    await register(h, DRIVER)
    await h.press_data(DRIVER, f"tk:a:{await publish(h)}", chat_id=DRIVER)  # sealed ids
    await h.say(FAMILY, "/apply")
    await h.press(FAMILY, r"^ic:y$")
    before = h.services.ids.pid(FAMILY)
    await stop_app(app)
    assert await _rotate(settings, finish=False) == 0
    app = await start_app(settings, fake)  # the restart with the new key first
    try:
        assert await _rotate(settings, finish=True) == 0
    finally:
        await stop_app(app)
    [new_key] = settings.key_file.read_text().split()
    only_new = make_settings(tmp_path / "data", ENCRYPTION_KEY=new_key, **members)
    assert keyring.state(only_new) is KeyState.MATCHES
    app = await start_app(only_new, fake)
    try:
        services = app.bot_data["services"]
        assert services.ids.pid(FAMILY) == before  # pseudonyms do not rotate
        assert await services.intake.load(FAMILY) is not None
        new_only, tables = Cipher((new_key,)), set()
        for table, _, column in ENCRYPTED:
            query = f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608
            for row in await services.db.fetchall(query):
                new_only.decrypt(row[column])  # the sealed ids and the meta values too
                tables.add(f"{table}.{column}")
        assert {"meta.value", "assignments.volunteer", "volunteers.chat"} <= tables
    finally:
        await stop_app(app)


async def test_the_refusal_points_to_a_key_left_at_the_old_default_place(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    data_dir = await a_database_with_data(tmp_path, key)
    (data_dir / "secret.key").write_text(key + "\n")  # where earlier versions generated it
    settings = make_settings(data_dir)
    with pytest.raises(ConfigError) as refused:
        keyring.resolve_keys(settings)
    [line] = refused.value.problems
    assert str(data_dir / "secret.key") in line and str(settings.key_file) in line
