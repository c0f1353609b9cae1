"""A person's pending multi-step interaction (a member's wizard, a family answering a
question), kept in an encrypted row so that a restart in the middle loses nothing.

A wizard that completes ends its session inside the transaction of its result (the
services' ``ends_session=True``); :meth:`SessionService.end` is for one abandoned.
"""

from __future__ import annotations

from typing import Any

from bot.ids import Ids
from bot.storage import Database, sessions


class SessionService:
    """Load, save and end a person's session."""

    def __init__(self, db: Database, ids: Ids) -> None:
        self.db = db
        self.ids = ids

    async def load(self, user_id: int) -> dict[str, Any] | None:
        """The person's pending interaction, if any."""
        return await sessions.load(self.db, self.ids, user_id)

    async def save(self, user_id: int, session: dict[str, Any]) -> None:
        """Store the pending interaction durably."""
        await sessions.save(self.db, self.ids, user_id, session)

    async def end(self, user_id: int) -> None:
        """Forget the pending interaction (cancelled, or it can no longer go on)."""
        async with self.db.transaction() as conn:
            await sessions.end(conn, self.ids, user_id)
