"""The failure throttle's memory, under a stream of failed POST /token requests with made-up
client IDs: flat, whatever the IDs' length or number, and freed once the window has passed."""

from __future__ import annotations

import gc
import logging
import secrets
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from relance.auth.throttle import FailureThrottle
from relance.runtime import Runtime
from tests.factories import Client

MIB = 1024 * 1024


@pytest.fixture
def backend() -> str:
    # Made-up IDs of the wrong shape never reach the database, and those of the right shape
    # cost one lookup each on either: one database shows the throttle's memory.
    return "sqlite"


async def fail(client: Client, client_id: str) -> None:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"}
    response = await client.post("/token", data=form)
    assert response.status_code in (401, 429), response.text


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # As if every request came from an address of its own (an attacker with many addresses):
    # the per-address throttle then never steps in before the per-client one.
    return {"token_failures_per_address": 1_000_000}


@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture) -> None:
    # pytest keeps every log record it captures: none are written, so that only the app's own
    # memory and time are measured.
    caplog.set_level(logging.CRITICAL)


@pytest.fixture
def traced(quiet: None) -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def traced_now() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_failures_with_huge_client_ids_leave_memory_flat(
    client: Client, traced: None
) -> None:
    # 2,000 IDs of 32 KiB each: 64 MiB if any part of the throttle kept them.
    for _ in range(200):  # the first requests fill caches that then stay the same size
        await fail(client, secrets.token_hex(16 * 1024))
    before = traced_now()
    for _ in range(2000):
        await fail(client, secrets.token_hex(16 * 1024))
    assert traced_now() - before < 2 * MIB


async def test_failures_with_ever_new_plausible_client_ids_are_capped(
    client: Client, quiet: None
) -> None:
    # IDs of the shape Relance makes are kept for their window (each a few hundred bytes, at
    # most `limit` failures), but never more of them than the cap.
    runtime: Runtime = client.app.state.runtime
    for _ in range(11_000):
        await fail(client, "rlc_" + secrets.token_hex(11))
    assert 0 < len(runtime.authority.throttles.by_client) <= 10_000


def test_keys_whose_failures_left_the_window_are_forgotten() -> None:
    throttle = FailureThrottle(limit=3, window_seconds=0.2)
    for number in range(500):
        throttle.fail(f"203.0.113.{number}")
    assert len(throttle) == 500
    time.sleep(0.25)  # the whole window passes; nothing here is timed
    throttle.fail("198.51.100.1")
    assert len(throttle) == 1
    # Asking about a key stores nothing.
    assert throttle.retry_after("198.51.100.2") is None
    assert len(throttle) == 1


def test_a_long_key_is_still_counted_as_itself() -> None:
    # Kept as a hash of fixed size, but counted as exactly before.
    throttle = FailureThrottle(limit=3, window_seconds=60)
    for _ in range(3):
        assert throttle.retry_after("x" * 100_000) is None
        throttle.fail("x" * 100_000)
    wait = throttle.retry_after("x" * 100_000)
    assert wait is not None
    assert 1 <= wait <= 60
    assert throttle.retry_after("x" * 99_999) is None
