"""What a company is given (its name and contact, checked as a debt's are) and what the API
shows of it: GetBill's profile, users and credits, named and nested as GetBill documents them
(docs/contract.md, "Company")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from pydantic import BaseModel, ConfigDict, StringConstraints

from relance.companies.records import StoredCompany
from relance.kit.bodies import checked
from relance.kit.fields import Email, NoNul, Phone
from relance.kit.views import Moment, PublicId

CompanyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    checked(
        lambda v: 0 < len(v) <= 200,
        "must be 1 to 200 characters, not only spaces",
        {"minLength": 1, "maxLength": 200},
    ),
    NoNul,
]


class CompanyFields(BaseModel):
    """A company's fields as its operator sets them (`relance companies create|update`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: CompanyName
    email: Email | None = None
    phone: Phone | None = None


class CompanyChanges(BaseModel):
    """The fields to change; those left out are kept, an email or phone of None is cleared."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: CompanyName | None = None
    email: Email | None = None
    phone: Phone | None = None


class CompanyView(msgspec.Struct, frozen=True):
    """The token's company: its name and how it is reached (GetBill's company profile)."""

    id: PublicId
    name: str
    email: str | None
    phone: Annotated[str, Meta(examples=["+33123456789"])] | None
    created_at: Moment


def company_view(company: StoredCompany, encode_id: Callable[[int], str]) -> CompanyView:
    return CompanyView(
        id=encode_id(company.id),
        name=company.name,
        email=company.email,
        phone=company.phone,
        created_at=company.created_at.isoformat(),
    )


class UserView(msgspec.Struct, frozen=True):
    """A person who signs in to the company's console, as GetBill shows one. Relance has no
    console yet, so a company has none."""

    id: PublicId
    email: str
    firstname: str | None
    lastname: str | None
    is_active: bool
    created_at: Moment
    last_activity: Moment | None


class Subscription(msgspec.Struct, frozen=True):
    """What the deployment runs under: a self-hosted Relance is active and never expires."""

    plan: Literal["self-hosted"]
    status: Literal["active"]
    expires_at: None


class CreditsView(msgspec.Struct, frozen=True):
    """GetBill's credit balance and subscription. Relance bills nothing and counts no
    credits: `current_credits` is null (no balance to run out of), the subscription is the
    self-hosted one."""

    current_credits: Annotated[None, Meta(description="Always null: Relance counts no credits")]
    subscription: Subscription


SELF_HOSTED = CreditsView(
    current_credits=None,
    subscription=Subscription(plan="self-hosted", status="active", expires_at=None),
)
