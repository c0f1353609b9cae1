"""A small engine that walks a form defined in ``data/forms/*.toml``.

The form is data: steps, their kind, options and order. This module validates a definition
once at start-up (:func:`load_form`) and answers the questions the intake needs: which step
comes next or before, which steps apply given the answers so far, whether an answer is valid.
It knows nothing of Telegram.

The code reads a few answers by their meaning (the household's size, the support asked for, a
volunteer's skills...). A form names the steps that hold them in its ``[form.roles]`` table, and
:func:`parse_form` refuses a form that lacks a role the code needs, so that the ids of the steps
stay the form's business and a missing step is found at start-up, not on a family's answer.

Option lists that several forms share (the committee's areas) live once in ``data/`` and are
named by ``options_from``. Only the steps marked ``on_card`` reach the committee group's card.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

from bot.errors import FormError

FORMS_DIR = Path(__file__).resolve().parent.parent / "data" / "forms"
# Option lists shared by several forms (``options_from = "areas"`` reads data/areas.toml).
LISTS_DIR = FORMS_DIR.parent
KINDS = ("multi", "choice", "number", "text", "phone", "description")
ID_RE = re.compile(r"^[a-z0-9_]{1,20}$")
# Telegram allows 4096 characters a message; the review lists every answer with its label,
# so the typed answers together must leave room for the labels and the other answers.
TYPED_BUDGET = 2800

Answers = dict[str, Any]
# The answer, not a step id (ids never hold "@"), that marks a draft or a case whose family asked
# to be called instead of answering the questions: only the form's ``call_me`` steps are asked.
CALL_ME = "@call_me"

# Roles: what the code reads from a step, whatever the step's id (see ``[form.roles]``).
SITUATION = "situation"
SUPPORT = "support"
HOUSEHOLD_SIZE = "household_size"
CHILDREN = "children"
URGENCY = "urgency"
DESCRIPTION = "description"
NAME = "name"
PHONE = "phone"
AREA = "area"
SKILLS = "skills"
AREAS = "areas"
AREA = "area"
LANGUAGES = "languages"
AVAILABILITY = "availability"
# The kind of step each role must be: the code reads its answer as that kind's value.
ROLE_KINDS = {
    SITUATION: "multi",
    SUPPORT: "multi",
    HOUSEHOLD_SIZE: "number",
    CHILDREN: "number",
    URGENCY: "choice",
    DESCRIPTION: "description",
    NAME: "text",
    PHONE: "phone",
    AREA: "choice",
    SKILLS: "multi",
    AREAS: "multi",
    LANGUAGES: "multi",
    AVAILABILITY: "multi",
}
# The roles each form the code walks must declare; a form of another id needs none.
REQUIRED_ROLES = {
    "intake": (
        SITUATION,
        SUPPORT,
        HOUSEHOLD_SIZE,
        CHILDREN,
        URGENCY,
        DESCRIPTION,
        NAME,
        PHONE,
        AREA,
    ),
    "volunteer": (NAME, SKILLS, AREAS, LANGUAGES, AVAILABILITY),
}


@dataclass(frozen=True)
class Option:
    """One button of a choice or multi step."""

    id: str
    label: str


@dataclass(frozen=True)
class Step:
    """One question of a form."""

    id: str
    kind: str
    prompt: str
    label: str
    options: tuple[Option, ...] = ()
    min: int = 0
    max: int = 0
    max_from: str | None = None
    max_length: int = 200
    optional: bool = False
    personal: bool = False
    on_card: bool = False
    only_if: tuple[str, str] | None = None
    voice: bool = False  # a text step that also takes a voice note (the name, for one)

    def option(self, option_id: str) -> Option | None:
        """The option with this id, if the step has it."""
        return self._options.get(option_id)

    @cached_property
    def _options(self) -> dict[str, Option]:
        # By id: an export looks an option up for every answer of every case.
        return {o.id: o for o in self.options}


@dataclass(frozen=True)
class Form:
    """A validated form definition."""

    id: str
    steps: tuple[Step, ...]
    roles: dict[str, str] = field(default_factory=dict)
    # The only steps asked of a family that asked to be called instead (``call_me`` in TOML).
    call_me: tuple[str, ...] = ()
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({s.id: i for i, s in enumerate(self.steps)})

    def step(self, step_id: str) -> Step | None:
        """The step with this id."""
        index = self._index.get(step_id)
        return None if index is None else self.steps[index]

    def role_id(self, role: str) -> str:
        """The id of the step that plays ``role`` (its answers are stored under this id).

        Raises :class:`FormError` if the form does not declare the role; the roles of
        ``REQUIRED_ROLES`` are checked by :func:`parse_form`, so for them this never fails.
        """
        if role not in self.roles:
            raise FormError(f"the form {self.id} has no step with the role {role}")
        return self.roles[role]

    def role(self, role: str) -> Step:
        """The step that plays ``role``."""
        return self.steps[self._index[self.role_id(role)]]

    def by_role(self, answers: Answers) -> Answers:
        """``answers`` keyed by role instead of step id (only the answered roles)."""
        return {role: answers[i] for role, i in self.roles.items() if i in answers}

    def applies(self, step: Step, answers: Answers) -> bool:
        """Whether ``step`` is asked, given ``answers``."""
        if answers.get(CALL_ME):
            return step.id in self.call_me
        if step.only_if is None:
            return True
        source, option = step.only_if
        chosen = answers.get(source)
        return chosen == option or (isinstance(chosen, list) and option in chosen)

    def upgrade(self, answers: Answers) -> Answers:
        """``answers`` saved under an older version of the form, read under this one.

        A choice step that used to be typed (the area) holds a text that is none of its
        options: the text moves to the typed step its "other" option asks (kept private), or
        is dropped so that the question is asked again. Current answers come back unchanged.
        """
        upgraded = dict(answers)
        for step in self.steps:
            value = upgraded.get(step.id)
            if step.kind != "choice" or value is None or step.option(str(value)) is not None:
                continue
            del upgraded[step.id]
            for typed in self.steps:
                if typed.kind == "text" and typed.only_if and typed.only_if[0] == step.id:
                    upgraded[step.id] = typed.only_if[1]
                    upgraded.setdefault(typed.id, str(value))
                    break
        return upgraded

    def applicable(self, answers: Answers) -> list[Step]:
        """The steps asked, in order, given ``answers``."""
        return [s for s in self.steps if self.applies(s, answers)]

    def first(self, answers: Answers | None = None) -> Step:
        """The first step asked (of everybody, or given ``answers``)."""
        if answers:
            return self.applicable(answers)[0]
        return self.steps[0]

    def after(self, step_id: str, answers: Answers) -> Step | None:
        """The next step asked after ``step_id``, or None at the end."""
        start = self._index[step_id] + 1
        return next((s for s in self.steps[start:] if self.applies(s, answers)), None)

    def before(self, step_id: str, answers: Answers) -> Step | None:
        """The step asked before ``step_id``, or None at the start."""
        end = self._index[step_id]
        return next((s for s in reversed(self.steps[:end]) if self.applies(s, answers)), None)

    def first_unanswered(self, answers: Answers) -> Step | None:
        """The first step asked that has no answer yet."""
        return next((s for s in self.applicable(answers) if s.id not in answers), None)

    def position(self, step_id: str, answers: Answers) -> tuple[int, int]:
        """``(n, total)``: the step's 1-based position among the steps asked."""
        asked = [s.id for s in self.applicable(answers)]
        return (asked.index(step_id) + 1 if step_id in asked else len(asked), len(asked))

    def number_bounds(self, step: Step, answers: Answers) -> tuple[int, int]:
        """The accepted range of a number step, given earlier answers."""
        high = step.max
        if step.max_from and isinstance(answers.get(step.max_from), int):
            high = min(high, int(answers[step.max_from]))
        return step.min, high

    def split(self, answers: Answers) -> tuple[Answers, Answers]:
        """``(open, personal)``: the answers to keep, divided by the steps' ``personal`` flag.

        Answers to steps that no longer apply (an option was unchosen) are dropped; the mark
        of a family that asked to be called is kept with the open answers.
        """
        open_answers: Answers = {CALL_ME: True} if answers.get(CALL_ME) else {}
        personal: Answers = {}
        for step in self.applicable(answers):
            if step.id in answers:
                (personal if step.personal else open_answers)[step.id] = answers[step.id]
        return open_answers, personal

    def card_steps(self) -> list[Step]:
        """The steps whose answers the committee group sees: those marked ``on_card`` only,
        so that a new question stays off the card until the form says the group needs it."""
        return [s for s in self.steps if s.on_card]

    def texts(self) -> Iterator[str]:
        """Every user-visible text of the form (for translation checks)."""
        for step in self.steps:
            yield step.prompt
            yield step.label
            for option in step.options:
                yield option.label


