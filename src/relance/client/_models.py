"""Typed objects of the API. Dates are aware datetimes; fields the SDK does not know yet are
kept (extra="allow"), and so are values it does not know yet (a vocabulary's Literal or any
str), so that a newer server never breaks an older client."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Tag
from pydantic.alias_generators import to_camel

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


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Followup(_Model):
    id: str
    debt_id: str
    status: FollowupStatus | str
    type: FollowupType | str
    call_date: datetime | None = None
    scheduled_at: datetime | None = None
    summary: str | None = None
    notes: str | None = None
    call_id: str | None = None
    audio_url: str | None = None
    pdf_url: str | None = None
    duration_ms: int | None = None
    disconnection_reason: str | None = None
    direction: Direction | str | None = None
    phone_number_used: str | None = None
    is_retry: bool = False
    processed_at: datetime | None = None
    triggered_payment: bool = False
    email_opened: bool = False
    email_open_count: int = 0
    email_first_opened_at: datetime | None = None
    email_clicked: bool = False
    email_click_count: int = 0
    media_urls_expire_at: datetime | None = None


class FollowupChange(_Model):
    """One entry of the changes feed: `seq` orders the company's committed changes. An entry
    is a FollowupUpsert or a FollowupDeletion; an action this SDK does not know yet comes as
    this base class."""

    seq: int
    action: str
    changed_at: datetime


class FollowupUpsert(FollowupChange):
    """A followup created or changed: `followup` is its latest state, as `get` shows it."""

    action: Literal["upsert"]
    followup: Followup


class FollowupDeletion(FollowupChange):
    """A followup deleted (with its debt)."""

    action: Literal["delete"]
    id: str
    debt_id: str


def _action(entry: Any) -> str:
    found = entry.get("action") if isinstance(entry, dict) else getattr(entry, "action", None)
    return found if found in ("upsert", "delete") else "other"


ChangeEntry = Annotated[
    Annotated[FollowupUpsert, Tag("upsert")]
    | Annotated[FollowupDeletion, Tag("delete")]
    | Annotated[FollowupChange, Tag("other")],
    Discriminator(_action),
]


class ChangePage(_Model):
    """A page of the changes feed, in commit order, each followup once at its latest state:
    `next_cursor` is where the feed continues after it (store it with what the page changed);
    `has_more`, whether more is there already."""

    data: list[ChangeEntry]
    next_cursor: str
    has_more: bool


class Debt(_Model):
    """A debt as the API shows it; `amount_text` is its amount exactly ("1250.00"), where
    `amount` is the float GetBill's answers carry. `import_date` is when it was created."""

    id: str
    civility: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    phone: str | None = None
    email: str | None = None
    birthdate: date | None = None
    amount: float | None = None
    amount_text: str | None = None
    currency: str | None = None
    object: str | None = None
    internal_id: str | None = None
    invoice_reference: str | None = None
    debtor_reference: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    address: str | None = None
    street_address: str | None = None
    street_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    status: DebtStatus | str | None = None
    timeline_id: str | None = None
    nb_reminders: int = 0
    nb_answered: int = 0
    summary: str | None = None
    iban: str | None = None
    followups_count: int = 0
    company: str | None = None
    debtor_company: str | None = None
    payment_link: str | None = None
    import_date: datetime | None = None
    last_timeline_restart: datetime | None = None
    payment_plan_active: bool = False
    plan_start_date: date | None = None
    contacts: list[dict[str, Any]] = []
    metadata: dict[str, Any] | None = None


class DebtBatchCreatedData(_Model):
    """What a batch says of a debt it created (the whole debt is `debts.get(debt_id)`)."""

    firstname: str | None = None
    lastname: str | None = None
    phone: str | None = None
    email: str | None = None
    amount: float | None = None
    currency: str | None = None


class DebtBatchCreated(_Model):
    """An item of a batch that became a debt: `index` is its place in the list sent, from 0;
    `temp_id`, the caller's name for it, as sent."""

    index: int
    temp_id: str | None = None
    debt_id: str
    status: str = "valid"
    data: DebtBatchCreatedData


class DebtBatchFailed(_Model):
    """An item refused, with each field at fault and its problems (`body` when the item was
    not even an object)."""

    index: int
    temp_id: str | None = None
    status: str = "invalid"
    errors: dict[str, list[str]]


