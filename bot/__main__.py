"""Command line (also installed as ``sanad``)::

python -m bot run | check | migrate | genkey | backup PATH | purge [--dry-run]
              | rotate-key [--finish]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot import keyring
from bot.config import Settings, load_settings
from bot.crypto import Cipher
from bot.errors import ConfigError, SanadError
from bot.i18n import available_languages
from bot.keyring import KeyState, explain, refuse_unusable, resolve_keys
from bot.storage import Database
from bot.storage.db import backup

EXIT_CONFIG = 2
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


async def _open(settings: Settings) -> Database:
    """The database, migrated under the configured key (refused without a matching one)."""
    db = Database(settings.database_path)
    await db.open(Cipher(resolve_keys(settings)))
    return db


async def _migrate(settings: Settings) -> int:
    db = await _open(settings)
    version = await db.schema_version()
    await db.close()
    return version


async def _check(settings: Settings) -> int:
    """Report the database, the key, and the bot's standing with Telegram; 1 on a problem."""
    from telegram import Bot
    from telegram.error import TelegramError

    from bot.charts import describe
    from bot.storage.db import file_schema_version, migrations

    latest = migrations()[-1][0]
    if settings.database_path.exists():
        level = file_schema_version(settings.database_path)
        print(
            f"Database: {settings.database_path}, migration {level} of {latest}"
            f"{'' if level == latest else ' (the rest is applied at start-up)'}."
        )
    else:
        print(f"Database: not created yet; it will be at {settings.database_path}.")
    key_state = keyring.state(settings)
    if key_state in (KeyState.MISSING, KeyState.WRONG):
        print(f"Encryption key: {explain(settings, key_state)}")
        return EXIT_CONFIG
    if settings.encryption_keys:
        print(
            f"Encryption key: from ENCRYPTION_KEY ({len(settings.encryption_keys)} key(s)), "
            "matches the database."
        )
    elif key_state is KeyState.MATCHES:
        print(f"Encryption key: key file {settings.key_file}, matches the database.")
    else:
        print(f"Encryption key: none yet; a key file will be generated at {settings.key_file}.")
    print(describe(settings.chart_font))
    problems = 0
    bot = Bot(settings.bot_token, base_url=settings.api_base_url)
    try:
        async with bot:
            print(f"Telegram: connected as @{bot.username}.")
            hook = await bot.get_webhook_info()
            if settings.webhook_url is None:
                print(
                    "Updates: long polling"
                    + (" (a webhook is set now; it is removed at start)." if hook.url else ".")
                )
            else:
                state = "registered" if hook.url == settings.webhook_url else "set at start"
                print(
                    f"Updates: webhook {state}, {hook.pending_update_count} waiting"
                    + (
                        f"; Telegram's last error: {hook.last_error_message}"
                        if hook.last_error_message
                        else ""
                    )
                    + "."
                )
            if settings.committee_chat_id is None:
                print("Committee group: COMMITTEE_CHAT_ID is not set; no card will be sent.")
            else:
                chat = await bot.get_chat(settings.committee_chat_id)
                member = await bot.get_chat_member(settings.committee_chat_id, bot.id)
                can_send = member.status in ("member", "administrator", "creator") or bool(
                    getattr(member, "can_send_messages", False)
                )
                print(
                    f"Committee group: reachable ({chat.type}); the bot is {member.status}"
                    f"{'' if can_send else ' and cannot send messages there'}."
                )
                problems += 0 if can_send else 1
    except TelegramError as exc:
        detail = str(exc).replace(settings.bot_token, "[token]")
        print(f"Telegram: {type(exc).__name__}: {detail}")
        problems += 1
    return 1 if problems else 0


async def _rotate(settings: Settings, *, finish: bool) -> int:
    from bot.rotation import fingerprint, key_in_use, new_key_list, reencrypt, write_keys

    from_env = bool(settings.encryption_keys)
    keys = resolve_keys(settings)
    if not finish:
        # Step 1: a new key first. Nothing is re-encrypted yet: the running bot only knows
        # the old keys, and must be restarted with the new list before step 2.
        keys = new_key_list(keys)
        if from_env or not _writable(settings.key_file):
            print(
                "Set ENCRYPTION_KEY (or the key file's source, one key a line) to this list, "
                "new key first, and restart the bot:"
            )
            print(",".join(keys))
        else:
            write_keys(settings.key_file, keys)
            print(f"A new key is first in {settings.key_file}; the old ones still work.")
        print("Restart the bot, then run rotate-key --finish while it runs.")
        return 0
    # Step 2, while the restarted bot runs: everything under the newest key, old keys dropped.
    in_use = key_in_use(settings.data_dir)
    if in_use is not None and in_use != fingerprint(keys[0]):
        print(
            "The bot last started with another key first: restart it with the new key list, "
            "then run rotate-key --finish again. Nothing was changed.",
            file=sys.stderr,
        )
        return 1
    db = Database(settings.database_path)
    await db.open(Cipher(keys))
    try:
        count = await reencrypt(db, Cipher(keys))
    finally:
        await db.close()
    print(f"{count} values re-encrypted under the newest key.")
    if len(keys) > 1:
        if from_env or not _writable(settings.key_file):
            print("Keep only the first key (ENCRYPTION_KEY or the key file's source).")
        else:
            write_keys(settings.key_file, keys[:1])
            print("Old keys dropped from the key file.")
    print("Keep the old key as long as backups made before the rotation exist.")
    return 0


