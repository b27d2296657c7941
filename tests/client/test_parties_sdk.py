"""The SDK's debtors and creditors, sync and async alike, against a real `relance serve` on
SQLite and on PostgreSQL: GetBill's camelCase read into snake_case attributes (moments as aware
UTC datetimes, the birth date as a date), every page walked, a debtor changed field by field
and cleared, a creditor made by `relance creditors create` read as the command made it and
named by a debt's creditor_id, a creditor patched and replaced (what is left out cleared, its
new name its debts' company), a taken name as a ConflictError, a debtor's and a creditor's debts
with the list's filters, and each refusal as its exception. Each test's debts carry a marker of
their own (in their email, their internal_id and their company), so that the tests share one
company without seeing each other's debtors and creditors."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from relance.client import (
    AsyncRelance,
    BadRequestError,
    ConflictError,
    Creditor,
    CreditorDetail,
    Debt,
    Debtor,
    DebtorDetail,
    NotFoundError,
    PermissionDeniedError,
    Relance,
)
from tests.client.test_debts_sdk import Deployment, database_env, debt
from tests.client.twins import Twin
from tests.commands import ok_json, relance, serving

FULL = "debts:read debts:write debtors:read debtors:write creditors:read creditors:write"
READER = "debts:read debtors:read creditors:read"
# The creditor `relance creditors create` makes, by its options and the fields they set.
DURAND = {
    "name": "Durand SARL",
    "email": "contact@durand.fr",
    "phone": "+33123456789",
    "postal_code": "75002",
    "country": "France",
    "registration_number": "123456789",
    "contact_person": "Jeanne Martin",
}
UNKNOWN = "0" * 22


@dataclass(frozen=True)
class Parties(Deployment):
    """The deployment, whose `acme` client holds every scope of debts, debtors and creditors,
    `reader` only their read scopes, `other` every one, of another company; `durand` is the ID
    of the creditor the command made for acme."""

    durand: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Parties]:
    home = tmp_path_factory.mktemp("parties")
    with database_env(request.param) as env:
        assert relance("db", "upgrade", data_dir=home, env=env).returncode == 0

        def run(*args: str) -> Any:
            return ok_json(relance(*args, "--json", data_dir=home, env=env))

        def client(wanted: tuple[str, str]) -> tuple[str, str]:
            made = run("clients", "create", "--company", wanted[0], "--scopes", wanted[1])
            return made["client_id"], made["client_secret"]

        fields = [(name, value) for name, value in DURAND.items() if name != "name"]
        options = [f"--{name.replace('_', '-')}={value}" for name, value in fields]
        # One after the other: commands started together on one SQLite file once failed to
        # open it (db/sqlite.py's _write_ahead now waits for the lock instead).
        acme, other = (run("companies", "create", name)["id"] for name in ("A", "O"))
        durand = run("creditors", "create", "--company", acme, DURAND["name"], *options)
        wanted = {"acme": (acme, FULL), "reader": (acme, READER), "other": (other, FULL)}
        made = {name: client(spec) for name, spec in wanted.items()}
        with serving(home, home, env) as base:
            yield Parties(base, home, env, made, durand["id"])


Connect = Callable[[str], Any]


@pytest.fixture(params=[Relance, AsyncRelance], ids=["sync", "async"])
async def connect(request: pytest.FixtureRequest, deployment: Parties) -> AsyncIterator[Connect]:
    """The client (sync or async) of one of the deployment's OAuth clients."""
    kind: type[Relance | AsyncRelance] = request.param
    made: list[Relance | AsyncRelance] = []

    def connect(name: str) -> Relance | AsyncRelance:
        client_id, secret = deployment.clients[name]
        made.append(kind(deployment.base, client_id, secret, max_retries=0))
        return made[-1]

    yield connect
    for client in made:
        await Twin.call(client.close())


@pytest.fixture
def sdk(connect: Connect) -> Any:
    """The acme client: typed as Any, as each call's answer is awaited only when it is
    awaitable (Twin.call), so that one test runs both."""
    return connect("acme")


@pytest.fixture
def marker() -> str:
    """This test's own text, in each of its debts' email, internal_id and company."""
    return f"k{secrets.token_hex(5)}"


call = Twin.call


async def made(sdk: Any, marker: str, *fields: dict[str, Any]) -> list[Debt]:
    """Debts of this test, one at a time (so that their creation moments differ), owed by its
    debtor unless they name another."""
    email = {"email": f"{marker}@example.com"}
    return [
        await call(sdk.debts.create(**debt(marker, number, **{**email, **given})))
        for number, given in enumerate(fields)
    ]


