"""Benchmark: publish a task to N volunteers through real HTTP against Telegram's flood limits.

Run from the project root: ``.venv/bin/python bench/broadcast.py [--volunteers N]``
(default 5,000 volunteers, about three minutes; ``--volunteers 300`` for a quick run).

Setup (not measured): the HTTP fake Telegram of ``tests/fakes/http_telegram.py``
with its flood limits on (``rate_limits=True``: 30 messages/s for the whole bot, about one
message/s per private chat, answered with real 429 ``retry_after`` errors); the real
application from ``bot.app.build_application`` pointed at it with ``TELEGRAM_API_BASE_URL``,
talking HTTP through PTB's own httpx request, with its production rate limiter
(``bot.limits.TelegramLimiter``) on; a fresh database in a temporary directory under
``./data`` (removed afterwards) holding N volunteers with the skill and area of the task.

What is measured:

* **The broadcast.** A committee member publishes one task through ``TaskService.publish``
  (which queues one offer per matching volunteer in the outbox); the wall time runs from that
  call until the outbox holds nothing pending any more. Achieved rate = offers Telegram
  delivered (HTTP 200) / that wall time, and its ratio to Telegram's 30 messages/s.
* **Correctness.** Duplicates = volunteers who received the offer more than once (must be 0);
  misses = volunteers who never received it (must be 0); 429s = requests the fake refused
  for flooding (the bot retries them).
* **Interactive latency.** Every 0.5 s during the broadcast a different family sends
  ``/help``; its latency is the time from handing the update to the application (concurrently,
  as polling would) until the server has delivered the reply to that chat.

Targets: rate at least 0.9 x 30/s, p95 interactive latency at most 1 s. The
delivery worker deliberately paces broadcasts smoothly at ``bot.delivery.BULK_PER_SECOND`` to
leave room for interactive replies, which caps the ratio at BULK_PER_SECOND / 30 (printed as
the "pacing ceiling"). Timings are never
asserted: the exit status is 1 only when a volunteer got the offer twice or not at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from telegram import Update

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from bot.app import SanadApp, build_application  # noqa: E402
from bot.context import SERVICES_KEY  # noqa: E402
from bot.delivery import BULK_PER_SECOND  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.storage.db import utcnow  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.fakes.http_telegram import HttpTelegram  # noqa: E402
from tests.flows import add_volunteers as seed_volunteers  # noqa: E402

TELEGRAM_RATE = 30.0
RATE_TARGET = 0.9
P95_TARGET = 1.0
FIRST_VOLUNTEER = 10_000
HELP_EVERY = 0.5
POLL = 0.01
REPLY_TIMEOUT = 30.0


async def add_volunteers(services: Services, count: int) -> list[int]:
    """N volunteers, ar and en alternately, in one transaction (as ``volunteers.save``)."""
    ids = list(range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + count))
    await seed_volunteers(services.db, services.ids, ids)
    return ids


async def pending(services: Services) -> int:
    """Outbox items still waiting to be sent."""
    row = await services.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
    return 0 if row is None else int(row[0])


async def drain(services: Services, limit: float) -> None:
    """Kick the delivery worker until nothing is pending (or ``limit`` seconds pass)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        services.delivery.kick()
        await services.delivery.wait_idle()
        if not await pending(services):
            return
        await asyncio.sleep(0.5)


async def reply_latency(
    app: SanadApp, server: HttpTelegram, user_id: int, *, via_queue: bool = False
) -> float:
    """Seconds from handing ``/help`` to the app until the server delivered a reply.

    ``via_queue`` puts the update on the application's update queue, as polling does, so that
    it goes through the update processor (and its flood gate) of a started application.
    """
    update = Update.de_json({"update_id": user_id, **server.text(user_id, "/help")}, app.bot)
    calls = server.fake.calls
    seen = len(calls)
    start = time.perf_counter()
    if via_queue:
        task = asyncio.create_task(app.update_queue.put(update))
    else:
        task = asyncio.create_task(app.process_update(update))
    try:
        while time.perf_counter() - start < REPLY_TIMEOUT:
            for call in calls[seen:]:
                if call.chat_id == user_id and call.delivered and call.method == "sendMessage":
                    return time.perf_counter() - start
            seen = len(calls)
            await asyncio.sleep(POLL)
        return math.inf
    finally:
        await task


async def families(app: SanadApp, server: HttpTelegram, done: asyncio.Event) -> list[float]:
    """A new family sends /help every 0.5 s until the broadcast is over."""
    probes: list[asyncio.Task[float]] = []
    user_id = 1
    while not done.is_set():
        probes.append(asyncio.create_task(reply_latency(app, server, user_id)))
        user_id += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), HELP_EVERY)
    return list(await asyncio.gather(*probes))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


