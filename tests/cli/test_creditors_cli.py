"""`relance creditors create|list`, run as real subprocesses on SQLite and on PostgreSQL: a
creditor made with every field as GET /creditors shows it, a taken name (any case, spaces
collapsed) refused naming its holder, each bad option refused by name with nothing written,
the list by name as JSON and as a table, and a company that is not there. The tests share one
deployment; each makes a company of its own, whose creditors no other test sees."""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.test_companies import Home, delete_rows, refused
from tests.commands import PUBLIC_ID, flat, ok_json, relance, report
from tests.postgres import scratch_database

SPACED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
EVERY_OPTION = {
    "--email": "contact@durand.fr",
    "--phone": "+33123456789",
    "--address": "12 rue de la Paix",
    "--city": "Paris",
    "--postal-code": "75002",
    "--country": "France",
    "--registration-number": "123456789",
    "--tax-number": "FR12345678901",
    "--contact-person": "Jeanne Martin",
}
# Each refused as the API refuses its field.
BAD_OPTIONS = [
    ("--email", "not-an-email", "must be an email address"),
    ("--phone", "0612345678", "must be an E.164 phone number"),
    ("--postal-code", "7" * 21, "must be at most 20 characters"),
    ("--city", "x" * 101, "must be at most 100 characters"),
    ("--contact-person", "x" * 201, "must be at most 200 characters"),
]
# GET /creditors's fields, in its order.
FIELDS = [
    "id",
    "name",
    "email",
    "phone",
    "address",
    "city",
    "postalCode",
    "country",
    "registrationNumber",
    "taxNumber",
    "contactPerson",
    "createdAt",
    "updatedAt",
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Home]:
    path = tmp_path_factory.mktemp("creditors")
    if request.param == "sqlite":
        yield _migrated(Home(path, {}))
        return
    with scratch_database("relance_creditors_cli") as url:
        yield _migrated(Home(path, {"RELANCE_DATABASE_URL": url}))


def _migrated(home: Home) -> Home:
    upgraded = relance("db", "upgrade", data_dir=home.path, env=home.env)
    assert upgraded.returncode == 0, report(upgraded)
    return home


@pytest.fixture
def company(deployment: Home) -> str:
    """A company of this test's own."""
    return str(deployment.json("create", f"Agency {secrets.token_hex(4)}")["id"])


def creditors(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    return relance("creditors", *args, data_dir=home.path, env=home.env)


def made(home: Home, company: str, name: str, *options: str) -> dict[str, Any]:
    found: dict[str, Any] = ok_json(
        creditors(home, "create", "--company", company, name, *options, "--json")
    )
    return found


def listed(home: Home, company: str) -> Any:
    return ok_json(creditors(home, "list", "--company", company, "--json"))


class TestCreate:
    def test_every_field_is_set_as_the_api_shows_it(self, deployment: Home, company: str) -> None:
        options = [part for pair in EVERY_OPTION.items() for part in pair]

        creditor = made(deployment, company, " Durand SARL ", *options)

        assert list(creditor) == FIELDS
        assert PUBLIC_ID.fullmatch(creditor["id"]), creditor
        assert creditor["name"] == "Durand SARL"
        assert [creditor[field] for field in FIELDS[2:11]] == list(EVERY_OPTION.values())
        assert SPACED.fullmatch(creditor["createdAt"]), creditor
        assert creditor["updatedAt"] == creditor["createdAt"]
        assert listed(deployment, company) == [creditor]

    def test_without_options_only_the_name_is_set(self, deployment: Home, company: str) -> None:
        creditor = made(deployment, company, "Durand SARL")

        assert [creditor[field] for field in FIELDS[2:11]] == [None] * 9

    def test_a_taken_name_is_refused_naming_its_holder(
        self, deployment: Home, company: str
    ) -> None:
        holder = made(deployment, company, "Durand SARL")

        for taken in ("Durand SARL", "  durand   sarl ", "DURAND SARL"):
            message = refused(creditors(deployment, "create", "--company", company, taken))

            assert f"is already the name of creditor {holder['id']}" in message, message
        assert listed(deployment, company) == [holder]

    def test_another_company_may_have_the_same_name(self, deployment: Home, company: str) -> None:
        other = str(deployment.json("create", f"Agency {secrets.token_hex(4)}")["id"])
        mine = made(deployment, company, "Durand SARL")

        theirs = made(deployment, other, "Durand SARL")

        assert theirs["id"] != mine["id"]
        assert listed(deployment, company) == [mine]
        assert listed(deployment, other) == [theirs]

    def test_every_problem_is_named_at_once(self, deployment: Home, company: str) -> None:
        args = [part for pair in BAD_OPTIONS for part in pair[:2]]

        message = refused(creditors(deployment, "create", "--company", company, "  ", *args))

        assert "the name must not be blank" in message, message
        for option, _, problem in BAD_OPTIONS:
            assert f"{option} {problem}" in message, message
        assert "the name must be at most 200 characters" in flat(
            refused(creditors(deployment, "create", "--company", company, "x" * 201))
        )
        assert listed(deployment, company) == []


class TestList:
    def test_by_name_as_json(self, deployment: Home, company: str) -> None:
        assert listed(deployment, company) == []
        durand = made(deployment, company, "Durand SARL")
        bernard = made(deployment, company, "Bernard & Fils", "--city", "Lyon")

        assert listed(deployment, company) == [bernard, durand]

    def test_a_table_shows_each_id_whole(self, deployment: Home, company: str) -> None:
        durand = made(deployment, company, "Durand", "--email", "contact@durand.fr")
        made(deployment, company, "Bernard")

        shown = creditors(deployment, "list", "--company", company)

        assert shown.returncode == 0, report(shown)
        line = next(line for line in shown.stdout.splitlines() if durand["id"] in line)
        assert "Durand" in line, shown.stdout
        assert "contact@durand.fr" in line, shown.stdout
        assert "2 creditors" in shown.stdout


class TestCompany:
    @pytest.mark.parametrize("command", ["create", "list"])
    @pytest.mark.parametrize("wrong", ["not a company id", "0" * 22])
    def test_a_malformed_id_is_refused(self, deployment: Home, command: str, wrong: str) -> None:
        name = ("Durand",) if command == "create" else ()

        message = refused(creditors(deployment, command, "--company", wrong, *name))

        assert "is not a company ID" in message, message

    def test_a_company_that_is_gone_is_refused(self, deployment: Home) -> None:
        name = f"Gone {secrets.token_hex(4)}"
        gone = str(deployment.json("create", name)["id"])
        delete_rows(deployment, f"DELETE FROM companies WHERE name = '{name}'")

        for args in (("create", "--company", gone, "Durand"), ("list", "--company", gone)):
            message = refused(creditors(deployment, *args))

            assert f"no company with ID {gone}" in message, message
