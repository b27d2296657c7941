"""What one request leaves behind for operators: its ID on the answer, its counts in /metrics,
its line in the log."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from relance.resources import Resource
from relance.runtime import Runtime
from tests.factories import (
    Client,
    create_client,
    create_company,
    create_debt,
    create_followup,
    new_tenant_headers,
    public_id,
    token_for,
)

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
FOLLOWUP_ROUTE = "/external-api/v1/followups/{followup_id}"


async def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class TestRequestId:
    async def test_a_well_formed_id_is_echoed(self, client: Client) -> None:
        answer = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:retry/1"})
        assert answer.headers["x-request-id"] == "lb-7f3a.42:retry/1"

    @pytest.mark.parametrize(
        "sent", [b"", b"-leading-dash", b"x" * 129, b"with space", "é".encode(), b"a\x00b"]
    )
    async def test_a_malformed_id_is_replaced(self, client: Client, sent: bytes) -> None:
        answer = await client.get("/healthz", headers={b"X-Request-ID": sent})
        assert GENERATED_ID.fullmatch(answer.headers["x-request-id"])

    async def test_every_answer_carries_one_errors_included(self, client: Client) -> None:
        seen = set()
        for path in ("/healthz", "/external-api/v1/followups", "/nowhere"):
            answer = await client.get(path)
            assert GENERATED_ID.fullmatch(answer.headers["x-request-id"]), path
            seen.add(answer.headers["x-request-id"])
        assert len(seen) == 3
        refused = await client.delete("/external-api/v1/followups")
        assert refused.status_code == 405
        assert "x-request-id" in refused.headers


class TestHeaders:
    async def test_every_answer_forbids_sniffing_framing_and_storing(
        self, runtime: Runtime, client: Client
    ) -> None:
        _, headers = await new_tenant_headers(runtime, client)
        answers = [
            await client.get("/external-api/v1/followups", headers=headers),
            await client.get("/external-api/v1/followups"),
            await client.get("/nowhere"),
            await client.get("/healthz"),
        ]
        assert [a.status_code for a in answers] == [200, 401, 404, 200]
        for answer in answers:
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert "default-src 'none'" in answer.headers["content-security-policy"]
            assert answer.headers.get_list("cache-control") == ["no-store"]

    async def test_a_handlers_own_cache_control_is_not_doubled(
        self, runtime: Runtime, client: Client
    ) -> None:
        credentials = await create_client(runtime, await create_company(runtime))
        form = {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        answer = await client.post("/token", data=form)
        assert answer.headers.get_list("cache-control") == ["no-store"]
        assert answer.headers["pragma"] == "no-cache"


class TestMetrics:
    async def test_a_request_is_counted_under_its_route_template(
        self, runtime: Runtime, client: Client
    ) -> None:
        company_id, headers = await new_tenant_headers(runtime, client)
        debt_id = await create_debt(runtime, company_id)
        followup = public_id(
            runtime, Resource.FOLLOWUP, await create_followup(runtime, company_id, debt_id)
        )
        before = await scrape(client)
        assert (
            await client.get(f"/external-api/v1/followups/{followup}", headers=headers)
        ).is_success
        missing = public_id(runtime, Resource.FOLLOWUP, 10**9)
        assert (
            await client.get(f"/external-api/v1/followups/{missing}", headers=headers)
        ).status_code == 404
        after = await scrape(client)

        ok = {"route": FOLLOWUP_ROUTE, "method": "GET", "status": "200"}
        not_found = {**ok, "status": "404"}
        name = "relance_http_requests_total"
        assert value(after, name, **ok) - value(before, name, **ok) == 1
        assert value(after, name, **not_found) - value(before, name, **not_found) == 1
        latency = "relance_http_request_duration_seconds_count"
        timed = {"route": FOLLOWUP_ROUTE, "method": "GET"}
        assert value(after, latency, **timed) - value(before, latency, **timed) == 2
        # Never the raw path, which holds an ID.
        assert not any(followup in str(labels) for _, labels in after)

    @pytest.mark.parametrize("settings_overrides", [{"rate_limit_reads": 2}])
    async def test_rate_limit_rejections_are_counted(
        self, runtime: Runtime, client: Client
    ) -> None:
        _, headers = await new_tenant_headers(runtime, client)
        before = await scrape(client)
        statuses = [
            (await client.get("/external-api/v1/followups", headers=headers)).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        after = await scrape(client)
        route = {"route": "/external-api/v1/followups"}
        name = "relance_rate_limit_rejections_total"
        assert value(after, name, **route) - value(before, name, **route) == 1

    async def test_tokens_issued_and_refused_are_counted(
        self, runtime: Runtime, client: Client
    ) -> None:
        credentials = await create_client(runtime, await create_company(runtime))
        before = await scrape(client)
        await token_for(client, credentials)
        wrong = {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": "not-the-secret",
        }
        assert (await client.post("/token", data=wrong)).status_code == 401
        after = await scrape(client)
        issued = "relance_tokens_issued_total"
        assert value(after, issued) - value(before, issued) == 1
        refused = "relance_tokens_refused_total"
        invalid = {"error": "invalid_client"}
        assert value(after, refused, **invalid) - value(before, refused, **invalid) == 1

    async def test_the_database_pool_is_shown(self, client: Client, runtime: Runtime) -> None:
        samples = await scrape(client)
        assert value(samples, "relance_db_pool_connections_max") >= 1
        assert value(samples, "relance_db_pool_connections") >= 1

    async def test_metrics_need_no_token_and_spend_no_budget(self, client: Client) -> None:
        answer = await client.get("/metrics")
        assert answer.status_code == 200
        assert "x-ratelimit-limit" not in answer.headers
        assert "# TYPE relance_http_requests_total counter" in answer.text


class TestRequestLog:
    async def test_one_line_per_request_with_who_and_how_long(
        self, runtime: Runtime, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        company_id = await create_company(runtime)
        credentials = await create_client(runtime, company_id)
        token = await token_for(client, credentials)
        caplog.set_level(logging.INFO, logger="relance.requests")
        answer = await client.get(
            "/external-api/v1/followups?status=delivered",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"},
        )
        assert answer.status_code == 200
        [record] = [r for r in caplog.records if r.name == "relance.requests"]
        fields = record.fields  # type: ignore[attr-defined]
        assert fields["request_id"] == "req-1"
        assert fields["client_id"] == credentials.client_id
        assert fields["company_id"] == public_id(runtime, Resource.COMPANY, company_id)
        assert (fields["method"], fields["route"], fields["status"]) == (
            "GET",
            "/external-api/v1/followups",
            200,
        )
        assert fields["duration_ms"] > 0
        assert token not in str(fields)
        assert "delivered" not in str(fields)  # no query string
