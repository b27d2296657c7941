"""A delivery worker killed with SIGKILL in the middle of a delivery, on SQLite and on
PostgreSQL: once its claim's lease runs out another worker takes the delivery over, and every
event reaches the receiver, the one cut short again with the same webhook-id."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.commands import COMMAND, cli_env, demo_on, served, token_of
from tests.postgres import scratch_database
from tests.webhooks.receiver import Received, Receiver, Reply, running_receiver

API = "/external-api/v1"
EVENTS = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
        return
    with scratch_database("relance_worker_kill") as url:
        yield {"RELANCE_DATABASE_URL": url}


def start_worker(home: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603
            [*COMMAND, "worker"], stdout=output, stderr=subprocess.STDOUT, env=cli_env(home, env)
        )


def wait_for(
    receiver: Receiver, done: Callable[[list[Received]], bool], seconds: float = 60
) -> list[Received]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = list(receiver.received)
        if done(found):
            return found
        time.sleep(0.1)
    raise AssertionError(f"the receiver got {len(receiver.received)} requests")


def test_every_event_arrives_after_a_worker_is_killed(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    env = {
        **database_env,
        "RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
        "RELANCE_WEBHOOKS_TIMEOUT_SECONDS": "3",
        "RELANCE_WEBHOOKS_RETRY_SCHEDULE": "0.5,0.5,0.5",
    }
    company = demo_on(home, env)[0]
    log = tmp_path / "worker.log"
    with (
        running_receiver() as receiver,
        served(home, env, tmp_path / "serve.log", 1, "--no-deliver") as (_, base),
    ):
        # The first request is held for longer than the test takes: the worker dies with it.
        receiver.answer = lambda r: Reply(pause=30) if len(receiver.received) == 1 else Reply()
        auth = {"Authorization": f"Bearer {token_of(base, company)}"}
        made = httpx.post(
            f"{base}{API}/webhook-endpoints",
            json={"url": receiver.url, "enabled_events": ["debt.created"]},
            headers=auth,
        )
        assert made.status_code == 201, made.text
        debt = {"firstname": "A", "lastname": "B", "amount": 10, "currency": "EUR",
                "phone": "+33612345678"}  # fmt: skip
        for _ in range(EVENTS):
            assert httpx.post(f"{base}{API}/debts", json=debt, headers=auth).status_code == 201
        # The newest: the demo book has debt.created events of its own, sent to no endpoint.
        newest = f"{base}{API}/events?type=debt.created&limit={EVENTS}"
        events = httpx.get(newest, headers=auth).json()["data"]
        expected = {event["id"] for event in events}
        assert len(expected) == EVENTS

        first = start_worker(home, env, log)
        try:
            (cut_short,) = wait_for(receiver, lambda found: len(found) >= 1)[:1]
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        second = start_worker(home, env, log)
        try:
            cut_id = cut_short.headers["webhook-id"]

            def all_arrived(found: list[Received]) -> bool:
                ids = [r.headers["webhook-id"] for r in found]
                return set(ids) >= expected and ids.count(cut_id) >= 2

            delivered = wait_for(receiver, all_arrived)
        finally:
            second.terminate()
            second.wait(15)
    ids = [r.headers["webhook-id"] for r in delivered]
    assert set(ids) == expected
    again = [r for r in delivered[1:] if r.headers["webhook-id"] == cut_short.headers["webhook-id"]]
    assert again, "the delivery cut short was sent again"
    assert again[0].body == cut_short.body
    assert json.loads(again[0].body)["id"] == cut_short.headers["webhook-id"]
    assert second.returncode == 0, log.read_text()
