"""A Python client of the followups API, for Relance and for GetBill itself (only the base URL
differs), with Relance's change events and webhook endpoints. It loads httpx and pydantic, none
of the server's dependencies.

    from relance.client import Relance

    with Relance() as client:  # RELANCE_BASE_URL, RELANCE_CLIENT_ID, RELANCE_CLIENT_SECRET
        for followup in client.followups.list(status="no_answer"):
            print(followup.id, followup.call_date)
        for event in client.events.list(type="followup.completed"):
            print(event.id, event.timestamp, event.data["id"])
"""

from relance.client._async import AsyncPage, AsyncPaginator, AsyncRelance
from relance.client._base import NOT_GIVEN, NotGiven
from relance.client._cursor import AsyncCursorPage, AsyncCursorPaginator, SyncCursorPage
from relance.client._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RelanceError,
)
from relance.client._models import (
    CursorPagination,
    Debt,
    DeletedWebhookEndpoint,
    Event,
    FieldChange,
    Followup,
    Pagination,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from relance.client._sync import Relance, SyncPage
from relance.client._vocabulary import (
    DebtStatus,
    DeliveryStatus,
    Direction,
    EventType,
    FollowupStatus,
    FollowupType,
    SubscribedEvent,
    WebhookEndpointStatus,
)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncCursorPage",
    "AsyncCursorPaginator",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncRelance",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CursorPagination",
    "Debt",
    "DebtStatus",
    "DeletedWebhookEndpoint",
    "DeliveryStatus",
    "Direction",
    "Event",
    "EventType",
    "FieldChange",
    "Followup",
    "FollowupStatus",
    "FollowupType",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "Pagination",
    "PermissionDeniedError",
    "RateLimitError",
    "Relance",
    "RelanceError",
    "SubscribedEvent",
    "SyncCursorPage",
    "SyncPage",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointStatus",
]
