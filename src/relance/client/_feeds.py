"""What the sync and the async changes feed and export share: their parameters, the long poll's
timeout, and the reading of an export's lines.

The feed (`GET /followups/changes`) is a cursor over the company's committed changes in commit
order; the export (`GET /followups/export`) is one consistent snapshot as JSON Lines, whose last
line, `{"next_cursor": ...}`, is where the feed continues with nothing missed or doubled."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx

from relance.client._base import API, params
from relance.client._errors import IncompleteExportError

CHANGES = f"{API}/followups/changes"
EXPORT = f"{API}/followups/export"
# The longest a server holds an empty page (`wait`), and what `follow` asks for.
MAX_WAIT_SECONDS = 30
# The export's body is asked for gzip-encoded (httpx decodes it as it reads): JSON Lines of
# followups shrink about tenfold.
EXPORT_HEADERS = {"Accept": "application/x-ndjson", "Accept-Encoding": "gzip"}


def flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def changes_query(
    cursor: str | None, limit: int | None, wait: int | None, include_media: bool | None
) -> dict[str, str]:
    return params(cursor=cursor, limit=limit, wait=wait, include_media=flag(include_media))


def export_query(
    status: str | None,
    type: str | None,
    date_from: date | None,
    date_to: date | None,
    debt_id: str | None,
    include_media: bool | None,
) -> dict[str, str]:
    return params(
        status=status,
        type=type,
        date_from=date_from,
        date_to=date_to,
        debt_id=debt_id,
        include_media=flag(include_media),
    )


def feed_wait(wait: int | None, follow: bool) -> int | None:
    """A followed feed waits as long as the server allows unless told otherwise."""
    return MAX_WAIT_SECONDS if follow and wait is None else wait


def poll_timeout(timeout: httpx.Timeout, wait: int | None) -> httpx.Timeout | None:
    """The client's timeout with the long poll's wait added to the read: a page held `wait`
    seconds is not a server that stopped answering. None: the client's own."""
    if not wait or timeout.read is None:
        return None
    return httpx.Timeout(
        connect=timeout.connect, read=timeout.read + wait, write=timeout.write, pool=timeout.pool
    )


class ExportLines:
    """An export's lines read one at a time: each followup's JSON object, then the final
    `{"next_cursor": ...}`, which `finish` requires."""

    def __init__(self) -> None:
        self.next_cursor: str | None = None
        self.rows = 0

    def read(self, line: str) -> dict[str, Any] | None:
        """The followup on this line, or None for the final line (or a blank one)."""
        if not line.strip():
            return None
        if self.next_cursor is not None:
            raise IncompleteExportError("the export went on after its final next_cursor line")
        try:
            found = json.loads(line)
        except ValueError:
            raise IncompleteExportError(
                f"the export's line {self.rows + 1} is not JSON (the stream was cut?)"
            ) from None
        if not isinstance(found, dict):
            raise IncompleteExportError(f"the export's line {self.rows + 1} is not an object")
        if "next_cursor" in found and "id" not in found:
            self.next_cursor = str(found["next_cursor"])
            return None
        self.rows += 1
        return found

    def finish(self) -> str:
        if self.next_cursor is None:
            raise IncompleteExportError(
                f"the export ended after {self.rows} followups without its final next_cursor"
                " line: it is incomplete"
            )
        return self.next_cursor


def cut_short(exc: httpx.HTTPError, lines: ExportLines) -> IncompleteExportError:
    return IncompleteExportError(
        f"the export was cut after {lines.rows} followups: {type(exc).__name__}: {exc}"
    )
