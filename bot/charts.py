"""The /stats charts as PNG images, drawn with Pillow, in the member's language.

Arabic needs shaping (each letter takes its joined form) and the bidi algorithm (the words
run right to left): Pillow's text layout does both through libraqm (with FriBiDi and
HarfBuzz). Without it, or without a font that has Arabic letters (``CHART_FONT``), Arabic
would come out as separate letters in the wrong order: each label that needs shaping is then
replaced by a number, the title is left out, and the photo's caption (which Telegram
displays correctly) gives the title and says what each number stands for. Months are written
``YYYY-MM`` and counts in Western digits in every language, so they never need shaping.

Drawing takes tens of milliseconds: the caller runs it in a thread, off the event loop.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from bot.forms import SUPPORT, Form
from bot.i18n import Translator
from bot.render import status_label
from bot.storage.figures import DECISION_DAYS
from bot.storage.support import MonthRow
from bot.support_text import kind_label
from bot.workflow import STATUSES

WIDTH, HEIGHT = 800, 480
MARGIN, LEGEND_ROW, TITLE_SIZE, LABEL_SIZE = 56, 22, 22, 14
PALETTE = ("#2e7d6b", "#e0a030", "#5b7fbf", "#c0504d", "#8064a2", "#7f7f7f", "#4bacc6")
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def shaping_available() -> bool:
    """Whether Pillow lays text out with libraqm (shaping and bidi)."""
    return bool(features.check("raqm"))


def needs_shaping(text: str) -> bool:
    """Whether ``text`` has right-to-left letters (Arabic, Hebrew...)."""
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def describe(font: Path) -> str:
    """What ``check`` says about the charts: whether Arabic can be shaped, and the font."""
    if not font.is_file():
        found = f"the font {font} (CHART_FONT) does not exist"
    else:
        found = f"font {font}"
    if shaping_available() and font.is_file():
        return f"Charts: Arabic shaping available (libraqm), {found}."
    missing = [] if shaping_available() else ["no libraqm (apt-get install libraqm0 libfribidi0)"]
    missing += [] if font.is_file() else [found]
    return (
        f"Charts: Arabic labels replaced by numbers ({'; '.join(missing)}); "
        "English charts are unaffected."
    )


@dataclass(frozen=True)
class Chart:
    """A stacked bar chart: one bar per category, one colour per series."""

    title: str
    categories: list[str]
    series: list[tuple[str, list[int]]]  # (label, one value per category), in legend order
    rtl: bool = False  # the title and legend read right to left


@dataclass(frozen=True)
class Picture:
    """A drawn chart and the caption to send with it."""

    png: bytes
    caption: str


class Painter:
    """Draws charts with one font, shaped when libraqm and the font allow it."""

    def __init__(self, font: Path, *, shaping: bool | None = None) -> None:
        shaping = shaping_available() if shaping is None else shaping
        engine = ImageFont.Layout.RAQM if shaping else ImageFont.Layout.BASIC
        try:
            self.title_font: Font = ImageFont.truetype(font, TITLE_SIZE, layout_engine=engine)
            self.label_font: Font = ImageFont.truetype(font, LABEL_SIZE, layout_engine=engine)
            found = True
        except OSError:  # no such file, or not a font: Pillow's own has no Arabic letters
            self.title_font = ImageFont.load_default(TITLE_SIZE)
            self.label_font = ImageFont.load_default(LABEL_SIZE)
            found = False
        self.arabic = shaping and found

    def paint(self, chart: Chart) -> Picture:
        """The PNG and its caption (the title, and the key to numbered labels if any)."""
        key: list[str] = []

        def label(text: str) -> str:
            if self.arabic or not needs_shaping(text):
                return text
            key.append(f"{len(key) + 1}: {text}")
            return str(len(key))

        title = chart.title if self.arabic or not needs_shaping(chart.title) else ""
        series = [(label(name), values) for name, values in chart.series]
        categories = [label(c) for c in chart.categories]
        png = self._draw(title, categories, series, rtl=chart.rtl)
        return Picture(png, "\n".join([chart.title, *key]))

    def _draw(
        self,
        title: str,
        categories: list[str],
        series: list[tuple[str, list[int]]],
        *,
        rtl: bool,
    ) -> bytes:
        image = Image.new("RGB", (WIDTH, HEIGHT), "white")
        draw = ImageDraw.Draw(image)
        top = MARGIN // 2
        if title:
            x, anchor = (WIDTH - MARGIN // 2, "ra") if rtl else (MARGIN // 2, "la")
            draw.text((x, top), title, fill="black", font=self.title_font, anchor=anchor)
            top += TITLE_SIZE + 12
        top = self._legend(draw, top, series, rtl=rtl)  # one series too: it names the bars
        top += LABEL_SIZE + 12  # room for the total above the highest bar
        base = HEIGHT - MARGIN
        totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
        step = _round_step(max(totals, default=0) / 4)
        highest = -(-max(totals, default=0) // step) * step or step  # on a grid line
        self._grid(draw, top, base, highest, step)
        slot = (WIDTH - 2 * MARGIN) / max(len(categories), 1)
        for i, category in enumerate(categories):
            x0 = MARGIN + i * slot + slot * 0.18
            x1 = MARGIN + (i + 1) * slot - slot * 0.18
            y = float(base)
            for colour, (_, values) in zip(PALETTE * 2, series, strict=False):
                height = (base - top) * values[i] / highest
                if height:
                    draw.rectangle((x0, y - height, x1, y), fill=colour)
                y -= height
            middle = (x0 + x1) / 2
            if totals[i]:
                draw.text((middle, y - 3), str(totals[i]), fill="black", font=self.label_font,
                          anchor="md")  # fmt: skip
            draw.text((middle, base + 6), category, fill="black", font=self.label_font,
                      anchor="ma")  # fmt: skip
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    def _legend(
        self,
        draw: ImageDraw.ImageDraw,
        top: int,
        series: list[tuple[str, list[int]]],
        *,
        rtl: bool,
    ) -> int:
        """Coloured squares and their labels, in rows; the bottom of the last row."""
        x = WIDTH - MARGIN // 2 if rtl else MARGIN // 2
        for colour, (name, _) in zip(PALETTE * 2, series, strict=False):
            width = 16 + 6 + draw.textlength(name, font=self.label_font) + 18
            if (x - width < MARGIN // 2) if rtl else (x + width > WIDTH - MARGIN // 2):
                x, top = (WIDTH - MARGIN // 2 if rtl else MARGIN // 2), top + LEGEND_ROW
            box = (x - 16, top, x, top + 14) if rtl else (x, top, x + 16, top + 14)
            draw.rectangle(box, fill=colour)
            text_x = x - 22 if rtl else x + 22
            draw.text((text_x, top + 7), name, fill="black", font=self.label_font,
                      anchor="rm" if rtl else "lm")  # fmt: skip
            x = int(x - width) if rtl else int(x + width)
        return top + LEGEND_ROW

    def _grid(
        self, draw: ImageDraw.ImageDraw, top: int, base: int, highest: int, step: int
    ) -> None:
        """The axis and a line every ``step`` with its value, so that heights can be read."""
        value = 0
        while value <= highest:
            y = base - (base - top) * value / highest
            draw.line((MARGIN, y, WIDTH - MARGIN // 2, y), fill="#dddddd" if value else "black")
            draw.text((MARGIN - 6, y), str(value), fill="#555555", font=self.label_font,
                      anchor="rm")  # fmt: skip
            value += step


def _round_step(raw: float) -> int:
    """1, 2 or 5 times a power of ten, at least ``raw`` (and at least 1)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= raw:
                return factor * power
        power *= 10