def _require(cond: bool, problem: str) -> None:
    if not cond:
        raise FormError(problem)


def load_options(name: str, lists_dir: Path = LISTS_DIR) -> list[dict[str, Any]]:
    """The shared option list ``lists_dir/<name>.toml`` (its ``options`` array)."""
    _require(bool(ID_RE.match(name)), f"options_from: bad list name {name!r}")
    path = lists_dir / f"{name}.toml"
    try:
        with path.open("rb") as handle:
            options = tomllib.load(handle).get("options", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FormError(f"Cannot read the option list {path}: {exc}") from exc
    _require(isinstance(options, list), f"{path}: options must be an array")
    return list(options)


def _parse_step(spec: dict[str, Any], where: str) -> Step:
    step_id = spec.get("id", "")
    _require(isinstance(step_id, str) and bool(ID_RE.match(step_id)), f"{where}: bad id")
    kind = spec.get("kind")
    _require(kind in KINDS, f"{where} ({step_id}): kind must be one of {', '.join(KINDS)}")
    for key in ("prompt", "label"):
        _require(isinstance(spec.get(key), str) and spec[key].strip() != "", f"{step_id}: {key}")
    options: list[Option] = []
    shared = load_options(str(spec["options_from"])) if "options_from" in spec else []
    for i, opt in enumerate([*shared, *spec.get("options", [])]):
        oid = opt.get("id", "")
        _require(bool(ID_RE.match(oid)), f"{step_id}: option {i + 1} has a bad id")
        _require(isinstance(opt.get("label"), str), f"{step_id}: option {oid} needs a label")
        options.append(Option(oid, opt["label"]))
    if kind in ("multi", "choice"):
        _require(len(options) >= 2, f"{step_id}: needs at least two options")
        _require(len({o.id for o in options}) == len(options), f"{step_id}: duplicate option")
    only_if = None
    if "only_if" in spec:
        parts = str(spec["only_if"]).split(":")
        _require(len(parts) == 2, f"{step_id}: only_if must be 'step:option'")
        only_if = (parts[0], parts[1])
    step = Step(
        id=step_id,
        kind=str(kind),
        prompt=spec["prompt"].strip(),
        label=spec["label"].strip(),
        options=tuple(options),
        min=int(spec.get("min", 1 if kind == "multi" else 0)),
        max=int(spec.get("max", 0)),
        max_from=spec.get("max_from"),
        max_length=int(spec.get("max_length", 200)),
        optional=bool(spec.get("optional", False)),
        personal=bool(spec.get("personal", False)),
        on_card=bool(spec.get("on_card", False)),
        only_if=only_if,
        voice=bool(spec.get("voice", False)),
    )
    _require(not step.voice or kind == "text", f"{step_id}: only a text step takes voice")
    if kind == "number":
        _require(step.max >= step.min, f"{step_id}: max must be at least min")
    _require(
        not (step.personal and step.on_card and kind not in ("multi", "choice")),
        f"{step_id}: a personal answer typed by the family never goes on the committee card "
        "(on_card): only a choice among options may",
    )
    _require(0 < step.max_length <= 3000, f"{step_id}: max_length must be 1..3000")
    return step


def parse_form(data: dict[str, Any]) -> Form:
    """Validate a form definition already read from TOML (shared option lists from data/)."""
    form_id = data.get("form", {}).get("id", "")
    _require(bool(ID_RE.match(form_id)), "form.id is missing or invalid")
    raw_steps = data.get("steps", [])
    _require(len(raw_steps) > 0, "the form has no steps")
    steps = tuple(_parse_step(spec, f"step {i + 1}") for i, spec in enumerate(raw_steps))
    ids = [s.id for s in steps]
    _require(len(set(ids)) == len(ids), "two steps share an id")
    seen: set[str] = set()
    for step in steps:
        if step.only_if:
            source = next((s for s in steps if s.id == step.only_if[0]), None)
            _require(
                source is not None
                and source.id in seen
                and source.kind in ("multi", "choice")
                and source.option(step.only_if[1]) is not None,
                f"{step.id}: only_if must name an option of an earlier multi or choice step",
            )
        if step.max_from:
            _require(step.max_from in seen, f"{step.id}: max_from must name an earlier step")
        seen.add(step.id)
    _require(steps[0].only_if is None, "the first step cannot be conditional")
    typed = sum(s.max_length for s in steps if s.kind in ("text", "description"))
    _require(
        typed <= TYPED_BUDGET,
        f"the typed answers may total {typed} characters; keep the sum of max_length under "
        f"{TYPED_BUDGET} so that the review and the details fit in one Telegram message",
    )
    roles = _parse_roles(form_id, data["form"].get("roles", {}), steps)
    call_me = data["form"].get("call_me", [])
    _require(
        isinstance(call_me, list) and all(i in ids for i in call_me),
        "form.call_me must list ids of steps",
    )
    return Form(form_id, steps, roles, tuple(call_me))


def _parse_roles(form_id: str, spec: Any, steps: tuple[Step, ...]) -> dict[str, str]:
    """``[form.roles]``: role -> step id, each naming a step of the right kind."""
    _require(isinstance(spec, dict), f"the form {form_id}: [form.roles] must be a table")
    by_id = {s.id: s for s in steps}
    for role, step_id in spec.items():
        _require(
            role in ROLE_KINDS,
            f"the form {form_id}: unknown role {role} (roles: {', '.join(ROLE_KINDS)})",
        )
        step = by_id.get(step_id) if isinstance(step_id, str) else None
        if step is None:
            raise FormError(f"the form {form_id}: the role {role} names no step of the form")
        _require(
            step.kind == ROLE_KINDS[role],
            f"the form {form_id}: the role {role} needs a {ROLE_KINDS[role]} step, "
            f"not the {step.kind} step {step_id}",
        )
    for role in REQUIRED_ROLES.get(form_id, ()):
        _require(
            role in spec,
            f"the form {form_id} lacks the role {role}: the code reads it; name its step "
            f'under [form.roles] ({role} = "<step id>")',
        )
    return dict(spec)


def load_form(name: str = "intake", forms_dir: Path = FORMS_DIR) -> Form:
    """Read and validate ``forms_dir/<name>.toml``."""
    path = forms_dir / f"{name}.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FormError(f"Cannot read the form {path}: {exc}") from exc
    return parse_form(data)


def extract_form(
    fileobj: BinaryIO, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor: the translatable texts of a form file (see babel.cfg)."""
    content = fileobj.read()
    form = parse_form(tomllib.loads(content.decode("utf-8")))
    lines = content.decode("utf-8").splitlines()
    # A shared option's label is not in the file: it is placed at the options_from line.
    shared = next((i + 1 for i, line in enumerate(lines) if "options_from" in line), 1)
    for text in form.texts():
        lineno = next((i + 1 for i, line in enumerate(lines) if text in line), shared)
        yield lineno, "_", text, [f"form {form.id}"]
