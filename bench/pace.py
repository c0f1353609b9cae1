"""Benchmark: families walking the intake at a person's pace, against Telegram's pacing.

Run from the project root: ``.venv/bin/python bench/pace.py [--families N]`` (``make
bench-pace``; about a minute with the default 10 families).

Setup: the HTTP fake Telegram of ``tests/fakes/http_telegram.py`` with Telegram's flood limits
on (30 messages/s overall; each private chat a burst of 3, then about one message a second,
edits included; real 429 ``retry_after`` answers), and the real application from
``bot.app.build_application`` talking HTTP to it through PTB's httpx request and Sanad's
``TelegramLimiter``, fetching its updates by long polling (``getUpdates``) as ``python -m bot
run`` does, with the flood gate as configured (the shipped defaults unless ``--flood-burst``
or ``--flood-per-minute`` say otherwise). The application runs in this process, not as a
child process, for one reason: to tell which reply answers which action, the benchmark notes
when the bot starts processing each update (a person's updates are processed one after the
other, so everything the bot shows in the chat from then until it starts on the person's next
update answers that one) and which verdict the flood gate gave it.

**Scenario 1, one action a second.** N families (default 10) start at once, as on a real
evening, half in Arabic and half in English. Each walks the whole intake of ``tests/flows.py``
(/apply, consent, three options of each multi-select question and Done, the numbers, the area
among the buttons, a typed name and phone, the call time, Skip on the description, the
urgency, Submit), one action a second, finding each button among the messages it received, as
a person would (by its callback_data, never by its text), and waiting for it when it is not
there yet. Every other family makes the usual mistakes on the way: a sticker where the name is
expected, a 5,000-character name, a text where the call time's buttons are expected; every
family types its household and phone in Arabic-Indic digits.

**Scenario 2, five actions a second.** One person starts the intake, then presses Done (with
nothing chosen) five times a second for 30 s (a script, or a stuck key): no human does that,
and the flood gate must slow them down.

Measured (scenario 1):

* **Reply latency**: from the person's action (the update queued at the server) to the bot's
  first reply to it in the person's chat (a ``sendMessage`` or an edit, or a popup answering
  the press), p50/p95/p99/max. Target: p95 at most 1.5 s.
* **Bot messages per action**: new messages (``send*``) in the chat in answer to one action,
  max and mean. Target: max at most 2.
* **Live copies of questions**: messages in the family's chat still carrying form or consent
  buttons at the end of a submitted intake. Target: 0.
* **"Slow down" answers and dropped updates**, by the flood gate. Target: 0 and 0.

and for scenario 2 the same two counts, which must not be 0. Timings are printed, never
asserted; the exit status is 1 only when a family could not finish (a button it waited for
never came, or no case was recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from telegram import Update

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from bench.broadcast import percentile, verdict  # noqa: E402
from bot.__main__ import ALLOWED_UPDATES  # noqa: E402
from bot.app import SanadApp, build_application  # noqa: E402
from bot.limits import FloodGate, Verdict  # noqa: E402
from bot.services import Services  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.fakes.http_telegram import HttpTelegram  # noqa: E402
from tests.fakes.records import Call, is_message_method  # noqa: E402
from tests.fakes.telegram import UpdateFactory  # noqa: E402
from tests.flows import Answers, script  # noqa: E402

Action = tuple[str, str]
"""("say", text), ("sticker", ""), ("press", regex of callback_data): waited for if it is not
on screen yet, or ("press?", regex): pressed only if it is on screen now."""

FIRST_FAMILY = 300_000
FLOODER = 399_999
PACE = 1.0
FLOOD_PACE = 0.2
FLOOD_SECONDS = 30.0
BUTTON_WAIT = 60.0
SETTLE = 3.0
P95_TARGET = 1.5
MESSAGES_TARGET = 2
QUESTION_PREFIXES = ("in:", "ic:")
"""callback_data of the form's questions and of the consent (see ``bot/buttons.py``)."""
LONG_TEXT = "ن" * 5000
MORE_OPTIONS = {
    r":situation:o:orphans$": (r":situation:o:chronic_illness$", r":situation:o:widow_elderly$"),
    r":support:o:financial$": (r":support:o:logistics$", r":support:o:community$"),
}
"""Options a family also ticks after the script's first one (when the question offers them)."""


