"""POST /token: the client credentials grant, its errors in RFC 6749 form, and its tokens."""

from __future__ import annotations

import base64
import logging
from typing import Any

import jwt
import orjson
import pytest

from relance.auth.scopes import ALL_SCOPES, DEBTS_READ, FOLLOWUPS_READ
from relance.auth.service import NewClient
from relance.config import Settings
from relance.observability.logs import JsonFormatter, TextFormatter
from relance.runtime import Runtime
from tests.factories import Client, bearer, create_client, create_company

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def credentials(runtime: Runtime, client: Client) -> NewClient:
    company_id = await create_company(runtime)
    return await create_client(runtime, company_id, scopes=(DEBTS_READ, FOLLOWUPS_READ))


def grant(credentials: NewClient, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        **extra,
    }


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert body["error_description"]
    assert response.headers["cache-control"] == "no-store"


class TestIssue:
    async def test_form_credentials_give_a_bearer_token(
        self, runtime: Runtime, client: Client, credentials: NewClient
    ) -> None:
        response = await client.post("/token", data=grant(credentials))
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert body["scope"] == "debts:read followups:read"
        listed = await client.get(
            "/external-api/v1/followups", headers=bearer(body["access_token"])
        )
        assert listed.status_code == 200

    async def test_the_token_carries_client_company_scopes_and_lifetime(
        self, client: Client, credentials: NewClient
    ) -> None:
        token = (await client.post("/token", data=grant(credentials))).json()["access_token"]
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert header["alg"] == "HS256"
        assert header["kid"]
        assert claims["sub"] == credentials.client_id
        assert claims["iss"] == "relance"
        assert len(claims["company_id"]) == 22
        assert claims["scope"] == "debts:read followups:read"
        assert claims["exp"] - claims["iat"] == 3600
        assert claims["jti"]

    async def test_http_basic_authenticates_the_client(
        self, client: Client, credentials: NewClient
    ) -> None:
        response = await client.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=basic(credentials.client_id, credentials.client_secret),
        )
        assert response.status_code == 200

    async def test_scope_narrows_the_grant(self, client: Client, credentials: NewClient) -> None:
        response = await client.post("/token", data=grant(credentials, scope="debts:read"))
        assert response.json()["scope"] == "debts:read"
        token = response.json()["access_token"]
        listed = await client.get("/external-api/v1/followups", headers=bearer(token))
        assert listed.status_code == 403

    async def test_a_client_with_every_scope_gets_them_all(
        self, runtime: Runtime, client: Client
    ) -> None:
        everything = await create_client(runtime, await create_company(runtime))
        response = await client.post("/token", data=grant(everything))
        assert response.json()["scope"].split() == list(ALL_SCOPES)


class TestErrors:
    async def test_a_wrong_secret_is_invalid_client(
        self, client: Client, credentials: NewClient
    ) -> None:
        data = grant(credentials, client_secret=credentials.client_secret + "x")
        response = await client.post("/token", data=data)
        assert_oauth_error(response, 401, "invalid_client")
        assert "www-authenticate" not in response.headers

    async def test_an_unknown_client_reads_like_a_wrong_secret(
        self, client: Client, credentials: NewClient
    ) -> None:
        unknown = await client.post("/token", data=grant(credentials, client_id="rlc_nobody"))
        wrong = await client.post(
            "/token", data=grant(credentials, client_secret="relance_sk_wrong")
        )
        assert_oauth_error(unknown, 401, "invalid_client")
        assert unknown.json() == wrong.json()

    async def test_bad_basic_credentials_challenge_with_basic(
        self, client: Client, credentials: NewClient
    ) -> None:
        response = await client.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=basic(credentials.client_id, "nope"),
        )
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")

    @pytest.mark.parametrize("client_id", ["rlc_a\x00b", "x" * 65, "rlc_ space"])
    async def test_an_impossible_client_id_is_invalid_client(
        self, client: Client, credentials: NewClient, client_id: str
    ) -> None:
        response = await client.post("/token", data=grant(credentials, client_id=client_id))
        assert_oauth_error(response, 401, "invalid_client")

    async def test_another_grant_type_is_unsupported(
        self, client: Client, credentials: NewClient
    ) -> None:
        response = await client.post("/token", data=grant(credentials, grant_type="password"))
        assert_oauth_error(response, 400, "unsupported_grant_type")

    @pytest.mark.parametrize(
        "drop", ["grant_type", "client_id", "client_secret"], ids=lambda name: f"no {name}"
    )
    async def test_a_missing_parameter_is_invalid_request(
        self, client: Client, credentials: NewClient, drop: str
    ) -> None:
        data = grant(credentials)
        del data[drop]
        assert_oauth_error(await client.post("/token", data=data), 400, "invalid_request")

    async def test_json_instead_of_a_form_is_invalid_request(
        self, client: Client, credentials: NewClient
    ) -> None:
        response = await client.post("/token", json=grant(credentials))
        assert_oauth_error(response, 400, "invalid_request")

    async def test_a_repeated_parameter_is_invalid_request(
        self, client: Client, credentials: NewClient
    ) -> None:
        body = (
            "grant_type=client_credentials&grant_type=client_credentials"
            f"&client_id={credentials.client_id}&client_secret={credentials.client_secret}"
        )
        response = await client.post("/token", content=body, headers={"Content-Type": FORM})
        assert_oauth_error(response, 400, "invalid_request")

    async def test_basic_and_form_credentials_together_are_invalid_request(
        self, client: Client, credentials: NewClient
    ) -> None:
        response = await client.post(
            "/token",
            data=grant(credentials),
            headers=basic(credentials.client_id, credentials.client_secret),
        )
        assert_oauth_error(response, 400, "invalid_request")

    async def test_a_body_that_is_not_utf8_is_invalid_request(self, client: Client) -> None:
        response = await client.post(
            "/token", content=b"grant_type=\xff\xfe", headers={"Content-Type": FORM}
        )
        assert_oauth_error(response, 400, "invalid_request")

    @pytest.mark.parametrize("scope", ["followups:write", "bogus:scope", "  "])
    async def test_a_scope_beyond_the_client_is_invalid_scope(
        self, client: Client, credentials: NewClient, scope: str
    ) -> None:
        response = await client.post("/token", data=grant(credentials, scope=scope))
        assert_oauth_error(response, 400, "invalid_scope")


