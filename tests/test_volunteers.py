"""Volunteers register, see and edit their profile, pause, resume and leave."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.flows import act, approve_volunteer

VOLUNTEER = 1201
NAME = "Omar <i>Haddad</i>"

REGISTRATION = [
    ("say", NAME),
    ("say", "٠٧٩٥٥٥١٢٣٤"),
    ("press", r":skills:o:driving$"),
    ("press", r":skills:o:cooking$"),
    ("press", r":skills:d:$"),
    ("press", r":areas:o:north$"),
    ("press", r":areas:d:$"),
    ("press", r":languages:o:ar$"),
    ("press", r":languages:o:en$"),
    ("press", r":languages:d:$"),
    ("press", r":availability:o:weekends$"),
    ("press", r":availability:d:$"),
]


async def register(
    h: Harness, user: int = VOLUNTEER, lang: str = "en", *, approved: bool = True
) -> None:
    """Register through /volunteer; a member then approves the card (unless ``approved`` is
    False: the volunteer stays pending)."""
    h.languages[user] = lang
    await h.say(user, "/volunteer")
    await h.press(user, r"^vo:y$")
    for action in REGISTRATION:
        await act(h, user, action)
    await h.press(user, r":review:S:$")
    if approved:
        await approve_volunteer(h)


async def stored(h: Harness, user: int = VOLUNTEER) -> dict[str, object] | None:
    row = await h.services.db.fetchone(
        "SELECT * FROM volunteers WHERE user_id = ?", (h.services.ids.pid(user),)
    )
    return None if row is None else dict(zip(row.keys(), tuple(row), strict=True))


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_registration_saves_a_profile(harness: Harness, lang: str) -> None:
    h = harness
    await register(h, lang=lang)
    row = await stored(h)
    assert row is not None and row["status"] == "active"
    assert row["answers"] == (
        '{"skills": ["driving", "cooking"], "areas": ["north"], "languages": ["ar", "en"], '
        '"availability": ["weekends"]}'
    )
    assert b"Omar" not in row["personal"]  # type: ignore[operator]
    assert await h.services.intake.load(VOLUNTEER) is None
    calls = await h.say(VOLUNTEER, "/volunteer")
    profile = h.texts(calls)[0]
    assert "Omar &lt;i&gt;Haddad&lt;/i&gt;" in profile and "+962795551234" in profile


async def test_phone_is_optional(harness: Harness) -> None:
    h = harness
    await h.say(VOLUNTEER, "/volunteer")
    await h.press(VOLUNTEER, r"^vo:y$")
    await h.say(VOLUNTEER, "Omar")
    await h.press(VOLUNTEER, r":phone:s:$")
    draft = await h.services.intake.load(VOLUNTEER)
    assert draft is not None and draft.step == "skills" and draft.answers["phone"] is None


async def test_edit_pause_resume_and_leave(harness: Harness) -> None:
    h = harness
    await register(h)
    await h.say(VOLUNTEER, "/volunteer")
    await h.press(VOLUNTEER, r"^vo:e$")
    await h.press(VOLUNTEER, r":review:e:areas$")
    await h.press(VOLUNTEER, r":areas:o:south$")
    await h.press(VOLUNTEER, r":areas:d:$")
    await h.press(VOLUNTEER, r":review:S:$")
    row = await stored(h)
    assert row is not None and '"areas": ["north", "south"]' in str(row["answers"])

    await h.say(VOLUNTEER, "/volunteer")
    await h.press(VOLUNTEER, r"^vo:p$")
    assert (await stored(h) or {})["status"] == "paused"
    await h.say(VOLUNTEER, "/volunteer")
    await h.press(VOLUNTEER, r"^vo:r$")
    assert (await stored(h) or {})["status"] == "active"

    await h.say(VOLUNTEER, "/volunteer")
    await h.press(VOLUNTEER, r"^vo:l$")
    await h.press(VOLUNTEER, r"^vo:k$")
    assert await stored(h) is not None
    await h.say(VOLUNTEER, "/volunteer")
    await h.press(VOLUNTEER, r"^vo:l$")
    calls = await h.press(VOLUNTEER, r"^vo:L$")
    assert "deleted" in h.texts(calls)[-1]
    assert await stored(h) is None
    raw = b"".join(p.read_bytes() for p in h.services.settings.data_dir.glob("sanad.db*"))
    assert b"Omar" not in raw
    actions = [r["action"] for r in await h.services.db.fetchall("SELECT action FROM audit")]
    assert "volunteer_left" in actions


async def test_registration_while_an_application_is_unfinished(harness: Harness) -> None:
    h = harness
    await h.say(VOLUNTEER, "/apply")
    await h.press(VOLUNTEER, r"^ic:y$")
    calls = await h.say(VOLUNTEER, "/volunteer")
    assert "/cancel" in h.texts(calls)[0]


async def test_stale_volunteer_buttons(harness: Harness) -> None:
    h = harness
    for data in ("vo:e", "vo:p", "vo:L", "vo:zz"):
        calls = await h.press_data(VOLUNTEER, data)
        assert "no longer works" in h.alerts(calls)[0]
    assert await stored(h) is None


async def test_arabic_volunteer_screens_have_no_english(harness: Harness) -> None:
    import re

    from tests.test_i18n import ALLOWED_LATIN

    h = harness
    await register(h, lang="ar")
    for verb in ("p", "r", "l", "k"):
        await h.say(VOLUNTEER, "/volunteer")
        await h.press(VOLUNTEER, rf"^vo:{verb}$")
    screens = h.fake.texts(VOLUNTEER)
    screens += [text for call in h.fake.sent(VOLUNTEER) for text, _ in h.fake.buttons(call)]
    for screen in screens:
        cleaned = ALLOWED_LATIN.sub("", screen.replace("Omar &lt;i&gt;Haddad&lt;/i&gt;", ""))
        leftover = re.findall(r"[A-Za-z]{2,}", cleaned)
        assert not leftover, f"English on an Arabic screen: {leftover} in {screen[:80]!r}"


async def test_a_volunteer_menu_comes_with_registration_and_goes_with_leaving(
    harness: Harness,
) -> None:
    h = harness
    scope = {"type": "chat", "chat_id": VOLUNTEER}

    def names(lang: str = "") -> list[str]:
        return [c["command"] for c in h.fake.commands(scope, lang)]

    assert names() == []
    await register(h, lang="ar")
    for lang in ("", "ar", "en"):
        assert "tasks" in names(lang) and "mytasks" in names(lang), lang
        assert "apply" in names(lang) and "help" in names(lang)
    arabic = {c["command"]: c["description"] for c in h.fake.commands(scope, "")}
    assert arabic["mytasks"] != "My tasks"  # in the volunteer's language
    await h.say(VOLUNTEER, "/volunteer")
    await h.press(VOLUNTEER, r"^vo:l$")
    await h.press(VOLUNTEER, r"^vo:L$")
    assert names() == [] and names("ar") == []
