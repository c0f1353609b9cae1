"""Tasks and their slots, without Telegram (part of issue 4).

A slot is taken with one conditional INSERT (accepted only while fewer than ``needed`` hold
one), so many volunteers accepting at once never overfill a task; the others join the
waitlist in arrival order. Withdrawing frees the slot and promotes the first on the waitlist
in the same transaction; every message this causes goes through the outbox.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.crypto import Cipher
from bot.storage import Database, audit, outbox, utcnow
from bot.storage.db import iso, parse_iso
from bot.storage.drafts import end_session
from bot.storage.volunteers import ACTIVE

log = logging.getLogger(__name__)

OPEN, CANCELLED = "open", "cancelled"
ACCEPTED, WAITLISTED, DECLINED, WITHDRAWN = "accepted", "waitlisted", "declined", "withdrawn"
ANYWHERE = "anywhere"


@dataclass(frozen=True)
class Task:
    """A published task."""

    id: int
    ref: str
    creator_id: int
    status: str
    title: str
    description: str
    skill: str
    area: str
    starts_at: datetime
    duration_min: int
    needed: int
    taken: int


@dataclass(frozen=True)
class Progress:
    """How far a task's broadcast has gone."""

    task_id: int
    ref: str
    chat_id: int
    message_id: int
    sent: int
    blocked: int
    failed: int
    total: int

    @property
    def finished(self) -> bool:
        """Every offer was sent or given up."""
        return self.sent + self.blocked + self.failed >= self.total


@dataclass(frozen=True)
class Answer:
    """What happened to a volunteer's Accept, Decline or Withdraw."""

    status: str  # accepted | waitlisted | declined | withdrawn | full | closed | already
    position: int = 0
    promoted: int | None = None


