"""Statement text: PostgreSQL's `$n` placeholders, and their SQLite form."""

from __future__ import annotations

import re
from functools import lru_cache

_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|VACUUM)\b", re.I)


def placeholders(first: int, count: int) -> str:
    """`$first, ..., $(first + count - 1)`: the parameters of an IN list."""
    return ", ".join(f"${n}" for n in range(first, first + count))


@lru_cache(maxsize=1024)
def sqlite_statement(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


@lru_cache(maxsize=1024)
def reads_only(sql: str) -> bool:
    """A SELECT (a WITH may also write): the statements are the repositories' own text, few
    and fixed, so the answer is kept."""
    first = sql.lstrip()[:4].upper()
    return first in ("SELE", "WITH") and _WRITES.search(sql) is None


def rows_changed(status: object) -> int:
    """The rows a write changed, from what `execute` answered: asyncpg's status ("UPDATE 3"),
    the SQLite layer's count."""
    if isinstance(status, str):
        return int(status.rsplit(" ", 1)[-1])
    return int(status) if isinstance(status, int) else 0
