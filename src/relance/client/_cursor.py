"""Pages of the lists paged by cursor (events, webhook endpoints, deliveries), as Stripe's:
newest first, each page asked for `starting_after` the last item of the one before, so that
items written meanwhile neither shift nor repeat a row."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterator
from typing import Any, Generic

from relance.client._base import M
from relance.client._models import CursorPagination


def _next_cursor(data: list[Any], pagination: CursorPagination) -> str | None:
    """Where the next page starts, or None on the last one."""
    if not data or not pagination.has_more:
        return None
    return pagination.next_starting_after


class SyncCursorPage(Generic[M]):
    """One page of a cursor list. Looping over it walks every item of this page and the next
    ones; `iter_pages()` walks the pages themselves."""

    def __init__(
        self,
        data: list[M],
        pagination: CursorPagination,
        fetch: Callable[[str], SyncCursorPage[M]],
    ) -> None:
        self.data = data
        self.pagination = pagination
        self._fetch = fetch

    @property
    def has_more(self) -> bool:
        return self.pagination.has_more

    def iter_pages(self) -> Iterator[SyncCursorPage[M]]:
        page: SyncCursorPage[M] = self
        while True:
            yield page
            cursor = _next_cursor(page.data, page.pagination)
            if cursor is None:
                return
            page = page._fetch(cursor)

    def __iter__(self) -> Iterator[M]:
        for page in self.iter_pages():
            yield from page.data


class AsyncCursorPage(Generic[M]):
    """One page of a cursor list. `async for` over it walks every item of this page and the
    next ones; `iter_pages()` walks the pages themselves."""

    def __init__(
        self,
        data: list[M],
        pagination: CursorPagination,
        fetch: Callable[[str], Awaitable[AsyncCursorPage[M]]],
    ) -> None:
        self.data = data
        self.pagination = pagination
        self._fetch = fetch

    @property
    def has_more(self) -> bool:
        return self.pagination.has_more

    async def iter_pages(self) -> AsyncIterator[AsyncCursorPage[M]]:
        page: AsyncCursorPage[M] = self
        while True:
            yield page
            cursor = _next_cursor(page.data, page.pagination)
            if cursor is None:
                return
            page = await page._fetch(cursor)

    async def __aiter__(self) -> AsyncIterator[M]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncCursorPaginator(Generic[M]):
    """What an async cursor list returns, as AsyncPaginator does for the numbered lists:
    awaited, its first page; walked with `async for`, every item of every page."""

    def __init__(self, first: Callable[[], Coroutine[Any, Any, AsyncCursorPage[M]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncCursorPage[M]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[M]:
        async for item in await self:
            yield item
