"""`relance companies create|list|update`, run as real subprocesses on SQLite and on
PostgreSQL: a company's email and phone checked as a debt's are (a refusal exits 2 naming the
option, and writes nothing), the list as a table and as JSON, and partial updates."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.commands import PUBLIC_ID, flat, ok_json, relance, report
from tests.postgres import scratch_database

MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00")


@dataclass(frozen=True)
class Home:
    """A migrated deployment: its data dir and the settings that name its database."""

    path: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return relance("companies", *args, data_dir=self.path, env=self.env)

    def json(self, *args: str) -> Any:
        return ok_json(self.run(*args, "--json"))


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Home]:
    if request.param == "sqlite":
        yield _migrated(Home(tmp_path / "home", {}))
        return
    with scratch_database("relance_companies_cli") as url:
        yield _migrated(Home(tmp_path / "home", {"RELANCE_DATABASE_URL": url}))


def _migrated(home: Home) -> Home:
    upgraded = relance("db", "upgrade", data_dir=home.path, env=home.env)
    assert upgraded.returncode == 0, report(upgraded)
    return home


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The message of a command refused as a bad option is: exit 2, nothing on stdout."""
    assert result.returncode == 2, report(result)
    assert result.stdout == "", report(result)
    assert "Traceback" not in result.stderr, report(result)
    return flat(result.stderr)


class TestCreate:
    def test_a_company_gets_its_email_and_phone(self, home: Home) -> None:
        made = home.json(
            "create", " Acme SAS ", "--email", "contact@acme.fr", "--phone", "+33123456789"
        )

        assert list(made) == ["id", "name", "email", "phone", "created_at"]
        assert PUBLIC_ID.fullmatch(made["id"]), made
        assert (made["name"], made["email"], made["phone"]) == (
            "Acme SAS",
            "contact@acme.fr",
            "+33123456789",
        )
        assert MOMENT.fullmatch(made["created_at"]), made

    def test_without_them_a_company_has_none(self, home: Home) -> None:
        made = home.json("create", "Acme SAS")

        assert (made["email"], made["phone"]) == (None, None)

    @pytest.mark.parametrize(
        ("option", "value", "problem"),
        [
            ("--email", "not-an-email", "--email must be an email address"),
            ("--email", "a b@example.com", "--email must be an email address"),
            ("--email", "a@" + "x" * 250 + ".fr", "--email must be at most 254 characters"),
            ("--phone", "0612345678", "--phone must be an E.164 phone number"),
            ("--phone", "+33 6 12 34 56 78", "--phone must be an E.164 phone number"),
        ],
    )
    def test_a_bad_contact_is_refused_naming_its_option(
        self, home: Home, option: str, value: str, problem: str
    ) -> None:
        message = refused(home.run("create", "Acme SAS", option, value, "--json"))

        assert problem in message, message
        assert home.json("list") == []

    def test_every_problem_is_named_at_once(self, home: Home) -> None:
        message = refused(home.run("create", " ", "--email", "nope", "--phone", "nope"))

        assert "the name must be 1 to 200 characters" in message, message
        assert "--email must be an email address" in message, message
        assert "--phone must be an E.164 phone number" in message, message


class TestList:
    def test_every_company_oldest_first_as_json(self, home: Home) -> None:
        assert home.json("list") == []
        first = home.json("create", "Acme SAS", "--email", "contact@acme.fr")
        second = home.json("create", "Durand SARL", "--phone", "+33987654321")

        assert home.json("list") == [first, second]

    def test_a_table_shows_each_id_whole(self, home: Home) -> None:
        made = home.json("create", "Acme SAS", "--email", "contact@acme.fr")
        home.json("create", "Durand SARL")

        listed = home.run("list")

        assert listed.returncode == 0, report(listed)
        line = next(line for line in listed.stdout.splitlines() if made["id"] in line)
        assert "Acme SAS" in line, listed.stdout
        assert "contact@acme.fr" in line, listed.stdout
        assert "2 companies" in listed.stdout


class TestUpdate:
    def test_only_the_options_given_change(self, home: Home) -> None:
        made = home.json("create", "Acme SAS", "--email", "old@acme.fr", "--phone", "+33123456789")

        changed = home.json("update", made["id"], "--email", "new@acme.fr")

        assert changed == {**made, "email": "new@acme.fr"}
        assert home.json("list") == [changed]

    def test_an_empty_email_or_phone_clears_it_and_a_name_renames(self, home: Home) -> None:
        made = home.json("create", "Acme SAS", "--email", "a@acme.fr", "--phone", "+33123456789")

        changed = home.json("update", made["id"], "--name", "Acme", "--email", "", "--phone", "")

        assert changed == {**made, "name": "Acme", "email": None, "phone": None}

    def test_a_bad_value_changes_nothing(self, home: Home) -> None:
        made = home.json("create", "Acme SAS", "--email", "a@acme.fr")

        message = refused(home.run("update", made["id"], "--email", "b@acme.fr", "--phone", "06"))

        assert "--phone must be an E.164 phone number" in message, message
        assert refused(home.run("update", made["id"], "--name", "  "))
        assert home.json("list") == [made]

    def test_nothing_to_change_is_refused(self, home: Home) -> None:
        made = home.json("create", "Acme SAS")

        assert "give --name, --email or --phone" in refused(home.run("update", made["id"]))

    @pytest.mark.parametrize("company", ["not a company id", "0" * 22])
    def test_a_malformed_id_is_refused(self, home: Home, company: str) -> None:
        assert "is not a company ID" in refused(home.run("update", company, "--name", "X"))

    def test_another_deployments_company_is_refused(self, home: Home, tmp_path: Path) -> None:
        made = home.json("create", "Acme SAS")
        elsewhere = _migrated(Home(tmp_path / "other", {})).json("create", "Elsewhere")

        message = refused(home.run("update", elsewhere["id"], "--name", "X"))

        # Its ID does not decrypt with this deployment's key: malformed, as any other string.
        assert "is not a company ID" in message, message
        assert home.json("list") == [made]

    def test_a_company_that_is_gone_is_refused(self, home: Home) -> None:
        gone = home.json("create", "Gone SAS")
        delete_rows(home, "DELETE FROM companies WHERE name = 'Gone SAS'")

        message = refused(home.run("update", gone["id"], "--name", "X"))

        assert f"no company with ID {gone['id']}" in message, message
        assert home.json("list") == []


def delete_rows(home: Home, statement: str) -> None:
    """A row removed behind the commands' back (no command deletes a company)."""
    url = home.env.get("RELANCE_DATABASE_URL")
    if url is None:
        with closing(sqlite3.connect(home.path / "relance.sqlite3")) as db, db:
            db.execute(statement)
        return

    async def delete() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(delete())
