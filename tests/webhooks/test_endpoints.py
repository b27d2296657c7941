"""The webhook endpoints API through HTTP, on SQLite and PostgreSQL: create (the secret shown
once), list by cursor, get, patch, delete, rotate-secret, test, recover, deliveries and retry,
what each refuses and what it says, and that a company sees only its own."""

from __future__ import annotations

import re
from typing import Any

import pytest

from relance.auth.scopes import WEBHOOKS_READ
from relance.runtime import Runtime
from tests.factories import Client, new_tenant_headers

URL = "/external-api/v1/webhook-endpoints"
DELIVERIES = "/external-api/v1/webhook-deliveries"
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")
RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhooks_allow_private_networks": True}


@pytest.fixture
async def headers(runtime: Runtime, client: Client) -> dict[str, str]:
    return (await new_tenant_headers(runtime, client))[1]


async def create(client: Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(URL, json={"url": RECEIVER, **body}, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def problems(response: Any) -> dict[str, list[str]]:
    body = response.json()
    assert body["error"] is True, body
    details: dict[str, list[str]] = body["details"]
    return details


async def test_an_endpoint_is_made_with_its_secret_shown_once(
    client: Client, headers: dict[str, str]
) -> None:
    made = await create(client, headers, description="CRM")
    assert made["id"].startswith("we_")
    assert SECRET.fullmatch(made["secret"])
    assert made["enabled_events"] == ["*"]
    assert made["status"] == "enabled"
    assert made["disabled_reason"] is None
    assert made["description"] == "CRM"
    shown = (await client.get(f"{URL}/{made['id']}", headers=headers)).json()["data"]
    assert "secret" not in shown
    assert shown == {k: v for k, v in made.items() if k != "secret"}
    listed = (await client.get(URL, headers=headers)).json()
    assert listed["data"] == [shown]
    assert listed["pagination"] == {"limit": 10, "has_more": False, "next_starting_after": None}


async def test_the_list_pages_by_cursor_newest_first(
    client: Client, headers: dict[str, str]
) -> None:
    made = [(await create(client, headers))["id"] for _ in range(5)]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = (await client.get(URL, params=params, headers=headers)).json()
        seen.extend(item["id"] for item in page["data"])
        if not page["pagination"]["has_more"]:
            break
        params["starting_after"] = page["pagination"]["next_starting_after"]
    assert seen == made[::-1]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"url": "ftp://example.com/x"}, "url", "http or https"),
        ({"url": "https://user:pw@example.com/x"}, "url", "credentials"),
        ({"url": "https://example.com/x#top"}, "url", "fragment"),
        ({"url": RECEIVER, "enabled_events": []}, "enabled_events", "at least 1"),
        ({"url": RECEIVER, "enabled_events": ["followup.deleted"]}, "enabled_events", ""),
        ({"url": RECEIVER, "enabled_events": ["*", "debt.created"]}, "enabled_events", "alone"),
        ({"url": RECEIVER, "secret": "whsec_mine"}, "secret", ""),
    ],
)
async def test_a_bad_endpoint_is_a_400_naming_the_field(
    client: Client, headers: dict[str, str], body: dict[str, Any], field: str, says: str
) -> None:
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 400, response.text
    found = problems(response)
    assert any(name.split(".")[0] == field for name in found), found
    assert any(says in p for ps in found.values() for p in ps), found


# The default deployment: private networks refused (the URL checks know no database).
@pytest.mark.parametrize("settings_overrides", [{}])
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/hooks", "https"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://[::1]/hooks", "loopback"),
        ("https://169.254.169.254/latest", "link-local"),
    ],
)
async def test_private_networks_are_refused_unless_allowed(
    runtime: Runtime, client: Client, url: str, says: str
) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    response = await client.post(URL, json={"url": url}, headers=headers)
    assert response.status_code == 400, response.text
    message = " ".join(problems(response)["url"])
    assert says in message
    assert "RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS" in message


