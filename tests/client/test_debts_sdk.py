"""The SDK's debts, sync and async alike, against a real `relance serve` on SQLite and on
PostgreSQL: the list's every filter as typed arguments (Decimal amounts, dates, datetimes and
Unix seconds written as the API reads them) walked page by page, a debt read, changed field by
field and cleared, a taken internal_id as a ConflictError naming its holder, a batch's typed
result and its idempotency key, and each refusal as its exception. Each test's debts carry a
marker of their own in their internal_id, which `search` finds, so that the tests share one
company without seeing each other's debts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest

from relance.client import (
    AsyncRelance,
    BadRequestError,
    ConflictError,
    Debt,
    DebtBatchCreatedData,
    DebtBatchResult,
    DebtFields,
    DebtStatusName,
    NotFoundError,
    PermissionDeniedError,
    Relance,
    SettableDebtStatus,
)
from relance.debts import batch, schemas
from tests.client.twins import Twin
from tests.commands import ok_json, relance, serving
from tests.postgres import scratch_database

FULL = "debts:read debts:write"
PENDING = "status.default.pending"
PARIS_SUMMER = timezone(timedelta(hours=2))


@dataclass(frozen=True)
class Deployment:
    """A running server, its data dir and settings, and OAuth clients made on it: `acme`
    holds both debts scopes, `reader` only debts:read, `other` both, of another company."""

    base: str
    home: Path
    env: dict[str, str]
    clients: dict[str, tuple[str, str]]

    def cli_env(self, name: str = "acme") -> dict[str, str]:
        """The variables the client-side commands read, for one of the clients."""
        client_id, secret = self.clients[name]
        return {
            **self.env,
            "RELANCE_BASE_URL": self.base,
            "RELANCE_CLIENT_ID": client_id,
            "RELANCE_CLIENT_SECRET": secret,
        }


@contextmanager
def database_env(backend: str) -> Iterator[dict[str, str]]:
    if backend == "sqlite":
        yield {}
        return
    with scratch_database("relance_debts_sdk") as url:
        yield {"RELANCE_DATABASE_URL": url}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("debts")
    with database_env(request.param) as env:
        assert relance("db", "upgrade", data_dir=home, env=env).returncode == 0

        def company(name: str) -> str:
            made = ok_json(relance("companies", "create", name, "--json", data_dir=home, env=env))
            return str(made["id"])

        def client(wanted: tuple[str, str]) -> tuple[str, str]:
            args = ("--company", wanted[0], "--scopes", wanted[1], "--json")
            made = ok_json(relance("clients", "create", *args, data_dir=home, env=env))
            return made["client_id"], made["client_secret"]

        # Side by side: each command spends most of its time starting.
        with ThreadPoolExecutor(3) as threads:
            acme, other = threads.map(company, ("Acme Recouvrement", "Other SAS"))
            wanted = {"acme": (acme, FULL), "reader": (acme, "debts:read"), "other": (other, FULL)}
            made = dict(zip(wanted, threads.map(client, wanted.values()), strict=True))
        with serving(home, home, env) as base:
            yield Deployment(base, home, env, made)


Connect = Callable[[str], Twin]


@pytest.fixture(params=[Relance, AsyncRelance], ids=["sync", "async"])
async def connect(request: pytest.FixtureRequest, deployment: Deployment) -> AsyncIterator[Connect]:
    """A client (sync or async) of one of the deployment's OAuth clients."""
    kind: type[Relance | AsyncRelance] = request.param
    made: list[Twin] = []

    def connect(name: str) -> Twin:
        client_id, secret = deployment.clients[name]
        made.append(Twin(kind(deployment.base, client_id, secret, max_retries=0)))
        return made[-1]

    yield connect
    for twin in made:
        await twin.close()


@pytest.fixture
def sdk(connect: Connect) -> Twin:
    return connect("acme")


@pytest.fixture
def marker() -> str:
    """This test's own text, in each of its debts' internal_id (a letter first: `search`
    also looks in amounts, which hold only digits)."""
    return f"k{secrets.token_hex(5)}"


def debt(marker: str, number: int, **fields: Any) -> dict[str, Any]:
    return {
        "firstname": "Camille",
        "lastname": "Durand",
        "amount": "250.00",
        "currency": "EUR",
        "phone": "+33612345678",
        "internal_id": f"{marker}-{number}",
        **fields,
    }


async def created(sdk: Twin, marker: str, *fields: dict[str, Any]) -> list[Debt]:
    """Debts made one at a time (so that their creation moments differ), in that order."""
    return [
        await Twin.call(sdk.debts.create(**debt(marker, number, **given)))
        for number, given in enumerate(fields)
    ]


async def ids(sdk: Twin, marker: str, **filters: Any) -> list[str]:
    """Every debt of this test the filters keep, walking every page, as listed."""
    return [found.id for found in await Twin.items(sdk.debts.list(search=marker, **filters))]


