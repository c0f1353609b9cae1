"""Benchmark: one person floods the bot (100 messages in 2 s); how long does everyone else wait?

Run from the project root: ``.venv/bin/python bench/flood.py`` (about 30 seconds).

Setup: the HTTP fake Telegram of ``tests/fakes/http_telegram.py`` with Telegram's flood limits
on (30 messages/s overall, about one message/s per private chat, answered with real 429
``retry_after``), the real application from ``bot.app.build_application`` talking HTTP to it
through PTB's httpx request and Sanad's ``TelegramLimiter``. Updates are put on the
application's update queue, as polling does, and go through its update processor.

What is measured, twice: with the flood gate as shipped (the defaults of ``FLOOD_BURST`` and
``FLOOD_PER_MINUTE``: a burst of 20, then 120 a minute per person) and with it turned off
(``FLOOD_PER_MINUTE=0``):

* **The flooder**: sends ``/help`` every 20 ms, 100 times. Counted: messages answered, times
  told to slow down, 429s Telegram answered to the bot for that chat.
* **Everyone else**: a different person sends ``/help`` every 100 ms during the flood and for
  two seconds after it; the latency runs from handing the update to the application until the
  server has delivered the reply. Target: nobody else delayed by more than 1 s.

Timings are printed, never asserted; the exit status is 1 only if someone else got no answer.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import shutil
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet
from telegram import Update

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from bench.broadcast import percentile, reply_latency, verdict  # noqa: E402
from bot.app import SanadApp, build_application  # noqa: E402
from bot.limits import FloodGate  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.fakes.http_telegram import HttpTelegram  # noqa: E402

FLOODER = 777_000
FLOOD_MESSAGES = 100
FLOOD_EVERY = 0.02
OTHERS_EVERY = 0.1
AFTER = 2.0
TARGET = 1.0
NOTICE = "faster than I can answer"
_update_ids = itertools.count(1_000_000)


async def flood(app: SanadApp, server: HttpTelegram) -> None:
    """The flooder's 100 messages, one every 20 ms, onto the update queue as polling does."""
    for _ in range(FLOOD_MESSAGES):
        payload = {"update_id": next(_update_ids), **server.text(FLOODER, "/help")}
        await app.update_queue.put(Update.de_json(payload, app.bot))
        await asyncio.sleep(FLOOD_EVERY)


async def others(app: SanadApp, server: HttpTelegram, seconds: float) -> list[float]:
    """A different person sends /help every 100 ms for ``seconds``."""
    probes = []
    for user_id in range(1, int(seconds / OTHERS_EVERY) + 1):
        probes.append(asyncio.create_task(reply_latency(app, server, user_id, via_queue=True)))
        await asyncio.sleep(OTHERS_EVERY)
    return list(await asyncio.gather(*probes))


async def scenario(work: Path, gate_on: bool) -> tuple[list[float], dict[str, int]]:
    """One run; the others' latencies and the flooder's counts."""
    key = Fernet.generate_key().decode()
    token = make_settings(work, ENCRYPTION_KEY=key).bot_token
    # Gate on: the shipped defaults (the settings left empty); off: FLOOD_PER_MINUTE=0.
    flood_env = {"FLOOD_BURST": "", "FLOOD_PER_MINUTE": "" if gate_on else "0"}
    async with HttpTelegram(token, rate_limits=True) as server:
        settings = make_settings(
            work, ENCRYPTION_KEY=key, TELEGRAM_API_BASE_URL=server.base_url, **flood_env
        )
        app = build_application(settings)  # real httpx request, TelegramLimiter pacing on
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()  # the update fetcher and its processor, as run_polling starts them
        try:
            await asyncio.sleep(1.5)  # let start-up calls clear the per-second window
            before = len(server.fake.calls)
            seconds = FLOOD_MESSAGES * FLOOD_EVERY + AFTER
            latencies, _ = await asyncio.gather(others(app, server, seconds), flood(app, server))
            await asyncio.sleep(AFTER)
            gate: FloodGate = app.bot_data["flood"]
            dropped = gate.dropped
        finally:
            await app.stop()
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
    calls = [c for c in server.fake.calls[before:] if c.chat_id == FLOODER]
    texts = [c.text or "" for c in calls if c.method == "sendMessage" and c.delivered]
    counts = {
        "answered": sum(NOTICE not in t for t in texts),
        "told": sum(NOTICE in t for t in texts),
        "dropped": dropped,
        "429": sum(c.status == 429 for c in calls),
    }
    return latencies, counts


def report(name: str, latencies: list[float], counts: dict[str, int]) -> float:
    """Print one scenario; return the others' worst latency."""
    worst = max(latencies, default=math.inf)
    print(f"  {name}")
    print(
        f"    flooder: {FLOOD_MESSAGES} sent, {counts['answered']} answered, "
        f"{counts['dropped']} not processed, told to slow down {counts['told']}x, "
        f"{counts['429']} 429s from Telegram on that chat"
    )
    print(
        f"    {len(latencies)} other people: p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {worst * 1000:.0f} ms   "
        f"target max <= {TARGET:g} s  {verdict(worst <= TARGET)}"
    )
    return worst


async def run(work: Path) -> bool:
    """Both scenarios; False if someone else got no answer at all."""
    print(
        f"Sanad flood benchmark: one person sends {FLOOD_MESSAGES} messages in "
        f"{FLOOD_MESSAGES * FLOOD_EVERY:g} s while others use the bot, over HTTP against a fake "
        "Telegram enforcing 30 msg/s overall and ~1/s per chat."
    )
    on = await scenario(work / "on", gate_on=True)
    off = await scenario(work / "off", gate_on=False)
    worst_on = report("flood gate on (as shipped: burst 20, then 120/min)", *on)
    worst_off = report("flood gate off (FLOOD_PER_MINUTE=0), for comparison", *off)
    if math.isfinite(worst_on) and worst_on > 0:
        print(f"  others' worst latency, off / on: {worst_off / worst_on:.1f}x")
    return all(math.isfinite(x) for x in on[0] + off[0])


def main() -> int:
    """Run in a temporary directory under ./data; exit 1 if someone else was not answered."""
    parent = PROJECT / "data"
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-flood-", dir=parent))
    try:
        ok = asyncio.run(run(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
