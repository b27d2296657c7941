"""The body of POST /debts, the list query of GET /debts, and the debt as the API shows it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import Meta
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from relance.errors import ValidationFailed
from relance.kit.bodies import checked
from relance.kit.codes import CURRENCIES, IBAN_PATTERN, is_country, is_iban
from relance.kit.fields import Label, Long, Name, NoNul, Phone, Short, WebUrl
from relance.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, PageRequest
from relance.kit.query import QueryParams, QueryReader
from relance.kit.views import Day, Moment, NonNegative, PublicId

_EMAIL = re.compile(r"[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+")
MAX_METADATA_BYTES = 16 * 1024


class DebtStatus(StrEnum):
    PENDING = "status.default.pending"
    IN_PROGRESS = "status.default.in_progress"
    PROCESSING = "status.default.processing"
    SETTLED = "status.default.settled"
    PAID = "status.default.paid"
    PARTIAL = "status.default.partial"
    FAILED = "status.default.failed"
    ARCHIVED = "status.default.archived"
    INVALID_PHONE = "status.default.invalid_phone"
    ON_HOLD = "status.default.on_hold"
    REFUSED = "status.default.refused"


Email = Annotated[
    str,
    StringConstraints(max_length=254),
    checked(
        lambda v: _EMAIL.fullmatch(v) is not None,
        "must be an email address",
        {"format": "email", "pattern": f"^{_EMAIL.pattern}$"},
    ),
]
Currency = Annotated[
    str,
    checked(
        lambda v: v in CURRENCIES,
        "must be an ISO 4217 code in capitals, such as EUR",
        {"enum": sorted(CURRENCIES)},
    ),
]
Country = Annotated[
    str,
    checked(
        is_country,
        "must be an ISO 3166-1 alpha-2 code in capitals, such as FR",
        {"pattern": "^[A-Z]{2}$"},
    ),
]
Iban = Annotated[
    str,
    StringConstraints(max_length=42),
    checked(
        is_iban,
        "must be a valid IBAN",
        {"pattern": IBAN_PATTERN, "description": "An IBAN whose check digits hold; spaces allowed"},
    ),
]


def _storable(metadata: dict[str, Any]) -> bool:
    """Whether orjson can write it: not nested beyond its depth, no lone surrogate (the numbers
    were checked one by one as the document was read)."""
    try:
        orjson.dumps(metadata)
    except orjson.JSONEncodeError:
        return False
    return True


Metadata = Annotated[
    dict[str, Any],
    checked(
        _storable,
        "must be a JSON object that can be stored: at most 254 levels deep, no lone surrogates",
        {},
    ),
    checked(
        lambda v: len(orjson.dumps(v)) <= MAX_METADATA_BYTES,
        f"must be a JSON object of at most {MAX_METADATA_BYTES} bytes",
        {"description": f"Any JSON object of at most {MAX_METADATA_BYTES} bytes, kept as given"},
    ),
]
# A positive amount with at most 12 digits before the point and 2 after, as a JSON number or
# a string.
_AMOUNT: list[Any] = [
    {"type": "number", "exclusiveMinimum": 0, "maximum": 999_999_999_999.99, "multipleOf": 0.01},
    {"type": "string", "pattern": r"^(?=.*[1-9])[0-9]{1,12}(\.[0-9]{1,2})?$"},
]
_AMOUNT_TEXT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


def _ascii_amount(value: Any) -> Any:
    """Decimal() reads digits of any script, `_` between them and spaces around: an amount sent
    as a string must be written as the document says, in ASCII digits. Once read here, the
    number is handed on as the Decimal that strict validation takes."""
    if isinstance(value, str):
        if _AMOUNT_TEXT.fullmatch(value) is None:
            raise ValueError('must be a number, or a string of ASCII digits such as "1250.00"')
        return Decimal(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # repr: the float's shortest text, which parse_body has checked is the number sent.
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value


Text200 = Annotated[str, StringConstraints(max_length=200), NoNul]
Text20 = Annotated[str, StringConstraints(max_length=20), NoNul]


# A debt needs a way to reach the debtor (for_create checks it).
_REACHABLE: list[Any] = [
    {"required": [name], "properties": {name: {"type": "string"}}} for name in ("phone", "email")
]


class DebtBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": _REACHABLE})

    firstname: Name
    lastname: Name
    amount: Annotated[Decimal, BeforeValidator(_ascii_amount)] = Field(
        gt=0, max_digits=14, decimal_places=2, json_schema_extra={"anyOf": _AMOUNT}
    )
    currency: Currency
    civility: Text20 | None = None
    phone: Phone | None = None
    email: Email | None = None
    birthdate: date | None = None
    object: Long | None = None
    internal_id: Short | None = None
    invoice_reference: Short | None = None
    debtor_reference: Short | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    address: Annotated[str, StringConstraints(max_length=300), NoNul] | None = None
    street_address: Text200 | None = None
    street_number: Text20 | None = None
    postal_code: Text20 | None = None
    city: Short | None = None
    country: Country | None = None
    iban: Iban | None = None
    company: Text200 | None = None
    debtor_company: Text200 | None = None
    payment_link: WebUrl | None = None
    timeline_id: Short | None = None
    metadata: Metadata | None = None
    # GetBill's timeline options: accepted so its clients' bodies pass, with no effect here.
    timeline_start_mode: Label | None = None
    accept_expensive_destination: bool | None = None


def for_create(body: DebtBody) -> dict[str, Any]:
    """The stored columns of a new debt; a debt needs a way to reach the debtor."""
    if body.phone is None and body.email is None:
        reason = ["a debt needs a phone or an email to reach the debtor"]
        raise ValidationFailed({"phone": reason, "email": reason})
    values = body.model_dump(exclude={"company", "metadata", *_IGNORED})
    values["iban"] = None if body.iban is None else body.iban.replace(" ", "").upper()
    values["company_name"] = body.company
    metadata = body.metadata
    values["metadata_json"] = None if metadata is None else orjson.dumps(metadata).decode()
    values["status"] = DebtStatus.PENDING.value
    return values


_IGNORED = ("timeline_start_mode", "accept_expensive_destination")


def parse_list_query(params: QueryParams) -> tuple[DebtStatus | None, PageRequest]:
    reader = QueryReader(params)
    page = reader.integer("page", 1, MAX_PAGE, default=1)
    limit = reader.integer("limit", 1, MAX_LIMIT, default=DEFAULT_LIMIT)
    status = reader.choice("status", DebtStatus)
    if reader.errors:
        raise ValidationFailed(reader.errors)
    return status, PageRequest(page or 1, limit or DEFAULT_LIMIT)


# The stored columns, in the order the API shows them (company_name is GetBill's `company`,
# created_at its `import_date`); the repository selects these.
DEBT_FIELDS: tuple[str, ...] = (
    "id",
    "civility",
    "firstname",
    "lastname",
    "phone",
    "email",
    "birthdate",
    "amount",
    "currency",
    "object",
    "internal_id",
    "invoice_reference",
    "debtor_reference",
    "invoice_date",
    "due_date",
    "address",
    "street_address",
    "street_number",
    "postal_code",
    "city",
    "country",
    "status",
    "timeline_id",
    "nb_reminders",
    "nb_answered",
    "summary",
    "iban",
    "followups_count",
    "company_name",
    "debtor_company",
    "payment_link",
    "created_at",
    "last_timeline_restart",
    "payment_plan_active",
    "plan_start_date",
    "metadata_json",
)


class DebtView(msgspec.Struct, frozen=True):
    """A debt as the API shows it, with GetBill's derived fields (`amount_text`, `company`,
    `import_date`, `contacts`). Dates hold what the database hands back, which encodes as
    YYYY-MM-DD."""

    id: PublicId
    civility: str | None
    firstname: str
    lastname: str
    phone: str | None
    email: str | None
    birthdate: Day | None
    amount: float
    amount_text: Annotated[str, Meta(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["1250.00"])]
    currency: str
    object: str | None
    internal_id: str | None
    invoice_reference: str | None
    debtor_reference: str | None
    invoice_date: Day | None
    due_date: Day | None
    address: str | None
    street_address: str | None
    street_number: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    status: DebtStatus
    timeline_id: str | None
    nb_reminders: NonNegative
    nb_answered: NonNegative
    summary: str | None
    iban: str | None
    followups_count: NonNegative
    company: str | None
    debtor_company: str | None
    payment_link: str | None
    import_date: Moment
    last_timeline_restart: Moment | None
    payment_plan_active: bool
    plan_start_date: Day | None
    contacts: list[dict[str, Any]]
    metadata: dict[str, Any] | None


def debt_view(row: Sequence[Any], encode_id: Callable[[int], str]) -> DebtView:
    """A stored row (DEBT_FIELDS, in order) as the API shows it."""
    shown = dict(zip(DEBT_FIELDS, row, strict=True))
    metadata, restarted = shown["metadata_json"], shown["last_timeline_restart"]
    amount = Decimal(str(shown["amount"])).quantize(Decimal("0.01"))
    return DebtView(
        id=encode_id(shown["id"]),
        **{name: shown[name] for name in DEBT_FIELDS[1:7]},
        amount=float(amount),
        amount_text=str(amount),
        **{name: shown[name] for name in DEBT_FIELDS[8:28]},
        company=shown["company_name"],
        debtor_company=shown["debtor_company"],
        payment_link=shown["payment_link"],
        import_date=_iso(shown["created_at"]),
        last_timeline_restart=restarted and _iso(restarted),
        payment_plan_active=bool(shown["payment_plan_active"]),
        plan_start_date=shown["plan_start_date"],
        contacts=[],
        metadata=None if metadata is None else orjson.loads(metadata),
    )


def _iso(moment: datetime | str) -> str:
    """PostgreSQL hands back datetimes, SQLite the stored text: both shown as SPEC.md §1 says."""
    return moment.isoformat() if isinstance(moment, datetime) else moment
