"""Storage: one SQLite database through aiosqlite, numbered migrations, small repositories."""

from bot.storage.db import Database, utcnow

__all__ = ["Database", "utcnow"]
