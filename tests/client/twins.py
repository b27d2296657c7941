"""The synchronous and the asynchronous client behind one small adapter, so that each of the
SDK's behaviours is written once and run against both: a call's answer is awaited only when
it is awaitable, a list is walked with `for` or `async for`, concurrent calls are threads or
tasks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pydantic import BaseModel

from relance.client import AsyncPage, AsyncPaginator, AsyncRelance, Relance, SyncPage

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Twin:
    def __init__(self, client: Relance | AsyncRelance) -> None:
        self.client = client
        self.followups = client.followups
        self.debts = client.debts

    @property
    def is_async(self) -> bool:
        return isinstance(self.client, AsyncRelance)

    @staticmethod
    async def call(answer: T | Awaitable[T]) -> T:
        """A sync method's answer as it is, an async one's awaited."""
        if isinstance(answer, Awaitable):
            found: T = await answer
            return found
        return answer

    @staticmethod
    async def first_page(listing: SyncPage[M] | AsyncPaginator[M]) -> SyncPage[M] | AsyncPage[M]:
        """A list's first page: the sync method's answer, the async one's awaited."""
        if isinstance(listing, SyncPage):
            return listing
        return await listing

    @staticmethod
    async def items(listing: SyncPage[M] | AsyncPage[M] | AsyncPaginator[M]) -> list[M]:
        """`for` or `async for` over a list (straight from the method, no await) or a page."""
        if isinstance(listing, SyncPage):
            return list(listing)
        return [item async for item in listing]

    @staticmethod
    async def pages(first: SyncPage[M] | AsyncPage[M]) -> list[list[M]]:
        """Each page's items, walked with iter_pages()."""
        if isinstance(first, SyncPage):
            return [page.data for page in first.iter_pages()]
        return [page.data async for page in first.iter_pages()]

    async def concurrently(self, count: int, call: Callable[[], Any]) -> list[Any]:
        """`call` made `count` times at once: in threads, or as tasks of one event loop."""
        if self.is_async:
            return list(await asyncio.gather(*(call() for _ in range(count))))
        with ThreadPoolExecutor(count) as threads:
            return list(threads.map(lambda _: call(), range(count)))

    async def close(self) -> None:
        await self.call(self.client.close())


class Waits:
    """The waits the retries asked for, in seconds; made for real only when `real` is set
    (against the real server's rate-limit window), never otherwise."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.real = False

    def sync(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.real:
            time.sleep(seconds)

    async def asynchronous(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.real:
            await asyncio.sleep(seconds)
