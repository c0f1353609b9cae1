"""Scripted conversations shared by the tests (and by nothing else)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.ids import Ids
from bot.storage import Database, audit, people, volunteers
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness

NAME = "Fatima <b>Al-Zahra</b> & Sons *_`"
PHONE_TYPED = "٠٧٩١٢٣٤٥٦٧"
PHONE_E164 = "+962791234567"
AREA = "Jabal Al-Hussein"
OTHER = "Our house burned down last winter"
STORY = "My husband passed away and my kidney illness keeps me from working"


@dataclass
class Answers:
    """What a family answers, step by step."""

    name: str = NAME
    phone: str = PHONE_TYPED
    area_choice: str = "other"  # an id of data/areas.toml, or "other" to type ``area``
    area: str = AREA
    other: str = OTHER
    story: str = STORY
    household: str = "٥"
    children: str = "3"


async def apply_and_consent(h: Harness, user: int) -> None:
    """/apply, then 'I agree'."""
    await h.say(user, "/apply")
    await h.press(user, r"^ic:y$")


def script(a: Answers | None = None) -> list[tuple[str, str]]:
    """Every action from the first question to the review: ("press", regex) or ("say", text).

    The area is tapped; with "other" (the default) the family then types it, kept private.
    """
    a = a or Answers()
    area = [("press", rf":area:o:{a.area_choice}$")]
    if a.area_choice == "other":
        area.append(("say", a.area))
    return [
        ("press", r":situation:o:orphans$"),
        ("press", r":situation:o:other$"),
        ("press", r":situation:d:$"),
        ("say", a.other),
        ("press", r":support:o:financial$"),
        ("press", r":support:o:moral$"),
        ("press", r":support:d:$"),
        ("say", a.household),
        ("press", rf":children:n:{a.children}$"),
        *area,
        ("say", a.name),
        ("say", a.phone),
        ("press", r":call_time:o:evening$"),
        ("say", a.story),
        ("press", r":urgency:o:high$"),
    ]


async def act(h: Harness, user: int, action: tuple[str, str]) -> None:
    """Carry out one scripted action."""
    kind, value = action
    if kind == "press":
        await h.press(user, value)
    else:
        await h.say(user, value)


async def answer_all(h: Harness, user: int, a: Answers | None = None) -> None:
    """Answer every question from the first, arriving at the review."""
    for action in script(a):
        await act(h, user, action)


async def submit(h: Harness, user: int) -> str:
    """Press Submit on the review; return the case reference the family was given."""
    await h.press(user, r":review:S:$")
    case = (
        await h.services.intake.db.fetchall(
            "SELECT ref FROM cases WHERE user_id = ? ORDER BY id DESC LIMIT 1",
            (h.services.ids.pid(user),),
        )
    )[0]
    return str(case["ref"])


async def full_intake(h: Harness, user: int, a: Answers | None = None) -> str:
    """The whole intake from /apply to Submit; return the reference."""
    await apply_and_consent(h, user)
    await answer_all(h, user, a)
    return await submit(h, user)


DRIVER = {
    "skills": ["driving"],
    "areas": ["north"],
    "languages": ["ar"],
    "availability": ["weekends"],
}
"""A volunteer's answers: drives, in the north, speaks Arabic, free at weekends."""


async def add_volunteers(
    db: Database,
    keys: Ids,
    ids: Sequence[int],
    languages: Sequence[str] = ("ar", "en"),
    answers: dict[str, list[str]] = DRIVER,
) -> None:
    """Active volunteers written straight to the database, in one transaction (as
    ``volunteers.save`` does), their bot language taken from ``languages`` in turn."""
    async with db.transaction() as conn:
        for number, uid in enumerate(ids):
            await people.add(conn, keys, uid, languages[number % len(languages)])
            await volunteers.upsert(conn, keys, uid, answers, {"name": f"V{uid}", "phone": None})
            await volunteers.update_status(
                conn, keys, uid, volunteers.ACTIVE, before=(volunteers.PENDING,)
            )
            await audit.record(conn, keys, "volunteer_saved", actor_id=uid)


async def approve_volunteer(h: Harness, member: int = MEMBER, group: int = COMMITTEE_CHAT) -> str:
    """A member presses Approve on the newest volunteer card in the committee group, as the
    committee would; return the volunteer's reference."""
    _, data = h.find_button(group, r"^vv:a:")
    await h.press(member, rf"^{data}$", chat_id=group)
    return data.split(":")[2]


def live_buttons(h: Harness, chat: int, prefix: str = "in:") -> list[int]:
    """The ids of the messages in ``chat`` that still show a button of ``prefix`` (the form's
    questions by default): a chat should hold at most one live question."""
    return [
        int(m["message_id"])
        for m in h.fake.messages(chat)
        if any(data and data.startswith(prefix) for _, data in h.fake.buttons(m))
    ]


def live_questions(h: Harness, chat: int = 202) -> int:
    """How many messages of ``chat`` still show a question's buttons."""
    return len(live_buttons(h, chat))
