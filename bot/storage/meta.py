"""The database's own secrets and facts, encrypted under the field key.

- ``check``: a fixed text, encrypted. It tells a wrong or missing key from a new database
  before anything is read or written (the bot refuses to start on a database it cannot read,
  and never makes a new key for one).
- ``pseudonym_key``: the random key of the pseudonyms (:mod:`bot.ids`). It lives here,
  encrypted, rather than derived from the field key, so that rotating the field key
  re-encrypts it like any other value and every pseudonym stays valid.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.crypto import Cipher
from bot.errors import CryptoError
from bot.ids import KEY_BYTES, Ids
from bot.storage.db import Database

CHECK = "check"
PSEUDONYM_KEY = "pseudonym_key"
CHECK_TEXT = "sanad key check"

CREATE = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL, "
    "updated_at TEXT NOT NULL)"
)

# Tables whose rows mean "this database holds data" (a key must exist for it already).
DATA_TABLES = ("people", "cases", "drafts", "sessions", "volunteers", "tasks", "outbox", "audit")


@dataclass(frozen=True)
class Found:
    """What a database file holds, read before the bot opens it (no key needed)."""

    holds_data: bool
    check: bytes | None  # the encrypted check value, when the schema has one
    sample: bytes | None  # any encrypted value, for a database older than the check value


async def create(conn: aiosqlite.Connection, cipher: Cipher, now: str) -> bytes:
    """Inside a migration: the table, the check value and a new pseudonym key (returned)."""
    await conn.execute(CREATE)
    key = secrets.token_bytes(KEY_BYTES)
    rows = (
        (CHECK, cipher.encrypt(CHECK_TEXT)),
        (PSEUDONYM_KEY, cipher.encrypt(base64.b64encode(key).decode("ascii"))),
    )
    for name, value in rows:
        await conn.execute(
            "INSERT INTO meta (name, value, updated_at) VALUES (?, ?, ?)", (name, value, now)
        )
    return key


def matches(cipher: Cipher, check: bytes) -> bool:
    """Whether the cipher's keys open the check value."""
    try:
        return cipher.decrypt(check) == CHECK_TEXT
    except CryptoError:
        return False


async def load_ids(db: Database, cipher: Cipher) -> Ids:
    """The pseudonymiser of this database; CryptoError if the key does not match it."""
    values = {row[0]: row[1] for row in await db.fetchall("SELECT name, value FROM meta")}
    if CHECK not in values or PSEUDONYM_KEY not in values:
        raise CryptoError("The database has no key check value (was it migrated?).")
    if not matches(cipher, values[CHECK]):
        raise CryptoError("The encryption key does not match this database.")
    return Ids(cipher, base64.b64decode(cipher.decrypt(values[PSEUDONYM_KEY])))


def inspect(path: Path, encrypted: tuple[tuple[str, str, str], ...]) -> Found:
    """What the file at ``path`` holds: data or not, its check value, one encrypted value.

    Read with the standard library before start-up decides about the key, so that a database
    that holds data never meets a freshly generated key.
    """
    if not path.exists():
        return Found(False, None, None)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        holds = any(
            conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()  # noqa: S608
            for t in DATA_TABLES
            if t in tables
        )
        check = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE name = ?", (CHECK,)).fetchone()
            check = None if row is None else bytes(row[0])
        sample = None
        for table, _, column in encrypted:
            if table not in tables or sample is not None:
                continue
            with contextlib.suppress(sqlite3.OperationalError):  # a column not made yet
                row = conn.execute(
                    f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
                    "LIMIT 1"
                ).fetchone()
                sample = None if row is None else bytes(row[0])
    return Found(holds or check is not None, check, sample)
