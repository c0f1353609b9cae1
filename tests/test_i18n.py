"""Languages: complete catalogs, Arabic plurals, dates, isolation, no English on Arabic screens."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from bot.config import ConfigError, load_settings
from bot.forms import load_form
from bot.i18n import (
    FSI,
    LOCALES_DIR,
    PDI,
    I18n,
    Markup,
    available_languages,
    formatting_locale,
)
from bot.render import household
from tests.conftest import COMMITTEE_CHAT, Harness
from tests.flows import Answers, full_intake

FAMILY = 606


def catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_ar_and_en_are_available() -> None:
    assert available_languages() == ("ar", "en")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_catalog_is_complete_and_consistent(lang: str) -> None:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    translated = catalog(lang)
    expected = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in translated if m.id}
    assert expected <= have, f"run `make catalogs`: missing {sorted(expected - have)[:5]}"
    for message in translated:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            assert len(message.string) == translated.num_plurals
            wanted = placeholders(message.id[1]) - {"n"}
            for form in message.string:
                assert form, f"{lang}: untranslated plural {message.id[0]!r}"
                assert wanted <= placeholders(form) <= wanted | {"n"}, message.id[0]
        else:
            assert message.string, f"{lang}: untranslated {message.id!r}"
            assert placeholders(message.string) == placeholders(message.id), message.id
        assert "fuzzy" not in message.flags


def test_every_form_text_is_translated() -> None:
    arabic = I18n("ar").get("ar")
    for text in [*load_form().texts(), *load_form("volunteer").texts()]:
        assert arabic.raw(text) != text, text


def test_arabic_has_six_plural_forms_used_for_counts() -> None:
    assert catalog("ar").num_plurals == 6
    t = I18n("ar").get("ar")
    forms = {n: t.plural("{n} person", "{n} people", n) for n in (0, 1, 2, 3, 11, 100)}
    assert len(set(forms.values())) == 6, forms
    assert forms[1] == "شخص واحد" and forms[2] == "شخصان"
    assert forms[3] == "3 أشخاص" and forms[11] == "11 شخصًا" and forms[100] == "100 شخص"
    english = I18n("ar").get("en")
    assert english.plural("{n} person", "{n} people", 1) == "1 person"
    assert english.plural("{n} person", "{n} people", 11) == "11 people"


def test_arabic_counts_from_eleven_take_the_accusative() -> None:
    """Babel numbers the Arabic forms zero, one, two, few (3–10), then 100–102 as [4] and
    11–99 as [5]: the counted noun is accusative with tanween («11 يومًا») in [5], genitive
    without it («100 يوم») in [4]. A translation written the other way round has more tanween
    in [4] than in [5]."""
    tanween = "\u064b"
    t = I18n("ar").get("ar")
    assert t.plural("{n} day", "{n} days", 11).endswith("يومًا")
    assert t.plural("{n} day", "{n} days", 100).endswith("يوم")
    swapped = [
        m.id[0]
        for m in catalog("ar")
        if isinstance(m.id, tuple) and m.string[4].count(tanween) > m.string[5].count(tanween)
    ]
    assert swapped == []


def test_household_line_uses_plurals_in_both_languages() -> None:
    i18n = I18n("ar")
    assert household(i18n.get("en"), {"household_size": 1, "children": 0}) == (
        "1 person, no children"
    )
    arabic = household(i18n.get("ar"), {"household_size": 2, "children": 1})
    assert arabic is not None and "شخصان" in arabic and "طفل واحد" in arabic


def test_dates_through_babel_in_the_org_time_zone() -> None:
    """One long form with the weekday, for dates and for dates with a time."""
    moment = datetime(2026, 3, 5, 21, 30, tzinfo=UTC)
    tz = ZoneInfo("Asia/Amman")
    i18n = I18n("ar")
    assert i18n.get("en").datetime(moment, tz) == "Friday, March 6, 2026, 12:30\u202fAM"
    assert i18n.get("en").date(date(2026, 12, 1)) == "Tuesday, December 1, 2026"
    arabic = i18n.get("ar").datetime(moment, tz)
    assert arabic == "الجمعة، 6 مارس 2026، 12:30 ص"
    assert "/" not in i18n.get("ar").date(date(2026, 12, 1))


def test_regional_month_names_from_the_phone_region_or_the_locale() -> None:
    jordan = I18n("ar", region="JO")
    assert jordan.get("ar").date(date(2026, 12, 1)) == "الثلاثاء، 1 كانون الأول 2026"
    assert jordan.get("ar").lang == "ar"  # the catalog stays Arabic's own
    assert jordan.get("en").date(date(2026, 12, 1)) == "Tuesday, December 1, 2026"  # no en_JO
    assert formatting_locale("ar", region="MA") == Locale.parse("ar_MA")
    assert formatting_locale("ar", "ar_JO", "EG") == Locale.parse("ar_JO")  # LOCALE wins
    assert formatting_locale("en", "ar_JO") == Locale.parse("en")
    assert formatting_locale("en", "en_GB", "JO") == Locale.parse("en_GB")
    british = I18n("ar", locale="en_GB").get("en")
    assert british.date(date(2026, 12, 1)) == "Tuesday, 1 December 2026"


def test_the_locale_setting_is_validated_with_babel() -> None:
    base = {"BOT_TOKEN": "123:abc"}
    assert load_settings(base, env_file=None).locale is None
    assert load_settings({**base, "LOCALE": "ar-JO"}, env_file=None).locale == "ar_JO"
    with pytest.raises(ConfigError) as failure:
        load_settings({**base, "LOCALE": "klingon"}, env_file=None)
    assert failure.value.problems == [
        "LOCALE must be a locale Babel knows, such as ar_JO or en_GB."
    ]


def test_latin_fragments_are_isolated_in_arabic_only() -> None:
    i18n = I18n("ar")
    assert i18n.get("ar").isolate("K7P-4RD") == f"{FSI}K7P-4RD{PDI}"
    assert i18n.get("en").isolate("K7P-4RD") == "K7P-4RD"
    assert i18n.get("ar").isolate("<b>") == f"{FSI}&lt;b&gt;{PDI}"


def test_values_and_latin_runs_are_isolated_by_construction() -> None:
    t = I18n("ar").get("ar")
    assert t("Send /case {ref} to receive it.", ref="K7P-4RD") == (
        f"لاستلامها أرسل {FSI}/case {FSI}K7P-4RD{PDI}{PDI}."
    )
    # An isolated value is not isolated again; a bold one neither.
    ref = Markup(f"<b>{t.isolate('K7P-4RD')}</b>")
    assert t("Case {ref}", ref=ref) == f"الطلب <b>{FSI}K7P-4RD{PDI}</b>"
    # A name, escaped then isolated; a count is left as it is.
    assert t("{name}: task {ref} ({title}) was done.", name="A&B", ref="TK7P4R", title="x") == (
        f"{FSI}A&amp;B{PDI}: أُنجزت المهمة {FSI}TK7P4R{PDI} ({FSI}x{PDI})."
    )
    assert t.plural("{n} person", "{n} people", 3) == "3 أشخاص"
    assert t.raw("/tasks and /mytasks: tasks for volunteers") == (
        f"مهام المتطوعين: {FSI}/tasks{PDI} و {FSI}/mytasks{PDI}"
    )


def test_isolation_never_enters_tags_or_entities() -> None:
    t = I18n("ar").get("ar")
    text = t._fill('<a href="https://x.org/apply">أرسل /apply &amp; CSV</a>', {})
    assert text == f'<a href="https://x.org/apply">أرسل {FSI}/apply{PDI} &amp; {FSI}CSV{PDI}</a>'


def test_english_is_never_isolated() -> None:
    t = I18n("ar").get("en")
    assert (
        t("Send /case {ref} to receive it.", ref="K7P-4RD") == "Send /case K7P-4RD to receive it."
    )
    assert t.raw("« Back") == "« Back"
    assert t.pgettext("task", "No, keep it") == "No, keep it"


def test_one_english_text_two_arabic_ones_by_context() -> None:
    t = I18n("ar").get("ar")
    assert t.raw("No, keep it") == "لا، احتفظ به"  # an application, a volunteer profile
    assert t.pgettext("personal data", "No, keep it") == "لا، احتفظ بها"
    assert t.pgettext("task", "No, keep it") == "لا، أبقِها"
    assert t.raw("✖️ Decline") == "✖️ رفض"  # the committee's card
    assert t.pgettext("task offer", "✖️ Decline") == "✖️ أعتذر"  # the volunteer's answer


def test_arabic_catalog_reviewed() -> None:
    """Status and case are different words; one tanween spelling; zero forms are sentences."""
    t = I18n("ar").get("ar")
    assert t.raw("Status") != t.raw("Case {ref}").split()[0]
    entries = [m for m in catalog("ar") if m.id]
    texts = [s for m in entries for s in ([m.string] if isinstance(m.id, str) else m.string)]
    assert not [s for s in texts if re.search(r"اً", s)], "write tanween «ًا»"
    for word in ("رب الأسرة", "بما فيهم", "القناة السرية", "المهمة مكتملة", "كمتطوع"):
        assert not [s for s in texts if word in s], word
    for message in entries:
        if not isinstance(message.id, str):
            assert "{n}" not in message.string[0] and "0" not in message.string[0], message.id
    assert not catalog("ar").obsolete


def test_language_codes_are_matched() -> None:
    i18n = I18n("ar")
    assert i18n.match("ar-SA") == "ar" and i18n.match("en_US") == "en"
    assert i18n.match("fr") is None and i18n.match(None) is None
    assert i18n.get("fr").lang == "ar"  # unknown: the default language
    assert i18n.native_name("ar") == "العربية" and i18n.native_name("en") == "English"


ARABIC_FAMILY = Answers(
    name="فاطمة الزهراء",
    phone="٠٧٩١٢٣٤٥٦٧",
    area="جبل الحسين",
    other="احترق بيتنا في الشتاء",
    story="توفي زوجي ولا أستطيع العمل بسبب مرضي",
)
# Latin that may appear on an Arabic screen: commands, case references, the phone number.
ALLOWED_LATIN = re.compile(r"/[a-z_]+|[A-Z0-9]{3}-[A-Z0-9]{3}|\+\d+|K7P-4RD|<[^>]+>|&[a-z]+;")


async def test_no_english_left_on_arabic_screens(harness: Harness) -> None:
    h = harness
    h.languages[FAMILY] = "ar"
    await h.say(FAMILY, "/start")
    await h.say(FAMILY, "/help")
    await h.say(FAMILY, "/status")
    await h.say(FAMILY, "/cancel")
    await h.say(FAMILY, "/language")
    await full_intake(h, FAMILY, ARABIC_FAMILY)
    await h.say(FAMILY, "/status")
    await h.say(FAMILY, "/apply")
    screens = h.fake.texts(FAMILY) + h.fake.texts(COMMITTEE_CHAT)
    labels = [text for call in h.fake.sent(FAMILY) for text, _ in h.fake.buttons(call)]
    alerts = [
        str(c.params.get("text", "")) for c in h.fake.calls if c.method == "answerCallbackQuery"
    ]
    for screen in screens + labels + alerts:
        leftover = re.findall(r"[A-Za-z]{2,}", ALLOWED_LATIN.sub("", screen))
        leftover = [w for w in leftover if w != "English"]  # the language button's own name
        assert not leftover, f"English on an Arabic screen: {leftover} in {screen[:80]!r}"


def test_template_is_up_to_date_with_the_code(tmp_path: object) -> None:
    """Every string in the code and the forms is in messages.pot (run `make catalogs`)."""
    import subprocess
    import sys
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    root = LOCALES_DIR.parent
    out = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "t",
            "-k",
            "raw",
            "-k",
            "N_",
            "-k",
            "plural:1,2",
            "-k",
            "pgettext:1c,2",
            "--no-default-keywords",
            "-o",
            str(out),
            ".",
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )
    with out.open("rb") as handle:
        fresh = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle)}
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        shipped = {
            (m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle)
        }
    assert fresh == shipped, f"run `make catalogs`: new {sorted(fresh - shipped)[:5]}"


async def test_no_english_on_arabic_committee_screens(harness: Harness) -> None:
    from tests.conftest import MEMBER

    h = harness
    h.languages[FAMILY] = "ar"
    h.languages[MEMBER] = "ar"
    ref = await full_intake(h, FAMILY, ARABIC_FAMILY)
    await h.say(MEMBER, "/start")
    await h.say(MEMBER, "/help")
    await h.press(MEMBER, rf"^cv:take:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, rf"^cv:ask:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(MEMBER, "ما اسم المستشفى؟")
    await h.press(FAMILY, r"^fa:\d+$")
    await h.say(FAMILY, "مستشفى البشير")
    await h.press(MEMBER, rf"^cv:approve:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.press(MEMBER, r"^rv:sd:$")
    await h.press(MEMBER, r"^rv:p:3$")
    await h.say(MEMBER, "سنتصل بكم يوم الأحد")
    await h.press(MEMBER, r"^rv:ok:$")
    await h.say(MEMBER, "/cases")
    await h.say(MEMBER, f"/case {ref}")
    await h.say(MEMBER, f"/audit {ref}")
    await h.say(MEMBER, "/stats")
    await h.say(MEMBER, "/export")
    screens = h.fake.texts(MEMBER) + h.fake.texts(FAMILY) + h.fake.texts(COMMITTEE_CHAT)
    labels = [
        text
        for chat in (MEMBER, FAMILY, COMMITTEE_CHAT)
        for call in h.fake.sent(chat)
        for text, _ in h.fake.buttons(call)
    ]
    alerts = [
        str(c.params.get("text", "")) for c in h.fake.calls if c.method == "answerCallbackQuery"
    ]
    for screen in screens + labels + alerts:
        cleaned = ALLOWED_LATIN.sub("", screen).replace("CSV", "").replace("Test", "")
        leftover = [w for w in re.findall(r"[A-Za-z]{2,}", cleaned) if w != "English"]
        assert not leftover, f"English on an Arabic screen: {leftover} in {screen[:80]!r}"
