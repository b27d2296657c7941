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
from relance.kit.rows import MAX_ROW_BYTES, TOO_LONG
from tests.commands import ok_json, relance, report
from tests.postgres import scratch_database

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Home = tuple[Path, dict[str, str]]


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Home]:
    if request.param == "sqlite":
        upgraded = relance("db", "upgrade", data_dir=tmp_path)
        assert upgraded.returncode == 0, report(upgraded)
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
    assert query(books, "SELECT count(*) FROM events WHERE type LIKE 'followup.%'") == [(0,)]


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


def test_rows_that_cannot_be_read_fail_alone_after_committed_batches(
    books: Book, tmp_path: Path
) -> None:
    """One row per batch, so that the good rows before each bad one are already committed: a
    moment with no UTC form, years 0 and 10000, a bare CR and a quote never closed are bad rows
    named by their line, not a traceback that stops the import half-way."""
    header = (EXAMPLES / "followups.csv").read_text().splitlines()[0]
    rows = [
        "FU-1,INV-2024-001,email,delivered,2024-02-02T09:00:00Z,,,,,,false",
        "FU-2,INV-2024-001,email,delivered,9999-12-31T23:00:00-05:00,,,,,,false",
        "FU-3,INV-2024-001,email,delivered,0001-01-01T00:30:00+01:00,,,,,,false",
        "FU-4,INV-2024-001,email,delivered,10000-01-01T00:00:00Z,,,,,,false",
        "FU-5,INV-2024-001,email,delivered,0000-01-01T00:00:00Z,,,,,,false",
        "FU-6,INV-2024-002,sms,sent,,,,,,a bare\rCR,false",
        'FU-7,INV-2024-002,sms,sent,,,,,,"quoted"then text,false',
        'FU-8,INV-2024-002,sms,sent,,,,,,"a quoted\nline break",false',
        'FU-9,INV-2024-003,sms,sent,,,,,,"never closed,false',
        "FU-10,INV-2024-003,sms,sent,,,,,,swallowed by the quote,false",
    ]
    file = tmp_path / "odd.csv"
    file.write_bytes(("\n".join([header, *rows]) + "\n").encode())

    result = imported(books, "followups", file, "--batch-size", "1")

    assert result.returncode == 1, report(result)
    assert "Traceback" not in result.stderr
    summary = summary_of(result)
    by_line = {error["line"]: error["errors"] for error in summary["errors"]}
    utc_range = ["must fall within years 1 to 9999 once converted to UTC"]
    assert by_line[3] == by_line[4] == {"scheduled_at": utc_range}
    assert list(by_line[5]) == list(by_line[6]) == ["scheduled_at"]
    assert by_line[7] == {"row": [CR_OUTSIDE_QUOTES]}
    assert by_line[8] == {"row": [TEXT_AFTER_QUOTE]}
    # The quoted line break makes FU-8 two lines: FU-9 starts on line 11.
    assert by_line[11] == {"row": ['has a quote (") that is never closed']}
    assert (summary["created"], summary["failed"]) == (2, 7)
    imported_ids = query(books, "SELECT external_id FROM followups ORDER BY external_id")
    assert imported_ids == [("FU-1",), ("FU-8",)]
    assert_derived_fields_exact(books)


CR_OUTSIDE_QUOTES = (
    "has a carriage return (CR) outside quotes: quote the cell, or end lines with LF"
)
TEXT_AFTER_QUOTE = 'has text after a quoted cell\'s closing quote: write "" for a quote inside it'


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_row_longer_than_the_limit_is_a_bad_row_and_the_next_is_read(
    books: Book, tmp_path: Path, suffix: str
) -> None:
    csv_row = "FU-{n},INV-2024-001,sms,sent,,,,,,{summary},false"
    jsonl_row = '{{"external_id": "FU-{n}", "debt_internal_id": "INV-2024-001", "type": "sms"}}'
    if suffix == "csv":
        header = (EXAMPLES / "followups.csv").read_text().splitlines()[0]
        too_long = csv_row.format(n=2, summary="y" * MAX_ROW_BYTES)
        lines = [header, csv_row.format(n=1, summary=""), too_long, csv_row.format(n=3, summary="")]
    else:
        too_long = jsonl_row.format(n=2) + " " * MAX_ROW_BYTES
        lines = [jsonl_row.format(n=1), too_long, jsonl_row.format(n=3)]
    file = tmp_path / f"long.{suffix}"
    file.write_text("\n".join(lines) + "\n")

    summary = summary_of(imported(books, "followups", file))

    first = 2 if suffix == "csv" else 1
    assert summary["errors"] == [{"line": first + 1, "errors": {"row": [TOO_LONG]}}]
    assert (summary["created"], summary["failed"]) == (2, 1)
    assert query(books, "SELECT external_id FROM followups ORDER BY external_id") == [
        ("FU-1",),
        ("FU-3",),
    ]


