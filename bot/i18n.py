"""Languages: Babel catalogs per language, plural forms, dates and bidi isolation.

Each person gets a :class:`Translator` for their language; nothing is installed globally
(gettext ``install()`` would make the last language win for everyone). Source strings are
English msgids; placeholders are named and filled *after* translation, with every value
HTML-escaped unless it is wrapped in :class:`Markup` by code that built it safely.

Right-to-left languages are isolated by construction: the translator wraps in Unicode
isolates (FSI … PDI) every value it puts into the text and every command, reference and
Latin run the translation itself contains, so that no caller has to remember it. Without
them the bidi algorithm displays "أرسل /apply" as "apply/" and "/case K7P-4RD" as
"case K7P-4RD/". English output is left exactly as it is.
"""

from __future__ import annotations

import gettext
import html
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, localedata
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

# Unicode isolates: a Latin fragment inside right-to-left text keeps its own order.
FSI, PDI = "\u2068", "\u2069"

# What the isolation of a translation leaves as it is: HTML tags and entities (messages are
# sent in Telegram's HTML mode) and text that is isolated already.
_OPAQUE = re.compile(r"<[^>]*>|&#?\w+;|\u2068[^\u2068\u2069]*\u2069")
# A left-to-right run inside a translation: commands, references, Latin words, dates and times
# written as examples, and the placeholders between them ("/case {ref}" stays one run, so the
# command and its argument are displayed together, in that order).
_WORD = r"(?:/[A-Za-z_]+|[A-Za-z0-9](?:[A-Za-z0-9_\-.:/]*[A-Za-z0-9])?|\{[^{}]*\})"
_RUN = re.compile(rf"{_WORD}(?: {_WORD})*")
# A run that reads the same in both directions needs no isolate: placeholders (their values
# are isolated when they are filled) and plain numbers.
_NEUTRAL_RUN = re.compile(r"(?:\{[^{}]*\}|[0-9]+)(?: (?:\{[^{}]*\}|[0-9]+))*")
# A value that is only a number (a count, an amount) reads the same in both directions.
_NUMBER = re.compile(r"[0-9٠-٩]+(?:[.,٫٬][0-9٠-٩]+)*")
_TAG = re.compile(r"<[^>]*>")
_ISOLATED = re.compile("\u2068[^\u2068\u2069]*\u2069")


def N_(message: str) -> str:
    """Mark a module-level string for extraction without translating it yet."""
    return message


class Markup(str):
    """A string already safe to put into an HTML message as it is."""

    __slots__ = ()


def escape(value: object) -> str:
    """HTML-escape ``value`` for Telegram, unless it is already :class:`Markup`."""
    if isinstance(value, Markup):
        return value
    return html.escape(str(value), quote=False)


def _isolate_runs(text: str) -> str:
    """``text`` with each left-to-right run wrapped in isolates, outside tags and entities."""
    pieces: list[str] = []
    start = 0
    for opaque in _OPAQUE.finditer(text):
        pieces.append(_RUN.sub(_wrap_run, text[start : opaque.start()]))
        pieces.append(opaque.group())
        start = opaque.end()
    pieces.append(_RUN.sub(_wrap_run, text[start:]))
    return "".join(pieces)


def _wrap_run(match: re.Match[str]) -> str:
    run = match.group()
    return run if _NEUTRAL_RUN.fullmatch(run) else f"{FSI}{run}{PDI}"


def _needs_isolate(text: str) -> bool:
    """Whether a value must be isolated: not when it is one number (a count reads the same
    both ways) nor when all it shows is isolated already (an isolated reference, a list of
    them joined by commas), so that nothing is isolated twice."""
    if _NUMBER.fullmatch(text):
        return False
    outside = _TAG.sub("", text)
    while True:
        inner = _ISOLATED.sub("", outside)
        if inner == outside:
            break
        outside = inner
    if not any(char.isalnum() for char in outside):
        return False
    # Right-to-left words with no left-to-right letter (a weekday, «ساعتان», «6:30 م») are
    # displayed in order as they are; anything else (Latin, a phone's groups of digits) is not.
    kinds = {unicodedata.bidirectional(char) for char in outside}
    return "L" in kinds or not kinds & {"AL", "R"}


def _isolate_value(value: object) -> str:
    """An escaped value, each of its lines isolated (an isolate ends with its line anyway)."""
    text = escape(value)
    if isinstance(value, int) or not _needs_isolate(text):
        return text
    return "\n".join(f"{FSI}{line}{PDI}" if line else line for line in text.split("\n"))


