"""Storage: settings, migrations, and what is stored in clear."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import Cipher
from bot.storage import Database
from bot.storage import db as db_module
from bot.storage.cases import REF_ALPHABET, new_ref, normalize_ref
from bot.storage.db import migrations

CIPHER = Cipher((Fernet.generate_key().decode(),))


async def test_database_settings_and_migrations(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    await db.open(CIPHER)
    try:
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
        assert (await db.fetchone("PRAGMA synchronous"))[0] == 2  # type: ignore[index]
        assert await db.schema_version() == migrations()[-1][0]
        assert await db.migrate() == migrations()[-1][0]  # idempotent
        tables = {
            r["name"]
            for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert {"people", "drafts", "cases", "audit", "outbox"} <= tables
    finally:
        await db.close()


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    await db.open(CIPHER)
    try:
        try:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO people VALUES (1, 'ar', 1, '2026-01-01', '2026-01-01')"
                )
                raise RuntimeError
        except RuntimeError:
            pass
        assert await db.fetchall("SELECT * FROM people") == []
    finally:
        await db.close()


def test_references_are_easy_to_read_over_the_phone() -> None:
    refs = {new_ref() for _ in range(2000)}
    assert len(refs) > 1990
    for ref in refs:
        assert len(ref) == 7 and ref[3] == "-"
        assert all(c in REF_ALPHABET for c in ref.replace("-", ""))
    assert not set("01IOL58BS") & set(REF_ALPHABET)
    assert normalize_ref(" k7p 4rd ") == "K7P-4RD" and normalize_ref("k7p-4rd") == "K7P-4RD"


async def test_concurrent_writers_share_commits_and_fail_alone(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    await db.open(CIPHER)

    async def write(user: int) -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO people VALUES (?, 'ar', 1, '2026-01-01', '2026-01-01')", (user,)
            )
            if user == 13:
                raise ValueError("this writer fails")

    try:
        before = db.commits
        results = await asyncio.gather(*(write(u) for u in range(50)), return_exceptions=True)
        assert [type(r).__name__ for r in results if r is not None] == ["ValueError"]
        rows = await db.fetchall("SELECT user_id FROM people ORDER BY user_id")
        assert [r["user_id"] for r in rows] == [u for u in range(50) if u != 13]
        assert db.commits - before < 10  # grouped, not one fsync each
    finally:
        await db.close()
    reopened = Database(tmp_path / "x.db")
    await reopened.open(CIPHER)
    try:
        assert len(await reopened.fetchall("SELECT * FROM people")) == 49
    finally:
        await reopened.close()


async def test_the_wal_is_copied_back_beside_the_commits_not_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit never copies the WAL back into the database (on years of data that took half
    a second, everyone waiting behind the lock): once it holds CHECKPOINT_BYTES a connection of
    its own does, in a thread, and the bot's next write starts the WAL again from nothing."""
    monkeypatch.setattr(db_module, "CHECKPOINT_BYTES", 64 * 1024)
    threads: list[bool] = []
    real = db_module.passive_checkpoint

    def spy(path: Path) -> bool:
        threads.append(threading.current_thread() is not threading.main_thread())
        return real(path)

    monkeypatch.setattr(db_module, "passive_checkpoint", spy)
    db = Database(tmp_path / "x.db")
    wal = tmp_path / "x.db-wal"
    await db.open(CIPHER)
    try:
        assert (await db.fetchone("PRAGMA wal_autocheckpoint"))[0] == 0  # type: ignore[index]
        longest = 0
        for user in range(60):
            await db.write(
                "INSERT INTO people VALUES (?, 'ar', 1, '2026-01-01', ?)", (user, "x" * 3000)
            )
            longest = max(longest, wal.stat().st_size)
        assert threads and all(threads)
        # The checkpoint runs beside the writes: those that came during it are copied by the
        # next one. Once one has copied everything, the next write starts the WAL again.
        for user in range(100, 103):
            await db._checkpointed()
            await db.write("INSERT INTO people VALUES (?, 'ar', 1, '2026-01-01', '')", (user,))
        assert wal.stat().st_size < 64 * 1024 < longest
    finally:
        await db.close()
    reopened = Database(tmp_path / "x.db")
    await reopened.open(CIPHER)
    try:
        assert len(await reopened.fetchall("SELECT * FROM people")) == 63
    finally:
        await reopened.close()
