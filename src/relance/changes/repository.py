"""The statements of the change sequence (models/change.py): a write's changes numbered and
recorded, last in its transaction; the feed's page; a company's position in its sequence; the
tombstone purge.

The number is taken from the company's counter row, which the write then holds locked until it
commits: a second writer of the company waits for that commit before it takes the next number,
so the numbers follow the commit order and every snapshot sees a prefix of them. Taken last,
the lock is held for no longer than the commit itself."""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relance.db import Connection
from relance.db.statements import placeholders, rows_changed
from relance.kit.watch import Watch

# Each followup once, keyed by its ID: a changed followup's earlier row moves to its new number.
_UPSERT = (
    " ON CONFLICT (followup_id) DO UPDATE SET company_id = excluded.company_id,"
    " seq = excluded.seq, debt_id = excluded.debt_id, deleted = excluded.deleted,"
    " changed_us = excluded.changed_us"
)
_TAKE = (
    "INSERT INTO change_sequences AS c (company_id, last_seq, horizon_seq) VALUES ($1, $2, 0)"
    " ON CONFLICT (company_id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq"
    " RETURNING last_seq"
)
_COLUMNS = "company_id, seq, followup_id, debt_id, deleted, changed_us"
_PG_RECORD = (
    f"WITH s AS ({_TAKE}) INSERT INTO followup_changes AS f ({_COLUMNS})"
    " SELECT $1, s.last_seq - $2 + x.n, x.f, x.d, $5, $6"
    " FROM s, unnest($3::bigint[], $4::bigint[]) WITH ORDINALITY AS x(f, d, n)" + _UPSERT
)
_SQLITE_RECORD = f"INSERT INTO followup_changes ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"


async def record(
    conn: Connection,
    company_id: int,
    changed: Sequence[tuple[int, int]],
    changed_us: int,
    *,
    deleted: bool = False,
) -> None:
    """Number the changes of these followups (key, debt key) as the company's next ones, each
    once: upserted, or deleted (a tombstone). Call it last in the transaction (see above)."""
    pairs = list(dict(changed).items())
    if not pairs:
        return
    if conn.dialect == "postgresql":
        followups, debts = zip(*pairs, strict=True)
        await conn.execute(
            _PG_RECORD, company_id, len(pairs), list(followups), list(debts), deleted, changed_us
        )
        return
    last = int(await conn.fetchval(_TAKE, company_id, len(pairs)))
    first = last - len(pairs) + 1
    rows = [
        (company_id, first + n, followup_id, debt_id, deleted, changed_us)
        for n, (followup_id, debt_id) in enumerate(pairs)
    ]
    await conn.executemany(_SQLITE_RECORD + _UPSERT, rows)


async def record_all(conn: Connection, company_id: int, changed_us: int) -> None:
    """Number every followup of the company as changed (a book loaded whole, as the demo's)."""
    rows = await conn.fetch(
        "SELECT id, debt_id FROM followups WHERE company_id = $1 ORDER BY id", company_id
    )
    await record(conn, company_id, [(int(row[0]), int(row[1])) for row in rows], changed_us)


async def rebuild(conn: Connection, changed_us: int) -> None:
    """Number every followup anew, each company's from 1 in the order of their keys (a book
    loaded in bulk, as the benchmarks load theirs)."""
    await conn.execute("DELETE FROM followup_changes")
    await conn.execute("DELETE FROM change_sequences")
    await conn.execute(
        f"INSERT INTO followup_changes ({_COLUMNS}) SELECT company_id,"
        " row_number() OVER (PARTITION BY company_id ORDER BY id), id, debt_id, FALSE, $1"
        " FROM followups",
        changed_us,
    )
    await conn.execute(
        "INSERT INTO change_sequences (company_id, last_seq, horizon_seq)"
        " SELECT company_id, count(*), 0 FROM followups GROUP BY company_id"
    )


@dataclass(frozen=True, slots=True)
class Position:
    """Where a company's sequence stands: its last number, and the horizon below which a
    deletion may have been forgotten."""

    last_seq: int
    horizon_seq: int


async def position(conn: Connection, company_id: int) -> Position:
    row = await conn.fetchrow(
        "SELECT last_seq, horizon_seq FROM change_sequences WHERE company_id = $1", company_id
    )
    return Position(0, 0) if row is None else Position(int(row[0]), int(row[1]))


async def last_numbers(conn: Connection, company_ids: Sequence[int]) -> dict[int, int]:
    """The last number of each of these companies' sequences (those with one)."""
    rows = await conn.fetch(
        "SELECT company_id, last_seq FROM change_sequences"
        f" WHERE company_id IN ({placeholders(1, len(company_ids))})",
        *company_ids,
    )
    return {int(row[0]): int(row[1]) for row in rows}


def change_watch(db: Connection, interval: float) -> Watch:
    """A watch on the companies' last numbers, read from `db` every `interval` seconds while
    a request waits for one to move."""
    return Watch(lambda company_ids: last_numbers(db, company_ids), interval)


async def purge_tombstones(conn: Connection, company_id: int, before_us: int, limit: int) -> int:
    """Forget up to `limit` of the company's oldest tombstones older than `before_us`, and move
    its horizon past them: a cursor older than that may have missed a deletion. How many
    went."""
    oldest = (
        "SELECT seq FROM followup_changes WHERE company_id = $1 AND deleted AND changed_us < $2"
        f" ORDER BY changed_us LIMIT {int(limit)}"
    )
    horizon = await conn.fetchval(f"SELECT max(seq) FROM ({oldest}) AS o", company_id, before_us)
    if horizon is None:
        return 0
    await conn.execute(
        "UPDATE change_sequences SET horizon_seq = $2 WHERE company_id = $1 AND horizon_seq < $2",
        company_id,
        int(horizon),
    )
    return rows_changed(
        await conn.execute(
            "DELETE FROM followup_changes WHERE company_id = $1 AND deleted AND changed_us < $2"
            " AND seq <= $3",
            company_id,
            before_us,
            int(horizon),
        )
    )
