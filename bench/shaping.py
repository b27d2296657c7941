"""What shaping a page of 50 followups costs, from SQLite's rows and from asyncpg's: the reader
Relance uses (`followups.schemas.followup_views`) against the ways a row could be read.

    python bench/shaping.py [--postgres-url URL]

Rows come from bench/generate.py's book, stored in an in-memory SQLite table and in a temporary
PostgreSQL table of the same columns, and read back by the statement's own column list. Each
candidate is checked to give the same views, then timed (the best of 9 runs of 2,000 pages).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sqlite3
import sys
import timeit
from collections import namedtuple
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine.interfaces import Dialect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import FOLLOWUP_COLUMNS, Book, followup_rows
from relance.followups.records import BOOLEANS, FOLLOWUP_FIELDS, TIMESTAMPS
from relance.followups.repository.reads import _PG_ISO
from relance.followups.schemas import FollowupView, IdEncoder, followup_views
from relance.kit.ids import IdCodec
from relance.media.links import MediaLinks
from relance.media.stores import LocalStore
from relance.models.followup import Followup
from relance.resources import Resource

Rows = Sequence[Any]
Shaper = Callable[[Rows, IdEncoder, IdEncoder, MediaLinks], list[FollowupView]]
ROWS = list(itertools.islice(followup_rows(Book.plan(100_000), 7), 5_000, 5_050))
_AS_TUPLE = namedtuple("_AS_TUPLE", FOLLOWUP_FIELDS)  # type: ignore[misc]
_AS_STRUCT = msgspec.defstruct(
    "_AS_STRUCT",
    [(name, bool if name in BOOLEANS else Any) for name in FOLLOWUP_FIELDS],
    array_like=True,
)


def literal_positions(rows: Rows, fid: IdEncoder, did: IdEncoder, media: MediaLinks) -> Any:
    """followup_view before the records: each field at a position written by hand."""
    views = []
    for row in rows:
        audio_url, pdf_url, expire = row[9], row[10], None
        if audio_url is not None or pdf_url is not None:
            audio_url, pdf_url, expire = media.shown(audio_url, pdf_url)
        views.append(
            FollowupView(
                fid(row[0]),
                did(row[1]),
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                audio_url,
                pdf_url,
                row[11],
                row[12],
                row[13],
                row[14],
                bool(row[15]),
                row[16],
                bool(row[17]),
                bool(row[18]),
                row[19],
                row[20],
                bool(row[21]),
                row[22],
                expire,
            )
        )
    return views


def _from_attributes(r: Any, fid: IdEncoder, did: IdEncoder, media: MediaLinks) -> FollowupView:
    audio_url, pdf_url, expire = r.audio_url, r.pdf_url, None
    if audio_url is not None or pdf_url is not None:
        audio_url, pdf_url, expire = media.shown(audio_url, pdf_url)
    return FollowupView(
        fid(r.id),
        did(r.debt_id),
        r.status,
        r.type,
        r.call_date,
        r.scheduled_at,
        r.summary,
        r.notes,
        r.call_id,
        audio_url,
        pdf_url,
        r.duration_ms,
        r.disconnection_reason,
        r.direction,
        r.phone_number_used,
        bool(r.is_retry),
        r.processed_at,
        bool(r.triggered_payment),
        bool(r.email_opened),
        r.email_open_count,
        r.email_first_opened_at,
        bool(r.email_clicked),
        r.email_click_count,
        expire,
    )


def named_tuple(rows: Rows, fid: IdEncoder, did: IdEncoder, media: MediaLinks) -> Any:
    """Each row made a typed NamedTuple, then read by attribute."""
    return [_from_attributes(_AS_TUPLE._make(row), fid, did, media) for row in rows]


def struct_convert(rows: Rows, fid: IdEncoder, did: IdEncoder, media: MediaLinks) -> Any:
    """The page converted by msgspec into array-like structs in one call, then by attribute."""
    tuples = [tuple(row) for row in rows] if not isinstance(rows[0], tuple) else rows
    structs = msgspec.convert(tuples, list[_AS_STRUCT], strict=False)  # type: ignore[valid-type]
    return [_from_attributes(r, fid, did, media) for r in structs]


def dict_per_row(rows: Rows, fid: IdEncoder, did: IdEncoder, media: MediaLinks) -> Any:
    """Each row made a dict of its fields, the view built from it by keyword."""
    views = []
    for row in rows:
        shown = dict(zip(FOLLOWUP_FIELDS, row, strict=True))
        shown["id"], shown["debt_id"] = fid(shown["id"]), did(shown["debt_id"])
        for name in BOOLEANS:
            shown[name] = bool(shown[name])
        views.append(FollowupView(**shown, media_urls_expire_at=None))
    return views


def by_name(rows: Rows, fid: IdEncoder, did: IdEncoder, media: MediaLinks) -> Any:
    """Each field read by its name (asyncpg's Record; sqlite3.Row would need a row factory)."""
    views = []
    for r in rows:
        audio_url, pdf_url, expire = r["audio_url"], r["pdf_url"], None
        if audio_url is not None or pdf_url is not None:
            audio_url, pdf_url, expire = media.shown(audio_url, pdf_url)
        views.append(
            FollowupView(
                fid(r["id"]),
                did(r["debt_id"]),
                r["status"],
                r["type"],
                r["call_date"],
                r["scheduled_at"],
                r["summary"],
                r["notes"],
                r["call_id"],
                audio_url,
                pdf_url,
                r["duration_ms"],
                r["disconnection_reason"],
                r["direction"],
                r["phone_number_used"],
                bool(r["is_retry"]),
                r["processed_at"],
                bool(r["triggered_payment"]),
                bool(r["email_opened"]),
                r["email_open_count"],
                r["email_first_opened_at"],
                bool(r["email_clicked"]),
                r["email_click_count"],
                expire,
            )
        )
    return views


CANDIDATES: dict[str, Shaper] = {
    "positions written by hand (before)": literal_positions,
    "reader, positions found by name (now)": followup_views,
    "NamedTuple per row": named_tuple,
    "msgspec.convert of the page": struct_convert,
    "dict per row": dict_per_row,
}


def _table(dialect: Dialect, temporary: str) -> str:
    table = Followup.__table__
    columns = [column for column in table.columns if column.name in FOLLOWUP_COLUMNS]
    typed = ", ".join(f"{column.name} {column.type.compile(dialect=dialect)}" for column in columns)
    return f"CREATE {temporary} TABLE followups ({typed})"


def sqlite_rows() -> Rows:
    conn = sqlite3.connect(":memory:")
    conn.execute(_table(sqlite_dialect.dialect(), ""))
    stored = [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in r) for r in ROWS]
    names, marks = ", ".join(FOLLOWUP_COLUMNS), ", ".join("?" for _ in FOLLOWUP_COLUMNS)
    conn.executemany(f"INSERT INTO followups ({names}) VALUES ({marks})", stored)
    return conn.execute(f"SELECT {', '.join(FOLLOWUP_FIELDS)} FROM followups").fetchall()