def test_metadata_is_kept_exactly_or_refused(books: Book, tmp_path: Path) -> None:
    """A CSV cell's big integer stays an integer, and a number that would come back changed
    (a float for an integer beyond 64 bits, Infinity for 1e400, null for NaN) is refused; so
    is a JSON Line's NaN, and its integer beyond 64 bits fails that row alone."""
    debt = "CRM-{n},Camille,Durand,Mme,,camille@example.fr,10.00,EUR,{meta}"
    cells = [
        '"{""big"": 18446744073709551615, ""small"": -9223372036854775808, ""x"": 0.1}"',
        '"{""n"": 18446744073709551616}"',
        '"{""n"": NaN}"',
        '"{""n"": 1e400}"',
        '"{""n"": 0.1000000000000000000001}"',
        '"{""n"": ""\\u0000""}"',
        '"' + "[" * 5000 + "]" * 5000 + '"',
    ]
    file = tmp_path / "debts.csv"
    rows = [debt.format(n=n, meta=meta) for n, meta in enumerate(cells)]
    header = "external_id,firstname,lastname,civility,phone,email,amount,currency,metadata"
    file.write_text("\n".join([header, *rows]) + "\n")

    summary = summary_of(imported(books, "debts", file))

    assert (summary["created"], summary["failed"]) == (1, 6), summary
    failed = {error["line"]: list(error["errors"]) for error in summary["errors"]}
    assert failed == {line: ["metadata"] for line in range(3, 9)}
    [(stored,)] = query(books, "SELECT metadata_json FROM debts WHERE external_id = 'CRM-0'")
    assert json.loads(stored) == {"big": 2**64 - 1, "small": -(2**63), "x": 0.1}

    lines = tmp_path / "debts.jsonl"
    body = '{"external_id": "J-%d", "firstname": "A", "lastname": "B", "email": "a@b.fr",'
    body += ' "amount": "5", "currency": "EUR", "metadata": {"n": %s}}'
    values = ["1", "NaN", "Infinity", "18446744073709551616", "2"]
    lines.write_text("\n".join(body % (n, value) for n, value in enumerate(values)) + "\n")

    summary = summary_of(imported(books, "debts", lines, "--batch-size", "1"))

    assert (summary["created"], summary["failed"]) == (2, 3), summary
    assert [error["line"] for error in summary["errors"]] == [2, 3, 4]
    assert query(
        books, "SELECT external_id FROM debts WHERE external_id LIKE 'J-%' ORDER BY 1"
    ) == [
        ("J-0",),
        ("J-4",),
    ]


def event_types(book: Book) -> list[str]:
    return [row[0] for row in query(book, "SELECT type FROM events ORDER BY id")]


def test_an_import_records_the_events_of_what_it_changed(books: Book, tmp_path: Path) -> None:
    assert event_types(books) == ["debt.created"] * 3
    ok_json(imported(books, "followups", EXAMPLES / "followups.csv"))
    first = event_types(books)[3:]
    assert sorted(first) == sorted(["followup.created"] * 5 + ["followup.completed"] * 3)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        (EXAMPLES / "followups.csv")
        .read_text()
        .replace(
            "FU-5,INV-2024-003,postmail,scheduled,2024-03-01",
            "FU-5,INV-2024-003,postmail,delivered,2024-03-01",
        )
        + "FU-6,INV-2024-003,email,on_hold,,,,,,Drafted,false\n"
    )
    ok_json(imported(books, "followups", changed))
    ok_json(imported(books, "debts", EXAMPLES / "debts.csv"))
    # Rows imported again as they were change nothing shown: they record nothing.
    again = event_types(books)[11:]
    assert sorted(again) == ["followup.completed", "followup.created", "followup.updated"]
    (changes,) = query(books, "SELECT changes FROM events WHERE type = 'followup.updated'")
    assert json.loads(changes[0])["status"] == {"previous": "scheduled", "new": "delivered"}


def test_an_internal_id_another_debt_carries_fails_its_row(books: Book, tmp_path: Path) -> None:
    """internal_id names one debt of a company: a row that gives another debt's (one already
    there, or an earlier row's) fails alone; the debt a row's external_id updates keeps its
    own."""
    lines = (EXAMPLES / "debts.csv").read_text().splitlines()
    header, first = lines[0], lines[1]
    columns = header.split(",")
    taken = first.split(",")[columns.index("internal_id")]
    holder = query(books, f"SELECT id FROM debts WHERE internal_id = '{taken}'")[0][0]

    def row(external_id: str, internal_id: str) -> str:
        cells = first.split(",")
        cells[columns.index("external_id")] = external_id
        cells[columns.index("internal_id")] = internal_id
        return ",".join(cells)

    again = tmp_path / "again.csv"
    again.write_text(
        "\n".join([header, first, row("NEW-1", taken), row("NEW-2", "X-1"), row("NEW-3", "X-1")])
        + "\n"
    )
    result = imported(books, "debts", again)

    assert result.returncode == 1, report(result)
    summary = summary_of(result)
    assert (summary["created"], summary["updated"], summary["failed"]) == (1, 1, 2)
    problems = {error["line"]: error["errors"] for error in summary["errors"]}
    assert list(problems) == [3, 5]
    assert problems[3]["internal_id"][0].startswith("is already the internal_id of debt ")
    assert problems[5] == {"internal_id": ["is already the internal_id of the row on line 4"]}
    assert query(books, f"SELECT id FROM debts WHERE internal_id = '{taken}'") == [(holder,)]
    assert query(books, "SELECT count(*) FROM debts") == [(4,)]