class DebtBatchSkipped(_Model):
    """An item passed over: a template's placeholder row, not a debt."""

    index: int
    temp_id: str | None = None
    reason: str


class DebtBatchSummary(_Model):
    total: int
    created: int
    failed: int
    skipped: int


class DebtBatchResult(_Model):
    """What became of each item of a batch: the debts `created` were created together, in one
    transaction; `import_id` is the batch's ID."""

    import_id: str
    batch_name: str | None = None
    created: list[DebtBatchCreated] = []
    failed: list[DebtBatchFailed] = []
    skipped: list[DebtBatchSkipped] = []
    summary: DebtBatchSummary


def _in_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# GetBill writes its debtors' and creditors' moments in UTC with no offset
# ("2024-01-22 10:30:00"): read as the aware datetimes they are.
UtcMoment = Annotated[datetime, AfterValidator(_in_utc)]


class _CamelModel(_Model):
    """An object GetBill writes in camelCase, read into snake_case attributes
    (`firstName` is `first_name`); `model_dump(by_alias=True)` writes GetBill's names again."""

    model_config = ConfigDict(
        extra="allow", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class Debtor(_CamelModel):
    """A person the company's debts are owed by, matched across its debts (by email, else
    phone, else names and birthdate)."""

    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    date_of_birth: date | None = None
    first_seen_at: UtcMoment | None = None
    last_seen_at: UtcMoment | None = None
    last_updated_at: UtcMoment | None = None


class DebtorDetail(Debtor):
    """A debtor with their debts summed: every amount, those paid or settled, and how many.
    Relance computes no repayment score: `average_repayment_score` is None there."""

    total_debt_amount: float = 0.0
    total_paid_amount: float = 0.0
    average_repayment_score: float | None = None
    debts_count: int = 0


class Creditor(_CamelModel):
    """A client the company collects for: a debt's `company`, as a record."""

    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    registration_number: str | None = None
    tax_number: str | None = None
    contact_person: str | None = None
    created_at: UtcMoment | None = None
    updated_at: UtcMoment | None = None


class CreditorDetail(Creditor):
    """A creditor with how many debts it has and their amounts summed."""

    total_debts: int = 0
    total_amount: float = 0.0


class CompanyProfile(_Model):
    """The token's company: its name, how it is reached and when it was registered."""

    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    created_at: datetime


class User(_Model):
    """A person who signs in to the company's console (Relance has no console yet: none)."""

    id: str
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    is_active: bool = True
    created_at: datetime | None = None
    last_activity: datetime | None = None


class Subscription(_Model):
    """GetBill's plan; Relance's is "self-hosted", "active", with no `expires_at`."""

    plan: str | None = None
    status: str | None = None
    expires_at: datetime | None = None


class Credits(_Model):
    """GetBill's credit balance and subscription. Relance bills nothing: `current_credits`
    is None there, never a number to run out of."""

    current_credits: int | None = None
    subscription: Subscription | None = None


class Pagination(_Model):
    total: int
    page: int
    limit: int
    pages: int


class CursorPagination(_Model):
    """A cursor page's position: `next_starting_after` is the ID to page on from."""

    limit: int
    has_more: bool
    next_starting_after: str | None = None


class FieldChange(_Model):
    previous: Any = None
    new: Any = None


class Event(_Model):
    """A change event: `data` is the object as its GET showed it then; `changes`, on an
    update, each changed field's previous and new values."""

    id: str
    type: EventType | str
    timestamp: datetime
    data: dict[str, Any]
    changes: dict[str, FieldChange] | None = None


class WebhookEndpoint(_Model):
    """A URL that receives the company's events. `secret` is only there on create and on
    rotate_secret: it is never shown again."""

    id: str
    url: str
    description: str | None = None
    enabled_events: list[SubscribedEvent | str]
    status: WebhookEndpointStatus | str
    disabled_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    secret: str | None = None


class DeletedWebhookEndpoint(_Model):
    id: str
    deleted: bool


class WebhookAttempt(_Model):
    """One request of a delivery: the receiver's status code, or why no answer came."""

    attempted_at: datetime
    status_code: int | None = None
    duration_ms: int
    response: str = ""
    error: str | None = None


class WebhookDelivery(_Model):
    """One event owed to one endpoint; `attempts` only when retrieved by its own ID."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: EventType | str
    status: DeliveryStatus | str
    attempt_count: int
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    created_at: datetime
    attempts: list[WebhookAttempt] | None = None
