"""Support given, at the storage level: recorded with the member's words encrypted, counted
for the card without decrypting, the family's answer changed once, and anonymised with the
case (its figures kept, its words and recorder gone)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.privacy import PrivacyService
from bot.storage import support, utcnow
from tests.conftest import MEMBER, Harness
from tests.test_review import FAMILY, approve, new_case


async def _case_id(h: Harness, ref: str) -> int:
    row = await h.services.db.fetchone("SELECT id FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    return int(row["id"])


async def test_support_is_recorded_summarised_answered_once_and_anonymised(
    harness: Harness,
) -> None:
    h = harness
    ref = await new_case(h)
    await approve(h, ref)
    case_id = await _case_id(h, ref)
    db, ids = h.services.db, h.services.ids
    async with db.transaction() as conn:
        first = await support.add(
            conn,
            ids,
            case_id,
            kind="financial",
            given_on=date(2026, 3, 2),
            member_id=MEMBER,
            amount=Decimal("150.50"),
            currency="JOD",
            note="Paid the rent for March",
        )
        await support.add(
            conn, ids, case_id, kind="logistics", given_on=date(2026, 3, 12), member_id=MEMBER
        )
    raw = await db.fetchone("SELECT note, recorder FROM support_given WHERE id = ?", (first,))
    assert raw is not None
    assert b"rent" not in bytes(raw["note"]) and str(MEMBER).encode() not in bytes(raw["recorder"])

    history = await support.for_case(db, ids, case_id)
    assert [s.kind for s in history] == ["financial", "logistics"]
    assert history[0].note == "Paid the rent for March" and history[0].recorder == MEMBER
    assert history[0].amount == Decimal("150.50") and history[0].receipt == support.PENDING
    assert await support.summary(db, case_id) == support.Summary(2, date(2026, 3, 12))

    async with db.transaction() as conn:
        assert await support.set_receipt(
            conn, first, support.RECEIVED, only_from=(support.PENDING,)
        )
        assert not await support.set_receipt(
            conn, first, support.NOT_RECEIVED, only_from=(support.PENDING,)
        )
        assert await support.mark_alerted(conn, first)
        assert not await support.mark_alerted(conn, first)
    later = utcnow() + timedelta(seconds=1)
    assert await support.unanswered_since(db, later) == [history[1].id]

    months = await support.per_month(db, date(2026, 3, 1), date(2026, 3, 31))
    assert [(m.month, m.kind, m.times, m.cases) for m in months] == [
        ("2026-03", "financial", 1, 1),
        ("2026-03", "logistics", 1, 1),
    ]
    assert await support.amounts(db, date(2026, 3, 1), date(2026, 3, 31)) == {
        "JOD": Decimal("150.50")
    }

    privacy: PrivacyService = h.services.privacy
    assert await privacy.erase(FAMILY) == 1
    after = await support.for_case(db, ids, case_id)
    assert [(s.kind, s.amount, s.note, s.recorder, s.recorded_by) for s in after] == [
        ("financial", Decimal("150.50"), None, None, None),
        ("logistics", None, None, None, None),
    ]
