"""Telegram misbehaving on the polling connection itself, with the real bot process: 5xx,
429 and 409 answers to getUpdates, and a 5xx on a reply. The bot keeps serving."""

from __future__ import annotations

from pathlib import Path

from tests.kill_support import Rig

FAMILY = 6060


async def test_polling_survives_errors_on_get_updates(tmp_path: Path) -> None:
    async with Rig(tmp_path) as rig:
        await rig.start()
        before = len(rig.fake.calls)
        rig.fake.fail_next("getUpdates", 502)
        rig.fake.fail_next("getUpdates", 500)
        rig.fake.fail_next("getUpdates", 429, retry_after=1)
        rig.fake.fail_next("getUpdates", 409)

        def failed_polls() -> list[int]:
            calls = rig.fake.calls[before:]
            return [c.status for c in calls if c.method == "getUpdates" and c.status != 200]

        await rig.until(lambda: len(failed_polls()) == 4, "four failed polls", timeout=30)
        assert failed_polls() == [502, 500, 429, 409]
        rig.fake.fail_next("sendMessage", 502)  # and the reply itself fails once
        since = await rig.say(FAMILY, "/help")
        reply = await rig.until(
            lambda: next((c for c in rig.sends(FAMILY, since)), None), "the reply to /help"
        )
        assert reply.text and "/apply" in reply.text
        assert [c.status for c in rig.fake.calls[since:] if c.method == "sendMessage"] == [
            502,
            200,
        ]
        assert rig.process is not None and rig.process.returncode is None  # still running
        # ... and the next person is served at once.
        since = await rig.say(FAMILY + 1, "/start")
        await rig.until(lambda: rig.sends(FAMILY + 1, since), "the reply to /start")
        assert rig.fake.violations == []
        log = rig.log_path().read_text(errors="replace")
        assert "Unhandled" not in log
        assert "Telegram NetworkError outside an update" in log  # a warning, by name
        assert log.count("Another copy of the bot") == 1  # 409: the one error worth a person
