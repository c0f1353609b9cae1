"""/cases at any depth: the counts are kept as cases change, a page is found in an index.

A committee with years of cases pages through them by status; counting every case at every
page, and skipping whole rows to reach a deep page, made the last page three times slower
than the first. The counts now follow every insert and status change, and the page's ids are
found by skipping entries of a small index.
"""

from __future__ import annotations

from bot.storage import cases as case_repo
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness
from tests.flows import full_intake
from tests.test_review import approve, new_case


async def recount(h: Harness) -> dict[str, int]:
    rows = await h.services.db.fetchall("SELECT status, COUNT(*) AS n FROM cases GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


async def test_counts_follow_every_case_and_change(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    refs = [await full_intake(h, 900_000 + i) for i in range(11)]
    assert await case_repo.counts_by_status(h.services.db) == await recount(h) == {"new": 12}
    await approve(h, ref)
    await h.press(MEMBER, rf"^cv:take:{refs[0]}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, rf"^cv:take:{refs[0]}$", chat_id=COMMITTEE_CHAT)  # no change
    counts = await case_repo.counts_by_status(h.services.db)
    assert counts == await recount(h) == {"new": 10, "approved": 1, "in_review": 1}


async def test_every_page_is_the_one_offset_would_give(harness: Harness) -> None:
    h = harness
    for i in range(23):
        await full_intake(h, 900_000 + i)
    s = h.services
    for status in (None, "new"):
        for offset in (0, 10, 20, 30):
            found, total = await case_repo.page(s.db, s.ids, status, offset, 10)
            where = "WHERE status = 'new'" if status else ""
            rows = await s.db.fetchall(
                f"SELECT ref FROM cases {where} ORDER BY id DESC LIMIT 10 OFFSET ?",  # noqa: S608
                (offset,),
            )
            assert [c.ref for c in found] == [r["ref"] for r in rows]
            assert total == 23
    plan = await s.db.fetchall(
        "EXPLAIN QUERY PLAN SELECT id FROM cases ORDER BY id DESC LIMIT 10 OFFSET 20"
    )
    assert "COVERING INDEX cases_newest" in " ".join(str(r["detail"]) for r in plan)


async def test_the_counts_read_no_case(harness: Harness) -> None:
    h = harness
    statements: list[str] = []
    await h.services.db.conn.set_trace_callback(statements.append)
    try:
        await case_repo.counts_by_status(h.services.db)
        await case_repo.page(h.services.db, h.services.ids, "new", 0, 10)
    finally:
        await h.services.db.conn.set_trace_callback(None)  # type: ignore[arg-type]
    assert statements and not [s for s in statements if "COUNT(" in s.upper()]
