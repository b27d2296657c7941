"""Plain typed factories: rows made through the project's own repositories."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from relance.auth.scopes import ALL_SCOPES
from relance.auth.service import NewClient
from relance.auth.service import create_client as create_oauth_client
from relance.companies.repository import insert_company
from relance.db import Connection
from relance.debts.records import DebtRecord
from relance.debts.repository import insert_debt
from relance.followups.records import FollowupRecord
from relance.followups.repository.writes import count_inserted, insert_followup
from relance.kit.time import utc_now
from relance.resources import Resource
from relance.runtime import Runtime

Client = AsyncTestClient[Litestar]


def at(text: str) -> datetime:
    """A UTC moment from a short ISO text such as '2024-01-22T10:30:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def create_company(runtime: Runtime, name: str = "Acme Recouvrement") -> int:
    return await insert_company(runtime.db, name, utc_now())


async def create_client(
    runtime: Runtime,
    company_id: int,
    scopes: tuple[str, ...] = ALL_SCOPES,
    *,
    read_limit: int | None = None,
    write_limit: int | None = None,
) -> NewClient:
    return await create_oauth_client(
        runtime.db, runtime.keys, company_id, scopes, read_limit=read_limit, write_limit=write_limit
    )


async def create_debt(runtime: Runtime, company_id: int, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "civility": "Mme",
        "firstname": "Camille",
        "lastname": "Durand",
        "phone": "+33612345678",
        "email": "camille.durand@example.fr",
        "amount": Decimal("250.00"),
        "currency": "EUR",
        "invoice_date": date(2024, 1, 2),
        "status": "status.default.pending",
        **overrides,
    }
    return await insert_debt(runtime.db, company_id, DebtRecord(**values), utc_now())


def followup_values(**overrides: Any) -> FollowupRecord:
    values: dict[str, Any] = {
        "status": "delivered",
        "type": "email",
        "call_date": at("2024-01-22T10:30:00"),
        "scheduled_at": at("2024-01-22T10:00:00"),
        "processed_at": at("2024-01-22T10:35:00"),
        **overrides,
    }
    return FollowupRecord(**values)


async def insert_counted(
    conn: Connection, company_id: int, debt_id: int, values: FollowupRecord, now: datetime
) -> int:
    """A followup inserted and counted, as the service writes one."""
    key = await insert_followup(conn, company_id, debt_id, values, now)
    await count_inserted(conn, company_id, values)
    return key


async def create_followup(runtime: Runtime, company_id: int, debt_id: int, **overrides: Any) -> int:
    values = followup_values(**overrides)
    # A followup and its counts are written together or not at all.
    async with runtime.db.transaction() as conn:
        return await insert_counted(conn, company_id, debt_id, values, utc_now())


def public_id(runtime: Runtime, resource: Resource, key: int) -> str:
    return runtime.ids.encode(resource, key)


async def token_for(client: Client, credentials: NewClient, scope: str | None = None) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }
    if scope is not None:
        form["scope"] = scope
    response = await client.post("/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_tenant_headers(
    runtime: Runtime,
    client: Client,
    scopes: tuple[str, ...] = ALL_SCOPES,
    *,
    read_limit: int | None = None,
) -> tuple[int, dict[str, str]]:
    """A new company, and the Authorization header of a client of it holding `scopes`."""
    company_id = await create_company(runtime)
    credentials = await create_client(runtime, company_id, scopes, read_limit=read_limit)
    return company_id, bearer(await token_for(client, credentials))
