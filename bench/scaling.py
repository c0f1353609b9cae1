"""Benchmark: years of a committee's work in one database, and what each request costs on it.

Run from the project root: ``.venv/bin/python bench/scale.py [--cases N] [--volunteers N]
[--tasks N] [--keep DIR]`` (``make bench-scale``: 100,000 cases, 20,000 volunteers, 2,000
tasks; ``--small``: 5,000 / 1,000 / 100 for a quick check). CPU-heavy: a few minutes at full
size on a 2-core machine. The script only starts :func:`main` of this module.

**The database** is written by a child process through the project's own storage: the
:class:`~bot.storage.db.Database` (its migrations, pragmas and transactions), the real cipher
and pseudonyms (:mod:`bot.crypto`, :mod:`bot.ids`, the pseudonym key of :mod:`bot.storage.meta`)
and the repositories' own INSERT statements, with the timestamps of three years of work instead
of ``utcnow()``. Rows go in bulk (``executemany``), a few thousand cases per transaction:
replaying every conversation through Telegram took the issue's team 13 minutes. To keep the
build to a minute or two, each person's sealed Telegram id and each repeated payload (a family
notice says "approved" for thousands of cases) is encrypted once and the token reused: every
value is still a real Fernet token that the bot opens. What is in it:

* cases over three years in every status of :mod:`bot.workflow`, in the proportions the
  issue's team found (4% new, 5% in review, 3% information requested, 16% approved, 20%
  declined, 52% closed), each with its committee card and card updates in the outbox (sent),
  the family's notices, questions and answers, notes, and its audit trail (submitted, viewed,
  taken, decided, closed); approved ones with a support period ending over the next year and
  its pending support-end reminder (the closed ones' reminders were sent);
* the state the daily retention job leaves (``RETENTION_DAYS=365``): cases untouched for
  more than a year and a day are anonymised, their families forgotten; one day of them is
  left for the measured purge. The outbox is the issue's: three years of sent messages, not
  pruned yet (the purge row measures the run that prunes them);
* volunteers (90% active, 4% pending, 4% paused, 2% suspended; 2% unreachable), every one
  with the generic skill "volunteering" so that one task can be offered to all of them;
* tasks over three years (and a few upcoming), each with offers (sent), accepts, declines,
  a waiting list, reminders (sent, or pending for the upcoming ones) and their audit rows;
  their offers are bounded (``OFFERS_PER_TASK``) to keep the outbox to a few hundred
  thousand rows;
* a few hundred drafts, half of them older than ``DRAFT_DAYS``; one family with three cases
  (for ``/status`` and ``/mydata``); a few new cases whose cards are still to send (for Take).

**The measurements** run in this process, on the real Application (``bot.app``) with the
tests' in-process fake Telegram (``tests.fakes.telegram``), updates fed through the real
concurrent path as ``tests.conftest.Harness`` does, and print one row each, with its target and
PASS or FAIL (``—``: no target). A command's time is from the update until every call it made
(and everything it queued in the outbox) is done. Peak RSS of a call is sampled from
``/proc/self/statm`` by a thread every 2 ms (memory freed before is returned with
``malloc_trim`` first, so each call starts from what the process really holds); ``peak RSS
after start-up`` is ``ru_maxrss``. ``start-up`` is build_application, initialize, post_init
and start (the JobQueue adding its jobs): what ``run_polling`` does before its first
getUpdates. The daily retention job is taken off the JobQueue after start-up (its first run
would come in the middle of the measurements): the bench runs the purge itself, after the bot
is stopped, as ``python -m bot purge`` does, then the CLI's backup.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, TypeVar

from cryptography.fernet import Fernet

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from bench.intake import FIRST_FAMILY as WALKING_FAMILY  # noqa: E402
from bench.intake import (  # noqa: E402
    BenchTelegram,
    drive,
    intake_maker,
    intake_plan,
    step_name,
)
from bot import privacy  # noqa: E402
from bot.__main__ import backup_database  # noqa: E402
from bot.app import quiet_libraries, settle_after_start  # noqa: E402
from bot.buttons import CardPress, CasesPage, ExportChoice  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.crypto import Cipher  # noqa: E402
from bot.followup import FollowupService  # noqa: E402
from bot.ids import Ids  # noqa: E402
from bot.intake import Draft  # noqa: E402
from bot.kinds import Kind  # noqa: E402
from bot.review import add_months  # noqa: E402
from bot.storage import Database, meta  # noqa: E402
from bot.storage.cases import REF_ALPHABET, new_ref  # noqa: E402
from bot.storage.db import iso, utcnow  # noqa: E402
from bot.workflow import STATUSES  # noqa: E402
from handlers.reports import PAGE  # noqa: E402
from tests.conftest import (  # noqa: E402
    COMMITTEE_CHAT,
    MEMBER,
    OTHER_MEMBER,
    Harness,
    make_settings,
    start_app,
    stop_app,
)

T = TypeVar("T")

FULL = (100_000, 20_000, 2_000)
SMALL = (5_000, 1_000, 100)
YEARS_DAYS = 3 * 365
RETENTION_DAYS = 365  # the default; the bench's settings leave it as shipped
OFFERS_PER_TASK = 50
CHUNK = 5_000  # cases per transaction of the build
FAMILY = 7_000_001  # the family with three cases: /status and /mydata
FIRST_FAMILY = 10_000_000
FIRST_VOLUNTEER = 20_000_000
FIRST_DRAFT = 30_000_000
FRESH_CARDS = 5  # new cases whose cards are sent at start-up: pressed Take on
MEMBERS = (MEMBER, OTHER_MEMBER)
KEY_VARIABLE = "SANAD_BENCH_KEY"  # the key, handed to the building process
MEMBER_NAMES = {MEMBER: "Huda", OTHER_MEMBER: "Omar"}

STATUS_WEIGHTS = {
    "new": 4.1,
    "in_review": 5.0,
    "info_requested": 3.0,
    "approved": 16.0,
    "declined": 20.0,
    "closed": 52.0,
}
SITUATIONS = ("chronic_illness", "head_death", "orphans", "disability", "widow_elderly", "other")
SUPPORTS = ("moral", "knowledge", "financial", "logistics", "volunteering", "community")
AREAS = ("north", "south", "east", "west", "center")
SKILLS = (
    "moral",
    "knowledge",
    "financial",
    "logistics",
    "community",
    "driving",
    "cooking",
    "tutoring",
    "translation",
)
REASONS = ("criteria", "debt", "information", "other")
FIRST_NAMES = ("Fatima", "Mariam", "Khaled", "Aisha", "Yousef", "Layla", "Omar", "Huda", "Sami")
LAST_NAMES = ("Al-Zahra", "Haddad", "Nasser", "Khoury", "Saleh", "Mansour", "Darwish", "Odeh")

# Targets (the issue's); each row is PASS or FAIL against its own.
STARTUP_S = 2.0
RSS_MB = 200.0
PAGE_P99_MS = 50.0
STATS_S = 5.0
EXPORT_S = 5.0
PUBLISH_S = 3.0
TAKE_MS = 100.0
STEP_P99_MS = 25.0  # a family's step at a human pace, from the update until it is processed
PROGRESS_MS = 5.0
FAMILY_WAIT_MS = 100.0
LOOP_BLOCKED_MS = 50.0
SENDS_WAIT = 60_000  # tens of milliseconds: ten minutes at most
STARTUP_LOG_LINES = 50


# --------------------------------------------------------------------------------------------
# Building the database
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """How much to build."""

    cases: int
    volunteers: int
    tasks: int
    seed: int = 12

    def __str__(self) -> str:
        return f"{self.cases:,} cases, {self.volunteers:,} volunteers, {self.tasks:,} tasks"


@dataclass
class Built:
    """What the build wrote, and the handles the measurements need."""

    seconds: float = 0.0
    megabytes: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    family_refs: list[str] = field(default_factory=list)
    fresh_refs: list[str] = field(default_factory=list)
    sample_refs: list[str] = field(default_factory=list)


class Writer:
    """Rows in the repositories' shapes, with the real cipher and pseudonyms; sealed ids and
    repeated payloads are encrypted once and reused (each is a real token)."""

    def __init__(self, ids: Ids, tz: Any, now: datetime, rng: random.Random) -> None:
        self.ids = ids
        self.cipher = ids.cipher
        self.tz = tz
        self.now = now
        self.rng = rng
        self._seals: dict[int, bytes] = {}
        self._pids: dict[int, int] = {}
        self._tokens: dict[str, bytes] = {}
        self.message_ids = iter(range(1_000, 10**9))
        self.refs: set[str] = set()
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.counts: dict[str, int] = {}

    def pid(self, user: int) -> int:
        """The person's pseudonym (memoised: one HMAC per person)."""
        if user not in self._pids:
            self._pids[user] = self.ids.pid(user)
        return self._pids[user]

    def seal(self, user: int) -> bytes:
        """The person's sealed Telegram id, encrypted once."""
        if user not in self._seals:
            self._seals[user] = self.ids.seal(user)
        return self._seals[user]

    def token(self, value: Any) -> bytes:
        """A repeated JSON payload, encrypted once."""
        key = json.dumps(value, sort_keys=True)
        if key not in self._tokens:
            self._tokens[key] = self.cipher.encrypt_json(value)
        return self._tokens[key]

    def text(self, words: str) -> bytes:
        """A repeated text (a question, a note), encrypted once."""
        key = "text:" + words
        if key not in self._tokens:
            self._tokens[key] = self.cipher.encrypt(words)
        return self._tokens[key]

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Queue a row for the table's bulk INSERT."""
        self.rows.setdefault(table, []).append(row)

    def ref(self, make: Callable[[], str]) -> str:
        """A fresh unique reference."""
        while True:
            ref = make()
            if ref not in self.refs:
                self.refs.add(ref)
                return ref

    def audit(self, at: datetime, actor: int | None, case_id: int | None, action: str) -> None:
        """An audit entry (:func:`bot.storage.audit.record`)."""
        actor_pid = None if actor is None else self.pid(actor)
        actor_seal = None if actor is None else self.seal(actor)
        self.add("audit", (iso(at), actor_pid, actor_seal, case_id, action, None))

    def outbox(
        self,
        kind: str,
        chat: int,
        at: datetime,
        *,
        case_id: int | None = None,
        task_id: int | None = None,
        payload: bytes | None = None,
        status: str = "sent",
    ) -> None:
        """A message of the outbox (:func:`bot.storage.outbox.enqueue`), sent at ``at``."""
        key = chat if chat < 0 else self.pid(chat)
        sealed = None if chat < 0 else self.seal(chat)
        sent = status == "sent"
        self.add(
            "outbox",
            (
                kind,
                key,
                sealed,
                case_id,
                task_id,
                payload,
                status,
                1 if sent else 0,
                iso(at),
                iso(at),
                iso(at) if sent else None,
                next(self.message_ids) if sent else None,
            ),
        )


