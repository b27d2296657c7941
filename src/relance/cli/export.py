"""An export of followups to a file, page by page, that survives being stopped.

A Parquet file cannot be appended to (its index is written last), so a Parquet export gathers
its rows as JSON Lines and converts them, a thousand rows at a time, once they are all there.

The rows go to a hidden `.NAME.partial` file; after each page, the file is flushed to disk and
a `.NAME.state` file records the next page and the partial file's length. Run again with the
same arguments, against the same server and as the same client, the export cuts the partial
file back to that length (dropping a page half written when it stopped) and goes on from that
page; anything else starts afresh, and says so. Done, it renames the partial file to NAME, so
NAME only ever appears complete. An export that fails keeps the two hidden files only when they
hold a page or more to resume from, and removes them otherwise.

To standard output (`-`), the rows go straight out, page by page, with nothing to resume.

A CSV cell that starts with =, +, -, @, a tab or a carriage return is written with a single
quote before it, as OWASP advises against formula injection: opened in a spreadsheet, such a
cell (a debtor's name, a call summary) would otherwise run as a formula. `raw` turns it off."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress

from relance.client import Followup

if TYPE_CHECKING:
    from relance.client import Relance

PAGE_SIZE = 100
# What a spreadsheet may read as the start of a formula (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The columns of a CSV export, in order (a JSON Lines export has the same keys): the fields of
# a followup as the client knows them.
COLUMNS = tuple(Followup.model_fields)
STDOUT = Path("-")


class Export:
    def __init__(
        self,
        output: Path,
        export_format: str,
        filters: dict[str, Any],
        *,
        client_id: str,
        raw: bool = False,
    ) -> None:
        self.output = output
        self.format = export_format
        self.filters = filters
        self.raw = raw
        self.partial = output.with_name(f".{output.name}.partial")
        self.state_file = output.with_name(f".{output.name}.state")
        # The next page the state file records; past the first, a failed export can resume.
        self._saved_page = 0
        self._key: dict[str, Any] = {
            "format": export_format,
            "filters": {k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items()},
            "client_id": client_id,
            "raw": raw,
        }

    @property
    def resumable(self) -> bool:
        """Whether the hidden files hold a page or more that running again resumes from."""
        return self._saved_page > 1

    def run(self, client: Relance, console: Console) -> int:
        """Write every page; the number of followups written."""
        if self.output == STDOUT:
            return self._to_stdout(client, console)
        # Another server's followups, or another client's, must not be appended to these.
        self._key["server"] = client.base_url
        next_page, written = self._resume(console)
        try:
            with self.partial.open("ab") as sink:
                written = self._pages(client, console, sink, next_page, written)
            if self.format == "parquet":
                _to_parquet(self.partial, self.output)
                self.partial.unlink()
            else:
                os.replace(self.partial, self.output)
        except BaseException:  # a stop (Ctrl+C) as much as a failure
            if not self.resumable:
                self.partial.unlink(missing_ok=True)
                self.state_file.unlink(missing_ok=True)
            raise
        self.state_file.unlink(missing_ok=True)
        return written

    def _to_stdout(self, client: Relance, console: Console) -> int:
        stdout = sys.stdout.buffer
        if self.format != "parquet":
            written = self._pages(client, console, stdout, 1, 0)
            stdout.flush()
            return written
        with tempfile.TemporaryDirectory(prefix="relance-export-") as work:
            rows = Path(work) / "rows.jsonl"
            with rows.open("wb") as sink:
                written = self._pages(client, console, sink, 1, 0)
            _to_parquet(rows, stdout)
        stdout.flush()
        return written

    def _pages(
        self, client: Relance, console: Console, sink: IO[bytes], next_page: int, written: int
    ) -> int:
        """Write the pages from `next_page` on to `sink`, recording each in the state file when
        the export goes to a file; the number of followups written in all."""
        durable = self.output != STDOUT
        with Progress(console=console) as bar:
            shown = self.output.name if durable else "standard output"
            task = bar.add_task(f"exporting to {shown}", total=None)
            while True:
                found = client.followups.list(**self.filters, page=next_page, limit=PAGE_SIZE)
                bar.update(task, total=found.pagination.total, completed=written)
                if next_page == 1 and written == 0 and self.format == "csv":
                    sink.write(_csv_header())
                sink.write(self._encoded(found.data))
                sink.flush()
                if durable:
                    os.fsync(sink.fileno())
                written += len(found.data)
                bar.update(task, completed=written)
                if not found.data or found.pagination.page >= found.pagination.pages:
                    return written
                next_page += 1
                if durable:
                    self._save(next_page, written, sink.tell())

    def _resume(self, console: Console) -> tuple[int, int]:
        """Where to start: (page, followups already written)."""
        resumed = self._resumable()
        if resumed is None:
            if self.partial.exists():
                console.print(
                    f"{self.partial.name} is not a part of this export (another server, client,"
                    " format or filters, or no record of what it holds): starting afresh",
                    highlight=False,
                )
            self.partial.unlink(missing_ok=True)
            self._save(1, 0, 0)
            return 1, 0
        next_page, written, length = resumed
        self._saved_page = next_page
        with self.partial.open("r+b") as partial:
            partial.truncate(length)
        return next_page, written

    def _resumable(self) -> tuple[int, int, int] | None:
        """(page, followups written, bytes kept) of a partial file that this very export
        began, or None."""
        try:
            state = json.loads(self.state_file.read_text())
            next_page, written, length = (int(state[k]) for k in ("next_page", "written", "bytes"))
            size = self.partial.stat().st_size
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if state.get("key") != self._key or not 0 <= length <= size or next_page < 1:
            # A partial file shorter than recorded would be extended with zeros by truncate.
            return None
        return next_page, written, length

    def _save(self, next_page: int, written: int, length: int) -> None:
        state = {"key": self._key, "next_page": next_page, "written": written, "bytes": length}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.state_file)
        self._saved_page = next_page

    def _encoded(self, followups: list[Followup]) -> bytes:
        rows = [row_of(followup) for followup in followups]
        if self.format in ("jsonl", "parquet"):  # Parquet is written from JSON Lines at the end
            return b"".join(json.dumps(row).encode() + b"\n" for row in rows)
        if not self.raw:
            rows = [{name: neutralised(value) for name, value in row.items()} for row in rows]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(COLUMNS))
        writer.writerows(rows)
        return text.getvalue().encode()


def neutralised(value: Any) -> Any:
    """A cell a spreadsheet cannot take for a formula: one starting as a formula may, so it
    gets a single quote before it (which spreadsheets show as text)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_header() -> bytes:
    text = io.StringIO()
    csv.writer(text).writerow(COLUMNS)
    return text.getvalue().encode()


