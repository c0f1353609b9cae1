"""Command line: ``python -m bot run | check | migrate | genkey`` (also installed as ``sanad``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import Settings, load_settings
from bot.errors import ConfigError, SanadError
from bot.i18n import available_languages

EXIT_CONFIG = 2


async def _migrate(settings: Settings) -> int:
    from bot.storage import Database

    db = Database(settings.database_path)
    await db.open()
    version = await db.schema_version()
    await db.close()
    return version


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="sanad", description="Sanad Telegram bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the bot (long polling)")
    sub.add_parser("check", help="validate the configuration")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("genkey", help="print a new encryption key for ENCRYPTION_KEY")
    args = parser.parse_args(argv)

    if args.command == "genkey":
        from bot.crypto import generate_key

        print(generate_key())
        return 0
    try:
        settings = load_settings(available_languages=available_languages())
        from bot.app import build_application, configure_logging

        configure_logging(settings.log_level, (settings.bot_token,))
        if args.command == "check":
            print("Configuration is valid.")
            return 0
        if args.command == "migrate":
            version = asyncio.run(_migrate(settings))
            print(f"Database is at migration {version}.")
            return 0
        app = build_application(settings)
        logging.getLogger(__name__).info("Starting Sanad (long polling)")
        app.run_polling(
            allowed_updates=["message", "edited_message", "callback_query", "my_chat_member"]
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
