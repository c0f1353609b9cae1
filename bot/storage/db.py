"""The database connection, its settings and its migrations.

One aiosqlite connection serves the whole bot. SQLite allows one writer at a time anyway, and
a single connection lets us group the writes of concurrent updates into one durable commit
(:meth:`Database.transaction` waits for that commit before it returns), which is what makes
hundreds of families at once affordable while every step is still on disk before the bot
answers. Reads on the connection can see a batch's writes a moment before its COMMIT
returns; nothing is ever sent to anyone before the write that caused it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.crypto import Cipher
from bot.errors import StorageError

log = logging.getLogger(__name__)

# What repositories take for a write inside the caller's transaction; services name it in
# their signatures without depending on the driver.
Connection = aiosqlite.Connection

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA secure_delete=ON",
    # secure_delete zeroes what is deleted in the database file, not the old copies of the
    # pages in the WAL: with no size limit the WAL keeps them after a checkpoint until they
    # happen to be overwritten. At 0 it is cut to nothing whenever a checkpoint resets it.
    "PRAGMA journal_size_limit=0",
)

# The WAL is copied back into the database file by a connection of its own, in a thread, once
# it holds this much (SQLite's own default, 1,000 pages), and never by the bot's connection at
# the end of a commit (``wal_autocheckpoint=0``): on a database of years that copy and its
# fsync took half a second, during which every family's next answer waited behind the lock.
CHECKPOINT_BYTES = 4 * 1024 * 1024

# Rows sampled per index by ANALYZE (SQLite's recommended range is 100 to 1000).
ANALYSIS_LIMIT = 1000


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A stored timestamp: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    """Read a stored timestamp."""
    return datetime.fromisoformat(text)


# A migration SQL cannot express (an HMAC, a value encrypted under the key): a module
# ``migrations/mNNN_name.py`` with ``async def upgrade(conn, cipher, now)``, run inside the
# migration's transaction.
Upgrade = Callable[[aiosqlite.Connection, Cipher, str], Awaitable[None]]


def migrations() -> list[tuple[int, str | Upgrade]]:
    """The numbered migrations shipped with the package, in order: SQL scripts, and Python
    steps for what SQL cannot compute."""
    found: list[tuple[int, str | Upgrade]] = []
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
        script = re.match(r"(\d+)_.*\.sql$", entry.name)
        step = re.match(r"m(\d+)_\w+\.py$", entry.name)
        if script:
            found.append((int(script.group(1)), entry.read_text("utf-8")))
        elif step:
            module = importlib.import_module(f"bot.storage.migrations.{entry.name[:-3]}")
            found.append((int(step.group(1)), module.upgrade))
    return sorted(found, key=lambda migration: migration[0])


def file_schema_version(path: Path) -> int:
    """The migration level of a database file, read without opening it for the bot."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def create_owner_only(path: Path) -> None:
    """Create ``path`` empty and owner-only (0600) from its first instant, whatever the umask.

    Raises FileExistsError if it exists. SQLite opens an empty file as an empty database and
    gives its WAL and shared-memory files the main file's mode, so no copy of the data is
    ever readable by others, not even between a creation and a chmod.
    """
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def backup(source: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup API: consistent while the bot writes.

    The copy is written to a fresh owner-only file beside ``target`` (a leftover one is
    removed first), then renamed onto it. Returns how many pages the copy has.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.unlink(missing_ok=True)
    create_owner_only(temporary)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(temporary)) as dst,
    ):
        src.backup(dst)
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
    temporary.replace(target)
    return pages


def passive_checkpoint(path: Path) -> bool:
    """Copy into the database file, and sync, what the WAL holds (SQLite's PASSIVE
    checkpoint: it waits for no reader and holds no writer back), on a connection of its own;
    True if every frame was copied. The bot's connection then starts the WAL again at its
    next write, and cuts the file to nothing (``journal_size_limit=0``)."""
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous=FULL")
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return not busy and frames == copied


