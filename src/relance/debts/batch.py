"""POST /debts/batch: up to 1,000 debts, each checked alone as POST /debts checks a body.
Placeholder items (a template's header or instruction rows) are skipped, bad ones failed with
their problems by field, and the others created in the caller's transaction, all or none, with
a batch record whose public ID is the answer's `import_id`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from relance.db import Connection
from relance.debts import parties, repository
from relance.debts.records import DebtRecord
from relance.debts.schemas import DebtBody, for_create
from relance.debts.service import created_events, internal_id_problems, name_creditor
from relance.errors import ValidationFailed
from relance.events.log import EventLog
from relance.kit.bodies import parse_json
from relance.kit.fields import NoNul, Short
from relance.kit.ids import IdCodec
from relance.resources import Resource

MAX_ITEMS = 1000
Details = dict[str, list[str]]


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    batch_name: Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul] | None = None
    # GetBill's opt-in for costly phone destinations: accepted, with no effect here.
    accept_expensive_destination: bool | None = None
    # Each item is checked alone, as a BatchItem: one that is not even an object fails alone.
    debts: Annotated[list[Any], Field(min_length=1, max_length=MAX_ITEMS)]


class BatchItem(DebtBody):
    # The caller's own name for the item, given back beside what became of it.
    temp_id: Short | None = None


@dataclass(slots=True)
class Outcome:
    """What became of a batch's items, in their order within each list."""

    created: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Checked:
    """An item that passed its checks: its index, temp_id and record."""

    index: int
    temp_id: str | None
    debt: DebtRecord
    # The creditor by its ID, when the item names it so.
    creditor_id: str | None = None


def default_name(now: datetime) -> str:
    """GetBill's name for a batch sent without one."""
    return f"API Batch - {now:%d/%m/%Y %H:%M}"


def check_items(body: BatchBody, inexact: dict[str, list[str]], outcome: Outcome) -> list[Checked]:
    """The items that pass their own checks; the others go to `outcome` as skipped or
    failed. `inexact` holds the problems of numbers not stored as sent, by path."""
    passed: list[Checked] = []
    for index, item in enumerate(body.debts):
        temp_id = _temp_id_of(item)
        if isinstance(item, dict) and _is_placeholder(item):
            outcome.skipped.append(
                {"index": index, "temp_id": temp_id, "reason": "a placeholder row, not a debt"}
            )
            continue
        checked = _checked(item, _numbers_of(inexact, index))
        if isinstance(checked, dict):
            outcome.failed.append(_failure(index, temp_id, checked))
        else:
            passed.append(Checked(index, temp_id, *checked))
    return passed


def _temp_id_of(item: Any) -> str | None:
    temp_id = item.get("temp_id") if isinstance(item, dict) else None
    return temp_id if isinstance(temp_id, str) and len(temp_id) <= 100 else None


# A template's placeholder: a value made of asterisks, or one that marks the required columns.
_PLACEHOLDER = re.compile(r"\*|champs? obligatoires?|required fields?", re.IGNORECASE)
_NAMES = ("firstname", "lastname")


def _is_placeholder(item: dict[str, Any]) -> bool:
    """An empty item, one whose every text is blank, or one whose names are a template's
    header or instructions (`Prénom*`, `* champs obligatoires`)."""
    texts = [value for value in item.values() if isinstance(value, str)]
    if not item or (texts and all(not text.strip() for text in texts)):
        return True
    names = [item.get(name) for name in _NAMES]
    return any(isinstance(name, str) and _PLACEHOLDER.search(name) for name in names)


def _numbers_of(inexact: dict[str, list[str]], index: int) -> Details:
    prefix = f"debts.{index}."
    return {path.removeprefix(prefix): p for path, p in inexact.items() if path.startswith(prefix)}


def _checked(item: Any, numbers: Details) -> tuple[DebtRecord, str | None] | Details:
    """The item's record and creditor ID, or its problems by field."""
    if not isinstance(item, dict):
        return {"body": ["must be a JSON object"]}
    if numbers:
        return numbers
    try:
        # Encoded again so that each field is read as a JSON body's is (dates as text).
        body = parse_json(BatchItem, orjson.dumps(item))
        return for_create(body), body.creditor_id
    except ValidationFailed as exc:
        return _problems(exc)


def _problems(exc: ValidationFailed) -> Details:
    return {name: list(problems) for name, problems in (exc.details or {}).items()}


def _failure(index: int, temp_id: str | None, errors: Details) -> dict[str, Any]:
    return {"index": index, "temp_id": temp_id, "status": "invalid", "errors": errors}


