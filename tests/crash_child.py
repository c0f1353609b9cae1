"""Run part of an intake in a real process, then SIGKILL that process (see test_crash.py).

Usage: python -m tests.crash_child DATA_DIR KEY ACTIONS
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import Harness, make_settings, start_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import act, apply_and_consent, script

FAMILY = 707


async def main(data_dir: Path, key: str, actions: int) -> None:
    """Consent, carry out ``actions`` scripted steps, then die without any clean-up."""
    fake = FakeTelegram()
    app = await start_app(make_settings(data_dir, ENCRYPTION_KEY=key), fake)
    h = Harness(app, fake)
    await apply_and_consent(h, FAMILY)
    for action in script()[:actions]:
        await act(h, FAMILY, action)
    print("KILLING", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
