"""Volunteers' profiles: reading them, and the volunteer's own pause and resume.

Registering, leaving and the committee's decisions change the profile together with the
tasks it holds and the messages they cause: they are in bot/vetting.py.
"""

from __future__ import annotations

from typing import Any

from bot.ids import Ids
from bot.storage import Database, audit
from bot.storage import volunteers as volunteer_repo
from bot.storage.volunteers import ACTIVE, PAUSED, Volunteer

# The volunteer's own switch: pausing from active, resuming from paused; a pending or a
# suspended volunteer waits for the committee instead.
OWN_SWITCH = {PAUSED: (ACTIVE,), ACTIVE: (PAUSED,)}


class VolunteerService:
    """The volunteer's own profile, through the repository."""

    def __init__(self, db: Database, ids: Ids) -> None:
        self.db = db
        self.ids = ids

    async def get(self, user_id: int) -> Volunteer | None:
        """The volunteer's profile, decrypted; None for someone not registered."""
        return await volunteer_repo.get(self.db, self.ids, user_id)

    async def by_ref(self, ref: str) -> Volunteer | None:
        """The profile the committee knows by ``ref``, decrypted."""
        return await volunteer_repo.by_ref(self.db, self.ids, ref)

    async def listing(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every volunteer's reference, status and matching answers, pending first."""
        return await volunteer_repo.listing(self.db)

    async def set_status(self, user_id: int, status: str) -> bool:
        """Pause (from active) or resume (from paused); False otherwise, unaudited."""
        async with self.db.transaction() as conn:
            changed = await volunteer_repo.update_status(
                conn, self.ids, user_id, status, before=OWN_SWITCH[status]
            )
            if changed:
                await audit.record(conn, self.ids, f"volunteer_{status}", actor_id=user_id)
        return changed
