"""The "sent X of N" counts of a broadcast are kept with the offers, not recounted.

The progress is read after every batch the outbox sends: it must not count a task's offers
(tens of thousands in a big broadcast) each time. The counts live on the task, kept in the
statement that changes an offer, so whatever changes one (sent, blocked, given up, skipped,
retried, withdrawn before it was sent because its volunteer was erased) they equal a recount
of the offers.
"""

from __future__ import annotations

from bot.storage import tasks as task_repo
from tests.conftest import MEMBER, Harness
from tests.test_tasks import DRIVERS, new_task, volunteer

RECOUNT = (
    "SELECT SUM(status = 'sent') AS sent, "
    "SUM(status = 'failed' AND error = 'Forbidden') AS blocked, "
    "SUM(status IN ('failed', 'skipped') AND COALESCE(error, '') != 'Forbidden') AS failed, "
    "COUNT(*) AS total FROM outbox WHERE task_id = ? AND kind = 'task_offer'"
)
COUNTS = (
    "SELECT offers_sent AS sent, offers_blocked AS blocked, offers_failed AS failed, "
    "offers_total AS total FROM tasks WHERE id = ?"
)


async def counts(h: Harness, task_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    kept = await h.services.db.fetchone(COUNTS, (task_id,))
    recount = await h.services.db.fetchone(RECOUNT, (task_id,))
    assert kept is not None and recount is not None
    return tuple(int(v or 0) for v in kept), tuple(int(v or 0) for v in recount)


async def test_the_counts_follow_every_change_of_an_offer(harness: Harness) -> None:
    h = harness
    for user in DRIVERS[:4]:
        await volunteer(h, user)
    h.fake.block(DRIVERS[2])
    ref = await new_task(h)
    task = await h.services.tasks.get(ref)
    assert task is not None
    kept, recount = await counts(h, task.id)
    assert kept == recount == (3, 1, 0, 4)
    texts = [str(m.get("text")) for m in h.fake.messages(MEMBER)]
    assert f"Task {ref} sent: 3 delivered, 1 blocked the bot, 0 failed." in texts
    # Other changes: an offer skipped, one waiting again, then deleted (its volunteer erased).
    db, pid = h.services.db, h.services.ids.pid
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'skipped', error = 'gone' WHERE task_id = ? AND "
            "chat_id = ?",
            (task.id, pid(DRIVERS[0])),
        )
        await conn.execute(
            "UPDATE outbox SET status = 'pending', error = 'TimedOut', next_attempt_at = "
            "'2999-01-01' WHERE task_id = ? AND chat_id = ?",
            (task.id, pid(DRIVERS[3])),
        )
    kept, recount = await counts(h, task.id)
    assert kept == recount == (1, 1, 1, 4)
    await h.say(DRIVERS[3], "/delete_my_data")
    await h.press(DRIVERS[3], r"^pd:y$")
    kept, recount = await counts(h, task.id)
    assert kept == recount == (1, 1, 1, 3)


async def test_reading_the_progress_reads_no_offer(harness: Harness) -> None:
    h = harness
    statements: list[str] = []
    await h.services.db.conn.set_trace_callback(statements.append)
    try:
        await task_repo.progress(h.services.db, h.services.ids)
    finally:
        await h.services.db.conn.set_trace_callback(None)  # type: ignore[arg-type]
    [sql] = [s for s in statements if "progress_message_id IS NOT NULL" in s]
    rows = await h.services.db.fetchall("EXPLAIN QUERY PLAN " + sql)
    plan = " ".join(str(r["detail"]) for r in rows)
    assert "outbox" not in sql and " o " not in plan, plan


async def test_the_preview_counts_the_volunteers_publish_reaches(harness: Harness) -> None:
    h = harness
    for user in DRIVERS[:2]:
        await volunteer(h, user)
    tasks = h.services.tasks
    assert await tasks.count_matching("driving", "north") == 2
    assert sorted(await tasks.matching_volunteers("driving", "north")) == DRIVERS[:2]
    assert await tasks.count_matching("driving", "south") == 0
