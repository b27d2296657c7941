"""JSON request bodies: the content type checked, the JSON parsed and validated against a
pydantic model in one pass, and every problem reported at once, by field, in the envelope.

A JSON number is kept only if it is stored as sent: parsers turn 1e400 into infinity, NaN into
null and 1.00000000000000000001 into 1.0 without a word, so every number of a body is read
again from its text and refused, by its path, when its stored form would differ."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import ErrorDetails, core_schema

from relance.errors import UnsupportedMediaType, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)

# Bodies larger than this are refused before parsing (413).
MAX_BODY_BYTES = 256 * 1024


def parse_body(model: type[Model], content_type: str | None, body: bytes) -> Model:
    require_json(content_type)
    return parse_json(model, body)


def require_json(content_type: str | None) -> None:
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType(
            "The request body must be JSON: send it with Content-Type: application/json"
        )


def parse_json(model: type[Model], document: bytes | str) -> Model:
    """A JSON document as `model`, its numbers held to what can be stored as sent; raises
    ValidationFailed naming every problem. For API bodies and JSON Lines rows alike."""
    inexact = number_problems(document)
    try:
        parsed = model.model_validate_json(document)
    except ValidationError as exc:
        # The model's message is the more useful where both speak of one field (its bounds).
        raise ValidationFailed(inexact | details_of(exc)) from None
    if inexact:
        raise ValidationFailed(inexact)
    return parsed


def parse_json_of_items(
    model: type[Model], document: bytes, items: str
) -> tuple[Model, dict[str, list[str]]]:
    """As parse_json, but the numbers of the list field `items` that would not be stored as
    sent do not refuse the document: they are handed back by path (`debts.3.amount`), for the
    caller to refuse their items alone."""
    inexact = number_problems(document)
    nested = {path: p for path, p in inexact.items() if path.startswith(f"{items}.")}
    own = {path: p for path, p in inexact.items() if path not in nested}
    try:
        parsed = model.model_validate_json(document)
    except ValidationError as exc:
        raise ValidationFailed(own | details_of(exc)) from None
    if own:
        raise ValidationFailed(own)
    return parsed, nested


# The integers a stored JSON document keeps exactly (orjson writes them, PostgreSQL reads them).
LOWEST_INTEGER, HIGHEST_INTEGER = -(2**63), 2**64 - 1
_INTEGER_PROBLEM = f"must be an integer from {LOWEST_INTEGER} to {HIGHEST_INTEGER}"
_FLOAT_PROBLEM = (
    "cannot be stored exactly as a 64-bit floating-point number:"
    " send at most 15 significant digits, with a magnitude from 1e-307 to 1e308"
)
_CONSTANT_PROBLEM = "must be a finite JSON number (NaN and Infinity are not JSON)"


@dataclass(frozen=True, slots=True)
class _Refused:
    """A number read from the body that would not be stored as sent."""

    problem: str


def number_problems(document: bytes | str) -> dict[str, list[str]]:
    """Every number of a JSON document that would not be stored as sent, by its path (such as
    `metadata.a.0`). A document that is not JSON has none: its parser reports it."""
    try:
        parsed = json.loads(
            document, parse_int=_integer, parse_float=_float, parse_constant=_constant
        )
    except (ValueError, RecursionError):
        return {}
    problems: dict[str, list[str]] = {}
    # Walked without recursion: the parser's own depth limit is larger than what is left of the
    # stack under a request handler.
    stack: list[tuple[str, Any]] = [("", parsed)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Refused):
            problems.setdefault(path or "body", []).append(value.problem)
        elif isinstance(value, dict):
            stack.extend((_joined(path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((_joined(path, str(index)), item) for index, item in enumerate(value))
    return problems


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _integer(text: str) -> int | _Refused:
    # Checked by length first: int() refuses more than 4300 digits, and is slow before that.
    if len(text.lstrip("-")) > len(str(HIGHEST_INTEGER)):
        return _Refused(_INTEGER_PROBLEM)
    value = int(text)
    if not LOWEST_INTEGER <= value <= HIGHEST_INTEGER:
        return _Refused(_INTEGER_PROBLEM)
    return value


def _float(text: str) -> float | _Refused:
    value = float(text)
    # The shortest text that reads back as this float, compared as decimals: 0.1 is kept,
    # 1e400 (infinity), 1e-400 (zero) and 1.00000000000000000001 (1.0) are not.
    if math.isinf(value) or Decimal(repr(value)) != Decimal(text):
        return _Refused(_FLOAT_PROBLEM)
    return value


def _constant(_text: str) -> _Refused:
    return _Refused(_CONSTANT_PROBLEM)


def details_of(exc: ValidationError) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        details.setdefault(name, []).append(_message(error))
    return details


def _message(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    simple = _MESSAGES.get(kind)
    if simple is not None:
        return simple
    if kind == "enum":
        allowed = re.findall(r"'([^']*)'", str(ctx["expected"]))
        return f"must be one of: {', '.join(allowed)}"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        return f"must be at least {ctx['min_length']} characters"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"must be {_BOUNDS[kind]} {next(iter(ctx.values()))}"
    return str(error["msg"]).removeprefix("Value error, ")


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "json_invalid": "is not valid JSON",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "float_type": "must be a number",
    "decimal_type": "must be a number",
    "datetime_type": "must be an ISO 8601 date and time with a UTC offset",
    "datetime_parsing": "must be an ISO 8601 date and time with a UTC offset",
    "datetime_from_date_parsing": "must be an ISO 8601 date and time with a UTC offset",
    "timezone_aware": "must carry a UTC offset, such as 2024-01-22T10:30:00Z or +02:00",
    "date_type": "must be a date written YYYY-MM-DD",
    "date_parsing": "must be a date written YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date written YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date written YYYY-MM-DD",
}
_BOUNDS = {
    "greater_than_equal": "at least",
    "greater_than": "greater than",
    "less_than_equal": "at most",
    "less_than": "less than",
}


JsonSchemaHint = Mapping[str, Any] | Callable[[JsonSchemaValue], JsonSchemaValue]


@dataclass(frozen=True, slots=True)
class _Checked:
    """A pydantic annotation that refuses a value failing `rule` with `problem` as the message,
    and tells the OpenAPI document what the rule means, which it cannot see by itself."""

    rule: Callable[[Any], bool]
    problem: str
    # Left out of the hash, which typing needs to build unions of annotated types.
    hint: JsonSchemaHint = field(compare=False)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        shown = handler(schema)
        if callable(self.hint):
            return self.hint(shown)
        return {**shown, **self.hint}

    def _check(self, value: Any) -> Any:
        if not self.rule(value):
            raise ValueError(self.problem)
        return value


def checked(rule: Callable[[Any], bool], problem: str, hint: JsonSchemaHint) -> Any:
    """An annotation that refuses a value failing `rule` with `problem` as the message; `hint`
    is what the rule adds to the field's JSON schema (a pattern, an enum), or a function that
    rewrites that schema."""
    return _Checked(rule, problem, hint)


def _without_null(schema: JsonSchemaValue) -> JsonSchemaValue:
    kept = [branch for branch in schema.pop("anyOf") if branch.get("type") != "null"]
    return {**schema, **kept[0]}


T = TypeVar("T")
# A field that may be left out but never sent as null (a partial update of one that cannot be
# empty).
NotNull = Annotated[
    T | None, checked(lambda value: value is not None, "must not be null", _without_null)
]
