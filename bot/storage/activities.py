"""Community activities and the answers of the people invited to them.

The words of an activity (title, description, place) are encrypted; its start, capacity,
audience and area are in clear. Each person invited has a row (``activity_answers``) by
pseudonym, with their chat id encrypted: it is what lets them answer (nobody else can), and
what the counts are made of. A place is taken with one conditional UPDATE (it applies only
while fewer than ``capacity`` are coming), so many answering at once never overfill it; the
others wait in arrival order (``position``). Whether a person wants to hear about activities
at all is a row of ``activity_choices``, by pseudonym.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.ids import Ids
from bot.storage.cases import REF_ALPHABET, REF_ATTEMPTS
from bot.storage.db import Database, iso, parse_iso, utcnow

OPEN, CANCELLED = "open", "cancelled"
INVITED, COMING, WAITING, NOT_COMING = "invited", "coming", "waiting", "not_coming"
ANNOUNCEMENT = "activity_announcement"  # the outbox kind whose sending the counts follow
NO_WORDS = {"title": "", "description": "", "place": ""}


@dataclass(frozen=True)
class Activity:
    """An announced activity, its words opened."""

    id: int
    ref: str
    creator_id: int
    status: str
    title: str
    description: str
    place: str
    starts_at: datetime
    capacity: int | None
    audience: str
    area: str | None


@dataclass(frozen=True)
class Counts:
    """How the announcement went and what people answered: numbers only, never who."""

    invited: int
    sent: int
    pending: int
    coming: int
    not_coming: int
    waiting: int


@dataclass(frozen=True)
class Shown:
    """Where the member's counts message is."""

    activity_id: int
    chat_id: int
    message_id: int


def _activity(ids: Ids, row: aiosqlite.Row) -> Activity:
    # Empty once retention removed the words of an ended activity; its facts stay.
    words = ids.cipher.decrypt_json(row["content"]) if row["content"] else NO_WORDS
    return Activity(
        int(row["id"]),
        str(row["ref"]),
        ids.open(row["creator"]),
        str(row["status"]),
        str(words["title"]),
        str(words["description"]),
        str(words["place"]),
        parse_iso(row["starts_at"]),
        None if row["capacity"] is None else int(row["capacity"]),
        str(row["audience"]),
        row["area"],
    )


def _content(ids: Ids, title: str, description: str, place: str) -> bytes:
    return ids.cipher.encrypt_json({"title": title, "description": description, "place": place})


async def insert(
    conn: aiosqlite.Connection,
    ids: Ids,
    *,
    creator_id: int,
    title: str,
    description: str,
    place: str,
    starts_at: datetime,
    capacity: int | None,
    audience: str,
    area: str | None,
) -> tuple[int, str]:
    """Create an activity with a fresh reference inside the caller's transaction: (id, ref)."""
    now = iso(utcnow())
    for _ in range(REF_ATTEMPTS):
        ref = "A" + "".join(secrets.choice(REF_ALPHABET) for _ in range(5))
        async with conn.execute("SELECT 1 FROM activities WHERE ref = ?", (ref,)) as cursor:
            if await cursor.fetchone() is None:
                break
    cursor = await conn.execute(
        "INSERT INTO activities (ref, creator_id, creator, content, starts_at, capacity, "
        "audience, area, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref,
            ids.pid(creator_id),
            ids.seal(creator_id),
            _content(ids, title, description, place),
            iso(starts_at),
            capacity,
            audience,
            area,
            now,
            now,
        ),
    )
    return int(cursor.lastrowid or 0), ref


async def invite(
    conn: aiosqlite.Connection, activity_id: int, to: Sequence[tuple[int, bytes]]
) -> None:
    """Invite each of ``to`` (pseudonym, encrypted chat id) and queue their announcement,
    inside the caller's transaction, in one statement each."""
    now = iso(utcnow())
    await conn.executemany(
        "INSERT OR IGNORE INTO activity_answers (activity_id, person_id, person, status, "
        "created_at, updated_at) VALUES (?, ?, ?, 'invited', ?, ?)",
        [(activity_id, pid, sealed, now, now) for pid, sealed in to],
    )
    await conn.executemany(
        "INSERT INTO outbox (kind, chat_id, chat, activity_id, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(ANNOUNCEMENT, pid, sealed, activity_id, now, now) for pid, sealed in to],
    )


