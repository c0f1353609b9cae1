"""Membership is checked when it matters: when a message is sent, not when it was queued.

A member removed from COMMITTEE_MEMBER_IDS (a restart with the new list) gets nothing more:
their wizards are dropped, what waits in the outbox for them is cancelled (and audited), and a
notice queued for them later is not rendered. A reveal is audited before it is sent.
"""

from __future__ import annotations

from pathlib import Path

from bot.kinds import Kind
from bot.storage import outbox, sessions
from tests.conftest import (
    COMMITTEE_CHAT,
    MEMBER,
    OTHER_MEMBER,
    Harness,
    make_settings,
    start_app,
    stop_app,
)
from tests.fakes.telegram import FakeTelegram
from tests.flows import answer_all, apply_and_consent, full_intake, submit

FAMILY = 303
VOLUNTEER = 404


async def started(tmp_path: Path, key: str, members: str, fake: FakeTelegram) -> Harness:
    settings = make_settings(tmp_path, ENCRYPTION_KEY=key, COMMITTEE_MEMBER_IDS=members)
    return Harness(await start_app(settings, fake), fake)


async def statuses(h: Harness) -> dict[tuple[str, int], str]:
    """Each outbox row's status by kind and recipient (the pseudonym read back as the id)."""
    rows = await h.services.db.fetchall("SELECT kind, chat, chat_id, status FROM outbox")
    ids = h.services.ids
    return {
        (r["kind"], r["chat_id"] if r["chat"] is None else ids.open(r["chat"])): r["status"]
        for r in rows
    }


async def audit_rows(h: Harness, action: str) -> list[tuple[int | None, str | None]]:
    """The audit's actor (its encrypted id opened, None when the audit names nobody) and
    detail of each row of ``action``."""
    rows = await h.services.db.fetchall(
        "SELECT actor, detail FROM audit WHERE action = ? ORDER BY id", (action,)
    )
    return [(h.services.ids.maybe_open(r["actor"]), r["detail"]) for r in rows]


async def test_a_removed_member_loses_wizards_and_pending_notices(
    tmp_path: Path, key: str
) -> None:
    fake = FakeTelegram()
    h = await started(tmp_path, key, f"{MEMBER},{OTHER_MEMBER}", fake)
    try:
        ref = await full_intake(h, FAMILY)
        case_id = (await h.services.review.find(ref)).id  # type: ignore[union-attr]
        await h.say(OTHER_MEMBER, "/start")
        await h.press(OTHER_MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)  # a wizard
        await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)  # stays a member
        db, cipher, ids = h.services.db, h.services.cipher, h.services.ids
        await sessions.save(db, ids, FAMILY, {"kind": "answer", "request": 1, "step": "a"})
        payload = cipher.encrypt_json({"request": 1, "volunteer": VOLUNTEER})
        async with db.transaction() as conn:  # queued, not sent yet when the bot stops
            for kind in (Kind.MEMBER_NOTICE, Kind.TASK_DROPOUT, Kind.TASK_OUTCOME):
                await outbox.enqueue(
                    conn, ids, kind, OTHER_MEMBER, case_id=case_id, payload=payload
                )
            await outbox.enqueue(
                conn, ids, Kind.MEMBER_NOTICE, MEMBER, case_id=case_id, payload=payload
            )
    finally:
        await stop_app(h.app)

    fake = FakeTelegram()
    h = await started(tmp_path, key, str(MEMBER), fake)
    try:
        await h.services.delivery.wait_idle()
        db, ids = h.services.db, h.services.ids
        assert await sessions.load(db, ids, OTHER_MEMBER) is None
        assert await sessions.load(db, ids, MEMBER) is not None
        assert await sessions.load(db, ids, FAMILY) is not None  # a family's, not a member's
        now = await statuses(h)
        for kind in (Kind.MEMBER_NOTICE, Kind.TASK_DROPOUT, Kind.TASK_OUTCOME):
            assert now[(kind, OTHER_MEMBER)] != "pending"
        assert fake.sent(OTHER_MEMBER) == []
        cancelled = await audit_rows(h, "notice_cancelled")
        assert sorted(detail or "" for _, detail in cancelled) == sorted(
            [Kind.MEMBER_NOTICE, Kind.TASK_DROPOUT, Kind.TASK_OUTCOME]
        )
        assert all(actor is None for actor, _ in cancelled)  # no personal data in the audit
        dropped = await audit_rows(h, "session_dropped")
        assert dropped == [(None, "ask")]
    finally:
        await stop_app(h.app)
    fake.assert_clean()


async def test_a_notice_queued_after_removal_is_not_sent(tmp_path: Path, key: str) -> None:
    fake = FakeTelegram()
    h = await started(tmp_path, key, f"{MEMBER},{OTHER_MEMBER}", fake)
    try:
        ref = await full_intake(h, FAMILY)
        await h.say(OTHER_MEMBER, "/start")
        await h.press(OTHER_MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
        await h.say(OTHER_MEMBER, "Which clinic treats you?")
        _, answer = h.find_button(FAMILY, r"^fa:\d+$")
    finally:
        await stop_app(h.app)

    fake = FakeTelegram()
    h = await started(tmp_path, key, str(MEMBER), fake)
    try:
        await h.press_data(FAMILY, answer)  # the question is still on the family's screen
        await h.say(FAMILY, "The HIV clinic at Al-Bashir")
        assert all("HIV" not in (c.text or "") for c in fake.sent(OTHER_MEMBER))
        assert (await statuses(h))[(Kind.MEMBER_NOTICE, OTHER_MEMBER)] == "skipped"
    finally:
        await stop_app(h.app)


async def test_a_reveal_is_audited_even_when_the_voice_note_is_refused(harness: Harness) -> None:
    h = harness
    await apply_and_consent(h, FAMILY)
    await answer_all(h, FAMILY)
    await h.press(FAMILY, r":review:e:description$")
    await h.feed(h.updates.voice(FAMILY, file_id="audio-not-voice", duration=12))
    ref = await submit(h, FAMILY)
    await h.say(MEMBER, "/start")
    h.fake.fail_next("sendVoice", 400, "Bad Request: VOICE_MESSAGES_FORBIDDEN")
    calls = await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    assert any(c.method == "sendMessage" and c.chat_id == MEMBER for c in calls)
    viewers = [actor for actor, _ in await audit_rows(h, "case_viewed")]
    assert viewers == [MEMBER], "the member saw the Details: the view is in the audit"
