"""SIGKILL fault suite: the real bot process, killed at seeded random points, started again.

Each run starts ``python -m bot run`` (long polling) against the HTTP fake Telegram, drives it
as a family, a committee member and volunteers would, kills it with SIGKILL at a point drawn
from ``random.Random("<scenario>:<seed>")``, starts it again on the same data and checks the
promises (machinery and definitions in tests/kill_support.py):

* an intake: no submitted case lost (a family given a reference finds its case), no
  acknowledged answer lost, finishing gives exactly one case;
* a committee decision: a confirmed decision survives; the family's notice is queued once and
  delivered once, plus at most the one in flight at the kill; an unconfirmed decision can be
  completed after the restart;
* a broadcast: every volunteer gets the offer, duplicates no more than the offers in flight at
  the kill, no slot taken before the kill is lost;
* just before a reminder: each (volunteer, task, offset) reminder is claimed once and
  delivered once, plus at most the one in flight at the kill; and (a regression test, no
  randomness) reminders that fell due while the bot was down survive a slow restart.

The kill points are stratified: seed ``s`` draws its point in the ``s``-th of equal slices of
the scenario's range, so a few seeds already cover it end to end; in the intake and the
decision the last seed always kills while Submit or Confirm is handled. Only where the kill
lands depends on timing, never the verdict: every step waits for the bot's answer, and what
was "in flight" is read from the database after the kill. Each run prints its counts.

The bot paces each private chat at about one message a second (bot/limits.py), so a run is
mostly waiting: the seeds of one scenario run side by side (a module fixture per scenario),
and each test checks one seed's run. More runs: ``SANAD_KILL_SEEDS=20 .venv/bin/pytest
tests/test_kill.py``; one run again: ``-k "intake and seed3"`` (same seed, same kill point).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from random import Random
from typing import TypeVar

import pytest

from tests.flows import PHONE_E164
from tests.kill_support import (
    FIRST_VOLUNTEER,
    BroadcastRun,
    DecisionRun,
    IntakeRun,
    KillPoint,
    ReminderRun,
    Rig,
    broadcast_run,
    decision_run,
    intake_moves,
    intake_run,
    overdue_reminders_run,
    reminder_plan,
    reminder_run,
)

RUNS = int(os.environ.get("SANAD_KILL_SEEDS", "5"))
SEEDS = pytest.mark.parametrize("seed", range(RUNS), ids=lambda s: f"seed{s}")

VOLUNTEERS = 40
NEEDED = 4
TAKERS = 6
BROADCAST_WINDOW = 1.8  # seconds after Publish: 40 offers take ~1.4 s at ~29.5/s
REMINDER_VOLUNTEERS = 3
REMINDER_OFFSETS = 2
# Seconds from planning to the first due time: the bots start side by side (slower with more).
REMINDER_LEAD = round(2 + 0.75 * RUNS)

_R = TypeVar("_R")


def stratum(rng: Random, seed: int, low: float, high: float, strata: int = RUNS) -> float:
    """A point of [low, high) in the seed's slice of it (one of ``strata`` equal slices)."""
    part = (high - low) / strata
    return low + (seed % strata + rng.random()) * part


def kill_point(
    rng: Random, seed: int, slots: int, during: float, after: float = 0.0, *, pin: int
) -> KillPoint:
    """Kill before or during (up to ``during`` s after) one of ``slots`` moves; in the slot
    past the last move, up to ``after`` s after its answer. The last seed always kills during
    move ``pin`` (the one that matters most: Submit, Confirm); the others share the range."""
    if seed == RUNS - 1:
        return KillPoint(pin, True, rng.uniform(0.0, during))
    index = min(int(stratum(rng, seed, 0, slots, max(RUNS - 1, 1))), slots - 1)
    return KillPoint(index, rng.random() < 0.6, rng.uniform(0.0, during), rng.uniform(0, after))


def selected_seeds(request: pytest.FixtureRequest, test: str) -> list[int]:
    """The seeds of ``test`` this session runs (all, or those chosen with -k)."""
    return sorted(
        {
            int(str(item.callspec.params["seed"]))
            for item in request.session.items
            if isinstance(item, pytest.Function) and item.originalname == test
        }
    )


def run_side_by_side(
    seeds: list[int], one: Callable[[int], Awaitable[_R]]
) -> dict[int, _R | BaseException]:
    """Run ``one(seed)`` for every seed at once, in a fresh event loop."""

    async def everything() -> list[_R | BaseException]:
        return await asyncio.gather(*(one(seed) for seed in seeds), return_exceptions=True)

    return dict(zip(seeds, asyncio.run(everything()), strict=True))