# --------------------------------------------------------------------------------------------
# What the families do
# --------------------------------------------------------------------------------------------


def family_plan(mistakes: bool) -> list[Action]:
    """The whole intake, one action after the other; with ``mistakes``, the usual ones."""
    answers = Answers(area_choice="north", household="٥", phone="٠٧٩١٢٣٤٥٦٧")
    plan: list[Action] = [("say", "/apply"), ("press", r"^ic:y$")]
    for kind, value in script(answers):
        if kind == "say" and value == answers.story:
            plan.append(("press", r":description:s:"))  # Skip the description
            continue
        if mistakes and kind == "say" and value == answers.name:
            plan += [("sticker", ""), ("say", LONG_TEXT)]
        if mistakes and value.startswith(":call_time:"):
            plan.append(("say", "evening please"))  # typed where buttons are expected
        plan.append((kind, value))
        for option in MORE_OPTIONS.get(value, ()):
            plan.append(("press?", option))
    plan.append(("press", r":review:S:$"))
    return plan


@dataclass
class Sent:
    """One action of a person: which update, when it was queued."""

    user: int
    update_id: int
    kind: str
    at: float
    query_id: str | None = None


@dataclass
class Walk:
    """What one family did."""

    user: int
    lang: str
    actions: list[Sent] = field(default_factory=list)
    stuck: str | None = None


class TimedCalls(list[Call]):
    """The fake's call records, each with the moment it arrived (``times``, same index)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, call: Call) -> None:
        """Record the call and its time."""
        super().append(call)
        self.times.append(time.perf_counter())


class Observer:
    """Notes, for every update, when the bot began processing it and the gate's verdict."""

    def __init__(self, app: SanadApp) -> None:
        self.started: dict[int, float] = {}
        self.verdicts: dict[int, Verdict] = {}
        processor = app.update_processor
        process = processor.do_process_update
        gate: FloodGate = app.bot_data["flood"]
        admit = gate.admit

        async def timed(update_id: int, coroutine: Awaitable[Any]) -> None:
            self.started[update_id] = time.perf_counter()
            await coroutine

        async def observed(update: object, coroutine: Awaitable[Any]) -> None:
            if isinstance(update, Update):
                coroutine = timed(update.update_id, coroutine)
            await process(update, coroutine)

        def judged(update_id: int, key: int) -> Verdict:
            verdict_ = self.verdicts[update_id] = admit(update_id, key)
            return verdict_

        processor.do_process_update = observed  # type: ignore[method-assign]
        gate.admit = judged  # type: ignore[method-assign]


class Person:
    """Sends one person's updates to the server and finds buttons in their chat."""

    def __init__(self, server: HttpTelegram, updates: UpdateFactory, user: int, lang: str):
        self.server = server
        self.updates = updates
        self.user = user
        self.lang = lang

    def live_button(self, pattern: str) -> tuple[int, str] | None:
        """``(message_id, data)`` of the newest button on screen matching ``pattern``."""
        fake = self.server.fake
        for message in reversed(fake.messages(self.user)):
            for _, data in fake.buttons(message):
                if data is not None and re.search(pattern, data):
                    return int(message["message_id"]), data
        return None

    async def wait_button(self, pattern: str) -> tuple[int, str] | None:
        """The button, once it is there (a person waits for what they have to press)."""
        deadline = time.perf_counter() + BUTTON_WAIT
        while time.perf_counter() < deadline:
            found = self.live_button(pattern)
            if found is not None:
                return found
            await asyncio.sleep(0.02)
        return None

    async def act(self, action: Action) -> Sent | None:
        """Send one action; None when the button to press never came."""
        kind, value = action
        query_id = None
        if kind in ("press", "press?"):
            found = await self.wait_button(value) if kind == "press" else self.live_button(value)
            if found is None:
                return None
            message_id, data = found
            update = self.updates.callback(
                self.user, data, message_id=message_id, language_code=self.lang
            )
            assert update.callback_query is not None
            query_id = update.callback_query.id
        elif kind == "sticker":
            update = self.updates.sticker(self.user, language_code=self.lang)
        else:
            update = self.updates.text(self.user, value, language_code=self.lang)
        at = time.perf_counter()
        pushed = await self.server.push(update)
        kind = "press" if query_id is not None else kind
        return Sent(self.user, int(pushed["update_id"]), kind, at, query_id)


