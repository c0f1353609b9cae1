"""The kinds of outbox message: shared by the code that queues them and the code that
renders them, so a kind is spelled in one place.

The values are stored in ``outbox.kind``: never rename one without a migration.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """One kind of message the delivery worker sends from the outbox."""

    COMMITTEE_CARD = "committee_card"
    CARD_UPDATE = "card_update"
    FAMILY_NOTICE = "family_notice"
    MEMBER_NOTICE = "member_notice"
    SUPPORT_END = "support_end"
    TASK_OFFER = "task_offer"
    TASK_PROMOTED = "task_promoted"
    TASK_REMINDER = "task_reminder"
    TASK_FOLLOWUP = "task_followup"
    TASK_DROPOUT = "task_dropout"
    TASK_OUTCOME = "task_outcome"
    TASK_CANCELLED = "task_cancelled"
    TASK_CHANGED = "task_changed"
    TASK_OFFER_ANSWER = "task_offer_answer"
    VOLUNTEER_CARD = "volunteer_card"
    VOLUNTEER_CARD_UPDATE = "volunteer_card_update"
    VOLUNTEER_NOTICE = "volunteer_notice"
    SUPPORT_RECEIPT = "support_receipt"
    SUPPORT_ALERT = "support_alert"
    FEEDBACK_NOTICE = "feedback_notice"
    FEEDBACK_ANSWER = "feedback_answer"
    FEEDBACK_CLOSED = "feedback_closed"
    SUPPORT_FOLLOWUP = "support_followup"
    ACTIVITY_ANNOUNCEMENT = "activity_announcement"
    ACTIVITY_PROMOTED = "activity_promoted"
    ACTIVITY_REMINDER = "activity_reminder"
    ACTIVITY_CHANGED = "activity_changed"
    ACTIVITY_CANCELLED = "activity_cancelled"
    ACTIVITY_COUNTS = "activity_counts"


# Sent to many people at once: they take what the replies leave of Telegram's budget
# (bot.limits.Priority.BULK).
BULK = frozenset(
    {
        Kind.TASK_OFFER,
        Kind.TASK_REMINDER,
        Kind.TASK_FOLLOWUP,
        Kind.ACTIVITY_ANNOUNCEMENT,
        Kind.ACTIVITY_REMINDER,
    }
)

# Private messages that carry what was said in confidence (a concern sent to the trustees,
# the members' notes on what a family received): sent with protect_content, so that they
# cannot be forwarded or saved out of the chat, like Details.
CONFIDENTIAL = frozenset({Kind.SUPPORT_ALERT, Kind.FEEDBACK_NOTICE})

# Sent to a task's creator, their encrypted payload naming the volunteer: when a volunteer's
# data goes, those still to send name NOBODY (read as "a volunteer") and the sent ones go.
NAMING_A_VOLUNTEER = (
    Kind.TASK_DROPOUT.value,
    Kind.TASK_OUTCOME.value,
    Kind.TASK_OFFER_ANSWER.value,
)
NOBODY = 0