def result(runs: dict[int, _R | BaseException], seed: int) -> _R:
    """One seed's run, or its failure raised again."""
    found = runs[seed]
    if isinstance(found, BaseException):
        raise found
    return found


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Print a run's counts in the pytest output."""
    with capsys.disabled():
        print(f"\n  [kill] {line}", end="", flush=True)


# --------------------------------------------------------------------------------------------
# Intake
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def intake_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, IntakeRun | BaseException]:
    """Every selected seed's intake run."""
    slots = len(intake_moves())

    async def one(seed: int) -> IntakeRun:
        rng = Random(f"intake:{seed}")
        point = kill_point(rng, seed, slots + 1, during=2.5, after=0.3, pin=slots - 1)
        async with Rig(tmp_path_factory.mktemp(f"intake-seed{seed}")) as rig:
            run = await intake_run(rig, point)
            run.problems += rig.fake.violations + rig.server.errors
        return run

    return run_side_by_side(selected_seeds(request, "test_sigkill_during_an_intake"), one)


@SEEDS
def test_sigkill_during_an_intake(
    intake_runs: dict[int, IntakeRun | BaseException],
    seed: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = result(intake_runs, seed)
    report(
        capsys,
        f"intake    seed {seed}: killed {run.kill}; answers acknowledged {run.acked}, kept "
        f"{run.kept}, lost {run.answers_lost}; cases confirmed before the kill "
        f"{len(run.confirmed_before)}, in the database after {len(run.cases_after_restart)}, "
        f"lost {run.cases_lost}; cases at the end {len(run.cases_final)}",
    )
    assert run.problems == []  # includes calls Telegram would reject
    assert run.cases_lost == 0, (run.confirmed_before, run.cases_after_restart)
    assert run.kept is not None
    assert run.acked <= run.kept <= run.pushed, "answers lost, or an unsent one recorded"
    assert len(run.cases_final) == 1
    assert run.confirmed <= set(run.cases_final)  # every reference given is that one case
    # Killed after the case was saved but before the family was told: /apply shows it.
    assert set(run.cases_final) <= run.confirmed | run.told_after_restart
    assert run.drafts_left == 0
    assert run.final_answers["situation"] == ["orphans", "other"]
    assert run.final_answers["household_size"] == 5
    assert run.final_personal["phone"] == PHONE_E164


# --------------------------------------------------------------------------------------------
# Committee decision
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def decision_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, DecisionRun | BaseException]:
    """Every selected seed's decision run."""

    async def one(seed: int) -> DecisionRun:
        rng = Random(f"decision:{seed}")
        kind = rng.choice(["approve", "decline"])

        def point(moves: int) -> KillPoint:
            return kill_point(rng, seed, moves + 1, during=2.5, after=0.3, pin=moves - 1)

        async with Rig(tmp_path_factory.mktemp(f"decision-seed{seed}")) as rig:
            run = await decision_run(rig, kind, point)
            run.problems += rig.fake.violations + rig.server.errors
        return run

    return run_side_by_side(
        selected_seeds(request, "test_sigkill_during_a_committee_decision"), one
    )


@SEEDS
def test_sigkill_during_a_committee_decision(
    decision_runs: dict[int, DecisionRun | BaseException],
    seed: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = result(decision_runs, seed)
    report(
        capsys,
        f"decision  seed {seed}: {run.kind}, killed {run.kill}; presses answered {run.acked}; "
        f"decision confirmed before the kill {int(run.confirmed_before)}, case after "
        f"{run.status_after_restart}, decisions lost {run.decisions_lost}"
        f"{'; wizard redone from the card' if run.redone else ''}"
        f"{' (Confirm had ended the wizard, not yet decided)' if run.confirm_lost else ''}; "
        f"family notices delivered {run.notices_delivered}, in flight at the kill "
        f"{run.notices_in_flight}",
    )
    assert run.problems == []  # includes calls Telegram would reject
    assert run.decisions_lost == 0
    assert run.status_final == run.expected
    assert run.decision_events == 1  # one decision, however often the member pressed
    assert run.notice_items == 1  # the notice was queued once...
    assert run.notices_in_flight <= 1
    assert run.notices_delivered == 1 + run.notices_in_flight  # ...and resent only if in flight


# --------------------------------------------------------------------------------------------
# Broadcast
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broadcast_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, BroadcastRun | BaseException]:
    """Every selected seed's broadcast run."""

    async def one(seed: int) -> BroadcastRun:
        rng = Random(f"broadcast:{seed}")
        ids = range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + VOLUNTEERS)
        takers = sorted(rng.sample(ids, TAKERS))
        delay = stratum(rng, seed, 0.0, BROADCAST_WINDOW)
        async with Rig(tmp_path_factory.mktemp(f"broadcast-seed{seed}")) as rig:
            run = await broadcast_run(rig, VOLUNTEERS, NEEDED, takers, delay)
            run.problems += rig.fake.violations + rig.server.errors
        return run

    return run_side_by_side(selected_seeds(request, "test_sigkill_during_a_broadcast"), one)


