"""The tables of a SQL mirror, the same on SQLite and PostgreSQL but for their types:

- `followups`: the followup's 24 fields, `id` the primary key, `debt_id` indexed; moments are
  `timestamptz` on PostgreSQL and ISO 8601 text in UTC on SQLite (`2024-01-22T10:30:00+00:00`,
  which sorts as the moments do), booleans `boolean` (0 or 1 on SQLite), counts integers.
- `media`: one row per downloaded recording or document (`--with-media`): the followup, the
  field (`audio_url` or `pdf_url`), the file's SHA-256, its name in the media folder, and the
  URL it came from without its signature.
- `relance_sync_state`: one row, written with the snapshot and then with every page of the
  feed: the API's address and client the mirror copies, and the cursor it continues from."""

from __future__ import annotations

from collections.abc import Callable

from relance.cli.sync.targets import BOOLEANS, COLUMNS, INTEGERS, REQUIRED, TIMESTAMPS

STATE_COLUMNS = ("server", "client_id", "cursor", "snapshot_at", "updated_at")
MEDIA_COLUMNS = ("followup_id", "field", "sha256", "file", "source")


def _column(name: str, moment: str, checked: bool) -> str:
    if name in TIMESTAMPS:
        kind = moment
    elif name in BOOLEANS:
        kind = f"BOOLEAN CHECK ({name} IN (0, 1))" if checked else "BOOLEAN"
    elif name in INTEGERS:
        kind = "INTEGER"
    else:
        kind = "TEXT"
    if name == "id":
        return f"{name} {kind} PRIMARY KEY"
    return f"{name} {kind}{' NOT NULL' if name in REQUIRED else ''}"


def schema(moment: str, *, checked_booleans: bool) -> list[str]:
    """The statements that make the tables where they are not yet: moments of type `moment`,
    booleans held to 0 and 1 where the database has no boolean type of its own."""
    columns = ",\n    ".join(_column(name, moment, checked_booleans) for name in COLUMNS)
    return [
        f"CREATE TABLE IF NOT EXISTS followups (\n    {columns}\n)",
        "CREATE INDEX IF NOT EXISTS followups_debt_id ON followups (debt_id)",
        "CREATE TABLE IF NOT EXISTS media (\n"
        "    followup_id TEXT NOT NULL,\n"
        "    field TEXT NOT NULL,\n"
        "    sha256 TEXT NOT NULL,\n"
        "    file TEXT NOT NULL,\n"
        "    source TEXT NOT NULL,\n"
        "    PRIMARY KEY (followup_id, field)\n"
        ")",
        "CREATE TABLE IF NOT EXISTS relance_sync_state (\n"
        "    id INTEGER PRIMARY KEY CHECK (id = 1),\n"
        "    server TEXT NOT NULL,\n"
        "    client_id TEXT NOT NULL,\n"
        "    cursor TEXT NOT NULL,\n"
        f"    snapshot_at {moment} NOT NULL,\n"
        f"    updated_at {moment} NOT NULL\n"
        ")",
    ]


def _marks(count: int, mark: Callable[[int], str]) -> str:
    return ", ".join(mark(number) for number in range(1, count + 1))


def insert_followups(mark: Callable[[int], str]) -> str:
    return f"INSERT INTO followups ({', '.join(COLUMNS)}) VALUES ({_marks(len(COLUMNS), mark)})"  # noqa: S608


def upsert_followups(mark: Callable[[int], str]) -> str:
    changed = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS if name != "id")
    return f"{insert_followups(mark)} ON CONFLICT (id) DO UPDATE SET {changed}"


def upsert_media(mark: Callable[[int], str]) -> str:
    changed = ", ".join(f"{name} = excluded.{name}" for name in MEDIA_COLUMNS[2:])
    return (
        f"INSERT INTO media ({', '.join(MEDIA_COLUMNS)}) VALUES"  # noqa: S608
        f" ({_marks(len(MEDIA_COLUMNS), mark)})"
        f" ON CONFLICT (followup_id, field) DO UPDATE SET {changed}"
    )


def insert_state(mark: Callable[[int], str]) -> str:
    return (
        f"INSERT INTO relance_sync_state (id, {', '.join(STATE_COLUMNS)})"  # noqa: S608
        f" VALUES (1, {_marks(len(STATE_COLUMNS), mark)})"
    )
