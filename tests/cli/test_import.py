"""`relance import debts|followups`, run as a real subprocess on SQLite and on PostgreSQL: good
rows kept and bad ones named by line, --strict writing nothing, a second import updating by
external ID, and the counts and debts' tallies exact afterwards."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from relance.config import Settings
from relance.db import connect
from tests.commands import ok_json, relance, report
from tests.postgres import scratch_database

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Home = tuple[Path, dict[str, str]]


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Home]:
    if request.param == "sqlite":
        yield tmp_path, {}
        return
    with scratch_database("relance_import") as url:
        env = {"RELANCE_DATABASE_URL": url}
        upgraded = relance("db", "upgrade", data_dir=tmp_path, env=env)
        assert upgraded.returncode == 0, report(upgraded)
        yield tmp_path, env


@dataclass(frozen=True)
class Book:
    """A data dir (and database), with a company of its own."""

    home: Home
    company: str


def run(home: Home, *args: str) -> Any:
    data_dir, env = home
    return relance(*args, data_dir=data_dir, env=env)


def new_book(home: Home) -> Book:
    made: dict[str, str] = ok_json(run(home, "companies", "create", "Importer", "--json"))
    return Book(home, made["id"])


def imported(book: Book, kind: str, file: Path, *extra: str) -> Any:
    return run(book.home, "import", kind, str(file), "--company", book.company, *extra, "--json")


def summary_of(result: Any) -> Any:
    """The --json summary, whatever the exit code (1 when some row was bad)."""
    return json.loads(result.stdout)


@pytest.fixture
def books(home: Home) -> Book:
    """A company holding the example debts."""
    book = new_book(home)
    result = imported(book, "debts", EXAMPLES / "debts.csv")
    assert ok_json(result) == {
        "created": 3,
        "updated": 0,
        "failed": 0,
        "errors": [],
        "rolled_back": False,
    }
    return book


def query(book: Book, sql: str) -> list[tuple[Any, ...]]:
    data_dir, env = book.home
    settings = Settings(data_dir=data_dir, database_url=env.get("RELANCE_DATABASE_URL"))

    async def fetch() -> list[tuple[Any, ...]]:
        db = await connect(settings.database, 1)
        try:
            return [tuple(row) for row in await db.fetch(sql)]
        finally:
            await db.close()

    return asyncio.run(fetch())


COUNT_TABLES = {
    "followup_totals": "company_id, status, type, n",
    "followup_day_counts": "company_id, status, type, day, n",
    "followup_month_counts": "company_id, status, type, month, n",
}


def counts_of(book: Book) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: query(book, f"SELECT {columns} FROM {table} WHERE n <> 0 ORDER BY {columns}")
        for table, columns in COUNT_TABLES.items()
    }


def assert_derived_fields_exact(book: Book) -> None:
    """Every count (total, day, month) equals a recount from the followups; each debt's
    tallies equal its followups'."""
    counts = counts_of(book)
    recount = run(book.home, "db", "recount")
    assert recount.returncode == 0, report(recount)
    assert counts == counts_of(book)
    totals = query(
        book,
        "SELECT status, type, n FROM followup_totals WHERE n <> 0 AND status <> '*'"
        " AND type <> '*' ORDER BY 1, 2",
    )
    counted = query(
        book, "SELECT status, type, count(*) FROM followups GROUP BY status, type ORDER BY 1, 2"
    )
    assert totals == counted
    tallies = query(
        book,
        "SELECT d.id, d.followups_count, d.nb_reminders, d.nb_answered,"
        " (SELECT count(*) FROM followups f WHERE f.debt_id = d.id),"
        " (SELECT count(*) FROM followups f WHERE f.debt_id = d.id AND f.status IN"
        " ('sent','delivered','deal_found','no_answer','deal_not_found','bad_behavior','failed')),"
        " (SELECT count(*) FROM followups f WHERE f.debt_id = d.id AND f.status IN"
        " ('deal_found','deal_not_found','bad_behavior')) FROM debts d",
    )
    for debt_id, *kept, count, reminded, answered in tallies:
        assert tuple(kept) == (count, reminded, answered), debt_id


