"""Typed objects built from database rows by position, each position found by its column's name
once, when the reader is made.

A reader is written as Python source and compiled, as `dataclasses` and `collections.namedtuple`
write their `__init__`: a page is then shaped by one list comprehension of positional calls, as
fast as code written by hand against fixed positions (bench/RESULTS.md, "Typed records"), while
no position and no field name is spelled in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar, overload

T = TypeVar("T")


def row_reader(
    target: Callable[..., T],
    fields: Sequence[str],
    columns: Sequence[str],
    *,
    through: Mapping[str, Callable[[Any], Any]] | None = None,
    given: Sequence[str] = (),
    by_keyword: bool = False,
) -> Callable[..., list[T]]:
    """`read(rows, *functions)`: one `target(*fields)` per row (by keyword if `by_keyword`),
    each field the value of the column of its name, None if there is none (columns beyond the
    fields are left alone), passed through its function in `through` if it has one, or, for
    each field of `given`, through the function passed for it in `functions`, in that order."""
    through = through or {}
    unknown = (set(through) | set(given)) - set(fields)
    if unknown:
        raise ValueError(f"no field named {', '.join(sorted(unknown))}")
    at = {name: index for index, name in enumerate(columns)}
    scope: dict[str, Any] = {"_target": target}
    parameters = {name: f"_given_{n}" for n, name in enumerate(given)}
    values = []
    for n, name in enumerate(fields):
        value = f"row[{at[name]}]" if name in at else "None"
        if name in through:
            scope[f"_through_{n}"] = through[name]
            value = f"_through_{n}({value})"
        elif name in parameters:
            value = f"{parameters[name]}({value})"
        values.append(f"{name}={value}" if by_keyword else value)
    source = (
        f"def read(rows{''.join(', ' + p for p in parameters.values())}):\n"
        f"    return [_target({', '.join(values)}) for row in rows]\n"
    )
    # The source is made of field names of our own types and positions, never of input.
    exec(compile(source, f"<row reader of {target!r}>", "exec"), scope)  # noqa: S102
    read: Callable[..., list[T]] = scope["read"]
    return read


# SQLite hands days and moments back as the text they were stored as; PostgreSQL as dates and
# datetimes. These make either the Python value (None stays None), as a reader's `through`.
@overload
def day_of(value: date | str) -> date: ...
@overload
def day_of(value: date | str | None) -> date | None: ...
def day_of(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


@overload
def moment_of(value: datetime | str) -> datetime: ...
@overload
def moment_of(value: datetime | str | None) -> datetime | None: ...
def moment_of(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
