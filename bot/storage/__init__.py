"""Storage: one SQLite database through aiosqlite, numbered migrations, and one repository
module per table or aggregate. Every SQL statement of the bot lives in this package."""

from bot.storage.db import Connection, Database, utcnow

__all__ = ["Connection", "Database", "utcnow"]