def available_languages(locales_dir: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The languages that have a catalog, sorted."""
    return tuple(
        sorted(p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    )


@cache
def _load(lang: str, locales_dir: Path) -> gettext.GNUTranslations:
    """The compiled catalog, compiled in memory when the .mo is missing or older than the .po."""
    po_path = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Everything a message needs to speak one language."""

    lang: str
    translations: gettext.GNUTranslations
    locale: Locale
    # Translations with nothing to fill, by message: the catalog does not change while the
    # bot runs, and an export asks for the same option labels for every case.
    _raw: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def rtl(self) -> bool:
        """Whether the language is written right to left."""
        return self.locale.character_order == "right-to-left"

    def __call__(self, message: str, **values: Any) -> str:
        """Translate ``message`` and fill its named placeholders with escaped values."""
        return self._fill(self.translations.gettext(message), values)

    def pgettext(self, context: str, message: str, **values: Any) -> str:
        """Like calling the translator, for a msgid that needs ``context`` to be translated.

        One English text may need two translations: "No, keep it" is "لا، احتفظ به" for an
        application and "لا، احتفظ بها" for personal data.
        """
        return self._fill(self.translations.pgettext(context, message), values)

    def plural(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """Translate with the language's plural rule; ``{n}`` is the formatted count."""
        text = self.translations.ngettext(singular, plural, n)
        return self._fill(text, values, n=self.number(n))

    def raw(self, message: str) -> str:
        """The translation with no placeholder filled (for button labels and plain text)."""
        found = self._raw.get(message)
        if found is None:
            found = self._raw[message] = self._fill(self.translations.gettext(message), {})
        return found

    def _fill(self, text: str, values: Mapping[str, Any], **numbers: str) -> str:
        """The translation ``text`` with its placeholders filled by escaped ``values``.

        In a right-to-left language every value is isolated (unless it is a number, or
        isolated already), and so is every left-to-right run of the translation itself: a
        command, a reference, a Latin word, a date written as an example. Telegram still
        recognises ``/apply`` inside an isolate as a command a person can tap: its entity
        parser takes a bot command after any character that is not a letter, a digit or
        ``_`` (U+2068 is none of them), and the command ends at U+2069 the same way.
        """
        if not self.rtl:
            if not values and not numbers:
                return text
            return text.format(**numbers, **{k: escape(v) for k, v in values.items()})
        text = _isolate_runs(text)
        if not values and not numbers:
            return text
        return text.format(**numbers, **{k: _isolate_value(v) for k, v in values.items()})

    def isolate(self, fragment: object) -> Markup:
        """An escaped fragment, wrapped in Unicode isolates inside right-to-left text."""
        text = escape(fragment)
        return Markup(f"{FSI}{text}{PDI}" if self.rtl else text)

    def number(self, n: int) -> str:
        """A number written the language's way."""
        return format_decimal(n, locale=self.locale)

    def datetime(self, moment: datetime, tz: ZoneInfo) -> str:
        """A date with its weekday and a time, in the organisation's time zone.

        "Tuesday, December 1, 2026, 10:00 AM"; in Jordan «الثلاثاء، 1 كانون الأول 2026، 10:00 ص».
        """
        local = moment.astimezone(tz)
        pattern = str(self.locale.datetime_formats["full"])
        time = format_time(local, format="short", locale=self.locale)
        return pattern.replace("{1}", self.date(local.date())).replace("{0}", time)

    def date(self, day: date) -> str:
        """A date with its weekday, the one long form used everywhere (no 01/12 to puzzle
        over: day or month first?), with the month names of the region: «كانون الأول» in
        Jordan, «ديسمبر» in Egypt."""
        return format_date(day, format="full", locale=self.locale)

    def language_name(self, code: str) -> str:
        """A language's name in this language (``ar`` → Arabic, or العربية in Arabic)."""
        try:
            return Locale.parse(code).get_display_name(self.locale) or code
        except (ValueError, TypeError):
            return code

    @property
    def separator(self) -> str:
        """What separates the items of a list in the language: the Arabic comma in Arabic."""
        return "، " if self.lang == "ar" else ", "

    def join(self, items: Iterable[str]) -> str:
        """A list of already-translated items, joined the language's way."""
        return self.separator.join(items)


def formatting_locale(lang: str, locale: str | None = None, region: str | None = None) -> Locale:
    """The locale that writes dates and numbers for the catalog ``lang``.

    ``locale`` (the ``LOCALE`` setting, e.g. ``ar_JO``) wins for its own language; otherwise
    its country, or else ``region`` (``PHONE_REGION``), gives the regional variant of ``lang``
    when Babel has one (ar + JO → ar_JO, whose months are «كانون الثاني، شباط…»; en + JO has
    none, so plain en). The catalog stays the language's own: only formatting changes.
    """
    territory = region
    if locale:
        chosen = Locale.parse(locale)
        if chosen.language == lang:
            return chosen
        territory = chosen.territory or region
    if territory and localedata.exists(f"{lang}_{territory.upper()}"):
        return Locale.parse(f"{lang}_{territory.upper()}")
    return Locale.parse(lang)


class I18n:
    """The catalogs available to the bot, and a translator for each."""

    def __init__(
        self,
        default_language: str,
        locales_dir: Path = LOCALES_DIR,
        *,
        locale: str | None = None,
        region: str | None = None,
    ) -> None:
        self.locales_dir = locales_dir
        self.languages = available_languages(locales_dir)
        self.default = default_language if default_language in self.languages else "en"
        self._translators = {lang: self._build(lang, locale, region) for lang in self.languages}

    def _build(self, lang: str, locale: str | None, region: str | None) -> Translator:
        return Translator(
            lang, _load(lang, self.locales_dir), formatting_locale(lang, locale, region)
        )

    def get(self, lang: str | None) -> Translator:
        """The translator for ``lang``, or for the default language."""
        return self._translators.get(lang or "", self._translators[self.default])

    def match(self, language_code: str | None) -> str | None:
        """The available language matching a Telegram ``language_code`` such as ``ar-JO``."""
        if not language_code:
            return None
        base = language_code.replace("_", "-").split("-")[0].lower()
        return base if base in self.languages else None

    def native_name(self, lang: str) -> str:
        """The language's name written in that language, e.g. ``العربية``."""
        name = Locale.parse(lang).get_display_name(lang) or lang
        return name[:1].upper() + name[1:]
