"""The synchronous client's changes feed and export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from relance.client._feeds import (
    CHANGES,
    EXPORT,
    EXPORT_HEADERS,
    ExportLines,
    changes_query,
    cut_short,
    poll_timeout,
)
from relance.client._models import ChangePage, Followup, FollowupChange

if TYPE_CHECKING:
    from relance.client._sync import Relance


class ChangeFeed:
    """The followups' changes from `cursor` on, in commit order. Looping over it walks every
    entry of every page; `iter_pages()` walks the pages. It ends once the server has nothing
    more (`has_more` false), unless it follows, long polling for ever.

    `cursor` is where the feed continues after what was walked: after a page, that page's
    `next_cursor`. While a page is walked entry by entry, it moves on as its last entry is
    handed out, so that storing it after handling each entry never skips one (and resuming
    from it sees at most a page again)."""

    def __init__(
        self,
        client: Relance,
        cursor: str | None,
        *,
        limit: int | None,
        wait: int | None,
        include_media: bool | None,
        follow: bool,
    ) -> None:
        self.cursor = cursor
        self.follow = follow
        self._client = client
        self._limit = limit
        self._wait = wait
        self._include_media = include_media

    def fetch(self, cursor: str | None) -> ChangePage:
        """One page from `cursor` (None: from the beginning), leaving `self.cursor` as it is."""
        query = changes_query(cursor, self._limit, self._wait, self._include_media)
        timeout = poll_timeout(self._client._http.timeout, self._wait)
        return ChangePage.model_validate(
            self._client.request("GET", CHANGES, query=query, timeout=timeout)
        )

    def iter_pages(self) -> Iterator[ChangePage]:
        for page in self._pages():
            self.cursor = page.next_cursor
            yield page

    def __iter__(self) -> Iterator[FollowupChange]:
        for page in self._pages():
            last = len(page.data) - 1
            for index, entry in enumerate(page.data):
                if index == last:
                    self.cursor = page.next_cursor
                yield entry
            self.cursor = page.next_cursor

    def _pages(self) -> Iterator[ChangePage]:
        cursor = self.cursor
        while True:
            page = self.fetch(cursor)
            yield page
            if not page.has_more and not self.follow:
                return
            cursor = page.next_cursor


class Export:
    """Every followup matching the filters, from one consistent snapshot, streamed: read as it
    arrives, in constant memory. Looping over it yields Followups (`iter_json()`: the objects as
    JSON decoded, unchecked, faster); once the last one is read, `next_cursor` is where the
    changes feed continues from that snapshot, with nothing missed or doubled. A stream that
    ends without it raises IncompleteExportError. Each loop takes a snapshot of its own; one
    left early closes its stream (the server stops its query)."""

    def __init__(self, client: Relance, query: dict[str, str]) -> None:
        self.next_cursor: str | None = None
        self.rows = 0
        self._client = client
        self._query = query

    def __iter__(self) -> Iterator[Followup]:
        for found in self.iter_json():
            yield Followup.model_validate(found)

    def iter_json(self) -> Iterator[dict[str, Any]]:
        self.next_cursor = None
        self.rows = 0
        lines = ExportLines()
        with self._client.stream(EXPORT, query=self._query, headers=EXPORT_HEADERS) as response:
            try:
                for line in response.iter_lines():
                    found = lines.read(line)
                    if found is not None:
                        self.rows = lines.rows
                        yield found
            except httpx.HTTPError as exc:
                raise cut_short(exc, lines) from exc
        self.next_cursor = lines.finish()
