"""Typed callback data: the wire format buttons already sent carry, the 64-byte limit, and
forged data refused."""

from __future__ import annotations

import pytest

from bot import buttons as b


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