class Database:
    """The bot's database: open it, migrate it, run transactions on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._batch: asyncio.Future[None] | None = None
        self._committer: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self.commits = 0  # durable commits so far (for benchmarks and tests)

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._conn is None:
            raise StorageError("The database is not open.")
        return self._conn

    async def open(self, cipher: Cipher | None = None) -> None:
        """Open the database, apply its settings and any pending migrations (the Python
        ones need the ``cipher``)."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                create_owner_only(self.path)
            except FileExistsError:
                # A file copied in (a restore) may be readable by others: tightened before
                # SQLite opens it and creates its WAL and shared-memory files with its mode.
                if self.path.stat().st_mode & 0o077:
                    self.path.chmod(0o600)
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
            self._conn.row_factory = aiosqlite.Row
            for pragma in PRAGMAS:
                await self._conn.execute(pragma)
            await self.migrate(cipher)
            await self._conn.execute("PRAGMA wal_autocheckpoint=0")  # see CHECKPOINT_BYTES
            self._checkpoint_if_long()
        except (OSError, aiosqlite.Error) as exc:
            raise StorageError(f"Cannot open the database at {self.path}: {exc}") from exc

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL) once the last batch is committed."""
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        await self._checkpointed()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        async with self.conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, cipher: Cipher | None = None) -> int:
        """Apply the migrations not yet applied, each in its own transaction.

        Foreign keys are checked at the end of each migration (not per statement), so that a
        Python step can rewrite a key and the columns that refer to it one after the other.
        """
        current = await self.schema_version()
        for number, migration in migrations():
            if number <= current:
                continue
            if not isinstance(migration, str) and cipher is None:
                raise StorageError(f"Migration {number} needs the encryption key.")
            async with self._lock:
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    await self.conn.execute("PRAGMA defer_foreign_keys=ON")
                    if isinstance(migration, str):
                        for statement in [s for s in migration.split(";\n") if s.strip()]:
                            await self.conn.execute(statement)
                    else:
                        assert cipher is not None
                        await migration(self.conn, cipher, iso(utcnow()))
                    await self.conn.execute(f"PRAGMA user_version={number:d}")
                    await self.conn.execute("COMMIT")
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise
            log.info("Applied database migration %d", number)
            current = number
            if not isinstance(migration, str):
                # The WAL would keep the pages as they were before the step rewrote them.
                await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return current

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction, durable (committed and synced) when the block has exited.

        Group commit: writers that queue up while a commit is running share the next one.
        Each writer's statements run alone on the connection inside a SAVEPOINT, so an error
        undoes that writer's work only (and is raised to it); then the writer waits for the
        shared COMMIT. One fsync serves a whole batch, which is what lets hundreds of people
        at once each have every answer on disk before the bot replies.
        """
        async with self._lock:
            batch = await self._open_batch()
            await self.conn.execute("SAVEPOINT writer")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK TO writer")
                await self.conn.execute("RELEASE writer")
                raise
            await self.conn.execute("RELEASE writer")
        await asyncio.shield(batch)

    async def write(self, sql: str, params: Iterable[Any] = ()) -> None:
        """One statement, durable when this returns: the fast path of :meth:`transaction`.

        A single statement is atomic in SQLite (a failing one undoes only itself), so it
        needs no savepoint: one round trip to the database thread, plus its share of the
        group commit.
        """
        async with self._lock:
            batch = await self._open_batch()
            await self.conn.execute(sql, tuple(params))
        await asyncio.shield(batch)

    async def _open_batch(self) -> asyncio.Future[None]:
        """The batch this writer joins, opened (BEGIN) if there is none; lock held."""
        if self._batch is None:
            await self.conn.execute("BEGIN IMMEDIATE")
            self._batch = asyncio.get_running_loop().create_future()
            self._committer = asyncio.create_task(self._commit())
        return self._batch

    async def _commit(self) -> None:
        """Commit the open batch once the writers already queued have run."""
        async with self._lock:
            batch, self._batch = self._batch, None
            assert batch is not None
            try:
                await self.conn.execute("COMMIT")
            except BaseException as exc:
                await self.conn.execute("ROLLBACK")
                batch.set_exception(StorageError(f"commit failed: {type(exc).__name__}"))
                raise
            self.commits += 1
            batch.set_result(None)
        self._checkpoint_if_long()

    def _checkpoint_if_long(self) -> None:
        """Start a checkpoint in the background if the WAL holds more than
        :data:`CHECKPOINT_BYTES` and none is running."""
        if self._checkpointer is not None and not self._checkpointer.done():
            return
        try:
            size = self.path.with_name(self.path.name + "-wal").stat().st_size
        except FileNotFoundError:
            return
        if size >= CHECKPOINT_BYTES:
            self._checkpointer = asyncio.create_task(self._checkpoint_in_background())

    async def _checkpoint_in_background(self) -> None:
        try:
            await asyncio.to_thread(passive_checkpoint, self.path)
        except sqlite3.Error as exc:  # the next commit tries again
            log.warning("Background WAL checkpoint failed (%s)", type(exc).__name__)

    async def _checkpointed(self) -> None:
        """Wait for a background checkpoint still running."""
        if self._checkpointer is not None:
            await asyncio.gather(self._checkpointer, return_exceptions=True)

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database and cut it to nothing (after an erasure, a purge or
        a re-encryption: the WAL would otherwise keep the old values); True if complete.

        Waits for a batch still being committed (a checkpoint inside an open transaction
        could not reset the WAL) and for a checkpoint running in the background (with two at
        once, the second is refused).
        """
        while True:
            async with self._lock:
                batch = self._batch
                running = self._checkpointer is not None and not self._checkpointer.done()
                if batch is None and not running:
                    async with self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                        row = await cursor.fetchone()
                    complete = row is not None and int(row[0]) == 0
                    if not complete:
                        log.warning("WAL checkpoint incomplete: another connection is reading")
                    return complete
            if batch is not None:
                await asyncio.gather(asyncio.shield(batch), return_exceptions=True)
            await self._checkpointed()

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """A second connection, read-only, for a long report (an export, the statistics).

        Its queries run on their own thread and see a consistent snapshot (WAL), without the
        lock of the bot's connection: a family's reply never waits behind a member's export.
        """
        conn = await aiosqlite.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA busy_timeout=5000")
            yield conn
        finally:
            await conn.close()

    async def optimize(self) -> None:
        """Keep the query planner's statistics: ANALYZE once, for a database never analysed,
        then PRAGMA optimize, which analyses again the tables that grew much since (at
        start-up and daily). Without statistics SQLite cannot tell an index on a column with
        two values from one on a unique column. ``analysis_limit`` samples each index instead
        of reading it whole, so this stays quick on a database of years.
        """
        async with self.transaction() as conn:
            await conn.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT:d}")
            async with conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
            ) as cursor:
                never = await cursor.fetchone() is None
            if never:
                await conn.execute("ANALYZE")
            await conn.execute("PRAGMA optimize")

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """One row of a read-only query (one round trip to the database thread)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """All rows of a read-only query (one round trip to the database thread)."""
        async with self._lock:
            return list(await self.conn.execute_fetchall(sql, tuple(params)))