async def by_ref(db: Database, ids: Ids, ref: str) -> Activity | None:
    """The activity with this reference (any case)."""
    row = await db.fetchone("SELECT * FROM activities WHERE ref = ?", (ref.upper(),))
    return None if row is None else _activity(ids, row)


async def by_id(db: Database, ids: Ids, activity_id: int) -> Activity | None:
    """The activity with this id."""
    row = await db.fetchone("SELECT * FROM activities WHERE id = ?", (activity_id,))
    return None if row is None else _activity(ids, row)


async def upcoming(db: Database, ids: Ids) -> list[Activity]:
    """Open activities that have not started, soonest first."""
    rows = await db.fetchall(
        "SELECT * FROM activities WHERE status = 'open' AND starts_at > ? ORDER BY starts_at",
        (iso(utcnow()),),
    )
    return [_activity(ids, r) for r in rows]


async def open_id(conn: aiosqlite.Connection, ref: str) -> tuple[int, int | None] | None:
    """(id, capacity) of the activity ``ref`` while it is open and has not started."""
    async with conn.execute(
        "SELECT id, capacity FROM activities WHERE ref = ? AND status = 'open' AND starts_at > ?",
        (ref.upper(), iso(utcnow())),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return int(row["id"]), None if row["capacity"] is None else int(row["capacity"])


async def answer_of(
    conn: aiosqlite.Connection, ids: Ids, activity_id: int, person: int
) -> tuple[str, int] | None:
    """(status, waiting position) of the person, None if they were not invited."""
    async with conn.execute(
        "SELECT status, position FROM activity_answers WHERE activity_id = ? AND person_id = ?",
        (activity_id, ids.pid(person)),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else (str(row["status"]), int(row["position"]))


async def take_place(
    conn: aiosqlite.Connection, ids: Ids, activity_id: int, person: int, capacity: int | None
) -> bool:
    """The invited person is coming, in one conditional UPDATE: False when it is full."""
    cursor = await conn.execute(
        "UPDATE activity_answers SET status = 'coming', position = 0, updated_at = ? "
        "WHERE activity_id = ? AND person_id = ? AND (? IS NULL OR (SELECT COUNT(*) FROM "
        "activity_answers WHERE activity_id = ? AND status = 'coming') < ?)",
        (iso(utcnow()), activity_id, ids.pid(person), capacity, activity_id, capacity),
    )
    return cursor.rowcount == 1


async def wait(conn: aiosqlite.Connection, ids: Ids, activity_id: int, person: int) -> int:
    """Put the person last on the waiting list; return their place on it (1: next)."""
    await conn.execute(
        "UPDATE activity_answers SET status = 'waiting', updated_at = ?, position = "
        "(SELECT COALESCE(MAX(position), 0) + 1 FROM activity_answers WHERE activity_id = ? "
        "AND status = 'waiting') WHERE activity_id = ? AND person_id = ?",
        (iso(utcnow()), activity_id, activity_id, ids.pid(person)),
    )
    async with conn.execute(
        "SELECT COUNT(*) FROM activity_answers WHERE activity_id = ? AND status = 'waiting' "
        "AND position <= (SELECT position FROM activity_answers WHERE activity_id = ? AND "
        "person_id = ?)",
        (activity_id, activity_id, ids.pid(person)),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def not_coming(conn: aiosqlite.Connection, ids: Ids, activity_id: int, person: int) -> str:
    """Record "not this time"; return what the person was before (their place, if coming,
    is then free)."""
    mine = await answer_of(conn, ids, activity_id, person)
    await conn.execute(
        "UPDATE activity_answers SET status = 'not_coming', position = 0, updated_at = ? "
        "WHERE activity_id = ? AND person_id = ?",
        (iso(utcnow()), activity_id, ids.pid(person)),
    )
    return "" if mine is None else mine[0]


async def promote_first(conn: aiosqlite.Connection, ids: Ids, activity_id: int) -> int | None:
    """Move the first on the waiting list to a place; their chat id, None if nobody waits."""
    async with conn.execute(
        "SELECT person_id, person FROM activity_answers WHERE activity_id = ? AND "
        "status = 'waiting' ORDER BY position LIMIT 1",
        (activity_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    await conn.execute(
        "UPDATE activity_answers SET status = 'coming', position = 0, updated_at = ? "
        "WHERE activity_id = ? AND person_id = ?",
        (iso(utcnow()), activity_id, row["person_id"]),
    )
    return ids.open(row["person"])


async def with_status(
    conn: aiosqlite.Connection, ids: Ids, activity_id: int, statuses: Sequence[str]
) -> list[int]:
    """The chat ids of the people of the activity in these statuses."""
    marks = ", ".join("?" for _ in statuses)
    async with conn.execute(
        "SELECT person FROM activity_answers WHERE activity_id = ? "  # noqa: S608
        f"AND status IN ({marks})",
        (activity_id, *statuses),
    ) as cursor:
        return [ids.open(r["person"]) for r in await cursor.fetchall()]


async def counts(db: Database, activity_id: int) -> Counts:
    """The numbers the member sees: how many invited, sent, still to send, and answers."""
    answers = {
        str(r["status"]): int(r["n"])
        for r in await db.fetchall(
            "SELECT status, COUNT(*) AS n FROM activity_answers WHERE activity_id = ? "
            "GROUP BY status",
            (activity_id,),
        )
    }
    sending = {
        str(r["status"]): int(r["n"])
        for r in await db.fetchall(
            "SELECT status, COUNT(*) AS n FROM outbox WHERE activity_id = ? AND kind = ? "
            "GROUP BY status",
            (activity_id, ANNOUNCEMENT),
        )
    }
    return Counts(
        invited=sum(answers.values()),
        sent=sending.get("sent", 0),
        pending=sending.get("pending", 0),
        coming=answers.get(COMING, 0),
        not_coming=answers.get(NOT_COMING, 0),
        waiting=answers.get(WAITING, 0),
    )


async def cancel(conn: aiosqlite.Connection, ref: str) -> int | None:
    """Cancel the activity if it is open (one conditional UPDATE); its id, or None."""
    cursor = await conn.execute(
        "UPDATE activities SET status = 'cancelled', updated_at = ? WHERE ref = ? AND "
        "status = 'open' RETURNING id",
        (iso(utcnow()), ref.upper()),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return None if row is None else int(row["id"])


async def rewrite(
    conn: aiosqlite.Connection, ids: Ids, activity: Activity, *, place: str, starts_at: datetime
) -> None:
    """A new place or start, inside the caller's transaction."""
    await conn.execute(
        "UPDATE activities SET content = ?, starts_at = ?, updated_at = ? WHERE id = ?",
        (
            _content(ids, activity.title, activity.description, place),
            iso(starts_at),
            iso(utcnow()),
            activity.id,
        ),
    )


async def show_counts(
    db: Database, ids: Ids, activity_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the member's counts message, edited in place from now on."""
    await db.write(
        "UPDATE activities SET counts_chat = ?, counts_to = ?, counts_message_id = ? WHERE id = ?",
        (ids.chat(chat_id), ids.seal(chat_id), message_id, activity_id),
    )


async def state(conn: aiosqlite.Connection, activity_id: int) -> tuple[str, datetime] | None:
    """(status, start) of the activity inside the caller's transaction."""
    async with conn.execute(
        "SELECT status, starts_at FROM activities WHERE id = ?", (activity_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else (str(row["status"]), parse_iso(row["starts_at"]))


async def counts_chat(conn: aiosqlite.Connection, ids: Ids, activity_id: int) -> int | None:
    """The chat of the activity's counts message, if it was sent (caller's transaction)."""
    async with conn.execute(
        "SELECT counts_to FROM activities WHERE id = ? AND counts_message_id IS NOT NULL",
        (activity_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else ids.open(row["counts_to"])


async def counts_message(db: Database, ids: Ids, activity_id: int) -> Shown | None:
    """Where the activity's counts message is, if it was sent."""
    row = await db.fetchone(
        "SELECT counts_to, counts_message_id FROM activities WHERE id = ? AND "
        "counts_message_id IS NOT NULL",
        (activity_id,),
    )
    if row is None:
        return None
    return Shown(activity_id, ids.open(row["counts_to"]), int(row["counts_message_id"]))


async def announcing(db: Database, ids: Ids) -> list[Shown]:
    """The counts messages of the activities whose announcement is still going out."""
    rows = await db.fetchall(
        "SELECT id, counts_to, counts_message_id FROM activities WHERE announcing = 1 "
        "AND counts_message_id IS NOT NULL"
    )
    return [
        Shown(int(r["id"]), ids.open(r["counts_to"]), int(r["counts_message_id"])) for r in rows
    ]


async def announced(db: Database, activity_id: int) -> None:
    """Every announcement was sent or given up: the counts follow the answers only."""
    await db.write("UPDATE activities SET announcing = 0 WHERE id = ?", (activity_id,))


async def refresh_pending(conn: aiosqlite.Connection, activity_id: int, kind: str) -> bool:
    """Whether a refresh of the counts message (``kind``) is already waiting to be sent: one
    is enough, it shows the counts as they are when it is sent."""
    async with conn.execute(
        "SELECT 1 FROM outbox WHERE activity_id = ? AND kind = ? AND status = 'pending' LIMIT 1",
        (activity_id, kind),
    ) as cursor:
        return await cursor.fetchone() is not None


async def add_reminder(
    conn: aiosqlite.Connection, ids: Ids, kind: str, due: datetime, activity_id: int, person: int
) -> None:
    """The person's reminder of the activity, once (the same one is ignored)."""
    await conn.execute(
        "INSERT OR IGNORE INTO reminders (kind, activity_id, volunteer_id, volunteer, due_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (kind, activity_id, ids.pid(person), ids.seal(person), iso(due)),
    )


async def claim_reminder(
    conn: aiosqlite.Connection, ids: Ids, reminder_id: int
) -> tuple[int, int] | None:
    """Mark a pending reminder of an activity sent, in one conditional UPDATE: (activity id,
    person's chat id), None if it was claimed before."""
    cursor = await conn.execute(
        "UPDATE reminders SET status = 'sent' WHERE id = ? AND status = 'pending' AND "
        "activity_id IS NOT NULL RETURNING activity_id, volunteer",
        (reminder_id,),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return None if row is None else (int(row["activity_id"]), ids.open(row["volunteer"]))


async def drop_reminders(
    conn: aiosqlite.Connection, ids: Ids, activity_id: int, person: int | None = None
) -> None:
    """Forget the activity's pending reminders (only the person's, when given)."""
    if person is None:
        await conn.execute(
            "DELETE FROM reminders WHERE activity_id = ? AND status = 'pending'", (activity_id,)
        )
    else:
        await conn.execute(
            "DELETE FROM reminders WHERE activity_id = ? AND volunteer_id = ? AND "
            "status = 'pending'",
            (activity_id, ids.pid(person)),
        )


async def answered_by(db: Database, ids: Ids, person: int) -> list[tuple[Activity, str]]:
    """The open activities the person was invited to, with their answer, soonest first."""
    rows = await db.fetchall(
        "SELECT a.*, x.status AS mine FROM activities a JOIN activity_answers x ON "
        "x.activity_id = a.id AND x.person_id = ? WHERE a.status = 'open' AND a.starts_at > ? "
        "ORDER BY a.starts_at",
        (ids.pid(person), iso(utcnow())),
    )
    return [(_activity(ids, r), str(r["mine"])) for r in rows]


async def forget_person(conn: aiosqlite.Connection, ids: Ids, person: int) -> None:
    """Every answer of the person, and their choice, go (erasure)."""
    await conn.execute("DELETE FROM activity_answers WHERE person_id = ?", (ids.pid(person),))
    await conn.execute("DELETE FROM activity_choices WHERE user_id = ?", (ids.pid(person),))


async def wants(db: Database, ids: Ids, person: int) -> bool | None:
    """Whether the person wants to hear about activities (None: never asked)."""
    row = await db.fetchone(
        "SELECT wants FROM activity_choices WHERE user_id = ?", (ids.pid(person),)
    )
    return None if row is None else bool(row["wants"])


async def set_wants(db: Database, ids: Ids, person: int, wanted: bool, language: str) -> None:
    """Store the person's choice (creating their row of people if they have none)."""
    now = iso(utcnow())
    pid = ids.pid(person)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT OR IGNORE INTO people (user_id, language, created_at, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (pid, language, now, now),
        )
        await conn.execute(
            "INSERT INTO activity_choices (user_id, wants, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET wants = excluded.wants, "
            "updated_at = excluded.updated_at",
            (pid, int(wanted), now),
        )


async def families(db: Database) -> list[tuple[int, bytes, bytes | None]]:
    """Families with an approved case who agreed to hear about activities and can be
    reached: (pseudonym, encrypted chat id, the case's encrypted personal answers), one row
    per approved case."""
    rows = await db.fetchall(
        "SELECT c.user_id, c.family, c.personal FROM cases c JOIN people p ON p.user_id = "
        "c.user_id JOIN activity_choices w ON w.user_id = c.user_id WHERE c.status = "
        "'approved' AND c.family IS NOT NULL AND w.wants = 1 AND p.reachable = 1 ORDER BY c.id"
    )
    return [(int(r["user_id"]), r["family"], r["personal"]) for r in rows]
