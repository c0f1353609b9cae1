"""Case states and their transitions, in one place.

    new ──take──▶ in_review ──ask──▶ info_requested ──family answers──▶ in_review
     │               │                     │
     └──────approve / decline (from new, in_review or info_requested)──▶ approved | declined
    approved ──renew──▶ approved        approved | declined ──close──▶ closed
    declined | closed ──reopen──▶ in_review
    any status but closed ──merge (a duplicate of another case)──▶ closed

Applying a transition is one conditional UPDATE on (status, version): when two members decide
at the same moment exactly one UPDATE matches, and the other is told who decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import InvalidTransition

NEW = "new"
IN_REVIEW = "in_review"
INFO_REQUESTED = "info_requested"
APPROVED = "approved"
DECLINED = "declined"
CLOSED = "closed"
STATUSES = (NEW, IN_REVIEW, INFO_REQUESTED, APPROVED, DECLINED, CLOSED)
OPEN = (NEW, IN_REVIEW, INFO_REQUESTED)
UNDECIDED = OPEN

TAKE = "take"
ASK = "ask"
ANSWER = "answer"
APPROVE = "approve"
DECLINE = "decline"
CLOSE = "close"
REOPEN = "reopen"
RENEW = "renew"
MERGE = "merge"


@dataclass(frozen=True)
class Transition:
    """An action, the states it may start from, and the state it leads to."""

    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the status does not change (take while in review)


TRANSITIONS = {
    t.action: t
    for t in (
        Transition(TAKE, OPEN, None),
        Transition(ASK, (NEW, IN_REVIEW), INFO_REQUESTED),
        Transition(ANSWER, (INFO_REQUESTED,), IN_REVIEW),
        Transition(APPROVE, UNDECIDED, APPROVED),
        Transition(DECLINE, UNDECIDED, DECLINED),
        Transition(RENEW, (APPROVED,), APPROVED),
        Transition(CLOSE, (APPROVED, DECLINED), CLOSED),
        Transition(REOPEN, (DECLINED, CLOSED), IN_REVIEW),
        Transition(MERGE, (*OPEN, APPROVED, DECLINED), CLOSED),
    )
}


def target(action: str, status: str) -> str:
    """The status after ``action`` from ``status``; raises :class:`InvalidTransition`."""
    transition = TRANSITIONS.get(action)
    if transition is None or status not in transition.sources:
        raise InvalidTransition(action, status)
    if transition.target is None:
        return IN_REVIEW if status == NEW else status
    return transition.target


def allowed(status: str) -> list[str]:
    """The actions possible from ``status``."""
    return [a for a, t in TRANSITIONS.items() if status in t.sources]
