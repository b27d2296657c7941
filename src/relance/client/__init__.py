"""A Python client of the followups API, for Relance and for GetBill itself (only the base URL
differs). It loads httpx and pydantic, none of the server's dependencies.

    from relance.client import Relance

    with Relance() as client:  # RELANCE_BASE_URL, RELANCE_CLIENT_ID, RELANCE_CLIENT_SECRET
        for followup in client.followups.list(status="no_answer"):
            print(followup.id, followup.call_date)
"""

from relance.client._async import AsyncPage, AsyncPaginator, AsyncRelance
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
from relance.client._models import Debt, Followup, Pagination
from relance.client._sync import Relance, SyncPage
from relance.client._vocabulary import DebtStatus, Direction, FollowupStatus, FollowupType

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncRelance",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "Debt",
    "DebtStatus",
    "Direction",
    "Followup",
    "FollowupStatus",
    "FollowupType",
    "InternalServerError",
    "NotFoundError",
    "Pagination",
    "PermissionDeniedError",
    "RateLimitError",
    "Relance",
    "RelanceError",
    "SyncPage",
]
