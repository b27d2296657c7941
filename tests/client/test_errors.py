"""The SDK's error paths, retries and token handling, against httpx's mock transport: each
status becomes its exception, retries wait and stop as they should, a POST keeps its
Idempotency-Key across retries, and a refused token is renewed once, by one request for all."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from relance.client import (
    APIConnectionError,
    AsyncRelance,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Relance,
    RelanceError,
    _base,
)

BASE = "https://api.example"
FOLLOWUP = {
    "id": "f" * 22,
    "debt_id": "d" * 22,
    "status": "delivered",
    "type": "email",
    "call_date": "2024-01-22T10:30:00+00:00",
    "a_field_from_a_newer_server": 1,
}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries do not sleep here; the waits they would have made are recorded."""
    waits: list[float] = []
    monkeypatch.setattr("relance.client._sync.time.sleep", waits.append)
    return waits


class Server:
    """A fake API: answers from `answer(request)`, tokens numbered from 1."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []
        self.tokens_issued = 0
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            if request.url.path == "/token":
                self.tokens_issued += 1
                token = f"token-{self.tokens_issued}"
                return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        return self.answer(request)

    def client(self, **options: Any) -> Relance:
        return Relance(BASE, "rlc_id", "secret", transport=httpx.MockTransport(self), **options)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/token"]


def envelope(status: int, message: str, **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"error": True, "message": message, "code": status, **extra})


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (500, InternalServerError),
    ],
)
def test_each_status_is_its_own_exception(status: int, kind: type[RelanceError]) -> None:
    server = Server(lambda request: envelope(status, "Nope"))
    with server.client(max_retries=0) as client, pytest.raises(kind) as raised:
        client.followups.get("x" * 22)
    assert "Nope" in str(raised.value)


def test_a_bad_request_carries_its_field_details() -> None:
    details = {"type": ["must be one of: call, email"]}
    server = Server(lambda request: envelope(400, "Validation failed", details=details))
    with server.client() as client, pytest.raises(BadRequestError) as raised:
        client.followups.create(debt_id="d" * 22, type="fax")
    assert raised.value.details == details
    assert len(server.api_requests()) == 1  # a 400 is not retried


def test_a_429_waits_as_told_then_succeeds(no_waiting: list[float]) -> None:
    answers = iter(
        [
            httpx.Response(429, json={"error": True}, headers={"Retry-After": "7"}),
            httpx.Response(200, json={"error": False, "data": FOLLOWUP}),
        ]
    )
    server = Server(lambda request: next(answers))
    with server.client() as client:
        followup = client.followups.get("f" * 22)
    assert followup.id == "f" * 22
    assert followup.model_extra == {"a_field_from_a_newer_server": 1}
    assert len(no_waiting) == 1
    assert 7 <= no_waiting[0] < 7.5


def test_a_429_after_the_last_retry_is_raised_with_retry_after(no_waiting: list[float]) -> None:
    limited = {"error": True, "message": "Rate limit exceeded", "code": 429}
    server = Server(lambda request: httpx.Response(429, json=limited, headers={"Retry-After": "2"}))
    with server.client(max_retries=3) as client, pytest.raises(RateLimitError) as raised:
        client.followups.get("f" * 22)
    assert raised.value.retry_after == 2.0
    assert len(server.api_requests()) == 4
    assert len(no_waiting) == 3


def test_server_errors_back_off_exponentially(no_waiting: list[float]) -> None:
    server = Server(lambda request: envelope(503, "Service unavailable"))
    with server.client(max_retries=3) as client, pytest.raises(InternalServerError):
        client.debts.get("d" * 22)
    assert len(no_waiting) == 3
    for attempt, waited in enumerate(no_waiting):
        assert 0.25 * 2**attempt <= waited <= 0.5 * 2**attempt


def test_a_wait_longer_than_the_limit_is_not_made(no_waiting: list[float]) -> None:
    too_long = str(_base.MAX_WAIT + 60)
    server = Server(lambda request: httpx.Response(429, headers={"Retry-After": too_long}))
    with server.client() as client, pytest.raises(RateLimitError):
        client.followups.get("f" * 22)
    assert no_waiting == []


def test_a_retried_post_keeps_its_idempotency_key() -> None:
    answers = iter(
        [
            envelope(502, "Bad gateway"),
            httpx.Response(201, json={"error": False, "data": FOLLOWUP}),
        ]
    )
    server = Server(lambda request: next(answers))
    with server.client() as client:
        client.followups.create(debt_id="d" * 22, type="email", summary="Sent")
    posts = server.api_requests()
    keys = {request.headers["Idempotency-Key"] for request in posts}
    assert len(posts) == 2
    assert len(keys) == 1
    assert json.loads(posts[0].content) == {"debt_id": "d" * 22, "type": "email", "summary": "Sent"}


def test_connection_errors_are_retried_then_raised(no_waiting: list[float]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = Server(refuse)
    with server.client(max_retries=2) as client, pytest.raises(APIConnectionError):
        client.followups.get("f" * 22)
    assert len(server.api_requests()) == 3


def test_a_refused_token_is_renewed_once_and_the_request_retried() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer token-1":
            return envelope(401, "Authentication credentials are missing or invalid")
        return httpx.Response(200, json={"error": False, "data": FOLLOWUP})

    server = Server(answer)
    with server.client() as client:
        assert client.followups.get("f" * 22).id == "f" * 22
    assert server.tokens_issued == 2
    refused_twice = Server(lambda request: envelope(401, "invalid"))
    with refused_twice.client() as client, pytest.raises(AuthenticationError):
        client.followups.get("f" * 22)
    assert refused_twice.tokens_issued == 2


def test_a_token_is_renewed_before_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(lambda request: httpx.Response(200, json={"error": False, "data": FOLLOWUP}))
    clock = [1000.0]
    monkeypatch.setattr("relance.client._auth.time.monotonic", lambda: clock[0])
    with server.client() as client:
        client.followups.get("f" * 22)
        clock[0] += 3600 - 61  # a minute and a second before the token expires: still used
        client.followups.get("f" * 22)
        assert server.tokens_issued == 1
        clock[0] += 2  # within the last minute: renewed before the request leaves
        client.followups.get("f" * 22)
    assert server.tokens_issued == 2
    used = [r.headers["Authorization"] for r in server.api_requests()]
    assert used == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


def test_concurrent_requests_share_one_token() -> None:
    server = Server(lambda request: httpx.Response(200, json={"error": False, "data": FOLLOWUP}))
    with server.client() as client:
        threads = [
            threading.Thread(target=client.followups.get, args=("f" * 22,)) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert server.tokens_issued == 1
    assert len(server.api_requests()) == 8


async def test_the_async_client_maps_errors_and_retries_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr("relance.client._async.asyncio.sleep", no_sleep)
    answers = iter([envelope(500, "boom"), envelope(404, "Followup not found")])
    server = Server(lambda request: next(answers))
    client = AsyncRelance(BASE, "rlc_id", "secret", transport=httpx.MockTransport(server))
    async with client:
        with pytest.raises(NotFoundError):
            await client.followups.get("f" * 22)
    assert len(server.api_requests()) == 2


def test_missing_settings_name_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RELANCE_BASE_URL", "RELANCE_CLIENT_ID", "RELANCE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RelanceError) as raised:
        Relance(base_url=BASE)
    assert "client_id (or RELANCE_CLIENT_ID)" in str(raised.value)
    assert "client_secret (or RELANCE_CLIENT_SECRET)" in str(raised.value)


def test_without_retry_after_the_rate_limit_reset_is_waited_for(no_waiting: list[float]) -> None:
    reset = str(int(time.time()) + 5)
    answers = iter(
        [
            httpx.Response(429, json={"error": True}, headers={"X-RateLimit-Reset": reset}),
            httpx.Response(200, json={"error": False, "data": FOLLOWUP}),
        ]
    )
    server = Server(lambda request: next(answers))
    with server.client() as client:
        client.followups.get("f" * 22)
    assert len(no_waiting) == 1
    assert 3.5 <= no_waiting[0] <= 5.5


def test_importing_the_client_loads_none_of_the_server() -> None:
    check = (
        "import sys, relance.client; "
        "loaded = [m for m in ('litestar', 'asyncpg', 'sqlalchemy', 'redis', 'boto3') "
        "if m in sys.modules]; print(loaded)"
    )
    command = [sys.executable, "-c", check]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    assert done.stdout.strip() == "[]"
