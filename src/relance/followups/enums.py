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

# followup.completed is sent the first time a followup's status enters one of these.
COMPLETED = frozenset(
    {
        FollowupStatus.DELIVERED,
        FollowupStatus.DEAL_FOUND,
        FollowupStatus.DEAL_NOT_FOUND,
        FollowupStatus.NO_ANSWER,
        FollowupStatus.BAD_BEHAVIOR,
    }
)


Tallies = tuple[int, int, int]


def tallies(status: str) -> Tallies:
    """What one followup of this status adds to its debt's (followups_count, nb_reminders,
    nb_answered)."""
    return 1, int(status in REMINDED), int(status in ANSWERED)


def tally_change(before: str | None, after: str) -> Tallies:
    """What a write moves its debt's tallies by: a new followup (`before` None) of status
    `after`, or a followup whose status went from `before` to `after`."""
    new = tallies(after)
    if before is None:
        return new
    old = tallies(before)
    return 0, new[1] - old[1], new[2] - old[2]


def plus(first: Tallies, second: Tallies) -> Tallies:
    return first[0] + second[0], first[1] + second[1], first[2] + second[2]
