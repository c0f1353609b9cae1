"""Right to left, verified: every Arabic entry displayed through the Unicode bidi algorithm.

Each entry of the Arabic catalog (its singular, or each of its six plural forms) is filled
with realistic values, as the bot fills it, then laid out line by line by python-bidi (the
Rust ``unicode-bidi`` implementation of UAX #9, isolates included), with the mirrored
characters of right-to-left runs mirrored as a screen does (rule L4). On the screen, every
command with its argument, every reference and every Latin run must read whole and left to
right, and the arrows of the buttons must point the way the text runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from string import Formatter
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from bidi import get_display  # type: ignore[import-untyped]
from bidi.mirror import MIRRORED  # type: ignore[import-untyped]

from bot.i18n import FSI, LOCALES_DIR, PDI, I18n, Markup, Translator

CASE_REF, TASK_REF, VOLUNTEER_REF = "K7P-4RD", "TK7P4R", "V-K7P4RD"
TITLE = "Drive a family to the hospital"
# One n for each of Arabic's six plural forms: zero, one, two, few (3-10), many (11-99), other.
COUNTS = (0, 1, 2, 3, 11, 100)

REFERENCE = r"(?:[A-Z0-9]{3}-[A-Z0-9]{3}|T[A-Z0-9]{5}|V-[A-Z0-9]{6})"
# What must read whole, left to right, on an Arabic screen.
WHOLE = re.compile(
    rf"/[a-z_]+(?: {REFERENCE}| REF)?"  # a command, with the reference it takes
    rf"|{REFERENCE}"
    r"|[A-Za-z][A-Za-z0-9]*(?:[ -][A-Za-z0-9]+)*"  # a Latin run: a name, a title, CSV
    r"|\d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2})?|\d{1,2}:\d{2}"  # a date or a time as an example
    r"|\+\d[\d ]*\d"  # a phone number
)
PHONE = "+962 6 555 0100"


def arabic_catalog() -> list[Message]:
    with (LOCALES_DIR / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return [m for m in read_po(handle, locale="ar") if m.id]


def ref_for(msgid: str) -> str:
    """The kind of reference an entry speaks of."""
    if re.search(r"\btask\b", msgid, re.IGNORECASE):
        return TASK_REF
    if re.search(r"\bvolunteer\b", msgid, re.IGNORECASE):
        return VOLUNTEER_REF
    return CASE_REF


def values_for(t: Translator, msgid: str, translation: str) -> dict[str, object]:
    """Realistic values for every placeholder, built the way the bot builds them; a Latin
    word for a placeholder this test does not know yet."""
    names = {name for _, name, _, _ in Formatter().parse(msgid + translation) if name}
    known = known_values(t, msgid)
    return {name: known.get(name, "Sanad") for name in names | set(known)}


def known_values(t: Translator, msgid: str) -> dict[str, object]:
    tz = ZoneInfo("Asia/Amman")
    moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    return {
        "ref": t.isolate(ref_for(msgid)) if "{ref}" in msgid else ref_for(msgid),
        "refs": Markup(t.join(t.isolate(r) for r in (CASE_REF, "W7Y-HUA"))),
        "name": "Fatima",
        "title": TITLE,
        "date": t.datetime(moment, tz),
        "status": t.raw("In review"),
        "support": t.join([t.raw("Financial support"), t.raw("Moral support")]),
        "answer": "Fatima Ahmad",
        "question": t.raw("Phone"),
        "people": t.plural("{n} person", "{n} people", 5),
        "children": t.plural("{n} child", "{n} children", 3),
        "situation": t.raw("Orphans without support"),
        "event": t.raw("approved"),
        "who": "Fatima",
        "example": "0791234567",
        "phone": PHONE,
        "hours": "9:00-15:00",
        "id": 12,
        "days": 4,
        "n": 3,
        "low": 1,
        "high": 20,
        "total": 40,
        "sent": 12,
        "blocked": 1,
        "failed": 0,
        "accepted": 2,
        "waiting": 1,
        "declined": 3,
    }


def screens() -> Iterator[tuple[str, str]]:
    """``(what, text)`` for every Arabic entry and plural form, as the bot would send it."""
    t = I18n("ar").get("ar")
    for message in arabic_catalog():
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        english = msgid if isinstance(message.id, str) else message.id[1]
        forms = [message.string] if isinstance(message.string, str) else message.string or ()
        values = values_for(t, english, "".join(str(form) for form in forms))
        if isinstance(message.id, str):
            if message.context:
                yield msgid, t.pgettext(message.context, msgid, **values)
            else:
                yield msgid, t(msgid, **values)
            continue
        values.pop("n", None)
        for n in COUNTS:
            yield f"{msgid} [n={n}]", t.plural(message.id[0], message.id[1], n, **values)


def levels(line: str) -> list[int]:
    """The embedding level of each character of ``line`` (python-bidi counts in bytes)."""
    dump = str(get_display(line, debug=True))
    block = dump[dump.index("levels: [") : dump.index("paragraphs: [")]
    by_byte = [int(level) for level in re.findall(r"Level\(\s*(\d+),\s*\)", block)]
    offsets, at = [], 0
    for char in line:
        offsets.append(at)
        at += len(char.encode())
    return [by_byte[offset] for offset in offsets]


def display(line: str) -> str:
    """``line`` as a screen shows it, left to right, with the direction found from its text."""
    mirrored = "".join(
        MIRRORED.get(char, char) if level % 2 else char
        for char, level in zip(line, levels(line), strict=True)
    )
    return str(get_display(mirrored)).replace(FSI, "").replace(PDI, "")


def visible(text: str) -> str:
    """What Telegram shows of an HTML message: no tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", text))