async def walk(person: Person, plan: list[Action], pace: float) -> Walk:
    """One family through ``plan``, one action every ``pace`` seconds at most."""
    result = Walk(person.user, person.lang)
    next_at = time.perf_counter()
    for action in plan:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        sent = await person.act(action)
        if sent is None and action[0] == "press?":
            continue  # an option this form does not offer
        if sent is None:
            result.stuck = f"no button {action[1]!r} within {BUTTON_WAIT:g} s"
            return result
        result.actions.append(sent)
        next_at = max(next_at + pace, sent.at)
    return result


async def flood(person: Person, seconds: float, pace: float) -> Walk:
    """One person starts the intake, then presses Done (with nothing chosen) every ``pace``
    seconds: a stuck key, or a script. Each press the gate lets through is answered with a
    popup only."""
    result = Walk(person.user, person.lang)
    for action in (("say", "/apply"), ("press", r"^ic:y$")):
        if await person.act(action) is None:
            result.stuck = f"no button {action[1]!r} within {BUTTON_WAIT:g} s"
            return result
    done = await person.wait_button(r":situation:d:")
    if done is None:
        result.stuck = "no Done button on the first question"
        return result
    message_id, data = done
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        update = person.updates.callback(
            person.user, data, message_id=message_id, language_code=person.lang
        )
        assert update.callback_query is not None
        at = time.perf_counter()
        pushed = await person.server.push(update)
        result.actions.append(
            Sent(person.user, int(pushed["update_id"]), "press", at, update.callback_query.id)
        )
        await asyncio.sleep(max(0.0, at + pace - time.perf_counter()))
    return result


# --------------------------------------------------------------------------------------------
# Reading what happened
# --------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one scenario measured."""

    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    new_messages: list[int] = field(default_factory=list)
    shown: list[int] = field(default_factory=list)
    live_questions: list[int] = field(default_factory=list)
    slow_down: int = 0
    dropped: int = 0
    too_many: int = 0
    stuck: list[str] = field(default_factory=list)
    cases: int = 0
    families: int = 0


def visible(call: Call, chat: int) -> bool:
    """Whether ``call`` showed something in ``chat`` (a new message or an edit)."""
    return call.delivered and is_message_method(call.method) and call.chat_id == chat


def read(server: HttpTelegram, observer: Observer, walks: list[Walk], figures: Figures) -> None:
    """Attribute the bot's calls to the actions they answer; fill ``figures``."""
    calls = server.fake.calls
    assert isinstance(calls, TimedCalls)
    times = calls.times
    popups: dict[str, float] = {}
    for call, at in zip(calls, times, strict=True):
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            popups.setdefault(str(call.params.get("callback_query_id")), at)
    for walk_ in walks:
        if walk_.stuck:
            figures.stuck.append(f"family {walk_.user}: {walk_.stuck}")
        chat = walk_.user
        shown = [(at, c) for c, at in zip(calls, times, strict=True) if visible(c, chat)]
        # In the order the bot began them: a person's updates one after the other, except
        # those the flood gate refused, which are answered at once, out of turn.
        actions = sorted(walk_.actions, key=lambda a: observer.started.get(a.update_id, math.inf))
        starts = [observer.started.get(a.update_id, math.inf) for a in actions]
        for i, sent in enumerate(actions):
            begin = starts[i]
            end = starts[i + 1] if i + 1 < len(starts) else math.inf
            block = [(at, c) for at, c in shown if begin <= at < end]
            first = [at for at, _ in block[:1]]
            if sent.query_id is not None and sent.query_id in popups:
                first.append(popups[sent.query_id])
            if first:
                figures.latencies.append(min(first) - sent.at)
            else:
                figures.unanswered += 1
            figures.new_messages.append(sum(c.method.startswith("send") for _, c in block))
            figures.shown.append(len(block))
            verdict_ = observer.verdicts.get(sent.update_id, Verdict.ALLOW)
            if verdict_ is not Verdict.ALLOW:
                figures.dropped += 1
                if verdict_ is Verdict.TELL or sent.kind == "press":
                    figures.slow_down += 1
        live = 0
        for message in server.fake.messages(chat):
            datas = [d for _, d in server.fake.buttons(message) if d is not None]
            live += any(d.startswith(QUESTION_PREFIXES) for d in datas)
        figures.live_questions.append(live)


