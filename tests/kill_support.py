"""The machinery of the SIGKILL fault suite (tests/test_kill.py).

A :class:`Rig` is one run: the HTTP fake Telegram (tests/fakes/http_telegram.py), a fresh
DATA_DIR and Fernet key, and the real bot started as ``python -m bot run`` (long polling)
against them, killed with SIGKILL and started again. People talk to the bot only through
updates pushed to the fake, and each step waits for the bot's own answer to it (the next
question, the next wizard screen...), never for a fixed time, so a run's verdict never
depends on the machine's speed: only the point where the kill lands does, and that point is
drawn from a seeded :class:`random.Random`.

What a run can observe, and how "in flight" is counted:

* What people saw: the calls the fake answered (``Call.delivered``).
* What the bot had made durable at the kill: the database, read by this process once the bot
  is dead (so exactly what a restart starts from).
* A message sent through the outbox is *in flight* at the kill when Telegram delivered it but
  the bot had not yet recorded it as sent: the outbox item is still pending in the database
  after the kill, so the restarted bot sends it again. Per chat and kind, that is
  ``delivered before the restart - items recorded as sent at the kill``; it is exact, not
  estimated, and it is the only duplicate the outbox design allows (Telegram has no
  idempotency key, so no bot can do better once it was killed between the answer and the
  write).
* A delivered update that the killed bot had fetched but not confirmed (by the next
  ``getUpdates`` offset) is delivered again after the restart, as Telegram does. Before the
  test reads the database after a restart it therefore sends a *barrier* (``/status`` or
  ``/apply``) and waits for its answer: each person's updates are processed in order, so
  whatever was redelivered before it has been handled by then.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, TypeVar

from cryptography.fernet import Fernet

from bot.crypto import Cipher
from bot.forms import load_form
from bot.ids import Ids
from bot.intake import IntakeService
from bot.render import CHECKED
from bot.storage import Database, meta, sessions
from bot.storage.db import utcnow
from bot.tasks import TaskService
from tests.fakes.http_telegram import DEFAULT_TOKEN, HttpTelegram
from tests.fakes.telegram import Call, FakeTelegram
from tests.flows import AREA, OTHER, PHONE_E164, STORY, add_volunteers, script

ROOT = Path(__file__).resolve().parent.parent
COMMITTEE_CHAT = -1001234567890
MEMBER = 900
FAMILY = 707
FIRST_VOLUNTEER = 20_001
VOLUNTEER_ANSWERS = {
    "skills": ["driving"],
    "areas": ["north"],
    "languages": ["en"],
    "availability": ["weekends"],
}

WAIT = 30.0
"""Longest wait for one answer of the bot (generous: only a hang should ever reach it)."""
POLL = 0.02
SETTLE = 0.2
"""After a kill: time for the fake to finish requests the dead bot had already written."""
MAX_POLL = 0.5
"""How long the fake holds a long poll (a killed bot's poll ends at once anyway)."""

SUBMITTED = "submitted"
CASE_REF = re.compile(r"[234679ACDEFGHJKMNPQRTUVWXYZ]{3}-[234679ACDEFGHJKMNPQRTUVWXYZ]{3}")
TASK_REF = re.compile(r"\bT[234679ACDEFGHJKMNPQRTUVWXYZ]{5}\b")

# What the bot says (the people here write in English; the committee's language is English).
CONFIRMATION = "Your reference is"
DECIDED = "Done: case"
PUBLISHED = "published"
ACCEPTED_REPLY = "You are in"
WAITLISTED_REPLY = "waiting list"
ALREADY_REPLY = "already answered"
# An offer edited to show the volunteer's answer (handlers/tasks.py ``answered``).
ANSWER_SHOWN = "Your answer: {}"
STATUS_REPLY = "You have"
FORMS = ("intake", "volunteer")

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# The database, read from this process
# --------------------------------------------------------------------------------------------


def rows(db: Path, query: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
    """A read-only query on the bot's database (a short-lived connection: WAL readers are
    harmless to the running bot, and after a kill this is what a restart starts from)."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        return list(conn.execute(query, tuple(params)))


def count(db: Path, query: str, params: Sequence[object] = ()) -> int:
    """The first column of the first row, as an int."""
    found = rows(db, query, params)
    return int(found[0][0]) if found and found[0][0] is not None else 0


def pending_outbox(db: Path) -> int:
    """Outbox items still to send."""
    return count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")


def pseudonyms(db: Path, cipher: Cipher) -> Ids:
    """The pseudonyms of the bot's database (their key is in its meta table)."""
    [row] = rows(db, "SELECT value FROM meta WHERE name = 'pseudonym_key'")
    return Ids(cipher, base64.b64decode(cipher.decrypt(row["value"])))


def outbox_chats(rig: Rig, where: str, params: Sequence[object] = ()) -> Counter[int]:
    """Per real chat id: how many outbox items match ``where``."""
    found = rows(rig.db_path, f"SELECT chat_id, chat FROM outbox WHERE {where}", params)  # noqa: S608
    ids = pseudonyms(rig.db_path, rig.cipher)
    return Counter(int(r[0]) if r[1] is None else ids.open(r[1]) for r in found)


def sent_items(rig: Rig, kind: str) -> Counter[int]:
    """Per chat: outbox items of ``kind`` recorded as sent."""
    return outbox_chats(rig, "kind = ? AND status = 'sent'", (kind,))


def in_flight(delivered_before: Counter[int], sent_at_kill: Counter[int]) -> Counter[int]:
    """Per chat: messages Telegram delivered that the bot had not recorded as sent."""
    return Counter(
        {
            chat: delivered - sent_at_kill[chat]
            for chat, delivered in delivered_before.items()
            if delivered > sent_at_kill[chat]
        }
    )


def _open_log(path: Path) -> IO[bytes]:
    return path.open("ab")


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# The rig
# --------------------------------------------------------------------------------------------


class Rig:
    """One run: the HTTP fake, a data directory and key, and the bot process.

    Use as ``async with Rig(tmp_path) as rig``: the bot process, if any, is killed and the
    server closed on the way out, whatever happens.
    """

    def __init__(self, directory: Path, *, reminder_offsets: str = "24h,1h") -> None:
        self.dir = directory
        self.server = HttpTelegram(DEFAULT_TOKEN, max_poll_seconds=MAX_POLL)
        self.key = Fernet.generate_key().decode()
        self.cipher = Cipher((self.key,))
        self.db_path = directory / "sanad.db"
        self.env = {
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": "",  # set once the server listens
            "DATA_DIR": str(directory),
            "ENCRYPTION_KEY": self.key,
            "COMMITTEE_CHAT_ID": str(COMMITTEE_CHAT),
            "COMMITTEE_MEMBER_IDS": str(MEMBER),
            "COMMITTEE_LANGUAGE": "en",
            "DEFAULT_LANGUAGE": "ar",
            "TIMEZONE": "UTC",
            "PHONE_REGION": "JO",
            "REMINDER_OFFSETS": reminder_offsets,
            # The scripted people answer faster than anybody reads: the flood gate (tested in
            # test_flood.py) would drop their updates and make the scripts wait forever.
            "FLOOD_PER_MINUTE": "0",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.started_at = 0
        """``len(fake.calls)`` when the current process was started."""

    def pid(self, user: int) -> int:
        """The user's pseudonym in the bot's database."""
        return pseudonyms(self.db_path, self.cipher).pid(user)

    @property
    def fake(self) -> FakeTelegram:
        """The inner fake: every call the bot made."""
        return self.server.fake

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.server.start()
        self.env["TELEGRAM_API_BASE_URL"] = self.server.base_url
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Kill the bot if it still runs, then stop the server."""
        try:
            if self.process is not None and self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            self.process = None
        finally:
            await self.server.close()

    # -- the process -------------------------------------------------------------------------

    def log_path(self, number: int | None = None) -> Path:
        """The output of the ``number``-th process (default: the latest)."""
        return self.dir / f"bot-{number or self.starts}.log"

    def log_tail(self) -> str:
        """The end of the latest process's output, for failure messages."""
        return f"--- {self.log_path().name} ---\n{_tail(self.log_path())}"

    async def start(self) -> None:
        """Start ``python -m bot run`` and wait until it polls for updates."""
        assert self.process is None, "the bot is already running"
        self.starts += 1
        self.started_at = len(self.fake.calls)
        log = _open_log(self.log_path())
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                env=self.env, cwd=self.dir,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        finally:
            log.close()
        since = self.started_at
        await self.until(
            lambda: any(c.method == "getUpdates" for c in self.fake.calls[since:]),
            "the bot to poll for updates",
        )

    async def kill(self) -> int:
        """SIGKILL the bot; return ``len(fake.calls)`` once the dead bot's requests are done."""
        process = self.process
        assert process is not None, "the bot is not running"
        if process.returncode is not None:
            raise AssertionError(
                f"the bot had already exited ({process.returncode})\n{self.log_tail()}"
            )
        process.kill()
        await process.wait()
        self.process = None
        await asyncio.sleep(SETTLE)
        return len(self.fake.calls)

    async def until(
        self,
        predicate: Callable[[], _T | None],
        what: str,
        timeout: float = WAIT,  # noqa: ASYNC109 - a deadline for a polled condition
    ) -> _T:
        """Poll until ``predicate()`` is truthy and return it; fail if the bot dies first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            process = self.process
            if process is not None and process.returncode is not None:
                raise AssertionError(
                    f"the bot exited ({process.returncode}) while waiting for {what}\n"
                    f"{self.log_tail()}"
                )
            if loop.time() >= deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; calls: {self.server.describe()[-3000:]}\n"
                    f"violations: {self.fake.violations}\n{self.log_tail()}"
                )
            await asyncio.sleep(POLL)

    # -- people ------------------------------------------------------------------------------

    def button(self, chat: int, pattern: str) -> tuple[int, str]:
        """``(message_id, data)`` of the newest button on screen in ``chat`` matching."""
        for message in reversed(self.fake.messages(chat)):
            for _, data in self.fake.buttons(message):
                if data is not None and re.search(pattern, data):
                    return int(message["message_id"]), data
        raise AssertionError(f"no button matching {pattern!r} in chat {chat}")

    async def press(self, user: int, pattern: str, *, chat: int | None = None) -> int:
        """``user`` taps the newest button matching ``pattern``; return the call index before."""
        chat_id = user if chat is None else chat
        message_id, data = self.button(chat_id, pattern)
        since = len(self.fake.calls)
        await self.server.push(
            self.server.callback(user, data, message_id=message_id, chat_id=chat_id)
        )
        return since

    async def press_data(self, user: int, data: str) -> int:
        """``user`` taps a button with ``data`` on a message of the bot in their private chat
        (one this run did not show); return the call index before."""
        since = len(self.fake.calls)
        await self.server.push(self.server.callback(user, data))
        return since

    async def say(self, user: int, text: str) -> int:
        """``user`` sends ``text`` in private; return the call index before."""
        since = len(self.fake.calls)
        await self.server.push(self.server.text(user, text))
        return since

    def sends(self, chat: int, since: int = 0, until: int | None = None) -> list[Call]:
        """Messages Telegram delivered to ``chat`` (sendMessage) among ``calls[since:until]``."""
        return [
            c
            for c in self.fake.calls[since:until]
            if c.method == "sendMessage" and c.delivered and c.chat_id == chat
        ]

    def with_button(self, chat: int, since: int, pattern: str) -> Call | None:
        """The first message to ``chat`` after ``since`` with a button matching, sent or
        edited (a tap on a question turns that message into the next one)."""
        shown = [
            c
            for c in self.fake.calls[since:]
            if c.method in ("sendMessage", "editMessageText") and c.delivered and c.chat_id == chat
        ]
        for call in shown:
            if any(d is not None and re.search(pattern, d) for _, d in self.fake.buttons(call)):
                return call
        return None

    def with_text(
        self, chat: int, since: int, fragment: str, until: int | None = None
    ) -> Call | None:
        """The first message to ``chat`` among ``calls[since:until]`` containing ``fragment``."""
        return next(
            (c for c in self.sends(chat, since, until) if fragment in (c.text or "")), None
        )

    def toggled(self, chat: int, since: int, data: str) -> Call | None:
        """An edit after ``since`` showing the button ``data`` checked (a multi-choice)."""
        for call in self.fake.calls[since:]:
            if (
                call.method == "editMessageReplyMarkup"
                and call.delivered
                and call.chat_id == chat
                and any(d == data and t.startswith(CHECKED) for t, d in self.fake.buttons(call))
            ):
                return call
        return None

    async def barrier(self, *users: int) -> None:
        """Each user sends /status and gets the answer: what came before is handled."""
        since = len(self.fake.calls)
        for user in users:
            await self.say(user, "/status")
        for user in users:
            await self.until(
                partial(self.with_text, user, since, STATUS_REPLY), f"/status answered to {user}"
            )

    async def drained(self) -> None:
        """Wait until the outbox has nothing left to send."""
        await self.until(lambda: pending_outbox(self.db_path) == 0, "the outbox to drain")


# --------------------------------------------------------------------------------------------
# Scripted moves: what a person does, and which answer of the bot acknowledges it
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One thing a person does, and how to recognise the bot's answer to it."""

    kind: str
    """``press`` (a regex for the button's data) or ``say`` (a text)."""
    value: str
    button: str | None = None
    """The answer is a new message with a button matching this regex..."""
    text: str | None = None
    """...or a new message containing this text..."""
    toggle: bool = False
    """...or an edit showing the pressed option checked."""
    chat: int | None = None
    """Where the button is (default: the person's private chat)."""
    step: str = ""
    """Intake: the question this answers. Review: the wizard step saved afterwards."""
    option: str | None = None
    """Intake: the option a multi-choice press toggles."""
    then: str | None = None
    """Intake: the question asked next (``SUBMITTED`` after Submit; None for a toggle)."""

    @property
    def label(self) -> str:
        """Short, for the printed counts."""
        shown = self.value.strip("^$").replace("\\", "")
        return f"{self.kind} {shown[:24]}" if self.kind == "press" else f"say {self.step}"


async def perform(rig: Rig, user: int, move: Move) -> int:
    """Do ``move``; return the call index before it."""
    if move.kind == "press":
        return await rig.press(user, move.value, chat=move.chat)
    return await rig.say(user, move.value)


def answer_to(rig: Rig, user: int, move: Move, since: int) -> Callable[[], Call | None]:
    """A check for the bot's answer to ``move`` (done at call index ``since``).

    Every handler makes the change durable before it answers, so an answer seen means the
    change is on disk.
    """
    if move.toggle:
        _, data = rig.button(user if move.chat is None else move.chat, move.value)
        return partial(rig.toggled, user, since, data)
    if move.text is not None:
        return partial(rig.with_text, user, since, move.text)
    assert move.button is not None
    return partial(rig.with_button, user, since, move.button)


async def acknowledged(rig: Rig, user: int, move: Move, since: int) -> Call:
    """Wait for the bot's answer to ``move`` (done at ``since``)."""
    return await rig.until(answer_to(rig, user, move, since), f"{move.label} answered")


async def play(rig: Rig, user: int, moves: Iterable[Move]) -> Call | None:
    """Do each move and wait for its answer; return the last answer."""
    answer = None
    for move in moves:
        since = await perform(rig, user, move)
        answer = await acknowledged(rig, user, move, since)
    return answer


@dataclass
class KillPoint:
    """Where a run kills the bot: before move ``index`` is done, or (``during``) ``delay``
    seconds after it was sent, while the bot may be handling it; with ``index`` past the last
    move, ``after`` seconds after the last answer (while the outbox sends what it caused)."""

    index: int
    during: bool
    delay: float
    after: float = 0.0

    def describe(self, moves: Sequence[Move]) -> str:
        """``during #7 say household_size (+12 ms)``, for the printed counts."""
        if self.index >= len(moves):
            return f"after the last answer (+{self.after * 1000:.0f} ms)"
        where = f"#{self.index} {moves[self.index].label}"
        if self.during:
            return f"during {where} (+{self.delay * 1000:.0f} ms)"
        return f"before {where}"


@dataclass(frozen=True)
class Killed:
    """How far a scripted conversation got when the bot was killed."""

    acked: int
    """Moves the bot had answered (so, made durable) before it died."""
    pushed: int
    """Moves sent to Telegram before the kill (the last may or may not have been handled)."""
    restart_index: int
    """``len(fake.calls)`` once the bot was dead: what happened before the restart."""


async def play_until_killed(
    rig: Rig, user: int, moves: Sequence[Move], point: KillPoint
) -> Killed:
    """Play ``moves`` and kill the bot at ``point``."""
    done = 0
    for index, move in enumerate(moves):
        if index == point.index and not point.during:
            break
        since = await perform(rig, user, move)
        if index == point.index:
            await asyncio.sleep(point.delay)
            restart_index = await rig.kill()
            if answer_to(rig, user, move, since)():  # answered before the kill landed
                done += 1
            return Killed(done, index + 1, restart_index)
        await acknowledged(rig, user, move, since)
        done = index + 1
    else:
        await asyncio.sleep(point.after)  # the kill lands while the outbox sends
    return Killed(done, done, await rig.kill())


# --------------------------------------------------------------------------------------------
# Scenario 1: an intake
# --------------------------------------------------------------------------------------------

# For each step of tests.flows.script(): the question it answers, the option it toggles (a
# multi-choice press) and the question asked next (None: a toggle, answered by an edit).
_INTAKE_TABLE = (
    ("situation", "orphans", None),
    ("situation", "other", None),
    ("situation", None, "situation_other"),
    ("situation_other", None, "support"),
    ("support", "financial", None),
    ("support", "moral", None),
    ("support", None, "household_size"),
    ("household_size", None, "children"),
    ("children", None, "area"),
    ("area", None, "area_other"),
    ("area_other", None, "name"),
    ("name", None, "phone"),
    ("phone", None, "call_time"),
    ("call_time", None, "description"),
    ("description", None, "urgency"),
    ("urgency", None, "review"),
)


def _question(step: str) -> str:
    return rf"^in:\w+:{step}:"


def intake_moves() -> list[Move]:
    """Consent, every scripted answer of tests/flows.py, then Submit."""
    steps = script()
    assert len(steps) == len(_INTAKE_TABLE), "tests/flows.py changed: update _INTAKE_TABLE"
    moves = [Move("press", r"^ic:y$", button=_question("situation"), step="consent",
                  then="situation")]  # fmt: skip
    for (kind, value), (step, option, then) in zip(steps, _INTAKE_TABLE, strict=True):
        moves.append(
            Move(
                kind,
                value,
                button=None if then is None else _question(then),
                toggle=then is None,
                step=step,
                option=option,
                then=then,
            )
        )
    moves.append(Move("press", r":review:S:$", text=CONFIRMATION, step="review", then=SUBMITTED))
    return moves


@dataclass(frozen=True)
class DraftState:
    """What a draft holds: its question, the questions answered, the options ticked."""

    step: str
    answered: frozenset[str]
    pending: frozenset[str]


def draft_states(moves: Sequence[Move]) -> list[DraftState | None]:
    """The draft after 0, 1, ... moves (None: no draft), up to the review."""
    states: list[DraftState | None] = [None]
    state: DraftState | None = None
    for move in moves:
        if move.then == SUBMITTED:
            break
        if move.step == "consent":
            state = DraftState("situation", frozenset(), frozenset())
        elif move.option is not None:
            assert state is not None
            state = replace(state, pending=state.pending | {move.option})
        else:
            assert state is not None and move.then is not None
            state = DraftState(move.then, state.answered | {move.step}, frozenset())
        states.append(state)
    return states


def stored_draft(rig: Rig, user: int) -> DraftState | None:
    """The user's draft as the database holds it."""
    found = rows(rig.db_path, "SELECT payload FROM drafts WHERE user_id = ?", (rig.pid(user),))
    if not found:
        return None
    payload: dict[str, Any] = rig.cipher.decrypt_json(found[0]["payload"])
    return DraftState(
        str(payload["step"]), frozenset(payload["answers"]), frozenset(payload["pending"])
    )


def case_refs(rig: Rig, user: int) -> list[str]:
    """The user's cases in the database."""
    return [
        str(r["ref"])
        for r in rows(
            rig.db_path, "SELECT ref FROM cases WHERE user_id = ? ORDER BY id", (rig.pid(user),)
        )
    ]


def confirmed_refs(rig: Rig, user: int, until: int | None = None) -> set[str]:
    """References the family was given on submitting (among ``calls[:until]``)."""
    found: set[str] = set()
    for call in rig.sends(user, 0, until):
        text = call.text or ""
        if CONFIRMATION in text:
            found.update(CASE_REF.findall(text))
    return found


@dataclass
class IntakeRun:
    """What one intake run saw."""

    kill: str = ""
    acked: int = 0
    """Moves the bot had answered before the kill (consent is move 0, Submit the last)."""
    pushed: int = 0
    """Moves sent before the kill."""
    kept: int | None = None
    """Moves the database reflected after the restart (None: it matches no state at all)."""
    confirmed_before: set[str] = field(default_factory=set)
    cases_after_restart: list[str] = field(default_factory=list)
    cases_final: list[str] = field(default_factory=list)
    confirmed: set[str] = field(default_factory=set)
    told_after_restart: set[str] = field(default_factory=set)
    """References /apply showed after the restart ("still being reviewed")."""
    final_answers: dict[str, Any] = field(default_factory=dict)
    final_personal: dict[str, Any] = field(default_factory=dict)
    drafts_left: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def cases_lost(self) -> int:
        """Cases the family was told about that the database does not hold."""
        return len(self.confirmed_before - set(self.cases_after_restart))

    @property
    def answers_lost(self) -> int:
        """Answered moves the database no longer reflects."""
        return max(0, self.acked - (self.kept or 0))


async def begin_intake(rig: Rig, user: int) -> None:
    """/apply, up to the consent question."""
    since = await rig.say(user, "/apply")
    await rig.until(partial(rig.with_button, user, since, r"^ic:y$"), "the consent question")


async def intake_run(rig: Rig, point: KillPoint) -> IntakeRun:
    """A family applies; the bot is killed at ``point``; after a restart the family finishes."""
    moves = intake_moves()
    states = draft_states(moves)
    run = IntakeRun(kill=point.describe(moves))
    await rig.start()
    await begin_intake(rig, FAMILY)
    killed = await play_until_killed(rig, FAMILY, moves, point)
    run.acked, run.pushed = killed.acked, killed.pushed
    run.confirmed_before = confirmed_refs(rig, FAMILY, killed.restart_index)

    await rig.start()
    # /apply is the barrier: it is answered after anything Telegram delivers again.
    since = await rig.say(FAMILY, "/apply")
    answer = await rig.until(
        partial(rig.with_button, FAMILY, since, r"^(ap|ic):"), "/apply answered after restart"
    )
    buttons = [d or "" for _, d in rig.fake.buttons(answer)]
    run.told_after_restart = set(CASE_REF.findall(answer.text or ""))
    draft = stored_draft(rig, FAMILY)
    run.cases_after_restart = case_refs(rig, FAMILY)
    if draft is not None:
        run.kept = states.index(draft) if draft in states else None
    elif run.cases_after_restart:
        run.kept = len(moves)
    else:
        run.kept = 0
    if run.kept is None:
        run.problems.append(f"the draft after the restart matches no answered state: {draft}")
        return run
    if len(run.cases_after_restart) > 1:
        run.problems.append(f"{len(run.cases_after_restart)} cases after one Submit")
    # The bot's answer to /apply must agree with the database.
    if draft is not None:
        if not any(b.startswith("ap:c:") for b in buttons):
            run.problems.append(f"a draft is stored but /apply offered {buttons}")
            return run
        since = await rig.press(FAMILY, r"^ap:c:")
        await rig.until(
            partial(rig.with_button, FAMILY, since, _question(draft.step)),
            "the draft's question shown again",
        )
        await play(rig, FAMILY, moves[run.kept :])
    elif run.cases_after_restart:
        if not any(b.startswith("ap:n:") for b in buttons):
            run.problems.append(f"a case is open but /apply offered {buttons}")
    else:
        if "ic:y" not in buttons:
            run.problems.append(f"nothing is stored but /apply offered {buttons}")
            return run
        await play(rig, FAMILY, moves)

    run.cases_final = case_refs(rig, FAMILY)
    run.confirmed = confirmed_refs(rig, FAMILY)
    run.drafts_left = count(
        rig.db_path, "SELECT COUNT(*) FROM drafts WHERE user_id = ?", (rig.pid(FAMILY),)
    )
    if len(run.cases_final) == 1:
        row = rows(rig.db_path, "SELECT answers, personal FROM cases WHERE ref = ?",
                   (run.cases_final[0],))[0]  # fmt: skip
        run.final_answers = json.loads(row["answers"])
        run.final_personal = rig.cipher.decrypt_json(row["personal"])
    await rig.kill()
    return run


# --------------------------------------------------------------------------------------------
# Scenario 2: a committee decision
# --------------------------------------------------------------------------------------------

# A finished application, as tests/flows.py's script answers it.
CASE_ANSWERS: dict[str, Any] = {
    "situation": ["orphans", "other"],
    "situation_other": OTHER,
    "support": ["financial", "moral"],
    "household_size": 5,
    "children": 3,
    "area": "other",
    "area_other": AREA,
    "name": "Fatima Al-Zahra",
    "phone": PHONE_E164,
    "call_time": "evening",
    "description": {"text": STORY},
    "urgency": "high",
}


async def seed_case(rig: Rig) -> str:
    """A family's submitted case, written before the bot starts (its committee card still
    queued in the outbox, as after a submission); return its reference."""
    db = Database(rig.db_path)
    await db.open(rig.cipher)
    ids = await meta.load_ids(db, rig.cipher)
    try:
        intake = IntakeService(db, ids, {name: load_form(name) for name in FORMS})
        draft = await intake.start(FAMILY, "en")
        draft.answers = dict(CASE_ANSWERS)
        draft.step = "review"
        case = await intake.submit(FAMILY, "en", draft, COMMITTEE_CHAT)
    finally:
        await db.close()
    return case.ref


def decision_moves(kind: str, ref: str) -> list[Move]:
    """The member's presses from the card to Confirm (``step``: the wizard step saved)."""
    if kind == "approve":
        return [
            Move("press", rf"^cv:approve:{ref}$", button=r"^rv:sd:$", chat=COMMITTEE_CHAT,
                 step="support"),
            Move("press", r"^rv:sd:$", button=r"^rv:p:3$", step="period"),
            Move("press", r"^rv:p:3$", button=r"^rv:skip:$", step="message"),
            Move("say", "We will call you on Sunday", button=r"^rv:ok:$", step="confirm"),
            Move("press", r"^rv:ok:$", text=DECIDED),
        ]  # fmt: skip
    return [
        Move("press", rf"^cv:decline:{ref}$", button=r"^rv:r:", chat=COMMITTEE_CHAT,
             step="reason"),
        Move("press", r"^rv:r:debt$", button=r"^rv:skip:$", step="message"),
        Move("press", r"^rv:skip:$", button=r"^rv:ok:$", step="confirm"),
        Move("press", r"^rv:ok:$", text=DECIDED),
    ]  # fmt: skip


@dataclass
class DecisionRun:
    """What one decision run saw."""

    kind: str = ""
    kill: str = ""
    acked: int = 0
    pushed: int = 0
    moves: int = 0
    confirmed_before: bool = False
    status_after_restart: str = ""
    session_after_restart: str | None = None
    redone: bool = False
    """No decision after the restart: the member went through the wizard again."""
    confirm_lost: bool = False
    """The member pressed Confirm, the wizard was ended but no decision made (the kill fell
    between the two writes): unconfirmed, so allowed; the member starts again."""
    status_final: str = ""
    decision_events: int = 0
    notice_items: int = 0
    notices_delivered: int = 0
    notices_in_flight: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def expected(self) -> str:
        """The status the decision leads to."""
        return "approved" if self.kind == "approve" else "declined"

    @property
    def decisions_lost(self) -> int:
        """Decisions the member was told about that the database does not hold."""
        return int(self.confirmed_before and self.status_after_restart != self.expected)


def stored_session(rig: Rig, user: int) -> str | None:
    """The step of the user's wizard session, if any."""
    found = rows(rig.db_path, "SELECT payload FROM sessions WHERE user_id = ?", (rig.pid(user),))
    if not found:
        return None
    return str(rig.cipher.decrypt_json(found[0]["payload"]).get("step"))


def case_status(rig: Rig, ref: str) -> str:
    """The case's status in the database."""
    return str(rows(rig.db_path, "SELECT status FROM cases WHERE ref = ?", (ref,))[0]["status"])


async def decision_run(rig: Rig, kind: str, point_of: Callable[[int], KillPoint]) -> DecisionRun:
    """A member decides on a case through the wizard; the bot is killed at a point drawn by
    ``point_of(number of moves)``; after the restart the decision is complete (made before
    the kill, or made again from the card)."""
    run = DecisionRun(kind=kind)
    ref = await seed_case(rig)
    await rig.start()  # the card goes out at start-up
    await rig.until(
        partial(rig.with_button, COMMITTEE_CHAT, 0, rf"^cv:{kind}:{ref}$"), "the committee card"
    )
    notices_since = len(rig.fake.calls)
    moves = decision_moves(kind, ref)
    run.moves = len(moves)
    point = point_of(len(moves))
    run.kill = point.describe(moves)
    killed = await play_until_killed(rig, MEMBER, moves, point)
    run.acked, run.pushed = killed.acked, killed.pushed
    run.confirmed_before = rig.with_text(MEMBER, 0, DECIDED, killed.restart_index) is not None
    sent_at_kill = sent_items(rig, "family_notice")[FAMILY]
    delivered_before = len(rig.sends(FAMILY, notices_since, killed.restart_index))
    run.notices_in_flight = max(0, delivered_before - sent_at_kill)

    await rig.start()
    await rig.barrier(MEMBER)
    run.status_after_restart = case_status(rig, ref)
    run.session_after_restart = stored_session(rig, MEMBER)
    decided = run.status_after_restart == run.expected
    # The wizard's step after the restart: the one saved by an answered press, or by the
    # press in flight at the kill. Confirm ends the session.
    sessions: list[str | None] = [None, *(m.step or None for m in moves)]
    possible = sessions[run.acked : run.pushed + 1]
    if run.session_after_restart not in possible:
        run.problems.append(
            f"the wizard after the restart is at {run.session_after_restart!r}, expected one "
            f"of {possible} ({run.acked} presses answered, {run.pushed} sent)"
        )
    if decided and run.pushed < len(moves):
        run.problems.append("a decision was made before Confirm was pressed")
    if not decided:
        if run.status_after_restart != "new":
            run.problems.append(f"the case is {run.status_after_restart!r}")
        run.confirm_lost = run.pushed == len(moves) and run.session_after_restart is None
        run.redone = True
        await play(rig, MEMBER, moves)  # the member starts again from the card
    await rig.drained()
    await rig.until(partial(rig.sends, FAMILY, notices_since), "the family's notice")
    run.status_final = case_status(rig, ref)
    run.decision_events = count(
        rig.db_path, "SELECT COUNT(*) FROM audit WHERE action = ?", (f"case_{run.expected}",)
    )
    run.notice_items = count(
        rig.db_path, "SELECT COUNT(*) FROM outbox WHERE kind = 'family_notice'"
    )
    run.notices_delivered = len(rig.sends(FAMILY, notices_since))
    await rig.kill()
    return run


# --------------------------------------------------------------------------------------------
# Scenario 3: a broadcast
# --------------------------------------------------------------------------------------------


async def seed_volunteers(rig: Rig, volunteer_ids: Sequence[int]) -> None:
    """Active volunteers (English, driving, north), written before the bot starts."""
    db = Database(rig.db_path)
    await db.open(rig.cipher)
    ids = await meta.load_ids(db, rig.cipher)
    try:
        await add_volunteers(db, ids, volunteer_ids, ("en",), VOLUNTEER_ANSWERS)
    finally:
        await db.close()


async def seed_task_wizard(rig: Rig, needed: int, matches: int) -> None:
    """The member's /newtask wizard, filled in up to its preview (written before the bot
    starts): the run begins with the press on Publish. (The wizard's own screens are
    handlers' business, tested in test_tasks.py; walking them here would cost ~1 s each under
    the bot's per-chat pacing.)"""
    starts = (utcnow() + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    session = {
        "kind": "task",
        "step": "preview",
        "title": "Drive a family",
        "description": "Take a family to the clinic and back.",
        "skill": "driving",
        "area": "north",
        "day": starts.date().isoformat(),
        "starts_at": starts.isoformat(),
        "duration": 120,
        "needed": needed,
        "matches": matches,
    }
    db = Database(rig.db_path)
    await db.open(rig.cipher)
    ids = await meta.load_ids(db, rig.cipher)
    try:
        await sessions.save(db, ids, MEMBER, session)
    finally:
        await db.close()


def delivered_with_button(rig: Rig, pattern: str, until: int | None = None) -> Counter[int]:
    """Per chat: messages Telegram delivered with a button matching ``pattern``."""
    found: Counter[int] = Counter()
    for call in rig.fake.calls[:until]:
        if (
            call.method == "sendMessage"
            and call.delivered
            and isinstance(call.chat_id, int)
            and any(d is not None and re.search(pattern, d) for _, d in rig.fake.buttons(call))
        ):
            found[call.chat_id] += 1
    return found


def offers(rig: Rig, ref: str, until: int | None = None) -> Counter[int]:
    """Per volunteer: offers of task ``ref`` Telegram delivered (among ``calls[:until]``)."""
    return delivered_with_button(rig, rf"^tk:a:{ref}$", until)


def answered_task(rig: Rig, volunteer: int, until: int | None = None) -> str | None:
    """The bot's answer to the volunteer's Accept: accepted, waitlisted, already, or None.

    The answer is a reply, or the offer itself edited to show it (its buttons gone): a bot
    killed between the two has told the volunteer by the edit alone.
    """
    for call in rig.fake.calls[:until]:
        if call.chat_id != volunteer or not call.delivered:
            continue
        text = call.text or ""
        if call.method == "editMessageText":
            if ANSWER_SHOWN.format("Accepted") in text:
                return "accepted"
            if ANSWER_SHOWN.format("On the waiting list") in text:
                return "waitlisted"
            continue
        if call.method != "sendMessage":
            continue
        if ACCEPTED_REPLY in text:
            return "accepted"
        if WAITLISTED_REPLY in text:
            return "waitlisted"
        if ALREADY_REPLY in text:
            return "already"
    return None


def assignments(rig: Rig, ref: str) -> dict[int, str]:
    """Per volunteer: the assignment's status in the database."""
    found = rows(
        rig.db_path,
        "SELECT a.volunteer, a.status FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "WHERE t.ref = ?",
        (ref,),
    )
    ids = pseudonyms(rig.db_path, rig.cipher)
    return {ids.open(r[0]): str(r[1]) for r in found}


@dataclass
class BroadcastRun:
    """What one broadcast run saw."""

    kill: str = ""
    volunteers: int = 0
    needed: int = 0
    delivered_before_kill: int = 0
    sent_at_kill: int = 0
    in_flight: int = 0
    offers: Counter[int] = field(default_factory=Counter)
    offer_items: Counter[int] = field(default_factory=Counter)
    duplicates: int = 0
    duplicates_beyond_in_flight: list[int] = field(default_factory=list)
    misses: int = 0
    slots_confirmed_before: set[int] = field(default_factory=set)
    slots_at_kill: set[int] = field(default_factory=set)
    final: dict[int, str] = field(default_factory=dict)
    takers: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def held(self) -> set[int]:
        """Volunteers holding a slot at the end."""
        return {v for v, s in self.final.items() if s == "accepted"}

    @property
    def slots_lost(self) -> set[int]:
        """Slots taken (durably, or confirmed to the volunteer) before the kill, not held."""
        return (self.slots_confirmed_before | self.slots_at_kill) - self.held


async def take_offers(rig: Rig, takers: Sequence[int], ref: str, pressed: set[int]) -> None:
    """Each taker presses Accept as soon as the offer reaches them."""
    seen = 0
    waiting = set(takers)
    while waiting:
        calls = rig.fake.calls
        fresh, seen = calls[seen:], len(calls)
        for call in fresh:
            chat = call.chat_id
            if call.method == "sendMessage" and call.delivered and chat in waiting:
                assert isinstance(chat, int)
                waiting.discard(chat)
                pressed.add(chat)
                await rig.press(chat, rf"^tk:a:{ref}$")
        await asyncio.sleep(POLL)


async def broadcast_run(
    rig: Rig, count_: int, needed: int, takers: Sequence[int], delay: float
) -> BroadcastRun:
    """A member publishes a task to ``count_`` volunteers; some accept as the offers arrive;
    the bot is killed ``delay`` seconds after the publication is confirmed; after a restart
    every offer goes out and every taker's Accept is answered."""
    ids = list(range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + count_))
    run = BroadcastRun(volunteers=count_, needed=needed, takers=list(takers))
    run.kill = f"{delay * 1000:.0f} ms after Publish"
    await seed_volunteers(rig, ids)
    await seed_task_wizard(rig, needed, count_)
    await rig.start()
    since = await rig.press_data(MEMBER, "tw:p:")
    published = await rig.until(
        partial(rig.with_text, MEMBER, since, PUBLISHED), "the publication confirmed"
    )
    match = TASK_REF.search(published.text or "")
    assert match is not None, published.text
    ref = match.group(0)

    pressed: set[int] = set()
    watcher = asyncio.create_task(take_offers(rig, takers, ref, pressed))
    try:
        await asyncio.sleep(delay)
        restart_index = await rig.kill()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    delivered_before = offers(rig, ref, restart_index)
    sent_at_kill = sent_items(rig, "task_offer")
    flying = in_flight(delivered_before, sent_at_kill)
    run.delivered_before_kill = sum(delivered_before.values())
    run.sent_at_kill = sum(sent_at_kill.values())
    run.in_flight = sum(flying.values())
    run.slots_at_kill = {v for v, s in assignments(rig, ref).items() if s == "accepted"}
    run.slots_confirmed_before = {
        v for v in takers if answered_task(rig, v, restart_index) == "accepted"
    }

    await rig.start()
    await rig.drained()
    await rig.barrier(*takers)  # every Accept Telegram delivers again is handled by now
    for volunteer in takers:
        if answered_task(rig, volunteer) is None:  # never pressed, or lost with the bot
            await rig.press(volunteer, rf"^tk:a:{ref}$")
            await rig.until(
                partial(answered_task, rig, volunteer), f"Accept answered to {volunteer}"
            )
    await rig.drained()
    run.offers = offers(rig, ref)
    run.offer_items = Counter(outbox_chats(rig, "kind = 'task_offer' AND status = 'sent'"))
    run.misses = sum(1 for v in ids if not run.offers[v])
    run.duplicates = sum(n - 1 for n in run.offers.values() if n > 1)
    run.duplicates_beyond_in_flight = [v for v, n in run.offers.items() if n - 1 > flying[v]]
    run.final = assignments(rig, ref)
    await rig.kill()
    return run


# --------------------------------------------------------------------------------------------
# Scenario 4: just before a reminder
# --------------------------------------------------------------------------------------------


@dataclass
class ReminderRun:
    """What one reminder run saw."""

    kill: str = ""
    volunteers: int = 0
    offsets: int = 0
    claimed_at_kill: int = 0
    delivered_before_kill: int = 0
    in_flight: int = 0
    on_time: bool = True
    """Every Accept was answered before the first due time (the usual case; on a machine
    so loaded that it was not, reminders already due when a slot is taken are one)."""
    scheduled: Counter[int] = field(default_factory=Counter)
    """Per volunteer: the reminders the accepts scheduled (rows in the database)."""
    reminder_items: Counter[int] = field(default_factory=Counter)
    delivered: Counter[int] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    beyond_in_flight: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        """Reminder messages Telegram delivered."""
        return sum(self.delivered.values())

    @property
    def expected(self) -> int:
        """Reminders scheduled, each to be delivered once."""
        return sum(self.scheduled.values())


def reminders_of(rig: Rig, ref: str, until: int | None = None) -> Counter[int]:
    """Per volunteer: delivered reminders of task ``ref`` (the "I'm coming" button)."""
    return delivered_with_button(rig, rf"^tk:c:{ref}$", until)


def offered(rig: Rig, ref: str, volunteer: int) -> int:
    """How many offers of task ``ref`` reached ``volunteer``."""
    return offers(rig, ref)[volunteer]


def reminder_plan(lead: int, gap: int, offsets: int) -> tuple[datetime, str, list[float]]:
    """A task start and REMINDER_OFFSETS such that the reminders fall due ``lead``, ``lead +
    gap``... seconds from now (whole seconds: the database stores times to the second).

    Returns the start, the REMINDER_OFFSETS value and the due times (``time.time()`` clock).
    """
    base = math.ceil(time.time()) + lead
    span = 60
    starts = datetime.fromtimestamp(base + span, UTC)
    values = [span - i * gap for i in range(offsets)]
    dues = [float(base + i * gap) for i in range(offsets)]
    return starts, ",".join(f"{v}s" for v in values), dues


async def reminder_run(
    rig: Rig,
    volunteers: int,
    starts: datetime,
    dues: list[float],
    kill_at: float,
) -> ReminderRun:
    """Volunteers accept a task whose reminders fall due seconds later; the bot is killed at
    ``kill_at`` (``time.time()`` clock, around a due time); after a restart every reminder
    is claimed and sent."""
    ids = list(range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + volunteers))
    run = ReminderRun(volunteers=volunteers, offsets=len(dues))
    await seed_volunteers(rig, ids)
    db = Database(rig.db_path)
    await db.open(rig.cipher)
    keys = await meta.load_ids(db, rig.cipher)
    try:
        task, _ = await TaskService(db, keys).publish(
            creator_id=MEMBER,
            title="Drive a family",
            description="Take a family to the clinic and back.",
            skill="driving",
            area="north",
            starts_at=starts,
            duration_min=60,
            needed=volunteers,
            case_id=None,
        )
    finally:
        await db.close()
    ref = task.ref
    await rig.start()  # the offers go out at start-up
    for volunteer in ids:
        await rig.until(partial(offered, rig, ref, volunteer), f"the offer to {volunteer}")
    pressed = {volunteer: await rig.press(volunteer, rf"^tk:a:{ref}$") for volunteer in ids}
    for volunteer, since in pressed.items():
        await rig.until(
            partial(rig.with_text, volunteer, since, ACCEPTED_REPLY),
            f"Accept answered to {volunteer}",
        )
    accepted = time.time()
    run.on_time = accepted < dues[0]
    run.scheduled = Counter(
        Counter(
            pseudonyms(rig.db_path, rig.cipher).open(r[0])
            for r in rows(
                rig.db_path,
                "SELECT r.volunteer FROM reminders r JOIN tasks t ON "
                "t.id = r.task_id WHERE t.ref = ? AND r.kind = 'task_reminder'",
                (ref,),
            )
        )
    )
    wait = kill_at - accepted
    run.kill = (
        f"{(max(kill_at, accepted) - dues[0]) * 1000:+.0f} ms from the first due time"
        f"{'' if wait > 0 else ' (right after the accepts)'}"
    )
    if wait > 0:
        await asyncio.sleep(wait)
    restart_index = await rig.kill()
    run.claimed_at_kill = count(
        rig.db_path,
        "SELECT COUNT(*) FROM reminders r JOIN tasks t ON t.id = r.task_id WHERE t.ref = ? "
        "AND r.kind = 'task_reminder' AND r.status != 'pending'",
        (ref,),
    )
    delivered_before = reminders_of(rig, ref, restart_index)
    flying = in_flight(delivered_before, sent_items(rig, "task_reminder"))
    run.delivered_before_kill = sum(delivered_before.values())
    run.in_flight = sum(flying.values())

    await rig.start()

    def settled() -> bool:
        left = count(
            rig.db_path,
            "SELECT COUNT(*) FROM reminders r JOIN tasks t ON t.id = r.task_id WHERE "
            "t.ref = ? AND r.kind = 'task_reminder' AND r.status = 'pending'",
            (ref,),
        )
        return left == 0 and pending_outbox(rig.db_path) == 0

    await rig.until(settled, "every reminder claimed and sent")
    run.statuses = Counter(
        str(r[0])
        for r in rows(
            rig.db_path,
            "SELECT r.status FROM reminders r JOIN tasks t ON t.id = r.task_id WHERE "
            "t.ref = ? AND r.kind = 'task_reminder'",
            (ref,),
        )
    )
    run.reminder_items = Counter(outbox_chats(rig, "kind = 'task_reminder'"))
    run.delivered = reminders_of(rig, ref)
    run.beyond_in_flight = [v for v in ids if run.delivered[v] != run.scheduled[v] + flying[v]]
    await rig.kill()
    return run


async def overdue_reminders_run(rig: Rig, volunteers: int) -> tuple[Counter[str], Counter[int]]:
    """The state a kill leaves when reminders fell due while the bot was down: volunteers
    hold a slot and their reminder is overdue. The bot then starts slowly: Telegram answers
    its first two calls (deleteWebhook) with 502 Bad Gateway, which it retries (1.5 s).

    Returns the reminders' statuses and, per volunteer, the reminders delivered.
    """
    ids = list(range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + volunteers))
    await seed_volunteers(rig, ids)
    db = Database(rig.db_path)
    await db.open(rig.cipher)
    keys = await meta.load_ids(db, rig.cipher)
    try:
        # A reminder two hours before a task starting in one: due at once, on taking the slot.
        tasks = TaskService(db, keys, offsets=(timedelta(hours=2),))
        task, _ = await tasks.publish(
            creator_id=MEMBER,
            title="Drive a family",
            description="Take a family to the clinic and back.",
            skill="driving",
            area="north",
            starts_at=utcnow() + timedelta(hours=1),
            duration_min=60,
            needed=volunteers,
            case_id=None,
        )
        for volunteer in ids:
            assert (await tasks.accept(task.ref, volunteer)).status == "accepted"
    finally:
        await db.close()
    for _ in range(2):
        rig.fake.fail_next("deleteWebhook", 502)
    await rig.start()

    def claimed_and_sent() -> bool:
        left = count(
            rig.db_path,
            "SELECT COUNT(*) FROM reminders WHERE kind = 'task_reminder' AND status = 'pending'",
        )
        return left == 0 and pending_outbox(rig.db_path) == 0

    with contextlib.suppress(AssertionError):  # the verdict is the caller's
        await rig.until(claimed_and_sent, "the overdue reminders sent", timeout=10.0)
    statuses = Counter(
        str(r[0]) for r in rows(rig.db_path, "SELECT status FROM reminders WHERE kind = ?",
                                ("task_reminder",))
    )  # fmt: skip
    delivered = reminders_of(rig, task.ref)
    await rig.kill()
    return statuses, delivered
