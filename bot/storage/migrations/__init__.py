"""Numbered migrations: ``NNN_name.sql`` scripts, and ``mNNN_name.py`` steps for what SQL
cannot compute (see :func:`bot.storage.db.migrations`)."""
