"""Reading an import file row by row, in constant memory: CSV with a header line, or JSON Lines.

Each row comes with the line it starts on, so that a bad row can be named, and the reader says
how many bytes it has read, for a progress bar. A row that cannot be read (longer than
MAX_ROW_BYTES, or not CSV) is a bad row, and the rows after it are read as usual.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

FORMATS = ("csv", "jsonl")
# The longest row read, in bytes: a JSON Line, or a CSV record with all its lines. The longest
# row the API would take is far shorter; a longer one is refused as a bad row and read past a
# chunk at a time, so that one line with no end (300 MB took 1.1 GB) costs no memory.
MAX_ROW_BYTES = 1024 * 1024
_SKIP_CHUNK = 64 * 1024
TOO_LONG = f"is longer than {MAX_ROW_BYTES:,} bytes, the limit for one row"


class UnreadableFile(ValueError):
    """The file as a whole cannot be imported (its format, its header); says what to fix."""


@dataclass(frozen=True, slots=True)
class SourceRow:
    line: int
    # CSV: the row's non-empty cells, as text, by column. JSON Lines: the line itself, which
    # the row's model parses as the API parses a body.
    fields: dict[str, str] | None = None
    raw: bytes | None = None
    # Why the line could not be read at all, if it could not.
    problem: str | None = None


def format_of(path: Path, given: str | None) -> str:
    name = given or path.suffix.lower().lstrip(".")
    if name == "ndjson":
        name = "jsonl"
    if name not in FORMATS:
        raise UnreadableFile(
            f"cannot tell the format of {path.name}: name it .csv or .jsonl, or give --format"
        )
    return name


def read_rows(
    source: BinaryIO, fmt: str, columns: frozenset[str], progress: Callable[[int], None]
) -> Iterator[SourceRow]:
    reader = _csv_rows if fmt == "csv" else _jsonl_rows
    yield from reader(source, columns, progress)


def _bounded_lines(source: BinaryIO, progress: Callable[[int], None]) -> Iterator[bytes | None]:
    """Each line of the file, or None for one longer than MAX_ROW_BYTES, read past unkept."""
    while raw := source.readline(MAX_ROW_BYTES + 1):
        progress(len(raw))
        if len(raw) <= MAX_ROW_BYTES or raw.endswith(b"\n"):
            yield raw
            continue
        while (rest := source.readline(_SKIP_CHUNK)) and not rest.endswith(b"\n"):
            progress(len(rest))
        progress(len(rest))
        yield None


class _RowTooLong(Exception):
    pass


class _RecordLines:
    """The lines of a CSV file as the csv module reads them, counted, each record held to
    MAX_ROW_BYTES: a record that grows past it (a line with no end, or a quote never closed)
    stops with _RowTooLong, and the reader goes on from the next line."""

    def __init__(self, source: BinaryIO, progress: Callable[[int], None]) -> None:
        self._lines = _bounded_lines(source, progress)
        self.count = 0
        self._record_bytes = 0

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.count += 1
        self._record_bytes += MAX_ROW_BYTES + 1 if raw is None else len(raw)
        if raw is None or self._record_bytes > MAX_ROW_BYTES:
            raise _RowTooLong
        return raw.decode("utf-8", errors="replace")

    def next_record(self) -> None:
        self._record_bytes = 0


def _csv_rows(
    source: BinaryIO, columns: frozenset[str], progress: Callable[[int], None]
) -> Iterator[SourceRow]:
    lines = _RecordLines(source, progress)
    # Strict: a quote never closed, or text after a closing quote, is an error, not a guess.
    reader = csv.reader(lines, strict=True)
    header = _header(reader, columns)
    while True:
        start = lines.count + 1
        lines.next_record()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _RowTooLong:
            yield SourceRow(start, problem=TOO_LONG)
            continue
        except csv.Error as exc:
            yield SourceRow(start, problem=_csv_problem(exc))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problem = f"has {len(cells)} cells where the header has {len(header)}"
            yield SourceRow(start, problem=problem)
            continue
        yield SourceRow(start, {name: c for name, c in zip(header, cells, strict=True) if c != ""})


def _header(reader: Iterator[list[str]], columns: frozenset[str]) -> list[str]:
    try:
        header = next(reader, None)
    except (_RowTooLong, csv.Error) as exc:
        problem = TOO_LONG if isinstance(exc, _RowTooLong) else _csv_problem(exc)
        raise UnreadableFile(f"the header line {problem}") from None
    if header is None:
        raise UnreadableFile("the file is empty: a CSV import starts with a header line")
    header = [name.strip().lstrip("\ufeff") for name in header]
    unknown = sorted(set(header) - columns)
    if unknown:
        raise UnreadableFile(
            f"unknown column(s): {', '.join(unknown)}; known: {', '.join(sorted(columns))}"
        )
    return header


def _csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint, as what to fix in the file."""
    text = str(exc)
    if text.startswith("new-line character"):
        return "has a carriage return (CR) outside quotes: quote the cell, or end lines with LF"
    if text == "unexpected end of data":
        return 'has a quote (") that is never closed'
    if text.startswith("field larger than field limit"):
        limit = csv.field_size_limit()
        return f"has a cell longer than {limit:,} characters (or a quote that is never closed)"
    if "expected after" in text:
        return 'has text after a quoted cell\'s closing quote: write "" for a quote inside it'
    return f"is not valid CSV: {text}"


def _jsonl_rows(
    source: BinaryIO, columns: frozenset[str], progress: Callable[[int], None]
) -> Iterator[SourceRow]:
    # Unknown fields are refused row by row, by the model, as the API refuses them.
    for line, raw in enumerate(_bounded_lines(source, progress), start=1):
        if raw is None:
            yield SourceRow(line, problem=TOO_LONG)
        elif raw.strip():
            yield SourceRow(line, raw=raw)
