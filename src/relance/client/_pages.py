"""Pages of the lists paged by number (followups, debts): a page knows how to ask for the next
one, so that looping over it walks every item of every page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic

from relance.client._base import M, page_parts
from relance.client._models import Pagination

if TYPE_CHECKING:
    from relance.client._async import AsyncRelance
    from relance.client._sync import Relance


class SyncPage(Generic[M]):
    """One page of a list. Looping over it walks every item of this page and the next ones;
    `iter_pages()` walks the pages themselves."""

    def __init__(
        self, data: list[M], pagination: Pagination, fetch: Callable[[int], SyncPage[M]]
    ) -> None:
        self.data = data
        self.pagination = pagination
        self._fetch = fetch

    def iter_pages(self) -> Iterator[SyncPage[M]]:
        page: SyncPage[M] = self
        while True:
            yield page
            if not page.data or page.pagination.page >= page.pagination.pages:
                return
            page = page._fetch(page.pagination.page + 1)

    def __iter__(self) -> Iterator[M]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(Generic[M]):
    """One page of a list. `async for` over it walks every item of this page and the next
    ones; `iter_pages()` walks the pages themselves."""

    def __init__(
        self,
        data: list[M],
        pagination: Pagination,
        fetch: Callable[[int], Awaitable[AsyncPage[M]]],
    ) -> None:
        self.data = data
        self.pagination = pagination
        self._fetch = fetch

    async def iter_pages(self) -> AsyncIterator[AsyncPage[M]]:
        page: AsyncPage[M] = self
        while True:
            yield page
            if not page.data or page.pagination.page >= page.pagination.pages:
                return
            page = await page._fetch(page.pagination.page + 1)

    async def __aiter__(self) -> AsyncIterator[M]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Generic[M]):
    """What a list returns, as openai-python's AsyncPaginator: awaited, its first page;
    walked with `async for`, every item of every page, without an `await` first. Each use
    asks for the first page anew."""

    def __init__(self, first: Callable[[], Coroutine[Any, Any, AsyncPage[M]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncPage[M]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[M]:
        async for item in await self:
            yield item


def sync_page(
    client: Relance, path: str, query: dict[str, str], model: type[M], number: int
) -> SyncPage[M]:
    """Page `number` of the list at `path`, able to fetch the ones after it."""
    found = client.request("GET", path, query={**query, "page": str(number)})

    def fetch(next_number: int) -> SyncPage[M]:
        return sync_page(client, path, query, model, next_number)

    return SyncPage(*page_parts(found, model), fetch)


async def async_page(
    client: AsyncRelance, path: str, query: dict[str, str], model: type[M], number: int
) -> AsyncPage[M]:
    found = await client.request("GET", path, query={**query, "page": str(number)})

    def fetch(next_number: int) -> Awaitable[AsyncPage[M]]:
        return async_page(client, path, query, model, next_number)

    return AsyncPage(*page_parts(found, model), fetch)


def async_paginator(
    client: AsyncRelance, path: str, query: dict[str, str], model: type[M], number: int
) -> AsyncPaginator[M]:
    """The list at `path` from page `number`: nothing is asked until it is awaited or walked."""
    return AsyncPaginator(lambda: async_page(client, path, query, model, number))
