"""Hostile and broken input: every answer is a 4xx in the error envelope with a message saying
what to fix, never a 5xx, and a refused write writes nothing."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from relance.resources import Resource
from relance.runtime import Runtime
from tests.commands import serving
from tests.factories import Client, create_debt, new_tenant_headers, public_id

LIST = "/external-api/v1/followups"


def assert_envelope(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] is True
    assert body["code"] == status
    assert body["message"]
    return body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=%FF%FE", "status"),  # not UTF-8
        ("status=a%00b", "status"),  # NUL
        ("status=delivered'%20OR%201=1--", "status"),  # SQL
        ("type=%22%7D%5D%7B", "type"),  # JSON metacharacters
        ("debt_id=%27%3B%20DROP%20TABLE%20followups%3B--", "debt_id"),
        ("page=18446744073709551617", "page"),  # beyond 64 bits
        ("limit=-9223372036854775809", "limit"),
        ("page=1e3", "page"),
        ("date_from=2026-02-30", "date_from"),
        ("date_to=%F0%9F%92%A5", "date_to"),
    ],
)
async def test_bad_query_parameters_are_named(
    runtime: Runtime, client: Client, query: str, field: str
) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    body = assert_envelope(await client.get(f"{LIST}?{query}", headers=headers), 400)
    assert field in body["details"]


async def test_a_query_string_beyond_the_limit_is_414(runtime: Runtime, client: Client) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    body = assert_envelope(await client.get(f"{LIST}?status={'x' * 9000}", headers=headers), 414)
    assert "8192" in body["message"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe{}", "not valid JSON"),  # not UTF-8
        (b'{"type": "email", "debt_id": "a\x00b"}', "not valid JSON"),  # raw NUL
        (b'{"notes": "\\ud800"}', "not valid JSON"),  # lone surrogate
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "not valid JSON"),  # deeply nested
        (b"[" * 100_000, "not valid JSON"),
    ],
)
async def test_broken_json_bodies_are_refused(
    runtime: Runtime, client: Client, content: bytes, problem: str
) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    headers = {**headers, "Content-Type": "application/json"}
    body = assert_envelope(await client.post(LIST, content=content, headers=headers), 400)
    assert problem in str(body["details"])


@pytest.mark.parametrize(
    ("field", "named"),
    [
        ('"duration_ms": 18446744073709551617', "duration_ms"),  # beyond 64 bits
        ('"email_open_count": -9223372036854775809', "email_open_count"),
        ('"notes": "a\\u0000b"', "notes"),  # an escaped NUL
        ('"type": "email\'; DROP TABLE followups;--"', "type"),
        ('"status": {"$ne": null}', "status"),
        ('"call_date": "2026-01-01T00:00:00"', "call_date"),  # no offset
        ('"call_date": 1e999', "call_date"),  # infinity
        ('"is_retry": "true"', "is_retry"),
    ],
)
async def test_hostile_fields_are_named_and_nothing_is_written(
    runtime: Runtime, client: Client, field: str, named: str
) -> None:
    company_id, headers = await new_tenant_headers(runtime, client)
    debt = public_id(runtime, Resource.DEBT, await create_debt(runtime, company_id))
    content = f'{{"debt_id": "{debt}", "type": "email", {field}}}'.encode()
    headers = {**headers, "Content-Type": "application/json"}
    body = assert_envelope(await client.post(LIST, content=content, headers=headers), 400)
    assert named in body["details"]
    listed = (await client.get(LIST, headers=headers)).json()
    assert listed["pagination"]["total"] == 0


async def test_a_body_beyond_the_limit_is_413(runtime: Runtime, client: Client) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    headers = {**headers, "Content-Type": "application/json"}
    huge = b'{"notes": "' + b"x" * (300 * 1024) + b'"}'
    assert_envelope(await client.post(LIST, content=huge, headers=headers), 413)


def test_a_request_too_broken_to_parse_gets_the_envelope(tmp_path: Path) -> None:
    with serving(tmp_path, tmp_path) as base:
        port = int(base.rsplit(":", 1)[1])
        for raw in (
            b"GET / HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # TLS spoken to plain HTTP
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(raw)
                answer = b""
                while chunk := conn.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400"), answer[:200]
            assert b"content-type: application/json" in head
            assert httpx.Response(400, content=body).json()["code"] == 400
