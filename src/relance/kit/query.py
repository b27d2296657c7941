"""Query parameters read strictly: each problem collected, so one 400 names them all."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import date
from enum import IntEnum
from typing import TypeVar

from relance.errors import ValidationFailed
from relance.kit.ids import IdCodec, PrefixedIds
from relance.kit.pagination import (
    CURSOR_DEFAULT,
    CURSOR_MAX,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PAGE,
    PageRequest,
)
from relance.kit.time import micros_of

# Each parameter's values, in the order given.
QueryParams = Mapping[str, list[str]]
Choice = TypeVar("Choice", bound=enum.Enum)

_INTEGER = re.compile(r"[0-9]{1,12}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class QueryReader:
    """Reads query parameters strictly, collecting every problem before any is reported."""

    def __init__(self, params: QueryParams) -> None:
        self._params = params
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, problem: str) -> None:
        self.errors.setdefault(name, []).append(problem)

    def _one(self, name: str) -> str | None:
        values = self._params.get(name, [])
        if len(values) > 1:
            self.fail(name, "must be given only once")
            return None
        return values[0] if values else None

    def text(self, name: str) -> str | None:
        return self._one(name)

    def boolean(self, name: str, *, default: bool) -> bool:
        text = self._one(name)
        if text is None:
            return default
        if text not in ("true", "false"):
            self.fail(name, "must be true or false")
            return default
        return text == "true"

    def integer(self, name: str, low: int, high: int, default: int) -> int | None:
        text = self._one(name)
        if text is None:
            return default
        if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
            self.fail(name, f"must be an integer from {low} to {high}")
            return None
        return int(text)

    def choice(self, name: str, enum: type[Choice]) -> Choice | None:
        text = self._one(name)
        if text is None:
            return None
        try:
            return enum(text)
        except ValueError:
            self.fail(name, f"must be one of: {', '.join(member.value for member in enum)}")
            return None

    def day(self, name: str) -> date | None:
        text = self._one(name)
        if text is None:
            return None
        try:
            if not _DAY.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.fail(name, "must be a calendar date written YYYY-MM-DD")
            return None

    def public_id(self, name: str, ids: IdCodec, kind: IntEnum) -> int | None:
        text = self._one(name)
        if text is None:
            return None
        key = ids.find(kind, text)
        if key is None:
            self.fail(name, f"is not a valid {kind.name.lower()} ID")
        return key

    def prefixed_id(self, name: str, ids: PrefixedIds, kind: str) -> int | None:
        """The key behind an ID such as `evt_...`, `kind` naming it in the problem."""
        text = self._one(name)
        if text is None:
            return None
        key = ids.key(text)
        if key is None:
            self.fail(name, f"is not {kind} ID ({ids.prefix}...) from this deployment")
        return key

    def moment(self, name: str) -> int | None:
        """A moment as Unix seconds or RFC 3339 with its offset, in microseconds."""
        text = self._one(name)
        if text is None:
            return None
        micros = micros_of(text)
        if micros is None:
            self.fail(name, "must be Unix seconds or RFC 3339 with its offset")
        return micros

    def choices(self, name: str, enum: type[Choice]) -> list[Choice]:
        """A parameter that may be repeated, each value one of `enum`'s."""
        found = []
        for text in self._params.get(name, []):
            try:
                found.append(enum(text))
            except ValueError:
                allowed = ", ".join(str(member.value) for member in enum)
                self.fail(name, f"{text!r} is not one of: {allowed}")
        return found

    def page(self) -> PageRequest:
        """`page` and `limit` of a list paged by number."""
        page = self.integer("page", 1, MAX_PAGE, default=1)
        limit = self.integer("limit", 1, MAX_LIMIT, default=DEFAULT_LIMIT)
        return PageRequest(page or 1, limit or DEFAULT_LIMIT)

    def cursor_limit(self) -> int:
        """`limit` of a list paged by cursor."""
        return self.integer("limit", 1, CURSOR_MAX, default=CURSOR_DEFAULT) or CURSOR_DEFAULT


def parse_page(params: QueryParams) -> PageRequest:
    """The `page` and `limit` of a list that takes nothing else."""
    reader = QueryReader(params)
    page = reader.page()
    if reader.errors:
        raise ValidationFailed(reader.errors)
    return page