async def debtor_of(sdk: Any, email: str) -> Debtor:
    """The debtor of this email, found by walking every page of the list."""
    every: list[Debtor] = await Twin.items(sdk.debtors.list(limit=2))
    (found,) = [debtor for debtor in every if debtor.email == email]
    return found


async def creditor_named(sdk: Any, name: str) -> Creditor:
    every: list[Creditor] = await Twin.items(sdk.creditors.list(limit=2))
    (found,) = [creditor for creditor in every if creditor.name == name]
    return found


def ids(debts: list[Debt]) -> list[str]:
    return [d.id for d in debts]


async def test_a_debtor_is_read_in_snake_case_with_their_debts_summed(
    sdk: Any, marker: str
) -> None:
    email = f"{marker}@example.com"
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    first, second = await made(
        sdk,
        marker,
        {"amount": "100.50", "birthdate": "1990-05-17", "address": "1 rue A"},
        {"amount": 50},
    )

    listed = await debtor_of(sdk, email)
    detail = await call(sdk.debtors.get(listed.id))

    assert isinstance(detail, DebtorDetail)
    assert (detail.first_name, detail.last_name, detail.email) == ("Camille", "Durand", email)
    assert (detail.date_of_birth, detail.address) == (date(1990, 5, 17), "1 rue A")
    assert (detail.total_debt_amount, detail.total_paid_amount) == (150.5, 0.0)
    assert (detail.debts_count, detail.average_repayment_score) == (2, None)
    for moment in (detail.first_seen_at, detail.last_seen_at, detail.last_updated_at):
        assert moment is not None
        assert moment.tzinfo is not None
        assert before <= moment <= datetime.now(UTC)
    assert detail.model_dump(include=set(Debtor.model_fields)) == listed.model_dump()
    assert detail.model_dump(by_alias=True)["totalDebtAmount"] == 150.5
    assert ids(await Twin.items(sdk.debtors.debts(listed.id, limit=1))) == [second.id, first.id]
    kept = sdk.debtors.debts(listed.id, min_amount=Decimal("100"), status="pending")
    assert ids(await Twin.items(kept)) == [first.id]


