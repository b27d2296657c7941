"""The bodies the webhook endpoints take. A URL's own checks (https, a public host) depend on
the deployment (RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS), so the service makes them."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from relance.events.types import SUBSCRIBABLE
from relance.kit.fields import NoNul, WholeNumber
from relance.kit.time import MOMENT_SCHEMAS
from relance.webhooks.addresses import MAX_URL_LENGTH

ALL_EVENTS = "*"

MAX_ROTATION_SECONDS = 7 * 86_400
DAY_SECONDS = 86_400

EventName = Literal[
    "*",
    "followup.created",
    "followup.updated",
    "followup.completed",
    "followup.failed",
    "debt.created",
    "debt.updated",
    "debt.status_changed",
]
assert set(get_args(EventName)) == {ALL_EVENTS, *SUBSCRIBABLE}, "EventName lists every type"

Url = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_URL_LENGTH),
    Field(json_schema_extra={"format": "uri", "pattern": "^https?://[^\\s#]+$"}),
]
Description = Annotated[str, StringConstraints(max_length=500), NoNul]
EnabledEvents = Annotated[
    list[EventName],
    Field(
        min_length=1,
        max_length=len(SUBSCRIBABLE),
        description='The event types it receives, or ["*"] for every one',
    ),
]


def _every_event() -> list[EventName]:
    return ["*"]


class WebhookEndpointBody(BaseModel):
    """POST /webhook-endpoints."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: Url = Field(description="Where the events are POSTed: https, on a public address")
    enabled_events: EnabledEvents = Field(default_factory=_every_event)
    description: Description | None = None


class WebhookEndpointPatch(BaseModel):
    """PATCH /webhook-endpoints/{id}: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: Url | None = None
    enabled_events: EnabledEvents | None = None
    description: Description | None = None
    status: Literal["enabled", "disabled"] | None = None


class RotateSecretBody(BaseModel):
    """POST /webhook-endpoints/{id}/rotate-secret."""

    model_config = ConfigDict(extra="forbid", strict=True)

    expire_previous_in_seconds: Annotated[int, WholeNumber] = Field(
        default=DAY_SECONDS,
        ge=0,
        le=MAX_ROTATION_SECONDS,
        description="How long the previous secret still signs too (0: it stops at once)",
    )


class RecoverBody(BaseModel):
    """POST /webhook-endpoints/{id}/recover."""

    model_config = ConfigDict(extra="forbid", strict=True)

    since: Annotated[
        str,
        Field(
            description="Re-send what was owed since then: RFC 3339 with its offset, or Unix"
            " seconds",
            json_schema_extra={"anyOf": MOMENT_SCHEMAS},
        ),
    ]
