"""Settings, loaded once from the environment and an optional ``.env`` file.

Every problem is reported on its own line (``ConfigError.problems``); nothing here logs or
prints a value, so the token and the key never leave this module by accident.
"""

from __future__ import annotations

import ipaddress
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers
from babel import Locale, UnknownLocaleError, localedata
from dotenv import dotenv_values

from bot.crypto import valid_key
from bot.errors import ConfigError
from bot.text import whole_number

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# DejaVu Sans (Debian's fonts-dejavu-core) has Latin, digits and Arabic in one file.
DEFAULT_CHART_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

BOTFATHER_HELP = (
    "BOT_TOKEN is not set. To get one: open Telegram, talk to @BotFather, send /newbot, "
    "choose a name and a username ending in 'bot', and copy the token it gives you into "
    "a file named .env beside README.md as the line BOT_TOKEN=<token> "
    "(see README.md, 'Create the bot')."
)


@dataclass(frozen=True)
class Retention:
    """How many days each kind of data is kept once nothing happens to it any more."""

    cases: int = 365  # a case without activity (any status) keeps its personal data
    drafts: int = 30  # an abandoned draft or pending session
    outbox: int = 7  # a message sent, failed or skipped
    tasks: int = 3  # an ended task's texts and its link to a case


# The variable of each retention period, in the order of :class:`Retention`'s fields.
RETENTION_SETTINGS = (
    ("RETENTION_DAYS", Retention.cases),
    ("DRAFT_DAYS", Retention.drafts),
    ("OUTBOX_DAYS", Retention.outbox),
    ("TASK_DAYS", Retention.tasks),
)


@dataclass(frozen=True)
class Contact:
    """What families are told about when to expect news and how to reach the committee."""

    review_days: int = 7  # the committee usually answers a new application within this
    phone: str | None = None  # in international format, e.g. +962 6 555 0100
    hours: str | None = None  # free text, shown as given: "Sunday to Thursday, 9:00 to 15:00"


# CURRENCIES when it is not set.
DEFAULT_CURRENCIES = "JOD,USD"


@dataclass(frozen=True)
class FeedbackSettings:
    """Who reads feedback and concerns, and when the person may expect an answer."""

    member_ids: frozenset[int] | None = None  # None: the committee members
    answer_days: int = 7


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
    retention: Retention = Retention()
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1"
    port: int = 8443
    flood_burst: int = 20
    flood_per_minute: int = 120
    details_ttl: timedelta = timedelta(hours=1)
    contact: Contact = Contact()
    locale: str | None = None
    # The currencies of financial support; the first is preselected.
    currencies: tuple[str, ...] = tuple(DEFAULT_CURRENCIES.split(","))
    receipt_days: int = 3  # a family that has not confirmed receipt by then: its recorder is told
    chart_font: Path = DEFAULT_CHART_FONT
    feedback: FeedbackSettings = FeedbackSettings()
    followup_days: int = 7

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The organisation's time zone."""
        return zoneinfo.ZoneInfo(self.timezone)

    def is_member(self, user_id: int | None) -> bool:
        """Whether ``user_id`` is an authorised committee member."""
        return user_id is not None and user_id in self.committee_member_ids

    @property
    def trustees(self) -> frozenset[int]:
        """Who reads /feedback: FEEDBACK_MEMBER_IDS, by default the committee members."""
        chosen = self.feedback.member_ids
        return self.committee_member_ids if chosen is None else chosen

    def is_trustee(self, user_id: int | None) -> bool:
        """Whether ``user_id`` is one of the trustees who read and answer feedback."""
        return user_id is not None and user_id in self.trustees


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


class _Reader:
    """The merged environment and the problems found so far, shared by the section readers.

    Each section reader takes what it needs from :meth:`get` and adds one line per problem with
    :meth:`problem`, so that :func:`load_settings` can report every problem at once.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(self, name: str, default: str = "") -> str:
        """The value of ``name`` without surrounding spaces, or ``default`` when empty."""
        return self.env.get(name, "").strip() or default

    def problem(self, line: str) -> None:
        """Record one problem (a sentence that names the setting, never its value)."""
        self.problems.append(line)


def _read_token(r: _Reader) -> str:
    """Telegram: the bot's token."""
    token = r.get("BOT_TOKEN")
    if not token:
        r.problem(BOTFATHER_HELP)
    elif ":" not in token or not token.split(":", 1)[0].isdigit():
        r.problem(
            "BOT_TOKEN does not look like a bot token (expected digits, a colon, then letters)."
        )
    return token


