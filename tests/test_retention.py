"""Retention covers everything: inactive and declined cases, drafts, sessions, old outbox rows,
ended tasks' texts and case links, people with nothing left; the dry run lists each kind."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot import privacy
from bot.__main__ import _purge
from bot.config import Retention
from bot.storage.db import iso, utcnow
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness, make_settings
from tests.flows import apply_and_consent, full_intake
from tests.test_review import new_case
from tests.test_tasks import new_task, volunteer

FAMILY = 808  # new_case's family
LONG_AGO = iso(utcnow() - timedelta(days=400))


def test_retention_settings_have_defaults_and_are_checked(tmp_path: object) -> None:
    from pathlib import Path

    from bot.errors import ConfigError

    assert isinstance(tmp_path, Path)
    assert make_settings(tmp_path).retention == Retention(cases=365, drafts=30, outbox=7, tasks=3)
    custom = make_settings(tmp_path, DRAFT_DAYS="10", OUTBOX_DAYS="2", TASK_DAYS="1")
    assert custom.retention == Retention(cases=365, drafts=10, outbox=2, tasks=1)
    with pytest.raises(ConfigError) as raised:
        make_settings(tmp_path, DRAFT_DAYS="0", OUTBOX_DAYS="soon", TASK_DAYS="-1")
    assert [p.split()[0] for p in raised.value.problems] == [
        "DRAFT_DAYS",
        "OUTBOX_DAYS",
        "TASK_DAYS",
    ]


async def age(h: Harness, sql: str, *params: object) -> None:
    """Move rows back in time: ``sql`` sets their timestamps to LONG_AGO (the first ?)."""
    async with h.services.db.transaction() as conn:
        await conn.execute(sql, (LONG_AGO, *params))


async def purge(h: Harness, *, dry_run: bool = False) -> dict[str, int]:
    s = h.services
    return await privacy.purge(s.db, s.ids, s.settings.retention, COMMITTEE_CHAT, dry_run=dry_run)


async def personal_of(h: Harness, ref: str) -> object:
    row = await h.services.db.fetchone("SELECT personal FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    return row["personal"]


async def test_declined_and_inactive_cases_lose_their_personal_data(harness: Harness) -> None:
    h = harness
    declined = await new_case(h)
    await h.press(MEMBER, rf"^cv:decline:{declined}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:r:\w+$")
    await h.press(MEMBER, r"^rv:skip:$")
    await h.press(MEMBER, r"^rv:ok:$")
    assert (await h.services.db.fetchone("SELECT status FROM cases"))["status"] == "declined"  # type: ignore[index]
    forgotten = await full_intake(h, FAMILY + 1)  # never looked at
    recent = await full_intake(h, FAMILY + 2)
    await age(h, "UPDATE cases SET updated_at = ? WHERE ref IN (?, ?)", declined, forgotten)
    found = await privacy.expired(h.services.db, 365)
    assert sorted(r for _, r in found) == sorted([declined, forgotten])
    assert (await purge(h))["cases"] == 2
    assert await personal_of(h, declined) is None and await personal_of(h, forgotten) is None
    assert await personal_of(h, recent) is not None


async def test_drafts_and_sessions_left_for_draft_days_are_removed(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await h.press(FAMILY, r":situation:o:orphans$")
    await apply_and_consent(h, FAMILY + 1)
    s = h.services
    async with s.db.transaction() as conn:
        for user in (FAMILY + 3, FAMILY + 4):
            await conn.execute(
                "INSERT INTO sessions (user_id, payload, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(user_id) DO NOTHING",
                (s.ids.pid(user), s.ids.cipher.encrypt_json({"w": user}), iso(utcnow())),
            )
    await age(h, "UPDATE drafts SET updated_at = ? WHERE user_id = ?", s.ids.pid(FAMILY))
    await age(h, "UPDATE sessions SET updated_at = ? WHERE user_id = ?", s.ids.pid(FAMILY + 3))

    assert (await purge(h, dry_run=True))["drafts"] == 1
    assert len(await s.db.fetchall("SELECT * FROM drafts")) == 2  # a dry run changes nothing
    counts = await purge(h)
    assert counts["drafts"] == 1 and counts["sessions"] == 1
    left = await s.db.fetchall("SELECT user_id FROM drafts")
    assert [r["user_id"] for r in left] == [s.ids.pid(FAMILY + 1)]
    left = await s.db.fetchall("SELECT user_id FROM sessions")
    assert [r["user_id"] for r in left] == [s.ids.pid(FAMILY + 4)]


async def test_old_outbox_rows_go_but_a_live_card_can_still_be_edited(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "Which hospital?")  # a family notice, sent
    db = h.services.db
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET status = 'failed' WHERE kind = 'card_update'")
    await age(h, "UPDATE outbox SET created_at = ?")
    kinds = {r["kind"] for r in await db.fetchall("SELECT kind FROM outbox")}
    assert {"committee_card", "family_notice"} <= kinds

    counts = await purge(h)
    left = await db.fetchall("SELECT kind, status FROM outbox")
    assert [(r["kind"], r["status"]) for r in left] == [("committee_card", "sent")]
    assert counts["outbox"] >= 2
    # The card is still edited in place.
    calls = await h.press(MEMBER, rf"^cv:take:{ref}$", chat_id=COMMITTEE_CHAT)
    assert any(c.method == "editMessageText" and c.chat_id == COMMITTEE_CHAT for c in calls)
    assert len(h.fake.messages(COMMITTEE_CHAT)) == 1


async def test_recent_and_pending_outbox_rows_and_running_broadcasts_are_kept(
    harness: Harness,
) -> None:
    h = harness
    await volunteer(h, 1300)
    await new_task(h)
    db = h.services.db
    async with db.transaction() as conn:  # the broadcast's summary is not shown yet
        await conn.execute("UPDATE tasks SET progress_done = 0, progress_message_id = 1")
    await age(h, "UPDATE outbox SET created_at = ? WHERE kind = 'task_offer'")
    before = len(await db.fetchall("SELECT id FROM outbox"))
    assert (await purge(h))["outbox"] == 0
    assert len(await db.fetchall("SELECT id FROM outbox")) == before


async def test_ended_tasks_lose_their_texts_and_their_case(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    await volunteer(h, 1300)
    ended = await new_task(h, ref=ref)
    upcoming = await new_task(h, ref=ref)
    db = h.services.db
    await age(h, "UPDATE tasks SET starts_at = ? WHERE ref = ?", ended)
    assert (await purge(h, dry_run=True))["tasks"] == 1
    assert (await purge(h))["tasks"] == 1
    rows = {r["ref"]: r for r in await db.fetchall("SELECT ref, content, case_id FROM tasks")}
    assert rows[ended]["case_id"] is None and not rows[ended]["content"]
    assert rows[upcoming]["case_id"] is not None and rows[upcoming]["content"]
    task = await h.services.tasks.get(ended)  # still readable: facts, no words
    assert task is not None and task.title == "" and task.description == ""
    assert (await purge(h))["tasks"] == 0  # idempotent


async def test_people_with_nothing_left_are_forgotten(harness: Harness) -> None:
    h = harness
    s = h.services
    await new_case(h)  # the family, and the two members said /start
    await volunteer(h, 1300)
    await h.say(4242, "/start")  # someone who looked and left
    await h.say(4243, "/start")  # someone who looked today
    await age(h, "UPDATE people SET updated_at = ?, created_at = ?", LONG_AGO)
    async with s.db.transaction() as conn:
        await conn.execute(
            "UPDATE people SET updated_at = ? WHERE user_id = ?", (iso(utcnow()), s.ids.pid(4243))
        )
    await age(h, "UPDATE audit SET at = ?")
    counts = await purge(h)
    left = {r["user_id"] for r in await s.db.fetchall("SELECT user_id FROM people")}
    assert s.ids.pid(4242) not in left
    assert {s.ids.pid(u) for u in (FAMILY, 1300, 4243)} <= left
    assert counts["people"] >= 1


async def test_purge_dry_run_lists_each_kind_and_purge_prints_what_it_removed(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await age(h, "UPDATE drafts SET updated_at = ?")
    await _purge(h.services.settings, dry_run=True)
    out = capsys.readouterr().out
    listed = dict(re.findall(r"^\s+(\w+)\s+(\d+)", out, flags=re.M))
    assert list(listed) == list(privacy.KINDS)
    assert listed["drafts"] == "1"
    assert len(await h.services.db.fetchall("SELECT * FROM drafts")) == 1
    await _purge(h.services.settings, dry_run=False)
    out = capsys.readouterr().out
    assert dict(re.findall(r"^\s+(\w+)\s+(\d+)", out, flags=re.M))["drafts"] == "1"
    assert await h.services.db.fetchall("SELECT * FROM drafts") == []


async def test_the_daily_job_does_the_whole_purge(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await age(h, "UPDATE drafts SET updated_at = ?")
    assert h.app.job_queue is not None
    [job] = [j for j in h.app.job_queue.jobs() if j.name == "retention"]
    await job.run(h.app)
    assert await h.services.db.fetchall("SELECT * FROM drafts") == []
    assert await h.services.intake.load(FAMILY) is None  # nor from the bot's memory
