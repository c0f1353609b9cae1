"""The /stats charts: Arabic titles and labels shaped (joined letters, right to left) through
libraqm, language-neutral numbered labels when shaping is not available, and the three charts
sent as photos after the statistics, in the member's language."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from bot import charts
from bot.config import DEFAULT_CHART_FONT
from bot.forms import load_form
from bot.i18n import I18n
from bot.storage.support import MonthRow
from tests.conftest import MEMBER, Harness
from tests.test_config import run_cli
from tests.test_review import approve, new_case

WORD = "المساعدات"
MONTHS = ["2026-01", "2026-02", "2026-03"]
BY_MONTH = {
    "2026-01": {"new": 2, "approved": 3},
    "2026-02": {"declined": 1, "approved": 4},
    "2026-03": {"new": 5, "in_review": 1},
}
PNG_FOLDER = Path("build")


def font_or_skip() -> Path:
    if not DEFAULT_CHART_FONT.is_file():
        pytest.skip(f"no chart font at {DEFAULT_CHART_FONT} (fonts-dejavu-core)")
    return DEFAULT_CHART_FONT


def raqm_or_skip() -> None:
    if not charts.shaping_available():
        pytest.skip("Pillow has no libraqm here (apt-get install libraqm0 libfribidi0)")


def test_shaping_joins_the_letters() -> None:
    """Shaped, «المساعدات» takes its joined forms (narrower, another outline) than the same
    letters laid out one by one."""
    raqm_or_skip()
    path = font_or_skip()
    shaped = ImageFont.truetype(path, 40, layout_engine=ImageFont.Layout.RAQM)
    basic = ImageFont.truetype(path, 40, layout_engine=ImageFont.Layout.BASIC)
    assert shaped.getlength(WORD) < basic.getlength(WORD)
    shaped_mask, _ = shaped.getmask2(WORD)
    basic_mask, _ = basic.getmask2(WORD)
    assert shaped_mask.size != basic_mask.size
    # The bidi algorithm found the direction by itself: forcing right to left changes nothing.
    assert shaped.getbbox(WORD, direction="rtl") == shaped.getbbox(WORD)


def test_arabic_chart_is_drawn_with_its_words() -> None:
    raqm_or_skip()
    path = font_or_skip()
    t = I18n("ar").get("ar")
    painter = charts.Painter(path)
    assert painter.arabic
    picture = painter.paint(charts.cases_chart(t, MONTHS, BY_MONTH))
    assert picture.caption == t.raw("Cases per month, by status") != "Cases per month, by status"
    image = Image.open(io.BytesIO(picture.png))
    assert image.size == (800, 480)
    PNG_FOLDER.mkdir(exist_ok=True)
    (PNG_FOLDER / "chart-ar.png").write_bytes(picture.png)  # to look at


def test_without_shaping_arabic_labels_become_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    path = font_or_skip()
    monkeypatch.setattr(charts.features, "check", lambda feature: False)
    assert not charts.shaping_available()
    t = I18n("ar").get("ar")
    painter = charts.Painter(path)
    assert not painter.arabic
    chart = charts.cases_chart(t, MONTHS, BY_MONTH)
    picture = painter.paint(chart)
    # The caption, which Telegram shapes itself, carries the title and the key.
    lines = picture.caption.split("\n")
    assert lines[0] == chart.title
    assert lines[1:] == [f"{i}: {name}" for i, (name, _) in enumerate(chart.series, start=1)]
    # The drawing has no Arabic left to break: what it would draw is numbers and months.
    drawn: list[str] = []

    def draw(title: str, cats: list[str], series: list[tuple[str, list[int]]], rtl: bool) -> bytes:
        drawn.extend([title, *cats, *(name for name, _ in series)])
        return b""

    monkeypatch.setattr(painter, "_draw", draw)
    painter.paint(chart)
    assert not any(charts.needs_shaping(text) for text in drawn)
    assert MONTHS[0] in drawn and "1" in drawn
    assert "no libraqm" in charts.describe(path)
    # English needs no shaping: its labels stay, and there is no key.
    english = I18n("ar").get("en")
    picture = painter.paint(charts.cases_chart(english, MONTHS, BY_MONTH))
    assert picture.caption == "Cases per month, by status"


def test_a_missing_font_is_reported_and_gives_numbers(tmp_path: Path) -> None:
    missing = tmp_path / "none.ttf"
    painter = charts.Painter(missing, shaping=True)
    assert not painter.arabic
    assert "does not exist" in charts.describe(missing)
    t = I18n("ar").get("ar")
    picture = painter.paint(charts.decision_chart(t, [1, 2, 0, 0, 0, 1]))
    assert picture.caption.startswith(t.raw("Days from submission to decision"))
    assert picture.png.startswith(b"\x89PNG")


def test_support_chart_by_type() -> None:
    path = font_or_skip()
    t = I18n("ar").get("en")
    rows = [
        MonthRow("2026-01", "financial", 3, 2),
        MonthRow("2026-03", "moral", 1, 1),
        MonthRow("2026-02", "other", 1, 1),
        MonthRow("2026-03", "retired-type", 2, 2),
    ]
    chart = charts.support_chart(t, load_form("intake"), MONTHS, rows)
    # "Other" and a type since removed from the form are named as the card names them (no
    # longer their ids): one series.
    assert [name for name, _ in chart.series] == [
        "Moral support",
        "Financial support",
        "Other support",
    ]
    assert chart.series[1][1] == [3, 0, 0]
    assert chart.series[2][1] == [0, 1, 2]
    assert charts.Painter(path).paint(chart).png.startswith(b"\x89PNG")


def test_other_support_in_arabic_and_the_title_as_on_the_card() -> None:
    t = I18n("ar").get("ar")
    chart = charts.support_chart(
        t, load_form("intake"), MONTHS, [MonthRow("2026-02", "other", 1, 1)]
    )
    assert chart.series == [(t.raw("Other support"), [0, 1, 0])]
    assert t.raw("Other support") != "Other support"
    assert "الدعم المقدَّم" in chart.title


def test_one_type_is_named_in_the_legend(monkeypatch: pytest.MonkeyPatch) -> None:
    path = font_or_skip()
    t = I18n("ar").get("en")
    chart = charts.support_chart(
        t, load_form("intake"), MONTHS, [MonthRow("2026-02", "moral", 1, 1)]
    )
    painter = charts.Painter(path)
    legends: list[list[str]] = []
    real = painter._legend

    def legend(
        draw: ImageDraw.ImageDraw, top: int, series: list[tuple[str, list[int]]], *, rtl: bool
    ) -> int:
        legends.append([name for name, _ in series])
        return real(draw, top, series, rtl=rtl)

    monkeypatch.setattr(painter, "_legend", legend)
    assert painter.paint(chart).png.startswith(b"\x89PNG")
    assert legends == [["Moral support"]]


async def test_stats_sends_the_charts_in_arabic(harness: Harness) -> None:
    h = harness
    h.languages[MEMBER] = "ar"
    ref = await new_case(h, "ar")
    await approve(h, ref)
    calls = await h.say(MEMBER, "/stats")
    methods = [c.method for c in calls]
    assert methods.index("sendPhoto") > methods.index("sendMessage")  # after the text
    photos = [c for c in calls if c.method == "sendPhoto"]
    t = h.services.i18n.get("ar")
    captions = [str(p.params["caption"]).split("\n")[0] for p in photos]
    assert captions == [
        t.raw("Cases per month, by status"),
        t.raw("Days from submission to decision"),
    ]
    for photo in photos:
        image = Image.open(io.BytesIO(next(iter(photo.files.values())).content))
        assert image.width == 800


def test_check_says_whether_charts_can_shape_arabic(tmp_path: Path) -> None:
    env = {
        "BOT_TOKEN": "123:abc",
        "DATA_DIR": str(tmp_path / "d"),
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # nothing listens: unreachable
        "CHART_FONT": str(tmp_path / "none.ttf"),
    }
    result = run_cli("check", env=env, cwd=tmp_path)
    assert f"the font {tmp_path / 'none.ttf'} (CHART_FONT) does not exist" in result.stdout
    if DEFAULT_CHART_FONT.is_file() and charts.shaping_available():
        result = run_cli("check", env={**env, "CHART_FONT": str(DEFAULT_CHART_FONT)}, cwd=tmp_path)
        assert "Charts: Arabic shaping available (libraqm)" in result.stdout
