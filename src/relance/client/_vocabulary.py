"""The values the API accepts for a followup's status and type, a debt's status and the
webhooks' event types and statuses, as Literals, so that a type checker catches a misspelt
filter before the server refuses it. The client installs without the server, so it cannot
import the server's enums; a test keeps the two equal."""

from __future__ import annotations

from typing import Literal

FollowupStatus = Literal[
    "on_hold",
    "scheduled",
    "in_progress",
    "sent",
    "delivered",
    "deal_found",
    "no_answer",
    "deal_not_found",
    "bad_behavior",
    "failed",
    "cancelled",
]
FollowupType = Literal[
    "call", "email", "sms", "whatsapp", "voicemail", "manual_call", "physical", "postmail"
]
Direction = Literal["inbound", "outbound"]
DebtStatus = Literal[
    "status.default.pending",
    "status.default.in_progress",
    "status.default.processing",
    "status.default.settled",
    "status.default.paid",
    "status.default.partial",
    "status.default.failed",
    "status.default.archived",
    "status.default.invalid_phone",
    "status.default.on_hold",
    "status.default.refused",
]
# A debt's status by its last part, as GetBill's examples write it (`paid`): the list's
# filter takes it as well as the whole name.
DebtStatusName = Literal[
    "pending",
    "in_progress",
    "processing",
    "settled",
    "paid",
    "partial",
    "failed",
    "archived",
    "invalid_phone",
    "on_hold",
    "refused",
]
# The statuses an update may give a debt (GetBill's five); the others are the server's to set.
SettableDebtStatus = Literal[
    "status.default.paid",
    "status.default.in_progress",
    "status.default.on_hold",
    "status.default.failed",
    "status.default.archived",
]
EventType = Literal[
    "followup.created",
    "followup.updated",
    "followup.completed",
    "followup.failed",
    "debt.created",
    "debt.updated",
    "debt.status_changed",
    "webhook.test",
]
# What an endpoint subscribes to: any type but webhook.test (sent only where it is asked), or
# "*" for every one.
SubscribedEvent = Literal[
    "*",
    "followup.created",
    "followup.updated",
    "followup.completed",
    "followup.failed",
    "debt.created",
    "debt.updated",
    "debt.status_changed",
]
WebhookEndpointStatus = Literal["enabled", "disabled"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]
