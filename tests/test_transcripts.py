"""``make transcripts`` walks every flow in every language and writes one readable page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from bot.i18n import available_languages
from tests.transcripts import FLOWS, main


class Sections(HTMLParser):
    """The sections of the page: their attributes and the classes of what they hold."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict[str, str | None]] = {}
        self.inside: dict[str, list[str]] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note each section and the classes of the elements inside it."""
        values = dict(attrs)
        if tag == "section":
            self._current = str(values.get("id"))
            self.sections[self._current] = values
            self.inside[self._current] = []
        elif self._current is not None:
            self.inside[self._current].extend(str(values.get("class") or "").split())

    def handle_endtag(self, tag: str) -> None:
        """Leave the section."""
        if tag == "section":
            self._current = None


def test_every_flow_in_every_language_has_its_section(tmp_path: Path) -> None:
    out = tmp_path / "transcripts.html"
    assert main(["--out", str(out)]) == 0
    page = Sections()
    page.feed(out.read_text(encoding="utf-8"))
    languages = available_languages()
    assert "ar" in languages
    expected = {f"{flow}-{lang}" for flow, _, _ in FLOWS for lang in languages}
    assert set(page.sections) == expected
    for name, attrs in page.sections.items():
        lang = name.rsplit("-", 1)[1]
        assert attrs["lang"] == lang
        assert attrs["dir"] == ("rtl" if lang == "ar" else "ltr")
        classes = page.inside[name]
        assert "bot" in classes, f"{name}: the bot said nothing"
    # The intake shows the mistakes' answers, the edits, and buttons removed by the bot.
    for lang in languages:
        classes = page.inside[f"intake-{lang}"]
        assert {"sticker", "tap", "edit", "removed", "pressed"} <= set(classes)
