"""Settings, loaded once from the environment and an optional ``.env`` file.

Every problem is reported on its own line (``ConfigError.problems``); nothing here logs or
prints a value, so the token and the key never leave this module by accident.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers
from babel import Locale, UnknownLocaleError

from bot.errors import ConfigError
from bot.text import whole_number

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

BOTFATHER_HELP = (
    "BOT_TOKEN is not set. To get one: open Telegram, talk to @BotFather, send /newbot, "
    "choose a name and a username ending in 'bot', and copy the token it gives you into "
    "a file named .env beside README.md as the line BOT_TOKEN=<token> "
    "(see README.md, 'Create the bot')."
)


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Build it with :func:`load_settings`."""

    bot_token: str = field(repr=False)
    committee_chat_id: int | None
    committee_member_ids: frozenset[int]
    committee_language: str
    data_dir: Path
    encryption_keys: tuple[str, ...] = field(repr=False)
    key_file: Path
    default_language: str
    timezone: str
    phone_region: str | None
    api_base_url: str
    log_level: str
    database_path: Path
    reminder_offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    retention_days: int = 365
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1"
    port: int = 8443
    flood_burst: int = 10
    flood_per_minute: int = 30

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The organisation's time zone."""
        return zoneinfo.ZoneInfo(self.timezone)

    def is_member(self, user_id: int | None) -> bool:
        """Whether ``user_id`` is an authorised committee member."""
        return user_id is not None and user_id in self.committee_member_ids


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _valid_language(code: str, available: tuple[str, ...]) -> bool:
    if available and code not in available:
        return False
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return False
    return True


UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_offsets(text: str) -> tuple[timedelta, ...] | None:
    """``24h,1h`` → durations (units s, m, h, d), largest first; None if invalid."""
    offsets = []
    for part in text.replace(" ", "").split(","):
        amount = whole_number(part[:-1], max_digits=6)
        if len(part) < 2 or part[-1] not in UNITS or amount is None:
            return None
        offsets.append(timedelta(**{UNITS[part[-1]]: amount}))
    return tuple(sorted(set(offsets), reverse=True)) if offsets else None


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    available_languages: tuple[str, ...] = (),
) -> Settings:
    """Read and validate the configuration; raise :class:`ConfigError` listing every problem.

    ``environ`` defaults to ``os.environ``; values in ``env_file`` fill only names that the
    environment does not set. ``available_languages`` restricts the language settings to the
    catalogs that exist.
    """
    env: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    problems: list[str] = []
    token = _env(env, "BOT_TOKEN")
    if not token:
        problems.append(BOTFATHER_HELP)
    elif ":" not in token or not token.split(":", 1)[0].isdigit():
        problems.append(
            "BOT_TOKEN does not look like a bot token (expected digits, a colon, then letters)."
        )

    committee_chat_id: int | None = None
    raw = _env(env, "COMMITTEE_CHAT_ID")
    if raw:
        try:
            committee_chat_id = int(raw)
        except ValueError:
            problems.append(
                "COMMITTEE_CHAT_ID must be a number such as -1001234567890 (see README.md)."
            )

    members: set[int] = set()
    for part in _env(env, "COMMITTEE_MEMBER_IDS").split(","):
        part = part.strip()
        if not part:
            continue
        member = whole_number(part)
        if member is not None:
            members.add(member)
        else:
            problems.append(
                "COMMITTEE_MEMBER_IDS must be Telegram user ids separated by commas "
                "(found an entry that is not a positive number)."
            )
            break

    default_language = _env(env, "DEFAULT_LANGUAGE") or "ar"
    if not _valid_language(default_language, available_languages):
        problems.append(
            f"DEFAULT_LANGUAGE must be one of: {', '.join(available_languages) or 'ar, en'}."
        )
    committee_language = _env(env, "COMMITTEE_LANGUAGE") or default_language
    if not _valid_language(committee_language, available_languages):
        problems.append(
            f"COMMITTEE_LANGUAGE must be one of: {', '.join(available_languages) or 'ar, en'}."
        )

    timezone = _env(env, "TIMEZONE") or "UTC"
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append("TIMEZONE must be an IANA time zone name such as Asia/Amman or UTC.")

    phone_region = _env(env, "PHONE_REGION").upper() or None
    if phone_region and phone_region not in phonenumbers.SUPPORTED_REGIONS:
        problems.append("PHONE_REGION must be a two-letter country code such as US, JO or MA.")

    api_base_url = _env(env, "TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL
    if not api_base_url.startswith(("http://", "https://")):
        problems.append("TELEGRAM_API_BASE_URL must start with http:// or https://.")

    log_level = (_env(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")

    data_dir = Path(_env(env, "DATA_DIR") or "./data")
    key_file = Path(_env(env, "ENCRYPTION_KEY_FILE") or data_dir / "secret.key")
    keys = tuple(k.strip() for k in _env(env, "ENCRYPTION_KEY").split(",") if k.strip())
    if keys:
        from bot.crypto import valid_key

        if not all(valid_key(k) for k in keys):
            problems.append(
                "ENCRYPTION_KEY must be one or more Fernet keys separated by commas "
                "(generate one with: python -m bot genkey)."
            )

    offsets = parse_offsets(_env(env, "REMINDER_OFFSETS") or "24h,1h")
    if offsets is None:
        problems.append(
            "REMINDER_OFFSETS must be durations separated by commas, such as 24h,1h "
            "(units s, m, h, d)."
        )

    retention = _env(env, "RETENTION_DAYS") or "365"
    if (whole_number(retention, max_digits=6) or 0) < 1:
        problems.append("RETENTION_DAYS must be a whole number of days, at least 1.")

    webhook_url = _env(env, "WEBHOOK_URL") or None
    webhook_secret = _env(env, "WEBHOOK_SECRET") or None
    if webhook_url is not None:
        parts = urlsplit(webhook_url)
        if parts.scheme != "https" or not parts.hostname:
            problems.append("WEBHOOK_URL must be a public https:// address, or empty for polling.")
        if webhook_secret is None:
            problems.append(
                "WEBHOOK_SECRET must be set when WEBHOOK_URL is: Telegram sends it with every "
                "update so that nobody else can post updates to the bot."
            )
    if webhook_secret is not None and not SECRET_RE.fullmatch(webhook_secret):
        problems.append("WEBHOOK_SECRET must be 1 to 256 characters from A-Z, a-z, 0-9, _ and -.")
    webhook_listen = _env(env, "WEBHOOK_LISTEN") or "127.0.0.1"
    port = _env(env, "PORT") or "8443"
    if not 0 < (whole_number(port, max_digits=5) or 0) < 65536:
        problems.append("PORT must be a TCP port number between 1 and 65535.")

    flood: dict[str, int] = {}
    for name, default in (("FLOOD_BURST", "10"), ("FLOOD_PER_MINUTE", "30")):
        value = _env(env, name) or default
        number = whole_number(value, max_digits=6)
        if number is None:
            problems.append(f"{name} must be a whole number (0 turns the flood limit off).")
        flood[name] = number or 0

    if problems:
        raise ConfigError(problems)
    return Settings(
        bot_token=token,
        committee_chat_id=committee_chat_id,
        committee_member_ids=frozenset(members),
        committee_language=committee_language,
        data_dir=data_dir,
        encryption_keys=keys,
        key_file=key_file,
        default_language=default_language,
        timezone=timezone,
        phone_region=phone_region,
        api_base_url=api_base_url,
        log_level=log_level,
        database_path=data_dir / "sanad.db",
        reminder_offsets=offsets or (),
        retention_days=int(retention),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=webhook_listen,
        port=int(port),
        flood_burst=flood["FLOOD_BURST"],
        flood_per_minute=flood["FLOOD_PER_MINUTE"],
    )