async def postgresql_rows(url: str) -> Rows:
    conn = await asyncpg.connect(url)
    try:
        dialect = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
        await conn.execute(_table(dialect, "TEMPORARY"))
        await conn.copy_records_to_table(
            "followups", records=ROWS, columns=FOLLOWUP_COLUMNS, schema_name="pg_temp"
        )
        columns = ", ".join(_PG_ISO.format(n) if n in TIMESTAMPS else n for n in FOLLOWUP_FIELDS)
        return list(await conn.fetch(f"SELECT {columns} FROM pg_temp.followups"))
    finally:
        await conn.close()


def measure(source: str, rows: Rows, candidates: dict[str, Shaper]) -> list[str]:
    codec = IdCodec(bytes(32), Resource)
    fid, did = codec.encoder(Resource.FOLLOWUP), codec.encoder(Resource.DEBT)
    media = MediaLinks(LocalStore(Path("/nonexistent"), bytes(32)), "http://bench/", 3600, 0.0)
    expected = followup_views(rows, fid, did, media)
    lines = []
    for name, shape in candidates.items():
        assert shape(rows, fid, did, media) == expected, name
        runs = timeit.repeat(partial(shape, rows, fid, did, media), number=2_000, repeat=9)
        lines.append(f"| {source} | {name} | {min(runs) / 2_000 * 1e6:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    lines = ["| rows from | shaped by | µs a page of 50 |", "|---|---|---|"]
    lines += measure("sqlite3", sqlite_rows(), CANDIDATES)
    named = {**CANDIDATES, "each field by name": by_name}
    lines += measure("asyncpg", asyncio.run(postgresql_rows(args.postgres_url)), named)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
