"""What retention removes, besides cases: one rule per kind of row.

Each rule is a single WHERE clause over one table, used both to count (``purge --dry-run``)
and to act, so that what the dry run announces is what the purge does. The clause takes one
kind of parameter, the cut-off (each ``?``): rows untouched since then are stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.db import Database, iso


@dataclass(frozen=True)
class Rule:
    """Stale rows of ``table`` (``where``), deleted, or rewritten with ``change``."""

    table: str
    where: str
    change: str | None = None


# A message the delivery worker will never need again: sent, failed or skipped. Two kinds of
# old rows are still read, and kept: the newest sent card of each case (the card is edited in
# place through its message id for as long as the case exists, even after a reopen; the row
# names the group and the case, no person), and the offers of a broadcast whose "sent X of N"
# message is not final yet (it counts them).
SPENT_MESSAGES = (
    "status IN ('sent', 'failed', 'skipped') AND created_at < ? "
    "AND id NOT IN (SELECT MAX(id) FROM outbox WHERE kind = 'committee_card' "
    "AND status = 'sent' GROUP BY case_id) "
    "AND (task_id IS NULL OR task_id NOT IN (SELECT id FROM tasks WHERE "
    "progress_message_id IS NOT NULL AND progress_done = 0))"
)

# A task that ended (or was cancelled) before the cut-off and still has words or a case.
# An empty ``content`` is a task whose title and description were removed.
ENDED_TASKS = (
    "(length(content) > 0 OR case_id IS NOT NULL) AND ("
    "(status = 'cancelled' AND updated_at < ?) OR "
    "datetime(starts_at, '+' || duration_min || ' minutes') < datetime(?))"
)

# A person the bot has nothing of any more: no case, volunteer profile, draft or session,
# nothing changed and nothing done (audited) since the cut-off.
FORGOTTEN_PEOPLE = (
    "updated_at < ? "
    "AND user_id NOT IN (SELECT user_id FROM cases WHERE user_id IS NOT NULL) "
    "AND user_id NOT IN (SELECT user_id FROM volunteers) "
    "AND user_id NOT IN (SELECT user_id FROM drafts) "
    "AND user_id NOT IN (SELECT user_id FROM sessions) "
    "AND user_id NOT IN (SELECT actor_id FROM audit WHERE actor_id IS NOT NULL "
    "AND at >= ?)"
)

# Feedback nobody touched (answered, closed, or left open) for the retention period: the words,
# the answer and the link to the person all go with the row.
STALE_FEEDBACK = "updated_at < ?"

# An activity that started (or was cancelled) before the cut-off and still has its words; and
# the answers of the people invited to it, which tie them to it.
ENDED_ACTIVITIES = (
    "length(content) > 0 AND ((status = 'cancelled' AND updated_at < ?) OR "
    "datetime(starts_at) < datetime(?))"
)
ENDED_ACTIVITY_ANSWERS = (
    "activity_id IN (SELECT id FROM activities WHERE (status = 'cancelled' AND "
    "updated_at < ?) OR datetime(starts_at) < datetime(?))"
)

RULES = {
    "drafts": Rule("drafts", "updated_at < ?"),
    "sessions": Rule("sessions", "updated_at < ?"),
    "outbox": Rule("outbox", SPENT_MESSAGES),
    "tasks": Rule("tasks", ENDED_TASKS, "content = X'', case_id = NULL"),
    "people": Rule("people", FORGOTTEN_PEOPLE),
    "feedback": Rule("feedback", STALE_FEEDBACK),
    "activities": Rule("activities", ENDED_ACTIVITIES, "content = X''"),
    "activity_answers": Rule("activity_answers", ENDED_ACTIVITY_ANSWERS),
}


async def count(db: Database, kind: str, before: datetime) -> int:
    """How many rows of ``kind`` are stale since ``before`` (nothing is changed)."""
    rule = RULES[kind]
    row = await db.fetchone(
        f"SELECT COUNT(*) FROM {rule.table} WHERE {rule.where}",  # noqa: S608
        _cutoffs(rule, before),
    )
    return int(row[0]) if row else 0


async def apply(conn: aiosqlite.Connection, kind: str, before: datetime) -> int:
    """Delete (or strip) the stale rows of ``kind`` inside the caller's transaction."""
    rule = RULES[kind]
    if rule.change is None:
        sql = f"DELETE FROM {rule.table} WHERE {rule.where}"  # noqa: S608
    else:
        sql = f"UPDATE {rule.table} SET {rule.change} WHERE {rule.where}"  # noqa: S608
    cursor = await conn.execute(sql, _cutoffs(rule, before))
    return cursor.rowcount


def _cutoffs(rule: Rule, before: datetime) -> tuple[str, ...]:
    return (iso(before),) * rule.where.count("?")
