"""The SDK's changes feed and export, sync and async alike, against a real `relance serve` on
the demo book: the export is every followup once as the list shows it, then the cursor the
feed continues from; the feed walks every change once in commit order, its `cursor` moving
page by page; long polling and `follow`; the API's refusals as the SDK's exceptions (400 for a
tampered cursor, 410 past the tombstone horizon); a stream cut short as IncompleteExportError,
through a small real proxy that cuts the server's answer."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from relance.client import (
    AsyncChangeFeed,
    AsyncExport,
    AsyncRelance,
    BadRequestError,
    ChangeFeed,
    ChangePage,
    Export,
    Followup,
    FollowupChange,
    FollowupDeletion,
    FollowupUpsert,
    GoneError,
    IncompleteExportError,
    Relance,
)
from tests.client.conftest import Book
from tests.client.media import comparable, comparables

Feed = ChangeFeed | AsyncChangeFeed
Snapshot = Export | AsyncExport
WAIT_BOUND = 10  # seconds a change may take to reach a long poll before the test fails


@pytest.fixture(params=[Relance, AsyncRelance], ids=["sync", "async"])
async def sdk(
    request: pytest.FixtureRequest, demo_book: Book
) -> AsyncIterator[Relance | AsyncRelance]:
    company = demo_book.companies[0]
    client = request.param(demo_book.base, company["client_id"], company["client_secret"])
    yield client
    if isinstance(client, AsyncRelance):
        await client.close()
    else:
        client.close()


@pytest.fixture
def writer(demo_book: Book) -> Iterator[Relance]:
    """A synchronous client of the same company, to change followups with."""
    company = demo_book.companies[0]
    with Relance(demo_book.base, company["client_id"], company["client_secret"]) as client:
        yield client


async def entries(feed: Feed) -> list[FollowupChange]:
    if isinstance(feed, ChangeFeed):
        return list(feed)
    return [entry async for entry in feed]


async def pages(feed: Feed) -> list[ChangePage]:
    if isinstance(feed, ChangeFeed):
        return list(feed.iter_pages())
    return [page async for page in feed.iter_pages()]


async def rows(export: Snapshot) -> list[Followup]:
    if isinstance(export, Export):
        return list(export)
    return [followup async for followup in export]


async def json_rows(export: Snapshot) -> list[dict[str, Any]]:
    if isinstance(export, Export):
        return list(export.iter_json())
    return [found async for found in export.iter_json()]


async def first_entry(feed: Feed, wanted: Callable[[FollowupChange], bool]) -> FollowupChange:
    """The first entry of a followed feed that `wanted`."""
    if isinstance(feed, ChangeFeed):
        return next(entry for entry in feed if wanted(entry))
    async for entry in feed:
        if wanted(entry):
            return entry
    raise AssertionError("a followed feed ended")


def listed(writer: Relance) -> list[Followup]:
    return sorted(writer.followups.list(limit=100), key=lambda f: f.id)


def later(seconds: float, change: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        change()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def unique(text: str) -> str:
    """A value no earlier write gave (the same one again is no change, and not in the feed)."""
    return f"{text} {secrets.token_hex(4)}"


def summarised(writer: Relance, followup_id: str, summary: str) -> Callable[[], object]:
    return lambda: writer.followups.update(followup_id, summary=summary)


def a_followup(writer: Relance) -> Followup:
    return next(iter(writer.followups.list(type="call", limit=1)))


async def present(sdk: Relance | AsyncRelance) -> str:
    """A cursor of the present."""
    (page,) = await pages(sdk.followups.changes("now"))
    assert page.data == []
    assert not page.has_more
    return page.next_cursor


# The export.


async def test_the_export_is_every_followup_once_as_the_list_shows_it(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    export = sdk.followups.export()
    assert export.next_cursor is None
    exported = sorted(await rows(export), key=lambda f: f.id)
    assert comparables(exported) == comparables(listed(writer))
    assert export.rows == len(exported) > 1000
    assert export.next_cursor is not None
    assert export.next_cursor.startswith("cur_")
    assert any(f.audio_url for f in exported)


async def test_the_export_takes_the_lists_filters_and_leaves_media_out(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    calls = await rows(sdk.followups.export(type="call", status="no_answer"))
    expected = writer.followups.list(type="call", status="no_answer", limit=100)
    assert sorted(f.id for f in calls) == sorted(f.id for f in expected)
    assert {(f.type, f.status) for f in calls} == {("call", "no_answer")}
    bare = await rows(sdk.followups.export(include_media=False))
    assert bare
    assert {(f.audio_url, f.pdf_url, f.media_urls_expire_at) for f in bare} == {(None,) * 3}
    found = await json_rows(sdk.followups.export(type="email"))
    assert {len(row) for row in found} == {len(Followup.model_fields)}
    assert {row["type"] for row in found} == {"email"}


async def test_the_feed_continues_an_export_with_what_changed_after_it(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    export = sdk.followups.export(include_media=False)
    await rows(export)
    assert export.next_cursor is not None
    target = a_followup(writer)
    summary = unique("Changed after the export")
    writer.followups.update(target.id, summary=summary)
    feed = sdk.followups.changes(export.next_cursor)
    found = await entries(feed)
    assert [(type(e), e.followup.id) for e in found if isinstance(e, FollowupUpsert)] == [
        (FollowupUpsert, target.id)
    ]
    (change,) = found
    assert isinstance(change, FollowupUpsert)
    assert change.followup.summary == summary
    assert comparable(change.followup) == comparable(writer.followups.get(target.id))
    assert change.changed_at.tzinfo is not None
    assert feed.cursor not in (None, export.next_cursor)
    assert await entries(sdk.followups.changes(feed.cursor)) == []


# The feed.


async def test_the_feed_from_the_beginning_holds_each_followup_once_in_commit_order(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    feed = sdk.followups.changes(limit=1000, include_media=False)
    walked = await pages(feed)
    assert len(walked) > 1
    assert all(page.has_more for page in walked[:-1])
    assert not walked[-1].has_more
    found = [entry for page in walked for entry in page.data]
    assert all(isinstance(entry, FollowupUpsert) for entry in found)
    seqs = [entry.seq for entry in found]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    ids = [entry.followup.id for entry in found if isinstance(entry, FollowupUpsert)]
    assert sorted(ids) == [f.id for f in listed(writer)]
    assert feed.cursor == walked[-1].next_cursor
    assert await entries(sdk.followups.changes(feed.cursor)) == []


async def test_the_cursor_moves_on_with_the_last_entry_of_each_page(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    start = await present(sdk)
    changed = [f.id for f in writer.followups.list(type="email", limit=5).data]
    for followup_id in changed:
        writer.followups.update(followup_id, notes=unique("page test"))
    by_page = await pages(sdk.followups.changes(start, limit=2))
    assert [len(page.data) for page in by_page] == [2, 2, 1]
    feed = sdk.followups.changes(start, limit=2)
    seen: list[tuple[str, str | None]] = []
    if isinstance(feed, ChangeFeed):
        seen = [(e.followup.id, feed.cursor) for e in feed if isinstance(e, FollowupUpsert)]
    else:
        seen = [(e.followup.id, feed.cursor) async for e in feed if isinstance(e, FollowupUpsert)]
    assert [followup_id for followup_id, _ in seen] == changed
    first, second, third = (page.next_cursor for page in by_page)
    assert [cursor for _, cursor in seen] == [start, first, first, second, third]


async def test_a_deleted_debts_followups_come_as_deletions(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    debt = writer.debts.create(
        firstname="Suppr", lastname="Feed", amount="12.00", currency="EUR", email="d@example.fr"
    )
    made = [writer.followups.create(debt_id=debt.id, type=kind) for kind in ("call", "email")]
    cursor = await present(sdk)
    writer.followups.update(made[0].id, notes=unique("before the deletion"))
    writer.debts.delete(debt.id)
    found = await entries(sdk.followups.changes(cursor))
    assert sorted(
        (type(e), e.id, e.debt_id) for e in found if isinstance(e, FollowupDeletion)
    ) == sorted((FollowupDeletion, f.id, debt.id) for f in made)
    assert len(found) == 2  # each followup once, at its latest state: gone
    exported = await rows(sdk.followups.export(include_media=False))
    assert not {f.id for f in made} & {f.id for f in exported}


async def test_now_is_the_present(sdk: Relance | AsyncRelance, writer: Relance) -> None:
    cursor = await present(sdk)
    assert await entries(sdk.followups.changes(cursor)) == []
    target = a_followup(writer)
    notes = unique("after now")
    writer.followups.update(target.id, notes=notes)
    (change,) = await entries(sdk.followups.changes(cursor))
    assert isinstance(change, FollowupUpsert)
    assert (change.followup.id, change.followup.notes) == (target.id, notes)


async def test_a_tampered_cursor_is_refused_by_name(sdk: Relance | AsyncRelance) -> None:
    cursor = await present(sdk)
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    with pytest.raises(BadRequestError) as refused:
        await entries(sdk.followups.changes(tampered))
    assert "cursor" in refused.value.details


async def test_a_cursor_older_than_the_horizon_is_gone(
    sdk: Relance | AsyncRelance, writer: Relance, demo_book: Book
) -> None:
    old = await present(sdk)
    writer.followups.update(a_followup(writer).id, notes=unique("past the horizon"))
    await present(sdk)  # a read numbers the change: the last number is past the old cursor
    # As the tombstone purge moves it: every number up to the last is now below the horizon.
    with horizon_at_last(demo_book):
        with pytest.raises(GoneError) as gone:
            await entries(sdk.followups.changes(old))
        assert gone.value.status_code == 410
        assert "export" in gone.value.message
        assert await entries(sdk.followups.changes(await present(sdk))) == []


@contextmanager
def horizon_at_last(book: Book) -> Iterator[None]:
    database = sqlite3.connect(book.home / "relance.sqlite3", timeout=30)
    try:
        with database:
            database.execute("UPDATE change_sequences SET horizon_seq = last_seq")
        yield
    finally:
        with database:
            database.execute("UPDATE change_sequences SET horizon_seq = 0")
        database.close()


# Long polling.


async def test_a_long_poll_returns_as_soon_as_a_change_is_committed(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    cursor = await present(sdk)
    target = a_followup(writer)
    change = later(1, summarised(writer, target.id, unique("while polling")))
    started = time.monotonic()
    try:
        first = await first_page(sdk.followups.changes(cursor, wait=WAIT_BOUND + 5))
    finally:
        change.join()
    assert time.monotonic() - started < WAIT_BOUND
    assert [e.followup.id for e in first.data if isinstance(e, FollowupUpsert)] == [target.id]


async def test_an_empty_long_poll_ends_after_its_wait(sdk: Relance | AsyncRelance) -> None:
    cursor = await present(sdk)
    started = time.monotonic()
    page = await first_page(sdk.followups.changes(cursor, wait=2))
    assert 2 <= time.monotonic() - started < WAIT_BOUND
    assert page.data == []
    assert not page.has_more


async def test_a_long_poll_may_wait_its_thirty_seconds(writer: Relance) -> None:
    """Longer than the server's header timeout (10 s): a request being answered is not a
    connection that went quiet. (The synchronous client only: the wait is the test's time.)"""
    cursor = await present(writer)
    started = time.monotonic()
    page = await first_page(writer.followups.changes(cursor, wait=30))
    assert 30 <= time.monotonic() - started < 30 + WAIT_BOUND
    assert page.data == []


async def test_a_followed_feed_waits_for_the_next_change(
    sdk: Relance | AsyncRelance, writer: Relance
) -> None:
    cursor = await present(sdk)
    target = a_followup(writer)
    feed = sdk.followups.changes(cursor, follow=True, wait=5)
    summary = unique("followed")
    change = later(1, summarised(writer, target.id, summary))
    try:
        found = await asyncio.wait_for(
            first_entry(feed, lambda e: isinstance(e, FollowupUpsert)), WAIT_BOUND * 2
        )
    finally:
        change.join()
    assert isinstance(found, FollowupUpsert)
    assert (found.followup.id, found.followup.summary) == (target.id, summary)
    assert feed.cursor not in (None, cursor)


async def first_page(feed: Feed) -> ChangePage:
    if isinstance(feed, ChangeFeed):
        return next(iter(feed.iter_pages()))
    async for page in feed.iter_pages():
        return page
    raise AssertionError("no page")


# An export cut short.


@pytest.mark.parametrize("framing", ["closed", "chunked"])
async def test_an_export_cut_short_raises_incomplete_export(
    framing: str, demo_book: Book, kind: type[Relance | AsyncRelance]
) -> None:
    company = demo_book.companies[0]
    with cutting(demo_book.base, keep_lines=25, framing=framing) as base:
        client = kind(base, company["client_id"], company["client_secret"], max_retries=0)
        export = client.followups.export(include_media=False)
        with pytest.raises(IncompleteExportError) as cut:
            await rows(export)
        if isinstance(client, AsyncRelance):
            await client.close()
        else:
            client.close()
    assert export.next_cursor is None
    assert export.rows == 25
    assert "25 followups" in str(cut.value)


@pytest.fixture(params=[Relance, AsyncRelance], ids=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> type[Relance | AsyncRelance]:
    found: type[Relance | AsyncRelance] = request.param
    return found


@contextmanager
def cutting(upstream: str, *, keep_lines: int, framing: str) -> Iterator[str]:
    """A proxy on 127.0.0.1 that passes every request on, but answers an export with only its
    first `keep_lines` lines: ending the body there (`closed`: framed by the connection's end,
    as a server that crashed mid-stream does), or leaving a chunk unfinished (`chunked`)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if framing == "chunked" else "HTTP/1.0"

        def do_GET(self) -> None:
            self._pass_on()

        do_POST = do_GET  # noqa: N815 - the name http.server looks up

        def _pass_on(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in ("host", "accept-encoding", "content-length", "connection")
            }
            with (
                httpx.Client(base_url=upstream, timeout=30) as client,
                client.stream(self.command, self.path, headers=headers, content=body) as answer,
            ):
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", ""))
                if not self.path.split("?")[0].endswith("/followups/export"):
                    content = answer.read()
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return
                if framing == "chunked":
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                lines = answer.iter_lines()
                kept = "".join(next(lines) + "\n" for _ in range(keep_lines)).encode()
                if framing == "chunked":
                    # A chunk announced longer than what is sent, then the connection closed.
                    self.wfile.write(f"{len(kept) + 100:x}\r\n".encode() + kept)
                else:
                    self.wfile.write(kept)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
