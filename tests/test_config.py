"""Configuration: every problem on its own line, exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"BOT_TOKEN": "123456:ABC-def"}


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(env, env_file=None, available_languages=("ar", "en"))
    return info.value.problems


def test_defaults() -> None:
    s = load_settings(GOOD, env_file=None, available_languages=("ar", "en"))
    assert s.default_language == "ar" and s.committee_language == "ar"
    assert s.timezone == "UTC" and s.data_dir == Path("data")
    assert s.committee_chat_id is None and s.committee_member_ids == frozenset()
    assert s.api_base_url == "https://api.telegram.org/bot"
    assert "ABC" not in repr(s)  # the token never shows in a repr


def test_full_configuration() -> None:
    s = load_settings(
        {
            **GOOD,
            "COMMITTEE_CHAT_ID": "-1001",
            "COMMITTEE_MEMBER_IDS": " 5, 6 ,7",
            "COMMITTEE_LANGUAGE": "en",
            "DEFAULT_LANGUAGE": "en",
            "TIMEZONE": "Africa/Casablanca",
            "PHONE_REGION": "ma",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "LOG_LEVEL": "debug",
            "DATA_DIR": "/srv/sanad",
        },
        env_file=None,
        available_languages=("ar", "en"),
    )
    assert s.committee_member_ids == frozenset({5, 6, 7}) and s.is_member(6)
    assert s.phone_region == "MA" and s.log_level == "DEBUG"
    assert s.database_path == Path("/srv/sanad/sanad.db")
    assert s.key_file == Path("/srv/sanad/secret.key")


def test_missing_token_explains_botfather() -> None:
    [problem] = problems({})
    assert "@BotFather" in problem and "/newbot" in problem


def test_every_bad_value_is_reported() -> None:
    found = problems(
        {
            "BOT_TOKEN": "nope",
            "COMMITTEE_CHAT_ID": "group",
            "COMMITTEE_MEMBER_IDS": "1,abc",
            "DEFAULT_LANGUAGE": "xx",
            "COMMITTEE_LANGUAGE": "fr",
            "TIMEZONE": "Mars/Base",
            "PHONE_REGION": "ZZ",
            "TELEGRAM_API_BASE_URL": "ftp://x",
            "LOG_LEVEL": "LOUD",
            "ENCRYPTION_KEY": "short",
            "REMINDER_OFFSETS": "1 week",
            "RETENTION_DAYS": "forever",
        }
    )
    names = [
        "BOT_TOKEN",
        "COMMITTEE_CHAT_ID",
        "COMMITTEE_MEMBER_IDS",
        "DEFAULT_LANGUAGE",
        "COMMITTEE_LANGUAGE",
        "TIMEZONE",
        "PHONE_REGION",
        "TELEGRAM_API_BASE_URL",
        "LOG_LEVEL",
        "ENCRYPTION_KEY",
        "REMINDER_OFFSETS",
        "RETENTION_DAYS",
    ]
    assert len(found) == len(names)
    for name, problem in zip(names, found, strict=True):
        assert problem.startswith(name)
    assert all("short" not in p and "nope" not in p for p in found)  # values are not echoed


def test_env_file_fills_what_the_environment_lacks(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BOT_TOKEN=1:fromfile\nTIMEZONE=Asia/Amman\n")
    s = load_settings({"TIMEZONE": "UTC"}, env_file=env_file)
    assert s.bot_token == "1:fromfile" and s.timezone == "UTC"


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "COMMITTEE_", "DATA_DIR", "ENCRYPTION_", "TELEGRAM_"))
    }
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_token_exits_2_with_instructions(tmp_path: Path) -> None:
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_check_reports_each_problem(tmp_path: Path) -> None:
    result = run_cli("check", env={"BOT_TOKEN": "x", "TIMEZONE": "Nowhere"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("Configuration error:") for line in lines)
    assert "Traceback" not in result.stderr


def test_check_and_migrate(tmp_path: Path) -> None:
    env = {
        "BOT_TOKEN": "123:abc",
        "DATA_DIR": str(tmp_path / "d"),
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # nothing listens: unreachable
    }
    result = run_cli("check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "Configuration is valid." in result.stdout
    assert "Database: not created yet" in result.stdout
    assert "a key file will be generated" in result.stdout
    assert "Telegram: NetworkError" in result.stdout and "123:abc" not in result.stdout
    result = run_cli("migrate", env=env, cwd=tmp_path)
    from bot.storage.db import migrations

    latest = migrations()[-1][0]
    assert result.returncode == 0 and f"migration {latest}." in result.stdout
    result = run_cli("check", env=env, cwd=tmp_path)
    assert f"migration {latest} of {latest}." in result.stdout


async def test_check_reports_the_committee_group(tmp_path: Path) -> None:
    import asyncio
    import sys

    from tests.fakes.http_telegram import HttpTelegram

    async with HttpTelegram(token="123456:TEST") as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "COMMITTEE_"))},
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": "123456:TEST",
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATA_DIR": str(tmp_path),
            "COMMITTEE_CHAT_ID": "-1001234567890",
            "ENCRYPTION_KEY": "",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "check",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    text = out.decode()
    assert process.returncode == 0, text + err.decode()
    assert "connected as @sanad_test_bot" in text
    assert "Updates: long polling." in text
    assert "Committee group: reachable (supergroup)" in text


def test_genkey_prints_a_usable_key(tmp_path: Path) -> None:
    from bot.crypto import valid_key

    result = run_cli("genkey", env={}, cwd=tmp_path)
    assert result.returncode == 0 and valid_key(result.stdout.strip())


def test_reminder_offsets() -> None:
    from datetime import timedelta

    from bot.config import parse_offsets

    assert parse_offsets("1h,24h, 30m") == (
        timedelta(days=1),
        timedelta(hours=1),
        timedelta(minutes=30),
    )
    assert parse_offsets("2d") == (timedelta(days=2),)
    assert parse_offsets("") is None and parse_offsets("5x") is None


def test_webhook_and_flood_settings() -> None:
    s = load_settings(
        {
            **GOOD,
            "WEBHOOK_URL": "https://sanad.example.org/telegram/hook",
            "WEBHOOK_SECRET": "abc_DEF-123",
            "PORT": "88",
            "FLOOD_BURST": "5",
            "FLOOD_PER_MINUTE": "30",
        },
        env_file=None,
        available_languages=("ar", "en"),
    )
    assert (s.webhook_url, s.webhook_listen, s.port) == (
        "https://sanad.example.org/telegram/hook",
        "127.0.0.1",
        88,
    )
    assert "abc_DEF" not in repr(s)  # the secret never shows in a repr
    assert (s.flood_burst, s.flood_per_minute) == (5, 30)
    polling = load_settings(GOOD, env_file=None, available_languages=("ar", "en"))
    assert polling.webhook_url is None and polling.port == 8443


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"WEBHOOK_URL": "http://sanad.example.org/hook", "WEBHOOK_SECRET": "x"}, "https://"),
        ({"WEBHOOK_URL": "https://sanad.example.org/hook"}, "WEBHOOK_SECRET must be set"),
        ({"WEBHOOK_SECRET": "has space"}, "A-Z, a-z, 0-9"),
        ({"WEBHOOK_SECRET": "x" * 257}, "1 to 256"),
        ({"PORT": "70000"}, "PORT"),
        ({"PORT": "http"}, "PORT"),
        ({"FLOOD_BURST": "-1"}, "FLOOD_BURST"),
        ({"FLOOD_PER_MINUTE": "many"}, "FLOOD_PER_MINUTE"),
        # str.isdigit() is true for these, int() refuses them: a ConfigError, not a crash.
        ({"PORT": "8443²"}, "PORT"),
        ({"FLOOD_BURST": "①"}, "FLOOD_BURST"),
        ({"RETENTION_DAYS": "³⁶⁵"}, "RETENTION_DAYS"),
        ({"REMINDER_OFFSETS": "²h"}, "REMINDER_OFFSETS"),
        ({"COMMITTEE_MEMBER_IDS": "5,²"}, "COMMITTEE_MEMBER_IDS"),
    ],
)
def test_bad_webhook_and_flood_settings(env: dict[str, str], needle: str) -> None:
    [problem] = problems({**GOOD, **env})
    assert needle in problem
    assert "has space" not in problem  # values are never echoed back


@pytest.mark.parametrize(
    "url",
    [
        "https://tg.example.org/bot",
        "http://localhost:8081/bot",
        "http://127.0.0.1:8081/bot",
        "http://127.10.0.3/bot",
        "http://[::1]:8081/bot",
    ],
)
def test_api_base_url_over_https_or_on_this_machine(url: str) -> None:
    settings = load_settings(
        {**GOOD, "TELEGRAM_API_BASE_URL": url}, env_file=None, available_languages=("ar", "en")
    )
    assert settings.api_base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.telegram.org/bot",
        "http://10.0.0.5:8081/bot",
        "http://localhost.example.org/bot",
        "http://127.0.0.1.nip.io/bot",
        "http://[::2]/bot",
        "https:///bot",
    ],
)
def test_plain_http_api_base_url_only_on_this_machine(url: str) -> None:
    [problem] = problems({**GOOD, "TELEGRAM_API_BASE_URL": url})
    assert problem.startswith("TELEGRAM_API_BASE_URL") and "https://" in problem