@SEEDS
def test_sigkill_during_a_broadcast(
    broadcast_runs: dict[int, BroadcastRun | BaseException],
    seed: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = result(broadcast_runs, seed)
    report(
        capsys,
        f"broadcast seed {seed}: killed {run.kill}; offers delivered before the kill "
        f"{run.delivered_before_kill}/{VOLUNTEERS} (recorded as sent {run.sent_at_kill}, in "
        f"flight {run.in_flight}); at the end {sum(run.offers.values())} offers, duplicates "
        f"{run.duplicates} (allowed: in flight {run.in_flight}), misses {run.misses}; slots "
        f"confirmed before the kill {len(run.slots_confirmed_before)}, durable at the kill "
        f"{len(run.slots_at_kill)}, held at the end {len(run.held)}/{NEEDED}, lost "
        f"{len(run.slots_lost)}",
    )
    ids = range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + VOLUNTEERS)
    assert run.problems == []  # calls Telegram would reject
    assert run.misses == 0
    assert run.duplicates <= run.in_flight
    assert run.duplicates_beyond_in_flight == []  # and each duplicate is one in flight
    assert run.offer_items == Counter(dict.fromkeys(ids, 1))  # one offer queued per volunteer
    assert run.slots_confirmed_before <= run.slots_at_kill  # told "you are in" => durable
    assert run.slots_lost == set()
    assert len(run.held) == min(NEEDED, TAKERS)
    assert {run.final[v] for v in run.takers} <= {"accepted", "waitlisted"}


# --------------------------------------------------------------------------------------------
# Just before a reminder
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reminder_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, ReminderRun | BaseException]:
    """Every selected seed's reminder run."""

    async def one(seed: int) -> ReminderRun:
        rng = Random(f"reminder:{seed}")
        starts, offsets, dues = reminder_plan(REMINDER_LEAD, gap=1, offsets=REMINDER_OFFSETS)
        kill_at = stratum(rng, seed, dues[0] - 0.6, dues[-1] + 0.3)
        async with Rig(
            tmp_path_factory.mktemp(f"reminder-seed{seed}"), reminder_offsets=offsets
        ) as rig:
            run = await reminder_run(rig, REMINDER_VOLUNTEERS, starts, dues, kill_at)
            run.problems += rig.fake.violations + rig.server.errors
        return run

    return run_side_by_side(selected_seeds(request, "test_sigkill_just_before_a_reminder"), one)


@SEEDS
def test_sigkill_just_before_a_reminder(
    reminder_runs: dict[int, ReminderRun | BaseException],
    seed: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = result(reminder_runs, seed)
    report(
        capsys,
        f"reminder  seed {seed}: killed {run.kill}; claimed before the kill "
        f"{run.claimed_at_kill}/{run.expected}, delivered before the kill "
        f"{run.delivered_before_kill} (in flight {run.in_flight}); reminders sent "
        f"{run.sent}/{run.expected} expected"
        f"{'' if run.on_time else ' (accepts answered after the due times)'}",
    )
    volunteers = range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + REMINDER_VOLUNTEERS)
    assert run.problems == []  # calls Telegram would reject
    if run.on_time:  # one reminder per (volunteer, offset)
        assert run.scheduled == Counter(dict.fromkeys(volunteers, REMINDER_OFFSETS))
    assert set(run.scheduled) == set(volunteers)
    assert run.statuses == Counter({"sent": run.expected})  # every reminder claimed, none lost
    assert run.reminder_items == run.scheduled  # ...each claimed once
    assert run.beyond_in_flight == []  # delivered once, plus only what was in flight
    assert run.sent == run.expected + run.in_flight


async def test_reminders_due_while_the_bot_was_down_survive_a_slow_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: the reminders' jobs are added in post_init, before the scheduler starts;
    with APScheduler's default misfire limit (1 s) a start-up slowed by Telegram (here two 502
    answers, retried) silently dropped every reminder that fell due while the bot was down,
    its row left pending."""
    async with Rig(tmp_path) as rig:
        statuses, delivered = await overdue_reminders_run(rig, 2)
        problems = rig.fake.violations + rig.server.errors
    report(
        capsys,
        f"reminder  overdue at a slow restart: statuses {dict(statuses)}, delivered "
        f"{sum(delivered.values())}/2",
    )
    assert problems == []
    assert statuses == Counter({"sent": 2})
    assert delivered == Counter({FIRST_VOLUNTEER: 1, FIRST_VOLUNTEER + 1: 1})
