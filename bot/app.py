"""The application factory: the one place that assembles PTB, storage, services and handlers."""

from __future__ import annotations

import gc
import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest
from tornado.httpserver import HTTPServer

from bot import expiry, membership, privacy, receipts, reminders
from bot.config import Settings
from bot.context import SERVICES_KEY, SanadContext
from bot.i18n import I18n
from bot.limits import FloodGate, TelegramLimiter
from bot.processor import PerPersonProcessor
from bot.protection import ProtectGroup
from bot.services import Services, open_services
from handlers import register
from handlers.commands import MEMBERS, PUBLIC, Audience, menu
from handlers.sessions import ROUTES

log = logging.getLogger(__name__)

SanadApp = Application[Any, SanadContext, Any, Any, Any, Any]

OUTBOX_INTERVAL = 60.0

# Telegram's updates are a few kilobytes; a body over this is refused before it is read.
WEBHOOK_MAX_BODY = 1024 * 1024


class RedactSecrets(logging.Filter):
    """Replace secrets (the bot token) in every record a handler formats."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the secrets; never drops a record."""
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def quiet_libraries(level: str) -> None:
    """Cap the libraries whose debug output carries payloads or URLs.

    httpx logs every request URL at INFO, and the URL contains the bot token;
    python-telegram-bot and aiosqlite log whole updates and requests at DEBUG, and those hold
    what families type. Sanad's own DEBUG logs carry events and record numbers only, never a
    Telegram id.
    """
    numeric = logging.getLevelName(level)
    # APScheduler also logs two lines for every job it adds and one for every run: with a
    # reminder per approved case that was thousands of lines at each start.
    for name in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("telegram", "aiosqlite"):
        logging.getLogger(name).setLevel(max(logging.INFO, numeric))


def configure_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Log events only: never the token, a Telegram id or what people typed."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        handler.addFilter(RedactSecrets(secrets))
    quiet_libraries(level)


def limit_webhook_bodies(max_bytes: int = WEBHOOK_MAX_BODY) -> None:
    """Make the webhook server refuse bodies over ``max_bytes`` before reading them.

    PTB's webhook server is a tornado HTTPServer, which by default buffers up to 100 MB
    before the handler checks the secret header. HTTPServer is a tornado Configurable: the
    limit set here applies to the server PTB builds. A larger Content-Length is answered 400
    at once; a chunked body is cut off once it grows past the limit.
    """
    HTTPServer.configure(None, max_body_size=max_bytes)


LONG_RUNNING = "long_running"


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    rate_limit: bool = True,
    long_running: bool = False,
) -> SanadApp:
    """Assemble the bot. ``request`` injects a fake Telegram for tests and benchmarks.

    ``rate_limit=False`` (tests) keeps the limiter's retries and error handling but not its
    pacing, so that tests run at full speed. ``long_running`` (``python -m bot run``): once
    started, what start-up built is settled (:func:`settle_after_start`).
    """
    i18n = I18n(settings.default_language, locale=settings.locale, region=settings.phone_region)
    gate = FloodGate(settings.flood_burst, settings.flood_per_minute)
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_url.replace("/bot", "/file/bot", 1))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .context_types(ContextTypes(context=SanadContext))
        .concurrent_updates(PerPersonProcessor(256, gate))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    limiter = TelegramLimiter() if rate_limit else TelegramLimiter(0, 0, 0)
    protected = ProtectGroup(limiter, settings.committee_chat_id)
    builder = builder.rate_limiter(protected)  # type: ignore[arg-type]
    app: SanadApp = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["flood"] = gate
    app.bot_data["i18n"] = i18n
    app.bot_data[LONG_RUNNING] = long_running
    register(app)
    return app


def settle_after_start() -> None:
    """What start-up built (the modules, the catalogs, the form, the application and its
    services) lives as long as the process: once collected, it is moved out of the garbage
    collector's generations (``gc.freeze``), and a full collection no longer walks it. On the
    2-core server that walk took about 80 ms, at any moment, in the middle of somebody's
    step: the p99 of every command."""
    gc.collect()
    gc.freeze()


