"""SIGKILL mid-intake: starting again loses nothing the family already answered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Harness, make_settings, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import act, script, submit

ROOT = Path(__file__).resolve().parent.parent
FAMILY = 707


@pytest.mark.parametrize(
    ("actions", "answered", "pending", "at"),
    [
        (1, 0, ["orphans"], "situation"),
        (4, 2, [], "support"),
        (8, 4, [], "children"),
        (13, 9, [], "call_time"),
        (16, 12, [], "review"),
    ],
)
async def test_sigkill_mid_intake_loses_nothing(
    tmp_path: Path, key: str, actions: int, answered: int, pending: list[str], at: str
) -> None:
    child = subprocess.run(  # noqa: ASYNC221 - the test waits for the child on purpose
        [sys.executable, "-m", "tests.crash_child", str(tmp_path), key, str(actions)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert "KILLING" in child.stdout

    settings = make_settings(tmp_path, ENCRYPTION_KEY=key)
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    try:
        draft = await h.services.intake.load(FAMILY)
        assert draft is not None
        assert (len(draft.answers), draft.pending, draft.step) == (answered, pending, at)
        steps = script()
        # Every answer given before the kill is there, and the draft waits at the next step.
        await h.say(FAMILY, "/apply")
        await h.press(FAMILY, r"^ap:c:")
        for action in steps[actions:]:
            await act(h, FAMILY, action)
        ref = await submit(h, FAMILY)
        case = await h.services.db.fetchone("SELECT answers FROM cases WHERE ref = ?", (ref,))
        assert case is not None
        assert '"situation": ["orphans", "other"]' in case["answers"]
        assert '"household_size": 5' in case["answers"]
    finally:
        await stop_app(app)
    fake.assert_clean()
