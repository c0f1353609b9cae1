"""Sanad (سند): a bilingual Telegram bot for community social-solidarity committees."""

__version__ = "0.1.0"

import os

# python-telegram-bot 22 returns durations (retry_after, voice duration…) as timedelta when
# this is set, and warns about the old integer form otherwise. Sanad uses the timedelta form.
os.environ.setdefault("PTB_TIMEDELTA", "1")