def cases_chart(t: Translator, months: list[str], by_month: dict[str, dict[str, int]]) -> Chart:
    """Cases submitted each month, by their status now."""
    present = [s for s in STATUSES if any(by_month[m].get(s) for m in months)]
    series = [(status_label(t, s), [by_month[m].get(s, 0) for m in months]) for s in present]
    return Chart(t.raw("Cases per month, by status"), months, series, rtl=t.rtl)


def support_chart(t: Translator, form: Form, months: list[str], rows: list[MonthRow]) -> Chart:
    """Support given each month, by type (times given), in the form's order; "other" and a
    type since removed from the form are one series, as :func:`kind_label` names them."""
    kinds = [o.id for o in form.role(SUPPORT).options if any(r.kind == o.id for r in rows)]
    kinds += sorted({r.kind for r in rows} - set(kinds))
    times: dict[str, list[int]] = {}
    for kind in kinds:
        times.setdefault(kind_label(t, form, kind), [0] * len(months))
    for row in rows:
        if row.month in months:
            times[kind_label(t, form, row.kind)][months.index(row.month)] += row.times
    series = list(times.items())
    return Chart(t.raw("Support given per month, by type"), months, series, rtl=t.rtl)


def decision_chart(t: Translator, counts: list[int]) -> Chart:
    """How many days decisions took: one bar per range of days."""
    ranges = [f"{low}–{high}" if high is not None else f"{low}+" for low, high in DECISION_DAYS]
    series = [(t.raw("Cases"), counts)]
    return Chart(t.raw("Days from submission to decision"), ranges, series, rtl=t.rtl)
