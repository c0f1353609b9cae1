"""Which volunteers fit one case, best first: pure rules, without Telegram or the database.

A volunteer fits when at least one of the case's support needs fits them by the broadcast's
own rule (:func:`bot.tasks.fits`: the skill, and the area or "anywhere"); paused, suspended
and unapproved volunteers are never offered to the ranking (the repository reads active ones
only). Among those who fit, the best cover the most needs, then live in the family's very
area (not only "anywhere"), then speak its language, then are usually free at the task's
time, then hold the fewest tasks; equals keep the order they came in (registration order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.tasks import fits

# The volunteer form's availability options, and when a moment falls in each. The weekend is
# Friday and Saturday, as where the committee works; an evening starts at 17:00.
WEEKDAYS, EVENINGS, WEEKENDS = "weekdays", "evenings", "weekends"
WEEKEND = (4, 5)
EVENING_HOUR = 17


@dataclass(frozen=True)
class CaseNeeds:
    """What a case asks of a volunteer: its support needs (option ids shared with the
    volunteers' skills), the family's area and language, and when the task would be (local
    time), if known."""

    needs: Sequence[str]
    area: str
    language: str
    at: datetime | None = None


@dataclass(frozen=True)
class Profile:
    """A volunteer as the ranking reads them: their reference and matching answers, and how
    many tasks they hold now."""

    ref: str
    skills: Sequence[str]
    areas: Sequence[str]
    languages: Sequence[str]
    availability: Sequence[str]
    load: int = 0


@dataclass(frozen=True)
class Match:
    """A volunteer who fits the case, and why."""

    profile: Profile
    covered: tuple[str, ...]  # the case's needs they fit, in the case's order
    same_area: bool
    same_language: bool
    available: bool

    def key(self) -> tuple[int, int, int, int, int]:
        """The sort key: best first."""
        return (
            -len(self.covered),
            -self.same_area,
            -self.same_language,
            -self.available,
            self.profile.load,
        )


def slots(at: datetime) -> set[str]:
    """The availability options a moment falls in (a Friday evening: weekends and evenings)."""
    found = {WEEKENDS if at.weekday() in WEEKEND else WEEKDAYS}
    if at.hour >= EVENING_HOUR:
        found.add(EVENINGS)
    return found


def match(case: CaseNeeds, profile: Profile) -> Match | None:
    """How ``profile`` fits the case, or None when no need of the case fits them."""
    covered = tuple(
        need
        for need in case.needs
        if fits(need, case.area, list(profile.skills), list(profile.areas))
    )
    if not covered:
        return None
    available = case.at is not None and bool(slots(case.at) & set(profile.availability))
    return Match(
        profile,
        covered,
        same_area=case.area in profile.areas,
        same_language=case.language in profile.languages,
        available=available,
    )


def rank(case: CaseNeeds, profiles: Iterable[Profile]) -> list[Match]:
    """The volunteers who fit the case, best first; equals keep their order (a stable sort)."""
    found = [m for m in (match(case, p) for p in profiles) if m is not None]
    return sorted(found, key=Match.key)
