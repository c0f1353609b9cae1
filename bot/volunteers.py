"""Volunteers' profiles: registering, pausing, resuming, leaving.

Each change is one transaction with its audit entry; saving a profile also drops the
registration draft it came from, so a crash keeps one or the other, never both.
"""

from __future__ import annotations

from typing import Any

from bot.ids import Ids
from bot.storage import Database, audit, drafts
from bot.storage import volunteers as volunteer_repo
from bot.storage.volunteers import Volunteer


class VolunteerService:
    """The volunteer's own profile, through the repository."""

    def __init__(self, db: Database, ids: Ids) -> None:
        self.db = db
        self.ids = ids

    async def get(self, user_id: int) -> Volunteer | None:
        """The volunteer's profile, decrypted; None for someone not registered."""
        return await volunteer_repo.get(self.db, self.ids, user_id)

    async def save(self, user_id: int, answers: dict[str, Any], personal: dict[str, Any]) -> None:
        """Create or update the profile and drop the registration draft, at once."""
        async with self.db.transaction() as conn:
            await volunteer_repo.upsert(conn, self.ids, user_id, answers, personal)
            await drafts.delete(conn, self.ids, user_id)
            await audit.record(conn, self.ids, "volunteer_saved", actor_id=user_id)

    async def set_status(self, user_id: int, status: str) -> bool:
        """Pause or resume; False if there is no such volunteer."""
        async with self.db.transaction() as conn:
            changed = await volunteer_repo.update_status(conn, self.ids, user_id, status)
            await audit.record(conn, self.ids, f"volunteer_{status}", actor_id=user_id)
        return changed

    async def delete(self, user_id: int) -> bool:
        """Leave: the profile and its personal data are deleted (audited without them)."""
        async with self.db.transaction() as conn:
            removed = await volunteer_repo.remove(conn, self.ids, user_id)
            await audit.record(conn, self.ids, "volunteer_left", actor_id=user_id)
        return removed