SCREENS = list(screens())


def test_every_arabic_form_is_rendered() -> None:
    plurals = sum(1 for m in arabic_catalog() if not isinstance(m.id, str))
    assert plurals and len(SCREENS) == len(arabic_catalog()) + plurals * (len(COUNTS) - 1)


@pytest.mark.parametrize(("what", "text"), SCREENS, ids=[w[:50] for w, _ in SCREENS])
def test_latin_reads_whole_and_left_to_right(what: str, text: str) -> None:
    for line in visible(text).split("\n"):
        shown = display(line)
        for token in WHOLE.findall(line.replace(FSI, "").replace(PDI, "")):
            assert token in shown, f"{token!r} is displayed as {shown!r}"


@pytest.mark.parametrize(("what", "text"), SCREENS, ids=[w[:50] for w, _ in SCREENS])
def test_isolates_are_balanced_outside_tags_and_never_doubled(what: str, text: str) -> None:
    assert not any(FSI in tag or PDI in tag for tag in re.findall(r"<[^>]*>", text))
    assert not re.search(r"&[^;\s]*[\u2068\u2069]", text), "an entity was cut"
    assert FSI * 2 not in text and PDI * 2 + PDI not in text
    for line in text.split("\n"):
        depth = 0
        for char in line:
            depth += (char == FSI) - (char == PDI)
            assert depth >= 0, line
        assert depth == 0, line


@pytest.mark.parametrize(("what", "text"), SCREENS, ids=[w[:50] for w, _ in SCREENS])
def test_commands_stay_tappable(what: str, text: str) -> None:
    """Telegram makes a command of "/word" after any character that is not a word's."""
    for found in re.finditer(r"/[a-z_]+", text):
        before = text[found.start() - 1] if found.start() else " "
        assert not (before.isalnum() or before == "_"), f"{found.group()} in {text!r}"


ARROWS = [
    (message.id, message.string)
    for message in arabic_catalog()
    if isinstance(message.id, str) and (message.id.startswith("« ") or message.id.endswith(" »"))
]


def test_there_are_arrow_buttons() -> None:
    assert {"« Back", "Done »", "« Previous", "Next »"} <= {msgid for msgid, _ in ARROWS}


@pytest.mark.parametrize(("msgid", "label"), ARROWS)
def test_arrows_point_the_way_the_text_runs(msgid: str, label: str) -> None:
    """Forward points where the reading goes (left in Arabic), back where it came from."""
    shown = display(I18n("ar").get("ar").raw(msgid))
    if msgid.endswith(" »"):
        assert shown.startswith("« "), f"{msgid!r} is displayed as {shown!r}"
    else:
        assert shown.endswith(" »"), f"{msgid!r} is displayed as {shown!r}"
    english = I18n("ar").get("en").raw(msgid)
    assert display(english) == english  # and in English, exactly as written


def test_english_is_left_exactly_as_written() -> None:
    english = I18n("ar").get("en")
    assert english("Send /case {ref} to receive it.", ref="K7P-4RD") == (
        "Send /case K7P-4RD to receive it."
    )
    assert FSI not in english(
        "{name}: task {ref} ({title}) was done.", name="F", ref="T", title="x"
    )


def test_the_long_date_with_its_weekday_reads_right_to_left() -> None:
    t = I18n("ar", region="JO").get("ar")
    shown = display(t.date(date(2026, 12, 1)))
    assert shown == display("الثلاثاء، 1 كانون الأول 2026")
