"""Text helpers: digits, lengths, and Telegram's message limits."""

from __future__ import annotations

import unicodedata

MAX_MESSAGE = 4096
MAX_CALLBACK_DATA = 64

_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})


def normalize_digits(text: str) -> str:
    """Replace Arabic-Indic and Persian digits with ASCII digits."""
    return text.translate(_DIGITS)


def parse_int(text: str) -> int | None:
    """A whole number typed in any digit system, or None."""
    cleaned = normalize_digits(text).strip().replace(" ", "")
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 6:
        return int(cleaned)
    return None


def whole_number(text: str, max_digits: int = 18) -> int | None:
    """A whole number written in ASCII digits (a button's argument), or None.

    ``str.isdigit`` is also true for '²' or '①', which ``int`` refuses, and SQLite refuses
    integers over 2**63: callback_data can be forged, so numbers in it are read with this.
    """
    if text.isascii() and text.isdigit() and len(text) <= max_digits:
        return int(text)
    return None


def clean_answer(text: str) -> str:
    """User text with control characters removed and whitespace tidied."""
    kept = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    )
    lines = [" ".join(line.split()) for line in kept.strip().splitlines()]
    return "\n".join(line for line in lines if line)
