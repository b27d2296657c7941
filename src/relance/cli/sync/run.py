"""One run of `relance followups sync`: the export when the target holds no snapshot, then the
changes feed page by page, each page applied with its cursor in one write; with `follow`, long
polling until stopped. A 410 (the stored cursor is older than the changes the server keeps)
starts again from an export, which replaces the mirror in one write."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from relance.cli.sync.media import MediaFetcher, MediaPlan
from relance.cli.sync.targets import Batch, Origin, Row, Target, row_of
from relance.client import (
    APIConnectionError,
    ChangePage,
    FollowupDeletion,
    FollowupUpsert,
    GoneError,
    InternalServerError,
    RateLimitError,
    Relance,
    RelanceError,
)

SNAPSHOT_BATCH = 1000
FOLLOW_WAIT = 30
# Waits between attempts while following, when the API is unreachable or failing.
_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
_STOPS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Summary:
    """What `--json` prints."""

    target: str
    exported: int = 0
    changes_applied: int = 0
    upserts: int = 0
    deletions: int = 0
    pages: int = 0
    media_downloaded: int = 0
    media_failed: int = 0
    restarted_from_export: bool = False
    interrupted: bool = False
    cursor: str | None = None
    seconds: float = 0.0

    def document(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Options:
    follow: bool = False
    page_size: int = 1000
    include_media: bool = True
    media_dir: Path | None = None
    client_id: str = ""
    unknown_actions: set[str] = field(default_factory=set)


class Sync:
    def __init__(self, client: Relance, target: Target, options: Options, console: Console):
        self.summary = Summary(target.name)
        self._client = client
        self._target = target
        self._options = options
        self._console = console
        self._origin = Origin(client.base_url, options.client_id)
        self._media: MediaFetcher | None = None
        self._bar: Progress | None = None
        self._pages_read = 0  # by the feed since it was last (re)started

    def run(self) -> Summary:
        """Sync until caught up (or, following, until SIGINT or SIGTERM: `interrupted`)."""
        started = time.monotonic()
        try:
            with stops_as_interrupts(), self._progress():
                self._run()
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            self.summary.seconds = round(time.monotonic() - started, 3)
            if self._media is not None:
                self.summary.media_downloaded = self._media.downloaded
                self._media.close()
        return self.summary

    def _run(self) -> None:
        stored = self._target.open(self._origin)
        if self._options.media_dir is not None:
            known = self._target.media_index()
            self._media = MediaFetcher(self._options.media_dir, self._client, known)
        self.summary.cursor = stored.cursor if stored else None
        if self.summary.cursor is None:
            self._snapshot()
        failures = 0
        description = "following changes" if self._options.follow else "applying changes"
        task = self._task(description)
        while True:
            self._pages_read = 0
            try:
                self._feed(task)
                return
            except GoneError:
                self._say(
                    f"the server no longer holds the changes after {self._target.name}'s cursor"
                    " (410 Gone): mirroring again from a new export"
                )
                self.summary.restarted_from_export = True
                self._snapshot()
            except (APIConnectionError, InternalServerError, RateLimitError) as exc:
                if not self._options.follow:
                    raise
                failures = 1 if self._pages_read else failures + 1
                wait = _BACKOFF[min(failures, len(_BACKOFF)) - 1]
                self._say(f"{exc}; trying again in {wait:.0f} s")
                time.sleep(wait)

    def _snapshot(self) -> None:
        """The whole mirror replaced by a new export, with the cursor that continues it."""
        rows = self._client.followups.export(include_media=self._options.include_media)
        task = self._task(f"exporting into {self._target.name}", self._total())
        plans: list[MediaPlan] = []

        def batches() -> Iterator[Batch]:
            for chunk in _chunks(rows.iter_json(), SNAPSHOT_BATCH):
                plan = self._plan(chunk, snapshot=True)
                plans.append(plan)
                yield Batch(upserts=chunk, media=plan.records)
                self._advance(task, len(chunk))

        def cursor() -> str:
            assert rows.next_cursor is not None  # set once the stream was read to its end
            return rows.next_cursor

        # A stop meanwhile rolls the whole export back: the mirror stays as it was.
        written = self._target.snapshot(self._origin, batches(), cursor, self.summary.cursor)
        if self._media is not None:
            self._media.committed(_merged(plans), snapshot=True)
        self.summary.exported += written
        self.summary.cursor = cursor()

    def _feed(self, task: TaskID | None) -> None:
        cursor = self.summary.cursor
        assert cursor is not None
        feed = self._client.followups.changes(
            cursor,
            limit=self._options.page_size,
            wait=FOLLOW_WAIT if self._options.follow else None,
            include_media=self._options.include_media,
            follow=self._options.follow,
        )
        for page in feed.iter_pages():
            self._pages_read += 1
            if not page.data and page.next_cursor == cursor:
                continue
            batch, plan = self._batch(page)
            with deferred_stops():
                self._target.apply(batch, cursor, page.next_cursor)
                cursor = self.summary.cursor = page.next_cursor
            if self._media is not None:
                self._media.committed(plan)
            self._count(batch)
            self._advance(task, len(page.data))

    def _batch(self, page: ChangePage) -> tuple[Batch, MediaPlan]:
        upserts = [row_of(e.followup) for e in page.data if isinstance(e, FollowupUpsert)]
        deletions = [e for e in page.data if isinstance(e, FollowupDeletion)]
        for entry in page.data:
            if not isinstance(entry, FollowupUpsert | FollowupDeletion):
                self._unknown(entry.action)
        plan = self._plan(upserts, snapshot=False)
        batch = Batch(upserts, deletions, list(page.data), plan.records, plan.dropped)
        return batch, plan

    def _plan(self, followups: list[Row], *, snapshot: bool) -> MediaPlan:
        if self._media is None:
            return MediaPlan()
        plan = self._media.plan(followups, snapshot=snapshot)
        for failure in plan.failed:
            self._say(f"media not downloaded, {failure}")
        self.summary.media_failed += len(plan.failed)
        return plan

    def _count(self, batch: Batch) -> None:
        self.summary.pages += 1
        self.summary.upserts += len(batch.upserts)
        self.summary.deletions += len(batch.deletions)
        self.summary.changes_applied += len(batch.upserts) + len(batch.deletions)

    def _unknown(self, action: str) -> None:
        if action not in self._options.unknown_actions:
            self._options.unknown_actions.add(action)
            self._say(f"changes with the action {action!r} are not known here: skipped")

    def _total(self) -> int | None:
        """How many followups the export will have, for the progress bar (one more read)."""
        try:
            return self._client.followups.list(limit=1).pagination.total
        except RelanceError:
            return None

    @contextmanager
    def _progress(self) -> Iterator[None]:
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f}{task.fields[of]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self._console) as bar:
            self._bar = bar
            try:
                yield
            finally:
                self._bar = None

    def _task(self, description: str, total: int | None = None) -> TaskID | None:
        if self._bar is None:
            return None
        of = f" of {total:,}" if total is not None else ""
        return self._bar.add_task(description, total=total, of=of)

    def _advance(self, task: TaskID | None, count: int) -> None:
        if self._bar is not None and task is not None:
            self._bar.advance(task, count)

    def _say(self, message: str) -> None:
        self._console.print(message, highlight=False, soft_wrap=True, markup=False)


def _chunks(items: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _merged(plans: list[MediaPlan]) -> MediaPlan:
    merged = MediaPlan()
    for plan in plans:
        merged.records += plan.records
    return merged


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def stops_as_interrupts() -> Iterator[None]:
    """SIGTERM (a supervisor's stop) handled as Ctrl+C: the sync stops between writes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred_stops() -> Iterator[None]:
    """A stop asked for while a page is applied takes effect once it is committed, so that the
    run ends with its mirror and its own count at the same page. (A stop mid-write would be
    safe too: the write is one transaction.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    asked: list[int] = []
    previous: dict[int, Callable[..., Any] | int | None] = {}
    for stop in _STOPS:
        previous[stop] = signal.signal(stop, lambda signum, frame: asked.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if asked:
        raise KeyboardInterrupt
