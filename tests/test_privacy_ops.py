"""/mydata shows everything stored about a person; /delete_my_data erases it (part of #5)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness
from tests.flows import AREA, NAME, OTHER, PHONE_E164, STORY, full_intake
from tests.test_review import approve, new_case
from tests.test_volunteers import register

FAMILY = 808


async def test_mydata_shows_everything(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Which hospital?")
    await h.press(FAMILY, r"^fa:\d+$")
    await h.say(FAMILY, "Al-Bashir")
    calls = await h.say(FAMILY, "/mydata")
    shown = "\n".join(h.texts(calls))
    for value in (
        ref,
        "Fatima &lt;b&gt;Al-Zahra&lt;/b&gt;",
        PHONE_E164,
        AREA,
        OTHER,
        STORY,
        "Which hospital?",
        "Al-Bashir",
        "/delete_my_data",
    ):
        assert value in shown, value
    assert all(len(c.text or "") <= 4096 for c in calls)
    calls = await h.say(4242, "/mydata")
    assert "Nothing is stored" in h.texts(calls)[0]


async def test_delete_my_data_keeps_only_anonymous_figures(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await register(h, user=FAMILY)  # the same person also volunteers
    await h.say(FAMILY, "/delete_my_data")
    await h.press(FAMILY, r"^pd:n$")
    assert await h.services.db.fetchone("SELECT personal FROM cases") is not None
    await h.say(FAMILY, "/delete_my_data")
    await h.press(FAMILY, r"^pd:y$")

    case = await h.services.db.fetchone("SELECT * FROM cases WHERE ref = ?", (ref,))
    assert case is not None
    assert case["personal"] is None and case["user_id"] is None
    assert case["decision_message"] is None
    assert '"situation": ["orphans", "other"]' in case["answers"]  # statistics keep this
    assert (
        await h.services.db.fetchall(
            "SELECT * FROM volunteers WHERE user_id = ?", (h.services.ids.pid(FAMILY),)
        )
        == []
    )
    pid = h.services.ids.pid(FAMILY)
    assert await h.services.db.fetchall("SELECT * FROM people WHERE user_id = ?", (pid,)) == []
    assert await h.services.db.fetchall("SELECT * FROM audit WHERE actor_id = ?", (pid,)) == []
    card = h.fake.messages(COMMITTEE_CHAT)[0]["text"]
    erased = h.services.i18n.get("ar").raw(
        "The family's personal data was erased at their request."
    )
    assert erased in card and AREA not in card
    calls = await h.say(FAMILY, "/mydata")
    assert "Nothing is stored" in h.texts(calls)[0]
    raw = b"".join(p.read_bytes() for p in h.services.settings.data_dir.glob("sanad.db*"))
    assert NAME.encode() not in raw
    # Members still see the case, without the family.
    calls = await h.say(MEMBER, f"/case {ref}")
    assert PHONE_E164 not in "\n".join(h.texts(calls))


async def test_delete_my_data_without_a_case(harness: Harness) -> None:
    h = harness
    await full_intake(h, FAMILY + 1)
    await h.say(FAMILY + 2, "/start")
    await h.say(FAMILY + 2, "/delete_my_data")
    calls = await h.press(FAMILY + 2, r"^pd:y$")
    assert "erased" in h.texts(calls)[-1]
    assert len(await h.services.db.fetchall("SELECT * FROM cases")) == 1


async def test_backup_is_consistent_while_the_bot_runs_and_stays_encrypted(
    harness: Harness, tmp_path: object
) -> None:
    import sqlite3
    from pathlib import Path

    from bot.__main__ import backup_database

    assert isinstance(tmp_path, Path)
    h = harness
    ref = await full_intake(h, FAMILY)
    target = tmp_path / "copy" / "backup.db"
    pages = backup_database(h.services.settings.database_path, target)  # the bot is running
    assert pages > 0 and target.stat().st_mode & 0o777 == 0o600
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT ref FROM cases").fetchall() == [(ref,)]
    finally:
        copy.close()
    assert NAME.encode() not in target.read_bytes()


async def test_retention_purges_closed_cases_after_retention_days(
    harness: Harness, capsys: object
) -> None:
    import pytest

    from bot import privacy
    from bot.__main__ import _purge
    from bot.config import Retention

    assert isinstance(capsys, pytest.CaptureFixture)
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    await h.press(MEMBER, rf"^cv:close:{ref}$", chat_id=COMMITTEE_CHAT)
    recent = await full_intake(h, FAMILY + 5)
    assert await privacy.expired(h.services.db, 365) == []  # closed today: kept
    async with h.services.db.transaction() as conn:  # the closed one is left alone for years
        await conn.execute(
            "UPDATE cases SET updated_at = '2020-01-01T00:00:00+00:00' WHERE ref = ?", (ref,)
        )
    found = await privacy.expired(h.services.db, 365)
    assert [r for _, r in found] == [ref]  # only the one untouched, not the recent one

    await _purge(h.services.settings, dry_run=True)
    assert f"would anonymise case {ref}" in capsys.readouterr().out
    assert (await h.services.db.fetchone("SELECT personal FROM cases WHERE ref = ?", (ref,)))[
        "personal"
    ] is not None  # type: ignore[index]

    keep, ids = Retention(cases=365), h.services.ids
    assert (await privacy.purge(h.services.db, ids, keep, COMMITTEE_CHAT))["cases"] == 1
    row = await h.services.db.fetchone("SELECT * FROM cases WHERE ref = ?", (ref,))
    assert row is not None and row["personal"] is None and row["user_id"] is None
    kept = await h.services.db.fetchone("SELECT personal FROM cases WHERE ref = ?", (recent,))
    assert kept is not None and kept["personal"] is not None
    assert (await privacy.purge(h.services.db, ids, keep, COMMITTEE_CHAT))["cases"] == 0
    actions = [r["action"] for r in await h.services.db.fetchall("SELECT action FROM audit")]
    assert "retention_purge" in actions


async def test_rotate_key_re_encrypts_everything_while_the_bot_runs(tmp_path: object) -> None:
    from pathlib import Path

    from bot.__main__ import _rotate
    from bot.crypto import Cipher
    from bot.errors import CryptoError
    from bot.storage.encrypted import ENCRYPTED
    from tests.conftest import make_settings, start_app, stop_app
    from tests.fakes.telegram import FakeTelegram

    assert isinstance(tmp_path, Path)
    settings = make_settings(tmp_path)  # a generated key file, no ENCRYPTION_KEY
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Which hospital?")
    await h.say(FAMILY + 9, "/apply")
    await h.press(FAMILY + 9, r"^ic:y$")
    old = settings.key_file.read_text().split()

    # Step 1 while the bot runs: a new key first, nothing re-encrypted, the bot unaffected.
    assert await _rotate(settings, finish=False) == 0
    keys = settings.key_file.read_text().split()
    assert len(keys) == 2 and keys[1:] == old
    await h.press(FAMILY + 9, r":situation:o:orphans$")
    # Finishing before the restart is refused: the bot still writes under the old key.
    assert await _rotate(settings, finish=True) == 1
    assert settings.key_file.read_text().split() == keys
    await stop_app(app)

    # The restart: the bot now writes under the new key and reads the old one.
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    try:
        await h.press(FAMILY + 9, r":situation:o:other$")
        # Step 2 while it runs; the family goes on meanwhile.
        finishing = asyncio.create_task(_rotate(settings, finish=True))
        await h.press(FAMILY + 9, r":situation:d:$")
        assert await finishing == 0
        assert settings.key_file.read_text().split() == keys[:1]
        new_only = Cipher((keys[0],))
        checked = 0
        for table, _, column in ENCRYPTED:
            query = f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608
            for row in await h.services.db.fetchall(query):
                new_only.decrypt(row[column])  # every value is under the new key
                checked += 1
        assert checked >= 4
        h.services.intake.drop_cached(FAMILY + 9)
        draft = await h.services.intake.load(FAMILY + 9)
        assert draft is not None and draft.answers["situation"] == ["orphans", "other"]
    finally:
        await stop_app(app)

    app = await start_app(settings, FakeTelegram())  # the new key alone reads everything
    try:
        h2 = Harness(app, FakeTelegram())
        assert await h2.services.intake.load(FAMILY + 9) is not None
        case = await h2.services.review.get(ref)
        with pytest.raises(CryptoError):
            Cipher(tuple(old)).decrypt(case.sealed or b"")
    finally:
        await stop_app(app)


async def test_re_encryption_never_overwrites_what_the_bot_just_wrote(tmp_path: object) -> None:
    """Compare-and-set: a row rewritten between the read and the write is left as it is."""
    from pathlib import Path

    from cryptography.fernet import Fernet

    from bot.crypto import Cipher
    from bot.storage import Database
    from bot.storage.encrypted import apply

    assert isinstance(tmp_path, Path)
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    db = Database(tmp_path / "sanad.db")
    old, both = Cipher((old_key,)), Cipher((new_key, old_key))
    await db.open(old)
    try:
        for note in (1, 2):
            await db.write(
                "INSERT INTO people (user_id, language, created_at, updated_at) "
                "VALUES (?, 'ar', '', '')",
                (note,),
            )
            await db.write(
                "INSERT INTO drafts (user_id, payload, updated_at) VALUES (?, ?, '')",
                (note, old.encrypt(f"draft {note}")),
            )
        rows = await db.fetchall("SELECT user_id, payload FROM drafts ORDER BY user_id")
        plan = [(r["user_id"], r["payload"], both.rotate(r["payload"])) for r in rows]
        fresh = both.encrypt("draft 2, changed by the family")
        await db.write("UPDATE drafts SET payload = ? WHERE user_id = 2", (fresh,))  # the bot
        async with db.transaction() as conn:
            assert await apply(conn, "drafts", "user_id", "payload", plan) == 1
        rows = await db.fetchall("SELECT user_id, payload FROM drafts ORDER BY user_id")
        assert Cipher((new_key,)).decrypt(rows[0]["payload"]) == "draft 1"
        assert rows[1]["payload"] == fresh  # not overwritten with the older draft
    finally:
        await db.close()
