"""What a `relance followups sync` target holds, read back the way its own user would (sqlite3,
asyncpg, the JSON Lines replayed), and what the API shows, both as comparable followups:
moments as aware datetimes, signed media URLs as the file they name."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from relance.cli.sync.targets import BOOLEANS, COLUMNS, TIMESTAMPS
from relance.client import Relance
from tests.client.media import comparable

Mirror = dict[str, dict[str, Any]]


def normalised(row: dict[str, Any]) -> dict[str, Any]:
    """The 24 fields of a followup, moments parsed, booleans as booleans, comparable."""
    fields = {}
    for name in COLUMNS:
        value = row[name]
        if name in TIMESTAMPS and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif name in BOOLEANS:
            value = bool(value)
        fields[name] = value
    return comparable(fields)


def api_followups(client: Relance) -> Mirror:
    """Every followup of the company, as GET /followups lists them."""
    return {f.id: normalised(f.model_dump()) for f in client.followups.list(limit=100)}


def is_postgres(target: str) -> bool:
    return target.startswith("postgresql://")


def mirror_of(target: str) -> Mirror:
    """The followups the target holds (none where it has no table yet)."""
    if is_postgres(target):
        rows = asyncio.run(_fetch(target, "SELECT * FROM followups", missing_ok=True))
    elif target.endswith(".jsonl"):
        return {key: normalised(row) for key, row in replayed(Path(target))[0].items()}
    else:
        rows = _sqlite(target, "SELECT * FROM followups", missing_ok=True)
    return {row["id"]: normalised(row) for row in rows}


def media_of(target: str) -> dict[tuple[str, str], str]:
    """(followup ID, field) → the SHA-256 the mirror records."""
    if is_postgres(target):
        rows = asyncio.run(_fetch(target, "SELECT * FROM media"))
    elif target.endswith(".jsonl"):
        return replayed(Path(target))[1]
    else:
        rows = _sqlite(target, "SELECT * FROM media")
    return {(row["followup_id"], row["field"]): row["sha256"] for row in rows}


def stored_cursor(target: str) -> str | None:
    """The cursor the target continues from; None while it holds no whole snapshot."""
    query = "SELECT cursor FROM relance_sync_state"
    if is_postgres(target):
        rows = asyncio.run(_fetch(target, query, missing_ok=True))
    elif target.endswith(".jsonl"):
        return replayed(Path(target))[2]
    else:
        rows = _sqlite(target, query, missing_ok=True)
    return str(rows[0]["cursor"]) if rows else None


def replayed(
    path: Path,
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str], str | None]:
    """A JSON Lines mirror replayed as its format says, up to its last cursor line: the
    followups, the media records and that cursor."""
    followups: dict[str, dict[str, Any]] = {}
    media: dict[tuple[str, str], str] = {}
    applied: tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str], str | None] = (
        {},
        {},
        None,
    )
    if not path.exists():
        return applied
    for text in path.read_text().splitlines(keepends=True):
        if not text.endswith("\n"):
            break
        line = json.loads(text)
        action = line["action"]
        if action == "reset":
            followups, media = {}, {}
        elif action == "upsert":
            followups[line["followup"]["id"]] = line["followup"]
        elif action == "delete":
            followups.pop(line["id"], None)
            media = {key: sha for key, sha in media.items() if key[0] != line["id"]}
        elif action == "media":
            key = (line["followup_id"], line["field"])
            if line["sha256"] is None:
                media.pop(key, None)
            else:
                media[key] = line["sha256"]
        elif action == "cursor":
            applied = (dict(followups), dict(media), line["cursor"])
    return applied


def feed_seqs(path: Path) -> list[int]:
    """The `seq` of every entry of the feed a JSON Lines mirror holds, in file order."""
    seqs = []
    for text in path.read_text().splitlines():
        line = json.loads(text)
        if line["action"] in ("upsert", "delete") and line["seq"] is not None:
            seqs.append(int(line["seq"]))
    return seqs


def columns_of(url: str) -> dict[str, str]:
    query = (
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'followups'"
    )
    return {row["column_name"]: row["data_type"] for row in asyncio.run(_fetch(url, query))}


def indexes_of(url: str) -> list[str]:
    query = "SELECT indexdef FROM pg_indexes WHERE tablename = 'followups'"
    return [str(row["indexdef"]) for row in asyncio.run(_fetch(url, query))]


def _sqlite(path: str, query: str, *, missing_ok: bool = False) -> list[dict[str, Any]]:
    if not Path(path).exists():
        return []
    database = sqlite3.connect(path)
    database.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in database.execute(query)]
    except sqlite3.OperationalError:
        if missing_ok:
            return []
        raise
    finally:
        database.close()


async def _fetch(url: str, query: str, *, missing_ok: bool = False) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        return [dict(row) for row in await conn.fetch(query)]
    except asyncpg.UndefinedTableError:
        if missing_ok:
            return []
        raise
    finally:
        await conn.close()
