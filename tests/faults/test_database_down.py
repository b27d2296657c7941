"""PostgreSQL stopped under load, on a private cluster: requests answer 503 in the envelope
with Retry-After within a bounded time (never a 500, never a hang), the service recovers by
itself once the database is back, and no write that was acknowledged is lost; the webhook
worker `relance serve` runs survives too, and delivers every acknowledged write's event."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from tests.commands import demo_on, served, token_of
from tests.postgres_server import private_postgres
from tests.webhooks.receiver import Receiver, running_receiver

LIST = "/external-api/v1/followups"
BOUND_SECONDS = 15  # no answer may take longer, database down or not


class Load:
    """Readers and writers running until stopped, keeping every answer's status and time."""

    def __init__(self, base: str, token: str, debt_id: str) -> None:
        self._base = base
        self._headers = {"Authorization": f"Bearer {token}"}
        self._debt_id = debt_id
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.slowest = 0.0
        self.refusals: list[httpx.Response] = []
        self.acknowledged: dict[str, str] = {}  # followup id -> the notes it was written with
        self._threads = [
            threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(2)
        ] + [threading.Thread(target=self._read, daemon=True) for _ in range(2)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(BOUND_SECONDS * 2)

    def _timed(self, call: Any) -> httpx.Response:
        started = time.monotonic()
        answer: httpx.Response = call()
        with self._lock:
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.statuses[answer.status_code] += 1
            if answer.status_code >= 500:
                self.refusals.append(answer)
        return answer

    def _write(self, writer: int) -> None:
        with httpx.Client(base_url=self._base, timeout=BOUND_SECONDS * 2) as http:
            count = 0
            while not self._stop.is_set():
                count += 1
                notes = f"writer {writer} write {count}"
                body = {"debt_id": self._debt_id, "type": "call", "notes": notes}
                headers = {**self._headers, "Idempotency-Key": f"w{writer}-{count}"}
                answer = self._timed(partial(http.post, LIST, json=body, headers=headers))
                if answer.status_code == 201:
                    with self._lock:
                        self.acknowledged[answer.json()["data"]["id"]] = notes

    def _read(self) -> None:
        with httpx.Client(base_url=self._base, timeout=BOUND_SECONDS * 2) as http:
            while not self._stop.is_set():
                self._timed(partial(http.get, f"{LIST}?limit=5", headers=self._headers))


def test_postgresql_stopped_under_load(tmp_path: Path) -> None:
    with private_postgres() as database, running_receiver() as receiver:
        env = {
            "RELANCE_DATABASE_URL": database.url,
            "RELANCE_RATE_LIMIT_ENABLED": "false",
            "RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
            "RELANCE_WEBHOOKS_RETRY_SCHEDULE": "0.5,1,1,1,1,1,1,1,1,1",
        }
        company = demo_on(tmp_path, env)[0]
        with served(tmp_path, env, tmp_path / "serve.log") as (process, base):
            token = token_of(base, company)
            auth = {"Authorization": f"Bearer {token}"}
            debt_id = httpx.get(f"{base}{LIST}", headers=auth).json()["data"][0]["debt_id"]
            endpoint = {"url": receiver.url, "enabled_events": ["followup.created"]}
            made = httpx.post(
                f"{base}/external-api/v1/webhook-endpoints", json=endpoint, headers=auth
            )
            assert made.status_code == 201, made.text

            with Load(base, token, debt_id) as load:
                time.sleep(1.5)
                written_before = len(load.acknowledged)
                database.stop()
                time.sleep(3)
                ready = httpx.get(f"{base}/readyz", timeout=BOUND_SECONDS)
                refused_while_down = load.statuses[503]
                database.start()
                recovered = _until_answered(base, auth)
                time.sleep(1.5)
            assert process.poll() is None, "the server survived the outage"

            assert written_before > 0, "writes went through before the outage"
            assert (ready.status_code, ready.json()["details"].keys()) == (503, {"database"})
            assert refused_while_down > 0, "the outage was seen"
            assert set(load.statuses) <= {200, 201, 503}, load.statuses
            for refusal in load.refusals:
                assert refusal.json()["code"] == 503
                assert int(refusal.headers["retry-after"]) > 0
            assert load.slowest < BOUND_SECONDS, load.slowest
            assert recovered < 30, "the service came back by itself"
            assert len(load.acknowledged) > written_before, "writes resumed after the outage"

            for followup_id, notes in load.acknowledged.items():
                kept = httpx.get(f"{base}{LIST}/{followup_id}", headers=auth)
                assert kept.status_code == 200, f"acknowledged write {followup_id} was lost"
                assert kept.json()["data"]["notes"] == notes
            # The worker outlived the outage: each acknowledged write's event reaches the
            # receiver (at least once), those made after the database came back included.
            assert set(load.acknowledged) <= _delivered_followups(receiver, load.acknowledged)


def _delivered_followups(receiver: Receiver, wanted: dict[str, str]) -> set[str]:
    """The followups whose followup.created the receiver got, once it got them all or a
    minute has passed."""
    deadline = time.monotonic() + 60
    while True:
        found = {json.loads(r.body)["data"]["id"] for r in list(receiver.received)}
        if set(wanted) <= found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _until_answered(base: str, auth: dict[str, str]) -> float:
    """Seconds until the list answers 200 again."""
    started = time.monotonic()
    while time.monotonic() - started < 60:
        if httpx.get(f"{base}{LIST}", headers=auth, timeout=BOUND_SECONDS).status_code == 200:
            break
        time.sleep(0.2)
    return time.monotonic() - started
