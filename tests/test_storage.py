"""Storage: settings, migrations, and what is stored in clear."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cryptography.fernet import Fernet

from bot.crypto import Cipher
from bot.storage import Database
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
