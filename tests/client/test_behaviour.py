"""Every behaviour of the SDK, written once and run against the synchronous and the
asynchronous client alike (tests/client/twins.py): the resources and their pages against a real
`relance serve` on the demo book; retries, rate-limit waits and token renewal through a small
real proxy in front of it (tests/client/faults.py), which injects the faults the server cannot be
made to produce on demand. The retries' waits are recorded through the SDK's patched sleep."""

from __future__ import annotations

import enum
import json
import math
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, cast, get_args

import pytest

from relance.client import (
    APIConnectionError,
    AsyncRelance,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DebtStatus,
    Direction,
    Followup,
    FollowupStatus,
    FollowupType,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Relance,
    RelanceError,
    _base,
)
from relance.debts import schemas as debts
from relance.followups import enums as followups
from tests.client.conftest import Book
from tests.client.faults import TOKEN, Fault, FaultyProxy, answering, proxying
from tests.client.media import comparable, comparables
from tests.client.twins import Twin, Waits
from tests.commands import free_port

Connect = Callable[..., Twin]
MISSING = "0" * 22  # a well-formed ID that names nothing
WINDOW_SECONDS = 2


@pytest.fixture(scope="module")
def demo_env() -> dict[str, str]:
    """A short rate-limit window, which a client allowed a few reads waits out; no other
    client comes near its default budget within one."""
    return {"RELANCE_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW_SECONDS)}


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> Waits:
    recorded = Waits()
    monkeypatch.setattr("relance.client._sync.sleep", recorded.sync)
    monkeypatch.setattr("relance.client._async.sleep", recorded.asynchronous)
    return recorded


@pytest.fixture(params=[Relance, AsyncRelance], ids=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> type[Relance | AsyncRelance]:
    found: type[Relance | AsyncRelance] = request.param
    return found


@pytest.fixture
async def connect(kind: type[Relance | AsyncRelance]) -> AsyncIterator[Connect]:
    """Clients of the kind under test, closed at the end."""
    made: list[Twin] = []

    def connect(base: str, credentials: dict[str, Any], **options: Any) -> Twin:
        secret = credentials["client_secret"]
        made.append(Twin(kind(base, credentials["client_id"], secret, **options)))
        return made[-1]

    yield connect
    for twin in made:
        await twin.close()


@pytest.fixture
def sdk(connect: Connect, demo: tuple[str, dict[str, Any]]) -> Twin:
    """A client of the demo book's biggest company, straight to the server."""
    return connect(*demo)


@pytest.fixture(scope="module")
def faulty(demo_book: Book) -> Iterator[FaultyProxy]:
    with proxying(demo_book.base) as proxy:
        yield proxy


@pytest.fixture
def proxy(faulty: FaultyProxy) -> FaultyProxy:
    """The proxy, passing every request on until the test sets its plan."""
    faulty.reset()
    return faulty


@pytest.fixture
def proxied(connect: Connect, proxy: FaultyProxy, demo: tuple[str, dict[str, Any]]) -> Connect:
    """Clients of the same company whose requests go through the proxy."""
    return lambda **options: connect(proxy.base, demo[1], **options)


# Resources and pages, on the real server.


async def test_a_list_walks_every_item_of_every_page(sdk: Twin) -> None:
    walked = await sdk.items(sdk.followups.list(status="no_answer", limit=20))
    first = await sdk.first_page(sdk.followups.list(status="no_answer", limit=20))
    assert first.pagination.pages > 2
    assert len(first.data) == first.pagination.limit == 20
    pages = await sdk.pages(first)
    assert len(pages) == first.pagination.pages
    # Each call signs the media it shows anew: compared by the files they name.
    assert comparables(f for page in pages for f in page) == comparables(walked)
    assert comparables(await sdk.items(first)) == comparables(walked)  # on to the next pages
    assert len(walked) == first.pagination.total == len({followup.id for followup in walked})
    assert {followup.status for followup in walked} == {"no_answer"}
    moments = [f.call_date or f.scheduled_at or f.processed_at for f in walked]
    assert all(moment is not None and moment.tzinfo is not None for moment in moments)


async def test_the_filters_and_the_page_number_reach_the_server(sdk: Twin) -> None:
    calls = sdk.followups.list(status="delivered", type="call", limit=1)
    called = (await sdk.first_page(calls)).data[0]
    assert called.call_date is not None
    day = called.call_date.date()
    that_day = sdk.followups.list(status="delivered", type="call", date_from=day, date_to=day)
    found = await sdk.items(that_day)
    assert comparable(called) in comparables(found)
    assert {(f.type, f.call_date and f.call_date.date()) for f in found} == {("call", day)}
    second = await sdk.first_page(sdk.followups.list(type="email", page=2, limit=3))
    every = await sdk.items(sdk.followups.list(type="email", limit=3))
    assert second.pagination.page == 2
    assert comparables(second.data) == comparables(every[3:6])
    assert comparables(await sdk.items(second)) == comparables(every[3:])  # from page 2 on


async def test_a_followup_is_created_read_and_updated(sdk: Twin) -> None:
    debt_id = (await sdk.first_page(sdk.followups.list(type="call", limit=1))).data[0].debt_id
    moment = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
    created = await sdk.call(
        sdk.followups.create(
            debt_id=debt_id, type="manual_call", status="no_answer", summary="SDK", call_date=moment
        )
    )
    assert (created.status, created.call_date, created.summary) == ("no_answer", moment, "SDK")
    assert await sdk.call(sdk.followups.get(created.id)) == created
    changed = await sdk.call(sdk.followups.update(created.id, status="deal_found", summary=None))
    assert (changed.id, changed.status, changed.summary) == (created.id, "deal_found", None)
    defaulted = await sdk.call(sdk.followups.create(debt_id=debt_id, type="email"))
    assert defaulted.status == "on_hold"  # no status sent: the server's default
    of_debt = await sdk.items(sdk.followups.list_by_debt(debt_id, limit=2))
    assert {created.id, defaulted.id} <= {followup.id for followup in of_debt}
    assert {followup.debt_id for followup in of_debt} == {debt_id}
    filtered = await sdk.items(sdk.followups.list(debt_id=debt_id, limit=2))
    assert [f.id for f in filtered] == [f.id for f in of_debt]
    debt = await sdk.call(sdk.debts.get(debt_id))
    assert debt.followups_count == len(of_debt)


async def test_a_debt_is_created_read_and_listed(sdk: Twin) -> None:
    created = await sdk.call(
        sdk.debts.create(
            firstname="Eve",
            email="eve@example.fr",
            lastname="Sdk",
            amount="12.50",
            currency="EUR",
            invoice_date=date(2024, 5, 1),
        )
    )
    assert (created.amount, created.invoice_date) == (12.5, date(2024, 5, 1))
    assert await sdk.call(sdk.debts.get(created.id)) == created
    assert created.status is not None
    status = cast(DebtStatus, created.status)
    first = await sdk.first_page(sdk.debts.list(status=status, limit=10))
    listed = await sdk.items(sdk.debts.list(status=status, limit=10))
    assert len(listed) == first.pagination.total == len({debt.id for debt in listed})
    assert created.id in {debt.id for debt in listed}
    assert {debt.status for debt in listed} == {status}


async def test_each_refusal_of_the_server_is_its_own_exception(
    sdk: Twin, connect: Connect, demo_book: Book, waits: Waits
) -> None:
    debt_id = (await sdk.first_page(sdk.followups.list(limit=1))).data[0].debt_id
    with pytest.raises(BadRequestError) as refused:
        await sdk.call(sdk.followups.create(debt_id=debt_id, type=cast(FollowupType, "fax")))
    assert "type" in refused.value.details
    with pytest.raises(NotFoundError):
        await sdk.call(sdk.followups.get(MISSING))
    reader = connect(demo_book.base, demo_book.new_client("followups:read"))
    with pytest.raises(PermissionDeniedError):
        await reader.call(reader.debts.get(debt_id))
    wrong = {**demo_book.companies[0], "client_secret": "relance_sk_wrong"}
    stranger = connect(demo_book.base, wrong)
    with pytest.raises(AuthenticationError):
        await stranger.call(stranger.followups.get(MISSING))
    assert waits.seconds == []  # none of these is worth a retry


async def test_a_short_rate_limit_window_is_waited_out(
    connect: Connect, demo_book: Book, waits: Waits
) -> None:
    waits.real = True
    limited = connect(demo_book.base, demo_book.new_client("followups:read", "--read-limit", "3"))
    first = await limited.first_page(limited.followups.list(status="no_answer", limit=1))
    total = first.pagination.total
    assert 6 <= total <= 600
    # Six pages after the first request: the budget of three windows, waited out twice.
    listing = limited.followups.list(status="no_answer", limit=math.ceil(total / 6))
    walked = await limited.items(listing)
    assert len(walked) == total
    assert len(waits.seconds) >= 2
    assert all(0 <= wait <= WINDOW_SECONDS + 0.25 for wait in waits.seconds)


# Retries, through the proxy.


async def test_a_429_waits_as_retry_after_says(
    proxy: FaultyProxy, proxied: Connect, waits: Waits
) -> None:
    proxy.plan = answering(Fault(429, {"Retry-After": "7"}), times=1)
    client = proxied()
    first = await client.first_page(client.followups.list(limit=1))
    assert first.data
    assert len(waits.seconds) == 1
    assert 7 <= waits.seconds[0] <= 7.25
    assert len(proxy.api_requests()) == 2


async def test_without_retry_after_the_rate_limit_reset_is_waited_for(
    proxy: FaultyProxy, proxied: Connect, waits: Waits
) -> None:
    reset = str(int(time.time()) + 60)
    proxy.plan = answering(Fault(429, {"X-RateLimit-Reset": reset}), times=1)
    client = proxied()
    await client.first_page(client.followups.list(limit=1))
    assert len(waits.seconds) == 1
    assert 50 <= waits.seconds[0] <= 60.25  # a minute from when the header was written


async def test_without_a_hint_the_retries_back_off_exponentially(
    proxy: FaultyProxy, proxied: Connect, waits: Waits
) -> None:
    proxy.plan = answering(Fault(503), times=3)
    client = proxied(max_retries=3)
    first = await client.first_page(client.followups.list(limit=1))
    assert first.data
    assert len(waits.seconds) == 3
    for attempt, waited in enumerate(waits.seconds):
        assert 0.25 * 2**attempt <= waited <= 0.5 * 2**attempt


async def test_the_last_retry_s_failure_is_raised(
    proxy: FaultyProxy, proxied: Connect, waits: Waits
) -> None:
    proxy.plan = answering(Fault(429, {"Retry-After": "2"}))
    client = proxied(max_retries=3)
    with pytest.raises(RateLimitError) as raised:
        await client.call(client.followups.get(MISSING))
    assert raised.value.retry_after == 2.0
    assert len(proxy.api_requests()) == 4
    assert len(waits.seconds) == 3


async def test_a_wait_longer_than_the_limit_is_not_made(
    proxy: FaultyProxy, proxied: Connect, waits: Waits
) -> None:
    proxy.plan = answering(Fault(429, {"Retry-After": str(_base.MAX_WAIT + 60)}))
    client = proxied()
    with pytest.raises(RateLimitError):
        await client.call(client.followups.get(MISSING))
    assert waits.seconds == []
    assert len(proxy.api_requests()) == 1


@pytest.mark.parametrize(("status", "error"), [(409, ConflictError), (500, InternalServerError)])
async def test_other_statuses_are_their_own_exceptions(
    proxy: FaultyProxy, proxied: Connect, status: int, error: type[RelanceError]
) -> None:
    proxy.plan = answering(Fault(status))
    client = proxied(max_retries=0)
    with pytest.raises(error) as raised:
        await client.call(client.followups.get(MISSING))
    assert f"injected {status}" in str(raised.value)


async def test_a_retried_post_creates_once(proxy: FaultyProxy, proxied: Connect) -> None:
    client = proxied()
    debt_id = (await client.first_page(client.followups.list(limit=1))).data[0].debt_id
    # The server creates the followup, and its answer is lost on the way back.
    proxy.plan = answering(Fault(502, forwarded=True), path="/external-api/v1/followups", times=1)
    summary = f"Once {secrets.token_hex(4)}"
    created = await client.call(
        client.followups.create(debt_id=debt_id, type="sms", summary=summary)
    )
    posts = [seen for seen in proxy.api_requests() if seen.method == "POST"]
    assert len(posts) == 2
    assert len({seen.headers["idempotency-key"] for seen in posts}) == 1
    assert json.loads(posts[0].body) == {"debt_id": debt_id, "type": "sms", "summary": summary}
    assert [seen.upstream and seen.upstream.status_code for seen in posts] == [201, 201]
    assert posts[1].upstream is not None
    assert posts[1].upstream.headers["idempotent-replayed"] == "true"
    of_debt = await client.items(client.followups.list_by_debt(debt_id, limit=100))
    assert [f.id for f in of_debt if f.summary == summary] == [created.id]


async def test_connection_errors_are_retried_then_raised(connect: Connect, waits: Waits) -> None:
    nobody = {"client_id": "rlc_x", "client_secret": "relance_sk_x"}
    client = connect(f"http://127.0.0.1:{free_port()}", nobody, max_retries=2)
    with pytest.raises(APIConnectionError):
        await client.call(client.followups.get(MISSING))
    assert len(waits.seconds) == 2


# The token, through the proxy.


async def test_the_token_endpoint_s_503_is_retried(
    proxy: FaultyProxy, proxied: Connect, waits: Waits
) -> None:
    proxy.plan = answering(Fault(503, {"Retry-After": "1"}), path=TOKEN, times=1)
    client = proxied()
    assert (await client.first_page(client.followups.list(limit=1))).data
    assert proxy.tokens_asked() == 2
    assert len(waits.seconds) == 1
    assert 1 <= waits.seconds[0] <= 1.25


async def test_a_refused_token_is_renewed_once_and_the_request_retried(
    proxy: FaultyProxy, proxied: Connect
) -> None:
    # The first token is refused, as a revoked or expired one is.
    proxy.plan = answering(Fault(401), times=1)
    client = proxied()
    assert (await client.first_page(client.followups.list(limit=1))).data
    assert proxy.tokens_asked() == 2
    used = [seen.headers["authorization"] for seen in proxy.api_requests()]
    assert len(used) == len(set(used)) == 2


async def test_a_token_refused_twice_is_raised(proxy: FaultyProxy, proxied: Connect) -> None:
    proxy.plan = answering(Fault(401))
    client = proxied()
    with pytest.raises(AuthenticationError):
        await client.call(client.followups.get(MISSING))
    assert proxy.tokens_asked() == 2
    assert len(proxy.api_requests()) == 2


async def test_a_token_is_renewed_before_it_expires(
    proxy: FaultyProxy, proxied: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [time.monotonic()]
    monkeypatch.setattr("relance.client._auth.monotonic", lambda: clock[0])
    client = proxied()
    await client.first_page(client.followups.list(limit=1))
    clock[0] += 3600 - 61  # a minute and a second before the token expires: still used
    await client.first_page(client.followups.list(limit=1))
    assert proxy.tokens_asked() == 1
    clock[0] += 2  # within the last minute: renewed before the request leaves
    await client.first_page(client.followups.list(limit=1))
    assert proxy.tokens_asked() == 2
    used = [seen.headers["authorization"] for seen in proxy.api_requests()]
    assert used[0] == used[1] != used[2]


async def test_concurrent_requests_share_one_token(proxy: FaultyProxy, proxied: Connect) -> None:
    client = proxied()
    pages = await client.concurrently(8, lambda: client.followups.list(limit=1))
    assert all(page.data for page in pages)
    assert proxy.tokens_asked() == 1
    assert len(proxy.api_requests()) == 8


# What needs no server.


def test_missing_settings_name_what_to_set(
    kind: type[Relance | AsyncRelance], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RELANCE_BASE_URL", "RELANCE_CLIENT_ID", "RELANCE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RelanceError) as raised:
        kind(base_url="http://127.0.0.1:9")
    assert "client_id (or RELANCE_CLIENT_ID)" in str(raised.value)
    assert "client_secret (or RELANCE_CLIENT_SECRET)" in str(raised.value)


def test_fields_and_values_a_newer_server_adds_are_kept() -> None:
    sent = {"id": "f" * 22, "debt_id": "d" * 22, "status": "paused", "type": "fax", "mood": 1}
    followup = Followup.model_validate(sent)
    assert (followup.status, followup.type) == ("paused", "fax")
    assert followup.model_extra == {"mood": 1}


@pytest.mark.parametrize(
    ("literal", "server"),
    [
        (FollowupStatus, followups.FollowupStatus),
        (FollowupType, followups.FollowupType),
        (Direction, followups.Direction),
        (DebtStatus, debts.DebtStatus),
    ],
    ids=["FollowupStatus", "FollowupType", "Direction", "DebtStatus"],
)
def test_the_vocabularies_are_the_servers(literal: Any, server: type[enum.StrEnum]) -> None:
    """The client cannot import the server's enums (it installs without them): it spells them
    out, and this keeps the two equal."""
    assert list(get_args(literal)) == [member.value for member in server]