async def _post_init(app: SanadApp) -> None:
    """Open the services, forget what waits for former members, publish the command menus,
    send what the outbox holds."""
    services = await open_services(app.bot_data["settings"], app.bot, app.bot_data["i18n"])
    app.bot_data[SERVICES_KEY] = services
    await services.db.optimize()
    # Before anything is sent: a member removed from the list gets nothing more.
    await membership.forget_former_members(
        services.db,
        services.ids,
        services.settings,
        services.tasks,
        member_sessions={kind for kind, route in ROUTES.items() if route.members_only},
    )
    await publish_commands(app, services)
    # What the outbox holds is sent in the background: after a crash in the middle of a
    # broadcast, waiting for it here would keep everybody's replies waiting for minutes.
    services.delivery.kick()
    # Cases approved before follow-ups existed: their follow-up is scheduled once.
    await services.followup.schedule_missing()
    await reminders.start(app, services)
    receipts.start(app)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            _flush_outbox, interval=OUTBOX_INTERVAL, first=OUTBOX_INTERVAL, name="outbox"
        )
        # Retention: idempotent, so running it after every start and then daily is enough
        # for it to survive restarts.
        app.job_queue.run_repeating(_retention, interval=86_400, first=300, name="retention")
        # Details past DETAILS_TTL, sent before a restart too: their rows are in the database.
        app.job_queue.run_repeating(
            _expire_details, interval=expiry.INTERVAL, first=1, name=expiry.JOB
        )
    if app.bot_data.get(LONG_RUNNING):
        settle_after_start()


async def _flush_outbox(context: SanadContext) -> None:
    """Periodic retry of the outbox."""
    await context.services.delivery.flush()


async def _expire_details(context: SanadContext) -> None:
    """Every minute: Details messages past DETAILS_TTL are deleted from members' chats."""
    services = context.services
    await expiry.sweep(services.db, services.cipher, context.bot)


async def _retention(context: SanadContext) -> None:
    """Daily: everything kept longer than its retention setting goes (see privacy.purge),
    then the planner's statistics are refreshed."""
    services = context.services
    settings = services.settings
    counts = await privacy.purge(
        services.db, services.ids, settings.retention, settings.committee_chat_id
    )
    if any(counts.values()):
        log.info("Retention: %s", ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    if counts["drafts"] or counts["cases"]:
        services.intake.forget_cached()  # no purged draft comes back from memory
    if counts["cases"]:
        services.delivery.kick()
    await services.db.optimize()  # the tables changed: the planner's statistics follow


async def _post_shutdown(app: SanadApp) -> None:
    """Finish sending, then close the database."""
    services: Services | None = app.bot_data.get(SERVICES_KEY)
    if services is not None:
        await services.delivery.wait_idle()
        await services.db.close()


async def publish_commands(app: SanadApp, services: Services) -> None:
    """Register the command menus: one per language, and the committee's for its members."""
    i18n = services.i18n
    settings = services.settings

    def translated(audiences: tuple[Audience, ...], lang: str) -> list[BotCommand]:
        t = i18n.get(lang)
        return [BotCommand(name, t.raw(text)) for name, text in menu(*audiences)]

    calls: list[tuple[list[BotCommand], Any, str | None]] = [
        (translated(PUBLIC, i18n.default), BotCommandScopeDefault(), None)
    ]
    calls += [
        (translated(PUBLIC, lang), BotCommandScopeDefault(), lang) for lang in i18n.languages
    ]
    for member in sorted(settings.committee_member_ids):
        calls.append(
            (translated(MEMBERS, settings.committee_language), BotCommandScopeChat(member), None)
        )
        calls += [
            (translated(MEMBERS, lang), BotCommandScopeChat(member), lang)
            for lang in i18n.languages
        ]
    if settings.committee_chat_id is not None:
        calls.append(
            (
                translated((Audience.GROUP,), settings.committee_language),
                BotCommandScopeChat(settings.committee_chat_id),
                None,
            )
        )
    for commands, scope, lang in calls:
        try:
            await app.bot.set_my_commands(commands, scope=scope, language_code=lang)
        except TelegramError as exc:
            log.warning("Could not set a command menu (%s): %s", scope.type, type(exc).__name__)
