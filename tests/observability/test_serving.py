"""`relance serve` as operators run it: its log holds no secret, SIGTERM lets a slow request
finish, several workers count their metrics together, and two processes on one PostgreSQL and
one Redis behave as one deployment."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.commands import demo_on, free_port, served, serving, token_of
from tests.postgres import scratch_database
from tests.redis_server import private_redis

LIST = "/external-api/v1/followups"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def counted(metrics_text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_the_log_holds_no_token_secret_or_signature(tmp_path: Path) -> None:
    companies = demo_on(tmp_path)
    company = companies[0]
    with serving(tmp_path, tmp_path) as base:
        token = token_of(base, company)
        secret = company["client_secret"]
        wrong_secret = secret[:-1] + ("y" if secret.endswith("x") else "x")
        refused = {
            "grant_type": "client_credentials",
            "client_id": company["client_id"],
            "client_secret": wrong_secret,
        }
        assert httpx.post(f"{base}/token", data=refused).status_code == 401
        page = httpx.get(f"{base}{LIST}?limit=100", headers=bearer(token)).json()["data"]
        signed = [f["audio_url"] for f in page if f["audio_url"] and "/media/" in f["audio_url"]]
        assert signed, "the demo book should hold stored recordings"
        assert httpx.get(signed[0]).status_code == 200
        assert httpx.get(f"{base}{LIST}/{page[0]['id']}", headers=bearer(token)).status_code == 200
        assert httpx.get(f"{base}{LIST}", headers=bearer(token + "x")).status_code == 401
    log = "".join(path.read_text() for path in tmp_path.glob("serve-*.log"))
    signatures = [parse_qs(urlsplit(url).query)["signature"][0] for url in signed]
    for secret in [company["client_secret"], wrong_secret, token, *signatures]:
        assert secret not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "relance.requests"]
    routes = {line["route"] for line in requests}
    assert {"/token", LIST, "/media"} <= routes
    assert all(line["request_id"] and "duration_ms" in line for line in requests)
    assert any(line.get("client_id") == company["client_id"] for line in requests)
    # Debtors' data never reaches the log: no phone number of the page appears in it.
    phones = {f["phone_number_used"] for f in page if f["phone_number_used"]}
    assert phones
    assert not any(phone in log for phone in phones)


async def _until_waiting_on_a_lock(url: str) -> None:
    """Until a session of the database waits on a lock: the request has reached PostgreSQL."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(600):
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting:
                return
            await asyncio.sleep(0.05)
        pytest.fail("the request never reached the locked table")
    finally:
        await conn.close()


def test_sigterm_lets_a_slow_request_finish(tmp_path: Path) -> None:
    with scratch_database("relance_sigterm") as url:
        env = {"RELANCE_DATABASE_URL": url}
        company = demo_on(tmp_path, env)[0]
        with served(tmp_path, env, tmp_path / "serve.log") as (process, base):
            token = token_of(base, company)
            answers: list[httpx.Response] = []

            async def hold_the_table() -> None:
                locker = await asyncpg.connect(url)
                try:
                    async with locker.transaction():
                        await locker.execute("LOCK TABLE followups IN ACCESS EXCLUSIVE MODE")
                        slow = threading.Thread(
                            target=lambda: answers.append(
                                httpx.get(f"{base}{LIST}", headers=bearer(token), timeout=60)
                            )
                        )
                        slow.start()
                        await _until_waiting_on_a_lock(url)
                        process.send_signal(signal.SIGTERM)
                        await asyncio.sleep(1)  # the request is still held meanwhile
                        assert process.poll() is None, "the server left a request unanswered"
                    # The lock is gone: the slow request may now finish.
                    await asyncio.to_thread(slow.join, 30)
                finally:
                    await locker.close()

            asyncio.run(hold_the_table())
            # uvicorn ends by raising the signal again once shut down, as supervisors expect.
            assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        [answer] = answers
        assert answer.status_code == 200
        assert answer.json()["pagination"]["total"] > 0
        log = (tmp_path / "serve.log").read_text()
        assert "Application shutdown complete" in log


def test_workers_count_their_metrics_together(tmp_path: Path) -> None:
    metrics_port = free_port()
    env = {"RELANCE_METRICS_PORT": str(metrics_port)}
    with served(tmp_path, env, tmp_path / "serve.log", workers=2) as (_, base):
        for _ in range(40):  # a new connection each: the workers share them out
            assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.get(f"{base}/metrics").status_code == 404  # on a port of their own
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert counted(scraped, "relance_http_requests_total", route="/healthz") == 40
    assert counted(scraped, "relance_db_pool_connections_max") >= 2  # both workers' pools


def test_two_processes_are_one_deployment(tmp_path: Path) -> None:
    with scratch_database("relance_pair") as url, private_redis(tmp_path) as redis:
        env = {
            "RELANCE_DATABASE_URL": url,
            "RELANCE_REDIS_URL": redis.url,
            "RELANCE_RATE_LIMIT_READS": "6",
            "RELANCE_SECRET_KEY": "two-processes-one-deployment-" + "k" * 8,
        }
        company = demo_on(tmp_path, env)[0]
        with (
            served(tmp_path, env, tmp_path / "a.log") as (_, first),
            served(tmp_path, env, tmp_path / "b.log") as (_, second),
        ):
            token = token_of(first, company)  # issued by one, good at the other
            reads = {first: 0, second: 0}

            def read(base: str, path: str = LIST) -> httpx.Response:
                reads[base] += 1
                return httpx.get(f"{base}{path}", headers=bearer(token))

            page = read(first)
            assert page.status_code == 200
            body = {"debt_id": page.json()["data"][0]["debt_id"], "type": "email"}
            created = httpx.post(f"{second}{LIST}", headers=bearer(token), json=body)
            assert created.status_code == 201, created.text
            # Written through the second, read through the first.
            new_id = created.json()["data"]["id"]
            assert read(first, f"{LIST}/{new_id}").json()["data"]["id"] == new_id
            # One budget of 6 reads for both processes: 2 spent, 4 left, then refusals.
            statuses = [read(base).status_code for base in (second, first) * 3]
            assert statuses == [200, 200, 200, 200, 429, 429]
            scraped = {base: httpx.get(f"{base}/metrics").text for base in (first, second)}
        for base, text in scraped.items():
            assert (
                sum(
                    counted(text, "relance_http_requests_total", route=route, method="GET")
                    for route in (LIST, f"{LIST}/{{followup_id}}")
                )
                == reads[base]
            ), "each process counts its own requests"
        created_at = {"route": LIST, "method": "POST"}
        assert counted(scraped[second], "relance_http_requests_total", **created_at) == 1
        assert counted(scraped[first], "relance_http_requests_total", **created_at) == 0
