"""Who the caller is, through a real `relance serve`: its own address unless the connection
comes from a proxy named in RELANCE_TRUSTED_PROXIES, in the audit log and for the per-address
throttle alike; and no forwarded value can forge a line of the log."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.commands import demo_on, flat, free_port, relance, served

THROTTLED = {"RELANCE_TOKEN_FAILURES_PER_ADDRESS": "3"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")
# What a forged line would start with: a time long past, which no genuine line carries.
FORGED = "2001-01-01T00:00:00.000Z INFO relance.audit: token issued"


def attempt(base: str, company: dict[str, Any], forwarded: bytes, *, right: bool = False) -> int:
    secret = company["client_secret"] if right else "relance_sk_wrong"
    form = {
        "grant_type": "client_credentials",
        "client_id": company["client_id"],
        "client_secret": secret,
    }
    answer = httpx.post(f"{base}/token", data=form, headers={b"X-Forwarded-For": forwarded})
    return answer.status_code


def audit_lines(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "relance.audit"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forwarded")


@pytest.fixture(scope="module")
def company(home: Path) -> dict[str, Any]:
    return demo_on(home)[0]


def test_by_default_a_forwarded_address_is_not_believed(
    home: Path, company: dict[str, Any]
) -> None:
    log = home / "default.log"
    with served(home, THROTTLED, log) as (_, base):
        claimed = [f"203.0.113.{n}".encode() for n in range(1, 5)]
        # Each claims another address, but all come from 127.0.0.1: the fourth is throttled.
        assert [attempt(base, company, address) for address in claimed] == [401, 401, 401, 429]
        assert attempt(base, company, b"203.0.113.5", right=True) == 200
    addresses = {line["address"] for line in audit_lines(log)}
    assert addresses == {"127.0.0.1"}


def test_a_named_proxy_forwards_the_address_that_counts(
    home: Path, company: dict[str, Any]
) -> None:
    log = home / "trusted.log"
    env = {**THROTTLED, "RELANCE_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}
    with served(home, env, log) as (_, base):
        caller = b"203.0.113.9"
        assert [attempt(base, company, caller) for _ in range(4)] == [401, 401, 401, 429]
        # Another caller behind the same proxy is not throttled for the first one's failures,
        # and the first one's right secret is still answered.
        assert attempt(base, company, b"198.51.100.7") == 401
        assert attempt(base, company, caller, right=True) == 200
    audited = [(line["address"], line["message"]) for line in audit_lines(log)]
    assert audited == [
        *[("203.0.113.9", "token refused")] * 4,
        ("198.51.100.7", "token refused"),
        ("203.0.113.9", "token issued"),
    ]


def test_in_an_appended_chain_the_last_untrusted_address_counts(
    home: Path, company: dict[str, Any]
) -> None:
    """nginx's `$proxy_add_x_forwarded_for` appends the peer it saw to whatever the caller sent:
    the caller's own values, on the left, are never believed."""
    log = home / "chain.log"
    env = {**THROTTLED, "RELANCE_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}
    with served(home, env, log) as (_, base):
        forged = [f"192.0.2.{n}, 203.0.113.9".encode() for n in range(1, 5)]
        # Four claims of four addresses, all appended with the one real caller: throttled as one.
        assert [attempt(base, company, chain) for chain in forged] == [401, 401, 401, 429]
        # Through a second trusted proxy, the address before it counts.
        assert attempt(base, company, b"192.0.2.9, 198.51.100.77, 10.1.2.3") == 401
    addresses = [line["address"] for line in audit_lines(log)]
    assert addresses == ["203.0.113.9"] * 4 + ["198.51.100.77"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_forwarded_value_cannot_forge_a_log_line(
    home: Path, company: dict[str, Any], log_format: str
) -> None:
    # HTTP lets a header carry bytes 0x80-0xFF; read as Latin-1, 0x85 is NEL, which Python's
    # splitlines and some log readers take for the end of a line.
    log = home / f"forged-{log_format}.log"
    env = {"RELANCE_TRUSTED_PROXIES": "127.0.0.1", "RELANCE_LOG_FORMAT": log_format}
    with served(home, env, log) as (_, base):
        assert attempt(base, company, b"1\x85" + FORGED.encode()) == 401
    lines = log.read_text().splitlines()
    assert lines
    assert not [line for line in lines if line.startswith(FORGED[:24])]
    [refused] = [line for line in lines if "token refused" in line]
    if log_format == "json":
        assert json.loads(refused)["address"] == "1\x85" + FORGED[:62]
    else:
        assert TIMESTAMP.match(refused)
        assert 'address="1\\x852001-01-01' in refused


def test_a_bad_trusted_proxies_value_is_refused_by_name(tmp_path: Path) -> None:
    env = {"RELANCE_TRUSTED_PROXIES": "10.0.0.1, proxy.internal"}
    result = relance("serve", "--port", str(free_port()), data_dir=tmp_path, env=env)
    assert result.returncode != 0
    message = flat(result.stderr)
    assert "RELANCE_TRUSTED_PROXIES" in message
    assert "proxy.internal" in message
