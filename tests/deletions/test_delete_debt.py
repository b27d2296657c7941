"""DELETE /debts/{id} through HTTP, on SQLite and PostgreSQL: the debt goes with its
followups, the totals stay exact, each followup leaves a tombstone in the changes feed, and
the stored files only they pointed at are removed once the deletion commits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relance.runtime import Runtime
from tests.commands import report
from tests.factories import Client, new_tenant_headers
from tests.media.helpers import attach, sample_files

API = "/external-api/v1"
DEBT = {"firstname": "Camille", "lastname": "Durand", "amount": 90, "currency": "EUR",
        "phone": "+33612345678"}  # fmt: skip


async def new_debt(client: Client, headers: dict[str, str]) -> str:
    response = await client.post(f"{API}/debts", json=DEBT, headers=headers)
    assert response.status_code == 201, response.text
    debt_id: str = response.json()["data"]["id"]
    return debt_id


async def new_followup(client: Client, headers: dict[str, str], debt_id: str, **fields: Any) -> str:
    body = {"debt_id": debt_id, "type": "call", "status": "deal_found", **fields}
    response = await client.post(f"{API}/followups", json=body, headers=headers)
    assert response.status_code == 201, response.text
    followup_id: str = response.json()["data"]["id"]
    return followup_id


async def total(client: Client, headers: dict[str, str], **params: str) -> int:
    response = await client.get(f"{API}/followups", params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: int = response.json()["pagination"]["total"]
    return found


async def test_a_debt_goes_with_its_followups_and_the_totals_follow(
    runtime: Runtime, client: Client
) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    doomed, kept = await new_debt(client, headers), await new_debt(client, headers)
    gone = [await new_followup(client, headers, doomed, status=s) for s in ("deal_found", "sent")]
    stays = await new_followup(client, headers, kept)
    assert await total(client, headers) == 3
    response = await client.delete(f"{API}/debts/{doomed}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"error": False, "message": "Debt deleted successfully"}
    assert (await client.get(f"{API}/debts/{doomed}", headers=headers)).status_code == 404
    for followup in gone:
        assert (await client.get(f"{API}/followups/{followup}", headers=headers)).status_code == 404
    assert await total(client, headers) == 1
    assert await total(client, headers, status="sent") == 0
    assert await total(client, headers, status="deal_found", date_from="2000-01-01") == 1
    listed = await client.get(f"{API}/followups", headers=headers)
    assert [row["id"] for row in listed.json()["data"]] == [stays]
    debts = await client.get(f"{API}/debts", headers=headers)
    assert [debt["id"] for debt in debts.json()["data"]] == [kept]
    again = await client.delete(f"{API}/debts/{doomed}", headers=headers)
    assert again.status_code == 404
    assert again.json()["error"] is True


async def test_each_deleted_followup_leaves_a_tombstone_in_the_feed(
    runtime: Runtime, client: Client
) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    debt = await new_debt(client, headers)
    made = [await new_followup(client, headers, debt) for _ in range(3)]
    before = await client.get(f"{API}/followups/changes", headers=headers)
    cursor = before.json()["next_cursor"]
    assert (await client.delete(f"{API}/debts/{debt}", headers=headers)).status_code == 200
    page = (await client.get(f"{API}/followups/changes", params={"cursor": cursor},
                             headers=headers)).json()  # fmt: skip
    assert [(e["action"], e["id"], e["debt_id"]) for e in page["data"]] == [
        ("delete", followup, debt) for followup in made
    ]
    assert all(set(entry) == {"seq", "action", "changed_at", "id", "debt_id"}
               for entry in page["data"])  # fmt: skip
    # From the beginning, the deleted followups come as tombstones, never as upserts.
    whole = (await client.get(f"{API}/followups/changes", headers=headers)).json()
    assert {e["action"] for e in whole["data"]} == {"delete"}
    export = await client.get(f"{API}/followups/export", headers=headers)
    assert export.text.count("\n") == 1  # the cursor line alone


async def test_another_companys_debt_is_a_404_and_stays(runtime: Runtime, client: Client) -> None:
    _, mine = await new_tenant_headers(runtime, client)
    _, theirs = await new_tenant_headers(runtime, client)
    debt = await new_debt(client, theirs)
    await new_followup(client, theirs, debt)
    for target in (debt, "not-an-id", "0" * 22):
        response = await client.delete(f"{API}/debts/{target}", headers=mine)
        assert response.status_code == 404, response.text
    assert (await client.get(f"{API}/debts/{debt}", headers=theirs)).status_code == 200
    assert await total(client, theirs) == 1


async def test_deleting_needs_debts_write(runtime: Runtime, client: Client) -> None:
    _, writer = await new_tenant_headers(runtime, client)
    debt = await new_debt(client, writer)
    _, reader = await new_tenant_headers(runtime, client, ("debts:read",))
    assert (await client.delete(f"{API}/debts/{debt}")).status_code == 401
    assert (await client.delete(f"{API}/debts/{debt}", headers=reader)).status_code == 403


async def test_the_followups_stored_files_are_removed_after_the_commit(
    runtime: Runtime, client: Client, tmp_path: Path
) -> None:
    files = sample_files(tmp_path)
    _, headers = await new_tenant_headers(runtime, client)
    debt = await new_debt(client, headers)
    followup = await new_followup(client, headers, debt)
    attached = await attach(runtime, followup, "--audio", str(files["wav"]), "--json")
    assert attached.returncode == 0, report(attached)
    stored = list((runtime.settings.data_dir / "media").rglob("*.wav"))
    assert len(stored) == 1
    assert (await client.delete(f"{API}/debts/{debt}", headers=headers)).status_code == 200
    assert not stored[0].exists()


@pytest.mark.parametrize("settings_overrides", [{"tombstone_retention_days": 1}])
async def test_a_cursor_older_than_the_tombstones_kept_is_410(
    runtime: Runtime, client: Client
) -> None:
    _, headers = await new_tenant_headers(runtime, client)
    first = await new_debt(client, headers)
    await new_followup(client, headers, first)
    old = (await client.get(f"{API}/followups/changes", headers=headers)).json()["next_cursor"]
    assert (await client.delete(f"{API}/debts/{first}", headers=headers)).status_code == 200
    # Two days on, the next deletion purges the first one's tombstone.
    await runtime.db.execute(
        "UPDATE followup_changes SET changed_us = changed_us - 2 * 86400000000 WHERE deleted"
    )
    second = await new_debt(client, headers)
    await new_followup(client, headers, second)
    assert (await client.delete(f"{API}/debts/{second}", headers=headers)).status_code == 200
    response = await client.get(f"{API}/followups/changes", params={"cursor": old},
                                headers=headers)  # fmt: skip
    assert response.status_code == 410, response.text
    assert "export" in response.json()["message"]
    # From the beginning, the feed still works, with the newer tombstone only.
    whole = (await client.get(f"{API}/followups/changes", headers=headers)).json()
    assert [e["action"] for e in whole["data"]] == ["delete"]
