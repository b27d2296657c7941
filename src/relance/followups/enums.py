"""The followup vocabulary, exactly as GetBill spells it."""

from __future__ import annotations

import enum


class FollowupStatus(enum.StrEnum):
    ON_HOLD = "on_hold"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    SENT = "sent"
    DELIVERED = "delivered"
    DEAL_FOUND = "deal_found"
    NO_ANSWER = "no_answer"
    DEAL_NOT_FOUND = "deal_not_found"
    BAD_BEHAVIOR = "bad_behavior"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FollowupType(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VOICEMAIL = "voicemail"
    MANUAL_CALL = "manual_call"
    PHYSICAL = "physical"
    POSTMAIL = "postmail"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


# A debt's `nb_reminders` counts its followups that were attempted (carried out, whatever the
# outcome, or failed in the attempt); `nb_answered` those in which the debtor responded.
REMINDED = frozenset(
    {
        FollowupStatus.SENT,
        FollowupStatus.DELIVERED,
        FollowupStatus.DEAL_FOUND,
        FollowupStatus.NO_ANSWER,
        FollowupStatus.DEAL_NOT_FOUND,
        FollowupStatus.BAD_BEHAVIOR,
        FollowupStatus.FAILED,
    }
)
ANSWERED = frozenset(
    {FollowupStatus.DEAL_FOUND, FollowupStatus.DEAL_NOT_FOUND, FollowupStatus.BAD_BEHAVIOR}
)


def tallies(status: str) -> tuple[int, int, int]:
    """What one followup of this status adds to its debt's (followups_count, nb_reminders,
    nb_answered)."""
    return 1, int(status in REMINDED), int(status in ANSWERED)