async def test_patch_changes_only_what_it_sends(client: Client, headers: dict[str, str]) -> None:
    made = await create(client, headers, description="CRM", enabled_events=["debt.created"])
    path = f"{URL}/{made['id']}"
    response = await client.patch(
        path, json={"enabled_events": ["followup.created", "followup.created"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    changed = response.json()["data"]
    assert changed["enabled_events"] == ["followup.created"]
    assert changed["description"] == "CRM"
    assert changed["url"] == RECEIVER
    cleared = (await client.patch(path, json={"description": None}, headers=headers)).json()
    assert cleared["data"]["description"] is None
    refused = await client.patch(path, json={"url": "ftp://x"}, headers=headers)
    assert refused.status_code == 400
    assert (await client.get(path, headers=headers)).json()["data"]["url"] == RECEIVER


async def test_disabling_fails_what_is_owed_and_recover_sends_it_again(
    client: Client, headers: dict[str, str]
) -> None:
    made = await create(client, headers)
    path = f"{URL}/{made['id']}"
    queued = await client.post(f"{path}/test", headers=headers)
    assert queued.status_code == 202, queued.text
    delivery = queued.json()["data"]
    assert delivery["status"] == "pending"
    assert delivery["event_type"] == "webhook.test"
    off = (await client.patch(path, json={"status": "disabled"}, headers=headers)).json()["data"]
    assert (off["status"], off["disabled_reason"]) == ("disabled", "manual")
    shown = (await client.get(f"{DELIVERIES}/{delivery['id']}", headers=headers)).json()["data"]
    assert shown["status"] == "failed"
    assert shown["attempts"] == []
    for action in ("test", "recover"):
        refused = await client.post(
            f"{path}/{action}", json={"since": "2020-01-01T00:00:00Z"}, headers=headers
        )
        assert refused.status_code == 409, refused.text
        assert "enable it first" in refused.json()["message"]
    on = (await client.patch(path, json={"status": "enabled"}, headers=headers)).json()["data"]
    assert (on["status"], on["disabled_reason"]) == ("enabled", None)
    recovered = await client.post(
        f"{path}/recover", json={"since": "2020-01-01T00:00:00Z"}, headers=headers
    )
    assert recovered.status_code == 202, recovered.text
    assert recovered.json()["data"] == {"queued": 1}
    again = (await client.get(f"{DELIVERIES}/{delivery['id']}", headers=headers)).json()["data"]
    assert again["status"] == "pending"


async def test_recover_sends_the_events_an_endpoint_missed(
    client: Client, headers: dict[str, str]
) -> None:
    made = await create(client, headers, enabled_events=["debt.created"])
    path = f"{URL}/{made['id']}"
    await client.patch(path, json={"status": "disabled"}, headers=headers)
    body = {
        "firstname": "A",
        "lastname": "B",
        "amount": 10,
        "currency": "EUR",
        "phone": "+33612345678",
    }
    assert (
        await client.post("/external-api/v1/debts", json=body, headers=headers)
    ).status_code == 201
    listed = await client.get(f"{path}/deliveries", headers=headers)
    assert listed.json()["data"] == []
    await client.patch(path, json={"status": "enabled"}, headers=headers)
    recovered = await client.post(f"{path}/recover", json={"since": "0"}, headers=headers)
    assert recovered.json()["data"] == {"queued": 1}
    # Once only: the event now has its delivery.
    again = await client.post(f"{path}/recover", json={"since": "0"}, headers=headers)
    assert again.json()["data"] == {"queued": 0}
    owed = (await client.get(f"{path}/deliveries", headers=headers)).json()["data"]
    assert [d["event_type"] for d in owed] == ["debt.created"]
    bad = await client.post(f"{path}/recover", json={"since": "yesterday"}, headers=headers)
    assert bad.status_code == 400
    assert "since" in problems(bad)


async def test_deliveries_filter_by_status_and_type(
    client: Client, headers: dict[str, str]
) -> None:
    made = await create(client, headers)
    path = f"{URL}/{made['id']}"
    body = {
        "firstname": "A",
        "lastname": "B",
        "amount": 10,
        "currency": "EUR",
        "phone": "+33612345678",
    }
    await client.post("/external-api/v1/debts", json=body, headers=headers)
    await client.post(f"{path}/test", headers=headers)
    every = (await client.get(f"{path}/deliveries", headers=headers)).json()["data"]
    assert [d["event_type"] for d in every] == ["webhook.test", "debt.created"]
    typed = await client.get(f"{path}/deliveries", params={"type": "debt.created"}, headers=headers)
    assert [d["event_type"] for d in typed.json()["data"]] == ["debt.created"]
    none = await client.get(f"{path}/deliveries", params={"status": "failed"}, headers=headers)
    assert none.json()["data"] == []
    bad = await client.get(
        f"{path}/deliveries", params={"status": "lost", "type": "x", "limit": 0}, headers=headers
    )
    assert bad.status_code == 400
    assert set(problems(bad)) == {"status", "type", "limit"}


async def test_retry_makes_a_delivery_due_again(client: Client, headers: dict[str, str]) -> None:
    made = await create(client, headers)
    delivery = (await client.post(f"{URL}/{made['id']}/test", headers=headers)).json()["data"]
    retried = await client.post(f"{DELIVERIES}/{delivery['id']}/retry", headers=headers)
    assert retried.status_code == 202, retried.text
    assert retried.json()["data"]["status"] == "pending"
    missing = await client.post(f"{DELIVERIES}/wd_{'0' * 22}/retry", headers=headers)
    assert missing.status_code == 404


async def test_rotate_secret_shows_a_new_one(client: Client, headers: dict[str, str]) -> None:
    made = await create(client, headers)
    path = f"{URL}/{made['id']}/rotate-secret"
    rotated = await client.post(path, headers=headers)
    assert rotated.status_code == 200, rotated.text
    secret = rotated.json()["data"]["secret"]
    assert SECRET.fullmatch(secret)
    assert secret != made["secret"]
    at_once = await client.post(path, json={"expire_previous_in_seconds": 0}, headers=headers)
    assert at_once.status_code == 200
    too_long = await client.post(
        path, json={"expire_previous_in_seconds": 8 * 86_400}, headers=headers
    )
    assert too_long.status_code == 400
    assert "expire_previous_in_seconds" in problems(too_long)


async def test_delete_removes_the_endpoint_and_its_log(
    client: Client, headers: dict[str, str]
) -> None:
    made = await create(client, headers)
    path = f"{URL}/{made['id']}"
    delivery = (await client.post(f"{path}/test", headers=headers)).json()["data"]
    deleted = await client.delete(path, headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"] == {"id": made["id"], "deleted": True}
    assert (await client.get(path, headers=headers)).status_code == 404
    assert (await client.delete(path, headers=headers)).status_code == 404
    gone = await client.get(f"{DELIVERIES}/{delivery['id']}", headers=headers)
    assert gone.status_code == 404


async def test_a_company_never_sees_another_companys_endpoints(
    runtime: Runtime, client: Client, headers: dict[str, str]
) -> None:
    made = await create(client, headers)
    delivery = (await client.post(f"{URL}/{made['id']}/test", headers=headers)).json()["data"]
    _, other = await new_tenant_headers(runtime, client)
    assert (await client.get(URL, headers=other)).json()["data"] == []
    path = f"{URL}/{made['id']}"
    for method, target, body in [
        ("GET", path, None),
        ("PATCH", path, {"description": "mine now"}),
        ("DELETE", path, None),
        ("POST", f"{path}/rotate-secret", None),
        ("POST", f"{path}/test", None),
        ("POST", f"{path}/recover", {"since": "0"}),
        ("GET", f"{path}/deliveries", None),
        ("GET", f"{DELIVERIES}/{delivery['id']}", None),
        ("POST", f"{DELIVERIES}/{delivery['id']}/retry", None),
    ]:
        response = await client.request(method, target, json=body, headers=other)
        assert response.status_code == 404, (method, target, response.text)
    assert (await client.get(path, headers=headers)).json()["data"]["description"] is None


async def test_reading_needs_webhooks_read_and_writing_webhooks_write(
    runtime: Runtime, client: Client
) -> None:
    _, reader = await new_tenant_headers(runtime, client, scopes=(WEBHOOKS_READ,))
    assert (await client.get(URL, headers=reader)).status_code == 200
    refused = await client.post(URL, json={"url": RECEIVER}, headers=reader)
    assert refused.status_code == 403
    assert "webhooks:write" in refused.json()["message"]