def row_of(followup: Followup) -> dict[str, Any]:
    shown = followup.model_dump(mode="json")
    return {name: shown.get(name) for name in COLUMNS}


# Parquet's types for the followup fields that are not text.
_TIMESTAMPS = frozenset(
    {"call_date", "scheduled_at", "processed_at", "email_first_opened_at", "media_urls_expire_at"}
)
_INTEGERS = frozenset({"duration_ms", "email_open_count", "email_click_count"})
_BOOLEANS = frozenset({"is_retry", "triggered_payment", "email_opened", "email_clicked"})
_ROW_GROUP = 1000


def _to_parquet(source: Path, output: Path | IO[bytes]) -> None:
    """The JSON Lines rows of `source` as a Parquet file at `output` (a path, or a stream such
    as standard output: Parquet is written from start to end), in constant memory."""
    import pyarrow as pa

    def kind(name: str) -> Any:
        if name in _TIMESTAMPS:
            return pa.timestamp("ms", tz="UTC")  # Parquet has no seconds unit
        if name in _INTEGERS:
            return pa.int64()
        if name in _BOOLEANS:
            return pa.bool_()
        return pa.string()

    schema = pa.schema([(name, kind(name)) for name in COLUMNS])
    if not isinstance(output, Path):
        _write_parquet(source, output, schema)
        return
    temporary = output.with_name(f".{output.name}.parquet-tmp")
    _write_parquet(source, temporary, schema)
    os.replace(temporary, output)


def _write_parquet(source: Path, where: Any, schema: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with source.open("rb") as lines, pq.ParquetWriter(where, schema) as writer:
        batch: list[dict[str, Any]] = []
        for line in lines:
            row = json.loads(line)
            for name in _TIMESTAMPS:
                if row[name] is not None:
                    row[name] = datetime.fromisoformat(row[name])
            batch.append(row)
            if len(batch) == _ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema))
