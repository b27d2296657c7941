"""A Python client of the followups API, for Relance and for GetBill itself (only the base URL
differs), with Relance's change events and webhook endpoints. It loads httpx and pydantic, none
of the server's dependencies.

    from decimal import Decimal

    from relance.client import Relance

    with Relance() as client:  # RELANCE_BASE_URL, RELANCE_CLIENT_ID, RELANCE_CLIENT_SECRET
        for followup in client.followups.list(status="no_answer"):
            print(followup.id, followup.call_date)
        for debt in client.debts.list(status="pending", min_amount=Decimal("100")):
            client.debts.update(debt.id, status="status.default.in_progress")
        for debtor in client.debtors.list():  # GetBill's firstName is first_name
            print(debtor.first_name, client.debtors.get(debtor.id).total_debt_amount)
        for event in client.events.list(type="followup.completed"):
            print(event.id, event.timestamp, event.data["id"])
        snapshot = client.followups.export()  # a consistent snapshot, streamed
        for followup in snapshot:
            print(followup.id)
        for change in client.followups.changes(snapshot.next_cursor, follow=True):
            print(change.seq, change.action)  # every change after it, for ever
"""

from relance.client._async import AsyncRelance
from relance.client._async_feeds import AsyncChangeFeed, AsyncExport
from relance.client._base import NOT_GIVEN, NotGiven
from relance.client._cursor import AsyncCursorPage, AsyncCursorPaginator, SyncCursorPage
from relance.client._debts import Amount, DebtFields, DebtFilters, DebtMoment
from relance.client._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GoneError,
    IncompleteExportError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RelanceError,
)
from relance.client._models import (
    ChangePage,
    CompanyProfile,
    Creditor,
    CreditorDetail,
    Credits,
    CursorPagination,
    Debt,
    DebtBatchCreated,
    DebtBatchCreatedData,
    DebtBatchFailed,
    DebtBatchResult,
    DebtBatchSkipped,
    DebtBatchSummary,
    Debtor,
    DebtorDetail,
    DeletedWebhookEndpoint,
    Event,
    FieldChange,
    Followup,
    FollowupChange,
    FollowupDeletion,
    FollowupUpsert,
    Pagination,
    Subscription,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from relance.client._pages import AsyncPage, AsyncPaginator, SyncPage
from relance.client._parties import CreditorDetails, CreditorFields, DebtorFields
from relance.client._sync import Relance
from relance.client._sync_feeds import ChangeFeed, Export
from relance.client._vocabulary import (
    DebtStatus,
    DebtStatusName,
    DeliveryStatus,
    Direction,
    EventType,
    FollowupStatus,
    FollowupType,
    SettableDebtStatus,
    SubscribedEvent,
    WebhookEndpointStatus,
)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Amount",
    "AsyncChangeFeed",
    "AsyncCursorPage",
    "AsyncCursorPaginator",
    "AsyncExport",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncRelance",
    "AuthenticationError",
    "BadRequestError",
    "ChangeFeed",
    "ChangePage",
    "CompanyProfile",
    "ConflictError",
    "Creditor",
    "CreditorDetail",
    "CreditorDetails",
    "CreditorFields",
    "Credits",
    "CursorPagination",
    "Debt",
    "DebtBatchCreated",
    "DebtBatchCreatedData",
    "DebtBatchFailed",
    "DebtBatchResult",
    "DebtBatchSkipped",
    "DebtBatchSummary",
    "DebtFields",
    "DebtFilters",
    "DebtMoment",
    "DebtStatus",
    "DebtStatusName",
    "Debtor",
    "DebtorDetail",
    "DebtorFields",
    "DeletedWebhookEndpoint",
    "DeliveryStatus",
    "Direction",
    "Event",
    "EventType",
    "Export",
    "FieldChange",
    "Followup",
    "FollowupChange",
    "FollowupDeletion",
    "FollowupStatus",
    "FollowupType",
    "FollowupUpsert",
    "GoneError",
    "IncompleteExportError",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "Pagination",
    "PermissionDeniedError",
    "RateLimitError",
    "Relance",
    "RelanceError",
    "SettableDebtStatus",
    "SubscribedEvent",
    "Subscription",
    "SyncCursorPage",
    "SyncPage",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointStatus",
]