class TestAudit:
    async def test_issued_and_refused_tokens_are_logged_without_secrets(
        self, client: Client, credentials: NewClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level("INFO", logger="relance.audit")
        issued = await client.post("/token", data=grant(credentials))
        wrong = grant(credentials, client_secret=credentials.client_secret + "x")
        await client.post("/token", data=wrong)
        await client.post("/token", data={"grant_type": "client_credentials"})

        records = [r for r in caplog.records if r.name == "relance.audit"]
        lines = [JsonFormatter().format(r) for r in records]
        events = [orjson.loads(line) for line in lines]
        assert [e["message"] for e in events] == ["token issued", "token refused", "token refused"]
        assert events[0]["client_id"] == credentials.client_id
        assert events[0]["address"]
        assert (events[1]["client_id"], events[1]["error"]) == (
            credentials.client_id,
            "invalid_client",
        )
        assert events[2]["error"] == "invalid_request"
        token = issued.json()["access_token"]
        for line in lines:
            assert credentials.client_secret not in line
            assert token not in line

    @pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
    async def test_a_client_id_cannot_forge_a_log_line(
        self,
        client: Client,
        credentials: NewClient,
        caplog: pytest.LogCaptureFixture,
        formatter: type[logging.Formatter],
    ) -> None:
        caplog.set_level("INFO", logger="relance.audit")
        forged = 'x\n{"message": "token issued", "client_id": "admin"}\r\u2028admin'
        await client.post("/token", data=grant(credentials, client_id=forged))
        [record] = [r for r in caplog.records if r.name == "relance.audit"]
        line = formatter().format(record)
        assert len(line.splitlines()) == 1, line
        assert "admin" not in line

    @pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
    @pytest.mark.parametrize("swapped", ["form", "basic"])
    async def test_a_secret_sent_as_the_client_id_is_never_logged(
        self,
        client: Client,
        credentials: NewClient,
        caplog: pytest.LogCaptureFixture,
        formatter: type[logging.Formatter],
        swapped: str,
    ) -> None:
        caplog.set_level("INFO", logger="relance.audit")
        secret, client_id = credentials.client_secret, credentials.client_id
        if swapped == "form":
            form = {"grant_type": "client_credentials", "client_id": secret}
            response = await client.post("/token", data={**form, "client_secret": client_id})
        else:
            form = {"grant_type": "client_credentials"}
            response = await client.post("/token", data=form, headers=basic(secret, client_id))
        assert_oauth_error(response, 401, "invalid_client")
        [record] = [r for r in caplog.records if r.name == "relance.audit"]
        line = formatter().format(record)
        assert "token refused" in line
        # Not even a piece of the secret's random part.
        random_part = secret.removeprefix("relance_sk_")
        pieces = {random_part[i : i + 8] for i in range(len(random_part) - 7)}
        assert not [piece for piece in pieces if piece in line], line


class TestThrottle:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={"token_failures_per_address": 3, "token_failures_per_client": 5}
        )

    async def test_repeated_failures_from_one_address_are_slowed_down(
        self, runtime: Runtime, client: Client, credentials: NewClient
    ) -> None:
        wrong = grant(credentials, client_secret="relance_sk_wrong")
        for _ in range(3):
            assert (await client.post("/token", data=wrong)).status_code == 401
        throttled = await client.post("/token", data=wrong)
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "temporarily_unavailable"
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert throttled.headers["cache-control"] == "no-store"

    async def test_failures_on_others_never_refuse_a_correct_secret(
        self, runtime: Runtime, client: Client, credentials: NewClient
    ) -> None:
        # Past both limits: the address (as all callers behind one proxy share it) and the
        # client ID (which anyone may know) have failed far more than allowed.
        other = await create_client(runtime, await create_company(runtime, "Other Co"))
        wrong = grant(credentials, client_secret="relance_sk_wrong")
        answers = [(await client.post("/token", data=wrong)).status_code for _ in range(60)]
        assert answers == [401] * 3 + [429] * 57
        assert (await client.post("/token", data=grant(credentials))).status_code == 200
        as_basic = basic(credentials.client_id, credentials.client_secret)
        by_basic = await client.post(
            "/token", data={"grant_type": "client_credentials"}, headers=as_basic
        )
        assert by_basic.status_code == 200
        assert (await client.post("/token", data=grant(other))).status_code == 200
        # ...and the throttle still holds for failures.
        assert (await client.post("/token", data=wrong)).status_code == 429
        unknown = grant(credentials, client_id="rlc_" + "N" * 22)
        assert (await client.post("/token", data=unknown)).status_code == 429

    async def test_successes_and_malformed_requests_do_not_count(
        self, runtime: Runtime, client: Client, credentials: NewClient
    ) -> None:
        for _ in range(5):
            assert (await client.post("/token", data=grant(credentials))).status_code == 200
            bare = await client.post("/token", data={"grant_type": "client_credentials"})
            assert bare.status_code == 400
        assert (await client.post("/token", data=grant(credentials))).status_code == 200