async def count_cases(services: Services, users: list[int]) -> int:
    """How many of ``users`` have a case (ids are stored as keyed pseudonyms)."""
    pids = tuple(services.ids.pid(user) for user in users)
    marks = ", ".join("?" for _ in pids)
    row = await services.db.fetchone(
        f"SELECT COUNT(DISTINCT user_id) FROM cases WHERE user_id IN ({marks})",  # noqa: S608
        pids,
    )
    return 0 if row is None else int(row[0])


# --------------------------------------------------------------------------------------------
# Running a scenario
# --------------------------------------------------------------------------------------------


Scenario = Callable[[HttpTelegram, UpdateFactory], Awaitable[list[Walk]]]


async def run_scenario(
    work: Path, flood_env: dict[str, str], scenario: Scenario, *, wait_replies: bool = True
) -> Figures:
    """Start the server and the polling bot, play ``scenario``, read the figures.

    ``wait_replies`` waits for the bot to finish answering; without it only the gate's
    verdicts count (they are given on arrival).
    """
    key = Fernet.generate_key().decode()
    token = make_settings(work, ENCRYPTION_KEY=key).bot_token
    figures = Figures()
    async with HttpTelegram(token, rate_limits=True) as server:
        server.fake.journal.calls = TimedCalls()
        settings = make_settings(
            work, ENCRYPTION_KEY=key, TELEGRAM_API_BASE_URL=server.base_url, **flood_env
        )
        app = build_application(settings)  # real httpx request, TelegramLimiter pacing on
        observer = Observer(app)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=10)
        await app.start()
        try:
            await asyncio.sleep(1.5)  # let start-up calls clear the per-second window
            too_many = server.too_many
            walks = await scenario(server, UpdateFactory(app.bot, server.fake))
            await (settle(server) if wait_replies else asyncio.sleep(1.0))
            figures.too_many = server.too_many - too_many
            services: Services = app.bot_data["services"]
            users = [w.user for w in walks if w.user != FLOODER]
            figures.families = len(users)
            figures.cases = await count_cases(services, users) if users else 0
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
        read(server, observer, walks, figures)
    return figures


async def settle(server: HttpTelegram) -> None:
    """Wait until the bot has said nothing for ``SETTLE`` seconds (two minutes at most)."""
    deadline = time.perf_counter() + 120
    seen = -1
    quiet_since = time.perf_counter()
    while time.perf_counter() < deadline:
        count = sum(c.method != "getUpdates" for c in server.fake.calls)
        if count != seen:
            seen, quiet_since = count, time.perf_counter()
        elif time.perf_counter() - quiet_since >= SETTLE:
            return
        await asyncio.sleep(0.1)


def families_scenario(count: int) -> Scenario:
    """``count`` families at once, one action a second, every other one with mistakes."""

    async def play(server: HttpTelegram, updates: UpdateFactory) -> list[Walk]:
        walks = []
        for i in range(count):
            lang = "ar" if i % 2 == 0 else "en"
            person = Person(server, updates, FIRST_FAMILY + i, lang)
            walks.append(walk(person, family_plan(mistakes=i % 2 == 1), PACE))
        return list(await asyncio.gather(*walks))

    return play


async def flooder_scenario(server: HttpTelegram, updates: UpdateFactory) -> list[Walk]:
    """One person, five presses a second for 30 s."""
    return [await flood(Person(server, updates, FLOODER, "en"), FLOOD_SECONDS, FLOOD_PACE)]


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def line(name: str, value: str, target: str, ok: bool | None) -> None:
    """One named row: figure, target, PASS/FAIL (or nothing for a figure without target)."""
    mark = "" if ok is None else verdict(ok)
    print(f"  {name:<44}{value:>16}   {target:<22}{mark}")