INSERTS = {
    "people": "INSERT OR IGNORE INTO people (user_id, language, reachable, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?)",
    "cases": "INSERT INTO cases (id, ref, user_id, family, language, status, answers, personal, "
    "created_at, updated_at, version, assignee_id, assignee_name, decided_by, decided_by_name, "
    "decided_at, decision, decision_message, support_until) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "audit": "INSERT INTO audit (at, actor_id, actor, case_id, action, detail) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "outbox": "INSERT INTO outbox (kind, chat_id, chat, case_id, task_id, payload, status, "
    "attempts, next_attempt_at, created_at, sent_at, message_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "reminders": "INSERT OR IGNORE INTO reminders (kind, case_id, task_id, volunteer_id, "
    "volunteer, due_at, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "info_requests": "INSERT INTO info_requests (case_id, member_id, member, question, answer, "
    "asked_at, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "notes": "INSERT INTO notes (case_id, author_id, at, body) VALUES (?, ?, ?, ?)",
    "volunteers": "INSERT INTO volunteers (user_id, chat, status, answers, personal, ref, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "tasks": "INSERT INTO tasks (id, ref, creator_id, creator, status, content, skill, area, "
    "starts_at, duration_min, needed, case_id, created_at, updated_at, progress_chat, "
    "progress_to, progress_message_id, progress_done) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "assignments": "INSERT INTO assignments (task_id, volunteer_id, volunteer, status, position, "
    "created_at, updated_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "drafts": "INSERT INTO drafts (user_id, payload, updated_at) VALUES (?, ?, ?)",
}
# Parents before children (foreign keys).
ORDER = (
    "people",
    "cases",
    "tasks",
    *(t for t in INSERTS if t not in ("people", "cases", "tasks")),
)


async def flush(db: Database, writer: Writer) -> None:
    """Write the queued rows in one transaction."""
    async with db.transaction() as conn:
        for table in ORDER:
            rows = writer.rows.pop(table, [])
            if rows:
                await conn.executemany(INSERTS[table], rows)
                writer.counts[table] = writer.counts.get(table, 0) + len(rows)


class CaseMaker:
    """One case and everything its history left, at the times of that history."""

    def __init__(self, writer: Writer, retention_cut: datetime) -> None:
        self.w = writer
        self.rng = writer.rng
        self.cut = retention_cut  # untouched before this: anonymised by past retention runs
        self.next_id = 1
        self.next_request = 1
        self.marks: dict[str, int] = {}

    def answers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(open answers, personal answers) as the intake form stores them."""
        rng = self.rng
        situation = rng.sample(SITUATIONS, rng.choice((1, 1, 2)))
        household = rng.randint(1, 9)
        open_answers: dict[str, Any] = {
            "situation": situation,
            "support": rng.sample(SUPPORTS, rng.choice((1, 2, 2, 3))),
            "household_size": household,
            "children": rng.randint(0, household - 1),
            "call_time": rng.choice(("morning", "afternoon", "evening", "any")),
            "urgency": rng.choice(("critical", "high", "normal", "normal")),
        }
        personal: dict[str, Any] = {
            "area": rng.choice((*AREAS, "other")),
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "phone": f"+9627{rng.randint(70_000_000, 99_999_999)}",
        }
        if personal["area"] == "other":
            personal["area_other"] = "Jabal Al-Hussein"
        if "other" in situation:
            personal["situation_other"] = "Our house burned down last winter"
        if rng.random() < 0.6:
            personal["description"] = {
                "text": "My husband passed away and my kidney illness keeps me from working. "
                * rng.randint(1, 3)
            }
        return open_answers, personal

    def make(self, family: int, status: str, created: datetime, *, fresh: bool = False) -> str:
        """Write one case in ``status`` submitted at ``created``; its reference."""
        w, rng, now = self.w, self.rng, self.w.now
        # Where this case's rows start in each queue (retention rewrites them: _forget).
        self.marks = {table: len(rows) for table, rows in w.rows.items()}
        case_id = self.next_id
        self.next_id += 1
        ref = w.ref(new_ref)
        language = "ar" if rng.random() < 0.7 else "en"
        open_answers, personal = self.answers()
        member = rng.choice(MEMBERS)
        t = created
        version = 0
        assignee = decided_by = decided_at = decision = message = until = None
        w.add("people", (w.pid(family), language, 1, iso(created), iso(created)))
        w.audit(t, family, case_id, "case_submitted")
        w.outbox(
            Kind.COMMITTEE_CARD,
            COMMITTEE_CHAT,
            t,
            case_id=case_id,
            status="pending" if fresh else "sent",
        )

        def step(hours: float) -> datetime:
            nonlocal t
            t = min(t + timedelta(hours=hours), now - timedelta(minutes=1))
            return t

        def card_update() -> None:
            w.outbox(Kind.CARD_UPDATE, COMMITTEE_CHAT, t, case_id=case_id)

        def notice(kind: str, **extra: Any) -> None:
            payload = w.token({"notice": kind, **extra})
            w.outbox(Kind.FAMILY_NOTICE, family, t, case_id=case_id, payload=payload)

        if status != "new":
            step(rng.uniform(1, 72))
            assignee = member
            version += 1
            w.audit(t, member, case_id, "case_taken")
            card_update()
            w.audit(step(0.1), member, case_id, "case_viewed")
        asks = status == "info_requested" or (status != "new" and rng.random() < 0.15)
        if asks:
            step(rng.uniform(1, 48))
            answered = status != "info_requested"
            w.add(
                "info_requests",
                (
                    case_id,
                    w.pid(member),
                    w.seal(member),
                    w.text("Do you have a medical report?"),
                    w.token({"text": "Yes, from the hospital"}) if answered else None,
                    iso(t),
                    iso(step(rng.uniform(2, 96))) if answered else None,
                ),
            )
            version += 1
            w.audit(t, member, case_id, "info_requested")
            notice("question", request=self.next_request)
            self.next_request += 1
            card_update()
            if answered:
                version += 1
                w.audit(t, family, case_id, "info_answered")
                w.outbox(Kind.MEMBER_NOTICE, member, t, case_id=case_id)
                card_update()
        if rng.random() < 0.1 and status != "new":
            w.add("notes", (case_id, w.pid(member), iso(t), w.text("Visited the family at home")))
            w.audit(t, member, case_id, "note_added")
        approved = status == "approved" or (status == "closed" and rng.random() < 0.55)
        if status in ("approved", "declined", "closed"):
            if status == "approved":
                # Decided within the last year, the period running until within the next one.
                t = max(t, now - timedelta(days=rng.uniform(1, 330)))
            step(rng.uniform(2, 240))
            decided_by, decided_at = member, t
            version += 1
            message = w.text("We will call you this week.") if rng.random() < 0.3 else None
            if approved:
                end = (
                    (now + timedelta(days=rng.uniform(1, 365))).date()
                    if status == "approved"
                    else add_months(t.date(), rng.choice((1, 3, 6, 12)))
                )
                until = end.isoformat()
                facts: dict[str, Any] = {
                    "support": open_answers["support"][:2],
                    "until": until,
                }
                w.audit(t, member, case_id, "case_approved")
                notice("approve")
                due = datetime.combine(end, clock(9), tzinfo=w.tz)
                if status == "approved":
                    w.add(
                        "reminders",
                        (Kind.SUPPORT_END, case_id, None, None, None, iso(due), "pending"),
                    )
            else:
                facts = {"reason": rng.choice(REASONS)}
                w.audit(t, member, case_id, "case_declined")
                notice("decline")
            decision = json.dumps(facts)
            card_update()
            if status == "closed":
                if approved:
                    t = max(t, min(due.astimezone(UTC), now - timedelta(days=1)))
                    w.add(
                        "reminders",
                        (Kind.SUPPORT_END, case_id, None, None, None, iso(due), "sent"),
                    )
                    w.outbox(Kind.SUPPORT_END, COMMITTEE_CHAT, t, case_id=case_id)
                step(rng.uniform(1, 24 * 30))
                version += 1
                w.audit(t, member, case_id, "case_closed")
                card_update()
        updated = t
        family_seal: bytes | None = w.seal(family)
        family_pid: int | None = w.pid(family)
        sealed: bytes | None = self.w.cipher.encrypt_json(personal)
        if updated < self.cut:
            # What the daily retention did (privacy._expire): personal data and the family's
            # account gone, the messages to the family deleted, the family forgotten.
            sealed = message = family_seal = family_pid = None
            self._forget(family, case_id, updated)
        w.add(
            "cases",
            (
                case_id,
                ref,
                family_pid,
                family_seal,
                language,
                status,
                json.dumps(open_answers),
                sealed,
                iso(created),
                iso(updated),
                version,
                w.pid(assignee) if assignee else None,
                MEMBER_NAMES[assignee] if assignee else None,
                w.pid(decided_by) if decided_by else None,
                MEMBER_NAMES[decided_by] if decided_by else None,
                iso(decided_at) if decided_at else None,
                decision,
                message,
                until,
            ),
        )
        return ref

    def _forget(self, family: int, case_id: int, updated: datetime) -> None:
        """Rewrite this case's queued rows as retention leaves them."""
        w = self.w
        pid = w.pid(family)

        def rewrite(table: str, keep: Callable[[tuple[Any, ...]], tuple[Any, ...] | None]) -> None:
            rows = w.rows.get(table, [])
            start = self.marks.get(table, 0)
            rows[start:] = [r for r in map(keep, rows[start:]) if r is not None]

        rewrite("people", lambda r: None if r[0] == pid else r)
        rewrite("outbox", lambda r: None if r[1] > 0 else r)  # to people: deleted
        rewrite("audit", lambda r: (r[0], None, None, *r[3:]) if r[1] == pid else r)
        rewrite("info_requests", lambda r: None)
        rewrite("notes", lambda r: None)
        at = updated + timedelta(days=RETENTION_DAYS, hours=1)
        w.add("audit", (iso(at), None, None, case_id, "retention_purge", None))
        w.outbox(Kind.CARD_UPDATE, COMMITTEE_CHAT, at, case_id=case_id)


def volunteer_rows(w: Writer, count: int) -> list[int]:
    """The volunteers, their people rows, cards and audit; the active ones' ids."""
    rng, now = w.rng, w.now
    active = []
    for j in range(count):
        user = FIRST_VOLUNTEER + j
        roll = rng.random()
        status = (
            "active"
            if roll < 0.90
            else "pending"
            if roll < 0.94
            else "paused"
            if roll < 0.98
            else "suspended"
        )
        created = now - timedelta(days=rng.uniform(1, YEARS_DAYS))
        answers = {
            "skills": ["volunteering", *rng.sample(SKILLS, rng.randint(1, 3))],
            "areas": rng.sample((*AREAS, "anywhere"), rng.randint(1, 2)),
            "languages": rng.sample(("ar", "en", "fr"), rng.randint(1, 2)),
            "availability": rng.sample(("weekdays", "evenings", "weekends"), rng.randint(1, 2)),
        }
        personal = {
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "phone": f"+9627{rng.randint(70_000_000, 99_999_999)}",
        }
        reachable = 0 if rng.random() < 0.02 else 1
        w.add(
            "people",
            (w.pid(user), rng.choice(("ar", "en")), reachable, iso(created), iso(created)),
        )
        ref = w.ref(lambda: "V-" + "".join(rng.choice(REF_ALPHABET) for _ in range(6)))
        w.add(
            "volunteers",
            (
                w.pid(user),
                w.seal(user),
                status,
                json.dumps(answers),
                w.cipher.encrypt_json(personal),
                ref,
                iso(created),
                iso(created),
            ),
        )
        w.audit(created, user, None, "volunteer_saved")
        w.outbox(Kind.VOLUNTEER_CARD, COMMITTEE_CHAT, created)
        if status != "pending":
            later = created + timedelta(hours=rng.uniform(1, 72))
            w.audit(later, rng.choice(MEMBERS), None, "volunteer_approved")
            w.outbox(Kind.VOLUNTEER_NOTICE, user, later)
        if status == "active" and reachable:
            active.append(user)
    return active


def task_rows(w: Writer, count: int, active: list[int], offsets: tuple[timedelta, ...]) -> None:
    """Tasks over three years (a few upcoming), with offers, answers, reminders and audit."""
    rng, now = w.rng, w.now
    for task_id in range(1, count + 1):
        starts = now + timedelta(
            days=rng.uniform(-YEARS_DAYS, 0) if rng.random() < 0.99 else rng.uniform(2, 30)
        )
        starts = starts.replace(minute=0, second=0, microsecond=0)
        created = starts - timedelta(days=rng.uniform(2, 10))
        duration = rng.choice((60, 90, 120, 180, 240))
        needed = rng.randint(1, 5)
        creator = rng.choice(MEMBERS)
        cancelled = rng.random() < 0.05
        ended = starts + timedelta(minutes=duration)
        stripped = ended < now - timedelta(days=4)  # past retention took the words
        content = (
            b""
            if stripped
            else w.cipher.encrypt_json({"title": "Food parcels", "description": "Carry parcels"})
        )
        w.add(
            "tasks",
            (
                task_id,
                w.ref(lambda: "T" + "".join(rng.choice(REF_ALPHABET) for _ in range(5))),
                w.pid(creator),
                w.seal(creator),
                "cancelled" if cancelled else "open",
                content,
                rng.choice(("volunteering", *SKILLS)),
                rng.choice((*AREAS, "anywhere")),
                iso(starts),
                duration,
                needed,
                None,
                iso(created),
                iso(created),
                w.pid(creator),
                w.seal(creator),
                next(w.message_ids),
                1,
            ),
        )
        offered = rng.sample(active, min(OFFERS_PER_TASK, len(active)))
        w.audit(created, creator, None, "task_published")
        for volunteer in offered:
            w.outbox(Kind.TASK_OFFER, volunteer, created, task_id=task_id)
        answering = offered[: needed + rng.randint(0, 5)]
        for place, volunteer in enumerate(answering):
            at = created + timedelta(hours=rng.uniform(0.1, 24))
            if place < needed:
                status, position = "accepted", 0
            else:
                status, position = rng.choice(
                    (("declined", 0), ("waitlisted", place - needed + 1))
                )
            outcome = (
                "done" if status == "accepted" and ended < now and rng.random() < 0.7 else None
            )
            w.add(
                "assignments",
                (
                    task_id,
                    w.pid(volunteer),
                    w.seal(volunteer),
                    status,
                    position,
                    iso(at),
                    iso(at),
                    outcome,
                ),
            )
            if status != "accepted":
                continue
            w.audit(at, volunteer, None, "task_accepted")
            dues = [(Kind.TASK_REMINDER, starts - offset) for offset in offsets]
            dues.append((Kind.TASK_FOLLOWUP, ended))
            for kind, due in dues:
                done = due < now
                w.add(
                    "reminders",
                    (
                        kind,
                        None,
                        task_id,
                        w.pid(volunteer),
                        w.seal(volunteer),
                        iso(due),
                        "sent" if done else "pending",
                    ),
                )
                if done and not cancelled:
                    w.outbox(kind, volunteer, due, task_id=task_id)


def draft_rows(w: Writer, count: int) -> None:
    """Applications in progress; half left longer than DRAFT_DAYS (30)."""
    rng, now = w.rng, w.now
    for k in range(count):
        user = FIRST_DRAFT + k
        at = now - timedelta(days=rng.uniform(0, 60))
        draft = Draft(
            id=f"d{k}", step="name", answers={"situation": ["orphans"]}, started_at=iso(at)
        )
        w.add("people", (w.pid(user), "ar", 1, iso(at), iso(at)))
        w.add("drafts", (w.pid(user), w.cipher.encrypt_json(asdict(draft)), iso(at)))


async def build(settings: Settings, plan: Plan) -> Built:
    """Write the database of ``plan`` at ``settings.database_path``."""
    started = time.perf_counter()
    rng = random.Random(plan.seed)
    cipher = Cipher(settings.encryption_keys)
    db = Database(settings.database_path)
    await db.open(cipher)
    built = Built()
    try:
        ids = await meta.load_ids(db, cipher)
        now = utcnow()
        w = Writer(ids, settings.tz, now, rng)
        maker = CaseMaker(w, now - timedelta(days=RETENTION_DAYS + 1))
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        regular = max(plan.cases - 3 - FRESH_CARDS, 0)
        moments = sorted(now - timedelta(days=rng.uniform(0, YEARS_DAYS)) for _ in range(regular))
        for n, created in enumerate(moments):
            status = rng.choices(statuses, weights)[0]
            age = (now - created).days
            if status == "approved" and age > 400:
                created = now - timedelta(days=rng.uniform(5, 400))
            elif status in ("new", "in_review", "info_requested") and rng.random() < 0.5:
                created = now - timedelta(days=rng.uniform(0, 60))
            ref = maker.make(FIRST_FAMILY + n, status, created)
            if n % max(regular // 20, 1) == 0:
                built.sample_refs.append(ref)
            if len(w.rows.get("cases", ())) >= CHUNK:
                await flush(db, w)
        for status, days in (("closed", 200), ("approved", 40), ("new", 2)):
            built.family_refs.append(maker.make(FAMILY, status, now - timedelta(days=days)))
        for _ in range(FRESH_CARDS):
            built.fresh_refs.append(
                maker.make(
                    FIRST_FAMILY + plan.cases + len(built.fresh_refs), "new", now, fresh=True
                )
            )
        await flush(db, w)
        active = volunteer_rows(w, plan.volunteers)
        await flush(db, w)
        task_rows(w, plan.tasks, active, settings.reminder_offsets)
        draft_rows(w, max(plan.cases // 300, 20))
        await flush(db, w)
        # Each approval schedules its follow-up (bot.followup.schedule); the start-up pass for
        # cases approved before follow-ups existed writes them here, once, like an upgrade.
        await FollowupService(db, ids, settings.followup_days, settings.tz).schedule_missing()
        await db.checkpoint()
        built.rows = dict(w.counts)
    finally:
        await db.close()
    built.seconds = time.perf_counter() - started
    built.megabytes = settings.database_path.stat().st_size / 1e6
    return built


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table."""

    name: str
    value: str
    target: str = "—"
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        """PASS, FAIL, or — without a target."""
        return "—" if self.ok is None else ("PASS" if self.ok else "FAIL")


def rss_mb() -> float:
    """The process's resident memory now."""
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def max_rss_mb() -> float:
    """The process's peak resident memory so far (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def give_back_memory() -> None:
    """Collect, and return freed heap to the system, so that the next call's peak is its own."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Peak:
    """The peak RSS while a block runs, sampled by a thread every 2 ms."""

    def __init__(self) -> None:
        self.base = 0.0
        self.peak = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> Peak:
        give_back_memory()
        self.base = self.peak = rss_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    def describe(self) -> str:
        """``peak N MB (+growth)``."""
        return f"peak {self.peak:.0f} MB (+{self.peak - self.base:.0f})"


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def timed(work: Awaitable[T]) -> tuple[float, T]:
    """Seconds ``work`` took, and its result."""
    started = time.perf_counter()
    result = await work
    return time.perf_counter() - started, result


def ms(seconds: float) -> str:
    """Seconds as milliseconds, for a table cell."""
    return f"{seconds * 1000:.1f} ms"


class LoopLag:
    """The longest the event loop was blocked: a task that asks to wake every 5 ms and
    notes how late it woke."""

    TICK = 0.005

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.worst = max(self.worst, time.perf_counter() - asked - self.TICK)

    async def stop(self) -> float:
        """Stop watching; the longest block seen, in seconds."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.worst


class CountLines(logging.Handler):
    """Counts the log lines the bot would write (without writing them)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.lines = 0
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count one line and its length as ``configure_logging`` would format it."""
        self.lines += 1
        self.bytes += len(record.getMessage()) + 60


@contextlib.contextmanager
def counted_logging() -> Iterator[CountLines]:
    """INFO logging as the bot runs it, counted; warnings and errors still printed."""
    counter = CountLines()
    printer = logging.StreamHandler(sys.stderr)
    printer.setLevel(logging.WARNING)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    quiet_libraries("INFO")  # as configure_logging does when the bot runs
    root.addHandler(counter)
    root.addHandler(printer)
    try:
        yield counter
    finally:
        root.removeHandler(counter)
        root.removeHandler(printer)
        root.setLevel(level)


class Bench:
    """The running bot and the figures taken from it."""

    def __init__(
        self, h: Harness, plan: Plan, built: Built, samples: int, walk: tuple[int, float]
    ) -> None:
        self.h = h
        self.plan = plan
        self.built = built
        self.samples = samples
        self.walk = walk
        self.rows: list[Row] = []
        self.blocked = 0.0  # the longest the event loop was blocked by a report
        self.violations: list[str] = []  # calls Telegram would have rejected

    def clear(self) -> None:
        """Forget the fake's records (they grow with every call), the violations kept."""
        self.violations += self.h.fake.violations
        self.h.fake.clear()

    def row(self, name: str, value: str, target: str = "—", ok: bool | None = None) -> None:
        """Add a row, and show it at once (a long run shows its progress)."""
        self.rows.append(Row(name, value, target, ok))
        print(f"  {name}: {value}", file=sys.stderr, flush=True)

    async def command(self, user: int, text: str) -> float:
        """Seconds for a command, from the update until everything it caused is sent."""
        seconds, _ = await timed(self.h.say(user, text))
        self.clear()
        return seconds

    async def press(
        self, user: int, data: str, message_id: int, chat_id: int | None = None
    ) -> float:
        """Seconds for a button press, until everything it caused is sent."""
        seconds, _ = await timed(
            self.h.press_data(user, data, message_id=message_id, chat_id=chat_id)
        )
        self.clear()
        return seconds

    def member_message(self) -> int:
        """The id of the member's newest message (the list /cases edits in place)."""
        return int(self.h.fake.messages(MEMBER)[-1]["message_id"])

    async def cases(self) -> None:
        """/cases: the first and the last page of every filter, through the real handlers."""
        h = self.h
        await h.say(MEMBER, "/cases")
        counts = await h.services.review.counts_by_status()
        listing = self.member_message()
        first: dict[str, list[float]] = {}
        later: dict[str, list[float]] = {}
        for key in ("all", *STATUSES):
            total = sum(counts.values()) if key == "all" else counts.get(key, 0)
            last = max((total - 1) // PAGE, 0)
            first[key] = []
            later[key] = []
            for _ in range(self.samples):
                first[key].append(await self.press(MEMBER, CasesPage(key, 0).pack(), listing))
                later[key].append(await self.press(MEMBER, CasesPage(key, last).pack(), listing))
            for page, found in (("first page", first[key]), (f"page {last + 1:,}", later[key])):
                p99 = percentile(found, 0.99)
                self.row(
                    f"  /cases {key}, {page}",
                    f"p50 {ms(statistics.median(found))}, p99 {ms(p99)}",
                    f"p99 ≤ {PAGE_P99_MS:.0f} ms",
                    p99 * 1000 <= PAGE_P99_MS,
                )
        for name, found_by in (("/cases first page", first), ("/cases later page", later)):
            every = [s for values in found_by.values() for s in values]
            worst = max(found_by, key=lambda k: percentile(found_by[k], 0.99))
            p99 = percentile(every, 0.99)
            self.row(
                name,
                f"p50 {ms(statistics.median(every))}, p99 {ms(p99)} (worst: {worst}, "
                f"p99 {ms(percentile(found_by[worst], 0.99))})",
                f"p99 ≤ {PAGE_P99_MS:.0f} ms",
                percentile(found_by[worst], 0.99) * 1000 <= PAGE_P99_MS,
            )

    async def lookups(self) -> None:
        """/case REF as a member; /status and /mydata as a family with three cases."""
        refs = self.built.sample_refs or self.built.family_refs
        found = [
            await self.command(MEMBER, f"/case {refs[i % len(refs)]}") for i in range(self.samples)
        ]
        self._latency("/case REF", found, PAGE_P99_MS)
        for command in ("/status", "/mydata"):
            found = [await self.command(FAMILY, command) for _ in range(self.samples)]
            self._latency(command, found, PAGE_P99_MS)

    async def families(self) -> None:
        """Families through the whole intake at once, half in Arabic and half in English,
        each pausing 0.5 to 1.5 times the pace between its steps (``bench/intake.py``'s
        walk): each step from the update until the bot has processed it, its committee
        card and duplicate check on years of cases included."""
        h = self.h
        assert isinstance(h.fake, BenchTelegram)
        families, pace = self.walk
        users = list(range(WALKING_FAMILY, WALKING_FAMILY + families))
        make = intake_maker(h.updates, h.fake)
        run = await drive(h.app, h.fake, make, users, intake_plan(), think=pace)
        await h.services.delivery.wait_idle()
        self.clear()
        p99 = run.percentile(99)
        worst = max(
            zip(intake_plan(), run.by_step, strict=True), key=lambda s: run.percentile(99, s[1])
        )
        self.row(
            f"{families} families at a human pace",
            f"{run.steps:,} steps, p50 {run.percentile(50):.1f} ms, p99 {p99:.1f} ms, "
            f"max {run.max_ms:.1f} ms, {len(run.failures)} failed (worst step: "
            f"{step_name(worst[0])}, p99 {run.percentile(99, worst[1]):.1f} ms)",
            f"p99 ≤ {STEP_P99_MS:.0f} ms",
            p99 <= STEP_P99_MS and not run.failures,
        )

    def _latency(self, name: str, found: list[float], target_ms: float) -> None:
        p99 = percentile(found, 0.99)
        self.row(
            name,
            f"p50 {ms(statistics.median(found))}, p99 {ms(p99)}",
            f"p99 ≤ {target_ms:.0f} ms",
            p99 * 1000 <= target_ms,
        )

    async def take(self) -> None:
        """Take on a fresh card in the group, until the card is edited."""
        h = self.h
        found = []
        for ref in self.built.fresh_refs:
            message_id, data = h.find_button(COMMITTEE_CHAT, rf"^{CardPress('take', ref).pack()}$")
            found.append(await self.press(MEMBER, data, message_id, COMMITTEE_CHAT))
        self.row(
            "Take on a card",
            f"p50 {ms(statistics.median(found))}, max {ms(max(found))}",
            f"≤ {TAKE_MS:.0f} ms",
            max(found) * 1000 <= TAKE_MS,
        )

    async def progress(self) -> None:
        """TaskService.progress, which runs after every outbox batch (no broadcast running)."""
        tasks = self.h.services.tasks
        found = [(await timed(tasks.progress()))[0] for _ in range(self.samples)]
        self.row(
            "outbox progress after a batch",
            f"p50 {ms(statistics.median(found))}, max {ms(max(found))}",
            f"≤ {PROGRESS_MS:.0f} ms",
            statistics.median(found) * 1000 <= PROGRESS_MS,
        )

    async def with_family_waiting(
        self, heavy: Awaitable[Any], sends: str
    ) -> tuple[float, float, float]:
        """Seconds of ``heavy`` until the bot has called ``sends`` (the chart, the file: also
        when the work goes on after the handler returned), how long a family's /status sent
        50 ms into it waited (from when it was sent, as it would wait in Telegram's queue),
        and the longest the event loop was blocked meanwhile."""
        h = self.h
        lag = LoopLag()
        started = time.perf_counter()
        job = asyncio.ensure_future(heavy)
        await asyncio.sleep(0.05)
        sent = started + 0.05
        await h.say(FAMILY, "/status")
        waited = time.perf_counter() - sent
        await job
        for _ in range(SENDS_WAIT):  # a report gone on in the background: until it is sent
            if any(call.method == sends for call in h.fake.calls):
                break
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - started
        self.blocked = max(self.blocked, await lag.stop())
        return seconds, waited, lag.worst

    async def stats(self) -> None:
        """/stats with its chart, a family's /status in the middle of it."""
        with Peak() as peak:
            seconds, waited, blocked = await self.with_family_waiting(
                self.h.say(MEMBER, "/stats"), "sendPhoto"
            )
        self.clear()
        self.row(
            "/stats",
            f"{seconds:.2f} s, {peak.describe()}, loop blocked up to {ms(blocked)}",
            f"≤ {STATS_S:.0f} s, ≤ {RSS_MB:.0f} MB",
            seconds <= STATS_S and peak.peak <= RSS_MB,
        )
        self.row(
            "a family's /status during /stats",
            ms(waited),
            f"≤ {FAMILY_WAIT_MS:.0f} ms",
            waited * 1000 <= FAMILY_WAIT_MS,
        )

    async def exports(self) -> None:
        """/export anonymised, then full (audited), a family's /status in the middle."""
        h = self.h
        for kind, name in (("anon", "/export anonymised"), ("full", "/export full")):
            await h.say(MEMBER, "/export")
            message_id = self.member_message()
            self.clear()
            press = h.press_data(MEMBER, ExportChoice(kind).pack(), message_id=message_id)
            with Peak() as peak:
                seconds, waited, blocked = await self.with_family_waiting(press, "sendDocument")
            await h.services.delivery.wait_idle()
            size = self._document_size()
            self.row(
                name,
                f"{seconds:.2f} s, {peak.describe()}, CSV {size / 1e6:.1f} MB, "
                f"loop blocked up to {ms(blocked)}",
                f"≤ {EXPORT_S:.0f} s, ≤ {RSS_MB:.0f} MB",
                seconds <= EXPORT_S and peak.peak <= RSS_MB,
            )
            if kind == "full":
                self.row(
                    "a family's /status during /export full",
                    ms(waited),
                    f"≤ {FAMILY_WAIT_MS:.0f} ms",
                    waited * 1000 <= FAMILY_WAIT_MS,
                )
        self.row(
            "event loop blocked during /stats and /export",
            ms(self.blocked),
            f"≤ {LOOP_BLOCKED_MS:.0f} ms",
            self.blocked * 1000 <= LOOP_BLOCKED_MS,
        )

    def _document_size(self) -> int:
        """Bytes of the documents sent since the last clear (the CSV)."""
        size = sum(
            len(upload.content)
            for call in self.h.fake.calls
            if call.method == "sendDocument"
            for upload in call.files.values()
        )
        self.clear()
        return size

    async def publish(self) -> None:
        """A task offered to every active volunteer: until its offers are committed."""
        tasks = self.h.services.tasks
        starts = utcnow() + timedelta(days=3)
        with Peak() as peak:
            seconds, (task, offered) = await timed(
                tasks.publish(
                    MEMBER,
                    "Food parcels",
                    "Carry parcels",
                    "volunteering",
                    "anywhere",
                    starts,
                    120,
                    3,
                    None,
                )
            )
        self.row(
            f"publish to {self.plan.volunteers:,} volunteers",
            f"{seconds:.2f} s to commit {offered:,} offers, {peak.describe()}",
            f"≤ {PUBLISH_S:.0f} s",
            seconds <= PUBLISH_S,
        )
        # Not sent: the offers would keep the fake (and every later figure) busy for minutes.
        await self.h.services.db.write(
            "UPDATE outbox SET status = 'skipped', error = 'bench' WHERE task_id = ? "
            "AND status = 'pending'",
            (task.id,),
        )


async def measure(
    settings: Settings, plan: Plan, built: Built, samples: int, walk: tuple[int, float]
) -> list[Row]:
    """Start the bot on the built database and take every figure."""
    rows = [
        Row("build", f"{built.seconds:.1f} s, {built.megabytes:.0f} MB ({describe(built.rows)})"),
    ]
    fake = BenchTelegram()  # the tests' fake, indexed for the families' walk
    with counted_logging() as lines:
        started = time.perf_counter()
        app = await start_app(settings, fake)
        await app.start()
        settle_after_start()  # as python -m bot run does at the end of its post_init
        startup = time.perf_counter() - started
    assert app.job_queue is not None
    jobs = len(app.job_queue.jobs())
    for job in app.job_queue.get_jobs_by_name("retention"):
        job.schedule_removal()  # the bench runs the purge itself, with the bot stopped
    rows.append(
        Row(
            "start-up",
            f"{startup:.2f} s",
            f"≤ {STARTUP_S:.0f} s",
            startup <= STARTUP_S,
        )
    )
    rows.append(
        Row(
            "start-up log",
            f"{lines.lines:,} lines ({lines.bytes / 1e6:.1f} MB) at INFO",
            f"≤ {STARTUP_LOG_LINES} lines",
            lines.lines <= STARTUP_LOG_LINES,
        )
    )
    rows.append(Row("jobs scheduled", f"{jobs:,}"))
    peak = max_rss_mb()
    rows.append(
        Row("peak RSS after start-up", f"{peak:.0f} MB", f"≤ {RSS_MB:.0f} MB", peak <= RSS_MB)
    )
    errors = CountLines(logging.ERROR)  # what the bot logs as an error while measured
    logging.getLogger().addHandler(errors)
    h = Harness(app, fake)
    await h.services.delivery.wait_idle()  # the fresh cards, sent at start-up
    bench = Bench(h, plan, built, samples, walk)
    try:
        await bench.take()
        await bench.cases()
        await bench.lookups()
        await bench.families()
        await bench.progress()
        await bench.publish()  # before the reports: their memory is not all given back
        await bench.stats()
        await bench.exports()
    finally:
        await app.stop()
        await stop_app(app)
        gc.unfreeze()  # a run inside the tests' process leaves nothing settled behind
        logging.getLogger().removeHandler(errors)
    bench.clear()
    rows += bench.rows
    wrong = len(bench.violations) + errors.lines
    rows.append(
        Row(
            "calls Telegram would reject, errors logged",
            f"{len(bench.violations)}, {errors.lines}",
            "0",
            wrong == 0,
        )
    )
    for violation in bench.violations[:5]:
        print(f"Telegram would reject: {violation}", file=sys.stderr)
    rows += await maintenance(settings)
    return rows


async def maintenance(settings: Settings) -> list[Row]:
    """The daily retention purge (as ``python -m bot purge`` runs it), then the CLI's backup."""
    cipher = Cipher(settings.encryption_keys)
    db = Database(settings.database_path)
    await db.open(cipher)
    try:
        ids = await meta.load_ids(db, cipher)
        seconds, counts = await timed(
            privacy.purge(db, ids, settings.retention, settings.committee_chat_id)
        )
    finally:
        await db.close()
    purged = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
    target = settings.data_dir / "backup.db"
    started = time.perf_counter()
    backup_database(settings.database_path, target)
    copied = time.perf_counter() - started
    size = target.stat().st_size / 1e6
    target.unlink()
    return [
        Row("retention purge", f"{seconds:.2f} s ({purged})"),
        Row("backup", f"{copied:.2f} s, {size:.0f} MB"),
    ]


def describe(counts: dict[str, int]) -> str:
    """Row counts, the big tables first."""
    shown = ("cases", "audit", "outbox", "volunteers", "tasks", "reminders")
    return ", ".join(f"{counts.get(t, 0):,} {t}" for t in shown)


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| row | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {r.name.strip()} | {r.value} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def bench_settings(data_dir: Path, key: str) -> Settings:
    """The tests' settings (a committee in Amman, two members), the retention as shipped."""
    return make_settings(data_dir, ENCRYPTION_KEY=key, LOG_LEVEL="INFO")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int)
    parser.add_argument("--volunteers", type=int)
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--small", action="store_true", help="5,000 / 1,000 / 100")
    parser.add_argument("--samples", type=int, default=25, help="runs of each quick command")
    parser.add_argument("--families", type=int, default=30, help="families walking the intake")
    parser.add_argument(
        "--pace", type=float, default=1.0, help="seconds between a family's steps (0.5-1.5×)"
    )
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database in DIR")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def plan_of(args: argparse.Namespace) -> Plan:
    """The sizes asked for."""
    cases, volunteers, tasks = SMALL if args.small else FULL
    return Plan(args.cases or cases, args.volunteers or volunteers, args.tasks or tasks)


def build_in_child(data_dir: Path, key: str, args: argparse.Namespace) -> Built:
    """Build in a separate process, so that its memory is not the measured process's."""
    command = [sys.executable, str(PROJECT / "bench" / "scale.py"), "--build-only", str(data_dir)]
    plan = plan_of(args)
    command += ["--cases", str(plan.cases), "--volunteers", str(plan.volunteers)]
    command += ["--tasks", str(plan.tasks)]
    env = {**os.environ, KEY_VARIABLE: key}  # not on the command line, where ps shows it
    done = subprocess.run(
        command, check=True, stdout=subprocess.PIPE, text=True, cwd=PROJECT, env=env
    )
    return Built(**json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    """Build, measure, print the table."""
    args = parse(argv)
    plan = plan_of(args)
    if args.build_only is not None:
        built = asyncio.run(build(bench_settings(args.build_only, os.environ[KEY_VARIABLE]), plan))
        print(json.dumps(asdict(built)))
        return 0
    scratch = (
        None
        if args.keep
        else Path(
            tempfile.mkdtemp(
                prefix="bench-scale-",
                dir=PROJECT / "data" if (PROJECT / "data").is_dir() else None,
            )
        )
    )
    data_dir = (args.keep or scratch) / "data"  # type: ignore[operator]
    key_file = data_dir.parent / "bench.key"
    try:
        saved = data_dir.parent / "built.db"
        if key_file.exists() and saved.exists():
            # The measurements change the database (a take, exports, a publish, the purge):
            # each run starts again from the copy taken after the build.
            key = key_file.read_text("ascii").strip()
            built = Built(**json.loads((data_dir.parent / "built.json").read_text("utf-8")))
            for leftover in data_dir.glob("sanad.db*"):
                leftover.unlink()
            shutil.copy2(saved, data_dir / "sanad.db")
            print(f"Reusing the database built in {data_dir.parent}", file=sys.stderr)
        else:
            data_dir.parent.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key().decode()
            key_file.write_text(key + "\n", "ascii")
            key_file.chmod(0o600)
            print(
                f"Building {plan}...",
                file=sys.stderr,
                flush=True,
            )
            built = build_in_child(data_dir, key, args)
            (data_dir.parent / "built.json").write_text(json.dumps(asdict(built)), "utf-8")
            if args.keep:
                shutil.copy2(data_dir / "sanad.db", saved)
        # A database copied or built a moment ago is still in the page cache, unwritten:
        # the bot's first fsync would write hundreds of MB of it, in the middle of a
        # measurement. A server's database is on its disk.
        os.sync()
        print("Measuring...", file=sys.stderr, flush=True)
        walk = (args.families, args.pace)
        rows = asyncio.run(measure(bench_settings(data_dir, key), plan, built, args.samples, walk))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nScale benchmark: {plan}\n")
    print(table(rows))
    return 0