def _read_committee(r: _Reader) -> tuple[int | None, frozenset[int]]:
    """Committee: the group's chat id and the members' user ids."""
    chat_id: int | None = None
    raw = r.get("COMMITTEE_CHAT_ID")
    if raw:
        try:
            chat_id = int(raw)
        except ValueError:
            r.problem("COMMITTEE_CHAT_ID must be a number such as -1001234567890 (see README.md).")
    members: set[int] = set()
    for part in r.get("COMMITTEE_MEMBER_IDS").split(","):
        part = part.strip()
        if not part:
            continue
        member = whole_number(part)
        if member is None:
            r.problem(
                "COMMITTEE_MEMBER_IDS must be Telegram user ids separated by commas "
                "(found an entry that is not a positive number)."
            )
            break
        members.add(member)
    return chat_id, frozenset(members)


def _read_languages(r: _Reader, available: tuple[str, ...]) -> tuple[str, str]:
    """Languages: ``(default, committee)``; the committee's defaults to the default one."""
    choices = ", ".join(available) or "ar, en"
    default_language = r.get("DEFAULT_LANGUAGE", "ar")
    if not _valid_language(default_language, available):
        r.problem(f"DEFAULT_LANGUAGE must be one of: {choices}.")
    committee_language = r.get("COMMITTEE_LANGUAGE", default_language)
    if not _valid_language(committee_language, available):
        r.problem(f"COMMITTEE_LANGUAGE must be one of: {choices}.")
    return default_language, committee_language