def _writable(path: Path) -> bool:
    """Whether the key file can be rewritten here (a systemd credential is a read-only copy)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


async def _purge(settings: Settings, *, dry_run: bool) -> int:
    from bot import privacy
    from bot.storage import meta

    keep = settings.retention
    cipher = Cipher(resolve_keys(settings))
    db = Database(settings.database_path)
    await db.open(cipher)
    try:
        ids = await meta.load_ids(db, cipher)
        for _, ref in await privacy.expired(db, keep.cases):
            print(f"{'would anonymise' if dry_run else 'anonymising'} case {ref}")
        counts = await privacy.purge(db, ids, keep, settings.committee_chat_id, dry_run=dry_run)
    finally:
        await db.close()
    described = {
        "cases": f"cases untouched for {keep.cases} days lose their personal data",
        "drafts": f"drafts left for {keep.drafts} days",
        "sessions": f"pending questions and wizards left for {keep.drafts} days",
        "outbox": f"messages sent, failed or skipped over {keep.outbox} days ago",
        "tasks": f"tasks ended over {keep.tasks} days ago lose their texts and case",
        "people": f"people with nothing stored and nothing done for {keep.cases} days",
        "feedback": f"feedback nobody touched for {keep.cases} days",
        "activities": f"activities ended over {keep.tasks} days ago lose their texts",
        "activity_answers": f"answers to activities ended over {keep.tasks} days ago",
    }
    print("Retention, dry run: nothing was changed." if dry_run else "Retention: removed.")
    for kind in privacy.KINDS:
        print(f"  {kind:<9} {counts[kind]:>6}  {described[kind]}")
    return 0


def backup_database(source: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup API: consistent while the bot writes."""
    if not source.exists():
        raise SanadError(f"There is no database at {source}.")
    return backup(source, target)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="sanad", description="Sanad Telegram bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the bot (long polling, or a webhook with WEBHOOK_URL)")
    sub.add_parser("check", help="validate the configuration")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("genkey", help="print a new encryption key for ENCRYPTION_KEY")
    rotate = sub.add_parser("rotate-key", help="put a new encryption key first")
    rotate.add_argument(
        "--finish",
        action="store_true",
        help="after a restart with the new key list, while the bot runs: re-encrypt "
        "everything under the new key and drop the old ones",
    )
    purge = sub.add_parser("purge", help="remove what retention keeps no longer, now")
    purge.add_argument("--dry-run", action="store_true", help="only count what would go")
    backup = sub.add_parser("backup", help="a consistent copy of the database, while it runs")
    backup.add_argument("path", type=Path, help="the file to write (still encrypted)")
    args = parser.parse_args(argv)

    if args.command == "genkey":
        from bot.crypto import generate_key

        print(generate_key())
        return 0
    try:
        settings = load_settings(available_languages=available_languages())
        from bot.app import build_application, configure_logging, limit_webhook_bodies

        configure_logging(settings.log_level, (settings.bot_token, settings.webhook_secret or ""))
        if args.command == "check":
            print("Configuration is valid.")
            return asyncio.run(_check(settings))
        if args.command == "rotate-key":
            return asyncio.run(_rotate(settings, finish=args.finish))
        if args.command == "purge":
            return asyncio.run(_purge(settings, dry_run=args.dry_run))
        if args.command == "backup":
            pages = backup_database(settings.database_path, args.path)
            print(
                f"Backed up {pages} pages to {args.path} (personal data stays encrypted; "
                "keep the key apart from it)."
            )
            return 0
        if args.command == "migrate":
            version = asyncio.run(_migrate(settings))
            print(f"Database is at migration {version}.")
            return 0
        refuse_unusable(settings)  # before Telegram is contacted: one line, exit status 2
        app = build_application(settings, long_running=True)
        if settings.webhook_url is None:
            logging.getLogger(__name__).info("Starting Sanad (long polling)")
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
            return 0
        # Webhook: PTB's server (tornado) answers 403 to any request whose
        # X-Telegram-Bot-Api-Secret-Token header is missing or wrong, before it is parsed;
        # a body over 1 MB is refused before it is even read.
        limit_webhook_bodies()
        logging.getLogger(__name__).info(
            "Starting Sanad (webhook on %s:%d)", settings.webhook_listen, settings.port
        )
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.port,
            # PTB routes on a regular expression built from the path: '+' or '(' in it
            # would never match, and every update would be answered 404.
            url_path=re.escape(urlsplit(settings.webhook_url).path.lstrip("/")),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        return 0
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"Configuration error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except SanadError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
