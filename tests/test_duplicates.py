"""Possible duplicates: the same phone in any digit system, or the same name (Arabic
spellings, diacritics) in the same area, flagged at submission on keyed hashes only; shown to
members in Details and /case, never on the group's card; "Not a duplicate" and "Merge"
through the real Application; erased with the case's personal data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import duplicates, privacy
from bot.config import Settings
from bot.duplicates import Keyer, normalise_name
from bot.errors import Invalid
from bot.forms import load_form
from bot.i18n import I18n
from bot.intake import validate_phone
from bot.storage import duplicates as repo
from bot.storage.migrations import m023_duplicate_keys
from handlers.duplicates import flag_keyboard, flag_text, settled_text
from tests.conftest import COMMITTEE_CHAT, MEMBER, OUTSIDER, Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import Answers, full_intake
from tests.test_at_rest import sqlite_files

FORM = load_form("intake")
KEYER = Keyer(b"k" * 32)

# Five families of the same area, the north, and one of the south.
FIRST, SAME_PHONE, SAME_NAME, STRANGER, ELSEWHERE = 501, 502, 503, 504, 505


def family(name: str, phone: str, area: str = "north") -> Answers:
    return Answers(name=name, phone=phone, area_choice=area)


@pytest.mark.parametrize("typed", ["0791234567", "٠٧٩١٢٣٤٥٦٧", "+962 79 123 4567", "۰۷۹۱۲۳۴۵۶۷"])
def test_a_phone_in_any_digit_system_is_one_number(typed: str) -> None:
    # The form stores every phone as validate_phone gives it; the digest is of that.
    assert validate_phone(typed, "JO") == "+962791234567"
    answers = {"phone": validate_phone(typed, "JO"), "name": "x", "area": "north"}
    assert KEYER.keys(FORM, answers)["phone"] == KEYER.digest("phone", "+962791234567")


def test_an_invalid_phone_gives_no_digest() -> None:
    with pytest.raises(Invalid):
        validate_phone("12", "JO")  # never stored: the form asks again
    assert "phone" not in KEYER.keys(FORM, {"name": "x"})


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("أحمد", "احمد"),
        ("أَحْمَد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("فاطمة", "فاطمه"),
        ("فـاطـمـة  الزهراء", "فاطمه الزهراء"),
        ("مصطفى", "مصطفي"),
        ("مؤمن", "مومن"),
        ("هانئ", "هاني"),
        ("آمنة", "امنه"),
        ("Fatima  AL-Zahra", "fatima al-zahra"),
    ],
)
def test_arabic_name_variants_are_one_name(one: str, other: str) -> None:
    assert normalise_name(one) == normalise_name(other)
    same_area = [{"name": n, "area": "north"} for n in (one, other)]
    assert KEYER.keys(FORM, same_area[0]) == KEYER.keys(FORM, same_area[1])


def test_different_names_or_areas_do_not_match() -> None:
    assert normalise_name("أحمد") != normalise_name("محمد")
    north, south = ({"name": "فاطمة", "area": a} for a in ("north", "south"))
    assert KEYER.keys(FORM, north)["name_area"] != KEYER.keys(FORM, south)["name_area"]
    typed = {"name": "فاطمة", "area": "other", "area_other": "جبل الحسين"}
    spelled = {"name": "فاطمه", "area": "other", "area_other": "جَبَل  الحسين"}
    assert KEYER.keys(FORM, typed) == KEYER.keys(FORM, spelled)
    # Another key (another database) gives other digests: the digest is keyed.
    assert Keyer(b"j" * 32).keys(FORM, north) != KEYER.keys(FORM, north)


async def case_id(h: Harness, ref: str) -> int:
    row = await h.services.db.fetchone("SELECT id FROM cases WHERE ref = ?", (ref,))
    assert row is not None
    return int(row["id"])


async def flags_of(h: Harness, ref: str) -> list[tuple[str, str, str]]:
    """The flags of ``ref`` as the newer case (for_case also gives those naming it as the
    earlier one)."""
    found = await repo.for_case(h.services.db, await case_id(h, ref))
    return [(f.other_ref, f.reason, f.state) for f in found if f.case_ref == ref]


async def five_families(h: Harness) -> dict[int, str]:
    """Five applications in the north and one in the south; the first and its twins."""
    refs = {
        FIRST: await full_intake(h, FIRST, family("أَحْمَد علي", "0791234567")),
        SAME_PHONE: await full_intake(h, SAME_PHONE, family("Huda Saleh", "٠٧٩١٢٣٤٥٦٧")),
        SAME_NAME: await full_intake(h, SAME_NAME, family("أحمد  علي", "0781112233")),
        STRANGER: await full_intake(h, STRANGER, family("محمد علي", "0771234568")),
        ELSEWHERE: await full_intake(h, ELSEWHERE, family("احمد علي", "0785556677", "south")),
    }
    await h.say(MEMBER, "/start")
    return refs


async def test_flagged_at_submission_shown_only_privately_and_never_in_clear(
    harness: Harness,
) -> None:
    h = harness
    refs = await five_families(h)
    first = refs[FIRST]
    assert await flags_of(h, refs[FIRST]) == []
    assert await flags_of(h, refs[SAME_PHONE]) == [(first, "phone", "open")]
    assert await flags_of(h, refs[SAME_NAME]) == [(first, "name_area", "open")]
    # No false positive: another family of the same area, the same name in another area.
    assert await flags_of(h, refs[STRANGER]) == []
    assert await flags_of(h, refs[ELSEWHERE]) == []

    # Never on the group's cards.
    for message in h.fake.messages(COMMITTEE_CHAT):
        assert "duplicate" not in str(message.get("text", "")).lower()
        assert "du:" not in str(message.get("reply_markup", ""))

    # Details and /case show it to the member, with its two buttons.
    await h.press(MEMBER, rf"^cd:{refs[SAME_PHONE]}$", chat_id=COMMITTEE_CHAT)
    assert f"possible duplicate of {first} (same phone)" in h.newest(MEMBER)
    await h.say(MEMBER, f"/case {refs[SAME_NAME]}")
    assert f"possible duplicate of {first} (same name and area)" in h.newest(MEMBER)
    h.find_button(MEMBER, r"^du:n:\d+$")
    h.find_button(MEMBER, r"^du:m:\d+$")

    # The database files hold digests, never the phone or the name.
    await h.services.db.checkpoint()
    for path in sqlite_files(h.services.settings.data_dir):
        blob = path.read_bytes()
        for clear in ("+962791234567", "0791234567", "791234567", "أحمد", "احمد علي"):
            assert clear.encode() not in blob, f"{clear} in {path.name}"
    rows = await h.services.db.fetchall("SELECT kind, digest FROM case_keys")
    assert {r["kind"] for r in rows} == {"phone", "name_area"}
    assert all(len(bytes(r["digest"])) == 32 for r in rows)


async def test_not_a_duplicate_and_merge_through_the_app(harness: Harness) -> None:
    h = harness
    refs = await five_families(h)
    first = refs[FIRST]

    await h.say(MEMBER, f"/case {refs[SAME_PHONE]}")
    # A non-member's press is refused and changes nothing.
    _, data = h.find_button(MEMBER, r"^du:n:\d+$")
    calls = await h.press_data(OUTSIDER, data, chat_id=OUTSIDER)
    assert "Only committee members" in h.alerts(calls)[0]
    assert await flags_of(h, refs[SAME_PHONE]) == [(first, "phone", "open")]

    calls = await h.press(MEMBER, r"^du:n:\d+$")
    assert "Not a duplicate" in h.alerts(calls)[0]
    assert await flags_of(h, refs[SAME_PHONE]) == [(first, "phone", "dismissed")]
    assert "Not a duplicate of" in h.newest(MEMBER)
    with pytest.raises(AssertionError):
        h.find_button(MEMBER, r"^du:n:\d+$")  # the answered message lost its buttons
    again = await h.press_data(MEMBER, data, chat_id=MEMBER)
    assert "Not a duplicate of" in h.alerts(again)[0]
    assert await flags_of(h, refs[SAME_PHONE]) == [(first, "phone", "dismissed")]
    await h.say(MEMBER, f"/case {refs[SAME_PHONE]}")
    assert "a member checked" in h.newest(MEMBER)

    # Merge: the later case is closed, linked to the earlier; the family is not told.
    told_before = len(h.fake.messages(SAME_NAME))
    await h.say(MEMBER, f"/case {refs[SAME_NAME]}")
    calls = await h.press(MEMBER, r"^du:m:\d+$")
    assert "Merged" in h.alerts(calls)[0]
    row = await h.services.db.fetchone(
        "SELECT status FROM cases WHERE ref = ?", (refs[SAME_NAME],)
    )
    assert row is not None and row["status"] == "closed"
    assert await flags_of(h, refs[SAME_NAME]) == [(first, "name_area", "merged")]
    assert len(h.fake.messages(SAME_NAME)) == told_before
    assert f"closed as a duplicate of {first}" in h.newest(MEMBER)
    audited = await h.services.db.fetchall("SELECT action FROM audit ORDER BY id")
    actions = [r["action"] for r in audited]
    assert "duplicate_dismissed" in actions and "case_merged" in actions
    assert "action_refused" in actions
    await h.say(MEMBER, f"/audit {refs[SAME_NAME]}")
    assert "closed as a duplicate of another case" in h.newest(MEMBER)
    # The group's card shows the new status, and still no link between the two cases.
    cards = [str(m.get("text", "")) for m in h.fake.messages(COMMITTEE_CHAT)]
    assert not any(refs[SAME_NAME] in c and first in c for c in cards)


async def test_the_buttons_survive_a_restart(settings: Settings) -> None:
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    first = await full_intake(h, FIRST, family("فاطمة", "0791234567"))
    second = await full_intake(h, SAME_NAME, family("فاطمه", "0781112233"))
    await h.say(MEMBER, "/start")
    await h.say(MEMBER, f"/case {second}")
    await stop_app(app)
    app = await start_app(settings, fake)
    try:
        h = Harness(app, fake)
        await h.press(MEMBER, r"^du:m:\d+$")
        assert await flags_of(h, second) == [(first, "name_area", "merged")]
    finally:
        await stop_app(app)


async def test_erasure_removes_the_hashes_and_the_flags(harness: Harness) -> None:
    h = harness
    refs = await five_families(h)
    assert await flags_of(h, refs[SAME_PHONE]) != []
    first = await case_id(h, refs[FIRST])
    await h.say(FIRST, "/delete_my_data")
    await h.press(FIRST, r"^pd:y$")
    keys = await h.services.db.fetchall("SELECT 1 FROM case_keys WHERE case_id = ?", (first,))
    assert keys == []
    # No flag names the erased case any more, on either side.
    assert await flags_of(h, refs[SAME_PHONE]) == []
    assert await flags_of(h, refs[SAME_NAME]) == []
    # A new application with the erased family's phone is not flagged against it.
    again = await full_intake(h, 506, family("Someone", "0791234567", "east"))
    assert await flags_of(h, again) == [(refs[SAME_PHONE], "phone", "open")]


def test_reasons_are_named() -> None:
    assert duplicates.reason_of({"phone"}) == "phone"
    assert duplicates.reason_of({"phone", "name_area"}) == "both"


async def test_retention_removes_the_hashes_and_the_flags(harness: Harness) -> None:
    h = harness
    refs = await five_families(h)
    first = await case_id(h, refs[FIRST])
    async with h.services.db.transaction() as conn:
        await conn.execute(
            "UPDATE cases SET updated_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", (first,)
        )
    s = h.services
    counts = await privacy.purge(s.db, s.ids, s.settings.retention, COMMITTEE_CHAT)
    assert counts["cases"] == 1
    keys = await s.db.fetchall("SELECT 1 FROM case_keys WHERE case_id = ?", (first,))
    assert keys == []
    assert await flags_of(h, refs[SAME_PHONE]) == []
    assert await flags_of(h, refs[SAME_NAME]) == []


async def test_the_earlier_case_shows_the_flag_with_the_same_buttons(harness: Harness) -> None:
    h = harness
    first = await full_intake(h, FIRST, family("فاطمة", "0791234567"))
    second = await full_intake(h, SAME_NAME, family("فاطمه", "0781112233"))
    await h.say(MEMBER, "/start")
    await h.say(MEMBER, f"/case {second}")
    _, on_newer = h.find_button(MEMBER, r"^du:m:\d+$")
    newer_labels = {label for m in h.fake.messages(MEMBER) for label, _ in h.fake.buttons(m)}
    await h.say(MEMBER, f"/case {first}")
    assert f"Case {first}: possible duplicate of {second} (same name and area)" in h.newest(MEMBER)
    _, on_earlier = h.find_button(MEMBER, r"^du:m:\d+$")
    assert on_earlier == on_newer  # the same flag, whichever case shows it
    labels = {label for m in h.fake.messages(MEMBER) for label, _ in h.fake.buttons(m)}
    assert any(second in label for label in labels - newer_labels)  # Merge closes the newer
    await h.press(MEMBER, r"^du:n:\d+$")
    assert await flags_of(h, second) == [(first, "name_area", "dismissed")]
    await h.say(MEMBER, f"/case {first}")
    assert f"Not a duplicate of {second}" in h.newest(MEMBER)


async def test_cases_from_before_the_digests_are_matched_after_the_upgrade(
    harness: Harness,
) -> None:
    h = harness
    old = await full_intake(h, FIRST, family("أحمد علي", "0791234567"))
    other = await full_intake(h, STRANGER, family("محمد علي", "0771234568"))
    async with h.services.db.transaction() as conn:
        await conn.execute("DELETE FROM case_duplicates")
        await conn.execute("DELETE FROM case_keys")  # as before the digests existed
        await m023_duplicate_keys.upgrade(conn, h.services.ids.cipher, "2026-01-01")
    rows = await h.services.db.fetchall("SELECT case_id, kind FROM case_keys")
    assert len(rows) == 4
    assert await flags_of(h, other) == []  # the old cases are not flagged among themselves
    by_phone = await full_intake(h, SAME_PHONE, family("Huda Saleh", "٠٧٩١٢٣٤٥٦٧"))
    by_name = await full_intake(h, SAME_NAME, family("احمد على", "0781112233"))
    assert await flags_of(h, by_phone) == [(old, "phone", "open")]
    assert await flags_of(h, by_name) == [(old, "name_area", "open")]


def test_arabic_calls_a_case_a_request_as_the_rest_of_the_catalog() -> None:
    t = I18n("ar").get("ar")
    flag = repo.Flag(1, 2, "K7P-4RD", 1, "A2C-3DE", "phone", repo.OPEN)
    assert "الطلب" in flag_text(t, flag) and "قد يكون تكرارًا للطلب" in flag_text(t, flag)
    labels = [b.text for row in flag_keyboard(t, flag).inline_keyboard for b in row]
    assert labels == ["ليس تكرارًا", "دمج: إغلاق هذا الطلب"]
    merged = settled_text(t, replace(flag, state=repo.MERGED))
    assert "أُغلق الطلب" in merged and "الحالة" not in merged
    assert "ليس تكرارًا للطلب" in settled_text(t, replace(flag, state=repo.DISMISSED))
    assert t.raw("closed as a duplicate of another case") == "أُغلق لأنه تكرار لطلب آخر"
