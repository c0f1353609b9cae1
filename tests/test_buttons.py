"""Typed callback data: the wire format buttons already sent carry, the 64-byte limit,
forged data refused, and every family routed by its own pattern and read only by unpacking."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler

from bot import buttons as b
from bot.app import build_application
from bot.config import Settings
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (b.LanguageChoice("ar"), "lang:ar"),
        (b.ConsentChoice("y"), "ic:y"),
        (b.ApplyChoice("c", "D7K2"), "ap:c:D7K2"),
        (b.ApplyChoice("x", ""), "ap:x:"),
        (b.CancelChoice("n", "D7K2"), "cx:n:D7K2"),
        (b.FormPress("D7K2", "support", "o", "financial"), "in:D7K2:support:o:financial"),
        (b.FormPress("D7K2", "review", "S", ""), "in:D7K2:review:S:"),
        (b.VolunteerPress("L"), "vo:L"),
        (b.TaskAnswer("a", "T4X-9QP"), "tk:a:T4X-9QP"),
        (b.EraseChoice("y"), "pd:y"),
        (b.TaskWizardPress("t", "0900"), "tw:t:0900"),
        (b.TaskManagePress("x", "T4X-9QP"), "tm:x:T4X-9QP"),
        (b.DetailsPress("K7P-4RD"), "cd:K7P-4RD"),
        (b.CardPress("approve", "K7P-4RD"), "cv:approve:K7P-4RD"),
        (b.DecisionPress("sd", ""), "rv:sd:"),
        (b.FamilyAnswerPress(12), "fa:12"),
        (b.CasesPage("in_review", 3), "cl:in_review:3"),
        (b.ExportChoice("anon"), "ex:anon"),
    ],
)
def test_wire_format_is_the_one_old_buttons_carry(value: b.CallbackData, wire: str) -> None:
    assert value.pack() == wire
    assert type(value).unpack(wire) == value
    assert type(value).pattern().match(wire)
    assert value.button("label").callback_data == wire


def test_every_family_has_its_own_prefix_and_pattern() -> None:
    prefixes = [family.prefix for family in b.FAMILIES]
    assert len(prefixes) == len(set(prefixes))
    for family in b.FAMILIES:
        for other in b.FAMILIES:
            if other is not family:
                assert not family.pattern().match(other.prefix + ":x:y")


@pytest.mark.parametrize(
    ("family", "data"),
    [
        (b.FamilyAnswerPress, "fa:²"),  # isdigit() but not a number int() reads
        (b.FamilyAnswerPress, "fa:99999999999999999999"),  # over SQLite's integers
        (b.FamilyAnswerPress, "fa:"),
        (b.CasesPage, "cl:all"),  # a field missing
        (b.CasesPage, "cl:all:1:2"),  # a field too many
        (b.ConsentChoice, "ic:maybe"),  # a verb the family does not know
        (b.ExportChoice, "ex:everything"),
        (b.CardPress, "cd:approve:K7P-4RD"),  # another family's prefix
        (b.DetailsPress, None),
    ],
)
def test_forged_data_does_not_unpack(family: type[b.CallbackData], data: str | None) -> None:
    assert family.unpack(data) is None


def test_packing_refuses_what_telegram_or_the_format_would_break() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        b.FormPress("D" * 20, "s" * 20, "o", "x" * 20).pack()
    with pytest.raises(ValueError, match="':'"):
        b.TaskWizardPress("t", "09:00").pack()


def test_every_family_is_routed_once_by_its_own_pattern(settings: Settings) -> None:
    app = build_application(settings, request=FakeTelegram(), rate_limit=False)
    presses = [
        handler
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, CallbackQueryHandler)
    ]
    # The last one is the catch-all: it answers whatever no family took.
    *routed, catch_all = presses
    assert catch_all.pattern is None
    patterns = [handler.pattern for handler in routed]
    assert all(isinstance(pattern, re.Pattern) for pattern in patterns), patterns
    assert Counter(p.pattern for p in patterns if isinstance(p, re.Pattern)) == Counter(
        family.pattern().pattern for family in b.FAMILIES
    )
    # ...and written as the family's, never by hand.
    registry = ast.parse((ROOT / "handlers" / "__init__.py").read_text("utf-8"))
    hand_written = [
        node.lineno
        for node in ast.walk(registry)
        if isinstance(node, ast.keyword)
        and node.arg == "pattern"
        and not (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "pattern"
        )
    ]
    assert not hand_written


def _modules() -> list[Path]:
    return sorted(p for folder in ("bot", "handlers") for p in (ROOT / folder).rglob("*.py"))


def _query_data_reads(tree: ast.AST) -> list[int]:
    """Lines where a callback query's ``.data`` is read other than as ``Family.unpack``'s
    argument (a split, a comparison, a slice…)."""
    unpacked = {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "unpack"
        for arg in node.args
    }
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "data"
        and (
            (isinstance(node.value, ast.Name) and node.value.id == "query")
            or (isinstance(node.value, ast.Attribute) and node.value.attr == "callback_query")
        )
        and id(node) not in unpacked
    )


# Modules that split on ':' what is no callback data, and what they split.
NOT_CALLBACK_DATA = {
    Path("bot/config.py"): "BOT_TOKEN, '<bot id>:<secret>'",
    Path("bot/forms.py"): "a form step's only_if, '<step>:<option>'",
}


def _colon_splits(tree: ast.AST) -> list[int]:
    """Lines of ``.split(":")`` (or ``.split(":", n)``) calls."""
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("split", "rsplit", "partition")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == ":"
    )


def test_callback_data_is_read_only_by_unpacking() -> None:
    found = []
    for path in _modules():
        if path == ROOT / "bot" / "buttons.py":
            continue
        tree = ast.parse(path.read_text("utf-8"), str(path))
        name = path.relative_to(ROOT)
        found += [f"{name}:{line} reads query.data" for line in _query_data_reads(tree)]
        splits = _colon_splits(tree)
        if name in NOT_CALLBACK_DATA:
            assert splits, f"{name} no longer splits {NOT_CALLBACK_DATA[name]}: drop it"
            continue
        found += [f"{name}:{line} splits on ':'" for line in splits]
    assert not found, "\n".join(found)


def test_the_checks_find_what_they_look_for() -> None:
    tree = ast.parse(
        "def f(query, update):\n"
        "    a = query.data.split(':')\n"
        "    b = update.callback_query.data == 'ic:y'\n"
        "    c = Choice.unpack(query.data)\n"
    )
    assert _query_data_reads(tree) == [2, 3]
    assert _colon_splits(tree) == [2]
