"""Sanad (سند): a bilingual Telegram bot for community social-solidarity committees."""

__version__ = "0.1.0"
