"""The domain services' methods for what handlers used to do on storage themselves: the same
rows, written by the service, in one transaction each."""

from __future__ import annotations

from bot import reports
from bot.privacy import PrivacyService
from bot.sessions import SessionService
from bot.storage import outbox
from bot.storage.volunteers import ACTIVE, PAUSED, PENDING
from bot.vetting import Vetting
from bot.volunteers import VolunteerService
from tests.conftest import COMMITTEE_CHAT, MEMBER, OUTSIDER, Harness
from tests.test_review import FAMILY, audit, new_case
from tests.test_tasks import new_task


async def test_sessions_load_save_end(harness: Harness) -> None:
    services = harness.services
    sessions = SessionService(services.db, services.ids)
    assert await sessions.load(MEMBER) is None
    await sessions.save(MEMBER, {"kind": "note", "ref": "K7P-4RD", "step": "note"})
    assert await sessions.load(MEMBER) == {"kind": "note", "ref": "K7P-4RD", "step": "note"}
    row = await services.db.fetchone(
        "SELECT payload FROM sessions WHERE user_id = ?", (services.ids.pid(MEMBER),)
    )
    assert row is not None and b"K7P" not in row["payload"]  # encrypted
    await sessions.end(MEMBER)
    assert await sessions.load(MEMBER) is None


async def test_volunteer_profile_changes_are_audited(harness: Harness) -> None:
    h = harness
    services = h.services
    volunteers = VolunteerService(services.db, services.ids)
    vetting = Vetting(volunteers, services.tasks)
    await h.say(1400, "/start")
    await services.intake.start(1400, "en", "volunteer")
    assert await vetting.register(1400, {"skills": ["driving"]}, {"name": "Rami"}) is True
    profile = await volunteers.get(1400)
    assert profile is not None and profile.status == PENDING and profile.personal["name"] == "Rami"
    assert (
        await services.db.fetchone(
            "SELECT 1 FROM drafts WHERE user_id = ?", (services.ids.pid(1400),)
        )
        is None
    )
    assert await volunteers.set_status(1400, PAUSED) is False  # pending: the committee's
    assert (await vetting.decide(profile.ref, "approve", MEMBER, "Member")).done
    assert await volunteers.set_status(1400, PAUSED) is True
    paused = await volunteers.get(1400)
    assert paused is not None and paused.status == PAUSED
    assert await vetting.leave(1400) is True
    assert await volunteers.get(1400) is None
    assert await volunteers.set_status(1400, ACTIVE) is False
    # The events stay, in order; once they left, none says who the volunteer was.
    events = [(actor, a) for actor, a in await audit(h) if a.startswith("volunteer_")]
    assert [a for _, a in events if a != "volunteer_approved"] == [
        "volunteer_saved",
        "volunteer_paused",
        "volunteer_left",
    ]
    assert all(actor is None for actor, a in events if a != "volunteer_approved")
    assert "volunteer_approved" in [a for actor, a in await audit(h) if actor == MEMBER]


async def test_review_lookups_and_audited_views(harness: Harness) -> None:
    h = harness
    review = h.services.review
    ref = await new_case(h)
    case = await review.get(ref)
    assert await review.find(ref.lower()) == case
    assert await review.find("ZZZ-ZZZ") is None
    assert await review.by_id(case.id) == case
    assert await review.page(None, 0, 10) == ([case], 1)
    assert await review.counts_by_status() == {"new": 1}
    assert review.personal(case)
    await review.record_refused(OUTSIDER, ref)
    await review.record_refused(OUTSIDER, "ZZZ-ZZZ")
    await review.record_view_refused(OUTSIDER, None)
    await review.record_viewed(MEMBER, case)
    await reports.record_export(h.services.db, h.services.ids, MEMBER, 1, full=True)
    await reports.record_export(h.services.db, h.services.ids, MEMBER, 1, full=False)
    rows = await h.services.db.fetchall("SELECT actor, case_id, action FROM audit ORDER BY id")
    opened = h.services.ids.maybe_open
    assert [(opened(r["actor"]), r["case_id"], r["action"]) for r in rows][-6:] == [
        (OUTSIDER, case.id, "action_refused"),
        (OUTSIDER, None, "action_refused"),
        (OUTSIDER, None, "view_refused"),
        (MEMBER, case.id, "case_viewed"),
        (MEMBER, None, "export_full"),  # one row per export, naming how many cases
        (MEMBER, None, "export_anonymised"),
    ]
    history = [entry.action for entry in await review.history(case.id)]
    assert history[0] == "case_submitted" and history[-1] == "case_viewed"


async def test_refresh_card_queues_a_card_update(harness: Harness) -> None:
    h = harness
    ref = await new_case(h)
    case = await h.services.review.get(ref)
    assert await h.services.review.refresh_card(case) is True
    row = await h.services.db.fetchone(
        "SELECT chat_id, case_id FROM outbox WHERE kind = 'card_update' ORDER BY id DESC"
    )
    assert row is not None and (row["chat_id"], row["case_id"]) == (COMMITTEE_CHAT, case.id)
    assert (
        await outbox.message_of(h.services.db, h.services.ids, "committee_card", case.id)
        is not None
    )


async def test_open_request_of_names_only_the_family_asked(harness: Harness) -> None:
    h = harness
    review = h.services.review
    ref = await new_case(h)
    await review.ask(ref, MEMBER, "Which hospital?")
    request = (await review.requests((await review.get(ref)).id))[0]
    assert (await review.open_request_of(request.id, FAMILY)) == request
    assert await review.open_request_of(request.id, OUTSIDER) is None
    assert await review.open_request_of(request.id + 1, FAMILY) is None
    await review.answer(request.id, FAMILY, {"text": "The north one"})
    assert await review.open_request_of(request.id, FAMILY) is None


async def test_task_by_id_and_reminder_kind(harness: Harness) -> None:
    h = harness
    ref = await new_task(h)
    task = await h.services.tasks.get(ref)
    assert task is not None and await h.services.tasks.by_id(task.id) == task
    assert await h.services.tasks.by_id(task.id + 1) is None
    assert await h.services.review.reminder_kind(12345) is None


async def test_cases_of_and_privacy_service(harness: Harness) -> None:
    h = harness
    services = h.services
    ref = await new_case(h)
    assert [c.ref for c in await services.intake.cases_of(FAMILY)] == [ref]
    privacy = PrivacyService(
        services.db, services.ids, services.tasks, services.settings.committee_chat_id
    )
    stored = await privacy.collect(FAMILY)
    assert stored.language == "en" and [c.ref for c, _, _ in stored.cases] == [ref]
    assert await privacy.erase(FAMILY) == 1
    assert (await privacy.collect(FAMILY)).empty
    assert await services.intake.cases_of(FAMILY) == []
