"""The form engine: the shipped form, navigation, validation of definitions."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.errors import FormError
from bot.forms import (
    AREA,
    AREAS,
    AVAILABILITY,
    CHILDREN,
    DESCRIPTION,
    FORMS_DIR,
    HOUSEHOLD_SIZE,
    LANGUAGES,
    NAME,
    PHONE,
    REQUIRED_ROLES,
    ROLE_KINDS,
    SITUATION,
    SKILLS,
    SUPPORT,
    URGENCY,
    extract_form,
    load_form,
    parse_form,
)
from bot.intake import REVIEW, Draft, advance, edit, go_back

FORM = load_form()


def test_shipped_form_asks_what_the_issue_lists() -> None:
    ids = [s.id for s in FORM.steps]
    assert ids == [
        "situation",
        "situation_other",
        "support",
        "household_size",
        "children",
        "area",
        "area_other",
        "name",
        "phone",
        "call_time",
        "description",
        "urgency",
    ]
    situation = FORM.step("situation")
    assert situation is not None
    assert [o.id for o in situation.options] == [
        "chronic_illness",
        "head_death",
        "orphans",
        "disability",
        "widow_elderly",
        "other",
    ]
    support = FORM.step("support")
    assert support is not None and len(support.options) == 6
    personal = {s.id for s in FORM.steps if s.personal}
    assert personal == {"situation_other", "area", "area_other", "name", "phone", "description"}
    # Need-to-know: the card carries what triage needs, nothing else (not the area).
    assert {s.id for s in FORM.card_steps()} == {"situation", "support", "urgency"}


def test_conditional_step_and_positions() -> None:
    answers: dict[str, Any] = {"situation": ["orphans"]}
    assert FORM.after("situation", answers).id == "support"  # type: ignore[union-attr]
    answers["situation"].append("other")
    assert FORM.after("situation", answers).id == "situation_other"  # type: ignore[union-attr]
    assert FORM.position("support", answers) == (3, 11)
    assert FORM.position("support", {"situation": ["orphans"]}) == (2, 10)


def test_split_drops_answers_no_longer_asked() -> None:
    answers = {"situation": ["orphans"], "situation_other": "x", "name": "N", "urgency": "high"}
    open_answers, personal = FORM.split(answers)
    assert open_answers == {"situation": ["orphans"], "urgency": "high"}
    assert personal == {"name": "N"}


def test_navigation_back_edit_and_review() -> None:
    draft = Draft.new(FORM)
    draft.answers["situation"] = ["orphans"]
    advance(FORM, draft, FORM.steps[0])
    assert draft.step == "support"
    go_back(FORM, draft)
    assert draft.step == "situation"
    go_back(FORM, draft)  # nothing before the first question
    assert draft.step == "situation"
    draft.step = REVIEW
    go_back(FORM, draft)
    assert draft.step == "urgency"
    assert edit(FORM, draft, "situation") and draft.editing and draft.pending == ["orphans"]
    assert not edit(FORM, draft, "situation_other")  # not asked: "other" not chosen
    assert not edit(FORM, draft, "nonexistent")


def test_children_bounded_by_household() -> None:
    step = FORM.step("children")
    assert step is not None
    assert FORM.number_bounds(step, {"household_size": 4}) == (0, 4)
    assert FORM.number_bounds(step, {}) == (0, 29)


BASE: dict[str, Any] = {
    "form": {"id": "f"},
    "steps": [
        {
            "id": "a",
            "kind": "choice",
            "prompt": "P",
            "label": "L",
            "options": [{"id": "x", "label": "X"}, {"id": "y", "label": "Y"}],
        },
    ],
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kind": "essay"}, "kind"),
        ({"id": "Bad Id"}, "bad id"),
        ({"options": [{"id": "x", "label": "X"}]}, "two options"),
        ({"options": [{"id": "x", "label": "X"}, {"id": "x", "label": "Y"}]}, "duplicate"),
        ({"prompt": ""}, "prompt"),
        ({"only_if": "a:x"}, "only_if"),
    ],
)
def test_invalid_definitions_are_refused(change: dict[str, Any], problem: str) -> None:
    data = {"form": BASE["form"], "steps": [{**BASE["steps"][0], **change}]}
    with pytest.raises(FormError, match=problem):
        parse_form(data)


def test_only_if_must_point_back_to_a_multi_or_choice_step() -> None:
    # A choice may open a step too (the area's "other" asks for the area typed).
    steps = [
        BASE["steps"][0],
        {"id": "b", "kind": "text", "prompt": "P", "label": "L", "only_if": "a:x"},
    ]
    assert parse_form({"form": {"id": "f"}, "steps": steps}).step("b") is not None
    for only_if in ("b:x", "a:z", "c:x"):
        bad = [
            BASE["steps"][0],
            {"id": "b", "kind": "text", "prompt": "P", "label": "L", "only_if": only_if},
            {"id": "c", "kind": "text", "prompt": "P", "label": "L"},
        ]
        with pytest.raises(FormError, match="only_if"):
            parse_form({"form": {"id": "f"}, "steps": bad})


def test_babel_extractor_yields_every_text() -> None:
    path = FORMS_DIR / "intake.toml"
    found = list(extract_form(io.BytesIO(path.read_bytes()), [], [], {}))
    texts = {message for _, _, message, _ in found}
    assert texts == set(FORM.texts())
    assert all(lineno > 0 for lineno, _, _, _ in found)


def test_typed_answers_must_fit_in_one_message() -> None:
    steps = [BASE["steps"][0]] + [
        {"id": f"t{i}", "kind": "text", "prompt": "P", "label": "L", "max_length": 1000}
        for i in range(3)
    ]
    with pytest.raises(FormError, match="one Telegram message"):
        parse_form({"form": {"id": "f"}, "steps": steps})


VOLUNTEER = load_form("volunteer")


def test_shipped_forms_declare_the_roles_the_code_reads() -> None:
    assert FORM.roles == {
        SITUATION: "situation",
        SUPPORT: "support",
        HOUSEHOLD_SIZE: "household_size",
        CHILDREN: "children",
        URGENCY: "urgency",
        DESCRIPTION: "description",
        NAME: "name",
        AREA: "area",
        PHONE: "phone",
    }
    assert VOLUNTEER.roles == {
        NAME: "name",
        SKILLS: "skills",
        AREAS: "areas",
        LANGUAGES: "languages",
        AVAILABILITY: "availability",
    }
    for form in (FORM, VOLUNTEER):
        assert set(REQUIRED_ROLES[form.id]) <= set(form.roles)
        for role in form.roles:
            assert form.role(role).kind == ROLE_KINDS[role]
    assert FORM.role(SUPPORT) is FORM.step("support")
    assert FORM.role_id(CHILDREN) == "children"


def test_answers_by_role() -> None:
    answers = {"household_size": 4, "children": 2, "name": "N"}
    assert FORM.by_role(answers) == {HOUSEHOLD_SIZE: 4, CHILDREN: 2, NAME: "N"}


def test_a_role_the_form_does_not_declare_is_an_error() -> None:
    with pytest.raises(FormError, match="the form volunteer has no step with the role support"):
        VOLUNTEER.role(SUPPORT)


def intake_toml(roles: str) -> dict[str, Any]:
    """The shipped intake form with its [form.roles] table replaced by ``roles``."""
    text = (FORMS_DIR / "intake.toml").read_text()
    start = text.index("\n[form.roles]\n")
    end = text.index("[[steps]]")
    return tomllib.loads(text[:start] + "[form.roles]\n" + roles + "\n" + text[end:])


def test_the_shipped_intake_form_parses_again() -> None:
    roles = "\n".join(f'{role} = "{step}"' for role, step in FORM.roles.items())
    assert parse_form(intake_toml(roles)) == FORM


@pytest.mark.parametrize("missing", REQUIRED_ROLES["intake"])
def test_a_form_lacking_a_required_role_is_refused(missing: str) -> None:
    roles = "\n".join(f'{role} = "{step}"' for role, step in FORM.roles.items() if role != missing)
    with pytest.raises(FormError, match=f"the form intake lacks the role {missing}"):
        parse_form(intake_toml(roles))


def test_a_form_without_roles_is_refused_at_load(tmp_path: Path) -> None:
    text = (FORMS_DIR / "volunteer.toml").read_text()
    start = text.index("\n[form.roles]\n")
    (tmp_path / "volunteer.toml").write_text(text[: start + 1] + text[text.index("[[steps]]") :])
    with pytest.raises(FormError, match="the form volunteer lacks the role name"):
        load_form("volunteer", tmp_path)


@pytest.mark.parametrize(
    ("roles", "problem"),
    [
        ('support = "nonexistent"', "the role support names no step"),
        ('support = "urgency"', "the role support needs a multi step, not the choice step"),
        ('household = "household_size"', "unknown role household"),
    ],
)
def test_roles_must_name_a_step_of_the_right_kind(roles: str, problem: str) -> None:
    with pytest.raises(FormError, match=problem):
        parse_form(intake_toml(roles))


def test_a_form_of_another_id_needs_no_role() -> None:
    assert parse_form(BASE).roles == {}
