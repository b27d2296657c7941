"""`relance debts list|get|update|delete|batch` against a real `relance serve`, on SQLite and
on PostgreSQL, through the SDK as an integrator runs them: tables and JSON, a batch file's
failures named by line, an update of the fields given only, a delete that asks first, and
each kind of failure with the exit code `relance followups` gives it."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path
from typing import Any

from relance.client import Relance
from tests.client import test_debts_sdk
from tests.client.test_debts_sdk import Deployment, debt
from tests.commands import COMMAND, TIMEOUT, cli_env, flat, ok_json, report

# The SDK tests' server (on SQLite and on PostgreSQL), with the same three clients, and their
# marker of each test's own debts.
deployment = test_debts_sdk.deployment
marker = test_debts_sdk.marker


def run(
    deployment: Deployment,
    tmp_path: Path,
    *args: str,
    client: str = "acme",
    answer: str = "",
    columns: int = 80,
) -> subprocess.CompletedProcess[str]:
    """`relance debts ARGS` with the client's credentials, its tables `columns` wide; `answer`
    is typed at its prompt."""
    return subprocess.run(  # noqa: S603
        [*COMMAND, "debts", *args],
        input=answer,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=cli_env(tmp_path, {**deployment.cli_env(client), "COLUMNS": str(columns)}),
        check=False,
    )


def batch_file(tmp_path: Path, *lines: Any) -> Path:
    """A JSON Lines file; a None is a blank line."""
    path = tmp_path / f"debts-{secrets.token_hex(3)}.jsonl"
    path.write_text("".join("\n" if line is None else json.dumps(line) + "\n" for line in lines))
    return path


def listed(deployment: Deployment, tmp_path: Path, marker: str, *filters: str) -> Any:
    return ok_json(run(deployment, tmp_path, "list", "--search", marker, *filters, "--json"))


def made(deployment: Deployment, marker: str, count: int) -> list[str]:
    """The IDs of `count` new debts of this test, in the order they were sent (through the
    SDK: quicker than a command, and `batch` is tested on its own)."""
    client_id, secret = deployment.clients["acme"]
    with Relance(deployment.base, client_id, secret) as client:
        return [client.debts.create(**debt(marker, number)).id for number in range(count)]


def test_a_batch_file_is_created_and_listed(
    deployment: Deployment, tmp_path: Path, marker: str
) -> None:
    path = batch_file(
        tmp_path,
        debt(marker, 0, amount="99.50", currency="USD"),
        None,
        debt(marker, 2, amount=-1),
        {"firstname": "Prénom*", "lastname": "Nom*"},
        debt(marker, 4, email="lea@example.fr", firstname="Léa"),
    )

    done = run(deployment, tmp_path, "batch", str(path), "--name", marker)
    page = listed(deployment, tmp_path, marker)
    table = run(deployment, tmp_path, "list", "--search", marker, columns=160)
    narrow = run(deployment, tmp_path, "list", "--search", marker)
    dollars = listed(deployment, tmp_path, marker, "--currency", "USD", "--max-amount", "100")

    assert done.returncode == 1, report(done)
    assert "line 3: amount: must be greater than 0" in flat(done.stderr)
    assert "line 4: skipped, a placeholder row, not a debt" in flat(done.stderr)
    assert f"batch {marker} (" in done.stdout
    assert "2 created, 1 failed, 1 skipped" in done.stdout
    first, second = page["data"]  # newest first: created together, the last one has the top ID
    assert (first["firstname"], second["amount_text"]) == ("Léa", "99.50")
    assert page["pagination"] == {"total": 2, "page": 1, "limit": 20, "pages": 1}
    assert table.returncode == 0, report(table)
    for shown in (first["id"], second["id"], "99.50 USD", "250.00 EUR", "pending", f"{marker}-4"):
        assert shown in table.stdout
    assert "page 1 of 1, 2 debts" in table.stdout
    for whole in (first["id"], second["id"]):  # copied into the next command: never cut
        assert whole in narrow.stdout
    assert [d["id"] for d in dollars["data"]] == [second["id"]]


def test_get_shows_one_debt(deployment: Deployment, tmp_path: Path, marker: str) -> None:
    (debt_id,) = made(deployment, marker, 1)

    as_json = ok_json(run(deployment, tmp_path, "get", debt_id, "--json"))
    shown = run(deployment, tmp_path, "get", debt_id)

    assert (as_json["id"], as_json["internal_id"]) == (debt_id, f"{marker}-0")
    assert (as_json["amount"], as_json["amount_text"], as_json["email"]) == (250.0, "250.00", None)
    assert shown.returncode == 0, report(shown)
    lines = [line.split() for line in shown.stdout.splitlines()]
    assert ["amount", "250.00"] in lines
    assert ["status", "status.default.pending"] in lines
    assert ["internal_id", f"{marker}-0"] in lines
    assert not any(line[0] in ("email", "amount_text") for line in lines if line)


def test_update_changes_the_fields_given(
    deployment: Deployment, tmp_path: Path, marker: str
) -> None:
    holder, debt_id = made(deployment, marker, 2)
    changes = ("--status", "paid", "--amount", "120.50", "--set", "city=Metz")
    more = ("--set", "postal_code=57000", "--email", "c@example.fr", "--metadata", '{"a": 1}')

    changed = ok_json(run(deployment, tmp_path, "update", debt_id, *changes, *more, "--json"))
    cleared = run(deployment, tmp_path, "update", debt_id, "--email", "", "--set", "city=")
    taken = run(deployment, tmp_path, "update", debt_id, "--internal-id", f"{marker}-0")

    assert changed["status"] == "status.default.paid"
    assert (changed["amount_text"], changed["city"], changed["postal_code"]) == (
        "120.50",
        "Metz",
        "57000",
    )
    assert (changed["email"], changed["metadata"]) == ("c@example.fr", {"a": 1})
    assert (changed["firstname"], changed["internal_id"]) == ("Camille", f"{marker}-1")
    assert cleared.returncode == 0, report(cleared)
    assert [line.split() for line in cleared.stdout.splitlines()] == [
        ["debt", debt_id, "updated:"],
        ["email", "null"],
        ["city", "null"],
    ]
    after = ok_json(run(deployment, tmp_path, "get", debt_id, "--json"))
    assert (after["email"], after["city"], after["postal_code"]) == (None, None, "57000")
    assert taken.returncode == 1, report(taken)
    assert f"is already the internal_id of debt {holder}" in flat(taken.stderr)


def test_a_refused_update_changes_nothing(
    deployment: Deployment, tmp_path: Path, marker: str
) -> None:
    (debt_id,) = made(deployment, marker, 1)
    before = ok_json(run(deployment, tmp_path, "get", debt_id, "--json"))

    for args, code, said in [
        ((), 2, "give at least one field to change"),
        (("--set", "city"), 2, "--set takes NAME=VALUE"),
        (("--metadata", "[1]"), 2, "--metadata must be a JSON object"),
        (("--status", "pending"), 1, "status: must be one of: status.default.paid"),
        (("--set", "colour=red", "--set", "city=Metz"), 1, "colour: is not a field"),
    ]:
        refused = run(deployment, tmp_path, "update", debt_id, *args)
        assert refused.returncode == code, report(refused)
        assert said in flat(refused.stderr), report(refused)

    assert ok_json(run(deployment, tmp_path, "get", debt_id, "--json")) == before


def test_delete_asks_first_unless_yes(deployment: Deployment, tmp_path: Path, marker: str) -> None:
    asked, forced = made(deployment, marker, 2)

    declined = run(deployment, tmp_path, "delete", asked, answer="n\n")
    accepted = run(deployment, tmp_path, "delete", asked, answer="y\n")
    without = ok_json(run(deployment, tmp_path, "delete", forced, "--yes", "--json"))
    again = run(deployment, tmp_path, "delete", forced, "--yes")

    assert declined.returncode == 1, report(declined)
    assert f"Delete debt {asked} (Camille Durand, 250.00 EUR)?" in declined.stderr
    assert accepted.returncode == 0, report(accepted)  # declined, it was kept
    assert f"debt {asked} deleted" in accepted.stdout
    assert without == {"id": forced, "deleted": True}
    assert listed(deployment, tmp_path, marker)["data"] == []
    assert again.returncode == 1, report(again)
    assert "Debt not found" in again.stderr


def test_each_failure_has_its_exit_code(
    deployment: Deployment, tmp_path: Path, marker: str
) -> None:
    (debt_id,) = made(deployment, marker, 1)
    too_many = batch_file(tmp_path, *(debt(marker, n) for n in range(1001)))
    not_json = tmp_path / "bad.jsonl"
    not_json.write_text(json.dumps(debt(marker, 0)) + "\n{oops\n")

    for args, client, code, said in [
        (("list", "--created-after", "yesterday"), "acme", 1, "created_after: must be a date"),
        (("list", "--min-amount", "9", "--max-amount", "1"), "acme", 1, "min_amount"),
        (("get", "0" * 22), "acme", 1, "Debt not found"),
        (("get", debt_id), "other", 1, "Debt not found"),
        (("update", debt_id, "--set", "city=Metz"), "reader", 3, "debts:write"),
        (("delete", debt_id, "--yes"), "reader", 3, "debts:write"),
        (("batch", str(too_many)), "acme", 2, "a batch takes 1000 at most"),
        (("batch", str(not_json)), "acme", 2, "line 2: not JSON"),
    ]:
        failed = run(deployment, tmp_path, *args, client=client)
        assert failed.returncode == code, report(failed)
        assert said in flat(failed.stderr), report(failed)
    unreachable = subprocess.run(  # noqa: S603
        [*COMMAND, "debts", "list"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=cli_env(tmp_path, {**deployment.cli_env(), "RELANCE_BASE_URL": "http://127.0.0.1:9"}),
        check=False,
    )
    assert unreachable.returncode == 5, report(unreachable)
