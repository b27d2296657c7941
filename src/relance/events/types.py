"""The event vocabulary, GetBill's names."""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    FOLLOWUP_CREATED = "followup.created"
    FOLLOWUP_UPDATED = "followup.updated"
    FOLLOWUP_COMPLETED = "followup.completed"
    FOLLOWUP_FAILED = "followup.failed"
    DEBT_CREATED = "debt.created"
    # Reserved: sent once debts can change (PUT /debts/{id}).
    DEBT_UPDATED = "debt.updated"
    DEBT_STATUS_CHANGED = "debt.status_changed"
    # Sent to one endpoint by POST /webhook-endpoints/{id}/test.
    WEBHOOK_TEST = "webhook.test"


# What an endpoint may subscribe to: every type but the test, which goes where it is asked.
SUBSCRIBABLE = tuple(t for t in EventType if t is not EventType.WEBHOOK_TEST)