class TaskService:
    """Publishing tasks, taking slots, reminding volunteers."""

    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        offsets: tuple[timedelta, ...] = (),
        committee_chat_id: int | None = None,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.offsets = offsets
        self.committee_chat_id = committee_chat_id

    async def _remind(self, conn: aiosqlite.Connection, task_id: int, volunteer: int) -> None:
        """The volunteer's reminders: before the start (REMINDER_OFFSETS), and after it."""
        async with conn.execute(
            "SELECT starts_at, duration_min FROM tasks WHERE id = ?", (task_id,)
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        starts = parse_iso(row["starts_at"])
        now = utcnow()
        dues = [("task_reminder", max(starts - offset, now)) for offset in self.offsets]
        dues.append(("task_followup", starts + timedelta(minutes=row["duration_min"])))
        for kind, due in dues:
            await conn.execute(
                "INSERT OR IGNORE INTO reminders (kind, task_id, volunteer_id, due_at) "
                "VALUES (?, ?, ?, ?)",
                (kind, task_id, volunteer, iso(due)),
            )

    async def claim_reminder(self, reminder_id: int) -> bool:
        """Mark a task reminder done and queue its message, once.

        A reminder due before the start whose time passed while the bot was down is still
        sent if the task has not started; otherwise it is skipped (and logged).
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE reminders SET status = 'sent' WHERE id = ? AND status = 'pending' "
                "RETURNING kind, task_id, volunteer_id",
                (reminder_id,),
            )
            row = await cursor.fetchone()
            await cursor.close()
            if row is None:
                return False
            async with conn.execute(
                "SELECT t.status, t.starts_at, a.status AS mine FROM tasks t JOIN assignments "
                "a ON a.task_id = t.id AND a.volunteer_id = ? WHERE t.id = ?",
                (row["volunteer_id"], row["task_id"]),
            ) as cur:
                state = await cur.fetchone()
            if state is None or state["status"] != OPEN or state["mine"] != ACCEPTED:
                return True
            if row["kind"] == "task_reminder" and parse_iso(state["starts_at"]) <= utcnow():
                await conn.execute(
                    "UPDATE reminders SET status = 'skipped' WHERE id = ?", (reminder_id,)
                )
                log.info("Reminder %d skipped: its task has started", reminder_id)
                return True
            await outbox.enqueue(conn, row["kind"], row["volunteer_id"], task_id=row["task_id"])
        return True

    async def people_of(self, task_id: int) -> dict[str, int]:
        """How many volunteers accepted, wait, declined."""
        rows = await self.db.fetchall(
            "SELECT status, COUNT(*) AS n FROM assignments WHERE task_id = ? GROUP BY status",
            (task_id,),
        )
        return {r["status"]: int(r["n"]) for r in rows}

    async def cancel(self, ref: str, member_id: int) -> Task | None:
        """Cancel an open task; everyone who accepted or waits is told."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE tasks SET status = 'cancelled', updated_at = ? WHERE ref = ? AND "
                "status = 'open' RETURNING id",
                (iso(utcnow()), ref.upper()),
            )
            row = await cursor.fetchone()
            await cursor.close()
            if row is None:
                return None
            await self._tell_holders(conn, int(row["id"]), "task_cancelled")
            await conn.execute(
                "DELETE FROM reminders WHERE task_id = ? AND status = 'pending'", (row["id"],)
            )
            await audit.record(
                conn, "task_cancelled", actor_id=member_id, detail=f"task {row['id']}"
            )
        return await self.get(ref)

    async def change(
        self,
        ref: str,
        member_id: int,
        *,
        starts_at: datetime | None = None,
        description: str | None = None,
        ends_session: bool = False,
    ) -> Task | None:
        """Change the time or the description; holders are told, reminders follow the time.

        ``ends_session``: the member's change wizard ends in the same transaction.
        """
        task = await self.get(ref)
        if task is None or task.status != OPEN:
            return None
        content = self.cipher.encrypt_json(
            {"title": task.title, "description": description or task.description}
        )
        async with self.db.transaction() as conn:
            if ends_session:
                await end_session(conn, member_id)
            await conn.execute(
                "UPDATE tasks SET content = ?, starts_at = ?, updated_at = ? WHERE id = ?",
                (content, iso(starts_at or task.starts_at), iso(utcnow()), task.id),
            )
            if starts_at is not None:
                await conn.execute(
                    "DELETE FROM reminders WHERE task_id = ? AND status = 'pending'", (task.id,)
                )
                async with conn.execute(
                    "SELECT volunteer_id FROM assignments WHERE task_id = ? AND "
                    "status = 'accepted'",
                    (task.id,),
                ) as cursor:
                    holders = [int(r["volunteer_id"]) for r in await cursor.fetchall()]
                for volunteer in holders:
                    await self._remind(conn, task.id, volunteer)
            await self._tell_holders(conn, task.id, "task_changed")
            await audit.record(conn, "task_changed", actor_id=member_id, detail=f"task {task.id}")
        return await self.get(ref)

    async def _tell_holders(self, conn: aiosqlite.Connection, task_id: int, kind: str) -> None:
        async with conn.execute(
            "SELECT volunteer_id FROM assignments WHERE task_id = ? AND status IN "
            "('accepted', 'waitlisted')",
            (task_id,),
        ) as cursor:
            for row in await cursor.fetchall():
                await outbox.enqueue(conn, kind, int(row["volunteer_id"]), task_id=task_id)

    async def track(self, task_id: int, chat_id: int, message_id: int) -> None:
        """Remember the member's progress message of a broadcast."""
        await self.db.write(
            "UPDATE tasks SET progress_chat = ?, progress_message_id = ? WHERE id = ?",
            (chat_id, message_id, task_id),
        )

    async def progress(self) -> list[Progress]:
        """Broadcasts whose progress message is not final yet, with their counts."""
        rows = await self.db.fetchall(
            "SELECT t.id, t.ref, t.progress_chat, t.progress_message_id, "
            "SUM(o.status = 'sent') AS sent, "
            "SUM(o.status = 'failed' AND o.error = 'Forbidden') AS blocked, "
            "SUM(o.status IN ('failed', 'skipped') AND COALESCE(o.error, '') != 'Forbidden') "
            "AS failed, COUNT(o.id) AS total FROM tasks t JOIN outbox o ON o.task_id = t.id "
            "AND o.kind = 'task_offer' WHERE t.progress_message_id IS NOT NULL AND "
            "t.progress_done = 0 GROUP BY t.id"
        )
        return [
            Progress(
                int(r["id"]),
                r["ref"],
                int(r["progress_chat"]),
                int(r["progress_message_id"]),
                int(r["sent"] or 0),
                int(r["blocked"] or 0),
                int(r["failed"] or 0),
                int(r["total"]),
            )
            for r in rows
        ]

    async def progress_done(self, task_id: int) -> None:
        """The final summary was shown."""
        await self.db.write("UPDATE tasks SET progress_done = 1 WHERE id = ?", (task_id,))

    async def outcome(self, ref: str, volunteer_id: int, outcome: str) -> bool:
        """Record 'coming', 'done' or 'not_done'; the task's creator is told of the last two."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT t.id, t.creator_id FROM tasks t JOIN assignments a ON a.task_id = t.id "
                "WHERE t.ref = ? AND a.volunteer_id = ? AND a.status = 'accepted'",
                (ref.upper(), volunteer_id),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return False
            await conn.execute(
                "UPDATE assignments SET outcome = ?, updated_at = ? WHERE task_id = ? AND "
                "volunteer_id = ?",
                (outcome, iso(utcnow()), row["id"], volunteer_id),
            )
            if outcome in ("done", "not_done"):
                await outbox.enqueue(
                    conn,
                    "task_outcome",
                    row["creator_id"],
                    task_id=row["id"],
                    payload=self.cipher.encrypt_json(
                        {"volunteer": volunteer_id, "outcome": outcome}
                    ),
                )
        return True

    def _task(self, row: aiosqlite.Row) -> Task:
        content = self.cipher.decrypt_json(row["content"])
        return Task(
            row["id"],
            row["ref"],
            row["creator_id"],
            row["status"],
            content["title"],
            content["description"],
            row["skill"],
            row["area"],
            parse_iso(row["starts_at"]),
            row["duration_min"],
            row["needed"],
            row["taken"],
        )

    async def get(self, ref: str) -> Task | None:
        """The task with this reference."""
        rows = await self.db.fetchall(SELECT_TASK + " WHERE t.ref = ?", (ref.upper(),))
        return self._task(rows[0]) if rows else None

    async def matching_volunteers(self, skill: str, area: str) -> list[int]:
        """Active, reachable volunteers with the skill who help in the area (or anywhere)."""
        rows = await self.db.fetchall(
            "SELECT v.user_id, v.answers FROM volunteers v JOIN people p ON p.user_id = "
            "v.user_id WHERE v.status = ? AND p.reachable = 1",
            (ACTIVE,),
        )
        found = []
        for row in rows:
            answers: dict[str, Any] = json.loads(row["answers"])
            areas = answers.get("areas", [])
            if skill in answers.get("skills", []) and (
                area in areas or ANYWHERE in areas or area == ANYWHERE
            ):
                found.append(int(row["user_id"]))
        return found

    async def publish(
        self,
        creator_id: int,
        title: str,
        description: str,
        skill: str,
        area: str,
        starts_at: datetime,
        duration_min: int,
        needed: int,
        case_id: int | None,
        *,
        ends_session: bool = False,
    ) -> tuple[Task, int]:
        """Create the task and queue its offer to every matching volunteer, at once.

        ``ends_session``: the creator's wizard ends in the same transaction.
        """
        volunteers = await self.matching_volunteers(skill, area)
        now = iso(utcnow())
        content = self.cipher.encrypt_json({"title": title, "description": description})
        async with self.db.transaction() as conn:
            if ends_session:
                await end_session(conn, creator_id)
            for _ in range(20):
                ref = "T" + "".join(
                    secrets.choice("234679ACDEFGHJKMNPQRTUVWXYZ") for _ in range(5)
                )
                async with conn.execute("SELECT 1 FROM tasks WHERE ref = ?", (ref,)) as c:
                    if await c.fetchone() is None:
                        break
            cursor = await conn.execute(
                "INSERT INTO tasks (ref, creator_id, content, skill, area, starts_at, "
                "duration_min, needed, case_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ref,
                    creator_id,
                    content,
                    skill,
                    area,
                    iso(starts_at),
                    duration_min,
                    needed,
                    case_id,
                    now,
                    now,
                ),
            )
            task_id = int(cursor.lastrowid or 0)
            for volunteer in volunteers:
                await outbox.enqueue(conn, "task_offer", volunteer, task_id=task_id)
            await audit.record(
                conn,
                "task_published",
                actor_id=creator_id,
                detail=f"task {task_id}, {len(volunteers)} volunteers",
            )
        task = await self.get(ref)
        assert task is not None
        return task, len(volunteers)

    async def accept(self, ref: str, volunteer_id: int) -> Answer:
        """Take a slot (one conditional INSERT), else join the waitlist."""
        async with self.db.transaction() as conn:
            task = await self._open(conn, ref)
            if task is None:
                return Answer("closed")
            async with conn.execute(
                "SELECT status, position FROM assignments WHERE task_id = ? AND volunteer_id = ?",
                (task["id"], volunteer_id),
            ) as cursor:
                mine = await cursor.fetchone()
            if mine is not None and mine["status"] in (ACCEPTED, WAITLISTED):
                return Answer("already", int(mine["position"]))
            now = iso(utcnow())
            cursor = await conn.execute(
                "INSERT INTO assignments (task_id, volunteer_id, status, created_at, updated_at) "
                "SELECT ?, ?, 'accepted', ?, ? WHERE (SELECT COUNT(*) FROM assignments "
                "WHERE task_id = ? AND status = 'accepted') < ? "
                "ON CONFLICT(task_id, volunteer_id) DO UPDATE SET status = 'accepted', "
                "position = 0, updated_at = excluded.updated_at",
                (task["id"], volunteer_id, now, now, task["id"], task["needed"]),
            )
            if cursor.rowcount == 1:
                await audit.record(
                    conn, "task_accepted", actor_id=volunteer_id, detail=f"task {task['id']}"
                )
                await self._remind(conn, task["id"], volunteer_id)
                return Answer(ACCEPTED)
            await conn.execute(
                "INSERT INTO assignments (task_id, volunteer_id, status, position, created_at, "
                "updated_at) SELECT ?, ?, 'waitlisted', COALESCE(MAX(position), 0) + 1, ?, ? "
                "FROM assignments WHERE task_id = ? AND status = 'waitlisted' "
                "ON CONFLICT(task_id, volunteer_id) DO UPDATE SET status = 'waitlisted', "
                "position = excluded.position, updated_at = excluded.updated_at",
                (task["id"], volunteer_id, now, now, task["id"]),
            )
            position = await self._place(conn, task["id"], volunteer_id)
        return Answer(WAITLISTED, position)

    async def decline(self, ref: str, volunteer_id: int) -> Answer:
        """The volunteer is not available for this task."""
        async with self.db.transaction() as conn:
            task = await self._open(conn, ref)
            if task is None:
                return Answer("closed")
            now = iso(utcnow())
            await conn.execute(
                "INSERT INTO assignments (task_id, volunteer_id, status, created_at, updated_at) "
                "VALUES (?, ?, 'declined', ?, ?) ON CONFLICT(task_id, volunteer_id) DO NOTHING",
                (task["id"], volunteer_id, now, now),
            )
        return Answer(DECLINED)

    async def withdraw(self, ref: str, volunteer_id: int) -> Answer:
        """Give the slot back; the first on the waitlist is promoted and told."""
        async with self.db.transaction() as conn:
            task = await self._open(conn, ref)
            if task is None:
                return Answer("closed")
            cursor = await conn.execute(
                "UPDATE assignments SET status = 'withdrawn', updated_at = ? WHERE task_id = ? "
                "AND volunteer_id = ? AND status IN ('accepted', 'waitlisted')",
                (iso(utcnow()), task["id"], volunteer_id),
            )
            if cursor.rowcount != 1:
                return Answer("closed")
            await conn.execute(
                "DELETE FROM reminders WHERE task_id = ? AND volunteer_id = ? AND "
                "status = 'pending'",
                (task["id"], volunteer_id),
            )
            async with conn.execute(
                "SELECT creator_id FROM tasks WHERE id = ?", (task["id"],)
            ) as cur:
                creator = await cur.fetchone()
            if creator is not None:
                await outbox.enqueue(
                    conn,
                    "task_dropout",
                    creator["creator_id"],
                    task_id=task["id"],
                    payload=self.cipher.encrypt_json({"volunteer": volunteer_id}),
                )
            promoted = await self._promote(conn, task["id"])
            await audit.record(
                conn, "task_withdrawn", actor_id=volunteer_id, detail=f"task {task['id']}"
            )
        return Answer(WITHDRAWN, promoted=promoted)

    async def _promote(self, conn: aiosqlite.Connection, task_id: int) -> int | None:
        """Fill free slots from the waitlist, in order; return the first promoted."""
        async with conn.execute(
            "SELECT needed - (SELECT COUNT(*) FROM assignments WHERE task_id = t.id AND "
            "status = 'accepted') AS free FROM tasks t WHERE id = ?",
            (task_id,),
        ) as cursor:
            row = await cursor.fetchone()
        free = int(row["free"]) if row else 0
        first = None
        for _ in range(max(free, 0)):
            async with conn.execute(
                "SELECT volunteer_id FROM assignments WHERE task_id = ? AND status = "
                "'waitlisted' ORDER BY position LIMIT 1",
                (task_id,),
            ) as cursor:
                waiting = await cursor.fetchone()
            if waiting is None:
                break
            volunteer = int(waiting["volunteer_id"])
            await conn.execute(
                "UPDATE assignments SET status = 'accepted', position = 0, updated_at = ? "
                "WHERE task_id = ? AND volunteer_id = ?",
                (iso(utcnow()), task_id, volunteer),
            )
            await outbox.enqueue(conn, "task_promoted", volunteer, task_id=task_id)
            await self._remind(conn, task_id, volunteer)
            first = first or volunteer
        return first

    async def _open(self, conn: aiosqlite.Connection, ref: str) -> aiosqlite.Row | None:
        async with conn.execute(
            "SELECT id, needed FROM tasks WHERE ref = ? AND status = 'open' AND starts_at > ?",
            (ref.upper(), iso(utcnow())),
        ) as cursor:
            return await cursor.fetchone()

    async def _place(self, conn: aiosqlite.Connection, task_id: int, volunteer_id: int) -> int:
        async with conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE task_id = ? AND status = 'waitlisted' AND "
            "position <= (SELECT position FROM assignments WHERE task_id = ? AND "
            "volunteer_id = ?)",
            (task_id, task_id, volunteer_id),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def open_for(self, skills: list[str], areas: list[str]) -> list[Task]:
        """Open tasks, not started yet, that fit a volunteer, soonest first."""
        rows = await self.db.fetchall(
            SELECT_TASK + " WHERE t.status = 'open' AND t.starts_at > ? ORDER BY t.starts_at",
            (iso(utcnow()),),
        )
        return [
            self._task(r)
            for r in rows
            if r["skill"] in skills
            and (r["area"] in areas or ANYWHERE in areas or r["area"] == ANYWHERE)
        ]

    async def mine(self, volunteer_id: int) -> list[tuple[Task, str]]:
        """The tasks a volunteer holds or waits for, upcoming first."""
        rows = await self.db.fetchall(
            "SELECT t.*, a.status AS mine, (SELECT COUNT(*) FROM assignments a2 WHERE "
            "a2.task_id = t.id AND a2.status = 'accepted') AS taken FROM tasks t JOIN "
            "assignments a ON a.task_id = t.id AND a.volunteer_id = ? WHERE a.status IN "
            "('accepted', 'waitlisted') AND t.status = 'open' ORDER BY t.starts_at",
            (volunteer_id,),
        )
        return [(self._task(r), str(r["mine"])) for r in rows]


SELECT_TASK = (
    "SELECT t.*, (SELECT COUNT(*) FROM assignments a2 WHERE a2.task_id = t.id AND "
    "a2.status = 'accepted') AS taken FROM tasks t"
)
