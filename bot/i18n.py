"""Languages: Babel catalogs per language, plural forms, dates and bidi isolation.

Each person gets a :class:`Translator` for their language; nothing is installed globally
(gettext ``install()`` would make the last language win for everyone). Source strings are
English msgids; placeholders are named and filled *after* translation, with every value
HTML-escaped unless it is wrapped in :class:`Markup` by code that built it safely.
"""

from __future__ import annotations

import gettext
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

# Unicode isolates: a Latin fragment inside right-to-left text keeps its own order.
FSI, PDI = "\u2068", "\u2069"


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

    @property
    def rtl(self) -> bool:
        """Whether the language is written right to left."""
        return self.locale.character_order == "right-to-left"

    def __call__(self, message: str, **values: Any) -> str:
        """Translate ``message`` and fill its named placeholders with escaped values."""
        text = self.translations.gettext(message)
        return text.format(**{k: escape(v) for k, v in values.items()}) if values else text

    def plural(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """Translate with the language's plural rule; ``{n}`` is the formatted count."""
        text = self.translations.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **{k: escape(v) for k, v in values.items()})

    def raw(self, message: str) -> str:
        """The translation with no placeholder filled (for button labels and plain text)."""
        return self.translations.gettext(message)

    def isolate(self, fragment: object) -> Markup:
        """An escaped fragment, wrapped in Unicode isolates inside right-to-left text."""
        text = escape(fragment)
        return Markup(f"{FSI}{text}{PDI}" if self.rtl else text)

    def number(self, n: int) -> str:
        """A number written the language's way."""
        return format_decimal(n, locale=self.locale)

    def datetime(self, moment: datetime, tz: ZoneInfo) -> str:
        """A date and time in the organisation's time zone, written the language's way."""
        local = moment.astimezone(tz)
        pattern = str(self.locale.datetime_formats["medium"])
        date = format_date(local, format="medium", locale=self.locale)
        time = format_time(local, format="short", locale=self.locale)
        return pattern.replace("{1}", date).replace("{0}", time)

    def date(self, day: date) -> str:
        """A date written the language's way (e.g. 5 March 2026)."""
        return format_date(day, format="long", locale=self.locale)

    def language_name(self, code: str) -> str:
        """A language's name in this language (``ar`` → Arabic, or العربية in Arabic)."""
        try:
            return Locale.parse(code).get_display_name(self.locale) or code
        except (ValueError, TypeError):
            return code

    def join(self, items: Iterable[str]) -> str:
        """A list of already-translated items, joined the language's way."""
        separator = "، " if self.lang == "ar" else ", "
        return separator.join(items)


class I18n:
    """The catalogs available to the bot, and a translator for each."""

    def __init__(self, default_language: str, locales_dir: Path = LOCALES_DIR) -> None:
        self.locales_dir = locales_dir
        self.languages = available_languages(locales_dir)
        self.default = default_language if default_language in self.languages else "en"
        self._translators = {lang: self._build(lang) for lang in self.languages}

    def _build(self, lang: str) -> Translator:
        return Translator(lang, _load(lang, self.locales_dir), Locale.parse(lang))

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