async def create_batch(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    batch: tuple[str, str, datetime],
    passed: list[Checked],
    outcome: Outcome,
    log: EventLog,
) -> str:
    """Create the debts that passed, in the caller's transaction, with their debt.created
    events; an item whose internal_id another debt (or an earlier item) carries fails. The
    batch, given as (name, client ID, moment), is recorded with its counts; its public ID is
    returned."""
    name, client_id, now = batch
    kept = await _own_internal_ids(conn, ids, company_id, passed, outcome)
    kept = await _named_creditors(conn, ids, company_id, kept, outcome)
    await parties.link(conn, company_id, [item.debt for item in kept], now)
    encode = ids.encoder(Resource.DEBT)
    made: list[int] = []
    for item in kept:
        debt_id = await repository.insert_debt(conn, company_id, item.debt, now)
        made.append(debt_id)
        outcome.created.append(_creation(item, encode(debt_id)))
    counts = (len(outcome.created), len(outcome.failed), len(outcome.skipped))
    batch_id = await repository.insert_batch(conn, company_id, name, client_id, now, counts)
    if log.enabled and made:
        await log.record(conn, company_id, await created_events(conn, ids, company_id, made))
    outcome.failed.sort(key=lambda failure: int(failure["index"]))
    return ids.encode(Resource.DEBT_BATCH, batch_id)


async def _own_internal_ids(
    conn: Connection, ids: IdCodec, company_id: int, passed: list[Checked], outcome: Outcome
) -> list[Checked]:
    """The items whose internal ID no other debt (nor an earlier item) carries."""
    named = [item for item in passed if item.debt.internal_id is not None]
    claims = [(i.debt.internal_id or "", None, f"the item at index {i.index}") for i in named]
    problems = await internal_id_problems(conn, ids, company_id, claims)
    refused = {id(item) for item, problem in zip(named, problems, strict=True) if problem}
    for item, problem in zip(named, problems, strict=True):
        if problem is not None:
            outcome.failed.append(_failure(item.index, item.temp_id, {"internal_id": [problem]}))
    return [item for item in passed if id(item) not in refused]


async def _named_creditors(
    conn: Connection, ids: IdCodec, company_id: int, passed: list[Checked], outcome: Outcome
) -> list[Checked]:
    """The items whose creditor ID, if they give one, names one of the company's creditors."""
    kept: list[Checked] = []
    for item in passed:
        if item.creditor_id is not None:
            try:
                await name_creditor(conn, ids, company_id, item.debt, item.creditor_id)
            except ValidationFailed as exc:
                outcome.failed.append(_failure(item.index, item.temp_id, _problems(exc)))
                continue
        kept.append(item)
    return kept


def _creation(item: Checked, debt_id: str) -> dict[str, Any]:
    debt = item.debt
    return {
        "index": item.index,
        "temp_id": item.temp_id,
        "debt_id": debt_id,
        "status": "valid",
        "data": {
            "firstname": debt.firstname,
            "lastname": debt.lastname,
            "phone": debt.phone,
            "email": debt.email,
            "amount": float(debt.amount),
            "currency": debt.currency,
        },
    }


def answer(import_id: str, name: str, outcome: Outcome, total: int) -> dict[str, Any]:
    return {
        "import_id": import_id,
        "batch_name": name,
        "created": outcome.created,
        "failed": outcome.failed,
        "skipped": outcome.skipped,
        "summary": {
            "total": total,
            "created": len(outcome.created),
            "failed": len(outcome.failed),
            "skipped": len(outcome.skipped),
        },
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


_TEXT_OR_NULL = {"type": ["string", "null"]}
_INDEX = {"type": "integer", "minimum": 0, "description": "The item's place in `debts`, from 0"}
_TEMP_ID = {**_TEXT_OR_NULL, "description": "The item's `temp_id`, as sent"}
# The answer of POST /debts/batch, for the API's document.
ANSWER_SCHEMA = _object(
    {
        "error": {"const": False},
        "message": {"const": "Batch operation completed"},
        "data": _object(
            {
                "import_id": {"type": "string", "description": "The batch's ID"},
                "batch_name": {"type": "string"},
                "created": {
                    "type": "array",
                    "items": _object(
                        {
                            "index": _INDEX,
                            "temp_id": _TEMP_ID,
                            "debt_id": {"type": "string"},
                            "status": {"const": "valid"},
                            "data": _object(
                                {
                                    "firstname": {"type": "string"},
                                    "lastname": {"type": "string"},
                                    "phone": _TEXT_OR_NULL,
                                    "email": _TEXT_OR_NULL,
                                    "amount": {"type": "number"},
                                    "currency": {"type": "string"},
                                }
                            ),
                        }
                    ),
                },
                "failed": {
                    "type": "array",
                    "items": _object(
                        {
                            "index": _INDEX,
                            "temp_id": _TEMP_ID,
                            "status": {"const": "invalid"},
                            "errors": {
                                "type": "object",
                                "description": "Each field at fault with its problems",
                                "additionalProperties": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
                            },
                        }
                    ),
                },
                "skipped": {
                    "type": "array",
                    "items": _object(
                        {"index": _INDEX, "temp_id": _TEMP_ID, "reason": {"type": "string"}}
                    ),
                },
                "summary": _object(
                    {
                        name: {"type": "integer", "minimum": 0}
                        for name in ("total", "created", "failed", "skipped")
                    }
                ),
            }
        ),
    }
)
