"""A person's data: what is stored about them (/mydata), and its erasure (/delete_my_data).

Erasure keeps only what statistics need and cannot identify anyone: a case keeps its option
ids and counts; its personal answers, the family's answers to questions, the member's message
to them and the link to their Telegram account are deleted, and the audit log forgets who
they were. Volunteers leave the tasks they held (the waiting list moves up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiosqlite

from bot.crypto import Cipher
from bot.storage import Database, audit, drafts, outbox, volunteers
from bot.storage import cases as case_repo
from bot.storage.db import iso, utcnow
from bot.tasks import TaskService


@dataclass
class Stored:
    """Everything stored about one person, decrypted for them."""

    language: str | None
    cases: list[tuple[case_repo.Case, dict[str, Any], list[tuple[str, Any]]]] = field(
        default_factory=list
    )
    draft: dict[str, Any] | None = None
    volunteer: volunteers.Volunteer | None = None

    @property
    def empty(self) -> bool:
        """Nothing at all is stored."""
        return not (self.language or self.cases or self.draft or self.volunteer)


async def collect(db: Database, cipher: Cipher, user_id: int) -> Stored:
    """What the bot stores about ``user_id``."""
    row = await db.fetchone("SELECT language FROM people WHERE user_id = ?", (user_id,))
    stored = Stored(language=row["language"] if row else None)
    for case in await case_repo.for_user(db, user_id):
        rows = await db.fetchall(
            "SELECT question, answer FROM info_requests WHERE case_id = ? ORDER BY id",
            (case.id,),
        )
        exchanges = [
            (
                cipher.decrypt(r["question"]),
                cipher.decrypt_json(r["answer"]) if r["answer"] else None,
            )
            for r in rows
        ]
        stored.cases.append((case, case_repo.personal(cipher, case), exchanges))
    stored.draft = await drafts.load(db, cipher, user_id)
    stored.volunteer = await volunteers.get(db, cipher, user_id)
    return stored


async def expired(db: Database, days: int) -> list[tuple[int, str]]:
    """Closed cases untouched for ``days`` that still hold personal data: (id, ref)."""
    cutoff = iso(utcnow() - timedelta(days=days))
    rows = await db.fetchall(
        "SELECT id, ref FROM cases WHERE status = 'closed' AND updated_at < ? AND "
        "(personal IS NOT NULL OR user_id IS NOT NULL) ORDER BY id",
        (cutoff,),
    )
    return [(int(r["id"]), str(r["ref"])) for r in rows]


async def purge(db: Database, days: int, committee_chat_id: int | None) -> int:
    """Retention: closed cases lose their personal data after ``days``; return how many."""
    found = await expired(db, days)
    async with db.transaction() as conn:
        for case_id, _ in found:
            await _anonymise(conn, case_id, committee_chat_id)
            await audit.record(conn, "retention_purge", actor_id=None, case_id=case_id)
    return len(found)


async def _anonymise(
    conn: aiosqlite.Connection, case_id: int, committee_chat_id: int | None
) -> None:
    """Keep a case's figures, drop everything that could identify the family."""
    await conn.execute(
        "UPDATE cases SET personal = NULL, decision_message = NULL, user_id = NULL WHERE id = ?",
        (case_id,),
    )
    await conn.execute("DELETE FROM info_requests WHERE case_id = ?", (case_id,))
    await conn.execute("DELETE FROM notes WHERE case_id = ?", (case_id,))
    if committee_chat_id is not None:
        await outbox.enqueue(conn, "card_update", committee_chat_id, case_id=case_id)


async def erase(
    db: Database, tasks: TaskService, user_id: int, committee_chat_id: int | None
) -> int:
    """Delete the person's data; return how many cases were anonymised."""
    for task, _ in await tasks.mine(user_id):
        await tasks.withdraw(task.ref, user_id)
    async with db.transaction() as conn:
        async with conn.execute("SELECT id FROM cases WHERE user_id = ?", (user_id,)) as cur:
            case_ids = [int(r["id"]) for r in await cur.fetchall()]
        for case_id in case_ids:
            await _anonymise(conn, case_id, committee_chat_id)
        await conn.execute(
            "DELETE FROM outbox WHERE chat_id = ? AND status = 'pending'", (user_id,)
        )
        await conn.execute("DELETE FROM volunteers WHERE user_id = ?", (user_id,))
        await conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        await conn.execute("DELETE FROM reminders WHERE volunteer_id = ?", (user_id,))
        await conn.execute("DELETE FROM assignments WHERE volunteer_id = ?", (user_id,))
        await conn.execute("DELETE FROM people WHERE user_id = ?", (user_id,))
        await conn.execute("UPDATE audit SET actor_id = NULL WHERE actor_id = ?", (user_id,))
        for case_id in case_ids:
            await audit.record(conn, "data_erased", actor_id=None, case_id=case_id)
        if not case_ids:
            await audit.record(conn, "data_erased", actor_id=None)
    return len(case_ids)
