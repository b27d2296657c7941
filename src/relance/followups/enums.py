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