def _read_region(r: _Reader) -> tuple[str, str | None]:
    """Where the organisation is: ``(time zone, phone region)``."""
    timezone = r.get("TIMEZONE", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        r.problem("TIMEZONE must be an IANA time zone name such as Asia/Amman or UTC.")
    phone_region = r.get("PHONE_REGION").upper() or None
    if phone_region and phone_region not in phonenumbers.SUPPORTED_REGIONS:
        r.problem("PHONE_REGION must be a two-letter country code such as US, JO or MA.")
    return timezone, phone_region


def _read_contact(r: _Reader, phone_region: str | None) -> Contact:
    """What families are told: how many days a review takes, the committee's phone and hours.

    The phone is read like the families' phones (local numbers in PHONE_REGION) and kept in
    international format, so that it dials from any phone.
    """
    review_days = whole_number(r.get("REVIEW_DAYS", "7"), max_digits=4) or 0
    if review_days < 1:
        r.problem("REVIEW_DAYS must be a whole number of days, at least 1.")
    phone = r.get("CONTACT_PHONE") or None
    if phone is not None:
        try:
            number = phonenumbers.parse(phone, phone_region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            r.problem(
                "CONTACT_PHONE must be a valid phone number, international (+…) or local to "
                "PHONE_REGION."
            )
            phone = None
        else:
            phone = phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
    return Contact(review_days, phone, r.get("CONTACT_HOURS") or None)


def _read_locale(r: _Reader) -> str | None:
    """``LOCALE``: how dates are written (``ar_JO`` says «كانون الأول», ``ar_EG`` «ديسمبر»).

    Without it the formatting locale comes from ``PHONE_REGION`` (see
    :func:`bot.i18n.formatting_locale`); the catalogs stay the languages' own.
    """
    value = r.get("LOCALE").replace("-", "_") or None
    if value is None:
        return None
    if not localedata.exists(value):
        r.problem("LOCALE must be a locale Babel knows, such as ar_JO or en_GB.")
        return None
    return value


def _on_this_machine(host: str | None) -> bool:
    """Whether ``host`` is this machine's loopback: localhost, 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _read_api_base_url(r: _Reader) -> str:
    """Telegram: the Bot API server (a local one, or the fake one in tests).

    Every request carries the bot token and what people typed: plain http:// is accepted
    only for a server on this machine, where nothing crosses a network.
    """
    api_base_url = r.get("TELEGRAM_API_BASE_URL", DEFAULT_API_BASE_URL)
    try:
        parts = urlsplit(api_base_url)
        host = parts.hostname
    except ValueError:
        parts, host = urlsplit(""), None
    secure = parts.scheme == "https" and bool(host)
    local = parts.scheme == "http" and _on_this_machine(host)
    if not (secure or local):
        r.problem(
            "TELEGRAM_API_BASE_URL must be an https:// address (plain http:// only for a "
            "Bot API server on this machine: localhost, 127.0.0.1 or ::1)."
        )
    return api_base_url


def _read_log_level(r: _Reader) -> str:
    """Logging: the level name."""
    log_level = r.get("LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        r.problem(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
    return log_level


def default_key_file(r: _Reader) -> Path:
    """Where the key file is when ENCRYPTION_KEY_FILE does not say: never beside the data.

    systemd's ``LoadCredential=sanad.key:...`` puts it in ``$CREDENTIALS_DIRECTORY``;
    otherwise it is the user's configuration folder (``$XDG_CONFIG_HOME``, ``~/.config``).
    """
    credentials = r.get("CREDENTIALS_DIRECTORY")
    if credentials:
        return Path(credentials) / "sanad.key"
    config_home = Path(r.get("XDG_CONFIG_HOME") or "~/.config")
    return config_home.expanduser() / "sanad" / "secret.key"


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies within it (after resolving links)."""
    return path.resolve().is_relative_to(folder.resolve())


def _read_storage(r: _Reader) -> tuple[Path, Path, tuple[str, ...]]:
    """Storage and key: ``(data directory, key file, keys given in the environment)``.

    A key file inside DATA_DIR is refused unless ALLOW_KEY_IN_DATA_DIR=1: a copy of the data
    folder (a backup, a volume snapshot) would then carry the key that opens it.
    """
    data_dir = Path(r.get("DATA_DIR", "./data"))
    key_file = Path(r.get("ENCRYPTION_KEY_FILE") or default_key_file(r))
    keys = tuple(k.strip() for k in r.get("ENCRYPTION_KEY").split(",") if k.strip())
    if not all(valid_key(k) for k in keys):
        r.problem(
            "ENCRYPTION_KEY must be one or more Fernet keys separated by commas "
            "(generate one with: python -m bot genkey)."
        )
    allowed = r.get("ALLOW_KEY_IN_DATA_DIR").lower() in ("1", "true", "yes")
    if not keys and not allowed and _inside(key_file, data_dir):
        r.problem(
            "ENCRYPTION_KEY_FILE lies inside DATA_DIR, so a copy of the data would carry its "
            "key: keep the key elsewhere (see README.md, 'The key'), or set "
            "ALLOW_KEY_IN_DATA_DIR=1 to accept the risk."
        )
    return data_dir, key_file, keys


def _read_delivery(r: _Reader) -> tuple[tuple[timedelta, ...], Retention]:
    """Reminders and retention: ``(reminder offsets, how long data is kept)``."""
    offsets = parse_offsets(r.get("REMINDER_OFFSETS", "24h,1h"))
    if offsets is None:
        r.problem(
            "REMINDER_OFFSETS must be durations separated by commas, such as 24h,1h "
            "(units s, m, h, d)."
        )
    days = []
    for name, default in RETENTION_SETTINGS:
        number = whole_number(r.get(name, str(default)), max_digits=6) or 0
        if number < 1:
            r.problem(f"{name} must be a whole number of days, at least 1.")
        days.append(number)
    return offsets or (), Retention(*days)


# Telegram lets a bot delete its own messages for 48 hours: a Details message must be
# deleted well before that, or it stays in the member's chat for good.
DETAILS_TTL_MAX = timedelta(hours=47)


def _read_details_ttl(r: _Reader) -> timedelta:
    """How long a Details message stays in a member's chat before the bot deletes it."""
    ttl = parse_offsets(r.get("DETAILS_TTL", "1h"))
    if ttl is None or len(ttl) != 1 or not timedelta(0) < ttl[0] <= DETAILS_TTL_MAX:
        r.problem(
            "DETAILS_TTL must be one duration such as 1h or 30m (units s, m, h, d), "
            "at most 47h: Telegram lets a bot delete its messages for 48 hours only."
        )
        return timedelta(hours=1)
    return ttl[0]


def _read_webhook(r: _Reader) -> tuple[str | None, str | None, str, int]:
    """Webhook: ``(public url, secret, listen address, port)``; no url means long polling."""
    url = r.get("WEBHOOK_URL") or None
    secret = r.get("WEBHOOK_SECRET") or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            r.problem("WEBHOOK_URL must be a public https:// address, or empty for polling.")
        if secret is None:
            r.problem(
                "WEBHOOK_SECRET must be set when WEBHOOK_URL is: Telegram sends it with every "
                "update so that nobody else can post updates to the bot."
            )
    if secret is not None and not SECRET_RE.fullmatch(secret):
        r.problem("WEBHOOK_SECRET must be 1 to 256 characters from A-Z, a-z, 0-9, _ and -.")
    listen = r.get("WEBHOOK_LISTEN", "127.0.0.1")
    port = whole_number(r.get("PORT", "8443"), max_digits=5) or 0
    if not 0 < port < 65536:
        r.problem("PORT must be a TCP port number between 1 and 65535.")
    return url, secret, listen, port


def _read_flood(r: _Reader) -> tuple[int, int]:
    """Flood limit: ``(burst, per minute)``; 0 turns a limit off.

    The defaults catch only what no human does: a person tapping through a form once a second
    (or in quick bursts of a few taps) never reaches them; several updates a second, sustained,
    do (see ``bot.limits.FloodGate``).
    """
    limits = []
    for name, default in (("FLOOD_BURST", "20"), ("FLOOD_PER_MINUTE", "120")):
        number = whole_number(r.get(name, default), max_digits=6)
        if number is None:
            r.problem(f"{name} must be a whole number (0 turns the flood limit off).")
        limits.append(number or 0)
    burst, per_minute = limits
    return burst, per_minute


def _read_support(r: _Reader) -> tuple[tuple[str, ...], int]:
    """Support given: ``(currencies, days the family has to confirm receipt)``."""
    currencies = tuple(
        c.strip().upper() for c in r.get("CURRENCIES", DEFAULT_CURRENCIES).split(",")
    )
    if not currencies or not all(c.isascii() and c.isalpha() and len(c) == 3 for c in currencies):
        r.problem("CURRENCIES must be three-letter currency codes separated by commas (JOD,USD).")
    days = whole_number(r.get("RECEIPT_DAYS", "3"), max_digits=4) or 0
    if days < 1:
        r.problem("RECEIPT_DAYS must be a whole number of days, at least 1.")
    return tuple(dict.fromkeys(currencies)), days


def _read_chart_font(r: _Reader) -> Path:
    """The font of the /stats charts: a TrueType or OpenType file with Arabic glyphs. A
    missing file is no error (``check`` says so): the charts then use language-neutral
    labels."""
    return Path(r.get("CHART_FONT", str(DEFAULT_CHART_FONT))).expanduser()


def _environment(environ: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
    """``environ`` (default ``os.environ``) over the values of ``env_file``, if it exists."""
    env: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)
    return env


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    available_languages: tuple[str, ...] = (),
) -> Settings:
    """Read and validate the configuration; raise :class:`ConfigError` listing every problem.

    ``environ`` defaults to ``os.environ``; values in ``env_file`` fill only names that the
    environment does not set. ``available_languages`` restricts the language settings to the
    catalogs that exist. The sections are read in a fixed order, which is the order of the
    problems.
    """
    r = _Reader(_environment(environ, env_file))
    token = _read_token(r)
    committee_chat_id, members = _read_committee(r)
    default_language, committee_language = _read_languages(r, available_languages)
    timezone, phone_region = _read_region(r)
    contact = _read_contact(r, phone_region)
    locale = _read_locale(r)
    api_base_url = _read_api_base_url(r)
    log_level = _read_log_level(r)
    data_dir, key_file, keys = _read_storage(r)
    offsets, retention = _read_delivery(r)
    webhook_url, webhook_secret, webhook_listen, port = _read_webhook(r)
    flood_burst, flood_per_minute = _read_flood(r)
    details_ttl = _read_details_ttl(r)
    currencies, receipt_days = _read_support(r)
    chart_font = _read_chart_font(r)
    feedback = _read_feedback(r)
    followup_days = _read_followup_days(r)
    if r.problems:
        raise ConfigError(r.problems)
    return Settings(
        bot_token=token,
        committee_chat_id=committee_chat_id,
        committee_member_ids=members,
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
        reminder_offsets=offsets,
        retention=retention,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=webhook_listen,
        port=port,
        flood_burst=flood_burst,
        flood_per_minute=flood_per_minute,
        details_ttl=details_ttl,
        contact=contact,
        locale=locale,
        currencies=currencies,
        receipt_days=receipt_days,
        chart_font=chart_font,
        feedback=feedback,
        followup_days=followup_days,
    )


def _read_feedback(r: _Reader) -> FeedbackSettings:
    """Feedback: the trustees' user ids (empty: the committee members) and the days within
    which the person is told to expect an answer."""
    trustees: set[int] = set()
    raw = r.get("FEEDBACK_MEMBER_IDS")
    for part in raw.split(","):
        trustee = whole_number(part.strip()) if part.strip() else None
        if part.strip() and trustee is None:
            r.problem(
                "FEEDBACK_MEMBER_IDS must be Telegram user ids separated by commas "
                "(found an entry that is not a positive number)."
            )
            break
        if trustee is not None:
            trustees.add(trustee)
    days = whole_number(r.get("FEEDBACK_ANSWER_DAYS", "7"), max_digits=4) or 0
    if days < 1:
        r.problem("FEEDBACK_ANSWER_DAYS must be a whole number of days, at least 1.")
    return FeedbackSettings(frozenset(trustees) if trustees else None, days)


def _read_followup_days(r: _Reader) -> int:
    """``FOLLOWUP_DAYS``: how many days before an approved period ends the family is asked
    how things are now (a shorter period is asked at its half)."""
    days = whole_number(r.get("FOLLOWUP_DAYS", "7"), max_digits=4) or 0
    if days < 1:
        r.problem("FOLLOWUP_DAYS must be a whole number of days, at least 1.")
    return days
