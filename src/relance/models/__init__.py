"""Every table, imported here so that `Base.metadata` knows them all."""

from relance.models.base import Base
from relance.models.change import ChangeSequence, FollowupChange
from relance.models.company import Company
from relance.models.creditor import Creditor
from relance.models.debt import Debt
from relance.models.debt_batch import DebtBatch
from relance.models.debt_status_change import DebtStatusChange
from relance.models.debtor import Debtor
from relance.models.followup import Followup
from relance.models.followup_count import FollowupDayCount, FollowupMonthCount, FollowupTotal
from relance.models.idempotency_key import IdempotencyKey
from relance.models.oauth_client import OAuthClient
from relance.models.signing_key import TokenSigningKey
from relance.models.webhook import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

# Children before parents: the order in which every row can be deleted.
TABLES_CHILDREN_FIRST: tuple[str, ...] = tuple(
    table.name for table in reversed(Base.metadata.sorted_tables)
)

__all__ = [
    "TABLES_CHILDREN_FIRST",
    "Base",
    "ChangeSequence",
    "Company",
    "Creditor",
    "Debt",
    "DebtBatch",
    "DebtStatusChange",
    "Debtor",
    "Event",
    "Followup",
    "FollowupChange",
    "FollowupDayCount",
    "FollowupMonthCount",
    "FollowupTotal",
    "IdempotencyKey",
    "OAuthClient",
    "TokenSigningKey",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
