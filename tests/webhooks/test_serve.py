"""`relance serve` delivers webhooks from a process of its own, counted on its /metrics, with
/readyz unmoved by a receiver that hangs; `--no-deliver` leaves delivery to `relance worker`,
which shows its own metrics on RELANCE_METRICS_PORT; and the operator's `relance webhooks`
commands."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.commands import (
    COMMAND,
    cli_env,
    demo_on,
    free_port,
    ok_json,
    relance,
    report,
    served,
    token_of,
)
from tests.webhooks.receiver import Reply, running_receiver
from tests.webhooks.test_signing import reference_library_accepts

API = "/external-api/v1"
DEBT = {"firstname": "A", "lastname": "B", "amount": 10, "currency": "EUR",
        "phone": "+33612345678"}  # fmt: skip
ENV = {"RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"}


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def test_serve_delivers_counts_and_stays_ready(tmp_path: Path) -> None:
    company = demo_on(tmp_path, ENV)[0]
    with (
        running_receiver() as receiver,
        served(tmp_path, ENV, tmp_path / "serve.log") as (
            _,
            base,
        ),
    ):
        auth = {"Authorization": f"Bearer {token_of(base, company)}"}
        made = httpx.post(
            f"{base}{API}/webhook-endpoints",
            json={"url": receiver.url, "enabled_events": ["debt.created"]},
            headers=auth,
        ).json()["data"]
        receiver.answer = lambda r: Reply(pause=8) if len(receiver.received) > 1 else Reply()
        assert httpx.post(f"{base}{API}/debts", json=DEBT, headers=auth).status_code == 201
        (request,) = receiver.wait_for(1)
        assert reference_library_accepts(request.body, request.headers, made["secret"])
        # A receiver that hangs holds a delivery, never the API's readiness.
        assert httpx.post(f"{base}{API}/debts", json=DEBT, headers=auth).status_code == 201
        receiver.wait_for(2)
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            scraped = httpx.get(f"{base}/metrics").text
            if metric(scraped, 'relance_webhook_attempts_total{outcome="succeeded"}') >= 1:
                break
            time.sleep(0.2)
        assert metric(scraped, 'relance_webhook_attempts_total{outcome="succeeded"}') == 1
        assert metric(scraped, "relance_webhook_attempt_duration_seconds_count") >= 1
        assert "relance_webhook_oldest_pending_seconds" in scraped
        assert "relance_http_requests_total" in scraped
    # A log line per attempt, with nothing of the secret, the signatures or the URL.
    log = (tmp_path / "serve.log").read_text()
    attempts = [line for line in log.splitlines() if "webhook delivery" in line]
    assert attempts, log
    assert "debt.created" in attempts[0]
    signature = request.headers["webhook-signature"].split(",", 1)[1]
    for secret in (made["secret"], made["secret"].removeprefix("whsec_"), signature):
        assert secret not in log
    assert receiver.url not in log
    assert request.headers["x-getbill-signature"] not in log


def test_no_deliver_leaves_delivery_to_a_worker(tmp_path: Path) -> None:
    company = demo_on(tmp_path, ENV)[0]
    with (
        running_receiver() as receiver,
        served(tmp_path, ENV, tmp_path / "serve.log", 1, "--no-deliver") as (_, base),
    ):
        auth = {"Authorization": f"Bearer {token_of(base, company)}"}
        endpoint = {"url": receiver.url, "enabled_events": ["debt.created"]}
        made = httpx.post(f"{base}{API}/webhook-endpoints", json=endpoint, headers=auth)
        endpoint_id = made.json()["data"]["id"]
        assert httpx.post(f"{base}{API}/debts", json=DEBT, headers=auth).status_code == 201
        time.sleep(2)
        assert receiver.received == []
        listed = httpx.get(f"{base}{API}/webhook-endpoints/{endpoint_id}/deliveries", headers=auth)
        assert [d["status"] for d in listed.json()["data"]] == ["pending"]
        # A worker of its own delivers it, and shows its metrics on RELANCE_METRICS_PORT.
        port = free_port()
        worker_env = cli_env(tmp_path, {**ENV, "RELANCE_METRICS_PORT": str(port)})
        worker = subprocess.Popen(  # noqa: S603
            [*COMMAND, "worker"], env=worker_env, stdout=subprocess.DEVNULL
        )
        try:
            receiver.wait_for(1)
            counted = 0.0
            for _ in range(100):
                with contextlib.suppress(httpx.TransportError):
                    scraped = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                    counted = metric(scraped, 'relance_webhook_attempts_total{outcome="succeeded"}')
                if counted:
                    break
                time.sleep(0.2)
            assert counted == 1
        finally:
            worker.terminate()
            assert worker.wait(20) == 0


def run(home: Path, *args: str) -> Any:
    return relance(*args, data_dir=home, env=ENV)


def test_the_operators_webhook_commands(tmp_path: Path) -> None:
    company = demo_on(tmp_path, ENV)[0]["id"]
    made = ok_json(
        run(
            tmp_path, "webhooks", "create", "--company", company, "--url",
            "https://crm.example.com/hooks", "--events", "debt.created,followup.completed",
            "--json",
        )
    )  # fmt: skip
    endpoint_id = made["id"]
    assert made["secret"].startswith("whsec_")
    assert made["enabled_events"] == ["debt.created", "followup.completed"]
    listed = ok_json(run(tmp_path, "webhooks", "list", "--company", company, "--json"))
    assert [e["id"] for e in listed] == [endpoint_id]
    assert "secret" not in listed[0]
    text = run(tmp_path, "webhooks", "list", "--company", company)
    assert endpoint_id in text.stdout
    assert "whsec_" not in text.stdout
    disabled = ok_json(run(tmp_path, "webhooks", "disable", endpoint_id, "--json"))
    assert (disabled["status"], disabled["disabled_reason"]) == ("disabled", "manual")
    assert (
        ok_json(run(tmp_path, "webhooks", "enable", endpoint_id, "--json"))["status"] == "enabled"
    )
    rotated = ok_json(run(tmp_path, "webhooks", "rotate-secret", endpoint_id, "--json"))
    assert rotated["secret"] not in (None, made["secret"])
    assert ok_json(run(tmp_path, "webhooks", "deliveries", endpoint_id, "--json")) == []
    refused = run(tmp_path, "webhooks", "create", "--company", company, "--url", "ftp://x")
    assert refused.returncode == 1, report(refused)
    assert "url:" in refused.stderr
    unknown = run(tmp_path, "webhooks", "disable", "we_" + "0" * 22)
    assert unknown.returncode == 2, report(unknown)
    assert "no webhook endpoint" in unknown.stderr
    deleted = run(tmp_path, "webhooks", "delete", endpoint_id)
    assert deleted.returncode == 0, report(deleted)
    assert ok_json(run(tmp_path, "webhooks", "list", "--company", company, "--json")) == []
    assert json.dumps(made).count("whsec_") == 1
