"""The committee vets volunteers: a new one is pending until a member approves them, and a
member may suspend and restore one. Leaving, like a suspension, gives back every slot.

Each change is one transaction with its audit entry and the messages it causes, through the
outbox: the card in the committee group (matching facts only, never a name or a phone), its
update once decided, and the volunteer's notice in their language. The committee knows a
volunteer by a short reference, never by a Telegram id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.kinds import NAMING_A_VOLUNTEER, NOBODY, Kind
from bot.storage import Connection, assignments, audit, drafts, outbox
from bot.storage import volunteers as volunteer_repo
from bot.storage.volunteers import ACTIVE, PAUSED, PENDING, SUSPENDED, Volunteer
from bot.tasks import TaskService
from bot.volunteers import VolunteerService

APPROVE, DECLINE, SUSPEND, RESTORE = "approve", "decline", "suspend", "restore"


# A volunteer's own events in the audit: a volunteer who leaves is no longer named on them.
VOLUNTEERING = (
    "volunteer_saved",
    "volunteer_paused",
    "volunteer_active",
    "task_accepted",
    "task_withdrawn",
)


@dataclass(frozen=True)
class Move:
    """A member's decision: the statuses it applies to, the status it gives (None: the
    profile is deleted), and the audit action."""

    before: tuple[str, ...]
    after: str | None
    event: str


MOVES = {
    APPROVE: Move((PENDING,), ACTIVE, "volunteer_approved"),
    DECLINE: Move((PENDING,), None, "volunteer_declined"),
    SUSPEND: Move((ACTIVE, PAUSED), SUSPENDED, "volunteer_suspended"),
    RESTORE: Move((SUSPENDED,), ACTIVE, "volunteer_restored"),
}
ON_CARD = (APPROVE, DECLINE)  # the decisions the card in the group shows


@dataclass(frozen=True)
class Decided:
    """How a member's decision went: ``done``, else the profile as it is now (None: gone)."""

    done: bool
    volunteer: Volunteer | None


class Vetting:
    """Registration, the committee's decisions, and leaving: the volunteer's status and the
    slots it holds change together."""

    def __init__(self, volunteers: VolunteerService, tasks: TaskService) -> None:
        self.volunteers = volunteers
        self.tasks = tasks
        self.db = tasks.db
        self.cipher = tasks.cipher
        self.ids = tasks.ids
        self.committee_chat_id = tasks.committee_chat_id

    async def register(
        self, user_id: int, answers: dict[str, Any], personal: dict[str, Any]
    ) -> bool:
        """Create or update the profile and drop its registration draft, at once; a new
        profile is pending and its card goes to the committee group. True if it is new."""
        async with self.db.transaction() as conn:
            ref = await volunteer_repo.upsert(conn, self.ids, user_id, answers, personal)
            await drafts.delete(conn, self.ids, user_id)
            await audit.record(conn, self.ids, "volunteer_saved", actor_id=user_id)
            if ref is not None and self.committee_chat_id is not None:
                await outbox.enqueue(
                    conn,
                    self.ids,
                    Kind.VOLUNTEER_CARD,
                    self.committee_chat_id,
                    payload=self.cipher.encrypt_json({"volunteer": ref}),
                )
        return ref is not None

    async def decide(
        self,
        ref: str,
        decision: str,
        member_id: int,
        member_name: str,
        card_message: int | None = None,
    ) -> Decided:
        """Approve, decline, suspend or restore the volunteer ``ref``.

        A suspended volunteer gives back their slots (as in leaving) and is sent nothing
        more that was waiting; a declined one's profile is deleted. ``card_message``: the
        card in the group the decision was pressed on, edited to show it.
        """
        move = MOVES[decision]
        found = await self.volunteers.by_ref(ref)
        if found is None:
            return Decided(False, None)
        held = await self.tasks.held_tasks(found.user_id) if decision == SUSPEND else []
        async with self.db.transaction() as conn:
            user_id = found.user_id
            if move.after is None:
                done = found.status in move.before and await volunteer_repo.remove(
                    conn, self.ids, user_id
                )
            else:
                done = await volunteer_repo.update_status(
                    conn, self.ids, user_id, move.after, before=move.before
                )
            if done and decision == SUSPEND:
                await outbox.drop_pending_to(conn, self.ids, user_id)
                await self.tasks.release(conn, user_id, held, named=True)
            if done:
                await self._decided(conn, found, decision, member_id, member_name, card_message)
        return Decided(done, None if done else found)

    async def _decided(
        self,
        conn: Connection,
        found: Volunteer,
        decision: str,
        member_id: int,
        member_name: str,
        card_message: int | None,
    ) -> None:
        """The volunteer's notice, the card's update and the audit entry of a decision."""
        await outbox.enqueue(
            conn,
            self.ids,
            Kind.VOLUNTEER_NOTICE,
            found.user_id,
            payload=self.cipher.encrypt_json({"notice": decision}),
        )
        if card_message is not None and self.committee_chat_id is not None:
            await outbox.enqueue(
                conn,
                self.ids,
                Kind.VOLUNTEER_CARD_UPDATE,
                self.committee_chat_id,
                payload=self.cipher.encrypt_json(
                    {
                        "volunteer": found.ref,
                        "message": card_message,
                        "decision": decision,
                        "by": member_name,
                    }
                ),
            )
        event = MOVES[decision].event
        await audit.record(
            conn, self.ids, event, actor_id=member_id, detail=f"volunteer {found.ref}"
        )

    async def refresh_card(self, ref: str, card_message: int) -> None:
        """A card pressed after its volunteer was decided elsewhere (/volunteers) or left:
        it is edited to show where they are now, without buttons."""
        if self.committee_chat_id is None:
            return
        async with self.db.transaction() as conn:
            await outbox.enqueue(
                conn,
                self.ids,
                Kind.VOLUNTEER_CARD_UPDATE,
                self.committee_chat_id,
                payload=self.cipher.encrypt_json({"volunteer": ref, "message": card_message}),
            )

    async def viewed(self, ref: str, member_id: int) -> Volunteer | None:
        """The profile a member is about to be shown, the view audited first."""
        found = await self.volunteers.by_ref(ref)
        if found is not None:
            async with self.db.transaction() as conn:
                await audit.record(
                    conn,
                    self.ids,
                    "volunteer_viewed",
                    actor_id=member_id,
                    detail=f"volunteer {found.ref}",
                )
        return found

    async def leave(self, user_id: int) -> bool:
        """Leave: every slot is given back (waiting lists move up, the creators are told "a
        volunteer"), reminders, task messages (sent or not) and the task links go, messages
        naming them to a creator name nobody, the profile and its personal data are deleted,
        and the audit keeps their volunteering events without saying who (what the same
        person did as a family or a member stays: /delete_my_data erases everything)."""
        held = await self.tasks.held_tasks(user_id)
        async with self.db.transaction() as conn:
            await self.tasks.release(conn, user_id, held, named=False)
            await assignments.delete_for_volunteer(conn, self.ids, user_id)
            await outbox.drop_pending_to(conn, self.ids, user_id)
            await outbox.forget_tasks_to(conn, self.ids, user_id)
            await outbox.unname(conn, self.ids, user_id, NAMING_A_VOLUNTEER, NOBODY)
            removed = await volunteer_repo.remove(conn, self.ids, user_id)
            await audit.forget_actor_of(conn, self.ids, user_id, VOLUNTEERING)
            await audit.record(conn, self.ids, "volunteer_left", actor_id=None)
        return removed
