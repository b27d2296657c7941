"""The asynchronous client's changes feed and export: the synchronous ones' twins, awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
    from relance.client._async import AsyncRelance


class AsyncChangeFeed:
    """The followups' changes from `cursor` on, in commit order. `async for` over it walks every
    entry of every page; `iter_pages()` walks the pages. It ends once the server has nothing
    more (`has_more` false), unless it follows, long polling for ever.

    `cursor` is where the feed continues after what was walked: after a page, that page's
    `next_cursor`. While a page is walked entry by entry, it moves on as its last entry is
    handed out, so that storing it after handling each entry never skips one (and resuming
    from it sees at most a page again)."""

    def __init__(
        self,
        client: AsyncRelance,
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

    async def fetch(self, cursor: str | None) -> ChangePage:
        """One page from `cursor` (None: from the beginning), leaving `self.cursor` as it is."""
        query = changes_query(cursor, self._limit, self._wait, self._include_media)
        timeout = poll_timeout(self._client._http.timeout, self._wait)
        return ChangePage.model_validate(
            await self._client.request("GET", CHANGES, query=query, timeout=timeout)
        )

    async def iter_pages(self) -> AsyncIterator[ChangePage]:
        async for page in self._pages():
            self.cursor = page.next_cursor
            yield page

    async def __aiter__(self) -> AsyncIterator[FollowupChange]:
        async for page in self._pages():
            last = len(page.data) - 1
            for index, entry in enumerate(page.data):
                if index == last:
                    self.cursor = page.next_cursor
                yield entry
            self.cursor = page.next_cursor

    async def _pages(self) -> AsyncIterator[ChangePage]:
        cursor = self.cursor
        while True:
            page = await self.fetch(cursor)
            yield page
            if not page.has_more and not self.follow:
                return
            cursor = page.next_cursor


class AsyncExport:
    """Every followup matching the filters, from one consistent snapshot, streamed: read as it
    arrives, in constant memory. `async for` over it yields Followups (`iter_json()`: the objects as
    JSON decoded, unchecked, faster); once the last one is read, `next_cursor` is where the
    changes feed continues from that snapshot, with nothing missed or doubled. A stream that
    ends without it raises IncompleteExportError. Each `async for` takes a snapshot of its own; one
    left early closes its stream (the server stops its query)."""

    def __init__(self, client: AsyncRelance, query: dict[str, str]) -> None:
        self.next_cursor: str | None = None
        self.rows = 0
        self._client = client
        self._query = query

    async def __aiter__(self) -> AsyncIterator[Followup]:
        async for found in self.iter_json():
            yield Followup.model_validate(found)

    async def iter_json(self) -> AsyncIterator[dict[str, Any]]:
        self.next_cursor = None
        self.rows = 0
        lines = ExportLines()
        stream = self._client.stream(EXPORT, query=self._query, headers=EXPORT_HEADERS)
        async with stream as response:
            try:
                async for line in response.aiter_lines():
                    found = lines.read(line)
                    if found is not None:
                        self.rows = lines.rows
                        yield found
            except httpx.HTTPError as exc:
                raise cut_short(exc, lines) from exc
        self.next_cursor = lines.finish()
