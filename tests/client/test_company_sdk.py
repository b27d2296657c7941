"""The SDK's company, sync and async alike, against a real `relance serve` on SQLite and on
PostgreSQL, on companies made with `relance companies create`: the profile as the command
made it and as no other company's token sees it, no users, the self-hosted credits, and each
call refused without its scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relance.client import (
    AsyncRelance,
    CompanyProfile,
    Credits,
    PermissionDeniedError,
    Relance,
    Subscription,
)
from tests.client.twins import Twin
from tests.commands import ok_json, relance, serving
from tests.postgres import scratch_database

ACME = ("Acme Recouvrement", "--email", "contact@acme.fr", "--phone", "+33123456789")
ALL = "company:read users:read"


@dataclass(frozen=True)
class Deployment:
    """A running server, its data dir and settings, and the companies made on it, as the
    command printed them."""

    base: str
    home: Path
    env: dict[str, str]
    companies: list[dict[str, Any]]

    def credentials(self, company: dict[str, Any], scopes: str) -> tuple[str, str]:
        args = ("--company", company["id"], "--scopes", scopes, "--json")
        made = ok_json(relance("clients", "create", *args, data_dir=self.home, env=self.env))
        return made["client_id"], made["client_secret"]


@contextmanager
def database_env(backend: str) -> Iterator[dict[str, str]]:
    if backend == "sqlite":
        yield {}
        return
    with scratch_database("relance_company_sdk") as url:
        yield {"RELANCE_DATABASE_URL": url}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("company")
    with database_env(request.param) as env:
        assert relance("db", "upgrade", data_dir=home, env=env).returncode == 0
        companies = [
            ok_json(relance("companies", "create", *args, "--json", data_dir=home, env=env))
            for args in (ACME, ("Other SAS",))
        ]
        with serving(home, home, env) as base:
            yield Deployment(base, home, env, companies)


Connect = Callable[[dict[str, Any], str], Twin]


@pytest.fixture(params=[Relance, AsyncRelance], ids=["sync", "async"])
async def connect(request: pytest.FixtureRequest, deployment: Deployment) -> AsyncIterator[Connect]:
    """A client of a new OAuth client of the company, holding the scopes."""
    kind: type[Relance | AsyncRelance] = request.param
    made: list[Twin] = []

    def connect(company: dict[str, Any], scopes: str) -> Twin:
        client_id, secret = deployment.credentials(company, scopes)
        made.append(Twin(kind(deployment.base, client_id, secret, max_retries=0)))
        return made[-1]

    yield connect
    for twin in made:
        await twin.close()


async def test_the_profile_is_the_company_as_the_command_made_it(
    connect: Connect, deployment: Deployment
) -> None:
    acme, other = deployment.companies
    before = datetime.now(UTC)

    shown = await Twin.call(connect(acme, ALL).client.company.profile())
    elsewhere = await Twin.call(connect(other, ALL).client.company.profile())

    assert isinstance(shown, CompanyProfile)
    assert (shown.id, shown.name) == (acme["id"], "Acme Recouvrement")
    assert (shown.email, shown.phone) == ("contact@acme.fr", "+33123456789")
    assert shown.created_at.isoformat() == acme["created_at"]
    assert before - timedelta(minutes=10) < shown.created_at <= before
    assert (elsewhere.id, elsewhere.name) == (other["id"], "Other SAS")
    assert (elsewhere.email, elsewhere.phone) == (None, None)


async def test_a_company_has_no_users(connect: Connect, deployment: Deployment) -> None:
    users = await Twin.call(connect(deployment.companies[0], "users:read").client.company.users())

    assert users == []


async def test_the_credits_say_nothing_is_billed(connect: Connect, deployment: Deployment) -> None:
    client = connect(deployment.companies[0], "company:read").client

    credits = await Twin.call(client.company.credits())

    assert credits == Credits(
        current_credits=None,
        subscription=Subscription(plan="self-hosted", status="active", expires_at=None),
    )


@pytest.mark.parametrize(
    ("call", "scope"),
    [("profile", "company:read"), ("users", "users:read"), ("credits", "company:read")],
)
async def test_each_call_needs_its_scope(
    connect: Connect, deployment: Deployment, call: str, scope: str
) -> None:
    others = " ".join(s for s in ("company:read", "users:read", "debts:read") if s != scope)
    company = connect(deployment.companies[0], others).client.company

    with pytest.raises(PermissionDeniedError) as refused:
        await Twin.call(getattr(company, call)())

    assert refused.value.status_code == 403
    assert refused.value.message == f'Required scope "{scope}" not found in token'
