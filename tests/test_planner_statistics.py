"""The query planner has statistics: ANALYZE once, PRAGMA optimize at start-up and daily.

Without statistics SQLite guesses every table's size, and an index on a column with two
values looks as good as one on a unique column; with them, and kept fresh by PRAGMA optimize
as the tables grow, it picks the index that narrows the search.
"""

from __future__ import annotations

from tests.conftest import Harness


async def analysed(h: Harness) -> bool:
    rows = await h.services.db.fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    )
    return bool(rows)


async def test_start_up_analyses_and_the_daily_job_optimises(harness: Harness) -> None:
    h = harness
    assert await analysed(h)
    statements: list[str] = []
    await h.services.db.conn.set_trace_callback(statements.append)
    try:
        assert h.app.job_queue is not None
        [job] = [j for j in h.app.job_queue.jobs() if j.name == "retention"]
        await job.run(h.app)
    finally:
        await h.services.db.conn.set_trace_callback(None)  # type: ignore[arg-type]
    assert any(s.upper().startswith("PRAGMA OPTIMIZE") for s in statements)
    assert not any(s.upper().startswith("ANALYZE") for s in statements)  # once is enough