async def run(count: int, work: Path) -> bool:
    """Set up, broadcast, print the figures; False on a duplicate or a miss."""
    key = Fernet.generate_key().decode()
    token = make_settings(work, ENCRYPTION_KEY=key).bot_token
    async with HttpTelegram(token, rate_limits=True) as server:
        settings = make_settings(work, ENCRYPTION_KEY=key, TELEGRAM_API_BASE_URL=server.base_url)
        app = build_application(settings)  # real httpx request, AIORateLimiter on
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        try:
            services: Services = app.bot_data[SERVICES_KEY]
            started = time.perf_counter()
            ids = await add_volunteers(services, count)
            setup = time.perf_counter() - started
            member = min(settings.committee_member_ids)
            too_many_before = server.too_many
            calls_before = len(server.fake.calls)

            done = asyncio.Event()
            probing = asyncio.create_task(families(app, server, done))
            start = time.perf_counter()
            _, queued = await services.tasks.publish(
                creator_id=member,
                title="Drive a family",
                description="Take a family to the clinic and back.",
                skill="driving",
                area="north",
                starts_at=utcnow() + timedelta(days=2),
                duration_min=120,
                needed=10,
                case_id=None,
            )
            await drain(services, limit=max(120.0, 4 * count / BULK_PER_SECOND))
            wall = time.perf_counter() - start
            done.set()
            latencies = await probing
            left = await pending(services)
        finally:
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)

    volunteers = set(ids)
    offers = Counter(
        call.chat_id
        for call in server.fake.calls[calls_before:]
        if call.method == "sendMessage" and call.delivered and call.chat_id in volunteers
    )
    delivered = sum(offers.values())
    duplicates = sum(1 for n in offers.values() if n > 1)
    misses = len(volunteers - offers.keys())
    too_many = server.too_many - too_many_before
    refused = [c for c in server.fake.calls[calls_before:] if c.status == 429]
    refused_offers = sum(1 for c in refused if c.chat_id in volunteers)
    rate = delivered / wall if wall else 0.0
    achieved = rate / TELEGRAM_RATE
    p95 = percentile(latencies, 95)
    ceiling = BULK_PER_SECOND / TELEGRAM_RATE

    print(
        f"Sanad broadcast benchmark: one task published to {count} volunteers over HTTP, "
        f"against a fake Telegram enforcing {TELEGRAM_RATE:.0f} msg/s overall and ~1/s per chat "
        f"(real 429s)."
    )
    print(
        f"Setup (not measured): {count} volunteers in {setup:.2f} s; "
        f"TelegramLimiter on, bot pacing broadcasts at {BULK_PER_SECOND:g}/s."
    )
    print()
    print(f"  offers queued by publish                 {queued:>10}")
    print(f"  offers delivered (HTTP 200)              {delivered:>10}")
    print(f"  broadcast wall time                      {wall:>10.2f} s")
    print(f"  achieved rate                            {rate:>10.2f} msg/s")
    print(
        f"  ratio to {TELEGRAM_RATE:.0f}/s                           {achieved:>10.3f}     "
        f"target >= {RATE_TARGET}  {verdict(achieved >= RATE_TARGET)}"
        f"  (pacing ceiling {ceiling:.3f})"
    )
    print(
        f"  duplicates                               {duplicates:>10}     "
        f"must be 0     {verdict(duplicates == 0)}"
    )
    print(
        f"  misses                                   {misses:>10}     "
        f"must be 0     {verdict(misses == 0)}"
    )
    print(
        f"  429s received                            {too_many:>10}     "
        f"({refused_offers} on offers, {len(refused) - refused_offers} on interactive replies)"
    )
    print(f"  outbox items still pending               {left:>10}")
    print(
        f"  /help during the broadcast: {len(latencies)} families, "
        f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {max(latencies, default=math.nan) * 1000:.0f} ms"
    )
    print(
        f"  interactive p95 latency                  {p95:>10.3f} s   "
        f"target <= {P95_TARGET:g} s  {verdict(p95 <= P95_TARGET)}"
    )
    if server.fake.violations:
        print(f"  calls Telegram would reject: {len(server.fake.violations)}")
        for violation in server.fake.violations[:5]:
            print(f"    {violation}")
    return duplicates == 0 and misses == 0


def main() -> int:
    """Parse the command line, run in a temporary directory, exit 1 on a correctness failure."""
    parser = argparse.ArgumentParser(description="Sanad's broadcast benchmark (see docstring).")
    parser.add_argument("--volunteers", type=int, default=5000, help="volunteers (5000)")
    parser.add_argument(
        "--data-dir", type=Path, default=PROJECT / "data", help="parent of the temporary dir"
    )
    args = parser.parse_args()
    if args.volunteers < 1:
        parser.error("--volunteers must be at least 1")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-broadcast-", dir=args.data_dir))
    try:
        ok = asyncio.run(run(args.volunteers, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
