"""Benchmark: N families at once through Sanad's whole intake, against two floors.

Run from the project root: ``.venv/bin/python bench/intake.py [--families N] [--data-dir DIR]``
(``make bench`` runs it with the defaults: 200 families).

What is measured, in one run and on the same disk (a temporary directory under ``./data`` by
default, removed afterwards):

1. **Storage floor**: the raw rate of durable SQLite commits with the bot's own settings
   (``bot.storage.db.PRAGMAS``: WAL, ``synchronous=FULL``), one small single-row transaction
   (INSERT of a 300-byte blob) after the other for about 2 s. Measured twice: through
   aiosqlite on one connection with ``BEGIN IMMEDIATE ... COMMIT``, exactly as the bot talks to
   its database, and with plain ``sqlite3`` in a loop on the main thread (no thread hop). The
   aiosqlite figure is "the raw commit rate" the ratio uses.
2. **Framework floor**: a bare python-telegram-bot application (a MessageHandler that sends the
   text back, a CallbackQueryHandler that answers) on the same in-process fake Telegram, with
   the same per-person concurrent update processor, driven by the same number of families with
   the same number and mix of steps (texts and button presses).
3. **The intake**: the real application from ``bot.app.build_application`` on the fake Telegram
   (``tests/fakes/telegram.py``, which validates every call like the Bot API does), its real
   database, encryption and handlers. Each family is a coroutine that walks the whole intake of
   ``tests/flows.py`` (/apply, consent, every question, Submit on the review), sending its next
   step only once the previous one was processed (closed loop, no think time), so N families
   are in flight at once. Every step is durably saved before the bot answers.

A *step* is one update (a message or a button press), handed to the application's real
concurrent path: ``app.update_processor.process_update(update, app.process_update(update))``
(``PerPersonProcessor``: one at a time per person, concurrent across people). A step's latency
is the time from that call until it returns. Steps per second = steps / wall time of the
measured phase; the wall time also contains the benchmark's own work (building each update
with ``Update.de_json``, finding the button to press), reported as "driver". A few families
run first as a warm-up, not measured.

How to read it: the bot groups the writes of concurrent updates into one durable commit, so
with many families at once its steps per second may approach (or exceed) the raw commit rate
even though each step waits for its own data to be on disk. Targets: intake steps/s
at least 0.4 x the raw commit rate, and p99 at most 25 ms with 200 families at once. The echo
ratio says how much of the per-step cost is Sanad's own work versus python-telegram-bot and
the fake. Timings are never asserted: the exit status is 1 only when the walk was wrong
(a family without its case and reference, a call Telegram would reject, a logged error).

In a closed loop the latency is mostly queueing: by Little's law the mean latency is the
number of families in flight divided by the steps per second, so a 25 ms p99 with 200 families
needs at least 8000 steps/s. ``--think-ms MS`` makes each family pause 0.5 to 1.5 x MS between
its steps (people reading and typing); the latencies then show the service time under that
concurrency, while steps/s only reflects the pauses. ``--per-step`` prints the latency of each
step of the walk (Submit, which also delivers the committee's card, is the slowest).

The rate limiter is off (``rate_limit=False``): PTB's AIORateLimiter would hold the bot to
Telegram's ~30 messages per second, which is Telegram's limit, not a cost of the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import math
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
from cryptography.fernet import Fernet
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bot.app import SanadApp, build_application
from bot.processor import PerPersonProcessor
from bot.storage.db import PRAGMAS

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from tests.conftest import make_settings  # noqa: E402
from tests.fakes.telegram import FakeTelegram, UpdateFactory  # noqa: E402
from tests.flows import script  # noqa: E402

AnyApp = Application[Any, Any, Any, Any, Any, Any]
Action = tuple[str, str]  # ("say", text) or ("press", regex of the button's callback_data)

FIRST_FAMILY = 100_000
WARMUP_FIRST_FAMILY = 50_000
CLEAR_EVERY = 20_000  # fake.calls kept at most this long (it grows without bound otherwise)
P99_TARGET_MS = 25.0
RATIO_TARGET = 0.4


# --------------------------------------------------------------------------------------------
# The fake, indexed for the driver
# --------------------------------------------------------------------------------------------


class BenchTelegram(FakeTelegram):
    """The tests' FakeTelegram (defaults: strict HTML, full Bot API checks, no latency) that
    also remembers, per chat, the ids of the messages the bot sent, so that the driver finds
    the button to press without scanning every chat, and keeps its records bounded."""

    def __init__(self) -> None:
        super().__init__()
        self.bot_messages: dict[int, list[int]] = {}
        self.violations_seen: list[str] = []
        self.not_modified_seen = 0
        self.requests = 0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer like FakeTelegram; index the message if the bot sent one."""
        before = len(self.calls)
        # latency is 0: the fake answers without suspending, so the last call is this one.
        answer = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        self.requests += 1
        if len(self.calls) > before:
            call = self.calls[-1]
            result = call.result
            if call.delivered and call.method.startswith("send") and isinstance(result, dict):
                chat = int(result["chat"]["id"])
                self.bot_messages.setdefault(chat, []).append(int(result["message_id"]))
        return answer

    def trim(self) -> None:
        """Forget the call records once they are long (violations are kept aside first)."""
        if len(self.calls) >= CLEAR_EVERY:
            self.collect()
            self.clear()

    def collect(self) -> None:
        """Move the violations and not-modified records seen so far aside."""
        self.violations_seen.extend(self.violations)
        self.not_modified_seen += len(self.not_modified)
        self.violations.clear()
        self.not_modified.clear()

    def find_button(self, chat: int, pattern: str) -> tuple[int, str]:
        """``(message_id, callback_data)`` of the newest live button matching ``pattern``
        (what ``tests.conftest.Harness.find_button`` finds)."""
        for message_id in reversed(self.bot_messages.get(chat, ())):
            message = self.message(chat, message_id)
            if message is None:
                continue
            for _, data in self.buttons(message):
                if data is not None and re.search(pattern, data):
                    return message_id, data
        raise AssertionError(f"no button matching {pattern!r} in chat {chat}")

    def last_bot_text(self, chat: int) -> str:
        """The text of the last message the bot sent in the chat, as shown now."""
        ids = self.bot_messages.get(chat) or [0]
        message = self.message(chat, ids[-1])
        return "" if message is None else str(message.get("text", ""))


