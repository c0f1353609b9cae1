"""Exports and statistics of cases, without Telegram.

The full export carries personal data (it is audited and sent only to a member in private);
the anonymised one carries no reference, name, phone, area or free text, only what a report
needs. Both are CSV in UTF-8 with a byte-order mark, so spreadsheet programs show Arabic
correctly, and in both a cell that a spreadsheet would run as a formula is made text. The
chart is language-neutral (months and counts) so that it reads the same for every member.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from bot.crypto import Cipher
from bot.forms import CHILDREN, HOUSEHOLD_SIZE, SITUATION, SUPPORT, URGENCY, Form
from bot.i18n import Translator
from bot.review import days_between
from bot.storage.cases import Case, personal


def _cell(t: Translator, form: Form, step_id: str, value: object) -> str:
    step = form.step(step_id)
    if value is None:
        return ""
    if step is not None and step.kind in ("multi", "choice"):
        ids = value if isinstance(value, list) else [value]
        return t.join(t.raw(o.label) for i in ids if (o := step.option(str(i))) is not None)
    if isinstance(value, dict):
        return (
            str(value.get("text", t.raw("Voice note"))) if "text" in value else t.raw("Voice note")
        )
    return str(value)


# A spreadsheet runs a cell that starts with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def neutralise(cell: str) -> str:
    """The cell as text a spreadsheet shows and never runs: ``'`` before a formula start.

    What people typed (a name such as ``=HYPERLINK(...)``) reaches the full export; a plain
    number, negative ones included, stays a number.
    """
    if cell.startswith(FORMULA_STARTS) and NUMBER.fullmatch(cell) is None:
        return "'" + cell
    return cell


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def export_full(
    t: Translator, form: Form, cases: Sequence[Case], cipher: Cipher, tz: ZoneInfo
) -> bytes:
    """Every case with every answer, personal ones included."""
    header = [t.raw("Reference"), t.raw("Status"), t.raw("Submitted"), t.raw("Language")]
    header += [t.raw(s.label) for s in form.steps]
    header += [t.raw("Decided by"), t.raw("Decided on"), t.raw("Until")]
    rows = []
    for case in cases:
        answers = {**case.answers, **personal(cipher, case)}
        row = [
            case.ref,
            case.status,
            case.created_at.astimezone(tz).isoformat(timespec="minutes"),
            case.language,
        ]
        row += [_cell(t, form, s.id, answers.get(s.id)) for s in form.steps]
        row += [
            case.decided_by_name or "",
            case.decided_at.astimezone(tz).date().isoformat() if case.decided_at else "",
            case.support_until or "",
        ]
        rows.append(row)
    return _csv(header, rows)


ANONYMOUS_ROLES = (SITUATION, SUPPORT, HOUSEHOLD_SIZE, CHILDREN, URGENCY)


def export_anonymised(t: Translator, form: Form, cases: Sequence[Case], tz: ZoneInfo) -> bytes:
    """Only what reports need: no reference, name, phone, area or free text."""
    kept = {form.role_id(role) for role in ANONYMOUS_ROLES}
    steps = [s for s in form.steps if s.id in kept and not s.personal]
    header = ["#", t.raw("Status"), t.raw("Month")]
    header += [t.raw(s.label) for s in steps]
    header += [t.raw("Days to decision")]
    rows = []
    for number, case in enumerate(cases, start=1):
        row = [str(number), case.status, case.created_at.astimezone(tz).strftime("%Y-%m")]
        row += [_cell(t, form, s.id, case.answers.get(s.id)) for s in steps]
        days = days_between(case.created_at, case.decided_at) if case.decided_at else None
        row.append(f"{days:.1f}" if days is not None else "")
        rows.append(row)
    return _csv(header, rows)


@dataclass(frozen=True)
class Stats:
    """Counts of cases, and how long decisions take."""

    total: int
    by_status: Counter[str]
    by_situation: Counter[str]
    by_support: Counter[str]
    by_month: Counter[str]
    median_days: float | None


def stats(form: Form, cases: Sequence[Case], tz: ZoneInfo) -> Stats:
    """Count the cases."""
    situation: Counter[str] = Counter()
    support: Counter[str] = Counter()
    situation_id, support_id = form.role_id(SITUATION), form.role_id(SUPPORT)
    for case in cases:
        situation.update(case.answers.get(situation_id, []))
        support.update(case.answers.get(support_id, []))
    days = [days_between(c.created_at, c.decided_at) for c in cases if c.decided_at]
    return Stats(
        total=len(cases),
        by_status=Counter(c.status for c in cases),
        by_situation=situation,
        by_support=support,
        by_month=Counter(c.created_at.astimezone(tz).strftime("%Y-%m") for c in cases),
        median_days=statistics.median(days) if days else None,
    )


def chart(by_month: Counter[str], width: int = 800, height: int = 400) -> bytes:
    """A PNG bar chart of cases per month (the last twelve months that have cases)."""
    months = sorted(by_month)[-12:]
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=16)
    top = max((by_month[m] for m in months), default=0) or 1
    margin, base = 50, height - 50
    slot = (width - 2 * margin) / max(len(months), 1)
    draw.line((margin, base, width - margin, base), fill="black", width=2)
    for i, month in enumerate(months):
        bar = (base - margin) * by_month[month] / top
        x0 = margin + i * slot + slot * 0.15
        x1 = margin + (i + 1) * slot - slot * 0.15
        draw.rectangle((x0, base - bar, x1, base), fill="#2e7d6b")
        draw.text(
            ((x0 + x1) / 2, base - bar - 4),
            str(by_month[month]),
            fill="black",
            font=font,
            anchor="md",
        )
        draw.text(((x0 + x1) / 2, base + 8), month, fill="black", font=font, anchor="ma")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