def ms(seconds: float) -> str:
    """Seconds as milliseconds, or n/a."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def report_families(figures: Figures, families: int) -> bool:
    """Scenario 1's rows; True when every family could finish."""
    lat = figures.latencies
    p95 = percentile(lat, 95)
    print(
        f"Scenario 1: {families} families at once, one action a second, every other one with "
        f"mistakes ({len(lat) + figures.unanswered} actions)"
    )
    line("reply latency p50", ms(percentile(lat, 50)), "", None)
    line("reply latency p95", ms(p95), f"<= {P95_TARGET:g} s", p95 <= P95_TARGET)
    line("reply latency p99", ms(percentile(lat, 99)), "", None)
    line("reply latency max", ms(max(lat, default=math.nan)), "", None)
    line("actions without any reply", str(figures.unanswered), "0", figures.unanswered == 0)
    most = max(figures.new_messages, default=0)
    mean = statistics.fmean(figures.new_messages) if figures.new_messages else math.nan
    line("bot messages per action, max", str(most), f"<= {MESSAGES_TARGET}", most <= 2)
    line("bot messages per action, mean", f"{mean:.2f}", "", None)
    shown = statistics.fmean(figures.shown) if figures.shown else math.nan
    line("messages and edits per action, mean", f"{shown:.2f}", "(Telegram: ~1/s)", None)
    live = sum(figures.live_questions)
    line(
        "live copies of questions at the end",
        f"{live} ({max(figures.live_questions, default=0)} max)",
        "0",
        live == 0,
    )
    line("'slow down' answers", str(figures.slow_down), "0", figures.slow_down == 0)
    line("dropped updates (flood gate)", str(figures.dropped), "0", figures.dropped == 0)
    line("429s from Telegram", str(figures.too_many), "", None)
    finished = figures.cases == figures.families and not figures.stuck
    line("families with their case", f"{figures.cases}/{figures.families}", "all", finished)
    for problem in figures.stuck[:10]:
        print(f"    {problem}")
    return finished


def report_flood(figures: Figures) -> None:
    """Scenario 2's rows."""
    actions = len(figures.new_messages)
    print(
        f"Scenario 2: one person presses Done {1 / FLOOD_PACE:g} times a second for "
        f"{FLOOD_SECONDS:g} s ({actions} presses)"
    )
    line("'slow down' answers", str(figures.slow_down), "> 0 (gated)", figures.slow_down > 0)
    line("dropped updates (flood gate)", str(figures.dropped), "> 0 (gated)", figures.dropped > 0)
    line("processed", str(actions - figures.dropped), "", None)
    for problem in figures.stuck:
        print(f"    the flooder could not start: {problem}")


async def run(work: Path, families: int, flood_env: dict[str, str]) -> bool:
    """Both scenarios; False if a family could not finish."""
    settings = make_settings(work, ENCRYPTION_KEY=Fernet.generate_key().decode(), **flood_env)
    print(
        "Sanad pace benchmark: over HTTP against a fake Telegram pacing each private chat "
        f"(a burst of 3, then ~1 message/s) and 30 msg/s overall; flood gate: a burst of "
        f"{settings.flood_burst}, then {settings.flood_per_minute} a minute."
    )
    calm = await run_scenario(work / "families", flood_env, families_scenario(families))
    ok = report_families(calm, families)
    flooded = await run_scenario(work / "flood", flood_env, flooder_scenario, wait_replies=False)
    report_flood(flooded)
    return ok and not flooded.stuck


def main() -> int:
    """Parse the command line, run in a temporary directory under ./data."""
    parser = argparse.ArgumentParser(description="Sanad's pace benchmark (see the docstring).")
    parser.add_argument("--families", type=int, default=10, help="families at once (10)")
    parser.add_argument("--flood-burst", help="FLOOD_BURST for the run (default: shipped)")
    parser.add_argument("--flood-per-minute", help="FLOOD_PER_MINUTE (default: shipped)")
    args = parser.parse_args()
    if args.families < 1:
        parser.error("--families must be at least 1")
    flood_env = {
        name: value
        for name, value in (
            ("FLOOD_BURST", args.flood_burst),
            ("FLOOD_PER_MINUTE", args.flood_per_minute),
        )
        if value is not None
    }
    flood_env.setdefault("FLOOD_BURST", "")  # the tests' settings turn the gate off: undo
    flood_env.setdefault("FLOOD_PER_MINUTE", "")
    parent = PROJECT / "data"
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-pace-", dir=parent))
    try:
        ok = asyncio.run(run(work, args.families, flood_env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