# --------------------------------------------------------------------------------------------
# Driving families
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What one measured phase observed."""

    families: int
    steps: int = 0
    wall: float = 0.0
    driver: float = 0.0  # building updates and finding buttons (benchmark's own work)
    cpu_main: float = 0.0  # CPU time of the event loop's thread during the phase
    cpu_process: float = 0.0  # CPU time of the whole process (adds aiosqlite's thread)
    latencies: list[float] = field(default_factory=list)
    by_step: list[list[float]] = field(default_factory=list)  # latencies of the plan's i-th step
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Steps per second over the wall time."""
        return self.steps / self.wall if self.wall else 0.0

    def percentile(self, p: float, latencies: list[float] | None = None) -> float:
        """Nearest-rank percentile of the step latencies (or of ``latencies``), in ms."""
        ordered = sorted(self.latencies if latencies is None else latencies)
        if not ordered:
            return math.nan
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1] * 1000

    @property
    def mean_ms(self) -> float:
        """Mean step latency in milliseconds."""
        return statistics.fmean(self.latencies) * 1000 if self.latencies else math.nan

    @property
    def max_ms(self) -> float:
        """Slowest step in milliseconds."""
        return max(self.latencies) * 1000 if self.latencies else math.nan


UpdateMaker = Callable[[int, str, Action], Update]