async def test_every_page_is_walked_newest_first(sdk: Twin, marker: str) -> None:
    made = await created(sdk, marker, *({} for _ in range(5)))

    first = await Twin.first_page(sdk.debts.list(search=marker, limit=2))
    pages = await Twin.pages(first)

    newest_first = [d.id for d in reversed(made)]
    assert (first.pagination.total, first.pagination.pages) == (5, 3)
    assert [[d.id for d in page] for page in pages] == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    assert await ids(sdk, marker, limit=2) == newest_first
    page_two = await Twin.first_page(sdk.debts.list(search=marker, limit=2, page=2))
    assert [d.id for d in page_two.data] == newest_first[2:4]


async def test_each_filter_keeps_what_it_says(sdk: Twin, marker: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    made = await created(
        sdk,
        marker,
        {"amount": 10},
        {"amount": "20.50", "invoice_reference": f"{marker}-INV"},
        {"amount": Decimal("30"), "currency": "USD"},
        {"amount": 40.0},
    )
    low, middle, dollars, high = (d.id for d in made)

    assert await ids(sdk, marker, min_amount=Decimal("20.50"), max_amount=30) == [dollars, middle]
    assert await ids(sdk, marker, min_amount="20.51", max_amount=40.0) == [high, dollars]
    assert await ids(sdk, marker, currency="USD") == [dollars]
    assert await ids(sdk, marker, internal_id=f"{marker}-0") == [low]
    assert await ids(sdk, marker, invoice_reference=f"{marker}-INV") == [middle]
    assert await ids(sdk, marker.upper()) == [high, dollars, middle, low]
    everyone = [high, dollars, middle, low]
    for status in ("pending", PENDING):
        assert await ids(sdk, marker, status=status) == everyone
    assert await ids(sdk, marker, status="paid") == []
    after = datetime.now(UTC) + timedelta(seconds=1)
    for since, until in [
        (before, after),
        # Any offset names the same moment.
        (before.astimezone(PARIS_SUMMER), after.astimezone(PARIS_SUMMER)),
        (int(before.timestamp()), int(after.timestamp()) + 1),
        (date(2000, 1, 1), date(9999, 1, 1)),
        (before.isoformat(), None),
    ]:
        assert await ids(sdk, marker, created_after=since, created_before=until) == everyone
    assert await ids(sdk, marker, created_after=after) == []
    assert await ids(sdk, marker, created_before=date(2000, 1, 1)) == []


async def test_a_bad_filter_is_refused_naming_it(sdk: Twin) -> None:
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"min_amount": 50, "max_amount": Decimal("10")}, "min_amount"),
        ({"min_amount": "ten"}, "min_amount"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": datetime(2024, 1, 1)}, "created_after"),  # naive: which zone?
        ({"currency": "eur"}, "currency"),
    ]
    for filters, named in refusals:
        with pytest.raises(BadRequestError) as refused:
            await Twin.first_page(sdk.debts.list(**filters))
        assert list(refused.value.details) == [named], filters


async def test_an_update_changes_only_the_fields_given(sdk: Twin, marker: str) -> None:
    (original,) = await created(sdk, marker, {"email": "camille@example.fr"})
    changes: DebtFields = {
        "status": "status.default.in_progress",
        "amount": Decimal("99.90"),
        "city": "Metz",
        "invoice_date": date(2024, 5, 1),
        "metadata": {"crm": {"id": 7}},
    }

    changed = await Twin.call(sdk.debts.update(original.id, **changes))
    cleared = await Twin.call(sdk.debts.update(original.id, email=None, metadata=None))

    assert (changed.status, changed.amount, changed.amount_text) == (
        "status.default.in_progress",
        99.9,
        "99.90",
    )
    assert (changed.city, changed.invoice_date) == ("Metz", date(2024, 5, 1))
    assert changed.metadata == {"crm": {"id": 7}}
    kept = {"firstname", "lastname", "phone", "email", "internal_id", "currency", "import_date"}
    assert changed.model_dump(include=kept) == original.model_dump(include=kept)
    assert (cleared.email, cleared.metadata) == (None, None)
    assert cleared.model_dump(exclude={"email", "metadata"}) == changed.model_dump(
        exclude={"email", "metadata"}
    )
    assert await Twin.call(sdk.debts.get(original.id)) == cleared


async def test_a_taken_internal_id_is_a_conflict_naming_its_holder(sdk: Twin, marker: str) -> None:
    holder, other = await created(sdk, marker, {}, {})

    with pytest.raises(ConflictError) as refused:
        await Twin.call(sdk.debts.update(other.id, internal_id=holder.internal_id, city="Metz"))

    assert refused.value.status_code == 409
    assert refused.value.details == {
        "internal_id": [f"is already the internal_id of debt {holder.id}"]
    }
    assert holder.id in refused.value.message
    assert (await Twin.call(sdk.debts.get(other.id))).city is None
    with pytest.raises(ConflictError):
        await Twin.call(sdk.debts.create(**debt(marker, 0)))


