"""Every statement the bot runs on its big tables uses an index: none reads a whole table.

The statements are those the bot really executes (traced on its connection) while a family
applies, members take, decide, read and export, a task is published, answered, changed and
cancelled, a person erases their data and retention runs. Each is then explained on an empty
database with the same schema and no statistics (the plans a database of any size gets before
ANALYZE), and a plan that scans one of the tables that grow with the years fails the test,
except for the statements listed in ALLOWED, each with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot import privacy, reminders
from bot.storage import Database
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness
from tests.test_review import FAMILY, approve, new_case
from tests.test_tasks import DRIVERS, new_task, volunteer

BIG = ("cases", "outbox", "audit", "reminders", "assignments", "volunteers")
# A big table named in a statement, and its alias if it has one (``FROM outbox o``).
NAMED = re.compile(
    rf"\b(?:FROM|JOIN|UPDATE|INTO)\s+({'|'.join(BIG)})\b(?:\s+(?:AS\s+)?([a-z]\w?))?"
)
# Only a status to search by: every sent message, every pending reminder.
BY_STATUS_ONLY = re.compile(r"^SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \(status=\?\)$")

# Statements that read a whole big table on purpose, by a fragment of their text.
ALLOWED = {
    # The matching of a broadcast reads every active volunteer (by the status index, but the
    # planner may prefer the join's other side).
    "FROM volunteers v JOIN people p": "a broadcast: every active volunteer, by design",
    "FROM volunteers ORDER BY CASE status": "/volunteers lists every volunteer, by design",
    # Daily retention, off the hot path: one pass over each table.
    "status IN ('sent', 'failed', 'skipped') AND created_at <": "daily retention of the outbox",
    "FROM cases WHERE updated_at <": "daily retention of cases",
    "user_id NOT IN (SELECT user_id FROM cases": "daily retention of forgotten people",
    # The outbox's queue is what is waiting to be sent: few rows, by status.
    "FROM outbox WHERE status = 'pending'": "the queue of messages waiting to be sent",
    # A page of /cases skips the entries before it in the small index of ids (counts are
    # kept in case_counts).
    "FROM cases ORDER BY id DESC LIMIT": "a page of /cases, by the index of ids",
    # Key rotation re-encrypts every value of every encrypted column, by design.
    "IS NOT NULL AND length(": "key rotation: every encrypted value",
}

SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "CREATE", "ALTER")


async def scenario(h: Harness) -> None:
    """What a committee does in a week: every kind of statement at least once."""
    ref = await new_case(h)
    await h.press(MEMBER, rf"^cv:take:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    await approve(h, ref)
    await h.say(MEMBER, "/cases")
    await h.press_data(MEMBER, "cl:approved:0")
    await h.say(MEMBER, f"/case {ref}")
    await h.say(MEMBER, f"/audit {ref}")
    await h.say(FAMILY, "/status")
    await h.say(FAMILY, "/mydata")
    await h.say(MEMBER, "/stats")
    await h.say(MEMBER, "/export")
    await h.press(MEMBER, r"^ex:full$")
    await h.say(MEMBER, "/export")
    await h.press(MEMBER, r"^ex:anon$")
    for user in DRIVERS[:2]:
        await volunteer(h, user)
    task = await new_task(h, needed=1)
    for user in DRIVERS[:2]:
        await h.press_data(user, f"tk:a:{task}", chat_id=user)
    await h.say(MEMBER, f"/task {task}")
    await h.press(MEMBER, rf"^tm:t:{task}$")
    await h.say(MEMBER, "2030-01-02 10:30")
    await h.press_data(DRIVERS[0], f"tk:w:{task}", chat_id=DRIVERS[0])
    await reminders.sync(h.app, h.services)
    await h.say(MEMBER, f"/task {task}")
    await h.press(MEMBER, rf"^tm:x:{task}$")
    await h.press(MEMBER, rf"^tm:X:{task}$")
    await h.say(DRIVERS[1], "/delete_my_data")
    await h.press(DRIVERS[1], r"^pd:y$")
    await h.say(FAMILY, "/delete_my_data")
    await h.press(FAMILY, r"^pd:y$")
    s = h.services
    await privacy.purge(s.db, s.ids, s.settings.retention, COMMITTEE_CHAT)
    await privacy.purge(s.db, s.ids, s.settings.retention, COMMITTEE_CHAT, dry_run=True)


def scans(sql: str, plan: list[str]) -> list[str]:
    """The steps of ``plan`` that read a whole big table, or all its rows of one status, or
    build an index for the statement (as costly, at every run)."""
    names = {}
    for table, alias in NAMED.findall(sql):
        names[table] = table
        if alias and alias.upper() not in ("ON", "AS", "SET"):
            names[alias] = table
    found = []
    for step in plan:
        scanned = re.match(r"^SCAN (\w+)", step)
        weak = BY_STATUS_ONLY.match(step)
        if (
            "AUTOMATIC" in step
            or (scanned and scanned.group(1) in names)
            or (weak and names.get(weak.group(1)) in ("outbox", "reminders"))
        ):
            found.append(step)
    return found


async def test_no_statement_scans_a_big_table(harness: Harness, tmp_path: Path) -> None:
    h = harness
    statements: list[str] = []
    await h.services.db.conn.set_trace_callback(statements.append)
    try:
        await scenario(h)
    finally:
        await h.services.db.conn.set_trace_callback(None)  # type: ignore[arg-type]
    empty = Database(tmp_path / "plans.db")
    await empty.open(h.services.cipher)
    try:
        seen: dict[str, list[str]] = {}
        for sql in statements:
            text = " ".join(sql.split())
            if text.upper().startswith(SKIP) or text in seen:
                continue
            rows = await empty.fetchall("EXPLAIN QUERY PLAN " + text)
            seen[text] = [str(r["detail"]) for r in rows]
    finally:
        await empty.close()
    assert len(seen) > 50, "the scenario ran too few statements to mean anything"
    offending = {
        text: found
        for text, plan in seen.items()
        if (found := scans(text, plan)) and not any(fragment in text for fragment in ALLOWED)
    }
    assert not offending, "\n\n".join(f"{sql[:300]}\n  -> {p}" for sql, p in offending.items())