async def walk(
    app: AnyApp,
    fake: BenchTelegram,
    make: UpdateMaker,
    user: int,
    lang: str,
    plan: list[Action],
    think: float,
) -> tuple[list[float], float]:
    """One family: every step of ``plan`` in turn, each once the previous one was processed
    (and, with ``think``, after a pause of 0.5 to 1.5 times that many seconds)."""
    latencies: list[float] = []
    driver = 0.0
    pauses = random.Random(user)
    for action in plan:
        if think:
            await asyncio.sleep(think * pauses.uniform(0.5, 1.5))
        built = time.perf_counter()
        update = make(user, lang, action)
        start = time.perf_counter()
        driver += start - built
        await app.update_processor.process_update(update, app.process_update(update))
        latencies.append(time.perf_counter() - start)
        fake.trim()
    return latencies, driver


async def drive(
    app: AnyApp,
    fake: BenchTelegram,
    make: UpdateMaker,
    users: list[int],
    plan: list[Action],
    think: float = 0.0,
) -> Run:
    """All families at once (half in Arabic, half in English); wall time, CPU, latencies."""
    run = Run(families=len(users), by_step=[[] for _ in plan])
    langs = ["ar" if i % 2 == 0 else "en" for i in range(len(users))]
    cpu_main, cpu_process = time.thread_time(), time.process_time()
    start = time.perf_counter()
    outcomes = await asyncio.gather(
        *(
            walk(app, fake, make, user, lang, plan, think)
            for user, lang in zip(users, langs, strict=True)
        ),
        return_exceptions=True,
    )
    run.wall = time.perf_counter() - start
    run.cpu_main = time.thread_time() - cpu_main
    run.cpu_process = time.process_time() - cpu_process
    for user, outcome in zip(users, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            run.failures.append(f"family {user}: {type(outcome).__name__}: {outcome}")
            continue
        latencies, driver = outcome
        run.latencies.extend(latencies)
        for step, latency in zip(run.by_step, latencies, strict=True):
            step.append(latency)
        run.driver += driver
    run.steps = len(run.latencies)
    return run


def intake_plan() -> list[Action]:
    """The whole intake of tests/flows.py: /apply, consent, every question, Submit."""
    return [("say", "/apply"), ("press", r"^ic:y$"), *script(), ("press", r":review:S:$")]


def step_name(action: Action) -> str:
    """A short name for a step of the plan."""
    kind, value = action
    if kind == "say":
        return f"text {value[:24]!r}"
    return "button " + re.sub(r"[\\^$]", "", value).strip(":")


def intake_maker(updates: UpdateFactory, fake: BenchTelegram) -> UpdateMaker:
    """Updates as the family would send them; buttons found among what the bot sent."""

    def make(user: int, lang: str, action: Action) -> Update:
        kind, value = action
        if kind == "say":
            return updates.text(user, value, language_code=lang)
        message_id, data = fake.find_button(user, value)
        return updates.callback(user, data, message_id=message_id, language_code=lang)

    return make


def echo_maker(updates: UpdateFactory, fake: BenchTelegram) -> UpdateMaker:
    """The same texts; a press is a button tap under the bot's last message."""

    def make(user: int, lang: str, action: Action) -> Update:
        kind, value = action
        if kind == "say":
            return updates.text(user, value, language_code=lang)
        message_id = fake.bot_messages[user][-1]
        return updates.callback(user, "echo", message_id=message_id, language_code=lang)

    return make


class ErrorCounter(logging.Handler):
    """Counts the records at ERROR and above (the bot's error handler logs every failure)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count it."""
        self.count += 1


# --------------------------------------------------------------------------------------------
# The three phases
# --------------------------------------------------------------------------------------------


@dataclass
class IntakeResult:
    """The measured intake and its correctness check."""

    run: Run
    commits: int
    cases_found: int
    refs_confirmed: int
    drafts_left: int
    violations: list[str]
    not_modified: int
    requests: int


async def bench_intake(
    data_dir: Path, families: int, warmup: int, think: float = 0.0
) -> IntakeResult:
    """The real application: warm-up, then ``families`` at once through the whole intake."""
    settings = make_settings(data_dir, ENCRYPTION_KEY=Fernet.generate_key().decode())
    fake = BenchTelegram()
    app: SanadApp = build_application(settings, request=fake, rate_limit=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        updates = UpdateFactory(app.bot, fake)
        make = intake_maker(updates, fake)
        plan = intake_plan()
        if warmup:
            users = list(range(WARMUP_FIRST_FAMILY, WARMUP_FIRST_FAMILY + warmup))
            warm = await drive(app, fake, make, users, plan)
            if warm.failures:
                raise RuntimeError("warm-up failed: " + "; ".join(warm.failures[:3]))
        fake.collect()
        fake.clear()
        services = app.bot_data["services"]
        commits_before = services.db.commits
        requests_before = fake.requests
        users = list(range(FIRST_FAMILY, FIRST_FAMILY + families))
        run = await drive(app, fake, make, users, plan, think)
        commits = services.db.commits - commits_before
        requests = fake.requests - requests_before
        fake.collect()

        # Ids are stored as keyed pseudonyms: each family is looked up by its own.
        by_pseudonym = {services.ids.pid(user): user for user in users}
        marks = ", ".join("?" for _ in users)
        rows = await services.db.fetchall(
            f"SELECT user_id, ref FROM cases WHERE user_id IN ({marks})",  # noqa: S608
            tuple(by_pseudonym),
        )
        refs: dict[int, list[str]] = {}
        for row in rows:
            refs.setdefault(by_pseudonym[int(row["user_id"])], []).append(str(row["ref"]))
        confirmed = sum(
            1
            for user in users
            if len(refs.get(user, [])) == 1 and refs[user][0] in fake.last_bot_text(user)
        )
        drafts = await services.db.fetchall(
            f"SELECT COUNT(*) AS n FROM drafts WHERE user_id IN ({marks})",  # noqa: S608
            tuple(by_pseudonym),
        )
        return IntakeResult(
            run=run,
            commits=commits,
            cases_found=len(rows),
            refs_confirmed=confirmed,
            drafts_left=int(drafts[0]["n"]),
            violations=list(fake.violations_seen),
            not_modified=fake.not_modified_seen,
            requests=requests,
        )
    finally:
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)


async def echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back (as Sanad's ``reply`` does: send_message to the chat)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await context.bot.send_message(message.chat_id, html.escape(message.text))


async def echo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button press."""
    assert update.callback_query is not None
    await update.callback_query.answer()


async def bench_echo(
    families: int, steps: list[Action], warmup: int, think: float = 0.0
) -> tuple[Run, list[str]]:
    """A bare PTB application on the same fake: the framework's floor."""
    fake = BenchTelegram()
    app: AnyApp = (
        ApplicationBuilder()
        .token("123456:ECHO-TOKEN-never-real")
        .defaults(Defaults(parse_mode=ParseMode.HTML))  # as Sanad: the fake parses the HTML
        .request(fake)
        .get_updates_request(fake)
        .updater(None)
        .concurrent_updates(PerPersonProcessor(256))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo_text))
    app.add_handler(CallbackQueryHandler(echo_button))
    await app.initialize()
    try:
        make = echo_maker(UpdateFactory(app.bot, fake), fake)
        if warmup:
            users = list(range(WARMUP_FIRST_FAMILY, WARMUP_FIRST_FAMILY + warmup))
            await drive(app, fake, make, users, steps)
        fake.collect()
        fake.clear()
        users = list(range(FIRST_FAMILY, FIRST_FAMILY + families))
        run = await drive(app, fake, make, users, steps, think)
        fake.collect()
        return run, fake.violations_seen
    finally:
        await app.shutdown()


CREATE_FLOOR = (
    "CREATE TABLE IF NOT EXISTS floor "
    "(id INTEGER PRIMARY KEY, payload BLOB NOT NULL, updated_at TEXT NOT NULL)"
)
INSERT_FLOOR = "INSERT INTO floor (payload, updated_at) VALUES (?, ?)"


@dataclass
class Floor:
    """A raw commit rate."""

    commits: int
    seconds: float

    @property
    def rate(self) -> float:
        """Commits per second."""
        return self.commits / self.seconds if self.seconds else 0.0


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


async def floor_aiosqlite(path: Path, seconds: float) -> Floor:
    """Durable single-row commits through aiosqlite, one connection, as the bot does it."""
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        await conn.execute(CREATE_FLOOR)
        commits = 0
        start = time.perf_counter()
        deadline = start + seconds
        now = start
        while now < deadline:
            await conn.execute("BEGIN IMMEDIATE")
            await conn.execute(INSERT_FLOOR, (os.urandom(300), _stamp()))
            await conn.execute("COMMIT")
            commits += 1
            now = time.perf_counter()
        return Floor(commits, now - start)


def floor_sqlite3(path: Path, seconds: float) -> Floor:
    """Durable single-row commits with plain sqlite3 on this thread (no thread hop)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        conn.execute(CREATE_FLOOR)
        commits = 0
        start = time.perf_counter()
        deadline = start + seconds
        now = start
        while now < deadline:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_FLOOR, (os.urandom(300), _stamp()))
            conn.execute("COMMIT")
            commits += 1
            now = time.perf_counter()
        return Floor(commits, now - start)
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is 0."""
    return a / b if b else math.nan


LABEL = 40


def row(label: str, run: Run) -> str:
    """One line of the step table."""
    return (
        f"  {label:<{LABEL}}{run.rate:>8.0f}{run.percentile(50):>9.2f}{run.percentile(99):>9.2f}"
        f"{run.mean_ms:>9.2f}{run.max_ms:>9.2f}"
        f"{1000 * ratio(run.cpu_main, run.steps):>9.3f}{100 * ratio(run.driver, run.wall):>7.0f}%"
    )


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def report(
    families: int,
    warm: int,
    think: float,
    where: str,
    raw: Floor,
    plain: Floor,
    echo: Run,
    intake: IntakeResult,
    per_step: bool,
) -> None:
    """Print the figures of one run."""
    run = intake.run
    print(
        f"Sanad intake benchmark: {families} families at once, {run.steps // families} steps "
        f"each ({run.steps} steps measured, after {warm} warm-up families not measured), "
        + (
            f"think time {think * 1000:.0f} ms (0.5-1.5x) between steps."
            if think
            else "closed loop: each family's next step as soon as its previous one is answered."
        )
    )
    print(where)
    print(
        "Rate limiter off: PTB's AIORateLimiter would hold sends to Telegram's ~30 msg/s, "
        "which is Telegram's limit, not a cost of the bot."
    )
    print()
    print(
        f"  {'per step (one update)':<{LABEL}}{'steps/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'mean ms':>9}{'max ms':>9}{'CPU ms':>9}{'driver':>8}"
    )
    print(row("intake: real app, every step durable", run))
    print(row("echo: bare PTB app, same fake", echo))
    print(
        "  CPU ms = event-loop thread CPU per step; driver = the benchmark's share of the wall "
        "time (Update.de_json,\n  finding the button): in steps/s, not in the latencies."
    )
    print()
    print("Storage floor: durable commits (WAL, synchronous=FULL), one 300-byte INSERT each:")
    print(
        f"  aiosqlite, one connection, BEGIN IMMEDIATE..COMMIT {raw.rate:>7.0f} commits/s "
        f"({1000 * ratio(1, raw.rate):.3f} ms each)  <- the raw rate of the ratios"
    )
    print(
        f"  sqlite3 on the main thread (no thread hop)         {plain.rate:>7.0f} commits/s "
        f"({1000 * ratio(1, plain.rate):.3f} ms each)"
    )
    print(
        f"  the bot during the intake: {intake.commits} durable commits "
        f"({ratio(intake.commits, run.wall):.0f}/s), {ratio(run.steps, intake.commits):.1f} "
        f"steps per commit (group commit); {ratio(intake.requests, run.steps):.2f} Bot API "
        f"calls per step"
    )
    print(
        f"  process CPU during the intake {run.cpu_process:.2f} s for {run.wall:.2f} s of wall "
        f"time; event-loop thread {run.cpu_main:.2f} s "
        f"({100 * ratio(run.cpu_main, run.wall):.0f}% busy)"
    )
    print()
    storage = ratio(run.rate, raw.rate)
    p99 = run.percentile(99)
    print("Ratios and targets:")
    print(
        f"  intake steps/s / raw commit rate (aiosqlite) {storage:>9.2f}     "
        f"target >= {RATIO_TARGET:<6}  {verdict(storage >= RATIO_TARGET)}"
    )
    note = "" if families == 200 else f"  (the target is for 200 families; this is {families})"
    print(
        f"  intake p99 step latency                      {p99:>9.2f} ms  "
        f"target <= {P99_TARGET_MS:g} ms  {verdict(p99 <= P99_TARGET_MS)}{note}"
    )
    print(f"  intake steps/s / echo steps/s                {ratio(run.rate, echo.rate):>9.2f}")
    print(f"  intake steps/s / sqlite3 commit rate         {ratio(run.rate, plain.rate):>9.2f}")
    if think:
        print(
            "  with think time the steps/s are set by the pauses, not by the bot: the storage "
            "ratio means something\n  only in the closed loop (--think-ms 0)"
        )
    else:
        print(
            f"  closed loop, so by Little's law mean latency = families in flight / steps/s = "
            f"{1000 * ratio(families, run.rate):.0f} ms;\n  a {P99_TARGET_MS:g} ms p99 with "
            f"{families} families in flight needs at least "
            f"{families / (P99_TARGET_MS / 1000):.0f} steps/s"
        )
    print()
    steps = [
        (step_name(action), run.percentile(50, lat), run.percentile(99, lat))
        for action, lat in zip(intake_plan(), run.by_step, strict=True)
    ]
    if per_step:
        print("Intake latency per step of the walk:")
        print(f"  {'step':<{LABEL}}{'p50 ms':>9}{'p99 ms':>9}")
        for name, p50, p99_step in steps:
            print(f"  {name:<{LABEL}}{p50:>9.2f}{p99_step:>9.2f}")
    else:
        slowest = sorted(steps, key=lambda step: -step[2])[:3]
        print(
            "Slowest intake steps (p99): "
            + ", ".join(f"{name} {p99_step:.1f} ms" for name, _, p99_step in slowest)
            + " (--per-step for all)"
        )
    print(f"Peak RSS of the process: {peak_rss_mb():.0f} MB")


def check(families: int, intake: IntakeResult, echo: Run, echo_violations: list[str]) -> bool:
    """Print whether the walk was right: every family's case and reference, nothing refused."""
    run = intake.run
    errors = ERRORS.count
    problems = [*run.failures, *echo.failures]
    problems += [f"Telegram would reject: {v}" for v in intake.violations + echo_violations]
    if intake.cases_found != families:
        problems.append(f"{intake.cases_found} cases in the database, expected {families}")
    if intake.refs_confirmed != families:
        problems.append(f"{intake.refs_confirmed}/{families} families were given their reference")
    if intake.drafts_left:
        problems.append(f"{intake.drafts_left} drafts left after Submit")
    if errors:
        problems.append(f"{errors} errors logged")
    print(
        f"Check: {intake.cases_found}/{families} cases in the database, "
        f"{intake.refs_confirmed}/{families} families got their reference in the confirmation, "
        f"{intake.drafts_left} drafts left, "
        f"{len(intake.violations) + len(echo_violations)} calls Telegram would reject, "
        f"{errors} errors logged, {intake.not_modified} 'not modified' edits: "
        f"{'OK' if not problems else 'FAILED'}"
    )
    for problem in problems[:20]:
        print(f"  {problem}")
    return not problems


ERRORS = ErrorCounter()


async def measure(
    work: Path, families: int, warm: int, think: float, floor_seconds: float, paced: float
) -> tuple[Floor, Run, list[str], IntakeResult, IntakeResult | None]:
    """The asynchronous phases: the aiosqlite floor, the echo, the intake (closed, paced)."""
    raw = await floor_aiosqlite(work / "floor-aiosqlite.db", floor_seconds)
    echo, echo_violations = await bench_echo(families, intake_plan(), warm, think)
    intake = await bench_intake(work / "sanad", families, warm, think)
    at_pace = await bench_intake(work / "sanad-paced", families, warm, paced) if paced else None
    return raw, echo, echo_violations, intake, at_pace


def report_paced(families: int, paced: float, result: IntakeResult) -> None:
    """The latency of the same families at a human pace (the issue's p99 target)."""
    run = result.run
    p99 = run.percentile(99)
    print()
    print(
        f"At a human pace: the same {families} families at once, each pausing "
        f"{paced * 500:.0f}-{paced * 1500:.0f} ms between its steps (reading, typing):"
    )
    print(
        f"  intake: {run.rate:.0f} steps/s, p50 {run.percentile(50):.2f} ms, p99 {p99:.2f} ms, "
        f"max {run.max_ms:.2f} ms"
    )
    print(
        f"  intake p99 step latency at a human pace  {p99:8.2f} ms  target <= 25 ms  "
        f"{verdict(p99 <= 25)}"
    )


def main(
    families: int,
    base: Path,
    warmup: int,
    floor_seconds: float,
    think: float,
    per_step: bool = False,
    paced: float = 1.0,
) -> int:
    """Run the three phases in one process and print the figures; 1 if the walk was wrong."""
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    same_disk = work.stat().st_dev == PROJECT.stat().st_dev
    where = (
        f"Data in {work} ({'on the same disk as' if same_disk else 'NOT on the same disk as'} "
        f"{PROJECT}), removed afterwards."
    )
    warm = min(warmup, families)
    logging.getLogger().addHandler(ERRORS)
    try:
        plain = floor_sqlite3(work / "floor-sqlite3.db", floor_seconds)
        raw, echo, echo_violations, intake, at_pace = asyncio.run(
            measure(work, families, warm, think, floor_seconds, paced)
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(families, warm, think, where, raw, plain, echo, intake, per_step)
    ok = check(families, intake, echo, echo_violations)
    if at_pace is not None:
        report_paced(families, paced, at_pace)
        ok = ok and check(families, at_pace, echo, echo_violations)
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Sanad's intake benchmark (see the docstring).")
    parser.add_argument("--families", type=int, default=200, help="families at once (200)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=PROJECT / "data",
        help="where to make the temporary directory (default ./data: the project's disk)",
    )
    parser.add_argument("--warmup", type=int, default=10, help="warm-up families (10)")
    parser.add_argument(
        "--floor-seconds", type=float, default=2.0, help="each raw commit measurement (2 s)"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="pause between a family's steps (0: closed loop, the issue's benchmark)",
    )
    parser.add_argument(
        "--per-step", action="store_true", help="print the latency of each step of the walk"
    )
    parser.add_argument(
        "--paced-think-ms",
        type=float,
        default=1000.0,
        help="also run the intake with this pause between steps, for the latency at a human "
        "pace (1000; 0 to skip)",
    )
    args = parser.parse_args(argv)
    if args.families < 1:
        parser.error("--families must be at least 1")
    return args


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = parse_args()
    sys.exit(
        main(
            options.families,
            options.data_dir,
            options.warmup,
            options.floor_seconds,
            options.think_ms / 1000,
            options.per_step,
            options.paced_think_ms / 1000,
        )
    )