async def test_every_page_of_debtors_is_walked(sdk: Any, marker: str) -> None:
    await made(sdk, marker, *({"email": f"{marker}-{n}@example.com"} for n in range(3)))

    first = await Twin.first_page(sdk.debtors.list(limit=2))
    pages = await Twin.pages(first)

    walked = [d.id for page in pages for d in page]
    assert len(walked) == len(set(walked)) == first.pagination.total
    assert len(pages) == first.pagination.pages == -(-first.pagination.total // 2)
    mine = [
        d.email for d in await Twin.items(sdk.debtors.list()) if (d.email or "").startswith(marker)
    ]
    assert sorted(mine) == [f"{marker}-{n}@example.com" for n in range(3)]


async def test_a_debtor_changes_field_by_field_and_none_clears(sdk: Any, marker: str) -> None:
    email = f"{marker}@example.com"
    (owed,) = await made(sdk, marker, {"address": "1 rue A"})
    debtor = await debtor_of(sdk, email)

    changed = await call(
        sdk.debtors.update(debtor.id, first_name="Camille-Marie", date_of_birth=date(1985, 1, 2))
    )
    cleared = await call(sdk.debtors.update(debtor.id, address=None))

    assert isinstance(changed, DebtorDetail)
    assert (changed.first_name, changed.date_of_birth) == ("Camille-Marie", date(1985, 1, 2))
    assert (changed.last_name, changed.address, changed.debts_count) == ("Durand", "1 rue A", 1)
    assert (cleared.first_name, cleared.address) == ("Camille-Marie", None)
    assert cleared == await call(sdk.debtors.get(debtor.id))
    # The debt keeps its own fields.
    assert (await call(sdk.debts.get(owed.id))).firstname == "Camille"


async def test_the_commands_creditor_is_read_and_named_by_creditor_id(
    sdk: Any, marker: str, deployment: Parties
) -> None:
    durand = deployment.durand
    (owed,) = await made(sdk, marker, {"creditor_id": durand, "amount": "80"})

    detail = await call(sdk.creditors.get(durand))

    assert isinstance(detail, CreditorDetail)
    assert {name: getattr(detail, name) for name in DURAND} == DURAND
    assert (detail.address, detail.city, detail.tax_number) == (None, None, None)
    assert detail.created_at is not None
    assert detail.created_at.tzinfo is not None
    assert detail.total_debts >= 1
    assert detail.total_amount >= 80
    listed = await creditor_named(sdk, DURAND["name"])
    assert detail.model_dump(include=set(Creditor.model_fields)) == listed.model_dump()
    assert owed.company == DURAND["name"]
    assert ids(await Twin.items(sdk.creditors.debts(durand, search=marker))) == [owed.id]


async def test_a_creditor_is_patched_then_replaced(sdk: Any, marker: str) -> None:
    name = f"Client {marker}"
    low, high = await made(sdk, marker, {"company": name, "amount": 10}, {"company": name})
    creditor = await creditor_named(sdk, name)

    patched = await call(sdk.creditors.update(creditor.id, city="Lyon", postal_code="69001"))
    emptied = await call(sdk.creditors.update(creditor.id, postal_code=None))
    replaced = await call(
        sdk.creditors.replace(creditor.id, f"Renamed {marker}", email="billing@client.fr")
    )

    assert isinstance(patched, Creditor)
    assert (patched.name, patched.city, patched.postal_code) == (name, "Lyon", "69001")
    assert (emptied.city, emptied.postal_code) == ("Lyon", None)
    assert (replaced.name, replaced.email, replaced.city) == (
        f"Renamed {marker}",
        "billing@client.fr",
        None,
    )
    detail = await call(sdk.creditors.get(creditor.id))
    assert (detail.total_debts, detail.total_amount) == (2, 260.0)
    assert (await call(sdk.debts.get(low.id))).company == f"Renamed {marker}"
    by_amount = sdk.creditors.debts(creditor.id, max_amount=100, limit=1)
    assert ids(await Twin.items(by_amount)) == [low.id]
    assert ids(await Twin.items(sdk.creditors.debts(creditor.id, limit=1))) == ids([high, low])


async def test_a_taken_name_is_a_conflict_naming_its_holder(
    sdk: Any, marker: str, deployment: Parties
) -> None:
    await made(sdk, marker, {"company": f"Client {marker}"})
    creditor = await creditor_named(sdk, f"Client {marker}")
    durand = deployment.durand

    attempts: list[Callable[[], Any]] = [
        lambda: sdk.creditors.update(creditor.id, name="durand  sarl"),
        lambda: sdk.creditors.replace(creditor.id, name="DURAND SARL"),
    ]
    for attempt in attempts:
        with pytest.raises(ConflictError) as caught:
            await call(attempt())

        assert caught.value.details == {"name": [f"is already the name of creditor {durand}"]}
    assert (await call(sdk.creditors.get(creditor.id))).name == f"Client {marker}"


async def test_refusals_are_their_exceptions(
    connect: Connect, marker: str, deployment: Parties
) -> None:
    sdk, reader, other = (connect(name) for name in ("acme", "reader", "other"))
    email = f"{marker}@example.com"
    await made(sdk, marker, {})
    debtor = await debtor_of(sdk, email)
    durand = deployment.durand

    # Each a function: a sync call is made, and raises, as soon as it is written.
    missing: list[Callable[[], Any]] = [
        lambda: other.debtors.get(debtor.id),
        lambda: other.creditors.get(durand),
        lambda: sdk.debtors.get(UNKNOWN),
        lambda: sdk.creditors.update(UNKNOWN, city="Lyon"),
    ]
    for found in missing:
        with pytest.raises(NotFoundError):
            await call(found())
    listings: list[Callable[[], Any]] = [
        lambda: other.debtors.debts(debtor.id),
        lambda: sdk.creditors.debts(UNKNOWN),
    ]
    for listing in listings:
        with pytest.raises(NotFoundError):
            await Twin.items(listing())
    forbidden: list[Callable[[], Any]] = [
        lambda: reader.debtors.update(debtor.id, address="x"),
        lambda: reader.creditors.update(durand, city="x"),
        lambda: reader.creditors.replace(durand, "x"),
    ]
    for write in forbidden:
        with pytest.raises(PermissionDeniedError):
            await call(write())
    with pytest.raises(BadRequestError) as bad:
        await call(sdk.debtors.update(debtor.id, email="not-an-email"))
    assert list(bad.value.details or {}) == ["email"]
    with pytest.raises(BadRequestError) as bad:
        await Twin.items(sdk.debtors.debts(debtor.id, min_amount="lots"))
    assert list(bad.value.details or {}) == ["min_amount"]