def test_importing_twice_updates_instead_of_duplicating(books: Book, tmp_path: Path) -> None:
    first = ok_json(imported(books, "followups", EXAMPLES / "followups.csv"))
    assert (first["created"], first["updated"], first["failed"]) == (5, 0, 0)
    changed = tmp_path / "changed.csv"
    text = (EXAMPLES / "followups.csv").read_text()
    # FU-5 changes status and day; FU-6, new, has no date (its activity is the import's moment).
    changed.write_text(
        text.replace(
            "FU-5,INV-2024-003,postmail,scheduled,2024-03-01",
            "FU-5,INV-2024-003,postmail,delivered,2024-04-02",
        )
        + "FU-6,INV-2024-003,email,on_hold,,,,,,Drafted,false\n"
    )

    again = ok_json(imported(books, "followups", changed))
    debts_again = ok_json(imported(books, "debts", EXAMPLES / "debts.csv"))

    assert (again["created"], again["updated"]) == (1, 5)
    assert (debts_again["created"], debts_again["updated"]) == (0, 3)
    assert query(books, "SELECT count(*) FROM followups") == [(6,)]
    assert query(books, "SELECT count(*) FROM debts") == [(3,)]
    assert query(books, "SELECT status FROM followups WHERE external_id = 'FU-5'") == [
        ("delivered",)
    ]
    assert_derived_fields_exact(books)


def test_bad_rows_in_the_middle_are_named_and_the_good_ones_kept(
    books: Book, tmp_path: Path
) -> None:
    lines = (EXAMPLES / "followups.csv").read_text().splitlines()
    bad = [
        "FU-8,INV-2024-001,fax,delivered,,,,,,,false",
        "FU-9,NO-SUCH-DEBT,sms,sent,,,,,,,false",
        "FU-10,INV-2024-002,call,no_answer,,2024-02-05T10:00:40,,,,,false",
        "FU-11,INV-2024-002,call,no_answer,,,-4,,,,false",
        "FU-12,INV-2024-002,call",
    ]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("\n".join([lines[0], lines[1], *bad, *lines[2:]]) + "\n")

    result = imported(books, "followups", mixed)

    assert result.returncode == 1, report(result)
    summary = summary_of(result)
    assert (summary["created"], summary["failed"]) == (5, 5)
    by_line = {error["line"]: error["errors"] for error in summary["errors"]}
    assert list(by_line) == [3, 4, 5, 6, 7]
    assert list(by_line[3]) == ["type"]
    assert by_line[4] == {"debt_internal_id": ["Debt not found"]}
    assert list(by_line[5]) == ["call_date"]
    assert by_line[6] == {"duration_ms": ["must be at least 0"]}
    assert list(by_line[7]) == ["row"]
    assert query(books, "SELECT count(*) FROM followups") == [(5,)]
    assert_derived_fields_exact(books)


def test_strict_writes_nothing_when_a_row_is_bad(books: Book, tmp_path: Path) -> None:
    text = (EXAMPLES / "followups.csv").read_text()
    broken = tmp_path / "broken.csv"
    broken.write_text(text + "FU-99,INV-2024-001,call,teleported,,,,,,,false\n")

    result = imported(books, "followups", broken, "--strict")

    assert result.returncode == 1, report(result)
    summary = summary_of(result)
    assert summary["rolled_back"] is True
    assert (summary["created"], summary["failed"]) == (0, 1)
    assert summary["errors"][0]["line"] == 7
    assert query(books, "SELECT count(*) FROM followups") == [(0,)]
    assert query(books, "SELECT count(*) FROM followup_totals WHERE n <> 0") == [(0,)]


def test_json_lines_are_checked_as_the_api_checks_bodies(books: Book, tmp_path: Path) -> None:
    good = (EXAMPLES / "followups.jsonl").read_text().splitlines()
    file = tmp_path / "rows.jsonl"
    file.write_text(
        "\n".join(
            [
                good[0],
                "not json at all",
                '{"debt_internal_id": "INV-2024-001", "type": "sms", "colour": "red"}',
                '{"debt_internal_id": "INV-2024-001", "type": "sms", "duration_ms": "12"}',
                good[1],
            ]
        )
        + "\n"
    )

    summary = summary_of(imported(books, "followups", file))

    assert (summary["created"], summary["failed"]) == (2, 3)
    by_line = {error["line"]: error["errors"] for error in summary["errors"]}
    assert by_line[2] == {"body": ["is not valid JSON"]}
    assert by_line[3] == {"colour": ["is not a field of this request"]}
    assert by_line[4] == {"duration_ms": ["must be an integer"]}


def test_an_unknown_column_stops_the_import_before_any_row(books: Book, tmp_path: Path) -> None:
    file = tmp_path / "odd.csv"
    file.write_text("debt_internal_id,type,colour\nINV-2024-001,sms,red\n")

    result = run(books.home, "import", "followups", str(file), "--company", books.company)

    assert result.returncode == 2, report(result)
    assert "colour" in result.stderr
    assert query(books, "SELECT count(*) FROM followups") == [(0,)]


def test_the_file_format_must_be_known(home: Home, tmp_path: Path) -> None:
    file = tmp_path / "rows.txt"
    shutil.copy(EXAMPLES / "followups.csv", file)
    book = new_book(home)

    result = run(home, "import", "followups", str(file), "--company", book.company)

    assert result.returncode == 2, report(result)
    assert "--format" in result.stderr
