"""The scale benchmark on a tiny database: it builds, starts the bot on what it built, takes
every figure and prints every row the issue names, each with a verdict (no timing asserted)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bench import scaling as scale

# The rows of the table, named as the scale issue names them (a publish row names its size).
ROWS = (
    "build",
    "start-up",
    "start-up log",
    "jobs scheduled",
    "peak RSS after start-up",
    "/cases first page",
    "/cases later page",
    "/case REF",
    "/status",
    "/mydata",
    "/stats",
    "/export full",
    "/export anonymised",
    "publish to 100 volunteers",
    "retention purge",
    "backup",
    "Take on a card",
    "3 families at a human pace",
    "outbox progress after a batch",
    "a family's /status during /stats",
    "a family's /status during /export full",
    "event loop blocked during /stats and /export",
    "calls Telegram would reject, errors logged",
)


def test_the_bench_builds_measures_and_prints_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--cases", "200", "--volunteers", "100", "--tasks", "10", "--samples", "1"]
    argv += ["--families", "3", "--pace", "0.05"]
    assert scale.main([*argv, "--keep", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    table = {
        cells[0]: cells[1:]
        for line in printed.splitlines()
        if line.startswith("| ")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    for name in ROWS:
        assert name in table, f"row {name!r} missing from:\n{printed}"
        _, target, verdict = table[name]
        assert verdict in ("PASS", "FAIL") if target != "—" else verdict == "—"
    assert re.match(r"\d+\.\d s, \d+ MB \(200 cases", table["build"][0])
    # The bot answered everything it was sent, as Telegram would accept it, without an error.
    assert table["calls Telegram would reject, errors logged"] == ["0, 0", "0", "PASS"]
    # Every status filter has its first and its last page measured.
    for status in ("all", "new", "in_review", "info_requested", "approved", "declined", "closed"):
        assert f"/cases {status}, first page" in table
    # What it built is a database in every status, with its reminders, and no id in clear.
    with sqlite3.connect(tmp_path / "built.db") as conn:
        statuses = {row[0] for row in conn.execute("SELECT DISTINCT status FROM cases")}
        pending = conn.execute(
            "SELECT COUNT(*) FROM reminders WHERE status = 'pending' AND kind = 'support_end'"
        ).fetchone()[0]
        approved = conn.execute("SELECT COUNT(*) FROM cases WHERE status = 'approved'").fetchone()
        # No Telegram id in clear: every person is a pseudonym (63-bit), groups stay negative.
        clear = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE chat_id > 0 AND chat_id < 1000000000"
        ).fetchone()[0]
    assert statuses == set(scale.STATUS_WEIGHTS)
    assert pending == approved[0] > 0
    assert clear == 0