async def test_a_batch_answers_each_item_typed(sdk: Twin, marker: str) -> None:
    items = [
        {**debt(marker, 0, amount=Decimal("12.50")), "temp_id": "t0"},
        {**debt(marker, 1, amount=-3, currency="eur"), "temp_id": "t1"},
        {"firstname": "Prénom*", "lastname": "Nom*", "temp_id": "t2"},
        debt(marker, 3, email="lea@example.fr", phone=None, invoice_date=date(2024, 5, 1)),
        {**debt(marker, 4), "internal_id": f"{marker}-0", "temp_id": "t4"},
    ]
    key = f"batch-{marker}"

    done = await Twin.call(sdk.debts.batch(items, batch_name=marker, idempotency_key=key))
    again = await Twin.call(sdk.debts.batch(items, batch_name=marker, idempotency_key=key))

    assert isinstance(done, DebtBatchResult)
    assert done.batch_name == marker
    assert [(c.index, c.temp_id, c.status) for c in done.created] == [
        (0, "t0", "valid"),
        (3, None, "valid"),
    ]
    assert done.created[0].data == DebtBatchCreatedData(
        firstname="Camille",
        lastname="Durand",
        phone="+33612345678",
        email=None,
        amount=12.5,
        currency="EUR",
    )
    assert [(f.index, f.temp_id) for f in done.failed] == [(1, "t1"), (4, "t4")]
    assert set(done.failed[0].errors) == {"amount", "currency"}
    assert done.failed[1].errors == {
        "internal_id": ["is already the internal_id of the item at index 0"]
    }
    assert [(s.index, s.temp_id) for s in done.skipped] == [(2, "t2")]
    assert done.summary.model_dump() == {"total": 5, "created": 2, "failed": 2, "skipped": 1}
    assert again == done  # answered once: nothing created twice
    listed = await ids(sdk, marker)
    assert sorted(listed) == sorted(c.debt_id for c in done.created)
    shown = await Twin.call(sdk.debts.get(done.created[1].debt_id))
    assert (shown.email, shown.invoice_date, shown.status) == (
        "lea@example.fr",
        date(2024, 5, 1),
        PENDING,
    )


async def test_a_batch_without_a_key_or_a_name_gets_its_own(sdk: Twin, marker: str) -> None:
    first = await Twin.call(sdk.debts.batch([debt(marker, 0)]))
    second = await Twin.call(sdk.debts.batch([debt(marker, 1)]))

    assert first.import_id != second.import_id
    assert first.batch_name is not None
    assert first.batch_name.startswith("API Batch - ")
    assert len(await ids(sdk, marker)) == 2


async def test_a_deleted_debt_is_gone(sdk: Twin, marker: str) -> None:
    kept, deleted = await created(sdk, marker, {}, {})

    await Twin.call(sdk.debts.delete(deleted.id))

    with pytest.raises(NotFoundError):
        await Twin.call(sdk.debts.get(deleted.id))
    with pytest.raises(NotFoundError):
        await Twin.call(sdk.debts.delete(deleted.id))
    assert await ids(sdk, marker) == [kept.id]


async def test_another_companys_debt_is_not_found(sdk: Twin, connect: Connect, marker: str) -> None:
    (mine,) = await created(sdk, marker, {})
    other = connect("other")

    for call in (
        lambda: other.debts.get(mine.id),
        lambda: other.debts.update(mine.id, city="Metz"),
        lambda: other.debts.delete(mine.id),
    ):
        with pytest.raises(NotFoundError):
            await Twin.call(call())
    assert await ids(other, marker) == []
    assert (await Twin.call(sdk.debts.get(mine.id))) == mine


async def test_writes_need_debts_write(sdk: Twin, connect: Connect, marker: str) -> None:
    (mine,) = await created(sdk, marker, {})
    reader = connect("reader")

    for call in (
        lambda: reader.debts.update(mine.id, city="Metz"),
        lambda: reader.debts.batch([debt(marker, 1)]),
        lambda: reader.debts.delete(mine.id),
    ):
        with pytest.raises(PermissionDeniedError) as refused:
            await Twin.call(call())
        assert refused.value.message == 'Required scope "debts:write" not found in token'
    assert await ids(reader, marker) == [mine.id]


def test_the_debt_names_the_servers_fields() -> None:
    """The client cannot import the server's views (it installs without them): it names
    their fields, and this keeps every one it names the server's (a field the server adds
    is kept by the model, as any newer server's)."""
    assert set(Debt.model_fields) <= set(schemas.DebtView.__struct_fields__)
    assert set(DebtFields.__annotations__) <= set(schemas.DebtUpdate.model_fields)
    created = batch.ANSWER_SCHEMA["properties"]["data"]["properties"]["created"]
    assert set(DebtBatchCreatedData.model_fields) == set(
        created["items"]["properties"]["data"]["properties"]
    )
    assert set(DebtBatchResult.model_fields) == set(
        batch.ANSWER_SCHEMA["properties"]["data"]["properties"]
    )


def test_the_debt_statuses_are_the_servers() -> None:
    assert list(get_args(SettableDebtStatus)) == [s.value for s in schemas.SettableStatus]
    assert list(get_args(DebtStatusName)) == [
        s.value.removeprefix("status.default.") for s in schemas.DebtStatus
    ]
