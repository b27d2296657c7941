"""Reading an import file row by row, in constant memory: CSV with a header line, or JSON Lines.

Each row comes with the line it starts on, so that a bad row can be named, and the reader says
how many bytes it has read, for a progress bar.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

FORMATS = ("csv", "jsonl")


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


def _lines(source: BinaryIO, progress: Callable[[int], None]) -> Iterator[str]:
    for raw in source:
        progress(len(raw))
        yield raw.decode("utf-8", errors="replace")


def _csv_rows(
    source: BinaryIO, columns: frozenset[str], progress: Callable[[int], None]
) -> Iterator[SourceRow]:
    lines = _lines(source, progress)
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise UnreadableFile("the file is empty: a CSV import starts with a header line")
    header = [name.strip().lstrip("\ufeff") for name in header]
    unknown = sorted(set(header) - columns)
    if unknown:
        raise UnreadableFile(
            f"unknown column(s): {', '.join(unknown)}; known: {', '.join(sorted(columns))}"
        )
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problem = f"has {len(cells)} cells where the header has {len(header)}"
            yield SourceRow(line, problem=problem)
            continue
        yield SourceRow(line, {name: c for name, c in zip(header, cells, strict=True) if c != ""})


def _jsonl_rows(
    source: BinaryIO, columns: frozenset[str], progress: Callable[[int], None]
) -> Iterator[SourceRow]:
    # Unknown fields are refused row by row, by the model, as the API refuses them.
    for line, raw in enumerate(source, start=1):
        progress(len(raw))
        if raw.strip():
            yield SourceRow(line, raw=raw)
