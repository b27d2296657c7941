"""The body of POST /debts, the list query of GET /debts, and the debt as the API shows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, cast

import msgspec
import orjson
from msgspec import Meta
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, create_model
from pydantic.fields import FieldInfo

from relance.debts.codes import CURRENCIES, IBAN_PATTERN, is_country, is_iban
from relance.debts.records import RECORD_FIELDS, DebtRecord, StoredDebt
from relance.errors import ValidationFailed
from relance.kit.bodies import NotNull, checked
from relance.kit.fields import Email, Label, Long, Name, NoNul, Phone, Short, WebUrl
from relance.kit.pagination import PageRequest
from relance.kit.query import QueryParams, QueryReader
from relance.kit.time import micros_of
from relance.kit.views import Day, Moment, NonNegative, PublicId

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
    # The creditor by its ID, instead of (or as well as) by its name in `company`.
    creditor_id: Short | None = None
    debtor_company: Text200 | None = None
    payment_link: WebUrl | None = None
    timeline_id: Short | None = None
    metadata: Metadata | None = None
    # GetBill's timeline options: accepted so its clients' bodies pass, with no effect here.
    timeline_start_mode: Label | None = None
    accept_expensive_destination: bool | None = None


def for_create(body: DebtBody) -> DebtRecord:
    """The record of a new debt, pending; a debt needs a way to reach the debtor."""
    _refuse_unreachable(body.phone, body.email)
    return DebtRecord(
        **_stored(body.model_dump(include=_SENT_FIELDS)), status=DebtStatus.PENDING.value
    )


def _refuse_unreachable(phone: str | None, email: str | None) -> None:
    if phone is None and email is None:
        reason = ["a debt needs a phone or an email to reach the debtor"]
        raise ValidationFailed({"phone": reason, "email": reason})


def _stored(sent: dict[str, Any]) -> dict[str, Any]:
    """The record's values of the body's fields sent: the IBAN compacted, `company` stored as
    company_name, metadata as its JSON text, a status as its text; GetBill's timeline options
    dropped."""
    stored = {name: value for name, value in sent.items() if name in _AS_SENT}
    if "iban" in sent:
        stored["iban"] = None if sent["iban"] is None else sent["iban"].replace(" ", "").upper()
    if "company" in sent:
        stored["company_name"] = sent["company"]
    if "metadata" in sent:
        metadata = sent["metadata"]
        stored["metadata_json"] = None if metadata is None else orjson.dumps(metadata).decode()
    if "status" in sent:
        stored["status"] = DebtStatus(sent["status"]).value
    return stored


# The fields of the body stored as sent: the others are renamed or reshaped above, or are
# GetBill's timeline options, accepted with no effect here.
_AS_SENT = set(DebtBody.model_fields).intersection(RECORD_FIELDS) - {"iban", "creditor_id"}
_SENT_FIELDS = set(DebtBody.model_fields)


class SettableStatus(StrEnum):
    """The statuses a PUT may give a debt, as GetBill documents them; the others are set by
    Relance itself (pending on create) or not at all."""

    PAID = DebtStatus.PAID.value
    IN_PROGRESS = DebtStatus.IN_PROGRESS.value
    ON_HOLD = DebtStatus.ON_HOLD.value
    FAILED = DebtStatus.FAILED.value
    ARCHIVED = DebtStatus.ARCHIVED.value


def _may_be_left_out(info: FieldInfo) -> tuple[Any, Any]:
    """A body field as PUT takes it: optional, and never null where a debt needs it."""
    if not info.is_required():
        return info.annotation, Field(default=None)
    declared = info.json_schema_extra
    # The schema POST declares for the field (the amount's number or string) replaces the
    # one made from its type, as it does there.
    extra = None if not isinstance(declared, dict) else _replacing(declared)
    # Types made at run time, which a type checker cannot follow.
    declared_type = cast(Any, Annotated)[(info.annotation, *info.metadata)]
    return cast(Any, NotNull)[declared_type], Field(default=None, json_schema_extra=extra)


def _replacing(declared: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def replace_schema(schema: dict[str, Any]) -> None:
        schema.clear()
        schema.update(declared)

    return replace_schema


_UPDATE_FIELDS: dict[str, Any] = {
    "status": (cast(Any, NotNull)[SettableStatus], None),
    **{name: _may_be_left_out(info) for name, info in DebtBody.model_fields.items()},
}
# PUT /debts/{id}: every field of POST /debts, each optional, and `status`; made from DebtBody
# so that both check a field alike.
DebtUpdate: type[BaseModel] = create_model(
    "DebtUpdate",
    __config__=ConfigDict(extra="forbid", strict=True),
    __doc__="The fields of a debt to change; the others are kept.",
    **_UPDATE_FIELDS,
)


def for_update(body: BaseModel, current: StoredDebt) -> tuple[StoredDebt, dict[str, Any]]:
    """`current` with the fields sent, and the stored values that differ from it; a debt keeps
    a way to reach the debtor."""
    stored = _stored(body.model_dump(include=body.model_fields_set))
    new = replace(current, **stored)
    _refuse_unreachable(new.phone, new.email)
    return new, {name: v for name, v in stored.items() if getattr(current, name) != v}


@dataclass(frozen=True, slots=True)
class DebtFilters:
    """What GET /debts (and the by-debtor and by-creditor lists) keep: each given one holds.
    Amounts are bounds included; `created_after` includes its moment, `created_before` does
    not, so that two lists split at one moment share no debt."""

    # Set by the path of GET /debts/by-debtor/{debtorId} and /by-creditor/{creditorId}.
    debtor_id: int | None = None
    creditor_id: int | None = None
    status: DebtStatus | None = None
    internal_id: str | None = None
    invoice_reference: str | None = None
    currency: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None


_QUERY_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
_QUERY_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_SEARCH = 100


def parse_list_query(params: QueryParams) -> tuple[DebtFilters, PageRequest]:
    reader = QueryReader(params)
    page = reader.page()
    filters = DebtFilters(
        status=_status(reader),
        internal_id=_text(reader, "internal_id"),
        invoice_reference=_text(reader, "invoice_reference"),
        currency=_currency(reader),
        min_amount=_amount(reader, "min_amount"),
        max_amount=_amount(reader, "max_amount"),
        created_after=_moment_param(reader, "created_after"),
        created_before=_moment_param(reader, "created_before"),
        search=_text(reader, "search"),
    )
    _refuse_empty_ranges(reader, filters)
    if reader.errors:
        raise ValidationFailed(reader.errors)
    return filters, page


def _status(reader: QueryReader) -> DebtStatus | None:
    """A status by its full name, or by its last part as GetBill's examples write it
    (`paid` for `status.default.paid`)."""
    text = reader.text("status")
    if text is None:
        return None
    for status in DebtStatus:
        if text in (status.value, status.value.removeprefix("status.default.")):
            return status
    reader.fail("status", f"must be one of: {', '.join(s.value for s in DebtStatus)}")
    return None


def _text(reader: QueryReader, name: str) -> str | None:
    text = reader.text(name)
    if text is None:
        return None
    if not 1 <= len(text) <= MAX_SEARCH or "\x00" in text:
        reader.fail(name, f"must be 1 to {MAX_SEARCH} characters, with no NUL")
        return None
    return text


def _currency(reader: QueryReader) -> str | None:
    text = reader.text("currency")
    if text is not None and text not in CURRENCIES:
        reader.fail("currency", "must be an ISO 4217 code in capitals, such as EUR")
        return None
    return text


def _amount(reader: QueryReader, name: str) -> Decimal | None:
    text = reader.text(name)
    if text is None:
        return None
    if _QUERY_AMOUNT.fullmatch(text) is None:
        reader.fail(name, "must be an amount such as 100 or 99.50")
        return None
    return Decimal(text)


def _moment_param(reader: QueryReader, name: str) -> datetime | None:
    """A day (its first moment, UTC), or a moment as RFC 3339 with its offset or Unix
    seconds."""
    text = reader.text(name)
    if text is None:
        return None
    try:
        if _QUERY_DAY.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(), UTC)
    except ValueError:
        pass
    micros = micros_of(text)
    if micros is None or not _MIN_MICROS <= micros <= _MAX_MICROS:
        reader.fail(
            name,
            "must be a date (YYYY-MM-DD) or a moment (RFC 3339 with its offset, or Unix seconds)",
        )
        return None
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


# The moments a datetime holds, from year 1 to year 9999.
_MIN_MICROS = (
    int((datetime(1, 1, 2, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    * 1_000_000
)
_MAX_MICROS = (
    int((datetime(9999, 12, 30, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    * 1_000_000
)


def _refuse_empty_ranges(reader: QueryReader, filters: DebtFilters) -> None:
    low, high = filters.min_amount, filters.max_amount
    if low is not None and high is not None and low > high:
        reader.fail("min_amount", "must not be more than max_amount")
    after, before = filters.created_after, filters.created_before
    if after is not None and before is not None and after >= before:
        reader.fail("created_after", "must be before created_before")


class DebtView(msgspec.Struct, frozen=True):
    """A debt as the API shows it, with GetBill's derived fields (`amount_text`, `company`,
    `import_date`, `contacts`); built from a StoredDebt by `debt_view`, dates and moments as
    their text."""

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


def debt_view(debt: StoredDebt, encode_id: Callable[[int], str]) -> DebtView:
    """A stored debt as the API shows it."""
    amount = debt.amount
    return DebtView(
        id=encode_id(debt.id),
        civility=debt.civility,
        firstname=debt.firstname,
        lastname=debt.lastname,
        phone=debt.phone,
        email=debt.email,
        birthdate=_day(debt.birthdate),
        amount=float(amount),
        amount_text=str(amount),
        currency=debt.currency,
        object=debt.object,
        internal_id=debt.internal_id,
        invoice_reference=debt.invoice_reference,
        debtor_reference=debt.debtor_reference,
        invoice_date=_day(debt.invoice_date),
        due_date=_day(debt.due_date),
        address=debt.address,
        street_address=debt.street_address,
        street_number=debt.street_number,
        postal_code=debt.postal_code,
        city=debt.city,
        country=debt.country,
        status=DebtStatus(debt.status),
        timeline_id=debt.timeline_id,
        nb_reminders=debt.nb_reminders,
        nb_answered=debt.nb_answered,
        summary=debt.summary,
        iban=debt.iban,
        followups_count=debt.followups_count,
        company=debt.company_name,
        debtor_company=debt.debtor_company,
        payment_link=debt.payment_link,
        import_date=debt.created_at.isoformat(),
        last_timeline_restart=_moment(debt.last_timeline_restart),
        payment_plan_active=debt.payment_plan_active,
        plan_start_date=_day(debt.plan_start_date),
        contacts=[],
        metadata=None if debt.metadata_json is None else orjson.loads(debt.metadata_json),
    )


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _moment(moment: datetime | None) -> str | None:
    """As SPEC.md §1 shows a moment: UTC, to the second, with its offset."""
    return None if moment is None else moment.isoformat()
