"""The `relance` command, run as a real subprocess on a data dir of its own."""

from __future__ import annotations

import json
import socket
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.commands import (
    PUBLIC_ID,
    flat,
    free_port,
    ok_json,
    relance,
    report,
    serving,
)
from tests.postgres import scratch_database


def upgrade(data_dir: Path, env: dict[str, str] | None = None) -> None:
    result = relance("db", "upgrade", data_dir=data_dir, env=env)
    assert result.returncode == 0, report(result)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data dir whose embedded database has been migrated with `relance db upgrade`."""
    data_dir = tmp_path / "home"
    upgrade(data_dir)
    return data_dir


def create_company(
    data_dir: Path, name: str = "Acme SAS", env: dict[str, str] | None = None
) -> dict[str, Any]:
    company = ok_json(relance("companies", "create", name, "--json", data_dir=data_dir, env=env))
    assert isinstance(company, dict)
    return company


def clients_create(
    data_dir: Path, company_id: str, scopes: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return relance(
        "clients",
        "create",
        "--company",
        company_id,
        "--scopes",
        scopes,
        *extra,
        "--json",
        data_dir=data_dir,
    )


def create_client(data_dir: Path, company_id: str, scopes: str) -> dict[str, Any]:
    client = ok_json(clients_create(data_dir, company_id, scopes))
    assert isinstance(client, dict)
    return client


def token_for(base: str, client_id: str, client_secret: str) -> str:
    response = httpx.post(
        f"{base}/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer", body
    token: str = body["access_token"]
    return token


def list_followups(base: str, token: str) -> dict[str, Any]:
    response = httpx.get(
        f"{base}/external-api/v1/followups",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def count_rows(data_dir: Path, table: str) -> int:
    with closing(sqlite3.connect(data_dir / "relance.sqlite3")) as db:
        count: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return count


# relance demo


def test_demo_no_serve_json_prints_one_document_and_reuses_it(tmp_path: Path) -> None:
    first = ok_json(relance("demo", "--no-serve", "--json", data_dir=tmp_path))

    assert isinstance(first, dict), first
    assert list(first) == ["companies"], first
    companies = first["companies"]
    assert isinstance(companies, list)
    assert len(companies) >= 3, companies
    for company in companies:
        assert set(company) == {"id", "name", "client_id", "client_secret"}, company
        assert all(isinstance(value, str) and value for value in company.values()), company
        assert PUBLIC_ID.fullmatch(company["id"]), company
    assert len({c["id"] for c in companies}) == len(companies), companies
    assert len({c["client_id"] for c in companies}) == len(companies), companies
    rows = {table: count_rows(tmp_path, table) for table in ("companies", "debts", "followups")}
    assert rows["companies"] == len(companies), rows
    assert rows["followups"] >= 2000, rows

    second = relance("demo", "--no-serve", "--json", data_dir=tmp_path)

    assert ok_json(second) == first
    assert {table: count_rows(tmp_path, table) for table in rows} == rows, "demo loaded twice"


def test_secret_key_is_created_with_the_database_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    upgrade(data_dir)

    key = data_dir / "secret.key"
    assert key.is_file(), list(data_dir.iterdir())
    assert stat.S_IMODE(key.stat().st_mode) == 0o600, oct(key.stat().st_mode)
    made = key.read_bytes()
    create_company(data_dir)
    assert key.read_bytes() == made


def test_demo_credentials_and_created_credentials_work_against_the_server(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "home"
    demo = ok_json(relance("demo", "--no-serve", "--json", data_dir=data_dir))["companies"]
    company = create_company(data_dir)
    client = create_client(data_dir, company["id"], "followups:read")

    with serving(data_dir, tmp_path) as base:
        fresh = list_followups(base, token_for(base, client["client_id"], client["client_secret"]))
        assert fresh["data"] == [], fresh
        assert fresh["pagination"]["total"] == 0, fresh["pagination"]

        biggest = demo[0]
        loaded = list_followups(
            base, token_for(base, biggest["client_id"], biggest["client_secret"])
        )
        assert loaded["pagination"]["total"] > 0, loaded["pagination"]
        assert loaded["data"], loaded

        # Its answered calls carry playable recordings and its letters real PDFs.
        token = token_for(base, biggest["client_id"], biggest["client_secret"])
        for query, field, content_type, magic in (
            ("type=call&status=deal_found", "audio_url", "audio/wav", b"RIFF"),
            ("type=postmail&status=sent", "pdf_url", "application/pdf", b"%PDF-"),
        ):
            page = httpx.get(
                f"{base}/external-api/v1/followups?{query}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()
            row = page["data"][0]
            assert row["media_urls_expire_at"] is not None, row
            media = httpx.get(row[field], timeout=10)
            assert media.status_code == 200, row[field]
            assert media.headers["content-type"] == content_type
            assert media.content.startswith(magic)


# relance companies / clients


def test_companies_create_prints_id_and_name(home: Path) -> None:
    company = create_company(home, "  Acme SAS ")

    assert set(company) == {"id", "name", "email", "phone", "created_at"}, company
    assert company["name"] == "Acme SAS"
    assert PUBLIC_ID.fullmatch(company["id"]), company
    assert create_company(home)["id"] != company["id"]


def test_companies_create_refuses_a_blank_name(home: Path) -> None:
    result = relance("companies", "create", "   ", "--json", data_dir=home)

    assert result.returncode != 0, report(result)
    assert result.stdout == "", report(result)
    assert "name" in result.stderr, report(result)


def test_clients_create_prints_the_credentials(home: Path) -> None:
    company = create_company(home)

    client = ok_json(clients_create(home, company["id"], "followups:read", "--name", "integration"))

    assert set(client) == {
        "client_id",
        "client_secret",
        "company_id",
        "scopes",
        "read_limit",
        "write_limit",
    }, client
    assert client["read_limit"] is None, client
    assert client["write_limit"] is None, client
    assert client["company_id"] == company["id"]
    assert client["scopes"] == "followups:read"
    assert isinstance(client["client_id"], str)
    assert isinstance(client["client_secret"], str)
    assert len(client["client_secret"]) >= 32, client


def test_clients_create_refuses_an_unknown_scope(home: Path) -> None:
    company = create_company(home)

    result = clients_create(home, company["id"], "followups:read bogus:scope")

    assert result.returncode != 0, report(result)
    assert result.stdout == "", report(result)
    assert "bogus:scope" in result.stderr, report(result)


@pytest.mark.parametrize(
    "company_id",
    ["abc", "not a company id", "0" * 22, "zzzzzzzzzzzzzzzzzzzzzz"],
)
def test_clients_create_refuses_a_malformed_company_id(home: Path, company_id: str) -> None:
    create_company(home)

    result = clients_create(home, company_id, "followups:read")

    assert result.returncode != 0, report(result)
    assert result.stdout == "", report(result)
    assert "not a company ID" in flat(result.stderr), report(result)
    assert "Traceback" not in result.stderr, report(result)


def test_clients_create_refuses_another_deployments_company_id(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    upgrade(other)
    elsewhere = create_company(other)["id"]
    create_company(home)

    result = clients_create(home, elsewhere, "followups:read")

    assert result.returncode != 0, report(result)
    assert elsewhere in result.stderr, report(result)
    assert "Traceback" not in result.stderr, report(result)


# a busy port


@pytest.mark.parametrize("command", [("serve",), ("demo",), ("demo", "--json")], ids=" ".join)
def test_a_busy_port_is_refused_quickly(tmp_path: Path, command: tuple[str, ...]) -> None:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = relance(*command, "--port", str(port), data_dir=tmp_path, timeout=60)

    assert result.returncode != 0, report(result)
    assert "already in use" in flat(result.stderr), report(result)
    assert str(port) in result.stderr, report(result)


# PostgreSQL


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    with scratch_database("relance_cli") as url:
        yield url


@pytest.mark.postgresql
def test_serve_refuses_a_postgresql_schema_that_is_behind(
    tmp_path: Path, empty_postgres: str
) -> None:
    env = {"RELANCE_DATABASE_URL": empty_postgres}

    refused = relance("serve", "--port", str(free_port()), data_dir=tmp_path, timeout=60, env=env)

    assert refused.returncode != 0, report(refused)
    assert "relance db upgrade" in flat(refused.stderr), report(refused)

    upgrade(tmp_path, env)

    company = create_company(tmp_path, "X", env)
    assert company["name"] == "X"
    assert PUBLIC_ID.fullmatch(company["id"]), company


@pytest.mark.postgresql
def test_companies_create_on_an_unmigrated_postgresql_asks_for_an_upgrade(
    tmp_path: Path, empty_postgres: str
) -> None:
    result = relance(
        "companies",
        "create",
        "Acme SAS",
        "--json",
        data_dir=tmp_path,
        env={"RELANCE_DATABASE_URL": empty_postgres},
    )

    assert result.returncode == 2, report(result)
    assert "Traceback" not in result.stderr, report(result)
    assert "relance db upgrade" in flat(result.stderr), report(result)
    assert "RELANCE_DATABASE_URL" in flat(result.stderr), report(result)


# configuration mistakes


def test_an_unsupported_database_url_is_named_without_a_traceback(tmp_path: Path) -> None:
    result = relance("db", "upgrade", data_dir=tmp_path, env={"RELANCE_DATABASE_URL": "mysql://x"})

    assert result.returncode == 2, report(result)
    assert "Traceback" not in result.stderr, report(result)
    assert "RELANCE_DATABASE_URL" in flat(result.stderr), report(result)


def test_serve_names_every_bad_setting_and_echoes_no_secret(tmp_path: Path) -> None:
    refused_secret = "too-short-but-secret"
    env = {
        "RELANCE_SECRET_KEY": refused_secret,
        "RELANCE_LOG_FORMAT": "xml",
        "RELANCE_METRICS_PORT": "99999",
        "RELANCE_DATABASE_URL": "mysql://user:db-password@host/db",
    }
    result = relance("serve", "--port", str(free_port()), data_dir=tmp_path, env=env)

    assert result.returncode == 2, report(result)
    shown = flat(result.stderr)
    assert "Traceback" not in shown
    for name in env:
        assert name in shown, report(result)
    assert "(got 'xml')" in shown
    assert refused_secret not in shown
    assert "db-password" not in shown


def test_a_damaged_secret_key_file_is_named_without_a_traceback(tmp_path: Path) -> None:
    upgrade(tmp_path)
    (tmp_path / "secret.key").write_text("not base64 at all!\n")

    result = relance("companies", "create", "Acme SAS", "--json", data_dir=tmp_path)

    assert result.returncode == 2, report(result)
    assert "Traceback" not in result.stderr, report(result)
    assert "secret.key" in flat(result.stderr), report(result)


def test_recount_rebuilds_the_counts_of_the_demo(tmp_path: Path) -> None:
    ok_json(relance("demo", "--no-serve", "--json", data_dir=tmp_path))
    database = sqlite3.connect(tmp_path / "relance.sqlite3")
    query = "SELECT company_id, status, type, n FROM followup_totals WHERE n > 0 ORDER BY 1, 2, 3"
    before = database.execute(query).fetchall()
    database.execute("DELETE FROM followup_totals")
    database.commit()

    result = relance("db", "recount", data_dir=tmp_path)

    assert result.returncode == 0, report(result)
    assert database.execute(query).fetchall() == before
    assert before


# the client lifecycle


def test_list_revoke_and_rotate_secret(home: Path, tmp_path: Path) -> None:
    company = create_company(home)
    made = create_client(home, company["id"], "followups:read")
    other = create_client(home, company["id"], "debts:read")

    listing = relance("clients", "list", "--company", company["id"], "--json", data_dir=home)
    listed = ok_json(listing)
    assert [c["client_id"] for c in listed] == [made["client_id"], other["client_id"]]
    assert all(c["revoked_at"] is None and c["company_id"] == company["id"] for c in listed)
    assert made["client_secret"] not in listing.stdout
    assert "relance_sk_" not in listing.stdout

    rotated = ok_json(
        relance("clients", "rotate-secret", made["client_id"], "--json", data_dir=home)
    )
    assert rotated["client_id"] == made["client_id"]
    assert rotated["client_secret"].startswith("relance_sk_")
    assert rotated["client_secret"] != made["client_secret"]

    revoked = relance("clients", "revoke", other["client_id"], data_dir=home)
    assert revoked.returncode == 0, report(revoked)
    after = ok_json(relance("clients", "list", "--json", data_dir=home))
    assert [c["revoked_at"] is not None for c in after] == [False, True]

    with serving(home, tmp_path) as base:

        def grant(client_id: str, secret: str) -> httpx.Response:
            form = {"grant_type": "client_credentials", "client_id": client_id}
            return httpx.post(f"{base}/token", data={**form, "client_secret": secret})

        assert grant(made["client_id"], made["client_secret"]).status_code == 401
        assert grant(made["client_id"], rotated["client_secret"]).status_code == 200
        assert grant(other["client_id"], other["client_secret"]).status_code == 401


# rate limits of a client


def test_a_clients_own_limits_are_set_changed_and_reset(home: Path, tmp_path: Path) -> None:
    company = create_company(home)
    made = ok_json(clients_create(home, company["id"], "followups:read", "--read-limit", "2"))
    assert made["read_limit"] == 2

    # Limits changed by the CLI reach the server once its view of the client is refreshed.
    with serving(home, tmp_path, env={"RELANCE_AUTH_CACHE_SECONDS": "0"}) as base:
        headers = {
            "Authorization": f"Bearer {token_for(base, made['client_id'], made['client_secret'])}"
        }

        def read() -> httpx.Response:
            return httpx.get(f"{base}/external-api/v1/followups", headers=headers, timeout=10)

        assert [read().status_code for _ in range(3)] == [200, 200, 429]

        raised = relance(
            "clients", "set-limits", made["client_id"], "--read-limit", "4", data_dir=home
        )
        assert raised.returncode == 0, report(raised)
        listed = ok_json(relance("clients", "list", "--json", data_dir=home))
        assert (listed[0]["read_limit"], listed[0]["write_limit"]) == (4, None)
        allowed = read()
        assert allowed.status_code == 200
        assert allowed.headers["x-ratelimit-limit"] == "4"
        assert allowed.headers["x-ratelimit-remaining"] == "1"

        reset = relance("clients", "set-limits", made["client_id"], "--reset", data_dir=home)
        assert reset.returncode == 0, report(reset)
        assert read().headers["x-ratelimit-limit"] == "1000"


@pytest.mark.parametrize(
    "arguments",
    [("--read-limit", "0"), ("--write-limit", "-3"), (), ("--reset", "--read-limit", "5")],
    ids=["zero", "negative", "nothing", "reset-and-limit"],
)
def test_set_limits_refuses_what_cannot_be_a_limit(home: Path, arguments: tuple[str, ...]) -> None:
    company = create_company(home)
    made = create_client(home, company["id"], "followups:read")

    result = relance("clients", "set-limits", made["client_id"], *arguments, data_dir=home)

    assert result.returncode == 2, report(result)
    assert "Traceback" not in result.stderr, report(result)
    listed = ok_json(relance("clients", "list", "--json", data_dir=home))
    assert (listed[0]["read_limit"], listed[0]["write_limit"]) == (None, None)


@pytest.mark.parametrize("command", ["revoke", "rotate-secret", "set-limits"])
def test_an_unknown_client_is_named(home: Path, command: str) -> None:
    extra = ("--read-limit", "5") if command == "set-limits" else ()
    result = relance("clients", command, "rlc_nobody", *extra, data_dir=home)

    assert result.returncode == 2, report(result)
    assert "rlc_nobody" in result.stderr, report(result)


def test_a_standard_oauth_client_library_gets_and_uses_a_token(home: Path, tmp_path: Path) -> None:
    from authlib.integrations.httpx_client import OAuth2Client

    company = create_company(home)
    made = create_client(home, company["id"], "followups:read")
    with serving(home, tmp_path) as base:
        for method in ("client_secret_post", "client_secret_basic"):
            with OAuth2Client(
                made["client_id"],
                made["client_secret"],
                token_endpoint_auth_method=method,
            ) as oauth:
                token = oauth.fetch_token(f"{base}/token", grant_type="client_credentials")
                assert token["token_type"] == "Bearer"
                assert token["scope"] == "followups:read"
                listed = oauth.get(f"{base}/external-api/v1/followups")
                assert listed.status_code == 200, listed.text
                assert listed.json()["pagination"]["total"] == 0


def test_keys_rotate_makes_a_new_current_version(home: Path) -> None:
    first = relance("keys", "rotate", data_dir=home)
    second = relance("keys", "rotate", data_dir=home)

    assert first.returncode == 0, report(first)
    assert "version 2" in flat(first.stderr), report(first)
    assert "version 3" in flat(second.stderr), report(second)


# relance config check


def test_config_check_masks_secrets_and_checks_the_database(home: Path) -> None:
    secret = "a-deployment-secret-that-must-never-show-" + "x" * 8
    redis_password = "redis-password-never-shown"
    env = {
        "RELANCE_SECRET_KEY": secret,
        "RELANCE_REDIS_URL": f"redis://:{redis_password}@127.0.0.1:{free_port()}/0",
    }
    checked = relance("config", "check", "--json", data_dir=home, env=env)
    assert checked.returncode == 1, report(checked)  # Redis does not answer
    document = json.loads(checked.stdout)
    assert document["settings"]["RELANCE_SECRET_KEY"] == "***"
    assert document["settings"]["RELANCE_REDIS_URL"] == "***"
    assert document["settings"]["RELANCE_DATABASE_URL"].startswith("(embedded) sqlite:///")
    assert document["checks"]["database"] == "ok"
    assert document["checks"]["redis"].startswith("unreachable")
    for shown in (checked.stdout, checked.stderr):
        assert secret not in shown
        assert redis_password not in shown

    invalid = relance("config", "check", data_dir=home, env={"RELANCE_RATE_LIMIT_FAIL": "maybe"})
    assert invalid.returncode == 2, report(invalid)
    assert "rate_limit_fail" in invalid.stderr.lower()
