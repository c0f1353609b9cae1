"""Key rotation without downtime beyond one restart.

1. ``python -m bot rotate-key`` puts a new key first in the key list (the key file is
   rewritten; with ``ENCRYPTION_KEY`` the new list is printed). Nothing is re-encrypted yet:
   the running bot only knows the old keys.
2. Restart the bot. It now writes under the new key and still reads the old ones.
3. ``python -m bot rotate-key --finish``, while the bot runs: every value still under an old
   key is re-encrypted under the new one, then the old keys are dropped from the key file.
   A row the bot rewrites meanwhile is left alone (the bot already wrote it under the new
   key): each update applies only if the value is still the one that was read.

The running bot keeps the old keys in memory until its next restart, which is harmless.
Step 3 refuses to run until the bot has been restarted with the new key first: every start
writes the fingerprint of the key it encrypts under to ``DATA_DIR/key-in-use``. (Finishing
while the bot still wrote under the old key would leave it unable to read what was
re-encrypted, and drop from the key file the key its new rows need.)

Each table is re-encrypted in chunks: the new values are computed first, then written in a
short transaction per chunk, so the running bot never waits long for the database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from bot.crypto import Cipher, generate_key
from bot.storage import Database, encrypted

CHUNK = 500
IN_USE = "key-in-use"


def fingerprint(key: str) -> str:
    """A short, one-way name for a key (never the key)."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:16]


def record_key_in_use(data_dir: Path, keys: Sequence[str]) -> None:
    """At start-up: the fingerprint of the key the bot encrypts under, for ``--finish``."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_keys(data_dir / IN_USE, (fingerprint(keys[0]),))


def key_in_use(data_dir: Path) -> str | None:
    """The fingerprint the bot last started with; None if it never started."""
    path = data_dir / IN_USE
    return path.read_text("ascii").strip() if path.exists() else None


async def reencrypt(db: Database, cipher: Cipher) -> int:
    """Re-encrypt every value under the cipher's first key; return how many were changed.

    Safe while the bot runs: an update applies only if the value is unchanged since it was
    read, so a value the bot has just rewritten is never overwritten with an older one.
    Last, the WAL is cut: it would keep the values under the old keys, which are dropped.
    """
    count = 0
    for table, key, column in encrypted.ENCRYPTED:
        rows = await encrypted.values(db, table, key, column)
        for start in range(0, len(rows), CHUNK):
            plan = [(rid, old, cipher.rotate(old)) for rid, old in rows[start : start + CHUNK]]
            changes = [(rid, old, new) for rid, old, new in plan if new != old]
            if changes:
                async with db.transaction() as conn:
                    count += await encrypted.apply(conn, table, key, column, changes)
    await db.checkpoint()
    return count


def write_keys(path: Path, keys: tuple[str, ...]) -> None:
    """Replace the key file atomically, owner-only from the first instant.

    A leftover temporary file (an interrupted run) is removed, never reused: it would keep
    whatever mode it has.
    """
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("".join(f"{k}\n" for k in keys))
    temporary.replace(path)


def new_key_list(keys: tuple[str, ...]) -> tuple[str, ...]:
    """A new key first, the current ones after it."""
    return (generate_key(), *keys)
